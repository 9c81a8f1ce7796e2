//! What `#[derive(MapStore)]` decides, pinned at compile time
//! (`static_assertions`) and checked field by field in `MapValue::PLAN`.

#![allow(dead_code)] // The types exist for their layouts.

use core::mem::{align_of, needs_drop, size_of};

use mapstore::storage::{Boxed, Inline, Pooled};
use mapstore::{MapStore, MapValue, StorageKind, BOXED_MIN_ALIGN, BOXED_MIN_SIZE, INLINE_MAX_SIZE};
use static_assertions::{assert_type_eq_all, const_assert, const_assert_eq};

#[derive(MapStore)]
struct Tiny {
    id: u32,
    flag: bool,
}

#[derive(MapStore)]
struct AtInlineMax {
    bytes: [u8; INLINE_MAX_SIZE],
}

#[derive(MapStore)]
struct JustOverInline {
    bytes: [u8; INLINE_MAX_SIZE + 1],
}

#[derive(MapStore)]
struct Medium {
    bytes: [u8; 300],
    name: String,
}

#[derive(MapStore)]
struct Huge {
    bytes: [u8; BOXED_MIN_SIZE],
}

#[derive(MapStore)]
#[repr(align(4096))]
struct PageAligned {
    byte: u8,
}

#[derive(MapStore)]
#[map_store(storage = "boxed", allow(slow_storage))]
struct ForcedBoxed {
    id: u64,
}

#[derive(MapStore)]
#[map_store(storage = "pooled")]
struct ForcedPooled {
    id: u64,
}

#[derive(MapStore)]
#[map_store(storage = "inline", allow(slow_storage))]
struct ForcedInline {
    bytes: [u8; 1000],
}

#[derive(MapStore)]
#[map_store(storage = "pooled")]
struct Generic<T> {
    value: T,
}

#[derive(MapStore)]
struct Owning<'a> {
    name: String,
    tags: Vec<u8>,
    parent: Option<Box<u8>>,
    view: &'a str,
    raw: *const u8,
    counts: [u32; 4],
    shared: (u8, std::rc::Rc<u8>),
    // Holds no heap memory whatever its parameter says.
    #[allow(clippy::borrowed_box)]
    marker: core::marker::PhantomData<&'a Box<u8>>,
}

#[derive(MapStore)]
struct Tuple(u8, String, [Vec<u8>; 2]);

#[derive(MapStore)]
#[allow(dead_code)]
enum Message {
    Quit,
    Move { x: i32, y: i32 },
    Write(String),
    Batch(u8, Vec<Message>),
}

#[derive(MapStore)]
#[map_store(allow(zero_sized))]
struct Unit;

