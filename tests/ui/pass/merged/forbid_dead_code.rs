//! A module under `#![forbid(dead_code, deprecated)]`: the derive's output
//! carries no `allow` of either (which `forbid` rejects), and its aliases,
//! used by nothing here, draw no `dead_code` error.
#![forbid(dead_code, deprecated)]

use mapstore::{MapValue, StorageKind};

#[derive(mapstore::MapStore)]
pub struct Public {
    pub id: u64,
}

#[derive(mapstore::MapStore)]
struct Private {
    id: u64,
    name: String,
}

#[derive(mapstore::MapStore)]
#[map_store(storage = "inline")]
struct Borrowed<'a, T, const N: usize> {
    items: &'a [T; N],
}

pub fn main() {
    let private = Private {
        id: 1,
        name: String::from("a"),
    };
    let borrowed = Borrowed::<u8, 2> { items: &[1, 2] };
    assert_eq!(private.id as usize + private.name.len() + borrowed.items.len(), 4);
    assert_eq!(<Private as MapValue>::PLAN.storage, StorageKind::Inline);
    assert_eq!(Public { id: 7 }.id, 7);
}
