//! Keys that break `Hash`/`Eq`'s contract: a hash that differs per call,
//! one hash for every key, an `Eq` that is always true, always false or
//! random. As with std's `HashMap`, a logic error of the caller that may
//! cost wrong or missing lookups, and nothing more: no store panics on its
//! own bookkeeping, and every value is dropped exactly once (a live count
//! that matches what the store says it holds, zero once it is gone).
//! Keys whose hash changes while stored are in
//! `tests/concurrent_unstable_hash.rs`.

use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use mapstore::map::Map;
use mapstore::storage::{Boxed, Inline, Pooled, Storage};
use mapstore::{ConcurrentStore, FrozenStore, MapValue, Plan};

#[derive(Clone, Copy, Debug)]
enum Broken {
    RandomHash,
    OneHash,
    EqTrue,
    EqFalse,
    EqRandom,
}

const ALL: [Broken; 5] = [
    Broken::RandomHash,
    Broken::OneHash,
    Broken::EqTrue,
    Broken::EqFalse,
    Broken::EqRandom,
];

/// A key that breaks the contract as `how` says; `noise` drives the random
/// answers (a SplitMix64 stream shared by the keys of one test).
struct Key {
    id: u64,
    how: Broken,
    noise: Arc<AtomicU64>,
}

fn next(noise: &AtomicU64) -> u64 {
    let mut x = noise.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self.how {
            Broken::RandomHash => next(&self.noise).hash(state),
            Broken::OneHash => 0u8.hash(state),
            _ => self.id.hash(state),
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        match self.how {
            Broken::EqTrue => true,
            Broken::EqFalse => false,
            Broken::EqRandom => next(&self.noise) & 1 == 0,
            _ => self.id == other.id,
        }
    }
}
impl Eq for Key {}

/// A value that counts the live ones, stored as `St` says.
struct Val<St> {
    live: Arc<AtomicI64>,
    _pad: [u64; 12],
    _storage: PhantomData<St>,
}

impl<St: Storage> MapValue for Val<St> {
    type Storage = St;
    const PLAN: Plan = Plan::of::<Self>("Val", &["live"]);
}

impl<St> Val<St> {
    fn new(live: &Arc<AtomicI64>) -> Self {
        live.fetch_add(1, Ordering::Relaxed);
        Val {
            live: live.clone(),
            _pad: [7; 12],
            _storage: PhantomData,
        }
    }
}

impl<St> Drop for Val<St> {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Case {
    how: Broken,
    noise: Arc<AtomicU64>,
    live: Arc<AtomicI64>,
}

impl Case {
    fn new(how: Broken) -> Case {
        Case {
            how,
            noise: Arc::new(AtomicU64::new(how as u64)),
            live: Arc::new(AtomicI64::new(0)),
        }
    }
    fn key(&self, id: u64) -> Key {
        Key {
            id,
            how: self.how,
            noise: self.noise.clone(),
        }
    }
    fn live(&self) -> usize {
        usize::try_from(self.live.load(Ordering::Relaxed)).expect("no value dropped twice")
    }
}

const N: u64 = 300;

fn maps<St: Storage>() {
    for how in ALL {
        let case = Case::new(how);
        let mut map: Map<Key, Val<St>, St> = Map::new();
        for id in (0..N).chain(0..N / 2) {
            drop(map.insert(case.key(id), Val::new(&case.live)));
            assert_eq!(case.live(), map.len(), "{how:?}");
        }
        for id in (0..N).step_by(3) {
            drop(map.remove(&case.key(id)));
            let _ = map.get(&case.key(id + 1));
            *map.entry(case.key(id + 2))
                .or_insert_with(|| Val::new(&case.live)) = Val::new(&case.live);
            assert_eq!(case.live(), map.len(), "{how:?}");
        }
        let mut flip = false;
        map.retain(|_, _| {
            flip = !flip;
            flip
        });
        assert_eq!(map.iter().count(), map.len(), "{how:?}");
        assert_eq!(case.live(), map.len(), "{how:?}");
        let copy: Vec<u64> = map.keys().map(|k| k.id).collect();
        assert_eq!(copy.len(), map.len());
        map.shrink_to_fit();
        assert!(map.drain().take(3).count() <= 3);
        assert_eq!(case.live(), map.len(), "{how:?}");
        drop(map);
        assert_eq!(case.live(), 0, "{how:?}: a value was never dropped");
    }
}

#[test]
fn inline_maps() {
    maps::<Inline>();
}

#[test]
fn pooled_maps() {
    maps::<Pooled>();
}

#[test]
fn boxed_maps() {
    maps::<Boxed>();
}

fn concurrent<St: Storage>() {
    for how in ALL {
        let case = Case::new(how);
        let mut store: ConcurrentStore<Key, Val<St>> = ConcurrentStore::new();
        for id in (0..N).chain(0..N / 2) {
            drop(store.insert(case.key(id), Val::new(&case.live)));
            assert_eq!(case.live(), store.len(), "{how:?}");
        }
        for id in (0..N).step_by(3) {
            drop(store.remove(&case.key(id)));
            let _ = store.read(&case.key(id + 1), |_| ());
            drop(
                store
                    .entry(case.key(id + 2))
                    .or_insert_with(|| Val::new(&case.live)),
            );
            store.alter(&case.key(id + 3), |_, v| v);
            assert_eq!(case.live(), store.len(), "{how:?}");
        }
        let mut flip = false;
        store.retain(|_, _| {
            flip = !flip;
            flip
        });
        assert_eq!(store.iter().count(), store.len(), "{how:?}");
        assert_eq!(case.live(), store.len(), "{how:?}");
        store.shrink_to_fit();
        assert_eq!(case.live(), store.len(), "{how:?}");
        drop(store);
        assert_eq!(case.live(), 0, "{how:?}: a value was never dropped");
    }
}

#[test]
fn inline_concurrent_stores() {
    concurrent::<Inline>();
}

#[test]
fn pooled_concurrent_stores() {
    concurrent::<Pooled>();
}

#[test]
fn boxed_concurrent_stores() {
    concurrent::<Boxed>();
}

#[test]
fn frozen_stores() {
    for how in ALL {
        for n in [5, 50, N] {
            let case = Case::new(how);
            let store: FrozenStore<Key, Val<Inline>> = (0..n)
                .chain(0..n / 2)
                .map(|id| (case.key(id), Val::new(&case.live)))
                .collect();
            assert_eq!(case.live(), store.len(), "{how:?}, n = {n}");
            for id in 0..n {
                let _ = store.get(&case.key(id));
            }
            assert_eq!(store.iter().count(), store.len(), "{how:?}, n = {n}");
            drop(store);
            assert_eq!(
                case.live(),
                0,
                "{how:?}, n = {n}: a value was never dropped"
            );
        }
    }
}