assert_type_eq_all!(<Tiny as MapValue>::Storage, Inline);
assert_type_eq_all!(<AtInlineMax as MapValue>::Storage, Inline);
assert_type_eq_all!(<JustOverInline as MapValue>::Storage, Pooled);
assert_type_eq_all!(<Medium as MapValue>::Storage, Pooled);
assert_type_eq_all!(<Huge as MapValue>::Storage, Boxed);
assert_type_eq_all!(<PageAligned as MapValue>::Storage, Boxed);
assert_type_eq_all!(<ForcedBoxed as MapValue>::Storage, Boxed);
assert_type_eq_all!(<ForcedPooled as MapValue>::Storage, Pooled);
assert_type_eq_all!(<ForcedInline as MapValue>::Storage, Inline);
assert_type_eq_all!(
    <Generic<u8> as MapValue>::Storage,
    <Generic<[u8; 1 << 20]> as MapValue>::Storage,
    Pooled
);
assert_type_eq_all!(<Owning<'static> as MapValue>::Storage, Inline);
assert_type_eq_all!(<Unit as MapValue>::Storage, Inline);
assert_type_eq_all!(TinyStore<u8>, MapStore<u8, Tiny, mapstore::DefaultHashBuilder>);
assert_type_eq_all!(GenericStore<u16, u8, ()>, MapStore<u8, Generic<u16>, ()>);

const_assert!(align_of::<PageAligned>() >= BOXED_MIN_ALIGN);
const_assert_eq!(<Medium as MapValue>::PLAN.size, size_of::<Medium>());

fn plan_of<V: MapValue>() -> mapstore::Plan {
    V::PLAN
}

#[test]
fn plan_records_the_layout() {
    let plan = plan_of::<Tiny>();
    assert_eq!(plan.type_name, "Tiny");
    assert_eq!(plan.size, size_of::<Tiny>());
    assert_eq!(plan.align, align_of::<Tiny>());
    assert!(!plan.needs_drop);
    assert_eq!(plan.heap_fields, &[] as &[&str]);
    assert_eq!(plan.storage, StorageKind::Inline);
    assert!(!plan.forced);
    assert_eq!(plan.storage, plan.chosen());

    let plan = plan_of::<Medium>();
    assert_eq!(plan.size, size_of::<Medium>());
    assert!(plan.size > INLINE_MAX_SIZE && plan.size < BOXED_MIN_SIZE);
    assert!(plan.needs_drop);
    assert_eq!(plan.heap_fields, &["name"]);
    assert_eq!(plan.storage, StorageKind::Pooled);

    let plan = plan_of::<Huge>();
    assert_eq!(plan.size, BOXED_MIN_SIZE);
    assert_eq!(plan.storage, StorageKind::Boxed);
    assert!(!plan.forced);

    assert_eq!(plan_of::<PageAligned>().align, align_of::<PageAligned>());
}

#[test]
fn forced_storages_are_recorded() {
    let plan = plan_of::<ForcedBoxed>();
    assert!(plan.forced);
    assert_eq!(plan.storage, StorageKind::Boxed);
    assert_eq!(plan.chosen(), StorageKind::Inline);
    assert!(plan.is_slow_choice());

    let plan = plan_of::<ForcedPooled>();
    assert!(plan.forced);
    assert_eq!(plan.storage, StorageKind::Pooled);
    assert!(!plan.is_slow_choice());

    let plan = plan_of::<ForcedInline>();
    assert!(plan.forced);
    assert_eq!(plan.storage, StorageKind::Inline);
    assert_eq!(plan.chosen(), StorageKind::Pooled);
    assert!(plan.is_slow_choice());

    let plan = plan_of::<Generic<[u8; 3]>>();
    assert_eq!(plan.type_name, "Generic<T>");
    assert_eq!(plan.size, 3);
    assert!(plan.forced);
    assert_eq!(plan.storage, StorageKind::Pooled);
    assert_eq!(
        plan_of::<Generic<String>>().needs_drop,
        needs_drop::<String>()
    );
}

#[test]
fn heap_fields_are_found_syntactically() {
    let plan = plan_of::<Owning<'static>>();
    assert_eq!(plan.type_name, "Owning<'a>");
    assert_eq!(
        plan.heap_fields,
        &["name", "tags", "parent", "view", "raw", "shared"]
    );
    assert!(plan.needs_drop);
    assert_eq!(plan_of::<Tuple>().heap_fields, &["1", "2"]);
    assert_eq!(plan_of::<Message>().heap_fields, &["Write.0", "Batch.1"]);
    assert_eq!(plan_of::<Unit>().size, 0);
}

#[test]
fn plan_displays_the_decision() {
    let text = plan_of::<Medium>().to_string();
    assert!(text.starts_with("Medium: pooled ("), "{text}");
    assert!(text.contains("heap fields: name"), "{text}");
}

#[test]
fn derived_types_work_in_a_map() {
    let mut tiny: TinyStore<u32> = MapStore::new();
    tiny.insert(1, Tiny { id: 1, flag: true });
    assert_eq!(tiny.get(&1).map(|t| (t.id, t.flag)), Some((1, true)));
    assert_eq!(tiny.storage(), StorageKind::Inline);

    let mut medium: MediumStore<u32> = MapStore::new();
    medium.insert(
        1,
        Medium {
            bytes: [1; 300],
            name: "m".into(),
        },
    );
    assert_eq!(
        medium.get(&1).map(|m| (m.bytes[299], m.name.len())),
        Some((1, 1))
    );
    assert_eq!(medium.storage(), StorageKind::Pooled);

    let mut generic: GenericStore<u64, &str> = MapStore::new();
    generic.insert("a", Generic { value: 7 });
    assert_eq!(generic.get("a").map(|g| g.value), Some(7));
    assert_eq!(generic.len(), 1);
}
