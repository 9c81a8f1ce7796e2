//! Iteration and clear-and-drop (issues #9 and #16): the three storages
//! against `IndexMap` and hashbrown's maps on `iter`, `values`,
//! `values_mut`, `into_values`, `drain`, and `clear` + drop of a small map;
//! and a pooled map's value walks in the order of `iter()` (`values()`,
//! `values_mut()`, `into_values()`) against its opt-in memory-order ones
//! (`unordered_values()`, `unordered_values_mut()`,
//! `into_unordered_values()`).
//!
//! ```sh
//! cargo bench --bench iterate            # full run, ~4 min on 2 cores; writes docs/bench/iterate.csv
//! cargo bench --bench iterate -- --test  # quick mode (CI): N = 1000, 2 rounds, writes no CSV
//! ```
//!
//! Targets from the issue: iteration within 1.10x of `IndexMap` for values
//! of 128 B and more; clear-and-drop of a small pooled map within 1.2x of
//! `BoxedMap`.
//!
//! Workloads, all on `u64` keys, each timed on maps grown from empty
//! beforehand (the builds are not timed):
//! - `iter`: the sum over `(k, v)` of the key plus the value's first word;
//! - `values`: the sum of the values' first words;
//! - `values_mut`: add one to every value's first byte (`Pod`) or word
//!   (`Owned`);
//! - `into_values`: consume a freshly built map, summing first words; the
//!   map's drop (values and memory) is timed with it;
//! - `drain`: `drain()` every entry, summing first words; the map keeps
//!   its memory and is refilled, untimed, before the next drain;
//! - `clear_drop` (N = 1000 only): `clear()` then drop a freshly built map;
//!   with `String`-owning values this drops the strings.
//!
//! Each contender does every workload through the testkit's `Contender`
//! trait (`for_each`, `for_each_value`, `for_each_value_mut`, `drain_each`,
//! `into_values_each`), which calls the map's own method with an internal
//! (`for_each`) loop. `PooledMap` runs the ordered walks (`values()`...);
//! the extra entrant `PooledMap unordered` (the testkit's `Unordered`
//! wrapper) is the same map running `unordered_values()`,
//! `unordered_values_mut()` and `into_unordered_values()` in the `values`,
//! `values_mut` and `into_values` workloads (its `iter`, `drain` and
//! `clear_drop` are `PooledMap`'s, timed again). `HashMap<K, Box<V>>` reads a drained value in its box;
//! mapstore's `BoxedMap` moves it out, as its `drain` yields `V`.
//!
//! Cells: values `Pod<128>`, `Pod<512>`, `Pod<4096>` and `Owned<13>` (a
//! `String` plus 13 words, 128 B); N = 1e3 and 1e5, and 1e6 for 128 B and
//! 512 B `Pod` values (the time budget). Contenders: `InlineMap`,
//! `BoxedMap`, `PooledMap`, `IndexMap<K, V>`, hashbrown's `HashMap<K, V>`
//! and `HashMap<K, Box<V>>`, and `PooledMap unordered`, all with
//! `DefaultHashBuilder`. All of a cell's
//! contenders run interleaved in one process (the testkit's race), the
//! order rotated each round, and each workload keeps its minimum over the
//! rounds (15 at N = 1e3, 10 at 1e5, 5 at 1e6). One sample repeats each
//! workload so that it covers at least 100 000 entries (100 times at
//! N = 1e3). `PooledMap` is timed twice per round (the control): the gap
//! between its two minimums is the noise, printed per workload. The
//! speed-up of the unordered walks is `PooledMap / PooledMap unordered`,
//! printed per cell and summarised at the end; the CSV's `vs_pooledmap`
//! column is each contender over `PooledMap`.
//!
//! Environment: `MAPSTORE_ITERATE_ONLY=text` runs only the cells whose label
//! contains `text`; `MAPSTORE_ITERATE_OUT=path` overrides the CSV path (full
//! run only).

use std::fmt::Write as _;
use std::hint::black_box;
use std::mem::size_of;
use std::time::{Duration, Instant};

