//! Debug builds: a thread that would wait for a `ConcurrentStore` group it
//! already holds (a write under any guard of the group, anything under a
//! write guard: a `Ref`, `RefMut`, `Entry`, `iter()`, or a closure it passed
//! to the store) panics with a message naming what holds the group and the
//! fix, instead of hanging. Everything else (a read under a read guard,
//! several stores, other groups, other threads, guards dropped in any
//! order) goes on as before.
#![cfg(debug_assertions)]

use std::hash::{BuildHasherDefault, DefaultHasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread;

use mapstore::concurrent::{Entry, Iter, OccupiedEntry, Ref, RefMut, VacantEntry};
use mapstore::ConcurrentStore;
use static_assertions::assert_not_impl_any;

mod common;

type Fixed = BuildHasherDefault<DefaultHasher>;
type Store = ConcurrentStore<u64, u64, Fixed>;

/// A store of several groups holding `0..64`.
fn store() -> Store {
    let mut store = ConcurrentStore::with_capacity_and_hasher(64, Fixed::default());
    store.extend((0..64).map(|k| (k, k)));
    store
}

/// Two keys under different locks, and a third under the first one's.
fn keys(store: &Store) -> (u64, u64, u64) {
    let a = 0;
    let b = (1..)
        .find(|k| store.lock_of(k) != store.lock_of(&a))
        .unwrap();
    let a2 = (1..)
        .find(|k| store.lock_of(k) == store.lock_of(&a))
        .unwrap();
    (a, b, a2)
}

/// Runs `f` on its own thread with a watchdog (a regression hangs instead
/// of panicking: fail, don't hang) and returns its panic message, if any.
fn panic_of(f: impl FnOnce() + Send + 'static) -> Option<String> {
    common::watchdog(20, f)
        .expect("the thread hung: the re-lock was not detected")
        .err()
}

/// Panics with a message that names `holder`, the fix, and the operation.
fn assert_relock(op: &str, holder: &str, f: impl FnOnce() + Send + 'static) {
    let message = panic_of(f).unwrap_or_else(|| panic!("{op} under {holder} did not panic"));
    assert!(
        message.starts_with(&format!("ConcurrentStore::{op} would wait to")),
        "{message}"
    );
    assert!(message.contains(holder), "{message}");
    assert!(message.contains("Drop the guard first"), "{message}");
    // One way out or the other: `read` in place of a read guard, or, under
    // a write hold, only dropping it (`read` would wait too). A read that
    // panicked waited for a write hold, so `read` is no way out there.
    let suggests_read = message.contains("`read(&key, |v| ..)`");
    let read_waits_too = message.contains("`read` included");
    assert!(suggests_read != read_waits_too, "{message}");
    if ["get", "read", "view", "contains_key", "iter", "try_get"].contains(&op) {
        assert!(read_waits_too, "{message}");
    }
}

/// DashMap's most reported hang: a write to the key of a `Ref` still held.
#[test]
#[should_panic(expected = "ConcurrentStore::insert would wait to write a group of keys")]
fn insert_under_a_ref_of_the_same_key_panics() {
    let c: ConcurrentStore<u64, u64> = ConcurrentStore::new();
    c.insert(1, 1);
    if let Some(v) = c.get(&1) {
        c.insert(1, *v + 1);
    };
}

#[test]
fn every_relock_under_a_guard_panics() {
    let holder = "a `Ref` from `get` (or a guard mapped from it)";
    assert_relock("insert", holder, || {
        let s = store();
        let (a, _, a2) = keys(&s);
        let _g = s.get(&a).unwrap();
        s.insert(a2, 0);
    });
    assert_relock("get_mut", holder, || {
        let s = store();
        let _g = s.get(&0).unwrap();
        s.get_mut(&0);
    });
    let holder = "a `RefMut` from `get_mut` (or a `Ref` it was downgraded to, or a guard mapped from either)";
    assert_relock("get", holder, || {
        let s = store();
        let _g = s.get_mut(&0).unwrap();
        s.get(&0);
    });
    // Downgraded and mapped guards keep the lock, and the message names them.
    assert_relock("insert", holder, || {
        let s = store();
        let _g = s.get_mut(&0).unwrap().downgrade();
        s.insert(0, 1);
    });
    assert_relock("remove", holder, || {
        let s = store();
        let _g = s.get_mut(&0).unwrap().map(|v| v);
        s.remove(&0);
    });
    assert_relock("clear", holder, || {
        let s = store();
        let _g = s.get_mut(&0).unwrap();
        s.clear();
    });
    let holder = "an `Entry` from `entry` (or the `RefMut` it returned, or a guard made from that)";
    assert_relock("contains_key", holder, || {
        let s = store();
        let _e = s.entry(0);
        s.contains_key(&0);
    });
    assert_relock("remove_entry", holder, || {
        let s = store();
        let _r = s.entry(0).or_insert(0);
        s.remove_entry(&0);
    });
    assert_relock("fmt", holder, || {
        let s = store();
        let _e = s.entry(0);
        let _ = format!("{s:?}");
    });
    let holder = "an `iter()` (or a `Ref` it yielded, or a guard mapped from one)";
    // Writing while iterating, even with no item alive.
    assert_relock("remove", holder, || {
        let s = store();
        for k in s.iter().map(|r| *r.key()) {
            s.remove(&k);
        }
    });
    assert_relock("get_mut", holder, || {
        let s = store();
        let first = s.iter().next().unwrap();
        s.get_mut(first.key());
    });
    assert_relock("retain", holder, || {
        let s = store();
        let _first = s.iter().next().unwrap();
        s.retain(|_, _| true);
    });
    let holder = "an `iter_mut()` (or a `RefMut` it yielded, or a guard made from one)";
    // A read of the write-locked group (a plain wait, since a write lock
    // excludes readers), and a second walk.
    assert_relock("read", holder, || {
        let s = store();
        let first = s.iter_mut().next().unwrap();
        s.read(first.key(), |_| ());
    });
    assert_relock("iter", holder, || {
        let s = store();
        for k in s.iter_mut().map(|r| *r.key()) {
            s.iter().find(|r| *r.key() == k);
        }
    });
}

thread_local! {
    /// Where this thread's last panic was raised (`file:line`).
    static PANICKED_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f`, which must panic, and returns the file the panic names as
/// its location. Installs (once) a hook that records it for the panicking
/// thread and then prints as before.
fn panic_file(f: impl FnOnce()) -> String {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| l.file().to_string());
            PANICKED_AT.with(|p| *p.borrow_mut() = at);
            previous(info);
        }));
    });
    PANICKED_AT.with(|p| p.borrow_mut().take());
    assert!(catch_unwind(AssertUnwindSafe(f)).is_err(), "no panic");
    PANICKED_AT
        .with(|p| p.borrow_mut().take())
        .expect("the hook saw the panic")
}

/// The panic names the caller's line, not the store's code: the public
/// calls and the table's path to the check carry `#[track_caller]` in
/// debug builds.
#[test]
fn the_panic_points_at_the_callers_line() {
    let s = store();
    let here = file!();
    assert_eq!(
        here,
        panic_file(|| {
            let _g = s.get(&0).unwrap();
            s.insert(0, 1);
        })
    );
    assert_eq!(
        here,
        panic_file(|| {
            let _g = s.get_mut(&0).unwrap();
            s.get(&0);
        })
    );
    assert_eq!(
        here,
        panic_file(|| {
            let _g = s.get(&0).unwrap();
            s.remove(&0);
        })
    );
    assert_eq!(
        here,
        panic_file(|| {
            let _e = s.entry(0);
            s.contains_key(&0);
        })
    );
    assert_eq!(
        here,
        panic_file(|| {
            let _g = s.get_mut(&0).unwrap();
            s.read(&0, |v| *v);
        })
    );
    assert_eq!(
        here,
        panic_file(|| {
            s.view(&0, |k, _| s.alter(k, |_, v| v));
        })
    );
    assert_eq!(
        here,
        panic_file(|| {
            let _g = s.get(&0).unwrap();
            s.entry(0);
        })
    );
    // Through a private helper that takes the lock: it carries
    // `track_caller` too.
    assert_eq!(
        here,
        panic_file(|| {
            let _g = s.get(&0).unwrap();
            s.remove_if(&0, |_, _| false);
        })
    );
    assert_eq!(
        here,
        panic_file(|| {
            let _g = s.get(&0).unwrap();
            s.remove_if_mut(&0, |_, _| false);
        })
    );
}

/// A read under a read guard of the same group goes on, even while a writer
/// of another thread waits for that group (the writer waits for the guard;
/// had the second read queued behind the writer, neither would ever go on).
/// DashMap's readers behave the same way.
#[test]
fn reads_under_a_read_guard_go_on_with_a_writer_queued() {
    let result = panic_of(|| {
        let s = store();
        let (a, _, a2) = keys(&s);
        let guard = s.get(&a).unwrap();
        thread::scope(|sc| {
            let writer = sc.spawn(|| s.insert(a2, 1000));
            // Give the writer time to queue on the group (if it has not yet,
            // the reads below still must not wait).
            thread::sleep(std::time::Duration::from_millis(100));
            assert_eq!(s.read(&a2, |v| *v), Some(a2));
            assert_eq!(*s.get(&a).unwrap(), a);
            assert!(s.contains_key(&a2));
            assert_eq!(s.view(&a, |k, v| k + v), Some(2 * a));
            assert_eq!(s.iter().count(), 64);
            // `try_get` fails only where `get` would wait: not here.
            assert!(s.try_get(&a2).is_present());
            assert!(!writer.is_finished(), "the writer waits for the guard");
            drop(guard);
            assert_eq!(writer.join().unwrap(), Some(a2));
        });
        assert_eq!(s.read(&a2, |v| *v), Some(1000));
    });
    assert_eq!(result, None);
}

/// `len`, `is_empty` and `memory_usage` take no group lock: under any guard
/// of the same thread (where they used to deadlock) they return, and
/// correctly.
#[test]
fn counts_under_guards_need_no_lock() {
    let result = panic_of(|| {
        let s = store();
        let r = s.get(&0).unwrap();
        assert_eq!(s.len(), 64);
        let e = s.entry(1000).or_insert(0);
        assert_eq!(s.len(), 65);
        assert!(!s.is_empty());
        assert!(s.memory_usage() > 65 * 16);
        drop((r, e));
        s.retain(|_, _| s.len() > 1);
    });
    assert_eq!(result, None);
}

#[test]
fn calling_the_store_from_its_own_closures_panics() {
    assert_relock(
        "read",
        "`alter`, whose closure (or a key's `Eq`) called the store",
        || {
            let s = store();
            s.alter(&0, |k, v| v + s.read(k, |w| *w).unwrap());
        },
    );
    assert_relock(
        "view",
        "`alter_all`, whose closure called the store",
        || {
            let s = store();
            s.alter_all(|k, v| v + s.view(k, |_, w| *w).unwrap());
        },
    );
    assert_relock(
        "alter",
        "`view`, whose closure (or a key's `Eq`) called the store",
        || {
            let s = store();
            s.view(&0, |k, _| s.alter(k, |_, v| v));
        },
    );
    assert_relock(
        "remove_if_mut",
        "a `Ref` from `get` (or a guard mapped from it)",
        || {
            let s = store();
            let _r = s.get(&0).unwrap();
            s.remove_if_mut(&0, |_, _| true);
        },
    );
    // A guard downgraded to a `Ref` still holds its group (as a reader).
    assert_relock(
        "insert",
        "an `Entry` from `entry` (or the `RefMut` it returned, or a guard made from that)",
        || {
            let s = store();
            let _r = s.entry(0).or_insert(0).downgrade();
            s.insert(0, 1);
        },
    );
    assert_relock(
        "alter_all",
        "a `Ref` from `get` (or a guard mapped from it)",
        || {
            let s = store();
            let _r = s.get(&0).unwrap();
            s.alter_all(|_, v| v);
        },
    );
    assert_relock(
        "insert",
        "`read`, whose closure (or a key's `Eq`) called the store",
        || {
            let s = store();
            s.read(&0, |v| s.insert(0, v + 1));
        },
    );
    assert_relock(
        "contains_key",
        "`retain`, whose closure called the store",
        || {
            let s = store();
            s.retain(|k, _| s.contains_key(k));
        },
    );
    assert_relock(
        "entry",
        "an `Entry` from `entry` (or the `RefMut` it returned, or a guard made from that)",
        || {
            let s = store();
            s.entry(1000).or_insert_with(|| *s.entry(1000).or_insert(1));
        },
    );
    assert_relock(
        "read",
        "an `Entry` from `entry` (or the `RefMut` it returned, or a guard made from that)",
        || {
            let s = store();
            s.entry(0).and_modify(|v| *v = s.read(&0, |w| *w).unwrap());
        },
    );
}

/// No false alarms: other groups, other stores, other threads, nested read
/// guards on different groups, guards dropped in any order, and a store
/// whose thread recovered from a detected re-lock.
#[test]
fn no_false_alarms() {
    let none = panic_of(|| {
        let s = store();
        let (a, b, a2) = keys(&s);
        // Nested guards on different groups, dropped in either order.
        let ga = s.get(&a).unwrap();
        let gb = s.get_mut(&b).unwrap();
        drop(ga);
        assert_eq!(s.read(&a2, |v| *v), Some(a2));
        drop(gb);
        let gb = s.get(&b).unwrap();
        let ga = s.entry(a).or_insert(0);
        drop(gb);
        drop(ga);
        // Reads under a read guard of the same group, a downgraded one too.
        let ga = s.get(&a).unwrap();
        assert_eq!(s.read(&a2, |v| *v), Some(a2));
        assert_eq!(*s.get(&a).unwrap(), a);
        drop(ga);
        let ga = s.get_mut(&a).unwrap().downgrade();
        assert_eq!(s.read(&a2, |v| *v), Some(a2));
        assert!(s.contains_key(&a));
        drop(ga);
        // A second store with the same group indices.
        let t = store();
        let ga = s.get(&a).unwrap();
        t.insert(a2, 1);
        assert_eq!(t.len(), 64);
        let _gt = t.get_mut(&a).unwrap();
        drop(ga);
        assert_eq!(s.len(), 64);
        // Another thread reads and writes the held group's other keys
        // while this one holds a read guard on it.
        let ga = s.get(&a).unwrap();
        thread::scope(|sc| {
            sc.spawn(|| {
                assert_eq!(s.read(&a, |v| *v), Some(a));
                assert_eq!(s.len(), 64);
            });
        });
        drop(ga);
        // `Ref`s collected from `iter()` hold their groups until dropped;
        // then everything is free again.
        let all: Vec<Ref<'_, u64, u64>> = s.iter().collect();
        assert_eq!(all.len(), 64);
        let last = all.into_iter().last().unwrap();
        drop(last);
        s.insert(a, 7);
        s.retain(|_, _| true);
        // After a detected re-lock is caught, the store and this thread's
        // record are clean.
        assert!(catch_unwind(AssertUnwindSafe(|| {
            let _g = s.get(&a).unwrap();
            s.insert(a, 8);
        }))
        .is_err());
        s.insert(a, 9);
        assert_eq!(s.read(&a, |v| *v), Some(9));
        s.clear();
        assert!(s.is_empty());
    });
    assert_eq!(none, None);
}

// Guards cannot move to another thread, so the record of a thread's locks
// is always cleared by that thread.
assert_not_impl_any!(Ref<'static, u64, u64>: Send);
assert_not_impl_any!(RefMut<'static, u64, u64>: Send);
assert_not_impl_any!(Entry<'static, u64, u64>: Send);
assert_not_impl_any!(OccupiedEntry<'static, u64, u64>: Send);
assert_not_impl_any!(VacantEntry<'static, u64, u64>: Send);
assert_not_impl_any!(Iter<'static, u64, u64>: Send);

/// The `try_` calls never wait, so under any guard of the same thread they
/// answer `Locked` (or, for a second read, the entry) instead of panicking;
/// the guards they return are recorded like any other, so a blocking call
/// under one still panics.
#[test]
fn try_calls_under_guards_answer_instead_of_panicking() {
    let result = panic_of(|| {
        let s = store();
        let (a, b, a2) = keys(&s);
        {
            let _w = s.get_mut(&a).unwrap();
            assert!(s.try_get(&a).is_locked());
            assert!(s.try_get(&a2).is_locked());
            assert!(s.try_get_mut(&a2).is_locked());
            assert!(s.try_entry(a2).is_none());
            assert_eq!(
                s.try_get(&b).map(|r| *r),
                mapstore::concurrent::TryResult::Present(b)
            );
        }
        {
            let _r = s.get(&a).unwrap();
            // A second read lock without waiting: no writer waits here.
            assert_eq!(*s.try_get(&a2).unwrap(), a2);
            assert!(s.try_get_mut(&a).is_locked());
            assert!(s.try_entry(a).is_none());
            *s.try_get_mut(&b).unwrap() += 1;
        }
        assert_eq!(s.read(&b, |v| *v), Some(b + 1));
        assert!(s.try_get(&1000).is_absent());
        assert!(s.try_get_mut(&1000).is_absent());
    });
    assert_eq!(result, None);
    assert_relock(
        "insert",
        "a `Ref` from `try_get` (or a guard mapped from it)",
        || {
            let s = store();
            let _g = s.try_get(&0).unwrap();
            s.insert(0, 1);
        },
    );
    assert_relock("get", "a `RefMut` from `try_get_mut` (or a `Ref` it was downgraded to, or a guard mapped from either)", || {
        let s = store();
        let _g = s.try_get_mut(&0).unwrap();
        s.get(&0);
    });
    assert_relock(
        "remove",
        "an `Entry` from `try_entry` (or the `RefMut` it returned, or a guard made from that)",
        || {
            let s = store();
            let _e = s.try_entry(0).unwrap();
            s.remove(&0);
        },
    );
}
