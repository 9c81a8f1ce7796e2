#![deny(deprecated)]

use mapstore::MapStore;

// Fires: 16 bytes, which the policy stores inline.
#[derive(MapStore)]
#[map_store(storage = "boxed")]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

// Silent: the policy would box it too.
#[derive(MapStore)]
#[map_store(storage = "boxed")]
pub struct Huge {
    pub bytes: [u8; 1 << 16],
}

// Silent: allowed for this type.
#[derive(MapStore)]
#[map_store(storage = "boxed", allow(slow_storage))]
pub struct Allowed {
    pub x: f64,
}

fn main() {}
