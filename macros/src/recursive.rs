//! Types that hold themselves in one of the crate's stores.
//!
//! `struct Node { children: MapStore<String, Node> }` (a tree, a JSON
//! value): the store's layout names `<Node as MapValue>::Storage`, so a
//! storage picked from `size_of::<Node>()` needs `Node`'s layout before it
//! can be picked, and rustc reports a cycle (E0391). The size depends on
//! the pick (a pooled map is larger than an inline one), so the derive
//! looks for a fixed point instead: for each storage in turn (inline,
//! pooled, boxed) it lays out a *twin* of the type, the same fields with
//! each such store replaced by the map of that storage by name
//! (`InlineMap<String, Node>`, whose layout needs nothing of `Node`), and
//! takes the first storage that the policy picks at its twin's size. A
//! check at compile time then confirms that the policy picks the same at
//! the type's own size, or fails with the fix.
//!
//! The detection reads the field types as written: a `MapStore` or
//! `ConcurrentStore` whose value type is the deriving type (by its name
//! alone or `self::Name`), `Self`, or a
//! wrapper whose `MapValue` takes its contents' storage (`Option`, the
//! cells and locks, tuples, `Result`, ...), or the derive's own store alias,
//! anywhere in a field's type. A store reached through a type alias the
//! derive cannot see still meets rustc's cycle error (docs/derive.md gives
//! the fix).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{GenericArgument, PathArguments, Type};

use crate::ast::{Body, Input};
use crate::attr::StorageKind;

/// Stores whose layout depends on their value type's storage.
const STORES: &[&str] = &["MapStore", "ConcurrentStore"];

/// Wrappers whose `MapValue` takes the storage of what they wrap (by their
/// last path segment): every such impl in the runtime's `impls.rs`, which
/// `tests/derive.rs` checks this list against.
const TAKES_STORAGE: &[&str] = &[
    "Option",
    "Result",
    "ControlFlow",
    "Cell",
    "RefCell",
    "OnceCell",
    "UnsafeCell",
    "LazyCell",
    "Mutex",
    "RwLock",
    "OnceLock",
    "LazyLock",
    "ManuallyDrop",
    "Wrapping",
    "Saturating",
    "Reverse",
    "Pin",
    "Range",
    "RangeInclusive",
    "RangeFrom",
    "RangeTo",
    "RangeToInclusive",
    "Bound",
    "Poll",
    "Cursor",
    "BufReader",
    "BufWriter",
    "LineWriter",
];

/// The names that mean the deriving type in its own fields.
pub(crate) struct Names {
    ident: String,
    /// The store alias the derive generates, if any.
    alias: Option<String>,
    /// How many generic parameters the deriving type has (its lifetimes,
    /// for a type laid out as itself): the alias takes them before its key.
    params: usize,
}

impl Names {
    pub(crate) fn of(input: &Input<'_>) -> Names {
        let ident = input.ident.unraw().to_string();
        let alias = match (&input.attrs.store, input.attrs.no_store) {
            (_, Some(_)) => None,
            (Some(name), None) => Some(name.unraw().to_string()),
            (None, None) => Some(format!("{ident}Store")),
        };
        let params = input.generics.params.len();
        Names {
            ident,
            alias,
            params,
        }
    }
}

/// All the generic arguments of a path segment (lifetimes, types, consts).
fn all_args(arguments: &PathArguments) -> Vec<&GenericArgument> {
    match arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().collect(),
        _ => Vec::new(),
    }
}

/// The span of the first field type that holds the deriving type in one of
/// the crate's stores, if any.
pub(crate) fn holds_itself(input: &Input<'_>) -> Option<Span> {
    let names = Names::of(input);
    let mut fields: Vec<&Type> = Vec::new();
    match &input.body {
        Some(Body::Struct(all)) => fields.extend(all.iter().map(|f| f.ty)),
        Some(Body::Enum(variants)) => {
            fields.extend(variants.iter().flat_map(|v| v.fields.iter().map(|f| f.ty)))
        }
        None => {}
    }
    fields
        .into_iter()
        .find(|ty| holds_store_of_self(ty, &names))
        .map(Spanned::span)
}

