//! Panic safety: `Hash`, `Eq`, `Clone`, `Drop` and user closures panic at
//! chosen points; the panic is caught and the map must stay consistent and
//! usable, nothing may be dropped twice, and nothing may be leaked beyond
//! what std's `HashMap` leaks in the same scenario.
//!
//! Every scenario runs over the three storages (and `MapStore`, which is
//! one of those maps by another name), and where std's behaviour is defined by
//! the same circumstances, over std's `HashMap` too, as the reference.

#[macro_use]
mod common;

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::panic::{catch_unwind, AssertUnwindSafe};

use mapstore::map::{Entry, Map};
use mapstore::storage::{Boxed, Inline, Pooled, Storage};
use mapstore::MapStore;

use common::{
    arm, assert_clean, calls, disarm, double_drops, live_keys, live_vals, Collide, Large, Op, TKey,
};

/// A deterministic hasher (SipHash with fixed keys), so a scenario can be
/// replayed step for step.
type Fixed = BuildHasherDefault<DefaultHasher>;

fn catch<R>(f: impl FnOnce() -> R) -> Result<R, ()> {
    let result = catch_unwind(AssertUnwindSafe(f)).map_err(|_| ());
    disarm();
    result
}

fn k(id: u32) -> TKey {
    TKey::new(id)
}

fn v(id: u64) -> Large {
    Large::new(id)
}

fn filled<St: Storage, S: BuildHasher + Default>(n: u32) -> Map<TKey, Large, St, S> {
    let mut map = Map::with_hasher(S::default());
    for i in 0..n {
        map.insert(k(i), v(u64::from(i)));
    }
    map
}

/// The map agrees with itself, every value is intact, exactly `len` keys
/// and values are alive (nothing leaked or lost in flight), nothing was
/// dropped twice; then it is still usable for inserts, lookups, removal.
fn assert_sound<St: Storage, S: BuildHasher>(map: &mut Map<TKey, Large, St, S>) {
    disarm();
    assert_eq!(double_drops(), 0, "double drop");
    assert_eq!(map.iter().count(), map.len(), "iter count != len");
    for (key, value) in map.iter() {
        value.check();
        assert_eq!(
            map.get(key).map(|x| x.id),
            Some(value.id),
            "lookup of {}",
            key.id
        );
    }
    assert_eq!(live_keys(), map.len(), "live keys != len");
    assert_eq!(live_vals(), map.len(), "live values != len");
    let len = map.len();
    assert!(map.insert(k(90_000), v(90_000)).is_none());
    assert_eq!(map.len(), len + 1);
    assert_eq!(map.get(&k(90_000)).map(|x| x.id), Some(90_000));
    assert_eq!(map.remove(&k(90_000)).map(|x| x.id), Some(90_000));
    assert_eq!(map.len(), len);
}

fn ids<St: Storage, S>(map: &Map<TKey, Large, St, S>) -> Vec<(u32, u64)> {
    let mut ids: Vec<_> = map.iter().map(|(k, v)| (k.id, v.id)).collect();
    ids.sort_unstable();
    ids
}

fn std_ids<S>(map: &HashMap<TKey, Large, S>) -> Vec<(u32, u64)> {
    let mut ids: Vec<_> = map.iter().map(|(k, v)| (k.id, v.id)).collect();
    ids.sort_unstable();
    ids
}

// ---------------------------------------------------------------------------
// Hash and Eq

type Probe<St> = dyn Fn(&mut Map<TKey, Large, St, Collide<3>>);

/// A panicking `Hash` or `Eq` in any lookup or insert leaves the map as it
/// was (no resize is involved: the map has room).
fn hash_and_eq_panics_leave_the_map_unchanged<St: Storage>() {
    let mut map = filled::<St, Collide<3>>(20);
    map.reserve(10);
    let before = ids(&map);
    for op in [common::Op::Hash, common::Op::Eq] {
        for nth in if cfg!(miri) { 1..3 } else { 1..4 } {
            let probes: [&Probe<St>; 9] = [
                &|m| drop(m.insert(k(500), v(500))),
                &|m| drop(m.insert(k(5), v(500))),
                &|m| _ = m.get(&k(7)),
                &|m| _ = m.get_mut(&k(7)),
                &|m| drop(m.remove(&k(9))),
                &|m| drop(m.remove_entry(&k(600))),
                &|m| _ = m.entry(k(11)).or_insert_with(|| v(1)),
                &|m| _ = m.contains_key(&k(12)),
                &|m| _ = m.get_disjoint_mut([&k(1), &k(2), &k(700)]),
            ];
            for probe in probes {
                let probe_calls = calls(op);
                arm(op, nth);
                let result = catch(|| probe(&mut map));
                if result.is_err() {
                    assert_eq!(ids(&map), before, "{op:?} #{nth}");
                } else {
                    // The probe made fewer than `nth` calls; undo it.
                    assert!(calls(op) - probe_calls < u64::from(nth));
                    map.retain(|k, _| k.id < 20);
                    for (i, _) in before.iter() {
                        map.entry(k(*i)).or_insert_with(|| v(u64::from(*i)));
                    }
                    for (key, value) in map.iter_mut() {
                        *value = v(u64::from(key.id));
                    }
                }
                assert_sound(&mut map);
                assert_eq!(ids(&map), before);
            }
        }
    }
    drop(map);
    assert_clean();
}

