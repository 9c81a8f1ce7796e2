//! Types that hold themselves in one of the crate's stores (a tree, a JSON
//! value): without the derive's fixed point their storage would wait on
//! their size and their size on their storage (rustc's cycle error, E0391).
//! Each compiles without a warning, takes the storage the policy picks at
//! the size it ends up with, and works.
#![deny(warnings)]

use std::cell::RefCell;

use mapstore::{ConcurrentStore, MapStore, MapValue, StorageKind};

/// A tree: the children's map is part of the node (48 bytes with an inline
/// map: inline).
#[derive(MapStore, Default)]
pub struct Node {
    pub value: u32,
    pub children: MapStore<String, Node>,
}

/// A JSON value: the object variant holds a map of values.
#[derive(MapStore, Debug, PartialEq)]
pub enum Json {
    Null,
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(MapStore<String, Json>),
}

/// Large beside its map: pooled, the policy's pick at the pooled size.
#[derive(MapStore, Default)]
pub struct Wide {
    pub payload: [u64; 16],
    pub children: MapStore<u8, Self>,
}

/// Optimized for memory: boxed.
#[derive(MapStore, Default)]
#[map_store(optimize = "memory")]
pub struct Lean {
    pub kids: MapStore<u8, Lean>,
}

/// Behind a pointer, through the derive's own alias, in a cell.
#[derive(MapStore, Default)]
pub struct Sparse {
    pub kids: Option<Box<SparseStore<u8>>>,
    pub shared: std::rc::Rc<RefCell<MapStore<u8, Option<Sparse>>>>,
}

/// In a concurrent store, as part of a tuple value.
#[derive(MapStore, Default)]
pub struct Registry {
    pub entries: ConcurrentStore<u32, (u8, Registry)>,
}

/// `repr`s and discriminants are kept by the twins.
#[derive(MapStore)]
#[repr(u8)]
pub enum Tagged {
    Leaf = 1,
    Branch(MapStore<u8, Tagged>) = 7,
}

/// A lifetime, `repr(C)`: 56 bytes with an inline map, so pooled.
#[derive(MapStore)]
#[repr(C)]
pub struct Borrowed<'a> {
    pub name: &'a str,
    pub kids: MapStore<&'a str, Borrowed<'a>>,
}

/// The same through the derive's alias, which takes the lifetime first
/// (pooled, as `Borrowed`: 56 bytes with an inline map).
#[derive(MapStore)]
pub struct View<'a> {
    pub text: &'a str,
    pub kids: ViewStore<'a, String>,
}

/// Another type named `Node`, pooled.
pub mod elsewhere {
    #[derive(mapstore::MapStore, Default)]
    pub struct Node {
        pub payload: [u64; 16],
    }
}

/// A `Node` that holds another module's `Node`, not itself: its storage is
/// chosen from its size as usual (the pooled map of `elsewhere::Node` makes
/// it large: pooled). Taken for itself, its twins would say inline.
pub mod forest {
    #[derive(mapstore::MapStore, Default)]
    pub struct Node {
        pub kids: mapstore::MapStore<u8, super::elsewhere::Node>,
    }
}

/// Through every wrapper whose storage is its contents' (all but the
/// buffered writers, which need a `Write` inside): the derive knows each by
/// name, and a wrapper it did not know would be a cycle error here.
#[derive(MapStore)]
pub struct Wrapped {
    pub result: MapStore<u8, Result<Wrapped, u8>>,
    pub flow: MapStore<u8, core::ops::ControlFlow<Wrapped, u8>>,
    pub cells: MapStore<u8, (core::cell::Cell<Wrapped>, core::cell::OnceCell<Wrapped>)>,
    pub unsafe_cell: MapStore<u8, core::cell::UnsafeCell<Wrapped>>,
    pub lazy: MapStore<u8, core::cell::LazyCell<Wrapped, fn() -> Wrapped>>,
    pub locks: MapStore<u8, (std::sync::Mutex<Wrapped>, std::sync::RwLock<Wrapped>)>,
    pub once: MapStore<u8, std::sync::OnceLock<Wrapped>>,
    pub lazy_lock: MapStore<u8, std::sync::LazyLock<Wrapped, fn() -> Wrapped>>,
    pub manually: MapStore<u8, core::mem::ManuallyDrop<Wrapped>>,
    pub numbers: MapStore<u8, (core::num::Wrapping<Wrapped>, core::num::Saturating<Wrapped>)>,
    pub reverse: MapStore<u8, core::cmp::Reverse<Wrapped>>,
    pub ranges: MapStore<u8, (core::ops::Range<Wrapped>, core::ops::RangeInclusive<Wrapped>)>,
    pub open: MapStore<u8, (core::ops::RangeFrom<Wrapped>, core::ops::RangeTo<Wrapped>)>,
    pub to_inclusive: MapStore<u8, core::ops::RangeToInclusive<Wrapped>>,
    pub bound: MapStore<u8, core::ops::Bound<Wrapped>>,
    pub poll: MapStore<u8, core::task::Poll<Wrapped>>,
    pub cursor: MapStore<u8, std::io::Cursor<Wrapped>>,
    pub reader: MapStore<u8, std::io::BufReader<Wrapped>>,
}

