//! One trait over every map the benches and the tour race, and the
//! workloads they run.

use std::hash::Hash;
use std::hint::black_box;
use std::time::{Duration, Instant};

use mapstore::map::Map;
use mapstore::storage::Storage;
use mapstore::{DefaultHashBuilder, MapStore, MapValue, StorageKind};

use crate::alloc::Meter;
use crate::data::{Key, Keys, Value};

/// A map under test.
pub trait Contender<K, V>: Sized {
    /// Display name: `PooledMap`, `HashMap<K, Box<V>>`...
    const NAME: &'static str;
    /// A name safe in file paths and CSV (`PooledMap`, `hashbrown_Box`...).
    const ID: &'static str;
    /// An empty map.
    fn new() -> Self;
    /// An empty map with room for `n` entries.
    fn with_capacity(n: usize) -> Self;
    /// Inserts or replaces.
    fn insert(&mut self, key: K, value: V);
    /// Looks `key` up.
    fn get(&self, key: &K) -> Option<&V>;
    /// Removes `key` and returns its value.
    fn remove(&mut self, key: &K) -> Option<V>;
    /// Removes every entry, keeping the allocation where the map does.
    fn clear(&mut self);
    /// The number of entries.
    fn len(&self) -> usize;
    /// Whether the map is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Calls `f` on every entry (`iter()`).
    fn for_each(&self, f: impl FnMut(&K, &V));
    /// Calls `f` on every value (`values()`).
    fn for_each_value(&self, f: impl FnMut(&V));
    /// Calls `f` on every value, mutably (`values_mut()`).
    fn for_each_value_mut(&mut self, f: impl FnMut(&mut V));
    /// Removes every entry (`drain()`), showing each to `f` before it is
    /// dropped. The map keeps its memory where the map's `drain` does.
    fn drain_each(&mut self, f: impl FnMut(&K, &V));
    /// Consumes the map (`into_values()`), showing each value to `f` before
    /// it is dropped.
    fn into_values_each(self, f: impl FnMut(&V));
    /// `memory_usage()`, for the maps that have it.
    fn memory_usage(&self) -> Option<usize> {
        None
    }
}

/// The name of a storage's concrete map.
pub const fn map_name(kind: StorageKind) -> &'static str {
    match kind {
        StorageKind::Inline => "InlineMap",
        StorageKind::Boxed => "BoxedMap",
        StorageKind::Pooled => "PooledMap",
    }
}

/// The `Contender` impl of a mapstore map reached as `self$field`
/// (`$wrap` builds one from a map), whose value walks call `$values`,
/// `$values_mut` and `$into_values`: the ordered walks or the unordered ones.
macro_rules! mapstore_contender {
    (
        impl[$($gen:tt)*] for $ty:ty, name $name:expr, id $id:expr,
        |$m:ident| $wrap:expr, self[$($field:tt)*],
        $values:ident, $values_mut:ident, $into_values:ident
    ) => {
        impl<$($gen)*> Contender<K, V> for $ty {
            const NAME: &'static str = $name;
            const ID: &'static str = $id;
            fn new() -> Self {
                let $m = Map::with_hasher(Default::default());
                $wrap
            }
            fn with_capacity(n: usize) -> Self {
                let $m = Map::with_capacity_and_hasher(n, Default::default());
                $wrap
            }
            #[inline]
            fn insert(&mut self, key: K, value: V) {
                self$($field)*.insert(key, value);
            }
            #[inline]
            fn get(&self, key: &K) -> Option<&V> {
                self$($field)*.get(key)
            }
            #[inline]
            fn remove(&mut self, key: &K) -> Option<V> {
                self$($field)*.remove(key)
            }
            fn clear(&mut self) {
                self$($field)*.clear();
            }
            fn len(&self) -> usize {
                self$($field)*.len()
            }
            fn for_each(&self, mut f: impl FnMut(&K, &V)) {
                self$($field)*.iter().for_each(|(k, v)| f(k, v));
            }
            fn for_each_value(&self, f: impl FnMut(&V)) {
                self$($field)*.$values().for_each(f);
            }
            fn for_each_value_mut(&mut self, f: impl FnMut(&mut V)) {
                self$($field)*.$values_mut().for_each(f);
            }
            fn drain_each(&mut self, mut f: impl FnMut(&K, &V)) {
                self$($field)*.drain().for_each(|(k, v)| f(&k, &v));
            }
            fn into_values_each(self, mut f: impl FnMut(&V)) {
                self$($field)*.$into_values().for_each(|v| f(&v));
            }
            fn memory_usage(&self) -> Option<usize> {
                Some(self$($field)*.memory_usage())
            }
        }
    };
}

