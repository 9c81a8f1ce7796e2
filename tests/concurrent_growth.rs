//! `ConcurrentStore`'s table in the middle of a resize, reached
//! deterministically on one thread: a resize installs a second array (seen
//! as a jump in `memory_usage`) and each later write moves a run of old
//! groups, so between the install and the end of the migration every
//! operation meets a table whose keys are split between two arrays. Every
//! check is made at several points of that window.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasherDefault, DefaultHasher};

use mapstore::{ConcurrentStore, MapStore, MapValue};

type Fixed = BuildHasherDefault<DefaultHasher>;

/// 256 bytes: pooled (an array of primitives is a `MapValue` without the
/// derive, so the test also runs under Miri's `--no-default-features`).
type Big = [u64; 32];

fn big(k: u64) -> Big {
    [k; 32]
}

/// A store grown from empty by inserting `0..`, stopped right after the
/// insert that installed a resize whose old array has at least `groups`
/// groups; returns it and the number of keys inserted.
fn mid_resize<V: MapValue>(
    make: fn(u64) -> V,
    groups: usize,
) -> (ConcurrentStore<u64, V, Fixed>, u64) {
    let store = ConcurrentStore::with_hasher(Fixed::default());
    let mut k = 0;
    loop {
        let before = store.memory_usage();
        store.insert(k, make(k));
        k += 1;
        // A resize allocates an array twice the current one's size: the
        // jump is far larger than one entry, chain or pool chunk.
        let after = store.memory_usage();
        if k as usize > groups * 16 / 2 && after > before + groups * 64 * 2 {
            return (store, k);
        }
        assert!(k < 1 << 20, "no resize after a million inserts");
    }
}

/// Checks every key `0..n` but those in `gone` is present with its value,
/// once, through `get`, `read`, `iter`, `len` and `Debug`.
fn check_all<V: MapValue + PartialEq + std::fmt::Debug>(
    store: &ConcurrentStore<u64, V, Fixed>,
    n: u64,
    gone: &HashSet<u64>,
    make: fn(u64) -> V,
) {
    let expected = (0..n).filter(|k| !gone.contains(k)).count();
    assert_eq!(store.len(), expected);
    for k in 0..n {
        let want = (!gone.contains(&k)).then(|| make(k));
        assert_eq!(
            store.get(&k).map(|r| r.value() == &make(k)),
            want.as_ref().map(|_| true),
            "get {k}"
        );
        assert_eq!(store.contains_key(&k), want.is_some(), "contains_key {k}");
    }
    let mut seen = BTreeMap::new();
    for entry in store.iter() {
        assert_eq!(entry.value(), &make(*entry.key()));
        *seen.entry(*entry.key()).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), expected, "iter misses entries");
    assert!(seen.values().all(|&c| c == 1), "iter yields an entry twice");
    assert_eq!(format!("{store:?}").matches(':').count(), expected);
}

#[test]
fn reads_writes_and_walks_across_a_resize() {
    let groups = if cfg!(miri) { 4 } else { 256 };
    let (store, mut n) = mid_resize(big, groups);
    let mut gone = HashSet::new();
    // Right after the install nothing has moved; then each write moves a
    // run of old groups. Check at the start, a few runs in, and past the
    // end of the migration.
    for step in 0..6 {
        check_all(&store, n, &gone, big);
        let writes = if step < 3 { 3 } else { groups };
        for _ in 0..writes {
            // An overwrite, a removal and a fresh insert per round.
            assert_eq!(
                store.insert(n / 2, big(n / 2)).is_some(),
                !gone.contains(&(n / 2))
            );
            if store.remove(&(n / 3 + step)).is_some() {
                gone.insert(n / 3 + step);
            }
            store.insert(n, big(n));
            n += 1;
        }
    }
    check_all(&store, n, &gone, big);
}

