//! One behavioural suite, written once and run over every storage and over
//! `MapStore`, checking the std `HashMap` API and semantics.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::iter::FusedIterator;

use mapstore::storage::{Boxed, Inline, Pooled};
use mapstore::{MapValue, Plan, StorageKind};

/// A value the suite can make from a number and read back.
pub trait TestValue: Clone + PartialEq + Debug + Default {
    fn new(i: u64) -> Self;
    fn id(&self) -> u64;
    fn bump(&mut self);
}

impl TestValue for u64 {
    fn new(i: u64) -> Self {
        i
    }
    fn id(&self) -> u64 {
        *self
    }
    fn bump(&mut self) {
        *self += 1;
    }
}

/// A large value with heap content, so a pool spans several chunks.
#[derive(Clone, PartialEq, Debug)]
pub struct Big {
    id: u64,
    pad: [u64; 40],
    name: String,
}

impl Default for Big {
    fn default() -> Self {
        Big::new(0)
    }
}

impl TestValue for Big {
    fn new(i: u64) -> Self {
        Big {
            id: i,
            pad: [i; 40],
            name: i.to_string(),
        }
    }
    fn id(&self) -> u64 {
        assert_eq!(self.pad[39], self.id, "value corrupted");
        assert_eq!(self.name, self.id.to_string(), "value corrupted");
        self.id
    }
    fn bump(&mut self) {
        *self = Big::new(self.id + 1);
    }
}

impl MapValue for Big {
    type Storage = Pooled;
    const PLAN: Plan = Plan::of::<Self>("Big", &["name"]);
}

/// `Big`, but boxed by a hand-written impl.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct BoxedBig(Big);

impl TestValue for BoxedBig {
    fn new(i: u64) -> Self {
        BoxedBig(Big::new(i))
    }
    fn id(&self) -> u64 {
        self.0.id()
    }
    fn bump(&mut self) {
        self.0.bump();
    }
}

impl MapValue for BoxedBig {
    type Storage = Boxed;
    const PLAN: Plan = Plan::of::<Self>("BoxedBig", &["0"]);
}

/// A key whose equality ignores its tag, to see which key a map keeps.
#[derive(Clone, Debug)]
pub struct Tagged {
    key: u64,
    tag: &'static str,
}