/// `Hash` panics while the table grows: the old table must be intact.
fn hash_panic_during_growth<St: Storage>() {
    let mut map = filled::<St, Fixed>(3);
    let mut grown = 0;
    for i in 3..if cfg!(miri) { 60 } else { 200u32 } {
        let before = ids(&map);
        if map.len() == map.capacity() {
            // This insert resizes: panic on the third key rehashed.
            arm(Op::Hash, 4);
            assert!(catch(|| map.insert(k(i), v(u64::from(i)))).is_err());
            assert_eq!(ids(&map), before, "resize must not lose entries");
            assert_sound(&mut map);
            grown += 1;
        }
        map.insert(k(i), v(u64::from(i)));
    }
    assert!(grown >= 4);
    // shrink_to_fit and shrink_to rehash into a new table too.
    map.retain(|k, _| k.id % 4 == 0);
    let before = ids(&map);
    for shrink in [0, 1] {
        arm(Op::Hash, 3);
        let result = catch(|| {
            if shrink == 0 {
                map.shrink_to_fit()
            } else {
                map.shrink_to(10)
            }
        });
        assert!(result.is_err());
        assert_eq!(ids(&map), before);
        assert_sound(&mut map);
    }
    drop(map);
    assert_clean();
}

/// On a table with no room left (full, or tombstoned), the entry of a
/// present key hashes that key once and rehashes nothing, so a `Hash` that
/// would panic on its second call does not. The entry of an absent key makes
/// room under the guard: a `Hash` panic there loses no entry when the table
/// grows, and when it rehashes in place the entries hashbrown drops (as std
/// does, see below) take their values with them.
fn entry_on_a_table_without_room<St: Storage>() {
    fn scenario<St: Storage, S: BuildHasher>(mut map: Map<TKey, Large, St, S>, in_place: bool) {
        assert_eq!(map.len(), map.capacity(), "no room left");
        let capacity = map.capacity();
        let present: Vec<u32> = map.keys().map(|key| key.id).collect();
        for &id in &present {
            let before = calls(Op::Hash);
            arm(Op::Hash, 2);
            match map.entry(k(id)) {
                Entry::Occupied(entry) => entry.get().check(),
                Entry::Vacant(_) => panic!("{id} is present"),
            }
            disarm();
            assert_eq!(calls(Op::Hash) - before, 1, "one hash: the key's own");
            assert_eq!(map.capacity(), capacity);
        }
        let before = ids(&map);
        arm(Op::Hash, 3);
        assert!(catch(|| map.entry(k(1000)).or_insert_with(|| v(1000)).check()).is_err());
        let after = ids(&map);
        if in_place {
            assert!(after.iter().all(|id| before.contains(id)));
        } else {
            assert_eq!(after, before, "a panicking resize loses no entries");
        }
        assert_sound(&mut map);
        drop(map);
        assert_clean();
    }
    scenario(filled::<St, Fixed>(3), false);
    scenario(tombstoned::<St>(), true);
}

/// All keys hash alike, so they fill the table's buckets in probe order
/// with no empty bucket between them.
type Same = Collide<1>;

/// Fills a 64-bucket table to its capacity (56) with colliding keys, then
/// removes the first 32: in a table that full, removal leaves tombstones, so
/// the table has no room left although it holds only 24 entries, and the
/// next insert of a new key rehashes the table in place.
fn tombstoned<St: Storage>() -> Map<TKey, Large, St, Same> {
    let mut map = Map::with_capacity_and_hasher(56, Collide);
    for i in 0..56 {
        map.insert(k(i), v(u64::from(i)));
    }
    for i in 0..32 {
        map.remove(&k(i));
    }
    map
}

/// The scenario really is an in-place rehash: more than one hash, same
/// capacity.
#[test]
fn tombstoned_table_rehashes_in_place() {
    let mut map = tombstoned::<Inline>();
    // `capacity` is `len` plus the room left: none.
    assert_eq!(map.capacity(), map.len());
    let before = calls(Op::Hash);
    map.insert(k(100), v(100));
    assert!(calls(Op::Hash) - before > 1, "expected a rehash");
    // A resize would have doubled the buckets (capacity 112).
    assert_eq!(map.capacity(), 56, "expected an in-place rehash");
    assert_eq!(map.len(), 25);
    assert_sound(&mut map);
    drop(map);
    assert_clean();
}

