//! FrozenStore at tiny sizes, small enough for Miri: its `unsafe` code (the
//! scatters that move entries to their slots) runs for every layout
//! (inline pairs, keys and values apart, the sorted fallback), with
//! heap-owning keys and values so that a double drop or a leak shows.
//!
//! `.ci/frozen.sh` runs it under Miri; natively it is part of
//! `cargo test --workspace`.

use std::hash::{BuildHasher, Hasher};

use mapstore::{FrozenIndex, FrozenStore};

#[derive(Clone, Default)]
struct Constant;

impl BuildHasher for Constant {
    type Hasher = ConstantHasher;
    fn build_hasher(&self) -> ConstantHasher {
        ConstantHasher
    }
}

struct ConstantHasher;

impl Hasher for ConstantHasher {
    fn finish(&self) -> u64 {
        7
    }
    fn write(&mut self, _: &[u8]) {}
}

fn check<S: BuildHasher>(store: &FrozenStore<String, Vec<u64>, S>, n: u64, expect: FrozenIndex) {
    assert_eq!(store.len() as u64, n);
    if n > 8 {
        assert_eq!(store.plan().index, expect);
    }
    for i in 0..n {
        assert_eq!(store.get(i.to_string().as_str()), Some(&vec![i + 100; 3]));
    }
    assert_eq!(store.get("absent"), None);
}

#[test]
fn every_layout_moves_its_entries_soundly() {
    for n in [0u64, 1, 8, 9, 20, 40] {
        // Duplicates: the first value of each key is discarded.
        let items = || {
            (0..n)
                .map(|i| (i.to_string(), vec![i; 3]))
                .chain((0..n).map(|i| (i.to_string(), vec![i + 100; 3])))
        };
        let inline: FrozenStore<String, Vec<u64>> = items().collect();
        check(&inline, n, FrozenIndex::Perfect);
        assert!(!inline.plan().values_apart);
        let copy = inline.clone();
        assert_eq!(copy, inline);
        let mut all: Vec<(String, Vec<u64>)> = inline.into_iter().collect();
        all.sort();
        assert_eq!(all.len() as u64, n);

        let sorted = FrozenStore::from_iter_with_hasher(items(), Constant);
        check(&sorted, n, FrozenIndex::Sorted);
        drop(sorted);

        // Values over 64 bytes live apart from the keys.
        let apart: FrozenStore<String, [Vec<u64>; 3]> = (0..n)
            .map(|i| (i.to_string(), [vec![i], vec![i], vec![i]]))
            .collect();
        assert_eq!(apart.len() as u64, n);
        if n > 8 {
            assert!(apart.plan().values_apart);
        }
        for (k, v) in &apart {
            assert_eq!(v[2], vec![k.parse::<u64>().unwrap()]);
        }
        let mut iter = apart.into_iter();
        drop(iter.next());
        drop(iter);
    }
}
