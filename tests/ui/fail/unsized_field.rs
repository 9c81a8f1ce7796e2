//! A last field without a size: one error from the derive at the field's
//! type, with the fix, and nothing more (rustc alone would report it three
//! times, once at the derive). The type is printed as rustc prints one.
use mapstore::MapStore;

#[derive(MapStore)]
pub struct Bytes {
    pub data: [u8],
}

pub trait Shape {}

#[derive(MapStore)]
pub struct AnyShape {
    pub shape: dyn Shape,
}

#[derive(MapStore)]
#[map_store(storage = "boxed")]
pub struct Tail<T: ?Sized> {
    pub value: T,
}

#[derive(MapStore)]
pub struct Name {
    pub id: u32,
    pub name: str,
}

#[derive(MapStore)]
pub struct Printer {
    pub sink: dyn std::fmt::Write + Send,
}

fn main() {}
