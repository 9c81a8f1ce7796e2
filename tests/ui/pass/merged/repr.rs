//! `repr(C)`, `repr(packed)`, `repr(align(N))`, `repr(u8)`, `repr(transparent)`
//! and zero-sized types, with no warning unless the layout deserves one.
#![deny(warnings)]

use mapstore::{MapStore, MapValue, StorageKind};

/// Ordered by decreasing alignment: no padding to remove, no warning.
#[derive(MapStore)]
#[repr(C)]
pub struct Ordered {
    pub a: u64,
    pub b: u32,
    pub c: u8,
}

/// Padded, but silenced for this type.
#[derive(MapStore)]
#[repr(C)]
#[map_store(allow(padding))]
pub struct Header {
    pub tag: u8,
    pub len: u64,
}

/// Field types with lifetimes bound inside them (`for<'x>`): the padding
/// check names each field's type with the type's own lifetimes as
/// `'static`, and must leave these alone (`for<'static>` is not Rust). The
/// fields are ordered by decreasing alignment: no warning.
#[derive(MapStore)]
#[repr(C)]
pub struct Callbacks<'a> {
    pub on_event: Box<dyn for<'x> Fn(&'x u8) -> &'x u8>,
    pub trim: for<'x> fn(&'x str) -> &'x str,
    pub name: &'a str,
    pub tag: u8,
}

#[derive(MapStore, Clone, Copy)]
#[repr(C, packed)]
pub struct Packed {
    pub tag: u8,
    pub len: u64,
}

#[derive(MapStore)]
#[repr(align(64))]
pub struct CacheLine {
    pub counter: u64,
}

#[derive(MapStore)]
#[repr(C, align(4096))]
pub struct Page {
    pub first: u8,
}

#[derive(MapStore)]
#[repr(u8)]
pub enum Level {
    Low = 1,
    High = 2,
}

#[derive(MapStore)]
#[repr(transparent)]
pub struct Meters(pub f64);

#[derive(MapStore)]
#[map_store(allow(zero_sized))]
pub struct Nothing {}

#[derive(MapStore)]
#[map_store(allow(zero_sized))]
pub enum Never {}

pub fn main() {
    assert_eq!(<Packed as MapValue>::PLAN.size, 9);
    assert_eq!(<Packed as MapValue>::PLAN.align, 1);
    assert_eq!(<Header as MapValue>::PLAN.size, 16);
    assert_eq!(<CacheLine as MapValue>::PLAN.align, 64);
    assert_eq!(<Page as MapValue>::PLAN.storage, StorageKind::Boxed);
    assert_eq!(<Nothing as MapValue>::PLAN.size, 0);
    assert_eq!(<Never as MapValue>::PLAN.size, 0);

    let mut packed: PackedStore<u8> = MapStore::new();
    packed.insert(1, Packed { tag: 1, len: 2 });
    assert_eq!(packed.get(&1).map(|p| p.len), Some(2));
    let mut lines: CacheLineStore<u8> = MapStore::new();
    lines.insert(1, CacheLine { counter: 3 });
    assert_eq!(lines.get(&1).map(|l| l.counter), Some(3));
    let mut pages: PageStore<u8> = MapStore::new();
    pages.insert(1, Page { first: 4 });
    assert_eq!(pages.get(&1).map(|p| p.first), Some(4));
    assert_eq!(pages.storage(), StorageKind::Boxed);
    let mut levels: LevelStore<u8> = MapStore::new();
    levels.insert(1, Level::High);
    assert!(matches!(levels.get(&1), Some(Level::High)));
    let _ = (Level::Low, Meters(1.0).0, Nothing {});
    let _ = Ordered { a: 1, b: 2, c: 3 };
    let _ = Header { tag: 1, len: 2 };

    fn same(x: &u8) -> &u8 {
        x
    }
    // Declared before the map: the maps' drop borrows what their values
    // borrow (hashbrown's on stable Rust do the same; std's may not).
    let name = String::from("hook");
    let mut hooks: CallbacksStore<'_, u8> = MapStore::new();
    hooks.insert(1, Callbacks { on_event: Box::new(same), trim: str::trim, name: &name, tag: 7 });
    assert_eq!((hooks[&1].trim)(" x "), "x");
    assert_eq!(*(hooks[&1].on_event)(&5), 5);
    assert_eq!((hooks[&1].name, hooks[&1].tag), ("hook", 7));
}
