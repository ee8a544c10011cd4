//! A lexer pass that runs before a file is parsed: how deep its syntax tree
//! can nest and how many tokens it has, so a caller can refuse a file that
//! would overflow the parser's (or a recursive walk's) stack instead of
//! aborting the whole process on it.
//!
//! The measure is deliberately an over-estimate of the tree's depth: every
//! open delimiter counts one level, and so does every token that makes the
//! tree one level deeper without a delimiter — operators (`a + b + c` is a
//! left-deep tree), `.` and `?` chains, `::` paths, `as` casts, prefix
//! keywords (`return return x`), and the `else` of an `else if` chain. Those
//! counts restart at `,` and `;` and after a closed block that ends a
//! statement, where the parser starts a new subtree.

use ra_ap_rustc_lexer::{FrontmatterAllowed, TokenKind, tokenize};

/// Deepest nesting [`shape`] may report for a file temper still parses.
///
/// Real code stays far below it: the deepest of the 9,586 `.rs` files in
/// cargo's registry cache on temper's development machine (tokio, wasmtime,
/// cranelift, syn, typenum's generated tables, ...) measures 638, and 8
/// measure over 400. A file beyond it is skipped with a note. Callers run
/// analysis on threads whose stacks hold a tree this deep
/// (`temper::stack::STACK_SIZE`).
pub const MAX_NESTING: usize = 2_000;

/// What the lexer pass learned about a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// An upper bound on the depth of the file's syntax tree.
    pub nesting: usize,
    /// Tokens other than whitespace and comments.
    pub tokens: usize,
}

/// Most tokens a file temper still parses may have: it bounds the memory one
/// file's syntax tree takes. `temper check` peaked at 480 MB on an 8 MB file
/// of 4 million tokens (about 120 bytes per token), so a file at the limit
/// takes about 1 GB; the largest file in cargo's registry cache on the
/// development machine (`encoding_rs`'s 2.5 MB of data tables) is far below.
pub const MAX_TOKENS: usize = 8_000_000;

impl Shape {
    /// Whether the file is within [`MAX_NESTING`] and [`MAX_TOKENS`].
    pub fn within_limits(&self) -> bool {
        self.beyond_limits().is_none()
    }

    /// Which limit the file exceeds, as a phrase for a note:
    /// `nested 20001 levels deep, beyond the limit of 2000`.
    pub fn beyond_limits(&self) -> Option<String> {
        if self.nesting > MAX_NESTING {
            return Some(format!(
                "nested {} levels deep, beyond the limit of {MAX_NESTING}",
                self.nesting
            ));
        }
        if self.tokens > MAX_TOKENS {
            return Some(format!(
                "{} tokens long, beyond the limit of {MAX_TOKENS}",
                self.tokens
            ));
        }
        None
    }
}

/// Keywords that put what follows them one level deeper.
const DEEPENING_KEYWORDS: &[&str] = &[
    "as", "async", "become", "box", "break", "dyn", "else", "impl", "let", "move", "mut", "return",
    "yield",
];

/// Measures `source` with the lexer alone: linear time, memory bounded by
/// the delimiter depth.
pub fn shape(source: &str) -> Shape {
    let mut shaper = Shaper::default();
    let mut offset = 0usize;
    for token in tokenize(source, FrontmatterAllowed::Yes) {
        let start = offset;
        offset += token.len as usize;
        shaper.token(token.kind, source.get(start..offset).unwrap_or(""));
    }
    shaper.finish()
}

/// [`shape`]'s measure taken token by token, for a pass that lexes the file
/// anyway ([`crate::scan`]): fed every token in order, it gives what
/// [`shape`] gives.
#[derive(Debug)]
pub(crate) struct Shaper {
    /// One chain count per open delimiter, plus the file's own level.
    chains: Vec<usize>,
    /// Levels opened plus every chain count: kept as a running sum so each
    /// token costs O(1).
    depth: usize,
    shape: Shape,
    /// Set after a `}`: the next token decides whether the statement goes on
    /// (`} else`, `}.await`, `} + 1`) or a new one starts.
    after_block: bool,
}

impl Default for Shaper {
    fn default() -> Self {
        Shaper {
            chains: vec![0],
            depth: 0,
            shape: Shape::default(),
            after_block: false,
        }
    }
}

