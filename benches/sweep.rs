//! The policy sweep: which storage is fastest (or leanest) for each value
//! size, key type, map size and workload, and how far the storage `choose`
//! picks is from the best one, per optimize goal.
//!
//! ```sh
//! cargo bench --bench sweep              # full run, ~10-15 min; writes docs/bench/sweep.csv
//! cargo bench --bench sweep -- --test    # quick mode (CI): N = 1000, 2 rounds, < 1 min
//! python3 tools/pick_thresholds.py       # thresholds per goal from docs/bench/sweep.csv
//! ```
//!
//! Workloads (one per `Optimize` goal):
//! - `balanced`: grow from empty, then 3 lookup passes in shuffled order;
//! - `reads`: the 3 lookup passes alone (after the build);
//! - `writes`: grow from empty, remove-and-reinsert every key (shuffled),
//!   then `clear` and drop;
//! - `memory`: bytes per entry, the mean of the peak while growing and the
//!   final footprint, from the counting allocator, in the allocator's real
//!   block sizes (glibc's usable size plus its header; requested bytes are
//!   in the CSV too). The keys' and values' own heap is included: every
//!   contender holds the same.
//!
//! Cells: value sizes 8 B - 4 KiB, pointer-free (`Pod<N>`) and
//! `String`-owning (`Owned<W>`, 24 B and up); `u64` and `String` keys;
//! N = 1e3 and 1e5 (every size), 1e6 (every size to 1 KiB for `u64` keys
//! and pointer-free values, a few sizes for the other three series: the
//! time budget). Contenders: `InlineMap`, `BoxedMap`, `PooledMap`,
//! hashbrown's `HashMap<K, V>` and `HashMap<K, Box<V>>`, all with
//! `DefaultHashBuilder`. All of a cell's contenders run interleaved in one
//! process, the order rotated each round, and each metric keeps its minimum
//! over the rounds. The storage `choose` picks for the balanced goal is
//! timed twice per round (the control): the gap between its two minimums is
//! the noise, reported per goal.
//!
//! `MapStore<K, V>` is a zero-cost wrapper over the map its storage names,
//! so "picked" is the concrete map `choose(ValueLayout::of::<V>(owns_heap),
//! goal)` names, measured once per cell and read for each goal.
//!
//! Environment: `MAPSTORE_SWEEP_ONLY=text` runs only the cells whose label
//! contains `text`; `MAPSTORE_SWEEP_OUT=path` overrides the CSV path;
//! `MAPSTORE_SWEEP_ROUNDS_1E6=k` takes `k` rounds (default 2) at N = 1e6.

use std::fmt::Write as _;
use std::mem::size_of;
use std::time::Instant;

use mapstore::{choose, BoxedMap, InlineMap, Optimize, PooledMap, StorageKind, ValueLayout};
use mapstore_testkit::alloc::{malloc, Counting};
use mapstore_testkit::contender::{
    memory, session, Contender, HashbrownBoxMap, HashbrownMap, Phases,
};
use mapstore_testkit::data::{Key, Keys, Owned, Pod, Value};
use mapstore_testkit::race::Race;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Lookup passes per key in the balanced and reads workloads.
const PASSES: usize = 3;

/// Contender columns, in this order everywhere.
const CONTENDERS: [&str; 5] = [
    "InlineMap",
    "BoxedMap",
    "PooledMap",
    "HashMap<K, V>",
    "HashMap<K, Box<V>>",
];
/// Indices of the three storages in [`CONTENDERS`].
const STORAGES: [usize; 3] = [0, 1, 2];
const HASHBROWN: usize = 3;
const HASHBROWN_BOX: usize = 4;

fn storage_index(kind: StorageKind) -> usize {
    match kind {
        StorageKind::Inline => 0,
        StorageKind::Boxed => 1,
        StorageKind::Pooled => 2,
    }
}

/// The workloads, one per goal, in `Optimize::ALL` order.
const WORKLOADS: [&str; 4] = ["balanced", "reads", "writes", "memory"];

/// One measured cell: a key type, a value type, a map size.
struct Cell {
    key: &'static str,
    value: &'static str,
    layout: ValueLayout,
    n: usize,
    rounds: usize,
    /// `metric[workload][contender]`: seconds per entry, or bytes per
    /// entry for `memory`.
    metric: [[f64; 5]; 4],
    /// Peak and final bytes per entry, per contender, as allocator blocks.
    peak: [f64; 5],
    last: [f64; 5],
    /// Peak and final requested bytes per entry, per contender.
    requested: [[f64; 2]; 5],
    /// The control's spread per timed workload (balanced, reads, writes).
    spread: [f64; 3],
}

impl Cell {
    fn label(&self) -> String {
        format!(
            "{} keys, {}{} values, N={}",
            self.key, self.value, self.layout.size, self.n
        )
    }
}

