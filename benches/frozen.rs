//! `FrozenStore` against the maps a built-once table would otherwise be:
//! hashbrown's `HashMap<K, V>` (same hasher), `IndexMap<K, V>` (same hasher),
//! frozen-collections' `FzHashMap<K, V>` (same hasher) and a sorted
//! `Vec<(K, V)>` searched with `binary_search_by`.
//!
//! ```sh
//! cargo bench --bench frozen              # full run, ~5 min; writes docs/frozen.csv and docs/frozen_hits.svg
//! cargo bench --bench frozen -- --test    # quick mode (CI): N = 1000, 2 rounds, writes nothing
//! ```
//!
//! Per cell (key type x value size x N): `hit` = N lookups of present keys
//! in shuffled order, reading the value's first word; `miss` = N lookups of
//! absent keys; `build` = collecting N `(K, V)` pairs from an iterator
//! (making the pairs is inside the timing, the same for everyone; dropping
//! the result is not); `bytes` = heap bytes per entry held by the built map,
//! keys' own heap excluded (counting allocator). And where FrozenStore keeps
//! values apart, `values()` summed against the same values in a `Vec<V>`.
//!
//! All on the testkit's race harness: contenders interleaved in one process,
//! the order rotated each round, the minimum over rounds kept, FrozenStore
//! timed twice per round (the control: the gap between its two minimums is
//! the same-code spread, the noise floor of the machine for that cell).
//! FrozenStore's reported number is the worse of its two minimums (its
//! first slot usually follows its own control slot and finds the table
//! warm in cache; see `worse` in `cell`). Every timed lookup sample follows
//! untimed passes of the same lookups, at least three and then more until a
//! pass is no faster than the ones before it (`MAPSTORE_FROZEN_COLD=1`:
//! none), so each contender is timed in its own steady state. Subsets:
//! `MAPSTORE_FROZEN_ONLY=u64-8-100000` runs the cells whose
//! `<keys>-<value bytes>-<N>` name contains it (here N = 1e5 and 1e6; a
//! final `$` anchors the end, `u64-8-1000$` is N = 1e3 alone; commas
//! separate alternatives). `MAPSTORE_FROZEN_N=4000,20000` runs other sizes
//! than 1e3, 1e5 and 1e6 (and writes nothing).
//! The machine is shared: read ratios, not absolute nanoseconds.

use std::fmt::Write as _;
use std::hint::black_box;
use std::mem::size_of;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use frozen_collections::FzHashMap;
use indexmap::IndexMap;
use mapstore::{DefaultHashBuilder, FrozenStore};
use mapstore_testkit::alloc::{malloc, Counting, Meter};
use mapstore_testkit::data::{shuffle, splitmix, Key, Keys, Pod, Value};
use mapstore_testkit::race::Race;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A built-once map under test.
trait Frozen<K, V>: Sized {
    const NAME: &'static str;
    fn build(items: impl Iterator<Item = (K, V)>) -> Self;
    fn get(&self, key: &K) -> Option<&V>;
    fn len(&self) -> usize;
}

impl<K: Key, V> Frozen<K, V> for FrozenStore<K, V> {
    const NAME: &'static str = "FrozenStore";
    fn build(items: impl Iterator<Item = (K, V)>) -> Self {
        items.collect()
    }
    #[inline(always)]
    fn get(&self, key: &K) -> Option<&V> {
        FrozenStore::get(self, key)
    }
    fn len(&self) -> usize {
        FrozenStore::len(self)
    }
}

impl<K: Key, V> Frozen<K, V> for hashbrown::HashMap<K, V, DefaultHashBuilder> {
    const NAME: &'static str = "hashbrown";
    fn build(items: impl Iterator<Item = (K, V)>) -> Self {
        items.collect()
    }
    #[inline(always)]
    fn get(&self, key: &K) -> Option<&V> {
        hashbrown::HashMap::get(self, key)
    }
    fn len(&self) -> usize {
        hashbrown::HashMap::len(self)
    }
}

