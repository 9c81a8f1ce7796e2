//! What `#[derive(MapStore)]` decides, pinned at compile time
//! (`static_assertions`) and checked field by field in `MapValue::PLAN`.

#![allow(dead_code)] // The types exist for their layouts.

use core::mem::{align_of, needs_drop, size_of};

use mapstore::storage::{Boxed, Inline, Pooled, Storage};
use mapstore::{
    choose, MapStore, MapValue, Optimize, Plan, SlowChoice, StorageKind, ValueLayout,
    BOXED_MIN_ALIGN, BOXED_MIN_SIZE, INLINE_MAX_SIZE, MEMORY, READS, WRITES,
};
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
#[map_store(storage = "pooled", allow(slow_storage))]
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

// One type per goal, at and just over that goal's inline limit: the goal
// reaches `choose`, whatever the thresholds' values.
#[derive(MapStore)]
#[map_store(optimize = "reads")]
struct AtReadsInlineMax {
    bytes: [u8; READS.inline_max_size],
}

#[derive(MapStore)]
#[map_store(optimize = "reads")]
struct OverReadsInlineMax {
    bytes: [u8; READS.inline_max_size + 1],
}

#[derive(MapStore)]
#[map_store(optimize = "writes")]
struct OverWritesInlineMax {
    bytes: [u8; WRITES.inline_max_size + 1],
}

#[derive(MapStore)]
#[map_store(optimize = "memory")]
struct AtMemoryInlineMax {
    bytes: [u8; MEMORY.inline_max_size],
}

#[derive(MapStore)]
#[map_store(optimize = "memory")]
struct OverMemoryInlineMax {
    bytes: [u8; MEMORY.inline_max_size + 1],
    name: String,
}

#[derive(MapStore)]
#[map_store(optimize = "writes", storage = "boxed", allow(slow_storage))]
struct ForcedWrites {
    id: u64,
}

/// Whether `V`'s plan has goal `goal`, the storage `choose` picks for its
/// layout and that goal, and a `Storage` type that agrees with it.
const fn chosen_for<V: MapValue>(goal: Optimize, owns_heap: bool) -> bool {
    let plan = V::PLAN;
    plan.goal as u8 == goal as u8
        && !plan.forced
        && plan.storage as u8 == choose(ValueLayout::of::<V>(owns_heap), goal) as u8
        && plan.storage as u8 == <V::Storage as Storage>::KIND as u8
}

const_assert!(chosen_for::<Tiny>(Optimize::Balanced, false));
const_assert!(chosen_for::<Medium>(Optimize::Balanced, true));
const_assert!(chosen_for::<AtReadsInlineMax>(Optimize::Reads, false));
const_assert!(chosen_for::<OverReadsInlineMax>(Optimize::Reads, false));
const_assert!(chosen_for::<OverWritesInlineMax>(Optimize::Writes, false));
const_assert!(chosen_for::<AtMemoryInlineMax>(Optimize::Memory, false));
const_assert!(chosen_for::<OverMemoryInlineMax>(Optimize::Memory, true));
const_assert!(<AtReadsInlineMax as MapValue>::PLAN.storage as u8 == StorageKind::Inline as u8);
const_assert!(<AtMemoryInlineMax as MapValue>::PLAN.storage as u8 == StorageKind::Inline as u8);
const_assert!(<OverReadsInlineMax as MapValue>::PLAN.storage as u8 != StorageKind::Inline as u8);
const_assert!(<OverWritesInlineMax as MapValue>::PLAN.storage as u8 != StorageKind::Inline as u8);
const_assert!(<ForcedWrites as MapValue>::PLAN.goal as u8 == Optimize::Writes as u8);
assert_type_eq_all!(<ForcedWrites as MapValue>::Storage, Boxed);

/// A hand-written impl that states its storage once.
struct HandPooled([u8; 40]);

