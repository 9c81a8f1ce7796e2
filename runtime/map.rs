//! [`Map`], the hash map behind every storage, its entry API and iterators.
//!
//! [`InlineMap`], [`BoxedMap`] and [`PooledMap`] are [`Map`] with its storage
//! named; [`MapStore`](type@crate::MapStore) is [`Map`] with the storage its value
//! type chose. All share one implementation, so they behave identically.

use alloc::boxed::Box;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::iter::FusedIterator;
use core::mem::ManuallyDrop;
use core::ops::Index;
use core::panic::{RefUnwindSafe, UnwindSafe};

use hashbrown::hash_table::{self, HashTable};
use hashbrown::{DefaultHashBuilder, Equivalent, TryReserveError};

use crate::storage::{Boxed, EmptySide, Inline, Pair, Pooled, Storage, StorageKind, StorageOps};

/// A hash map whose values live inline in the table: `HashTable<(K, V)>`.
///
/// Best for small values: no allocation per insert, key and value in one
/// cache line. Works for any `V`.
///
/// ```
/// use mapstore::InlineMap;
///
/// let mut scores: InlineMap<&str, u32> = InlineMap::new();
/// scores.insert("ada", 3);
/// *scores.entry("ada").or_insert(0) += 1;
/// assert_eq!(scores["ada"], 4);
/// ```
pub type InlineMap<K, V, S = DefaultHashBuilder> = Map<K, V, Inline, S>;

/// A hash map that boxes each value: `HashTable<(K, Box<V>)>`.
///
/// Best for very large values. [`insert_boxed`](Map::insert_boxed) and
/// [`remove_boxed`](Map::remove_boxed) move a value in and out without
/// copying it.
///
/// ```
/// use mapstore::BoxedMap;
///
/// let mut pages: BoxedMap<u32, [u8; 4096]> = BoxedMap::new();
/// pages.insert_boxed(1, Box::new([0; 4096]));
/// let page: Box<[u8; 4096]> = pages.remove_boxed(&1).unwrap();
/// assert_eq!(page.len(), 4096);
/// ```
pub type BoxedMap<K, V, S = DefaultHashBuilder> = Map<K, V, Boxed, S>;

/// A hash map whose values live in a pool: `HashTable<(K, slot pointer)>`
/// plus chunks of value slots (each holding its value and a `u32` index).
///
/// Best for large values: a resize moves 8-byte slot pointers, never the
/// values; a lookup chases one pointer, as a box's does; removed slots are
/// reused without calling the allocator; a value keeps its address until it
/// is removed. Every iterator walks the table, so [`values`](Map::values)
/// follows [`keys`](Map::keys) as with the other storages;
/// [`unordered_values`](Map::unordered_values) walks the chunks in memory
/// order instead, faster, in another order.
///
/// ```
/// use mapstore::PooledMap;
///
/// let mut frames: PooledMap<u64, [u8; 512]> = PooledMap::new();
/// frames.insert(7, [1; 512]);
/// assert_eq!(frames[&7][0], 1);
/// ```
pub type PooledMap<K, V, S = DefaultHashBuilder> = Map<K, V, Pooled, S>;

/// What the table of a map with storage `St` holds.
pub(crate) type Bucket<K, V, St> = <St as StorageOps>::Bucket<K, V>;
/// What a map with storage `St` keeps beside its table.
pub(crate) type Side<K, V, St> = <St as StorageOps>::Side<K, V>;

/// An entry taken out of a table to be dropped later (see
/// [`StorageOps::Detached`]).
#[cfg(feature = "std")]
pub(crate) type Detached<K, V, St> = <St as StorageOps>::Detached<K, V>;

/// Runs only when unwinding out of a table rehash.
struct ReleaseOrphans<'a, K, V, St: Storage> {
    table: &'a mut HashTable<Bucket<K, V, St>>,
    side: &'a mut Side<K, V, St>,
}

impl<K, V, St: Storage> Drop for ReleaseOrphans<'_, K, V, St> {
    fn drop(&mut self) {
        St::release_unreferenced(self.side, self.table.iter());
    }
}

/// Makes room in `table` for `additional` more entries. If `Hash` panics
/// while hashbrown rehashes in place, hashbrown drops the entries it had not
/// placed yet; the guard then drops their values from the side storage.
#[inline]
pub(crate) fn reserve_table<K: Hash, V, St: Storage, S: BuildHasher>(
    table: &mut HashTable<Bucket<K, V, St>>,
    side: &mut Side<K, V, St>,
    hash_builder: &S,
    additional: usize,
) -> Result<(), TryReserveError> {
    if additional <= table.capacity() - table.len() {
        return Ok(());
    }
    let guard = ReleaseOrphans::<K, V, St> { table, side };
    let result = guard
        .table
        .try_reserve(additional, hasher::<K, V, St, S>(hash_builder));
    core::mem::forget(guard);
    result
}

/// A hash map with values held by the storage `St`.
///
/// Use it through [`InlineMap`], [`BoxedMap`], [`PooledMap`] or
/// [`MapStore`](type@crate::MapStore). The API follows std's
/// [`HashMap`](https://doc.rust-lang.org/std/collections/struct.HashMap.html):
/// same methods, same semantics (`insert` returns the old value and keeps the
/// old key; lookups take any `Q: Hash + Equivalent<K>`, so a
/// `Map<String, _>` is searched with a `&str`).
///
/// The map is invariant in `K` and `V` (std's `HashMap` is covariant),
/// because the table's contents are named through the storage. So are its
/// iterators ([`Iter`], [`Keys`], [`Values`], [`IterMut`], [`ValuesMut`],
/// [`Drain`], [`IntoIter`], [`IntoKeys`], [`IntoValues`] and the unordered
/// walks), the borrowing ones in `'a` too, where std's are covariant (in
/// all three but `V` for `IterMut` and `ValuesMut`); the entries and
/// [`ExtractIf`] are covariant in `'a`, as std's.
///
/// ```
/// use mapstore::PooledMap;
///
/// let mut users: PooledMap<String, [u64; 40]> = PooledMap::new();
/// users.insert("ada".to_string(), [1; 40]);
/// assert!(users.contains_key("ada"));
/// assert_eq!(users.remove("ada"), Some([1; 40]));
/// assert!(users.is_empty());
/// ```
pub struct Map<K, V, St: Storage, S = DefaultHashBuilder> {
    pub(crate) table: HashTable<Bucket<K, V, St>>,
    pub(crate) side: Side<K, V, St>,
    pub(crate) hash_builder: S,
}

// Auto traits. Every type below holds what a storage names through a
// projection (`St::Bucket<K, V>`, `St::Iter<'a, K, V>`, ...); for a concrete
// storage the compiler sees through it, but in code generic over
// `V: MapValue` (`MapStore<K, V>` is `Map<K, V, V::Storage, S>`) it does
// not, and `MapStore<K, V>: Send` would not follow from `V: Send`. These
// impls state, for every storage at once, what the auto traits conclude for
// each one, with std's `HashMap` bounds: the map is `Send` when `K`, `V` and
// `S` are, `Sync` when they are; its iterators and entries as std's are.
//
// SAFETY: (every `unsafe impl` here) `Storage` is sealed, so `St` is
// `Inline`, `Boxed` or `Pooled`, and `auto_trait_checks` below proves, for
// each of the three and for all `K` and `V`, that every field type named
// through the storage is `Send` (resp. `Sync`) under exactly the bounds of
// the impl; the other fields are `S`, `F`, `K` or references to them, bound
// the same way. So each impl claims nothing the auto trait would not derive
// for every concrete storage: it only says it in a form that holds in
// generic code too.
unsafe impl<K: Send, V: Send, St: Storage, S: Send> Send for Map<K, V, St, S> {}
// SAFETY: see above.
unsafe impl<K: Sync, V: Sync, St: Storage, S: Sync> Sync for Map<K, V, St, S> {}

// `Unpin`, `UnwindSafe` and `RefUnwindSafe` with std's bounds, stated so that
// they hold in generic code too (the auto traits would need the storage's
// associated types, which generic code cannot see through): a future or a
// struct generic over `V: MapValue` that holds a map is `Unpin` when its
// parameters are. No pin projection reaches a key or a value, and every
// operation leaves the map consistent when user code panics
// (`tests/panic_safety.rs`). `tests/static.rs` checks each against std's.
impl<K: Unpin, V: Unpin, St: Storage, S: Unpin> Unpin for Map<K, V, St, S> {}
impl<K: UnwindSafe, V: UnwindSafe, St: Storage, S: UnwindSafe> UnwindSafe for Map<K, V, St, S> {}
impl<K: RefUnwindSafe, V: RefUnwindSafe, St: Storage, S: RefUnwindSafe> RefUnwindSafe
    for Map<K, V, St, S>
{
}

/// Proves, for each storage, that the types a storage names are `Send` and
/// `Sync` under the bounds the `unsafe impl`s in this module state (and
/// `RefUnwindSafe` under the bounds of the entries' impls). These
/// functions are never called: that they type-check, for all `K` and `V`,
/// is the proof.
#[allow(dead_code)]
mod auto_trait_checks {
    use super::{Bucket, HashTable, Side};
    use crate::storage::{Boxed, Inline, Pooled, StorageOps};
    use core::panic::RefUnwindSafe;

    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    fn ref_unwind_safe<T: RefUnwindSafe>() {}

