//! Every `optimize` goal reaches the plan and the policy.
#![deny(warnings)]

use mapstore::{choose, MapStore, MapValue, Optimize, ValueLayout};

#[derive(MapStore)]
pub struct Default64 {
    pub bytes: [u8; 64],
}

#[derive(MapStore)]
#[map_store(optimize = "balanced")]
pub struct Balanced {
    pub bytes: [u8; 200],
    pub name: String,
}

#[derive(MapStore)]
#[map_store(optimize = "reads")]
pub struct Reads {
    pub bytes: [u8; 200],
}

#[derive(MapStore)]
#[map_store(optimize = "writes", store = "WriteHeavy")]
pub struct Writes(pub [u64; 40]);

#[derive(MapStore)]
#[map_store(optimize = "memory")]
pub enum Memory {
    Small(u8),
    Large([u8; 300]),
}

#[derive(MapStore)]
#[map_store(optimize = "reads", storage = "boxed")]
pub struct ForcedReads {
    pub bytes: [u8; 4096],
}

#[derive(MapStore)]
#[map_store(optimize = "memory", storage = "pooled")]
pub struct Generic<T> {
    pub value: T,
}

fn check<V: MapValue>(goal: Optimize, owns_heap: bool) {
    let plan = V::PLAN;
    assert_eq!(plan.goal, goal);
    assert_eq!(plan.storage, choose(ValueLayout::of::<V>(owns_heap), goal));
    assert!(plan.to_string().contains(&format!("optimized for {}", goal.name())), "{plan}");
}

pub fn main() {
    check::<Default64>(Optimize::Balanced, false);
    check::<Balanced>(Optimize::Balanced, true);
    check::<Reads>(Optimize::Reads, false);
    check::<Writes>(Optimize::Writes, false);
    check::<Memory>(Optimize::Memory, false);
    assert_eq!(ForcedReads::PLAN.goal, Optimize::Reads);
    assert!(ForcedReads::PLAN.forced);
    assert_eq!(<Generic<u8> as MapValue>::PLAN.goal, Optimize::Memory);

    let mut map: WriteHeavy<u32> = MapStore::new();
    map.insert(1, Writes([7; 40]));
    assert_eq!(map[&1].0[39], 7);
}