fn agrees<V: MapValue>(expected: StorageKind) {
    let plan = V::PLAN;
    assert_eq!(plan.storage, expected, "{plan}");
    assert_eq!(plan.storage, plan.chosen(), "{plan}");
    assert!(!plan.forced, "{plan}");
    assert_eq!(plan.size, core::mem::size_of::<V>(), "{plan}");
}

pub fn main() {
    agrees::<Node>(StorageKind::Inline);
    agrees::<Json>(StorageKind::Inline);
    agrees::<Wide>(StorageKind::Pooled);
    agrees::<Lean>(StorageKind::Boxed);
    agrees::<Sparse>(StorageKind::Inline);
    agrees::<Registry>(StorageKind::Pooled);
    agrees::<Tagged>(StorageKind::Inline);
    agrees::<Borrowed<'static>>(StorageKind::Pooled);
    agrees::<forest::Node>(StorageKind::Pooled);
    assert_eq!(Wrapped::PLAN.storage, Wrapped::PLAN.chosen());
    assert_eq!(Wrapped::PLAN.size, core::mem::size_of::<Wrapped>());

    let mut root = Node::default();
    let mut child = Node {
        value: 2,
        ..Node::default()
    };
    child.children.insert("leaf".into(), Node {
        value: 3,
        ..Node::default()
    });
    root.children.insert("a".into(), child);
    assert_eq!(root.children["a"].children["leaf"].value, 3);
    assert_eq!(root.children.storage(), StorageKind::Inline);

    let mut obj = MapStore::new();
    obj.insert("k".to_string(), Json::Arr(vec![Json::Null, Json::Num(1.0), Json::Str("s".into())]));
    let json = Json::Obj(obj);
    assert_eq!(format!("{json:?}"), r#"Obj({"k": Arr([Null, Num(1.0), Str("s")])})"#);

    let mut wide = Wide::default();
    wide.children.insert(1, Wide::default());
    assert_eq!(wide.children.storage(), StorageKind::Pooled);
    let mut lean = Lean::default();
    lean.kids.insert(1, Lean::default());
    assert_eq!(lean.kids.storage(), StorageKind::Boxed);
    let sparse = Sparse::default();
    sparse.shared.borrow_mut().insert(1, Some(Sparse::default()));
    assert_eq!(sparse.shared.borrow().len(), 1);
    let registry = Registry::default();
    registry.entries.insert(1, (0, Registry::default()));
    assert_eq!(registry.entries.len(), 1);
    let mut tagged = MapStore::new();
    tagged.insert(1, Tagged::Leaf);
    let _ = Tagged::Branch(tagged);
    let name = String::from("root");
    let borrowed = Borrowed {
        name: &name,
        kids: MapStore::new(),
    };
    assert_eq!(borrowed.name, "root");
    assert!(borrowed.kids.is_empty());
    agrees::<View<'static>>(StorageKind::Pooled);
    let mut view = View {
        text: &name,
        kids: MapStore::new(),
    };
    view.kids.insert(
        "child".into(),
        View {
            text: "leaf",
            kids: MapStore::new(),
        },
    );
    assert_eq!(view.kids["child"].text.len() + view.text.len(), 8);
}
