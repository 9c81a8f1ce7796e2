//! Differential test: random sequences of every reading and mutating
//! operation, applied to each storage and to `MapStore`, compared after every
//! step with a std `HashMap` model (length, full contents, every lookup, and
//! the value each operation returns).
//!
//! Cases per subject: `MAPSTORE_PROPTEST_CASES` (default 500; the default
//! run is 12 subjects, so 6000 cases). For a long run:
//!
//! ```text
//! MAPSTORE_PROPTEST_CASES=50000 cargo test --release --test differential -- --nocapture
//! ```

mod common;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use mapstore::map::Map;
use mapstore::storage::{Boxed, Inline, Pooled, Storage};
use mapstore::{DefaultHashBuilder, MapStore};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRunner};

use common::{live_vals, Collide, Large, Small, TVal};

// ---------------------------------------------------------------------------
// Values

/// A value the harness can build from an id and recognise again.
trait DVal: Sized + Default + Clone + PartialEq + Debug {
    /// Whether the value is drop-tracked (then the live count must equal the
    /// map's length after every step).
    const TRACKED: bool;
    fn new(id: u64) -> Self;
    fn id(&self) -> u64;
    /// Panics if the value's bytes do not match its id.
    fn check(&self) {}
}

impl DVal for u64 {
    const TRACKED: bool = false;
    fn new(id: u64) -> Self {
        id
    }
    fn id(&self) -> u64 {
        *self
    }
}

/// 264 bytes, not tracked: three values per first pool chunk, so a few
/// dozen entries span several chunks.
#[derive(Clone, Debug, PartialEq)]
struct Big {
    id: u64,
    pad: [u64; 32],
}

impl Default for Big {
    fn default() -> Self {
        Big::new(0)
    }
}

impl DVal for Big {
    const TRACKED: bool = false;
    fn new(id: u64) -> Self {
        Big {
            id,
            pad: common::pad_of::<32>(id),
        }
    }
    fn id(&self) -> u64 {
        self.id
    }
    fn check(&self) {
        assert_eq!(self.pad, common::pad_of::<32>(self.id), "torn value");
    }
}

impl<const N: usize> DVal for TVal<N> {
    const TRACKED: bool = true;
    fn new(id: u64) -> Self {
        TVal::new(id)
    }
    fn id(&self) -> u64 {
        self.id
    }
    fn check(&self) {
        TVal::check(self);
    }
}

// ---------------------------------------------------------------------------
// Subjects: the three maps behind one interface. `MapStore<u32, V>` is the
// map `V::Storage` names, so it is a subject through the same impl.

type M<T> = Map<u32, <T as Subject>::V, <T as Subject>::St, <T as Subject>::S>;

trait Subject:
    Clone + IntoIterator<Item = (u32, Self::V), IntoIter: ExactSizeIterator> + Extend<(u32, Self::V)>
{
    type V: DVal;
    type St: Storage;
    type S: BuildHasher + Clone;
    fn with_hasher(s: Self::S) -> Self;
    fn map(&self) -> &M<Self>;
    fn map_mut(&mut self) -> &mut M<Self>;
}

impl<V: DVal, St: Storage, S: BuildHasher + Clone> Subject for Map<u32, V, St, S> {
    type V = V;
    type St = St;
    type S = S;
    fn with_hasher(s: S) -> Self {
        Map::with_hasher(s)
    }
    fn map(&self) -> &M<Self> {
        self
    }
    fn map_mut(&mut self) -> &mut M<Self> {
        self
    }
}

// ---------------------------------------------------------------------------
// Operations

#[derive(Clone, Debug)]
enum EntryOp {
    OrInsert,
    OrInsertWith,
    OrInsertWithKey,
    OrDefault,
    AndModifyOrInsert,
    InsertEntry,
    MatchInsert,
    MatchRemove,
    MatchRemoveEntry,
}

