//! `ConcurrentStore` under the `serde` feature: serialized as a map (like
//! std's `HashMap` and DashMap), deserialized into a store, for the three
//! storages; a snapshot with its exact length while other threads write.
//!
//! ```text
//! cargo test -p mapstore --features serde --test concurrent_serde
//! ```
#![cfg(feature = "serde")]

use std::collections::{BTreeMap, HashMap};
use std::thread;

use mapstore::{ConcurrentStore, MapStore, StorageKind};
use serde::{Deserialize, Serialize};

#[derive(MapStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Small(u32);

#[derive(MapStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Session {
    user: String,
    cart: Vec<u64>,
    pad: [u64; 8],
}

#[derive(MapStore, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[map_store(storage = "boxed", allow(slow_storage))]
struct Big(Vec<u8>);

fn round_trip<V>(store: &ConcurrentStore<String, V>, kind: StorageKind)
where
    V: mapstore::MapValue
        + Serialize
        + for<'de> Deserialize<'de>
        + Clone
        + PartialEq
        + std::fmt::Debug,
{
    assert_eq!(store.storage(), kind);
    let json = serde_json::to_string(store).unwrap();
    // The same JSON a std `HashMap` of the entries reads and writes.
    let as_std: HashMap<String, V> = serde_json::from_str(&json).unwrap();
    assert_eq!(as_std.len(), store.len());
    for (k, v) in &as_std {
        assert_eq!(store.read(k, |w| w.clone()).as_ref(), Some(v));
    }
    let back: ConcurrentStore<String, V> = serde_json::from_str(&json).unwrap();
    assert_eq!(back.len(), store.len());
    for (k, v) in &as_std {
        assert_eq!(back.read(k, |w| w.clone()).as_ref(), Some(v));
    }
    let from_std: ConcurrentStore<String, V> =
        serde_json::from_str(&serde_json::to_string(&as_std).unwrap()).unwrap();
    assert_eq!(from_std.len(), as_std.len());
}

#[test]
fn round_trips_through_json_in_every_storage() {
    let small: ConcurrentStore<String, Small> =
        (0..50).map(|i| (i.to_string(), Small(i))).collect();
    round_trip(&small, StorageKind::Inline);
    let sessions: ConcurrentStore<String, Session> = (0..50)
        .map(|i| {
            let s = Session {
                user: format!("u{i}"),
                cart: vec![i; 3],
                pad: [i; 8],
            };
            (i.to_string(), s)
        })
        .collect();
    round_trip(&sessions, StorageKind::Pooled);
    let big: ConcurrentStore<String, Big> =
        (0..5).map(|i| (i.to_string(), Big(vec![1; i]))).collect();
    round_trip(&big, StorageKind::Boxed);
    let empty: ConcurrentStore<String, Small> = ConcurrentStore::new();
    assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
}

#[test]
fn shape_and_duplicates_like_std() {
    let store: ConcurrentStore<u8, u32> = [(1, 10)].into_iter().collect();
    assert_eq!(serde_json::to_string(&store).unwrap(), r#"{"1":10}"#);
    let last_wins: ConcurrentStore<u8, u32> = serde_json::from_str(r#"{"1":1,"1":2}"#).unwrap();
    assert_eq!(last_wins.len(), 1);
    assert_eq!(last_wins.read(&1, |v| *v), Some(2));
    let as_btree: BTreeMap<u8, u32> =
        serde_json::from_str(&serde_json::to_string(&last_wins).unwrap()).unwrap();
    assert_eq!(as_btree, BTreeMap::from([(1, 2)]));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(serde_json::from_str::<ConcurrentStore<u8, u8>>("[1, 2]").is_err());
    assert!(serde_json::from_str::<ConcurrentStore<u8, u8>>(r#"{"1": "x"}"#).is_err());
    assert!(serde_json::from_str::<ConcurrentStore<u8, u8>>(r#"{"1": 300}"#).is_err());
}

/// Serialized while other threads insert and remove: every output is a
/// snapshot whose length matches its entries (each JSON object parses, with
/// no key twice), and every key that no one removes is in it.
#[test]
fn serializes_a_snapshot_under_concurrent_writes() {
    let store: ConcurrentStore<u64, u64> = (0..200).map(|k| (k, k)).collect();
    thread::scope(|s| {
        s.spawn(|| {
            for k in 200..2000 {
                store.insert(k, k);
                store.remove(&(k - 100));
            }
        });
        for _ in 0..20 {
            let json = serde_json::to_string(&store).unwrap();
            let snapshot: Vec<(u64, u64)> = serde_json::from_str::<BTreeMap<u64, u64>>(&json)
                .unwrap()
                .into_iter()
                .collect();
            assert_eq!(
                snapshot.len(),
                json.matches(':').count(),
                "a key written twice"
            );
            assert!(snapshot.iter().all(|(k, v)| k == v));
            assert!((0..100).all(|k| snapshot.binary_search_by_key(&k, |e| e.0).is_ok()));
        }
    });
}