/// The type arguments of a path segment.
fn type_args(arguments: &PathArguments) -> Vec<&Type> {
    match arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `path` is itself a store of the deriving type: a store whose
/// value type takes its storage, or the derive's own alias.
fn is_store_of_self(path: &syn::TypePath, names: &Names) -> bool {
    if path.qself.is_some() {
        return false;
    }
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    let name = last.ident.unraw().to_string();
    names.alias.as_deref() == Some(name.as_str())
        || (STORES.contains(&name.as_str())
            && type_args(&last.arguments)
                .get(1)
                .is_some_and(|value| takes_storage_of_self(value, names)))
}

/// Whether `ty` contains, anywhere, a store of the deriving type.
pub(crate) fn holds_store_of_self(ty: &Type, names: &Names) -> bool {
    match ty {
        Type::Reference(r) => holds_store_of_self(&r.elem, names),
        Type::Ptr(p) => holds_store_of_self(&p.elem, names),
        Type::Slice(s) => holds_store_of_self(&s.elem, names),
        Type::Array(a) => holds_store_of_self(&a.elem, names),
        Type::Tuple(t) => t.elems.iter().any(|e| holds_store_of_self(e, names)),
        Type::Paren(p) => holds_store_of_self(&p.elem, names),
        Type::Group(g) => holds_store_of_self(&g.elem, names),
        Type::Path(path) => {
            is_store_of_self(path, names)
                || (path.qself.is_none()
                    && path.path.segments.iter().any(|segment| {
                        type_args(&segment.arguments)
                            .into_iter()
                            .any(|arg| holds_store_of_self(arg, names))
                    }))
        }
        _ => false,
    }
}

/// Whether `ty`'s storage is the deriving type's: the type itself, or a
/// wrapper or tuple that takes its storage from it.
fn takes_storage_of_self(ty: &Type, names: &Names) -> bool {
    match ty {
        Type::Tuple(t) => t.elems.iter().any(|e| takes_storage_of_self(e, names)),
        Type::Paren(p) => takes_storage_of_self(&p.elem, names),
        Type::Group(g) => takes_storage_of_self(&g.elem, names),
        Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return false;
            };
            let name = last.ident.unraw().to_string();
            // `Self`, `Node` or `self::Node`. A longer path may name another
            // type of the same name (`other::Node`): taking it for this one
            // would lay out the twins wrongly and fail a store that compiles.
            let segments: Vec<String> = path
                .path
                .segments
                .iter()
                .map(|s| s.ident.unraw().to_string())
                .collect();
            let this = match segments.as_slice() {
                [one] => one == "Self" || *one == names.ident,
                [first, one] => first == "self" && *one == names.ident,
                _ => false,
            };
            if this {
                return true;
            }
            TAKES_STORAGE.contains(&name.as_str())
                && type_args(&last.arguments)
                    .into_iter()
                    .any(|arg| takes_storage_of_self(arg, names))
        }
        _ => false,
    }
}