#[derive(Clone, Debug)]
enum Op {
    Insert(u32, u64),
    Remove(u32),
    RemoveEntry(u32),
    Get(u32),
    GetMut(u32, u64),
    ContainsKey(u32),
    GetKeyValue(u32),
    Entry(EntryOp, u32, u64),
    Retain(u32, u32),
    /// modulus, remainder, how many to take (`None`: all)
    ExtractIf(u32, u32, Option<usize>),
    Drain(Option<usize>),
    Clear,
    Reserve(usize),
    ShrinkToFit,
    ShrinkTo(usize),
    /// insert into the original after cloning; keep the clone?
    Clone(u32, bool),
    /// `clone_from` into a map of other entries: inserted from this key
    /// (this many), or a clone of the subject first (same buckets)?
    CloneFrom(u32, u32, bool),
    IterMut(u64),
    ValuesMut(u64),
    GetDisjointMut(u32, u32, u32),
    IntoIter(usize),
    IntoKeys,
    /// how many to take before dropping the rest
    IntoValues(usize),
    Extend(Vec<(u32, u64)>),
    InsertRange(u32, u32),
}

fn entry_op() -> impl Strategy<Value = EntryOp> {
    prop_oneof![
        Just(EntryOp::OrInsert),
        Just(EntryOp::OrInsertWith),
        Just(EntryOp::OrInsertWithKey),
        Just(EntryOp::OrDefault),
        Just(EntryOp::AndModifyOrInsert),
        Just(EntryOp::InsertEntry),
        Just(EntryOp::MatchInsert),
        Just(EntryOp::MatchRemove),
        Just(EntryOp::MatchRemoveEntry),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let k = any::<u32>;
    let v = 0u64..1_000_000;
    prop_oneof![
        12 => (k(), v.clone()).prop_map(|(k, v)| Op::Insert(k, v)),
        5 => k().prop_map(Op::Remove),
        3 => k().prop_map(Op::RemoveEntry),
        3 => k().prop_map(Op::Get),
        3 => (k(), v.clone()).prop_map(|(k, v)| Op::GetMut(k, v)),
        2 => k().prop_map(Op::ContainsKey),
        2 => k().prop_map(Op::GetKeyValue),
        12 => (entry_op(), k(), v.clone()).prop_map(|(e, k, v)| Op::Entry(e, k, v)),
        2 => (1u32..5, 0u32..5).prop_map(|(m, r)| Op::Retain(m, r)),
        2 => (1u32..5, 0u32..5, proptest::option::of(0usize..20))
            .prop_map(|(m, r, n)| Op::ExtractIf(m, r, n)),
        1 => proptest::option::of(0usize..20).prop_map(Op::Drain),
        1 => Just(Op::Clear),
        1 => (0usize..300).prop_map(Op::Reserve),
        1 => Just(Op::ShrinkToFit),
        1 => (0usize..100).prop_map(Op::ShrinkTo),
        1 => (k(), any::<bool>()).prop_map(|(k, keep)| Op::Clone(k, keep)),
        1 => (k(), 0u32..64, any::<bool>()).prop_map(|(k, n, same)| Op::CloneFrom(k, n, same)),
        1 => v.clone().prop_map(Op::IterMut),
        1 => v.clone().prop_map(Op::ValuesMut),
        2 => (k(), k(), k()).prop_map(|(a, b, c)| Op::GetDisjointMut(a, b, c)),
        1 => (0usize..40).prop_map(Op::IntoIter),
        1 => Just(Op::IntoKeys),
        1 => (0usize..40).prop_map(Op::IntoValues),
        2 => proptest::collection::vec((k(), v.clone()), 0..24).prop_map(Op::Extend),
        1 => (k(), 0u32..64).prop_map(|(s, n)| Op::InsertRange(s, n)),
    ]
}

/// Key spaces: tiny (almost every op hits), medium, and wide (many pool
/// chunks, several table resizes).
fn case() -> impl Strategy<Value = (u32, Vec<Op>)> {
    (
        prop_oneof![Just(6u32), Just(40), Just(400)],
        proptest::collection::vec(op(), 1..100),
    )
}

// ---------------------------------------------------------------------------
// The harness

static CASES: AtomicU64 = AtomicU64::new(0);
static OPS: AtomicU64 = AtomicU64::new(0);

fn id_of<V: DVal>(v: &V) -> u64 {
    v.check();
    v.id()
}

/// Compares the map with the model: length, contents, lookups, capacity,
/// and (for tracked values) that exactly `len` values are alive.
fn check<T: Subject>(subject: &T, model: &HashMap<u32, u64>, key_space: u32) {
    check_with(subject, model, key_space, 0);
}

/// [`check`], with `others` tracked values alive outside this map.
fn check_with<T: Subject>(subject: &T, model: &HashMap<u32, u64>, key_space: u32, others: usize) {
    let map = subject.map();
    assert_eq!(map.len(), model.len(), "len");
    assert_eq!(map.is_empty(), model.is_empty(), "is_empty");
    assert!(map.capacity() >= map.len(), "capacity below len");

    let mut seen = HashSet::with_capacity(model.len());
    for (k, v) in map.iter() {
        assert!(seen.insert(*k), "key {k} yielded twice");
        assert_eq!(Some(&id_of(v)), model.get(k), "value of key {k}");
    }
    assert_eq!(seen.len(), model.len(), "iter yielded a wrong number");
    assert_eq!(map.iter().len(), model.len());
    assert_eq!(map.keys().len(), model.len());
    assert!(map.keys().all(|k| model.contains_key(k)), "keys()");
    // keys() and values() walk in iter()'s order: zipped, they pair each
    // key with its own value.
    assert!(
        map.keys().zip(map.values()).eq(map.iter()),
        "keys().zip(values()) != iter()"
    );
    assert!(
        map.keys()
            .zip(map.values())
            .all(|(k, v)| model.get(k) == Some(&id_of(v))),
        "keys().zip(values()) pairs a key with another key's value"
    );
    let sum = |ids: &mut dyn Iterator<Item = u64>| ids.fold(0u64, u64::wrapping_add);
    assert_eq!(
        sum(&mut map.values().map(id_of)),
        sum(&mut model.values().copied()),
        "values()"
    );
    assert_eq!(
        sum(&mut map.unordered_values().map(id_of)),
        sum(&mut model.values().copied()),
        "unordered_values()"
    );
    assert_eq!(map.values().len(), model.len());
    assert_eq!(map.unordered_values().len(), model.len());

    // Lookups by key, through every path, for up to 16 keys (the check is
    // quadratic with a colliding hasher); and membership of some absent ones.
    for (&k, &id) in model.iter().take(16) {
        assert_eq!(map.get(&k).map(id_of), Some(id), "get({k})");
        let (stored, v) = map.get_key_value(&k).expect("get_key_value");
        assert_eq!((*stored, id_of(v)), (k, id));
        assert_eq!(id_of(&map[&k]), id, "index");
    }
    for k in (0..key_space.min(12)).chain([key_space, u32::MAX]) {
        assert_eq!(
            map.contains_key(&k),
            model.contains_key(&k),
            "contains_key({k})"
        );
    }

    if T::V::TRACKED {
        assert_eq!(live_vals(), map.len() + others, "live values != len");
        assert_eq!(common::double_drops(), 0, "double drop");
    }
}

fn apply<T: Subject>(subject: &mut T, model: &mut HashMap<u32, u64>, op: &Op, ks: u32) {
    let key = |k: u32| k % ks;
    let hasher = subject.map().hasher().clone();
    let map = subject.map_mut();
    match *op {
        Op::Insert(k, v) => {
            let k = key(k);
            let old = map.insert(k, T::V::new(v));
            assert_eq!(old.as_ref().map(id_of), model.insert(k, v), "insert({k})");
        }
        Op::Remove(k) => {
            let k = key(k);
            assert_eq!(map.remove(&k).as_ref().map(id_of), model.remove(&k));
        }
        Op::RemoveEntry(k) => {
            let k = key(k);
            let got = map.remove_entry(&k).map(|(k, v)| (k, id_of(&v)));
            assert_eq!(got, model.remove_entry(&k));
        }
        Op::Get(k) => {
            let k = key(k);
            assert_eq!(map.get(&k).map(id_of), model.get(&k).copied());
        }
        Op::GetMut(k, v) => {
            let k = key(k);
            match (map.get_mut(&k), model.get_mut(&k)) {
                (Some(value), Some(id)) => {
                    assert_eq!(id_of(value), *id);
                    *value = T::V::new(v);
                    *id = v;
                }
                (None, None) => {}
                (got, want) => panic!("get_mut({k}): {:?} vs {want:?}", got.map(|v| v.id())),
            }
        }
        Op::ContainsKey(k) => {
            let k = key(k);
            assert_eq!(map.contains_key(&k), model.contains_key(&k));
        }
        Op::GetKeyValue(k) => {
            let k = key(k);
            let got = map.get_key_value(&k).map(|(k, v)| (*k, id_of(v)));
            assert_eq!(got, model.get_key_value(&k).map(|(k, v)| (*k, *v)));
        }
        Op::Entry(ref e, k, v) => apply_entry::<T>(map, model, e, key(k), v),
        Op::Retain(m, r) => {
            let mut visited = Vec::new();
            map.retain(|&k, value| {
                visited.push(k);
                let keep = k % m != r;
                if keep {
                    *value = T::V::new(value.id() + 1);
                }
                keep
            });
            let mut want: Vec<u32> = model.keys().copied().collect();
            want.sort_unstable();
            visited.sort_unstable();
            assert_eq!(visited, want, "retain visits every entry once");
            model.retain(|&k, id| {
                *id += 1;
                k % m != r
            });
        }
        Op::ExtractIf(m, r, limit) => {
            let visited = RefCell::new(Vec::new());
            let mut it = map.extract_if(|&k, value| {
                visited.borrow_mut().push(k);
                *value = T::V::new(value.id() + 2);
                k % m == r
            });
            let mut out = Vec::new();
            for (k, v) in it.by_ref() {
                out.push((k, id_of(&v)));
                if Some(out.len()) == limit {
                    break;
                }
            }
            drop(it);
            let visited = visited.into_inner();
            let unique: HashSet<u32> = visited.iter().copied().collect();
            assert_eq!(
                unique.len(),
                visited.len(),
                "extract_if visits an entry twice"
            );
            for &k in &visited {
                *model.get_mut(&k).expect("extract_if visited an absent key") += 2;
            }
            for &(k, id) in &out {
                assert_eq!(k % m, r, "extract_if yielded a non-matching key");
                assert_eq!(model.remove(&k), Some(id), "extract_if yielded {k}");
            }
            if limit.is_none() {
                assert!(
                    model.keys().all(|k| k % m != r),
                    "extract_if missed a match"
                );
                assert_eq!(unique.len(), visited.len());
            }
        }
        Op::Drain(limit) => {
            let mut it = map.drain();
            assert_eq!(it.len(), model.len());
            for (k, v) in it.by_ref().take(limit.unwrap_or(usize::MAX)) {
                assert_eq!(model.remove(&k), Some(id_of(&v)), "drain yielded {k}");
            }
            if limit.is_none() {
                assert!(model.is_empty(), "drain missed entries");
            }
            drop(it);
            model.clear();
        }
        Op::Clear => {
            map.clear();
            model.clear();
        }
        Op::Reserve(n) => {
            map.reserve(n);
            assert!(map.capacity() >= model.len() + n, "reserve({n})");
        }
        Op::ShrinkToFit => {
            map.shrink_to_fit();
        }
        Op::ShrinkTo(n) => {
            let before = map.capacity();
            map.shrink_to(n);
            assert!(
                map.capacity() >= model.len().max(n).min(before),
                "shrink_to({n})"
            );
        }
        Op::Clone(k, keep_clone) => {
            let copy = subject.clone();
            check_with(&copy, model, ks, model.len());
            assert!(copy.map() == subject.map(), "clone == original");
            // The copy must not share anything with the original.
            let k = key(k);
            let mut original_model = model.clone();
            subject.map_mut().insert(k, T::V::new(777_777));
            original_model.insert(k, 777_777);
            if let Some(other) = model.keys().copied().find(|&o| o != k) {
                subject.map_mut().remove(&other);
                original_model.remove(&other);
            }
            check_with(subject, &original_model, ks, copy.map().len());
            check_with(&copy, model, ks, subject.map().len());
            if keep_clone {
                *subject = copy;
            } else {
                drop(copy);
                *model = original_model;
            }
        }
        Op::CloneFrom(start, n, same) => {
            // A target that holds other entries (and, from a clone, as many
            // buckets as the subject: the in-place path of an inline or
            // boxed map), made a copy of the subject.
            let mut target = if same {
                subject.clone()
            } else {
                T::with_hasher(subject.map().hasher().clone())
            };
            for i in 0..n {
                target.map_mut().insert(
                    key(start.wrapping_add(i)),
                    T::V::new(u64::from(i) + 9_000_000),
                );
            }
            target.map_mut().clone_from(subject.map());
            check_with(&target, model, ks, model.len());
            assert!(target.map() == subject.map(), "clone_from == original");
            // The target shares nothing with the subject.
            target.map_mut().insert(key(start), T::V::new(555_555));
            check_with(subject, model, ks, target.map().len());
        }
        Op::IterMut(add) => {
            for (k, v) in map.iter_mut() {
                *v = T::V::new(v.id() + add + u64::from(*k));
            }
            for (k, id) in model.iter_mut() {
                *id += add + u64::from(*k);
            }
        }
        Op::ValuesMut(add) => {
            let mut n = 0;
            for v in map.values_mut() {
                *v = T::V::new(v.id() ^ add);
                n += 1;
            }
            assert_eq!(n, model.len());
            for id in model.values_mut() {
                *id ^= add;
            }
        }
        Op::GetDisjointMut(a, b, c) => {
            let (a, b, c) = (key(a), key(b), key(c));
            if a != b && b != c && a != c {
                let got = map.get_disjoint_mut([&a, &b, &c]);
                for (k, slot) in [a, b, c].into_iter().zip(got) {
                    match (slot, model.get_mut(&k)) {
                        (Some(v), Some(id)) => {
                            assert_eq!(id_of(v), *id, "get_disjoint_mut({k})");
                            *v = T::V::new(*id + 5);
                            *id += 5;
                        }
                        (None, None) => {}
                        (got, _) => panic!("get_disjoint_mut({k}): {:?}", got.is_some()),
                    }
                }
            }
        }
        Op::IntoIter(n) => {
            let whole = std::mem::replace(subject, T::with_hasher(hasher));
            let mut it = whole.into_iter();
            assert_eq!(it.len(), model.len());
            let taken: Vec<(u32, T::V)> = it.by_ref().take(n).collect();
            assert_eq!(it.len(), model.len() - taken.len());
            drop(it);
            let mut kept = HashMap::new();
            for (k, v) in &taken {
                assert_eq!(model.get(k), Some(&id_of(v)), "into_iter yielded {k}");
                kept.insert(*k, v.id());
            }
            subject.extend(taken);
            *model = kept;
        }
        Op::IntoKeys => {
            let whole = std::mem::replace(subject, T::with_hasher(hasher));
            let keys: Vec<u32> = whole.map().clone().into_keys().collect();
            // A clone keeps the table's layout, so its order is iter()'s.
            assert!(keys.iter().eq(whole.map().keys()), "into_keys() order");
            assert_eq!(
                keys.into_iter().collect::<HashSet<u32>>(),
                model.keys().copied().collect()
            );
            *subject = whole;
        }
        Op::IntoValues(n) => {
            let whole = std::mem::replace(subject, T::with_hasher(hasher));
            let mut values = whole.map().clone().into_values();
            assert_eq!(values.len(), model.len());
            let ids: Vec<u64> = values.by_ref().take(n).map(|v| id_of(&v)).collect();
            assert_eq!(values.len(), model.len().saturating_sub(n));
            // A clone keeps the table's layout: into_values() yields the
            // values in iter()'s order, as into_keys() yields the keys.
            assert!(
                ids.iter()
                    .copied()
                    .eq(whole.map().values().take(n).map(id_of)),
                "into_values() order"
            );
            // Each value yielded is one of the map's, at most once; all of
            // them when `n` covers the map.
            let mut want: Vec<u64> = model.values().copied().collect();
            for id in &ids {
                let at = want
                    .iter()
                    .position(|w| w == id)
                    .expect("a value of the map");
                want.swap_remove(at);
            }
            if n >= model.len() {
                assert!(want.is_empty(), "values not yielded: {want:?}");
            }
            // The rest is dropped with the iterator.
            drop(values);
            *subject = whole;
        }
        Op::Extend(ref pairs) => {
            subject.extend(pairs.iter().map(|&(k, v)| (key(k), T::V::new(v))));
            model.extend(pairs.iter().map(|&(k, v)| (key(k), v)));
        }
        Op::InsertRange(start, n) => {
            for i in 0..n {
                let k = key(start.wrapping_add(i));
                let old = map.insert(k, T::V::new(u64::from(i)));
                assert_eq!(old.as_ref().map(id_of), model.insert(k, u64::from(i)));
            }
        }
    }
}

fn apply_entry<T: Subject>(
    map: &mut M<T>,
    model: &mut HashMap<u32, u64>,
    e: &EntryOp,
    k: u32,
    v: u64,
) {
    use mapstore::map::Entry;
    let present = model.get(&k).copied();
    assert_eq!(*map.entry(k).key(), k);
    match e {
        EntryOp::OrInsert => {
            let r = map.entry(k).or_insert(T::V::new(v));
            assert_eq!(id_of(r), present.unwrap_or(v));
            // The returned reference writes into the map.
            *r = T::V::new(v + 3);
            model.insert(k, v + 3);
        }
        EntryOp::OrInsertWith => {
            let mut called = false;
            let r = map.entry(k).or_insert_with(|| {
                called = true;
                T::V::new(v)
            });
            assert_eq!(id_of(r), present.unwrap_or(v));
            assert_eq!(
                called,
                present.is_none(),
                "or_insert_with called iff vacant"
            );
            model.entry(k).or_insert(v);
        }
        EntryOp::OrInsertWithKey => {
            let r = map
                .entry(k)
                .or_insert_with_key(|&key| T::V::new(u64::from(key) * 3));
            assert_eq!(id_of(r), present.unwrap_or(u64::from(k) * 3));
            model.entry(k).or_insert(u64::from(k) * 3);
        }
        EntryOp::OrDefault => {
            let r = map.entry(k).or_default();
            assert_eq!(id_of(r), present.unwrap_or(0));
            model.entry(k).or_insert(0);
        }
        EntryOp::AndModifyOrInsert => {
            let r = map
                .entry(k)
                .and_modify(|x| *x = T::V::new(x.id() + 1))
                .or_insert(T::V::new(v));
            let want = present.map_or(v, |id| id + 1);
            assert_eq!(id_of(r), want);
            model.insert(k, want);
        }
        EntryOp::InsertEntry => {
            let entry = map.entry(k).insert_entry(T::V::new(v));
            assert_eq!(*entry.key(), k);
            assert_eq!(id_of(entry.get()), v);
            model.insert(k, v);
        }
        EntryOp::MatchInsert => match map.entry(k) {
            Entry::Occupied(mut o) => {
                assert_eq!(Some(id_of(o.get())), present);
                assert_eq!(id_of(o.get_mut()), present.unwrap());
                let old = o.insert(T::V::new(v));
                assert_eq!(Some(id_of(&old)), present);
                assert_eq!(id_of(o.into_mut()), v);
                model.insert(k, v);
            }
            Entry::Vacant(vac) => {
                assert_eq!(present, None);
                assert_eq!(*vac.key(), k);
                let r = vac.insert(T::V::new(v));
                assert_eq!(id_of(r), v);
                model.insert(k, v);
            }
        },
        EntryOp::MatchRemove => match map.entry(k) {
            Entry::Occupied(o) => {
                assert_eq!(Some(id_of(&o.remove())), present);
                model.remove(&k);
            }
            Entry::Vacant(vac) => {
                assert_eq!(present, None);
                assert_eq!(vac.into_key(), k);
            }
        },
        EntryOp::MatchRemoveEntry => match map.entry(k) {
            Entry::Occupied(o) => {
                let (key, value) = o.remove_entry();
                assert_eq!((key, Some(id_of(&value))), (k, present));
                model.remove(&k);
            }
            Entry::Vacant(vac) => {
                assert_eq!(present, None);
                // A vacant entry dropped without inserting leaves no trace
                // (checked by the comparison after this step).
                assert_eq!(*vac.key(), k);
            }
        },
    }
}

fn cases() -> u32 {
    std::env::var("MAPSTORE_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500)
}

fn run<T: Subject>(make: fn() -> T) {
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        // ChaCha is most of the run time in an unoptimized test build.
        rng_algorithm: RngAlgorithm::XorShift,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |(ks, ops)| {
        common::reset();
        let mut model = HashMap::new();
        {
            let mut subject = make();
            for op in &ops {
                apply(&mut subject, &mut model, op, ks);
                check(&subject, &model, ks);
            }
        }
        if T::V::TRACKED {
            common::assert_clean();
        }
        CASES.fetch_add(1, Ordering::Relaxed);
        OPS.fetch_add(ops.len() as u64, Ordering::Relaxed);
        Ok(())
    });
    if let Err(err) = result {
        panic!("{}: {err}", std::any::type_name::<T>());
    }
    eprintln!(
        "differential totals so far: {} cases, {} operations compared, 0 mismatches",
        CASES.load(Ordering::Relaxed),
        OPS.load(Ordering::Relaxed)
    );
}

#[test]
fn inline_u64() {
    run(InlineMap::<u64>::new);
}

#[test]
fn inline_big_colliding() {
    run(|| Map::<u32, Big, Inline, Collide<3>>::with_hasher(Collide));
}

#[test]
fn boxed_u64_colliding() {
    run(|| Map::<u32, u64, Boxed, Collide<5>>::with_hasher(Collide));
}

#[test]
fn boxed_big() {
    run(Map::<u32, Big, Boxed, DefaultHashBuilder>::new);
}

#[test]
fn pooled_u64_colliding() {
    run(|| Map::<u32, u64, Pooled, Collide<3>>::with_hasher(Collide));
}

#[test]
fn pooled_big() {
    run(Map::<u32, Big, Pooled, DefaultHashBuilder>::new);
}

#[test]
fn pooled_big_colliding() {
    run(|| Map::<u32, Big, Pooled, Collide<2>>::with_hasher(Collide));
}

#[test]
fn pooled_tracked_colliding() {
    run(|| Map::<u32, Large, Pooled, Collide<7>>::with_hasher(Collide));
}

#[test]
fn store_inline_u64_colliding() {
    run(|| MapStore::<u32, u64, Collide<4>>::with_hasher(Collide));
}

#[test]
fn store_inline_tracked() {
    run(MapStore::<u32, Small>::new);
}

#[test]
fn store_pooled_tracked() {
    run(MapStore::<u32, Large>::new);
}

#[test]
fn store_boxed_tracked_colliding() {
    run(|| MapStore::<u32, TVal<64>, Collide<3>>::with_hasher(Collide));
}

type InlineMap<V> = mapstore::InlineMap<u32, V>;

#[test]
fn storages_are_the_ones_under_test() {
    use mapstore::StorageKind;
    assert_eq!(MapStore::<u32, u64>::new().storage(), StorageKind::Inline);
    assert_eq!(MapStore::<u32, Small>::new().storage(), StorageKind::Inline);
    assert_eq!(MapStore::<u32, Large>::new().storage(), StorageKind::Pooled);
    assert_eq!(
        MapStore::<u32, TVal<64>>::new().storage(),
        StorageKind::Boxed
    );
}