mapstore_contender!(
    impl[K: Hash + Eq, V, St: Storage] for Map<K, V, St>,
    name map_name(St::KIND), id map_name(St::KIND),
    |map| map, self[],
    values, values_mut, into_values
);

/// A mapstore map whose value walks are the opt-in memory-order ones:
/// `for_each_value`, `for_each_value_mut` and `into_values_each` call
/// `unordered_values()`, `unordered_values_mut()` and
/// `into_unordered_values()`; everything else is the map's own (and the
/// same as the plain [`Map`] contender's). For an inline or boxed map the
/// unordered walks are the ordered ones; for a pooled map they walk the
/// pool's chunks instead of the table.
pub struct Unordered<M>(pub M);

/// The name of a storage's concrete map with its unordered value walks.
pub const fn unordered_name(kind: StorageKind) -> &'static str {
    match kind {
        StorageKind::Inline => "InlineMap unordered",
        StorageKind::Boxed => "BoxedMap unordered",
        StorageKind::Pooled => "PooledMap unordered",
    }
}

/// [`unordered_name`], safe in file paths and CSV.
pub const fn unordered_id(kind: StorageKind) -> &'static str {
    match kind {
        StorageKind::Inline => "InlineMap_unordered",
        StorageKind::Boxed => "BoxedMap_unordered",
        StorageKind::Pooled => "PooledMap_unordered",
    }
}

mapstore_contender!(
    impl[K: Hash + Eq, V, St: Storage] for Unordered<Map<K, V, St>>,
    name unordered_name(St::KIND), id unordered_id(St::KIND),
    |map| Unordered(map), self[.0],
    unordered_values, unordered_values_mut, into_unordered_values
);

/// `MapStore<K, V>`: the storage `V`'s plan picked.
pub struct Store<K, V: MapValue>(pub MapStore<K, V>);

mapstore_contender!(
    impl[K: Hash + Eq, V: MapValue] for Store<K, V>,
    name "MapStore", id "MapStore",
    |map| Store(map), self[.0],
    values, values_mut, into_values
);

/// hashbrown's `HashMap<K, V>` with mapstore's default hasher.
pub type HashbrownMap<K, V> = hashbrown::HashMap<K, V, DefaultHashBuilder>;
/// hashbrown's `HashMap<K, Box<V>>`, the usual hand-made answer to large
/// values, with mapstore's default hasher.
pub type HashbrownBoxMap<K, V> = hashbrown::HashMap<K, Box<V>, DefaultHashBuilder>;
/// `IndexMap<K, V>` with mapstore's default hasher.
pub type IndexMapDefault<K, V> = indexmap::IndexMap<K, V, DefaultHashBuilder>;
/// std's `HashMap<K, V>` with its own SipHash hasher, where users start.
pub type StdMap<K, V> = std::collections::HashMap<K, V>;