/// `ty` with every store of the deriving type replaced by the map of
/// `kind` by name: the field's type in the twin laid out for that storage.
/// A `ConcurrentStore`'s layout does not depend on its storage: its value
/// type becomes `()`.
pub(crate) fn twin_type(ty: &Type, names: &Names, kind: StorageKind, krate: &TokenStream) -> Type {
    struct Twin<'n> {
        names: &'n Names,
        map: TokenStream,
        krate: &'n TokenStream,
    }

    impl VisitMut for Twin<'_> {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::Path(path) = ty {
                if is_store_of_self(path, self.names) {
                    let last = path
                        .path
                        .segments
                        .last()
                        .expect("a store's path has a segment");
                    let name = last.ident.unraw().to_string();
                    let args: Vec<&Type> = type_args(&last.arguments);
                    let (map, krate) = (&self.map, self.krate);
                    let twin = if name == "ConcurrentStore" {
                        let key = args[0];
                        let hasher = args.get(2).map(|s| quote!(, #s));
                        quote!(#krate::ConcurrentStore<#key, () #hasher>)
                    } else if STORES.contains(&name.as_str()) {
                        quote!(#krate::#map<#(#args),*>)
                    } else {
                        // The alias: `NodeStore<K, S>` is `MapStore<K, Node, S>`,
                        // `ViewStore<'a, K>` is `MapStore<K, View<'a>>`: the
                        // type's own parameters come first.
                        let ident = syn::Ident::new(&self.names.ident, Span::call_site());
                        let all = all_args(&last.arguments);
                        let (own, rest) = all.split_at(self.names.params.min(all.len()));
                        let value = if own.is_empty() {
                            quote!(#ident)
                        } else {
                            quote!(#ident<#(#own),*>)
                        };
                        // Without its key (`NodeStore`: rustc reports the
                        // missing generics at the field), a twin keyed by
                        // `()`: a map's layout does not depend on its key,
                        // and the layout stays free of a cycle through the
                        // type's own storage (no second error).
                        let key = rest.first().map_or_else(|| quote!(()), |k| quote!(#k));
                        let hasher = rest.get(1).map(|s| quote!(, #s));
                        quote!(#krate::#map<#key, #value #hasher>)
                    };
                    *ty = syn::parse2(twin).expect("a map type parses");
                    return;
                }
            }
            visit_mut::visit_type_mut(self, ty);
        }
    }

    let mut ty = ty.clone();
    Twin {
        names,
        map: {
            let map = syn::Ident::new(
                match kind {
                    StorageKind::Inline => "InlineMap",
                    StorageKind::Pooled => "PooledMap",
                    StorageKind::Boxed => "BoxedMap",
                },
                Span::call_site(),
            );
            quote!(#map)
        },
        krate,
    }
    .visit_type_mut(&mut ty);
    ty
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            ident: "Node".to_string(),
            alias: Some("NodeStore".to_string()),
            params: 0,
        }
    }

    fn holds(ty: &str) -> bool {
        holds_store_of_self(&syn::parse_str(ty).expect("a type"), &names())
    }

    #[test]
    fn stores_of_itself_are_found() {
        for ty in [
            "MapStore<String, Node>",
            "mapstore::MapStore<String, Self>",
            "ConcurrentStore<u64, Node>",
            "MapStore<u8, (u32, Node)>",
            "MapStore<u8, RefCell<Node>>",
            "MapStore<u8, self::Node>",
            "NodeStore<String>",
            "Option<NodeStore<u8>>",
            "[MapStore<u8, Node>; 2]",
            "(u8, Option<MapStore<u8, Option<Node>>>)",
            "Option<Box<MapStore<String, Node>>>",
            "Vec<MapStore<u8, Option<Node>>>",
            "&'static NodeStore<u8>",
            "Rc<RefCell<MapStore<u8, Node>>>",
        ] {
            assert!(holds(ty), "{ty}");
        }
    }

    #[test]
    fn other_uses_of_itself_are_not() {
        for ty in [
            "Vec<Node>",
            "Option<Box<Node>>",
            "MapStore<String, Vec<Node>>",
            "MapStore<String, Box<Node>>",
            "MapStore<Node, u32>",
            "InlineMap<String, Node>",
            "PooledMap<String, Node>",
            "FrozenStore<String, Node>",
            "HashMap<String, Node>",
            "MapStore<String, Other>",
            "MapStore<String, Rc<RefCell<Node>>>",
            "MapStore<u8, other::Node>",
        ] {
            assert!(!holds(ty), "{ty}");
        }
    }

    #[test]
    fn twins_name_the_map_of_a_storage() {
        let twin = |ty: &str, kind| {
            let ty = twin_type(
                &syn::parse_str(ty).expect("a type"),
                &names(),
                kind,
                &quote!(::mapstore),
            );
            quote!(#ty).to_string().replace(' ', "")
        };
        assert_eq!(
            twin("Option<Box<MapStore<String, Node>>>", StorageKind::Pooled),
            "Option<Box<::mapstore::PooledMap<String,Node>>>"
        );
        assert_eq!(
            twin("NodeStore<u8, Fixed>", StorageKind::Inline),
            "::mapstore::InlineMap<u8,Node,Fixed>"
        );
        // The alias of a type with a lifetime takes it first.
        let view = Names {
            ident: "View".to_string(),
            alias: Some("ViewStore".to_string()),
            params: 1,
        };
        let ty = twin_type(
            &syn::parse_str("Option<ViewStore<'a, String>>").expect("a type"),
            &view,
            StorageKind::Pooled,
            &quote!(::mapstore),
        );
        assert_eq!(
            quote!(#ty).to_string().replace(' ', ""),
            "Option<::mapstore::PooledMap<String,View<'a>>>"
        );
        // Without its key (rustc reports the missing generics at the
        // field) the twin is keyed by `()`, and nothing panics.
        assert_eq!(
            twin("Box<NodeStore>", StorageKind::Boxed),
            "Box<::mapstore::BoxedMap<(),Node>>"
        );
        let ty = twin_type(
            &syn::parse_str("ViewStore<'a>").expect("a type"),
            &view,
            StorageKind::Inline,
            &quote!(::mapstore),
        );
        assert_eq!(
            quote!(#ty).to_string().replace(' ', ""),
            "::mapstore::InlineMap<(),View<'a>>"
        );
        assert_eq!(
            twin("(ConcurrentStore<u8, Self>, Vec<Node>)", StorageKind::Boxed),
            "(::mapstore::ConcurrentStore<u8,()>,Vec<Node>)"
        );
        assert_eq!(
            twin("MapStore<u8, MapStore<u8, Node>>", StorageKind::Inline),
            "MapStore<u8,::mapstore::InlineMap<u8,Node>>"
        );
    }
}
