//! Model checks of `ConcurrentStore` with loom, through its public API only:
//! every interleaving of two threads (of three in one model), up to a
//! bound on preemptions (`LOOM_MAX_PREEMPTIONS`, 3 unless set; CI runs 4),
//! at each point where loom can switch threads: a group lock taken or
//! released, an atomic access of the table (`current`, `prev`, `moved`,
//! `done`, the helping cursor, the counters), a pool stripe's mutex, and
//! the `yield_now` that each model puts inside the windows a guard or a
//! closure must protect.
//!
//! Under `--cfg mapstore_loom` the table (`runtime/concurrent_table.rs`)
//! has groups of 2 buckets and starts at one group, so a third key chains a
//! node and grows the table: the models below the "Migration paths" line
//! reach growth, a group moved while read, two writers racing to move the
//! same old group, a helping write skipping a group a guard holds, and a
//! walk registered while growth is attempted. Group locks are a loom mutex
//! and condition variable there: a thread waiting for a group blocks, so a
//! lock-order deadlock is reported as one.
//!
//! Each model writes distinct values (a value knows its key and which write
//! made it, and is checked whole) and asserts that what every thread saw is
//! a history some sequential order of the same calls produces, and the
//! exact contents and `len` at the end. Each is shown to fail on a mutant
//! of the table (a planted bug, not committed); the table of mutants and
//! the model that kills each is in `docs/concurrent.md` ("Verification").
//!
//! What loom cannot see: the buckets are plain memory behind the group
//! locks (not loom `UnsafeCell`s), so loom checks the order of lock and
//! atomic operations and what the API returns, not each bucket access (Miri
//! and ThreadSanitizer cover those, `.ci/concurrent.sh`); epoch reclamation
//! is replaced by keeping retired arrays until the table drops; and a panic
//! under a loom lock poisons loom's own state, so panics under the lock are
//! tested with std's threads (`tests/concurrent.rs`).
//!
//! Built only with `--cfg mapstore_loom`, which swaps the table's locks and
//! atomics for loom's (see `.ci/concurrent.sh`):
//!
//! ```text
//! RUSTFLAGS="--cfg mapstore_loom" CARGO_TARGET_DIR=target/loom \
//!     CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true \
//!     cargo test -p mapstore --release --features __model_check --test concurrent_loom
//! ```
//!
//! (Debug assertions on: the table's `debug_assert`s catch a read of a
//! moved group, which otherwise can pass unseen: see T4 in
//! `docs/concurrent.md`.)
#![cfg(all(mapstore_loom, not(mapstore_shuttle)))]

use std::hash::{BuildHasherDefault, DefaultHasher, Hasher};

use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;
use mapstore::concurrent::Entry;
use mapstore::storage::{Inline, Pooled, Storage};
use mapstore::{ConcurrentStore, MapValue, Plan};

/// A value that knows its key and which write made it (its stamp), with a
/// body derived from both, so that a torn or misplaced value is caught.
struct Val<St> {
    key: u64,
    stamp: u64,
    body: [u64; 4],
    _st: core::marker::PhantomData<St>,
}

impl<St: Storage> MapValue for Val<St> {
    type Storage = St;
    const PLAN: Plan = Plan::of::<Self>("Val", &[]);
}

fn val<St>(key: u64, stamp: u64) -> Val<St> {
    Val {
        key,
        stamp,
        body: [key * 1000 + stamp; 4],
        _st: core::marker::PhantomData,
    }
}

impl<St> Val<St> {
    /// The stamp, after checking the value is whole and was written for `key`.
    fn whole(&self, key: u64) -> u64 {
        assert_eq!(
            self.key, key,
            "a value under key {key} was written for {}",
            self.key
        );
        assert_eq!(
            self.body,
            [key * 1000 + self.stamp; 4],
            "a torn value under key {key}"
        );
        self.stamp
    }
}

/// Deterministic hashing: the same groups and buckets in every execution,
/// and the groups of the table below (worked out from `DefaultHasher`'s
/// own low bits).
type Fixed = BuildHasherDefault<Unspread>;

/// `DefaultHasher` through the inverse of the store's spread (the table's
/// `spread`: a multiply by `0x9e37_79b9_7f4a_7c15`, then the high half
/// folded onto the low), so that the table reads `DefaultHasher`'s bits as
/// they are and the migration models keep their keys' groups.
#[derive(Default)]
struct Unspread(DefaultHasher);

