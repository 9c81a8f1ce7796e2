//! Drop accounting: keys and values count their constructions and drops
//! (thread-local, with a double-drop detector). After every step the live
//! counts equal the map's length; after the map is gone they are zero.

#[macro_use]
mod common;

use std::cell::Cell;
use std::hash::BuildHasher;

use mapstore::map::{Entry, Map};
use mapstore::storage::Storage;
use mapstore::{MapStore, PooledMap};

use common::{
    assert_clean, created, double_drops, dropped, live_keys, live_vals, Collide, Kind, Large,
    Small, TKey, TVal,
};

fn k(id: u32) -> TKey {
    TKey::new(id)
}

fn v(id: u64) -> Large {
    Large::new(id)
}

/// Live keys and values equal `len`; nothing dropped twice.
#[track_caller]
fn balanced<St: Storage, S: BuildHasher>(map: &Map<TKey, Large, St, S>) {
    assert_eq!(double_drops(), 0, "double drop");
    assert_eq!(live_keys(), map.len(), "live keys");
    assert_eq!(live_vals(), map.len(), "live values");
    for (key, value) in map.iter() {
        value.check();
        assert_eq!(
            value.id,
            u64::from(key.id) % 1000,
            "value of key {}",
            key.id
        );
    }
}

/// Every operation that consumes, replaces or discards keys and values,
/// checked against the counters after each one.
fn lifecycle<St: Storage>() {
    let mut map: Map<TKey, Large, St, Collide<13>> = Map::with_hasher(Collide);
    for i in 0..300 {
        assert!(map.insert(k(i), v(u64::from(i))).is_none());
    }
    balanced(&map);

    // insert over an existing key returns the old value and drops the new
    // key (the map keeps the old one), as std does.
    let keys_before = dropped(Kind::Key);
    for i in 0..50 {
        let old = map.insert(k(i), v(u64::from(i)));
        assert_eq!(old.map(|x| x.id), Some(u64::from(i)));
    }
    assert_eq!(dropped(Kind::Key) - keys_before, 50);
    balanced(&map);

    // remove, remove_entry, entry remove.
    for i in 0..30 {
        assert!(map.remove(&k(i)).is_some());
        assert!(map.remove(&k(i)).is_none());
    }
    for i in 30..40 {
        let (key, _) = map.remove_entry(&k(i)).unwrap();
        assert_eq!(key.id, i);
    }
    for i in 40..50 {
        match map.entry(k(i)) {
            Entry::Occupied(o) => drop(o.remove_entry()),
            Entry::Vacant(_) => panic!("{i} is present"),
        }
    }
    balanced(&map);

    // Entry paths that discard what they were given.
    map.entry(k(60)).or_insert(v(999)); // present: the value is dropped
    map.entry(k(61)).and_modify(|x| *x = v(61)).or_default();
    map.entry(k(5)).or_insert_with(|| v(5)); // vacant
    map.entry(k(1006))
        .or_insert_with_key(|key| v(u64::from(key.id) % 1000));
    map.entry(k(62)).insert_entry(v(62)); // present: old value dropped
    if let Entry::Vacant(vacant) = map.entry(k(2000)) {
        drop(vacant.into_key());
    }
    *map.get_mut(&k(63)).unwrap() = v(63); // assignment drops the old value
    balanced(&map);

    // get_disjoint_mut, iter_mut, values_mut: replace values in place.
    let [a, b] = map.get_disjoint_mut([&k(70), &k(71)]);
    std::mem::swap(a.unwrap(), b.unwrap());
    let [a, b] = map.get_disjoint_mut([&k(70), &k(71)]);
    std::mem::swap(a.unwrap(), b.unwrap());
    for (key, value) in map.iter_mut() {
        *value = v(u64::from(key.id) % 1000);
    }
    for value in map.values_mut() {
        *value = v(value.id);
    }
    balanced(&map);

    // retain, extract_if fully and partly consumed, and dropped unconsumed.
    map.retain(|key, _| key.id % 7 != 0);
    balanced(&map);
    let odd: Vec<_> = map.extract_if(|key, _| key.id % 5 == 1).collect();
    assert!(!odd.is_empty());
    assert_eq!(live_vals(), map.len() + odd.len());
    drop(odd);
    balanced(&map);
    let some: Vec<_> = map.extract_if(|key, _| key.id % 5 == 2).take(3).collect();
    assert_eq!(some.len(), 3);
    drop(some);
    drop(map.extract_if(|_, _| true));
    balanced(&map);
    assert!(
        map.keys().any(|key| key.id % 5 == 2),
        "unvisited entries stay"
    );

    // clone: both copies counted, each dropped once.
    let copy = map.clone();
    assert_eq!(live_vals(), 2 * map.len());
    drop(copy);
    balanced(&map);

    // reserve, shrink: no value is dropped or duplicated.
    map.reserve(500);
    map.shrink_to_fit();
    map.shrink_to(0);
    balanced(&map);

    // drain, half consumed, then dropped.
    let len = map.len();
    let mut drain = map.drain();
    let half: Vec<_> = drain.by_ref().take(len / 2).collect();
    drop(drain);
    assert_eq!(live_vals(), half.len());
    drop(half);
    assert!(map.is_empty());
    balanced(&map);

    // Refill, clear, refill, then into_iter partly consumed.
    map.extend((0..200).map(|i| (k(i), v(u64::from(i)))));
    balanced(&map);
    map.clear();
    balanced(&map);
    map.extend((0..200).map(|i| (k(i), v(u64::from(i)))));
    let mut it = map.into_iter();
    let first: Vec<_> = it.by_ref().take(50).collect();
    assert_eq!(live_vals(), 200);
    drop(it);
    assert_eq!(live_vals(), 50);
    drop(first);
    assert_clean();
    assert_eq!(created(Kind::Val), dropped(Kind::Val));
}

