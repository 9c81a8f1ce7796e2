//! `#[map_store(...)]` on a field or a variant: rustc accepts the helper
//! attribute there, so the derive reports it rather than ignore it.
use mapstore::MapStore;

#[derive(MapStore)]
pub struct Reading {
    #[map_store(storage = "boxed")]
    pub value: u64,
    pub at: u64,
}

#[derive(MapStore)]
pub enum Event {
    #[map_store(storage = "boxed")]
    Start(#[map_store(explain)] u64),
    Stop,
}

fn main() {}
