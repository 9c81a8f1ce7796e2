//! Compile-time pins: auto traits match std's `HashMap`, and `MapStore`
//! costs nothing over the map it wraps.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use mapstore::{BoxedMap, InlineMap, MapStore, PooledMap};
use static_assertions::{assert_eq_size, assert_impl_all, assert_not_impl_any};

type Big = [u64; 64];

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

// Unwind safety and the usual traits.
assert_impl_all!(PooledMap<u64, String>: std::panic::UnwindSafe, std::panic::RefUnwindSafe);
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

#[test]
fn pins_hold() {
    // The assertions above are checked at compile time; this test makes the
    // file show up in the test run.
    assert_eq!(
        std::mem::size_of::<MapStore<u64, u64>>(),
        std::mem::size_of::<InlineMap<u64, u64>>()
    );
}