impl PartialEq for Tagged {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Tagged {}
impl Hash for Tagged {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

fn assert_fused<I: FusedIterator + ExactSizeIterator>(mut iter: I, len: usize) {
    assert_eq!(iter.len(), len);
    let mut seen = 0;
    while iter.next().is_some() {
        seen += 1;
        assert_eq!(iter.len(), len - seen);
    }
    assert_eq!(seen, len);
    assert!(iter.next().is_none());
    assert!(iter.next().is_none());
}

macro_rules! suite {
    ($name:ident, $map:ident, $value:ty, $kind:expr) => {
        mod $name {
            use super::*;

            type V = $value;
            type M<K> = mapstore::$map<K, V>;

            fn v(i: u64) -> V {
                <V as TestValue>::new(i)
            }

            fn filled(n: u64) -> M<u64> {
                (0..n).map(|i| (i, v(i))).collect()
            }

            fn sorted_ids(map: &M<u64>) -> Vec<(u64, u64)> {
                let mut pairs: Vec<_> = map.iter().map(|(k, v)| (*k, v.id())).collect();
                pairs.sort();
                pairs
            }

            #[test]
            fn new_is_empty_and_allocates_nothing() {
                let map = M::<u64>::new();
                assert!(map.is_empty());
                assert_eq!(map.len(), 0);
                assert_eq!(map.memory_usage(), 0);
                assert_eq!(map.storage(), $kind);
                assert_eq!(map.get(&1), None);
                let map = M::<u64>::default();
                assert_eq!(map.iter().count(), 0);
            }

            #[test]
            fn with_capacity_holds_that_many_without_growing() {
                let mut map = M::<u64>::with_capacity(100);
                assert!(map.capacity() >= 100);
                let before = map.memory_usage();
                let table_capacity = map.capacity();
                for i in 0..100 {
                    map.insert(i, v(i));
                }
                assert_eq!(map.capacity(), table_capacity);
                if map.storage() != StorageKind::Boxed {
                    assert_eq!(map.memory_usage(), before);
                }
                let map: mapstore::$map<u8, V, std::hash::RandomState> =
                    mapstore::$map::with_capacity_and_hasher(3, Default::default());
                assert!(map.capacity() >= 3);
                let _: &std::hash::RandomState = map.hasher();
            }

            #[test]
            fn insert_returns_old_value_and_keeps_old_key() {
                let mut map: mapstore::$map<Tagged, V> = Default::default();
                assert_eq!(
                    map.insert(
                        Tagged {
                            key: 1,
                            tag: "first"
                        },
                        v(10)
                    ),
                    None
                );
                assert_eq!(
                    map.insert(
                        Tagged {
                            key: 1,
                            tag: "second"
                        },
                        v(11)
                    ),
                    Some(v(10))
                );
                let (key, value) = map
                    .get_key_value(&Tagged {
                        key: 1,
                        tag: "probe",
                    })
                    .unwrap();
                assert_eq!(key.tag, "first");
                assert_eq!(value.id(), 11);
                assert_eq!(map.len(), 1);
            }

            #[test]
            fn lookups_and_removal() {
                let mut map = filled(50);
                assert_eq!(map.len(), 50);
                assert_eq!(map.get(&7).map(TestValue::id), Some(7));
                assert!(map.contains_key(&49));
                assert!(!map.contains_key(&50));
                map.get_mut(&7).unwrap().bump();
                assert_eq!(map[&7].id(), 8);
                assert_eq!(map.remove(&7).map(|v| v.id()), Some(8));
                assert_eq!(map.remove(&7), None);
                assert_eq!(map.remove_entry(&8).map(|(k, v)| (k, v.id())), Some((8, 8)));
                assert_eq!(map.len(), 48);
                assert_eq!(
                    map.get_key_value(&9).map(|(k, v)| (*k, v.id())),
                    Some((9, 9))
                );
                for i in 0..50 {
                    assert_eq!(map.contains_key(&i), i != 7 && i != 8);
                }
            }

            #[test]
            fn string_keys_are_found_through_str() {
                let mut map: mapstore::$map<String, V> = Default::default();
                map.insert("alpha".to_string(), v(1));
                map.insert(String::from("beta"), v(2));
                assert_eq!(map.get("alpha").map(TestValue::id), Some(1));
                assert_eq!(map["beta"].id(), 2);
                assert!(map.contains_key("beta"));
                assert!(map.get_mut("gamma").is_none());
                assert_eq!(map.remove("alpha").map(|v| v.id()), Some(1));
                assert_eq!(
                    map.remove_entry("beta").map(|(k, _)| k),
                    Some("beta".to_string())
                );
                assert!(map.is_empty());
            }

            #[test]
            #[should_panic(expected = "no entry found for key")]
            fn index_panics_on_a_missing_key() {
                let map = filled(3);
                let _ = &map[&3];
            }

            #[test]
            fn entry_api() {
                let mut map = M::<u64>::new();
                assert_eq!(map.entry(1).or_insert(v(1)).id(), 1);
                assert_eq!(map.entry(1).or_insert(v(99)).id(), 1);
                assert_eq!(map.entry(2).or_insert_with(|| v(2)).id(), 2);
                assert_eq!(map.entry(3).or_insert_with_key(|k| v(*k * 10)).id(), 30);
                assert_eq!(map.entry(4).or_default().id(), V::default().id());
                map.entry(1).and_modify(|v| v.bump()).or_insert(v(0));
                assert_eq!(map[&1].id(), 2);
                map.entry(5).and_modify(|v| v.bump()).or_insert(v(50));
                assert_eq!(map[&5].id(), 50);
                assert_eq!(*map.entry(6).key(), 6);
                assert_eq!(map.entry(6).insert_entry(v(60)).get().id(), 60);
                assert_eq!(map.entry(6).insert_entry(v(61)).get().id(), 61);

                match map.entry(1) {
                    mapstore::map::Entry::Occupied(mut entry) => {
                        assert_eq!(*entry.key(), 1);
                        assert_eq!(entry.get().id(), 2);
                        entry.get_mut().bump();
                        assert_eq!(entry.insert(v(7)).id(), 3);
                        assert_eq!(entry.into_mut().id(), 7);
                    }
                    mapstore::map::Entry::Vacant(_) => panic!("1 is present"),
                }
                match map.entry(2) {
                    mapstore::map::Entry::Occupied(entry) => assert_eq!(entry.remove().id(), 2),
                    mapstore::map::Entry::Vacant(_) => panic!("2 is present"),
                }
                match map.entry(3) {
                    mapstore::map::Entry::Occupied(entry) => {
                        assert_eq!(entry.remove_entry().0, 3)
                    }
                    mapstore::map::Entry::Vacant(_) => panic!("3 is present"),
                }
                match map.entry(100) {
                    mapstore::map::Entry::Vacant(entry) => {
                        assert_eq!(*entry.key(), 100);
                        assert_eq!(entry.insert(v(100)).id(), 100);
                    }
                    mapstore::map::Entry::Occupied(_) => panic!("100 is absent"),
                }
                match map.entry(101) {
                    mapstore::map::Entry::Vacant(entry) => assert_eq!(entry.into_key(), 101),
                    mapstore::map::Entry::Occupied(_) => panic!("101 is absent"),
                }
                assert!(!map.contains_key(&101));
                assert!(!format!("{:?}", map.entry(1)).is_empty());
                assert_eq!(
                    sorted_ids(&map).iter().map(|p| p.0).collect::<Vec<_>>(),
                    [1, 4, 5, 6, 100]
                );
            }

            #[test]
            fn entry_of_a_present_key_never_grows_a_full_table() {
                // Fill the table to its last free bucket.
                let mut map = M::<u64>::new();
                let mut n = 0;
                while n == 0 || map.len() < map.capacity() {
                    map.insert(n, v(n));
                    n += 1;
                }
                let full = map.capacity();
                let memory = map.memory_usage();
                for k in 0..n {
                    match map.entry(k) {
                        mapstore::map::Entry::Occupied(mut entry) => entry.get_mut().bump(),
                        mapstore::map::Entry::Vacant(_) => panic!("{k} is present"),
                    }
                    map.entry(k)
                        .and_modify(TestValue::bump)
                        .or_insert_with(|| unreachable!());
                    assert_eq!(map.insert(k, v(k + 2)).map(|v| v.id()), Some(k + 2));
                    assert_eq!(map.capacity(), full, "after the entry of {k}");
                }
                assert_eq!(map.memory_usage(), memory);
                // An absent key does grow it, and every entry survives.
                assert_eq!(map.entry(n).or_insert(v(n + 2)).id(), n + 2);
                assert!(map.capacity() > full);
                assert_eq!(
                    sorted_ids(&map),
                    (0..=n).map(|k| (k, k + 2)).collect::<Vec<_>>()
                );
            }

            #[test]
            fn with_hasher_is_const_and_builds_a_static_map() {
                type Fixed = std::hash::BuildHasherDefault<std::hash::DefaultHasher>;
                const EMPTY: mapstore::$map<u64, V, Fixed> =
                    mapstore::$map::with_hasher(Fixed::new());
                static SHARED: std::sync::Mutex<mapstore::$map<u64, V, Fixed>> =
                    std::sync::Mutex::new(mapstore::$map::with_hasher(Fixed::new()));

                assert!(EMPTY.is_empty());
                assert_eq!(EMPTY.memory_usage(), 0);
                let mut shared = SHARED.lock().unwrap();
                for i in 0..100 {
                    shared.insert(i, v(i));
                }
                assert_eq!(shared.storage(), $kind);
                assert_eq!(shared.len(), 100);
                assert_eq!(shared[&42].id(), 42);
                let mut local = EMPTY;
                local.extend(shared.drain());
                assert_eq!(local.len(), 100);
                assert!(shared.is_empty());
            }

            #[test]
            fn retain_removes_all_none_or_some() {
                let mut map = filled(100);
                map.retain(|_, _| true);
                assert_eq!(map.len(), 100);
                map.retain(|k, v| {
                    v.bump();
                    k % 3 == 0
                });
                assert_eq!(map.len(), 34);
                assert!(map.iter().all(|(k, v)| k % 3 == 0 && v.id() == k + 1));
                map.retain(|_, _| false);
                assert!(map.is_empty());
                map.insert(1, v(1));
                assert_eq!(map[&1].id(), 1);
            }

            #[test]
            fn extract_if_removes_what_it_yields() {
                let mut map = filled(100);
                let mut odd: Vec<u64> = map.extract_if(|k, _| k % 2 == 1).map(|(k, _)| k).collect();
                odd.sort();
                assert_eq!(odd, (0..100).filter(|k| k % 2 == 1).collect::<Vec<_>>());
                assert_eq!(map.len(), 50);
                assert_eq!(map.extract_if(|_, _| false).count(), 0);
                assert_eq!(map.len(), 50);
                // Stopping early keeps the rest.
                let taken: Vec<_> = map.extract_if(|_, _| true).take(10).collect();
                assert_eq!(taken.len(), 10);
                assert_eq!(map.len(), 40);
                for (k, v) in &taken {
                    assert_eq!(*k, v.id());
                    assert!(!map.contains_key(k));
                }
                assert_eq!(map.extract_if(|_, _| true).count(), 40);
                assert!(map.is_empty());
            }

            #[test]
            fn drain_empties_the_map_even_when_dropped_half_way() {
                let mut map = filled(40);
                let capacity = map.capacity();
                let mut drain = map.drain();
                assert_eq!(drain.len(), 40);
                let first: Vec<_> = drain.by_ref().take(20).collect();
                assert_eq!(drain.len(), 20);
                drop(drain);
                assert_eq!(first.len(), 20);
                assert!(first.iter().all(|(k, v)| *k == v.id()));
                assert!(map.is_empty());
                assert_eq!(map.capacity(), capacity);
                map.extend((0..40).map(|i| (i, v(i))));
                assert_eq!(map.drain().count(), 40);
                assert_fused(filled(7).drain(), 7);
            }

            #[test]
            fn keys_and_values_follow_iter() {
                let mut map = filled(300);
                map.retain(|k, _| k % 3 != 0);
                let pairs: Vec<(u64, u64)> = map.iter().map(|(k, v)| (*k, v.id())).collect();
                let keys: Vec<u64> = map.keys().copied().collect();
                let values: Vec<u64> = map.values().map(|v| v.id()).collect();
                let zipped: Vec<(u64, u64)> =
                    keys.iter().copied().zip(values.iter().copied()).collect();
                assert_eq!(zipped, pairs, "keys() and values() walk in iter() order");
                let mut seen = Vec::new();
                for (_, v) in map.iter_mut() {
                    seen.push(v.id());
                }
                assert_eq!(seen, values, "iter_mut() walks in iter() order");
                let mutably: Vec<u64> = map.values_mut().map(|v| v.id()).collect();
                assert_eq!(mutably, values, "values_mut() walks in iter() order");
                // The opt-in memory-order walks: the same values, each once.
                let mut unordered: Vec<u64> = map.unordered_values().map(|v| v.id()).collect();
                let mut unordered_mut: Vec<u64> =
                    map.unordered_values_mut().map(|v| v.id()).collect();
                let mut sorted = values.clone();
                sorted.sort_unstable();
                unordered.sort_unstable();
                unordered_mut.sort_unstable();
                assert_eq!(unordered, sorted);
                assert_eq!(unordered_mut, sorted);
                let owned_keys: Vec<u64> = map.clone().into_keys().collect();
                assert_eq!(owned_keys, keys, "into_keys() walks in iter() order");
                let owned: Vec<u64> = map.clone().into_values().map(|v| v.id()).collect();
                assert_eq!(owned, values, "into_values() walks in iter() order");
                let mut moved: Vec<u64> = map.into_unordered_values().map(|v| v.id()).collect();
                moved.sort_unstable();
                assert_eq!(moved, sorted);
            }

            #[test]
            fn a_leaked_drain_leaves_an_empty_usable_map() {
                // As with `Vec::drain`, leaking the iterator may leak the
                // entries it had not yielded, but the map stays consistent.
                let mut map = filled(40);
                let mut drain = map.drain();
                assert_eq!(drain.next().map(|(k, v)| k == v.id()), Some(true));
                std::mem::forget(drain);
                assert!(map.is_empty());
                assert_eq!(map.iter().count(), 0);
                assert_eq!(map.values_mut().count(), 0);
                assert_eq!(map.get(&1), None);
                map.extend((0..10).map(|i| (i, v(i))));
                assert_eq!(
                    sorted_ids(&map),
                    (0..10).map(|i| (i, i)).collect::<Vec<_>>()
                );
                assert_eq!(map.clone().into_iter().count(), 10);
            }

            #[test]
            fn iterators_are_exact_and_fused() {
                let mut map = filled(33);
                assert_fused(map.iter(), 33);
                assert_fused(map.keys(), 33);
                assert_fused(map.values(), 33);
                assert_fused(map.iter_mut(), 33);
                assert_fused(map.values_mut(), 33);
                assert_fused(map.clone().into_iter(), 33);
                assert_fused(map.clone().into_keys(), 33);
                assert_fused(map.clone().into_values(), 33);
                for v in map.values_mut() {
                    v.bump();
                }
                for (k, v) in &mut map {
                    assert_eq!(*k + 1, v.id());
                }
                let mut keys: Vec<u64> = map.keys().copied().collect();
                keys.sort();
                assert_eq!(keys, (0..33).collect::<Vec<_>>());
                let mut ids: Vec<u64> = map.values().map(TestValue::id).collect();
                ids.sort();
                assert_eq!(ids, (1..34).collect::<Vec<_>>());
                let mut owned: Vec<(u64, u64)> =
                    map.clone().into_iter().map(|(k, v)| (k, v.id())).collect();
                owned.sort();
                assert_eq!(owned, sorted_ids(&map));
                let mut keys: Vec<u64> = map.clone().into_keys().collect();
                keys.sort();
                assert_eq!(keys.len(), 33);
                assert_eq!(map.clone().into_values().count(), 33);
                assert_eq!((&map).into_iter().count(), 33);
                // A partly consumed owning iterator drops the rest.
                let mut iter = map.clone().into_iter();
                assert!(iter.next().is_some());
                drop(iter);
            }

            #[test]
            fn extend_from_iter_and_from_array() {
                let mut map: M<u64> = [(1, v(1)), (2, v(2))].into();
                map.extend([(2, v(20)), (3, v(3))]);
                assert_eq!(sorted_ids(&map), [(1, 1), (2, 20), (3, 3)]);
                let collected: M<u64> = map.iter().map(|(k, v)| (*k, v.clone())).collect();
                assert_eq!(collected, map);
            }

            #[test]
            fn reserve_and_shrink() {
                let mut map = M::<u64>::new();
                map.reserve(1000);
                assert!(map.capacity() >= 1000);
                assert!(map.try_reserve(10).is_ok());
                assert!(map.try_reserve(usize::MAX).is_err());
                for i in 0..1000 {
                    map.insert(i, v(i));
                }
                let full = map.memory_usage();
                map.retain(|k, _| *k < 10);
                map.shrink_to_fit();
                assert!(map.memory_usage() < full);
                assert!(map.capacity() >= 10);
                assert_eq!(
                    sorted_ids(&map),
                    (0..10).map(|i| (i, i)).collect::<Vec<_>>()
                );
                map.shrink_to(100);
                assert!(map.capacity() >= 10);
                map.shrink_to(0);
                assert_eq!(map.len(), 10);
                map.clear();
                map.shrink_to_fit();
                assert_eq!(map.memory_usage(), map.memory_usage());
                assert!(map.is_empty());
            }

            #[test]
            fn get_disjoint_mut_gives_each_value_once() {
                let mut map = filled(10);
                let [a, b, missing] = map.get_disjoint_mut([&1, &2, &42]);
                let (a, b) = (a.unwrap(), b.unwrap());
                std::mem::swap(a, b);
                assert!(missing.is_none());
                assert_eq!(map[&1].id(), 2);
                assert_eq!(map[&2].id(), 1);
            }

            #[test]
            #[should_panic(expected = "capacity overflow")]
            fn with_capacity_overflow_panics_with_one_message() {
                let _ = M::<u64>::with_capacity(usize::MAX);
            }

            #[test]
            #[should_panic(expected = "capacity overflow")]
            fn reserve_overflow_panics_with_one_message() {
                let mut map = filled(3);
                map.reserve(usize::MAX);
            }

            #[test]
            #[should_panic]
            fn get_disjoint_mut_panics_on_repeated_keys() {
                let mut map = filled(10);
                let _ = map.get_disjoint_mut([&1, &1]);
            }

            #[test]
            fn clone_eq_and_independence() {
                let map = filled(200);
                let mut copy = map.clone();
                assert_eq!(copy, map);
                copy.get_mut(&5).unwrap().bump();
                assert_ne!(copy, map);
                assert_eq!(map[&5].id(), 5);
                copy.remove(&5);
                assert_ne!(copy, map);
                copy.insert(5, v(5));
                assert_eq!(copy, map);
                let empty = M::<u64>::new();
                assert_eq!(empty.clone(), empty);
                assert_ne!(empty, map);
            }

            #[test]
            fn debug_is_shaped_like_std() {
                let map: M<u64> = [(1, v(1))].into();
                let std_map: HashMap<u64, V> = [(1, v(1))].into();
                assert_eq!(format!("{map:?}"), format!("{std_map:?}"));
                assert_eq!(format!("{:?}", M::<u64>::new()), "{}");
                assert_eq!(format!("{:?}", map.keys()), "[1]");
                // Entries too, `{:?}` and `{:#?}`.
                let mut map = map;
                let mut std_map = std_map;
                for key in [1, 2] {
                    let ours = map.entry(key);
                    let std = std_map.entry(key);
                    assert_eq!(format!("{ours:?}"), format!("{std:?}"));
                    assert_eq!(format!("{ours:#?}"), format!("{std:#?}"));
                }
            }

            #[test]
            fn clear_keeps_memory_and_map_stays_usable() {
                let mut map = filled(300);
                let bytes = map.memory_usage();
                map.clear();
                assert!(map.is_empty());
                if map.storage() != StorageKind::Boxed {
                    assert_eq!(map.memory_usage(), bytes);
                }
                for i in 0..300 {
                    assert_eq!(map.insert(i, v(i + 1)), None);
                }
                assert!(map.iter().all(|(k, v)| v.id() == k + 1));
            }

            #[test]
            fn many_entries_round_trip() {
                let mut map = M::<u64>::new();
                for i in 0..5000 {
                    assert_eq!(map.insert(i, v(i)), None);
                }
                for i in (0..5000).step_by(2) {
                    assert_eq!(map.remove(&i).map(|v| v.id()), Some(i));
                }
                for i in 5000..7500 {
                    map.insert(i, v(i));
                }
                assert_eq!(map.len(), 5000);
                for i in 0..7500 {
                    let expected = (i % 2 == 1 || i >= 5000).then_some(i);
                    assert_eq!(map.get(&i).map(TestValue::id), expected);
                }
            }
        }
    };
}

suite!(inline_small, InlineMap, u64, StorageKind::Inline);
suite!(inline_big, InlineMap, Big, StorageKind::Inline);
suite!(boxed_small, BoxedMap, u64, StorageKind::Boxed);
suite!(boxed_big, BoxedMap, Big, StorageKind::Boxed);
suite!(pooled_small, PooledMap, u64, StorageKind::Pooled);
suite!(pooled_big, PooledMap, Big, StorageKind::Pooled);
suite!(store_inline, MapStore, u64, StorageKind::Inline);
suite!(store_pooled, MapStore, Big, StorageKind::Pooled);
suite!(store_boxed, MapStore, BoxedBig, StorageKind::Boxed);

#[test]
fn boxed_extras_move_values_without_copying() {
    let mut map = mapstore::BoxedMap::<u32, [u8; 4096]>::new();
    let value = Box::new([3u8; 4096]);
    let address = &*value as *const [u8; 4096];
    assert!(map.insert_boxed(1, value).is_none());
    assert_eq!(&map[&1] as *const _, address);
    let old = map.insert_boxed(1, Box::new([4; 4096])).unwrap();
    assert_eq!(&*old as *const _, address);
    let back = map.remove_boxed(&1).unwrap();
    assert_eq!(back[0], 4);
    assert!(map.remove_boxed(&1).is_none());
}

#[test]
fn map_store_of_std_types_just_works() {
    let mut counts: mapstore::MapStore<String, u64> = mapstore::MapStore::new();
    *counts.entry("a".into()).or_default() += 2;
    assert_eq!(counts["a"], 2);
    assert_eq!(counts.storage(), StorageKind::Inline);
    let mut names: mapstore::MapStore<u32, String> = [(1, "one".to_string())].into();
    names.insert(2, "two".into());
    assert_eq!(names.len(), 2);
    let mut inferred = mapstore::MapStore::new();
    inferred.insert("k", vec![1u8]);
    assert_eq!(inferred["k"], [1]);
    let plan = <String as MapValue>::PLAN;
    assert_eq!(plan.size, 24);
    assert_eq!(plan.heap_fields, ["self"]);
    assert!(plan.needs_drop);
    let _: Inline = Inline;
}

#[test]
fn map_store_is_the_map_its_value_chose() {
    // No conversion: a `MapStore` is the map, in both directions.
    let store: mapstore::MapStore<u8, Big> = [(1, Big::new(1))].into();
    let mut pooled: mapstore::PooledMap<u8, Big> = store;
    pooled.insert(2, Big::new(2));
    let mut back: mapstore::MapStore<u8, Big> = pooled;
    assert_eq!(back[&1].id(), 1);
    assert_eq!(len_of_any_store(&back), 2);
    // Its methods are its own: callable by path, as std's are.
    assert_eq!(mapstore::MapStore::insert(&mut back, 3, Big::new(3)), None);
    assert_eq!(
        mapstore::MapStore::get(&back, &3).map(TestValue::id),
        Some(3)
    );
    assert_eq!(mapstore::MapStore::len(&back), 3);
    let boxed: mapstore::MapStore<u8, BoxedBig> = mapstore::MapStore::with_capacity(4);
    let _: &mapstore::BoxedMap<u8, BoxedBig> = &boxed;
    assert!(boxed.capacity() >= 4);
}

#[test]
fn map_store_constructors_infer_from_the_annotation() {
    let new: mapstore::MapStore<String, Big> = mapstore::MapStore::new();
    let default: mapstore::MapStore<String, Big> = mapstore::MapStore::default();
    let sized: mapstore::MapStore<String, Big> = mapstore::MapStore::with_capacity(10);
    assert_eq!(new.storage(), StorageKind::Pooled);
    assert_eq!(new, default);
    assert!(sized.capacity() >= 10);

    let collected: mapstore::MapStore<u64, _> = (0..5u64).map(|i| (i, Big::new(i))).collect();
    let from_array = mapstore::MapStore::from([(0u64, Big::new(0))]);
    let mut inferred_later = mapstore::MapStore::new();
    inferred_later.insert(0u64, Big::new(0));
    assert_eq!(from_array, inferred_later);
    assert_eq!(collected.len(), 5);
    assert_eq!(from_array.storage(), StorageKind::Pooled);
    let upsert = upsert(&mut inferred_later, 9, Big::new(9));
    assert_eq!(upsert.id(), 9);
}

fn len_of_any_store<K: Eq + Hash, V: MapValue>(store: &mapstore::MapStore<K, V>) -> usize {
    store.iter().count()
}

/// Generic code over `V: MapValue` reaches the entry API and mutable values.
fn upsert<K: Eq + Hash, V: MapValue>(
    store: &mut mapstore::MapStore<K, V>,
    key: K,
    value: V,
) -> &mut V {
    mapstore::MapStore::entry(store, key)
        .insert_entry(value)
        .into_mut()
}

/// `try_reserve` of more than memory holds fails as std's map with the same
/// bucket does: an inline map like `HashMap<K, V>`, a boxed one like
/// `HashMap<K, Box<V>>`, a pooled one like `HashMap<K, u32>`. So for small
/// values a boxed or pooled map reports `CapacityOverflow` where std's
/// `HashMap<K, V>` reports `AllocError`.
#[cfg(target_pointer_width = "64")]
#[test]
fn try_reserve_fails_like_std_with_the_same_bucket() {
    use mapstore::TryReserveError;

    fn std_overflows<V>(additional: usize) -> bool {
        let error = HashMap::<u8, V>::new().try_reserve(additional).unwrap_err();
        format!("{error:?}").contains("CapacityOverflow")
    }
    fn overflows(result: Result<(), TryReserveError>) -> bool {
        match result.unwrap_err() {
            TryReserveError::CapacityOverflow => true,
            TryReserveError::AllocError { layout } => {
                assert!(layout.size() > 1 << 50, "{layout:?}");
                false
            }
        }
    }

    // Too large to allocate, not so large that every bucket size overflows.
    let huge = isize::MAX as usize / 16;
    let mut inline = mapstore::InlineMap::<u8, u8>::new();
    let mut boxed = mapstore::BoxedMap::<u8, u8>::new();
    let mut pooled = mapstore::PooledMap::<u8, u8>::new();
    assert!(!overflows(inline.try_reserve(huge)));
    assert_eq!(
        overflows(inline.try_reserve(huge)),
        std_overflows::<u8>(huge)
    );
    assert!(overflows(boxed.try_reserve(huge)));
    assert_eq!(
        overflows(boxed.try_reserve(huge)),
        std_overflows::<Box<u8>>(huge)
    );
    assert!(overflows(pooled.try_reserve(huge)));
    assert_eq!(
        overflows(pooled.try_reserve(huge)),
        std_overflows::<u32>(huge)
    );
    // Each map is unchanged and usable.
    for map_len in [inline.len(), boxed.len(), pooled.len()] {
        assert_eq!(map_len, 0);
    }
    inline.insert(1, 1);
    boxed.insert(1, 1);
    pooled.insert(1, 1);
    assert_eq!((inline[&1], boxed[&1], pooled[&1]), (1, 1, 1));
}

/// A pooled map's pool holds at most `u32::MAX` values: asking for more is
/// `CapacityOverflow` from `try_reserve` and the capacity-overflow panic
/// from `reserve`, before the table allocates anything (it used to grow the
/// table first: `reserve(1 << 33)` aborted on the table's allocation, and a
/// table that did allocate stayed grown).
#[cfg(target_pointer_width = "64")]
#[test]
fn a_pooled_reserve_past_u32_slots_overflows_and_changes_nothing() {
    use mapstore::TryReserveError;

    let mut map: mapstore::PooledMap<u64, [u8; 300]> =
        (0..10).map(|i| (i, [i as u8; 300])).collect();
    let before = (map.capacity(), map.memory_usage());
    for additional in [1 << 33, (u32::MAX as usize) + 1, usize::MAX / 2] {
        assert_eq!(
            map.try_reserve(additional),
            Err(TryReserveError::CapacityOverflow)
        );
        assert_eq!((map.capacity(), map.memory_usage()), before);
    }
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| map.reserve(1 << 33)))
        .unwrap_err();
    assert_eq!(
        panic.downcast_ref::<&str>(),
        Some(&"Hash table capacity overflow")
    );
    assert_eq!((map.capacity(), map.memory_usage()), before);
    assert_eq!(map.len(), 10);
    assert_eq!(map[&9][299], 9);
}

