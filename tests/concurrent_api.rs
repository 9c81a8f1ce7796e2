//! `ConcurrentStore`'s conveniences beyond the core map calls, over the three
//! storages: `remove_if` (test and removal atomic under threads), `Clone`
//! (a deep, independent copy, consistent per entry while others write) and
//! the owning `IntoIterator` (every entry once; the rest dropped with the
//! iterator), `alter` and `alter_all` (exact under threads; a panic in the
//! closure removes only that entry), `shrink_to_fit`, `view`,
//! `remove_if_mut`, `RefMut::downgrade`, and the mapped guards
//! (`Ref::map`, `RefMut::map`, their `try_map`s).

use std::hash::{BuildHasherDefault, DefaultHasher};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::SeqCst};
use std::sync::Barrier;
use std::thread;

use mapstore::storage::{Boxed, Inline, Pooled, Storage};
use mapstore::{ConcurrentStore, MapValue, Plan};

type Fixed = BuildHasherDefault<DefaultHasher>;

/// A counter value of a chosen storage that counts live copies.
struct Count<St> {
    n: u64,
    live: &'static AtomicI64,
    _st: PhantomData<fn() -> St>,
}

impl<St: Storage> MapValue for Count<St> {
    type Storage = St;
    const PLAN: Plan = Plan::of::<Self>("Count", &[]);
}

impl<St> Count<St> {
    fn new(n: u64, live: &'static AtomicI64) -> Self {
        live.fetch_add(1, SeqCst);
        Count {
            n,
            live,
            _st: PhantomData,
        }
    }
}

impl<St> Clone for Count<St> {
    fn clone(&self) -> Self {
        Count::new(self.n, self.live)
    }
}

impl<St> Drop for Count<St> {
    fn drop(&mut self) {
        self.live.fetch_sub(1, SeqCst);
    }
}

type Store<St> = ConcurrentStore<u64, Count<St>, Fixed>;

const KEYS: u64 = 64;
const THREADS: usize = 4;
const ROUNDS: u64 = if cfg!(miri) { 20 } else { 5_000 };

/// Writers bump counters through `entry` while removers take an entry away
/// only when it is at least 3: the value `remove_if` returns must be the one
/// its closure saw (an increment between the test and the removal would make
/// them differ), and no increment is lost or counted twice.
fn remove_if_tests_and_removes_under_one_lock<St: Storage>(live: &'static AtomicI64) {
    let store: Store<St> = ConcurrentStore::with_hasher(Fixed::default());
    let removed_total = AtomicU64::new(0);
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (store, removed_total, barrier) = (&store, &removed_total, &barrier);
            s.spawn(move || {
                barrier.wait();
                for i in 0..ROUNDS {
                    // Four hot keys, so the removers race the writers.
                    let key = (i + t as u64 / 2) % 4;
                    if t % 2 == 0 {
                        store
                            .entry(key)
                            .and_modify(|c| c.n += 1)
                            .or_insert_with(|| Count::new(1, live));
                    } else {
                        let mut seen = None;
                        let gone = store.remove_if(&key, |k, c| {
                            assert_eq!(*k, key);
                            seen = Some(c.n);
                            c.n >= 3
                        });
                        match gone {
                            Some((k, c)) => {
                                assert_eq!(k, key);
                                assert_eq!(
                                    Some(c.n),
                                    seen,
                                    "the entry changed between test and removal"
                                );
                                assert!(c.n >= 3);
                                removed_total.fetch_add(c.n, SeqCst);
                            }
                            None => assert!(seen.is_none_or(|n| n < 3)),
                        }
                    }
                }
            });
        }
    });
    let remaining: u64 = store.iter().map(|r| r.n).sum();
    let writers = THREADS.div_ceil(2) as u64;
    assert_eq!(remaining + removed_total.load(SeqCst), writers * ROUNDS);
    assert_eq!(live.load(SeqCst), store.len() as i64);
    drop(store);
    assert_eq!(live.load(SeqCst), 0);
}

