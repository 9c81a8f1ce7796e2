//! `ConcurrentStore` against the maps shared between threads in Rust today:
//! DashMap 6, papaya, scc's `HashMap` and `RwLock<hashbrown::HashMap>`, all
//! hashing with hashbrown's `DefaultHashBuilder`; and, at one thread, a
//! plain `MapStore` behind no lock.
//!
//! Workloads (from `mapstore_testkit::concurrent`, in the style of
//! conc-map-bench): `read_heavy` (98 % reads), `exchange` (20 % reads, 40 %
//! inserts, 40 % removes), `rapid_grow` (80 % inserts from empty),
//! `write_once` (sync.Map's cache: insert every key once, then read them
//! many times) and `disjoint` (sync.Map's disjoint key sets: each thread
//! reads and overwrites its own keys). `u64` keys; values of 16, 128 and 512
//! bytes and a 128-byte `String`-owning struct; 1, 2 and 4 threads, the same
//! total number of operations at every thread count.
//!
//! Every cell is a race on the testkit's harness: contenders interleaved,
//! the order rotated each round, the minimum over rounds kept, and
//! `ConcurrentStore` timed twice (the control) so the noise of the machine
//! is printed beside the ratios. Then a memory pass: bytes per entry after
//! growing from empty, at several sizes, for every contender.
//!
//! ```text
//! cargo bench --bench concurrent              # full run, a few minutes
//! cargo bench --bench concurrent -- --test    # every cell once, tiny sizes
//! MAPSTORE_BENCH_FILTER=exchange cargo bench --bench concurrent
//! MAPSTORE_BENCH_THREADS=1,2,4,8,16 cargo bench --bench concurrent  # many cores
//! ```
//!
//! `MAPSTORE_CONCURRENT_PROBE=<grow|read>,<n>` runs no race: it grows one
//! store to `n` keys (and reads them) for callgrind's instruction counts
//! (see `probe`).
//!
//! Results go to stdout (a Markdown table) and
//! `target/mapstore-bench/concurrent.csv`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::mem::size_of;

use mapstore::{ConcurrentStore, MapValue};
use mapstore_testkit::alloc::{malloc, Counting, Meter};
use mapstore_testkit::concurrent::{
    run_workload, run_workload_solo, run_write_once_read_many, Dash, Locked, Papaya, Scc, Shared,
    Solo, Workload, DISJOINT, EXCHANGE, RAPID_GROW, READ_HEAVY,
};
use mapstore_testkit::data::{shuffle, splitmix, Pod, Value};
use mapstore_testkit::race::Race;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ---------------------------------------------------------------------------
// Value types: the derive picks each one's storage.

macro_rules! pod_value {
    ($name:ident, $size:literal) => {
        #[derive(mapstore::MapStore, Clone)]
        struct $name(Pod<$size>);

        impl Value for $name {
            const LABEL: &'static str = stringify!($name);
            const OWNS_HEAP: bool = false;
            #[inline]
            fn make(i: u64) -> Self {
                $name(Pod::make(i))
            }
            #[inline]
            fn read(&self) -> u64 {
                self.0.read()
            }
        }
    };
}

pod_value!(Pod16, 16);
pod_value!(Pod128, 128);
pod_value!(Pod512, 512);

/// A 128-byte struct that owns a `String`.
#[derive(mapstore::MapStore, Clone)]
struct Named {
    name: String,
    words: [u64; 13],
}

impl Value for Named {
    const LABEL: &'static str = "Named128";
    const OWNS_HEAP: bool = true;
    #[inline]
    fn make(i: u64) -> Self {
        Named {
            name: format!("{i:016x}"),
            words: [i; 13],
        }
    }
    #[inline]
    fn read(&self) -> u64 {
        self.words[0] ^ self.name.len() as u64
    }
}

const _: () = assert!(size_of::<Named>() == 128);

// ---------------------------------------------------------------------------
// Configuration

struct Config {
    quick: bool,
    /// Operations per cell, split over the threads.
    total_ops: u64,
    /// Keys of the prefilled workloads.
    space: u64,
    rounds: usize,
    filter: Option<String>,
}

impl Config {
    fn from_env() -> Config {
        let quick = std::env::args().any(|a| a == "--test");
        let filter = std::env::var("MAPSTORE_BENCH_FILTER").ok();
        if quick {
            Config {
                quick,
                total_ops: 2_000,
                space: 1 << 10,
                rounds: 1,
                filter,
            }
        } else {
            Config {
                quick,
                total_ops: 400_000,
                space: 1 << 16,
                rounds: 4,
                filter,
            }
        }
    }

