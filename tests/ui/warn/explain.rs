#![deny(deprecated)]

use mapstore::MapStore;

#[derive(MapStore)]
#[map_store(explain)]
pub struct Inline {
    pub id: u64,
}

#[derive(MapStore)]
#[map_store(explain)]
pub struct Pooled {
    pub bytes: [u8; 4096],
}

#[derive(MapStore)]
#[map_store(explain)]
pub struct Boxed {
    pub bytes: [u8; 1 << 20],
}

#[derive(MapStore)]
#[map_store(storage = "pooled", explain)]
pub struct Generic<T> {
    pub value: T,
}

fn main() {}