struct Sweep {
    quick: bool,
    only: Option<String>,
    cells: Vec<Cell>,
    skipped: Vec<String>,
}

impl Sweep {
    fn rounds(&self, n: usize) -> usize {
        match (self.quick, n) {
            (true, _) => 2,
            (false, n) if n <= 1_000 => 15,
            (false, n) if n <= 100_000 => 5,
            // Two rounds keep the full run near 15 minutes; a rerun of the
            // large cells alone can afford more (`MAPSTORE_SWEEP_ROUNDS_1E6`).
            _ => std::env::var("MAPSTORE_SWEEP_ROUNDS_1E6")
                .ok()
                .and_then(|r| r.parse().ok())
                .unwrap_or(2),
        }
    }

    /// Whether the full run measures this cell; records why not.
    fn wanted(&mut self, key: &str, value: &str, size: usize, n: usize) -> bool {
        let label = format!("{key} keys, {value}{size} values, N={n}");
        if let Some(only) = &self.only {
            if !label.contains(only.as_str()) {
                return false;
            }
        }
        if n >= 1_000_000 {
            // At N = 1e6 a cell costs 10-30 s: every size of the main series
            // (u64 keys, pointer-free values) up to 1 KiB, a few elsewhere.
            let keep: &[usize] = match (key, value) {
                ("u64", "pod") => &[8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 512, 1024],
                ("u64", _) => &[32, 128, 512],
                (_, "pod") => &[16, 64, 128, 512],
                _ => &[128],
            };
            if !keep.contains(&size) {
                self.skipped
                    .push(format!("{label} (at N=1e6: the time budget)"));
                return false;
            }
        }
        true
    }
}

fn phases_metrics(p: Phases) -> Vec<f64> {
    vec![p.grow + p.lookup, p.lookup, p.grow + p.churn + p.clear]
}

fn cell<K: Key, V: Value>(sweep: &mut Sweep, n: usize) {
    let layout = ValueLayout::of::<V>(V::OWNS_HEAP);
    if !sweep.wanted(K::LABEL, V::LABEL, size_of::<V>(), n) {
        return;
    }
    let started = Instant::now();
    let keys = Keys::<K>::new(n);
    let rounds = sweep.rounds(n);
    malloc::trim();

    // Memory: one grow per contender with the allocator counting.
    let mut peak = [0.0; 5];
    let mut last = [0.0; 5];
    let mut requested = [[0.0; 2]; 5];
    let mems = [
        memory::<K, V, InlineMap<K, V>>(&keys.insert),
        memory::<K, V, BoxedMap<K, V>>(&keys.insert),
        memory::<K, V, PooledMap<K, V>>(&keys.insert),
        memory::<K, V, HashbrownMap<K, V>>(&keys.insert),
        memory::<K, V, HashbrownBoxMap<K, V>>(&keys.insert),
    ];
    for (i, m) in mems.iter().enumerate() {
        if let Some(reported) = m.reported {
            assert_eq!(
                reported, m.live,
                "{}: memory_usage() + owned heap disagrees with the allocator",
                CONTENDERS[i]
            );
        }
        // What the allocator really holds (block sizes with headers) where
        // glibc tells; requested bytes otherwise. A 16-byte box is a
        // 32-byte block: requested bytes would flatter boxes.
        let real = m.peak_real > 0;
        peak[i] = if real { m.peak_real } else { m.peak } as f64 / n as f64;
        last[i] = if real { m.live_real } else { m.live } as f64 / n as f64;
        requested[i] = [m.peak as f64 / n as f64, m.live as f64 / n as f64];
    }

    // Time: every contender interleaved, rotated, min over rounds.
    fn entrant<K: Key, V: Value, M: Contender<K, V>>(
        keys: &Keys<K>,
    ) -> impl FnMut() -> Vec<f64> + '_ {
        move || phases_metrics(session::<K, V, M>(keys, PASSES, true))
    }
    let mut race = Race::new();
    race.enter(CONTENDERS[0], entrant::<K, V, InlineMap<K, V>>(&keys));
    race.enter(CONTENDERS[1], entrant::<K, V, BoxedMap<K, V>>(&keys));
    race.enter(CONTENDERS[2], entrant::<K, V, PooledMap<K, V>>(&keys));
    race.enter(CONTENDERS[3], entrant::<K, V, HashbrownMap<K, V>>(&keys));
    race.enter(CONTENDERS[4], entrant::<K, V, HashbrownBoxMap<K, V>>(&keys));
    race.control(storage_index(choose(layout, Optimize::Balanced)));
    let standings = race.run(rounds);

    let mut metric = [[0.0; 5]; 4];
    for (c, row) in standings.best.iter().enumerate() {
        for w in 0..3 {
            metric[w][c] = row[w] / n as f64;
        }
        metric[3][c] = (peak[c] + last[c]) / 2.0;
    }
    let spread = [0, 1, 2].map(|w| standings.spread(w).unwrap_or(1.0));
    let cell = Cell {
        key: K::LABEL,
        value: V::LABEL,
        layout,
        n,
        rounds,
        metric,
        peak,
        last,
        requested,
        spread,
    };
    let b = &cell.metric[0];
    eprintln!(
        "{:<44} balanced ns/entry: inline {:>7.1} boxed {:>7.1} pooled {:>7.1} hb {:>7.1} hb_box {:>7.1}  noise {:.3}  ({:.2} s)",
        cell.label(),
        b[0] * 1e9,
        b[1] * 1e9,
        b[2] * 1e9,
        b[3] * 1e9,
        b[4] * 1e9,
        spread[0],
        started.elapsed().as_secs_f64()
    );
    sweep.cells.push(cell);
}