/// A clone is deep and independent; taken while other threads write, each of
/// its entries is one that was stored (values only ever grow, by key).
fn clone_is_deep_and_consistent_per_entry<St: Storage>(live: &'static AtomicI64) {
    let store: Store<St> = (0..KEYS).map(|k| (k, Count::new(k, live))).collect();
    let copy = store.clone();
    assert_eq!(copy.len(), store.len());
    assert_eq!(live.load(SeqCst), 2 * KEYS as i64);
    store.insert(0, Count::new(10 * KEYS, live));
    assert_eq!(copy.read(&0, |c| c.n), Some(0), "the copy shares a value");
    drop(copy);
    assert_eq!(live.load(SeqCst), KEYS as i64);

    thread::scope(|s| {
        let store = &store;
        s.spawn(move || {
            for i in 0..ROUNDS {
                let key = i % KEYS;
                if let Some(mut c) = store.get_mut(&key) {
                    c.n += KEYS;
                }
                if i % 5 == 0 {
                    store.insert(KEYS + i, Count::new(KEYS + i, live));
                }
            }
        });
        for _ in 0..if cfg!(miri) { 1 } else { 20 } {
            let copy = store.clone();
            for r in copy.iter() {
                let (k, c) = r.pair();
                // Every stored value is its key plus a multiple of KEYS.
                assert_eq!(c.n % KEYS, k % KEYS, "a torn or foreign value in the copy");
                assert!(c.n >= *k);
            }
            assert!((KEYS as usize..=(KEYS + ROUNDS) as usize).contains(&copy.len()));
        }
    });
    drop(store);
    assert_eq!(live.load(SeqCst), 0);
}

/// The owning iterator yields every entry once and drops what it did not
/// yield when dropped.
fn into_iter_yields_each_entry_once<St: Storage>(live: &'static AtomicI64) {
    let store: Store<St> = (0..KEYS).map(|k| (k, Count::new(k, live))).collect();
    let mut iter = store.into_iter();
    assert_eq!(iter.len(), KEYS as usize);
    let mut seen: Vec<u64> = iter
        .by_ref()
        .take(10)
        .map(|(k, c)| {
            assert_eq!(k, c.n);
            k
        })
        .collect();
    assert_eq!(iter.len(), KEYS as usize - 10);
    assert_eq!(live.load(SeqCst), KEYS as i64 - 10);
    drop(iter);
    assert_eq!(live.load(SeqCst), 0);

    let store: Store<St> = (0..KEYS).map(|k| (k, Count::new(k, live))).collect();
    seen.clear();
    for (k, c) in store {
        assert_eq!(k, c.n);
        seen.push(k);
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..KEYS).collect::<Vec<_>>());
    assert_eq!(live.load(SeqCst), 0);
}

macro_rules! over_storages {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::*;
            #[test]
            fn inline() {
                static LIVE: AtomicI64 = AtomicI64::new(0);
                super::$name::<Inline>(&LIVE);
            }
            #[test]
            fn boxed() {
                static LIVE: AtomicI64 = AtomicI64::new(0);
                super::$name::<Boxed>(&LIVE);
            }
            #[test]
            fn pooled() {
                static LIVE: AtomicI64 = AtomicI64::new(0);
                super::$name::<Pooled>(&LIVE);
            }
        }
    )*};
}

over_storages!(
    remove_if_tests_and_removes_under_one_lock,
    clone_is_deep_and_consistent_per_entry,
    into_iter_yields_each_entry_once,
);

#[test]
fn into_iter_is_debug_and_default() {
    let store: ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    let iter = store.into_iter();
    assert_eq!(format!("{iter:?}"), "[(1, 2)]");
    let empty: mapstore::concurrent::IntoIter<u8, u8> = Default::default();
    assert_eq!(empty.len(), 0);
}