/// `Hash` panics during an in-place rehash. hashbrown then drops the
/// entries it had not rehashed yet (it cannot place them without their
/// hash); std's `HashMap` does the same (see the std test below), so
/// entries are lost, but every value no longer in the map must be dropped
/// then, as std does, not kept alive by the map.
fn hash_panic_during_in_place_rehash<St: Storage>() {
    let mut map = tombstoned::<St>();
    // Call 1 hashes the new key; calls 2.. rehash the entries.
    arm(Op::Hash, 3);
    assert!(catch(|| map.insert(k(100), v(100))).is_err());
    assert!(
        map.len() < 24,
        "hashbrown drops the entries it could not rehash"
    );
    assert_eq!(double_drops(), 0);
    assert_eq!(live_keys(), map.len(), "keys of lost entries are dropped");
    assert_eq!(
        live_vals(),
        map.len(),
        "values of entries lost in a panicking rehash must be dropped, as std does"
    );
    assert_sound(&mut map);
    drop(map);
    assert_clean();
}

/// The same scenario on std's `HashMap`: the reference behaviour.
#[test]
fn std_hash_panic_during_in_place_rehash() {
    let mut map: HashMap<TKey, Large, Same> = HashMap::with_capacity_and_hasher(56, Collide);
    for i in 0..56 {
        map.insert(k(i), v(u64::from(i)));
    }
    for i in 0..32 {
        map.remove(&k(i));
    }
    arm(Op::Hash, 3);
    assert!(catch(|| map.insert(k(100), v(100))).is_err());
    assert!(map.len() < 24, "std drops the entries it could not rehash");
    assert_eq!(live_keys(), map.len());
    assert_eq!(live_vals(), map.len());
    drop(map);
    assert_clean();
}

// ---------------------------------------------------------------------------
// Clone

/// A key's or value's `Clone` panics midway through cloning the map: the
/// partial copy is dropped exactly once, the original is untouched.
fn clone_panics_midway<St: Storage>() {
    let mut map = filled::<St, Collide<7>>(50);
    let before = ids(&map);
    for op in [Op::CloneVal, Op::CloneKey] {
        let nths: &[u32] = if cfg!(miri) {
            &[2, 50]
        } else {
            &[1, 2, 25, 50]
        };
        for &nth in nths {
            arm(op, nth);
            assert!(catch(|| map.clone()).is_err(), "{op:?} #{nth}");
            assert_eq!(ids(&map), before);
            assert_sound(&mut map);
        }
    }
    // And a clone that succeeds is independent of the original.
    let mut copy = map.clone();
    copy.insert(k(0), v(1000));
    copy.remove(&k(1));
    assert_eq!(map.get(&k(0)).map(|x| x.id), Some(0));
    assert!(map.contains_key(&k(1)));
    drop(copy);
    assert_sound(&mut map);
    drop(map);
    assert_clean();
}

#[test]
fn std_clone_panics_midway_reference() {
    let mut map: HashMap<TKey, Large, Collide<7>> = HashMap::with_hasher(Collide);
    for i in 0..50 {
        map.insert(k(i), v(u64::from(i)));
    }
    for op in [Op::CloneVal, Op::CloneKey] {
        arm(op, 25);
        assert!(catch(|| map.clone()).is_err());
        assert_eq!(live_vals(), 50);
        assert_eq!(live_keys(), 50);
    }
    drop(map);
    assert_clean();
}

// ---------------------------------------------------------------------------
// Drop

// Each scenario is its own function, so that a LeakSanitizer suppression
// (`.ci/lsan.supp`) can name exactly the scenario and storage that leak an
// allocation, and only where std's map leaks the same one: hashbrown frees
// nothing more once a destructor panics in `Drain`'s, `IntoIter`'s or the
// table's own drop, so std's `HashMap<K, V>` leaks its table there
// (`std_leaks_*` below), `InlineMap` its table and `BoxedMap` its table and
// the boxes left in it (as std's `HashMap<K, Box<V>>`). A pooled map leaks
// no allocation in any of these scenarios, and no suppression covers one.