impl Hasher for Unspread {
    fn finish(&self) -> u64 {
        let h = self.0.finish();
        // The fold is its own inverse; then the multiplier's inverse.
        (h ^ (h >> 32)).wrapping_mul(0xf1de_83e1_9937_733d)
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }
}
type Store<St> = ConcurrentStore<u64, Val<St>, Fixed>;

/// A store of one group (under loom a group has 2 buckets, so a third key
/// chains a node and grows the table: the models reach the migration).
fn store<St: Storage>() -> Arc<Store<St>> {
    Arc::new(ConcurrentStore::with_hasher(Fixed::default()))
}

fn counters() -> Arc<ConcurrentStore<u64, u64, Fixed>> {
    Arc::new(ConcurrentStore::with_hasher(Fixed::default()))
}

/// `entry` is atomic per key: two read-modify-writes (+1 through
/// `or_insert`'s guard, +10 through `and_modify`), each with a yield between
/// its read and its write, never lose one; the key is inserted once.
#[test]
fn entry_is_atomic_per_key() {
    bounded(|| {
        let store = counters();
        let other = Arc::clone(&store);
        let t = thread::spawn(move || {
            let mut n = other.entry(7).or_insert(0);
            let seen = *n;
            thread::yield_now();
            *n = seen + 1;
        });
        drop(
            store
                .entry(7)
                .and_modify(|n| {
                    let seen = *n;
                    thread::yield_now();
                    *n = seen + 10;
                })
                .or_insert(10),
        );
        t.join().unwrap();
        assert_eq!(store.read(&7, |n| *n), Some(11), "an update was lost");
        assert_eq!(store.len(), 1, "the key was inserted twice");
    });
}

/// `remove_if` tests and removes under one lock: against a `get_mut` that
/// bumps the counter (+1, a yield between its read and its write), the value
/// removed is the value the closure saw, and either the bump happened before
/// the removal (the store ends empty, 11 removed) or after (10 removed, and
/// the bump found no key).
#[test]
fn remove_if_is_atomic_with_its_test() {
    bounded(|| {
        let store = counters();
        store.insert(7, 10);
        let other = Arc::clone(&store);
        let t = thread::spawn(move || {
            other.get_mut(&7).map(|mut n| {
                let seen = *n;
                thread::yield_now();
                *n = seen + 1;
            })
        });
        let mut saw = None;
        let removed = store.remove_if(&7, |_, n| {
            saw = Some(*n);
            thread::yield_now();
            *n >= 10
        });
        let bumped = t.join().unwrap().is_some();
        let (key, value) = removed.expect("the value is always at least 10");
        assert_eq!(
            (key, Some(value)),
            (7, saw),
            "removed a value the test did not see"
        );
        assert_eq!(value, if bumped { 11 } else { 10 });
        assert!(store.is_empty());
    });
}

/// A writer inserts stamp 1, then overwrites it with stamp 2. The reader's
/// `read` closure and `get` guard each see one whole value that does not
/// change while they look (a yield in between), and the reader never sees
/// the stamps go back.
fn insert_against_reads<St: Storage>()
where
    Store<St>: Send + Sync,
{
    bounded(|| {
        let store = store::<St>();
        let writer = Arc::clone(&store);
        let t = thread::spawn(move || {
            assert!(writer.insert(1, val(1, 1)).is_none());
            let old = writer.insert(1, val(1, 2)).expect("key 1 was inserted");
            assert_eq!(old.whole(1), 1);
        });
        let first = store
            .read(&1, |v| {
                let stamp = v.whole(1);
                thread::yield_now();
                assert_eq!(v.whole(1), stamp, "the value changed under read's closure");
                stamp
            })
            .unwrap_or(0);
        let second = store.get(&1).map_or(0, |r| {
            let stamp = r.whole(1);
            thread::yield_now();
            assert_eq!(r.whole(1), stamp, "the value changed under a Ref");
            stamp
        });
        assert!(first <= second, "stamps went back: {first} then {second}");
        t.join().unwrap();
        assert_eq!(store.read(&1, |v| v.whole(1)), Some(2));
        assert_eq!(store.len(), 1);
    });
}

#[test]
fn insert_against_reads_inline() {
    insert_against_reads::<Inline>();
}

#[test]
fn insert_against_reads_pooled() {
    insert_against_reads::<Pooled>();
}

