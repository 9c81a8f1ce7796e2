//! Drives every storage with operations decoded from the fuzzer's bytes and
//! compares each one, after every step, with std's `HashMap`.
#![no_main]

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mapstore::map::{Entry, Map};
use mapstore::storage::{Boxed, Inline, Pooled, Storage};
use mapstore::DefaultHashBuilder;

#[derive(Arbitrary, Debug, Clone)]
enum Op {
    Insert(u8, u16),
    Remove(u8),
    RemoveEntry(u8),
    Get(u8),
    GetMut(u8, u16),
    OrInsert(u8, u16),
    AndModify(u8, u16),
    EntryRemove(u8),
    InsertEntry(u8, u16),
    Retain(u8),
    ExtractIf(u8, Option<u8>),
    Drain(Option<u8>),
    Clear,
    Reserve(u8),
    ShrinkToFit,
    ShrinkTo(u8),
    Clone(bool),
    IterMut(u16),
    GetDisjointMut(u8, u8),
    IntoIter(u8),
    InsertRange(u8, u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    colliding: bool,
    ops: Vec<Op>,
}

/// 136 bytes, several per pool chunk; the padding is derived from the id.
#[derive(Clone, Debug, PartialEq)]
struct Val {
    id: u64,
    pad: [u64; 16],
}

impl Val {
    fn new(id: u64) -> Val {
        Val {
            id,
            pad: [id.wrapping_mul(0x9e37_79b9); 16],
        }
    }
    fn id(&self) -> u64 {
        assert_eq!(
            self.pad,
            [self.id.wrapping_mul(0x9e37_79b9); 16],
            "torn value"
        );
        self.id
    }
}

/// Two distinct hashes: long probe sequences and tombstones.
#[derive(Clone, Default)]
struct Collide;

struct CollideHasher(u64);

impl Hasher for CollideHasher {
    fn finish(&self) -> u64 {
        self.0 & 1
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.wrapping_add(u64::from(b));
        }
    }
}

impl BuildHasher for Collide {
    type Hasher = CollideHasher;
    fn build_hasher(&self) -> CollideHasher {
        CollideHasher(0)
    }
}

fn check<St: Storage, S: BuildHasher>(map: &Map<u8, Val, St, S>, model: &HashMap<u8, u64>) {
    assert_eq!(map.len(), model.len());
    let mut n = 0;
    for (k, v) in map.iter() {
        assert_eq!(model.get(k), Some(&v.id()), "key {k}");
        n += 1;
    }
    assert_eq!(n, model.len());
    for (k, id) in model {
        assert_eq!(map.get(k).map(Val::id), Some(*id));
    }
}

