//! Checks that need the whole input.

use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{GenericParam, Type, TypeParamBound, WherePredicate};

use crate::ast::{Body, Input};
use crate::ctxt::Ctxt;

/// A struct's last field, if its type is written as one without a size (a
/// slice, `str`, `dyn Trait`, a `?Sized` parameter): a map value must be
/// `Sized`, and rustc would otherwise report it three times over, once at
/// the derive. `str` is read by its name: a crate that shadows it with a
/// type of its own (which `non_camel_case_types` flags) gets this error
/// for a type that has a size; the common case is a string slice.
pub(crate) fn unsized_field<'a>(input: &Input<'a>) -> Option<&'a Type> {
    let Some(Body::Struct(fields)) = &input.body else {
        return None;
    };
    let ty = fields.last()?.ty;
    let mut inner = ty;
    while let Type::Paren(syn::TypeParen { elem, .. }) | Type::Group(syn::TypeGroup { elem, .. }) =
        inner
    {
        inner = elem;
    }
    let unsized_ = match inner {
        Type::Slice(_) | Type::TraitObject(_) => true,
        Type::Path(path) if path.qself.is_none() => path
            .path
            .get_ident()
            .is_some_and(|ident| ident == "str" || maybe_unsized_param(input.generics, ident)),
        _ => false,
    };
    unsized_.then_some(ty)
}

/// Whether `ident` is a type parameter bound `?Sized`.
fn maybe_unsized_param(generics: &syn::Generics, ident: &syn::Ident) -> bool {
    let relaxed = |bounds: &syn::punctuated::Punctuated<TypeParamBound, syn::Token![+]>| {
        bounds.iter().any(|b| {
            matches!(b, TypeParamBound::Trait(t)
                if matches!(t.modifier, syn::TraitBoundModifier::Maybe(_)))
        })
    };
    generics
        .params
        .iter()
        .any(|p| matches!(p, GenericParam::Type(t) if t.ident == *ident && relaxed(&t.bounds)))
        || generics.where_clause.as_ref().is_some_and(|w| {
            w.predicates.iter().any(|p| {
                matches!(p, WherePredicate::Type(t)
                if matches!(&t.bounded_ty, Type::Path(b) if b.path.is_ident(ident))
                    && relaxed(&t.bounds))
            })
        })
}

/// A type as written, spaced as rustc prints one (`dyn std::fmt::Debug`,
/// `[u8; 4]`), not as its tokens are joined (`dyn std :: fmt :: Debug`).
pub(crate) fn written(ty: &Type) -> String {
    let mut out = String::new();
    write_tokens(ty.to_token_stream(), &mut out);
    out
}

/// Appends `tokens` to `out`, a space between two tokens except where rustc
/// prints none (after `<`, `&`, `::`, an opening bracket or a lifetime's
/// quote; before `,`, `;`, `::`, a closing bracket, and before `<` or `(`
/// right after a name).
fn write_tokens(tokens: proc_macro2::TokenStream, out: &mut String) {
    use proc_macro2::{Delimiter, TokenTree};
    let after_name = |out: &str| out.ends_with(|c: char| c.is_alphanumeric() || c == '_');
    let space_before = |out: &mut String| {
        let glued =
            out.is_empty() || out.ends_with(['<', '(', '[', '&', '\'', ' ']) || out.ends_with("::");
        if !glued {
            out.push(' ');
        }
    };
    let mut tokens = tokens.into_iter().peekable();
    while let Some(tree) = tokens.next() {
        match tree {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ('(', ')'),
                    Delimiter::Bracket => ('[', ']'),
                    Delimiter::Brace => ('{', '}'),
                    Delimiter::None => (' ', ' '),
                };
                // `Fn(u8)`, `fn(u8)`: no space after the name.
                if !(open == '(' && after_name(out)) {
                    space_before(out);
                }
                if open != ' ' {
                    out.push(open);
                }
                write_tokens(group.stream(), out);
                while out.ends_with(' ') {
                    out.pop();
                }
                if close != ' ' {
                    out.push(close);
                }
            }
            TokenTree::Ident(ident) => {
                space_before(out);
                out.push_str(&ident.to_string());
            }
            TokenTree::Literal(literal) => {
                space_before(out);
                out.push_str(&literal.to_string());
            }
            TokenTree::Punct(punct) => {
                let c = punct.as_char();
                let joint = punct.spacing() == proc_macro2::Spacing::Joint;
                match c {
                    ',' | ';' => {
                        out.push(c);
                        out.push(' ');
                    }
                    ':' if joint => {
                        // `::`: the second colon follows.
                        if let Some(TokenTree::Punct(_)) = tokens.next() {
                            out.push_str("::");
                        }
                    }
                    '>' => {
                        if out.ends_with(' ') && !out.ends_with("-> ") {
                            out.pop();
                        }
                        out.push('>');
                    }
                    '<' if after_name(out) => out.push('<'),
                    '\'' => {
                        space_before(out);
                        out.push('\'');
                    }
                    '-' if joint => {
                        space_before(out);
                        out.push('-');
                    }
                    _ => {
                        if !out.ends_with('-') {
                            space_before(out);
                        }
                        out.push(c);
                        if matches!(c, '>' | '+' | '=') || out.ends_with("->") {
                            out.push(' ');
                        }
                    }
                }
            }
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
}

