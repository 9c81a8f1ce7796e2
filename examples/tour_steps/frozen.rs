//! Tour step: freeze a store of a derived type, print the layout it picked,
//! and race it against hashbrown's `HashMap` (same hasher) and a sorted
//! slice searched by binary search.

use std::hint::black_box;
use std::time::Instant;

use mapstore::{FrozenStore, MapStore};
use mapstore_testkit::data::{shuffle, splitmix};
use mapstore_testkit::race::Race;

/// A permission grant: 24 bytes, pointer-free, so `MapStore` keeps it
/// inline.
#[derive(MapStore, Clone, Debug, PartialEq)]
pub struct Grant {
    pub role: u32,
    pub flags: u32,
    pub expires: u64,
    pub quota: u64,
}

/// Entries in the frozen table, lookups per timed sample.
const ENTRIES: u64 = 100_000;
const PASSES: usize = 3;
const ROUNDS: usize = 7;

fn time(lookup: &dyn Fn(&u64) -> Option<u64>, keys: &[u64]) -> f64 {
    let start = Instant::now();
    let mut sum = 0u64;
    for _ in 0..PASSES {
        for key in keys {
            sum = sum.wrapping_add(lookup(black_box(key)).unwrap_or(1));
        }
    }
    black_box(sum);
    start.elapsed().as_nanos() as f64 / (PASSES * keys.len()) as f64
}

pub fn run() {
    println!(
        "\n5. Built once, then only read: FrozenStore. A permission table of {ENTRIES} grants,"
    );
    println!("   filled as a MapStore, then frozen: its layout is picked from the key, the value");
    println!("   and the exact N, with no empty buckets.\n");

    let mut grants: MapStore<u64, Grant> = MapStore::new();
    for i in 0..ENTRIES {
        let grant = Grant {
            role: (i % 7) as u32,
            flags: (i % 3) as u32,
            expires: 1_700_000_000 + i,
            quota: i * 10,
        };
        grants.insert(splitmix(i), grant);
    }
    let keys: Vec<u64> = shuffle(&grants.keys().copied().collect::<Vec<_>>(), 7);
    let brown: hashbrown::HashMap<u64, Grant> =
        grants.iter().map(|(k, v)| (*k, v.clone())).collect();
    let mut sorted: Vec<(u64, Grant)> = grants.iter().map(|(k, v)| (*k, v.clone())).collect();
    sorted.sort_unstable_by_key(|(k, _)| *k);

    // Keys that are not in the table, for the misses.
    let misses: Vec<u64> = (ENTRIES..)
        .map(splitmix)
        .filter(|k| !grants.contains_key(k))
        .take(keys.len())
        .collect();
    let frozen = FrozenStore::from(grants);
    println!("  {}\n", frozen.plan());
    assert_eq!(frozen.len(), brown.len());
    assert!(keys.iter().all(|k| frozen.get(k) == brown.get(k)));

    let mut race = Race::new();
    // Each entrant: hits, then misses.
    let both =
        |lookup: &dyn Fn(&u64) -> Option<u64>| vec![time(lookup, &keys), time(lookup, &misses)];
    let store = race.enter("FrozenStore", || both(&|k| frozen.get(k).map(|g| g.quota)));
    let map = race.enter("hashbrown HashMap", || {
        both(&|k| brown.get(k).map(|g| g.quota))
    });
    let slice = race.enter("sorted slice", || {
        both(&|k| {
            sorted
                .binary_search_by_key(k, |(key, _)| *key)
                .ok()
                .map(|i| sorted[i].1.quota)
        })
    });
    race.control(store).warm_up();
    let standings = race.run(ROUNDS);
    // FrozenStore's number is the worse of its two slots: its first slot
    // usually runs right after its control slot, on the same data, and finds
    // the table warm in cache; the control slot follows another map, as
    // every other entrant does.
    let ns_of = |who: usize, metric: usize| {
        let ns = standings.value(who, metric);
        match &standings.control {
            Some(control) if control.of == who => ns.max(control.best[metric]),
            _ => ns,
        }
    };
    let per_entry = |bytes: usize| bytes as f64 / ENTRIES as f64;
    let bytes = [
        per_entry(frozen.memory_usage()),
        per_entry(brown.allocation_size()),
        per_entry(sorted.capacity() * std::mem::size_of::<(u64, Grant)>()),
    ];
    println!("   ns per lookup, keys in shuffled order (min of {ROUNDS} rounds, interleaved; for");
    println!("   FrozenStore the worse of its two slots); ratio = time / FrozenStore's time:");
    println!("                          hits             misses          heap bytes/entry");
    for (who, bytes) in [store, map, slice].into_iter().zip(bytes) {
        let (hit, miss) = (ns_of(who, 0), ns_of(who, 1));
        println!(
            "     {:<18} {hit:>7.2} {:>5.2}x    {miss:>7.2} {:>5.2}x    {bytes:>6.1}",
            standings.names[who],
            hit / ns_of(store, 0),
            miss / ns_of(store, 1),
        );
    }
    println!(
        "   same code timed twice (FrozenStore): hits {:.3}x, misses {:.3}x apart; ratios closer",
        standings.spread(0).unwrap_or(1.0),
        standings.spread(1).unwrap_or(1.0)
    );
    // The verdict follows from the numbers above, whichever way they went.
    let spread = |metric: usize| standings.spread(metric).unwrap_or(1.0);
    let verdict = |metric: usize, what: &str| {
        let ratio = ns_of(map, metric) / ns_of(store, metric);
        if ratio > spread(metric) {
            format!("FrozenStore's {what} are {ratio:.2}x faster")
        } else if 1.0 / ratio > spread(metric) {
            format!("hashbrown's {what} are {:.2}x faster", 1.0 / ratio)
        } else {
            format!("{what} are even within the noise")
        }
    };
    println!(
        "   to 1 than that are noise. Against hashbrown here: {}; {}; FrozenStore holds",
        verdict(0, "hits"),
        verdict(1, "misses")
    );
    println!(
        "   {:.2}x hashbrown's heap bytes per entry.",
        bytes[0] / bytes[1]
    );
    println!(
        "   The full comparison (IndexMap, frozen-collections, String keys, more sizes, build"
    );
    println!("   time): cargo bench --bench frozen, results in docs/frozen.md.\n");
}
