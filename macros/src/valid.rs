//! Checks that need the whole input.

use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{GenericParam, Type, TypeParamBound, WherePredicate};

use crate::ast::{Body, Input};
use crate::ctxt::Ctxt;

/// A struct's last field, if its type is written as one without a size (a
/// slice, `dyn Trait`, a `?Sized` parameter): a map value must be `Sized`,
/// and rustc would otherwise report it three times over, once at the
/// derive. Not `str`: a path, which an item of that name may shadow (rustc
/// reports a real `str` itself).
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
            .is_some_and(|ident| maybe_unsized_param(input.generics, ident)),
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

pub(crate) fn check(cx: &Ctxt, input: &Input<'_>) {
    if let Some(ty) = unsized_field(input) {
        let written = ty.to_token_stream().to_string();
        cx.error_spanned_by(
            ty,
            format!(
                "a map value must be `Sized`, and this field's type `{written}` has no size known at compile time\n\
                 help: hold it behind a pointer: `Vec<T>` or `Box<[T]>` for a slice, `Box<dyn Trait>` for a trait object, `Box<T>` (or a `Sized` bound) for a parameter"
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