fn values<K: Key>(sweep: &mut Sweep, n: usize) {
    macro_rules! pod {
        ($($size:literal)*) => {$( cell::<K, Pod<$size>>(sweep, n); )*};
    }
    macro_rules! owned {
        ($($w:literal => $size:literal)*) => {$(
            const _: () = assert!(size_of::<Owned<$w>>() == $size);
            cell::<K, Owned<$w>>(sweep, n);
        )*};
    }
    pod!(8 16 24 32 48 64 96 128 192 256 512 1024 2048 4096);
    owned!(0 => 24 1 => 32 3 => 48 5 => 64 9 => 96 13 => 128 21 => 192 29 => 256
        61 => 512 125 => 1024 253 => 2048 509 => 4096);
}

/// 1e7 values of 512 B grown from empty: pooled vs boxed vs
/// `HashMap<u64, Box<V>>`. Full run only.
fn big_build() {
    const N: usize = 10_000_000;
    type V = Pod<512>;
    let keys: Vec<u64> = (0..N as u64).map(u64::make).collect();
    fn grow<M: Contender<u64, V>>(keys: &[u64]) -> impl FnMut() -> Vec<f64> + '_ {
        move || {
            let mut map = M::new();
            let start = Instant::now();
            mapstore_testkit::contender::fill::<u64, V, M>(&mut map, keys);
            let time = start.elapsed().as_secs_f64();
            assert_eq!(map.len(), keys.len());
            drop(std::hint::black_box(map));
            malloc::trim();
            vec![time]
        }
    }
    let started = Instant::now();
    let mut race = Race::new();
    let pooled = race.enter("PooledMap", grow::<PooledMap<u64, V>>(&keys));
    let boxed = race.enter("BoxedMap", grow::<BoxedMap<u64, V>>(&keys));
    let hb_box = race.enter("HashMap<K, Box<V>>", grow::<HashbrownBoxMap<u64, V>>(&keys));
    race.control(pooled);
    let s = race.run(2);
    let kind = choose(ValueLayout::of::<V>(false), Optimize::Balanced);
    let picked = match kind {
        StorageKind::Pooled => pooled,
        StorageKind::Boxed => boxed,
        // Not raced here: inline at 1e7 x 512 B needs ~16 GB while growing.
        StorageKind::Inline => {
            println!("\n1e7 x 512 B: the policy picks inline, which this case does not race");
            pooled
        }
    };
    println!(
        "\n1e7 x 512 B grow-insert (2 rounds, {:.0} s): PooledMap {:.2} s, BoxedMap {:.2} s, HashMap<u64, Box<V>> {:.2} s; \
         picked ({}) / HashMap<K, Box<V>> = {:.2}x, PooledMap / BoxedMap = {:.2}x; noise (PooledMap timed twice) {:.3}x",
        started.elapsed().as_secs_f64(),
        s.value(pooled, 0),
        s.value(boxed, 0),
        s.value(hb_box, 0),
        s.names[picked],
        s.value(picked, 0) / s.value(hb_box, 0),
        s.value(pooled, 0) / s.value(boxed, 0),
        s.spread(0).unwrap_or(1.0)
    );
}

fn csv(sweep: &Sweep) -> String {
    let mut out = String::from(
        "workload,key,value,size,align,needs_drop,owns_heap,n,rounds,contender,per_entry,unit,control_spread,peak_bytes_per_entry,final_bytes_per_entry,requested_peak_per_entry,requested_final_per_entry\n",
    );
    for c in &sweep.cells {
        for (w, workload) in WORKLOADS.iter().enumerate() {
            for (i, name) in CONTENDERS.iter().enumerate() {
                let (value, unit, spread) = if w == 3 {
                    (format!("{:.2}", c.metric[w][i]), "bytes", String::new())
                } else {
                    (
                        format!("{:.3}", c.metric[w][i] * 1e9),
                        "ns",
                        format!("{:.4}", c.spread[w]),
                    )
                };
                writeln!(
                    out,
                    "{workload},{},{},{},{},{},{},{},{},\"{name}\",{value},{unit},{spread},{:.2},{:.2},{:.2},{:.2}",
                    c.key,
                    c.value,
                    c.layout.size,
                    c.layout.align,
                    c.layout.needs_drop,
                    c.layout.owns_heap,
                    c.n,
                    c.rounds,
                    c.peak[i],
                    c.last[i],
                    c.requested[i][0],
                    c.requested[i][1]
                )
                .expect("writing to a String");
            }
        }
    }
    out
}