/// `get_mut` against `get_mut` then `remove`, on one group: each guard's
/// read-modify-write (+1, +10, a yield in between) is atomic, and what the
/// removal returns matches whether the other `get_mut` found the key.
#[test]
fn get_mut_against_get_mut_and_remove() {
    bounded(|| {
        let store = store::<Inline>();
        store.insert(1, val(1, 0));
        let other = Arc::clone(&store);
        let t = thread::spawn(move || {
            {
                let mut g = other.get_mut(&1).expect("key 1 is present until removed");
                assert_eq!(*g.key(), 1);
                let stamp = g.whole(1);
                thread::yield_now();
                *g = val(1, stamp + 10);
            }
            other.remove(&1).expect("only this thread removes").whole(1)
        });
        let found = store.get_mut(&1).map(|mut g| {
            assert_eq!(*g.key(), 1);
            let stamp = g.whole(1);
            thread::yield_now();
            *g = val(1, stamp + 1);
        });
        let removed = t.join().unwrap();
        let expected = if found.is_some() { 11 } else { 10 };
        assert_eq!(removed, expected, "an update was lost");
        assert!(store.is_empty());
    });
}

/// `contains_key` and `len` against a writer that write-locks the present
/// key's group (`entry(..).and_modify`) and inserts and removes another key:
/// a present key is never reported absent, `len` never misses it.
#[test]
fn contains_key_and_len_against_a_writer() {
    bounded(|| {
        let store = store::<Inline>();
        store.insert(1, val(1, 0));
        let writing = Arc::new(AtomicBool::new(false));
        let (writer, flag) = (Arc::clone(&store), Arc::clone(&writing));
        let t = thread::spawn(move || {
            let writing = flag;
            drop(writer.entry(1).and_modify(|v| {
                // A point where loom may switch threads while the group is
                // write-locked (an atomic access: unlike `yield_now`, loom's
                // search backtracks to it).
                writing.store(true, SeqCst);
                *v = val(1, 1);
            }));
            assert!(writer.insert(2, val(2, 0)).is_none());
            assert!(writer.remove(&2).is_some());
        });
        // Loads of the writer's flag: points where loom's search may let the
        // writer's `and_modify` run up to its store first.
        let _ = writing.load(SeqCst);
        assert!(store.contains_key(&1), "a present key was reported absent");
        let _ = writing.load(SeqCst);
        let len = store.len();
        assert!(
            (1..=2).contains(&len),
            "len {len} with key 1 always present"
        );
        t.join().unwrap();
        assert_eq!(store.len(), 1);
        assert_eq!(store.read(&1, |v| v.whole(1)), Some(1));
    });
}

/// Occupied `entry(..).insert(..)` against `insert` of the same present
/// key: the entry is never vacant, its guard shows its own value until
/// dropped, and the old value `insert` returns matches the final value.
#[test]
fn occupied_entry_insert_against_insert() {
    bounded(|| {
        let store = store::<Pooled>();
        store.insert(1, val(1, 0));
        let other = Arc::clone(&store);
        let t = thread::spawn(move || {
            let entry = other.entry(1);
            assert!(
                matches!(entry, Entry::Occupied(_)),
                "a present key's entry was vacant"
            );
            let g = entry.insert(val(1, 1));
            thread::yield_now();
            assert_eq!(
                g.whole(1),
                1,
                "another write got in under the entry's guard"
            );
        });
        let old = store
            .insert(1, val(1, 2))
            .expect("key 1 is always present")
            .whole(1);
        t.join().unwrap();
        let last = store.read(&1, |v| v.whole(1)).unwrap();
        assert!(
            matches!((old, last), (0, 1) | (1, 2)),
            "no sequential order gives insert's old {old} and a final {last}"
        );
        assert_eq!(store.len(), 1);
    });
}

/// One group, full: the writer's next insert grows the table (an inline
/// table moves every value), against a `read` (a yield inside its closure)
/// and an `iter` on the reader's side. `read` finds its key whole and
/// unchanged; `iter` sees a snapshot: exactly the keys inserted before some
/// point of the writer's, each once.
fn growth_against_read_and_iter<St: Storage>()
where
    Store<St>: Send + Sync,
{
    bounded(|| {
        let store = store::<St>();
        for k in 0..3 {
            store.insert(k, val(k, 0));
        }
        let writer = Arc::clone(&store);
        let t = thread::spawn(move || {
            writer.insert(3, val(3, 0));
            writer.insert(4, val(4, 0));
        });
        let found = store.read(&0, |v| {
            v.whole(0);
            thread::yield_now();
            v.whole(0)
        });
        assert_eq!(found, Some(0));
        let mut keys: Vec<u64> = store
            .iter()
            .map(|r| {
                r.whole(*r.key());
                *r.key()
            })
            .collect();
        keys.sort_unstable();
        // A walk is a snapshot of each group, not of the store: keys 0-2,
        // present throughout, are seen exactly once; 3 and 4, inserted
        // meanwhile, at most once each, in either order (4 may land in a
        // group the walk has not reached yet while 3's was passed).
        assert!(
            matches!(
                keys[..],
                [0, 1, 2] | [0, 1, 2, 3] | [0, 1, 2, 4] | [0, 1, 2, 3, 4]
            ),
            "iter saw {keys:?}"
        );
        t.join().unwrap();
        assert_eq!(store.len(), 5);
    });
}

