//! Benchmarks: the three storages against the maps users would pick.
//!
//! Contenders, all hashing with `DefaultHashBuilder` except the reference:
//! `InlineMap`, `BoxedMap`, `PooledMap`, `MapStore` (the policy's automatic
//! choice), `hashbrown::HashMap<K, V>`, `hashbrown::HashMap<K, Box<V>>`,
//! `IndexMap<K, V>`, and std's `HashMap<K, V>` with its default hasher.
//! `MapStore` is measured as the concrete map that `choose` picks for the
//! value's layout (`MapStore` is a zero-cost wrapper over it), under its own
//! name, so the report can set it beside the others. Keys, values,
//! contenders and the allocator come from `mapstore-testkit`, shared with
//! the sweep (`benches/sweep.rs`) and the tour.
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
//! Memory (the testkit's counting global allocator, active only during the
//! memory pass, never while timing): live bytes and allocations per entry at
//! the end of a grow-insert, and peak live bytes during it. For mapstore maps,
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

use std::hint::black_box;
use std::mem::size_of;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use mapstore::{choose, BoxedMap, InlineMap, Optimize, PooledMap, StorageKind, ValueLayout};
use mapstore_testkit::alloc::{malloc, Counting};
use mapstore_testkit::contender::{
    fill, grown, memory, Contender, HashbrownBoxMap, HashbrownMap, IndexMapDefault, StdMap,
};
use mapstore_testkit::data::{Key, Keys, Owned, Pod, Value};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `pod64`, `own128`: the value's kind and size.
fn value_label<V: Value>() -> String {
    format!("{}{}", V::LABEL, size_of::<V>())
}

/// What `MapStore<K, V>` would be for a value type with this layout.
fn picked<V: Value>() -> StorageKind {
    choose(ValueLayout::of::<V>(V::OWNS_HEAP), Optimize::Balanced)
}

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

/// Setup time a `clear_drop` sample may spend rebuilding maps; past it the
/// sample's time is scaled from the iterations it ran (at least one).
const CLEAR_DROP_SETUP_BUDGET: Duration = Duration::from_millis(25);

fn bench_contender<K: Key, V: Value, M: Contender<K, V>>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    keys: &Keys<K>,
    works: &[Work],
    name: &str,
) {
    malloc::trim();
    let n = keys.insert.len();
    let id = |w: Work| BenchmarkId::new(w.name(), name);
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
                group.bench_function(id(work), |b| {
                    b.iter(|| {
                        let mut sum = 0u64;
                        black_box(map).for_each(|_, v| sum = sum.wrapping_add(v.read()));
                        sum
                    })
                });
            }
            Work::Churn => {
                let map = built.as_mut().expect("built above");
                group.bench_function(id(work), |b| {
                    b.iter(|| {
                        let mut sum = 0u64;
                        for (i, key) in keys.shuffled.iter().enumerate() {
                            sum = sum.wrapping_add(map.remove(key).map_or(u64::MAX, |v| v.read()));
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
    value: String,
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
/// runs on the main thread and the meter counts this thread only.
fn measure<K: Key, V: Value, M: Contender<K, V>>(
    keys: &[K],
    rows: &mut Vec<MemoryRow>,
    name: &'static str,
) {
    let m = memory::<K, V, M>(keys);
    let row = MemoryRow {
        key: K::LABEL,
        value: value_label::<V>(),
        value_size: size_of::<V>(),
        owns_heap: V::OWNS_HEAP,
        n: keys.len(),
        contender: name,
        live: m.live,
        peak: m.peak,
        live_real: m.live_real,
        peak_real: m.peak_real,
        allocs: m.allocations as usize,
        reported: m.reported,
    };
    if let Some(r) = row.reported {
        if r != row.live {
            eprintln!(
                "\n!!!!!!!! MEMORY MISMATCH: {name}<{}, {}> n={}: memory_usage() + owned heap = {} bytes, \
                 but the allocator holds {} bytes for the map (difference {}) !!!!!!!!\n",
                K::LABEL,
                row.value,
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
    let group_name = format!("{}-{}-n{}", K::LABEL, value_label::<V>(), n);
    if let Some(only) = &plan.only {
        if !group_name.contains(only.as_str()) {
            return;
        }
    }
    let keys = Keys::<K>::new(n);
    // Every contender once, under its own name; then `MapStore`: the map
    // `choose` picks, under that name. `$f` is called with the map type
    // and the name.
    macro_rules! each {
        ($f:ident) => {{
            $f!(InlineMap<K, V>, <InlineMap<K, V> as Contender<K, V>>::ID);
            $f!(BoxedMap<K, V>, <BoxedMap<K, V> as Contender<K, V>>::ID);
            $f!(PooledMap<K, V>, <PooledMap<K, V> as Contender<K, V>>::ID);
            match picked::<V>() {
                StorageKind::Inline => $f!(InlineMap<K, V>, "MapStore"),
                StorageKind::Boxed => $f!(BoxedMap<K, V>, "MapStore"),
                StorageKind::Pooled => $f!(PooledMap<K, V>, "MapStore"),
            }
            $f!(HashbrownMap<K, V>, <HashbrownMap<K, V> as Contender<K, V>>::ID);
            $f!(HashbrownBoxMap<K, V>, <HashbrownBoxMap<K, V> as Contender<K, V>>::ID);
            $f!(IndexMapDefault<K, V>, <IndexMapDefault<K, V> as Contender<K, V>>::ID);
            $f!(StdMap<K, V>, <StdMap<K, V> as Contender<K, V>>::ID);
        }};
    }
    macro_rules! memory {
        ($map:ty, $name:expr) => {
            measure::<K, V, $map>(&keys.insert, &mut plan.rows, $name)
        };
    }
    each!(memory);
    if plan.memory_only {
        return;
    }
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(n as u64));
    group.sampling_mode(SamplingMode::Flat);
    macro_rules! time {
        ($map:ty, $name:expr) => {
            bench_contender::<K, V, $map>(&mut group, &keys, works, $name)
        };
    }
    each!(time);
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
    malloc::pin();

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