use mapstore::{BoxedMap, InlineMap, PooledMap};
use mapstore_testkit::alloc::malloc;
use mapstore_testkit::contender::{
    fill, grown, Contender, HashbrownBoxMap, HashbrownMap, IndexMapDefault, Unordered,
};
use mapstore_testkit::data::{Key, Owned, Pod, Value};
use mapstore_testkit::race::Race;

/// Contender columns, in this order everywhere.
const CONTENDERS: [&str; NC] = [
    "InlineMap",
    "BoxedMap",
    "PooledMap",
    "IndexMap<K, V>",
    "HashMap<K, V>",
    "HashMap<K, Box<V>>",
    "PooledMap unordered",
];
/// The number of contenders.
const NC: usize = 7;
/// Short names for the per-cell lines.
const SHORT: [&str; NC] = [
    "inline",
    "boxed",
    "pooled",
    "indexmap",
    "hb",
    "hb_box",
    "pooled_unord",
];
/// The mapstore maps, in [`CONTENDERS`] order.
const MAPSTORE: [usize; 3] = [0, 1, 2];
const BOXED: usize = 1;
const POOLED: usize = 2;
const INDEXMAP: usize = 3;
/// `PooledMap` with its memory-order value walks.
const UNORDERED: usize = 6;

/// The workloads; the first five are iteration.
const WORKLOADS: [&str; 6] = [
    "iter",
    "values",
    "values_mut",
    "into_values",
    "drain",
    "clear_drop",
];
const ITERATION: usize = 5;
/// The workloads whose walk `PooledMap unordered` changes.
const VALUE_WALKS: [usize; 3] = [1, 2, 3];
const CLEAR_DROP: usize = 5;
/// The map size `clear_drop` is measured at ("a small map").
const CLEAR_DROP_N: usize = 1_000;
/// A sample repeats each workload until it has covered this many entries.
const ENTRIES_PER_SAMPLE: usize = 100_000;

/// The issue's bounds.
const ITERATION_TARGET: f64 = 1.10;
const CLEAR_DROP_TARGET: f64 = 1.2;

/// A value the `values_mut` workload can change in place.
trait Touch: Value {
    fn touch(&mut self);
}

impl<const N: usize> Touch for Pod<N> {
    #[inline]
    fn touch(&mut self) {
        self.0[0] = self.0[0].wrapping_add(1);
    }
}

impl<const W: usize> Touch for Owned<W> {
    #[inline]
    fn touch(&mut self) {
        if let Some(word) = self.words.first_mut() {
            *word = word.wrapping_add(1);
        }
    }
}

/// One sample of every workload on contender `M`: seconds per workload,
/// summed over `reps` repetitions (`clear_drop` is 0 unless `clear_drop`).
fn sample<V: Touch, M: Contender<u64, V>>(keys: &[u64], reps: usize, clear_drop: bool) -> Vec<f64> {
    let mut time = [Duration::ZERO; 6];
    let mut map: M = grown::<u64, V, M>(keys);

    // Read-only passes over one map: the loop is timed once.
    let start = Instant::now();
    for _ in 0..reps {
        let map = black_box(&mut map);
        let mut sum = 0u64;
        map.for_each(|k, v| sum = sum.wrapping_add(*k).wrapping_add(v.read()));
        black_box(sum);
    }
    time[0] = start.elapsed();

    let start = Instant::now();
    for _ in 0..reps {
        let map = black_box(&mut map);
        let mut sum = 0u64;
        map.for_each_value(|v| sum = sum.wrapping_add(v.read()));
        black_box(sum);
    }
    time[1] = start.elapsed();

    let start = Instant::now();
    for _ in 0..reps {
        black_box(&mut map).for_each_value_mut(|v| v.touch());
    }
    time[2] = start.elapsed();
    black_box(&mut map);

    // Consuming workloads: a built map per repetition, each timed alone.
    for rep in 0..reps {
        if rep > 0 {
            fill::<u64, V, M>(&mut map, keys);
        }
        let map = black_box(&mut map);
        let start = Instant::now();
        let mut sum = 0u64;
        map.drain_each(|_, v| sum = sum.wrapping_add(v.read()));
        time[4] += start.elapsed();
        black_box(sum);
        assert!(map.is_empty(), "{} kept entries after drain", M::NAME);
    }
    drop(map);

    for _ in 0..reps {
        let fresh = black_box(grown::<u64, V, M>(keys));
        let start = Instant::now();
        let mut sum = 0u64;
        fresh.into_values_each(|v| sum = sum.wrapping_add(v.read()));
        time[3] += start.elapsed();
        black_box(sum);
    }

    if clear_drop {
        for _ in 0..reps {
            let mut fresh = black_box(grown::<u64, V, M>(keys));
            let start = Instant::now();
            fresh.clear();
            drop(black_box(fresh));
            time[5] += start.elapsed();
        }
    }
    time.iter().map(Duration::as_secs_f64).collect()
}

