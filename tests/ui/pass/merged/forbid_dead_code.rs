//! A module under `#![forbid(dead_code, deprecated)]`: the derive's output
//! carries no `allow` of either (which `forbid` rejects), and its aliases,
//! used by nothing here, draw no `dead_code` error; nor do the twins the
//! derive lays out for a type held in its own store (a struct with a
//! `#[cfg]`'d field, a packed one, an enum of named, tuple and unit
//! variants).
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

#[derive(mapstore::MapStore)]
struct Tree {
    depth: u32,
    #[cfg(any())]
    gone: String,
    kids: mapstore::MapStore<u8, Tree>,
}

#[derive(mapstore::MapStore)]
#[repr(C, packed)]
struct PackedTree {
    depth: u8,
    kids: PackedTreeStore<u8>,
}

#[derive(mapstore::MapStore)]
enum Value {
    Null,
    Num(f64),
    Obj(mapstore::MapStore<String, Value>),
    #[cfg(any())]
    Gone { x: u8 },
    Pair {
        tag: u8,
        #[cfg(any())]
        gone: u8,
        kids: ValueStore<u8>,
    },
}

pub fn main() {
    let tree = Tree {
        depth: 1,
        kids: mapstore::MapStore::new(),
    };
    let packed = PackedTree {
        depth: 2,
        kids: mapstore::MapStore::new(),
    };
    assert_eq!(tree.depth + tree.kids.len() as u32 + u32::from(packed.depth), 3);
    let kids = packed.kids;
    assert!(kids.is_empty());
    for value in [
        Value::Null,
        Value::Num(1.0),
        Value::Obj(mapstore::MapStore::new()),
        Value::Pair {
            tag: 1,
            kids: mapstore::MapStore::new(),
        },
    ] {
        match value {
            Value::Null => {}
            Value::Num(n) => assert_eq!(n, 1.0),
            Value::Obj(map) => assert!(map.is_empty()),
            Value::Pair { tag, kids } => assert_eq!(tag as usize + kids.len(), 1),
        }
    }
    let private = Private {
        id: 1,
        name: String::from("a"),
    };
    let borrowed = Borrowed::<u8, 2> { items: &[1, 2] };
    assert_eq!(private.id as usize + private.name.len() + borrowed.items.len(), 4);
    assert_eq!(<Private as MapValue>::PLAN.storage, StorageKind::Inline);
    assert_eq!(Public { id: 7 }.id, 7);
}
