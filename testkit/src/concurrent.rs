//! Maps shared between threads, one trait over them, and the workloads of
//! `benches/concurrent.rs` and the tour's concurrent step, in the style of
//! conc-map-bench (bustle): each thread runs a fixed number of operations
//! drawn from a mix (read / insert-or-replace / remove) over a key space,
//! after a prefill.
//!
//! Contenders, all hashing with hashbrown's `DefaultHashBuilder` (foldhash):
//! `ConcurrentStore<K, V>`, DashMap 6, papaya, scc's `HashMap`,
//! `RwLock<hashbrown::HashMap<K, V>>`, and, for one thread only, a plain
//! `MapStore` behind no lock ([`Solo`]).

use std::cell::RefCell;
use std::hash::Hash;
use std::hint::black_box;
use std::sync::{Barrier, PoisonError, RwLock};
use std::time::{Duration, Instant};

use mapstore::{ConcurrentStore, DefaultHashBuilder, MapStore, MapValue};

use crate::data::{splitmix, Key, Value};

/// A map shared between threads through `&self`.
pub trait Shared<K, V> {
    /// Display name.
    const NAME: &'static str;
    /// An empty map with room for `n` entries.
    fn with_capacity(n: usize) -> Self;
    /// Inserts or replaces.
    fn insert(&self, key: K, value: V);
    /// Reads one word of the value for `key`.
    fn read(&self, key: &K) -> Option<u64>;
    /// Removes `key`; whether it was present.
    fn remove(&self, key: &K) -> bool;
    /// The number of entries.
    fn len(&self) -> usize;
    /// Whether the map is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K, V> Shared<K, V> for ConcurrentStore<K, V>
where
    K: Hash + Eq,
    V: MapValue + Value,
{
    const NAME: &'static str = "ConcurrentStore";
    fn with_capacity(n: usize) -> Self {
        ConcurrentStore::with_capacity(n)
    }
    #[inline]
    fn insert(&self, key: K, value: V) {
        drop(ConcurrentStore::insert(self, key, value));
    }
    #[inline]
    fn read(&self, key: &K) -> Option<u64> {
        ConcurrentStore::read(self, key, Value::read)
    }
    #[inline]
    fn remove(&self, key: &K) -> bool {
        ConcurrentStore::remove(self, key).is_some()
    }
    fn len(&self) -> usize {
        ConcurrentStore::len(self)
    }
}

/// DashMap 6, same hasher.
pub type Dash<K, V> = dashmap::DashMap<K, V, DefaultHashBuilder>;

impl<K: Hash + Eq, V: Value> Shared<K, V> for Dash<K, V> {
    const NAME: &'static str = "DashMap";
    fn with_capacity(n: usize) -> Self {
        dashmap::DashMap::with_capacity_and_hasher(n, DefaultHashBuilder::default())
    }
    #[inline]
    fn insert(&self, key: K, value: V) {
        drop(dashmap::DashMap::insert(self, key, value));
    }
    #[inline]
    fn read(&self, key: &K) -> Option<u64> {
        self.get(key).map(|v| v.read())
    }
    #[inline]
    fn remove(&self, key: &K) -> bool {
        dashmap::DashMap::remove(self, key).is_some()
    }
    fn len(&self) -> usize {
        dashmap::DashMap::len(self)
    }
}

/// papaya's lock-free map, same hasher (one pin per operation).
pub type Papaya<K, V> = papaya::HashMap<K, V, DefaultHashBuilder>;

impl<K, V> Shared<K, V> for Papaya<K, V>
where
    K: Hash + Eq + Send + Sync,
    V: Value + Send + Sync,
{
    const NAME: &'static str = "papaya";
    fn with_capacity(n: usize) -> Self {
        papaya::HashMap::with_capacity_and_hasher(n, DefaultHashBuilder::default())
    }
    #[inline]
    fn insert(&self, key: K, value: V) {
        self.pin().insert(key, value);
    }
    #[inline]
    fn read(&self, key: &K) -> Option<u64> {
        self.pin().get(key).map(Value::read)
    }
    #[inline]
    fn remove(&self, key: &K) -> bool {
        self.pin().remove(key).is_some()
    }
    fn len(&self) -> usize {
        papaya::HashMap::len(self)
    }
}

/// scc's `HashMap`, same hasher.
pub type Scc<K, V> = scc::HashMap<K, V, DefaultHashBuilder>;

impl<K: Hash + Eq, V: Value> Shared<K, V> for Scc<K, V> {
    const NAME: &'static str = "scc";
    fn with_capacity(n: usize) -> Self {
        scc::HashMap::with_capacity_and_hasher(n, DefaultHashBuilder::default())
    }
    #[inline]
    fn insert(&self, key: K, value: V) {
        drop(self.upsert_sync(key, value));
    }
    #[inline]
    fn read(&self, key: &K) -> Option<u64> {
        self.read_sync(key, |_, v| v.read())
    }
    #[inline]
    fn remove(&self, key: &K) -> bool {
        self.remove_sync(key).is_some()
    }
    fn len(&self) -> usize {
        scc::HashMap::len(self)
    }
}

/// `RwLock<hashbrown::HashMap<K, V>>`: one lock for the whole map.
pub struct Locked<K, V>(pub RwLock<hashbrown::HashMap<K, V, DefaultHashBuilder>>);

impl<K: Hash + Eq, V: Value> Shared<K, V> for Locked<K, V> {
    const NAME: &'static str = "RwLock<HashMap>";
    fn with_capacity(n: usize) -> Self {
        Locked(RwLock::new(hashbrown::HashMap::with_capacity_and_hasher(
            n,
            DefaultHashBuilder::default(),
        )))
    }
    #[inline]
    fn insert(&self, key: K, value: V) {
        let old = self
            .0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, value);
        drop(old);
    }
    #[inline]
    fn read(&self, key: &K) -> Option<u64> {
        let map = self.0.read().unwrap_or_else(PoisonError::into_inner);
        map.get(key).map(Value::read)
    }
    #[inline]
    fn remove(&self, key: &K) -> bool {
        let old = self
            .0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
        old.is_some()
    }
    fn len(&self) -> usize {
        self.0.read().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// A plain `MapStore` behind no lock (a `RefCell`, whose flag costs a
/// compare per call): the single-thread baseline. Not `Sync`: one thread
/// only.
pub struct Solo<K, V: MapValue>(pub RefCell<MapStore<K, V>>);

impl<K: Hash + Eq, V: MapValue + Value> Shared<K, V> for Solo<K, V> {
    const NAME: &'static str = "MapStore (no lock)";
    fn with_capacity(n: usize) -> Self {
        Solo(RefCell::new(MapStore::with_capacity(n)))
    }
    #[inline]
    fn insert(&self, key: K, value: V) {
        drop(self.0.borrow_mut().insert(key, value));
    }
    #[inline]
    fn read(&self, key: &K) -> Option<u64> {
        self.0.borrow().get(key).map(Value::read)
    }
    #[inline]
    fn remove(&self, key: &K) -> bool {
        self.0.borrow_mut().remove(key).is_some()
    }
    fn len(&self) -> usize {
        self.0.borrow().len()
    }
}

// ---------------------------------------------------------------------------
// Workloads

/// An operation mix, in percent (the rest of 100 after `read` and `insert`
/// is removes).
#[derive(Clone, Copy, Debug)]
pub struct Mix {
    /// Lookups that read a word of the value.
    pub read: u32,
    /// Inserts (or replaces).
    pub insert: u32,
}

/// One benchmark workload.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// Short name: `read_heavy`, `exchange`...
    pub name: &'static str,
    /// The operation mix.
    pub mix: Mix,
    /// Entries inserted before the clock starts, as a fraction of the key
    /// space.
    pub prefill: f64,
    /// Whether each thread draws keys only from its own part of the key
    /// space (sync.Map's disjoint-keys case).
    pub disjoint: bool,
}

/// conc-map-bench's read-heavy mix: 98 % reads, prefilled to 75 %.
pub const READ_HEAVY: Workload = Workload {
    name: "read_heavy",
    mix: Mix {
        read: 98,
        insert: 1,
    },
    prefill: 0.75,
    disjoint: false,
};

/// conc-map-bench's exchange: 20 % reads, 40 % inserts, 40 % removes.
pub const EXCHANGE: Workload = Workload {
    name: "exchange",
    mix: Mix {
        read: 20,
        insert: 40,
    },
    prefill: 0.5,
    disjoint: false,
};

/// conc-map-bench's rapid grow: 80 % inserts (mostly new keys), from empty.
pub const RAPID_GROW: Workload = Workload {
    name: "rapid_grow",
    mix: Mix {
        read: 15,
        insert: 80,
    },
    prefill: 0.0,
    disjoint: false,
};

/// sync.Map's second case: threads reading and overwriting disjoint key
/// sets (50 % reads, 50 % overwrites).
pub const DISJOINT: Workload = Workload {
    name: "disjoint",
    mix: Mix {
        read: 50,
        insert: 50,
    },
    prefill: 1.0,
    disjoint: true,
};

/// Runs `work(t)` for `t` in `0..threads`, all released at once by a
/// barrier, and returns the time from the first thread's start to the last
/// one's end (each thread reads the clock itself: on a machine with fewer
/// cores than threads the spawning thread may not run when they do). One
/// thread runs on the caller's thread.
pub fn timed_threads(threads: usize, work: impl Fn(usize) + Sync) -> Duration {
    if threads <= 1 {
        let start = Instant::now();
        work(0);
        return start.elapsed();
    }
    let barrier = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (work, barrier) = (&work, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    work(t);
                    (start, Instant::now())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a worker panicked"))
            .collect()
    });
    let first = spans.iter().map(|s| s.0).min().expect("threads");
    let last = spans.iter().map(|s| s.1).max().expect("threads");
    last - first
}

