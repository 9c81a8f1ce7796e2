//! What leaves a `ConcurrentStore` is dropped after the group's lock is
//! released, so a key or value whose `Drop` calls the store (a registry
//! entry that unregisters itself, say) never deadlocks: `clear`, `retain`,
//! `insert` and `entry` of a present key (the caller's duplicate key),
//! occupied `Entry::insert` and `insert_entry` (the old value), `into_key`,
//! both also through a guard
//! downgraded to a `Ref`, `remove`, `remove_if_mut` and an overwriting
//! `insert` (returned to the caller). Each path runs on its own thread with
//! a watchdog, so a regression fails instead of hanging (in debug builds it
//! would panic at the re-lock instead), over the three storages.

use std::cell::{Cell, RefCell};
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use mapstore::concurrent::Entry;
use mapstore::storage::{Boxed, Inline, Pooled, Storage};
use mapstore::{ConcurrentStore, MapValue, Plan};

mod common;

thread_local! {
    /// What a drop calls: the store's `len`, set per scenario.
    static HOOK: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
    /// How many drops called the store (so no scenario passes vacuously).
    static CALLS: Cell<usize> = const { Cell::new(0) };
}

fn reenter() {
    // Drops during an unwind (of a failed check) call nothing: a second
    // panic there would abort the whole test binary.
    if std::thread::panicking() {
        return;
    }
    HOOK.with(|hook| {
        if let Some(call) = hook.borrow().as_ref() {
            call();
            CALLS.set(CALLS.get() + 1);
        }
    });
}

/// A key whose `Drop` calls the store.
#[derive(Clone)]
struct Key(u64);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Key {}
impl Drop for Key {
    fn drop(&mut self) {
        reenter();
    }
}

/// A value whose `Drop` calls the store, in a chosen storage.
struct Val<St>(#[allow(dead_code)] u64, PhantomData<St>);

impl<St: Storage> MapValue for Val<St> {
    type Storage = St;
    const PLAN: Plan = Plan::of::<Self>("Val", &[]);
}

impl<St> Drop for Val<St> {
    fn drop(&mut self) {
        reenter();
    }
}

fn val<St>(n: u64) -> Val<St> {
    Val(n, PhantomData)
}

type Fixed = BuildHasherDefault<DefaultHasher>;
type Store<St> = ConcurrentStore<Key, Val<St>, Fixed>;

/// Runs `path` on a fresh thread whose keys' and values' drops walk the
/// store; fails if it hangs, panics, or no drop called the store.
fn no_deadlock<St: Storage>(name: &str, path: fn(&Store<St>)) {
    let run = move || {
        let store: Arc<Store<St>> = Arc::new(ConcurrentStore::with_hasher(Fixed::default()));
        let weak = Arc::downgrade(&store);
        HOOK.with(|hook| {
            *hook.borrow_mut() = Some(Box::new(move || {
                if let Some(store) = weak.upgrade() {
                    // A walk read-locks every group in turn: under a group
                    // lock of this thread it panics (debug builds) or
                    // hangs. (`len` locks nothing since the table has its
                    // own counts, so it could not tell.)
                    let _ = store.iter().count();
                }
            }));
        });
        CALLS.set(0);
        path(&store);
        let calls = CALLS.get();
        HOOK.with(|hook| hook.borrow_mut().take());
        calls
    };
    match common::watchdog(20, run) {
        Some(Ok(calls)) => assert!(calls > 0, "{name}: no drop called the store"),
        Some(Err(message)) => {
            panic!("{name}: panicked (a drop under the group's lock?): {message}")
        }
        None => panic!("{name}: deadlocked: a drop ran under the group's lock"),
    }
}

fn fill<St: Storage>(store: &Store<St>) {
    for k in 0..20 {
        drop(store.insert(Key(k), val(k)));
    }
}

fn all_paths<St: Storage>() {
    no_deadlock::<St>("clear", |s| {
        fill(s);
        s.clear();
        assert!(s.is_empty());
    });
    no_deadlock::<St>("retain", |s| {
        fill(s);
        s.retain(|k, _| k.0 % 2 == 0);
        assert_eq!(s.len(), 10);
    });
    no_deadlock::<St>("insert of a present key (the duplicate key)", |s| {
        fill(s);
        let old = s.insert(Key(3), val(33));
        drop(old);
        assert_eq!(s.len(), 20);
    });
    no_deadlock::<St>("entry of a present key, or_insert", |s| {
        fill(s);
        drop(s.entry(Key(4)).or_insert(val(44)));
    });
    no_deadlock::<St>("entry of a present key, or_insert_with", |s| {
        fill(s);
        drop(s.entry(Key(4)).or_insert_with(|| val(44)));
    });
    no_deadlock::<St>("entry of a present key, dropped unused", |s| {
        fill(s);
        let entry = s.entry(Key(4));
        assert!(matches!(entry, Entry::Occupied(_)));
        drop(entry);
    });
    no_deadlock::<St>("entry of a present key, remove", |s| {
        fill(s);
        let Entry::Occupied(o) = s.entry(Key(5)) else {
            unreachable!()
        };
        drop(o.remove_entry());
        assert_eq!(s.len(), 19);
    });
    no_deadlock::<St>("occupied Entry::insert (the old value)", |s| {
        fill(s);
        let guard = s.entry(Key(6)).insert(val(66));
        drop(guard);
        assert_eq!(s.len(), 20);
    });
    no_deadlock::<St>("occupied Entry::insert_entry (the old value)", |s| {
        fill(s);
        let entry = s.entry(Key(6)).insert_entry(val(66));
        drop(entry);
        assert_eq!(s.len(), 20);
    });
    no_deadlock::<St>(
        "occupied Entry::insert_entry, into_ref (the old value)",
        |s| {
            fill(s);
            drop(s.entry(Key(6)).insert_entry(val(66)).into_ref());
            assert_eq!(s.len(), 20);
        },
    );
    no_deadlock::<St>("entry of a present key, into_key", |s| {
        fill(s);
        drop(s.entry(Key(6)).into_key());
        assert_eq!(s.len(), 20);
    });
    no_deadlock::<St>("entry of a present key, or_insert, downgraded", |s| {
        fill(s);
        let r = s.entry(Key(4)).or_insert(val(44)).downgrade();
        drop(r);
    });
    no_deadlock::<St>("occupied Entry::insert, downgraded (the old value)", |s| {
        fill(s);
        drop(s.entry(Key(6)).insert(val(66)).downgrade());
        assert_eq!(s.len(), 20);
    });
    no_deadlock::<St>("remove_if_mut (returned)", |s| {
        fill(s);
        drop(s.remove_if_mut(&Key(9), |_, _| true));
        assert_eq!(s.len(), 19);
    });
    no_deadlock::<St>("remove and overwriting insert (returned)", |s| {
        fill(s);
        drop(s.remove(&Key(7)));
        drop(s.insert(Key(8), val(88)));
    });
}

#[test]
fn inline() {
    all_paths::<Inline>();
}

#[test]
fn boxed() {
    all_paths::<Boxed>();
}

#[test]
fn pooled() {
    all_paths::<Pooled>();
}

/// Types that need no drop keep `clear`'s memory; types that do get it back
/// on the next growth.
#[test]
fn clear_keeps_memory_when_nothing_needs_dropping() {
    let store: ConcurrentStore<u64, u64> = (0..1000).map(|k| (k, k)).collect();
    let before = store.memory_usage();
    store.clear();
    assert!(store.is_empty());
    assert_eq!(store.memory_usage(), before);
}