pub(crate) fn check(cx: &Ctxt, input: &Input<'_>) {
    if let Some(ty) = unsized_field(input) {
        let shown = written(ty);
        let mut inner = ty;
        while let Type::Paren(syn::TypeParen { elem, .. })
        | Type::Group(syn::TypeGroup { elem, .. }) = inner
        {
            inner = elem;
        }
        let help = match inner {
            Type::Slice(slice) => {
                let elem = written(&slice.elem);
                format!("hold the elements in a `Vec<{elem}>` or a `Box<[{elem}]>`")
            }
            Type::TraitObject(_) => format!("hold it in a `Box<{shown}>`"),
            Type::Path(path) if path.path.is_ident("str") => {
                "hold the text in a `String` or a `Box<str>`".to_string()
            }
            _ => format!("hold it in a `Box<{shown}>`, or drop the `?Sized` bound"),
        };
        cx.error_spanned_by(
            ty,
            format!(
                "a map value must be `Sized`, and this field's type `{shown}` has no size known at compile time\n\
                 help: {help}"
            ),
        );
    }
    if let Some(store) = &input.attrs.store {
        if store.unraw() == input.ident.unraw() {
            cx.error_at(
                store.span(),
                format!(
                    "the store alias `{store}` would have the type's own name\n\
                     help: give the alias another name, like `store = \"{store}Map\"`, or omit it with `no_store`"
                ),
            );
        } else if store.unraw() == "MapStore" {
            let ident = input.ident.unraw();
            cx.error_at(
                store.span(),
                format!(
                    "the store alias would be named `MapStore`, the name of mapstore's map and of this derive\n\
                     help: give the alias another name, like `store = \"{ident}Store\"` (the default), or omit it with `no_store`"
                ),
            );
        }
    }
    if input.is_generic() && input.attrs.storage.is_none() && !input.attrs.storage_written {
        let name = input.display_name();
        cx.error_spanned_by(
            input.generics,
            format!(
                "`#[derive(MapStore)]` cannot pick a storage for the generic type `{name}`: its size depends on its parameters\n\
                 help: choose one with `#[map_store(storage = \"inline\")]`, `\"pooled\"` or `\"boxed\"`"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::written;

    #[test]
    fn types_are_written_as_rustc_prints_them() {
        for ty in [
            "dyn std::fmt::Debug",
            "[u8]",
            "[u8; 4]",
            "&'a str",
            "&mut [T]",
            "Box<dyn Fn(u8, u16) -> u32 + Send>",
            "HashMap<String, Vec<(u8, u16)>>",
            "<T as Trait>::Out",
            "dyn for<'x> Fn(&'x str)",
            "str",
            "(u8,)",
            "fn(&u8) -> (u8, u16)",
            "[&'static str; 2]",
        ] {
            let parsed: syn::Type = syn::parse_str(ty).unwrap();
            assert_eq!(written(&parsed), ty);
        }
    }
}
