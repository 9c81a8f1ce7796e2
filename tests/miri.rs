//! A compact suite over the pool and every path that reaches its unsafe
//! code, small enough to run under Miri in a few minutes:
//!
//! ```text
//! cargo +nightly miri test --lib --test miri -p mapstore --no-default-features --features std
//! ```
//!
//! No proptest, no derive (it is built without default features). Also
//! part of the ordinary `cargo test` run.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use mapstore::map::{Entry, Map};
use mapstore::storage::Storage;
use mapstore::{InlineMap, PooledMap};

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static CLONES_BEFORE_PANIC: Cell<u32> = const { Cell::new(0) };
}

fn live() -> i64 {
    LIVE.with(|c| c.get())
}

const ALIVE: u32 = 0xA11E_0001;
const DEAD: u32 = 0xDEAD_0002;

/// About 300 bytes: two values in the pool's first chunk, 128 in the
/// largest, so a few hundred entries span eight chunks. Counts itself;
/// dropping it twice panics; its clone can be told to panic.
struct Val {
    id: u64,
    body: [u8; 288],
    magic: u32,
}

impl Val {
    fn new(id: u64) -> Val {
        LIVE.with(|c| c.set(c.get() + 1));
        Val {
            id,
            body: [id as u8; 288],
            magic: ALIVE,
        }
    }

    fn check(&self) -> u64 {
        assert_eq!(self.magic, ALIVE, "use of a dropped value");
        // A few bytes, not all: Miri is slow, and a torn or misplaced value
        // differs at both ends.
        let b = self.id as u8;
        assert_eq!(
            [self.body[0], self.body[150], self.body[287]],
            [b; 3],
            "torn value"
        );
        self.id
    }
}

/// Shows the id, after checking the value is whole (its 288 bytes would
/// make every `Debug` a long walk under Miri).
impl std::fmt::Debug for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Val({})", self.check())
    }
}

impl Clone for Val {
    fn clone(&self) -> Self {
        let left = CLONES_BEFORE_PANIC.with(|c| c.get());
        if left == 1 {
            CLONES_BEFORE_PANIC.with(|c| c.set(0));
            panic!("clone");
        }
        CLONES_BEFORE_PANIC.with(|c| c.set(left.saturating_sub(1)));
        Val::new(self.check())
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        assert_eq!(self.magic, ALIVE, "dropped twice");
        self.magic = DEAD;
        LIVE.with(|c| c.set(c.get() - 1));
    }
}

fn filled<St: Storage>(n: u64) -> Map<u64, Val, St> {
    let mut map = Map::new();
    for i in 0..n {
        assert!(map.insert(i, Val::new(i)).is_none());
    }
    map
}

#[track_caller]
fn consistent<St: Storage>(map: &Map<u64, Val, St>) {
    assert_eq!(live(), map.len() as i64, "live values != len");
    assert_eq!(map.iter().count(), map.len());
    for (&k, v) in map.iter() {
        assert_eq!(v.check(), k);
        assert_eq!(map.get(&k).map(Val::check), Some(k));
    }
}

fn insert_remove_reuse<St: Storage>() {
    let mut map = filled::<St>(200);
    consistent(&map);
    for i in (0..200).step_by(2) {
        assert_eq!(map.remove(&i).map(|v| v.check()), Some(i));
    }
    assert_eq!(live(), 100);
    // Freed slots are reused.
    for i in 1000..1100 {
        map.insert(i, Val::new(i));
    }
    // Overwrite, remove_entry, get_mut.
    let old = map.insert(1, Val::new(1)).unwrap();
    assert_eq!(old.check(), 1);
    drop(old);
    assert_eq!(
        map.remove_entry(&3).map(|(k, v)| (k, v.check())),
        Some((3, 3))
    );
    *map.get_mut(&5).unwrap() = Val::new(5);
    consistent(&map);
    drop(map);
    assert_eq!(live(), 0);
}