/// When the pool's part of a `try_reserve` succeeds and the table's
/// allocation fails, the pool's new chunks are freed again: the map is
/// unchanged, its memory included.
#[cfg(target_pointer_width = "64")]
#[cfg_attr(miri, ignore = "allocates 64 MiB of chunks")]
#[test]
fn a_pooled_reserve_whose_table_fails_frees_the_pool_growth() {
    use mapstore::TryReserveError;

    // 16 MiB keys: a table of 2^25 buckets is 512 TiB, more than an
    // address space holds, while 2^24 pooled `()`s are 64 MiB of chunks.
    let mut map: mapstore::PooledMap<[u8; 1 << 24], ()> = mapstore::PooledMap::new();
    let result = map.try_reserve(1 << 24);
    assert!(
        matches!(result, Err(TryReserveError::AllocError { .. })),
        "{result:?}"
    );
    assert_eq!((map.capacity(), map.memory_usage()), (0, 0));
}

/// The std types people keep as values work without a derive or a wrapper
/// (their plans are checked to name `Inline` in runtime/impls.rs).
#[test]
fn common_std_values_need_no_derive() {
    use mapstore::MapStore;
    use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    let mut tags: MapStore<String, HashSet<u32>> = MapStore::new();
    tags.entry("a".into()).or_default().insert(7);
    assert!(tags["a"].contains(&7));
    let mut nested: MapStore<u8, HashMap<u8, u8>> = MapStore::new();
    nested.entry(1).or_default().insert(2, 3);
    assert_eq!(nested[&1][&2], 3);
    let mut ordered: MapStore<u8, BTreeMap<u8, u8>> = MapStore::new();
    ordered.entry(1).or_default().insert(2, 3);
    let mut queues: MapStore<u8, VecDeque<u8>> = MapStore::new();
    queues.entry(1).or_default().push_back(4);
    let mut timeouts: MapStore<u8, Duration> = MapStore::new();
    timeouts.insert(1, Duration::from_secs(2));
    let mut peers: MapStore<u8, SocketAddr> = MapStore::new();
    peers.insert(1, "127.0.0.1:80".parse().unwrap());
    let counters: MapStore<u8, AtomicU64> = [(1, AtomicU64::new(0))].into_iter().collect();
    counters[&1].fetch_add(5, Ordering::Relaxed);
    assert_eq!(counters[&1].load(Ordering::Relaxed), 5);
    assert_eq!(
        (
            ordered[&1][&2],
            queues[&1][0],
            timeouts[&1].as_secs(),
            peers[&1].port()
        ),
        (3, 4, 2, 80)
    );
}

