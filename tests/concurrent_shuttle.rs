//! Randomized schedules of `ConcurrentStore` with shuttle, for models too
//! large for loom's exhaustive search: 4 threads of 50 calls each, across
//! several growths and migrations of the table.
//!
//! Built with both `--cfg mapstore_loom --cfg mapstore_shuttle`: the table
//! then has loom's small shape (groups of 2 buckets, one group at the
//! start, so 80 keys grow it six times) and its loom facade (group locks on
//! a mutex and condition variable, the table's atomics, retired arrays kept
//! until the table drops) is built on shuttle's primitives, whose API is
//! loom's (Cargo.toml renames shuttle to `loom` under both cfgs). Shuttle's
//! random scheduler switches threads at every lock and atomic operation, a
//! fresh random schedule per iteration; a failure prints the schedule to
//! replay it with `shuttle::replay`.
//!
//! ```text
//! RUSTFLAGS="--cfg mapstore_loom --cfg mapstore_shuttle" CARGO_TARGET_DIR=target/shuttle \
//!     cargo test -p mapstore --release --features __model_check --test concurrent_shuttle
//! ```
//!
//! `MAPSTORE_SHUTTLE_ITERS` sets the schedules per model (default 1000; `.ci/concurrent.sh` runs 3000, about 7 s).
#![cfg(all(mapstore_loom, mapstore_shuttle))]

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher};

use loom::sync::Arc;
use loom::thread;
use mapstore::ConcurrentStore;

type Fixed = BuildHasherDefault<DefaultHasher>;
/// Values are `key * 1000 + stamp`: a value knows its key.
type Store = ConcurrentStore<u64, u64, Fixed>;

const THREADS: u64 = 4;
const OPS: usize = 50;

fn iters() -> usize {
    std::env::var("MAPSTORE_SHUTTLE_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000)
}

/// A small deterministic generator: each thread's script is fixed; the
/// schedule is shuttle's.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn key_of(value: u64) -> u64 {
    value / 1000
}

/// Each of 4 threads makes 50 calls (`insert`, `remove`, `read`, `get`,
/// `get_mut`, `entry`) on its own 20 keys, from an empty single-group
/// table: the 80 keys grow it six times, each migration racing the other
/// threads' calls. A thread's keys are its own, so each call's result is
/// what the thread's sequential model says; a value is always its key's.
/// At the end the store is exactly the union of the models (`read` of every
/// key, `iter` once each, `len`).
#[test]
fn own_keys_across_growths() {
    loom::check_random(
        || {
            let store = Arc::new(Store::with_hasher(Fixed::default()));
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let store = Arc::clone(&store);
                    thread::spawn(move || {
                        let mut rng = Rng(t + 1);
                        let mut model: HashMap<u64, u64> = HashMap::new();
                        for op in 0..OPS as u64 {
                            let k = t * 100 + rng.below(20);
                            let v = k * 1000 + op;
                            match rng.below(8) {
                                0..=2 => assert_eq!(store.insert(k, v), model.insert(k, v)),
                                3 => assert_eq!(store.remove(&k), model.remove(&k)),
                                4 => assert_eq!(store.read(&k, |x| *x), model.get(&k).copied()),
                                5 => assert_eq!(store.get(&k).map(|g| *g), model.get(&k).copied()),
                                6 => {
                                    let got = store.get_mut(&k).map(|mut g| {
                                        let old = *g;
                                        *g = v;
                                        old
                                    });
                                    assert_eq!(got, model.get(&k).copied());
                                    if got.is_some() {
                                        model.insert(k, v);
                                    }
                                }
                                _ => {
                                    let got = *store.entry(k).and_modify(|x| *x = v).or_insert(v);
                                    model.insert(k, v);
                                    assert_eq!(got, v);
                                }
                            }
                        }
                        model
                    })
                })
                .collect();
            let mut all: HashMap<u64, u64> = HashMap::new();
            for h in handles {
                all.extend(h.join().unwrap());
            }
            for (&k, &v) in &all {
                assert_eq!(store.read(&k, |x| *x), Some(v), "key {k}");
            }
            let mut seen: Vec<(u64, u64)> = store.iter().map(|r| (*r.key(), *r.value())).collect();
            seen.sort_unstable();
            let mut want: Vec<(u64, u64)> = all.into_iter().collect();
            want.sort_unstable();
            assert_eq!(seen, want, "iter");
            assert_eq!(store.len(), want.len(), "len");
        },
        iters(),
    );
}

