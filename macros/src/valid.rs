//! Checks that need the whole input.

use crate::ast::Input;
use crate::ctxt::Ctxt;

pub(crate) fn check(cx: &Ctxt, input: &Input<'_>) {
    if input.is_generic() && input.attrs.storage.is_none() {
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