/// More std types people keep in maps: buffered writers and readers,
/// cursors, Unix sockets, descriptors, directory entries, the standard
/// streams, lazy values, scoped thread handles, `ControlFlow`, process
/// handles, parse errors, and std's maps and sets with any hasher. Each is
/// a `MapValue` whose storage is the one the policy picks for its layout.
#[test]
fn more_std_values_need_no_derive() {
    use mapstore::{MapStore, MapValue, StorageKind};
    use std::collections::HashSet;
    use std::hash::{BuildHasherDefault, DefaultHasher, RandomState};
    use std::io::{BufReader, BufWriter, Cursor, LineWriter, Write};
    use std::ops::ControlFlow;
    use std::sync::LazyLock;

    /// The storage a `MapStore<u8, V>` uses, checked to be the policy's.
    fn storage<V: MapValue>() -> StorageKind {
        let plan = V::PLAN;
        assert!(!plan.forced, "{plan}");
        assert_eq!(plan.storage, MapStore::<u8, V>::new().storage(), "{plan}");
        plan.storage
    }
    let inline = StorageKind::Inline;
    assert_eq!(storage::<BufWriter<std::fs::File>>(), inline);
    assert_eq!(storage::<LineWriter<std::fs::File>>(), inline);
    assert_eq!(storage::<BufReader<std::io::Stdin>>(), inline);
    assert_eq!(storage::<Cursor<Vec<u8>>>(), inline);
    assert_eq!(storage::<std::io::Stdout>(), inline);
    assert_eq!(storage::<std::io::Stderr>(), inline);
    assert_eq!(storage::<std::io::Stdin>(), inline);
    assert_eq!(storage::<std::fs::DirEntry>(), inline);
    assert_eq!(storage::<LazyLock<String>>(), inline);
    assert_eq!(storage::<std::cell::LazyCell<u64>>(), inline);
    assert_eq!(storage::<std::cell::OnceCell<u64>>(), inline);
    assert_eq!(storage::<std::sync::OnceLock<String>>(), inline);
    assert_eq!(
        storage::<std::thread::ScopedJoinHandle<'static, u64>>(),
        inline
    );
    assert_eq!(storage::<ControlFlow<u8, String>>(), inline);
    assert_eq!(storage::<std::process::Stdio>(), inline);
    assert_eq!(storage::<std::process::ExitCode>(), inline);
    assert_eq!(storage::<std::process::ExitStatus>(), inline);
    assert_eq!(storage::<std::num::ParseIntError>(), inline);
    assert_eq!(storage::<std::num::ParseFloatError>(), inline);
    assert_eq!(storage::<std::string::FromUtf8Error>(), inline);
    assert_eq!(storage::<std::fmt::Error>(), inline);
    assert_eq!(storage::<std::marker::PhantomPinned>(), inline);
    assert_eq!(storage::<std::path::PathBuf>(), inline);
    assert_eq!(storage::<Box<std::path::Path>>(), inline);
    assert_eq!(storage::<std::ffi::OsString>(), inline);
    assert_eq!(storage::<std::time::Instant>(), inline);
    assert_eq!(storage::<std::time::SystemTime>(), inline);
    assert_eq!(storage::<std::time::Duration>(), inline);
    assert_eq!(
        storage::<std::collections::HashMap<u8, u8, RandomState>>(),
        inline
    );
    assert_eq!(
        storage::<HashSet<u8, BuildHasherDefault<DefaultHasher>>>(),
        inline
    );
    assert_eq!(storage::<hashbrown::HashMap<u8, u8, RandomState>>(), inline);
    #[cfg(unix)]
    {
        use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
        assert_eq!(storage::<UnixStream>(), inline);
        assert_eq!(storage::<UnixListener>(), inline);
        assert_eq!(storage::<UnixDatagram>(), inline);
        assert_eq!(storage::<std::os::fd::OwnedFd>(), inline);

        let (a, b) = UnixStream::pair().unwrap();
        let mut peers: MapStore<u8, UnixStream> = MapStore::new();
        peers.insert(1, a);
        peers.insert(2, b);
        assert_eq!(peers.len(), 2);
    }

    // In use: a writer per connection, parse errors, a lazy value, a
    // scoped thread's handle, a map with std's hasher.
    let mut logs: MapStore<u32, BufWriter<Vec<u8>>> = MapStore::new();
    logs.entry(1)
        .or_insert_with(|| BufWriter::new(Vec::new()))
        .write_all(b"hi")
        .unwrap();
    let log = logs.remove(&1).unwrap().into_inner().unwrap();
    assert_eq!(log, b"hi");
    let mut errors: MapStore<&str, std::num::ParseIntError> = MapStore::new();
    errors.insert("x", "x".parse::<u8>().unwrap_err());
    assert!(errors["x"].to_string().contains("invalid digit"));
    let mut lazy: MapStore<u8, LazyLock<String>> = MapStore::new();
    lazy.insert(1, LazyLock::new(|| "lazy".to_string()));
    assert_eq!(*lazy[&1], "lazy");
    let flows: MapStore<u8, ControlFlow<u8, String>> = [(1, ControlFlow::Break(3))].into();
    assert_eq!(flows[&1], ControlFlow::Break(3));
    let total = std::thread::scope(|scope| {
        let mut tasks: MapStore<u8, std::thread::ScopedJoinHandle<'_, u32>> = MapStore::new();
        for i in 0..3 {
            tasks.insert(i, scope.spawn(move || u32::from(i) * 10));
        }
        tasks
            .into_values()
            .map(|task| task.join().unwrap())
            .sum::<u32>()
    });
    assert_eq!(total, 30);
    let mut nested: MapStore<u8, std::collections::HashMap<u8, u8, RandomState>> = MapStore::new();
    nested.entry(1).or_default().insert(2, 3);
    assert_eq!(nested[&1][&2], 3);
}