/// One measured cell: a value type and a map size.
struct Cell {
    value: String,
    size: usize,
    n: usize,
    rounds: usize,
    reps: usize,
    /// `ns[workload][contender]`: nanoseconds per entry (NaN where the
    /// workload is not measured).
    ns: [[f64; NC]; 6],
    /// The control's spread per workload (NaN where not measured).
    spread: [f64; 6],
}

impl Cell {
    fn label(&self) -> String {
        format!("u64 keys, {} values, N={}", self.value, self.n)
    }

    fn measured(&self, workload: usize) -> bool {
        !self.ns[workload][0].is_nan()
    }
}

struct Bench {
    quick: bool,
    only: Option<String>,
    cells: Vec<Cell>,
}

impl Bench {
    fn rounds(&self, n: usize) -> usize {
        match (self.quick, n) {
            (true, _) => 2,
            (false, n) if n <= 1_000 => 15,
            // Fewer entries per sample here, so more rounds than at 1e3.
            (false, n) if n <= 100_000 => 10,
            _ => 5,
        }
    }
}

fn cell<V: Touch>(bench: &mut Bench, n: usize) {
    let value = format!("{}{}", V::LABEL, size_of::<V>());
    let label = format!("u64 keys, {value} values, N={n}");
    if bench
        .only
        .as_ref()
        .is_some_and(|only| !label.contains(only.as_str()))
    {
        return;
    }
    let started = Instant::now();
    let keys: Vec<u64> = (0..n as u64).map(|i| u64::make(2 * i)).collect();
    let rounds = bench.rounds(n);
    let reps = ENTRIES_PER_SAMPLE.div_ceil(n);
    let clear_drop = n == CLEAR_DROP_N;
    malloc::trim();

    fn entrant<V: Touch, M: Contender<u64, V>>(
        keys: &[u64],
        reps: usize,
        clear_drop: bool,
    ) -> impl FnMut() -> Vec<f64> + '_ {
        move || sample::<V, M>(keys, reps, clear_drop)
    }
    let mut race = Race::new();
    race.enter(
        CONTENDERS[0],
        entrant::<V, InlineMap<u64, V>>(&keys, reps, clear_drop),
    );
    race.enter(
        CONTENDERS[1],
        entrant::<V, BoxedMap<u64, V>>(&keys, reps, clear_drop),
    );
    let pooled = race.enter(
        CONTENDERS[2],
        entrant::<V, PooledMap<u64, V>>(&keys, reps, clear_drop),
    );
    race.enter(
        CONTENDERS[3],
        entrant::<V, IndexMapDefault<u64, V>>(&keys, reps, clear_drop),
    );
    race.enter(
        CONTENDERS[4],
        entrant::<V, HashbrownMap<u64, V>>(&keys, reps, clear_drop),
    );
    race.enter(
        CONTENDERS[5],
        entrant::<V, HashbrownBoxMap<u64, V>>(&keys, reps, clear_drop),
    );
    race.enter(
        CONTENDERS[UNORDERED],
        entrant::<V, Unordered<PooledMap<u64, V>>>(&keys, reps, clear_drop),
    );
    race.control(pooled);
    let standings = race.run(rounds);

    let entries = (n * reps) as f64;
    let mut ns = [[f64::NAN; NC]; 6];
    let mut spread = [f64::NAN; 6];
    for w in 0..WORKLOADS.len() {
        if w == CLEAR_DROP && !clear_drop {
            continue;
        }
        for (c, row) in standings.best.iter().enumerate() {
            ns[w][c] = row[w] / entries * 1e9;
        }
        spread[w] = standings.spread(w).unwrap_or(1.0);
    }
    let cell = Cell {
        value,
        size: size_of::<V>(),
        n,
        rounds,
        reps,
        ns,
        spread,
    };
    println!(
        "\n{} ({} rounds x {} reps, {:.1} s)",
        cell.label(),
        rounds,
        reps,
        started.elapsed().as_secs_f64()
    );
    for (w, workload) in WORKLOADS.iter().enumerate() {
        if !cell.measured(w) {
            continue;
        }
        let mut line = format!("  {workload:<11} ns/entry:");
        for (c, short) in SHORT.iter().enumerate() {
            write!(line, " {short} {:.2}", cell.ns[w][c]).expect("writing to a String");
        }
        line.push_str("  vs IndexMap:");
        for c in MAPSTORE {
            write!(
                line,
                " {} {:.2}x",
                SHORT[c],
                cell.ns[w][c] / cell.ns[w][INDEXMAP]
            )
            .expect("writing to a String");
        }
        if w == CLEAR_DROP {
            write!(
                line,
                "  pooled vs boxed {:.3}x",
                cell.ns[w][POOLED] / cell.ns[w][BOXED]
            )
            .expect("writing to a String");
        }
        if VALUE_WALKS.contains(&w) {
            write!(
                line,
                "  ordered/unordered {:.2}x",
                cell.ns[w][POOLED] / cell.ns[w][UNORDERED]
            )
            .expect("writing to a String");
        }
        write!(line, "  noise {:.3}x", cell.spread[w]).expect("writing to a String");
        println!("{line}");
    }
    bench.cells.push(cell);
}

