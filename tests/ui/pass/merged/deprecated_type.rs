//! `#[deprecated]` types and field types derive without a warning, as with
//! std's derives (the derive's own notes are another matter: `explain` and
//! the layout warnings still fire where asked for).
#![deny(warnings)]

use mapstore::MapValue;

#[deprecated(note = "use New")]
#[derive(mapstore::MapStore)]
pub struct Old {
    pub a: u8,
}

#[deprecated(note = "use NewField")]
#[derive(Clone, Copy)]
pub struct OldField(pub u64);

#[allow(deprecated)]
#[derive(mapstore::MapStore)]
#[repr(C)]
#[map_store(allow(padding))]
pub struct HoldsOld {
    pub flag: u8,
    pub old: OldField,
}

#[deprecated(note = "use NewSlot")]
#[derive(mapstore::MapStore)]
#[map_store(storage = "pooled")]
pub struct OldSlot<T> {
    pub value: T,
}

#[deprecated(note = "use NewTree")]
#[derive(mapstore::MapStore)]
pub struct OldTree {
    pub kids: mapstore::MapStore<u8, OldTree>,
}

#[allow(deprecated)]
pub fn main() {
    assert_eq!(<Old as MapValue>::PLAN.size, 1);
    assert_eq!(<HoldsOld as MapValue>::PLAN.size, 16);
    assert!(<OldSlot<u8> as MapValue>::PLAN.forced);
    let tree = OldTree {
        kids: mapstore::MapStore::new(),
    };
    assert!(tree.kids.is_empty());
    let held = HoldsOld {
        flag: 1,
        old: OldField(2),
    };
    assert_eq!(u64::from(held.flag) + held.old.0 + u64::from(Old { a: 3 }.a), 6);
}