/// Inserts `fraction * space` of the keys `0..space` (as `K::make(i)`).
pub fn prefill<K: Key, V: Value, M: Shared<K, V>>(map: &M, space: u64, fraction: f64) {
    let n = (space as f64 * fraction) as u64;
    for i in 0..n {
        // Every `space / n`-th index: the prefilled keys spread over the space.
        let i = i * space / n;
        map.insert(K::make(i), V::make(i));
    }
}

/// One thread's operations: `ops` draws from `workload`'s mix over the key
/// space (its own slice of it when the workload is disjoint). Returns a sum
/// of the words read, so nothing is optimised away.
#[inline(never)]
pub fn thread_ops<K: Key, V: Value, M: Shared<K, V>>(
    map: &M,
    workload: &Workload,
    thread: usize,
    threads: usize,
    ops: u64,
    space: u64,
) -> u64 {
    let mut state = splitmix(thread as u64 + 1);
    let mut sum = 0u64;
    for _ in 0..ops {
        state = splitmix(state);
        let mut i = (state >> 8) % space;
        if workload.disjoint {
            i = i - i % threads as u64 + thread as u64;
            if i >= space {
                i -= threads as u64;
            }
        }
        let key = K::make(i);
        let dice = (state & 0x7f) as u32 % 100;
        if dice < workload.mix.read {
            sum = sum.wrapping_add(map.read(black_box(&key)).unwrap_or(1));
        } else if dice < workload.mix.read + workload.mix.insert {
            map.insert(key, V::make(state));
        } else {
            sum = sum.wrapping_add(u64::from(map.remove(black_box(&key))));
        }
    }
    sum
}

