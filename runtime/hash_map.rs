//! [`MapStore`](type@crate::MapStore)'s iterator and entry types by the names
//! std's `std::collections::hash_map` module gives them, with the storage
//! resolved from the value type: code that names
//! `hash_map::Iter<'a, K, V>` or `hash_map::Entry<'a, K, V>` changes the
//! module's path and keeps the names and parameters. (The types of [`map`]
//! take the storage as a parameter, `Iter<'a, K, V, St>`, for code generic
//! over it.)
//!
//! Every stable name of std's module is here but the map itself: std's
//! `hash_map::HashMap` is [`MapStore`](type@crate::MapStore), whose value
//! type must be a [`MapValue`] and whose default hasher is hashbrown's
//! (`RandomState` and `DefaultHasher` are here, with the `std` feature).
//!
//! ```
//! use mapstore::{hash_map, MapStore};
//!
//! struct Index {
//!     words: MapStore<String, Vec<usize>>,
//! }
//!
//! impl Index {
//!     fn iter(&self) -> hash_map::Iter<'_, String, Vec<usize>> {
//!         self.words.iter()
//!     }
//!
//!     fn add(&mut self, word: &str, at: usize) {
//!         match self.words.entry(word.to_string()) {
//!             hash_map::Entry::Occupied(mut seen) => seen.get_mut().push(at),
//!             hash_map::Entry::Vacant(new) => {
//!                 new.insert(vec![at]);
//!             }
//!         }
//!     }
//! }
//!
//! impl<'a> IntoIterator for &'a Index {
//!     type Item = (&'a String, &'a Vec<usize>);
//!     type IntoIter = hash_map::Iter<'a, String, Vec<usize>>;
//!     fn into_iter(self) -> Self::IntoIter {
//!         self.words.iter()
//!     }
//! }
//!
//! let mut index = Index { words: MapStore::new() };
//! index.add("to", 0);
//! index.add("be", 1);
//! index.add("to", 2);
//! assert_eq!(index.words["to"], [0, 2]);
//! assert_eq!((&index).into_iter().count(), 2);
//! assert_eq!(index.iter().map(|(_, at)| at.len()).sum::<usize>(), 3);
//! ```
//!
//! These names are type aliases, and Rust imports no enum variant through
//! an alias: where std's code writes
//! `use std::collections::hash_map::Entry::{Occupied, Vacant};`, import
//! them from the enum itself, [`map::Entry`]:
//!
//! ```
//! use mapstore::map::Entry::{Occupied, Vacant};
//! use mapstore::MapStore;
//!
//! let mut seen: MapStore<&str, u32> = MapStore::new();
//! for word in ["a", "b", "a"] {
//!     match seen.entry(word) {
//!         Occupied(mut count) => *count.get_mut() += 1,
//!         Vacant(new) => {
//!             new.insert(1);
//!         }
//!     }
//! }
//! assert_eq!(seen["a"], 2);
//! ```

use crate::map;
use crate::MapValue;

/// std's hasher types, as its `hash_map` module re-exports them. The maps'
/// default hasher is hashbrown's ([`DefaultHashBuilder`](crate::DefaultHashBuilder)),
/// not `RandomState`: a map built with `RandomState` names it,
/// `MapStore<K, V, RandomState>`.
///
/// ```
/// use mapstore::hash_map::RandomState;
/// use mapstore::MapStore;
///
/// let map: MapStore<i32, i32, RandomState> = MapStore::with_hasher(RandomState::new());
/// let _: &RandomState = map.hasher();
/// ```
#[cfg(feature = "std")]
pub use std::hash::{DefaultHasher, RandomState};

/// [`MapStore::iter`](crate::map::Map::iter)'s iterator.
pub type Iter<'a, K, V> = map::Iter<'a, K, V, <V as MapValue>::Storage>;
/// [`MapStore::iter_mut`](crate::map::Map::iter_mut)'s iterator.
pub type IterMut<'a, K, V> = map::IterMut<'a, K, V, <V as MapValue>::Storage>;
/// [`MapStore`](type@crate::MapStore)'s owning iterator.
pub type IntoIter<K, V> = map::IntoIter<K, V, <V as MapValue>::Storage>;
/// [`MapStore::drain`](crate::map::Map::drain)'s iterator.
pub type Drain<'a, K, V> = map::Drain<'a, K, V, <V as MapValue>::Storage>;
/// [`MapStore::extract_if`](crate::map::Map::extract_if)'s iterator.
pub type ExtractIf<'a, K, V, F> = map::ExtractIf<'a, K, V, <V as MapValue>::Storage, F>;
/// [`MapStore::keys`](crate::map::Map::keys)'s iterator.
pub type Keys<'a, K, V> = map::Keys<'a, K, V, <V as MapValue>::Storage>;
/// [`MapStore::values`](crate::map::Map::values)'s iterator.
pub type Values<'a, K, V> = map::Values<'a, K, V, <V as MapValue>::Storage>;
/// [`MapStore::values_mut`](crate::map::Map::values_mut)'s iterator.
pub type ValuesMut<'a, K, V> = map::ValuesMut<'a, K, V, <V as MapValue>::Storage>;
/// [`MapStore::into_keys`](crate::map::Map::into_keys)'s iterator.
pub type IntoKeys<K, V> = map::IntoKeys<K, V, <V as MapValue>::Storage>;
/// [`MapStore::into_values`](crate::map::Map::into_values)'s iterator.
pub type IntoValues<K, V> = map::IntoValues<K, V, <V as MapValue>::Storage>;
/// [`MapStore::entry`](crate::map::Map::entry)'s entry.
pub type Entry<'a, K, V> = map::Entry<'a, K, V, <V as MapValue>::Storage>;
/// An occupied [`Entry`].
pub type OccupiedEntry<'a, K, V> = map::OccupiedEntry<'a, K, V, <V as MapValue>::Storage>;
/// A vacant [`Entry`].
pub type VacantEntry<'a, K, V> = map::VacantEntry<'a, K, V, <V as MapValue>::Storage>;