/// `clear` drops every value exactly once (per storage, for a map that
/// spans many pool chunks), and the map is reused afterwards.
fn clear_drops_each_value_once<St: Storage>() {
    let mut map: Map<TKey, Large, St> = Map::new();
    map.extend((0..700).map(|i| (k(i), v(u64::from(i)))));
    for i in (0..700).step_by(3) {
        map.remove(&k(i));
    }
    let len = map.len() as u64;
    let before = dropped(Kind::Val);
    map.clear();
    assert_eq!(dropped(Kind::Val) - before, len, "each value dropped once");
    assert_eq!(double_drops(), 0);
    assert_eq!(live_vals(), 0);
    map.extend((0..700).map(|i| (k(i), v(u64::from(i)))));
    balanced(&map);
    drop(map);
    assert_clean();
}

/// Freed pool slots are reused, last freed first, without allocating; a
/// value never moves while it is in the map.
#[test]
fn pooled_free_list_reuse() {
    let mut map: PooledMap<TKey, Large> = PooledMap::new();
    map.extend((0..500).map(|i| (k(i), v(u64::from(i)))));
    let address = |map: &PooledMap<TKey, Large>, i: u32| &map[&k(i)] as *const Large;
    let pinned = address(&map, 7);

    let freed = address(&map, 100);
    map.remove(&k(100));
    map.insert(k(1000), v(0));
    assert_eq!(address(&map, 1000), freed, "the freed slot is reused first");

    for i in 200..400 {
        map.remove(&k(i));
    }
    // (Measured after the removals: the free list's own capacity grew.)
    let memory = map.memory_usage();
    for i in 2000..2200 {
        map.insert(k(i), v(u64::from(i) % 1000));
    }
    assert_eq!(map.memory_usage(), memory, "reuse allocates nothing");
    assert_eq!(address(&map, 7), pinned, "values never move");
    balanced(&map);

    // Growth past the pool's capacity adds chunks; old values stay put.
    map.extend((3000..4000).map(|i| (k(i), v(u64::from(i) % 1000))));
    assert!(map.memory_usage() > memory);
    assert_eq!(address(&map, 7), pinned);
    balanced(&map);

    // After clear the chunks are kept and reused.
    let memory = map.memory_usage();
    map.clear();
    balanced(&map);
    map.extend((0..1000).map(|i| (k(i), v(u64::from(i)))));
    assert_eq!(map.memory_usage(), memory);
    balanced(&map);
    drop(map);
    assert_clean();
}

