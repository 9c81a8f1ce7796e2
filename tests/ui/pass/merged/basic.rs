//! Named, tuple and unit structs and an enum with data, used in a map.
#![deny(warnings)]

use mapstore::{MapStore, MapValue, StorageKind};

#[derive(MapStore, Debug, PartialEq)]
pub struct User {
    pub id: u64,
    pub name: String,
}

#[derive(MapStore, Debug, PartialEq)]
struct Pair(u32, Vec<u8>);

#[derive(MapStore)]
#[map_store(allow(zero_sized))]
struct Marker;

#[derive(MapStore, Debug, PartialEq)]
enum Shape {
    Circle { radius: f32 },
    Named(String),
    Empty,
}

#[derive(MapStore)]
struct Frame {
    pixels: [u8; 1024],
}

pub fn main() {
    let mut users: UserStore<u64> = MapStore::new();
    users.insert(
        1,
        User {
            id: 1,
            name: "ada".into(),
        },
    );
    assert_eq!(users.get(&1).map(|u| u.name.as_str()), Some("ada"));
    assert_eq!(users.len(), 1);
    assert_eq!(users.storage(), StorageKind::Inline);
    assert_eq!(<User as MapValue>::PLAN.heap_fields, &["name"]);
    assert_eq!(<User as MapValue>::PLAN.type_name, "User");

    let mut pairs: PairStore<&str> = MapStore::new();
    pairs.insert("a", Pair(1, vec![2]));
    assert_eq!(pairs.get("a"), Some(&Pair(1, vec![2])));
    assert_eq!(<Pair as MapValue>::PLAN.heap_fields, &["1"]);

    let mut markers: MarkerStore<u8> = MapStore::new();
    markers.insert(1, Marker);
    assert_eq!(markers.len(), 1);
    assert_eq!(<Marker as MapValue>::PLAN.size, 0);

    let mut shapes: ShapeStore<u8> = MapStore::new();
    shapes.insert(0, Shape::Circle { radius: 1.0 });
    shapes.insert(1, Shape::Named("x".into()));
    shapes.insert(2, Shape::Empty);
    assert_eq!(shapes.get(&2), Some(&Shape::Empty));
    assert_eq!(<Shape as MapValue>::PLAN.heap_fields, &["Named.0"]);

    let mut frames: FrameStore<u8> = MapStore::new();
    frames.insert(0, Frame { pixels: [7; 1024] });
    assert_eq!(frames.get(&0).map(|f| f.pixels[1023]), Some(7));
    assert_eq!(frames.storage(), StorageKind::Pooled);
    let _ = <Frame as MapValue>::PLAN.to_string();
}
