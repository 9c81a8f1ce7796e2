//! Attribute values passed through `macro_rules!` fragments (`$x:literal`,
//! `$x:expr`): they reach the derive wrapped in invisible groups.
#![deny(warnings)]

use mapstore::{MapValue, Optimize, StorageKind};

macro_rules! forced {
    ($name:ident, $storage:literal, $goal:expr) => {
        #[derive(mapstore::MapStore)]
        #[map_store(storage = $storage, optimize = $goal, allow(slow_storage), no_store)]
        pub struct $name(pub u64);
    };
}

forced!(PooledId, "pooled", "reads");
forced!(BoxedId, "boxed", "memory");

macro_rules! renamed {
    ($store:literal) => {
        #[derive(mapstore::MapStore)]
        #[map_store(store = $store, crate = "mapstore")]
        pub struct Point(pub f64, pub f64);
    };
}

renamed!("Points");

pub fn main() {
    assert_eq!(<PooledId as MapValue>::PLAN.storage, StorageKind::Pooled);
    assert_eq!(<PooledId as MapValue>::PLAN.goal, Optimize::Reads);
    assert_eq!(<BoxedId as MapValue>::PLAN.storage, StorageKind::Boxed);
    assert_eq!(<BoxedId as MapValue>::PLAN.goal, Optimize::Memory);
    let mut points: Points<u8> = mapstore::MapStore::new();
    points.insert(1, Point(0.5, 1.5));
    assert_eq!(points[&1].0 + points[&1].1 + PooledId(1).0 as f64 + BoxedId(1).0 as f64, 4.0);
}