fn entries<St: Storage>() {
    let mut map = filled::<St>(40);
    let r = map.entry(100).or_insert_with(|| Val::new(100));
    r.body = [100; 288];
    map.entry(7)
        .and_modify(|v| *v = Val::new(7))
        .or_insert_with(|| Val::new(0));
    map.entry(101).or_insert_with_key(|&k| Val::new(k));
    match map.entry(8) {
        Entry::Occupied(mut o) => {
            assert_eq!(o.get().check(), 8);
            o.get_mut().body = [8; 288];
            drop(o.insert(Val::new(8)));
            let v = o.into_mut();
            assert_eq!(v.check(), 8);
        }
        Entry::Vacant(_) => unreachable!(),
    }
    match map.entry(9) {
        Entry::Occupied(o) => assert_eq!(o.remove().check(), 9),
        Entry::Vacant(_) => unreachable!(),
    }
    if let Entry::Vacant(v) = map.entry(9) {
        let e = v.insert_entry(Val::new(9));
        assert_eq!(e.remove_entry().0, 9);
    }
    let entry = map.entry(10).insert_entry(Val::new(10));
    assert_eq!(entry.get().check(), 10);
    consistent(&map);
}

fn mutable_access<St: Storage>() {
    let mut map = filled::<St>(64);
    // Every `&mut` from iter_mut alive at once: they must not alias.
    let mut all: Vec<&mut Val> = map.iter_mut().map(|(_, v)| v).collect();
    for v in &mut all {
        v.body[0] = v.id as u8;
    }
    assert_eq!(all.len(), 64);
    for v in map.values_mut() {
        v.body.fill(v.id as u8);
    }
    // Shared references held across further shared lookups.
    let refs: Vec<&Val> = (0..64).filter_map(|k| map.get(&k)).collect();
    assert!(refs.iter().all(|v| v.check() < 64));
    let [a, b, c] = map.get_disjoint_mut([&1, &2, &999]);
    let (a, b) = (a.unwrap(), b.unwrap());
    std::mem::swap(a, b);
    std::mem::swap(a, b);
    assert!(c.is_none());
    // SAFETY: 3, 4 and 999 are distinct `u64` keys: no two match one entry.
    let [a, b, c] = unsafe { map.get_disjoint_unchecked_mut([&3, &4, &999]) };
    let (a, b) = (a.unwrap(), b.unwrap());
    std::mem::swap(a, b);
    std::mem::swap(a, b);
    assert!(c.is_none());
    consistent(&map);
}

fn removal_iterators<St: Storage>() {
    let mut map = filled::<St>(120);
    map.retain(|&k, v| {
        v.body[1] = k as u8;
        k % 3 != 0
    });
    assert_eq!(map.len(), 80);
    consistent(&map);
    // extract_if, fully and partly consumed.
    let taken: Vec<_> = map.extract_if(|&k, _| k % 3 == 1).collect();
    assert_eq!(taken.len(), 40);
    drop(taken);
    map.extend((200..260).map(|i| (i, Val::new(i))));
    let some: Vec<_> = map.extract_if(|&k, _| k >= 200).take(10).collect();
    assert_eq!(some.len(), 10);
    drop(some);
    consistent(&map);
    // drain, half consumed, then dropped.
    let len = map.len();
    let mut drain = map.drain();
    let half: Vec<_> = drain.by_ref().take(len / 2).collect();
    drop(drain);
    assert!(map.is_empty());
    assert_eq!(live(), half.len() as i64);
    drop(half);
    // The map is reusable after draining.
    map.extend((0..50).map(|i| (i, Val::new(i))));
    consistent(&map);
    // into_iter, partly consumed.
    let mut it = map.into_iter();
    let first: Vec<_> = it.by_ref().take(20).collect();
    drop(it);
    assert_eq!(live(), 20);
    drop(first);
    assert_eq!(live(), 0);
}