    // `borrowing_iterators_own_nothing`: the storages' borrowing iterators
    // have no drop glue, even over keys and values that have, so `Borrowing`
    // (which never drops one) leaks nothing.
    macro_rules! own_nothing {
        ($($st:ident),*) => {$(
            const _: () = assert!(!core::mem::needs_drop::<<$st as StorageOps>::Iter<'static, alloc::string::String, alloc::string::String>>());
            const _: () = assert!(!core::mem::needs_drop::<<$st as StorageOps>::IterMut<'static, alloc::string::String, alloc::string::String>>());
            const _: () = assert!(!core::mem::needs_drop::<<$st as StorageOps>::Values<'static, alloc::string::String, alloc::string::String>>());
            const _: () = assert!(!core::mem::needs_drop::<<$st as StorageOps>::ValuesMut<'static, alloc::string::String, alloc::string::String>>());
        )*};
    }
    own_nothing!(Inline, Pooled, Boxed);

    macro_rules! check {
        ($($module:ident: $st:ident),*) => {$(
            mod $module {
                use super::*;
                type St = $st;

                // `Map`, `IntoIter`, `IntoUnorderedValues`, `Drain`,
                // `OccupiedEntry`, `VacantEntry`, `ExtractIf`: Send when
                // `K` and `V` are.
                fn owned_send<'a, K: Send + 'a, V: Send + 'a>() {
                    send::<HashTable<Bucket<K, V, St>>>();
                    send::<Side<K, V, St>>();
                    send::<&'a mut HashTable<Bucket<K, V, St>>>();
                    send::<&'a mut Side<K, V, St>>();
                    send::<hashbrown::hash_table::OccupiedEntry<'a, Bucket<K, V, St>>>();
                    send::<hashbrown::hash_table::VacantEntry<'a, Bucket<K, V, St>>>();
                    send::<<St as StorageOps>::IntoIter<K, V>>();
                    send::<<St as StorageOps>::IntoValues<K, V>>();
                    send::<<St as StorageOps>::Drain<'a, K, V>>();
                }
                // The same types: Sync when `K` and `V` are.
                fn owned_sync<'a, K: Sync + 'a, V: Sync + 'a>() {
                    sync::<HashTable<Bucket<K, V, St>>>();
                    sync::<Side<K, V, St>>();
                    sync::<&'a mut HashTable<Bucket<K, V, St>>>();
                    sync::<&'a mut Side<K, V, St>>();
                    sync::<hashbrown::hash_table::OccupiedEntry<'a, Bucket<K, V, St>>>();
                    sync::<hashbrown::hash_table::VacantEntry<'a, Bucket<K, V, St>>>();
                    sync::<<St as StorageOps>::IntoIter<K, V>>();
                    sync::<<St as StorageOps>::IntoValues<K, V>>();
                    sync::<<St as StorageOps>::Drain<'a, K, V>>();
                }
                // `Iter`, `UnorderedValues`: shared borrows, Send and Sync
                // when `K` and `V` are Sync.
                fn shared<'a, K: Sync + 'a, V: Sync + 'a>() {
                    send::<<St as StorageOps>::Iter<'a, K, V>>();
                    sync::<<St as StorageOps>::Iter<'a, K, V>>();
                    send::<<St as StorageOps>::Values<'a, K, V>>();
                    sync::<<St as StorageOps>::Values<'a, K, V>>();
                    sync::<<St as StorageOps>::IterMut<'a, K, V>>();
                    sync::<<St as StorageOps>::ValuesMut<'a, K, V>>();
                }
                // `IterMut`, `UnorderedValuesMut`: Send when `K` and `V`
                // are, as std's `IterMut` (the table's own walk hands out
                // its buckets mutably).
                fn unique_send<'a, K: Send + 'a, V: Send + 'a>() {
                    send::<<St as StorageOps>::IterMut<'a, K, V>>();
                    send::<<St as StorageOps>::ValuesMut<'a, K, V>>();
                }
                // The entries and `ExtractIf`: `RefUnwindSafe` when `K` and
                // `V` are, what their `RefUnwindSafe` impls state.
                fn unique_ref_unwind_safe<'a, K: RefUnwindSafe + 'a, V: RefUnwindSafe + 'a>() {
                    ref_unwind_safe::<&'a mut HashTable<Bucket<K, V, St>>>();
                    ref_unwind_safe::<&'a mut Side<K, V, St>>();
                    ref_unwind_safe::<hashbrown::hash_table::OccupiedEntry<'a, Bucket<K, V, St>>>();
                    ref_unwind_safe::<hashbrown::hash_table::VacantEntry<'a, Bucket<K, V, St>>>();
                }
            }
        )*};
    }

    check!(inline: Inline, boxed: Boxed, pooled: Pooled);
}

#[inline]
pub(crate) fn make_hash<Q: Hash + ?Sized, S: BuildHasher>(hash_builder: &S, key: &Q) -> u64 {
    hash_builder.hash_one(key)
}

/// Matches the bucket of `key`.
#[inline]
pub(crate) fn equivalent<'a, Q, K, V, St>(key: &'a Q) -> impl Fn(&Bucket<K, V, St>) -> bool + 'a
where
    Q: Equivalent<K> + ?Sized,
    St: Storage,
{
    move |bucket| St::matches(bucket, key)
}

#[inline]
pub(crate) fn hasher<K: Hash, V, St: Storage, S: BuildHasher>(
    hash_builder: &S,
) -> impl Fn(&Bucket<K, V, St>) -> u64 + '_ {
    move |bucket| St::hash(bucket, hash_builder)
}

/// Turns a failed reservation into the panic or abort std's infallible
/// `reserve` gives: a panic on capacity overflow, `handle_alloc_error` when
/// the allocator fails. The panic names the caller's caller (every public
/// entry point above it is `#[track_caller]`) and reads the same for every
/// storage.
#[inline]
#[track_caller]
pub(crate) fn unwrap_reserve(result: Result<(), TryReserveError>) {
    match result {
        Ok(()) => {}
        Err(TryReserveError::CapacityOverflow) => panic!("Hash table capacity overflow"),
        Err(TryReserveError::AllocError { layout }) => alloc::alloc::handle_alloc_error(layout),
    }
}

impl<K, V, St: Storage> Map<K, V, St, DefaultHashBuilder> {
    /// Creates an empty map. It does not allocate until the first insert.
    ///
    /// ```
    /// let map: mapstore::PooledMap<u32, [u8; 300]> = mapstore::PooledMap::new();
    /// assert_eq!(map.memory_usage(), 0);
    /// ```
    pub fn new() -> Self {
        Self::with_hasher(DefaultHashBuilder::default())
    }

    /// Creates an empty map with room for at least `capacity` entries.
    ///
    /// # Panics
    ///
    /// With `"Hash table capacity overflow"` (std's message), at the caller, if the table for
    /// `capacity` entries would overflow `isize` bytes (or, for a pooled
    /// map, `u32` slots); the message is the same for every storage.
    ///
    /// ```
    /// let map: mapstore::InlineMap<u32, u32> = mapstore::InlineMap::with_capacity(10);
    /// assert!(map.capacity() >= 10);
    /// ```
    #[track_caller]
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, DefaultHashBuilder::default())
    }
}