    fn wants(&self, label: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| label.contains(f))
    }
}

/// Thread counts raced, unless `MAPSTORE_BENCH_THREADS` lists others (for
/// a many-core machine: `MAPSTORE_BENCH_THREADS=1,2,4,8,16`).
const THREADS: [usize; 3] = [1, 2, 4];

fn thread_counts() -> Vec<usize> {
    match std::env::var("MAPSTORE_BENCH_THREADS") {
        Ok(list) => list
            .split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .expect("MAPSTORE_BENCH_THREADS: comma-separated thread counts")
            })
            .filter(|&n: &usize| n > 0)
            .collect(),
        Err(_) => THREADS.to_vec(),
    }
}

/// The contenders, in table order. `ConcurrentStore` is the control.
const NAMES: [&str; 6] = [
    "ConcurrentStore",
    "DashMap",
    "papaya",
    "scc",
    "RwLock<HashMap>",
    "MapStore (no lock)",
];
const PEERS: [usize; 4] = [1, 2, 3, 4];
const SOLO: usize = 5;

/// One raced cell's results: nanoseconds per operation per contender
/// (`NaN` where it did not run) and the control's spread.
struct Row {
    workload: &'static str,
    value: &'static str,
    storage: String,
    threads: usize,
    ns: [f64; 6],
    spread: f64,
}

impl Row {
    /// The best peer's time over ours: above 1, `ConcurrentStore` is faster.
    fn vs_best_peer(&self) -> (f64, &'static str) {
        let best = PEERS
            .iter()
            .copied()
            .min_by(|&a, &b| self.ns[a].total_cmp(&self.ns[b]))
            .expect("peers");
        (self.ns[best] / self.ns[0], NAMES[best])
    }
    fn vs(&self, i: usize) -> f64 {
        self.ns[i] / self.ns[0]
    }
}

fn race_cell<V>(config: &Config, workload: Option<&'static Workload>, threads: usize) -> Row
where
    V: Value + MapValue + Send + Sync + Clone + 'static,
    ConcurrentStore<u64, V>: Sync,
{
    let total = config.total_ops;
    let per_thread = total / threads as u64;
    let space = match workload {
        // Mostly new keys: the map grows to about 80 % of the operations.
        Some(w) if w.name == RAPID_GROW.name => total * 8,
        _ => config.space,
    };
    // Write-once-read-many: `space / 8` keys, each read 4 times per thread
    // (same total at every thread count: the reads are split).
    let worm_keys = (config.space / 8).max(16);
    let worm_reads = (8 / threads as u64).max(1);

    fn entrant<V, M>(
        workload: Option<&'static Workload>,
        threads: usize,
        ops: u64,
        space: u64,
        worm: (u64, u64),
    ) -> impl FnMut() -> Vec<f64>
    where
        V: Value,
        M: Shared<u64, V> + Sync,
    {
        move || {
            let ns = match workload {
                Some(w) => run_workload::<u64, V, M>(w, threads, ops, space),
                None => run_write_once_read_many::<u64, V, M>(threads, worm.0, worm.1),
            };
            malloc::trim();
            vec![ns]
        }
    }
    let worm = (worm_keys, worm_reads);
    let mut race = Race::new();
    let ours = race.enter(
        NAMES[0],
        entrant::<V, ConcurrentStore<u64, V>>(workload, threads, per_thread, space, worm),
    );
    race.enter(
        NAMES[1],
        entrant::<V, Dash<u64, V>>(workload, threads, per_thread, space, worm),
    );
    race.enter(
        NAMES[2],
        entrant::<V, Papaya<u64, V>>(workload, threads, per_thread, space, worm),
    );
    race.enter(
        NAMES[3],
        entrant::<V, Scc<u64, V>>(workload, threads, per_thread, space, worm),
    );
    race.enter(
        NAMES[4],
        entrant::<V, Locked<u64, V>>(workload, threads, per_thread, space, worm),
    );
    let solo = (threads == 1 && workload.is_some()).then(|| {
        let w = workload.expect("checked");
        race.enter(NAMES[SOLO], move || {
            let ns = run_workload_solo::<u64, V, Solo<u64, V>>(w, total, space);
            malloc::trim();
            vec![ns]
        })
    });
    race.control(ours).warm_up();
    let standings = race.run(config.rounds);
    let mut ns = [f64::NAN; 6];
    for (i, slot) in ns.iter_mut().enumerate().take(5) {
        *slot = standings.value(i, 0);
    }
    if let Some(solo) = solo {
        ns[SOLO] = standings.value(solo, 0);
    }
    Row {
        workload: workload.map_or("write_once", |w| w.name),
        value: V::LABEL,
        storage: format!("{:?}", V::PLAN.storage),
        threads,
        ns,
        spread: standings.spread(0).unwrap_or(1.0),
    }
}

fn cells<V>(config: &Config, rows: &mut Vec<Row>)
where
    V: Value + MapValue + Send + Sync + Clone + 'static,
    ConcurrentStore<u64, V>: Sync,
{
    static WORKLOADS: [Workload; 4] = [READ_HEAVY, EXCHANGE, RAPID_GROW, DISJOINT];
    let mut all: Vec<Option<&'static Workload>> = WORKLOADS.iter().map(Some).collect();
    all.push(None);
    for workload in all {
        for threads in thread_counts() {
            let name = workload.map_or("write_once", |w| w.name);
            let label = format!("{name}/{}/{threads}t", V::LABEL);
            if !config.wants(&label) {
                continue;
            }
            let row = race_cell::<V>(config, workload, threads);
            let (best, peer) = row.vs_best_peer();
            eprintln!(
                "{label:<28} ours {:>7.1} ns/op  best peer {peer:<16} {best:>5.2}x  DashMap {:>5.2}x  spread {:.3}",
                row.ns[0],
                row.vs(1),
                row.spread
            );
            rows.push(row);
        }
    }
}

// ---------------------------------------------------------------------------
// Memory: bytes per entry after growing from empty, single thread, counted
// by the testkit's allocator.

fn bytes_per_entry<V: Value, M: Shared<u64, V>>(n: u64) -> f64 {
    let meter = Meter::start();
    let map = M::with_capacity(0);
    for i in 0..n {
        map.insert(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), V::make(i));
    }
    let live = meter.live() as f64;
    drop(map);
    live / n as f64
}