impl MapValue for HandPooled {
    type Storage = Pooled;
    const PLAN: Plan = Plan::of::<Self>("HandPooled", &[]);
}

const_assert!(<HandPooled as MapValue>::PLAN.forced);
const_assert!(<HandPooled as MapValue>::PLAN.size == 40);
const_assert!(<HandPooled as MapValue>::PLAN.storage as u8 == StorageKind::Pooled as u8);

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
// 104 bytes: over the balanced inline limit (48 B).
assert_type_eq_all!(<Owning<'static> as MapValue>::Storage, Pooled);
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
    assert_eq!(plan.slow_choice(), Some(SlowChoice::BoxedSmall));
    assert!(plan.is_slow_choice());

    let plan = plan_of::<ForcedPooled>();
    assert!(plan.forced);
    assert_eq!(plan.storage, StorageKind::Pooled);
    assert_eq!(plan.chosen(), StorageKind::Inline);
    assert_eq!(plan.slow_choice(), Some(SlowChoice::PooledSmall));
    assert!(
        plan.reason
            .contains("pointer chase per lookup into the pool"),
        "{plan}"
    );

    let plan = plan_of::<ForcedInline>();
    assert!(plan.forced);
    assert_eq!(plan.storage, StorageKind::Inline);
    assert_eq!(plan.chosen(), StorageKind::Pooled);
    assert_eq!(plan.slow_choice(), Some(SlowChoice::InlineLarge));
    assert!(plan.reason.contains("would not store it inline"), "{plan}");

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
    assert!(text.contains("optimized for balanced"), "{text}");
    let limit = format!("over the {INLINE_MAX_SIZE}-byte inline limit");
    assert!(text.contains(&limit), "{text}");

    let text = plan_of::<OverMemoryInlineMax>().to_string();
    assert!(text.contains("optimized for memory"), "{text}");
    assert!(
        text.contains(&format!("{}-byte box limit", MEMORY.boxed_min_size)),
        "{text}"
    );
}

#[test]
fn goals_reach_the_plan() {
    let plan = plan_of::<AtReadsInlineMax>();
    assert_eq!(plan.goal, Optimize::Reads);
    assert_eq!(plan.size, Optimize::Reads.thresholds().inline_max_size);
    assert_eq!(plan.storage, StorageKind::Inline);
    assert_eq!(plan_of::<OverWritesInlineMax>().goal, Optimize::Writes);
    assert_eq!(plan_of::<OverMemoryInlineMax>().heap_fields, &["name"]);
    assert_eq!(plan_of::<Tiny>().goal, Optimize::Balanced);
    assert_eq!(plan_of::<Generic<u8>>().goal, Optimize::Balanced);

    // `optimize` re-chooses a chosen plan, and keeps a forced one.
    for goal in Optimize::ALL {
        let plan = plan_of::<Medium>().optimize(goal);
        assert_eq!(plan.goal, goal);
        assert_eq!(plan.storage, choose(ValueLayout::of::<Medium>(true), goal));
        let forced = plan_of::<ForcedWrites>().optimize(goal);
        assert_eq!((forced.storage, forced.forced), (StorageKind::Boxed, true));
    }
}