impl<K, V, St: Storage, S> Map<K, V, St, S> {
    /// Matches the bucket of `key`; a method so that the bucket type is
    /// known from `Self` (a free function would need a turbofish).
    #[inline]
    fn is_key<'a, Q>(key: &'a Q) -> impl Fn(&Bucket<K, V, St>) -> bool + 'a
    where
        Q: Equivalent<K> + ?Sized,
    {
        equivalent::<Q, K, V, St>(key)
    }

    /// Rehashes a bucket of this map's table with `hash_builder`.
    #[inline]
    fn rehash(hash_builder: &S) -> impl Fn(&Bucket<K, V, St>) -> u64 + '_
    where
        K: Hash,
        S: BuildHasher,
    {
        hasher::<K, V, St, S>(hash_builder)
    }

    /// The entry of `key`, whose hash is `hash`, in a map's parts; `H`
    /// rehashes on growth. The core of [`entry`](Self::entry). If the table is full, the
    /// key is looked up before growing, so an entry for a present key never
    /// grows the table; with room to spare, one probe finds the key or its
    /// slot.
    #[inline]
    pub(crate) fn entry_in<'a, H: BuildHasher>(
        mut table: &'a mut HashTable<Bucket<K, V, St>>,
        side: &'a mut Side<K, V, St>,
        hash_builder: &H,
        hash: u64,
        key: K,
    ) -> Entry<'a, K, V, St>
    where
        K: Eq + Hash,
    {
        if table.len() == table.capacity() {
            table = match table.find_entry(hash, Self::is_key(&key)) {
                Ok(inner) => return Entry::Occupied(OccupiedEntry { inner, side }),
                Err(absent) => absent.into_table(),
            };
            unwrap_reserve(reserve_table::<K, V, St, H>(table, side, hash_builder, 1));
        }
        match table.entry(
            hash,
            Self::is_key(&key),
            hasher::<K, V, St, H>(hash_builder),
        ) {
            hash_table::Entry::Occupied(inner) => Entry::Occupied(OccupiedEntry { inner, side }),
            hash_table::Entry::Vacant(inner) => Entry::Vacant(VacantEntry { inner, key, side }),
        }
    }

    /// Removes the entry of `key`, whose hash is `hash`, from a map's
    /// parts: the core of [`remove_entry`](Self::remove_entry).
    #[inline]
    pub(crate) fn remove_entry_in<Q>(
        table: &mut HashTable<Bucket<K, V, St>>,
        side: &mut Side<K, V, St>,
        hash: u64,
        key: &Q,
    ) -> Option<(K, V)>
    where
        Q: Equivalent<K> + ?Sized,
    {
        let entry = table.find_entry(hash, Self::is_key(key)).ok()?;
        let (bucket, _) = entry.remove();
        Some(St::take(side, bucket))
    }

    /// Creates an empty map that hashes keys with `hash_builder`.
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let mut map = mapstore::InlineMap::with_hasher(RandomState::new());
    /// map.insert(1, "one");
    /// assert_eq!(map[&1], "one");
    /// ```
    pub const fn with_hasher(hash_builder: S) -> Self {
        Map {
            table: HashTable::new(),
            side: Side::<K, V, St>::EMPTY,
            hash_builder,
        }
    }

    /// Creates an empty map with room for `capacity` entries that hashes keys
    /// with `hash_builder`.
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let map: mapstore::BoxedMap<u8, u8, _> =
    ///     mapstore::BoxedMap::with_capacity_and_hasher(4, RandomState::new());
    /// assert!(map.capacity() >= 4);
    /// ```
    ///
    /// # Panics
    ///
    /// As [`with_capacity`](Map::with_capacity).
    #[track_caller]
    pub fn with_capacity_and_hasher(capacity: usize, hash_builder: S) -> Self {
        // The side first: a pool's slot limit is an overflow before the
        // table tries to allocate.
        let mut side = Side::<K, V, St>::EMPTY;
        unwrap_reserve(St::try_reserve(&mut side, capacity).map(drop));
        let mut table = HashTable::new();
        // Reserving in an empty table rehashes nothing, so the hasher is
        // never called; unlike `HashTable::with_capacity`, an overflow
        // comes back as an error, and panics here with one message.
        unwrap_reserve(table.try_reserve(capacity, |_: &Bucket<K, V, St>| 0));
        Map {
            table,
            side,
            hash_builder,
        }
    }

    /// The map's hash builder.
    ///
    /// ```
    /// let map: mapstore::InlineMap<u8, u8> = mapstore::InlineMap::new();
    /// let _: &mapstore::DefaultHashBuilder = map.hasher();
    /// ```
    pub fn hasher(&self) -> &S {
        &self.hash_builder
    }

    /// How many entries the map holds without reallocating its table.
    ///
    /// A pooled map's pool never reallocates: it grows by whole new chunks,
    /// leaving its values where they are. After `with_capacity`, `reserve`
    /// or `try_reserve`, both the table and the pool have room for the
    /// entries asked for; after [`shrink_to_fit`](Self::shrink_to_fit) or
    /// [`shrink_to`](Self::shrink_to), the pool may have less room than the
    /// table, and an insert below `capacity()` may allocate one chunk.
    ///
    /// ```
    /// let map: mapstore::PooledMap<u8, [u8; 256]> = mapstore::PooledMap::with_capacity(50);
    /// assert!(map.capacity() >= 50);
    /// ```
    pub fn capacity(&self) -> usize {
        self.table.capacity()
    }

    /// The number of entries.
    ///
    /// ```
    /// let mut map = mapstore::InlineMap::new();
    /// map.insert('a', 1);
    /// assert_eq!(map.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the map has no entries.
    ///
    /// ```
    /// let mut map = mapstore::InlineMap::new();
    /// assert!(map.is_empty());
    /// map.insert(1, 2);
    /// assert!(!map.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Which storage holds the values.
    ///
    /// ```
    /// use mapstore::{PooledMap, StorageKind};
    /// assert_eq!(PooledMap::<u8, u8>::new().storage(), StorageKind::Pooled);
    /// ```
    pub fn storage(&self) -> StorageKind {
        St::KIND
    }

    /// Bytes this map holds: its table, pool chunks and boxes, not the heap
    /// memory the keys and values own themselves.
    ///
    /// ```
    /// let mut map = mapstore::BoxedMap::new();
    /// map.insert(1u64, [0u8; 1000]);
    /// assert!(map.memory_usage() >= 1000);
    /// ```
    pub fn memory_usage(&self) -> usize {
        self.table.allocation_size() + St::side_bytes(&self.side, self.table.len())
    }

    /// Iterates over the entries in arbitrary order.
    ///
    /// ```
    /// let map: mapstore::InlineMap<_, _> = [(1, 'a'), (2, 'b')].into();
    /// let mut pairs: Vec<_> = map.iter().collect();
    /// pairs.sort();
    /// assert_eq!(pairs, [(&1, &'a'), (&2, &'b')]);
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V, St> {
        Iter {
            inner: Borrowing::new(St::iter(&self.table, &self.side)),
        }
    }

    /// Iterates over the entries with mutable values.
    ///
    /// ```
    /// let mut map: mapstore::PooledMap<_, _> = [(1, 10), (2, 20)].into();
    /// for (_, v) in map.iter_mut() {
    ///     *v += 1;
    /// }
    /// assert_eq!(map[&2], 21);
    /// ```
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V, St> {
        IterMut {
            inner: Borrowing::new(St::iter_mut(&mut self.table, &mut self.side)),
        }
    }

    /// Iterates over the keys, in the order of [`iter`](Self::iter).
    ///
    /// ```
    /// let map: mapstore::InlineMap<_, _> = [(1, 'a'), (2, 'b')].into();
    /// let mut keys: Vec<_> = map.keys().copied().collect();
    /// keys.sort();
    /// assert_eq!(keys, [1, 2]);
    /// ```
    pub fn keys(&self) -> Keys<'_, K, V, St> {
        Keys { inner: self.iter() }
    }

    /// Iterates over the values, in the order of [`iter`](Self::iter) and
    /// [`keys`](Self::keys), for every storage: `keys().zip(values())`
    /// pairs each key with its own value.
    ///
    /// ```
    /// let map: mapstore::PooledMap<_, _> = [(1, 10), (2, 20), (3, 30)].into();
    /// assert_eq!(map.values().sum::<i32>(), 60);
    /// for (k, v) in map.keys().zip(map.values()) {
    ///     assert_eq!(*v, k * 10);
    /// }
    /// ```
    pub fn values(&self) -> Values<'_, K, V, St> {
        Values { inner: self.iter() }
    }

    /// Iterates over the values, mutably, in the order of
    /// [`iter`](Self::iter).
    ///
    /// ```
    /// let mut map: mapstore::BoxedMap<_, _> = [("a", 1)].into();
    /// map.values_mut().for_each(|v| *v *= 10);
    /// assert_eq!(map["a"], 10);
    /// ```
    pub fn values_mut(&mut self) -> ValuesMut<'_, K, V, St> {
        ValuesMut {
            inner: self.iter_mut(),
        }
    }

    /// Iterates over the values in the storage's memory order, which for a
    /// pooled map is **not** the order of [`iter`](Self::iter) or
    /// [`keys`](Self::keys): never zip it with them.
    ///
    /// For a pooled map it walks the pool's chunks a run of adjacent values
    /// at a time, as a slice iterator would, instead of chasing one slot
    /// pointer per entry; `docs/pool.md` has the measured speed-up. For an
    /// inline or boxed map it is [`values`](Self::values).
    ///
    /// ```
    /// let map: mapstore::PooledMap<_, _> = [(1, 10), (2, 20)].into();
    /// assert_eq!(map.unordered_values().sum::<i32>(), 30);
    /// ```
    pub fn unordered_values(&self) -> UnorderedValues<'_, K, V, St> {
        UnorderedValues {
            inner: Borrowing::new(St::values(&self.table, &self.side)),
        }
    }

    /// Iterates over the values, mutably, in the order of
    /// [`unordered_values`](Self::unordered_values): memory order, not the
    /// order of [`iter`](Self::iter).
    ///
    /// ```
    /// let mut map: mapstore::PooledMap<_, _> = [("a", 1), ("b", 2)].into();
    /// map.unordered_values_mut().for_each(|v| *v *= 10);
    /// assert_eq!((map["a"], map["b"]), (10, 20));
    /// ```
    pub fn unordered_values_mut(&mut self) -> UnorderedValuesMut<'_, K, V, St> {
        UnorderedValuesMut {
            inner: Borrowing::new(St::values_mut(&mut self.table, &mut self.side)),
        }
    }

    /// Consumes the map, yielding its keys.
    ///
    /// ```
    /// let map: mapstore::BoxedMap<_, _> = [("a", 1)].into();
    /// assert_eq!(map.into_keys().collect::<Vec<_>>(), ["a"]);
    /// ```
    pub fn into_keys(self) -> IntoKeys<K, V, St> {
        IntoKeys {
            inner: self.into_iter(),
        }
    }

    /// Consumes the map, yielding its values in the order of
    /// [`iter`](Self::iter) (and of [`into_keys`](Self::into_keys) for an
    /// equal map).
    ///
    /// ```
    /// let map: mapstore::PooledMap<_, _> = [("a", 1)].into();
    /// assert_eq!(map.into_values().collect::<Vec<_>>(), [1]);
    /// ```
    pub fn into_values(self) -> IntoValues<K, V, St> {
        IntoValues {
            inner: self.into_iter(),
        }
    }

    /// Consumes the map, yielding its values in the order of
    /// [`unordered_values`](Self::unordered_values): memory order. The keys
    /// are dropped first.
    ///
    /// ```
    /// let map: mapstore::PooledMap<_, _> = [("a", 1), ("b", 2)].into();
    /// let mut values: Vec<_> = map.into_unordered_values().collect();
    /// values.sort();
    /// assert_eq!(values, [1, 2]);
    /// ```
    pub fn into_unordered_values(self) -> IntoUnorderedValues<K, V, St> {
        let (table, side, _) = crate::pool::into_parts(self);
        IntoUnorderedValues {
            inner: St::into_values(table, side),
        }
    }

    /// Removes every entry, yielding them. Entries not consumed are dropped
    /// when the iterator is; the map is empty afterwards either way and keeps
    /// its memory as [`clear`](Self::clear) does (a boxed map's boxes go
    /// with their values). If the iterator is leaked (`mem::forget`) instead, the
    /// entries not yielded are leaked, as with std's, and a pooled map's
    /// pool with them; the map is left empty and usable.
    ///
    /// ```
    /// let mut map: mapstore::PooledMap<_, _> = [(1, 'a'), (2, 'b')].into();
    /// assert_eq!(map.drain().count(), 2);
    /// assert!(map.is_empty());
    /// ```
    pub fn drain(&mut self) -> Drain<'_, K, V, St> {
        Drain {
            inner: St::drain(&mut self.table, &mut self.side),
        }
    }

    /// Keeps only the entries for which `keep` returns `true`.
    ///
    /// If `keep` panics, the entries visited so far have been kept or
    /// removed as it said and the map stays usable.
    ///
    /// ```
    /// let mut map: mapstore::PooledMap<u32, u32> = (0..8).map(|i| (i, i)).collect();
    /// map.retain(|&k, _| k % 2 == 0);
    /// assert_eq!(map.len(), 4);
    /// ```
    pub fn retain<F>(&mut self, mut keep: F)
    where
        F: FnMut(&K, &mut V) -> bool,
    {
        if St::retain_in_table(&mut self.table, &mut keep) {
            return;
        }
        for index in 0..self.table.num_buckets() {
            let Some(bucket) = self.table.get_bucket_mut(index) else {
                continue;
            };
            let (key, value) = St::pair_mut(&self.side, bucket);
            if !keep(key, value) {
                if let Ok(entry) = self.table.get_bucket_entry(index) {
                    let (bucket, _) = entry.remove();
                    St::discard(&mut self.side, bucket);
                }
            }
        }
    }

    /// Removes and yields the entries for which `pred` returns `true`, as
    /// the iterator advances. Entries not visited stay in the map.
    ///
    /// ```
    /// let mut map: mapstore::InlineMap<u32, u32> = (0..8).map(|i| (i, i)).collect();
    /// let mut odd: Vec<u32> = map.extract_if(|k, _| k % 2 == 1).map(|(k, _)| k).collect();
    /// odd.sort();
    /// assert_eq!(odd, [1, 3, 5, 7]);
    /// assert_eq!(map.len(), 4);
    /// ```
    pub fn extract_if<F>(&mut self, pred: F) -> ExtractIf<'_, K, V, St, F>
    where
        F: FnMut(&K, &mut V) -> bool,
    {
        ExtractIf {
            table: &mut self.table,
            side: &mut self.side,
            index: 0,
            pred,
        }
    }

    /// Removes every entry. Every storage keeps its table for reuse, so
    /// [`capacity`](Self::capacity) does not change; what happens to the
    /// values' memory depends on the storage:
    ///
    /// - inline: the values were in the table, so nothing is freed and
    ///   [`memory_usage`](Self::memory_usage) does not change;
    /// - pooled: the pool keeps its chunks, whose slots the next inserts
    ///   reuse, so `memory_usage` does not change either. For values that
    ///   need no drop it does no per-value work (keys that need drop are
    ///   still dropped one by one);
    /// - boxed: every value's box is freed, so `memory_usage` falls by
    ///   `len() * size_of::<V>()`, and each later insert allocates a box
    ///   again.
    ///
    /// ```
    /// let mut map: mapstore::BoxedMap<u32, [u8; 500]> = (0..10).map(|i| (i, [0; 500])).collect();
    /// let (capacity, bytes) = (map.capacity(), map.memory_usage());
    /// map.clear();
    /// assert!(map.is_empty());
    /// assert_eq!(map.capacity(), capacity); // as for every storage
    /// // Inline or pooled, `memory_usage()` would still be `bytes`.
    /// assert_eq!(map.memory_usage(), bytes - 10 * 500);
    /// ```
    pub fn clear(&mut self) {
        St::clear_table(&mut self.table, &mut self.side);
    }
}

