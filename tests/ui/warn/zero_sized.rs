#![deny(deprecated)]

use mapstore::MapStore;

#[derive(MapStore)]
pub struct Present;

#[derive(MapStore)]
pub struct Empty {
    pub nothing: (),
    pub marker: core::marker::PhantomData<u64>,
}

#[derive(MapStore)]
#[map_store(allow(zero_sized))]
pub struct Allowed;

#[derive(MapStore)]
pub struct NotEmpty(pub u8);

// Forced boxed: only the zero-sized warning (a box of nothing allocates
// nothing, so there is no slow-storage warning).
#[derive(MapStore)]
#[map_store(storage = "boxed")]
pub struct BoxedNothing;

fn main() {}
