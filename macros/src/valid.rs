//! Checks that need the whole input.

use syn::ext::IdentExt;

use crate::ast::Input;
use crate::ctxt::Ctxt;

pub(crate) fn check(cx: &Ctxt, input: &Input<'_>) {
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