impl<K, V, St, S> Map<K, V, St, S>
where
    K: Eq + Hash,
    St: Storage,
    S: BuildHasher,
{
    /// Reserves room for at least `additional` more entries.
    ///
    /// # Panics
    ///
    /// With `"Hash table capacity overflow"` (std's message), at the caller, if the new capacity
    /// overflows `isize` bytes (or, for a pooled map, `u32` slots, checked
    /// before anything is allocated), as std's `HashMap::reserve` does; the
    /// message is the same for every storage. If the allocator fails, it
    /// calls `handle_alloc_error`, as std's does.
    ///
    /// ```
    /// let mut map: mapstore::PooledMap<u32, [u8; 300]> = mapstore::PooledMap::new();
    /// map.reserve(100);
    /// assert!(map.capacity() >= 100);
    /// ```
    #[track_caller]
    pub fn reserve(&mut self, additional: usize) {
        unwrap_reserve(self.try_reserve(additional));
    }

    /// Tries to reserve room for at least `additional` more entries.
    ///
    /// # Errors
    ///
    /// [`CapacityOverflow`](TryReserveError::CapacityOverflow) when the
    /// table's size in bytes for that many entries overflows `isize` (or a
    /// pool would need more than `u32::MAX` slots);
    /// [`AllocError`](TryReserveError::AllocError) when the allocator
    /// refuses the memory. The map is unchanged either way, its memory
    /// included: a pooled map reserves its pool first (so the `u32` slot
    /// limit is checked before the table allocates) and frees what it took
    /// if the table's allocation then fails.
    ///
    /// A bucket here holds `(K, V)`, `(K, Box<V>)` or `(K, slot pointer)`, so the
    /// size at which a request overflows is not the one of std's
    /// `HashMap<K, V>`: for a request too large to allocate, a boxed or
    /// pooled map of small values may report `CapacityOverflow` where std
    /// reports `AllocError`, as std's own `HashMap<K, Box<V>>` does.
    ///
    /// ```
    /// use mapstore::TryReserveError;
    ///
    /// let mut map: mapstore::PooledMap<u64, [u8; 64]> = mapstore::PooledMap::new();
    /// assert!(map.try_reserve(100).is_ok());
    /// assert_eq!(map.try_reserve(usize::MAX), Err(TryReserveError::CapacityOverflow));
    /// assert!(map.capacity() >= 100);
    /// ```
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        // The side first: a pool's `u32` slot limit is an overflow before
        // the table allocates. Each reservation is all or nothing, and the
        // side's is undone if the table's fails, so a failure changes
        // nothing.
        let reserved = St::try_reserve(&mut self.side, additional)?;
        let table = reserve_table::<K, V, St, S>(
            &mut self.table,
            &mut self.side,
            &self.hash_builder,
            additional,
        );
        if table.is_err() {
            St::undo_reserve(&mut self.side, reserved);
        }
        table
    }

    /// Shrinks the table as much as the entries allow, and a pooled map's
    /// pool as much as its values' places allow.
    ///
    /// Values in a pool never move, so the pool frees only the chunks
    /// above its last value (in the pool's own slot order) and spare
    /// bookkeeping: a chunk below a value stays allocated however few
    /// values it holds, and its free slots are reused first. A map that
    /// removed most of its entries at random may so keep most of its pool.
    ///
    /// ```
    /// let mut map: mapstore::PooledMap<u32, [u8; 300]> = (0..1000).map(|i| (i, [0; 300])).collect();
    /// let full = map.memory_usage();
    /// map.retain(|&k, _| k < 10);
    /// map.shrink_to_fit();
    /// assert!(map.memory_usage() < full / 10);
    /// ```
    pub fn shrink_to_fit(&mut self) {
        self.table.shrink_to_fit(Self::rehash(&self.hash_builder));
        St::shrink_to_fit(&mut self.side);
    }

    /// Shrinks the table to hold at least `min_capacity` entries (and
    /// [`len`](Self::len), if more), as std's `HashMap::shrink_to` does.
    ///
    /// A pooled map's pool is shrunk as by
    /// [`shrink_to_fit`](Self::shrink_to_fit), down to room for
    /// `min_capacity` values: it frees only chunks above its last value,
    /// and keeps those that room needs, so `min_capacity` entries still fit
    /// without allocating.
    ///
    /// ```
    /// let mut map: mapstore::InlineMap<u32, u32> = mapstore::InlineMap::with_capacity(1000);
    /// map.insert(1, 1);
    /// map.shrink_to(10);
    /// assert!(map.capacity() >= 10 && map.capacity() < 1000);
    /// ```
    pub fn shrink_to(&mut self, min_capacity: usize) {
        self.table
            .shrink_to(min_capacity, Self::rehash(&self.hash_builder));
        St::shrink_to(&mut self.side, min_capacity);
    }

    /// Inserts a value. If the key was present, returns the old value and
    /// keeps the old key, as std's `HashMap::insert` does. Like
    /// [`entry`](Self::entry), it grows the table only for a new key.
    ///
    /// ```
    /// let mut map = mapstore::PooledMap::new();
    /// assert_eq!(map.insert("k", [1u8; 300]), None);
    /// assert_eq!(map.insert("k", [2u8; 300]), Some([1u8; 300]));
    /// ```
    #[inline]
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.entry(key) {
            Entry::Occupied(mut entry) => Some(entry.insert(value)),
            Entry::Vacant(entry) => {
                entry.insert(value);
                None
            }
        }
    }

    /// The entry for `key`, for in-place insertion or update.
    ///
    /// ```
    /// let mut counts: mapstore::InlineMap<char, u32> = mapstore::InlineMap::new();
    /// for c in "hello".chars() {
    ///     *counts.entry(c).or_default() += 1;
    /// }
    /// assert_eq!(counts[&'l'], 2);
    /// ```
    ///
    /// Like std's, it grows the table only for a key that is absent: the
    /// entry of a present key leaves the capacity as it is.
    #[inline]
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V, St> {
        let hash = make_hash(&self.hash_builder, &key);
        let Map {
            table,
            side,
            hash_builder,
        } = self;
        Self::entry_in(table, side, hash_builder, hash, key)
    }

    /// The value for a key.
    ///
    /// ```
    /// let map: mapstore::InlineMap<String, u8> = [("a".to_string(), 1)].into();
    /// assert_eq!(map.get("a"), Some(&1));
    /// assert_eq!(map.get("b"), None);
    /// ```
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.get_key_value(key).map(|(_, v)| v)
    }

    /// The stored key and value for a key.
    ///
    /// ```
    /// let map: mapstore::InlineMap<String, u8> = [("a".to_string(), 1)].into();
    /// assert_eq!(map.get_key_value("a"), Some((&"a".to_string(), &1)));
    /// ```
    #[inline]
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        if self.table.is_empty() {
            return None;
        }
        let hash = make_hash(&self.hash_builder, key);
        let bucket = self.table.find(hash, Self::is_key(key))?;
        Some(St::pair(&self.side, bucket))
    }

    /// The value for a key, mutably.
    ///
    /// ```
    /// let mut map: mapstore::PooledMap<&str, u32> = [("a", 1)].into();
    /// *map.get_mut("a").unwrap() += 1;
    /// assert_eq!(map["a"], 2);
    /// ```
    #[inline]
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        if self.table.is_empty() {
            return None;
        }
        let hash = make_hash(&self.hash_builder, key);
        let side = &self.side;
        let bucket = self.table.find_mut(hash, Self::is_key(key))?;
        Some(St::pair_mut(side, bucket).1)
    }

    /// Whether the map has a value for the key.
    ///
    /// ```
    /// let map: mapstore::BoxedMap<u8, u8> = [(1, 1)].into();
    /// assert!(map.contains_key(&1));
    /// assert!(!map.contains_key(&2));
    /// ```
    #[inline]
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.get_key_value(key).is_some()
    }

    /// Removes a key, returning its value.
    ///
    /// ```
    /// let mut map: mapstore::PooledMap<u8, u8> = [(1, 10)].into();
    /// assert_eq!(map.remove(&1), Some(10));
    /// assert_eq!(map.remove(&1), None);
    /// ```
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Removes a key, returning the stored key and its value.
    ///
    /// ```
    /// let mut map: mapstore::PooledMap<String, u8> = [("a".to_string(), 1)].into();
    /// assert_eq!(map.remove_entry("a"), Some(("a".to_string(), 1)));
    /// ```
    pub fn remove_entry<Q>(&mut self, key: &Q) -> Option<(K, V)>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        if self.table.is_empty() {
            return None;
        }
        let hash = make_hash(&self.hash_builder, key);
        Self::remove_entry_in(&mut self.table, &mut self.side, hash, key)
    }

    /// Mutable references to the values of `N` keys at once: `None` for a
    /// key that is missing. At most one reference is returned to any value;
    /// checking that compares each found entry with those before it
    /// (`O(N²)`), so be careful when passing many keys.
    ///
    /// # Panics
    ///
    /// If any keys overlap, as std's `HashMap::get_disjoint_mut` does: two
    /// of them find the same entry (equal keys that are present, or
    /// different queries [`Equivalent`] to one key). Equal keys that are
    /// absent find nothing and do not panic: each answer is `None`, as
    /// with std's.
    ///
    /// ```
    /// let mut map: mapstore::PooledMap<&str, u32> = [("a", 1), ("b", 2)].into();
    /// let [a, b, c] = map.get_disjoint_mut(["a", "b", "c"]);
    /// std::mem::swap(a.unwrap(), b.unwrap());
    /// assert!(c.is_none());
    /// assert_eq!(map["a"], 2);
    /// assert_eq!(map.get_disjoint_mut(["z", "z"]), [None, None]);
    /// ```
    ///
    /// ```should_panic
    /// let mut map: mapstore::PooledMap<&str, u32> = [("a", 1)].into();
    /// let _ = map.get_disjoint_mut(["a", "a"]); // panics: "a" is present
    /// ```
    pub fn get_disjoint_mut<Q, const N: usize>(&mut self, keys: [&Q; N]) -> [Option<&mut V>; N]
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let hashes = keys.map(|key| make_hash(&self.hash_builder, key));
        let side = &self.side;
        self.table
            .get_disjoint_mut(hashes, |i, bucket| St::matches(bucket, keys[i]))
            .map(|bucket| bucket.map(|bucket| St::pair_mut(side, bucket).1))
    }

    /// [`get_disjoint_mut`](Map::get_disjoint_mut) without the check that
    /// the keys differ, as std's `HashMap::get_disjoint_unchecked_mut`.
    ///
    /// # Safety
    ///
    /// No two of `keys` may match (be [`Equivalent`] to) the same entry of
    /// the map: their references would alias, which is undefined behaviour.
    /// Two queries that differ as `Q`s can still match one entry (`"A"`
    /// and `"a"` against a case-insensitive key); queries that match no
    /// entry are fine (their answers are `None`).
    ///
    /// ```
    /// let mut map: mapstore::MapStore<&str, u32> = [("a", 1), ("b", 2)].into();
    /// // SAFETY: "a", "b" and "c" are distinct keys.
    /// let [a, b, c] = unsafe { map.get_disjoint_unchecked_mut(["a", "b", "c"]) };
    /// std::mem::swap(a.unwrap(), b.unwrap());
    /// assert!(c.is_none());
    /// assert_eq!((map["a"], map["b"]), (2, 1));
    /// ```
    pub unsafe fn get_disjoint_unchecked_mut<Q, const N: usize>(
        &mut self,
        keys: [&Q; N],
    ) -> [Option<&mut V>; N]
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let hashes = keys.map(|key| make_hash(&self.hash_builder, key));
        let side = &self.side;
        // SAFETY: the caller promises that no two keys match one entry,
        // which is all hashbrown's unchecked lookup asks; distinct buckets
        // hold distinct values (a pooled bucket's slot is its own), so the
        // references do not alias.
        unsafe {
            self.table
                .get_disjoint_unchecked_mut(hashes, |i, bucket| St::matches(bucket, keys[i]))
        }
        .map(|bucket| bucket.map(|bucket| St::pair_mut(side, bucket).1))
    }
}

