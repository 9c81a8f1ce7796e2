//! Feeds arbitrary token streams to the derive's expansion: it must never
//! panic, and what it returns (the items, or `compile_error!`s and a
//! fallback impl) must parse as Rust items.
//!
//! A proc-macro crate can export nothing but macros, so the macro crate's
//! modules are compiled into this target directly; `expand::expand` is the
//! derive's whole pipeline.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proc_macro2::TokenStream;

#[allow(dead_code)]
#[path = "../../macros/src/ast.rs"]
mod ast;
#[allow(dead_code)]
#[path = "../../macros/src/attr.rs"]
mod attr;
#[allow(dead_code)]
#[path = "../../macros/src/ctxt.rs"]
mod ctxt;
#[allow(dead_code)]
#[path = "../../macros/src/expand.rs"]
mod expand;
#[allow(dead_code)]
#[path = "../../macros/src/heap.rs"]
mod heap;
#[allow(dead_code)]
#[path = "../../macros/src/valid.rs"]
mod valid;

use expand::expand;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tokens) = text.parse::<TokenStream>() else {
        return;
    };
    // Only inputs that are a derive's input reach the expansion proper.
    if syn::parse2::<syn::DeriveInput>(tokens.clone()).is_err() {
        return;
    }
    let out = expand(tokens);
    if let Err(err) = syn::parse2::<syn::File>(out.clone()) {
        panic!("expansion is not valid Rust: {err}\n{out}");
    }
});
