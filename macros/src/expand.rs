//! The generated code.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};
use syn::ext::IdentExt;
use syn::visit_mut::{self, VisitMut};
use syn::{GenericParam, Ident, Lifetime};

use crate::ast::{Body, Field, Input};
use crate::attr::StorageKind;
use crate::heap::owns_heap;

/// The whole derive: parse, validate, expand. The generated items, or every
/// error of the input as `compile_error!`s followed by a fallback impl, so
/// that one mistake does not cascade into errors at each use of the type.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(err) => return err.to_compile_error(),
    };
    let cx = crate::ctxt::Ctxt::new();
    let parsed = Input::from_syn(&cx, &input);
    crate::valid::check(&cx, &parsed);
    if cx.has_errors() {
        // No impl for a type that cannot be a value at all (rustc would
        // only repeat that it has no size).
        let fallback = if crate::valid::unsized_field(&parsed).is_some() {
            TokenStream::new()
        } else {
            fallback(&parsed)
        };
        let mut out = cx.into_compile_errors();
        out.extend(fallback);
        out
    } else {
        derive(&parsed)
    }
}

/// The expansion of a derive that had no errors.
pub(crate) fn derive(input: &Input<'_>) -> TokenStream {
    let mut out = store_alias(input);
    out.extend(if input.is_generic() {
        generic_impl(input)
    } else {
        concrete_impl(input)
    });
    out
}