/// `alter` on hot keys from several threads while one thread runs
/// `alter_all` and readers look on: every call replaces the value whole
/// under the key's lock, so no increment is lost or doubled, a reader never
/// sees a key missing, and every replaced value is dropped once.
fn alter_and_alter_all_count_exactly<St: Storage>(live: &'static AtomicI64) {
    let store: Store<St> = (0..KEYS).map(|k| (k, Count::new(0, live))).collect();
    let rounds = ROUNDS / 4;
    let barrier = Barrier::new(THREADS + 1);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (store, barrier) = (&store, &barrier);
            s.spawn(move || {
                barrier.wait();
                for i in 0..rounds {
                    let key = (i * 7 + t as u64) % KEYS;
                    if t == 0 {
                        assert!(store.read(&key, |c| c.n).is_some(), "{key} was missing");
                    } else {
                        store.alter(&key, |k, c| {
                            assert_eq!(*k, key);
                            Count::new(c.n + 1, live)
                        });
                    }
                }
            });
        }
        let (store, barrier) = (&store, &barrier);
        s.spawn(move || {
            barrier.wait();
            for _ in 0..4 {
                store.alter_all(|_, c| Count::new(c.n + 1_000, live));
            }
        });
    });
    let total: u64 = store.iter().map(|r| r.n).sum();
    let alters = (THREADS as u64 - 1) * rounds;
    assert_eq!(total, alters + 4 * 1_000 * KEYS);
    assert_eq!(store.len() as u64, KEYS);
    assert_eq!(live.load(SeqCst), KEYS as i64);
    drop(store);
    assert_eq!(live.load(SeqCst), 0);
}

/// A panic in `alter`'s or `alter_all`'s closure removes the entry it was
/// given (its value was moved into the closure and dropped by the unwind,
/// its key dropped by the store); nothing else changes, nothing is dropped
/// twice or leaked, and the store stays usable.
fn a_panic_in_alter_removes_only_that_entry<St: Storage>(live: &'static AtomicI64) {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    let store: Store<St> = (0..KEYS).map(|k| (k, Count::new(k, live))).collect();
    let hit = catch_unwind(AssertUnwindSafe(|| {
        store.alter(&3, |_, c| {
            assert!(c.n != 3, "boom");
            c
        })
    }));
    assert!(hit.is_err());
    assert!(!store.contains_key(&3));
    assert_eq!(store.len() as u64, KEYS - 1);
    assert_eq!(live.load(SeqCst), KEYS as i64 - 1);
    // `alter_all`: values are doubled until the closure reaches key 5.
    let mut visited = Vec::new();
    let hit = catch_unwind(AssertUnwindSafe(|| {
        store.alter_all(|&k, c| {
            assert!(k != 5, "boom");
            visited.push(k);
            Count::new(c.n * 2 + 1, live)
        })
    }));
    assert!(hit.is_err());
    assert!(!store.contains_key(&5));
    assert_eq!(store.len() as u64, KEYS - 2);
    assert_eq!(live.load(SeqCst), KEYS as i64 - 2);
    for r in store.iter() {
        let k = *r.key();
        let want = if visited.contains(&k) { 2 * k + 1 } else { k };
        assert_eq!(r.n, want, "key {k}");
    }
    // Usable: insert the two back, alter everything.
    store.insert(3, Count::new(3, live));
    store.insert(5, Count::new(5, live));
    store.alter_all(|&k, _| Count::new(k, live));
    assert!(store.iter().all(|r| r.n == *r.key()));
    assert_eq!(live.load(SeqCst), KEYS as i64);
}

/// `shrink_to_fit` after most entries are removed gives memory back and
/// keeps the rest; `view` and `remove_if_mut` see the stored key.
fn shrink_view_and_remove_if_mut<St: Storage>(live: &'static AtomicI64) {
    let n = if cfg!(miri) { 200 } else { 20_000 };
    let mut store: Store<St> = (0..n).map(|k| (k, Count::new(k, live))).collect();
    store.retain(|&k, _| k < 10);
    let before = store.memory_usage();
    store.shrink_to_fit();
    assert!(
        store.memory_usage() * 4 < before,
        "{before} -> {}",
        store.memory_usage()
    );
    assert_eq!(live.load(SeqCst), 10);
    for k in 0..10 {
        assert_eq!(store.view(&k, |key, c| (*key, c.n)), Some((k, k)));
    }
    let odd = |_: &u64, c: &mut Count<St>| {
        c.n += 100;
        c.n % 2 == 1
    };
    let removed: Vec<u64> = (0..10)
        .filter_map(|k| store.remove_if_mut(&k, odd).map(|(k, _)| k))
        .collect();
    assert_eq!(removed, [1, 3, 5, 7, 9]);
    assert!(store.iter().all(|r| r.n == *r.key() + 100));
    assert_eq!(live.load(SeqCst), 5);
}

