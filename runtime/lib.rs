//! Hash maps that pick their value storage from the value's layout.
//!
//! A hash map's value storage is a layout decision most code makes by
//! accident. `mapstore` makes it per value type, at compile time:
//!
//! | storage | table holds | best for | cost |
//! |---|---|---|---|
//! | [`Inline`](storage::Inline) | `(K, V)` | small values | resizes move values; empty buckets reserve `size_of::<V>()` |
//! | [`Boxed`](storage::Boxed) | `(K, Box<V>)` | huge values | an allocation per insert, a pointer chase per lookup |
//! | [`Pooled`](storage::Pooled) | `(K, slot pointer)` | large values | one pointer chase per lookup, like a box; values never move; no allocation per insert; `unordered_values()` walks the pool's chunks in memory order |
//!
//! `#[derive(MapStore)]` reads the type's size and alignment from the
//! compiler, calls [`choose`], and implements [`MapValue`] so that
//! [`MapStore<K, V>`](type@MapStore) uses the right one.
//!
//! # Which map
//!
//! | you have | use |
//! |---|---|
//! | a `HashMap<K, V>` or `HashMap<K, Box<V>>` | [`MapStore<K, V>`](type@MapStore): the same API, the storage picked for `V` ([`MapValue`], derived or implemented by the crate) |
//! | a value type of another crate, no `MapValue` | [`InlineMap`], [`BoxedMap`] or [`PooledMap`]: the three storages by name, for any `V` |
//! | a map shared between threads (`DashMap`, `RwLock<HashMap>`) | `ConcurrentStore` (feature `std`): `&self` methods, a lock per group of 16 buckets, values stored as `V::Storage` says |
//! | a map built once, then only read | [`FrozenStore`]: built from an iterator, its layout (perfect hash, key analysis) picked from `K`, `V` and the exact keys |
//!
//! # Features
//!
//! - `derive` (default): `#[derive(MapStore)]`.
//! - `std` (default): `ConcurrentStore`, `MapValue` for std's own types
//!   (paths, locks, files, sockets, std's `HashMap`, ...) and
//!   [`hash_map`]'s `RandomState` and `DefaultHasher`. Without it the crate
//!   is `no_std` + `alloc`.
//! - `serde`: `Serialize` and `Deserialize` for every map and store,
//!   shaped like std's `HashMap`'s.
//!
//! The default hasher is hashbrown's ([`DefaultHashBuilder`], foldhash):
//! fast, seeded per process, but not std's `RandomState`, whose SipHash is
//! meant to resist HashDoS. For keys an attacker chooses, name it:
//! `MapStore<K, V, RandomState>`, built with
//! `MapStore::with_hasher(RandomState::new())` (`RandomState` is in
//! [`hash_map`], with `std`).
//!
//! ```
//! # #[cfg(feature = "derive")] {
//! use mapstore::MapStore;
//!
//! #[derive(MapStore)]
//! struct Reading {
//!     sensor: u32,
//!     celsius: f32,
//! }
//!
//! #[derive(MapStore)]
//! struct Frame {
//!     pixels: [u8; 1024],
//! }
//!
//! let mut readings: ReadingStore<&str> = MapStore::new();
//! readings.insert("kitchen", Reading { sensor: 7, celsius: 21.5 });
//! assert_eq!(readings["kitchen"].sensor, 7);
//! assert_eq!(readings.storage(), mapstore::StorageKind::Inline);
//!
//! let mut frames: MapStore<u64, Frame> = MapStore::new();
//! frames.insert(1, Frame { pixels: [0; 1024] });
//! assert_eq!(frames.storage(), mapstore::StorageKind::Pooled);
//! println!("{}", <Frame as mapstore::MapValue>::PLAN);
//! # }
//! ```
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]
#![deny(unsafe_op_in_unsafe_fn)]

// The model checkers' build (see .ci/concurrent.sh) needs their crates.
#[cfg(all(mapstore_loom, not(feature = "__model_check")))]
compile_error!("`--cfg mapstore_loom` needs `--features __model_check`, which brings in loom (or shuttle, with `--cfg mapstore_shuttle`)");

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
pub mod concurrent;
#[cfg(feature = "std")]
mod concurrent_table;
mod derive_support;
pub mod frozen;
pub mod hash_map;
mod impls;
pub mod map;
mod plan;
mod pool;
#[cfg(feature = "serde")]
mod serde_impls;
pub mod storage;