fn csv(bench: &Bench) -> String {
    let mut out = String::from(
        "workload,key,value,size,n,rounds,reps,contender,ns_per_entry,vs_indexmap,vs_boxedmap,control_spread,vs_pooledmap\n",
    );
    for c in &bench.cells {
        for (w, workload) in WORKLOADS.iter().enumerate() {
            if !c.measured(w) {
                continue;
            }
            for (i, name) in CONTENDERS.iter().enumerate() {
                writeln!(
                    out,
                    "{workload},u64,{},{},{},{},{},\"{name}\",{:.4},{:.4},{:.4},{:.4},{:.4}",
                    c.value,
                    c.size,
                    c.n,
                    c.rounds,
                    c.reps,
                    c.ns[w][i],
                    c.ns[w][i] / c.ns[w][INDEXMAP],
                    c.ns[w][i] / c.ns[w][BOXED],
                    c.spread[w],
                    c.ns[w][i] / c.ns[w][POOLED]
                )
                .expect("writing to a String");
            }
        }
    }
    out
}

/// How often `map / reference` is within `target` over `workloads`, and the
/// worst case; also net of each cell's noise.
fn summary(
    bench: &Bench,
    topic: &str,
    workloads: std::ops::Range<usize>,
    map: usize,
    reference: usize,
    target: f64,
    scope: &str,
) -> String {
    let (mut within, mut net_within, mut total) = (0, 0, 0);
    let (mut worst, mut worst_at) = (0.0f64, String::new());
    for c in &bench.cells {
        for w in workloads.clone() {
            if !c.measured(w) {
                continue;
            }
            let ratio = c.ns[w][map] / c.ns[w][reference];
            total += 1;
            within += usize::from(ratio <= target);
            net_within += usize::from(ratio / c.spread[w] <= target);
            if ratio > worst {
                (worst, worst_at) = (ratio, format!("{}, {}", WORKLOADS[w], c.label()));
            }
        }
    }
    format!(
        "{topic}: {} within {target:.2}x of {} in {within} of {total} cells ({scope}), worst {worst:.2}x at {worst_at}; \
         net of each cell's noise: {net_within} of {total}",
        CONTENDERS[map], CONTENDERS[reference]
    )
}