fn run<St: Storage, S: BuildHasher + Clone>(hasher: S, ops: &[Op]) {
    let mut map: Map<u8, Val, St, S> = Map::with_hasher(hasher.clone());
    let mut model: HashMap<u8, u64> = HashMap::new();
    for op in ops {
        match *op {
            Op::Insert(k, v) => {
                let v = u64::from(v);
                assert_eq!(
                    map.insert(k, Val::new(v)).map(|x| x.id()),
                    model.insert(k, v)
                );
            }
            Op::Remove(k) => assert_eq!(map.remove(&k).map(|x| x.id()), model.remove(&k)),
            Op::RemoveEntry(k) => assert_eq!(
                map.remove_entry(&k).map(|(k, x)| (k, x.id())),
                model.remove_entry(&k)
            ),
            Op::Get(k) => assert_eq!(map.get(&k).map(Val::id), model.get(&k).copied()),
            Op::GetMut(k, v) => {
                if let Some(x) = map.get_mut(&k) {
                    *x = Val::new(u64::from(v));
                }
                if let Some(x) = model.get_mut(&k) {
                    *x = u64::from(v);
                }
            }
            Op::OrInsert(k, v) => {
                let got = map.entry(k).or_insert(Val::new(u64::from(v))).id();
                assert_eq!(got, *model.entry(k).or_insert(u64::from(v)));
            }
            Op::AndModify(k, v) => {
                let got = map
                    .entry(k)
                    .and_modify(|x| *x = Val::new(x.id() + 1))
                    .or_insert_with(|| Val::new(u64::from(v)))
                    .id();
                let want = *model
                    .entry(k)
                    .and_modify(|x| *x += 1)
                    .or_insert(u64::from(v));
                assert_eq!(got, want);
            }
            Op::EntryRemove(k) => match map.entry(k) {
                Entry::Occupied(o) => assert_eq!(Some(o.remove().id()), model.remove(&k)),
                Entry::Vacant(_) => assert!(!model.contains_key(&k)),
            },
            Op::InsertEntry(k, v) => {
                let v = u64::from(v);
                assert_eq!(map.entry(k).insert_entry(Val::new(v)).get().id(), v);
                model.insert(k, v);
            }
            Op::Retain(m) => {
                let m = m % 7 + 1;
                map.retain(|k, _| k % m != 0);
                model.retain(|k, _| k % m != 0);
            }
            Op::ExtractIf(m, limit) => {
                let m = m % 7 + 1;
                let it = map.extract_if(|k, _| k % m == 0);
                let taken: Vec<_> = it.take(limit.map_or(usize::MAX, usize::from)).collect();
                for (k, v) in taken {
                    assert_eq!(k % m, 0);
                    assert_eq!(model.remove(&k), Some(v.id()));
                }
            }
            Op::Drain(limit) => {
                let mut drain = map.drain();
                for (k, v) in drain.by_ref().take(limit.map_or(usize::MAX, usize::from)) {
                    assert_eq!(model.remove(&k), Some(v.id()));
                }
                drop(drain);
                model.clear();
            }
            Op::Clear => {
                map.clear();
                model.clear();
            }
            Op::Reserve(n) => {
                map.reserve(usize::from(n));
                assert!(map.capacity() >= map.len() + usize::from(n));
            }
            Op::ShrinkToFit => map.shrink_to_fit(),
            Op::ShrinkTo(n) => map.shrink_to(usize::from(n)),
            Op::Clone(keep) => {
                let copy = map.clone();
                check(&copy, &model);
                if keep {
                    map = copy;
                }
            }
            Op::IterMut(add) => {
                for (_, v) in map.iter_mut() {
                    *v = Val::new(v.id() + u64::from(add));
                }
                for v in model.values_mut() {
                    *v += u64::from(add);
                }
            }
            Op::GetDisjointMut(a, b) => {
                if a != b {
                    let [x, y] = map.get_disjoint_mut([&a, &b]);
                    assert_eq!(x.is_some(), model.contains_key(&a));
                    assert_eq!(y.is_some(), model.contains_key(&b));
                    if let (Some(x), Some(y)) = (x, y) {
                        std::mem::swap(x, y);
                        let (va, vb) = (model[&a], model[&b]);
                        model.insert(a, vb);
                        model.insert(b, va);
                    }
                }
            }
            Op::IntoIter(n) => {
                let whole = std::mem::replace(&mut map, Map::with_hasher(hasher.clone()));
                let taken: Vec<_> = whole.into_iter().take(usize::from(n)).collect();
                let mut kept = HashMap::new();
                for (k, v) in taken {
                    assert_eq!(model.get(&k), Some(&v.id()));
                    kept.insert(k, v.id());
                    map.insert(k, v);
                }
                model = kept;
            }
            Op::InsertRange(start, n) => {
                for i in 0..n {
                    let k = start.wrapping_add(i);
                    map.insert(k, Val::new(u64::from(i)));
                    model.insert(k, u64::from(i));
                }
            }
        }
        check(&map, &model);
    }
}

fuzz_target!(|input: Input| {
    if input.colliding {
        run::<Inline, _>(Collide, &input.ops);
        run::<Boxed, _>(Collide, &input.ops);
        run::<Pooled, _>(Collide, &input.ops);
    } else {
        let hasher = DefaultHashBuilder::default();
        run::<Inline, _>(hasher.clone(), &input.ops);
        run::<Boxed, _>(hasher.clone(), &input.ops);
        run::<Pooled, _>(hasher, &input.ops);
    }
});