#[test]
fn hand_written_plans_state_the_storage_once() {
    let plan = plan_of::<HandPooled>();
    assert_eq!(
        plan.storage,
        <<HandPooled as MapValue>::Storage as Storage>::KIND
    );
    assert_eq!((plan.size, plan.align), (40, 1));
    assert!(!plan.needs_drop);
    assert_eq!(plan.goal, Optimize::Balanced);
    // The policy would inline 40 bytes: pooled is forced, and slower on
    // lookups (the derive warns about it: `POOLED_SMALL_VALUE`).
    if plan.chosen() == StorageKind::Inline {
        assert_eq!(plan.slow_choice(), Some(SlowChoice::PooledSmall));
        assert_eq!(
            plan.reason,
            "forced; the policy would store it inline: a pointer chase per lookup into the pool for nothing"
        );
    }
    let mut map: MapStore<u8, HandPooled> = MapStore::new();
    map.insert(1, HandPooled([3; 40]));
    assert_eq!(map[&1].0[39], 3);
    assert_eq!(map.storage(), StorageKind::Pooled);
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

/// A type holding its own store through the derive's alias: the field is a
/// map, so it is a heap field, as a store spelled out is.
#[derive(MapStore)]
pub struct SelfHeld {
    pub kids: SelfHeldStore<u64>,
    pub depth: u32,
}

/// The same through a renamed alias.
#[derive(MapStore)]
#[map_store(store = "Forest")]
pub struct Grove {
    pub depth: u32,
    pub trees: Option<Forest<u8>>,
}

#[test]
fn a_store_of_the_type_itself_is_a_heap_field() {
    assert_eq!(plan_of::<SelfHeld>().heap_fields, &["kids"]);
    assert_eq!(plan_of::<Grove>().heap_fields, &["trees"]);
    let mut root = SelfHeld {
        kids: MapStore::new(),
        depth: 0,
    };
    root.kids.insert(
        1,
        SelfHeld {
            kids: MapStore::new(),
            depth: 1,
        },
    );
    assert_eq!(root.kids[&1].depth, 1);
}

/// The derive finds a type held in its own store through the wrappers whose
/// `MapValue` takes the storage of what they hold (`MapStore<u8,
/// Mutex<Node>>`): it knows them by name, from a list in the macro crate.
/// Each such impl in the runtime is on that list, or a type held through it
/// would meet rustc's cycle error (E0391) instead of deriving.
#[test]
fn the_derive_knows_every_wrapper_that_takes_its_contents_storage() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |path: &str| std::fs::read_to_string(root.join(path)).expect(path);
    let impls = read("runtime/impls.rs");
    let recursive = read("macros/src/recursive.rs");

    let mut wrappers = std::collections::BTreeSet::new();
    // The macro invocations: `"Name<T>": path::Name<T>,` lines.
    for invocation in [
        "\nwrapper_value!(",
        " wrapper_value!(",
        "\nbuffered_value!(",
    ] {
        for (at, _) in impls.match_indices(invocation) {
            let body = &impls[at..];
            let body = &body[..body.find(");").expect("an invocation ends")];
            for literal in body.split('"').skip(1).step_by(2) {
                wrappers.insert(literal.split('<').next().unwrap().to_string());
            }
        }
    }
    // Impls written out: those whose `Storage` is a parameter's storage.
    let lines: Vec<&str> = impls.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(ty) = line
            .trim_start()
            .strip_prefix("impl<")
            .and_then(|l| l.split_once("MapValue for "))
        else {
            continue;
        };
        if line.contains('$') {
            continue;
        }
        let storage = lines[i + 1..]
            .iter()
            .find(|l| l.contains("type Storage"))
            .expect("an impl names its storage");
        // A parameter's storage (`T::Storage`, `<A as MapValue>::Storage`),
        // not the policy's choice named through `Chosen`.
        if storage.contains("::Storage") && !storage.contains("Chosen") {
            let path = ty.1.split('<').next().unwrap();
            wrappers.insert(path.rsplit("::").next().unwrap().to_string());
        }
    }
    assert!(
        wrappers.len() >= 20,
        "the scan found the wrappers: {wrappers:?}"
    );

    let list = recursive
        .split("const TAKES_STORAGE: &[&str] = &[")
        .nth(1)
        .expect("the macro's list")
        .split("];")
        .next()
        .unwrap();
    let known: std::collections::BTreeSet<String> = list
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    let missing: Vec<&String> = wrappers.difference(&known).collect();
    let extra: Vec<&String> = known.difference(&wrappers).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "macros/src/recursive.rs's TAKES_STORAGE lacks {missing:?} and has {extra:?} beyond runtime/impls.rs"
    );
}