/// Times one run of `workload` on a fresh map: prefill (untimed), then
/// `threads` threads of `ops` operations each. Returns nanoseconds per
/// operation.
pub fn run_workload<K, V, M>(workload: &Workload, threads: usize, ops: u64, space: u64) -> f64
where
    K: Key + Send + Sync,
    V: Value,
    M: Shared<K, V> + Sync,
{
    let map = M::with_capacity(if workload.prefill > 0.0 {
        space as usize
    } else {
        0
    });
    prefill::<K, V, M>(&map, space, workload.prefill);
    let elapsed = timed_threads(threads, |t| {
        black_box(thread_ops::<K, V, M>(
            &map, workload, t, threads, ops, space,
        ));
    });
    drop(black_box(map));
    elapsed.as_nanos() as f64 / (ops * threads as u64) as f64
}

/// [`run_workload`] on one thread for a map that is not `Sync` ([`Solo`]).
pub fn run_workload_solo<K: Key, V: Value, M: Shared<K, V>>(
    workload: &Workload,
    ops: u64,
    space: u64,
) -> f64 {
    let map = M::with_capacity(if workload.prefill > 0.0 {
        space as usize
    } else {
        0
    });
    prefill::<K, V, M>(&map, space, workload.prefill);
    let start = Instant::now();
    black_box(thread_ops::<K, V, M>(&map, workload, 0, 1, ops, space));
    let elapsed = start.elapsed();
    drop(black_box(map));
    elapsed.as_nanos() as f64 / ops as f64
}

/// sync.Map's first case, a cache written once and read many times: the
/// threads insert `space` keys (each its own share), then each reads every
/// key `reads` times. Nanoseconds per operation (inserts plus reads).
pub fn run_write_once_read_many<K, V, M>(threads: usize, space: u64, reads: u64) -> f64
where
    K: Key + Send + Sync,
    V: Value,
    M: Shared<K, V> + Sync,
{
    let map = M::with_capacity(0);
    let elapsed = timed_threads(threads, |t| {
        let mut i = t as u64;
        while i < space {
            map.insert(K::make(i), V::make(i));
            i += threads as u64;
        }
        let mut sum = 0u64;
        for pass in 0..reads {
            let mut state = splitmix(pass ^ ((t as u64) << 32));
            for _ in 0..space {
                state = splitmix(state);
                sum = sum.wrapping_add(map.read(&K::make(state % space)).unwrap_or(1));
            }
        }
        black_box(sum);
    });
    assert_eq!(map.len() as u64, space);
    drop(black_box(map));
    let ops = space + space * reads * threads as u64;
    elapsed.as_nanos() as f64 / ops as f64
}
