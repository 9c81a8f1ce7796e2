//! The tour: what `#[derive(MapStore)]` decides for a few realistic value
//! types, a short race that checks the decision on this machine, and how to
//! read the warning the derive gives for a slow hand-forced choice.
//!
//! ```sh
//! cargo run --release --example tour            # about 10-30 s
//! cargo run --release --example tour -- 20000   # fewer entries per map
//! ```
//!
//! The race uses the same harness as the policy sweep (`benches/sweep.rs`,
//! from `mapstore-testkit`): every map runs interleaved in one process,
//! the order rotated each round, the minimum over rounds kept, and
//! `MapStore` timed twice so that the noise is on screen. The sweep, not
//! this tour, is where the thresholds come from.

use mapstore::{BoxedMap, InlineMap, MapStore, MapValue, Optimize, PooledMap, StorageKind};
use mapstore_testkit::alloc::{malloc, Counting};
use mapstore_testkit::contender::{
    memory, session, Contender, HashbrownBoxMap, HashbrownMap, Memory, StdMap, Store,
};
use mapstore_testkit::data::{Key, Keys, Value};
use mapstore_testkit::race::Race;

#[path = "tour_steps/frozen.rs"]
mod frozen;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[path = "tour_steps/concurrent.rs"]
mod concurrent;

// ---------------------------------------------------------------------------
// 1. The value types. The derive reads each one's size, alignment and heap
//    fields and calls `mapstore::choose` at compile time.

/// A 16-byte, pointer-free order id.
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

/// A 304-byte pointer-free record.
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

/// A small value forced into a box. Without `allow(slow_storage)` the
/// derive warns (section 3 shows the warning); the plan says the same.
#[derive(MapStore, Clone)]
#[map_store(storage = "boxed", allow(slow_storage))]
pub struct BoxedPoint {
    pub x: f64,
    pub y: f64,
}

/// A 96-byte price record read by a service that builds its table once at
/// start-up and then only looks prices up: optimized for reads.
#[derive(MapStore, Clone)]
#[map_store(optimize = "reads")]
pub struct PriceQuote {
    pub sku: u64,
    pub cents: [u32; 22],
}

/// The same 96 bytes kept in an archive that is rarely read: optimized for
/// the fewest bytes per entry.
#[derive(MapStore, Clone)]
#[map_store(optimize = "memory")]
pub struct ArchivedQuote {
    pub sku: u64,
    pub cents: [u32; 22],
}

/// The same 96 bytes with the default goal (balanced), for comparison.
#[derive(MapStore, Clone)]
pub struct Quote {
    pub sku: u64,
    pub cents: [u32; 22],
}

// ---------------------------------------------------------------------------
// How the race makes and reads each value (the testkit's `Value`).

macro_rules! quote_value {
    ($($ty:ident),*) => {$(
        impl Value for $ty {
            const LABEL: &'static str = stringify!($ty);
            const OWNS_HEAP: bool = false;
            fn make(i: u64) -> Self {
                $ty {
                    sku: i,
                    cents: [i as u32; 22],
                }
            }
            fn read(&self) -> u64 {
                self.sku
            }
        }
    )*};
}

quote_value!(PriceQuote, ArchivedQuote, Quote);

impl Value for OrderId {
    const LABEL: &'static str = "OrderId";
    const OWNS_HEAP: bool = false;
    fn make(i: u64) -> Self {
        OrderId {
            shard: i as u32 % 64,
            sequence: i as u32,
            placed_at: i,
        }
    }
    fn read(&self) -> u64 {
        u64::from(self.sequence)
    }
}

impl Value for UserProfile {
    const LABEL: &'static str = "UserProfile";
    const OWNS_HEAP: bool = true;
    fn make(i: u64) -> Self {
        UserProfile {
            name: format!("User {i}"),
            email: format!("user{i}@example.com"),
            age: 20 + (i % 60) as u32,
            verified: i % 3 == 0,
        }
    }
    fn read(&self) -> u64 {
        u64::from(self.age)
    }
    fn heap_bytes(&self) -> usize {
        self.name.capacity() + self.email.capacity()
    }
}