/// Per value type: the mean over sizes of each contender's bytes per entry
/// and of `ConcurrentStore`'s ratio to the plain `MapStore`'s.
fn memory<V>(sizes: &[u64], out: &mut String)
where
    V: Value + MapValue + Send + Sync + Clone,
{
    let mut ratios = Vec::new();
    let mut sums = [0.0; 6];
    for &n in sizes {
        let row = [
            bytes_per_entry::<V, ConcurrentStore<u64, V>>(n),
            bytes_per_entry::<V, Dash<u64, V>>(n),
            bytes_per_entry::<V, Papaya<u64, V>>(n),
            bytes_per_entry::<V, Scc<u64, V>>(n),
            bytes_per_entry::<V, Locked<u64, V>>(n),
            bytes_per_entry::<V, Solo<u64, V>>(n),
        ];
        ratios.push(row[0] / row[5]);
        for (s, r) in sums.iter_mut().zip(row) {
            *s += r;
        }
    }
    let k = sizes.len() as f64;
    let mean = ratios.iter().sum::<f64>() / k;
    let (lo, hi) = ratios
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    let per_size: Vec<String> = sizes
        .iter()
        .zip(&ratios)
        .map(|(n, r)| format!("{n}: {r:.2}"))
        .collect();
    eprintln!(
        "{} ours / MapStore bytes by n: {}",
        V::LABEL,
        per_size.join(", ")
    );
    let _ = writeln!(
        out,
        "| {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {mean:.3} ({lo:.2}-{hi:.2}) |",
        V::LABEL,
        sums[0] / k,
        sums[1] / k,
        sums[2] / k,
        sums[3] / k,
        sums[4] / k,
        sums[5] / k,
    );
}

/// Grows a `ConcurrentStore<u64, u64>` from empty to `n` keys on one
/// thread: what `MAPSTORE_CONCURRENT_PROBE=grow,<n>` counts.
#[inline(never)]
fn probe_grow(n: u64) -> ConcurrentStore<u64, u64> {
    let store = ConcurrentStore::new();
    for i in 0..n {
        store.insert(black_box(splitmix(i)), i);
    }
    store
}

/// Reads every key of `store` (built by [`probe_grow`]) once, in a shuffled
/// order: what `MAPSTORE_CONCURRENT_PROBE=read,<n>` counts.
#[inline(never)]
fn probe_read(store: &ConcurrentStore<u64, u64>, keys: &[u64]) -> u64 {
    let mut sum = 0u64;
    for key in keys {
        sum = sum.wrapping_add(store.read(black_box(key), |v| *v).unwrap_or(0));
    }
    sum
}