impl<K, V, S> Map<K, V, Boxed, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// Inserts a value that is already boxed, without moving it. If the key
    /// was present, returns the old box and keeps the old key.
    ///
    /// ```
    /// let mut map = mapstore::BoxedMap::new();
    /// let big = Box::new([7u8; 1 << 16]);
    /// let address = &*big as *const _;
    /// map.insert_boxed(1, big);
    /// assert_eq!(&map[&1] as *const _, address);
    /// ```
    pub fn insert_boxed(&mut self, key: K, value: Box<V>) -> Option<Box<V>> {
        let hash = make_hash(&self.hash_builder, &key);
        match self
            .table
            .entry(hash, Self::is_key(&key), Self::rehash(&self.hash_builder))
        {
            hash_table::Entry::Occupied(mut entry) => {
                Some(core::mem::replace(&mut entry.get_mut().slot, value))
            }
            hash_table::Entry::Vacant(entry) => {
                entry.insert(Pair { key, slot: value });
                None
            }
        }
    }

    /// Removes a key, returning its value still in its box.
    ///
    /// ```
    /// let mut map: mapstore::BoxedMap<u8, [u8; 4096]> = [(1, [9; 4096])].into();
    /// let page: Box<[u8; 4096]> = map.remove_boxed(&1).unwrap();
    /// assert_eq!(page[0], 9);
    /// ```
    pub fn remove_boxed<Q>(&mut self, key: &Q) -> Option<Box<V>>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let hash = make_hash(&self.hash_builder, key);
        let entry = self.table.find_entry(hash, Self::is_key(key)).ok()?;
        Some(entry.remove().0.slot)
    }
}

/// Drops a pooled map's entries as std's map drops its pairs (see
/// `StorageOps::drop_entries`); the fields' own drops do the rest.
impl<K, V, St: Storage, S> Drop for Map<K, V, St, S> {
    fn drop(&mut self) {
        St::drop_entries(&mut self.table, &mut self.side);
    }
}

impl<K, V, St: Storage, S: Default> Default for Map<K, V, St, S> {
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K: Clone, V: Clone, St: Storage, S: Clone> Clone for Map<K, V, St, S> {
    fn clone(&self) -> Self {
        let (table, side) = St::clone_parts(&self.table, &self.side);
        Map {
            table,
            side,
            hash_builder: self.hash_builder.clone(),
        }
    }

    /// Makes `self` a copy of `source`. An inline or boxed map reuses its
    /// table's allocation when it has as many buckets as `source`'s
    /// (hashbrown's and std's `clone_from` do the same); a pooled map is
    /// replaced by a clone. If a key's or value's `clone` panics, an inline
    /// or boxed map is left empty, as hashbrown's is, and a pooled map as it
    /// was.
    ///
    /// ```
    /// let source: mapstore::InlineMap<u32, u64> = (0..100).map(|i| (i, u64::from(i))).collect();
    /// let mut copy: mapstore::InlineMap<u32, u64> = (0..100).map(|i| (i + 1000, 0)).collect();
    /// copy.clone_from(&source);
    /// assert_eq!(copy, source);
    /// ```
    fn clone_from(&mut self, source: &Self) {
        if St::clone_table_from(&mut self.table, &source.table) {
            self.hash_builder.clone_from(&source.hash_builder);
        } else {
            *self = source.clone();
        }
    }
}

impl<K, V, St, S> fmt::Debug for Map<K, V, St, S>
where
    K: fmt::Debug,
    V: fmt::Debug,
    St: Storage,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K, V, St, S> PartialEq for Map<K, V, St, S>
where
    K: Eq + Hash,
    V: PartialEq,
    St: Storage,
    S: BuildHasher,
{
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(key, value)| other.get(key).is_some_and(|v| *value == *v))
    }
}

impl<K, V, St, S> Eq for Map<K, V, St, S>
where
    K: Eq + Hash,
    V: Eq,
    St: Storage,
    S: BuildHasher,
{
}

impl<K, Q, V, St, S> Index<&Q> for Map<K, V, St, S>
where
    K: Eq + Hash,
    Q: Hash + Equivalent<K> + ?Sized,
    St: Storage,
    S: BuildHasher,
{
    type Output = V;

    /// # Panics
    ///
    /// If the key is not in the map, as std's `HashMap` does.
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry found for key")
    }
}

impl<K, V, St, S> Extend<(K, V)> for Map<K, V, St, S>
where
    K: Eq + Hash,
    St: Storage,
    S: BuildHasher,
{
    #[track_caller]
    fn extend<T: IntoIterator<Item = (K, V)>>(&mut self, iter: T) {
        let iter = iter.into_iter();
        // As std does: keys may repeat, so reserve half when not empty.
        let hint = if self.is_empty() {
            iter.size_hint().0
        } else {
            iter.size_hint().0.div_ceil(2)
        };
        self.reserve(hint);
        iter.for_each(|(k, v)| {
            self.insert(k, v);
        });
    }
}

impl<'a, K, V, St, S> Extend<(&'a K, &'a V)> for Map<K, V, St, S>
where
    K: Eq + Hash + Copy,
    V: Copy,
    St: Storage,
    S: BuildHasher,
{
    #[track_caller]
    fn extend<T: IntoIterator<Item = (&'a K, &'a V)>>(&mut self, iter: T) {
        self.extend(iter.into_iter().map(|(&k, &v)| (k, v)));
    }
}

impl<K, V, St, S> FromIterator<(K, V)> for Map<K, V, St, S>
where
    K: Eq + Hash,
    St: Storage,
    S: BuildHasher + Default,
{
    #[track_caller]
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        let mut map = Self::default();
        map.extend(iter);
        map
    }
}