#[test]
fn retain_clear_and_conversions_mid_resize() {
    let groups = if cfg!(miri) { 4 } else { 128 };
    // `retain` keeps the even keys, wherever they are.
    let (store, n) = mid_resize(|k| k, groups);
    store.insert(n, n); // moves one run
    let n = n + 1;
    store.retain(|k, v| {
        *v += 1;
        k % 2 == 0
    });
    assert_eq!(store.len() as u64, n.div_ceil(2));
    for k in 0..n {
        assert_eq!(store.read(&k, |v| *v), (k % 2 == 0).then_some(k + 1));
    }
    // Into a `MapStore` and back, mid-resize.
    let (store, n) = mid_resize(big, groups);
    let map: MapStore<u64, Big, Fixed> = store.into_map_store();
    assert_eq!(map.len() as u64, n);
    assert!((0..n).all(|k| map[&k] == big(k)));
    let store = ConcurrentStore::from(map);
    check_all(&store, n, &HashSet::new(), big);
    // `clear`, then reuse.
    let (store, n) = mid_resize(big, groups);
    assert_eq!(store.storage(), mapstore::StorageKind::Pooled);
    store.clear();
    assert!(store.is_empty());
    assert_eq!(store.iter().count(), 0);
    for k in 0..n {
        assert_eq!(store.insert(k, big(k)), None);
    }
    check_all(&store, n, &HashSet::new(), big);
}

/// A guard held on a key keeps its group from moving: the migration goes
/// around it (other writes move other groups), and finishes once the
/// guard is dropped; nothing is lost meanwhile.
#[test]
fn a_held_group_does_not_stop_the_others() {
    let groups = if cfg!(miri) { 4 } else { 128 };
    let (store, mut n) = mid_resize(big, groups);
    {
        let held = store.get(&0).unwrap();
        let held_lock = store.lock_of(&0);
        let mut wrote = 0;
        for k in n.. {
            if store.lock_of(&k) == held_lock {
                continue; // the same group: would deadlock (debug builds panic)
            }
            store.insert(k, big(k));
            n = k + 1;
            wrote += 1;
            if wrote == 4 * groups {
                break;
            }
        }
        assert_eq!(held.value(), &big(0));
    }
    for k in n..n + 2 * groups as u64 {
        store.insert(k, big(k));
    }
    let n = n + 2 * groups as u64;
    let gone: HashSet<u64> = (0..n)
        .filter(|&k| store.read(&k, |_| ()).is_none())
        .collect();
    // Keys skipped for sharing the held group's lock were never inserted.
    assert!(gone.iter().all(|&k| k > 0), "key 0 was lost");
    assert_eq!(store.len() as u64, n - gone.len() as u64);
    let seen: HashSet<u64> = store.iter().map(|r| *r.key()).collect();
    assert_eq!(seen.len() as u64, n - gone.len() as u64);
}

/// Dropping a store mid-resize drops every value once (pooled and boxed
/// values, and keys that own memory; LeakSanitizer and Miri see the rest).
#[test]
fn drop_mid_resize_frees_everything() {
    let groups = if cfg!(miri) { 4 } else { 128 };
    let (store, n) = mid_resize(|k| vec![k; 3], groups);
    assert_eq!(store.len() as u64, n);
    drop(store);
    let (store, n) = mid_resize(|k| k.to_string(), groups);
    store.insert(n, String::from("one more"));
    drop(store);
}

/// The window these tests rely on is real: right after `mid_resize` the
/// store holds two arrays, and overwrites alone (no new entry) finish the
/// migration, freeing the old array's buckets.
#[test]
fn mid_resize_is_mid_resize() {
    let groups = if cfg!(miri) { 4 } else { 128 };
    let (store, n) = mid_resize(|k| k, groups);
    let during = store.memory_usage();
    for round in 0..4 * groups as u64 {
        store.insert(round % n, round);
    }
    let after = store.memory_usage();
    assert!(
        after < during,
        "the old array's buckets were not freed: {during} -> {after} bytes"
    );
    assert_eq!(store.len() as u64, n);
}