#[test]
fn growth_against_read_and_iter_inline() {
    growth_against_read_and_iter::<Inline>();
}

#[test]
fn growth_against_read_and_iter_pooled() {
    growth_against_read_and_iter::<Pooled>();
}

/// `retain` against an overwrite of the key it removes: `retain` drops only
/// stamp-0 values, so in either order key 1 ends with the writer's stamp 1.
/// Then `clear` against an insert: the store ends empty or with that key.
#[test]
fn retain_and_clear_against_insert() {
    bounded(|| {
        let store = store::<Pooled>();
        store.insert(1, val(1, 0));
        let writer = Arc::clone(&store);
        let t = thread::spawn(move || writer.insert(1, val(1, 1)).map(|v| v.whole(1)));
        store.retain(|k, v| v.whole(*k) != 0);
        let old = t.join().unwrap();
        assert!(matches!(old, None | Some(0)), "insert returned {old:?}");
        assert_eq!(
            store.read(&1, |v| v.whole(1)),
            Some(1),
            "retain removed a value it never saw"
        );
        let writer = Arc::clone(&store);
        let t = thread::spawn(move || writer.insert(3, val(3, 0)).is_none());
        store.clear();
        assert!(t.join().unwrap());
        match store.len() {
            0 => {}
            1 => assert_eq!(store.read(&3, |v| v.whole(3)), Some(0)),
            n => panic!("{n} entries after clear against one insert"),
        }
    });
}

/// Three threads on one group: two add to one counter through `entry`
/// (+1, +10; one of them also removes and re-inserts another key), one
/// reads through a guard.
#[test]
fn three_threads_on_one_group() {
    bounded(|| {
        let store = counters();
        store.insert(9, 9);
        let a = Arc::clone(&store);
        let ta = thread::spawn(move || *a.entry(1).or_default() += 1);
        let b = Arc::clone(&store);
        let tb = thread::spawn(move || {
            *b.entry(1).or_default() += 10;
            let nine = b.remove(&9).unwrap();
            b.insert(9, nine + 100);
        });
        if let Some(n) = store.get(&1) {
            assert!(matches!(*n, 1 | 10 | 11), "saw {}", *n);
        }
        ta.join().unwrap();
        tb.join().unwrap();
        assert_eq!(store.read(&1, |n| *n), Some(11));
        assert_eq!(store.read(&9, |n| *n), Some(109));
    });
}

// ---------------------------------------------------------------------------
// Migration paths. Under loom a group has 2 buckets and the table starts at
// one group. With the fixed hasher, keys' groups are (the low hash bits):
//
// | key              | 0 | 1 | 2 | 3 | 4 | 5 | 7 | 9 |
// |------------------|---|---|---|---|---|---|---|---|
// | of 2 groups      | 1 | 1 | 0 | 0 | 1 | 0 | 1 | 0 |
// | of 4 groups      | 1 | 1 | 2 | 2 | 1 | 0 | 3 | 0 |
//
// `one_old_group`: keys 0, 1, 2 inserted: the third chains a node and grows
// the table to 2 groups; the old array (1 group, all three keys) is not
// moved yet: the next write moves it.
//
// `two_old_groups`: keys 0-4 inserted: 3's write moved the first old array;
// 4's chained a node in group 1 ({0, 1, 4}) with 5 entries in 2 groups and
// grew the table to 4 groups; neither old group ({2, 3} and {0, 1, 4}) is
// moved yet.

/// Explores every interleaving with at most `LOOM_MAX_PREEMPTIONS` (3
/// unless set) preemptions: on the new table two of the models do not end
/// within minutes unbounded (more lock and atomic operations per call);
/// bound 3 runs every model in under a second (release), bound 4 in about
/// 4 s.
fn bounded<F: Fn() + Sync + Send + 'static>(f: F) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// Keys `0..n` inserted in order, each with stamp 0.
fn filled<St: Storage>(n: u64) -> Arc<Store<St>> {
    let store = store::<St>();
    for k in 0..n {
        assert!(store.insert(k, val(k, 0)).is_none());
    }
    store
}