impl<K, V, St, const N: usize> From<[(K, V); N]> for Map<K, V, St, DefaultHashBuilder>
where
    K: Eq + Hash,
    St: Storage,
{
    fn from(entries: [(K, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<'a, K, V, St: Storage, S> IntoIterator for &'a Map<K, V, St, S> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V, St>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, K, V, St: Storage, S> IntoIterator for &'a mut Map<K, V, St, S> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V, St>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<K, V, St: Storage, S> IntoIterator for Map<K, V, St, S> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V, St>;
    fn into_iter(self) -> Self::IntoIter {
        let (table, side, _) = crate::pool::into_parts(self);
        IntoIter {
            inner: St::into_iter(table, side),
        }
    }
}

// ---------------------------------------------------------------------------
// Entry API

/// A view into one entry of a map, from [`Map::entry`].
///
/// ```
/// use mapstore::map::Entry;
///
/// let mut map: mapstore::InlineMap<&str, u32> = [("a", 1)].into();
/// match map.entry("a") {
///     Entry::Occupied(mut o) => *o.get_mut() += 1,
///     Entry::Vacant(v) => {
///         v.insert(0);
///     }
/// }
/// assert_eq!(map["a"], 2);
/// ```
pub enum Entry<'a, K, V, St: Storage> {
    /// The key is present.
    Occupied(OccupiedEntry<'a, K, V, St>),
    /// The key is absent.
    Vacant(VacantEntry<'a, K, V, St>),
}

/// An entry whose key is present.
pub struct OccupiedEntry<'a, K: 'a, V: 'a, St: Storage> {
    inner: hash_table::OccupiedEntry<'a, Bucket<K, V, St>>,
    side: &'a mut Side<K, V, St>,
}

/// An entry whose key is absent.
pub struct VacantEntry<'a, K: 'a, V: 'a, St: Storage> {
    inner: hash_table::VacantEntry<'a, Bucket<K, V, St>>,
    key: K,
    side: &'a mut Side<K, V, St>,
}

// SAFETY: as for `Map`'s, above: a unique borrow of the map's table and
// side storage, and for a vacant entry its key.
unsafe impl<K: Send, V: Send, St: Storage> Send for OccupiedEntry<'_, K, V, St> {}
// SAFETY: see above.
unsafe impl<K: Sync, V: Sync, St: Storage> Sync for OccupiedEntry<'_, K, V, St> {}
// SAFETY: see above.
unsafe impl<K: Send, V: Send, St: Storage> Send for VacantEntry<'_, K, V, St> {}
// SAFETY: see above.
unsafe impl<K: Sync, V: Sync, St: Storage> Sync for VacantEntry<'_, K, V, St> {}

impl<'a, K, V, St: Storage> Entry<'a, K, V, St> {
    /// The value, inserting `default` if absent.
    ///
    /// ```
    /// let mut map = mapstore::PooledMap::new();
    /// *map.entry("a").or_insert(1) += 10;
    /// assert_eq!(map["a"], 11);
    /// ```
    pub fn or_insert(self, default: V) -> &'a mut V {
        match self {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(default),
        }
    }

    /// The value, inserting `default()` if absent.
    ///
    /// ```
    /// let mut map: mapstore::InlineMap<&str, Vec<u8>> = mapstore::InlineMap::new();
    /// map.entry("a").or_insert_with(Vec::new).push(1);
    /// assert_eq!(map["a"], [1]);
    /// ```
    pub fn or_insert_with<F: FnOnce() -> V>(self, default: F) -> &'a mut V {
        match self {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(default()),
        }
    }

    /// The value, inserting `default(&key)` if absent.
    ///
    /// ```
    /// let mut lengths = mapstore::InlineMap::new();
    /// assert_eq!(*lengths.entry("four").or_insert_with_key(|k| k.len()), 4);
    /// ```
    pub fn or_insert_with_key<F: FnOnce(&K) -> V>(self, default: F) -> &'a mut V {
        match self {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let value = default(&entry.key);
                entry.insert(value)
            }
        }
    }

    /// The value, inserting `V::default()` if absent.
    ///
    /// ```
    /// let mut map: mapstore::PooledMap<&str, u64> = mapstore::PooledMap::new();
    /// *map.entry("a").or_default() += 5;
    /// assert_eq!(map["a"], 5);
    /// ```
    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Calls `f` on the value if present.
    ///
    /// ```
    /// let mut map = mapstore::BoxedMap::new();
    /// map.entry("a").and_modify(|v| *v += 1).or_insert(0);
    /// map.entry("a").and_modify(|v| *v += 1).or_insert(0);
    /// assert_eq!(map["a"], 1);
    /// ```
    pub fn and_modify<F: FnOnce(&mut V)>(mut self, f: F) -> Self {
        if let Entry::Occupied(entry) = &mut self {
            f(entry.get_mut());
        }
        self
    }

    /// Sets the value of the entry, inserting or replacing it, and returns
    /// the occupied entry, as std's `Entry::insert_entry`. A replaced value
    /// is dropped; for a present key the stored key stays (the one given to
    /// [`Map::entry`] is dropped).
    ///
    /// ```
    /// let mut map: mapstore::PooledMap<&str, u32> = [("a", 1)].into();
    /// assert_eq!(map.entry("a").insert_entry(10).get(), &10);
    /// let entry = map.entry("b").insert_entry(20);
    /// assert_eq!((entry.key(), entry.get()), (&"b", &20));
    /// assert_eq!((map["a"], map.len()), (10, 2));
    /// ```
    #[inline]
    pub fn insert_entry(self, value: V) -> OccupiedEntry<'a, K, V, St> {
        match self {
            Entry::Occupied(mut entry) => {
                entry.insert(value);
                entry
            }
            Entry::Vacant(entry) => entry.insert_entry(value),
        }
    }

    /// The entry's key: the stored one if present, else the one given to
    /// [`Map::entry`].
    ///
    /// ```
    /// let mut map: mapstore::InlineMap<&str, u32> = [("a", 1)].into();
    /// assert_eq!(map.entry("a").key(), &"a");
    /// assert_eq!(map.entry("b").key(), &"b");
    /// ```
    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(entry) => entry.key(),
            Entry::Vacant(entry) => entry.key(),
        }
    }
}

impl<'a, K, V, St: Storage> OccupiedEntry<'a, K, V, St> {
    /// The key stored in the map (for a present key, [`Map::entry`] keeps
    /// the stored key and drops the one it was given).
    ///
    /// ```
    /// use mapstore::map::Entry;
    ///
    /// let mut map: mapstore::InlineMap<&str, u32> = [("a", 1)].into();
    /// let Entry::Occupied(o) = map.entry("a") else { unreachable!() };
    /// assert_eq!(o.key(), &"a");
    /// ```
    pub fn key(&self) -> &K {
        St::pair(self.side, self.inner.get()).0
    }

    /// A reference to the value in the entry.
    ///
    /// ```
    /// use mapstore::map::Entry;
    ///
    /// let mut map: mapstore::PooledMap<&str, u32> = [("a", 1)].into();
    /// let Entry::Occupied(o) = map.entry("a") else { unreachable!() };
    /// assert_eq!(o.get(), &1);
    /// ```
    pub fn get(&self) -> &V {
        St::pair(self.side, self.inner.get()).1
    }

    /// A mutable reference to the value in the entry, borrowed from the
    /// entry: the entry stays usable afterwards.
    ///
    /// For a reference that outlives the entry (one that lives as long as
    /// the map's borrow), see [`into_mut`](Self::into_mut).
    ///
    /// ```
    /// use mapstore::map::Entry;
    ///
    /// let mut map: mapstore::BoxedMap<&str, u32> = [("a", 1)].into();
    /// let Entry::Occupied(mut o) = map.entry("a") else { unreachable!() };
    /// *o.get_mut() += 10;
    /// assert_eq!(o.get(), &11); // the entry is still there
    /// *o.get_mut() += 2;
    /// assert_eq!(map["a"], 13);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut V {
        St::pair_mut(self.side, self.inner.get_mut()).1
    }

    /// Converts the entry into a mutable reference to its value, which
    /// lives as long as the map's borrow (`'a`), not the entry's.
    ///
    /// To keep using the entry after changing the value, see
    /// [`get_mut`](Self::get_mut).
    ///
    /// ```
    /// use mapstore::map::Entry;
    ///
    /// let mut map: mapstore::PooledMap<&str, u32> = [("a", 1)].into();
    /// let value: &mut u32 = match map.entry("a") {
    ///     Entry::Occupied(o) => o.into_mut(),
    ///     Entry::Vacant(_) => unreachable!(),
    /// };
    /// *value += 10; // the entry is gone; the reference lives on
    /// assert_eq!(map["a"], 11);
    /// ```
    #[inline]
    pub fn into_mut(self) -> &'a mut V {
        let side: &'a Side<K, V, St> = self.side;
        St::pair_mut(side, self.inner.into_mut()).1
    }

    /// Replaces the value, returning the old one; the stored key stays.
    ///
    /// ```
    /// use mapstore::map::Entry;
    ///
    /// let mut map: mapstore::InlineMap<&str, u32> = [("a", 1)].into();
    /// let Entry::Occupied(mut o) = map.entry("a") else { unreachable!() };
    /// assert_eq!(o.insert(5), 1);
    /// assert_eq!(map["a"], 5);
    /// ```
    #[inline]
    pub fn insert(&mut self, value: V) -> V {
        core::mem::replace(self.get_mut(), value)
    }

    /// Removes the entry from the map, returning its value.
    ///
    /// ```
    /// use mapstore::map::Entry;
    ///
    /// let mut map: mapstore::PooledMap<&str, u32> = [("a", 1)].into();
    /// let Entry::Occupied(o) = map.entry("a") else { unreachable!() };
    /// assert_eq!(o.remove(), 1);
    /// assert!(!map.contains_key("a"));
    /// ```
    pub fn remove(self) -> V {
        self.remove_entry().1
    }

    /// Removes the entry from the map, returning the stored key and the
    /// value.
    ///
    /// ```
    /// use mapstore::map::Entry;
    ///
    /// let mut map: mapstore::BoxedMap<String, u32> = [("a".to_string(), 1)].into();
    /// let Entry::Occupied(o) = map.entry("a".to_string()) else { unreachable!() };
    /// assert_eq!(o.remove_entry(), ("a".to_string(), 1));
    /// assert!(map.is_empty());
    /// ```
    pub fn remove_entry(self) -> (K, V) {
        let (bucket, _) = self.inner.remove();
        St::take(self.side, bucket)
    }
}

impl<'a, K, V, St: Storage> VacantEntry<'a, K, V, St> {
    /// The key that would be inserted: the one given to [`Map::entry`].
    ///
    /// ```
    /// use mapstore::map::Entry;
    ///
    /// let mut map: mapstore::InlineMap<&str, u32> = mapstore::InlineMap::new();
    /// let Entry::Vacant(v) = map.entry("a") else { unreachable!() };
    /// assert_eq!(v.key(), &"a");
    /// ```
    pub fn key(&self) -> &K {
        &self.key
    }