/// `clear()` with a panicking value drop: std leaks the values after the
/// panicking one (hashbrown stops dropping); the map must be empty and
/// usable. No allocation is leaked but a `BoxedMap`'s boxes, as by std's
/// `HashMap<K, Box<V>>`.
fn drop_panics_in_clear<St: Storage>() {
    let std_leak = {
        let mut map: HashMap<TKey, Large, Fixed> = HashMap::with_hasher(Fixed::default());
        for i in 0..40 {
            map.insert(k(i), v(u64::from(i)));
        }
        arm(Op::DropVal, 10);
        assert!(catch(|| map.clear()).is_err());
        assert!(map.is_empty());
        let leaked = live_vals();
        common::reset();
        leaked
    };
    let mut map = filled::<St, Fixed>(40);
    arm(Op::DropVal, 10);
    assert!(catch(|| map.clear()).is_err());
    assert!(map.is_empty());
    assert_eq!(double_drops(), 0);
    let leaked = live_vals();
    assert!(
        leaked <= std_leak,
        "clear leaked {leaked} values, std {std_leak}"
    );
    common::reset();
    assert_sound(&mut map);
    map.extend((0..40).map(|i| (k(i), v(u64::from(i)))));
    assert_sound(&mut map);
    drop(map);
    assert_clean();
}

/// `retain()` whose removed value's drop panics, and an entry overwrite
/// that drops the old value inside the map: nothing is leaked.
fn drop_panics_in_retain_and_entry<St: Storage>() {
    let mut map = filled::<St, Fixed>(40);
    // retain(): the removed value's drop panics; it is gone, the rest stay.
    arm(Op::DropVal, 3);
    let mut rejected = 0;
    let result = catch(|| {
        map.retain(|key, _| {
            let keep = key.id % 2 == 0;
            rejected += usize::from(!keep);
            keep
        })
    });
    assert!(result.is_err());
    assert_eq!(map.len(), 40 - rejected, "each rejected entry is removed");
    assert_sound(&mut map);

    // Overwriting through the entry API drops the old value inside the map.
    let present = map.keys().next().map(|k| k.id).unwrap();
    arm(Op::DropVal, 1);
    assert!(catch(|| map.entry(k(present)).insert_entry(v(4242)).key().id).is_err());
    assert_eq!(map.get(&k(present)).map(|x| x.id), Some(4242));
    assert_sound(&mut map);
    drop(map);
    assert_clean();
}

/// `drain()`, half consumed, then dropped: a value drop panics in Drain's
/// drop. The map is empty and usable afterwards.
fn drop_panics_in_drain<St: Storage>() {
    let mut map = filled::<St, Fixed>(40);
    let len = map.len();
    arm(Op::DropVal, len as u32 / 2 + 2);
    let result = catch(|| {
        let mut drain = map.drain();
        for _ in 0..len / 2 {
            drop(drain.next());
        }
    });
    assert!(result.is_err());
    assert!(map.is_empty());
    assert_eq!(double_drops(), 0);
    common::reset();
    map.extend((0..30).map(|i| (k(i), v(u64::from(i)))));
    assert_sound(&mut map);
    drop(map);
    assert_clean();
}

/// `into_iter()`, partly consumed, dropped with a panicking value.
fn drop_panics_in_into_iter<St: Storage>() {
    let map = filled::<St, Fixed>(30);
    arm(Op::DropVal, 8);
    let result = catch(move || {
        let mut it = map.into_iter();
        for _ in 0..5 {
            drop(it.next());
        }
    });
    assert!(result.is_err());
    assert_eq!(double_drops(), 0);
    assert!(live_vals() < 30);
    common::reset();
}

/// `into_values()`, partly consumed, dropped with a panicking value (a
/// pooled map walks its pool here, a run of slots at a time).
fn drop_panics_in_into_values<St: Storage>() {
    let map = filled::<St, Fixed>(100);
    arm(Op::DropVal, 8);
    let result = catch(move || {
        let mut values = map.into_values();
        for _ in 0..5 {
            drop(values.next());
        }
    });
    assert!(result.is_err());
    assert_eq!(double_drops(), 0);
    assert!(live_vals() < 100);
    common::reset();
}

/// `into_values()` folded by a closure that panics midway: the values not
/// reached are dropped, each once, and nothing is leaked.
fn into_values_fold_panics<St: Storage>() {
    let map = filled::<St, Fixed>(100);
    let mut seen = 0;
    let result = catch(|| {
        map.into_values().for_each(|value| {
            seen += 1;
            assert!(seen < 40, "the closure panics at value 40");
            drop(value);
        })
    });
    assert!(result.is_err());
    assert_eq!(double_drops(), 0);
    assert_eq!(live_vals(), 0, "every value is dropped, once");
    assert_eq!(live_keys(), 0);
    common::reset();
}

/// Dropping the map itself, with a panicking value drop.
fn drop_panics_in_map_drop<St: Storage>() {
    let map = filled::<St, Fixed>(30);
    arm(Op::DropVal, 5);
    assert!(catch(move || drop(map)).is_err());
    assert_eq!(double_drops(), 0);
    common::reset();
}

