#![deny(deprecated)]

use mapstore::MapStore;

// Fires: 24 bytes where `u64, u8, u8` would take 16.
#[derive(MapStore)]
#[repr(C)]
pub struct Header<'a> {
    pub tag: u8,
    pub len: u64,
    pub flags: u8,
    pub name: core::marker::PhantomData<&'a str>,
}

// Silent: ordered by decreasing alignment.
#[derive(MapStore)]
#[repr(C)]
pub struct Ordered {
    pub len: u64,
    pub tag: u8,
    pub flags: u8,
}

// Silent: only the type's alignment pads it, which no order removes.
#[derive(MapStore)]
#[repr(C, align(16))]
pub struct Aligned {
    pub len: u64,
    pub tag: u8,
}

// Silent: not `repr(C)`, rustc reorders the fields itself.
#[derive(MapStore)]
pub struct Rust {
    pub tag: u8,
    pub len: u64,
    pub flags: u8,
}

fn main() {}
