//! The optional `serde` feature: maps serialize like std's `HashMap`.
#![cfg(feature = "serde")]

use std::collections::BTreeMap;

use mapstore::{BoxedMap, InlineMap, MapStore, PooledMap};

#[test]
fn round_trips_through_json_like_std() {
    let inline: InlineMap<String, u32> = [("a".to_string(), 1)].into();
    let json = serde_json::to_string(&inline).unwrap();
    assert_eq!(json, r#"{"a":1}"#);
    let back: InlineMap<String, u32> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, inline);

    let pooled: PooledMap<u8, Vec<u8>> = (0..50).map(|i| (i, vec![i; 3])).collect();
    let json = serde_json::to_string(&pooled).unwrap();
    let back: PooledMap<u8, Vec<u8>> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, pooled);
    let as_btree: BTreeMap<u8, Vec<u8>> = serde_json::from_str(&json).unwrap();
    assert_eq!(as_btree.len(), 50);

    let boxed: BoxedMap<u8, String> = serde_json::from_str(r#"{"1":"x"}"#).unwrap();
    assert_eq!(boxed[&1], "x");

    let store: MapStore<String, u64> = serde_json::from_str(r#"{"k":9}"#).unwrap();
    assert_eq!(store["k"], 9);
    assert_eq!(serde_json::to_string(&store).unwrap(), r#"{"k":9}"#);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(serde_json::from_str::<InlineMap<u8, u8>>("[1, 2]").is_err());
    assert!(serde_json::from_str::<PooledMap<u8, u8>>(r#"{"1": "x"}"#).is_err());
}
