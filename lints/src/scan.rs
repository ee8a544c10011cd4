//! What a file needs before any full parse, from its tokens alone: its
//! module declarations (for the module tree) and which lints could find
//! something in it (so that a file no lint can fire on is never parsed).
//!
//! The module declarations come from a skeleton of the file: its inner
//! attributes and its `mod` items with their outer attributes, at the places
//! they hold in the file's module structure, every other item replaced by a
//! placeholder. The skeleton is a few lines that `ra_ap_syntax` parses in
//! microseconds, and [`modules`]'s own functions read it, so `#[path]`,
//! `#[cfg(test)]` and allow attributes mean exactly what they mean to a full
//! parse. Comments, strings, raw strings and character literals are single
//! tokens to the lexer, so nothing inside them is mistaken for an item.

use crate::modules::{self, ModDecl};
use crate::{Edition, Options};
use ra_ap_rustc_lexer::{FrontmatterAllowed, TokenKind, tokenize};
use ra_ap_syntax::SourceFile;

/// What [`scan`] learned about a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    pub modules: Vec<ModDecl>,
    /// The file starts with `#![cfg(test)]`.
    pub cfg_test: bool,
    /// Clippy lints the file allows at its top.
    pub allows: Vec<String>,
    /// Which lints may find something here.
    pub needles: Needles,
    /// [`crate::lex::shape`]'s measure, taken on the same tokens. A file
    /// beyond its limits is not read further: nothing else is set.
    pub shape: crate::lex::Shape,
}

/// Which lints may have a finding in a file, by the words their findings
/// cannot do without.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needles {
    /// `arc_from_ptr_read`: `Arc`/`Rc` and a bitwise copy or `from_raw`.
    pub arc_from_ptr_read: bool,
    /// `drop_without_async_cleanup`: a `Drop` (its only source of findings
    /// and of calls to the crate's spawn wrappers).
    pub drop_without_async_cleanup: bool,
    /// `library_unwrap`: an identifier naming a reported method.
    pub library_unwrap: bool,
}

impl Needles {
    /// Every lint may fire.
    pub const ALL: Needles = Needles {
        arc_from_ptr_read: true,
        drop_without_async_cleanup: true,
        library_unwrap: true,
    };

    /// Whether a file in this role needs a full parse: `library_unwrap`
    /// reports only library code, `drop_without_async_cleanup` nothing that
    /// only tests compile.
    pub fn need_parse(&self, library: bool, test_only: bool) -> bool {
        self.arc_from_ptr_read
            || (self.drop_without_async_cleanup && !test_only)
            || (self.library_unwrap && library)
    }
}

/// Reads `source`'s module declarations and needles without parsing it.
pub fn scan(source: &str, edition: Edition, options: &Options) -> Scan {
    let mut tokens: Vec<(TokenKind, usize, usize)> = Vec::new();
    let mut offset = 0usize;
    let mut library_unwrap = false;
    let extra = &options.library_unwrap.extra_methods;
    let mut shaper = crate::lex::Shaper::default();
    for token in tokenize(source, FrontmatterAllowed::Yes) {
        let start = offset;
        offset += token.len as usize;
        shaper.token(token.kind, source.get(start..offset).unwrap_or(""));
        match token.kind {
            TokenKind::Whitespace
            | TokenKind::LineComment { .. }
            | TokenKind::BlockComment { .. }
            | TokenKind::Frontmatter { .. } => continue,
            TokenKind::Ident if !library_unwrap => {
                let word = source.get(start..offset).unwrap_or("");
                library_unwrap = matches!(word, "unwrap" | "expect" | "unwrap_err" | "expect_err")
                    || extra.iter().any(|e| e == word);
            }
            _ => {}
        }
        tokens.push((token.kind, start, offset));
    }
    let shape = shaper.finish();
    if !shape.within_limits() {
        return Scan {
            shape,
            ..Scan::default()
        };
    }
    let skeleton = skeleton(source, &tokens);
    let file = SourceFile::parse(&skeleton, edition).tree();
    Scan {
        modules: modules::collect(&file),
        cfg_test: modules::file_is_cfg_test(&file),
        allows: modules::file_allows(&file),
        needles: Needles {
            arc_from_ptr_read: crate::rules::arc_from_ptr_read::may_fire(source),
            drop_without_async_cleanup: source.contains("Drop"),
            library_unwrap,
        },
        shape,
    }
}