/// Values people wrap (`Option`, `Result`, `Cow`, cells and locks, channel
/// handles) and maps of maps work without a derive, over every storage a
/// wrapper can take from what it wraps.
#[test]
fn wrapped_values_and_nested_maps_need_no_derive() {
    use mapstore::{FrozenStore, MapStore};
    use std::borrow::Cow;
    use std::cell::RefCell;
    use std::sync::{mpsc, Mutex};

    // Maps of maps, as `HashMap<String, HashMap<String, u32>>` is written.
    let mut by_team: MapStore<String, MapStore<String, u32>> = MapStore::new();
    by_team
        .entry("core".into())
        .or_default()
        .insert("ada".into(), 36);
    by_team
        .entry("core".into())
        .or_default()
        .insert("alan".into(), 41);
    assert_eq!(by_team["core"].len(), 2);
    assert_eq!(by_team.clone(), by_team);
    let frozen: MapStore<u8, FrozenStore<u8, u8>> = [(1, (0..20).map(|i| (i, i)).collect())].into();
    assert_eq!(frozen[&1][&19], 19);

    // A wrapper takes its contents' storage: pooled for a large value.
    let mut maybe: MapStore<u32, Option<Big>> = MapStore::new();
    maybe.insert(1, Some(Big::new(1)));
    maybe.insert(2, None);
    assert_eq!(maybe.storage(), StorageKind::Pooled);
    assert_eq!(maybe[&1].as_ref().map(TestValue::id), Some(1));
    let outcomes: MapStore<u32, Result<u64, String>> =
        [(1, Ok(1)), (2, Err("no".to_string()))].into();
    assert_eq!(outcomes[&2].as_ref().map_err(String::as_str), Err("no"));
    let names: MapStore<u8, Cow<'static, str>> = [(1, Cow::Borrowed("one"))].into();
    assert_eq!(names[&1], "one");
    let locked: MapStore<u8, Mutex<Vec<u8>>> = [(1, Mutex::new(vec![]))].into();
    locked[&1].lock().unwrap().push(5);
    assert_eq!(*locked[&1].lock().unwrap(), [5]);
    let cells: MapStore<u8, RefCell<u8>> = [(1, RefCell::new(1))].into();
    *cells[&1].borrow_mut() += 1;
    assert_eq!(*cells[&1].borrow(), 2);
    let (send, receive) = mpsc::channel::<String>();
    let clients: MapStore<u8, mpsc::Sender<String>> = [(1, send)].into();
    clients[&1].send("hi".into()).unwrap();
    assert_eq!(receive.recv().unwrap(), "hi");
    // Spans of a text by name, and the handles a server keys by connection.
    let spans: MapStore<&str, std::ops::Range<usize>> = [("word", 4..8)].into();
    assert_eq!(&"the word"[spans["word"].clone()], "word");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let mut connections: MapStore<u64, std::net::TcpStream> = MapStore::new();
    connections.insert(1, client);
    assert!(connections[&1].peer_addr().is_ok());
    let errors: MapStore<u8, std::io::Error> = [(1, std::io::Error::other("gone"))].into();
    assert_eq!(errors[&1].to_string(), "gone");
}

