//! Benchmarks: the three storages against the maps users would pick.
//!
//! Contenders, all hashing with `DefaultHashBuilder` except the reference:
//! `InlineMap`, `BoxedMap`, `PooledMap`, `MapStore` (the policy's automatic
//! choice), `hashbrown::HashMap<K, V>`, `hashbrown::HashMap<K, Box<V>>`,
//! `IndexMap<K, V>`, and std's `HashMap<K, V>` with its default hasher.
//!
//! Workloads (time per op, one op = one entry):
//! - `grow_insert`: insert N keys into an empty map (timed: the inserts only).
//! - `presized_insert`: insert N keys into `with_capacity(N)`.
//! - `lookup_hit` / `lookup_miss`: N lookups in shuffled order; a hit reads
//!   the value's first word.
//! - `churn`: N times remove a present key and insert it again with a fresh
//!   value (the map stays at N entries).
//! - `iterate`: read the first word of every value.
//! - `clear_drop`: `clear()` then drop a map of N entries.
//!
//! Memory (a counting global allocator, active only during the memory pass,
//! never while timing): live bytes and allocations per entry at the end of
//! a grow-insert, and peak live bytes during it. For mapstore maps,
//! `memory_usage()` is cross-checked against the allocator.
//!
//! Quick mode (`cargo bench --bench maps -- --test`, or `cargo test
//! --benches`): every contender, value type and workload once, at a small N.
//!
//! Full run: `cargo bench --bench maps`; then `python3 tools/bench_report.py`
//! turns `target/criterion` and `target/mapstore-bench/memory.csv` into
//! `docs/bench/`. `MAPSTORE_BENCH_MEMORY_ONLY=1` runs the memory pass alone;
//! `MAPSTORE_BENCH_GROUPS=u64-pod64` runs only the groups (`key-value-nN`)
//! whose name contains that text.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::hash::Hash;
use std::hint::black_box;
use std::mem::{align_of, needs_drop, size_of};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use indexmap::IndexMap;
use mapstore::__private::{Pick, Select};
use mapstore::map::Map;
use mapstore::storage::Storage;
use mapstore::{
    choose, BoxedMap, DefaultHashBuilder, InlineMap, MapStore, MapValue, Optimize, Plan, PooledMap,
    StorageKind, ValueLayout,
};

// ---------------------------------------------------------------------------
// Counting allocator

