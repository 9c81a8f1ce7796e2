//! The derive's input, read into the shape the expansion needs.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, GenericParam, Generics, Ident, Type, Visibility};

use crate::attr::{self, Attrs};
use crate::ctxt::Ctxt;

/// A type deriving `MapStore`.
pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a Visibility,
    pub(crate) generics: &'a Generics,
    pub(crate) attrs: Attrs,
    pub(crate) repr: Repr,
    /// The `#[repr(...)]` attributes as written (copied onto the layout
    /// twins of a type that holds itself in a store; see `recursive`).
    pub(crate) repr_attrs: Vec<&'a Attribute>,
    /// `None` for a union (rejected).
    pub(crate) body: Option<Body<'a>>,
    /// The type is `#[deprecated]`, or allows `deprecated` (it names a
    /// deprecated field type): the generated items that name the type or
    /// its fields allow the lint too, as std's derives are silent there.
    /// Only then: an `allow` is an error in a crate that forbids the lint.
    pub(crate) deprecated: bool,
    /// The type's `#[deprecated]` and `#[doc(hidden)]` attributes, copied
    /// onto the store alias: a use of the alias of a deprecated type warns,
    /// and the alias of a hidden type is hidden too.
    pub(crate) alias_attrs: Vec<&'a Attribute>,
}

/// The fields of a struct or the variants of an enum.
pub(crate) enum Body<'a> {
    Struct(Vec<Field<'a>>),
    Enum(Vec<Variant<'a>>),
}

pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) cfgs: Vec<&'a Attribute>,
    /// `= expr`, if given.
    pub(crate) discriminant: Option<&'a syn::Expr>,
    pub(crate) fields: Vec<Field<'a>>,
}

pub(crate) struct Field<'a> {
    /// The field's name without `r#`, or its index for a tuple field.
    pub(crate) name: String,
    /// The field as an expression reads it (`r#type`, `0`).
    pub(crate) member: syn::Member,
    pub(crate) ty: &'a Type,
    /// `#[cfg(...)]` attributes left on the field (normally none: rustc
    /// strips them before a derive runs, but they are honoured if present).
    pub(crate) cfgs: Vec<&'a Attribute>,
}

/// What `#[repr(...)]` says, as far as the warnings care.
#[derive(Default)]
pub(crate) struct Repr {
    /// `repr(C)`, with the span of `C`.
    pub(crate) c: Option<Span>,
    pub(crate) packed: bool,
}

impl<'a> Input<'a> {
    pub(crate) fn from_syn(cx: &Ctxt, input: &'a DeriveInput) -> Self {
        let attrs = attr::parse(cx, &input.attrs);
        misplaced(cx, &input.data);
        let body = match &input.data {
            Data::Struct(data) => Some(Body::Struct(fields(&data.fields))),
            Data::Enum(data) => Some(Body::Enum(
                data.variants
                    .iter()
                    .map(|v| Variant {
                        ident: &v.ident,
                        cfgs: cfgs(&v.attrs),
                        discriminant: v.discriminant.as_ref().map(|(_, expr)| expr),
                        fields: fields(&v.fields),
                    })
                    .collect(),
            )),
            Data::Union(data) => {
                cx.error_at(
                    data.union_token.span(),
                    "`#[derive(MapStore)]` does not support unions: implement `MapValue` by hand, or use `InlineMap`, `BoxedMap` or `PooledMap`, which take any value",
                );
                None
            }
        };
        Input {
            ident: &input.ident,
            vis: &input.vis,
            generics: &input.generics,
            attrs,
            repr: repr(&input.attrs),
            repr_attrs: input
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("repr"))
                .collect(),
            body,
            deprecated: input.attrs.iter().any(|a| {
                a.path().is_ident("deprecated")
                    || ((a.path().is_ident("allow") || a.path().is_ident("expect"))
                        && a.meta.require_list().is_ok_and(|list| {
                            list.tokens
                                .clone()
                                .into_iter()
                                .any(|t| t.to_string() == "deprecated")
                        }))
            }),
            alias_attrs: input
                .attrs
                .iter()
                .filter(|a| {
                    a.path().is_ident("deprecated")
                        || (a.path().is_ident("doc")
                            && a.meta.require_list().is_ok_and(|list| {
                                list.tokens
                                    .clone()
                                    .into_iter()
                                    .any(|t| t.to_string() == "hidden")
                            }))
                })
                .collect(),
        }
    }

    /// Whether the type has type or const parameters (lifetimes do not
    /// change a layout).
    pub(crate) fn is_generic(&self) -> bool {
        self.generics
            .params
            .iter()
            .any(|p| !matches!(p, GenericParam::Lifetime(_)))
    }

    /// The type's name as written, with its parameters: `Wrapper<'a, T>`.
    pub(crate) fn display_name(&self) -> String {
        let mut name = self.ident.unraw().to_string();
        let params: Vec<String> = self
            .generics
            .params
            .iter()
            .map(|p| match p {
                GenericParam::Lifetime(l) => l.lifetime.to_string(),
                GenericParam::Type(t) => t.ident.unraw().to_string(),
                GenericParam::Const(c) => c.ident.unraw().to_string(),
            })
            .collect();
        if !params.is_empty() {
            name.push('<');
            name.push_str(&params.join(", "));
            name.push('>');
        }
        name
    }
}

fn fields(fields: &Fields) -> Vec<Field<'_>> {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| Field {
            name: match &f.ident {
                Some(ident) => ident.unraw().to_string(),
                None => i.to_string(),
            },
            member: match &f.ident {
                Some(ident) => syn::Member::Named(ident.clone()),
                None => syn::Member::Unnamed(syn::Index::from(i)),
            },
            ty: &f.ty,
            cfgs: cfgs(&f.attrs),
        })
        .collect()
}

/// `#[map_store(...)]` on a field or a variant: rustc accepts the helper
/// attribute anywhere in the item, so without this it would be ignored in
/// silence.
fn misplaced(cx: &Ctxt, data: &Data) {
    let report = |attrs: &[Attribute], on: &str| {
        for attr in attrs.iter().filter(|a| a.path().is_ident("map_store")) {
            cx.error_spanned_by(
                attr,
                format!(
                    "`#[map_store(...)]` is not read on {on}: the storage is chosen for the whole type\n\
                     help: move it above the `struct` or `enum`"
                ),
            );
        }
    };
    let fields = |fields: &Fields| {
        for field in fields {
            report(&field.attrs, "a field");
        }
    };
    match data {
        Data::Struct(data) => fields(&data.fields),
        Data::Enum(data) => {
            for variant in &data.variants {
                report(&variant.attrs, "a variant");
                fields(&variant.fields);
            }
        }
        Data::Union(data) => {
            for field in &data.fields.named {
                report(&field.attrs, "a field");
            }
        }
    }
}

fn cfgs(attrs: &[Attribute]) -> Vec<&Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("cfg")).collect()
}

/// Reads `#[repr(...)]` leniently: rustc reports malformed ones itself.
fn repr(attrs: &[Attribute]) -> Repr {
    let mut repr = Repr::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("repr")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("C") {
                repr.c = Some(meta.path.span());
            } else if meta.path.is_ident("packed") {
                repr.packed = true;
            }
            if meta.input.peek(syn::token::Paren) {
                let _content;
                syn::parenthesized!(_content in meta.input);
            }
            Ok(())
        });
    }
    repr
}