/// `Debug` of the iterators that cannot be cloned shows what they have not
/// yielded yet, as std's does, reading the values in place (the pool's
/// shared reads through a mutable walk and an emptying pool).
fn debug_shows_what_is_left<St: Storage>() {
    fn rest<'a>(items: impl Iterator<Item = (&'a u64, &'a Val)>) -> String {
        format!("{:?}", items.collect::<Vec<_>>())
    }
    let mut map = filled::<St>(5);
    let all = rest(map.iter());
    let mut walk = map.iter_mut();
    let (&k, first) = walk.next().unwrap();
    assert_eq!(first.check(), k);
    let shown = format!("{walk:?}");
    assert_eq!(shown, rest(walk.map(|(k, v)| (k, &*v))));
    assert!(all.contains(&shown[1..shown.len() - 1]));
    let shown = format!("{:?}", map.values_mut());
    assert_eq!(shown, format!("{:?}", map.values().collect::<Vec<_>>()));

    let mut owned = map.clone().into_iter();
    drop(owned.next());
    let shown = format!("{owned:?}");
    let left: Vec<_> = owned.collect();
    assert_eq!(shown, rest(left.iter().map(|(k, v)| (k, v))));
    drop(left);
    let keys = map.clone().into_keys();
    assert_eq!(
        format!("{keys:?}"),
        format!("{:?}", map.keys().collect::<Vec<_>>())
    );
    drop(keys);
    let values = map.clone().into_values();
    assert_eq!(
        format!("{values:?}"),
        format!("{:?}", map.values().collect::<Vec<_>>())
    );
    drop(values);

    let mut drain = map.drain();
    drop(drain.next());
    let shown = format!("{drain:?}");
    let left: Vec<_> = drain.collect();
    assert_eq!(shown, rest(left.iter().map(|(k, v)| (k, v))));
    assert_eq!(left.len(), 4);
    drop(left);
    consistent(&map);
}

/// The iterators std gives a `Default` are empty by default, as std's, and
/// drop cleanly.
fn default_iterators_are_empty<St: Storage>() {
    use mapstore::map::{IntoIter, IntoKeys, IntoValues, Iter, IterMut, Keys, Values, ValuesMut};
    assert_eq!(Iter::<u64, Val, St>::default().len(), 0);
    assert_eq!(
        IterMut::<u64, Val, St>::default().next().map(|(k, _)| *k),
        None
    );
    assert_eq!(IntoIter::<u64, Val, St>::default().count(), 0);
    assert_eq!(Keys::<u64, Val, St>::default().count(), 0);
    assert_eq!(Values::<u64, Val, St>::default().count(), 0);
    assert_eq!(ValuesMut::<u64, Val, St>::default().count(), 0);
    assert_eq!(IntoKeys::<u64, Val, St>::default().count(), 0);
    assert_eq!(IntoValues::<u64, Val, St>::default().len(), 0);
    assert_eq!(format!("{:?}", IntoIter::<u64, Val, St>::default()), "[]");
    drop(IntoIter::<u64, Val, St>::default());
}

