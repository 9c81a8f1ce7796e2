//! `memory_usage()` is exact: checked against a counting global allocator.

use mapstore::{BoxedMap, InlineMap, PooledMap};
use mapstore_testkit::alloc::{Counting, Meter};

/// Counts per thread, so tests running in parallel do not see each other's
/// allocations.
#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Builds a `$map` of `$value`s, checking after each step that
/// `memory_usage()` equals the bytes the map has allocated.
macro_rules! exact {
    ($map:ty, $value:expr) => {{
        let meter = Meter::start();
        let mut map = <$map>::new();
        assert_eq!(map.memory_usage(), 0);
        assert_eq!(meter.live(), 0);
        let check = |map: &$map, step: &str| {
            assert_eq!(
                map.memory_usage() as isize,
                meter.live(),
                "{} after {step}",
                stringify!($map)
            );
        };
        for i in 0..1000u64 {
            map.insert(i, $value);
            check(&map, "insert");
        }
        for i in (0..1000u64).step_by(3) {
            map.remove(&i);
        }
        check(&map, "remove");
        map.reserve(5000);
        check(&map, "reserve");
        map.shrink_to_fit();
        check(&map, "shrink_to_fit");
        let copy = map.clone();
        let both = meter.live();
        assert_eq!((map.memory_usage() + copy.memory_usage()) as isize, both);
        drop(copy);
        map.clear();
        check(&map, "clear");
        drop(map);
        assert_eq!(meter.live(), 0, "{} leaked", stringify!($map));
    }};
}

#[test]
fn memory_usage_is_exact_for_small_values() {
    exact!(InlineMap<u64, u64>, 7);
    exact!(BoxedMap<u64, u64>, 7);
    exact!(PooledMap<u64, u64>, 7);
}

#[test]
fn memory_usage_is_exact_for_large_values() {
    exact!(InlineMap<u64, [u8; 300]>, [1; 300]);
    exact!(BoxedMap<u64, [u8; 300]>, [1; 300]);
    exact!(PooledMap<u64, [u8; 300]>, [1; 300]);
}

#[test]
fn memory_usage_is_exact_for_zero_sized_values() {
    exact!(InlineMap<u64, ()>, ());
    exact!(BoxedMap<u64, ()>, ());
    exact!(PooledMap<u64, ()>, ());
}

#[test]
fn pooled_and_inline_inserts_do_not_allocate_per_value() {
    let meter = Meter::start();
    let allocations = || meter.allocations();
    let mut pooled = PooledMap::<u64, [u8; 300]>::with_capacity(10_000);
    let mut inline = InlineMap::<u64, [u8; 64]>::with_capacity(10_000);
    let before = allocations();
    for i in 0..10_000 {
        pooled.insert(i, [0; 300]);
        inline.insert(i, [0; 64]);
    }
    assert_eq!(allocations(), before, "presized maps allocated on insert");

    // Growing from empty allocates O(log n) times, not once per value.
    let before = allocations();
    let mut grown = PooledMap::<u64, [u8; 300]>::new();
    for i in 0..10_000 {
        grown.insert(i, [0; 300]);
    }
    let grown_allocations = allocations() - before;
    assert!(grown_allocations < 200, "{grown_allocations} allocations");

    let before = allocations();
    let mut boxed = BoxedMap::<u64, [u8; 300]>::with_capacity(10_000);
    for i in 0..10_000 {
        boxed.insert(i, [0; 300]);
    }
    assert_eq!(allocations() - before, 10_001, "one box per value");
}

#[test]
fn removed_pool_slots_are_reused_without_allocating() {
    let meter = Meter::start();
    let allocations = || meter.allocations();
    let mut map = PooledMap::<u64, [u8; 300]>::new();
    for i in 0..1000 {
        map.insert(i, [0; 300]);
    }
    for i in 0..500 {
        map.remove(&i);
    }
    let bytes = map.memory_usage();
    let before = allocations();
    for i in 1000..1500 {
        map.insert(i, [1; 300]);
    }
    assert_eq!(allocations(), before);
    assert_eq!(map.memory_usage(), bytes);
}

/// A remove allocates nothing, as std's never does: the pool's free list
/// is linked through the vacant slots themselves. (It was a `Vec` of slot
/// pointers, which grew as slots were freed: up to 8 more bytes per slot.)
#[test]
fn removes_never_allocate() {
    let meter = Meter::start();
    let mut map = PooledMap::<u64, [u8; 300]>::new();
    for i in 0..1000 {
        map.insert(i, [0; 300]);
    }
    let bytes = map.memory_usage();
    let before = meter.allocations();
    for i in 0..1000 {
        assert!(map.remove(&i).is_some());
    }
    assert_eq!(meter.allocations(), before);
    assert_eq!(map.memory_usage(), bytes);
    assert_eq!(meter.live(), bytes as isize);
    // Every freed slot is reused before a new one is taken.
    for i in 0..1000 {
        map.insert(i, [1; 300]);
    }
    assert_eq!(meter.allocations(), before);
    assert_eq!(map.memory_usage(), bytes);
}

/// `shrink_to(n)` keeps room for `n` entries in the pool as in the table,
/// as std's keeps it in its table: the `n` entries then fit without
/// allocating. (The pool used to shrink to its last value whatever `n`.)
#[test]
fn shrink_to_keeps_room_for_min_capacity_in_the_pool() {
    let meter = Meter::start();
    let mut map = PooledMap::<u64, [u8; 300]>::new();
    for i in 0..1000 {
        map.insert(i, [0; 300]);
    }
    map.retain(|&k, _| k < 10);
    map.shrink_to(500);
    assert_eq!(map.memory_usage() as isize, meter.live());
    let (bytes, before) = (map.memory_usage(), meter.allocations());
    for i in 10..500 {
        map.insert(i, [1; 300]);
    }
    assert_eq!(meter.allocations(), before);
    assert_eq!(map.memory_usage(), bytes);
    // And `shrink_to_fit` frees the chunks above the last value.
    map.retain(|&k, _| k < 10);
    map.shrink_to_fit();
    assert!(
        map.memory_usage() < bytes / 4,
        "{} of {bytes}",
        map.memory_usage()
    );
    assert_eq!(map.memory_usage() as isize, meter.live());
}

/// A clone of a pooled map most of whose entries were removed holds its
/// entries, not every slot the original ever used: it is copied entries
/// only, in a pool sized for them (and reads the same).
#[test]
fn a_clone_of_a_sparse_pool_holds_its_entries_only() {
    let meter = Meter::start();
    let mut map = PooledMap::<u64, [u8; 2048]>::new();
    for i in 0..2000u64 {
        map.insert(i, [i as u8; 2048]);
    }
    for i in (0..2000u64).filter(|i| i % 10 != 0) {
        map.remove(&i);
    }
    let original = map.memory_usage();
    let live = meter.live();
    let copy = map.clone();
    assert_eq!(copy, map);
    assert_eq!((meter.live() - live) as usize, copy.memory_usage());
    // 200 values of 2 KiB: the pool's slots for them, with the first
    // chunk's rounding, and the table; the original keeps 2000 slots.
    assert!(
        copy.memory_usage() * 4 < original,
        "clone {} bytes, original {original}",
        copy.memory_usage()
    );
    // A dense pool is still copied slot for slot, to the same size.
    let dense: PooledMap<u64, [u8; 2048]> = (0..2000u64).map(|i| (i, [0; 2048])).collect();
    assert_eq!(dense.clone().memory_usage(), dense.memory_usage());
}
