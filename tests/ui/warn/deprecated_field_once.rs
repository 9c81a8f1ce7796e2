// A deprecated field type is reported once, where the field names it, as
// with std's derives: the padding check of a `repr(C)` struct reads each
// field's size through the field, without naming its type again.
#![deny(deprecated)]

#[deprecated(note = "use `Stamp` instead")]
#[derive(Clone, Copy)]
pub struct OldStamp(pub u64);

#[derive(mapstore::MapStore)]
#[repr(C)]
#[map_store(allow(padding))]
pub struct Event {
    pub kind: u8,
    pub at: OldStamp,
}

fn main() {}