// Re-exported as links to hashbrown's own pages, whose text (and links)
// are written for hashbrown's crate.
#[doc(no_inline)]
pub use hashbrown::{DefaultHashBuilder, Equivalent, TryReserveError};

#[cfg(feature = "std")]
#[doc(inline)]
pub use concurrent::ConcurrentStore;
#[doc(inline)]
pub use frozen::{FrozenIndex, FrozenPlan, FrozenStore};
#[doc(inline)]
pub use map::{BoxedMap, InlineMap, PooledMap};
pub use plan::{
    choose, Optimize, Plan, SlowChoice, Thresholds, ValueLayout, BALANCED, BOXED_MIN_ALIGN,
    BOXED_MIN_SIZE, INLINE_MAX_SIZE, MEMORY, READS, WRITES,
};
#[doc(inline)]
pub use storage::StorageKind;

#[cfg(feature = "derive")]
pub use mapstore_macros::MapStore;

/// A value type that knows its storage.
///
/// Implemented by `#[derive(MapStore)]`, by the crate for common std types,
/// or by hand:
///
/// ```
/// use mapstore::{storage::Pooled, MapValue, Plan, StorageKind};
///
/// struct Page([u8; 4096]);
///
/// impl MapValue for Page {
///     type Storage = Pooled;
///     // Size, alignment and `needs_drop` from the compiler, the storage
///     // from `Storage`: stated once.
///     const PLAN: Plan = Plan::of::<Self>("Page", &[]);
/// }
///
/// let mut pages = mapstore::MapStore::<u32, Page>::new();
/// pages.insert(0, Page([0; 4096]));
/// assert_eq!(pages.storage(), StorageKind::Pooled);
/// assert_eq!(Page::PLAN.storage, StorageKind::Pooled);
/// ```
///
/// The crate implements it for the std types people put in maps
/// (integers, `String`, `Vec<T>`, `Box<T>`, `Cow<str>`, std's maps, channel
/// and thread handles, files and sockets, ...); for the wrappers of one
/// value, which take its storage: `Option`, the cells (`Cell`, `RefCell`,
/// `OnceCell`, `UnsafeCell`, `LazyCell`), the locks (`Mutex`, `RwLock`,
/// `OnceLock`, `LazyLock`), `ManuallyDrop`, `Wrapping`, `Saturating`,
/// `Reverse`, `Pin`, the ranges (`Range`, `RangeInclusive`, `RangeFrom`,
/// `RangeTo`, `RangeToInclusive`), `Bound`, `Poll`, `Cursor` and the
/// buffered readers and writers; for `Result`s, `ControlFlow`s and tuples
/// of up to 8 values, which take their components' storage; for the
/// crate's own maps, `FrozenStore` and `ConcurrentStore`, so that maps
/// nest; and for arrays
/// `[T; N]` of a primitive number, `bool` or `char` with `N` from 0 to 32
/// or a power of two from 64 to 4096, which the policy chooses for as for a
/// derived type:
///
/// ```
/// use mapstore::{storage::Storage, MapStore, MapValue, StorageKind};
///
/// let mut users: MapStore<String, (u32, String)> = MapStore::new();
/// users.insert("ada".into(), (36, "Ada".into()));
/// assert_eq!(users.storage(), StorageKind::Inline);
///
/// let mut ids: MapStore<u64, [u8; 16]> = MapStore::new();
/// ids.insert(1, [0; 16]);
/// assert_eq!(<[u8; 4096] as MapValue>::PLAN.storage, StorageKind::Pooled);
///
/// // Maps nest, and a wrapper takes the storage of what it wraps.
/// let mut by_team: MapStore<String, MapStore<String, u32>> = MapStore::new();
/// by_team.entry("core".into()).or_default().insert("ada".into(), 36);
/// assert_eq!(by_team["core"]["ada"], 36);
/// let mut pages: MapStore<u32, Option<[u8; 4096]>> = MapStore::new();
/// pages.insert(1, None);
/// assert_eq!(pages.storage(), StorageKind::Pooled);
/// ```
///
/// For any other array or tuple, derive on a struct around it
/// (`#[derive(MapStore)] struct Digest([u8; 48]);`), or use one of the maps
/// by name.
///
/// `PLAN.storage` must name the same storage as `Storage`. [`Plan::of`]
/// makes that so, and the derive's plans agree by construction; a plan
/// built with [`Plan::new`] is trusted as written.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `MapValue`, so mapstore cannot pick its storage",
    label = "`{Self}` has no storage plan",
    note = "add `#[derive(MapStore)]` to the type; for a type of another crate, derive on a newtype around it, or, in place of `MapStore`, use `InlineMap`, `BoxedMap` or `PooledMap`, which take any value (`ConcurrentStore` needs `MapValue`: the newtype); in generic code, bound the parameter: `V: MapValue`",
    note = "tuples of up to 8 values and arrays of a primitive number, `bool` or `char` of length 0 to 32 or a power of two up to 4096 are values; for any other tuple or array, and for a function pointer, derive on a struct around it: `#[derive(MapStore)] struct Digest([u8; 48]);`",
    note = "the impls for std's own types (`PathBuf`, `Mutex`, `File`, std's `HashMap`, ...) come with mapstore's `std` feature, on by default"
)]
pub trait MapValue: Sized {
    /// The storage `MapStore<K, Self>` uses.
    type Storage: storage::Storage;
    /// The decision and the layout facts behind it.
    const PLAN: Plan;
}

