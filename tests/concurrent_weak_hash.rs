//! `ConcurrentStore` under weak hashers: an identity hasher on keys whose
//! low or high bits never change (aligned ids, pointers, `i << 32`), and a
//! hasher that gives every key one hash. Every answer stays right, and the
//! memory stays proportional to the entries: the table spreads the hash
//! over all its bits before reading any, and one long chain does not make
//! the table grow (20 000 keys `i * 4096` under an identity hasher took
//! 134 MB before both).

use std::hash::{BuildHasherDefault, Hasher};

use mapstore::ConcurrentStore;

/// `finish` returns the last integer written: nohash-style.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Every key hashes to 7.
#[derive(Default)]
struct Constant;

impl Hasher for Constant {
    fn finish(&self) -> u64 {
        7
    }
    fn write(&mut self, _: &[u8]) {}
}

const N: u64 = if cfg!(miri) { 300 } else { 20_000 };

/// Inserts `keys`, checks every answer, and returns bytes per entry.
fn bytes_per_entry<H: Hasher + Default>(keys: impl Fn(u64) -> u64, n: u64) -> f64 {
    let store: ConcurrentStore<u64, u64, BuildHasherDefault<H>> = ConcurrentStore::default();
    for i in 0..n {
        assert_eq!(store.insert(keys(i), i), None);
    }
    assert_eq!(store.len() as u64, n);
    for i in 0..n {
        assert_eq!(store.read(&keys(i), |v| *v), Some(i));
    }
    assert_eq!(
        store.get(&(keys(n - 1) + 1)).map(|r| *r),
        None,
        "a missing key"
    );
    for i in (0..n).step_by(2) {
        assert_eq!(store.remove(&keys(i)), Some(i));
    }
    assert_eq!(store.len() as u64, n / 2);
    store.memory_usage() as f64 / n as f64
}

/// How many locks guard the keys `keys(0..n)`, at most `n`.
fn locks<H: Hasher + Default>(keys: impl Fn(u64) -> u64, n: u64) -> usize {
    let store: ConcurrentStore<u64, u64, BuildHasherDefault<H>> = ConcurrentStore::default();
    for i in 0..n {
        store.insert(keys(i), i);
    }
    let mut ids: Vec<usize> = (0..n).map(|i| store.lock_of(&keys(i))).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

#[test]
fn identity_hashes_of_structured_keys_spread() {
    let plain = bytes_per_entry::<Identity>(|i| i, N);
    for (what, keys) in [
        ("i * 16", (|i| i * 16) as fn(u64) -> u64),
        ("i * 4096", |i| i * 4096),
        ("i << 32", |i| i << 32),
        ("i << 56 | i", |i| (i << 56) | i),
    ] {
        let bytes = bytes_per_entry::<Identity>(keys, N);
        assert!(
            bytes <= plain * 1.5 + 16.0,
            "{what}: {bytes:.0} bytes per entry against {plain:.0} for 0..n"
        );
        // Spread over the groups as `0..n` is (about twelve keys a lock),
        // not chained in a few.
        let (spread, even) = (locks::<Identity>(keys, N), locks::<Identity>(|i| i, N));
        assert!(
            spread * 2 >= even,
            "{what}: {spread} locks guard {N} keys, against {even} for 0..n"
        );
    }
}

#[test]
fn one_hash_for_every_key_keeps_the_table_small() {
    // One group's chain holds every key: slow (a chain walk per call, as a
    // constant hasher costs any hash map) but right, and no larger than the
    // chain itself.
    let n = if cfg!(miri) { 100 } else { 2_000 };
    let bytes = bytes_per_entry::<Constant>(|i| i, n);
    assert!(bytes <= 200.0, "{bytes:.0} bytes per entry");
}
