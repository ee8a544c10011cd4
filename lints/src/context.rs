//! Questions about where a node sits: test code, const contexts, allow
//! attributes, the enclosing function.

use crate::trees::Tree;
use ra_ap_syntax::ast::{self, AstNode, HasAttrs, HasName};
use ra_ap_syntax::{SyntaxKind, SyntaxNode};

/// The attribute's content with whitespace removed: `cfg(test)` for
/// `#[cfg(test)]`, `path="a.rs"` for `#[path = "a.rs"]`.
pub fn attr_text(attr: &ast::Attr) -> String {
    let text: String = attr
        .syntax()
        .text()
        .to_string()
        .split_whitespace()
        .collect();
    let text = text.trim_start_matches('#').trim_start_matches('!');
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text)
        .to_string()
}

/// The attribute's path as written, e.g. `tokio::test` or `cfg`.
pub fn attr_path(attr: &ast::Attr) -> Option<String> {
    let text = attr_text(attr);
    let end = text.find(['(', '=', '[', '{']).unwrap_or(text.len());
    let path = &text[..end];
    (!path.is_empty()).then(|| path.to_string())
}

/// The attribute's arguments with whitespace removed, e.g.
/// `(clippy::unwrap_used,reason="..")`.
fn attr_args(attr: &ast::Attr) -> String {
    let text = attr_text(attr);
    match text.find('(') {
        Some(start) => text[start..].to_string(),
        None => String::new(),
    }
}

/// The attributes directly on `node`, inner ones included.
pub fn attrs_of(node: &SyntaxNode) -> Vec<ast::Attr> {
    let mut attrs: Vec<ast::Attr> = node.children().filter_map(ast::Attr::cast).collect();
    // Inner attributes of a function body or block live in its statement list.
    if let Some(block) = ast::BlockExpr::cast(node.clone())
        && let Some(stmts) = block.stmt_list()
    {
        attrs.extend(stmts.attrs());
    }
    if let Some(func) = ast::Fn::cast(node.clone())
        && let Some(stmts) = func.body().and_then(|body| body.stmt_list())
    {
        attrs.extend(stmts.attrs());
    }
    attrs
}

/// `#[cfg(test)]`, `#[cfg(all(test, ..))]`: compiled only for tests. A `test`
/// under `not(..)` or `any(..)` does not make the item test-only.
pub fn is_cfg_test(attr: &ast::Attr) -> bool {
    if attr_path(attr).as_deref() != Some("cfg") {
        return false;
    }
    let args = attr_args(attr);
    let args = args.trim_start_matches('(').trim_end_matches(')');
    if args == "test" {
        return true;
    }
    args.starts_with("all(")
        && !args.contains("not(")
        && !args.contains("any(")
        && args[4..].split([',', ')']).any(|part| part == "test")
}

/// Attributes that mark a test or benchmark function.
pub fn is_test_attr(attr: &ast::Attr, extra: &[String]) -> bool {
    let Some(path) = attr_path(attr) else {
        return false;
    };
    let last = path.rsplit("::").next().unwrap_or(&path);
    matches!(
        last,
        "test" | "bench" | "rstest" | "test_case" | "quickcheck" | "proptest"
    ) || extra.iter().any(|name| name == &path || name == last)
}

/// Whether `attr` is `#[allow(..)]` or `#[expect(..)]` naming one of `lints`
/// (e.g. `clippy::unwrap_used`).
pub fn allows(attr: &ast::Attr, lints: &[&str]) -> bool {
    let Some(path) = attr_path(attr) else {
        return false;
    };
    if path != "allow" && path != "expect" {
        return false;
    }
    let args = attr_args(attr);
    args.trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .any(|part| lints.contains(&part))
}

/// Whether any ancestor of `node` (through the macro host) carries an attribute
/// matching `pred`.
pub fn any_ancestor_attr(
    tree: &Tree,
    node: &SyntaxNode,
    pred: impl Fn(&ast::Attr) -> bool,
) -> bool {
    tree.ancestors(node)
        .iter()
        .any(|ancestor| attrs_of(ancestor).iter().any(&pred))
}

/// Test code: inside a `#[cfg(test)]` item or a test function.
pub fn in_test_code(tree: &Tree, node: &SyntaxNode, extra_test_attrs: &[String]) -> bool {
    any_ancestor_attr(tree, node, |attr| {
        is_cfg_test(attr) || is_test_attr(attr, extra_test_attrs)
    })
}

/// Evaluated at compile time: `const` and `static` initialisers, `const { }`
/// blocks, array lengths and const generic arguments. A `const fn` body is not
/// a const context: it also runs at run time.
pub fn in_const_context(tree: &Tree, node: &SyntaxNode) -> bool {
    for ancestor in tree.ancestors(node) {
        match ancestor.kind() {
            SyntaxKind::CONST
            | SyntaxKind::STATIC
            | SyntaxKind::CONST_ARG
            | SyntaxKind::ARRAY_TYPE => {
                return true;
            }
            SyntaxKind::BLOCK_EXPR
                if ast::BlockExpr::cast(ancestor.clone())
                    .and_then(|b| b.const_token())
                    .is_some() =>
            {
                return true;
            }
            // A closure or function inside a const initialiser still runs at
            // compile time only if called there; stop at the nearest function.
            SyntaxKind::FN => return false,
            _ => {}
        }
    }
    false
}

