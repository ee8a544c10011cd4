//! New items for fixes, synthesised as tokens with `quote` and printed by
//! `prettyplease` (rustfmt's layout: four-space indents, one item after
//! another), then indented to where they go. Edits to existing code stay
//! plain text edits; only whole new items come from here.

use proc_macro2::TokenStream;

/// `tokens` (one or more items) as formatted source text, each line prefixed
/// with `indent`, without a trailing newline. `None` if the tokens are not
/// items, which is a bug in the caller.
pub fn items(tokens: TokenStream, indent: &str) -> Option<String> {
    let file: syn::File = syn::parse2(tokens).ok()?;
    // One item at a time, a blank line between them, as rustfmt leaves them.
    let text = file
        .items
        .into_iter()
        .map(|item| {
            let one = syn::File {
                shebang: None,
                attrs: Vec::new(),
                items: vec![item],
            };
            prettyplease::unparse(&one).trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{indent}{line}")
            }
        })
        .collect();
    Some(lines.join("\n"))
}

/// A type as written in the crate (`crate::Error`, `NetError`) as tokens.
pub fn type_tokens(text: &str) -> Option<TokenStream> {
    let ty: syn::Type = syn::parse_str(text).ok()?;
    Some(quote::quote!(#ty))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn items_print_as_rustfmt_would() {
        let name = quote::format_ident!("PoolError");
        let text = items(
            quote! {
                #[doc = " A doc line."]
                impl From<std::io::Error> for #name {
                    fn from(error: std::io::Error) -> Self { Self::Io(error) }
                }
            },
            "",
        )
        .expect("items");
        assert_eq!(
            text,
            "/// A doc line.\nimpl From<std::io::Error> for PoolError {\n    fn from(error: std::io::Error) -> Self {\n        Self::Io(error)\n    }\n}"
        );
        assert_eq!(
            items(quote! { struct A; }, "    ").as_deref(),
            Some("    struct A;")
        );
        assert_eq!(
            items(quote! { struct A; struct B; }, "").as_deref(),
            Some("struct A;\n\nstruct B;")
        );
        assert!(items(quote! { 1 + }, "").is_none());
        assert!(type_tokens("crate::Error").is_some());
        assert!(type_tokens("not a type").is_none());
    }
}