impl Shaper {
    /// The next token of the file, and its text.
    pub(crate) fn token(&mut self, kind: TokenKind, text: &str) {
        let Shaper {
            chains,
            depth,
            shape,
            after_block,
        } = self;
        if matches!(
            kind,
            TokenKind::Whitespace | TokenKind::LineComment { .. } | TokenKind::BlockComment { .. }
        ) {
            return;
        }
        shape.tokens += 1;
        let deepens = match kind {
            TokenKind::Dot
            | TokenKind::Question
            | TokenKind::Colon
            | TokenKind::Eq
            | TokenKind::Bang
            | TokenKind::Lt
            | TokenKind::Gt
            | TokenKind::Minus
            | TokenKind::And
            | TokenKind::Or
            | TokenKind::Plus
            | TokenKind::Star
            | TokenKind::Slash
            | TokenKind::Caret
            | TokenKind::Percent
            | TokenKind::Tilde
            | TokenKind::At => true,
            TokenKind::Ident => DEEPENING_KEYWORDS.contains(&text),
            _ => false,
        };
        if *after_block {
            *after_block = false;
            // Only a postfix, a binary operator, `else` or `as` continue the
            // expression the block ended; a keyword or a name starts the next
            // statement or item.
            let continues = match kind {
                TokenKind::Ident => text == "else" || text == "as",
                _ => deepens,
            };
            if !continues {
                restart(chains, depth);
            }
        }
        match kind {
            TokenKind::OpenParen | TokenKind::OpenBrace | TokenKind::OpenBracket => {
                chains.push(0);
                *depth += 1;
            }
            TokenKind::CloseParen | TokenKind::CloseBrace | TokenKind::CloseBracket => {
                // An unbalanced closer is a syntax error the parser reports;
                // it cannot make the tree deeper.
                if chains.len() > 1 {
                    let chain = chains.pop().unwrap_or(0);
                    *depth -= chain + 1;
                }
                *after_block = kind == TokenKind::CloseBrace;
            }
            TokenKind::Comma | TokenKind::Semi => restart(chains, depth),
            _ if deepens => {
                if let Some(chain) = chains.last_mut() {
                    *chain += 1;
                    *depth += 1;
                }
            }
            _ => {}
        }
        shape.nesting = shape.nesting.max(*depth);
    }

    pub(crate) fn finish(self) -> Shape {
        self.shape
    }
}

/// A new statement or list element starts at the innermost level.
fn restart(chains: &mut [usize], depth: &mut usize) {
    if let Some(chain) = chains.last_mut() {
        *depth -= *chain;
        *chain = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_nest() {
        assert_eq!(shape("fn f() { g((1)) }").nesting, 3);
        let deep = format!("fn f() {{ {}1{} }}", "(".repeat(5000), ")".repeat(5000));
        assert_eq!(shape(&deep).nesting, 5001);
        assert!(!shape(&deep).within_limits());
    }

    #[test]
    fn chains_count_until_a_separator() {
        let sum = format!("fn f() {{ let x = 1{}; }}", " + 1".repeat(3000));
        assert!(shape(&sum).nesting > 3000);
        // The same operators, one per statement, do not add up.
        let statements = format!("fn f() {{ {} }}", "x = 1 + 1;".repeat(3000));
        assert!(shape(&statements).nesting < 10);
        let else_if = format!(
            "fn f() {{ if a {{}} {} else {{}} }}",
            "else if a {}".repeat(2000)
        );
        assert!(shape(&else_if).nesting > 2000);
        let unary = format!("fn f() {{ {}x; }}", "!".repeat(2000));
        assert!(shape(&unary).nesting > 2000);
    }

    #[test]
    fn items_after_blocks_start_again() {
        let items = "fn f() -> u8 { 1 }\n".repeat(5000);
        assert!(shape(&items).nesting < 10);
        assert_eq!(shape(&items).tokens, 5000 * 10);
    }

    #[test]
    fn comments_and_strings_do_not_count() {
        let text = "// ((((((\n/* [[[[ */ fn f() { \"((((\"; }";
        assert_eq!(shape(text).nesting, 1);
        assert_eq!(shape(text).tokens, 8);
    }

    #[test]
    fn unbalanced_closers_do_not_underflow() {
        assert_eq!(shape(")))}}}]]] fn f() {}").nesting, 1);
    }
}
