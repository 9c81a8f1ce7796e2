//! Model checks of `ConcurrentStore`'s synchronisation with loom: every
//! interleaving (exhaustively: no preemption bound is needed, the whole file
//! runs in well under a second) of two threads, and of three on one shard,
//! on each path that takes a shard lock: `entry` (read-modify-write),
//! `insert` against `read`/`get`, a resize under the write lock against a
//! held read guard, `remove` against `entry`, `iter` against a writer,
//! `retain`/`clear` against `insert`, and `len`.
//!
//! Built only with `--cfg mapstore_loom`, which swaps std's `RwLock` for
//! loom's (see `.ci/concurrent.sh`):
//!
//! ```text
//! RUSTFLAGS="--cfg mapstore_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test --release --test concurrent_loom
//! ```
#![cfg(mapstore_loom)]

use std::hash::{BuildHasherDefault, DefaultHasher};

use loom::sync::Arc;
use loom::thread;
use mapstore::storage::{Inline, Pooled, Storage};
use mapstore::{ConcurrentStore, MapValue, Plan};

/// A value that knows its key, in a chosen storage.
struct Val<St> {
    key: u64,
    body: [u64; 4],
    _st: core::marker::PhantomData<St>,
}

impl<St: Storage> MapValue for Val<St> {
    type Storage = St;
    const PLAN: Plan = Plan::of::<Self>("Val", &[]);
}

fn val<St>(key: u64) -> Val<St> {
    Val {
        key,
        body: [key; 4],
        _st: core::marker::PhantomData,
    }
}

impl<St> Val<St> {
    fn check(&self, key: u64) {
        assert_eq!((self.key, self.body), (key, [key; 4]));
    }
}

/// Deterministic hashing: the same shards in every execution.
type Fixed = BuildHasherDefault<DefaultHasher>;
type Store<St> = ConcurrentStore<u64, Val<St>, Fixed>;

fn store<St: Storage>(shards: usize) -> Arc<Store<St>> {
    Arc::new(ConcurrentStore::with_shards(shards, 0, Fixed::default()))
}

/// `entry` is atomic per key: two increments, two counts.
#[test]
fn entry_increments_are_not_lost() {
    loom::model(|| {
        let store: Arc<ConcurrentStore<u64, u64, Fixed>> =
            Arc::new(ConcurrentStore::with_shards(2, 0, Fixed::default()));
        let other = Arc::clone(&store);
        let t = thread::spawn(move || *other.entry(7).or_insert(0) += 1);
        store.entry(7).and_modify(|n| *n += 1).or_insert(1);
        t.join().unwrap();
        assert_eq!(store.read(&7, |n| *n), Some(2));
    });
}

fn insert_against_reads<St: Storage>()
where
    Store<St>: Send + Sync,
{
    loom::model(|| {
        let store = store::<St>(2);
        let writer = Arc::clone(&store);
        let t = thread::spawn(move || {
            assert!(writer.insert(1, val(1)).is_none());
            if let Some(old) = writer.insert(1, val(1)) {
                old.check(1);
            }
        });
        // Absent or whole, never torn.
        store.read(&1, |v| v.check(1));
        if let Some(r) = store.get(&1) {
            r.check(*r.key());
        }
        t.join().unwrap();
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

/// One shard: a reader holds a guard while the writer's insert must grow
/// the table (and the pool); the writer waits, the guard's value stays put.
#[test]
fn resize_waits_for_a_held_guard() {
    loom::model(|| {
        let store = store::<Pooled>(1);
        for k in 0..3 {
            store.insert(k, val(k));
        }
        let writer = Arc::clone(&store);
        let t = thread::spawn(move || {
            writer.insert(3, val(3));
            writer.insert(4, val(4));
        });
        {
            let guard = store.get(&0).unwrap();
            guard.check(0);
            let before: *const Val<Pooled> = &*guard;
            guard.check(0);
            assert_eq!(before, &*guard as *const _);
        }
        t.join().unwrap();
        for k in 0..5 {
            store.read(&k, |v| v.check(k)).unwrap();
        }
    });
}

/// `remove` against `entry(..).or_insert`: either order, never both lost.
#[test]
fn remove_against_entry() {
    loom::model(|| {
        let store = store::<Inline>(2);
        store.insert(1, val(1));
        let other = Arc::clone(&store);
        let t = thread::spawn(move || other.remove(&1).is_some());
        store.entry(1).or_insert_with(|| val(1)).check(1);
        let removed = t.join().unwrap();
        // Removed before the entry (re-inserted), or after it (gone): the
        // remove always found a value.
        assert!(removed);
        assert!(store.len() <= 1);
    });
}

/// `iter` sees each entry at most once and every entry that no one
/// removes, while another thread inserts and removes.
#[test]
fn iter_against_a_writer() {
    loom::model(|| {
        let store = store::<Inline>(2);
        store.insert(1, val(1));
        store.insert(2, val(2));
        let writer = Arc::clone(&store);
        let t = thread::spawn(move || {
            writer.insert(3, val(3));
            writer.remove(&2);
        });
        let mut keys: Vec<u64> = store.iter().map(|r| *r.key()).collect();
        keys.sort_unstable();
        assert!(keys.contains(&1));
        let len = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), len);
        t.join().unwrap();
        assert_eq!(store.len(), 2);
    });
}

/// `retain` and `clear` (shard by shard) against `insert`, and `len`.
#[test]
fn retain_and_clear_against_insert() {
    loom::model(|| {
        let store = store::<Pooled>(2);
        store.insert(1, val(1));
        let writer = Arc::clone(&store);
        let t = thread::spawn(move || {
            writer.insert(2, val(2));
            writer.len()
        });
        store.retain(|k, _| *k != 1);
        let len = t.join().unwrap();
        assert!((1..=2).contains(&len));
        assert_eq!(store.len(), 1);
        store.read(&2, |v| v.check(2)).unwrap();
        let writer = Arc::clone(&store);
        let t = thread::spawn(move || writer.insert(3, val(3)));
        store.clear();
        t.join().unwrap();
        assert!(store.len() <= 1);
    });
}

/// Three threads on one shard: two increment through `entry` (one of them
/// also removes and re-inserts another key), one reads through a guard.
#[test]
fn three_threads_on_one_shard() {
    loom::model(|| {
        let store: Arc<ConcurrentStore<u64, u64, Fixed>> =
            Arc::new(ConcurrentStore::with_shards(1, 0, Fixed::default()));
        store.insert(9, 9);
        let a = Arc::clone(&store);
        let ta = thread::spawn(move || *a.entry(1).or_default() += 1);
        let b = Arc::clone(&store);
        let tb = thread::spawn(move || {
            *b.entry(1).or_default() += 1;
            let nine = b.remove(&9).unwrap();
            b.insert(9, nine);
        });
        if let Some(n) = store.get(&1) {
            assert!((1..=2).contains(&*n));
        }
        ta.join().unwrap();
        tb.join().unwrap();
        assert_eq!(store.read(&1, |n| *n), Some(2));
        assert_eq!(store.read(&9, |n| *n), Some(9));
    });
}