impl<K: Key, V> Frozen<K, V> for IndexMap<K, V, DefaultHashBuilder> {
    const NAME: &'static str = "IndexMap";
    fn build(items: impl Iterator<Item = (K, V)>) -> Self {
        items.collect()
    }
    #[inline(always)]
    fn get(&self, key: &K) -> Option<&V> {
        IndexMap::get(self, key)
    }
    fn len(&self) -> usize {
        IndexMap::len(self)
    }
}

impl<K: Key, V> Frozen<K, V> for FzHashMap<K, V, DefaultHashBuilder> {
    const NAME: &'static str = "FzHashMap";
    fn build(items: impl Iterator<Item = (K, V)>) -> Self {
        FzHashMap::with_hasher(items.collect(), DefaultHashBuilder::default())
    }
    #[inline(always)]
    fn get(&self, key: &K) -> Option<&V> {
        FzHashMap::get(self, key)
    }
    fn len(&self) -> usize {
        FzHashMap::len(self)
    }
}

/// A sorted `Vec<(K, V)>` with binary search (the seed's built-once table).
struct SortedVec<K, V>(Vec<(K, V)>);

impl<K: Key + Ord, V> Frozen<K, V> for SortedVec<K, V> {
    const NAME: &'static str = "sorted Vec";
    fn build(items: impl Iterator<Item = (K, V)>) -> Self {
        let mut all: Vec<(K, V)> = items.collect();
        // Stable, so that of equal keys the last stays last, then dedup
        // keeping it, as the others do.
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.reverse();
        all.dedup_by(|a, b| a.0 == b.0);
        all.reverse();
        all.shrink_to_fit();
        SortedVec(all)
    }
    #[inline(always)]
    fn get(&self, key: &K) -> Option<&V> {
        self.0
            .binary_search_by(|(k, _)| k.cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

const CONTENDERS: [&str; 5] = [
    "FrozenStore",
    "hashbrown",
    "IndexMap",
    "FzHashMap",
    "sorted Vec",
];
const HIT: usize = 0;
const MISS: usize = 1;
const BUILD: usize = 2;
const BYTES: usize = 3;

/// One cell's results: `value[contender][metric]` (ns per entry, bytes per
/// entry), the spread per metric, and the walk pair.
struct Cell {
    key: &'static str,
    value_size: usize,
    n: usize,
    plan: String,
    value: Vec<[f64; 4]>,
    spread: [f64; 3],
    /// `values()` ns per entry: FrozenStore, `Vec<V>`, spread.
    walk: Option<[f64; 3]>,
    /// Hits per key: FrozenStore's batched `get_many`, its `get`,
    /// hashbrown's `get`, and the same-code spread.
    batch: [f64; 4],
}

/// Url paths, as a router's table holds them: a few shared prefixes, then
/// ids: `/api/v2/users/8f3a1c/orders/17`. Absent keys differ only in the id.
fn url_keys(n: usize) -> Keys<String> {
    const ROOTS: [&str; 4] = ["/api/v2/users/", "/api/v2/teams/", "/static/img/", "/docs/"];
    let make = |i: u64| {
        let h = splitmix(i);
        format!(
            "{}{:x}/orders/{}",
            ROOTS[(h % 4) as usize],
            // Distinct for distinct i (an odd multiplier mod 2^32).
            (i as u32).wrapping_mul(0x9e37_79b1),
            h % 97
        )
    };
    keys_from(n, make)
}

/// Short identifiers, as a symbol table or a config holds them:
/// `user_id`, `max_retries_17`: 4 to 16 bytes.
fn ident_keys(n: usize) -> Keys<String> {
    const WORDS: [&str; 8] = [
        "user", "max", "id", "retry", "count", "name", "port", "timeout",
    ];
    let make = |i: u64| {
        let h = splitmix(i);
        let a = WORDS[(h % 8) as usize];
        let b = WORDS[((h >> 3) % 8) as usize];
        format!("{a}_{b}_{:x}", i)
    };
    keys_from(n, make)
}

/// `n` keys from `make(2i)` to insert (and shuffled), `n` absent ones from
/// `make(2i + 1)`.
fn keys_from<K: Clone>(n: usize, make: impl Fn(u64) -> K) -> Keys<K> {
    let insert: Vec<K> = (0..n as u64).map(|i| make(2 * i)).collect();
    let missing = (0..n as u64).map(|i| make(2 * i + 1)).collect();
    let shuffled = shuffle(&insert, 0x2545_f491_4f6c_dd1d);
    Keys {
        insert,
        shuffled,
        missing,
    }
}

fn items<K: Key, V: Value>(keys: &[K]) -> impl Iterator<Item = (K, V)> + '_ {
    keys.iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), V::make(i as u64)))
}