/// Counts live bytes, their peak and allocation calls while `COUNTING` is
/// set. Sizes are the requested layout sizes (what `memory_usage()` reports),
/// not the allocator's rounded block sizes.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
/// Live bytes as the allocator really holds them: glibc's usable size of
/// each block plus its 8-byte header. Shows what a box per value costs
/// beyond its requested size.
static LIVE_REAL: AtomicUsize = AtomicUsize::new(0);
static PEAK_REAL: AtomicUsize = AtomicUsize::new(0);

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn block_size(ptr: *mut u8) -> usize {
    extern "C" {
        fn malloc_usable_size(ptr: *mut core::ffi::c_void) -> usize;
    }
    // SAFETY: `ptr` is a live block from `System`, which is glibc's malloc
    // (or `posix_memalign`) on this target.
    unsafe { malloc_usable_size(ptr.cast()) + 8 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn block_size(_: *mut u8) -> usize {
    0
}

/// Returns free heap memory to the system, so that every contender starts
/// from the same allocator state (otherwise the first one to grow the heap
/// pays the page faults, and the next ones reuse its pages).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_heap() {
    extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: `malloc_trim` has no preconditions.
    unsafe { malloc_trim(0) };
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_heap() {}

/// Pins glibc's malloc thresholds to the values its dynamic adjustment
/// settles on once a program has freed one large block (mmap above 32 MiB,
/// trim above 64 MiB). Left dynamic, they depend on what ran before, and a
/// loop that grows and drops a 100 KiB table would return its pages to the
/// kernel and fault them in again on every iteration.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn pin_malloc() {
    extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_MMAP_THRESHOLD: i32 = -3;
    // SAFETY: `mallopt` has no preconditions; called before any benchmark.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, 64 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn pin_malloc() {}

impl Counting {
    #[inline]
    fn grew(size: usize) {
        let live = LIVE.fetch_add(size, Relaxed) + size;
        PEAK.fetch_max(live, Relaxed);
    }
    #[inline]
    fn shrank(size: usize) {
        LIVE.fetch_sub(size, Relaxed);
    }
    #[inline]
    fn got(ptr: *mut u8) {
        if !ptr.is_null() {
            let size = block_size(ptr);
            let live = LIVE_REAL.fetch_add(size, Relaxed) + size;
            PEAK_REAL.fetch_max(live, Relaxed);
        }
    }
    #[inline]
    fn gave(ptr: *mut u8) {
        LIVE_REAL.fetch_sub(block_size(ptr), Relaxed);
    }
}

// SAFETY: every call forwards to `System` with the caller's arguments; the
// counters are plain atomics and never affect the returned memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller, who upholds `alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if COUNTING.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            Self::grew(layout.size());
            Self::got(ptr);
        }
        ptr
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if COUNTING.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            Self::grew(layout.size());
            Self::got(ptr);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Relaxed) {
            Self::shrank(layout.size());
            Self::gave(ptr);
        }
        // SAFETY: as in `alloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let counting = COUNTING.load(Relaxed);
        if counting {
            // Counted as resized in place (glibc grows large blocks with
            // mremap), so the peak is old-minus-new, not old-plus-new.
            ALLOCS.fetch_add(1, Relaxed);
            if new_size >= layout.size() {
                Self::grew(new_size - layout.size());
            } else {
                Self::shrank(layout.size() - new_size);
            }
            Self::gave(ptr);
        }
        // SAFETY: as in `alloc`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if counting {
            Self::got(if new.is_null() { ptr } else { new });
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---------------------------------------------------------------------------
// Keys and values

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

trait Key: Hash + Eq + Clone {
    const LABEL: &'static str;
    /// Distinct for distinct `i`.
    fn make(i: u64) -> Self;
    /// Heap bytes this key owns.
    fn heap_bytes(&self) -> usize;
}