/// The message and the location of a panic inside `f`, caught on this
/// thread (other threads' panics go to the previous hook as before).
fn panic_site(f: impl FnOnce() + std::panic::UnwindSafe) -> (String, String) {
    use std::cell::RefCell;
    use std::panic;
    thread_local! {
        static SITE: RefCell<Option<String>> = const { RefCell::new(None) };
    }
    let previous = std::sync::Arc::new(panic::take_hook());
    let forward = std::sync::Arc::clone(&previous);
    let ours = std::thread::current().id();
    panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ours {
            let at = info
                .location()
                .map(|l| l.file().to_string())
                .unwrap_or_default();
            SITE.with(|site| *site.borrow_mut() = Some(at));
        } else {
            forward(info);
        }
    }));
    let payload = panic::catch_unwind(f).expect_err("f must panic");
    drop(panic::take_hook());
    panic::set_hook(Box::new(move |info| previous(info)));
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    (
        message,
        SITE.with(|site| site.borrow_mut().take())
            .unwrap_or_default(),
    )
}

#[test]
fn capacity_overflow_is_one_message_at_the_caller() {
    use mapstore::{BoxedMap, InlineMap, PooledMap};
    let cases: [(&str, fn()); 9] = [
        ("inline with_capacity", || {
            drop(InlineMap::<u64, u64>::with_capacity(usize::MAX))
        }),
        ("boxed with_capacity", || {
            drop(BoxedMap::<u64, u64>::with_capacity(usize::MAX))
        }),
        ("pooled with_capacity", || {
            drop(PooledMap::<u64, u64>::with_capacity(usize::MAX))
        }),
        ("inline with_capacity_and_hasher", || {
            drop(InlineMap::<u64, u64>::with_capacity_and_hasher(
                usize::MAX,
                mapstore::DefaultHashBuilder::default(),
            ))
        }),
        ("pooled reserve", || {
            PooledMap::<u64, u64>::new().reserve(usize::MAX)
        }),
        ("boxed reserve", || {
            BoxedMap::<u64, u64>::new().reserve(usize::MAX)
        }),
        ("inline reserve", || {
            InlineMap::<u64, u64>::new().reserve(usize::MAX)
        }),
        // (`collect` itself is not `#[track_caller]`: through it, the panic
        // points into core, as it does for std's maps.)
        ("pooled from_iter", || {
            drop(PooledMap::<usize, usize>::from_iter(
                (0..usize::MAX).map(|i| (i, i)),
            ))
        }),
        ("inline extend", || {
            InlineMap::<usize, u8>::new().extend((0..usize::MAX).map(|i| (i, 0)))
        }),
    ];
    for (what, case) in cases {
        let (message, file) = panic_site(case);
        assert_eq!(message, "Hash table capacity overflow", "{what}");
        assert!(
            file.ends_with("api.rs"),
            "{what}: the panic points at {file}"
        );
    }
}

