#![deny(deprecated)]

use mapstore::MapStore;

// Fires: 512 bytes, which the policy pools.
#[derive(MapStore)]
#[map_store(storage = "inline")]
pub struct Record {
    pub bytes: [u8; 512],
}

// Fires: a range of sizes above the exact ones.
#[derive(MapStore)]
#[map_store(storage = "inline", optimize = "writes")]
pub struct Big {
    pub bytes: [u8; 1000],
}

// Silent: small enough to be inline anyway.
#[derive(MapStore)]
#[map_store(storage = "inline")]
pub struct Small {
    pub bytes: [u8; 16],
}

// Silent: allowed for this type.
#[derive(MapStore)]
#[map_store(storage = "inline", allow(slow_storage))]
pub struct Allowed {
    pub bytes: [u8; 512],
}

fn main() {}