/// `FrozenStore::from(store)` moves every entry (no copy made, none
/// dropped), mid-resize too, and the frozen store finds each one.
fn freezing_moves_every_entry<St: Storage>(live: &'static AtomicI64) {
    let n = if cfg!(miri) { 100 } else { 10_000 };
    let store: Store<St> = ConcurrentStore::with_hasher(Fixed::default());
    for k in 0..n {
        store.insert(k, Count::new(k, live));
    }
    let frozen = mapstore::FrozenStore::from(store);
    assert_eq!(live.load(SeqCst), n as i64);
    assert_eq!(frozen.len() as u64, n);
    assert!((0..n).all(|k| frozen.get(&k).is_some_and(|c| c.n == k)));
    assert!(frozen.get(&n).is_none());
    drop(frozen);
    assert_eq!(live.load(SeqCst), 0);
}

/// `RefMut::downgrade`: threads bump hot counters through `entry` guards
/// and read back, through the downgraded `Ref`, exactly what they wrote (no
/// writer comes between), while a reader walks the store; `iter_mut`'s
/// items downgraded keep reading what was written through them.
fn downgrade_reads_what_it_wrote<St: Storage>(live: &'static AtomicI64) {
    let store: Store<St> = ConcurrentStore::with_hasher(Fixed::default());
    let rounds = ROUNDS / 4;
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (store, barrier) = (&store, &barrier);
            s.spawn(move || {
                barrier.wait();
                for i in 0..rounds {
                    let key = (i + t as u64) % 4;
                    if t == 0 {
                        let _ = store.iter().map(|r| r.n).sum::<u64>();
                        continue;
                    }
                    let mut g = store.entry(key).or_insert_with(|| Count::new(0, live));
                    g.n += 1;
                    let mine = g.n;
                    let r = g.downgrade();
                    assert_eq!(r.n, mine, "a writer came between");
                    assert_eq!(*r.key(), key);
                }
            });
        }
    });
    let total: u64 = store.iter().map(|r| r.n).sum();
    assert_eq!(total, (THREADS as u64 - 1) * rounds);
    let refs: Vec<_> = store
        .iter_mut()
        .map(|mut r| {
            r.n += 100;
            r.downgrade()
        })
        .collect();
    assert_eq!(refs.iter().map(|r| r.n).sum::<u64>(), total + 400);
    drop(refs);
    assert_eq!(store.read(&0, |c| c.n >= 100), Some(true));
    assert_eq!(live.load(SeqCst), 4);
}