/// 3 writers each add to 3 shared counters through `entry` (+1, +10, +100
/// by thread) between inserts of their own cold keys (which grow the table
/// under the counters), while a reader walks the store with `iter`: the
/// prefilled keys, present throughout, are seen exactly once each, every
/// value is its key's, and the counters end exact (no update lost or
/// applied twice across the migrations).
#[test]
fn shared_counters_and_walks_across_growths() {
    loom::check_random(
        || {
            let store = Arc::new(Store::with_hasher(Fixed::default()));
            // Prefilled keys 90..96 (never removed) and the counters 0..3.
            for k in 90..96 {
                store.insert(k, k * 1000);
            }
            let writers: Vec<_> = (0..3u64)
                .map(|t| {
                    let store = Arc::clone(&store);
                    thread::spawn(move || {
                        let add = 10u64.pow(t as u32);
                        for i in 0..15u64 {
                            if i % 3 == 0 {
                                store.insert(1000 + t * 100 + i, (1000 + t * 100 + i) * 1000);
                            } else {
                                *store.entry(i % 3).or_insert(0) += add;
                            }
                        }
                    })
                })
                .collect();
            for _ in 0..2 {
                let mut prefilled = 0;
                for r in store.iter() {
                    let (k, v) = (*r.key(), *r.value());
                    if k >= 3 {
                        assert_eq!(
                            key_of(v),
                            k,
                            "a value under key {k} was written for another"
                        );
                    }
                    if (90..96).contains(&k) {
                        prefilled += 1;
                    }
                }
                assert_eq!(
                    prefilled, 6,
                    "iter saw a key present throughout not exactly once"
                );
            }
            for w in writers {
                w.join().unwrap();
            }
            // Each writer adds to counter 1 five times and to counter 2 five times.
            assert_eq!(store.read(&0, |x| *x), None);
            assert_eq!(store.read(&1, |x| *x), Some(555));
            assert_eq!(store.read(&2, |x| *x), Some(555));
            assert_eq!(store.len(), 6 + 2 + 15);
        },
        iters(),
    );
}

/// DashMap's `alter` and `alter_all` across growths: 3 writers add to 2
/// shared counters through `alter` (+1, +10, +100 by thread) between
/// inserts of their own cold keys (which grow the table under the
/// counters), while a fourth thread runs `alter_all` twice, adding 1 to
/// each prefilled key and passing every other value through. The counters
/// end exact, each prefilled key is altered exactly twice, and after the
/// threads join, `shrink_to_fit` (through `&mut`) keeps every entry.
#[test]
fn alter_and_alter_all_across_growths() {
    loom::check_random(
        || {
            let store = Arc::new(Store::with_hasher(Fixed::default()));
            for k in 90..96 {
                store.insert(k, k * 1000);
            }
            store.insert(1, 0);
            store.insert(2, 0);
            let writers: Vec<_> = (0..3u64)
                .map(|t| {
                    let store = Arc::clone(&store);
                    thread::spawn(move || {
                        let add = 10u64.pow(t as u32);
                        for i in 0..15u64 {
                            if i % 3 == 0 {
                                store.insert(1000 + t * 100 + i, (1000 + t * 100 + i) * 1000);
                            } else {
                                store.alter(&(i % 3), |_, v| v + add);
                            }
                        }
                    })
                })
                .collect();
            let walker = {
                let store = Arc::clone(&store);
                thread::spawn(move || {
                    for _ in 0..2 {
                        store.alter_all(|k, v| if (90..96).contains(k) { v + 1 } else { v });
                    }
                })
            };
            for w in writers {
                w.join().unwrap();
            }
            walker.join().unwrap();
            let mut store = Arc::try_unwrap(store).unwrap_or_else(|_| panic!("threads joined"));
            for round in 0..2 {
                assert_eq!(store.read(&1, |x| *x), Some(555), "round {round}");
                assert_eq!(store.read(&2, |x| *x), Some(555), "round {round}");
                for k in 90..96 {
                    assert_eq!(store.read(&k, |x| *x), Some(k * 1000 + 2), "key {k}");
                }
                for t in 0..3u64 {
                    for i in (0..15u64).step_by(3) {
                        let k = 1000 + t * 100 + i;
                        assert_eq!(store.read(&k, |x| *x), Some(k * 1000), "key {k}");
                    }
                }
                assert_eq!(store.len(), 6 + 2 + 15);
                assert_eq!(store.iter().count(), 6 + 2 + 15);
                store.shrink_to_fit();
            }
        },
        iters(),
    );
}