impl Key for u64 {
    const LABEL: &'static str = "u64";
    fn make(i: u64) -> Self {
        splitmix(i)
    }
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl Key for String {
    const LABEL: &'static str = "string";
    fn make(i: u64) -> Self {
        let mut s = String::with_capacity(24);
        write!(s, "key-{:016x}", splitmix(i)).expect("writing to a String");
        s
    }
    fn heap_bytes(&self) -> usize {
        self.capacity()
    }
}

/// A benchmark value type. `MapValue` is implemented through the policy
/// (`choose`), exactly as the derive does, so `MapStore` makes the automatic
/// choice.
trait Value: MapValue {
    const LABEL: &'static str;
    /// Whether the value owns heap memory (a `String` field).
    const OWNS_HEAP: bool;
    /// A value whose every byte is written from `i`.
    fn make(i: u64) -> Self;
    /// Reads the value's first word.
    fn read(&self) -> u64;
    /// Heap bytes this value owns.
    fn heap_bytes(&self) -> usize;
}

/// A pointer-free value of `N` bytes, aligned like a struct of `u64`s.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct Pod<const N: usize>([u8; N]);

/// A heap-owning value: a `String` plus `W` words, `24 + 8 * W` bytes.
#[derive(Clone)]
struct Owned<const W: usize> {
    name: String,
    words: [u64; W],
}

macro_rules! values {
    ($(pod $n:literal;)* $(owned $w:literal => $size:literal;)*) => {
        $(
            impl MapValue for Pod<$n> {
                type Storage = <Select<
                    { choose(ValueLayout::of::<Pod<$n>>(false), Optimize::Balanced) as u8 },
                > as Pick>::S;
                const PLAN: Plan = Plan::new(
                    concat!("Pod<", $n, ">"),
                    size_of::<Pod<$n>>(),
                    align_of::<Pod<$n>>(),
                    needs_drop::<Pod<$n>>(),
                    &[],
                    None,
                );
            }

            impl Value for Pod<$n> {
                const LABEL: &'static str = concat!("pod", $n);
                const OWNS_HEAP: bool = false;
                #[inline]
                fn make(i: u64) -> Self {
                    let mut bytes = [i as u8 ^ 0x5a; $n];
                    bytes[..8].copy_from_slice(&i.to_le_bytes());
                    Pod(bytes)
                }
                #[inline]
                fn read(&self) -> u64 {
                    let mut word = [0; 8];
                    word.copy_from_slice(&self.0[..8]);
                    u64::from_le_bytes(word)
                }
                fn heap_bytes(&self) -> usize {
                    0
                }
            }
        )*
        $(
            const _: () = assert!(size_of::<Owned<$w>>() == $size);

            impl MapValue for Owned<$w> {
                type Storage = <Select<
                    { choose(ValueLayout::of::<Owned<$w>>(true), Optimize::Balanced) as u8 },
                > as Pick>::S;
                const PLAN: Plan = Plan::new(
                    concat!("Owned<", $w, ">"),
                    size_of::<Owned<$w>>(),
                    align_of::<Owned<$w>>(),
                    needs_drop::<Owned<$w>>(),
                    &["name"],
                    None,
                );
            }

            impl Value for Owned<$w> {
                const LABEL: &'static str = concat!("own", $size);
                const OWNS_HEAP: bool = true;
                #[inline]
                fn make(i: u64) -> Self {
                    let mut name = String::with_capacity(16);
                    write!(name, "{:016x}", i).expect("writing to a String");
                    Owned { name, words: [i; $w] }
                }
                #[inline]
                fn read(&self) -> u64 {
                    self.words[0] ^ self.name.len() as u64
                }
                fn heap_bytes(&self) -> usize {
                    self.name.capacity()
                }
            }
        )*
    };
}

values! {
    pod 8; pod 16; pod 32; pod 64; pod 128; pod 256; pod 512; pod 1024; pod 4096;
    owned 1 => 32; owned 13 => 128; owned 61 => 512;
}

// ---------------------------------------------------------------------------
// Contenders

trait Contender<K: Key, V: Value> {
    const NAME: &'static str;
    /// Whether `memory_usage()` exists to cross-check.
    const MAPSTORE: bool;
    fn new() -> Self;
    fn with_capacity(n: usize) -> Self;
    fn insert(&mut self, key: K, value: V);
    fn get(&self, key: &K) -> Option<&V>;
    /// Removes `key` and reads the removed value.
    fn remove(&mut self, key: &K) -> Option<u64>;
    fn clear(&mut self);
    fn len(&self) -> usize;
    /// Sum of the first word of every value.
    fn sum_values(&self) -> u64;
    /// Heap bytes owned by the keys and values themselves.
    fn owned_heap(&self) -> usize;
    fn memory_usage(&self) -> usize {
        0
    }
}

impl<K: Key, V: Value, St: Storage> Contender<K, V> for Map<K, V, St> {
    const NAME: &'static str = match St::KIND {
        StorageKind::Inline => "InlineMap",
        StorageKind::Boxed => "BoxedMap",
        StorageKind::Pooled => "PooledMap",
    };
    const MAPSTORE: bool = true;
    fn new() -> Self {
        Map::new()
    }
    fn with_capacity(n: usize) -> Self {
        Map::with_capacity(n)
    }
    #[inline]
    fn insert(&mut self, key: K, value: V) {
        Map::insert(self, key, value);
    }
    #[inline]
    fn get(&self, key: &K) -> Option<&V> {
        Map::get(self, key)
    }
    #[inline]
    fn remove(&mut self, key: &K) -> Option<u64> {
        Map::remove(self, key).map(|v| v.read())
    }
    fn clear(&mut self) {
        Map::clear(self);
    }
    fn len(&self) -> usize {
        Map::len(self)
    }
    fn sum_values(&self) -> u64 {
        self.values().fold(0, |s, v| s.wrapping_add(v.read()))
    }
    fn owned_heap(&self) -> usize {
        self.iter()
            .map(|(k, v)| k.heap_bytes() + v.heap_bytes())
            .sum()
    }
    fn memory_usage(&self) -> usize {
        Map::memory_usage(self)
    }
}

