//! Syntactic detection of field types that own or point to heap memory.
//!
//! The derive cannot ask the compiler whether a type allocates, so it reads
//! the field's type as written: references, raw pointers, the standard
//! owning types (`Box`, `Vec`, `String`, `Rc`, `Arc`, the collections, `Cow`
//! and friends, channel and thread handles) and maps (this crate's,
//! hashbrown's `HashTable`, indexmap's) count, found anywhere inside `Option<..>`, arrays, slices,
//! tuples and any path's generic arguments (except `PhantomData`'s, which
//! holds nothing). A user type that allocates internally but does not say
//! so in its fields' types is not detected; the result is only reported
//! (`Plan::heap_fields`) and fed to `choose`.

use syn::{GenericArgument, PathArguments, Type};

/// Last path segments that own or point to heap memory.
const HEAP_TYPES: &[&str] = &[
    "Box",
    "Vec",
    "String",
    "Rc",
    "Arc",
    "Weak",
    "HashMap",
    "BTreeMap",
    "HashSet",
    "BTreeSet",
    "VecDeque",
    "BinaryHeap",
    "LinkedList",
    "Cow",
    "CString",
    "OsString",
    "PathBuf",
    "NonNull",
    "AtomicPtr",
    // Channel and thread handles: pointers to shared state on the heap.
    "Sender",
    "SyncSender",
    "Receiver",
    "JoinHandle",
    // This crate's maps, and the maps users put beside them, whatever
    // their arguments (a `FrozenStore<u64, u64>` owns its arrays).
    "MapStore",
    "InlineMap",
    "BoxedMap",
    "PooledMap",
    "FrozenStore",
    "ConcurrentStore",
    "HashTable",
    "IndexMap",
    "IndexSet",
];

/// Last path segments that hold nothing, whatever their arguments say.
const MARKER_TYPES: &[&str] = &["PhantomData", "PhantomPinned"];

/// Whether `ty` as written owns or points to heap memory.
pub(crate) fn owns_heap(ty: &Type) -> bool {
    match ty {
        Type::Reference(_) | Type::Ptr(_) => true,
        Type::Array(array) => owns_heap(&array.elem),
        Type::Slice(slice) => owns_heap(&slice.elem),
        Type::Tuple(tuple) => tuple.elems.iter().any(owns_heap),
        Type::Paren(paren) => owns_heap(&paren.elem),
        Type::Group(group) => owns_heap(&group.elem),
        Type::Path(path) => {
            if let Some(qself) = &path.qself {
                if owns_heap(&qself.ty) {
                    return true;
                }
            }
            let segments = &path.path.segments;
            if let Some(last) = segments.last() {
                let name = last.ident.to_string();
                let name = name.strip_prefix("r#").unwrap_or(&name);
                if HEAP_TYPES.contains(&name) {
                    return true;
                }
                if MARKER_TYPES.contains(&name) {
                    return false;
                }
            }
            segments.iter().any(|segment| match &segment.arguments {
                PathArguments::AngleBracketed(args) => args.args.iter().any(|arg| match arg {
                    GenericArgument::Type(ty) => owns_heap(ty),
                    GenericArgument::AssocType(assoc) => owns_heap(&assoc.ty),
                    _ => false,
                }),
                _ => false,
            })
        }
        // Trait objects, `impl Trait`, function pointers, macros, `!`, `_`:
        // nothing to read.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::owns_heap;

    fn heap(ty: &str) -> bool {
        owns_heap(&syn::parse_str(ty).expect("a type"))
    }

    #[test]
    fn plain_values_do_not_own_heap() {
        for ty in [
            "u8",
            "[u64; 4]",
            "(u8, f32)",
            "Option<u32>",
            "core::num::NonZeroU64",
            "MyStruct",
            "fn(&str) -> String",
            "PhantomData<u8>",
            "PhantomData<&'a str>",
            "core::marker::PhantomData<Box<u8>>",
            "()",
            "<T as Trait>::Assoc",
        ] {
            assert!(!heap(ty), "{ty}");
        }
    }

    #[test]
    fn owning_and_pointing_types_do() {
        for ty in [
            "&'static str",
            "&'a mut [u8]",
            "*const u8",
            "*mut Node",
            "Box<u8>",
            "std::boxed::Box<dyn Fn()>",
            "Vec<u8>",
            "String",
            "alloc::string::String",
            "Rc<str>",
            "FrozenStore<u64, u64>",
            "mapstore::InlineMap<u8, u8>",
            "ConcurrentStore<u64, [u8; 4]>",
            "indexmap::IndexMap<u32, u32>",
            "std::sync::mpsc::Sender<u8>",
            "AtomicPtr<u8>",
            "Arc<Mutex<u8>>",
            "HashMap<u8, u8>",
            "BTreeMap<u8, u8>",
            "HashSet<u8>",
            "BTreeSet<u8>",
            "VecDeque<u8>",
            "BinaryHeap<u8>",
            "LinkedList<u8>",
            "Cow<'static, str>",
            "NonNull<u8>",
            "PathBuf",
        ] {
            assert!(heap(ty), "{ty}");
        }
    }

    #[test]
    fn found_through_wrappers() {
        for ty in [
            "Option<Box<u8>>",
            "[String; 3]",
            "(u8, Vec<u8>)",
            "Cell<Option<Rc<u8>>>",
            "Result<u8, String>",
            "my::Wrapper<u8, Vec<u8>>",
            "[[Option<&'static u8>; 2]; 2]",
            "<Vec<u8> as IntoIterator>::Item",
            "(Box<u8>)",
            "dyn_iter::Iter<Item = String>",
        ] {
            assert!(heap(ty), "{ty}");
        }
    }
}