/// std's `HashMap` in the scenarios above where a destructor panics inside
/// hashbrown's `Drain`, `IntoIter` or table drop: it leaks its table's
/// allocation (and, with boxed values, the boxes left in it). The
/// LeakSanitizer suppressions name these functions, and the same scenario
/// of `InlineMap` and `BoxedMap`, no other.
mod std_leaks {
    use super::*;

    fn filled_std<V>(n: u32, value: impl Fn(u64) -> V) -> HashMap<TKey, V, Fixed> {
        let mut map = HashMap::with_hasher(Fixed::default());
        map.extend((0..n).map(|i| (k(i), value(u64::from(i)))));
        map
    }

    fn scenarios<V>(value: impl Fn(u64) -> V) {
        let mut map = filled_std(40, &value);
        arm(Op::DropVal, 22);
        assert!(catch(|| {
            let mut drain = map.drain();
            for _ in 0..20 {
                drop(drain.next());
            }
        })
        .is_err());
        assert!(map.is_empty());
        common::reset();

        let map = filled_std(30, &value);
        arm(Op::DropVal, 8);
        assert!(catch(move || map.into_iter().take(5).for_each(drop)).is_err());
        common::reset();

        let map = filled_std(100, &value);
        arm(Op::DropVal, 8);
        assert!(catch(move || map.into_values().take(5).for_each(drop)).is_err());
        common::reset();

        let map = filled_std(30, &value);
        arm(Op::DropVal, 5);
        assert!(catch(move || drop(map)).is_err());
        assert_eq!(double_drops(), 0);
        common::reset();
    }

    /// std's map drops what its `clear` drops, in the same order, when
    /// destructors panic.
    #[test]
    fn drop_runs_the_drops_of_clear() {
        for (key, value) in drop_panic_pairs() {
            let (panicked, log, _) = std_outcome(true, key, value);
            assert_eq!(std_outcome(false, key, value), (panicked, log, None));
        }
    }

    #[test]
    fn values_in_the_table() {
        scenarios(v);
    }

    #[test]
    fn boxed_values() {
        scenarios(|id| Box::new(v(id)));
    }
}

/// A key's `Drop` panics when `insert` replaces a value (it drops the new
/// key). The map stays consistent; values are never dropped twice.
fn key_drop_panics_in_insert<St: Storage>() {
    let mut map = filled::<St, Fixed>(20);
    arm(Op::DropKey, 1);
    assert!(catch(|| map.insert(k(3), v(333))).is_err());
    assert!(matches!(map.get(&k(3)).map(|x| x.id), Some(3 | 333)));
    assert_sound(&mut map);
    drop(map);
    assert_clean();
}

/// `clear()` with a panicking key drop. std's `clear` stops at the panic
/// and leaks the entries after it, keys and values, for good (a `BoxedMap`
/// its boxes, as std's `HashMap<K, Box<V>>`).
fn key_drop_panics_in_clear<St: Storage>() {
    let mut map = filled::<St, Fixed>(20);
    let std_leak = {
        let mut reference: HashMap<TKey, Large, Fixed> = HashMap::with_hasher(Fixed::default());
        reference.extend((0..20).map(|i| (k(i), v(u64::from(i)))));
        let vals = live_vals();
        arm(Op::DropKey, 5);
        assert!(catch(|| reference.clear()).is_err());
        assert!(reference.is_empty());
        drop(reference);
        let leak = live_vals() - (vals - 20);
        assert_eq!(leak, 15);
        leak
    };
    let before = live_vals() - map.len();
    arm(Op::DropKey, 5);
    assert!(catch(|| map.clear()).is_err());
    assert_eq!(double_drops(), 0);
    // Empty and agreeing with itself at once, for every storage: no value
    // outlives its bucket.
    assert!(map.is_empty());
    assert_eq!(map.iter().count(), 0, "iter() after a panicking clear");
    assert_eq!(map.values().count(), 0, "values() after a panicking clear");
    assert_eq!(
        map.unordered_values().count(),
        0,
        "unordered_values() after a panicking clear"
    );
    assert_eq!(map.clone().into_values().count(), 0);
    assert_eq!(map.clone().into_unordered_values().count(), 0);
    // Whatever is never dropped must not exceed std's.
    let leak = live_vals() - before;
    assert!(leak <= std_leak, "leaked {leak} values, std {std_leak}");
    common::reset();
    map.extend((0..20).map(|i| (k(i), v(u64::from(i)))));
    assert_sound(&mut map);
    drop(map);
    assert_clean();
}

// ---------------------------------------------------------------------------
// User closures