macro_rules! std_like {
    ($name:literal, $id:literal, $ty:ty, remove: $remove:ident, drain: ($($range:tt)*),
     wrap: $wrap:expr, unwrap: $unwrap:expr, unwrap_mut: $unwrap_mut:expr, unbox: $unbox:expr) => {
        impl<K: Hash + Eq, V> Contender<K, V> for $ty {
            const NAME: &'static str = $name;
            const ID: &'static str = $id;
            fn new() -> Self {
                <$ty>::default()
            }
            fn with_capacity(n: usize) -> Self {
                <$ty>::with_capacity_and_hasher(n, Default::default())
            }
            #[inline]
            fn insert(&mut self, key: K, value: V) {
                <$ty>::insert(self, key, $wrap(value));
            }
            #[inline]
            fn get(&self, key: &K) -> Option<&V> {
                <$ty>::get(self, key).map($unwrap)
            }
            #[inline]
            fn remove(&mut self, key: &K) -> Option<V> {
                <$ty>::$remove(self, key).map($unbox)
            }
            fn clear(&mut self) {
                <$ty>::clear(self);
            }
            fn len(&self) -> usize {
                <$ty>::len(self)
            }
            fn for_each(&self, mut f: impl FnMut(&K, &V)) {
                self.iter().for_each(|(k, v)| f(k, $unwrap(v)));
            }
            fn for_each_value(&self, mut f: impl FnMut(&V)) {
                self.values().for_each(|v| f($unwrap(v)));
            }
            fn for_each_value_mut(&mut self, mut f: impl FnMut(&mut V)) {
                self.values_mut().for_each(|v| f($unwrap_mut(v)));
            }
            // A boxed value is read in its box, not moved out of it: what a
            // user of `HashMap<K, Box<V>>` would write.
            fn drain_each(&mut self, mut f: impl FnMut(&K, &V)) {
                self.drain($($range)*).for_each(|(k, v)| f(&k, $unwrap(&v)));
            }
            fn into_values_each(self, mut f: impl FnMut(&V)) {
                self.into_values().for_each(|v| f($unwrap(&v)));
            }
        }
    };
}

std_like!("HashMap<K, V>", "hashbrown", HashbrownMap<K, V>, remove: remove, drain: (),
    wrap: |v| v, unwrap: |v| v, unwrap_mut: |v| v, unbox: |v| v);
std_like!("HashMap<K, Box<V>>", "hashbrown_Box", HashbrownBoxMap<K, V>, remove: remove, drain: (),
    wrap: Box::new, unwrap: unbox_ref, unwrap_mut: unbox_mut, unbox: |v: Box<V>| *v);
std_like!("IndexMap<K, V>", "IndexMap", IndexMapDefault<K, V>, remove: swap_remove, drain: (..),
    wrap: |v| v, unwrap: |v| v, unwrap_mut: |v| v, unbox: |v| v);
std_like!("std HashMap<K, V>", "std_HashMap", StdMap<K, V>, remove: remove, drain: (),
    wrap: |v| v, unwrap: |v| v, unwrap_mut: |v| v, unbox: |v| v);

#[inline]
#[allow(clippy::borrowed_box)]
fn unbox_ref<V>(v: &Box<V>) -> &V {
    v
}

#[inline]
fn unbox_mut<V>(v: &mut Box<V>) -> &mut V {
    v
}

// ---------------------------------------------------------------------------
// Workloads

/// Inserts `keys[i] -> V::make(i)` for every key, in order.
#[inline(never)]
pub fn fill<K: Key, V: Value, M: Contender<K, V>>(map: &mut M, keys: &[K]) {
    for (i, key) in keys.iter().enumerate() {
        map.insert(key.clone(), V::make(i as u64));
    }
}

/// A map grown from empty with `keys`.
pub fn grown<K: Key, V: Value, M: Contender<K, V>>(keys: &[K]) -> M {
    let mut map = M::new();
    fill::<K, V, M>(&mut map, keys);
    map
}

/// `passes` lookups of every key in `keys`, reading each value's first
/// word; returns their sum.
#[inline(never)]
pub fn lookups<K: Key, V: Value, M: Contender<K, V>>(map: &M, keys: &[K], passes: usize) -> u64 {
    let mut sum = 0u64;
    for _ in 0..passes {
        for key in keys {
            if let Some(v) = map.get(black_box(key)) {
                sum = sum.wrapping_add(v.read());
            }
        }
    }
    sum
}