/// Iteration over a map with holes: removed runs inside a bitmap word and
/// across words, through `next` and through `fold` (the pool walks runs of
/// adjacent slots).
fn walks_with_holes<St: Storage>() {
    let mut map = filled::<St>(300);
    map.retain(|&k, _| k % 5 != 0 && !(100..170).contains(&k));
    let mut expected: Vec<u64> = (0..300)
        .filter(|k| k % 5 != 0 && !(100..170).contains(k))
        .collect();
    let mut seen: Vec<u64> = map
        .iter()
        .map(|(&k, v)| {
            assert_eq!(v.check(), k);
            k
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, expected);
    let sum: u64 = map.values().map(Val::check).sum();
    assert_eq!(sum, expected.iter().sum::<u64>());
    let sum: u64 = map.unordered_values().map(Val::check).sum();
    assert_eq!(sum, expected.iter().sum::<u64>());
    let sum: u64 = map.unordered_values().fold(0, |n, v| n + v.check());
    assert_eq!(sum, expected.iter().sum::<u64>());
    assert!(map.keys().zip(map.values()).all(|(&k, v)| v.check() == k));
    assert_eq!(
        map.iter()
            .fold(0, |n, (&k, v)| n + (v.check() == k) as usize),
        map.len()
    );
    map.iter_mut().for_each(|(&k, v)| v.body.fill(k as u8));
    map.values_mut().for_each(|v| v.body[0] = v.id as u8);
    map.unordered_values_mut()
        .for_each(|v| v.body[1] = v.id as u8);
    for v in map.unordered_values_mut() {
        v.body[2] = v.id as u8;
    }
    consistent(&map);
    // The memory-order walk, consumed: partly by `next`, then by `fold`.
    let mut walk = map.clone().into_unordered_values();
    let first: Vec<u64> = walk.by_ref().take(10).map(|v| v.check()).collect();
    let rest = walk.fold(0, |n, v| n + v.check());
    assert_eq!(
        first.iter().sum::<u64>() + rest,
        expected.iter().sum::<u64>()
    );
    // Refill some holes (reused slots), then move everything out.
    for k in (100..170).step_by(7) {
        map.insert(k, Val::new(k));
        expected.push(k);
    }
    expected.sort_unstable();
    let mut moved: Vec<u64> = map.into_values().map(|v| v.check()).collect();
    moved.sort_unstable();
    assert_eq!(moved, expected);
}

/// Clones `map` and checks the copy's values (`live` values alive beside
/// it), then clones it again with a panic at each of `nths`: each drops what
/// it had cloned, once.
fn clone_checked<St: Storage>(map: &Map<u64, Val, St>, live_with_copy: i64, nths: [u32; 3]) {
    let before = live();
    let copy = map.clone();
    assert_eq!(live(), live_with_copy);
    for (k, v) in copy.iter() {
        assert_eq!(v.check(), *k);
    }
    drop(copy);
    for nth in nths {
        CLONES_BEFORE_PANIC.with(|c| c.set(nth));
        assert!(catch_unwind(AssertUnwindSafe(|| map.clone())).is_err());
        assert_eq!(live(), before, "panicking clone #{nth}");
    }
}

fn clones<St: Storage>() {
    let map = filled::<St>(100);
    clone_checked(&map, 200, [1, 37, 100]);
    consistent(&map);

    // Most entries removed: a pooled map is copied entries only (a pool
    // sized for them), the rest slot for slot; either way the same entries,
    // and a panic midway drops what was cloned, once.
    let mut sparse = filled::<St>(100);
    for i in (0..100).filter(|i| i % 4 != 0) {
        sparse.remove(&i);
    }
    clone_checked(&sparse, 100 + 25 + 25, [1, 13, 25]);
    for (k, v) in sparse.iter() {
        assert_eq!(v.check(), *k);
    }
    drop(sparse);

    // `clone_from` into a map with other entries (an inline or boxed map
    // reuses its table when the bucket counts match).
    let mut target = filled::<St>(100);
    target.remove(&3);
    target.insert(1000, Val::new(1000));
    target.clone_from(&map);
    assert_eq!(live(), 200);
    assert_eq!(target.len(), 100);
    for (k, v) in target.iter() {
        assert_eq!(v.check(), *k);
    }
    CLONES_BEFORE_PANIC.with(|c| c.set(50));
    assert!(catch_unwind(AssertUnwindSafe(|| target.clone_from(&map))).is_err());
    // Left empty (inline, boxed) or as it was (pooled): never a value
    // dropped twice or leaked.
    assert_eq!(live(), 100 + target.len() as i64);
    drop(target);
    consistent(&map);
}

fn clear_and_shrink<St: Storage>() {
    let mut map = filled::<St>(200);
    map.clear();
    assert_eq!(live(), 0);
    assert!(map.is_empty());
    map.extend((0..200).map(|i| (i, Val::new(i))));
    consistent(&map);
    map.retain(|&k, _| k < 20);
    map.shrink_to_fit();
    consistent(&map);
    map.shrink_to(0);
    map.extend((300..340).map(|i| (i, Val::new(i))));
    consistent(&map);
    map.reserve(100);
    consistent(&map);
}

/// Values that need no drop: `clear` marks the pool empty without visiting
/// the values; the slots are then written again.
#[test]
fn pooled_plain_values() {
    let mut map: PooledMap<u32, [u32; 75]> = PooledMap::new();
    for i in 0..200 {
        map.insert(i, [i; 75]);
    }
    map.clear();
    for i in 0..200 {
        map.insert(i, [i + 1; 75]);
    }
    assert!(map.iter().all(|(&k, v)| v[0] == k + 1 && v[74] == k + 1));
    for i in 0..170 {
        map.remove(&i);
    }
    map.shrink_to_fit();
    assert!(map.iter().all(|(&k, v)| v[74] == k + 1));
    let copy = map.clone();
    assert_eq!(copy, map);
}

thread_local! {
    static ZST_LIVE: Cell<i64> = const { Cell::new(0) };
}

struct Zst;

impl Drop for Zst {
    fn drop(&mut self) {
        ZST_LIVE.with(|c| c.set(c.get() - 1));
    }
}

fn zst() -> Zst {
    ZST_LIVE.with(|c| c.set(c.get() + 1));
    Zst
}

#[test]
fn pooled_zero_sized_values() {
    let mut map: PooledMap<u32, Zst> = PooledMap::new();
    for i in 0..100 {
        map.insert(i, zst());
    }
    for i in 0..50 {
        drop(map.remove(&i));
    }
    map.insert(1000, zst());
    let _: Vec<&mut Zst> = map.values_mut().collect();
    assert_eq!(ZST_LIVE.with(|c| c.get()), 51);
    map.retain(|&k, _| k % 2 == 0);
    map.shrink_to_fit();
    let mut drain = map.drain();
    drain.next();
    drop(drain);
    assert_eq!(ZST_LIVE.with(|c| c.get()), 0);
    map.insert(1, zst());
    drop(map);
    assert_eq!(ZST_LIVE.with(|c| c.get()), 0);
    let unit: PooledMap<u8, ()> = (0..10).map(|i| (i, ())).collect();
    assert_eq!(unit.len(), 10);
}

/// A value never moves while in a pooled map, across table growth.
#[test]
fn pooled_values_stay_put() {
    let mut map: PooledMap<u64, Val> = PooledMap::new();
    map.insert(0, Val::new(0));
    let address = &map[&0] as *const Val;
    map.extend((1..200).map(|i| (i, Val::new(i))));
    assert_eq!(&map[&0] as *const Val, address);
    // A removed value's slot is the next one used.
    let freed = &map[&150] as *const Val;
    drop(map.remove(&150));
    map.insert(7777, Val::new(7777));
    assert_eq!(&map[&7777] as *const Val, freed);
    drop(map);
    assert_eq!(live(), 0);
}

#[test]
fn boxed_extras() {
    let mut map: mapstore::BoxedMap<u64, Val> = mapstore::BoxedMap::new();
    let b = Box::new(Val::new(1));
    let address = &*b as *const Val;
    map.insert_boxed(1, b);
    assert_eq!(&map[&1] as *const Val, address);
    let back = map.remove_boxed(&1).unwrap();
    assert_eq!(&*back as *const Val, address);
    drop(back);
    assert_eq!(live(), 0);
}

#[test]
fn inline_small_values() {
    let mut map: InlineMap<u8, u16> = (0..=255).map(|i| (i, u16::from(i))).collect();
    map.retain(|&k, _| k % 2 == 0);
    assert_eq!(map.len(), 128);
    assert!(map.iter().all(|(&k, &v)| v == u16::from(k)));
}

// One test per storage for each scenario, each checking that every value
// was dropped: the testkit's `per_storage!`, shared with the other suites.
mapstore_testkit::per_storage!(
    after { assert_eq!(live(), 0) };
    insert_remove_reuse,
    entries,
    mutable_access,
    removal_iterators,
    debug_shows_what_is_left,
    default_iterators_are_empty,
    walks_with_holes,
    clones,
    clear_and_shrink,
);
