//! Generic types with `storage`, `store`, `no_store` and `crate`.
#![deny(warnings)]
#![deny(missing_docs)]
//! (crate docs)

use mapstore::{MapStore, MapValue, StorageKind};

/// A slot of any value, pooled.
#[derive(MapStore)]
#[map_store(storage = "pooled")]
pub struct Slot<T: Clone> {
    /// The value.
    pub value: T,
    /// Bumped on reuse.
    pub generation: u32,
}

/// Uses the names `K` and `S`: the alias renames its own.
#[derive(MapStore)]
#[map_store(storage = "inline", store = "KvMap")]
pub struct Kv<K, S, const N: usize = 2>
where
    K: Copy,
{
    /// Keys.
    pub keys: [K; N],
    /// The extra.
    pub extra: S,
}

/// Not stored under a generated alias: the user has their own.
#[derive(MapStore)]
#[map_store(no_store)]
pub struct Session {
    /// The token.
    pub token: [u8; 32],
}

/// Keeps its own `SessionStore`.
pub type SessionStore = Vec<Session>;

mod reexport {
    pub use ::mapstore;
}

/// Derived through a re-export of `mapstore`.
#[derive(reexport::mapstore::MapStore)]
#[map_store(
    crate = "crate::reexport::mapstore",
    storage = "boxed",
    allow(slow_storage)
)]
pub struct Blob<'a> {
    /// Bytes.
    pub bytes: &'a [u8; 70_000],
}

fn main() {
    let mut slots: SlotStore<String, u8> = MapStore::new();
    slots.insert(
        1,
        Slot {
            value: "s".to_string(),
            generation: 0,
        },
    );
    assert_eq!(slots.get(&1).map(|s| s.value.as_str()), Some("s"));
    assert_eq!(slots.storage(), StorageKind::Pooled);
    assert_eq!(<Slot<u8> as MapValue>::PLAN.type_name, "Slot<T>");
    assert!(<Slot<u8> as MapValue>::PLAN.forced);

    let mut kvs: KvMap<u8, bool, 3, &str> = MapStore::new();
    kvs.insert(
        "a",
        Kv {
            keys: [1, 2, 3],
            extra: true,
        },
    );
    assert_eq!(kvs.get("a").map(|kv| kv.keys[2]), Some(3));
    assert_eq!(<Kv<u8, u16> as MapValue>::PLAN.size, 4);

    let sessions: SessionStore = Vec::new();
    assert!(sessions.is_empty());
    let mut by_id: MapStore<u64, Session> = MapStore::new();
    by_id.insert(1, Session { token: [0; 32] });
    assert_eq!(by_id.get(&1).map(|s| s.token[0]), Some(0));

    let data = [9u8; 70_000];
    let mut blobs: BlobStore<'_, u8> = MapStore::new();
    blobs.insert(1, Blob { bytes: &data });
    assert_eq!(blobs.get(&1).map(|b| b.bytes[0]), Some(9));
    assert_eq!(<Blob<'_> as MapValue>::PLAN.heap_fields, &["bytes"]);
}