/// `MapStore`: the map its value type chose. A newtype only so that it is a
/// contender of its own: `MapStore<K, V>` is one of the three maps above.
struct Chosen<K, V: MapValue>(MapStore<K, V>);

impl<K: Key, V: Value> Contender<K, V> for Chosen<K, V> {
    const NAME: &'static str = "MapStore";
    const MAPSTORE: bool = true;
    fn new() -> Self {
        Chosen(MapStore::new())
    }
    fn with_capacity(n: usize) -> Self {
        Chosen(MapStore::with_capacity(n))
    }
    #[inline]
    fn insert(&mut self, key: K, value: V) {
        self.0.insert(key, value);
    }
    #[inline]
    fn get(&self, key: &K) -> Option<&V> {
        self.0.get(key)
    }
    #[inline]
    fn remove(&mut self, key: &K) -> Option<u64> {
        self.0.remove(key).map(|v| v.read())
    }
    fn clear(&mut self) {
        self.0.clear();
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn sum_values(&self) -> u64 {
        self.0.values().fold(0, |s, v| s.wrapping_add(v.read()))
    }
    fn owned_heap(&self) -> usize {
        self.0
            .iter()
            .map(|(k, v)| k.heap_bytes() + v.heap_bytes())
            .sum()
    }
    fn memory_usage(&self) -> usize {
        self.0.memory_usage()
    }
}

macro_rules! std_like_contender {
    ($name:literal, $ty:ty, new: $new:expr, with_capacity: $cap:expr, remove: $remove:ident, wrap: $wrap:expr, unwrap: $unwrap:expr) => {
        impl<K: Key, V: Value> Contender<K, V> for $ty {
            const NAME: &'static str = $name;
            const MAPSTORE: bool = false;
            fn new() -> Self {
                $new
            }
            fn with_capacity(n: usize) -> Self {
                $cap(n)
            }
            #[inline]
            fn insert(&mut self, key: K, value: V) {
                <$ty>::insert(self, key, $wrap(value));
            }
            #[inline]
            fn get(&self, key: &K) -> Option<&V> {
                <$ty>::get(self, key).map($unwrap)
            }
            #[inline]
            fn remove(&mut self, key: &K) -> Option<u64> {
                <$ty>::$remove(self, key).map(|v| v.read())
            }
            fn clear(&mut self) {
                <$ty>::clear(self);
            }
            fn len(&self) -> usize {
                <$ty>::len(self)
            }
            fn sum_values(&self) -> u64 {
                self.values().fold(0, |s, v| s.wrapping_add(v.read()))
            }
            fn owned_heap(&self) -> usize {
                self.iter()
                    .map(|(k, v)| k.heap_bytes() + v.heap_bytes())
                    .sum()
            }
        }
    };
}

type HashbrownMap<K, V> = hashbrown::HashMap<K, V, DefaultHashBuilder>;
type HashbrownBoxMap<K, V> = hashbrown::HashMap<K, Box<V>, DefaultHashBuilder>;
type IndexMapDefault<K, V> = IndexMap<K, V, DefaultHashBuilder>;
type StdMap<K, V> = std::collections::HashMap<K, V>;

std_like_contender!("hashbrown", HashbrownMap<K, V>,
    new: HashbrownMap::default(),
    with_capacity: |n| HashbrownMap::with_capacity_and_hasher(n, DefaultHashBuilder::default()),
    remove: remove, wrap: |v| v, unwrap: |v| v);
std_like_contender!("hashbrown_Box", HashbrownBoxMap<K, V>,
    new: HashbrownBoxMap::default(),
    with_capacity: |n| HashbrownBoxMap::with_capacity_and_hasher(n, DefaultHashBuilder::default()),
    remove: remove, wrap: Box::new, unwrap: |v| &**v);
std_like_contender!("IndexMap", IndexMapDefault<K, V>,
    new: IndexMapDefault::default(),
    with_capacity: |n| IndexMapDefault::with_capacity_and_hasher(n, DefaultHashBuilder::default()),
    remove: swap_remove, wrap: |v| v, unwrap: |v| v);
std_like_contender!("std_HashMap", StdMap<K, V>,
    new: StdMap::new(),
    with_capacity: StdMap::with_capacity,
    remove: remove, wrap: |v| v, unwrap: |v| v);

// ---------------------------------------------------------------------------
// Workloads

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Work {
    Grow,
    Presized,
    Hit,
    Miss,
    Churn,
    Iterate,
    ClearDrop,
}

impl Work {
    const ALL: &'static [Work] = &[
        Work::Grow,
        Work::Presized,
        Work::Hit,
        Work::Miss,
        Work::Iterate,
        Work::Churn,
        Work::ClearDrop,
    ];
    const CORE: &'static [Work] = &[Work::Grow, Work::Hit, Work::Churn];