fn name_of<K, V, M: Frozen<K, V>>(_: &M) -> &'static str {
    M::NAME
}

/// Untimed passes before every timed lookup sample (unless
/// `MAPSTORE_FROZEN_COLD` is set): at least [`WARM_PASSES`], then more
/// while a pass is still faster than every one before it by more than
/// [`WARM_SETTLED`], up to [`WARM_PASSES_MAX`].
const WARM_PASSES: usize = 3;
/// A pass this much faster than the best before it (a fraction) means the
/// lookups are still warming up.
const WARM_SETTLED: f64 = 0.03;
/// At most this many untimed passes.
const WARM_PASSES_MAX: usize = 16;
static WARM: AtomicBool = AtomicBool::new(true);

/// Times `passes` passes of lookups of `keys`; ns per lookup. Unless
/// `MAPSTORE_FROZEN_COLD` is set, untimed passes over the same keys run
/// first, until a pass is no longer faster than the ones before it (at
/// least [`WARM_PASSES`]), so that each contender is timed in its own
/// steady state, whatever ran before it in the rotation. Without them (and
/// with one pass only) a contender's time depended on its predecessor: at
/// N = 1e5 with 64-byte values FrozenStore took 9.9 ns per hit right after
/// its own control slot and 17.7 ns after another map (hashbrown: 11.9),
/// which the same-code spread showed as 1.8-2.2. Three passes were not
/// always enough: after another map's lookups over 100 MB, the passes of
/// FrozenStore with 1 KiB values at N = 1e5 took 22, 20, 14, 11, 12, 10 ns
/// per hit and then 9-11, hashbrown's 35, 23, 13, 10.5 and then 9-11; the
/// fourth pass, timed after three, read 1.06-1.08 of hashbrown's time
/// (the rest of that cell's 1.6-1.8 in the full bench was the values'
/// 1024-byte stride, since padded: `docs/frozen.md`).
fn time_lookups<K: Key, V: Value, M: Frozen<K, V>>(map: &M, keys: &[K], passes: usize) -> f64 {
    let pass = || lookup_pass::<K, V, M>(map, keys);
    if WARM.load(Ordering::Relaxed) {
        let mut best = f64::INFINITY;
        for done in 0..WARM_PASSES_MAX {
            let start = Instant::now();
            black_box(pass());
            let t = start.elapsed().as_secs_f64();
            let settled = t >= best * (1.0 - WARM_SETTLED);
            best = best.min(t);
            if done + 1 >= WARM_PASSES && settled {
                break;
            }
        }
    }
    let start = Instant::now();
    let mut sum = 0u64;
    for _ in 0..passes {
        sum = sum.wrapping_add(pass());
    }
    black_box(sum);
    start.elapsed().as_nanos() as f64 / (passes * keys.len()) as f64
}