/// The speed-up of the memory-order value walks: `PooledMap` (ordered)
/// over `PooledMap unordered`, per workload and map size, as
/// `min-max (median)` with the largest control spread of those cells.
fn order_summary(bench: &Bench) -> Vec<String> {
    let mut lines = Vec::new();
    let mut sizes: Vec<usize> = bench.cells.iter().map(|c| c.n).collect();
    sizes.dedup();
    for w in VALUE_WALKS {
        let mut parts = Vec::new();
        for &n in &sizes {
            let mut ratios: Vec<f64> = Vec::new();
            let mut spread = 1.0f64;
            for c in bench.cells.iter().filter(|c| c.n == n && c.measured(w)) {
                ratios.push(c.ns[w][POOLED] / c.ns[w][UNORDERED]);
                spread = spread.max(c.spread[w]);
            }
            if ratios.is_empty() {
                continue;
            }
            ratios.sort_by(f64::total_cmp);
            let mid = ratios.len() / 2;
            let median = if ratios.len() % 2 == 0 {
                (ratios[mid - 1] + ratios[mid]) / 2.0
            } else {
                ratios[mid]
            };
            parts.push(format!(
                "N={n}: {:.2}-{:.2}x (median {median:.2}x, spread up to {spread:.3}x)",
                ratios[0],
                ratios[ratios.len() - 1],
            ));
        }
        lines.push(format!(
            "order: {} ordered / unordered: {}",
            WORKLOADS[w],
            parts.join("; ")
        ));
    }
    lines
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Criterion's convention: quick with `--test`, or when run as a test
    // (`cargo test --benches` passes no `--bench`).
    let quick = args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench");
    malloc::pin();
    let started = Instant::now();
    let mut bench = Bench {
        quick,
        only: std::env::var("MAPSTORE_ITERATE_ONLY").ok(),
        cells: Vec::new(),
    };
    let ns: &[usize] = if quick {
        &[1_000]
    } else {
        &[1_000, 100_000, 1_000_000]
    };
    println!(
        "mapstore iterate ({}): N = {ns:?}, rounds {:?}",
        if quick { "quick mode" } else { "full run" },
        ns.iter().map(|&n| bench.rounds(n)).collect::<Vec<_>>()
    );
    const _: () = assert!(size_of::<Owned<13>>() == 128);
    for &n in ns {
        cell::<Pod<128>>(&mut bench, n);
        cell::<Pod<512>>(&mut bench, n);
        if n < 1_000_000 {
            cell::<Pod<4096>>(&mut bench, n);
            cell::<Owned<13>>(&mut bench, n);
        }
    }

    println!(
        "\n{} cells in {:.0} s",
        bench.cells.len(),
        started.elapsed().as_secs_f64()
    );
    if quick {
        println!("quick mode: N = 1000 only, 2 rounds, no CSV; the numbers are a smoke test, not a measurement");
    } else {
        let out = std::env::var("MAPSTORE_ITERATE_OUT")
            .unwrap_or_else(|_| "docs/bench/iterate.csv".into());
        if let Some(dir) = std::path::Path::new(&out).parent() {
            std::fs::create_dir_all(dir).expect("creating the CSV's directory");
        }
        std::fs::write(&out, csv(&bench)).expect("writing the iterate CSV");
        println!("per-cell minimums in {out}");
    }

    let iteration = "iter, values, values_mut, into_values, drain; values >= 128 B";
    for map in [POOLED, UNORDERED, 0, BOXED] {
        println!(
            "{}",
            summary(
                &bench,
                "iteration",
                0..ITERATION,
                map,
                INDEXMAP,
                ITERATION_TARGET,
                iteration
            )
        );
    }
    println!(
        "{}",
        summary(
            &bench,
            "clear_drop",
            CLEAR_DROP..CLEAR_DROP + 1,
            POOLED,
            BOXED,
            CLEAR_DROP_TARGET,
            "N = 1000"
        )
    );
    for line in order_summary(&bench) {
        println!("{line}");
    }
    let mut noise: Vec<f64> = bench
        .cells
        .iter()
        .flat_map(|c| c.spread.iter().copied().filter(|s| !s.is_nan()))
        .collect();
    if !noise.is_empty() {
        noise.sort_by(f64::total_cmp);
        let q = |p: f64| noise[((noise.len() - 1) as f64 * p).round() as usize];
        println!(
            "noise (PooledMap timed twice), over every cell and workload: median {:.3}x, 90th percentile {:.3}x, max {:.3}x",
            q(0.5),
            q(0.9),
            q(1.0)
        );
    }
}