    /// Takes the key back, inserting nothing.
    ///
    /// ```
    /// use mapstore::map::Entry;
    ///
    /// let mut map: mapstore::BoxedMap<String, u32> = mapstore::BoxedMap::new();
    /// let Entry::Vacant(v) = map.entry("a".to_string()) else { unreachable!() };
    /// assert_eq!(v.into_key(), "a");
    /// assert!(map.is_empty());
    /// ```
    pub fn into_key(self) -> K {
        self.key
    }

    /// Inserts the value with the entry's key, returning a mutable
    /// reference to it that lives as long as the map's borrow (`'a`).
    ///
    /// ```
    /// use mapstore::map::Entry;
    ///
    /// let mut map: mapstore::PooledMap<&str, u32> = mapstore::PooledMap::new();
    /// let Entry::Vacant(v) = map.entry("a") else { unreachable!() };
    /// *v.insert(1) += 10;
    /// assert_eq!(map["a"], 11);
    /// ```
    #[inline]
    pub fn insert(self, value: V) -> &'a mut V {
        self.insert_entry(value).into_mut()
    }

    /// Inserts the value with the entry's key, returning the occupied
    /// entry.
    ///
    /// ```
    /// use mapstore::map::Entry;
    ///
    /// let mut map: mapstore::InlineMap<&str, u32> = mapstore::InlineMap::new();
    /// let Entry::Vacant(v) = map.entry("a") else { unreachable!() };
    /// let o = v.insert_entry(1);
    /// assert_eq!((o.key(), o.get()), (&"a", &1));
    /// assert_eq!(map.len(), 1);
    /// ```
    #[inline]
    pub fn insert_entry(self, value: V) -> OccupiedEntry<'a, K, V, St> {
        let bucket = St::store(self.side, self.key, value);
        let inner = self.inner.insert(bucket);
        OccupiedEntry {
            inner,
            side: self.side,
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug, St: Storage> fmt::Debug for Entry<'_, K, V, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Occupied(entry) => f.debug_tuple("Entry").field(entry).finish(),
            Entry::Vacant(entry) => f.debug_tuple("Entry").field(entry).finish(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug, St: Storage> fmt::Debug for OccupiedEntry<'_, K, V, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OccupiedEntry")
            .field("key", self.key())
            .field("value", self.get())
            .finish_non_exhaustive()
    }
}

impl<K: fmt::Debug, V, St: Storage> fmt::Debug for VacantEntry<'_, K, V, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VacantEntry").field(self.key()).finish()
    }
}

// ---------------------------------------------------------------------------
// Iterators

/// A storage's borrowing iterator, which owns nothing (no storage's has drop
/// glue: `borrowing_iterators_own_nothing`), kept in a `ManuallyDrop` so
/// that the map's borrowing iterators have no drop glue in generic code
/// either. Then a temporary one ends its borrow where it is last used, as
/// std's does: `while let Some(k) = map.keys().next().cloned() {
/// map.remove(&k); }` compiles over any `V: MapValue` (an associated type
/// may have a destructor, so the borrow otherwise lasted the whole loop).
struct Borrowing<I>(ManuallyDrop<I>);

impl<I> Borrowing<I> {
    #[inline]
    fn new(iter: I) -> Self {
        Borrowing(ManuallyDrop::new(iter))
    }
}

impl<I> core::ops::Deref for Borrowing<I> {
    type Target = I;

    #[inline]
    fn deref(&self) -> &I {
        &self.0
    }
}

impl<I: Iterator> Iterator for Borrowing<I> {
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        self.0.next()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }

    #[inline]
    fn fold<B, F: FnMut(B, I::Item) -> B>(self, init: B, f: F) -> B {
        ManuallyDrop::into_inner(self.0).fold(init, f)
    }
}

impl<I: ExactSizeIterator> ExactSizeIterator for Borrowing<I> {
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<I: Clone> Clone for Borrowing<I> {
    #[inline]
    fn clone(&self) -> Self {
        Borrowing::new((*self.0).clone())
    }
}

impl<I: Default> Default for Borrowing<I> {
    #[inline]
    fn default() -> Self {
        Borrowing::new(I::default())
    }
}

/// Iterator over `(&K, &V)`, from [`Map::iter`].
pub struct Iter<'a, K: 'a, V: 'a, St: Storage> {
    inner: Borrowing<St::Iter<'a, K, V>>,
}

/// Iterator over `(&K, &mut V)`, from [`Map::iter_mut`].
pub struct IterMut<'a, K: 'a, V: 'a, St: Storage> {
    inner: Borrowing<St::IterMut<'a, K, V>>,
}

/// Owning iterator over `(K, V)`, from [`Map::into_iter`].
pub struct IntoIter<K, V, St: Storage> {
    inner: St::IntoIter<K, V>,
}

/// Draining iterator over `(K, V)`, from [`Map::drain`].
pub struct Drain<'a, K: 'a, V: 'a, St: Storage> {
    inner: St::Drain<'a, K, V>,
}

impl<K, V, St: Storage> Clone for Iter<'_, K, V, St> {
    fn clone(&self) -> Self {
        Iter {
            inner: self.inner.clone(),
        }
    }
}

// SAFETY: (these iterator impls) as for `Map`'s, above. The bounds are
// std's for its iterator of the same name.
unsafe impl<K: Sync, V: Sync, St: Storage> Send for Iter<'_, K, V, St> {}
// SAFETY: see above.
unsafe impl<K: Sync, V: Sync, St: Storage> Sync for Iter<'_, K, V, St> {}
// SAFETY: see above.
unsafe impl<K: Send, V: Send, St: Storage> Send for IterMut<'_, K, V, St> {}
// SAFETY: see above.
unsafe impl<K: Sync, V: Sync, St: Storage> Sync for IterMut<'_, K, V, St> {}
// SAFETY: see above.
unsafe impl<K: Send, V: Send, St: Storage> Send for IntoIter<K, V, St> {}
// SAFETY: see above.
unsafe impl<K: Sync, V: Sync, St: Storage> Sync for IntoIter<K, V, St> {}
// SAFETY: see above.
unsafe impl<K: Send, V: Send, St: Storage> Send for Drain<'_, K, V, St> {}
// SAFETY: see above.
unsafe impl<K: Sync, V: Sync, St: Storage> Sync for Drain<'_, K, V, St> {}
// SAFETY: see above; the predicate is bound like the entries.
unsafe impl<K: Send, V: Send, St: Storage, F: Send> Send for ExtractIf<'_, K, V, St, F> {}
// SAFETY: see above.
unsafe impl<K: Sync, V: Sync, St: Storage, F: Sync> Sync for ExtractIf<'_, K, V, St, F> {}

// The iterators' and entries' `Unpin` and unwind traits, with std's bounds
// for its types of the same names, for generic code (as `Map`'s, above):
// borrowing iterators are `Unpin` always, owning ones when `K` and `V` are.
impl<K, V, St: Storage> Unpin for Iter<'_, K, V, St> {}
impl<K: RefUnwindSafe, V: RefUnwindSafe, St: Storage> UnwindSafe for Iter<'_, K, V, St> {}
impl<K: RefUnwindSafe, V: RefUnwindSafe, St: Storage> RefUnwindSafe for Iter<'_, K, V, St> {}
impl<K, V, St: Storage> Unpin for IterMut<'_, K, V, St> {}
impl<K: RefUnwindSafe, V: RefUnwindSafe, St: Storage> RefUnwindSafe for IterMut<'_, K, V, St> {}
impl<K: Unpin, V: Unpin, St: Storage> Unpin for IntoIter<K, V, St> {}
impl<K: UnwindSafe, V: UnwindSafe, St: Storage> UnwindSafe for IntoIter<K, V, St> {}
impl<K: RefUnwindSafe, V: RefUnwindSafe, St: Storage> RefUnwindSafe for IntoIter<K, V, St> {}
impl<K, V, St: Storage> Unpin for Drain<'_, K, V, St> {}
impl<K: RefUnwindSafe, V: RefUnwindSafe, St: Storage> UnwindSafe for Drain<'_, K, V, St> {}
impl<K: RefUnwindSafe, V: RefUnwindSafe, St: Storage> RefUnwindSafe for Drain<'_, K, V, St> {}
impl<K, V, St: Storage, F: Unpin> Unpin for ExtractIf<'_, K, V, St, F> {}
impl<K, V, St: Storage> Unpin for OccupiedEntry<'_, K, V, St> {}
impl<K: Unpin, V, St: Storage> Unpin for VacantEntry<'_, K, V, St> {}
// The entries and `ExtractIf` hold a unique borrow of the map, so they are
// not `UnwindSafe` (nor are std's); `RefUnwindSafe` when `K`, `V` (and the
// predicate) are, as std's. `Entry` follows from its two variants.
impl<K: RefUnwindSafe, V: RefUnwindSafe, St: Storage, F: RefUnwindSafe> RefUnwindSafe
    for ExtractIf<'_, K, V, St, F>
{
}
impl<K: RefUnwindSafe, V: RefUnwindSafe, St: Storage> RefUnwindSafe
    for OccupiedEntry<'_, K, V, St>
{
}
impl<K: RefUnwindSafe, V: RefUnwindSafe, St: Storage> RefUnwindSafe for VacantEntry<'_, K, V, St> {}

/// Iterator that removes entries matching a predicate, from
/// [`Map::extract_if`].
#[must_use = "entries are only removed as the iterator advances"]
pub struct ExtractIf<'a, K, V, St: Storage, F> {
    table: &'a mut HashTable<Bucket<K, V, St>>,
    side: &'a mut Side<K, V, St>,
    index: usize,
    pred: F,
}

impl<K, V, St, F> Iterator for ExtractIf<'_, K, V, St, F>
where
    St: Storage,
    F: FnMut(&K, &mut V) -> bool,
{
    type Item = (K, V);

    fn next(&mut self) -> Option<Self::Item> {
        while self.index < self.table.num_buckets() {
            let index = self.index;
            self.index += 1;
            let Some(bucket) = self.table.get_bucket_mut(index) else {
                continue;
            };
            let (key, value) = St::pair_mut(self.side, bucket);
            if (self.pred)(key, value) {
                let entry = self.table.get_bucket_entry(index).ok()?;
                let (bucket, _) = entry.remove();
                return Some(St::take(self.side, bucket));
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.table.len()))
    }
}

impl<K, V, St: Storage, F> FusedIterator for ExtractIf<'_, K, V, St, F> where
    F: FnMut(&K, &mut V) -> bool
{
}

