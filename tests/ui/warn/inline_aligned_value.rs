#![deny(deprecated)]

use mapstore::MapStore;

// Fires: aligned to a page, which the policy boxes.
#[derive(MapStore)]
#[map_store(storage = "inline", optimize = "memory")]
#[repr(align(4096))]
pub struct Page {
    pub bytes: [u8; 64],
}

// Silent: allowed for this type.
#[derive(MapStore)]
#[map_store(storage = "inline", allow(slow_storage))]
#[repr(align(4096))]
pub struct Allowed {
    pub bytes: [u8; 64],
}

fn main() {}
