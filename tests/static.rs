//! Compile-time pins: auto traits match std's `HashMap`, and `MapStore`
//! costs nothing over the map it wraps.

use std::cell::{Cell, UnsafeCell};
use std::collections::HashMap;
use std::hash::RandomState;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::rc::Rc;

use mapstore::{BoxedMap, InlineMap, MapStore, PooledMap};
use static_assertions::{assert_eq_size, assert_impl_all, assert_not_impl_any};

/// A large value (pooled or boxed by the policy) around any `T`.
#[allow(dead_code)]
struct Big<T = u64>([u64; 64], T);

// Send + Sync exactly when std's HashMap<K, V> is.
assert_impl_all!(HashMap<u64, String>: Send, Sync);
assert_impl_all!(InlineMap<u64, String>: Send, Sync);
assert_impl_all!(BoxedMap<u64, String>: Send, Sync);
assert_impl_all!(PooledMap<u64, String>: Send, Sync);
assert_impl_all!(MapStore<u64, String>: Send, Sync);
assert_impl_all!(PooledMap<String, Big>: Send, Sync);

assert_impl_all!(HashMap<u64, Cell<u8>>: Send);
assert_not_impl_any!(HashMap<u64, Cell<u8>>: Sync);
assert_impl_all!(InlineMap<u64, Cell<u8>>: Send);
assert_not_impl_any!(InlineMap<u64, Cell<u8>>: Sync);
assert_impl_all!(BoxedMap<u64, Cell<u8>>: Send);
assert_not_impl_any!(BoxedMap<u64, Cell<u8>>: Sync);
assert_impl_all!(PooledMap<u64, Cell<u8>>: Send);
assert_not_impl_any!(PooledMap<u64, Cell<u8>>: Sync);

assert_not_impl_any!(HashMap<u64, Rc<u8>>: Send, Sync);
assert_not_impl_any!(InlineMap<u64, Rc<u8>>: Send, Sync);
assert_not_impl_any!(BoxedMap<u64, Rc<u8>>: Send, Sync);
assert_not_impl_any!(PooledMap<u64, Rc<u8>>: Send, Sync);
assert_not_impl_any!(PooledMap<Rc<u8>, u64>: Send, Sync);
assert_not_impl_any!(MapStore<u64, Rc<u8>>: Send, Sync);

// The pooled map's iterators, which walk the pool itself (the values) or
// hold part of it (drain, into_iter): Send and Sync when std's are, and
// not for values that are not.
mod pooled_iterators {
    use super::*;
    use mapstore::map::{
        Drain, IntoIter, IntoUnorderedValues, IntoValues, Iter, IterMut, UnorderedValues,
        UnorderedValuesMut, Values, ValuesMut,
    };
    use mapstore::storage::{Inline, Pooled};
    use std::collections::hash_map;