impl Value for SensorRecord {
    const LABEL: &'static str = "SensorRecord";
    const OWNS_HEAP: bool = false;
    fn make(i: u64) -> Self {
        SensorRecord {
            id: i,
            samples: [i as f32; 72],
            checksum: i as u32,
        }
    }
    fn read(&self) -> u64 {
        self.id
    }
}

impl Value for PageBuffer {
    const LABEL: &'static str = "PageBuffer";
    const OWNS_HEAP: bool = false;
    fn make(i: u64) -> Self {
        PageBuffer {
            bytes: [i as u8; 4096],
        }
    }
    fn read(&self) -> u64 {
        u64::from(self.bytes[17])
    }
}

/// Every plan the tour prints: the last three are one 96-byte layout with
/// three goals.
const PLANS: [mapstore::Plan; 8] = [
    OrderId::PLAN,
    UserProfile::PLAN,
    SensorRecord::PLAN,
    PageBuffer::PLAN,
    BoxedPoint::PLAN,
    Quote::PLAN,
    PriceQuote::PLAN,
    ArchivedQuote::PLAN,
];

// ---------------------------------------------------------------------------
// 2. The race.

/// One map in the race: its name, its timed run and its memory pass.
struct Entry<'a, K> {
    name: String,
    run: Box<dyn FnMut() -> Vec<f64> + 'a>,
    memory: fn(&[K]) -> Memory,
}

/// Lookup passes after the build: the balanced goal's workload.
const PASSES: usize = 3;

fn entry<'a, K: Key, V: Value, M: Contender<K, V>>(
    name: &str,
    keys: &'a Keys<K>,
    goal: Optimize,
) -> Entry<'a, K> {
    Entry {
        name: name.to_string(),
        run: Box::new(move || {
            let p = session::<K, V, M>(keys, PASSES, false);
            // `reads` times only the lookups of a map built once; the other
            // goals time the build and the lookups (memory is judged in bytes).
            match goal {
                Optimize::Reads => vec![p.lookup],
                _ => vec![p.grow + p.lookup],
            }
        }),
        memory: memory::<K, V, M>,
    }
}

fn storage_entry<'a, K: Key, V: Value>(
    kind: StorageKind,
    keys: &'a Keys<K>,
    goal: Optimize,
) -> Entry<'a, K> {
    match kind {
        StorageKind::Inline => entry::<K, V, InlineMap<K, V>>("InlineMap", keys, goal),
        StorageKind::Boxed => entry::<K, V, BoxedMap<K, V>>("BoxedMap", keys, goal),
        StorageKind::Pooled => entry::<K, V, PooledMap<K, V>>("PooledMap", keys, goal),
    }
}

/// Bytes per entry a map holds, as the table prints them: at the peak while
/// growing and at the end, in the allocator's block sizes where known.
fn bytes_per_entry(m: &Memory, n: usize) -> (f64, f64) {
    let (peak, last) = if m.peak_real > 0 {
        (m.peak_real, m.live_real)
    } else {
        (m.peak, m.live)
    };
    (peak as f64 / n as f64, last as f64 / n as f64)
}

/// What the table says about bytes, the picked map against another: each
/// clause follows from the two rows (a difference under 2 % is "the same").
fn bytes_clause(picked: (f64, f64), other: (f64, f64), other_name: &str) -> String {
    let compare = |mine: f64, theirs: f64| {
        if mine < theirs * 0.98 {
            "fewer"
        } else if mine > theirs * 1.02 {
            "more"
        } else {
            "about the same"
        }
    };
    let (peak, last) = (compare(picked.0, other.0), compare(picked.1, other.1));
    let of = |word: &str| match word {
        "about the same" => "about the same bytes per entry as".to_string(),
        w => format!("{w} bytes per entry than"),
    };
    if peak == last {
        format!(
            "the picked map holds {} {other_name} at the peak and at the end ({:.0} and {:.0} B against {:.0} and {:.0})",
            of(last),
            picked.0,
            picked.1,
            other.0,
            other.1
        )
    } else {
        format!(
            "the picked map holds {} {other_name} at the peak ({:.0} B against {:.0}) and {} at the end ({:.0} B against {:.0})",
            of(peak),
            picked.0,
            other.0,
            of(last),
            picked.1,
            other.1
        )
    }
}