/// std's map idiom of taking the next key and removing it, in code generic
/// over `V: MapValue`: the temporary iterator's borrow ends where it is
/// last used, as std's does (the storages' iterators are associated types,
/// which the borrow checker must assume have destructors unless the map's
/// iterators keep them in a `ManuallyDrop`).
fn remove_one_by_one<V: MapValue>(map: &mut mapstore::MapStore<String, V>) -> usize {
    let mut removed = 0;
    while let Some(k) = map.keys().next().cloned() {
        map.remove(&k);
        removed += 1;
    }
    while let Some((k, _)) = map.iter().next().map(|(k, v)| (k.clone(), v)) {
        map.remove(&k);
    }
    if map.values().next().is_some() {
        map.clear();
    }
    if map.iter_mut().next().is_some() {
        map.clear();
    }
    if map.unordered_values().next().is_some() {
        map.clear();
    }
    removed
}

#[test]
fn a_temporary_iterator_ends_its_borrow_in_generic_code() {
    let mut small: mapstore::MapStore<String, u32> = (0..20).map(|i| (i.to_string(), i)).collect();
    assert_eq!(remove_one_by_one(&mut small), 20);
    let mut pooled: mapstore::MapStore<String, [u64; 16]> =
        (0..20).map(|i| (i.to_string(), [i; 16])).collect();
    assert_eq!(remove_one_by_one(&mut pooled), 20);
    let mut boxed: mapstore::MapStore<String, BoxedBig> =
        (0..3).map(|i| (i.to_string(), BoxedBig::new(i))).collect();
    assert_eq!(boxed.storage(), StorageKind::Boxed);
    assert_eq!(remove_one_by_one(&mut boxed), 3);
    assert!(small.is_empty() && pooled.is_empty() && boxed.is_empty());
}

