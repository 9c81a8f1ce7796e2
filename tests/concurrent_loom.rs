//! Model checks of `ConcurrentStore` with loom, through its public API only:
//! every interleaving (exhaustively, no preemption bound) of two threads (of
//! three in one model) at each point where loom can switch threads: a shard
//! lock taken or released, and the `yield_now` that each model puts inside
//! the windows a guard or a closure must protect.
//!
//! Each model writes distinct values (a value knows its key and which write
//! made it, and is checked whole) and asserts that what every thread saw is
//! a history some sequential order of the same calls produces. Each is
//! shown to fail on a mutant of the store (a planted bug, not committed);
//! the table of mutants and the model that kills each is in
//! `docs/concurrent.md` ("Verification").
//!
//! What loom cannot see: the store has no atomics or `UnsafeCell` of its
//! own (the table is plain memory behind a `RwLock`), so loom checks the
//! order of lock operations and what the API returns, not memory accesses;
//! and loom's `RwLock` cannot survive a panic under it (its inner std lock
//! is poisoned and loom then reports its own state corrupt), so panics under
//! the lock and poison recovery are tested with std's threads
//! (`tests/concurrent.rs`, `panics_in_closures_leave_it_usable`).
//!
//! Built only with `--cfg mapstore_loom`, which swaps std's `RwLock` for
//! loom's (see `.ci/concurrent.sh`):
//!
//! ```text
//! RUSTFLAGS="--cfg mapstore_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p mapstore --test concurrent_loom
//! ```
#![cfg(mapstore_loom)]

use std::hash::{BuildHasherDefault, DefaultHasher};

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

/// Deterministic hashing: the same shards and buckets in every execution.
type Fixed = BuildHasherDefault<DefaultHasher>;
type Store<St> = ConcurrentStore<u64, Val<St>, Fixed>;

/// A store of one group (under loom a group has 2 buckets, so a third key
/// chains a node and grows the table: the models reach the migration).
/// `shards` is kept from the sharded store's models and ignored.
fn store<St: Storage>(shards: usize) -> Arc<Store<St>> {
    let _ = shards;
    Arc::new(ConcurrentStore::with_hasher(Fixed::default()))
}

fn counters(shards: usize) -> Arc<ConcurrentStore<u64, u64, Fixed>> {
    let _ = shards;
    Arc::new(ConcurrentStore::with_hasher(Fixed::default()))
}

/// `entry` is atomic per key: two read-modify-writes (+1 through
/// `or_insert`'s guard, +10 through `and_modify`), each with a yield between
/// its read and its write, never lose one; the key is inserted once.
#[test]
fn entry_is_atomic_per_key() {
    loom::model(|| {
        let store = counters(2);
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

/// A writer inserts stamp 1, then overwrites it with stamp 2. The reader's
/// `read` closure and `get` guard each see one whole value that does not
/// change while they look (a yield in between), and the reader never sees
/// the stamps go back.
fn insert_against_reads<St: Storage>()
where
    Store<St>: Send + Sync,
{
    loom::model(|| {
        let store = store::<St>(2);
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

/// `get_mut` against `get_mut` then `remove`, on one shard: each guard's
/// read-modify-write (+1, +10, a yield in between) is atomic, and what the
/// removal returns matches whether the other `get_mut` found the key.
#[test]
fn get_mut_against_get_mut_and_remove() {
    loom::model(|| {
        let store = store::<Inline>(1);
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
/// key's shard (`entry(..).and_modify`) and inserts and removes another key:
/// a present key is never reported absent, `len` never misses it.
#[test]
fn contains_key_and_len_against_a_writer() {
    loom::model(|| {
        let store = store::<Inline>(2);
        store.insert(1, val(1, 0));
        let writing = Arc::new(AtomicBool::new(false));
        let (writer, flag) = (Arc::clone(&store), Arc::clone(&writing));
        let t = thread::spawn(move || {
            let writing = flag;
            drop(writer.entry(1).and_modify(|v| {
                // A point where loom may switch threads while the shard is
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
    loom::model(|| {
        let store = store::<Pooled>(2);
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

/// One shard, full: the writer's next insert grows the table (an inline
/// table moves every value), against a `read` (a yield inside its closure)
/// and an `iter` on the reader's side. `read` finds its key whole and
/// unchanged; `iter` sees a snapshot: exactly the keys inserted before some
/// point of the writer's, each once.
fn growth_against_read_and_iter<St: Storage>()
where
    Store<St>: Send + Sync,
{
    loom::model(|| {
        let store = store::<St>(1);
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
        assert!(
            matches!(keys[..], [0, 1, 2] | [0, 1, 2, 3] | [0, 1, 2, 3, 4]),
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
    loom::model(|| {
        let store = store::<Pooled>(2);
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

/// Three threads on one shard: two add to one counter through `entry`
/// (+1, +10; one of them also removes and re-inserts another key), one
/// reads through a guard.
#[test]
fn three_threads_on_one_shard() {
    loom::model(|| {
        let store = counters(1);
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
