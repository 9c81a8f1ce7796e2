//! Code generic over `V: MapValue + Send + Sync` shares every store across
//! threads with no further bound: the maps' auto traits follow `K`, `V` and
//! `S` alone, as std's `HashMap`'s do.
#![deny(warnings)]

use std::thread;

use mapstore::{ConcurrentStore, FrozenStore, MapStore, MapValue};

/// Fills a shared store from four scoped threads.
fn fill<V: MapValue + Send + Sync>(store: &ConcurrentStore<u64, V>, make: fn(u64) -> V) {
    thread::scope(|s| {
        for t in 0..4 {
            s.spawn(move || {
                store.insert(t, make(t));
            });
        }
    });
}

/// Reads a map from scoped threads sharing `&map`.
fn count_shared<V: MapValue + Sync>(map: &MapStore<u64, V>) -> usize {
    thread::scope(|s| {
        let handles: Vec<_> = (0..2).map(|_| s.spawn(|| map.len())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

/// Moves a map into a thread and back.
fn round_trip<V: MapValue + Send + 'static>(map: MapStore<u64, V>) -> MapStore<u64, V> {
    thread::spawn(move || map).join().unwrap()
}

/// Moves a map into a thread and walks it there, iterators and all.
fn walk_elsewhere<V: MapValue + Send + Sync + 'static>(mut map: MapStore<u64, V>) -> usize {
    thread::spawn(move || {
        let n = map.iter().count() + map.values_mut().count();
        let drained = map.drain().count();
        n + drained
    })
    .join()
    .unwrap()
}

/// An iterator and an entry sent to a scoped thread.
fn iterators_across<V: MapValue + Send + Sync>(map: &mut MapStore<u64, V>) -> usize {
    thread::scope(|s| {
        let keys = map.keys();
        s.spawn(move || keys.count()).join().unwrap()
    }) + thread::scope(|s| {
        let entry = map.entry(99);
        s.spawn(move || matches!(entry, mapstore::map::Entry::Vacant(_)) as usize)
            .join()
            .unwrap()
    })
}

/// The whole store moved into a thread, and shared by scoped threads.
fn concurrent_moves<V: MapValue + Send + Sync + 'static>(
    store: ConcurrentStore<u64, V>,
) -> ConcurrentStore<u64, V> {
    thread::spawn(move || store).join().unwrap()
}

/// A frozen store shared by scoped threads and moved into one.
fn frozen_shared<V: MapValue + Send + Sync + 'static>(store: FrozenStore<u64, V>) -> usize {
    let shared = thread::scope(|s| {
        let store = &store;
        let handles: Vec<_> = (0..2u64)
            .map(|t| s.spawn(move || store.contains_key(&t) as usize))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum::<usize>()
    });
    shared + thread::spawn(move || store.len()).join().unwrap()
}

/// A large value: pooled.
#[derive(MapStore, Clone, Copy)]
struct Page([u64; 64]);

/// The same over `V: MapValue` in a struct field, across an `impl Send`.
struct Cache<V: MapValue> {
    map: MapStore<String, V>,
}

fn cache_is_send<V: MapValue + Send + Sync>(cache: Cache<V>) -> impl Send + Sync {
    cache
}

pub fn main() {
    let store: ConcurrentStore<u64, String> = ConcurrentStore::new();
    fill(&store, |t| t.to_string());
    assert_eq!(store.len(), 4);
    let store = concurrent_moves(store);
    assert_eq!(store.len(), 4);

    // Large values (pooled) and small ones (inline) alike.
    let big: ConcurrentStore<u64, Page> = ConcurrentStore::new();
    fill(&big, |t| Page([t; 64]));
    assert_eq!(big.len(), 4);

    let mut map: MapStore<u64, String> = (0..3).map(|i| (i, i.to_string())).collect();
    assert_eq!(count_shared(&map), 6);
    assert_eq!(iterators_across(&mut map), 4);
    let map = round_trip(map);
    assert_eq!(walk_elsewhere(map), 9);

    let pages: MapStore<u64, Page> = (0..3).map(|i| (i, Page([i; 64]))).collect();
    assert_eq!(pages.storage(), mapstore::StorageKind::Pooled);
    assert_eq!(pages[&1].0[63], 1);
    assert_eq!(walk_elsewhere(round_trip(pages)), 9);

    let frozen: FrozenStore<u64, String> = (0..3).map(|i| (i, i.to_string())).collect();
    assert_eq!(frozen_shared(frozen), 5);

    let cache = Cache::<u64> { map: MapStore::new() };
    let _ = cache_is_send(cache);
    let _ = Cache::<u64> { map: MapStore::new() }.map.len();
}