/// `Ref::map`, `RefMut::map` and their `try_map`s: a mapped guard keeps its
/// entry's lock. Threads bump counters through mapped write guards (a lock
/// released early loses increments) and read twice through mapped read
/// guards (a writer coming between changes the second read), while one
/// thread grows the store past several resizes: the mapped parts must stay
/// valid while their groups move around them (Miri checks the pointers).
/// Then the walks' items, mapped: `iter`'s (a shared group lock), `iter_mut`'s
/// (a share of a write lock) and `iter_mut`'s downgraded.
fn mapped_guards_keep_their_lock<St: Storage>(live: &'static AtomicI64) {
    let store: Store<St> = ConcurrentStore::with_hasher(Fixed::default());
    for k in 0..4 {
        store.insert(k, Count::new(0, live));
    }
    let rounds = ROUNDS / 4;
    let grown = if cfg!(miri) { 200 } else { 4_000 };
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (store, barrier) = (&store, &barrier);
            s.spawn(move || {
                barrier.wait();
                if t == 0 {
                    for k in 4..4 + grown {
                        store.insert(k, Count::new(k, live));
                    }
                    return;
                }
                for i in 0..rounds {
                    let key = (i + t as u64) % 4;
                    if t == 1 {
                        let n = store.get(&key).unwrap().map(|c| &c.n);
                        let first = *n;
                        for _ in 0..8 {
                            thread::yield_now();
                            assert_eq!(*n, first, "a writer came between two reads");
                        }
                        assert_eq!(*n.key(), key);
                        continue;
                    }
                    let guard = store.get_mut(&key).unwrap();
                    // A part that is not there gives the guard back, locked.
                    let guard = guard
                        .try_map(|c| (c.n == u64::MAX).then_some(&mut c.n))
                        .unwrap_err();
                    let mut n = guard.map(|c| &mut c.n);
                    let before = *n;
                    thread::yield_now();
                    *n += 1;
                    assert_eq!(*n.key(), key);
                    *n.value_mut() += 0;
                    assert_eq!(*n, before + 1, "a writer came between");
                }
            });
        }
    });
    let counted: u64 = (0..4).map(|k| store.read(&k, |c| c.n).unwrap()).sum();
    assert_eq!(counted, (THREADS as u64 - 2) * rounds);
    assert_eq!(store.len() as u64, 4 + grown);

    // A mapped item of `iter` per entry, all alive at once.
    let parts: Vec<_> = store.iter().map(|r| r.map(|c| &c.n)).collect();
    let sum: u64 = parts.iter().map(|n| **n).sum();
    assert_eq!(sum, counted + (4..4 + grown).sum::<u64>());
    drop(parts);
    // `iter_mut`'s items, mapped and written, then downgraded and mapped.
    let mut parts: Vec<_> = store.iter_mut().map(|r| r.map(|c| &mut c.n)).collect();
    for n in &mut parts {
        **n += 1;
    }
    drop(parts);
    let evens = store.iter().filter(|r| r.n % 2 == 0).count();
    let parts: Vec<_> = store
        .iter_mut()
        .filter_map(|r| {
            r.downgrade()
                .try_map(|c| (c.n % 2 == 0).then_some(&c.n))
                .ok()
        })
        .collect();
    assert_eq!(parts.len(), evens);
    for n in &parts {
        assert_eq!(*n.value() % 2, 0);
        assert_eq!(store.len() as u64, 4 + grown, "len locks nothing");
        let key = *n.key();
        assert!(
            key >= 4 || *n.value() >= 1,
            "key {key}: every count was bumped"
        );
    }
    drop(parts);
    let total: u64 = store.iter().map(|r| r.n).sum();
    assert_eq!(total, sum + 4 + grown);
    drop(store);
    assert_eq!(live.load(SeqCst), 0);
}

over_storages!(
    mapped_guards_keep_their_lock,
    downgrade_reads_what_it_wrote,
    freezing_moves_every_entry,
    alter_and_alter_all_count_exactly,
    a_panic_in_alter_removes_only_that_entry,
    shrink_view_and_remove_if_mut,
);

/// Stores nest, as DashMap's do (`DashMap<K, DashMap<K2, V>>`): a store with
/// the default hasher is a `MapValue`, its storage chosen from a store's
/// size, which is the same whatever it holds.
#[test]
fn stores_nest() {
    let outer: ConcurrentStore<String, ConcurrentStore<u64, u64>> = ConcurrentStore::new();
    outer.entry("a".to_string()).or_default().insert(1, 10);
    assert_eq!(outer.read("a", |inner| inner.insert(2, 20)), Some(None));
    assert_eq!(outer.read("a", |inner| inner.len()), Some(2));
    assert_eq!(
        outer.get("a").unwrap().read(&2, |v| *v),
        Some(20),
        "a guard on the outer store reads the inner one"
    );
    let plan = <ConcurrentStore<u64, u64> as MapValue>::PLAN;
    assert_eq!(plan.storage, outer.storage());
    assert_eq!(plan.heap_fields, &["self"]);
    use std::mem::{align_of, size_of};
    fn same<A, B>() {
        assert_eq!(
            size_of::<A>(),
            size_of::<B>(),
            "{}",
            std::any::type_name::<B>()
        );
        assert_eq!(
            align_of::<A>(),
            align_of::<B>(),
            "{}",
            std::any::type_name::<B>()
        );
    }
    same::<ConcurrentStore<(), ()>, ConcurrentStore<String, [u8; 4096]>>();
    same::<ConcurrentStore<(), ()>, ConcurrentStore<u64, Count<Pooled>>>();
    same::<ConcurrentStore<(), ()>, ConcurrentStore<[u8; 100], Count<Boxed>>>();
}

