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

fn time(mut lookup: impl FnMut(&u64) -> Option<u64>, keys: &[u64]) -> f64 {
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
    println!("4. Built once, then only read: FrozenStore. A permission table of {ENTRIES} grants,");
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

    let frozen = FrozenStore::from(grants);
    println!("  {}\n", frozen.plan());
    assert_eq!(frozen.len(), brown.len());
    assert!(keys.iter().all(|k| frozen.get(k) == brown.get(k)));

    let mut race = Race::new();
    let store = race.enter("FrozenStore", || {
        vec![time(|k| frozen.get(k).map(|g| g.quota), &keys)]
    });
    let map = race.enter("hashbrown HashMap", || {
        vec![time(|k| brown.get(k).map(|g| g.quota), &keys)]
    });
    let slice = race.enter("sorted slice", || {
        vec![time(
            |k| {
                sorted
                    .binary_search_by_key(k, |(key, _)| *key)
                    .ok()
                    .map(|i| sorted[i].1.quota)
            },
            &keys,
        )]
    });
    race.control(store).warm_up();
    let standings = race.run(ROUNDS);
    // FrozenStore's number is the worse of its two slots: its first slot
    // usually runs right after its control slot, on the same data, and finds
    // the table warm in cache; the control slot follows another map, as
    // every other entrant does.
    let ns_of = |who: usize| {
        let ns = standings.value(who, 0);
        match &standings.control {
            Some(control) if control.of == who => ns.max(control.best[0]),
            _ => ns,
        }
    };
    let base = ns_of(store);
    println!("   hits in shuffled order, ns per lookup (min of {ROUNDS} rounds, interleaved; for");
    println!("   FrozenStore the worse of its two slots):");
    for who in [store, map, slice] {
        let ns = ns_of(who);
        println!(
            "     {:<18} {ns:>7.2} ns   {:>5.2}x FrozenStore's time",
            standings.names[who],
            ns / base
        );
    }
    println!(
        "   same code timed twice (FrozenStore): {:.3}x apart; ratios closer to 1 than that are noise.",
        standings.spread(0).unwrap_or(1.0)
    );
    println!(
        "   The full comparison (IndexMap, frozen-collections, String keys, misses, build time,"
    );
    println!("   bytes): cargo bench --bench frozen, results in docs/frozen.md.\n");
}