/// A pooled map of values that need no drop: `clear` does no per-value
/// work and the slots are reused.
#[test]
fn pooled_clear_without_needs_drop() {
    let mut map: PooledMap<u32, [u64; 40]> = PooledMap::new();
    map.extend((0..600).map(|i| (i, [u64::from(i); 40])));
    let memory = map.memory_usage();
    map.clear();
    assert!(map.is_empty());
    assert_eq!(map.iter().count(), 0);
    map.extend((0..600).map(|i| (i, [u64::from(i) + 1; 40])));
    assert_eq!(map.memory_usage(), memory);
    assert!(map
        .iter()
        .all(|(&i, v)| v.iter().all(|&x| x == u64::from(i) + 1)));
}

thread_local! {
    static ZST_LIVE: Cell<i64> = const { Cell::new(0) };
}

/// A zero-sized value with a destructor.
#[derive(Debug)]
struct Zst;

impl Zst {
    fn new() -> Zst {
        ZST_LIVE.with(|c| c.set(c.get() + 1));
        Zst
    }
}

impl Clone for Zst {
    fn clone(&self) -> Self {
        Zst::new()
    }
}

impl Drop for Zst {
    fn drop(&mut self) {
        ZST_LIVE.with(|c| c.set(c.get() - 1));
    }
}

fn zst_live() -> i64 {
    ZST_LIVE.with(|c| c.get())
}

fn zero_sized_values<St: Storage>() {
    let mut map: Map<u32, Zst, St> = Map::new();
    for i in 0..300 {
        map.insert(i, Zst::new());
    }
    assert_eq!(zst_live(), 300);
    for i in 0..100 {
        assert!(map.remove(&i).is_some());
    }
    assert_eq!(zst_live(), 200);
    let copy = map.clone();
    assert_eq!(zst_live(), 400);
    drop(copy);
    map.retain(|&i, _| i % 2 == 0);
    assert_eq!(zst_live(), map.len() as i64);
    let mut drain = map.drain();
    drain.next();
    drop(drain);
    assert_eq!(zst_live(), 0);
    map.extend((0..50).map(|i| (i, Zst::new())));
    map.clear();
    assert_eq!(zst_live(), 0);
    map.extend((0..50).map(|i| (i, Zst::new())));
    drop(map);
    assert_eq!(zst_live(), 0);
}

/// `mem::forget` of a half-consumed `Drain`: std leaks the rest; the map
/// must be empty and usable, and nothing may be dropped twice.
fn forgotten_drain<St: Storage>() {
    let mut map: Map<TKey, Large, St> = Map::new();
    map.extend((0..100).map(|i| (k(i), v(u64::from(i)))));
    let mut drain = map.drain();
    drop(drain.next());
    std::mem::forget(drain);
    assert!(map.is_empty());
    common::reset();
    map.extend((0..100).map(|i| (k(i), v(u64::from(i)))));
    balanced(&map);
    drop(map);
    assert_clean();
}