/// A hash map whose value storage is the one `V` chose: `V::Storage`.
///
/// `MapStore<K, V>` *is* the map that `V`'s storage names: the same type as
/// [`InlineMap<K, V>`](InlineMap), [`BoxedMap<K, V>`](BoxedMap) or
/// [`PooledMap<K, V>`](PooledMap), with no wrapper in between. Every method
/// and trait of [`Map`](map::Map) is its own, with the same semantics as
/// std's `HashMap`: `MapStore::insert(&mut users, k, v)` works like
/// `users.insert(k, v)`, and a `MapStore` passes wherever that map is
/// expected, at no cost.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// use mapstore::MapStore;
///
/// #[derive(MapStore, Debug, PartialEq)]
/// struct User {
///     name: String,
///     age: u32,
/// }
///
/// let mut users: MapStore<String, User> = MapStore::new();
/// MapStore::insert(&mut users, "ada".into(), User { name: "Ada".into(), age: 36 });
/// assert_eq!(users["ada"].age, 36);
/// assert_eq!(users.storage(), mapstore::StorageKind::Inline);
///
/// // The derive also wrote `UserStore<K>`, the same type by a shorter name.
/// let same: &UserStore<String> = &users;
/// assert_eq!(same.len(), 1);
///
/// // `MapStore<String, u64>` works too: the crate implements `MapValue`
/// // for common std types.
/// let mut counts: MapStore<String, u64> = MapStore::new();
/// *counts.entry("visits".into()).or_default() += 1;
/// let inline: mapstore::InlineMap<String, u64> = counts;
/// assert_eq!(inline["visits"], 1);
/// # }
/// ```
///
/// In generic code it takes `V: MapValue`, and every method is there:
///
/// ```
/// use std::hash::Hash;
/// use mapstore::{MapStore, MapValue};
///
/// fn upsert<K: Eq + Hash, V: MapValue>(map: &mut MapStore<K, V>, key: K, value: V) -> &mut V {
///     map.entry(key).insert_entry(value).into_mut()
/// }
///
/// let mut names: MapStore<u32, String> = MapStore::new();
/// upsert(&mut names, 1, "one".to_string()).push('!');
/// assert_eq!(names[&1], "one!");
/// ```
///
/// Its auto traits follow `K`, `V` and `S` alone, as std's do: in code
/// generic over `V: MapValue + Send`, `MapStore<K, V>` is `Send` with no
/// further bound (and `Sync` likewise).
///
/// ```
/// use mapstore::{MapStore, MapValue};
///
/// fn len_on_a_thread<V: MapValue + Send + 'static>(map: MapStore<u64, V>) -> usize {
///     std::thread::spawn(move || map.len()).join().unwrap()
/// }
///
/// let map: MapStore<u64, String> = [(1, "one".to_string())].into();
/// assert_eq!(len_on_a_thread(map), 1);
/// ```
///
/// # Known limits
///
/// - `MapStore` is invariant in `K` and `V`, where `HashMap` is covariant:
///   the table names its contents through the storage. So are its
///   iterators (`Iter`, `Keys`, `Values`, `IterMut`, `ValuesMut`, `Drain`,
///   `IntoIter`, `IntoKeys`, `IntoValues` and the unordered walks), and the
///   borrowing ones are invariant in their lifetime `'a` too, where std's
///   are covariant (in all three but `V` for `IterMut` and `ValuesMut`): a
///   `Keys<'long, K, V>` does not coerce to a `Keys<'short, K, V>`; call
///   `keys()` again where the shorter one is needed. The entries and
///   `ExtractIf` are covariant in `'a`, as std's.
/// - A map's drop may use what its keys and values borrow, for every
///   storage (hashbrown's maps on stable Rust do the same; std's opts out
///   with an unstable attribute): declare what they borrow before the map.
/// - Being an alias, `MapStore<K, V>` and the map it names are one type: one
///   trait implemented for both `MapStore<K, V>` (generic over `V`) and, say,
///   `InlineMap<K, V>` is a conflicting impl. Implement it for
///   [`Map<K, V, St, S>`](map::Map) once instead.
/// - The methods below are `Map`'s, listed whatever the storage: those
///   under `impl<K, V, S> Map<K, V, Boxed, S>` (`insert_boxed`,
///   `remove_boxed`) apply where `V::Storage` is `Boxed`.
pub type MapStore<K, V, S = DefaultHashBuilder> = map::Map<K, V, <V as MapValue>::Storage, S>;