/// One pass of lookups: `get` of each key, summing the values' first
/// words. A function forced inline, not a closure: each contender's pass is
/// then compiled into its own `time_lookups`, where `map` is a reference
/// argument and LLVM keeps the map's fields in registers for the whole
/// loop, as in a user's loop over `get`. As a closure called four times it
/// was inlined for some contenders and key types and not for others:
/// FrozenStore's never (its `get` is larger), hashbrown's for `u64` keys
/// but not for `String` keys. Where it was not, every lookup reloaded the
/// map's fields (FrozenStore: seven loads and two layout tests per lookup
/// that hashbrown's hoisted `u64` loop did not pay), which cost FrozenStore
/// 15-35 % on `u64` hits and cost hashbrown about 12 % on url paths.
#[inline(always)]
fn lookup_pass<K: Key, V: Value, M: Frozen<K, V>>(map: &M, keys: &[K]) -> u64 {
    let mut sum = 0u64;
    for key in keys {
        if let Some(v) = map.get(black_box(key)) {
            sum = sum.wrapping_add(v.read());
        }
    }
    sum
}

/// Builds `M`, measuring its heap bytes per entry (keys' own heap excluded).
fn built<K: Key, V: Value, M: Frozen<K, V>>(keys: &Keys<K>) -> (M, f64) {
    malloc::trim();
    // The clones of the keys are made inside the meter too: count them
    // from the map's side by subtracting their heap. A clone's heap, not the
    // original's: a `String` made by `format!` may have spare capacity that
    // its clone does not (subtracting the originals' capacity took 19 bytes
    // per entry too many from every contender for url paths).
    let owned: usize = keys.insert.iter().map(|k| k.clone().heap_bytes()).sum();
    let meter = Meter::start();
    let map = M::build(items::<K, V>(&keys.insert));
    let live = meter.live() as f64 - owned as f64;
    assert_eq!(map.len(), keys.len());
    drop(meter);
    (map, live / keys.len() as f64)
}

