//! The tour: derive on five realistic value types, print each plan, then
//! race the chosen storage against the other two and against std's
//! `HashMap<K, V>` and `HashMap<K, Box<V>>`.
//!
//! ```sh
//! cargo run --release --example tour
//! ```
//!
//! Times are the best of a few rounds of "insert N entries into an empty
//! map, then look each one up"; bytes per entry are what the map holds at
//! the end (live) and at its worst moment while growing (peak), measured by
//! a counting allocator, not counting the heap the values own themselves.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::hash::Hash;
use std::hint::black_box;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use mapstore::{BoxedMap, InlineMap, MapStore, MapValue, PooledMap};

// ---------------------------------------------------------------------------
// The value types.

/// A 16-byte, pointer-free id record: the policy stores it inline.
#[derive(MapStore, Clone)]
pub struct OrderId {
    pub shard: u32,
    pub sequence: u32,
    pub placed_at: u64,
}

/// A user profile with `String` fields, as in Go's `map[string]User`.
#[derive(MapStore, Clone)]
pub struct UserProfile {
    pub name: String,
    pub email: String,
    pub age: u32,
    pub verified: bool,
}

/// A 300-byte pointer-free record: large enough that moving it on every
/// resize costs more than an indirection per lookup, so it is pooled.
#[derive(MapStore, Clone)]
pub struct SensorRecord {
    pub id: u64,
    pub samples: [f32; 72],
    pub checksum: u32,
}

/// A 4 KiB buffer.
#[derive(MapStore, Clone)]
pub struct PageBuffer {
    pub bytes: [u8; 4096],
}

/// A `repr(C)` struct whose field order wastes 8 of its 24 bytes in
/// padding. The derive warns about it; `allow(padding)` silences the warning
/// here because this tour shows the layout on purpose.
#[derive(MapStore, Clone)]
#[map_store(allow(padding))]
#[repr(C)]
pub struct WirePacket {
    pub flags: u8,
    pub length: u64,
    pub kind: u8,
    pub crc: u32,
}