    fn name(self) -> &'static str {
        match self {
            Work::Grow => "grow_insert",
            Work::Presized => "presized_insert",
            Work::Hit => "lookup_hit",
            Work::Miss => "lookup_miss",
            Work::Churn => "churn",
            Work::Iterate => "iterate",
            Work::ClearDrop => "clear_drop",
        }
    }
}

/// The keys of one configuration.
struct Keys<K> {
    /// Inserted, in this order; key `i` gets value `V::make(i)`.
    insert: Vec<K>,
    /// The same keys, shuffled: lookup and churn order.
    shuffled: Vec<K>,
    /// Keys never inserted.
    missing: Vec<K>,
}

impl<K: Key> Keys<K> {
    fn new(n: usize) -> Self {
        let insert: Vec<K> = (0..n as u64).map(|i| K::make(2 * i)).collect();
        let missing = (0..n as u64).map(|i| K::make(2 * i + 1)).collect();
        let mut order: Vec<usize> = (0..n).collect();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for i in (1..n).rev() {
            state = splitmix(state);
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let shuffled = order.iter().map(|&i| insert[i].clone()).collect();
        Keys {
            insert,
            shuffled,
            missing,
        }
    }
}

#[inline(never)]
fn fill<K: Key, V: Value, M: Contender<K, V>>(map: &mut M, keys: &[K]) {
    for (i, key) in keys.iter().enumerate() {
        map.insert(key.clone(), V::make(i as u64));
    }
}

fn grown<K: Key, V: Value, M: Contender<K, V>>(keys: &[K]) -> M {
    let mut map = M::new();
    fill::<K, V, M>(&mut map, keys);
    map
}

/// Setup time a `clear_drop` sample may spend rebuilding maps; past it the
/// sample's time is scaled from the iterations it ran (at least one).
const CLEAR_DROP_SETUP_BUDGET: Duration = Duration::from_millis(25);

fn bench_contender<K: Key, V: Value, M: Contender<K, V>>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    keys: &Keys<K>,
    works: &[Work],
) {
    trim_heap();
    let n = keys.insert.len();
    let id = |w: Work| BenchmarkId::new(w.name(), M::NAME);
    let mut built: Option<M> = None;
    for &work in works {
        if matches!(work, Work::Hit | Work::Miss | Work::Iterate | Work::Churn) && built.is_none() {
            built = Some(grown::<K, V, M>(&keys.insert));
        }
        match work {
            Work::Grow | Work::Presized => {
                group.bench_function(id(work), |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let mut map = if work == Work::Grow {
                                M::new()
                            } else {
                                M::with_capacity(n)
                            };
                            let start = Instant::now();
                            fill::<K, V, M>(&mut map, &keys.insert);
                            total += start.elapsed();
                            black_box(&map);
                            assert_eq!(map.len(), n);
                        }
                        total
                    })
                });
            }
            Work::Hit => {
                let map = built.as_ref().expect("built above");
                group.bench_function(id(work), |b| {
                    b.iter(|| {
                        let mut sum = 0u64;
                        for key in &keys.shuffled {
                            if let Some(v) = map.get(black_box(key)) {
                                sum = sum.wrapping_add(v.read());
                            }
                        }
                        sum
                    })
                });
            }
            Work::Miss => {
                let map = built.as_ref().expect("built above");
                group.bench_function(id(work), |b| {
                    b.iter(|| {
                        let mut found = 0usize;
                        for key in &keys.missing {
                            found += usize::from(map.get(black_box(key)).is_some());
                        }
                        assert_eq!(found, 0);
                        found
                    })
                });
            }
            Work::Iterate => {
                let map = built.as_ref().expect("built above");
                group.bench_function(id(work), |b| b.iter(|| black_box(map).sum_values()));
            }
            Work::Churn => {
                let map = built.as_mut().expect("built above");
                group.bench_function(id(work), |b| {
                    b.iter(|| {
                        let mut sum = 0u64;
                        for (i, key) in keys.shuffled.iter().enumerate() {
                            sum = sum.wrapping_add(map.remove(key).unwrap_or(u64::MAX));
                            map.insert(key.clone(), V::make(i as u64));
                        }
                        sum
                    })
                });
                assert_eq!(map.len(), n);
            }
            Work::ClearDrop => {
                built = None;
                group.bench_function(id(work), |b| {
                    b.iter_custom(|iters| {
                        let (mut timed, mut setup, mut done) = (Duration::ZERO, Duration::ZERO, 0);
                        while done < iters && (done == 0 || setup < CLEAR_DROP_SETUP_BUDGET) {
                            let start = Instant::now();
                            let mut map = grown::<K, V, M>(&keys.insert);
                            setup += start.elapsed();
                            black_box(&mut map);
                            let start = Instant::now();
                            map.clear();
                            drop(map);
                            timed += start.elapsed();
                            done += 1;
                        }
                        timed.mul_f64(iters as f64 / done as f64)
                    })
                });
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Memory pass

struct MemoryRow {
    key: &'static str,
    value: &'static str,
    value_size: usize,
    owns_heap: bool,
    n: usize,
    contender: &'static str,
    live: usize,
    peak: usize,
    /// `live` and `peak` in allocator blocks (usable size + header).
    live_real: usize,
    peak_real: usize,
    allocs: usize,
    /// `memory_usage()` + the keys' and values' own heap, for mapstore maps.
    reported: Option<usize>,
}

impl MemoryRow {
    const HEADER: &'static str = "key,value,value_size,owns_heap,n,contender,bytes_per_entry_end,bytes_per_entry_peak,malloc_bytes_per_entry_end,malloc_bytes_per_entry_peak,allocs_per_entry,live_bytes,peak_bytes,allocs,memory_usage_check";

    fn csv(&self) -> String {
        let n = self.n as f64;
        let check = match self.reported {
            None => "n/a".to_string(),
            Some(r) if r == self.live => "ok".to_string(),
            Some(r) => format!("MISMATCH reported {r} live {}", self.live),
        };
        format!(
            "{},{},{},{},{},{},{:.2},{:.2},{:.2},{:.2},{:.4},{},{},{},{}",
            self.key,
            self.value,
            self.value_size,
            self.owns_heap,
            self.n,
            self.contender,
            self.live as f64 / n,
            self.peak as f64 / n,
            self.live_real as f64 / n,
            self.peak_real as f64 / n,
            self.allocs as f64 / n,
            self.live,
            self.peak,
            self.allocs,
            check
        )
    }
}

/// One grow-insert with the allocator counting. Single-threaded: criterion
/// runs on the main thread and nothing else allocates meanwhile.
fn measure<K: Key, V: Value, M: Contender<K, V>>(keys: &[K], rows: &mut Vec<MemoryRow>) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let base_real = LIVE_REAL.load(Relaxed);
    PEAK_REAL.store(base_real, Relaxed);
    let allocs = ALLOCS.load(Relaxed);
    COUNTING.store(true, Relaxed);
    let map: M = grown::<K, V, M>(keys);
    let live = LIVE.load(Relaxed) - base;
    let peak = PEAK.load(Relaxed) - base;
    let live_real = LIVE_REAL.load(Relaxed) - base_real;
    let peak_real = PEAK_REAL.load(Relaxed) - base_real;
    let allocs = ALLOCS.load(Relaxed) - allocs;
    // The map's own allocations plus what its keys and values own.
    let reported = M::MAPSTORE.then(|| map.memory_usage() + map.owned_heap());
    drop(black_box(map));
    COUNTING.store(false, Relaxed);
    let row = MemoryRow {
        key: K::LABEL,
        value: V::LABEL,
        value_size: size_of::<V>(),
        owns_heap: V::OWNS_HEAP,
        n: keys.len(),
        contender: M::NAME,
        live,
        peak,
        live_real,
        peak_real,
        allocs,
        reported,
    };
    if let Some(r) = row.reported {
        if r != row.live {
            eprintln!(
                "\n!!!!!!!! MEMORY MISMATCH: {}<{}, {}> n={}: memory_usage() + owned heap = {} bytes, \
                 but the allocator holds {} bytes for the map (difference {}) !!!!!!!!\n",
                M::NAME,
                K::LABEL,
                V::LABEL,
                keys.len(),
                r,
                row.live,
                r as isize - row.live as isize
            );
        }
    }
    rows.push(row);
}