/// Iterator over keys, from [`Map::keys`].
pub struct Keys<'a, K, V, St: Storage> {
    inner: Iter<'a, K, V, St>,
}

/// Iterator over values, from [`Map::values`], in the order of
/// [`Map::iter`].
pub struct Values<'a, K, V, St: Storage> {
    inner: Iter<'a, K, V, St>,
}

/// Iterator over mutable values, from [`Map::values_mut`], in the order of
/// [`Map::iter`].
pub struct ValuesMut<'a, K, V, St: Storage> {
    inner: IterMut<'a, K, V, St>,
}

/// Iterator over values in the storage's memory order, from
/// [`Map::unordered_values`].
pub struct UnorderedValues<'a, K: 'a, V: 'a, St: Storage> {
    inner: Borrowing<St::Values<'a, K, V>>,
}

/// Iterator over mutable values in the storage's memory order, from
/// [`Map::unordered_values_mut`].
pub struct UnorderedValuesMut<'a, K: 'a, V: 'a, St: Storage> {
    inner: Borrowing<St::ValuesMut<'a, K, V>>,
}

// SAFETY: (these three) as for `Map`'s, above.
unsafe impl<K: Sync, V: Sync, St: Storage> Send for UnorderedValues<'_, K, V, St> {}
// SAFETY: see above.
unsafe impl<K: Sync, V: Sync, St: Storage> Sync for UnorderedValues<'_, K, V, St> {}
// SAFETY: see above.
unsafe impl<K: Send, V: Send, St: Storage> Send for UnorderedValuesMut<'_, K, V, St> {}
// SAFETY: see above.
unsafe impl<K: Sync, V: Sync, St: Storage> Sync for UnorderedValuesMut<'_, K, V, St> {}
impl<K, V, St: Storage> Unpin for UnorderedValues<'_, K, V, St> {}
impl<K: RefUnwindSafe, V: RefUnwindSafe, St: Storage> UnwindSafe for UnorderedValues<'_, K, V, St> {}
impl<K: RefUnwindSafe, V: RefUnwindSafe, St: Storage> RefUnwindSafe
    for UnorderedValues<'_, K, V, St>
{
}
impl<K, V, St: Storage> Unpin for UnorderedValuesMut<'_, K, V, St> {}
impl<K: Unpin, V: Unpin, St: Storage> Unpin for IntoUnorderedValues<K, V, St> {}
impl<K: UnwindSafe, V: UnwindSafe, St: Storage> UnwindSafe for IntoUnorderedValues<K, V, St> {}
impl<K: RefUnwindSafe, V: RefUnwindSafe, St: Storage> RefUnwindSafe
    for IntoUnorderedValues<K, V, St>
{
}
impl<K: RefUnwindSafe, V: RefUnwindSafe, St: Storage> RefUnwindSafe
    for UnorderedValuesMut<'_, K, V, St>
{
}

/// Owning iterator over keys, from [`Map::into_keys`].
pub struct IntoKeys<K, V, St: Storage> {
    inner: IntoIter<K, V, St>,
}

/// Owning iterator over values, from [`Map::into_values`], in the order
/// of [`Map::iter`].
pub struct IntoValues<K, V, St: Storage> {
    inner: IntoIter<K, V, St>,
}

/// Owning iterator over values in the storage's memory order, from
/// [`Map::into_unordered_values`].
pub struct IntoUnorderedValues<K, V, St: Storage> {
    inner: St::IntoValues<K, V>,
}

macro_rules! projection_iter {
    ($name:ident $(<$lt:lifetime>)?, $item:ty, |$pat:pat_param| $out:expr) => {
        impl<$($lt,)? K, V, St: Storage> Iterator for $name<$($lt,)? K, V, St> {
            type Item = $item;

            #[inline]
            fn next(&mut self) -> Option<Self::Item> {
                self.inner.next().map(|$pat| $out)
            }

            #[inline]
            fn size_hint(&self) -> (usize, Option<usize>) {
                self.inner.size_hint()
            }

            #[inline]
            fn fold<B, F: FnMut(B, Self::Item) -> B>(self, init: B, mut f: F) -> B {
                self.inner.fold(init, |acc, $pat| f(acc, $out))
            }
        }
    };
}

projection_iter!(Iter<'a>, (&'a K, &'a V), |entry| entry);
projection_iter!(IterMut<'a>, (&'a K, &'a mut V), |entry| entry);
projection_iter!(IntoIter, (K, V), |entry| entry);
projection_iter!(Drain<'a>, (K, V), |entry| entry);
projection_iter!(Keys<'a>, &'a K, |(k, _)| k);
projection_iter!(Values<'a>, &'a V, |(_, v)| v);
projection_iter!(ValuesMut<'a>, &'a mut V, |(_, v)| v);

impl<K, V, St: Storage> Iterator for IntoKeys<K, V, St> {
    type Item = K;

    /// The next key; its value is dropped where it lies (a boxed or pooled
    /// value is not moved out to be dropped).
    #[inline]
    fn next(&mut self) -> Option<K> {
        St::next_key(&mut self.inner.inner)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
projection_iter!(IntoValues, V, |(_, v)| v);
projection_iter!(UnorderedValues<'a>, &'a V, |v| v);
projection_iter!(UnorderedValuesMut<'a>, &'a mut V, |v| v);
projection_iter!(IntoUnorderedValues, V, |v| v);

// SAFETY: as for `Map`'s, above: the values that the map has not yet
// handed out, owned.
unsafe impl<K: Send, V: Send, St: Storage> Send for IntoUnorderedValues<K, V, St> {}
// SAFETY: see above.
unsafe impl<K: Sync, V: Sync, St: Storage> Sync for IntoUnorderedValues<K, V, St> {}

impl<K, V, St: Storage> Clone for Keys<'_, K, V, St> {
    fn clone(&self) -> Self {
        Keys {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V, St: Storage> Clone for Values<'_, K, V, St> {
    fn clone(&self) -> Self {
        Values {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V, St: Storage> Clone for UnorderedValues<'_, K, V, St> {
    fn clone(&self) -> Self {
        UnorderedValues {
            inner: self.inner.clone(),
        }
    }
}

macro_rules! exact_and_fused {
    ($($name:ident $(<$lt:lifetime>)?),* $(,)?) => {$(
        impl<$($lt,)? K, V, St: Storage> ExactSizeIterator for $name<$($lt,)? K, V, St> {
            #[inline]
            fn len(&self) -> usize {
                self.inner.len()
            }
        }

        impl<$($lt,)? K, V, St: Storage> FusedIterator for $name<$($lt,)? K, V, St> {}
    )*};
}

exact_and_fused!(
    Iter<'a>,
    IterMut<'a>,
    IntoIter,
    Drain<'a>,
    Keys<'a>,
    Values<'a>,
    ValuesMut<'a>,
    IntoKeys,
    IntoValues,
    UnorderedValues<'a>,
    UnorderedValuesMut<'a>,
    IntoUnorderedValues,
);

macro_rules! debug_len {
    ($($name:ident $(<$lt:lifetime>)?),* $(,)?) => {$(
        impl<$($lt,)? K, V, St: Storage> fmt::Debug for $name<$($lt,)? K, V, St> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("remaining", &self.inner.len())
                    .finish()
            }
        }
    )*};
}

debug_len!(UnorderedValuesMut<'a>, IntoUnorderedValues);

/// `Default` for the iterators std's map gives one: an empty iterator.
macro_rules! default_empty {
    ($($name:ident $(<$lt:lifetime>)? { $($inner:tt)* }),* $(,)?) => {$(
        impl<$($lt,)? K, V, St: Storage> Default for $name<$($lt,)? K, V, St> {
            /// An iterator that yields nothing, as std's.
            fn default() -> Self {
                $name { $($inner)* }
            }
        }
    )*};
}

default_empty!(
    Iter<'a> { inner: Default::default() },
    IterMut<'a> { inner: Default::default() },
    IntoIter { inner: Default::default() },
    Keys<'a> { inner: Iter::default() },
    Values<'a> { inner: Iter::default() },
    ValuesMut<'a> { inner: IterMut::default() },
    IntoKeys { inner: IntoIter::default() },
    IntoValues { inner: IntoIter::default() },
);

/// `Debug` for an iterator that cannot be cloned: a list of what it has not
/// yielded yet, as std's shows, read through the storage's `$peek` of the
/// map-level iterator at `self.$($field).+`, shown as `$show`.
macro_rules! debug_peek {
    ($(
        $name:ident $(<$lt:lifetime>)? [$($bound:ident: Debug),*]
            = $peek:ident(self.$($field:ident).+), |$k:pat_param, $v:pat_param| $show:expr;
    )*) => {$(
        impl<$($lt,)? K, V, St: Storage> fmt::Debug for $name<$($lt,)? K, V, St>
        where
            $($bound: fmt::Debug,)*
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut list = f.debug_list();
                St::$peek(&self.$($field).+, &mut |$k, $v| {
                    list.entry(&$show);
                });
                list.finish()
            }
        }
    )*};
}

debug_peek! {
    IterMut<'a> [K: Debug, V: Debug] = peek_iter_mut(self.inner), |k, v| (k, v);
    IntoIter [K: Debug, V: Debug] = peek_into_iter(self.inner), |k, v| (k, v);
    Drain<'a> [K: Debug, V: Debug] = peek_drain(self.inner), |k, v| (k, v);
    ValuesMut<'a> [V: Debug] = peek_iter_mut(self.inner.inner), |_, v| v;
    IntoKeys [K: Debug] = peek_into_iter(self.inner.inner), |k, _| k;
    IntoValues [V: Debug] = peek_into_iter(self.inner.inner), |_, v| v;
}

impl<K: fmt::Debug, V: fmt::Debug, St: Storage> fmt::Debug for Iter<'_, K, V, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<K: fmt::Debug, V, St: Storage> fmt::Debug for Keys<'_, K, V, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<K, V: fmt::Debug, St: Storage> fmt::Debug for Values<'_, K, V, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<K, V: fmt::Debug, St: Storage> fmt::Debug for UnorderedValues<'_, K, V, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<K, V, St: Storage, F> fmt::Debug for ExtractIf<'_, K, V, St, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtractIf").finish_non_exhaustive()
    }
}