/// Maps nest in generic code over `V: MapValue`, as std's do: the storage
/// of `MapStore<K, V>` held as a value comes from its own storage type,
/// which is a projection there (`Map<K, V, V::Storage>`). It failed to
/// compile (E0277: no `MapValue` for the map) while only the three concrete
/// maps had impls.
#[test]
fn maps_nest_in_generic_code() {
    use mapstore::{BoxedMap, InlineMap, MapStore, MapValue, PooledMap, StorageKind};
    use std::hash::Hash;

    fn nest<K: Hash + Eq + Clone, V: MapValue>(
        pairs: Vec<(K, K, V)>,
    ) -> MapStore<K, MapStore<K, V>> {
        let mut outer: MapStore<K, MapStore<K, V>> = MapStore::new();
        for (a, b, v) in pairs {
            outer.entry(a).or_default().insert(b, v);
        }
        outer
    }
    fn maybe<K: Hash + Eq, V: MapValue>(
        inner: MapStore<K, V>,
    ) -> MapStore<u8, Option<MapStore<K, V>>> {
        [(1, Some(inner)), (2, None)].into()
    }

    let nested = nest(vec![
        (1u8, 2u8, [7u8; 256]),
        (1, 3, [8; 256]),
        (4, 5, [9; 256]),
    ]);
    assert_eq!(nested.len(), 2);
    assert_eq!(nested[&1].len(), 2);
    assert_eq!(nested[&1][&3][0], 8);
    assert_eq!(nested[&1].storage(), StorageKind::Pooled);
    let wrapped = maybe(nested[&4].clone());
    assert_eq!(wrapped[&1].as_ref().map(|m| m[&5][0]), Some(9));

    // The storage each map takes as a value: the policy's, for its size
    // with the default hasher (a pooled map's books make it larger).
    assert_eq!(
        <InlineMap<u8, u8> as MapValue>::PLAN.storage,
        StorageKind::Inline
    );
    assert_eq!(
        <BoxedMap<u8, u8> as MapValue>::PLAN.storage,
        StorageKind::Inline
    );
    assert_eq!(
        <PooledMap<u8, u8> as MapValue>::PLAN.storage,
        StorageKind::Pooled
    );
    // A hasher that makes the map larger than the inline limit: the map is
    // still stored as with the default hasher, and its plan says why.
    #[derive(Clone, Default)]
    struct Wide([u64; 32]);
    impl std::hash::BuildHasher for Wide {
        type Hasher = std::hash::DefaultHasher;
        fn build_hasher(&self) -> Self::Hasher {
            let mut hasher = std::hash::DefaultHasher::new();
            std::hash::Hasher::write_u64(&mut hasher, self.0[0]);
            hasher
        }
    }
    let plan = <InlineMap<u8, u8, Wide> as MapValue>::PLAN;
    assert_eq!(plan.storage, StorageKind::Inline);
    assert!(plan.forced);
    assert!(plan.reason.contains("default hasher"), "{plan}");
    let mut wide: MapStore<u8, InlineMap<u8, u8, Wide>> = MapStore::new();
    wide.entry(1).or_default().insert(2, 3);
    assert_eq!(wide[&1][&2], 3);
}
