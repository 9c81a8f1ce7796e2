//! A hand-written `MapValue` states its storage once: `Plan::of::<Self>`
//! reads it from `Storage` (not a const-evaluation cycle), and from the
//! compiler the layout.
#![deny(warnings)]

use mapstore::storage::{Boxed, Inline, Pooled};
use mapstore::{MapStore, MapValue, Optimize, Plan, StorageKind};

pub struct Page([u8; 4096]);

impl MapValue for Page {
    type Storage = Pooled;
    const PLAN: Plan = Plan::of::<Self>("Page", &[]);
}

pub struct Name(String);

impl MapValue for Name {
    type Storage = Inline;
    const PLAN: Plan = Plan::of::<Self>("Name", &["0"]).optimize(Optimize::Reads);
}

pub struct Blob(Vec<u8>);

impl MapValue for Blob {
    type Storage = Boxed;
    // Today's six-argument form still compiles.
    const PLAN: Plan = Plan::new(
        "Blob",
        core::mem::size_of::<Blob>(),
        core::mem::align_of::<Blob>(),
        core::mem::needs_drop::<Blob>(),
        &["0"],
        Some(StorageKind::Boxed),
    );
}

const _: () = assert!(Page::PLAN.size == 4096 && Page::PLAN.forced);

pub fn main() {
    let mut pages: MapStore<u32, Page> = MapStore::new();
    pages.insert(1, Page([1; 4096]));
    assert_eq!(pages[&1].0[4095], 1);
    assert_eq!(Page::PLAN.storage, StorageKind::Pooled);
    assert_eq!(Name::PLAN.storage, StorageKind::Inline);
    assert_eq!(Name::PLAN.goal, Optimize::Reads);
    assert!(Name::PLAN.needs_drop);
    assert_eq!(Blob::PLAN.storage, StorageKind::Boxed);
    assert_eq!(Blob::PLAN.goal, Optimize::Balanced);
    let mut names: MapStore<u8, Name> = MapStore::new();
    names.insert(1, Name("n".into()));
    assert_eq!(names[&1].0, "n");
    let mut blobs: MapStore<u8, Blob> = MapStore::new();
    blobs.insert(1, Blob(vec![1]));
    assert_eq!(blobs[&1].0, [1]);
}
