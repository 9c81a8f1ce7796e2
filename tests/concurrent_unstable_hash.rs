//! Keys whose `Hash` changes while they are in a `ConcurrentStore`.
//!
//! As with std's `HashMap`, that is a logic error of the caller: lookups of
//! such keys may miss. It must not be more: no panic from the store's own
//! bookkeeping, no value shared by two entries, no value dropped twice or
//! never. A pooled value lives in the pool stripe its bucket's tag picks
//! when it is stored; growth and `reserve` rehash every key, and each
//! bucket keeps the tag it was stored with, so a value is always taken from
//! the stripe it was stored in.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mapstore::storage::{Inline, Pooled, Storage};
use mapstore::{ConcurrentStore, MapValue, Plan};

/// A key whose hash includes a salt that the test changes.
struct Key {
    id: u64,
    salt: Arc<AtomicU64>,
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.id, self.salt.load(Ordering::Relaxed)).hash(state);
    }
}
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Key {}

/// The values alive, by serial, and the drops of a value not alive.
#[derive(Default)]
struct Ledger {
    alive: Mutex<HashSet<u64>>,
    twice: AtomicU64,
}

/// A value that records its drop in the ledger (and knows its key).
struct Val<St> {
    key: u64,
    serial: u64,
    ledger: Arc<Ledger>,
    _pad: [u64; 8],
    _storage: std::marker::PhantomData<St>,
}

impl<St: Storage> MapValue for Val<St> {
    type Storage = St;
    const PLAN: Plan = Plan::of::<Self>("Val", &["ledger"]);
}

impl<St> Drop for Val<St> {
    fn drop(&mut self) {
        if !self.ledger.alive.lock().unwrap().remove(&self.serial) {
            self.ledger.twice.fetch_add(1, Ordering::Relaxed);
        }
    }
}

struct Fixture {
    salt: Arc<AtomicU64>,
    ledger: Arc<Ledger>,
    serial: u64,
}

impl Fixture {
    fn key(&self, id: u64) -> Key {
        Key {
            id,
            salt: self.salt.clone(),
        }
    }
    fn val<St>(&mut self, key: u64) -> Val<St> {
        self.serial += 1;
        self.ledger.alive.lock().unwrap().insert(self.serial);
        Val {
            key,
            serial: self.serial,
            ledger: self.ledger.clone(),
            _pad: [key; 8],
            _storage: std::marker::PhantomData,
        }
    }
}

/// Every entry holds its own key's value.
fn entries_hold_their_values<St: Storage>(store: &ConcurrentStore<Key, Val<St>>) {
    let mut n = 0;
    for entry in store.iter() {
        assert_eq!(
            entry.value().key,
            entry.key().id,
            "a value moved to another key"
        );
        n += 1;
    }
    assert_eq!(n, store.len());
}

/// Keys per step: fewer under Miri, still enough to grow the table.
const STEP: u64 = if cfg!(miri) { 200 } else { 4_000 };

fn rehashed_keys<St: Storage>(rebuild: fn(&mut ConcurrentStore<Key, Val<St>>)) {
    let mut fx = Fixture {
        salt: Arc::new(AtomicU64::new(0)),
        ledger: Arc::new(Ledger::default()),
        serial: 0,
    };
    let mut store: ConcurrentStore<Key, Val<St>> = ConcurrentStore::new();
    for id in 0..STEP {
        store.insert(fx.key(id), fx.val(id));
    }
    // Every stored key hashes differently from now on.
    fx.salt.store(1, Ordering::Relaxed);
    // Growth: the migrations rehash the stored keys.
    for id in 100_000..100_000 + 2 * STEP {
        store.insert(fx.key(id), fx.val(id));
    }
    rebuild(&mut store);
    entries_hold_their_values(&store);
    // Removes of the old keys (most miss: their hash changed) and of new
    // ones, then more inserts into the freed slots.
    for id in (0..STEP)
        .step_by(7)
        .chain((100_000..100_000 + 2 * STEP).step_by(3))
    {
        drop(store.remove(&fx.key(id)));
    }
    for id in 200_000..200_000 + STEP {
        store.insert(fx.key(id), fx.val(id));
    }
    entries_hold_their_values(&store);
    // Takes by walking (no hashing): the old keys' values leave from the
    // stripes they were stored in.
    store.retain(|k, _| k.id % 5 != 0);
    entries_hold_their_values(&store);
    let alive = fx.ledger.alive.lock().unwrap().len();
    assert_eq!(alive, store.len(), "values alive outside the store");
    drop(store);
    assert_eq!(
        fx.ledger.twice.load(Ordering::Relaxed),
        0,
        "a value was dropped twice"
    );
    assert!(
        fx.ledger.alive.lock().unwrap().is_empty(),
        "a value was never dropped"
    );
}

#[test]
fn pooled_values_survive_keys_whose_hash_changes_during_growth() {
    rehashed_keys::<Pooled>(|_| {});
}

#[test]
fn pooled_values_survive_keys_whose_hash_changes_before_a_rebuild() {
    rehashed_keys::<Pooled>(|store| store.shrink_to_fit());
}

#[test]
fn inline_values_survive_keys_whose_hash_changes() {
    rehashed_keys::<Inline>(|store| store.shrink_to_fit());
}
