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

// Fires from `reads_heap`: 104 bytes owning heap memory, over the 96-byte
// limit `reads` keeps for such values (not its 256-byte one for others),
// and the note quotes that limit alone.
#[derive(MapStore)]
#[map_store(storage = "inline", optimize = "reads")]
pub struct Profile {
    pub name: String,
    pub bytes: [u8; 80],
}

// Silent: 104 bytes owning no heap memory, under that 256-byte limit.
#[derive(MapStore)]
#[map_store(storage = "inline", optimize = "reads")]
pub struct Plain {
    pub bytes: [u8; 104],
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