fn cell<K: Key + Ord, V: Value + Clone>(label: &'static str, keys: Keys<K>, quick: bool) -> Cell {
    let n = keys.len();
    let rounds = match (quick, n) {
        (true, _) => 2,
        (false, n) if n <= 1_000 => 15,
        (false, n) if n <= 100_000 => 8,
        _ => 4,
    };
    let passes = (200_000 / n).max(1);
    // At most 200 000 lookups per sample (a random subset at N = 1e6: the
    // keys are shuffled), so that the sorted Vec's 3 µs String misses fit
    // in the time budget.
    let sample = n.min(200_000);
    let started = Instant::now();

    // Lookups.
    let (frozen, frozen_bytes) = built::<K, V, FrozenStore<K, V>>(&keys);
    let plan = frozen.plan().to_string();
    let (brown, brown_bytes) = built::<K, V, hashbrown::HashMap<K, V, DefaultHashBuilder>>(&keys);
    let (index, index_bytes) = built::<K, V, IndexMap<K, V, DefaultHashBuilder>>(&keys);
    let (fz, fz_bytes) = built::<K, V, FzHashMap<K, V, DefaultHashBuilder>>(&keys);
    let (sorted, sorted_bytes) = built::<K, V, SortedVec<K, V>>(&keys);
    let bytes = [
        frozen_bytes,
        brown_bytes,
        index_bytes,
        fz_bytes,
        sorted_bytes,
    ];
    let mut race = Race::new();
    macro_rules! lookups {
        ($map:expr) => {{
            let map = &$map;
            let keys = &keys;
            race.enter(name_of::<K, V, _>(map), move || {
                vec![
                    time_lookups::<K, V, _>(map, &keys.shuffled[..sample], passes),
                    time_lookups::<K, V, _>(map, &keys.missing[..sample], passes),
                ]
            })
        }};
    }
    let control = lookups!(frozen);
    lookups!(brown);
    lookups!(index);
    lookups!(fz);
    lookups!(sorted);
    race.control(control).warm_up();
    let lookups = race.run(rounds);

    // values() walk, where FrozenStore keeps values apart.
    let walk = frozen.plan().values_apart.then(|| {
        let vec: Vec<V> = frozen.values().cloned().collect();
        let walk_passes = (2_000_000 / n).max(1);
        let mut race = Race::new();
        let time = |f: &dyn Fn() -> u64| {
            let start = Instant::now();
            for _ in 0..walk_passes {
                black_box(f());
            }
            start.elapsed().as_nanos() as f64 / (walk_passes * n) as f64
        };
        let store = race.enter("FrozenStore", || {
            vec![time(&|| {
                frozen.values().fold(0u64, |s, v| s.wrapping_add(v.read()))
            })]
        });
        let plain = race.enter("Vec<V>", || {
            vec![time(&|| {
                vec.iter().fold(0u64, |s, v| s.wrapping_add(v.read()))
            })]
        });
        race.control(plain).warm_up();
        let s = race.run(rounds);
        [
            s.value(store, 0),
            s.value(plain, 0),
            s.spread(0).unwrap_or(1.0),
        ]
    });
    // The batched read against single lookups, hits in shuffled order.
    let batch = {
        let hits = &keys.shuffled[..sample];
        let time_many = |map: &FrozenStore<K, V>| {
            let start = Instant::now();
            let mut sum = 0u64;
            for _ in 0..passes {
                for v in map.get_many(black_box(hits)).flatten() {
                    sum = sum.wrapping_add(v.read());
                }
            }
            black_box(sum);
            start.elapsed().as_nanos() as f64 / (passes * hits.len()) as f64
        };
        let mut race = Race::new();
        let many = race.enter("get_many", || vec![time_many(&frozen)]);
        let single = race.enter("FrozenStore", || {
            vec![time_lookups::<K, V, _>(&frozen, hits, passes)]
        });
        let brown_get = race.enter("hashbrown", || {
            vec![time_lookups::<K, V, _>(&brown, hits, passes)]
        });
        race.control(many).warm_up();
        let s = race.run(rounds);
        [
            s.value(many, 0)
                .max(s.control.as_ref().map_or(0.0, |c| c.best[0])),
            s.value(single, 0),
            s.value(brown_get, 0),
            s.spread(0).unwrap_or(1.0),
        ]
    };
    drop((frozen, brown, index, fz, sorted));
    malloc::trim();

    // Builds (one map alive at a time).
    let build_rounds = if n >= 1_000_000 { 2 } else { rounds.min(5) };
    let mut race = Race::new();
    macro_rules! builds {
        ($map:ty) => {{
            let keys = &keys;
            race.enter(<$map as Frozen<K, V>>::NAME, move || {
                let start = Instant::now();
                let map = <$map as Frozen<K, V>>::build(items::<K, V>(&keys.insert));
                let ns = start.elapsed().as_nanos() as f64 / n as f64;
                drop(black_box(map));
                vec![ns]
            })
        }};
    }
    let control = builds!(FrozenStore<K, V>);
    builds!(hashbrown::HashMap<K, V, DefaultHashBuilder>);
    builds!(IndexMap<K, V, DefaultHashBuilder>);
    builds!(FzHashMap<K, V, DefaultHashBuilder>);
    builds!(SortedVec<K, V>);
    race.control(control);
    let builds = race.run(build_rounds);

    // FrozenStore's number is the worse of its two slots: in the rotation its
    // first slot nearly always runs right after its control slot, on the same
    // data, so a cache-sized table is still warm for it; its control slot,
    // like every other entrant, follows a different map.
    let worse = |standings: &mapstore_testkit::race::Standings, c: usize, m: usize| {
        let v = standings.value(c, m);
        match &standings.control {
            Some(control) if control.of == c => v.max(control.best[m]),
            _ => v,
        }
    };
    let value = (0..CONTENDERS.len())
        .map(|c| {
            [
                worse(&lookups, c, 0),
                worse(&lookups, c, 1),
                worse(&builds, c, 0),
                bytes[c],
            ]
        })
        .collect();
    let cell = Cell {
        key: label,
        value_size: size_of::<V>(),
        n,
        plan,
        value,
        spread: [
            lookups.spread(0).unwrap_or(1.0),
            lookups.spread(1).unwrap_or(1.0),
            builds.spread(0).unwrap_or(1.0),
        ],
        walk,
        batch,
    };
    report(&cell, started.elapsed().as_secs_f64());
    cell
}

