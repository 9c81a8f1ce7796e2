#![deny(deprecated)]

use mapstore::MapStore;

#[derive(MapStore)]
#[map_store(explain)]
pub struct Inline {
    pub id: u64,
}

// 24 bytes: rustc prints `Bytes::<24>`.
#[derive(MapStore)]
#[map_store(explain)]
pub struct Token {
    pub id: u64,
    pub issued: u64,
    pub expires: u64,
}

#[derive(MapStore)]
#[map_store(explain)]
pub struct Pooled {
    pub bytes: [u8; 300],
}

// Above the exact sizes: a range, `BytesBetween::<2049, 4095>`.
#[derive(MapStore)]
#[map_store(explain, optimize = "reads")]
pub struct Range {
    pub bytes: [u8; 3000],
}

#[derive(MapStore)]
#[map_store(explain)]
pub struct Boxed {
    pub bytes: [u8; 1 << 20],
}

#[derive(MapStore)]
#[map_store(explain)]
#[repr(align(4096))]
pub struct PageAligned {
    pub byte: u8,
}

// A forced storage: the note names it, not the policy's choice (which
// would pool 800 bytes).
#[derive(MapStore)]
#[map_store(explain, storage = "inline", allow(slow_storage))]
pub struct ForcedInline {
    pub words: [u64; 100],
}

#[derive(MapStore)]
#[map_store(storage = "pooled", explain)]
pub struct Generic<T> {
    pub value: T,
}

fn main() {}