/// Implementation details of the derive. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::derive_support::*;
    pub use crate::map::Map;
    pub use crate::plan::Optimize;
    pub use crate::storage::{Boxed, Inline, Pooled, Storage, StorageKind};
    #[cfg(feature = "std")]
    pub use crate::ConcurrentStore;
    pub use crate::{choose, DefaultHashBuilder, MapStore, MapValue, Plan};
    pub use crate::{BoxedMap, InlineMap, PooledMap};
    pub use core;

    /// Maps a `StorageKind as u8` to its storage type, in const position.
    pub struct Select<const KIND: u8>;

    /// The storage type a [`Select`] names.
    pub trait Pick {
        /// The selected storage.
        type S: Storage;
    }

    impl Pick for Select<{ StorageKind::Inline as u8 }> {
        type S = Inline;
    }
    impl Pick for Select<{ StorageKind::Boxed as u8 }> {
        type S = Boxed;
    }
    impl Pick for Select<{ StorageKind::Pooled as u8 }> {
        type S = Pooled;
    }

    /// The storage the policy picked for a derived type: its `MapValue`
    /// impl names `<T as Chosen>::Storage`, and this impl holds the
    /// [`Select`] behind it (rustdoc shows the former on the type's page).
    pub trait Chosen {
        /// The storage the policy picked.
        type Storage: Storage;
    }

    /// The storage kind of a plan, as the `u8` a [`Select`] takes.
    pub const fn kind_of(plan: &Plan) -> u8 {
        plan.storage as u8
    }
}

/// The README's examples, compiled and run as doctests (one of them is a
/// `ConcurrentStore`, which needs `std`).
#[cfg(all(doctest, feature = "derive", feature = "std"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The examples of `docs/frozen.md`, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/frozen.md")]
struct FrozenDocDoctests;

/// The examples of `docs/derive.md`, compiled and run as doctests.
#[cfg(all(doctest, feature = "derive"))]
#[doc = include_str!("../docs/derive.md")]
struct DeriveDocDoctests;

/// The examples of `docs/concurrent.md`, compiled and run as doctests.
#[cfg(all(doctest, feature = "derive", feature = "std"))]
#[doc = include_str!("../docs/concurrent.md")]
struct ConcurrentDocDoctests;