/// `FrozenStore::from(store)` and back (`ConcurrentStore::from(frozen)`)
/// move every entry, for each storage, with the hasher: nothing is cloned,
/// leaked or dropped twice.
#[test]
fn round_trips_through_frozen_store() {
    fn round_trip<St: Storage>() {
        static LIVE: [AtomicI64; 3] = [AtomicI64::new(0), AtomicI64::new(0), AtomicI64::new(0)];
        let live = &LIVE[St::KIND as usize];
        let store: Store<St> = ConcurrentStore::with_hasher(Fixed::default());
        for k in 0..KEYS {
            drop(store.insert(k, Count::new(k * 3, live)));
        }
        let frozen = mapstore::FrozenStore::from(store);
        assert_eq!(live.load(SeqCst), KEYS as i64);
        let back: Store<St> = ConcurrentStore::from(frozen);
        assert_eq!(live.load(SeqCst), KEYS as i64, "moved, not cloned");
        assert_eq!(back.len(), KEYS as usize);
        assert!((0..KEYS).all(|k| back.read(&k, |v| v.n) == Some(k * 3)));
        drop(back.insert(KEYS, Count::new(0, live)));
        drop(back);
        assert_eq!(live.load(SeqCst), 0);
    }
    round_trip::<Inline>();
    round_trip::<Pooled>();
    round_trip::<Boxed>();
}

thread_local! {
    /// Where each `Huge` value was dropped.
    static HUGE_DROPPED_AT: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A 64 KiB value, boxed by the policy, that records where it is dropped.
struct Huge([u64; 8192]);

impl MapValue for Huge {
    type Storage = Boxed;
    const PLAN: Plan = Plan::of::<Huge>("Huge", &[]);
}

impl Drop for Huge {
    fn drop(&mut self) {
        let at = self as *const Huge as usize;
        HUGE_DROPPED_AT.with(|log| log.borrow_mut().push(at));
    }
}

/// `retain` and `clear` drop a boxed value in its box, after the group's
/// lock is released: it is not moved out of its box (64 KiB copied per
/// value, and a group's worth of them held at once) to be dropped.
#[test]
fn boxed_values_are_dropped_in_their_boxes() {
    fn addresses(store: &ConcurrentStore<u32, Huge>, pick: impl Fn(u32) -> bool) -> Vec<usize> {
        let mut at: Vec<usize> = store
            .iter()
            .filter(|r| pick(*r.key()))
            .map(|r| r.value() as *const Huge as usize)
            .collect();
        at.sort_unstable();
        at
    }
    fn dropped() -> Vec<usize> {
        let mut at = HUGE_DROPPED_AT.with(|log| std::mem::take(&mut *log.borrow_mut()));
        at.sort_unstable();
        at
    }
    let n = if cfg!(miri) { 6 } else { 40 };
    let store: ConcurrentStore<u32, Huge> = ConcurrentStore::new();
    for i in 0..n {
        store.insert(i, Huge([u64::from(i); 8192]));
    }
    let odd = addresses(&store, |k| k % 2 == 1);
    dropped();
    store.retain(|k, v| {
        assert_eq!(v.0[8191], u64::from(*k));
        k % 2 == 0
    });
    assert_eq!(store.len() as u32, n / 2);
    assert_eq!(dropped(), odd, "retain moved a value out of its box");
    let even = addresses(&store, |_| true);
    store.clear();
    assert!(store.is_empty());
    assert_eq!(dropped(), even, "clear moved a value out of its box");
}
