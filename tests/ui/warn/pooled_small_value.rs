#![deny(deprecated)]

use mapstore::MapStore;

// Fires: 16 bytes, which the policy stores inline; a pooled read chases a
// pointer into the pool as a boxed one does.
#[derive(MapStore)]
#[map_store(storage = "pooled")]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

// Fires under its goal's own limit: 80 bytes and a heap field, over the
// 48-byte limit of `balanced` but within `reads`' 96 bytes for such values.
#[derive(MapStore)]
#[map_store(storage = "pooled", optimize = "reads")]
pub struct Row {
    pub name: String,
    pub cells: [u64; 7],
}

// Silent: the policy would pool it too.
#[derive(MapStore)]
#[map_store(storage = "pooled")]
pub struct Record {
    pub bytes: [u8; 200],
}

// Silent: zero-sized (the zero_sized warning, allowed here, is the one that
// applies).
#[derive(MapStore)]
#[map_store(storage = "pooled", allow(zero_sized))]
pub struct Marker;

// Silent: allowed for this type.
#[derive(MapStore)]
#[map_store(storage = "pooled", allow(slow_storage))]
pub struct Allowed {
    pub x: f64,
}

fn main() {}