/// Why the picked storage can lose a race it was not picked for: the
/// mechanism behind each pairing, as the sweep measured it, and what this
/// run's own bytes columns say (never more than they show).
fn why(
    picked: StorageKind,
    winner: &str,
    picked_bytes: (f64, f64),
    winner_bytes: (f64, f64),
    noise: f64,
) -> String {
    let bytes = bytes_clause(picked_bytes, winner_bytes, winner);
    match (picked, winner) {
        (StorageKind::Inline, "HashMap<K, V>") | (StorageKind::Boxed, "HashMap<K, Box<V>>") => {
            format!(
                "the same layout as the picked map, so no storage would close the gap: it is in the \
                 code, or noise beyond the control's {noise:.2}x; {bytes}"
            )
        }
        (StorageKind::Inline, _) => format!(
            "growing moves every value on each resize, and at this N that cost shows; the inline \
             limit is one size for every N, key type and workload, so one type at one N can sit on \
             the wrong side of it (docs/bench/sweep.md has the ratio in every cell); {bytes}"
        ),
        (StorageKind::Pooled, "BoxedMap" | "HashMap<K, Box<V>>") => format!(
            "glibc serves a steady stream of same-size boxes quickly, and a box's lookup is one \
             pointer chase, as the pool's is; {bytes}. What the pool is picked for besides, \
             remove-and-reinsert churn that never calls the allocator, this race does not run \
             (the sweep's writes line does)"
        ),
        (StorageKind::Pooled, _) => format!(
            "at this size and N, moving values on each resize costs less than the pool's pointer \
             chase on every lookup; the inline limit is one size for every N, key type and \
             workload (docs/bench/sweep.md has the ratio in every cell); {bytes}"
        ),
        (StorageKind::Boxed, _) => format!(
            "a box per value is picked for its memory behaviour (each freed at once on remove), \
             not for speed; {bytes}"
        ),
    }
}

/// Races the storage `V`'s plan picked (through `MapStore`) against the
/// other two storages and the maps users write by hand: build `n` entries
/// from empty, then look each up three times (the balanced workload).
fn race<K: Key, V: Value + MapValue>(title: &str, n: usize, rounds: usize) {
    println!("{title}, {n} entries, best of {rounds} rounds:");
    let keys = Keys::<K>::new(n);
    let picked = V::PLAN.storage;
    let goal = V::PLAN.goal;
    let mut entries = vec![entry::<K, V, Store<K, V>>(
        &format!("MapStore ({picked})"),
        &keys,
        goal,
    )];
    for kind in [StorageKind::Inline, StorageKind::Boxed, StorageKind::Pooled] {
        if kind != picked {
            entries.push(storage_entry::<K, V>(kind, &keys, goal));
        }
    }
    entries.push(entry::<K, V, HashbrownMap<K, V>>(
        "HashMap<K, V>",
        &keys,
        goal,
    ));
    entries.push(entry::<K, V, HashbrownBoxMap<K, V>>(
        "HashMap<K, Box<V>>",
        &keys,
        goal,
    ));
    entries.push(entry::<K, V, StdMap<K, V>>(
        "std HashMap<K, V>",
        &keys,
        goal,
    ));

    malloc::trim();
    let memories: Vec<Memory> = entries.iter().map(|e| (e.memory)(&keys.insert)).collect();
    let mut race = Race::new();
    for e in entries {
        race.enter(e.name, e.run);
    }
    race.control(0).warm_up();
    let standings = race.run(rounds);

    let mine = standings.value(0, 0);
    let fastest = standings.fastest(0, &[]);
    println!(
        "    {:<22} {:>9} {:>10} {:>13} {:>14}",
        "map", "ns/entry", "vs picked", "peak B/entry", "final B/entry"
    );
    for (i, name) in standings.names.iter().enumerate() {
        let t = standings.value(i, 0);
        let (peak, last) = bytes_per_entry(&memories[i], n);
        println!(
            "    {:<22} {:>8.1}{} {:>9.2}x {:>13.0} {:>14.0}",
            name,
            t * 1e9 / n as f64,
            if i == fastest { "*" } else { " " },
            t / mine,
            peak,
            last,
        );
    }
    let noise = standings.spread(0).unwrap_or(1.0);
    println!("    noise: MapStore timed twice, {noise:.3}x apart");
    let bytes: Vec<(f64, f64)> = memories.iter().map(|m| bytes_per_entry(m, n)).collect();
    println!("    {}", verdict(&standings, &bytes, noise, picked, goal));
    println!();
}