fn report(cell: &Cell, seconds: f64) {
    println!(
        "\n{} keys, {}-byte values, N = {} ({seconds:.1} s)\n  {}",
        cell.key, cell.value_size, cell.n, cell.plan
    );
    println!(
        "  {:<12} {:>9} {:>9} {:>9} {:>9}   {:>7} {:>7} {:>7}",
        "", "hit ns", "miss ns", "build ns", "bytes/e", "hit x", "miss x", "build x"
    );
    let f = &cell.value[0];
    for (c, name) in CONTENDERS.iter().enumerate() {
        let v = &cell.value[c];
        println!(
            "  {:<12} {:>9.2} {:>9.2} {:>9.1} {:>9.1}   {:>7.2} {:>7.2} {:>7.2}",
            name,
            v[HIT],
            v[MISS],
            v[BUILD],
            v[BYTES],
            v[HIT] / f[HIT],
            v[MISS] / f[MISS],
            v[BUILD] / f[BUILD]
        );
    }
    println!(
        "  same-code spread (FrozenStore twice): hit {:.3}x miss {:.3}x build {:.3}x",
        cell.spread[0], cell.spread[1], cell.spread[2]
    );
    let [many, single, brown, spread] = cell.batch;
    println!(
        "  batched hits: get_many {many:.2} ns/key, get {single:.2}, hashbrown get {brown:.2}: get_many/hashbrown {:.3}x (spread {spread:.3}x)",
        many / brown
    );
    if let Some([store, vec, spread]) = cell.walk {
        println!(
            "  values() walk: FrozenStore {store:.3} ns, Vec<V> {vec:.3} ns: {:.3}x (spread {spread:.3}x)",
            store / vec
        );
    }
}

fn csv(cells: &[Cell]) -> String {
    let mut out = String::from(
        "key,value_size,n,contender,hit_ns,miss_ns,build_ns,bytes_per_entry,hit_vs_frozen,miss_vs_frozen,build_vs_frozen,spread_hit,spread_miss,spread_build,walk_frozen_ns,walk_vec_ns,walk_spread,many_ns,many_spread\n",
    );
    for cell in cells {
        let f = &cell.value[0];
        for (c, name) in CONTENDERS.iter().enumerate() {
            let v = &cell.value[c];
            let walk = match (c, cell.walk) {
                (0, Some([a, b, s])) => format!("{a:.3},{b:.3},{s:.3}"),
                _ => ",,".to_string(),
            };
            let walk = match c {
                0 => format!("{walk},{:.3},{:.3}", cell.batch[0], cell.batch[3]),
                _ => format!("{walk},,"),
            };
            writeln!(
                out,
                "{},{},{},{},{:.3},{:.3},{:.2},{:.2},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{}",
                cell.key,
                cell.value_size,
                cell.n,
                name,
                v[HIT],
                v[MISS],
                v[BUILD],
                v[BYTES],
                v[HIT] / f[HIT],
                v[MISS] / f[MISS],
                v[BUILD] / f[BUILD],
                cell.spread[0],
                cell.spread[1],
                cell.spread[2],
                walk
            )
            .expect("writing to a String");
        }
    }
    out
}