/// Removes every key in `keys` (present) and inserts it again with a fresh
/// value: the map stays the same size. Returns the sum of the removed
/// values' first words.
#[inline(never)]
pub fn churn<K: Key, V: Value, M: Contender<K, V>>(map: &mut M, keys: &[K]) -> u64 {
    let mut sum = 0u64;
    for (i, key) in keys.iter().enumerate() {
        sum = sum.wrapping_add(map.remove(black_box(key)).map_or(u64::MAX, |v| v.read()));
        map.insert(key.clone(), V::make(i as u64 ^ 0xc0ffee));
    }
    sum
}

/// The phases of one timed session on one map, in seconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Phases {
    /// Insert every key into an empty map.
    pub grow: f64,
    /// `passes` lookups of every key, in shuffled order.
    pub lookup: f64,
    /// Remove and reinsert every key, in shuffled order.
    pub churn: f64,
    /// `clear()` then drop.
    pub clear: f64,
}

/// One session: grow from empty, look every key up `passes` times in
/// shuffled order, churn every key once if `churn_too`, then clear and drop.
/// Each phase is timed on its own.
pub fn session<K: Key, V: Value, M: Contender<K, V>>(
    keys: &Keys<K>,
    passes: usize,
    churn_too: bool,
) -> Phases {
    let n = keys.len();
    let mut map = M::new();
    let start = Instant::now();
    fill::<K, V, M>(&mut map, &keys.insert);
    let grow = start.elapsed();
    black_box(&mut map);

    let start = Instant::now();
    let sum = lookups::<K, V, M>(&map, &keys.shuffled, passes);
    let lookup = start.elapsed();
    black_box(sum);

    let mut churn_time = Duration::ZERO;
    if churn_too {
        let start = Instant::now();
        let sum = churn::<K, V, M>(&mut map, &keys.shuffled);
        churn_time = start.elapsed();
        black_box(sum);
    }
    assert_eq!(map.len(), n, "{} lost entries", M::NAME);

    let start = Instant::now();
    map.clear();
    drop(black_box(map));
    let clear = start.elapsed();
    Phases {
        grow: grow.as_secs_f64(),
        lookup: lookup.as_secs_f64(),
        churn: churn_time.as_secs_f64(),
        clear: clear.as_secs_f64(),
    }
}

/// What one grow-from-empty allocates, from the counting allocator
/// ([`crate::alloc::Counting`] must be the global allocator).
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// Bytes live at the end (table, pool, boxes, and the keys' and values'
    /// own heap).
    pub live: usize,
    /// The most bytes live at any moment while growing.
    pub peak: usize,
    /// `live` in the allocator's real block sizes (0 where unknown).
    pub live_real: usize,
    /// `peak` in real block sizes (0 where unknown).
    pub peak_real: usize,
    /// Allocation calls.
    pub allocations: u64,
    /// `memory_usage()` plus the keys' and values' own heap, for maps that
    /// report it: must equal `live`.
    pub reported: Option<usize>,
}

/// Grows a map from empty with `keys` while counting its allocations.
pub fn memory<K: Key, V: Value, M: Contender<K, V>>(keys: &[K]) -> Memory {
    // Keys are cloned into the map, so their heap is counted.
    let meter = Meter::start();
    let map: M = grown::<K, V, M>(keys);
    let live = meter.live().max(0) as usize;
    let peak = meter.peak();
    let live_real = meter.live_real().max(0) as usize;
    let peak_real = meter.peak_real();
    let allocations = meter.allocations();
    let reported = map.memory_usage().map(|bytes| {
        let mut owned = 0;
        map.for_each(|k, v| owned += k.heap_bytes() + v.heap_bytes());
        bytes + owned
    });
    drop(black_box(map));
    Memory {
        live,
        peak,
        live_real,
        peak_real,
        allocations,
        reported,
    }
}
