//! The generated code uses absolute paths only.
#![no_implicit_prelude]
#![deny(warnings)]

#[derive(::mapstore::MapStore)]
struct Reading {
    sensor: u32,
    label: ::std::string::String,
}

#[derive(::mapstore::MapStore)]
#[map_store(storage = "pooled")]
struct Wrapper<T> {
    value: T,
}

/// A type held in its own store: the derive's twins use absolute paths too.
#[derive(::mapstore::MapStore)]
struct Tree {
    children: ::mapstore::MapStore<u8, Tree>,
}

mod inner {
    #[derive(::mapstore::MapStore)]
    #[repr(C)]
    pub(crate) enum Level {
        Low,
        High(u8),
    }
}

fn main() {
    let tree = Tree {
        children: ::mapstore::MapStore::new(),
    };
    ::std::assert!(tree.children.is_empty());
    let mut readings: ReadingStore<u8> = ::mapstore::MapStore::new();
    readings.insert(
        1,
        Reading {
            sensor: 2,
            label: ::std::string::String::new(),
        },
    );
    ::std::assert_eq!(
        readings.get(&1).map(|r| r.sensor),
        ::std::option::Option::Some(2)
    );
    ::std::assert!(readings
        .get(&1)
        .map(|r| r.label.is_empty())
        .unwrap_or(false));
    let mut wrapped: WrapperStore<u64, u8> = ::mapstore::MapStore::new();
    wrapped.insert(1, Wrapper { value: 3 });
    ::std::assert_eq!(
        wrapped.get(&1).map(|w| w.value),
        ::std::option::Option::Some(3)
    );
    let levels: inner::LevelStore<u8> = ::mapstore::MapStore::new();
    ::std::assert_eq!(levels.len(), 0);
    let _ = (inner::Level::Low, inner::Level::High(1));
}
