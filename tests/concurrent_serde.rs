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

/// `Serialize` holds every group's read lock for its snapshot, but never
/// waits for a group while holding others: a thread holding a write guard
/// on the last group it walks, and then writing a key of the first group
/// (which it holds by then), would otherwise wait for it while it waits for
/// that guard. It lets go, waits for the guard's group alone, and starts
/// again; both finish. Watched: a regression fails after 30 s instead of
/// hanging.
#[test]
fn serialize_never_waits_holding_groups() {
    use std::sync::{mpsc, Arc, Barrier};
    use std::time::Duration;

    let store: Arc<ConcurrentStore<u64, u64>> = Arc::new((0..10_000).map(|k| (k, k)).collect());
    let order: Vec<u64> = store.iter().map(|r| *r.key()).collect();
    let (first, last) = (order[0], order[order.len() - 1]);
    assert_ne!(store.lock_of(&first), store.lock_of(&last));
    let start = Arc::new(Barrier::new(2));
    let (done, finished) = mpsc::channel();
    let writer = {
        let (store, start, done) = (Arc::clone(&store), Arc::clone(&start), done.clone());
        thread::spawn(move || {
            let mut guard = store.get_mut(&last).unwrap();
            start.wait();
            // Long enough for the serializer to hold every group but this
            // one, and to wait for it.
            thread::sleep(Duration::from_millis(200));
            store.insert(first, u64::MAX);
            *guard = u64::MAX;
            drop(guard);
            done.send("writer").unwrap();
        })
    };
    let serializer = thread::spawn(move || {
        start.wait();
        let json = serde_json::to_string(&*store).unwrap();
        done.send("serializer").unwrap();
        json
    });
    let mut ended = Vec::new();
    for _ in 0..2 {
        let who = finished
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("deadlock: only {ended:?} finished in 30 s"));
        ended.push(who);
    }
    writer.join().unwrap();
    let snapshot: BTreeMap<u64, u64> = serde_json::from_str(&serializer.join().unwrap()).unwrap();
    assert_eq!(snapshot.len(), 10_000);
    // The snapshot holds the last group, so it comes after the guard, and
    // so after both of the writer's writes.
    assert_eq!((snapshot[&first], snapshot[&last]), (u64::MAX, u64::MAX));
}

/// A 60 KB value, deserialized from one byte that fills it.
#[derive(MapStore)]
struct Frame([u8; 60_000]);

impl<'de> Deserialize<'de> for Frame {
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

/// An input's claimed length reserves at most 1 MiB of pairs, as serde
/// reserves for std's maps: a one-entry input claiming a million entries
/// does not size the table for a million (fails with the hint uncapped).
#[test]
fn a_lying_length_reserves_at_most_a_mib_of_entries() {
    use serde::de::value::{Error, MapDeserializer};

    let input = MapDeserializer::<_, Error>::new(Lying([(7u32, 1u8)].into_iter()));
    let store = ConcurrentStore::<u32, Frame>::deserialize(input).unwrap();
    assert_eq!(store.read(&7, |f| f.0[59_999]), Some(1));
    assert!(store.memory_usage() < 4 << 20, "{}", store.memory_usage());
}