    // `iter_mut` for a value that is Send but not Sync: std's is Send, so
    // every storage's is (it hands out `&mut V`, never shares `&V`).
    assert_impl_all!(hash_map::IterMut<'static, u64, Cell<u8>>: Send);
    assert_not_impl_any!(hash_map::IterMut<'static, u64, Cell<u8>>: Sync);
    assert_impl_all!(IterMut<'static, u64, Cell<u8>, Pooled>: Send);
    assert_not_impl_any!(IterMut<'static, u64, Cell<u8>, Pooled>: Sync);
    assert_impl_all!(IterMut<'static, u64, Cell<u8>, Inline>: Send);
    assert_impl_all!(IterMut<'static, u64, String, Pooled>: Send, Sync);
    assert_not_impl_any!(IterMut<'static, u64, Rc<u8>, Pooled>: Send, Sync);
    assert_impl_all!(UnorderedValues<'static, u64, String, Pooled>: Send, Sync);
    assert_impl_all!(UnorderedValuesMut<'static, u64, String, Pooled>: Send, Sync);
    assert_impl_all!(IntoUnorderedValues<u64, String, Pooled>: Send, Sync);
    assert_not_impl_any!(UnorderedValues<'static, u64, Cell<u8>, Pooled>: Send, Sync);
    assert_impl_all!(UnorderedValuesMut<'static, u64, Cell<u8>, Pooled>: Send);
    assert_not_impl_any!(IntoUnorderedValues<u64, Rc<u8>, Pooled>: Send, Sync);

    assert_impl_all!(Iter<'static, u64, String, Pooled>: Send, Sync);
    assert_impl_all!(Values<'static, u64, String, Pooled>: Send, Sync);
    assert_impl_all!(ValuesMut<'static, u64, String, Pooled>: Send, Sync);
    assert_impl_all!(IntoValues<u64, String, Pooled>: Send, Sync);
    assert_impl_all!(IntoIter<u64, String, Pooled>: Send, Sync);
    assert_impl_all!(Drain<'static, u64, String, Pooled>: Send, Sync);
    assert_not_impl_any!(Values<'static, u64, Cell<u8>, Pooled>: Send, Sync);
    assert_impl_all!(ValuesMut<'static, u64, Cell<u8>, Pooled>: Send);
    assert_not_impl_any!(ValuesMut<'static, u64, Cell<u8>, Pooled>: Sync);
    assert_not_impl_any!(IntoValues<u64, Rc<u8>, Pooled>: Send, Sync);
    assert_not_impl_any!(Drain<'static, u64, Rc<u8>, Pooled>: Send, Sync);
    assert_not_impl_any!(IntoIter<Rc<u8>, u64, Pooled>: Send, Sync);
}

// Send + Sync in generic code: the maps by name carry them through.
fn _generic_send<K: Send, V: Send>(map: PooledMap<K, V>) -> impl Send {
    map
}

// ... and so does `MapStore` over `V: MapValue`, and the stores that wrap
// it, with no bound beyond `V`'s own (the storage is a projection the
// compiler cannot see through; the auto traits do not depend on it).
fn _generic_map_store<K: Send + Sync, V: mapstore::MapValue + Send + Sync>(
    map: MapStore<K, V>,
) -> impl Send + Sync {
    map
}
fn _generic_map_store_send<K: Send, V: mapstore::MapValue + Send>(
    map: MapStore<K, V>,
) -> impl Send {
    map
}
fn _generic_concurrent<K: Send + Sync, V: mapstore::MapValue + Send + Sync>(
    store: mapstore::ConcurrentStore<K, V>,
) -> impl Send + Sync {
    store
}
fn _generic_frozen<K: Send + Sync, V: mapstore::MapValue + Send + Sync>(
    store: mapstore::FrozenStore<K, V>,
) -> impl Send + Sync {
    store
}
fn _generic_iterators<'a, K: Sync, V: mapstore::MapValue + Sync>(
    map: &'a MapStore<K, V>,
) -> impl Send + Sync + 'a {
    (map.iter(), map.keys(), map.values(), map.unordered_values())
}
fn _generic_owning<K: Send + Sync, V: mapstore::MapValue + Send + Sync>(
    map: MapStore<K, V>,
) -> impl Send + Sync {
    map.into_iter()
}
fn _generic_entry<K, V>(map: &mut MapStore<K, V>, key: K) -> impl Send + Sync + '_
where
    K: std::hash::Hash + Eq + Send + Sync,
    V: mapstore::MapValue + Send + Sync,
{
    map.entry(key)
}

// A value that is not `Send` keeps every map and store from being `Send`;
// one that is `Send` but not `Sync` keeps them from being `Sync`.
assert_not_impl_any!(mapstore::ConcurrentStore<u64, Rc<u8>>: Send, Sync);
assert_not_impl_any!(mapstore::ConcurrentStore<Rc<u8>, u64>: Send, Sync);
assert_not_impl_any!(mapstore::FrozenStore<u64, Rc<u8>>: Send, Sync);
assert_not_impl_any!(mapstore::ConcurrentStore<u64, Counter>: Sync);
assert_impl_all!(mapstore::ConcurrentStore<u64, Counter>: Send);
assert_impl_all!(mapstore::ConcurrentStore<u64, String>: Send, Sync);
assert_impl_all!(mapstore::ConcurrentStore<u64, Frame>: Send, Sync);
assert_impl_all!(mapstore::FrozenStore<u64, String>: Send, Sync);
assert_not_impl_any!(MapStore<u64, Counter>: Sync);
assert_impl_all!(MapStore<u64, Counter>: Send);
assert_not_impl_any!(MapStore<u64, SharedFrame>: Sync);
assert_impl_all!(MapStore<u64, SharedFrame>: Send);
assert_not_impl_any!(MapStore<u64, Huge, Rc<u8>>: Send, Sync);
assert_not_impl_any!(mapstore::map::Entry<'static, u64, Rc<u8>, mapstore::storage::Boxed>: Send, Sync);
assert_not_impl_any!(mapstore::map::Iter<'static, u64, Cell<u8>, mapstore::storage::Inline>: Send, Sync);
assert_not_impl_any!(mapstore::map::IntoIter<u64, Rc<u8>, mapstore::storage::Boxed>: Send, Sync);

// UnwindSafe + RefUnwindSafe exactly when std's HashMap<K, V, S> is: each
// line for std, then the same line for every map. (std pins
// `HashMap<(), UnsafeCell<()>>: UnwindSafe`, rust-lang/rust#62301.)
macro_rules! unwind_like_std {
    (both: $($k:ty, $v:ty $(, $s:ty)?);* $(;)?) => {$(
        assert_impl_all!(HashMap<$k, $v $(, $s)?>: UnwindSafe, RefUnwindSafe);
        assert_impl_all!(InlineMap<$k, $v $(, $s)?>: UnwindSafe, RefUnwindSafe);
        assert_impl_all!(BoxedMap<$k, $v $(, $s)?>: UnwindSafe, RefUnwindSafe);
        assert_impl_all!(PooledMap<$k, $v $(, $s)?>: UnwindSafe, RefUnwindSafe);
    )*};
    (unwind_only: $($k:ty, $v:ty $(, $s:ty)?);* $(;)?) => {$(
        assert_impl_all!(HashMap<$k, $v $(, $s)?>: UnwindSafe);
        assert_not_impl_any!(HashMap<$k, $v $(, $s)?>: RefUnwindSafe);
        assert_impl_all!(InlineMap<$k, $v $(, $s)?>: UnwindSafe);
        assert_not_impl_any!(InlineMap<$k, $v $(, $s)?>: RefUnwindSafe);
        assert_impl_all!(BoxedMap<$k, $v $(, $s)?>: UnwindSafe);
        assert_not_impl_any!(BoxedMap<$k, $v $(, $s)?>: RefUnwindSafe);
        assert_impl_all!(PooledMap<$k, $v $(, $s)?>: UnwindSafe);
        assert_not_impl_any!(PooledMap<$k, $v $(, $s)?>: RefUnwindSafe);
    )*};
    (ref_only: $($k:ty, $v:ty $(, $s:ty)?);* $(;)?) => {$(
        assert_impl_all!(HashMap<$k, $v $(, $s)?>: RefUnwindSafe);
        assert_not_impl_any!(HashMap<$k, $v $(, $s)?>: UnwindSafe);
        assert_impl_all!(InlineMap<$k, $v $(, $s)?>: RefUnwindSafe);
        assert_not_impl_any!(InlineMap<$k, $v $(, $s)?>: UnwindSafe);
        assert_impl_all!(BoxedMap<$k, $v $(, $s)?>: RefUnwindSafe);
        assert_not_impl_any!(BoxedMap<$k, $v $(, $s)?>: UnwindSafe);
        assert_impl_all!(PooledMap<$k, $v $(, $s)?>: RefUnwindSafe);
        assert_not_impl_any!(PooledMap<$k, $v $(, $s)?>: UnwindSafe);
    )*};
}

unwind_like_std!(both:
    u64, u64;
    u64, String;
    String, Big;
    u64, Rc<u8>;
    u64, &'static u8;
    u64, u64, RandomState;
);
unwind_like_std!(unwind_only:
    (), UnsafeCell<()>;
    u64, Cell<u8>;
    u64, Big<Cell<u8>>;
    Cell<u8>, u64;
    u64, u64, Cell<RandomState>;
);
unwind_like_std!(ref_only:
    u64, &'static mut u8;
    &'static mut u8, u64;
    u64, Big<&'static mut u8>;
    u64, u64, &'static mut RandomState;
);

// `ConcurrentStore` and `FrozenStore` the same way, for values of each
// storage (`Frame` and `SharedFrame` pooled, `Huge` boxed).
macro_rules! stores_unwind_like_std {
    (both: $($v:ty),*) => {$(
        assert_impl_all!(HashMap<u64, $v>: UnwindSafe, RefUnwindSafe);
        assert_impl_all!(mapstore::ConcurrentStore<u64, $v>: UnwindSafe, RefUnwindSafe);
        assert_impl_all!(mapstore::FrozenStore<u64, $v>: UnwindSafe, RefUnwindSafe);
    )*};
    (unwind_only: $($v:ty),*) => {$(
        assert_impl_all!(HashMap<u64, $v>: UnwindSafe);
        assert_not_impl_any!(HashMap<u64, $v>: RefUnwindSafe);
        assert_impl_all!(mapstore::ConcurrentStore<u64, $v>: UnwindSafe);
        assert_not_impl_any!(mapstore::ConcurrentStore<u64, $v>: RefUnwindSafe);
        assert_impl_all!(mapstore::FrozenStore<u64, $v>: UnwindSafe);
        assert_not_impl_any!(mapstore::FrozenStore<u64, $v>: RefUnwindSafe);
    )*};
    (ref_only: $($v:ty),*) => {$(
        assert_impl_all!(HashMap<u64, $v>: RefUnwindSafe);
        assert_not_impl_any!(HashMap<u64, $v>: UnwindSafe);
        assert_impl_all!(mapstore::ConcurrentStore<u64, $v>: RefUnwindSafe);
        assert_not_impl_any!(mapstore::ConcurrentStore<u64, $v>: UnwindSafe);
        assert_impl_all!(mapstore::FrozenStore<u64, $v>: RefUnwindSafe);
        assert_not_impl_any!(mapstore::FrozenStore<u64, $v>: UnwindSafe);
    )*};
}
stores_unwind_like_std!(both: u64, String, Frame, Huge, Rc<u8>);
stores_unwind_like_std!(unwind_only: Cell<u8>, Counter, SharedFrame, SharedHuge);
stores_unwind_like_std!(ref_only: BorrowedFrame<'static>);
assert_impl_all!(mapstore::ConcurrentStore<u64, u64, RandomState>: UnwindSafe, RefUnwindSafe);
assert_not_impl_any!(mapstore::ConcurrentStore<u64, u64, Cell<RandomState>>: RefUnwindSafe);
assert_not_impl_any!(mapstore::ConcurrentStore<Cell<u8>, u64>: RefUnwindSafe);
assert_not_impl_any!(HashMap<u64, &'static Cell<u8>>: UnwindSafe, RefUnwindSafe);
assert_not_impl_any!(InlineMap<u64, &'static Cell<u8>>: UnwindSafe, RefUnwindSafe);
assert_not_impl_any!(BoxedMap<u64, &'static Cell<u8>>: UnwindSafe, RefUnwindSafe);
assert_not_impl_any!(PooledMap<u64, &'static Cell<u8>>: UnwindSafe, RefUnwindSafe);

// `MapStore` is one of the maps above; pinned over each storage it picks.
assert_impl_all!(MapStore<u64, u64>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(MapStore<u64, Frame>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(MapStore<u64, Huge>: UnwindSafe, RefUnwindSafe);
assert_impl_all!(MapStore<u64, Counter>: UnwindSafe);
assert_not_impl_any!(MapStore<u64, Counter>: RefUnwindSafe);
assert_impl_all!(MapStore<u64, SharedFrame>: UnwindSafe);
assert_not_impl_any!(MapStore<u64, SharedFrame>: RefUnwindSafe);
assert_impl_all!(MapStore<u64, BorrowedFrame<'static>>: RefUnwindSafe);
assert_not_impl_any!(MapStore<u64, BorrowedFrame<'static>>: UnwindSafe);
assert_impl_all!(MapStore<u64, SharedHuge>: UnwindSafe);
assert_not_impl_any!(MapStore<u64, SharedHuge>: RefUnwindSafe);

// The usual traits.
assert_impl_all!(PooledMap<u64, u64>: Clone, std::fmt::Debug, Default, PartialEq, Eq);
assert_impl_all!(MapStore<u64, u64>: Clone, std::fmt::Debug, Default, PartialEq, Eq);

// Zero cost: MapStore is exactly the map it wraps.
assert_eq_size!(MapStore<u64, u64>, InlineMap<u64, u64>);
assert_eq_size!(MapStore<String, String>, InlineMap<String, String>);
assert_eq_size!(Option<MapStore<u64, u64>>, MapStore<u64, u64>);
assert_eq_size!(MapStore<u64, Frame>, PooledMap<u64, Frame>);

/// Pooled by the policy.
#[derive(mapstore::MapStore)]
#[allow(dead_code)]
struct Frame([u8; 300]);
static_assertions::assert_type_eq_all!(
    <Frame as mapstore::MapValue>::Storage,
    mapstore::storage::Pooled
);

/// Values of each storage with interior mutability or a unique borrow.
#[allow(dead_code)]
mod values {
    use std::cell::Cell;

    #[derive(mapstore::MapStore)]
    #[map_store(storage = "boxed")]
    pub struct Huge([u8; 300]);

    #[derive(mapstore::MapStore)]
    pub struct Counter(Cell<u32>);

    #[derive(mapstore::MapStore)]
    pub struct SharedFrame([u8; 300], Cell<u32>);

    #[derive(mapstore::MapStore)]
    pub struct BorrowedFrame<'a>([u8; 300], &'a mut u32);

    #[derive(mapstore::MapStore)]
    #[map_store(storage = "boxed")]
    pub struct SharedHuge([u8; 300], Cell<u32>);
}
use values::{BorrowedFrame, Counter, Huge, SharedFrame, SharedHuge};
static_assertions::assert_type_eq_all!(
    <Counter as mapstore::MapValue>::Storage,
    mapstore::storage::Inline
);
static_assertions::assert_type_eq_all!(
    <SharedFrame as mapstore::MapValue>::Storage,
    <BorrowedFrame<'static> as mapstore::MapValue>::Storage,
    mapstore::storage::Pooled
);
static_assertions::assert_type_eq_all!(
    <SharedHuge as mapstore::MapValue>::Storage,
    <Huge as mapstore::MapValue>::Storage,
    mapstore::storage::Boxed
);

#[test]
fn pins_hold() {
    // The assertions above are checked at compile time; this test makes the
    // file show up in the test run.
    assert_eq!(
        std::mem::size_of::<MapStore<u64, u64>>(),
        std::mem::size_of::<InlineMap<u64, u64>>()
    );
}

// Tuples take their components' storage (the largest: inline < pooled <
// boxed); arrays of primitives are chosen by the policy like a derived
// type. Each plan names the storage its impl uses.
mod tuples_and_arrays {
    use mapstore::storage::{Boxed, Inline, Pooled, Storage};
    use mapstore::{MapValue, StorageKind};
    use static_assertions::assert_type_eq_all;

    use super::{Frame, Huge};

    /// The plan's storage, the impl's storage and the policy's choice.
    const fn agrees<V: MapValue>() -> bool {
        V::PLAN.storage as u8 == <V::Storage as Storage>::KIND as u8
            && V::PLAN.size == core::mem::size_of::<V>()
            && V::PLAN.align == core::mem::align_of::<V>()
            && V::PLAN.needs_drop == core::mem::needs_drop::<V>()
    }

    assert_type_eq_all!(<(u32, String) as MapValue>::Storage, Inline);
    assert_type_eq_all!(<(u64,) as MapValue>::Storage, Inline);
    assert_type_eq_all!(
        <(u8, u16, u32, u64, i8, i16, i32, i64) as MapValue>::Storage,
        Inline
    );
    assert_type_eq_all!(<(u64, Frame) as MapValue>::Storage, Pooled);
    assert_type_eq_all!(<(Frame, u64, String) as MapValue>::Storage, Pooled);
    assert_type_eq_all!(<(Frame, Huge) as MapValue>::Storage, Boxed);
    assert_type_eq_all!(<(Huge, u8) as MapValue>::Storage, Boxed);
    assert_type_eq_all!(<((u8, Frame), u8) as MapValue>::Storage, Pooled);
    assert_type_eq_all!(<[u8; 16] as MapValue>::Storage, Inline);
    assert_type_eq_all!(<[u64; 6] as MapValue>::Storage, Inline);
    assert_type_eq_all!(<[u64; 7] as MapValue>::Storage, Pooled);
    assert_type_eq_all!(<[f32; 3] as MapValue>::Storage, Inline);
    assert_type_eq_all!(<[u8; 4096] as MapValue>::Storage, Pooled);
    assert_type_eq_all!(<[char; 0] as MapValue>::Storage, Inline);

    const _: () = assert!(agrees::<(u32, String)>());
    const _: () = assert!(agrees::<(u64, Frame)>());
    const _: () = assert!(agrees::<(Frame, Huge)>());
    const _: () = assert!(agrees::<(String, String, String)>());
    const _: () = assert!(agrees::<[u8; 16]>());
    const _: () = assert!(agrees::<[u128; 4096]>());
    const _: () = assert!(agrees::<[bool; 32]>());

    #[test]
    fn plans_describe_tuples_and_arrays() {
        let plan = <(u32, String) as MapValue>::PLAN;
        assert_eq!(plan.storage, StorageKind::Inline);
        assert_eq!(plan.heap_fields, ["1"]);
        assert!(!plan.forced, "{plan}");
        assert_eq!(plan.type_name, "(A, B)");

        let plan = <(String, u8, Vec<u8>) as MapValue>::PLAN;
        assert_eq!(plan.heap_fields, ["0", "2"]);

        // Three inline strings make a 72-byte tuple the policy would pool:
        // the plan says the tuple kept its components' storage, and why.
        let plan = <(String, String, String) as MapValue>::PLAN;
        assert_eq!(plan.storage, StorageKind::Inline);
        assert_eq!(plan.chosen(), StorageKind::Pooled);
        assert!(plan.forced && plan.reason.contains("components"), "{plan}");

        let plan = <[u8; 16] as MapValue>::PLAN;
        assert_eq!((plan.type_name, plan.size, plan.align), ("[u8; 16]", 16, 1));
        assert!(!plan.forced && plan.heap_fields.is_empty());
        assert_eq!(<[u8; 4096] as MapValue>::PLAN.storage, StorageKind::Pooled);
    }

    #[test]
    fn tuples_and_arrays_as_values() {
        let mut users: mapstore::MapStore<String, (u32, String)> = mapstore::MapStore::new();
        users.insert("ada".into(), (36, "Ada".into()));
        assert_eq!(users["ada"].1, "Ada");
        let mut ids: mapstore::MapStore<u64, [u8; 16]> = mapstore::MapStore::new();
        ids.insert(1, [7; 16]);
        assert_eq!(ids[&1][15], 7);
        assert_eq!(ids.storage(), StorageKind::Inline);
    }
}

// `Unpin`, `UnwindSafe` and `RefUnwindSafe` in code generic over
// `V: MapValue`, as std's map gives them from `K` and `V` alone: a generic
// future or struct holding a map is `Unpin` when its parameters are.
#[allow(dead_code)]
fn _generic_unpin_and_unwind<'a, K, V>()
where
    K: Unpin + UnwindSafe + RefUnwindSafe + 'a,
    V: mapstore::MapValue + Unpin + UnwindSafe + RefUnwindSafe + 'a,
{
    use mapstore::hash_map;
    fn unpin<T: Unpin>() {}
    fn unwind<T: UnwindSafe>() {}
    fn ref_unwind<T: RefUnwindSafe>() {}
    unpin::<MapStore<K, V>>();
    unwind::<MapStore<K, V>>();
    ref_unwind::<MapStore<K, V>>();
    unpin::<hash_map::Iter<'a, K, V>>();
    unpin::<hash_map::IterMut<'a, K, V>>();
    unpin::<hash_map::Keys<'a, K, V>>();
    unpin::<hash_map::Values<'a, K, V>>();
    unpin::<hash_map::ValuesMut<'a, K, V>>();
    unpin::<hash_map::IntoIter<K, V>>();
    unpin::<hash_map::IntoKeys<K, V>>();
    unpin::<hash_map::IntoValues<K, V>>();
    unpin::<hash_map::Drain<'a, K, V>>();
    unpin::<hash_map::Entry<'a, K, V>>();
    unwind::<hash_map::Iter<'a, K, V>>();
    unwind::<hash_map::IntoIter<K, V>>();
    unwind::<hash_map::Drain<'a, K, V>>();
    ref_unwind::<hash_map::Iter<'a, K, V>>();
    ref_unwind::<hash_map::IterMut<'a, K, V>>();
    ref_unwind::<hash_map::Drain<'a, K, V>>();
}

// Borrowing iterators and a drain are `Unpin` whatever `V` is, as std's;
// a pooled map's drain is `UnwindSafe` as std's is.
assert_impl_all!(std::collections::hash_map::Iter<'static, u64, std::marker::PhantomPinned>: Unpin);
assert_impl_all!(mapstore::map::Iter<'static, u64, std::marker::PhantomPinned, mapstore::storage::Pooled>: Unpin);
assert_impl_all!(std::collections::hash_map::Drain<'static, u64, std::marker::PhantomPinned>: Unpin);
assert_impl_all!(mapstore::map::Drain<'static, u64, std::marker::PhantomPinned, mapstore::storage::Pooled>: Unpin);
assert_impl_all!(std::collections::hash_map::Drain<'static, u32, u32>: UnwindSafe);
assert_impl_all!(mapstore::map::Drain<'static, u32, u32, mapstore::storage::Pooled>: UnwindSafe);
assert_not_impl_any!(HashMap<u64, std::marker::PhantomPinned>: Unpin);
assert_not_impl_any!(PooledMap<u64, std::marker::PhantomPinned>: Unpin);

// FrozenStore's `iter_mut` is `Send` when `K` and `V` are, as std's `IterMut`
// (a `Cell` key is `Send` but not `Sync`), for inline and apart values.
assert_impl_all!(std::collections::hash_map::IterMut<'static, Cell<u32>, u32>: Send);
assert_impl_all!(mapstore::frozen::IterMut<'static, Cell<u32>, u32>: Send);
assert_impl_all!(mapstore::frozen::IterMut<'static, Cell<u32>, [u64; 16]>: Send);

// `RefUnwindSafe` in code generic over `V: MapValue` with only `K` and `V`
// bounded, for every public type of `mapstore::map`, as std's are: each
// of std's is `RefUnwindSafe` when `K` and `V` are (and `ExtractIf`'s
// predicate).
#[allow(dead_code)]
fn _generic_ref_unwind_safe<'a, K, V, F>()
where
    K: RefUnwindSafe + 'a,
    V: mapstore::MapValue + RefUnwindSafe + 'a,
    F: RefUnwindSafe,
{
    use mapstore::{hash_map, map};
    fn rus<T: RefUnwindSafe>() {}
    rus::<MapStore<K, V>>();
    rus::<hash_map::Entry<'a, K, V>>();
    rus::<hash_map::OccupiedEntry<'a, K, V>>();
    rus::<hash_map::VacantEntry<'a, K, V>>();
    rus::<hash_map::ExtractIf<'a, K, V, F>>();
    rus::<hash_map::Iter<'a, K, V>>();
    rus::<hash_map::IterMut<'a, K, V>>();
    rus::<hash_map::IntoIter<K, V>>();
    rus::<hash_map::Drain<'a, K, V>>();
    rus::<hash_map::Keys<'a, K, V>>();
    rus::<hash_map::Values<'a, K, V>>();
    rus::<hash_map::ValuesMut<'a, K, V>>();
    rus::<hash_map::IntoKeys<K, V>>();
    rus::<hash_map::IntoValues<K, V>>();
    rus::<map::UnorderedValues<'a, K, V, V::Storage>>();
    rus::<map::UnorderedValuesMut<'a, K, V, V::Storage>>();
    rus::<map::IntoUnorderedValues<K, V, V::Storage>>();
}

// `UnwindSafe` where std's is (its entries, `ExtractIf`, `IterMut` and
// `ValuesMut` hold a unique borrow and are not): the borrowing walks with
// `K` and `V` `RefUnwindSafe`, the owning ones with `K` and `V` also
// `UnwindSafe`.
#[allow(dead_code)]
fn _generic_unwind_safe<'a, K, V>()
where
    K: RefUnwindSafe + UnwindSafe + 'a,
    V: mapstore::MapValue + RefUnwindSafe + UnwindSafe + 'a,
{
    use mapstore::{hash_map, map};
    fn us<T: UnwindSafe>() {}
    us::<hash_map::Iter<'a, K, V>>();
    us::<hash_map::Keys<'a, K, V>>();
    us::<hash_map::Values<'a, K, V>>();
    us::<hash_map::Drain<'a, K, V>>();
    us::<hash_map::IntoIter<K, V>>();
    us::<hash_map::IntoKeys<K, V>>();
    us::<hash_map::IntoValues<K, V>>();
    us::<map::UnorderedValues<'a, K, V, V::Storage>>();
    us::<map::IntoUnorderedValues<K, V, V::Storage>>();
}

// std's entries and mutable walks are not `UnwindSafe`, nor are these.
assert_not_impl_any!(std::collections::hash_map::Entry<'static, u64, u64>: UnwindSafe);
assert_not_impl_any!(mapstore::hash_map::Entry<'static, u64, u64>: UnwindSafe);
assert_not_impl_any!(mapstore::hash_map::Entry<'static, u64, Frame>: UnwindSafe);
assert_not_impl_any!(std::collections::hash_map::OccupiedEntry<'static, u64, u64>: UnwindSafe);
assert_not_impl_any!(mapstore::hash_map::OccupiedEntry<'static, u64, Frame>: UnwindSafe);
assert_not_impl_any!(std::collections::hash_map::VacantEntry<'static, u64, u64>: UnwindSafe);
assert_not_impl_any!(mapstore::hash_map::VacantEntry<'static, u64, Frame>: UnwindSafe);
assert_not_impl_any!(std::collections::hash_map::IterMut<'static, u64, u64>: UnwindSafe);
assert_not_impl_any!(mapstore::hash_map::IterMut<'static, u64, Frame>: UnwindSafe);
assert_not_impl_any!(std::collections::hash_map::ValuesMut<'static, u64, u64>: UnwindSafe);
assert_not_impl_any!(mapstore::hash_map::ValuesMut<'static, u64, Frame>: UnwindSafe);
assert_not_impl_any!(
    mapstore::hash_map::ExtractIf<'static, u64, Frame, fn(&u64, &mut Frame) -> bool>: UnwindSafe
);
// And none is `RefUnwindSafe` with a `Cell` value, as std's.
assert_not_impl_any!(std::collections::hash_map::Entry<'static, u64, Cell<u8>>: RefUnwindSafe);
assert_not_impl_any!(mapstore::hash_map::Entry<'static, u64, Cell<u8>>: RefUnwindSafe);
assert_not_impl_any!(mapstore::hash_map::VacantEntry<'static, Cell<u8>, u64>: RefUnwindSafe);
assert_not_impl_any!(
    mapstore::hash_map::ExtractIf<'static, u64, SharedFrame, fn(&u64, &mut SharedFrame) -> bool>: RefUnwindSafe
);
assert_not_impl_any!(mapstore::hash_map::Keys<'static, u64, SharedFrame>: RefUnwindSafe);
