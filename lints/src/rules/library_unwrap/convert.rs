//! Whether `?` can convert a standard error into the function's error type.
//!
//! The file-level fix offers `x?` as unsafe when `x` evidently holds a
//! standard error (`ParseIntError`, `io::Error`, ..) and the function returns
//! `Result<T, E>` with some other `E`: it compiles only if `E: From<..>`. The
//! crate-wide pass looks `E` up: a plain struct or enum of the crate with no
//! `From` conversion at all (no `impl From<..> for E`, no `#[from]` field, no
//! derive or item macro that could write one) certainly cannot take the
//! error, and an unsafe fix that cannot compile is not offered.

use super::Site;
use super::fix::has_word;
use crate::index::CrateIndex;
use crate::trees::Tree;
use crate::{CrateContext, Finding};
use ra_ap_syntax::ast::{self, AstNode, HasAttrs, HasGenericParams, HasName};
use ra_ap_syntax::{SourceFile, SyntaxKind};

/// The first word of the request: the finding's fix is `x?` on a standard
/// error; the second is the function's return type (whitespace removed).
pub(super) const REQUEST: &str = "library_unwrap/convert";

/// The request for the call at `site`: the return type of the function or
/// closure `?` would leave.
pub(super) fn request_for(tree: &Tree, site: &Site<'_>) -> Option<Vec<String>> {
    let ret = super::fix::enclosing_return_type(tree, site)?;
    Some(vec![REQUEST.to_string(), ret])
}

/// The request for `x.try_into().unwrap()` and `T::try_from(x).unwrap()`:
/// the error is a conversion's (`TryFromSliceError`, `TryFromIntError`,
/// `Infallible`, or the crate's own `TryFrom` error).
pub(super) fn request_for_conversion(tree: &Tree, site: &Site<'_>) -> Option<Vec<String>> {
    let mut request = request_for(tree, site)?;
    request.push(CONVERSION.to_string());
    Some(request)
}

const CONVERSION: &str = "try-from";

pub(super) fn complete(finding: &mut Finding, ctx: &CrateContext<'_>) {
    let Some(request) = finding.crate_fix.take() else {
        return;
    };
    let (ret, conversion) = match request.data.as_slice() {
        [_, ret] => (ret, false),
        [_, ret, kind] if kind == CONVERSION => (ret, true),
        _ => return,
    };
    let Some(target) = unconvertible(ctx.index(), ret, conversion) else {
        return;
    };
    // `use std::io::Error;` (or any other crate's type of that name) in the
    // function's file: the name there is not the crate's own type.
    let own_text = ctx
        .files
        .iter()
        .find(|(path, _)| path.as_path() == ctx.file)
        .map(|(_, text)| text.clone());
    let imported = own_text.is_none_or(|text| {
        let mut rest: &str = &text;
        let mut found = false;
        // Each `use` item from its line's start to its `;` (it may span
        // lines: `use std::{\n    io::Error,\n};`).
        while let Some(at) = rest.find("use ") {
            let line_start = rest[..at].rfind('\n').map_or(0, |i| i + 1);
            let before = rest[line_start..at].trim();
            let item_end = rest[at..].find(';').map_or(rest.len(), |i| at + i);
            let path = &rest[at + "use ".len()..item_end];
            if matches!(before, "" | "pub" | "pub(crate)")
                && !(path.starts_with("crate::")
                    || path.starts_with("self::")
                    || path.starts_with("super::"))
                && has_word(path, &target)
            {
                found = true;
                break;
            }
            rest = &rest[item_end.max(at + 1).min(rest.len())..];
        }
        found
    });
    if imported {
        return;
    };
    finding.fix = None;
    finding.help = Some(format!(
        "map the error into `{target}` with `.map_err(..)?`, or add a `From` conversion to `{target}`"
    ));
    finding.notes.push(if conversion {
        format!(
            "no automatic fix: `?` cannot convert a `TryFrom` error into `{target}`, none of whose `From` conversions takes one"
        )
    } else {
        format!(
            "no automatic fix: `?` cannot convert this error into `{target}`, which has no `From` conversion"
        )
    });
}

