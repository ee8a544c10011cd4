//! `mod` declarations, so the caller can rebuild each crate's module tree and
//! decide which files are compiled into which target.

use crate::context::{allows, attr_path, attrs_of, is_cfg_test};
use ra_ap_syntax::SourceFile;
use ra_ap_syntax::ast::{self, AstNode, HasModuleItem, HasName};

/// One `mod name;` or `mod name { .. }` in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModDecl {
    pub name: String,
    /// The `#[path = ".."]` value, when present.
    pub path_attr: Option<String>,
    /// Compiled only under `cfg(test)`.
    pub cfg_test: bool,
    /// `Some` for an inline `mod name { .. }`: the modules declared inside it.
    pub inline: Option<Vec<ModDecl>>,
    /// The clippy lints an `#[allow(..)]` / `#[expect(..)]` on the declaration
    /// names among [`SUBTREE_ALLOWS`]: they apply to the module's files too.
    pub allows: Vec<String>,
}

/// The clippy lints whose allow attribute silences `library_unwrap`; clippy
/// applies such an attribute to the whole module subtree, across files.
pub const SUBTREE_ALLOWS: [&str; 3] = [
    "clippy::unwrap_used",
    "clippy::expect_used",
    "clippy::restriction",
];

/// The [`SUBTREE_ALLOWS`] lints named by allow attributes among `attrs`.
fn clippy_allows(attrs: &[ast::Attr]) -> Vec<String> {
    SUBTREE_ALLOWS
        .iter()
        .filter(|lint| attrs.iter().any(|attr| allows(attr, &[lint])))
        .map(|lint| lint.to_string())
        .collect()
}

/// The [`SUBTREE_ALLOWS`] lints the file allows for all of itself
/// (`#![allow(clippy::unwrap_used)]` at its top).
pub fn file_allows(file: &SourceFile) -> Vec<String> {
    clippy_allows(&attrs_of(file.syntax()))
}

/// Whether the file itself starts with `#![cfg(test)]`.
pub fn file_is_cfg_test(file: &SourceFile) -> bool {
    attrs_of(file.syntax()).iter().any(is_cfg_test)
}

/// The module declarations at the file's top level, with inline modules'
/// declarations nested.
pub fn collect(file: &SourceFile) -> Vec<ModDecl> {
    collect_items(file.items())
}

fn collect_items(items: impl Iterator<Item = ast::Item>) -> Vec<ModDecl> {
    let mut out = Vec::new();
    for item in items {
        let ast::Item::Module(module) = item else {
            continue;
        };
        let Some(name) = module.name() else { continue };
        let attrs = attrs_of(module.syntax());
        let path_attr = attrs.iter().find_map(path_value);
        let inline = module.item_list().map(|list| collect_items(list.items()));
        out.push(ModDecl {
            name: name.text().to_string(),
            path_attr,
            cfg_test: attrs.iter().any(is_cfg_test),
            inline,
            allows: clippy_allows(&attrs),
        });
    }
    out
}

fn path_value(attr: &ast::Attr) -> Option<String> {
    if attr_path(attr).as_deref() != Some("path") {
        return None;
    }
    let Some(ast::Meta::KeyValueMeta(meta)) = attr.meta() else {
        return None;
    };
    let ast::Expr::Literal(literal) = meta.expr()? else {
        return None;
    };
    let ast::LiteralKind::String(string) = literal.kind() else {
        return None;
    };
    Some(string.value().ok()?.to_string())
}