/// The file's inner attributes and `mod` items (outer attributes included),
/// nested as in the file, each other item at module level replaced by
/// `fn _f(){}` so that attributes keep their place among items.
fn skeleton(source: &str, tokens: &[(TokenKind, usize, usize)]) -> String {
    let text = |i: usize| tokens.get(i).map_or("", |t| &source[t.1..t.2]);
    let kind = |i: usize| tokens.get(i).map(|t| t.0);
    let mut out = String::new();
    // One entry per open delimiter: `true` for an inline module's braces.
    let mut scopes: Vec<bool> = Vec::new();
    // The item being read at module level: its outer attributes, whether only
    // attributes and a visibility were seen so far, whether its placeholder
    // was written.
    let mut attrs = String::new();
    let mut head = true;
    let mut placed = false;
    let mut i = 0;
    while i < tokens.len() {
        let (token, start, _) = tokens[i];
        let at_module = scopes.last().is_none_or(|&module| module);
        if !at_module {
            match token {
                TokenKind::OpenParen | TokenKind::OpenBrace | TokenKind::OpenBracket => {
                    scopes.push(false)
                }
                TokenKind::CloseParen | TokenKind::CloseBrace | TokenKind::CloseBracket => {
                    scopes.pop();
                    // A block ends the item it belongs to (`fn f() {}`).
                    if token == TokenKind::CloseBrace && scopes.last().is_none_or(|&m| m) {
                        attrs.clear();
                        head = true;
                        placed = false;
                    }
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match token {
            TokenKind::Pound => {
                let inner = kind(i + 1) == Some(TokenKind::Bang);
                let open = i + 1 + usize::from(inner);
                if kind(open) == Some(TokenKind::OpenBracket) {
                    let close = matching(tokens, open);
                    let end = tokens.get(close).map_or(source.len(), |t| t.2);
                    let attr = &source[start..end];
                    if inner {
                        out.push_str(attr);
                        out.push('\n');
                    } else if head {
                        attrs.push_str(attr);
                        attrs.push(' ');
                    }
                    i = close + 1;
                    continue;
                }
            }
            TokenKind::Ident if head && text(i) == "pub" => {
                i += 1;
                if kind(i) == Some(TokenKind::OpenParen) {
                    i = matching(tokens, i) + 1;
                }
                continue;
            }
            TokenKind::Ident
                if head
                    && text(i) == "mod"
                    && matches!(kind(i + 1), Some(TokenKind::Ident | TokenKind::RawIdent)) =>
            {
                let open = match kind(i + 2) {
                    Some(TokenKind::Semi) => false,
                    Some(TokenKind::OpenBrace) => true,
                    _ => {
                        i += 1;
                        other(&mut out, &mut attrs, &mut head, &mut placed);
                        continue;
                    }
                };
                out.push_str(&attrs);
                out.push_str("mod ");
                out.push_str(text(i + 1));
                out.push_str(if open { " {\n" } else { ";\n" });
                if open {
                    scopes.push(true);
                }
                attrs.clear();
                head = true;
                placed = false;
                i += 3;
                continue;
            }
            TokenKind::Semi => {
                attrs.clear();
                head = true;
                placed = false;
                i += 1;
                continue;
            }
            TokenKind::CloseBrace => {
                // The end of an inline module (or a stray brace at the top).
                if scopes.pop().is_some() {
                    out.push_str("}\n");
                }
                attrs.clear();
                head = true;
                placed = false;
                i += 1;
                continue;
            }
            TokenKind::OpenParen | TokenKind::OpenBrace | TokenKind::OpenBracket => {
                other(&mut out, &mut attrs, &mut head, &mut placed);
                scopes.push(false);
                i += 1;
                continue;
            }
            _ => {}
        }
        other(&mut out, &mut attrs, &mut head, &mut placed);
        i += 1;
    }
    for module in scopes {
        if module {
            out.push_str("}\n");
        }
    }
    out
}

/// A token of an item that is not a `mod`: the item gets one placeholder,
/// and its attributes are forgotten.
fn other(out: &mut String, attrs: &mut String, head: &mut bool, placed: &mut bool) {
    if !*placed {
        out.push_str("fn _f(){}\n");
        *placed = true;
    }
    attrs.clear();
    *head = false;
}

/// The index of the delimiter closing the one at `open`, or the last token
/// when the file ends first.
fn matching(tokens: &[(TokenKind, usize, usize)], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token.0 {
            TokenKind::OpenParen | TokenKind::OpenBrace | TokenKind::OpenBracket => depth += 1,
            TokenKind::CloseParen | TokenKind::CloseBrace | TokenKind::CloseBracket => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    tokens.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan's measure is the lexer pass's, token for token; a file
    /// beyond the limits is measured and read no further.
    #[test]
    fn the_scan_measures_as_the_lexer_pass_does() {
        let deep = format!("fn f() {{ {}1{} }}", "(".repeat(3000), ")".repeat(3000));
        let sources = [
            "---\n[package]\n---\nfn main() { a.b().c()?; } // ((\n",
            "mod a;\nfn f() -> u8 { if x { 1 } else if y { 2 } else { 3 } }\n",
            "/* {{{ */ \"((\" r#\"[[\"# fn g() { x + y * z - !w; }",
            ")))}}} fn f() {}",
            &deep,
        ];
        for source in sources {
            let scan = scan(source, Edition::Edition2024, &Options::default());
            assert_eq!(scan.shape, crate::lex::shape(source), "{source}");
        }
        let beyond = scan(
            &format!("mod a;\n{deep}"),
            Edition::Edition2024,
            &Options::default(),
        );
        assert!(!beyond.shape.within_limits());
        assert!(beyond.modules.is_empty());
    }

    fn decls(source: &str) -> (Vec<ModDecl>, bool, Vec<String>) {
        let scan = scan(source, Edition::Edition2021, &Options::default());
        let file = SourceFile::parse(source, Edition::Edition2021).tree();
        assert_eq!(scan.modules, modules::collect(&file), "{source}");
        assert_eq!(scan.cfg_test, modules::file_is_cfg_test(&file), "{source}");
        assert_eq!(scan.allows, modules::file_allows(&file), "{source}");
        (scan.modules, scan.cfg_test, scan.allows)
    }

    #[test]
    fn modules_match_a_full_parse() {
        let (modules, cfg_test, allows) = decls(
            "#![cfg(test)]\n#![allow(clippy::unwrap_used)]\n\
             //! mod fake;\n/* mod fake2; */\nconst S: &str = \"mod fake3;\";\n\
             const R: &str = r#\"\n mod fake4; \"#;\n\
             #[path = \"x/y.rs\"] pub(crate) mod a;\n\
             #[cfg(test)] #[allow(clippy::expect_used)] mod b { #![allow(dead_code)] mod c; fn f() { mod d {} } }\n\
             fn g() { mod e; }\nmacro_rules! m { () => { mod f; } }\nm! { mod g; }\n\
             pub(in crate::a) mod h;\nmod r#type;\n",
        );
        let names: Vec<&str> = modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "h", "r#type"]);
        assert_eq!(modules[0].path_attr.as_deref(), Some("x/y.rs"));
        assert!(modules[1].cfg_test);
        assert_eq!(modules[1].allows, ["clippy::expect_used"]);
        let inner: Vec<&str> = modules[1]
            .inline
            .iter()
            .flatten()
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(inner, ["c"]);
        assert!(cfg_test);
        assert_eq!(allows, ["clippy::unwrap_used"]);
    }

    #[test]
    fn attributes_stay_with_their_item() {
        decls("#[cfg(test)]\nfn f() {}\nmod a;\n");
        decls("struct S { a: u8 }\n#[cfg(test)]\nmod a;\nimpl S { fn f() {} }\nmod b;");
        decls("const X: [u8; 2] = [1, 2];\n#[cfg(all(test, unix))] mod a;\n");
        decls("use a::{b, c};\n#![allow(clippy::restriction)]\nmod a;\n");
        decls("mod a {\n mod b {\n #[path = \"c.rs\"] mod c;\n }\n}\n");
        // Unclosed at the end of the file.
        decls("mod a {\n mod b;\n");
    }

    #[test]
    fn needles_are_words_in_code() {
        let options = Options::default();
        let needles = |s: &str| scan(s, Edition::Edition2021, &options).needles;
        assert!(needles("fn f() { x.unwrap(); }").library_unwrap);
        assert!(needles("fn f() { println!(\"{}\", x.expect(\"a\")); }").library_unwrap);
        assert!(!needles("/// x.unwrap()\nfn f() { let s = \"unwrap\"; }").library_unwrap);
        assert!(!needles("fn f() { x.unwrap_or(1); }").library_unwrap);
        assert!(needles("impl Drop for S { fn drop(&mut self) {} }").drop_without_async_cleanup);
        assert!(!needles("fn f() {}").drop_without_async_cleanup);
        assert!(needles("fn f() { Arc::new(unsafe { ptr::read(p) }); }").arc_from_ptr_read);
        assert!(!needles("fn f() { Arc::new(1); }").arc_from_ptr_read);
    }
}