fn one_old_group<St: Storage>() -> Arc<Store<St>> {
    filled(3)
}

fn two_old_groups<St: Storage>() -> Arc<Store<St>> {
    filled(5)
}

/// Keys 0-3 in 2 groups, no migration running: the keys sit under 2 locks
/// (none in an old group), and a sequential twin grows past 2 groups when
/// more keys arrive, which a table that never unlinks a migrated array
/// cannot (a resize starts only once the previous one is unlinked).
fn two_settled_groups() -> Arc<Store<Inline>> {
    let store = filled::<Inline>(4);
    let locks = |s: &Store<Inline>, n: u64| {
        (0..n)
            .map(|k| s.lock_of(&k))
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    assert_eq!(locks(&store, 4), 2, "keys 0-3: not in 2 groups");
    let twin = filled::<Inline>(8);
    assert!(
        locks(&twin, 8) > 2,
        "keys 0-7 never left 2 groups: the old array was not unlinked after its last group moved"
    );
    store
}

/// The store holds exactly `keys`, each whole with its stamp, and `len`
/// says so.
fn holds<St: Storage>(store: &Store<St>, keys: &[(u64, u64)]) {
    for &(k, stamp) in keys {
        assert_eq!(
            store.read(&k, |v| v.whole(k)),
            Some(stamp),
            "key {k} lost or changed"
        );
    }
    assert_eq!(store.len(), keys.len(), "len");
    let mut seen: Vec<u64> = store
        .iter()
        .map(|r| {
            r.whole(*r.key());
            *r.key()
        })
        .collect();
    seen.sort_unstable();
    let mut want: Vec<u64> = keys.iter().map(|&(k, _)| k).collect();
    want.sort_unstable();
    assert_eq!(seen, want, "iter after the threads joined");
}

/// A writer moves the old group (its insert of key 3 moves the one old
/// group first) while a reader reads keys of that group, through `read`
/// (a yield inside the closure) and a `get` guard (a yield while held): the
/// reader finds each key whole, before or after the move, never neither.
fn move_against_reads<St: Storage>()
where
    Store<St>: Send + Sync,
{
    bounded(|| {
        let store = one_old_group::<St>();
        let writer = Arc::clone(&store);
        let t = thread::spawn(move || assert!(writer.insert(3, val(3, 0)).is_none()));
        let found = store.read(&0, |v| {
            v.whole(0);
            thread::yield_now();
            v.whole(0)
        });
        assert_eq!(found, Some(0), "a key of a group being moved was not found");
        let g = store
            .get(&2)
            .expect("a key of a group being moved was not found");
        thread::yield_now();
        assert_eq!(g.whole(2), 0);
        drop(g);
        t.join().unwrap();
        holds(&store, &[(0, 0), (1, 0), (2, 0), (3, 0)]);
    });
}

#[test]
fn move_against_reads_inline() {
    move_against_reads::<Inline>();
}

#[test]
fn move_against_reads_pooled() {
    move_against_reads::<Pooled>();
}

/// Two old groups; two writers race to move them: one inserts key 5 (old
/// group 0 through its own key, then helps from the cursor), the other
/// removes key 0 (old group 1 through its own key, then helps). Each old
/// group is moved exactly once, whichever path gets it first: nothing is
/// lost or duplicated, the removal returns key 0's value, and `len` is
/// exact.
#[test]
fn two_writers_race_to_move() {
    bounded(|| {
        let store = two_old_groups::<Inline>();
        let a = Arc::clone(&store);
        let ta = thread::spawn(move || assert!(a.insert(5, val(5, 0)).is_none()));
        let removed = store.remove(&0).map(|v| v.whole(0));
        assert_eq!(removed, Some(0), "the removal missed key 0");
        ta.join().unwrap();
        holds(&store, &[(1, 0), (2, 0), (3, 0), (4, 0), (5, 0)]);
    });
}

/// An insert that chains a node and grows the table (key 2, then key 3,
/// whose write moves the old group), against a removal of a key of the
/// growing group (and then an overwrite of another): the removal returns
/// the value, the overwrite the old one; the final contents and `len` are
/// exact.
#[test]
fn growth_against_remove() {
    bounded(|| {
        let store = filled::<Pooled>(2);
        let a = Arc::clone(&store);
        let ta = thread::spawn(move || {
            assert!(a.insert(2, val(2, 0)).is_none());
            assert!(a.insert(3, val(3, 0)).is_none());
        });
        assert_eq!(store.remove(&0).map(|v| v.whole(0)), Some(0));
        assert_eq!(store.insert(1, val(1, 1)).map(|v| v.whole(1)), Some(0));
        ta.join().unwrap();
        holds(&store, &[(1, 1), (2, 0), (3, 0)]);
    });
}

/// `len` against a growth (keys 0 and 1 fill the group, key 2 chains a
/// node; key 3's write grows the table and moves the old group): keys 0 to
/// 2, present throughout, are each counted once, whichever way the move
/// crosses the sum. A sum that does not check the moves' counts (`begun`,
/// `done`) and that its array is still the current one reads 0 here (the
/// old array summed after its group moved out).
#[test]
fn len_against_growth() {
    bounded(|| {
        let store = filled::<Inline>(3);
        let a = Arc::clone(&store);
        let ta = thread::spawn(move || {
            assert!(a.insert(3, val(3, 0)).is_none());
        });
        let len = store.len();
        assert!(
            (3..=4).contains(&len),
            "len {len} with keys 0 to 2 present throughout"
        );
        assert!(
            !store.is_empty(),
            "is_empty with keys 0 to 2 present throughout"
        );
        ta.join().unwrap();
        holds(&store, &[(0, 0), (1, 0), (2, 0), (3, 0)]);
    });
}

/// A walk (`iter`, a yield between items) registered while an insert would
/// grow the table (key 2 chains a node in the full group; key 3's write
/// would move it): no resize starts while the walk is registered, so the
/// walk sees keys 0 and 1 (present throughout) exactly once and 2 and 3 at
/// most once. Then `retain` against the same, from a fresh store.
#[test]
fn walk_against_growth() {
    bounded(|| {
        let store = filled::<Inline>(2);
        let a = Arc::clone(&store);
        let ta = thread::spawn(move || {
            assert!(a.insert(2, val(2, 0)).is_none());
            assert!(a.insert(3, val(3, 0)).is_none());
        });
        let mut keys: Vec<u64> = Vec::new();
        for r in store.iter() {
            r.whole(*r.key());
            keys.push(*r.key());
            thread::yield_now();
        }
        keys.sort_unstable();
        assert!(
            matches!(keys[..], [0, 1] | [0, 1, 2] | [0, 1, 3] | [0, 1, 2, 3]),
            "iter saw {keys:?}"
        );
        ta.join().unwrap();
        holds(&store, &[(0, 0), (1, 0), (2, 0), (3, 0)]);
    });
}

/// `iter_mut` (a yield between items, every item of the pass kept alive
/// until its end, so the group's write lock is shared by them and released
/// by the last) against a thread that inserts key 2 (which would grow the
/// table) and then reads key 0: each key present throughout is replaced
/// exactly once and whole, the reader sees key 0 whole before or after,
/// and key 2 is stamped once if the walk saw it.
#[test]
fn iter_mut_against_growth_and_read() {
    bounded(|| {
        let store = filled::<Pooled>(2);
        let a = Arc::clone(&store);
        let ta = thread::spawn(move || {
            assert!(a.insert(2, val(2, 0)).is_none());
            let stamp = a.read(&0, |v| v.whole(0));
            assert!(matches!(stamp, Some(0 | 1)), "key 0 read as {stamp:?}");
        });
        let mut items = Vec::new();
        let mut keys = Vec::new();
        for mut r in store.iter_mut() {
            let k = *r.key();
            let stamp = r.whole(k);
            *r = val(k, stamp + 1);
            keys.push(k);
            items.push(r);
            thread::yield_now();
        }
        drop(items);
        ta.join().unwrap();
        keys.sort_unstable();
        let two = match keys[..] {
            [0, 1] => 0,
            [0, 1, 2] => 1,
            _ => panic!("iter_mut saw {keys:?}"),
        };
        holds(&store, &[(0, 1), (1, 1), (2, two)]);
    });
}

/// `retain` (removing key 0, keeping the rest) registered while an insert
/// would grow the table: key 0 is removed, every other key survives once.
#[test]
fn retain_against_growth() {
    bounded(|| {
        let store = filled::<Pooled>(2);
        let a = Arc::clone(&store);
        let ta = thread::spawn(move || {
            assert!(a.insert(2, val(2, 0)).is_none());
            assert!(a.insert(3, val(3, 0)).is_none());
        });
        store.retain(|k, v| {
            v.whole(*k);
            *k != 0
        });
        ta.join().unwrap();
        holds(&store, &[(1, 0), (2, 0), (3, 0)]);
    });
}

/// A `get` guard held on old group 0 (key 2) while another thread's insert
/// of key 7 moves old group 1 and must help around the held group (its
/// helping `try_lock` fails and skips it): the reader joins the writer
/// while still holding the guard, so a writer that waited for the group
/// would deadlock (loom reports it). The migration completes only after the
/// guard drops: the reader's insert of key 9 (old group 0) moves it.
#[test]
fn guard_on_old_group_against_helping_write() {
    bounded(|| {
        let store = two_old_groups::<Inline>();
        let w = Arc::clone(&store);
        let tw = thread::spawn(move || assert!(w.insert(7, val(7, 0)).is_none()));
        let g = store.get(&2).expect("key 2 is present");
        thread::yield_now();
        tw.join().unwrap();
        assert_eq!(g.whole(2), 0);
        drop(g);
        assert!(store.insert(9, val(9, 0)).is_none());
        holds(
            &store,
            &[(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (7, 0), (9, 0)],
        );
    });
}

/// A read that loads the current array while a writer grows it and moves
/// the group the read is about to lock (keys 0-3 in 2 groups, no migration
/// running; the writer's key 4 grows the table and key 5's write moves
/// both old groups, one by helping): the read finds key 0 whole.
#[test]
fn read_against_growth_and_move() {
    bounded(|| {
        let store = two_settled_groups();
        let w = Arc::clone(&store);
        let tw = thread::spawn(move || {
            assert!(w.insert(4, val(4, 0)).is_none());
            assert!(w.insert(5, val(5, 0)).is_none());
        });
        assert_eq!(store.read(&0, |v| v.whole(0)), Some(0), "key 0 not found");
        assert_eq!(
            store.get(&1).map(|g| g.whole(1)),
            Some(0),
            "key 1 not found"
        );
        tw.join().unwrap();
        holds(&store, &[(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0)]);
    });
}

/// A write that loads the current array while another writer grows it and
/// moves the group the write is about to lock: the overwrite of key 1 is
/// never lost in a moved group.
#[test]
fn write_against_growth_and_move() {
    bounded(|| {
        let store = two_settled_groups();
        let w = Arc::clone(&store);
        let tw = thread::spawn(move || {
            assert!(w.insert(4, val(4, 0)).is_none());
            assert!(w.insert(5, val(5, 0)).is_none());
        });
        assert_eq!(store.insert(1, val(1, 1)).map(|v| v.whole(1)), Some(0));
        tw.join().unwrap();
        holds(&store, &[(0, 0), (1, 1), (2, 0), (3, 0), (4, 0), (5, 0)]);
    });
}

/// Two inserts that each chain a node in a full group (keys 0-3 fill both
/// groups; 4 goes to group 1, 5 to group 0), so both try to start the
/// resize at once: one array is installed, the other attempt backs off,
/// and the next writes move both old groups; nothing is lost.
#[test]
fn two_inserts_race_to_grow() {
    bounded(|| {
        let store = two_settled_groups();
        let a = Arc::clone(&store);
        let ta = thread::spawn(move || assert!(a.insert(4, val(4, 0)).is_none()));
        assert!(store.insert(5, val(5, 0)).is_none());
        ta.join().unwrap();
        assert!(store.insert(9, val(9, 0)).is_none());
        assert_eq!(store.insert(1, val(1, 1)).map(|v| v.whole(1)), Some(0));
        holds(
            &store,
            &[(0, 0), (1, 1), (2, 0), (3, 0), (4, 0), (5, 0), (9, 0)],
        );
    });
}

/// The `try_` calls against a held guard and a growing table: a thread
/// increments keys 2 and 3 (the third key chains a node and grows the
/// table, the fourth's write moves the old group) and key 0 through
/// `try_entry`, while the main thread holds key 0's write guard across a
/// yield and reads key 1 with `try_get`. A `try_` call either does its
/// whole increment or reports the lock and changes nothing: the final
/// counts are exactly the increments that ran, and `try_get` sees key 1's
/// value or the lock, never a missing key.
#[test]
fn try_calls_against_a_guard_and_growth() {
    use mapstore::concurrent::TryResult;
    bounded(|| {
        let store = counters();
        store.insert(0, 0);
        store.insert(1, 0);
        let other = Arc::clone(&store);
        let t = thread::spawn(move || {
            let mut done = [0u64; 4];
            for k in [2u64, 3, 0] {
                if let Some(entry) = other.try_entry(k) {
                    *entry.or_insert(0) += 1;
                    done[k as usize] += 1;
                }
            }
            done
        });
        let mut guard = store.get_mut(&0).unwrap();
        let seen = *guard;
        thread::yield_now();
        *guard = seen + 10;
        drop(guard);
        let one = store.try_get(&1).map(|r| *r);
        assert!(
            matches!(one, TryResult::Present(0) | TryResult::Locked),
            "try_get of key 1 saw {one:?}"
        );
        let done = t.join().unwrap();
        assert_eq!(
            store.read(&0, |n| *n),
            Some(10 + done[0]),
            "an update was lost"
        );
        for k in [2u64, 3] {
            let expected = (done[k as usize] > 0).then_some(1);
            assert_eq!(store.read(&k, |n| *n), expected, "key {k}");
        }
        assert_eq!(store.len() as u64, 2 + done[2] + done[3]);
    });
}

/// `alter` takes the entry out of its bucket and puts it back under the
/// key's write lock, with a yield inside its closure; meanwhile another
/// thread's insert of key 3 moves the one old group, then reads key 0. The
/// reader never finds the key absent, and sees the old value or the new
/// one, whole; the move never loses the altered entry.
#[test]
fn alter_against_move_and_read() {
    bounded(|| {
        let store = one_old_group::<Pooled>();
        let w = Arc::clone(&store);
        let t = thread::spawn(move || {
            assert!(w.insert(3, val(3, 0)).is_none());
            w.read(&0, |v| v.whole(0))
                .expect("key 0 was absent while `alter` ran")
        });
        store.alter(&0, |&k, v| {
            let stamp = v.whole(k);
            thread::yield_now();
            val(k, stamp + 1)
        });
        let seen = t.join().unwrap();
        assert!(seen <= 1, "read a stamp never written");
        holds(&store, &[(0, 1), (1, 0), (2, 0), (3, 0)]);
    });
}

/// `alter_all` registered while another thread's inserts would grow the
/// table: keys 0 and 1 are altered exactly once, keys 2 and 3 once or not
/// at all (inserted before or after the walk passed their group), and
/// nothing is lost.
#[test]
fn alter_all_against_growth() {
    bounded(|| {
        let store = filled::<Inline>(2);
        let a = Arc::clone(&store);
        let ta = thread::spawn(move || {
            assert!(a.insert(2, val(2, 0)).is_none());
            assert!(a.insert(3, val(3, 0)).is_none());
        });
        store.alter_all(|&k, v| {
            let stamp = v.whole(k);
            val(k, stamp + 1)
        });
        ta.join().unwrap();
        let stamp = |k: u64| store.read(&k, |v| v.whole(k));
        assert_eq!(
            (stamp(0), stamp(1)),
            (Some(1), Some(1)),
            "altered twice or not at all"
        );
        for k in [2, 3] {
            assert!(matches!(stamp(k), Some(0 | 1)), "key {k}: {:?}", stamp(k));
        }
        assert_eq!(store.len(), 4);
    });
}

/// `RefMut::downgrade` takes the read lock over from the write lock with
/// no moment unlocked: the main thread writes stamp 1 through a `get_mut`
/// guard, downgrades it, yields, and reads stamp 1 through the `Ref`
/// however the other thread's overwrite (stamp 2) is scheduled; the
/// overwrite lands before the guard was taken or after the `Ref` is gone.
#[test]
fn downgrade_lets_no_writer_in() {
    bounded(|| {
        let store = one_old_group::<Pooled>();
        let w = Arc::clone(&store);
        let t = thread::spawn(move || w.insert(0, val(0, 2)).map(|v| v.whole(0)));
        let mut g = store.get_mut(&0).expect("key 0 is present");
        *g = val(0, 1);
        let r = g.downgrade();
        thread::yield_now();
        assert_eq!(
            r.whole(0),
            1,
            "a writer came between the write and the downgraded read"
        );
        drop(r);
        let replaced = t.join().unwrap();
        let end = store.read(&0, |v| v.whole(0)).unwrap();
        match replaced {
            Some(0) => assert_eq!(end, 1, "the overwrite came first, then stamp 1"),
            Some(1) => assert_eq!(end, 2, "stamp 1, then the overwrite"),
            other => panic!("the overwrite replaced {other:?}"),
        }
    });
}
