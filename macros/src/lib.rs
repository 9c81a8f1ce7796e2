//! The `#[derive(MapStore)]` macro of the [`mapstore`] crate.
//!
//! Depend on `mapstore`, which re-exports this derive as
//! `mapstore::MapStore` (behind its default `derive` feature), not on this
//! crate.
//!
//! [`mapstore`]: https://docs.rs/mapstore

mod ast;
mod attr;
mod ctxt;
mod expand;
mod heap;
mod recursive;
mod valid;

/// Derives `MapValue` and a typed store alias for a struct or an enum.
///
/// ```
/// use mapstore::{MapStore, MapValue, StorageKind};
///
/// #[derive(MapStore)]
/// struct User {
///     id: u64,
///     name: String,
/// }
///
/// let mut users: UserStore<u64> = MapStore::new();
/// users.insert(1, User { id: 1, name: "ada".into() });
/// assert_eq!(users.storage(), StorageKind::Inline);
/// assert_eq!(<User as MapValue>::PLAN.heap_fields, &["name"]);
/// println!("{}", <User as MapValue>::PLAN);
/// // User: inline (32 bytes, align 8, heap fields: name), optimized for
/// // balanced: small: stored in the table, no allocation per insert, one
/// // probe per lookup (at most the 48-byte inline limit)
/// # assert!(<User as MapValue>::PLAN.to_string().starts_with(
/// #     "User: inline (32 bytes, align 8, heap fields: name), optimized for balanced: small"));
/// ```
///
/// # What it generates
///
/// For `struct User { .. }`:
///
/// - `impl MapValue for User`, whose `Storage` is chosen at compile time by
///   `mapstore::choose` from `size_of::<User>()`, `align_of::<User>()`,
///   `needs_drop::<User>()` and the fields whose types own or point to heap
///   memory, and whose `PLAN` records the decision and those facts. The
///   layout comes from the compiler; the macro only reads field types to list
///   heap fields (references, raw pointers, `Box`, `Vec`, `String`, `Rc`,
///   `Arc`, the std collections, `Cow`..., also inside `Option`, arrays,
///   tuples and generic arguments; not in `PhantomData`). Lifetimes do not
///   change a layout, so `struct View<'a>` is treated as `View<'static>`.
/// - `type UserStore<K, S = DefaultHashBuilder> = MapStore<K, User, S>;`
///   with the type's visibility (written out as the map that `MapStore`
///   names, `Map<K, User, <User as MapValue>::Storage, S>`: the same type,
///   whose methods rustdoc then lists on the alias's page). For a generic type the alias takes the
///   type's own parameters first: `WrapperStore<T, K, S = ..>` (`K` and `S`
///   are renamed `K1`, `S1` if the type uses those names).
///
///   If the module already has an item named `UserStore`, rustc reports
///   `error[E0428]: the name 'UserStore' is defined multiple times`, its
///   "previous definition" at `#[derive(MapStore)]`: rename the alias with
///   `#[map_store(store = "UserMap")]` or omit it with
///   `#[map_store(no_store)]`.
///
/// Structs (named, tuple, unit) and enums are supported; unions are not.
///
/// # Attributes
///
/// All go in `#[map_store(...)]` on the type, in one attribute or several:
///
/// | key | effect |
/// |---|---|
/// | `storage = "inline"`, `"pooled"` or `"boxed"` | force a storage instead of the policy's choice; required on generic types (type or const parameters), whose size the derive cannot know |
/// | `store = "Name"` | name the alias `Name` instead of `<Type>Store` |
/// | `no_store` | do not generate the alias |
/// | `optimize = "balanced"`, `"reads"`, `"writes"` or `"memory"` | the goal the policy chooses for (default `"balanced"`: grow, then about three lookups per entry; `"reads"`: built once, looked up many times; `"writes"`: growth, remove-and-reinsert churn, clear; `"memory"`: fewest bytes per entry); each goal has its own thresholds |
/// | `explain` | report the plan as a compile-time note (a warning) |
/// | `crate = "path"` | where `mapstore` is, for crates that re-export it (default `::mapstore`) |
/// | `allow(slow_storage, zero_sized, padding)` | silence these warnings for this type |
///
/// Misuse is a compile error at the offending tokens: an unknown key (with a
/// did-you-mean), a storage other than the three, a goal other than the
/// four (with a did-you-mean), a duplicate key, `store`
/// with `no_store`, a non-string value where a string is expected, a `crate`
/// that is not a path, a `store` that is not an identifier, a union, a
/// generic type without `storage`. All errors of one derive are reported
/// together.
///
/// # Warnings
///
/// Stable Rust has no warning API for proc macros, so the derive uses a
/// `#[deprecated]` item selected by a compile-time condition: the warning
/// reads `use of deprecated associated constant ...` followed by the
/// message, points at your attribute or type name, and is an error under
/// `#![deny(deprecated)]` or `#![deny(warnings)]`. Each is silenced for one
/// type by the `allow(...)` name in brackets:
///
/// - `storage = "boxed"` on a value the policy stores inline
///   (`slow_storage`): an allocation per insert and a pointer chase per
///   lookup for nothing.
/// - `storage = "pooled"` on a value the policy stores inline
///   (`slow_storage`): a pointer chase per lookup into the pool for nothing.
/// - `storage = "inline"` on a value the policy would pool or box
///   (`slow_storage`): every resize moves every value and empty buckets
///   reserve up to ~2.3x its size per entry; or on a value aligned to the
///   box alignment limit or more: every bucket is padded to it.
/// - a zero-sized value (`zero_sized`): use a set.
/// - a `repr(C)` struct larger than the same fields ordered by decreasing
///   alignment (`padding`): those bytes are wasted in every entry and
///   bucket. Not checked for `repr(packed)` or generic structs.
/// - `explain`: the storage chosen, always; remove `explain` to silence it.
///
/// Each warning names the value's size in the path rustc prints
/// (`mapstore::__private::balanced::Bytes::<24>::BOXED_SMALL_VALUE` for 24
/// bytes; sizes over 256 bytes as a range,
/// `BytesBetween::<257, 512>`), and its note names the threshold it crossed
/// for the type's `optimize` goal, then how to fix or silence it. Print
/// `<T as MapValue>::PLAN` (it implements `Display`) for the alignment,
/// heap fields and reason. On generic types only `explain` is reported
/// (their layout is not known where the warnings are computed).
///
/// ```
/// #[derive(mapstore::MapStore)]
/// #[map_store(storage = "boxed", allow(slow_storage), store = "Sessions")]
/// pub struct Session {
///     token: [u8; 32],
/// }
///
/// #[derive(mapstore::MapStore)]
/// #[map_store(optimize = "reads")]
/// pub struct Catalog {
///     sku: [u8; 16],
///     price_cents: u64,
/// }
///
/// #[derive(mapstore::MapStore)]
/// #[map_store(storage = "pooled")]
/// pub struct Slot<T> {
///     value: T,
///     generation: u32,
/// }
/// let _: SlotStore<u64, &str> = mapstore::MapStore::new();
/// ```
#[proc_macro_derive(MapStore, attributes(map_store))]
pub fn derive_map_store(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand(input.into()).into()
}

/// The derive over `proc_macro2` tokens, testable and fuzzable outside
/// the compiler (`fuzz/fuzz_targets/derive.rs` compiles these modules in).
use expand::expand;

#[cfg(test)]
mod tests;
