//! [`MapStore`](struct@crate::MapStore): the map whose storage its value type chose.

use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut, Index};

use hashbrown::{DefaultHashBuilder, Equivalent};

use crate::map::{IntoIter, IntoKeys, IntoValues, Iter, IterMut, Map};
use crate::storage::Storage;
use crate::MapValue;

/// A hash map whose value storage is the one `V` chose: `V::Storage`.
///
/// `MapStore<K, V>` is a zero-cost wrapper over [`Map<K, V, V::Storage>`]
/// (one of [`InlineMap`](crate::InlineMap), [`BoxedMap`](crate::BoxedMap),
/// [`PooledMap`](crate::PooledMap)) and dereferences to it, so every method
/// of the map is available, with the same semantics as std's `HashMap`.
///
/// ```
/// use mapstore::MapStore;
///
/// #[derive(MapStore, Debug, PartialEq)]
/// struct User {
///     name: String,
///     age: u32,
/// }
///
/// let mut users: MapStore<String, User> = MapStore::new();
/// users.insert("ada".into(), User { name: "Ada".into(), age: 36 });
/// assert_eq!(users["ada"].age, 36);
/// assert_eq!(users.storage(), mapstore::StorageKind::Inline);
///
/// // `MapStore<String, u64>` works too: the crate implements `MapValue`
/// // for common std types.
/// let mut counts: MapStore<String, u64> = MapStore::new();
/// *counts.entry("visits".into()).or_default() += 1;
/// ```
///
/// # Known limits
///
/// - In code generic over `V: MapValue`, `MapStore<K, V>: Send` is not
///   inferred through the `V::Storage` projection; for concrete types it is
///   `Send`/`Sync` exactly when std's `HashMap<K, V>` is.
/// - `MapStore` is invariant in `V`, where `HashMap` is covariant.
#[repr(transparent)]
pub struct MapStore<K, V: MapValue, S = DefaultHashBuilder> {
    map: Map<K, V, V::Storage, S>,
}

/// Compile-time check that a `MapValue` impl's plan names its storage.
struct PlanAgrees<V>(PhantomData<V>);

impl<V: MapValue> PlanAgrees<V> {
    const OK: () = assert!(
        V::PLAN.storage as u8 == <V::Storage as Storage>::KIND as u8,
        "`MapValue::PLAN.storage` disagrees with `MapValue::Storage`"
    );
}

impl<K, V: MapValue> MapStore<K, V, DefaultHashBuilder> {
    /// Creates an empty map. It does not allocate until the first insert.
    ///
    /// ```
    /// let map: mapstore::MapStore<String, u64> = mapstore::MapStore::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::from_map(Map::new())
    }

    /// Creates an empty map with room for at least `capacity` entries.
    ///
    /// ```
    /// let map: mapstore::MapStore<u32, u32> = mapstore::MapStore::with_capacity(8);
    /// assert!(map.capacity() >= 8);
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        Self::from_map(Map::with_capacity(capacity))
    }
}

impl<K, V: MapValue, S> MapStore<K, V, S> {
    /// Creates an empty map that hashes keys with `hash_builder`.
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let mut map: mapstore::MapStore<&str, u8, _> = mapstore::MapStore::with_hasher(RandomState::new());
    /// map.insert("a", 1);
    /// assert_eq!(map["a"], 1);
    /// ```
    pub fn with_hasher(hash_builder: S) -> Self {
        Self::from_map(Map::with_hasher(hash_builder))
    }

    /// Creates an empty map with room for `capacity` entries that hashes
    /// keys with `hash_builder`.
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let map: mapstore::MapStore<u8, u8, _> =
    ///     mapstore::MapStore::with_capacity_and_hasher(8, RandomState::new());
    /// assert!(map.capacity() >= 8);
    /// ```
    pub fn with_capacity_and_hasher(capacity: usize, hash_builder: S) -> Self {
        Self::from_map(Map::with_capacity_and_hasher(capacity, hash_builder))
    }