/// Bars: how many times faster FrozenStore's hits are than each contender's
/// (contender time / FrozenStore time), per cell; lines at 1.0 and 1.3.
fn svg(cells: &[Cell]) -> String {
    let colors = ["#999", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
    let (w, h, left, top, bottom) = (1100.0, 420.0, 50.0, 40.0, 90.0);
    let plot_h = h - top - bottom;
    let max = cells
        .iter()
        .flat_map(|c| (1..5).map(move |i| c.value[i][HIT] / c.value[0][HIT]))
        .fold(2.0f64, f64::max)
        .min(8.0);
    let y = |v: f64| top + plot_h * (1.0 - v.min(max) / max);
    let group = (w - left - 10.0) / cells.len() as f64;
    let bar = group / 5.5;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"10\">\n\
         <text x=\"{left}\" y=\"16\" font-size=\"13\">FrozenStore hit speedup: contender ns / FrozenStore ns per lookup (higher = FrozenStore faster)</text>\n"
    );
    for (i, name) in CONTENDERS.iter().enumerate().skip(1) {
        let x = left + 560.0 + 110.0 * (i - 1) as f64;
        writeln!(s, "<rect x=\"{x}\" y=\"22\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"31\">{name}</text>", colors[i], x + 14.0).unwrap();
    }
    for v in [1.0, 1.3, 2.0, 4.0, 8.0] {
        if v <= max {
            let dash = if v == 1.3 {
                " stroke-dasharray=\"4 3\""
            } else {
                ""
            };
            let (x2, yv, tx, ty) = (w - 10.0, y(v), left - 4.0, y(v) + 3.0);
            writeln!(s, "<line x1=\"{left}\" x2=\"{x2}\" y1=\"{yv:.1}\" y2=\"{yv:.1}\" stroke=\"#444\" stroke-width=\"0.6\"{dash}/><text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\">{v}x</text>").unwrap();
        }
    }
    for (g, cell) in cells.iter().enumerate() {
        let x0 = left + group * g as f64 + bar * 0.5;
        for i in 1..5 {
            let r = cell.value[i][HIT] / cell.value[0][HIT];
            let x = x0 + bar * (i - 1) as f64;
            writeln!(s, "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{} {}B N={} vs {}: {r:.2}x</title></rect>", y(r), bar * 0.9, y(0.0) - y(r), colors[i], cell.key, cell.value_size, cell.n, CONTENDERS[i]).unwrap();
        }
        let n = match cell.n {
            1_000 => "1e3".to_string(),
            100_000 => "1e5".to_string(),
            1_000_000 => "1e6".to_string(),
            n => n.to_string(),
        };
        let tx = x0 + bar * 2.0;
        let ty = h - bottom + 12.0;
        writeln!(s, "<text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\" transform=\"rotate(-60 {tx:.1} {ty:.1})\">{} {}B {n}</text>", cell.key, cell.value_size).unwrap();
    }
    s.push_str("</svg>\n");
    s
}

/// The lookup loop that `valgrind --tool=callgrind --toggle-collect=*probe_loop*`
/// counts: one [`lookup_pass`] (the race's loop, inlined here) over `keys`.
#[inline(never)]
fn probe_loop<K: Key, V: Value, M: Frozen<K, V>>(map: &M, keys: &[K]) -> u64 {
    lookup_pass::<K, V, M>(map, keys)
}

/// The build that `--toggle-collect=*probe_build*` counts (`build` in
/// `MAPSTORE_FROZEN_PROBE`): collecting the pairs, as the build race does.
#[inline(never)]
fn probe_build<K: Key, V: Value, M: Frozen<K, V>>(keys: &[K]) -> usize {
    let map = M::build(items::<K, V>(keys));
    black_box(&map).len()
}