/// `MAPSTORE_CONCURRENT_PROBE=<grow|read>,<n>`: one thread, `u64 -> u64`,
/// for instruction counts of the table's write and read paths:
///
/// ```sh
/// MAPSTORE_CONCURRENT_PROBE=grow,65536 valgrind --tool=callgrind --branch-sim=yes \
///     --toggle-collect='*probe_grow*' target/release/deps/concurrent-<hash> --bench
/// ```
///
/// Per operation: the `Ir` total over `n` (`grow` includes the migrations).
fn probe(spec: &str) {
    const USAGE: &str = "MAPSTORE_CONCURRENT_PROBE=<grow|read>,<n>";
    let (what, n) = spec.split_once(',').expect(USAGE);
    let n: u64 = n.parse().expect(USAGE);
    let store = probe_grow(n);
    match what {
        "grow" => println!("grow: {} entries", store.len()),
        "read" => {
            let keys: Vec<u64> = shuffle(&(0..n).map(splitmix).collect::<Vec<_>>(), 7);
            println!("read: {} (sum {})", keys.len(), probe_read(&store, &keys));
        }
        _ => panic!("{USAGE}"),
    }
}

fn main() {
    if let Ok(spec) = std::env::var("MAPSTORE_CONCURRENT_PROBE") {
        probe(&spec);
        return;
    }
    let config = Config::from_env();
    malloc::pin();
    let started = std::time::Instant::now();
    let mut rows = Vec::new();
    cells::<Pod16>(&config, &mut rows);
    cells::<Pod128>(&config, &mut rows);
    cells::<Pod512>(&config, &mut rows);
    cells::<Named>(&config, &mut rows);

    let mut table = String::new();
    let _ = writeln!(
        table,
        "| workload | value (storage) | threads | ours ns/op | best peer / ours | DashMap / ours | papaya / ours | scc / ours | RwLock<HashMap> / ours | no-lock MapStore / ours | spread |"
    );
    let _ = writeln!(table, "|---|---|---|---|---|---|---|---|---|---|---|");
    let mut csv = String::from("workload,value,storage,threads");
    for name in NAMES {
        let _ = write!(csv, ",{name}_ns");
    }
    csv.push_str(",spread\n");
    for row in &rows {
        let (best, peer) = row.vs_best_peer();
        let solo = if row.ns[SOLO].is_nan() {
            "-".to_string()
        } else {
            format!("{:.2}", row.vs(SOLO))
        };
        let _ = writeln!(
            table,
            "| {} | {} ({}) | {} | {:.1} | {best:.2} ({peer}) | {:.2} | {:.2} | {:.2} | {:.2} | {solo} | {:.3} |",
            row.workload,
            row.value,
            row.storage,
            row.threads,
            row.ns[0],
            row.vs(1),
            row.vs(2),
            row.vs(3),
            row.vs(4),
            row.spread
        );
        let _ = write!(
            csv,
            "{},{},{},{}",
            row.workload, row.value, row.storage, row.threads
        );
        for ns in row.ns {
            let _ = write!(csv, ",{ns:.2}");
        }
        let _ = writeln!(csv, ",{:.4}", row.spread);
    }
    println!(
        "\nTime per operation (min over {} rounds); ratios above 1: ConcurrentStore faster.\n",
        config.rounds
    );
    println!("{table}");

    if config.wants("memory") || config.filter.is_none() {
        let sizes: &[u64] = if config.quick {
            &[1000]
        } else {
            &[
                10_000, 14_000, 20_000, 28_000, 40_000, 56_000, 80_000, 112_000, 160_000, 320_000,
                640_000,
            ]
        };
        let mut mem = String::new();
        let _ = writeln!(
            mem,
            "| value | ConcurrentStore | DashMap | papaya | scc | RwLock<HashMap> | MapStore | ours / MapStore: mean (min-max) |"
        );
        let _ = writeln!(mem, "|---|---|---|---|---|---|---|---|");
        memory::<Pod16>(sizes, &mut mem);
        memory::<Pod128>(sizes, &mut mem);
        memory::<Pod512>(sizes, &mut mem);
        memory::<Named>(sizes, &mut mem);
        println!("Bytes per entry after growing from empty (requested sizes, mean over n = {sizes:?}):\n");
        println!("{mem}");
    }

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/mapstore-bench");
    if std::fs::create_dir_all(&dir).is_ok() && !config.quick {
        let _ = std::fs::write(dir.join("concurrent.csv"), csv);
    }
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
}
