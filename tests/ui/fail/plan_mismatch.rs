// A hand-written `MapValue` whose plan names another storage than its
// `Storage` type is rejected when the type is first used in a `MapStore`.
use mapstore::storage::Pooled;
use mapstore::{MapStore, MapValue, Plan, StorageKind};

struct Frame([u8; 300]);

impl MapValue for Frame {
    type Storage = Pooled;
    const PLAN: Plan = Plan::new("Frame", 300, 1, false, &[], Some(StorageKind::Inline));
}

fn main() {
    let mut frames: MapStore<u32, Frame> = MapStore::new();
    frames.insert(1, Frame([0; 300]));
}