/// `MAPSTORE_FROZEN_PROBE=<contender>,<hit|miss|build>,<keys>,<n>`: builds one
/// contender (`frozen` or `hashbrown`) over `n` keys of one set (`u64`,
/// `string`, `url`, `ident`) with 8-byte values and runs [`probe_loop`]
/// once over the shuffled keys (hit) or the absent ones (miss), for
/// instruction counts:
///
/// ```sh
/// MAPSTORE_FROZEN_PROBE=frozen,hit,u64,1000 valgrind --tool=callgrind \
///     --toggle-collect='*probe_loop*' target/release/deps/frozen-<hash> --bench
/// ```
///
/// Instructions per lookup: the `Ir` total over `n`.
fn probe(spec: &str) {
    let parts: Vec<&str> = spec.split(',').collect();
    let [who, what, set, n] = parts[..] else {
        panic!(
            "MAPSTORE_FROZEN_PROBE=<frozen|hashbrown|fz>,<hit|miss|build>,<u64|string|url|ident>,<n>"
        );
    };
    let n: usize = n.parse().expect("n");
    fn run<K: Key, M: Frozen<K, Pod<8>>>(keys: &Keys<K>, what: &str) {
        if what == "build" {
            let len = probe_build::<K, Pod<8>, M>(&keys.insert);
            println!("{} build: {len} entries", M::NAME);
            return;
        }
        let map = M::build(items::<K, Pod<8>>(&keys.insert));
        let keys = if what == "hit" {
            &keys.shuffled
        } else {
            &keys.missing
        };
        let sum = probe_loop::<K, Pod<8>, M>(&map, keys);
        println!("{} {what}: {} lookups (sum {sum})", M::NAME, keys.len());
    }
    macro_rules! on {
        ($keys:expr, $k:ty) => {
            match who {
                "frozen" => run::<$k, FrozenStore<$k, Pod<8>>>(&$keys, what),
                "hashbrown" => {
                    run::<$k, hashbrown::HashMap<$k, Pod<8>, DefaultHashBuilder>>(&$keys, what)
                }
                "fz" => run::<$k, FzHashMap<$k, Pod<8>, DefaultHashBuilder>>(&$keys, what),
                _ => panic!("contender: frozen, hashbrown or fz"),
            }
        };
    }
    match set {
        "u64" => on!(Keys::<u64>::new(n), u64),
        "string" => on!(Keys::<String>::new(n), String),
        "url" => on!(url_keys(n), String),
        "ident" => on!(ident_keys(n), String),
        _ => panic!("key set: u64, string, url or ident"),
    }
}

fn main() {
    if let Ok(spec) = std::env::var("MAPSTORE_FROZEN_PROBE") {
        probe(&spec);
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    // Criterion's rule: quick with `--test`, or without `--bench`.
    let quick = args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench");
    let only = std::env::var("MAPSTORE_FROZEN_ONLY").ok();
    if std::env::var_os("MAPSTORE_FROZEN_COLD").is_some() {
        WARM.store(false, Ordering::Relaxed);
    }
    malloc::pin();
    let custom: Option<Vec<usize>> = std::env::var("MAPSTORE_FROZEN_N").ok().map(|ns| {
        ns.split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .expect("MAPSTORE_FROZEN_N: sizes separated by commas")
            })
            .collect()
    });
    let ns: &[usize] = match &custom {
        Some(ns) => ns,
        None if quick => &[1_000],
        None => &[1_000, 100_000, 1_000_000],
    };
    let started = Instant::now();
    let mut cells = Vec::new();
    for &n in ns {
        macro_rules! run {
            ($k:ty, $v:ty) => {
                run!($k, $v, <$k as Key>::LABEL, Keys::<$k>::new(n));
            };
            ($k:ty, $v:ty, $label:expr, $keys:expr) => {
                let name = format!("{}-{}-{}", $label, size_of::<$v>(), n);
                let anchored = format!("{name}$");
                if only
                    .as_ref()
                    .is_none_or(|o| o.split(',').any(|o| anchored.contains(o)))
                {
                    cells.push(cell::<$k, $v>($label, $keys, quick));
                }
            };
        }
        run!(u64, Pod<8>);
        run!(u64, Pod<64>);
        run!(u64, Pod<256>);
        run!(u64, Pod<1024>);
        run!(String, Pod<8>);
        run!(String, Pod<64>);
        run!(String, Pod<256>);
        run!(String, Pod<1024>);
        run!(String, Pod<8>, "url", url_keys(n));
        run!(String, Pod<64>, "url", url_keys(n));
        run!(String, Pod<8>, "ident", ident_keys(n));
        run!(String, Pod<64>, "ident", ident_keys(n));
    }
    println!("\ntotal {:.1} s", started.elapsed().as_secs_f64());
    if quick {
        println!(
            "quick mode: N = 1000, 2 rounds, nothing written; a smoke test, not a measurement"
        );
    } else if only.is_none() && custom.is_none() {
        std::fs::write("docs/frozen.csv", csv(&cells)).expect("writing docs/frozen.csv");
        std::fs::write("docs/frozen_hits.svg", svg(&cells)).expect("writing docs/frozen_hits.svg");
        println!("wrote docs/frozen.csv and docs/frozen_hits.svg");
    }
}