fn closure_panics<St: Storage>() {
    let mut map = filled::<St, Collide<5>>(40);

    // retain: panics on the 15th call; the entries rejected before it are
    // removed, the others kept.
    let mut seen = 0;
    let mut rejected = 0;
    let result = catch(|| {
        map.retain(|key, value| {
            seen += 1;
            if seen == 15 {
                panic!("retain");
            }
            *value = v(value.id + 1000);
            let keep = key.id % 3 != 0;
            rejected += usize::from(!keep);
            keep
        })
    });
    assert!(result.is_err());
    assert_eq!(map.len(), 40 - rejected);
    assert_eq!(map.values().filter(|x| x.id >= 1000).count(), 14 - rejected);
    assert_sound(&mut map);

    // extract_if: the predicate panics on its 10th call, mid-iteration.
    let len = map.len();
    let mut calls_made = 0;
    let mut taken = 0;
    let result = catch(|| {
        let it = map.extract_if(|key, _| {
            calls_made += 1;
            if calls_made == 10 {
                panic!("extract_if");
            }
            key.id % 2 == 0
        });
        for (key, value) in it {
            value.check();
            assert_eq!(key.id % 2, 0);
            taken += 1;
        }
    });
    assert!(result.is_err());
    assert_eq!(map.len(), len - taken);
    assert_sound(&mut map);

    // entry().or_insert_with / or_insert_with_key: the default panics; no
    // entry is added, the key is dropped.
    let len = map.len();
    assert!(catch(|| _ = map.entry(k(5000)).or_insert_with(|| panic!("default"))).is_err());
    assert!(catch(|| _ = map.entry(k(5001)).or_insert_with_key(|_| panic!("default"))).is_err());
    assert_eq!(map.len(), len);
    assert!(!map.contains_key(&k(5000)));
    assert_sound(&mut map);

    // and_modify: the closure panics after writing.
    let present = map.keys().next().map(|k| k.id).unwrap();
    let result = catch(|| {
        map.entry(k(present)).and_modify(|value| {
            *value = v(777);
            panic!("and_modify");
        })
    });
    assert!(result.is_err());
    assert_eq!(map.get(&k(present)).map(|x| x.id), Some(777));
    assert_sound(&mut map);

    // get_disjoint_mut with two equal keys panics, as std's does.
    assert!(catch(|| _ = map.get_disjoint_mut([&k(present), &k(present)])).is_err());
    assert_sound(&mut map);

    // A VacantEntry dropped, a panicking closure in iter_mut's consumer.
    let result = catch(|| {
        for (n, (_, value)) in map.iter_mut().enumerate() {
            *value = v(value.id + 1);
            if n == 3 {
                panic!("consumer");
            }
        }
    });
    assert!(result.is_err());
    if let Entry::Vacant(vacant) = map.entry(k(6000)) {
        drop(vacant);
    }
    assert_sound(&mut map);
    drop(map);
    assert_clean();
}

#[test]
fn std_retain_panic_reference() {
    let mut map: HashMap<TKey, Large, Collide<5>> = HashMap::with_hasher(Collide);
    for i in 0..40 {
        map.insert(k(i), v(u64::from(i)));
    }
    let mut seen = 0;
    let mut rejected = 0;
    assert!(catch(|| map.retain(|key, _| {
        seen += 1;
        if seen == 15 {
            panic!("retain");
        }
        let keep = key.id % 3 != 0;
        rejected += usize::from(!keep);
        keep
    }))
    .is_err());
    assert_eq!(map.len(), 40 - rejected);
    assert_eq!(live_vals(), map.len());
    assert_eq!(std_ids(&map).len(), map.len());
    drop(map);
    assert_clean();
}

/// `MapStore` is the map its value chose; one scenario through that name.
#[test]
fn store_clone_and_closure_panics() {
    let mut store: MapStore<TKey, Large> = MapStore::new();
    for i in 0..30 {
        store.insert(k(i), v(u64::from(i)));
    }
    arm(Op::CloneVal, 12);
    assert!(catch(|| store.clone()).is_err());
    assert!(catch(|| store.retain(|key, _| key.id != 7 || panic!("retain"))).is_err());
    assert_eq!(store.len(), 30);
    assert_sound(&mut store);
    drop(store);
    assert_clean();
}

per_storage!(
    entry_on_a_table_without_room,
    hash_and_eq_panics_leave_the_map_unchanged,
    hash_panic_during_growth,
    clone_panics_midway,
    drop_panics_in_clear,
    drop_panics_in_retain_and_entry,
    drop_panics_in_drain,
    drop_panics_in_into_iter,
    drop_panics_in_into_values,
    into_values_fold_panics,
    drop_panics_in_map_drop,
    key_drop_panics_in_insert,
    key_drop_panics_in_clear,
    closure_panics,
);

