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

/// A 60 KB value, deserialized from one byte that fills it.
struct Frame([u8; 60_000]);

impl<'de> serde::Deserialize<'de> for Frame {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let byte = u8::deserialize(deserializer)?;
        Ok(Frame([byte; 60_000]))
    }
}

/// Yields its entries while claiming a million of them.
struct Lying<I>(I);

impl<I: Iterator> Iterator for Lying<I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        self.0.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (1_000_000, Some(1_000_000))
    }
}

#[test]
fn a_lying_length_reserves_at_most_a_mib_of_entries() {
    use serde::de::value::{Error, MapDeserializer};
    use serde::Deserialize;

    let input = MapDeserializer::<_, Error>::new(Lying([(7u32, 1u8)].into_iter()));
    assert_eq!(serde::de::MapAccess::size_hint(&input), Some(1_000_000));
    let map = PooledMap::<u32, Frame>::deserialize(input).unwrap();
    assert_eq!(map[&7].0[59_999], 1);
    // serde's rule for std's maps: 1 MiB of `(K, V)` pairs, here 17 of
    // them, not thousands of 60 KB slots.
    assert!(map.memory_usage() < 4 << 20, "{}", map.memory_usage());

    let input = MapDeserializer::<_, Error>::new(Lying([(7u32, 1u8)].into_iter()));
    let map = mapstore::InlineMap::<u32, u8>::deserialize(input).unwrap();
    assert!(map.memory_usage() < 4 << 20, "{}", map.memory_usage());
}