/// The verdict under a race's table, computed from the table's own
/// numbers: times against the larger of 1.05x and the run's noise, bytes
/// as printed (the allocator counts them exactly).
fn verdict(
    standings: &mapstore_testkit::race::Standings,
    bytes: &[(f64, f64)],
    noise: f64,
    picked: StorageKind,
    goal: Optimize,
) -> String {
    let names = &standings.names;
    if goal == Optimize::Memory {
        // Judged in bytes at the end.
        let least = (0..bytes.len())
            .min_by(|&a, &b| bytes[a].1.total_cmp(&bytes[b].1))
            .unwrap_or(0);
        let ratio = bytes[0].1 / bytes[least].1;
        let tied: Vec<&str> = (1..bytes.len())
            .filter(|&i| bytes[i].1 == bytes[0].1)
            .map(|i| names[i].as_str())
            .collect();
        return if least == 0 && tied.is_empty() {
            format!(
                "=> optimized for memory: the picked storage ({picked}) holds the fewest bytes per entry at the end ({:.0} B).",
                bytes[0].1
            )
        } else if least == 0 {
            format!(
                "=> optimized for memory: the picked storage ({picked}) holds the fewest bytes per entry at the end ({:.0} B), tied with {}.",
                bytes[0].1,
                tied.join(", ")
            )
        } else if ratio <= 1.05 {
            format!(
                "=> optimized for memory: {} holds {ratio:.2}x fewer bytes per entry at the end than the picked {picked} ({:.0} B against {:.0}): within 1.05x, the pick holds.",
                names[least], bytes[least].1, bytes[0].1
            )
        } else {
            format!(
                "=> optimized for memory: {} holds {ratio:.2}x fewer bytes per entry at the end than the picked {picked} ({:.0} B against {:.0}): a miss of the policy at this N.",
                names[least], bytes[least].1, bytes[0].1
            )
        };
    }
    let what = if goal == Optimize::Reads {
        "lookups (optimized for reads)"
    } else {
        "build and lookups"
    };
    let mine = standings.value(0, 0);
    let fastest = standings.fastest(0, &[]);
    let margin = noise.max(1.05);
    let within = format!("within {margin:.2}x (the larger of 1.05x and this run's noise)");
    if fastest == 0 {
        // The lead over the runner-up, judged against the same margin.
        let (runner_up, lead) = (1..names.len())
            .map(|i| (i, standings.value(i, 0) / mine))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, f64::INFINITY));
        if lead <= margin {
            format!(
                "=> {what}: the picked storage ({picked}) is the fastest here, {lead:.2}x ahead of {}: {within}, a tie.",
                names[runner_up]
            )
        } else {
            format!(
                "=> {what}: the picked storage ({picked}) is the fastest here, {lead:.2}x ahead of {}.",
                names[runner_up]
            )
        }
    } else {
        let behind = mine / standings.value(fastest, 0);
        if behind <= margin {
            format!(
                "=> {what}: {} and the picked storage ({picked}) are {behind:.2}x apart, {within}: the pick holds.",
                names[fastest]
            )
        } else {
            format!(
                "=> {what}: {} is {behind:.2}x faster than the picked {picked}, beyond the noise ({noise:.2}x). Why: {}.",
                names[fastest],
                why(picked, &names[fastest], bytes[0], bytes[fastest], noise)
            )
        }
    }
}