/// The innermost function or closure that contains `node`.
pub enum Enclosing {
    Fn(ast::Fn),
    Closure(ast::ClosureExpr),
    /// An `async { }` block: `?` inside returns from the block, not the function.
    AsyncBlock(ast::BlockExpr),
}

pub fn enclosing_body(tree: &Tree, node: &SyntaxNode) -> Option<Enclosing> {
    for ancestor in tree.ancestors(node).into_iter().skip(1) {
        if let Some(func) = ast::Fn::cast(ancestor.clone()) {
            return Some(Enclosing::Fn(func));
        }
        if let Some(closure) = ast::ClosureExpr::cast(ancestor.clone()) {
            return Some(Enclosing::Closure(closure));
        }
        if let Some(block) = ast::BlockExpr::cast(ancestor.clone())
            && block.async_token().is_some()
        {
            return Some(Enclosing::AsyncBlock(block));
        }
    }
    None
}

/// The path of a call's callee as written, whitespace removed:
/// `std::ptr::read`, `Arc::new`, `Arc::<T>::new`.
pub fn callee_path(call: &ast::CallExpr) -> Option<String> {
    let ast::Expr::PathExpr(path) = call.expr()? else {
        return None;
    };
    Some(
        path.syntax()
            .text()
            .to_string()
            .split_whitespace()
            .collect(),
    )
}

/// `a::b::<T>::c` → `["a", "b", "c"]`: segments without generic arguments.
pub fn path_segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            ':' if depth == 0 && chars.peek() == Some(&':') => {
                chars.next();
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Peels parentheses and single-expression `unsafe { }` blocks.
pub fn peel(expr: ast::Expr) -> ast::Expr {
    let mut expr = expr;
    loop {
        match &expr {
            ast::Expr::ParenExpr(paren) => match paren.expr() {
                Some(inner) => expr = inner,
                None => return expr,
            },
            ast::Expr::BlockExpr(block)
                if block.unsafe_token().is_some() || block.modifier().is_none() =>
            {
                let Some(stmts) = block.stmt_list() else {
                    return expr;
                };
                if stmts.statements().next().is_some() {
                    return expr;
                }
                match stmts.tail_expr() {
                    Some(inner) => expr = inner,
                    None => return expr,
                }
            }
            _ => return expr,
        }
    }
}

/// What `Self::Output` (or any `Self::Name`) stands for in a trait
/// implementation's signature: the type its `type Output = ..;` declares
/// (`Future::poll` returns `Poll<Self::Output>`, `Stream::poll_next`
/// `Poll<Option<Self::Item>>`). `None` for any other type, and for a
/// declaration that is itself a `Self::` path.
pub fn assoc_type(ty: &ast::Type) -> Option<ast::Type> {
    let ast::Type::PathType(path_type) = ty else {
        return None;
    };
    let path = path_type.path()?;
    if path.qualifier()?.syntax().text() != "Self" {
        return None;
    }
    let name = path.segment()?.name_ref()?;
    let imp = ty.syntax().ancestors().find_map(ast::Impl::cast)?;
    imp.trait_()?;
    let declared = imp
        .assoc_item_list()?
        .assoc_items()
        .find_map(|item| match item {
            ast::AssocItem::TypeAlias(alias)
                if alias.name().is_some_and(|n| n.text() == name.text()) =>
            {
                alias.ty()
            }
            _ => None,
        })?;
    let declared_text = declared.syntax().text().to_string();
    (!declared_text.trim_start().starts_with("Self::")).then_some(declared)
}

/// The text of `ty` with every `Self::Name` of a trait implementation
/// replaced by the type the implementation declares for it
/// ([`assoc_type`]): `Poll<Self::Output>` reads `Poll<Result<T, E>>`.
pub fn expanded_type_text(ty: &ast::Type) -> String {
    let base = ty.syntax().text_range().start();
    let mut text = ty.syntax().text().to_string();
    let substitutions: Vec<(std::ops::Range<usize>, String)> = ty
        .syntax()
        .descendants()
        .filter_map(ast::Type::cast)
        .filter_map(|inner| {
            let declared = assoc_type(&inner)?;
            let range = inner.syntax().text_range() - base;
            Some((
                usize::from(range.start())..usize::from(range.end()),
                declared.syntax().text().to_string(),
            ))
        })
        .collect();
    // A `Self::Name` path holds no other type: the ranges never nest.
    for (range, declared) in substitutions.into_iter().rev() {
        text.replace_range(range, &declared);
    }
    text
}

/// The primitive scalar types (not `str`, which is unsized).
pub const PRIMITIVES: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32",
    "f64", "bool", "char",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_drop_generics() {
        assert_eq!(
            path_segments("std::sync::Arc::<T>::new"),
            ["std", "sync", "Arc", "new"]
        );
        assert_eq!(path_segments("::core::ptr::read"), ["core", "ptr", "read"]);
        assert_eq!(path_segments("read"), ["read"]);
    }
}