// Written out, not through `per_storage!`, so that one storage's test can be
// marked on its own.
mod hash_panic_during_in_place_rehash {
    use super::*;

    #[test]
    fn inline() {
        hash_panic_during_in_place_rehash::<Inline>();
    }

    #[test]
    fn boxed() {
        hash_panic_during_in_place_rehash::<Boxed>();
    }

    /// The pool drops the values of the entries hashbrown drops in an
    /// interrupted in-place rehash (the guard around every table reserve).
    #[test]
    fn pooled() {
        hash_panic_during_in_place_rehash::<Pooled>();
    }
}

// ---------------------------------------------------------------------------
// Two panicking destructors: a key's, then a value's

/// Keys and values that log their drops, in order, and panic on a chosen
/// drop of each kind: the drop sequence of one of the maps against std's.
mod drop_log {
    use std::cell::{Cell, RefCell};
    use std::hash::{Hash, Hasher};

    thread_local! {
        static LOG: RefCell<Vec<(char, u32)>> = const { RefCell::new(Vec::new()) };
        /// Per kind (key, value): panic on the n-th drop from now; 0: never.
        static ARMED: Cell<[u32; 2]> = const { Cell::new([0; 2]) };
    }

    pub fn arm(key: u32, value: u32) {
        LOG.with(|l| l.borrow_mut().clear());
        ARMED.with(|a| a.set([key, value]));
    }

    /// The drops since `arm`, and disarms.
    pub fn take() -> Vec<(char, u32)> {
        ARMED.with(|a| a.set([0; 2]));
        LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
    }

    fn dropped(kind: usize, id: u32) {
        LOG.with(|l| l.borrow_mut().push((['k', 'v'][kind], id)));
        let fire = ARMED.with(|a| {
            let mut armed = a.get();
            let fire = armed[kind] == 1;
            armed[kind] = armed[kind].saturating_sub(1);
            a.set(armed);
            fire
        });
        if fire {
            panic!("drop {} {id}", ['k', 'v'][kind]);
        }
    }

    #[derive(Debug, PartialEq, Eq)]
    pub struct Key(pub u32);

    impl Hash for Key {
        fn hash<H: Hasher>(&self, state: &mut H) {
            self.0.hash(state);
        }
    }

    impl Drop for Key {
        fn drop(&mut self) {
            dropped(0, self.0);
        }
    }

    /// Large enough to be pooled by the policy, not that it matters here.
    #[derive(Debug)]
    pub struct Val(pub u32, #[allow(dead_code)] pub [u64; 16]);

    impl Drop for Val {
        fn drop(&mut self) {
            dropped(1, self.0);
        }
    }
}

/// What happened to a map whose `clear` or drop met panicking destructors:
/// whether it panicked, the drops in order, and (for `clear`) the map's
/// length afterwards.
type Outcome = (bool, Vec<(char, u32)>, Option<usize>);

const LOGGED: u32 = 20;

/// std's `HashMap` (values in the table, as `(K, V)`).
#[inline(never)]
fn std_outcome(clear: bool, key: u32, value: u32) -> Outcome {
    use drop_log::{Key, Val};
    let mut map: HashMap<Key, Val, Fixed> = HashMap::with_hasher(Fixed::default());
    map.extend((0..LOGGED).map(|i| (Key(i), Val(i, [0; 16]))));
    drop_log::arm(key, value);
    if clear {
        let panicked = catch(|| map.clear()).is_err();
        let log = drop_log::take();
        let len = map.len();
        drop(map);
        (panicked, log, Some(len))
    } else {
        let panicked = catch(move || drop(map)).is_err();
        (panicked, drop_log::take(), None)
    }
}

#[inline(never)]
fn our_outcome<St: Storage>(clear: bool, key: u32, value: u32) -> Outcome {
    use drop_log::{Key, Val};
    let mut map: Map<Key, Val, St, Fixed> = Map::with_hasher(Fixed::default());
    map.extend((0..LOGGED).map(|i| (Key(i), Val(i, [0; 16]))));
    drop_log::arm(key, value);
    if clear {
        let panicked = catch(|| map.clear()).is_err();
        let log = drop_log::take();
        let len = map.len();
        // Empty and usable.
        assert_eq!(map.iter().count(), 0);
        map.insert(Key(1000), Val(1000, [0; 16]));
        assert_eq!(map.get(&Key(1000)).map(|v| v.0), Some(1000));
        drop(map);
        drop_log::take();
        (panicked, log, Some(len))
    } else {
        let panicked = catch(move || drop(map)).is_err();
        (panicked, drop_log::take(), None)
    }
}

/// The panics to inject: the `key`-th key drop and the `value`-th value
/// drop (0: none). std aborts when both hit one entry (its value drops while
/// its key's panic unwinds), so those pairs are left out.
fn drop_panic_pairs() -> impl Iterator<Item = (u32, u32)> {
    // Fewer under Miri (CI runs the pooled cases there).
    let picks: &'static [u32] = if cfg!(miri) {
        &[0, 1, 3, 20, 21]
    } else {
        &[0, 1, 2, 3, 7, 19, 20, 21]
    };
    picks
        .iter()
        .flat_map(move |&key| picks.iter().map(move |&value| (key, value)))
        .filter(|&(key, value)| key == 0 || key != value)
}