// ---------------------------------------------------------------------------
// Configurations

struct Run {
    memory_only: bool,
    /// `MAPSTORE_BENCH_GROUPS`: run only the groups whose name contains it.
    only: Option<String>,
    rows: Vec<MemoryRow>,
}

fn every_contender<K: Key, V: Value>(c: &mut Criterion, plan: &mut Run, n: usize, works: &[Work]) {
    let group_name = format!("{}-{}-n{}", K::LABEL, V::LABEL, n);
    if let Some(only) = &plan.only {
        if !group_name.contains(only.as_str()) {
            return;
        }
    }
    let keys = Keys::<K>::new(n);
    macro_rules! each {
        ($f:ident) => {{
            $f::<K, V, InlineMap<K, V>>(&keys, plan, c, works);
            $f::<K, V, BoxedMap<K, V>>(&keys, plan, c, works);
            $f::<K, V, PooledMap<K, V>>(&keys, plan, c, works);
            $f::<K, V, Chosen<K, V>>(&keys, plan, c, works);
            $f::<K, V, HashbrownMap<K, V>>(&keys, plan, c, works);
            $f::<K, V, HashbrownBoxMap<K, V>>(&keys, plan, c, works);
            $f::<K, V, IndexMapDefault<K, V>>(&keys, plan, c, works);
            $f::<K, V, StdMap<K, V>>(&keys, plan, c, works);
        }};
    }
    fn memory<K: Key, V: Value, M: Contender<K, V>>(
        keys: &Keys<K>,
        plan: &mut Run,
        _: &mut Criterion,
        _: &[Work],
    ) {
        measure::<K, V, M>(&keys.insert, &mut plan.rows);
    }
    each!(memory);
    if plan.memory_only {
        return;
    }
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(n as u64));
    group.sampling_mode(SamplingMode::Flat);
    // Functions cannot capture `group`, so the contenders are listed again.
    bench_contender::<K, V, InlineMap<K, V>>(&mut group, &keys, works);
    bench_contender::<K, V, BoxedMap<K, V>>(&mut group, &keys, works);
    bench_contender::<K, V, PooledMap<K, V>>(&mut group, &keys, works);
    bench_contender::<K, V, Chosen<K, V>>(&mut group, &keys, works);
    bench_contender::<K, V, HashbrownMap<K, V>>(&mut group, &keys, works);
    bench_contender::<K, V, HashbrownBoxMap<K, V>>(&mut group, &keys, works);
    bench_contender::<K, V, IndexMapDefault<K, V>>(&mut group, &keys, works);
    bench_contender::<K, V, StdMap<K, V>>(&mut group, &keys, works);
    group.finish();
}