/// The error type's name when the crate defines it and it certainly has no
/// `From` conversion that could take the receiver's error.
fn unconvertible(index: &CrateIndex, ret: &str, conversion: bool) -> Option<String> {
    let error = index.error_type(ret)?;
    // A generic, a reference, a trait object or a tuple: not a plain name.
    if !error
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
    {
        return None;
    }
    let name = error.rsplit("::").next()?.to_string();
    if name.is_empty() || !name.starts_with(char::is_uppercase) {
        return None;
    }
    // Any `impl From<..> for Name`: it may be generic, or take this error.
    // A conversion's error is only taken by a `From` that names one (or a
    // generic one); the crate's own `TryFrom` errors are its own types, so
    // `From<OwnError>` may be it too.
    let takes = |source: &str| {
        !conversion
            || source.contains("TryFrom")
            || source.contains("Infallible")
            || source.contains("dyn")
            || (!source.contains("::") && source.len() <= 2)
            || (index.try_from_impls > 0
                && index
                    .type_names
                    .contains_key(source.rsplit("::").next().unwrap_or(source)))
    };
    if index
        .from_impls
        .iter()
        .any(|from| from.target == name && takes(&from.source))
    {
        return None;
    }
    let mut defined = 0usize;
    for file in &index.files {
        if !has_word(&file.text, &name) {
            continue;
        }
        if !crate::lex::shape(&file.text).within_limits() {
            return None;
        }
        let edition = index.edition.unwrap_or(crate::Edition::Edition2021);
        let parsed = SourceFile::parse(&file.text, edition).tree();
        for node in parsed.syntax().descendants() {
            match node.kind() {
                SyntaxKind::STRUCT | SyntaxKind::ENUM | SyntaxKind::UNION => {
                    let Some(item) = ast::Adt::cast(node.clone()) else {
                        continue;
                    };
                    if item.name().is_none_or(|n| n.text() != name.as_str()) {
                        continue;
                    }
                    defined += 1;
                    if item.generic_param_list().is_some() || may_derive_from(&item) {
                        return None;
                    }
                }
                // `type Name = anyhow::Error;` and the like.
                SyntaxKind::TYPE_ALIAS
                    if ast::TypeAlias::cast(node.clone())
                        .and_then(|alias| alias.name())
                        .is_some_and(|n| n.text() == name.as_str()) =>
                {
                    return None;
                }
                // An item-level macro that names the type may write an impl
                // (`impl_from!(Name, ..)`, `quick_error! { .. }`).
                SyntaxKind::MACRO_CALL | SyntaxKind::MACRO_RULES
                    if node.parent().is_some_and(|p| {
                        matches!(p.kind(), SyntaxKind::SOURCE_FILE | SyntaxKind::ITEM_LIST)
                    }) && has_word(&node.text().to_string(), &name) =>
                {
                    return None;
                }
                _ => {}
            }
        }
    }
    // Exactly one definition in the crate: the name cannot be another type.
    (defined == 1).then_some(name)
}

/// A derive that may write a `From` impl (`derive_more::From`,
/// `thiserror`'s `#[from]`, `snafu` and the like), or any attribute that
/// mentions `from`.
fn may_derive_from(item: &ast::Adt) -> bool {
    let mentions_from = |text: String| text.to_ascii_lowercase().contains("from");
    if item
        .attrs()
        .any(|attr| mentions_from(attr.syntax().text().to_string()))
    {
        return true;
    }
    // Field attributes (`#[from]`, `#[source]` with a derive): anywhere in the item.
    item.syntax()
        .descendants()
        .filter_map(ast::Attr::cast)
        .any(|attr| mentions_from(attr.syntax().text().to_string()))
}
