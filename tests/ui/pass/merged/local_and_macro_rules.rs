//! The derive inside a function body and inside `macro_rules!`.
#![deny(warnings)]

use mapstore::{MapStore, MapValue, StorageKind};

macro_rules! value_type {
    ($name:ident, $field:ident: $ty:ty) => {
        #[derive(MapStore)]
        pub struct $name {
            pub $field: $ty,
        }
    };
}

value_type!(Counter, hits: u64);
value_type!(Labels, names: Vec<String>);

macro_rules! fixed_type {
    () => {
        #[derive(MapStore)]
        #[map_store(store = "FixedMap")]
        struct Fixed {
            bytes: [u8; 200],
        }
    };
}

fixed_type!();

pub fn main() {
    #[derive(MapStore)]
    struct Local {
        x: u8,
        name: String,
    }

    let mut locals: LocalStore<u8> = MapStore::new();
    locals.insert(
        1,
        Local {
            x: 2,
            name: String::new(),
        },
    );
    assert_eq!(locals.get(&1).map(|l| l.x + l.name.len() as u8), Some(2));
    assert_eq!(<Local as MapValue>::PLAN.heap_fields, &["name"]);

    let mut counters: CounterStore<&str> = MapStore::new();
    counters.insert("a", Counter { hits: 1 });
    assert_eq!(counters.get("a").map(|c| c.hits), Some(1));
    assert_eq!(<Labels as MapValue>::PLAN.heap_fields, &["names"]);
    let _ = Labels { names: Vec::new() }.names;

    let mut fixed: FixedMap<u8> = MapStore::new();
    fixed.insert(0, Fixed { bytes: [1; 200] });
    assert_eq!(fixed.get(&0).map(|f| f.bytes[0]), Some(1));
    assert_eq!(fixed.storage(), StorageKind::Pooled);
}