// ---------------------------------------------------------------------------
// A counting allocator, for bytes per entry.

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` unchanged and only updates
// counters, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(live, Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let live = LIVE.fetch_add(new_size, Relaxed) + new_size;
        PEAK.fetch_max(live, Relaxed);
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ---------------------------------------------------------------------------
// The contenders, behind one small trait.

trait Contender<K, V> {
    fn empty() -> Self;
    fn put(&mut self, key: K, value: V);
    fn find(&self, key: &K) -> Option<&V>;
}

/// The maps whose own `new`, `insert` and `get` are the contender's.
macro_rules! contender {
    ($(impl[$($bounds:tt)*] for $map:ty;)*) => {$(
        impl<K: Eq + Hash, $($bounds)*> Contender<K, V> for $map {
            fn empty() -> Self {
                Self::new()
            }
            fn put(&mut self, key: K, value: V) {
                self.insert(key, value);
            }
            fn find(&self, key: &K) -> Option<&V> {
                self.get(key)
            }
        }
    )*};
}

contender! {
    impl[V, St: mapstore::storage::Storage] for mapstore::map::Map<K, V, St>;
    impl[V] for HashMap<K, V>;
}

/// `HashMap<K, Box<V>>`, the usual hand-made answer to large values.
struct StdBoxed<K, V>(HashMap<K, Box<V>>);

impl<K: Eq + Hash, V> Contender<K, V> for StdBoxed<K, V> {
    fn empty() -> Self {
        StdBoxed(HashMap::new())
    }
    fn put(&mut self, key: K, value: V) {
        self.0.insert(key, Box::new(value));
    }
    fn find(&self, key: &K) -> Option<&V> {
        self.0.get(key).map(|b| &**b)
    }
}

struct Outcome {
    name: String,
    time: Duration,
    live: f64,
    peak: f64,
}

/// One timed round for one contender: insert `n` entries into an empty map,
/// then look each one up. Returns the time and the bytes the map held at
/// the end and at its peak.
fn round<K, V, M>(
    n: usize,
    keys: &[K],
    key: &dyn Fn(usize) -> K,
    value: &dyn Fn(usize) -> V,
    probe: fn(&V) -> u64,
) -> (Duration, usize, usize)
where
    M: Contender<K, V>,
{
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let start = Instant::now();
    let mut map = M::empty();
    for i in 0..n {
        map.put(key(i), value(i));
    }
    let mut sum = 0u64;
    for k in keys {
        sum = sum.wrapping_add(map.find(k).map_or(0, probe));
    }
    black_box(sum);
    let time = start.elapsed();
    // Keys are built the same way for every contender; their own heap
    // (String keys) is part of what every map holds.
    let live = LIVE.load(Relaxed) - before;
    let peak = PEAK.load(Relaxed) - before;
    drop(map);
    (time, live, peak)
}

/// A contender's name and its round function.
type Entrant<'a, K, V> = (
    String,
    fn(
        usize,
        &[K],
        &dyn Fn(usize) -> K,
        &dyn Fn(usize) -> V,
        fn(&V) -> u64,
    ) -> (Duration, usize, usize),
);

fn race<K, V>(
    n: usize,
    rounds: usize,
    key: impl Fn(usize) -> K,
    value: impl Fn(usize) -> V,
    probe: fn(&V) -> u64,
) where
    K: Eq + Hash,
    V: MapValue,
{
    let chosen = V::PLAN.storage;
    let mut entrants: Vec<Entrant<'_, K, V>> = vec![(
        format!("MapStore ({chosen})"),
        round::<K, V, MapStore<K, V>>,
    )];
    for kind in [
        mapstore::StorageKind::Inline,
        mapstore::StorageKind::Pooled,
        mapstore::StorageKind::Boxed,
    ] {
        if kind != chosen {
            entrants.push(match kind {
                mapstore::StorageKind::Inline => {
                    ("InlineMap".into(), round::<K, V, InlineMap<K, V>>)
                }
                mapstore::StorageKind::Pooled => {
                    ("PooledMap".into(), round::<K, V, PooledMap<K, V>>)
                }
                mapstore::StorageKind::Boxed => ("BoxedMap".into(), round::<K, V, BoxedMap<K, V>>),
            });
        }
    }
    entrants.push((STD_INLINE.into(), round::<K, V, HashMap<K, V>>));
    entrants.push((
        "std HashMap<K, Box<V>>".into(),
        round::<K, V, StdBoxed<K, V>>,
    ));

    let keys: Vec<K> = (0..n).map(&key).collect();
    let mut outcomes: Vec<Outcome> = entrants
        .iter()
        .map(|(name, _)| Outcome {
            name: name.clone(),
            time: Duration::MAX,
            live: 0.0,
            peak: 0.0,
        })
        .collect();
    // A warm-up round at a tenth of the size, then the measured rounds in
    // turn, so that no contender is always the first after another's frees.
    for (_, run) in &entrants {
        run(n / 10, &keys[..n / 10], &key, &value, probe);
    }
    for _ in 0..rounds {
        for ((_, run), outcome) in entrants.iter().zip(&mut outcomes) {
            let (time, live, peak) = run(n, &keys, &key, &value, probe);
            outcome.time = outcome.time.min(time);
            outcome.live = live as f64 / n as f64;
            outcome.peak = peak as f64 / n as f64;
        }
        progress();
    }
    println!();

    let fastest = outcomes.iter().map(|o| o.time).min().unwrap_or_default();
    let leanest = outcomes
        .iter()
        .map(|o| o.peak)
        .fold(f64::INFINITY, f64::min);
    let std_time = outcomes
        .iter()
        .find(|o| o.name == STD_INLINE)
        .map_or(fastest, |o| o.time);
    println!(
        "    {:<24} {:>12} {:>9} {:>14} {:>14}",
        "map", "ns/entry", "vs std", "live B/entry", "peak B/entry"
    );
    for o in &outcomes {
        let ns = o.time.as_nanos() as f64 / n as f64;
        let speedup = std_time.as_secs_f64() / o.time.as_secs_f64();
        let time_mark = if o.time == fastest { "*" } else { " " };
        let peak_mark = if o.peak == leanest { "*" } else { " " };
        println!(
            "    {:<24} {:>11.1}{time_mark} {:>8.2}x {:>14.0} {:>13.0}{peak_mark}",
            o.name, ns, speedup, o.live, o.peak
        );
    }
    println!();
}

/// The reference a user starts from.
const STD_INLINE: &str = "std HashMap<K, V>";

fn progress() {
    print!(".");
    let _ = std::io::stdout().flush();
}

fn key(i: usize) -> u64 {
    // Spread the keys like real ids, not 0, 1, 2...
    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn main() {
    let n = match std::env::args().nth(1).map(|arg| arg.parse::<usize>()) {
        None => 100_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: tour [ENTRIES]   (a positive number, default 100000)");
            std::process::exit(2);
        }
    };

    // glibc serves large blocks with mmap and unmaps them on free, until a
    // freed block raises its threshold. Raise it once, up front, so that the
    // first map timed does not pay page faults the later ones are spared.
    drop(black_box(vec![1u8; 32 << 20]));

    println!(
        "mapstore tour: the plan for each value type, then {n} inserts + {n} lookups per map\n"
    );
    println!("plans (like Go's -gcflags=-m):");
    for plan in [
        OrderId::PLAN,
        UserProfile::PLAN,
        SensorRecord::PLAN,
        PageBuffer::PLAN,
        WirePacket::PLAN,
    ] {
        println!("  {plan}");
    }
    println!();

    print!("OrderId (16 B, u64 keys) ");
    race(
        n,
        9,
        key,
        |i| OrderId {
            shard: i as u32 % 64,
            sequence: i as u32,
            placed_at: i as u64,
        },
        |v| u64::from(v.sequence),
    );

    print!("UserProfile (String fields, String keys) ");
    race(
        n,
        5,
        |i| format!("user-{i}"),
        |i| UserProfile {
            name: format!("User {i}"),
            email: format!("user{i}@example.com"),
            age: 20 + (i % 60) as u32,
            verified: i % 3 == 0,
        },
        |v| u64::from(v.age),
    );

    print!("SensorRecord (300 B, u64 keys) ");
    race(
        n,
        5,
        key,
        |i| SensorRecord {
            id: i as u64,
            samples: [i as f32; 72],
            checksum: i as u32,
        },
        |v| v.id,
    );

    print!("PageBuffer (4 KiB, u64 keys) ");
    race(
        n,
        2,
        key,
        |i| PageBuffer {
            bytes: [i as u8; 4096],
        },
        |v| u64::from(v.bytes[17]),
    );

    print!("WirePacket (repr(C), 24 B with 8 B of padding) ");
    race(
        n,
        9,
        key,
        |i| WirePacket {
            flags: 1,
            length: i as u64,
            kind: 2,
            crc: i as u32,
        },
        |v| v.length,
    );

    println!("* marks the fastest map and the one with the smallest peak footprint per type;");
    println!("vs std is the speed-up over std HashMap<K, V> (its own SipHash hasher, as users start from).");
    println!("Print any plan yourself: println!(\"{{}}\", <MyType as mapstore::MapValue>::PLAN);");
}
