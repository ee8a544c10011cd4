//! The trees a lint walks: the file itself plus the re-parsed arguments of
//! macro calls.
//!
//! ra_ap_syntax leaves a macro's arguments as an opaque token tree, but
//! `format!("{}", x.unwrap())` runs `x.unwrap()` all the same. Arguments of
//! macros that take expressions are re-parsed as a call's argument list inside
//! a synthetic function, and every range found there is mapped back to the file.

use ra_ap_syntax::ast::{self, AstNode, HasName};
use ra_ap_syntax::{Edition, SourceFile, SyntaxKind, SyntaxNode, TextRange};
use std::ops::Range;

const PREFIX: &str = "fn __temper_macro_args() { __temper_args(";
const SUFFIX: &str = "); }";

/// Macros whose arguments are expressions (possibly with some extra syntax such
/// as `target: ..` or `?value`, which the error-tolerant parser steps over).
const EXPRESSION_MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "bail",
    "dbg",
    "debug",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "ensure",
    "eprint",
    "eprintln",
    "error",
    "event",
    "eyre",
    "format",
    "format_args",
    "info",
    "anyhow",
    "join",
    "matches",
    "panic",
    "pin",
    "print",
    "println",
    "span",
    "todo",
    "trace",
    "try_join",
    "unimplemented",
    "unreachable",
    "vec",
    "warn",
    "write",
    "writeln",
    "json",
    "info_span",
    "debug_span",
    "trace_span",
    "warn_span",
    "error_span",
];

/// Macros that produce tokens for someone else to compile: their arguments are
/// not code of this crate.
const TOKEN_MACROS: &[&str] = &[
    "quote",
    "quote_spanned",
    "parse_quote",
    "parse_quote_spanned",
];

/// A syntax tree with the information needed to map it back to the file.
#[derive(Debug, Clone)]
pub struct Tree {
    pub root: SyntaxNode,
    /// `None` for the file's own tree; the outermost macro call in the file
    /// for a re-parsed argument list.
    pub host: Option<ast::MacroCall>,
    /// Offset in the file of the synthetic text's first byte, minus the
    /// synthetic prefix: `file_offset = tree_offset + shift`.
    shift: isize,
}

impl Tree {
    pub fn is_macro(&self) -> bool {
        self.host.is_some()
    }

    /// Maps a range of this tree to a range of the file.
    pub fn file_range(&self, range: TextRange) -> Range<usize> {
        let start = (usize::from(range.start()) as isize + self.shift).max(0) as usize;
        let end = (usize::from(range.end()) as isize + self.shift).max(0) as usize;
        start..end
    }

    pub fn node_range(&self, node: &SyntaxNode) -> Range<usize> {
        self.file_range(node.text_range())
    }

    /// The node's ancestors, innermost first, continuing through the macro
    /// call that hosts this tree into the file's tree; the synthetic wrapper
    /// function is skipped.
    pub fn ancestors(&self, node: &SyntaxNode) -> Vec<SyntaxNode> {
        let mut out: Vec<SyntaxNode> = node
            .ancestors()
            .filter(|n| !(self.is_macro() && is_synthetic(n)))
            .collect();
        if let Some(host) = &self.host {
            out.extend(host.syntax().ancestors());
        }
        out
    }
}

fn is_synthetic(node: &SyntaxNode) -> bool {
    if node.kind() == SyntaxKind::SOURCE_FILE {
        return true;
    }
    ast::Fn::cast(node.clone())
        .and_then(|f| f.name())
        .is_some_and(|name| name.text() == "__temper_macro_args")
        || node.parent().is_none()
}

/// The last segment of a macro call's path, e.g. `println` for `std::println!`.
pub fn macro_name(call: &ast::MacroCall) -> Option<String> {
    let path = call.path()?;
    let segment = path.segment()?;
    Some(segment.name_ref()?.text().to_string())
}

/// The file's tree followed by the re-parsed arguments of every macro call that
/// takes expressions, recursively.
/// Words one of which must appear in a macro's arguments for any lint to find
/// something there; arguments without them are not worth re-parsing (parsing
/// is most of the cost of a check).
const KEYWORDS: &[&str] = &[
    "unwrap",
    "expect",
    "read",
    "transmute_copy",
    "from_raw",
    "spawn",
    "block_on",
    "Runtime",
    "Builder",
    "try_current",
];

/// The file's own tree, without its macros' arguments.
pub fn file_tree(file: &SourceFile) -> Tree {
    Tree {
        root: file.syntax().clone(),
        host: None,
        shift: 0,
    }
}

/// `extra_keywords` are the user's configured method and function names.
pub fn collect(file: &SourceFile, edition: Edition, extra_keywords: &[String]) -> Vec<Tree> {
    let mut trees = vec![Tree {
        root: file.syntax().clone(),
        host: None,
        shift: 0,
    }];
    let mut next = 0;
    while next < trees.len() {
        let tree = trees[next].clone();
        next += 1;
        for call in tree.root.descendants().filter_map(ast::MacroCall::cast) {
            let Some(reparsed) = reparse(&tree, &call, edition, extra_keywords) else {
                continue;
            };
            trees.push(reparsed);
        }
    }
    trees
}

fn reparse(
    tree: &Tree,
    call: &ast::MacroCall,
    edition: Edition,
    extra_keywords: &[String],
) -> Option<Tree> {
    let name = macro_name(call)?;
    if TOKEN_MACROS.contains(&name.as_str()) {
        return None;
    }
    let tt = call.token_tree()?;
    // Decided from the identifiers, without copying the arguments' text: most
    // macro calls (logging, formatting) mention nothing a lint looks for.
    let relevant = tt
        .syntax()
        .descendants_with_tokens()
        .filter_map(|element| element.into_token())
        .filter(|token| token.kind() == SyntaxKind::IDENT)
        .any(|token| {
            let ident = token.text();
            KEYWORDS.iter().any(|k| ident.contains(k))
                || extra_keywords
                    .iter()
                    .any(|k| !k.is_empty() && ident == k.rsplit("::").next().unwrap_or(k))
        });
    if !relevant {
        return None;
    }
    let text = tt.syntax().text().to_string();
    let open = text.chars().next()?;
    // An unknown macro with braces is usually a DSL (select!, html!, sql!), not
    // a list of expressions; its tokens are left alone rather than guessed at.
    let known = EXPRESSION_MACROS.contains(&name.as_str());
    if !known && open == '{' {
        return None;
    }
    // The closing delimiter is missing when the file ends inside the call
    // (a syntax error): then everything after the opening one is argument
    // text, and cutting a last character off would split a multi-byte one or
    // shift the findings past the end of the file.
    let close = match open {
        '(' => ')',
        '[' => ']',
        '{' => '}',
        _ => return None,
    };
    let closed = text.len() >= 2 && text.ends_with(close);
    let inner = text.get(1..text.len() - usize::from(closed))?;
    let synthetic = format!("{PREFIX}{inner}{SUFFIX}");
    let parse = SourceFile::parse(&synthetic, edition);
    // Unknown macros are only treated as code when their arguments parse
    // cleanly as expressions; a custom syntax would otherwise yield findings
    // in tokens that never run as written.
    if !known && !parse.errors().is_empty() {
        return None;
    }
    let inner_start_in_file = tree.node_range(tt.syntax()).start + 1;
    let shift = inner_start_in_file as isize - PREFIX.len() as isize;
    let host = tree.host.clone().unwrap_or_else(|| call.clone());
    Some(Tree {
        root: parse.tree().syntax().clone(),
        host: Some(host),
        shift,
    })
}