// ---------------------------------------------------------------------------
// 3. Reading a warning: the snapshot trybuild checks, so it is what rustc
//    prints today.

const WARNING_CASE: &str = include_str!("../tests/ui/warn/boxed_small_value.rs");
const WARNING_TEXT: &str = include_str!("../tests/ui/warn/boxed_small_value.stderr");

fn main() {
    let n = match std::env::args().nth(1).map(|arg| arg.parse::<usize>()) {
        None => 100_000,
        Some(Ok(n)) if n >= 10 => n,
        Some(_) => {
            eprintln!("usage: tour [ENTRIES]   (a number of at least 10, default 100000)");
            std::process::exit(2);
        }
    };
    malloc::pin();

    println!(
        "mapstore tour\n\n1. Plans: what the derive decided, and why (like Go's -gcflags=-m)\n"
    );
    for plan in PLANS {
        println!("  {plan}");
    }
    println!(
        "\n  Print any type's plan: println!(\"{{}}\", <MyType as mapstore::MapValue>::PLAN);\n"
    );

    println!("2. A short race: MapStore (the picked storage) against the other storages and the");
    println!("   maps written by hand (hashbrown's, same hasher; std's, SipHash). Each builds the");
    println!("   map from empty, then looks every key up {PASSES} times in shuffled order.\n");
    race::<u64, OrderId>("OrderId (16 B, u64 keys)", n, 5);
    race::<String, UserProfile>("UserProfile (String fields, String keys)", n, 5);
    race::<u64, SensorRecord>("SensorRecord (304 B, u64 keys)", n, 5);
    race::<u64, PageBuffer>("PageBuffer (4 KiB, u64 keys)", (n / 5).max(10), 5);
    println!("   One 96-byte layout, three goals: the derive picks per goal, and each race judges");
    println!("   by its goal (build + lookups, lookups alone, bytes per entry).\n");
    race::<u64, Quote>("Quote (96 B, balanced)", n, 5);
    race::<u64, PriceQuote>("PriceQuote (96 B, optimize = \"reads\")", n, 5);
    race::<u64, ArchivedQuote>("ArchivedQuote (96 B, optimize = \"memory\")", n, 3);
    println!("   * marks the fastest map. Bytes are what the allocator holds (its block sizes),");
    println!("   counting the keys' and values' own heap; peak is the worst moment while growing.");
    println!(
        "   For every size, N and workload: cargo bench --bench sweep (docs/bench/sweep.csv).\n"
    );

    println!("3. Reading a warning. Forcing a box on a 16-byte value:\n");
    for line in WARNING_CASE
        .lines()
        .skip_while(|l| !l.starts_with("// Fires"))
        .take(7)
    {
        println!("     {line}");
    }
    println!("\n   makes rustc print this (tests/ui/warn/boxed_small_value.stderr, the snapshot trybuild");
    println!("   checks; the case denies `deprecated`, so it reads `error:` where your build says `warning:`):\n");
    for line in WARNING_TEXT.lines().take_while(|l| !l.starts_with("note:")) {
        println!("     {line}");
    }
    println!(
        "   How to read it: the constant's name says which rule fired (BOXED_SMALL_VALUE); the"
    );
    println!(
        "   note says what it costs and ends with the fix (remove `storage`) or how to silence it"
    );
    println!("   (`allow(slow_storage)`); the caret points at the attribute to change. A silenced");
    println!("   choice still shows in its plan:\n");
    println!("  {}", BoxedPoint::PLAN);
    concurrent::run();
    frozen::run();
}