/// `shrink_to_fit`, `shrink_to` and `reserve` right after a resize was
/// installed: the rebuild finishes it, keeps every entry once (pooled
/// values where they were), frees the old array, and leaves a store that
/// reads, writes and grows again.
#[test]
fn shrink_and_reserve_mid_resize() {
    // Under Miri the checks between the steps are left out (each walks,
    // formats and looks up every key); the last of each part stays.
    let groups = if cfg!(miri) { 4 } else { 128 };
    // Pooled values stay in place: a reference's address survives through
    // the pool slot (read before, compared after).
    let (mut store, n) = mid_resize(big, groups);
    let at = |store: &ConcurrentStore<u64, Big, Fixed>, k: u64| {
        store.read(&k, |v| std::ptr::from_ref(v) as usize)
    };
    let before: Vec<_> = (0..n).map(|k| at(&store, k)).collect();
    let during = store.memory_usage();
    store.shrink_to_fit();
    assert!(store.memory_usage() < during, "nothing was freed");
    check_all(&store, n, &HashSet::new(), big);
    let after: Vec<_> = (0..n).map(|k| at(&store, k)).collect();
    assert_eq!(before, after, "a pooled value moved");
    assert!(store.capacity() as u64 >= n);
    // Remove most, shrink to a floor, grow again.
    let gone: HashSet<u64> = (0..n).filter(|k| k % 8 != 0).collect();
    for k in &gone {
        assert_eq!(store.remove(k), Some(big(*k)));
    }
    let full = store.capacity();
    store.shrink_to(0);
    assert!(store.capacity() < full, "{} -> {}", full, store.capacity());
    assert!(store.capacity() >= store.len());
    if !cfg!(miri) {
        check_all(&store, n, &gone, big);
    }
    // As std's: a floor above the capacity does not grow the store.
    let small = store.capacity();
    store.shrink_to(full);
    assert_eq!(store.capacity(), small);
    if !cfg!(miri) {
        check_all(&store, n, &gone, big);
    }
    for k in n..2 * n {
        store.insert(k, big(k));
    }
    check_all(&store, 2 * n, &gone, big);

    // `reserve` mid-resize: one rebuild to the larger size.
    let (mut store, n) = mid_resize(|k| k, groups);
    store.reserve(4 * n as usize);
    assert!(store.capacity() >= 5 * n as usize);
    if !cfg!(miri) {
        check_all(&store, n, &HashSet::new(), |k| k);
    }
    let reserved = store.memory_usage();
    for k in n..4 * n {
        store.insert(k, k);
    }
    // Room was made: no array was installed while filling it.
    assert!(
        store.memory_usage() < reserved + (n as usize) * 8,
        "the store grew"
    );
    check_all(&store, 4 * n, &HashSet::new(), |k| k);
    // Reserving what is there already changes nothing.
    let capacity = store.capacity();
    store.reserve(0);
    assert_eq!(store.capacity(), capacity);
}

/// A key whose `Hash` panics during `shrink_to_fit` leaves the store as it
/// was: every key is hashed before any moves.
#[test]
fn a_panicking_hash_during_shrink_loses_nothing() {
    use std::cell::Cell;
    use std::hash::{Hash, Hasher};

    thread_local!(static BOOM: Cell<bool> = const { Cell::new(false) });

    #[derive(PartialEq, Eq, Debug)]
    struct Touchy(u64);
    impl Hash for Touchy {
        fn hash<H: Hasher>(&self, state: &mut H) {
            assert!(!(BOOM.get() && self.0 == 7), "hash of 7");
            self.0.hash(state);
        }
    }
    let n = if cfg!(miri) { 40 } else { 2_000 };
    let mut store: ConcurrentStore<Touchy, String, Fixed> =
        ConcurrentStore::with_hasher(Fixed::default());
    for k in 0..n {
        store.insert(Touchy(k), k.to_string());
    }
    for k in 10..n {
        store.remove(&Touchy(k));
    }
    let memory = store.memory_usage();
    BOOM.set(true);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.shrink_to_fit()));
    BOOM.set(false);
    assert!(result.is_err());
    assert_eq!(store.memory_usage(), memory);
    assert_eq!(store.len(), 10);
    for k in 0..10 {
        assert_eq!(store.read(&Touchy(k), String::clone), Some(k.to_string()));
    }
    store.shrink_to_fit();
    assert!(store.memory_usage() < memory);
    assert_eq!(store.iter().count(), 10);
}