/// Shrinking after removals keeps every value (and frees pool chunks).
fn shrink_keeps_values<St: Storage>() {
    let mut map: Map<TKey, Large, St> = Map::new();
    map.extend((0..1000).map(|i| (k(i), v(u64::from(i) % 1000))));
    let memory = map.memory_usage();
    // A pool frees the chunks above its highest occupied slot: keep the
    // first entries inserted.
    map.retain(|key, _| key.id < 10);
    map.shrink_to_fit();
    assert!(map.memory_usage() < memory / 4);
    balanced(&map);
    assert_eq!(map.len(), 10);
    map.extend((1000..1100).map(|i| (k(i), v(u64::from(i) % 1000))));
    balanced(&map);
    drop(map);
    assert_clean();
}

/// The same accounting through `MapStore`, over each storage it can pick.
#[test]
fn store_lifecycle() {
    fn run<V: mapstore::MapValue + Clone>(make: fn(u64) -> V) {
        let mut store: MapStore<TKey, V> = MapStore::new();
        store.extend((0..200).map(|i| (k(i), make(u64::from(i)))));
        assert_eq!(live_vals(), 200);
        store.retain(|key, _| key.id % 2 == 0);
        assert_eq!(live_vals(), 100);
        let copy = store.clone();
        assert_eq!(live_vals(), 200);
        drop(copy);
        let mut it = store.into_iter();
        drop(it.next());
        drop(it);
        assert_clean();
    }
    run(Small::new);
    run(Large::new);
    run(TVal::<64>::new);
}

per_storage!(
    lifecycle,
    clear_drops_each_value_once,
    zero_sized_values,
    forgotten_drain,
    shrink_keeps_values,
);

thread_local! {
    /// Where each `Placed` value was dropped.
    static DROPPED_AT: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A value that records the address it is dropped at.
struct Placed([u64; 64]);

impl Drop for Placed {
    fn drop(&mut self) {
        let at = self as *const Placed as usize;
        DROPPED_AT.with(|log| log.borrow_mut().push(at));
    }
}

/// The addresses of the values of keys `keep` rejects, as the map holds them.
fn addresses_of<St: Storage>(map: &Map<u32, Placed, St>, drop: impl Fn(u32) -> bool) -> Vec<usize> {
    let mut at: Vec<usize> = map
        .iter()
        .filter(|(k, _)| drop(**k))
        .map(|(_, v)| v as *const Placed as usize)
        .collect();
    at.sort_unstable();
    at
}

fn take_dropped_at() -> Vec<usize> {
    let mut at = DROPPED_AT.with(|log| std::mem::take(&mut *log.borrow_mut()));
    at.sort_unstable();
    at
}

/// `retain` and `into_keys` drop a boxed or pooled value in its box or
/// slot: it is never moved onto the stack first (a map of megabyte values
/// must not need a megabyte of stack to drop one).
fn values_dropped_where_they_lie<St: Storage>() {
    let make =
        || -> Map<u32, Placed, St> { (0..64).map(|i| (i, Placed([u64::from(i); 64]))).collect() };
    let mut map = make();
    let rejected = addresses_of(&map, |k| k % 3 == 0);
    take_dropped_at();
    map.retain(|k, v| {
        assert_eq!(v.0[0], u64::from(*k));
        k % 3 != 0
    });
    assert_eq!(map.len(), 64 - 22);
    assert_eq!(
        take_dropped_at(),
        rejected,
        "retain moved a value before dropping it"
    );
    drop(map);
    take_dropped_at();

    let map = make();
    let all = addresses_of(&map, |_| true);
    take_dropped_at();
    let mut keys: Vec<u32> = map.into_keys().collect();
    keys.sort_unstable();
    assert_eq!(keys, (0..64).collect::<Vec<_>>());
    assert_eq!(
        take_dropped_at(),
        all,
        "into_keys moved a value before dropping it"
    );
}

#[test]
fn boxed_values_dropped_where_they_lie() {
    values_dropped_where_they_lie::<mapstore::storage::Boxed>();
}

#[test]
fn pooled_values_dropped_where_they_lie() {
    values_dropped_where_they_lie::<mapstore::storage::Pooled>();
}