    /// Wraps a map of the storage `V` chose.
    ///
    /// ```
    /// let inline: mapstore::InlineMap<u8, u64> = [(1, 2)].into();
    /// let store = mapstore::MapStore::from_map(inline);
    /// assert_eq!(store[&1], 2);
    /// ```
    pub fn from_map(map: Map<K, V, V::Storage, S>) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = PlanAgrees::<V>::OK;
        MapStore { map }
    }

    /// Unwraps the map.
    ///
    /// ```
    /// let store: mapstore::MapStore<u8, u64> = [(1, 2)].into();
    /// let inline: mapstore::InlineMap<u8, u64> = store.into_map();
    /// assert_eq!(inline[&1], 2);
    /// ```
    pub fn into_map(self) -> Map<K, V, V::Storage, S> {
        self.map
    }

    /// Consumes the map, yielding its keys.
    ///
    /// ```
    /// let store: mapstore::MapStore<u8, u64> = [(1, 2)].into();
    /// assert_eq!(store.into_keys().collect::<Vec<_>>(), [1]);
    /// ```
    pub fn into_keys(self) -> IntoKeys<K, V, V::Storage> {
        self.map.into_keys()
    }

    /// Consumes the map, yielding its values.
    ///
    /// ```
    /// let store: mapstore::MapStore<u8, u64> = [(1, 2)].into();
    /// assert_eq!(store.into_values().collect::<Vec<_>>(), [2]);
    /// ```
    pub fn into_values(self) -> IntoValues<K, V, V::Storage> {
        self.map.into_values()
    }
}

impl<K, V: MapValue, S> Deref for MapStore<K, V, S> {
    type Target = Map<K, V, V::Storage, S>;

    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl<K, V: MapValue, S> DerefMut for MapStore<K, V, S> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.map
    }
}

impl<K, V: MapValue, S> From<Map<K, V, V::Storage, S>> for MapStore<K, V, S> {
    fn from(map: Map<K, V, V::Storage, S>) -> Self {
        Self::from_map(map)
    }
}

impl<K, V: MapValue, S: Default> Default for MapStore<K, V, S> {
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K: Clone, V: MapValue + Clone, S: Clone> Clone for MapStore<K, V, S> {
    fn clone(&self) -> Self {
        MapStore {
            map: self.map.clone(),
        }
    }
}

impl<K: fmt::Debug, V: MapValue + fmt::Debug, S> fmt::Debug for MapStore<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.map.fmt(f)
    }
}

impl<K, V, S> PartialEq for MapStore<K, V, S>
where
    K: Eq + Hash,
    V: MapValue + PartialEq,
    S: BuildHasher,
{
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}

impl<K, V, S> Eq for MapStore<K, V, S>
where
    K: Eq + Hash,
    V: MapValue + Eq,
    S: BuildHasher,
{
}

impl<K, Q, V, S> Index<&Q> for MapStore<K, V, S>
where
    K: Eq + Hash,
    Q: Hash + Equivalent<K> + ?Sized,
    V: MapValue,
    S: BuildHasher,
{
    type Output = V;

    /// # Panics
    ///
    /// If the key is not in the map, as std's `HashMap` does.
    fn index(&self, key: &Q) -> &V {
        &self.map[key]
    }
}

impl<K, V, S> Extend<(K, V)> for MapStore<K, V, S>
where
    K: Eq + Hash,
    V: MapValue,
    S: BuildHasher,
{
    fn extend<T: IntoIterator<Item = (K, V)>>(&mut self, iter: T) {
        self.map.extend(iter);
    }
}

impl<'a, K, V, S> Extend<(&'a K, &'a V)> for MapStore<K, V, S>
where
    K: Eq + Hash + Copy,
    V: MapValue + Copy,
    S: BuildHasher,
{
    fn extend<T: IntoIterator<Item = (&'a K, &'a V)>>(&mut self, iter: T) {
        self.map.extend(iter);
    }
}

impl<K, V, S> FromIterator<(K, V)> for MapStore<K, V, S>
where
    K: Eq + Hash,
    V: MapValue,
    S: BuildHasher + Default,
{
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        Self::from_map(iter.into_iter().collect())
    }
}

impl<K, V, const N: usize> From<[(K, V); N]> for MapStore<K, V, DefaultHashBuilder>
where
    K: Eq + Hash,
    V: MapValue,
{
    fn from(entries: [(K, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<'a, K, V: MapValue, S> IntoIterator for &'a MapStore<K, V, S> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V, V::Storage>;
    fn into_iter(self) -> Self::IntoIter {
        self.map.iter()
    }
}

impl<'a, K, V: MapValue, S> IntoIterator for &'a mut MapStore<K, V, S> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V, V::Storage>;
    fn into_iter(self) -> Self::IntoIter {
        self.map.iter_mut()
    }
}

impl<K, V: MapValue, S> IntoIterator for MapStore<K, V, S> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V, V::Storage>;
    fn into_iter(self) -> Self::IntoIter {
        self.map.into_iter()
    }
}