/// What is emitted beside the errors: the impl and the alias with a
/// storage that needs no layout (so that uses of the type do not report
/// more, unrelated, errors).
pub(crate) fn fallback(input: &Input<'_>) -> TokenStream {
    let alias = store_alias(input);
    let imp = forced_impl(
        input,
        input.attrs.storage.map_or(StorageKind::Inline, |s| s.kind),
        TokenStream::new(),
    );
    let krate_use = krate_use(input);
    quote!(#alias const _: () = { #krate_use #imp };)
}

/// `#[allow(deprecated)]` for the generated items that name the type or its
/// fields, where the type is deprecated or allows the lint (see
/// `Input::deprecated`); nothing otherwise.
fn allow_deprecated(input: &Input<'_>) -> TokenStream {
    if input.deprecated {
        quote!(#[allow(deprecated)])
    } else {
        TokenStream::new()
    }
}

/// `::mapstore`, or the `crate = "..."` path: named once per derive inside
/// its `const _` blocks (see [`krate_use`]), and by the alias outside them.
fn krate_path(input: &Input<'_>) -> TokenStream {
    match &input.attrs.krate {
        Some(path) => path.to_token_stream(),
        None => quote!(::mapstore),
    }
}

/// `path` (an item of the crate's `__private` module, for the alias),
/// spanned at the `crate = "..."` string where one is given: a path there
/// that is not mapstore is reported at the string, not at the derive.
fn krate_item(input: &Input<'_>, item: &str) -> TokenStream {
    let krate = krate_path(input);
    let item = Ident::new(item, Span::call_site());
    let path = quote!(#krate::__private::#item);
    match &input.attrs.krate {
        Some(written) => respan(path, syn::spanned::Spanned::span(written)),
        None => path,
    }
}

/// The crate's `__private` module inside the generated `const _` blocks,
/// which import it once ([`krate_use`]).
fn krate(_input: &Input<'_>) -> TokenStream {
    quote!(__mapstore)
}

/// `use ::mapstore::__private as __mapstore;` at the start of each `const _`
/// block: a `crate = "..."` path that leads nowhere, or to a crate that is
/// not mapstore, is then one error, at the attribute's string (rustc
/// reports the unresolved import and nothing at the paths through it),
/// instead of one per path the block names, with rustc's suggestions to
/// import `std::mem` or `std::marker` for them.
fn krate_use(input: &Input<'_>) -> TokenStream {
    match &input.attrs.krate {
        // Every token at the string, where rustc then reports the import.
        Some(path) => respan(
            quote!(use #path::__private as __mapstore;),
            syn::spanned::Spanned::span(path),
        ),
        None => quote!(
            use ::mapstore::__private as __mapstore;
        ),
    }
}

/// `&["name", #[cfg(..)] "other", ...]`: the heap-owning fields, a store
/// of the type itself included (its alias, `UserStore<K>`, is a map that
/// [`owns_heap`] cannot tell from its name).
fn heap_fields(input: &Input<'_>) -> TokenStream {
    let fields = heap_field_names(input);
    quote!(&[#(#fields),*])
}

/// The names of [`heap_fields`], each with its `#[cfg]`s.
fn heap_field_names(input: &Input<'_>) -> Vec<TokenStream> {
    let names = crate::recursive::Names::of(input);
    let push = |out: &mut Vec<TokenStream>,
                prefix: Option<&Ident>,
                cfgs: TokenStream,
                field: &Field<'_>| {
        if !owns_heap(field.ty) && !crate::recursive::holds_store_of_self(field.ty, &names) {
            return;
        }
        let field_cfgs = &field.cfgs;
        let name = match prefix {
            Some(variant) => format!("{}.{}", variant.unraw(), field.name),
            None => field.name.clone(),
        };
        out.push(quote!(#cfgs #(#field_cfgs)* #name));
    };
    let mut fields = Vec::new();
    match &input.body {
        Some(Body::Struct(all)) => {
            for field in all {
                push(&mut fields, None, TokenStream::new(), field);
            }
        }
        Some(Body::Enum(variants)) => {
            for variant in variants {
                let cfgs = &variant.cfgs;
                let cfgs = quote!(#(#cfgs)*);
                for field in &variant.fields {
                    push(&mut fields, Some(variant.ident), cfgs.clone(), field);
                }
            }
        }
        None => {}
    }
    fields
}

/// `.optimize(Optimize::Reads)` when `optimize = "..."` is given.
fn goal(input: &Input<'_>) -> TokenStream {
    match input.attrs.optimize {
        Some(goal) => {
            let krate = krate(input);
            let variant = Ident::new(goal.variant(), Span::call_site());
            quote!(.optimize(#krate::Optimize::#variant))
        }
        None => TokenStream::new(),
    }
}

/// `Plan::new(...)` for the type `ty`, whose storage the policy chooses.
fn chosen_plan(input: &Input<'_>, ty: &TokenStream) -> TokenStream {
    let krate = krate(input);
    let name = input.display_name();
    let heap = heap_fields(input);
    let goal = goal(input);
    quote! {
        #krate::Plan::new(
            #name,
            #krate::core::mem::size_of::<#ty>(),
            #krate::core::mem::align_of::<#ty>(),
            #krate::core::mem::needs_drop::<#ty>(),
            #heap,
            #krate::core::option::Option::None,
        )#goal
    }
}

/// `Plan::of::<ty>(...)`: the plan of a type whose impl names its storage,
/// read from that impl, so that the two cannot disagree.
fn forced_plan(input: &Input<'_>, ty: &TokenStream) -> TokenStream {
    let krate = krate(input);
    let name = input.display_name();
    let heap = heap_fields(input);
    let goal = goal(input);
    quote!(#krate::Plan::of::<#ty>(#name, #heap)#goal)
}

/// The type by name with every lifetime replaced by `'static`: what a
/// const expression may name.
fn static_type(input: &Input<'_>) -> TokenStream {
    let ident = input.ident;
    let lifetimes: Vec<Lifetime> = input
        .generics
        .lifetimes()
        .map(|_| Lifetime::new("'static", Span::call_site()))
        .collect();
    if lifetimes.is_empty() {
        quote!(#ident)
    } else {
        quote!(#ident<#(#lifetimes),*>)
    }
}

/// A type without type or const parameters: the storage comes from `choose`
/// through `Plan::new`, in a constant, or from `storage = "..."`.
fn concrete_impl(input: &Input<'_>) -> TokenStream {
    let allow_deprecated = allow_deprecated(input);
    let krate = krate(input);
    let ident = input.ident;
    let ty = static_type(input);
    // A forced storage is named once, in `Storage`, and the plan reads it;
    // a chosen one is picked from the plan. Either way they agree.
    let mut check = TokenStream::new();
    let (plan, storage) = match (input.attrs.storage, crate::recursive::holds_itself(input)) {
        (Some(forced), _) => {
            let storage = Ident::new(forced.kind.type_name(), Span::call_site());
            (forced_plan(input, &ty), quote!(#krate::#storage))
        }
        // A type held in its own store: the storage is the first fixed
        // point of the policy over the type's twins, and the policy must
        // agree at the type's own size (see `recursive`).
        (None, Some(field)) => {
            check = twins(input, &krate);
            check.extend(respan(
                quote!(const _: () = #krate::held_in_itself(&__PLAN, __HELD);),
                field,
            ));
            (
                chosen_plan(input, &ty),
                quote!(<#krate::Select<{ __HELD }> as #krate::Pick>::S),
            )
        }
        (None, None) => (
            chosen_plan(input, &ty),
            quote!(<#krate::Select<{ #krate::kind_of(&__PLAN) }> as #krate::Pick>::S),
        ),
    };
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    // A storage the policy picks is named through `Chosen`, whose impl
    // holds the selection: rustdoc then shows the type's `Storage` as
    // `<User as Chosen>::Storage`, not as the const expression behind it.
    let (chosen, storage) = if input.attrs.storage.is_some() {
        (TokenStream::new(), storage)
    } else {
        (
            quote! {
                #[automatically_derived]
                #[doc(hidden)]
                #allow_deprecated
                impl #impl_generics #krate::Chosen for #ident #ty_generics #where_clause {
                    type Storage = #storage;
                }
            },
            quote!(<#ident #ty_generics as #krate::Chosen>::Storage),
        )
    };
    let warnings = warnings(input);
    let alias_use = alias_use(input);
    let krate_use = krate_use(input);
    quote! {
        const _: () = {
            #krate_use
            // `allow(deprecated)` (where the type is deprecated or allows
            // it) on what names the type or its fields, so that such a type
            // derives without a warning, as with std's derives; the notes
            // below stay warnings.
            #allow_deprecated
            const __PLAN: #krate::Plan = #plan;
            #chosen
            #[automatically_derived]
            #allow_deprecated
            impl #impl_generics #krate::MapValue for #ident #ty_generics #where_clause {
                type Storage = #storage;
                const PLAN: #krate::Plan = {
                    #alias_use
                    __PLAN
                };
            }
            #check
            #warnings
        };
    }
}

/// For a type held in its own store: its twin for each storage (the same
/// fields, each store of the type replaced by the map of that storage by
/// name; see `recursive`), and `__HELD`, the storage (as `Select`'s `u8`)
/// that the policy picks at its own twin's size, the first of inline,
/// pooled and boxed that does.
fn twins(input: &Input<'_>, krate: &TokenStream) -> TokenStream {
    let allow_deprecated = allow_deprecated(input);
    let names = crate::recursive::Names::of(input);
    let reprs = &input.repr_attrs;
    let heap = heap_fields(input);
    let goal = goal(input);
    let mut out = TokenStream::new();
    let mut plans = Vec::new();
    for (kind, name) in [
        (StorageKind::Inline, "__MapStoreTwinInline"),
        (StorageKind::Pooled, "__MapStoreTwinPooled"),
        (StorageKind::Boxed, "__MapStoreTwinBoxed"),
    ] {
        let twin = Ident::new(name, Span::call_site());
        // Named fields (`f0`, `f1`, ...; names do not change a layout), so
        // that a `#[cfg]`'d field is left out of the twin's uses below too.
        let fields_of = |fields: &[Field<'_>]| -> Vec<(TokenStream, Ident, TokenStream)> {
            fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let cfgs = &f.cfgs;
                    let ty = crate::recursive::twin_type(f.ty, &names, kind, krate);
                    let ty = static_field_type(input, &ty);
                    (quote!(#(#cfgs)*), format_ident!("f{}", i), ty)
                })
                .collect()
        };
        // The twin is only measured; these uses construct it and read its
        // fields in closures that never run, so that `dead_code` has
        // nothing to say about it, with no `allow` (which a crate's
        // `#![forbid(dead_code)]` rejects).
        let (item, uses) = match &input.body {
            Some(Body::Struct(fields)) => {
                let fields = fields_of(fields);
                let decls = fields.iter().map(|(c, f, t)| quote!(#c #f: #t));
                let params = fields.iter().map(|(c, f, t)| quote!(#c #f: #t));
                let inits = fields.iter().map(|(c, f, _)| quote!(#c #f));
                // `addr_of!`: a packed twin's fields may not be borrowed.
                let reads = fields
                    .iter()
                    .map(|(c, f, _)| quote!(#c let _ = #krate::core::ptr::addr_of!(twin.#f);));
                (
                    quote!(struct #twin { #(#decls),* }),
                    quote! {
                        let _ = |#(#params),*| #twin { #(#inits),* };
                        let _ = |twin: &#twin| { #(#reads)* };
                    },
                )
            }
            Some(Body::Enum(variants)) => {
                let mut decls = Vec::new();
                let mut builds = Vec::new();
                let mut arms = Vec::new();
                for v in variants {
                    let (ident, cfgs) = (v.ident, &v.cfgs);
                    let discriminant = v.discriminant.map(|d| quote!(= #d));
                    let fields = fields_of(&v.fields);
                    let fdecls = fields.iter().map(|(c, f, t)| quote!(#c #f: #t));
                    let params = fields.iter().map(|(c, f, t)| quote!(#c #f: #t));
                    let inits = fields.iter().map(|(c, f, _)| quote!(#c #f));
                    let binds = fields.iter().map(|(c, f, _)| quote!(#c #f,));
                    let reads = fields.iter().map(|(c, f, _)| quote!(#c let _ = #f;));
                    if v.fields.is_empty() {
                        decls.push(quote!(#(#cfgs)* #ident #discriminant));
                        builds.push(quote!(#(#cfgs)* let _ = #twin::#ident;));
                    } else {
                        decls.push(quote!(#(#cfgs)* #ident { #(#fdecls),* } #discriminant));
                        builds.push(
                            quote!(#(#cfgs)* let _ = |#(#params),*| #twin::#ident { #(#inits),* };),
                        );
                    }
                    arms.push(quote!(#(#cfgs)* #twin::#ident { #(#binds)* .. } => { #(#reads)* }));
                }
                (
                    quote!(enum #twin { #(#decls),* }),
                    quote! {
                        #(#builds)*
                        let _ = |twin: &#twin| match twin { #(#arms)* };
                    },
                )
            }
            None => (TokenStream::new(), TokenStream::new()),
        };
        out.extend(quote! {
            #allow_deprecated
            #(#reprs)*
            #item
            #allow_deprecated
            const _: () = { #uses };
        });
        plans.push(quote! {
            #krate::Plan::new(
                "",
                #krate::core::mem::size_of::<#twin>(),
                #krate::core::mem::align_of::<#twin>(),
                #krate::core::mem::needs_drop::<#twin>(),
                #heap,
                #krate::core::option::Option::None,
            )#goal
        });
    }
    out.extend(quote! {
        #allow_deprecated
        const __HELD: #krate::core::primitive::u8 = #krate::held_fixed_point(&[#(#plans),*]);
    });
    out
}

/// A generic type: `storage = "..."` names the storage, `PLAN` reads the
/// layout of `Self` inside the impl.
fn generic_impl(input: &Input<'_>) -> TokenStream {
    let kind = input.attrs.storage.map_or(StorageKind::Inline, |s| s.kind);
    let explain = match input.attrs.explain {
        Some(span) => {
            let krate = krate(input);
            let name = Ident::new(&kind.type_name().to_uppercase(), Span::call_site());
            respan(quote!(const _: () = #krate::Generic::#name;), span)
        }
        None => TokenStream::new(),
    };
    let imp = forced_impl(input, kind, explain);
    let krate_use = krate_use(input);
    quote!(const _: () = { #krate_use #imp };)
}

/// `impl MapValue` naming the storage directly.
fn forced_impl(input: &Input<'_>, kind: StorageKind, extra: TokenStream) -> TokenStream {
    let allow_deprecated = allow_deprecated(input);
    let krate = krate(input);
    let ident = input.ident;
    let plan = forced_plan(input, &quote!(Self));
    let alias_use = alias_use(input);
    let storage = Ident::new(kind.type_name(), Span::call_site());
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        #allow_deprecated
        impl #impl_generics #krate::MapValue for #ident #ty_generics #where_clause {
            type Storage = #krate::#storage;
            const PLAN: #krate::Plan = {
                #alias_use
                #plan
            };
        }
        #extra
    }
}

/// Gives every token the span `span`, so that rustc reports a deprecation
/// there (it drops those whose tokens carry the derive's own span).
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut new = Group::new(group.delimiter(), respan(group.stream(), span));
                new.set_span(span);
                tree = TokenTree::Group(new);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// The uses of the notes constant `name` of the runtime's module `module`,
/// selected by `fires` for a value of `size` bytes: one through
/// `Bytes::<{ exact(..) }>`, one through `BytesBetween::<{ between(..) }>`,
/// of which at most one is deprecated. Every token is spanned at `span`.
fn note_use(
    krate: &TokenStream,
    module: &str,
    name: &str,
    fires: TokenStream,
    size: TokenStream,
    span: Span,
) -> TokenStream {
    let module = Ident::new(module, span);
    let name = Ident::new(name, span);
    let p = krate;
    respan(
        quote! {
            const _: () = #p::#module::Bytes::<{ #p::exact(#fires, #size) }>::#name;
            const _: () = #p::#module::BytesBetween::<
                { #p::between(#fires, #size).0 },
                { #p::between(#fires, #size).1 },
            >::#name;
        },
        span,
    )
}

/// Each warning that is not allowed, and `explain`'s note: uses of
/// `#[deprecated]` constants selected at compile time from `__PLAN`,
/// spanned at the user's tokens.
fn warnings(input: &Input<'_>) -> TokenStream {
    let allow_deprecated = allow_deprecated(input);
    let krate = krate(input);
    let attrs = &input.attrs;
    let goal = attrs.optimize.unwrap_or_default().name();
    let mut out = TokenStream::new();
    // A type with heap-owning fields reads each note from the goal's module
    // or from its `_heap` twin, which quotes the inline limit of values that
    // own heap memory (the runtime's `heap_notes` says which of the two a
    // plan reads; at most one fires). A type without such fields never
    // reads the twin, so its uses are left out.
    let heap_goal = format!("{goal}_heap");
    let modules: &[(&str, bool)] = if heap_field_names(input).is_empty() {
        &[(goal, false)]
    } else {
        &[(goal, false), (&heap_goal, true)]
    };
    let plan_note = |span: Span, note: &str, name: &str| {
        let note = Ident::new(note, Span::call_site());
        let mut out = TokenStream::new();
        for &(module, heap) in modules {
            out.extend(note_use(
                &krate,
                module,
                name,
                quote!(#krate::fires_in(&__PLAN, #krate::Note::#note, #heap)),
                quote!(__PLAN.size),
                span,
            ));
        }
        out
    };
    if let (Some(storage), false) = (attrs.storage, attrs.allow_slow_storage) {
        // Which of these fires is `Plan::slow_choice`'s to say.
        for (note, name) in [
            ("BoxedSmallValue", "BOXED_SMALL_VALUE"),
            ("PooledSmallValue", "POOLED_SMALL_VALUE"),
            ("InlineLargeValue", "INLINE_LARGE_VALUE"),
            ("InlineAlignedValue", "INLINE_ALIGNED_VALUE"),
        ] {
            out.extend(plan_note(storage.value_span, note, name));
        }
    }
    let type_span = input.ident.span();
    if !attrs.allow_zero_sized {
        out.extend(respan(
            quote!(const _: () = #krate::Warn::<{ #krate::zero_sized(&__PLAN) }>::ZERO_SIZED;),
            type_span,
        ));
    }
    if let (Some(Body::Struct(fields)), Some(_), false, false) = (
        &input.body,
        input.repr.c,
        input.repr.packed,
        attrs.allow_padding,
    ) {
        if fields.len() > 1 {
            let ty = static_type(input);
            // Each field's size read through the field, not its type: a
            // deprecated field type is then reported once, at the user's
            // field, not a second time here.
            let sizes = fields.iter().map(|f| {
                let cfgs = &f.cfgs;
                let member = &f.member;
                quote!(#(#cfgs)* #krate::size_of_field(|value: &#ty| &value.#member))
            });
            // Computed apart from the warning's line: that line is spanned at
            // the type's name, these field types keep their own spans.
            out.extend(quote! {
                #allow_deprecated
                const __FIELDS_SIZE: #krate::core::primitive::usize = {
                    let sizes: &[#krate::core::primitive::usize] = &[#(#sizes),*];
                    let mut sum = 0;
                    let mut i = 0;
                    while i < sizes.len() {
                        sum += sizes[i];
                        i += 1;
                    }
                    sum
                };
                #allow_deprecated
                const __PADDED: #krate::core::primitive::bool = #krate::padded(
                    #krate::core::mem::size_of::<#ty>(),
                    #krate::core::mem::align_of::<#ty>(),
                    __FIELDS_SIZE,
                );
            });
            out.extend(note_use(
                &krate,
                "padding",
                "PADDING",
                quote!(__PADDED),
                quote!(__PLAN.size),
                type_span,
            ));
        }
    }
    match (attrs.explain, attrs.storage) {
        // A forced storage: the note names it (the policy's rule would name
        // the storage the policy picks, not the one used).
        (Some(span), Some(storage)) => {
            let name = Ident::new(&storage.kind.type_name().to_uppercase(), Span::call_site());
            out.extend(respan(quote!(const _: () = #krate::Forced::#name;), span));
        }
        (Some(span), None) => {
            for (note, name) in [
                ("Inline", "INLINE"),
                ("Pooled", "POOLED"),
                ("Boxed", "BOXED"),
                ("BoxedAligned", "BOXED_ALIGNED"),
            ] {
                out.extend(plan_note(span, note, name));
            }
        }
        (None, _) => {}
    }
    out
}

/// A field's type as a const expression may name it: every lifetime the
/// type's generics declare (or leaves elided) replaced by `'static`, and
/// `Self` by the type's name. Lifetimes bound inside the field's type
/// (`for<'x> fn(&'x str)`, `dyn for<'x> Fn(&'x u8)`) stay as they are:
/// `for<'static>` is not Rust.
fn static_field_type(input: &Input<'_>, ty: &syn::Type) -> TokenStream {
    /// Replaces free lifetimes, keeping those of enclosing `for<...>`s.
    struct Erase {
        bound: Vec<Ident>,
    }

    impl Erase {
        fn within(&mut self, binder: Option<&syn::BoundLifetimes>, visit: impl FnOnce(&mut Self)) {
            let depth = self.bound.len();
            if let Some(binder) = binder {
                self.bound
                    .extend(binder.lifetimes.iter().filter_map(|param| match param {
                        GenericParam::Lifetime(l) => Some(l.lifetime.ident.clone()),
                        _ => None,
                    }));
            }
            visit(self);
            self.bound.truncate(depth);
        }
    }

    impl VisitMut for Erase {
        fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
            if lifetime.ident != "static" && !self.bound.contains(&lifetime.ident) {
                lifetime.ident = Ident::new("static", lifetime.ident.span());
            }
        }
        fn visit_type_bare_fn_mut(&mut self, f: &mut syn::TypeBareFn) {
            let binder = f.lifetimes.clone();
            self.within(binder.as_ref(), |me| {
                visit_mut::visit_type_bare_fn_mut(me, f)
            });
        }
        fn visit_trait_bound_mut(&mut self, b: &mut syn::TraitBound) {
            let binder = b.lifetimes.clone();
            self.within(binder.as_ref(), |me| {
                visit_mut::visit_trait_bound_mut(me, b)
            });
        }
    }

    /// Replaces `Self` (in paths and in array lengths alike) by the type.
    fn replace_self(tokens: TokenStream, self_ty: &TokenStream) -> TokenStream {
        tokens
            .into_iter()
            .flat_map(|tree| match tree {
                TokenTree::Group(group) => {
                    let inner = replace_self(group.stream(), self_ty);
                    let mut new = Group::new(group.delimiter(), inner);
                    new.set_span(group.span());
                    TokenStream::from(TokenTree::Group(new))
                }
                TokenTree::Ident(ident) if ident == "Self" => self_ty.clone(),
                other => TokenStream::from(other),
            })
            .collect()
    }

    let mut ty = ty.clone();
    Erase { bound: Vec::new() }.visit_type_mut(&mut ty);
    replace_self(ty.to_token_stream(), &static_type(input))
}

/// The name of the store alias the derive writes, if it writes one.
fn alias_name(input: &Input<'_>) -> Option<Ident> {
    if input.attrs.no_store.is_some() {
        return None;
    }
    let ident = input.ident;
    match &input.attrs.store {
        // Reported by `valid::check`; the alias would only add rustc's
        // errors about a name defined twice.
        Some(name) if name.unraw() == ident.unraw() || name.unraw() == "MapStore" => None,
        Some(name) => Some(name.clone()),
        None => Some(format_ident!("{}Store", ident.unraw(), span = ident.span())),
    }
}

/// A statement that names the store alias, for the `MapValue` impl's
/// `PLAN`: an alias that nothing else uses is then used by a trait impl,
/// so `dead_code` has nothing to say about it, with no `allow` (which a
/// crate's `#![forbid(dead_code)]` would reject).
fn alias_use(input: &Input<'_>) -> TokenStream {
    let Some(alias) = alias_name(input) else {
        return TokenStream::new();
    };
    let krate = krate(input);
    let args = input.generics.params.iter().map(|p| match p {
        GenericParam::Lifetime(l) => l.lifetime.to_token_stream(),
        GenericParam::Type(t) => t.ident.to_token_stream(),
        GenericParam::Const(c) => c.ident.to_token_stream(),
    });
    quote! {
        let _: #krate::core::marker::PhantomData<fn() -> #alias<#(#args,)* ()>>;
    }
}

/// `pub type UserStore<K, S = DefaultHashBuilder> = MapStore<K, User, S>;`
fn store_alias(input: &Input<'_>) -> TokenStream {
    let allow_deprecated = allow_deprecated(input);
    let Some(alias) = alias_name(input) else {
        return TokenStream::new();
    };
    let hasher = krate_item(input, "DefaultHashBuilder");
    // The map type itself, not the `MapStore` alias of it: rustdoc shows
    // the methods of `Map` on the page of an alias of it, and none on an
    // alias of an alias from another crate.
    let map = krate_item(input, "Map");
    let value = krate_item(input, "MapValue");
    let ident = input.ident;
    let vis = input.vis;
    let used: Vec<String> = input
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => Some(t.ident.to_string()),
            GenericParam::Const(c) => Some(c.ident.to_string()),
            GenericParam::Lifetime(_) => None,
        })
        // The value type itself: `struct S` must not be shadowed by the
        // alias's hasher parameter `S`.
        .chain(core::iter::once(input.ident.unraw().to_string()))
        .collect();
    let fresh = |base: &str| {
        let mut name = base.to_string();
        let mut n = 1;
        while used.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        Ident::new(&name, Span::call_site())
    };
    let k = fresh("K");
    let s = fresh("S");
    // The type's own parameters without bounds or defaults: a type alias
    // does not check bounds, and a default may not precede `K`.
    let params = input.generics.params.iter().map(|p| match p {
        GenericParam::Lifetime(l) => l.lifetime.to_token_stream(),
        GenericParam::Type(t) => t.ident.to_token_stream(),
        GenericParam::Const(c) => {
            let ident = &c.ident;
            let ty = &c.ty;
            quote!(const #ident: #ty)
        }
    });
    let (_, ty_generics, _) = input.generics.split_for_impl();
    let doc = format!(
        " A `MapStore` of `{}` values keyed by `{k}` and hashed by `{s}`, generated by `#[derive(MapStore)]`.",
        input.display_name()
    );
    let attrs = &input.alias_attrs;
    // A type whose name `non_camel_case_types` flags (a C struct's, under
    // its own `allow`) would have rustc flag the alias too, a name the user
    // did not write. Only then: an `allow` is an error in a crate that
    // forbids the lint (whose own type names then pass it).
    let name = alias.unraw().to_string();
    let trimmed = name.trim_matches('_');
    let allow_case = (trimmed.contains('_') || trimmed.starts_with(char::is_lowercase))
        .then(|| quote!(#[allow(non_camel_case_types)]));
    quote! {
        #[doc = #doc]
        #(#attrs)*
        #allow_deprecated
        #allow_case
        #vis type #alias<#(#params,)* #k, #s = #hasher> =
            #map<#k, #ident #ty_generics, <#ident #ty_generics as #value>::Storage, #s>;
    }
}