fn out_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
    std::path::PathBuf::from(target).join("mapstore-bench")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Criterion's rule: test mode with `--test`, or without `--bench`
    // (`cargo test --benches`).
    let quick = args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench");
    let memory_only = std::env::var_os("MAPSTORE_BENCH_MEMORY_ONLY").is_some();
    pin_malloc();

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(300))
        .nresamples(1001)
        .without_plots()
        .configure_from_args();

    let mut plan = Run {
        memory_only,
        only: std::env::var("MAPSTORE_BENCH_GROUPS").ok(),
        rows: Vec::new(),
    };
    let (small, medium, large) = if quick {
        (200, 200, 200)
    } else {
        (1_000, 100_000, 1_000_000)
    };
    let all = Work::ALL;
    let core = Work::CORE;

    // Pointer-free values, u64 keys, every workload at 1k and 100k.
    for n in if quick {
        vec![small]
    } else {
        vec![small, medium]
    } {
        every_contender::<u64, Pod<8>>(&mut c, &mut plan, n, all);
        every_contender::<u64, Pod<16>>(&mut c, &mut plan, n, all);
        every_contender::<u64, Pod<32>>(&mut c, &mut plan, n, all);
        every_contender::<u64, Pod<64>>(&mut c, &mut plan, n, all);
        every_contender::<u64, Pod<128>>(&mut c, &mut plan, n, all);
        every_contender::<u64, Pod<256>>(&mut c, &mut plan, n, all);
        every_contender::<u64, Pod<512>>(&mut c, &mut plan, n, all);
        every_contender::<u64, Pod<1024>>(&mut c, &mut plan, n, all);
        every_contender::<u64, Pod<4096>>(&mut c, &mut plan, n, all);
    }
    // Heap-owning values (a `String` field), every workload at 100k.
    every_contender::<u64, Owned<1>>(&mut c, &mut plan, medium, all);
    every_contender::<u64, Owned<13>>(&mut c, &mut plan, medium, all);
    every_contender::<u64, Owned<61>>(&mut c, &mut plan, medium, all);
    // String keys: grow, lookup, churn at 100k.
    every_contender::<String, Pod<16>>(&mut c, &mut plan, medium, core);
    every_contender::<String, Pod<128>>(&mut c, &mut plan, medium, core);
    every_contender::<String, Pod<1024>>(&mut c, &mut plan, medium, core);
    // 1M entries: small and mid sizes only (4 KiB values at 1M would be
    // 4 GB of values, ~10 GB of inline table at the worst growth point).
    every_contender::<u64, Pod<8>>(&mut c, &mut plan, large, core);
    every_contender::<u64, Pod<64>>(&mut c, &mut plan, large, core);
    every_contender::<u64, Pod<256>>(&mut c, &mut plan, large, core);

    let dir = out_dir();
    let mut csv = String::from(MemoryRow::HEADER);
    csv.push('\n');
    for row in &plan.rows {
        csv.push_str(&row.csv());
        csv.push('\n');
    }
    let file = dir.join(if quick {
        "memory-quick.csv"
    } else {
        "memory.csv"
    });
    std::fs::create_dir_all(&dir).expect("creating the output directory");
    std::fs::write(&file, csv).expect("writing memory.csv");
    let mismatches = plan
        .rows
        .iter()
        .filter(|r| r.reported.is_some_and(|rep| rep != r.live))
        .count();
    eprintln!(
        "memory: {} rows written to {}",
        plan.rows.len(),
        file.display()
    );
    c.final_summary();
    if mismatches > 0 {
        eprintln!(
            "!!!!!!!! {mismatches} memory_usage() mismatches, see above and the CSV !!!!!!!!"
        );
        std::process::exit(1);
    }
}
