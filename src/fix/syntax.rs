//! How well a text parses, by two independent parsers (`ra_ap_syntax` and
//! `syn`), and where its items are: the fixer's "never parse worse" guard and
//! the compile-error attribution of `--verify`.

use ra_ap_syntax::{AstNode, Edition, SourceFile, ast};
use std::ops::Range;

/// A parse of one text: `ra_ap_syntax`'s error count and first message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaParse {
    pub errors: usize,
    pub first: Option<String>,
}

/// Parses `text` with `ra_ap_syntax` in the file's edition, as `check` does.
///
/// A text beyond the limits of [`temper_lints::lex`] is not parsed (it could
/// overflow the stack) and counts as one error, so a fix that takes a file
/// past a limit parses worse and is refused.
pub fn ra_parse(text: &str, edition: Edition) -> RaParse {
    if let Some(beyond) = temper_lints::lex::shape(text).beyond_limits() {
        return RaParse {
            errors: 1,
            first: Some(beyond),
        };
    }
    let errors = SourceFile::parse(text, edition).errors();
    RaParse {
        errors: errors.len(),
        first: errors.first().map(|e| e.to_string()),
    }
}

/// Parses `text` with `syn`; `Err` carries syn's (single) error message.
pub fn syn_parse(text: &str) -> Result<(), String> {
    if let Some(beyond) = temper_lints::lex::shape(text).beyond_limits() {
        return Err(beyond);
    }
    syn::parse_file(text).map(|_| ()).map_err(|e| e.to_string())
}

/// Why a new text parses worse than the old one, if it does: more
/// `ra_ap_syntax` errors, or a `syn` error where there was none.
///
/// `before_syn` is computed lazily by the caller and cached: most files never
/// change, so most files never pay for the second parser.
pub fn parses_worse(
    before_ra: usize,
    before_syn_ok: impl FnOnce() -> bool,
    after: &str,
    edition: Edition,
) -> Option<(&'static str, String)> {
    let after_ra = ra_parse(after, edition);
    if after_ra.errors > before_ra {
        return Some((
            "ra_ap_syntax",
            after_ra.first.unwrap_or_else(|| "syntax error".to_string()),
        ));
    }
    if let Err(message) = syn_parse(after)
        && before_syn_ok()
    {
        return Some(("syn", message));
    }
    None
}

/// The byte ranges of every item (functions, impls, structs, modules, ...) of
/// `text`, nested ones included, in no particular order.
pub fn item_ranges(text: &str, edition: Edition) -> Vec<Range<usize>> {
    if !temper_lints::lex::shape(text).within_limits() {
        return Vec::new();
    }
    let file = SourceFile::parse(text, edition).tree();
    file.syntax()
        .descendants()
        .filter(|node| ast::Item::can_cast(node.kind()))
        .map(|node| {
            let range = node.text_range();
            usize::from(range.start())..usize::from(range.end())
        })
        .collect()
}

/// Every item's range with its header: the text before its body (`{`) or
/// its end (`;`), whitespace collapsed (`pub fn g(x: Option<u8>) -> Option<u8>`).
pub fn item_headers(text: &str, edition: Edition) -> Vec<(Range<usize>, String)> {
    item_ranges(text, edition)
        .into_iter()
        .map(|range| {
            let item = text.get(range.clone()).unwrap_or_default();
            let end = item.find(['{', ';']).unwrap_or(item.len());
            let header = item[..end].split_whitespace().collect::<Vec<_>>().join(" ");
            (range, header)
        })
        .collect()
}

/// The smallest item range that contains `range`.
pub fn innermost_item(items: &[Range<usize>], range: &Range<usize>) -> Option<Range<usize>> {
    items
        .iter()
        .filter(|item| item.start <= range.start && range.end <= item.end)
        .min_by_key(|item| item.end - item.start)
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worse_by_either_parser() {
        let good = "fn f() -> Option<u8> { let v = x?; Some(v) }";
        assert_eq!(parses_worse(0, || true, good, Edition::Edition2024), None);
        let broken = "fn f() -> Option<u8> { let v = x?; Some(v) ";
        assert_eq!(
            parses_worse(0, || true, broken, Edition::Edition2024).map(|(p, _)| p),
            Some("ra_ap_syntax")
        );
    }

    #[test]
    fn items_nest() {
        let text = "impl S { fn f() { 1; } }\nfn g() {}";
        let items = item_ranges(text, Edition::Edition2024);
        let inner = innermost_item(&items, &(18..19));
        assert_eq!(inner.map(|r| &text[r]), Some("fn f() { 1; }"));
    }
}