/// A key's `Drop` panics in `clear` or in the map's drop, and a value's
/// `Drop` is set to panic too: each map drops what std's drops, in the same
/// order, and unwinds where std's unwinds (a pooled map used to drop all its
/// values while the key's panic unwound, and aborted at the value's). The
/// table's order is the same as std's: same hasher, same inserts.
///
/// The reference is std's `clear`, for the map's drop too: std's drop runs
/// the same drops (`std_leaks::drop_runs_the_drops_of_clear`), but then
/// leaks its table, which is left to the std tests named in `.ci/lsan.supp`
/// (and out of Miri's runs, which fail on any leak).
fn drop_panics_match_std<St: Storage>() {
    for (key, value) in drop_panic_pairs() {
        let (panicked, log, len) = std_outcome(true, key, value);
        let ours = our_outcome::<St>(true, key, value);
        assert_eq!(
            ours,
            (panicked, log.clone(), len),
            "clear, key drop #{key}, value drop #{value}"
        );
        let ours = our_outcome::<St>(false, key, value);
        assert_eq!(
            ours,
            (panicked, log, None),
            "drop, key drop #{key}, value drop #{value}"
        );
    }
}

per_storage!(drop_panics_match_std);

/// What `retain` (rejecting odd keys) or `into_keys` did with panicking
/// destructors: whether it panicked, the drops in order, and the map's
/// length after a `retain`. The keys are taken one `next` at a time, each
/// call caught on its own (a panic unwinding through `collect` would drop
/// the keys collected so far and abort at an armed one), then the iterator
/// is dropped.
fn removal_outcome<'m, M: 'm>(
    map: M,
    retain: bool,
    key: u32,
    value: u32,
    do_retain: impl FnOnce(&mut M),
    len: impl Fn(&M) -> usize,
    keys: impl FnOnce(M) -> Box<dyn Iterator<Item = drop_log::Key> + 'm>,
) -> Outcome {
    let mut map = map;
    drop_log::arm(key, value);
    if retain {
        let panicked = catch(|| do_retain(&mut map)).is_err();
        let log = drop_log::take();
        let len = len(&map);
        drop(map);
        drop_log::take();
        (panicked, log, Some(len))
    } else {
        let mut iter = keys(map);
        let mut out = Vec::new();
        let mut panicked = false;
        loop {
            match catch(|| iter.next()) {
                Ok(Some(key)) => out.push(key),
                Ok(None) => break,
                Err(()) => panicked = true,
            }
        }
        panicked |= catch(move || drop(iter)).is_err();
        // The keys it yielded are dropped after the log is taken.
        let log = drop_log::take();
        drop(out);
        drop_log::take();
        (panicked, log, None)
    }
}

/// `retain` and `into_keys` drop what std's drop, in the same order, and
/// unwind where std's unwind, with a key's or a value's `Drop` panicking
/// (the values are dropped in place, not moved out first; `retain` drops
/// an entry's key and value as a pair's drop glue does, and `into_keys`
/// leaks the key of a value whose drop panics, as std's does).
fn removal_drop_panics_match_std<St: Storage>() {
    use drop_log::{Key, Val};
    let fill = || (0..LOGGED).map(|i| (Key(i), Val(i, [0; 16])));
    for (key, value) in drop_panic_pairs() {
        for retain in [true, false] {
            let theirs = removal_outcome(
                fill().collect::<HashMap<Key, Val, Fixed>>(),
                retain,
                key,
                value,
                |m| m.retain(|k, _| k.0 % 2 == 0),
                |m| m.len(),
                |m| Box::new(m.into_keys()),
            );
            let mut ours: Map<Key, Val, St, Fixed> = Map::with_hasher(Fixed::default());
            ours.extend(fill());
            let ours = removal_outcome(
                ours,
                retain,
                key,
                value,
                |m| m.retain(|k, _| k.0 % 2 == 0),
                |m| m.len(),
                |m| Box::new(m.into_keys()),
            );
            let what = if retain { "retain" } else { "into_keys" };
            assert_eq!(ours, theirs, "{what}, key drop #{key}, value drop #{value}");
        }
    }
}

per_storage!(removal_drop_panics_match_std);
