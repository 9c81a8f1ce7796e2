use mapstore::ConcurrentStore;
use std::collections::HashMap;
#[test]
fn seq() {
    let store: ConcurrentStore<u64, Box<u64>> = ConcurrentStore::new();
    let mut model = HashMap::new();
    let mut x = 12345u64;
    for i in 0..200000u64 {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        let k = x % 3000;
        match x % 4 {
            0 | 1 => assert_eq!(store.insert(k, Box::new(i)).map(|b| *b), model.insert(k, i), "insert {i}"),
            2 => assert_eq!(store.remove(&k).map(|b| *b), model.remove(&k), "remove {i} key {k}"),
            _ => assert_eq!(store.read(&k, |v| **v), model.get(&k).copied(), "read {i}"),
        }
    }
    assert_eq!(store.len(), model.len());
}
#[test]
fn par() {
    for round in 0..50 {
    let store: ConcurrentStore<u64, u64> = ConcurrentStore::with_capacity(std::env::var("CAP").map_or(0, |c| c.parse().unwrap()));
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let store = &store;
            s.spawn(move || {
                let mut model = HashMap::new();
                let mut x = 12345u64 + t * 7777 + round;
                for i in 0..20000u64 {
                    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                    let k = (x % 500) * 4 + t;
                    match x % 4 {
                        0 | 1 => assert_eq!(store.insert(k, i), model.insert(k, i), "insert {i}"),
                        2 => assert_eq!(store.remove(&k), model.remove(&k), "remove {i} key {k}"),
                        _ => assert_eq!(store.read(&k, |v| *v), model.get(&k).copied(), "read {i}"),
                    }
                }
            });
        }
    });
    }
}