/// The summary lines for one goal.
fn summary(sweep: &Sweep, goal: Optimize) -> Vec<String> {
    let w = goal as usize;
    let (mut within, mut worst, mut worst_at) = (0, 0.0f64, String::new());
    let (mut hb_within, mut hb_worst, mut hb_worst_at) = (0, 0.0f64, String::new());
    let mut spreads: Vec<f64> = Vec::new();
    for c in &sweep.cells {
        let m = &c.metric[w];
        let picked = m[storage_index(choose(c.layout, goal))];
        let best = STORAGES.iter().map(|&i| m[i]).fold(f64::INFINITY, f64::min);
        let ratio = picked / best;
        within += usize::from(ratio <= 1.05);
        if ratio > worst {
            (worst, worst_at) = (ratio, format!("{} ({})", c.label(), choose(c.layout, goal)));
        }
        let hand = m[HASHBROWN].min(m[HASHBROWN_BOX]);
        let vs_hand = picked / hand;
        hb_within += usize::from(vs_hand <= 1.10);
        if vs_hand > hb_worst {
            (hb_worst, hb_worst_at) = (vs_hand, c.label());
        }
        if w < 3 {
            spreads.push(c.spread[w]);
        }
    }
    let cells = sweep.cells.len();
    let mut lines = vec![
        format!(
            "{goal}: picked within 1.05x of the best storage in {within} of {cells} cells, worst {worst:.2}x at {worst_at}"
        ),
        format!(
            "{goal}: MapStore vs the better of HashMap<K, V> and HashMap<K, Box<V>>: worst {hb_worst:.2}x at {hb_worst_at}; within 1.10x in {hb_within} of {cells} cells"
        ),
    ];
    if !spreads.is_empty() {
        spreads.sort_by(f64::total_cmp);
        let q = |p: f64| spreads[((spreads.len() - 1) as f64 * p).round() as usize];
        lines.push(format!(
            "{goal}: noise (the picked storage timed twice): median {:.3}x, 90th percentile {:.3}x, max {:.3}x",
            q(0.5),
            q(0.9),
            q(1.0)
        ));
    } else {
        lines.push(format!("{goal}: bytes are counted, not timed: no noise"));
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
    let mut sweep = Sweep {
        quick,
        only: std::env::var("MAPSTORE_SWEEP_ONLY").ok(),
        cells: Vec::new(),
        skipped: Vec::new(),
    };
    let ns: &[usize] = if quick {
        &[1_000]
    } else {
        &[1_000, 100_000, 1_000_000]
    };
    println!(
        "mapstore sweep ({}): N = {ns:?}, rounds {:?}",
        if quick { "quick mode" } else { "full run" },
        ns.iter().map(|&n| sweep.rounds(n)).collect::<Vec<_>>()
    );
    for &n in ns {
        values::<u64>(&mut sweep, n);
        values::<String>(&mut sweep, n);
    }
    if !quick && sweep.only.is_none() {
        big_build();
    }

    let out = std::env::var("MAPSTORE_SWEEP_OUT").unwrap_or_else(|_| {
        if quick {
            let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
            format!("{target}/mapstore-bench/sweep-quick.csv")
        } else {
            "docs/bench/sweep.csv".into()
        }
    });
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir).expect("creating the CSV's directory");
    }
    std::fs::write(&out, csv(&sweep)).expect("writing the sweep CSV");

    println!(
        "\n{} cells in {:.0} s; per-cell minimums in {out}",
        sweep.cells.len(),
        started.elapsed().as_secs_f64()
    );
    if !sweep.skipped.is_empty() {
        println!(
            "skipped {} cells at N=1e6 to fit ~15 min on 2 cores: values over 1 KiB; with String keys or \
             String-owning values, all but a few sizes (see the CSV for the cells measured)",
            sweep.skipped.len()
        );
    }
    if quick {
        println!(
            "quick mode: N = 1000 only, 2 rounds; the numbers are a smoke test, not a measurement"
        );
    }
    println!(
        "\nthresholds: {:?}",
        Optimize::ALL.map(|g| (g.name(), g.thresholds()))
    );
    for goal in Optimize::ALL {
        for line in summary(&sweep, goal) {
            println!("{line}");
        }
    }
}