/// `try_reserve` mid-resize: a request no array can hold, or no allocator
/// can give, is an error and leaves the store as it was (still mid-resize);
/// a sensible one finishes the resize.
#[test]
fn try_reserve_errors_leave_the_store_as_it_was() {
    use mapstore::TryReserveError;

    let groups = if cfg!(miri) { 4 } else { 128 };
    let (mut store, n) = mid_resize(big, groups);
    let memory = store.memory_usage();
    assert_eq!(
        store.try_reserve(usize::MAX),
        Err(TryReserveError::CapacityOverflow)
    );
    // 2^40 entries: 2^36 group headers of 64 bytes, valid layouts that no
    // allocator here can satisfy (Miri reports exhaustion instead of
    // failing the allocation, so it skips this request).
    if !cfg!(miri) {
        assert!(matches!(
            store.try_reserve(1 << 40),
            Err(TryReserveError::AllocError { .. })
        ));
    }
    assert_eq!(store.memory_usage(), memory, "an error changed the store");
    check_all(&store, n, &HashSet::new(), big);
    assert_eq!(store.try_reserve(n as usize), Ok(()));
    assert!(store.capacity() as u64 >= 2 * n);
    assert!(store.memory_usage() != memory);
    check_all(&store, n, &HashSet::new(), big);
}

/// A resize that came due while a walk was registered starts when the walk
/// ends: back-to-back walks on one thread must not keep a growing store
/// from ever growing (every key chained in a few groups, every lookup a
/// walk of their chains).
#[test]
fn a_resize_deferred_by_a_walk_starts_when_the_walk_ends() {
    let store: ConcurrentStore<u64, u64, Fixed> = ConcurrentStore::with_hasher(Fixed::default());
    let n: u64 = if cfg!(miri) { 200 } else { 2_000 };
    // Keys that share a lock share a group: a store that never grew from
    // its one group has one lock for every key.
    let locks = |store: &ConcurrentStore<u64, u64, Fixed>| {
        (0..n)
            .map(|k| store.lock_of(&k))
            .collect::<HashSet<usize>>()
            .len()
    };
    let walk = store.iter();
    for k in 0..n {
        store.insert(k, k);
    }
    assert_eq!(locks(&store), 1, "a resize started during a walk");
    let bytes = store.memory_usage();
    drop(walk);
    assert!(
        store.memory_usage() > bytes,
        "the deferred resize did not start"
    );
    // Writes move the old groups and grow again as they need.
    for k in n..2 * n {
        store.insert(k, k);
    }
    assert!(locks(&store) as u64 > n / 20, "{} locks", locks(&store));
    assert!((0..2 * n).all(|k| store.read(&k, |v| *v) == Some(k)));
}

/// The same with the walks on another thread, as a monitoring loop would
/// run them: the store grows with its entries.
#[test]
#[cfg_attr(miri, ignore = "threads and 20 000 inserts: minutes under Miri")]
fn a_store_grows_while_another_thread_walks_it() {
    let store: ConcurrentStore<u64, u64, Fixed> = ConcurrentStore::with_hasher(Fixed::default());
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                std::hint::black_box(store.iter().take(8).count());
            }
        });
        for k in 0..20_000 {
            store.insert(k, k);
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    // One more write after the last walk: it moves groups or grows. The
    // keys are spread over many groups (a starved store has one: one lock
    // for every key).
    store.insert(20_000, 0);
    let locks: HashSet<usize> = (0..1_000u64).map(|k| store.lock_of(&k)).collect();
    assert!(locks.len() > 100, "1 000 keys share {} locks", locks.len());
}
