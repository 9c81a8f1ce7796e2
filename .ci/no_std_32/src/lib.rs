//! Compiles only: the no_std paths a user takes, on a 32-bit target.
#![no_std]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use mapstore::{FrozenStore, MapStore, MapValue, StorageKind};

#[derive(MapStore)]
pub struct Sensor {
    pub name: String,
    pub readings: Vec<u16>,
}

#[derive(MapStore)]
pub struct Frame(pub [u8; 300]);

#[derive(MapStore)]
#[map_store(storage = "boxed", allow(slow_storage))]
pub struct Config {
    pub id: u32,
}

/// Builds each store and reads it back.
pub fn use_them() -> usize {
    let mut sensors: SensorStore<u32> = MapStore::new();
    sensors.insert(
        1,
        Sensor {
            name: String::from("t"),
            readings: Vec::new(),
        },
    );
    let mut frames: FrameStore<u8> = MapStore::new();
    frames.insert(1, Frame([0; 300]));
    let configs: ConfigStore<u8> = [(1, Config { id: 7 })].into_iter().collect();
    let frozen: FrozenStore<u32, u32> = (0..100).map(|i| (i, i)).collect();
    let kinds = [
        Sensor::PLAN.storage,
        Frame::PLAN.storage,
        <Config as MapValue>::PLAN.storage,
    ];
    sensors.len()
        + frames.len()
        + configs[&1].id as usize
        + frozen[&99] as usize
        + kinds.iter().filter(|k| **k == StorageKind::Pooled).count()
}
