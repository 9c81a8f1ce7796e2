//! [`ConcurrentStore`]: a map shared between threads through `&self`, whose
//! shards store values the way `V::Storage` says.
//!
//! # Design
//!
//! The store is a power-of-two array of shards, each a [`Map`] (the same
//! table and side storage as every [`MapStore`](type@crate::MapStore), with no hasher of its own)
//! behind its own `std::sync::RwLock`, each lock on its own 128-byte line so
//! that two shards never share a cache line. A key is hashed once, by the
//! store's `S`; the bits just below hashbrown's 7-bit tag pick the shard, and
//! the same hash probes the shard's table, so no key is hashed twice. The
//! default shard count is four per available core, rounded up to a power of
//! two (8 on a 2-core machine), as DashMap's.
//!
//! Why sharded locks and not a lock-free table (measured by
//! `benches/concurrent.rs` on 2 cores against DashMap 6, papaya, scc and
//! `RwLock<HashMap>`; table in `docs/concurrent.md`): a shard *is* a
//! `MapStore`, so large values live in that shard's pool, with no
//! allocation per insert and no value moved while the shard grows. That
//! makes growing a store of 128-512 B values 1.7-4.8x faster than DashMap
//! (whose resizes move every inline value under the shard's write lock) and
//! 2-5x faster than papaya, which allocates a node per entry, while 16-byte
//! values stay inline and tie DashMap (0.93-1.07x). A lock-free table would
//! need epoch reclamation of pool slots and `unsafe` throughout for no
//! measured gain at this core count. The cost of any lock, measured: its
//! locked instruction keeps the cache misses of one operation from
//! overlapping the next, so cold pooled values (a second dependent miss)
//! read and overwrite at 0.6-0.9x DashMap's speed; a type read far more
//! than written can ask the derive for `optimize = "reads"` (inline up to
//! 256 bytes, 96 if it owns heap memory) and keep its values in the buckets.
//! std's lock is futex-based (one atomic instruction to take, one to
//! release, uncontended) and needs no dependency; a poisoned lock is simply
//! recovered, because every operation on a shard leaves it consistent when
//! a user's closure, `Hash`, `Eq` or `Drop` panics. The store itself has no
//! `unsafe`: a guard keeps its shard's lock guard and a bucket index.
//!
//! # Blocking and deadlocks
//!
//! Each operation takes at most one shard's lock at a time and releases it
//! before it returns, unless it returns a guard. An operation *blocks* while
//! another thread holds a conflicting lock on the shard of its key:
//!
//! - reads ([`get`](ConcurrentStore::get), [`read`](ConcurrentStore::read),
//!   [`contains_key`](ConcurrentStore::contains_key), [`len`](ConcurrentStore::len),
//!   [`iter`](ConcurrentStore::iter)) wait while a writer holds that shard,
//!   or waits for it (std's lock lets a queued writer go first);
//! - writes ([`insert`](ConcurrentStore::insert), [`remove`](ConcurrentStore::remove),
//!   [`get_mut`](ConcurrentStore::get_mut), [`entry`](ConcurrentStore::entry),
//!   [`retain`](ConcurrentStore::retain), [`clear`](ConcurrentStore::clear))
//!   wait for readers and writers of that shard.
//!
//! Keys and values that leave the store are dropped after the shard's lock
//! is released, so their `Drop` may call the store: removed and replaced
//! values (returned by [`remove`](ConcurrentStore::remove) and
//! [`insert`](ConcurrentStore::insert), kept by the guard of an occupied
//! [`Entry::insert`] until it is dropped), the entries
//! [`retain`](ConcurrentStore::retain) and [`clear`](ConcurrentStore::clear)
//! remove, the key given to `insert` or `entry` for a key already present
//! (the stored key stays, as in std), and an unused
//! [`or_insert`](Entry::or_insert) default. What runs under the lock: the
//! closures given to `read`, `retain` and an entry's `or_insert_with*` and
//! `and_modify` (and their drop, with what they captured), keys' `Hash` and
//! `Eq`, and the drops of a call that unwinds from a panic under the lock.
//!
//! Without guards held, and with no store call from those, nothing
//! deadlocks. With guards ([`Ref`], [`RefMut`],
//! an [`Entry`], and an [`iter`](ConcurrentStore::iter) itself: the iterator
//! holds the read lock of the shard it is in until it moves past that shard,
//! and its items hold it until the last of them is dropped), exactly
//! DashMap's rules:
//!
//! - a thread **deadlocks** if it calls the store on a key of a shard it
//!   holds a guard into, or calls back into the store from a closure it
//!   passed to it (or from its keys' `Hash`/`Eq`) on the same shard: even a
//!   second read may wait forever, because a writer queued behind the first
//!   read goes first. Calls that visit every shard ([`len`](ConcurrentStore::len),
//!   [`is_empty`](ConcurrentStore::is_empty),
//!   [`memory_usage`](ConcurrentStore::memory_usage),
//!   [`iter`](ConcurrentStore::iter), [`retain`](ConcurrentStore::retain),
//!   [`clear`](ConcurrentStore::clear), `Debug`) visit the held one too, so
//!   they deadlock under any guard of the same thread: writes always, reads
//!   under a [`RefMut`] or [`Entry`], or under a [`Ref`] once another thread
//!   waits to write that shard. So does writing while iterating:
//!   `for k in store.iter().map(|r| *r.key()) { store.remove(&k); }` waits
//!   for the iterator's own lock (collect the keys first);
//! - two threads **deadlock** if each holds a guard and then waits for the
//!   other's shard, as with any two locks taken in opposite orders (for
//!   example a thread iterating, holding items of one shard, while another
//!   holds a [`RefMut`] into the next and writes the first).
//!
//! **Panics under a lock.** A panic inside the closure of `and_modify`,
//! `or_insert_with*` or `retain`, or while a `get_mut`/`entry` guard is
//! being written through, unwinds and releases the lock; the shard's table
//! stays consistent, but the value keeps whatever was written before the
//! panic. The lock's poison is cleared silently, so no later caller can tell
//! that a value is half-updated: where that matters, build the new value
//! first and store it whole (`insert`, or `*guard = new_value`).
//!
//! [`read`](ConcurrentStore::read) holds nothing once it returns: prefer it
//! where a guard could live too long, keep guards short, and never hold one
//! across an `.await` (guards are not `Send`).
//! [`shard_of`](ConcurrentStore::shard_of) tells which keys share a lock.
//!
//! **The rule: never call the store on a shard your thread holds** (through
//! a live `Ref`, `RefMut`, `Entry` or `iter()`, or from inside a closure you
//! gave the store): drop the guard first, or use `read`. In debug builds
//! (`debug_assertions`) each thread keeps a record of the shards it holds,
//! and an operation that would lock one of them again panics instead of
//! hanging, with a message naming what holds the shard (for example "a `Ref`
//! from `get`") and the fix. The check covers every lock the store takes on
//! `&self`, reads included, so it also panics where a second read would only
//! hang once another thread queues to write. Release builds keep no record
//! and hang as described above.
//!
//! ```should_panic
//! let store: mapstore::ConcurrentStore<u32, u32> = [(1, 1)].into_iter().collect();
//! if let Some(v) = store.get(&1) {
//!     // Debug builds: "ConcurrentStore::insert would lock shard .., which this
//!     // thread already holds through a `Ref` from `get` ..."
//!     # #[cfg(not(debug_assertions))] panic!("release builds would hang here");
//!     store.insert(1, *v + 1);
//! };
//! ```
//!
//! The fix: `store.read(&1, |v| *v)` to copy the value out, then write.
//!
//! ```
//! let store: mapstore::ConcurrentStore<u32, u32> = [(1, 1)].into_iter().collect();
//! if let Some(v) = store.read(&1, |v| *v) {
//!     store.insert(1, v + 1);
//! }
//! *store.get_mut(&1).unwrap() += 1; // or one guard that writes
//! assert_eq!(store.read(&1, |v| *v), Some(3));
//! ```
//!
//! ```
//! use mapstore::ConcurrentStore;
//!
//! let hits: ConcurrentStore<&str, u64> = ConcurrentStore::new();
//! std::thread::scope(|s| {
//!     for _ in 0..2 {
//!         s.spawn(|| {
//!             for _ in 0..1000 {
//!                 *hits.entry("home").or_insert(0) += 1;
//!             }
//!         });
//!     }
//! });
//! assert_eq!(hits.read("home", |n| *n), Some(2000));
//! ```

#![forbid(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use std::sync::PoisonError;

use hashbrown::{hash_table, DefaultHashBuilder, Equivalent};

use crate::map::{equivalent, hasher, make_hash, reserve_table, unwrap_reserve, Map};
use crate::storage::Storage;
use crate::StorageKind;
// The storage operations (crate-private), through the `Storage` bound.
use crate::storage::StorageOps as Ops;
use crate::{MapStore, MapValue};

#[cfg(mapstore_loom)]
use loom::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
#[cfg(not(mapstore_loom))]
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// One shard: a map with no hasher of its own (the store hashes).
type Shard<K, V> = Map<K, V, <V as MapValue>::Storage, ()>;
type ReadGuard<'a, K, V> = Locked<RwLockReadGuard<'a, Shard<K, V>>>;
type WriteGuard<'a, K, V> = Locked<RwLockWriteGuard<'a, Shard<K, V>>>;
/// A shard behind its lock, alone on its cache lines.
type Slot<K, V> = Padded<RwLock<Shard<K, V>>>;

/// A value alone on its cache lines (128 bytes: x86's spatial prefetcher
/// pulls lines in pairs).
#[repr(align(128))]
struct Padded<T>(T);

/// Locks a shard for reading. A lock poisoned by a panic is recovered: every
/// operation leaves its shard consistent when it unwinds.
#[inline]
fn read_lock<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Locks a shard for writing, recovering a poisoned lock (see [`read_lock`]).
#[inline]
fn write_lock<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    match lock.write() {
        Ok(guard) => guard,
        Err(poisoned) => {
            #[cfg(not(mapstore_loom))]
            lock.clear_poison();
            poisoned.into_inner()
        }
    }
}

/// A shard's lock guard and, in debug builds, this thread's record that it
/// holds that shard (removed when the guard is dropped). Every lock the store
/// takes on `&self` is one of these.
///
/// Not `Send`, whatever the lock's own guard is: a lock is released by the
/// thread that took it, and the record belongs to that thread. `Sync` when
/// the guard is, as std's guards are.
struct Locked<G> {
    guard: G,
    #[cfg(debug_assertions)]
    _held: held::Mark,
    _not_send: PhantomData<std::sync::MutexGuard<'static, ()>>,
}

impl<G: Deref> Deref for Locked<G> {
    type Target = G::Target;
    #[inline]
    fn deref(&self) -> &G::Target {
        &self.guard
    }
}

impl<G: DerefMut> DerefMut for Locked<G> {
    #[inline]
    fn deref_mut(&mut self) -> &mut G::Target {
        &mut self.guard
    }
}

/// Debug builds: which shards this thread holds, so that taking one again
/// (which would hang) panics with a message instead.
///
/// A thread-local list of `(store id, shard index, what holds it)`, one
/// entry per lock held: a `Ref`, `RefMut`, `Entry`, an `iter()` (one entry
/// for the shard it is in, shared by the `Ref`s it yielded) or an operation
/// running a closure or a key's `Hash`/`Eq` under its lock. Guards are not
/// `Send`, so an entry is always removed by the thread that added it, in any
/// order. Store ids come from a global counter, never reused, so several
/// stores (and a store at the address of a dropped one) never mix.
#[cfg(debug_assertions)]
mod held {
    use alloc::vec::Vec;
    use core::cell::RefCell;
    use core::sync::atomic::{AtomicU64, Ordering};

    struct Hold {
        store: u64,
        shard: usize,
        holder: &'static str,
    }

    #[cfg(mapstore_loom)]
    loom::thread_local! {
        static HELD: RefCell<Vec<Hold>> = RefCell::new(Vec::new());
    }
    #[cfg(not(mapstore_loom))]
    std::thread_local! {
        static HELD: RefCell<Vec<Hold>> = const { RefCell::new(Vec::new()) };
    }

    /// A fresh store id.
    pub(super) fn next_id() -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }

    /// This thread's record of one shard it holds.
    pub(super) struct Mark {
        store: u64,
        shard: usize,
    }

    impl Mark {
        /// Records that this thread is about to lock `shard` of `store` for
        /// `op`, held by `holder`; panics if it already holds it.
        #[track_caller]
        pub(super) fn new(store: u64, shard: usize, op: &str, holder: &'static str) -> Mark {
            let held_by = HELD
                .try_with(|held| {
                    let mut held = held.borrow_mut();
                    match held.iter().find(|h| h.store == store && h.shard == shard) {
                        Some(h) => Some(h.holder),
                        None => {
                            held.push(Hold {
                                store,
                                shard,
                                holder,
                            });
                            None
                        }
                    }
                })
                .ok()
                .flatten();
            if let Some(held_by) = held_by {
                panic!(
                    "ConcurrentStore::{op} would lock shard {shard}, which this thread already \
                     holds through {held_by}: that would deadlock (a thread never takes a shard's \
                     lock twice, not even to read). Drop the guard first, or use \
                     `read(&key, |v| ..)`, which holds nothing after it returns; closures given \
                     to the store must not call it. (Checked in debug builds.)"
                );
            }
            Mark { store, shard }
        }
    }

    impl Drop for Mark {
        fn drop(&mut self) {
            let _ = HELD.try_with(|held| {
                let mut held = held.borrow_mut();
                if let Some(i) = held
                    .iter()
                    .rposition(|h| h.store == self.store && h.shard == self.shard)
                {
                    held.swap_remove(i);
                }
            });
        }
    }
}

/// The most shards a store has: 2^16. The default is four per core, so the
/// cap is reached only past 16 384 cores; beyond one shard per thread more
/// shards buy nothing but memory (128 bytes each, 8 MiB at the cap), and an
/// unbounded count lets `with_shards(usize::MAX, ..)` try to allocate
/// 2^63 bytes.
const MAX_SHARDS: usize = 1 << 16;

/// Default shard count: four per core, a power of two (DashMap's rule).
fn default_shards() -> usize {
    if cfg!(any(mapstore_loom, miri)) {
        return 2;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores
        .saturating_mul(4)
        .min(MAX_SHARDS)
        .next_power_of_two()
        .max(2)
}

/// A hash map shared between threads through `&self`, sharded, each shard
/// storing its values as `V::Storage` says: inline, boxed or pooled.
///
/// It is the `MapStore` of shared state (sessions, caches, registries): the
/// same API as DashMap's for the common operations, with the value layout of
/// [`MapStore`](type@crate::MapStore). See the [module docs](self) for the design and exactly when
/// an operation can block.
///
/// ```
/// use mapstore::{ConcurrentStore, MapStore};
///
/// #[derive(MapStore, Clone, Debug, PartialEq)]
/// struct Session {
///     user: String,
///     hits: u32,
/// }
///
/// let sessions: ConcurrentStore<u64, Session> = ConcurrentStore::new();
/// std::thread::scope(|s| {
///     for t in 0..2u64 {
///         let sessions = &sessions;
///         s.spawn(move || {
///             sessions.insert(t, Session { user: format!("user{t}"), hits: 0 });
///             sessions.get_mut(&t).unwrap().hits += 1;
///         });
///     }
/// });
/// assert_eq!(sessions.len(), 2);
/// assert_eq!(sessions.read(&1, |s| s.user.clone()).as_deref(), Some("user1"));
/// ```
///
/// # Send and Sync
///
/// `ConcurrentStore<K, V, S>` is `Send` when `K`, `V` and `S` are, and `Sync`
/// when `K` and `V` are `Send + Sync` and `S` is `Sync`, as
/// `RwLock<HashMap<K, V, S>>` is. Its guards ([`Ref`], [`RefMut`],
/// [`Entry`]) are not `Send`: a guard held across an `.await` cannot move to
/// another thread, where releasing the lock would be undefined. A
/// [`RefMut`] is `Sync` when `K` and `V` are, as std's write guard is; a
/// [`Ref`] is not `Sync`.
///
/// # Generic code
///
/// `Send` and `Sync` follow `K`, `V` and `S` alone, also in code generic
/// over `V: MapValue`: no bound on the store itself is needed.
///
/// ```
/// use mapstore::{ConcurrentStore, MapValue};
///
/// fn fill_on_two_threads<V: MapValue + Send + Sync>(
///     store: &ConcurrentStore<u64, V>,
///     make: fn(u64) -> V,
/// ) {
///     std::thread::scope(|s| {
///         for t in 0..2 {
///             s.spawn(move || drop(store.insert(t, make(t))));
///         }
///     });
/// }
///
/// let store: ConcurrentStore<u64, String> = ConcurrentStore::new();
/// fill_on_two_threads(&store, |t| t.to_string());
/// assert_eq!(store.len(), 2);
/// ```
pub struct ConcurrentStore<K, V: MapValue, S = DefaultHashBuilder> {
    shards: Box<[Slot<K, V>]>,
    /// `64 - log2(shards.len())`: the shard is `(hash << 7) >> shift`.
    shift: u32,
    hash_builder: S,
    /// Debug builds: this store's id in the record of held shards.
    #[cfg(debug_assertions)]
    id: u64,
}

impl<K, V: MapValue> ConcurrentStore<K, V, DefaultHashBuilder> {
    /// Creates an empty store with the default shard count (four per core).
    /// The shards allocate nothing until their first insert.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u64, String> = mapstore::ConcurrentStore::new();
    /// assert!(store.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::with_hasher(DefaultHashBuilder::default())
    }

    /// Creates an empty store with room for at least `capacity` entries,
    /// spread over the shards.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u64, u64> = mapstore::ConcurrentStore::with_capacity(1000);
    /// assert!(store.memory_usage() > 1000 * 16);
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, DefaultHashBuilder::default())
    }
}

impl<K, V: MapValue, S> ConcurrentStore<K, V, S> {
    /// Creates an empty store that hashes keys with `hash_builder`.
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let store = mapstore::ConcurrentStore::with_hasher(RandomState::new());
    /// store.insert(1u8, 2u32);
    /// assert_eq!(store.read(&1, |v| *v), Some(2));
    /// ```
    pub fn with_hasher(hash_builder: S) -> Self {
        Self::with_capacity_and_hasher(0, hash_builder)
    }

    /// Creates an empty store with room for at least `capacity` entries that
    /// hashes keys with `hash_builder`.
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let store: mapstore::ConcurrentStore<u32, u32, _> =
    ///     mapstore::ConcurrentStore::with_capacity_and_hasher(64, RandomState::new());
    /// assert!(store.is_empty());
    /// ```
    pub fn with_capacity_and_hasher(capacity: usize, hash_builder: S) -> Self {
        Self::with_shards(default_shards(), capacity, hash_builder)
    }

    /// Creates an empty store with `shards` shards (rounded up to a power of
    /// two, at least 1 and at most 65 536), room for `capacity` entries,
    /// hashing with `hash_builder`. One shard is a single
    /// `RwLock<MapStore>`; more shards let more writers run at once, at 128
    /// bytes each.
    ///
    /// The cap, 65 536 = 2^16 shards (8 MiB of locks), is 4 shards per core
    /// (the default) on 16 384 cores: past one shard per thread, more shards
    /// only cost memory. A larger request gets the cap.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, u32> =
    ///     mapstore::ConcurrentStore::with_shards(64, 0, Default::default());
    /// assert_eq!(store.shard_count(), 64);
    /// let most: mapstore::ConcurrentStore<u32, u32> =
    ///     mapstore::ConcurrentStore::with_shards(usize::MAX, 0, Default::default());
    /// assert_eq!(most.shard_count(), 1 << 16);
    /// ```
    pub fn with_shards(shards: usize, capacity: usize, hash_builder: S) -> Self {
        let shards = shards.clamp(1, MAX_SHARDS).next_power_of_two();
        let per_shard = capacity.div_ceil(shards);
        let shards: Vec<_> = (0..shards)
            .map(|_| Padded(RwLock::new(Map::with_capacity_and_hasher(per_shard, ()))))
            .collect();
        ConcurrentStore {
            shift: 64 - shards.len().trailing_zeros(),
            shards: shards.into_boxed_slice(),
            hash_builder,
            #[cfg(debug_assertions)]
            id: held::next_id(),
        }
    }

    /// The store's hash builder.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = mapstore::ConcurrentStore::new();
    /// let _: &mapstore::DefaultHashBuilder = store.hasher();
    /// ```
    pub fn hasher(&self) -> &S {
        &self.hash_builder
    }

    /// The number of shards (each with its own lock).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = mapstore::ConcurrentStore::new();
    /// assert!(store.shard_count().is_power_of_two());
    /// ```
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The shard of a hash: the bits below hashbrown's 7-bit tag, so that
    /// the keys of one shard still differ in their tags.
    #[inline]
    fn shard_index(&self, hash: u64) -> usize {
        // `checked_shr`: one shard means a shift of 64.
        (hash << 7).checked_shr(self.shift).unwrap_or(0) as usize
    }

    /// Read-locks shard `index` for `op`, recording `holder` as what holds
    /// it (debug builds panic here if this thread already holds it).
    #[inline]
    #[track_caller]
    fn read_shard(&self, index: usize, op: &str, holder: &'static str) -> ReadGuard<'_, K, V> {
        #[cfg(debug_assertions)]
        let mark = held::Mark::new(self.id, index, op, holder);
        #[cfg(not(debug_assertions))]
        let _ = (op, holder);
        Locked {
            guard: read_lock(&self.shards[index].0),
            #[cfg(debug_assertions)]
            _held: mark,
            _not_send: PhantomData,
        }
    }

    /// Write-locks shard `index`, as [`read_shard`](Self::read_shard).
    #[inline]
    #[track_caller]
    fn write_shard(&self, index: usize, op: &str, holder: &'static str) -> WriteGuard<'_, K, V> {
        #[cfg(debug_assertions)]
        let mark = held::Mark::new(self.id, index, op, holder);
        #[cfg(not(debug_assertions))]
        let _ = (op, holder);
        Locked {
            guard: write_lock(&self.shards[index].0),
            #[cfg(debug_assertions)]
            _held: mark,
            _not_send: PhantomData,
        }
    }

    /// The number of entries: the sum over the shards, each read-locked in
    /// turn. Under concurrent writes it is a value the store had at no
    /// single instant, as with any sharded map. It visits every shard, so it
    /// can deadlock while this thread holds a guard (debug builds panic
    /// instead; see the [module docs](self)).
    ///
    /// ```
    /// let store = mapstore::ConcurrentStore::new();
    /// store.insert('a', 1u8);
    /// assert_eq!(store.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        (0..self.shards.len())
            .map(|i| self.read_shard(i, "len", "`len`").len())
            .sum()
    }

    /// Whether the store has no entries (shard by shard, as [`len`](Self::len)).
    ///
    /// ```
    /// let store = mapstore::ConcurrentStore::new();
    /// assert!(store.is_empty());
    /// store.insert(1u8, 2u8);
    /// assert!(!store.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        (0..self.shards.len()).all(|i| self.read_shard(i, "is_empty", "`is_empty`").is_empty())
    }

    /// Which storage holds the values: `V::Storage`.
    ///
    /// ```
    /// use mapstore::{ConcurrentStore, StorageKind};
    /// assert_eq!(ConcurrentStore::<u8, u64>::new().storage(), StorageKind::Inline);
    /// ```
    pub fn storage(&self) -> StorageKind {
        <V::Storage as Storage>::KIND
    }

    /// Bytes this store holds: its shard array, every shard's table, pool
    /// chunks and boxes; not the heap memory keys and values own themselves.
    ///
    /// ```
    /// #[derive(mapstore::MapStore)]
    /// struct Page([u8; 1000]);
    ///
    /// let store = mapstore::ConcurrentStore::new();
    /// store.insert(1u64, Page([0; 1000]));
    /// assert!(store.memory_usage() >= 1000);
    /// assert_eq!(store.storage(), mapstore::StorageKind::Pooled);
    /// ```
    pub fn memory_usage(&self) -> usize {
        let array = core::mem::size_of_val::<[Slot<K, V>]>(&self.shards);
        array
            + (0..self.shards.len())
                .map(|i| {
                    self.read_shard(i, "memory_usage", "`memory_usage`")
                        .memory_usage()
                })
                .sum::<usize>()
    }

    /// Removes every entry, shard by shard (each write-locked in turn).
    ///
    /// Keys and values are dropped after each shard's lock is released, so
    /// their `Drop` may call the store: for types that need dropping, each
    /// shard's table is swapped for an empty one under the lock (a constant
    /// time step) and dropped after, memory included. For types that need no
    /// drop (`u64`, `[u8; 256]`, ...) nothing is dropped, and each shard is
    /// cleared in place, keeping its memory for reuse.
    ///
    /// It write-locks every shard in turn: calling it while this thread
    /// holds any guard into the store deadlocks (debug builds panic instead;
    /// see the [module docs](self)).
    ///
    /// If a value's `Drop` panics, the shard being cleared is already empty
    /// (its values after the panicking one may be leaked, none is dropped
    /// twice) and the shards after it keep their entries.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, String> =
    ///     (0..10).map(|i| (i, i.to_string())).collect();
    /// store.clear();
    /// assert!(store.is_empty());
    /// ```
    pub fn clear(&self) {
        let drops = core::mem::needs_drop::<K>() || core::mem::needs_drop::<V>();
        for i in 0..self.shards.len() {
            let mut guard = self.write_shard(i, "clear", "`clear`");
            if drops {
                let entries = core::mem::replace(&mut *guard, Map::with_hasher(()));
                drop(guard);
                drop(entries);
            } else {
                guard.clear();
            }
        }
    }

    /// Keeps only the entries for which `keep` returns `true`, shard by
    /// shard, each write-locked while `keep` runs over it. Entries inserted
    /// meanwhile into a shard already visited are kept. Calling it while
    /// this thread holds any guard into the store, or calling the store from
    /// `keep`, deadlocks (debug builds panic instead; see the
    /// [module docs](self)).
    ///
    /// The entries removed from a shard are dropped after its lock is
    /// released, so their `Drop` may call the store (for types that need
    /// dropping they are moved out into a buffer first).
    ///
    /// If `keep` panics, the entries visited so far have been kept or
    /// removed as it said (those removed are dropped after the lock is
    /// released), and the store stays usable.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, u32> = (0..8).map(|i| (i, i)).collect();
    /// store.retain(|&k, v| {
    ///     *v += 1;
    ///     k % 2 == 0
    /// });
    /// assert_eq!(store.len(), 4);
    /// assert_eq!(store.read(&2, |v| *v), Some(3));
    /// ```
    pub fn retain(&self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let drops = core::mem::needs_drop::<K>() || core::mem::needs_drop::<V>();
        // Declared before the guards: if `keep` panics, the guard unlocks
        // first, then what was removed is dropped.
        let mut removed: Vec<(K, V)> = Vec::new();
        for i in 0..self.shards.len() {
            let mut guard =
                self.write_shard(i, "retain", "`retain`, whose closure called the store");
            if drops {
                removed.extend(guard.extract_if(|k, v| !keep(k, v)));
            } else {
                guard.retain(&mut keep);
            }
            drop(guard);
            removed.clear();
        }
    }

    /// Iterates over the entries, yielding a [`Ref`] for each.
    ///
    /// Consistency: one shard at a time is read-locked, from its first entry
    /// to its last, and stays locked while any `Ref` from it is alive. Each
    /// shard is therefore seen as a snapshot, but not the store as a whole:
    /// an entry inserted or removed concurrently in a shard not yet reached
    /// may or may not be seen, and one in a shard already passed is not.
    /// The iterator holds the read lock of the shard it is in until it moves
    /// past it (and each item, until dropped): writing to the store from the
    /// iterating thread before the iterator is done deadlocks, even with no
    /// item alive (debug builds panic instead). Collect what you need first
    /// (see the [module docs](self)).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, u32> = (0..4).map(|i| (i, i * 10)).collect();
    /// let mut pairs: Vec<(u32, u32)> = store.iter().map(|r| (*r.key(), *r.value())).collect();
    /// pairs.sort();
    /// assert_eq!(pairs, [(0, 0), (1, 10), (2, 20), (3, 30)]);
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V, S> {
        Iter {
            store: self,
            next_shard: 0,
            current: None,
        }
    }

    /// Ends the sharing: the entries as one [`MapStore`](type@crate::MapStore) with the store's
    /// hasher. Also available as `MapStore::from(store)`.
    ///
    /// ```
    /// use mapstore::{ConcurrentStore, MapStore};
    ///
    /// let store: ConcurrentStore<u32, String> = [(1, "one".to_string())].into_iter().collect();
    /// let map: MapStore<u32, String> = store.into_map_store();
    /// assert_eq!(map[&1], "one");
    /// ```
    pub fn into_map_store(self) -> MapStore<K, V, S>
    where
        K: Eq + Hash,
        S: BuildHasher,
    {
        let len = self.shards.iter().map(|s| read_lock(&s.0).len()).sum();
        let mut map = Map::with_capacity_and_hasher(len, self.hash_builder);
        for shard in self.shards.into_vec() {
            let shard = shard.0.into_inner().unwrap_or_else(PoisonError::into_inner);
            for (key, value) in shard {
                let hash = make_hash(&map.hash_builder, &key);
                let Map {
                    table,
                    side,
                    hash_builder,
                } = &mut map;
                unwrap_reserve(reserve_table::<K, V, V::Storage, S>(
                    table,
                    side,
                    hash_builder,
                    1,
                ));
                let bucket = <V::Storage as Ops>::store(side, key, value);
                table.insert_unique(hash, bucket, hasher::<K, V, V::Storage, S>(hash_builder));
            }
        }
        map
    }
}

impl<K, V, S> ConcurrentStore<K, V, S>
where
    K: Eq + Hash,
    V: MapValue,
    S: BuildHasher,
{
    #[inline]
    fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        make_hash(&self.hash_builder, key)
    }

    /// The index of the shard that holds `key`, in `0..shard_count()`. Two
    /// keys with the same shard index contend for one lock; a thread holding
    /// a guard on one of them deadlocks if it writes the other (debug builds
    /// panic instead).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, u32> = mapstore::ConcurrentStore::new();
    /// assert!(store.shard_of(&7) < store.shard_count());
    /// ```
    pub fn shard_of<Q>(&self, key: &Q) -> usize
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.shard_index(self.hash(key))
    }

    /// Inserts a value. If the key was present, returns the old value and
    /// keeps the old key, as std's `HashMap::insert` does. Write-locks the
    /// key's shard; the old value is dropped by the caller and the key given
    /// for a present key is dropped here, both after the lock is released.
    ///
    /// ```
    /// #[derive(mapstore::MapStore, Debug, PartialEq)]
    /// struct Frame([u8; 300]);
    ///
    /// let store = mapstore::ConcurrentStore::new();
    /// assert_eq!(store.insert("k", Frame([1; 300])), None);
    /// assert_eq!(store.insert("k", Frame([2; 300])), Some(Frame([1; 300])));
    /// ```
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        let hash = self.hash(&key);
        let mut guard = self.write_shard(
            self.shard_index(hash),
            "insert",
            "`insert`, whose key's `Hash` or `Eq` called the store",
        );
        let replaced = insert_hashed(&mut guard, &self.hash_builder, hash, key, value);
        drop(guard);
        // The duplicate key is dropped here, after the lock is released.
        replaced.map(|(_key, old)| old)
    }

    /// Removes a key, returning its value, which is dropped by the caller
    /// after the shard's lock is released.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 10)].into_iter().collect();
    /// assert_eq!(store.remove(&1), Some(10));
    /// assert_eq!(store.remove(&1), None);
    /// ```
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Removes a key, returning the stored key and its value.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<String, u8> = [("a".to_string(), 1)].into_iter().collect();
    /// assert_eq!(store.remove_entry("a"), Some(("a".to_string(), 1)));
    /// ```
    pub fn remove_entry<Q>(&self, key: &Q) -> Option<(K, V)>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let hash = self.hash(key);
        let mut guard = self.write_shard(
            self.shard_index(hash),
            "remove_entry",
            "`remove`, whose key's `Eq` called the store",
        );
        let Map { table, side, .. } = &mut *guard;
        Shard::<K, V>::remove_entry_in(table, side, hash, key)
    }

    /// Whether the store has a value for the key.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 1)].into_iter().collect();
    /// assert!(store.contains_key(&1));
    /// assert!(!store.contains_key(&2));
    /// ```
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let hash = self.hash(key);
        let guard = self.read_shard(
            self.shard_index(hash),
            "contains_key",
            "`contains_key`, whose key's `Eq` called the store",
        );
        guard
            .table
            .find(hash, equivalent::<_, K, V, V::Storage>(key))
            .is_some()
    }

    /// Calls `f` on the value for `key` under the shard's read lock and
    /// returns what it returns; holds nothing once it returns. The lookup to
    /// prefer wherever a guard could be held too long.
    ///
    /// If `f` panics, the panic propagates and the store is unchanged.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<String, Vec<u32>> = mapstore::ConcurrentStore::new();
    /// store.insert("a".to_string(), vec![1, 2, 3]);
    /// assert_eq!(store.read("a", |v| v.len()), Some(3));
    /// assert_eq!(store.read("b", |v| v.len()), None);
    /// ```
    #[inline]
    pub fn read<Q, R>(&self, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let hash = self.hash(key);
        let guard = self.read_shard(
            self.shard_index(hash),
            "read",
            "`read`, whose closure (or a key's `Eq`) called the store",
        );
        let bucket = guard
            .table
            .find(hash, equivalent::<_, K, V, V::Storage>(key))?;
        Some(f(<V::Storage as Ops>::pair(&guard.side, bucket).1))
    }

    /// A guard on the value for `key` that holds the shard's read lock until
    /// it is dropped. Other readers of the shard go on; its writers wait.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, String> = mapstore::ConcurrentStore::new();
    /// store.insert(1, "one".to_string());
    /// let one = store.get(&1).unwrap();
    /// assert_eq!(*one.key(), 1);
    /// assert_eq!(one.len(), 3); // derefs to the value
    /// ```
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<Ref<'_, K, V>>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let hash = self.hash(key);
        let guard = self.read_shard(self.shard_index(hash), "get", "a `Ref` from `get`");
        let index = guard
            .table
            .find_bucket_index(hash, equivalent::<_, K, V, V::Storage>(key))?;
        Some(Ref {
            guard: ReadHold::Own(guard),
            index,
        })
    }

    /// A guard on the value for `key`, mutably, that holds the shard's write
    /// lock until it is dropped.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, u32> = [(1, 10)].into_iter().collect();
    /// *store.get_mut(&1).unwrap() += 1;
    /// assert_eq!(store.read(&1, |v| *v), Some(11));
    /// ```
    #[inline]
    pub fn get_mut<Q>(&self, key: &Q) -> Option<RefMut<'_, K, V>>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let hash = self.hash(key);
        let guard = self.write_shard(
            self.shard_index(hash),
            "get_mut",
            "a `RefMut` from `get_mut`",
        );
        let index = guard
            .table
            .find_bucket_index(hash, equivalent::<_, K, V, V::Storage>(key))?;
        Some(RefMut {
            guard,
            index,
            _left: (None, None),
        })
    }

    /// The entry for `key`: holds the shard's write lock until it (or the
    /// [`RefMut`] it turns into) is dropped, so everything done through it is
    /// atomic for that key.
    ///
    /// ```
    /// let counts: mapstore::ConcurrentStore<char, u32> = mapstore::ConcurrentStore::new();
    /// for c in "hello".chars() {
    ///     *counts.entry(c).or_default() += 1;
    /// }
    /// assert_eq!(counts.read(&'l', |n| *n), Some(2));
    /// ```
    pub fn entry(&self, key: K) -> Entry<'_, K, V, S> {
        let hash = self.hash(&key);
        let guard = self.write_shard(
            self.shard_index(hash),
            "entry",
            "an `Entry` from `entry` (or the `RefMut` it returned)",
        );
        match guard
            .table
            .find_bucket_index(hash, equivalent::<_, K, V, V::Storage>(&key))
        {
            Some(index) => Entry::Occupied(OccupiedEntry {
                guard,
                index,
                _key: key,
            }),
            None => Entry::Vacant(VacantEntry {
                guard,
                key,
                hash,
                hash_builder: &self.hash_builder,
            }),
        }
    }

    /// Inserts through `&mut self`: no lock is taken.
    fn insert_mut(&mut self, key: K, value: V) -> Option<V> {
        let hash = self.hash(&key);
        let index = self.shard_index(hash);
        let shard = self.shards[index]
            .0
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        insert_hashed(shard, &self.hash_builder, hash, key, value).map(|(_key, old)| old)
    }
}

/// Inserts `key` (whose hash is `hash`) into a locked shard, as
/// `Map::entry` does: if the table is full the key is looked up before
/// growing, so replacing a value never grows the table; with room to spare
/// one probe finds the key or its slot. If the key was present, returns the
/// caller's duplicate key and the old value, for the caller to drop after it
/// releases the lock (their `Drop` may call the store).
fn insert_hashed<K, V, S>(
    shard: &mut Shard<K, V>,
    hash_builder: &S,
    hash: u64,
    key: K,
    value: V,
) -> Option<(K, V)>
where
    K: Eq + Hash,
    V: MapValue,
    S: BuildHasher,
{
    let Map { table, side, .. } = shard;
    let mut table = table;
    if table.len() == table.capacity() {
        match table.find_entry(hash, equivalent::<_, K, V, V::Storage>(&key)) {
            Ok(mut found) => {
                let old = <V::Storage as Ops>::pair_mut(side, found.get_mut()).1;
                return Some((key, core::mem::replace(old, value)));
            }
            Err(absent) => table = absent.into_table(),
        }
        unwrap_reserve(reserve_table::<K, V, V::Storage, S>(
            table,
            side,
            hash_builder,
            1,
        ));
    }
    match table.entry(
        hash,
        equivalent::<_, K, V, V::Storage>(&key),
        hasher::<K, V, V::Storage, S>(hash_builder),
    ) {
        hash_table::Entry::Occupied(mut found) => {
            let old = <V::Storage as Ops>::pair_mut(side, found.get_mut()).1;
            Some((key, core::mem::replace(old, value)))
        }
        hash_table::Entry::Vacant(slot) => {
            slot.insert(<V::Storage as Ops>::store(side, key, value));
            None
        }
    }
}

/// Inserts an absent key into a locked shard; returns its bucket index.
fn insert_new<K, V, S>(
    shard: &mut Shard<K, V>,
    hash_builder: &S,
    hash: u64,
    key: K,
    value: V,
) -> usize
where
    K: Hash,
    V: MapValue,
    S: BuildHasher,
{
    let Map { table, side, .. } = shard;
    // Grow first (a panicking `Hash` during the rehash leaves the shard
    // consistent), then store: nothing below can panic once the value is in.
    unwrap_reserve(reserve_table::<K, V, V::Storage, S>(
        table,
        side,
        hash_builder,
        1,
    ));
    let bucket = <V::Storage as Ops>::store(side, key, value);
    table
        .insert_unique(hash, bucket, hasher::<K, V, V::Storage, S>(hash_builder))
        .bucket_index()
}

impl<K, V: MapValue> Default for ConcurrentStore<K, V, DefaultHashBuilder> {
    /// An empty store, as [`new`](ConcurrentStore::new).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = Default::default();
    /// assert!(store.is_empty());
    /// ```
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V, S> fmt::Debug for ConcurrentStore<K, V, S>
where
    K: fmt::Debug,
    V: MapValue + fmt::Debug,
{
    /// The entries as a map, shard by shard (read-locking each in turn).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(format!("{store:?}"), "{1: 2}");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for i in 0..self.shards.len() {
            let guard = self.read_shard(
                i,
                "fmt",
                "`Debug`, whose key's or value's `Debug` called the store",
            );
            map.entries(guard.iter());
        }
        map.finish()
    }
}

impl<K, V, S> FromIterator<(K, V)> for ConcurrentStore<K, V, S>
where
    K: Eq + Hash,
    V: MapValue,
    S: BuildHasher + Default,
{
    /// Collects the pairs; for a repeated key the last value wins (and the
    /// first key is kept), as for std's `HashMap`.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, char> = [(1, 'a'), (1, 'b')].into_iter().collect();
    /// assert_eq!(store.read(&1, |c| *c), Some('b'));
    /// ```
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let iter = iter.into_iter();
        let mut store = Self::with_capacity_and_hasher(iter.size_hint().0, S::default());
        store.extend(iter);
        store
    }
}

impl<K, V, S> Extend<(K, V)> for ConcurrentStore<K, V, S>
where
    K: Eq + Hash,
    V: MapValue,
    S: BuildHasher,
{
    /// Inserts the pairs through `&mut self`, taking no lock.
    ///
    /// ```
    /// let mut store: mapstore::ConcurrentStore<u8, u8> = mapstore::ConcurrentStore::new();
    /// store.extend([(1, 1), (2, 2)]);
    /// assert_eq!(store.len(), 2);
    /// ```
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (key, value) in iter {
            self.insert_mut(key, value);
        }
    }
}

impl<K, V, S> From<MapStore<K, V, S>> for ConcurrentStore<K, V, S>
where
    K: Eq + Hash,
    V: MapValue,
    S: BuildHasher,
{
    /// Starts sharing a map: its entries, spread over the shards, with its
    /// hasher. Each value is moved once, into its shard's storage.
    ///
    /// ```
    /// use mapstore::{ConcurrentStore, MapStore};
    ///
    /// #[derive(MapStore)]
    /// struct Frame([u8; 256]);
    ///
    /// let map: MapStore<u32, Frame> = [(1, Frame([1; 256]))].into();
    /// let store = ConcurrentStore::from(map);
    /// assert_eq!(store.read(&1, |v| v.0[0]), Some(1));
    /// ```
    fn from(map: MapStore<K, V, S>) -> Self {
        let (table, side, hash_builder) = crate::pool::into_parts(map);
        let entries = Map::<K, V, V::Storage, ()> {
            table,
            side,
            hash_builder: (),
        };
        let mut store = Self::with_capacity_and_hasher(entries.len(), hash_builder);
        for (key, value) in entries {
            store.insert_mut(key, value);
        }
        store
    }
}

impl<K, V, S> From<ConcurrentStore<K, V, S>> for Map<K, V, <V as MapValue>::Storage, S>
where
    K: Eq + Hash,
    V: MapValue,
    S: BuildHasher,
{
    /// Ends the sharing, as [`ConcurrentStore::into_map_store`].
    ///
    /// ```
    /// use mapstore::{ConcurrentStore, MapStore};
    ///
    /// let store: ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// let map = MapStore::from(store);
    /// assert_eq!(map[&1], 2);
    /// ```
    fn from(store: ConcurrentStore<K, V, S>) -> Self {
        store.into_map_store()
    }
}

// ---------------------------------------------------------------------------
// Guards

/// A read guard: either its own or shared by the items of one shard that
/// [`ConcurrentStore::iter`] yields.
enum ReadHold<'a, K, V: MapValue> {
    Own(ReadGuard<'a, K, V>),
    Shared(Arc<ReadGuard<'a, K, V>>),
}

/// A shared reference to an entry of a [`ConcurrentStore`]: holds its shard's
/// read lock until dropped. Derefs to the value.
///
/// Neither `Send` nor `Sync`: the lock must be released by the thread that
/// took it, so a `Ref` cannot be held across an `.await` of a multi-threaded
/// executor.
///
/// ```
/// let store: mapstore::ConcurrentStore<&str, u32> = [("a", 1)].into_iter().collect();
/// let a: mapstore::concurrent::Ref<'_, &str, u32> = store.get("a").unwrap();
/// assert_eq!((*a.key(), *a.value(), *a), ("a", 1, 1));
/// ```
pub struct Ref<'a, K, V: MapValue> {
    guard: ReadHold<'a, K, V>,
    index: usize,
}

impl<K, V: MapValue> Ref<'_, K, V> {
    #[inline]
    fn entry_pair(&self) -> (&K, &V) {
        let shard: &Shard<K, V> = match &self.guard {
            ReadHold::Own(guard) => guard,
            ReadHold::Shared(guard) => guard,
        };
        let bucket = shard
            .table
            .get_bucket(self.index)
            .expect("a guarded bucket stays full");
        <V::Storage as Ops>::pair(&shard.side, bucket)
    }

    /// The entry's key.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(*store.get(&1).unwrap().key(), 1);
    /// ```
    #[inline]
    pub fn key(&self) -> &K {
        self.entry_pair().0
    }

    /// The entry's value.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(*store.get(&1).unwrap().value(), 2);
    /// ```
    #[inline]
    pub fn value(&self) -> &V {
        self.entry_pair().1
    }

    /// The key and the value.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(store.get(&1).unwrap().pair(), (&1, &2));
    /// ```
    #[inline]
    pub fn pair(&self) -> (&K, &V) {
        self.entry_pair()
    }
}

impl<K, V: MapValue> Deref for Ref<'_, K, V> {
    type Target = V;
    #[inline]
    fn deref(&self) -> &V {
        self.value()
    }
}

impl<K: fmt::Debug, V: MapValue + fmt::Debug> fmt::Debug for Ref<'_, K, V> {
    /// `(key, value)`.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(format!("{:?}", store.get(&1).unwrap()), "(1, 2)");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (k, v) = self.pair();
        f.debug_tuple("").field(k).field(v).finish()
    }
}

/// A mutable reference to an entry of a [`ConcurrentStore`]: holds its
/// shard's write lock until dropped. Derefs (mutably) to the value.
///
/// Not `Send`, like [`Ref`]: the lock must be released by the thread that
/// took it. `Sync` when `K` and `V` are, as std's `RwLockWriteGuard` is:
/// sharing a `&RefMut` shares only `&K` and `&V`.
///
/// ```
/// let store: mapstore::ConcurrentStore<&str, u32> = [("a", 1)].into_iter().collect();
/// let mut a: mapstore::concurrent::RefMut<'_, &str, u32> = store.get_mut("a").unwrap();
/// *a.value_mut() += 1;
/// *a += 1;
/// drop(a);
/// assert_eq!(store.read("a", |v| *v), Some(3));
/// ```
pub struct RefMut<'a, K, V: MapValue> {
    // Field order is drop order: the lock is released before what left the
    // store is dropped.
    guard: WriteGuard<'a, K, V>,
    index: usize,
    /// What left the store while the guard was made, dropped after the lock
    /// is released: the key given to `entry` for a present key, and the
    /// value [`Entry::insert`] replaced (boxed, so that a guard stays small
    /// for large values; only when `V` needs dropping).
    _left: (Option<K>, Option<Box<V>>),
}

impl<K, V: MapValue> RefMut<'_, K, V> {
    /// Keeps `value`, which left the store or was never used, until the
    /// guard is dropped: it is dropped after the lock is released.
    #[inline]
    fn dropping_later(mut self, value: V) -> Self {
        if core::mem::needs_drop::<V>() {
            self._left.1 = Some(Box::new(value));
        }
        self
    }

    #[inline]
    fn bucket_pair(&self) -> (&K, &V) {
        let bucket = self
            .guard
            .table
            .get_bucket(self.index)
            .expect("a guarded bucket stays full");
        <V::Storage as Ops>::pair(&self.guard.side, bucket)
    }

    /// The entry's key.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(*store.get_mut(&1).unwrap().key(), 1);
    /// ```
    #[inline]
    pub fn key(&self) -> &K {
        self.bucket_pair().0
    }

    /// The entry's value.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(*store.get_mut(&1).unwrap().value(), 2);
    /// ```
    #[inline]
    pub fn value(&self) -> &V {
        self.bucket_pair().1
    }

    /// The entry's value, mutably.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// *store.get_mut(&1).unwrap().value_mut() = 5;
    /// assert_eq!(store.read(&1, |v| *v), Some(5));
    /// ```
    #[inline]
    pub fn value_mut(&mut self) -> &mut V {
        self.pair_mut().1
    }

    /// The key, and the value mutably.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// let mut guard = store.get_mut(&1).unwrap();
    /// let (k, v) = guard.pair_mut();
    /// *v += *k;
    /// assert_eq!(*guard, 3);
    /// ```
    #[inline]
    pub fn pair_mut(&mut self) -> (&K, &mut V) {
        let shard = &mut *self.guard;
        let bucket = shard
            .table
            .get_bucket_mut(self.index)
            .expect("a guarded bucket stays full");
        <V::Storage as Ops>::pair_mut(&shard.side, bucket)
    }
}

impl<K, V: MapValue> Deref for RefMut<'_, K, V> {
    type Target = V;
    #[inline]
    fn deref(&self) -> &V {
        self.value()
    }
}

impl<K, V: MapValue> DerefMut for RefMut<'_, K, V> {
    #[inline]
    fn deref_mut(&mut self) -> &mut V {
        self.value_mut()
    }
}

impl<K: fmt::Debug, V: MapValue + fmt::Debug> fmt::Debug for RefMut<'_, K, V> {
    /// `(key, value)`.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(format!("{:?}", store.get_mut(&1).unwrap()), "(1, 2)");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (k, v) = self.bucket_pair();
        f.debug_tuple("").field(k).field(v).finish()
    }
}

// ---------------------------------------------------------------------------
// Entries

/// The entry of a key in a [`ConcurrentStore`], from
/// [`entry`](ConcurrentStore::entry): holds the shard's write lock, so the
/// lookup and what follows are one atomic step for the key.
///
/// ```
/// use mapstore::concurrent::Entry;
///
/// let store: mapstore::ConcurrentStore<u8, u32> = mapstore::ConcurrentStore::new();
/// match store.entry(1) {
///     Entry::Occupied(_) => unreachable!(),
///     Entry::Vacant(v) => drop(v.insert(7)),
/// }
/// assert_eq!(store.read(&1, |v| *v), Some(7));
/// ```
pub enum Entry<'a, K, V: MapValue, S = DefaultHashBuilder> {
    /// The key is present.
    Occupied(OccupiedEntry<'a, K, V>),
    /// The key is absent.
    Vacant(VacantEntry<'a, K, V, S>),
}

/// A present key's entry; holds the shard's write lock.
///
/// ```
/// use mapstore::concurrent::Entry;
///
/// let store: mapstore::ConcurrentStore<u8, u32> = [(1, 5)].into_iter().collect();
/// if let Entry::Occupied(mut o) = store.entry(1) {
///     assert_eq!(o.insert(6), 5);
/// }
/// assert_eq!(store.read(&1, |v| *v), Some(6));
/// ```
pub struct OccupiedEntry<'a, K, V: MapValue> {
    // Field order is drop order: the lock is released before the key is
    // dropped.
    guard: WriteGuard<'a, K, V>,
    index: usize,
    /// The key given to `entry` (the stored one stays), dropped after the
    /// lock is released.
    _key: K,
}

/// An absent key's entry; holds the shard's write lock.
///
/// ```
/// use mapstore::concurrent::Entry;
///
/// let store: mapstore::ConcurrentStore<u8, u32> = mapstore::ConcurrentStore::new();
/// if let Entry::Vacant(v) = store.entry(3) {
///     assert_eq!(*v.key(), 3);
///     v.insert(30);
/// }
/// assert_eq!(store.len(), 1);
/// ```
pub struct VacantEntry<'a, K, V: MapValue, S = DefaultHashBuilder> {
    guard: WriteGuard<'a, K, V>,
    key: K,
    hash: u64,
    hash_builder: &'a S,
}

impl<'a, K, V, S> Entry<'a, K, V, S>
where
    K: Hash,
    V: MapValue,
    S: BuildHasher,
{
    /// The value, inserting `default` if the key is absent.
    ///
    /// For a present key the unused `default` is dropped with the returned
    /// guard, after its lock is released (so its `Drop` may call the store);
    /// until then a `default` that needs dropping waits in a box, one
    /// allocation: [`or_insert_with`](Self::or_insert_with) builds nothing
    /// for a present key.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<&str, u32> = mapstore::ConcurrentStore::new();
    /// *store.entry("a").or_insert(1) += 10;
    /// assert_eq!(*store.entry("a").or_insert(1), 11);
    /// ```
    pub fn or_insert(self, default: V) -> RefMut<'a, K, V> {
        match self {
            Entry::Occupied(o) => o.into_ref().dropping_later(default),
            Entry::Vacant(v) => v.insert(default),
        }
    }

    /// The value, inserting `default()` if the key is absent. `default` runs
    /// under the shard's write lock: if it panics, nothing is inserted and
    /// the store stays usable.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, String> = mapstore::ConcurrentStore::new();
    /// store.entry(1).or_insert_with(|| "one".to_string()).push('!');
    /// assert_eq!(store.read(&1, |v| v.clone()).as_deref(), Some("one!"));
    /// ```
    pub fn or_insert_with(self, default: impl FnOnce() -> V) -> RefMut<'a, K, V> {
        match self {
            Entry::Occupied(o) => o.into_ref(),
            Entry::Vacant(v) => v.insert(default()),
        }
    }

    /// The value, inserting `default(&key)` if the key is absent.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, u32> = mapstore::ConcurrentStore::new();
    /// assert_eq!(*store.entry(4).or_insert_with_key(|k| k * 2), 8);
    /// ```
    pub fn or_insert_with_key(self, default: impl FnOnce(&K) -> V) -> RefMut<'a, K, V> {
        match self {
            Entry::Occupied(o) => o.into_ref(),
            Entry::Vacant(v) => {
                let value = default(&v.key);
                v.insert(value)
            }
        }
    }

    /// The value, inserting `V::default()` if the key is absent.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<char, u32> = mapstore::ConcurrentStore::new();
    /// *store.entry('x').or_default() += 1;
    /// assert_eq!(store.read(&'x', |n| *n), Some(1));
    /// ```
    pub fn or_default(self) -> RefMut<'a, K, V>
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Calls `f` on the value if the key is present, still under the lock.
    /// If `f` panics, the value keeps whatever `f` wrote before panicking
    /// and the store stays usable.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u32> = [(1, 1)].into_iter().collect();
    /// store.entry(1).and_modify(|v| *v += 1).or_insert(0);
    /// store.entry(2).and_modify(|v| *v += 1).or_insert(0);
    /// assert_eq!(store.read(&1, |v| *v), Some(2));
    /// assert_eq!(store.read(&2, |v| *v), Some(0));
    /// ```
    pub fn and_modify(mut self, f: impl FnOnce(&mut V)) -> Self {
        if let Entry::Occupied(o) = &mut self {
            f(o.get_mut());
        }
        self
    }

    /// Sets the value, inserting or replacing it; returns a guard on it.
    /// A replaced value (and the key given to `entry`) is dropped when the
    /// guard is, after its lock is released; a replaced value that needs
    /// dropping is moved into a box until then.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u32> = [(1, 1)].into_iter().collect();
    /// assert_eq!(*store.entry(1).insert(5), 5);
    /// ```
    pub fn insert(self, value: V) -> RefMut<'a, K, V> {
        match self {
            Entry::Occupied(mut o) => {
                let old = o.insert(value);
                o.into_ref().dropping_later(old)
            }
            Entry::Vacant(v) => v.insert(value),
        }
    }

    /// The entry's key.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u32> = mapstore::ConcurrentStore::new();
    /// assert_eq!(*store.entry(9).key(), 9);
    /// ```
    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(o) => o.key(),
            Entry::Vacant(v) => v.key(),
        }
    }
}

impl<'a, K, V: MapValue> OccupiedEntry<'a, K, V> {
    fn pair_mut(&mut self) -> (&K, &mut V) {
        let shard = &mut *self.guard;
        let bucket = shard
            .table
            .get_bucket_mut(self.index)
            .expect("an occupied entry's bucket is full");
        <V::Storage as Ops>::pair_mut(&shard.side, bucket)
    }

    fn pair(&self) -> (&K, &V) {
        let bucket = self
            .guard
            .table
            .get_bucket(self.index)
            .expect("an occupied entry's bucket is full");
        <V::Storage as Ops>::pair(&self.guard.side, bucket)
    }

    /// The stored key.
    ///
    /// ```
    /// use mapstore::concurrent::Entry;
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// let Entry::Occupied(o) = store.entry(1) else { unreachable!() };
    /// assert_eq!(*o.key(), 1);
    /// ```
    pub fn key(&self) -> &K {
        self.pair().0
    }

    /// The value.
    ///
    /// ```
    /// use mapstore::concurrent::Entry;
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// let Entry::Occupied(o) = store.entry(1) else { unreachable!() };
    /// assert_eq!(*o.get(), 2);
    /// ```
    pub fn get(&self) -> &V {
        self.pair().1
    }

    /// The value, mutably.
    ///
    /// ```
    /// use mapstore::concurrent::Entry;
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// let Entry::Occupied(mut o) = store.entry(1) else { unreachable!() };
    /// *o.get_mut() = 4;
    /// assert_eq!(*o.get(), 4);
    /// ```
    pub fn get_mut(&mut self) -> &mut V {
        self.pair_mut().1
    }

    /// Replaces the value, returning the old one (which the caller drops:
    /// after the entry, if its `Drop` may call the store).
    ///
    /// ```
    /// use mapstore::concurrent::Entry;
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// let Entry::Occupied(mut o) = store.entry(1) else { unreachable!() };
    /// assert_eq!(o.insert(3), 2);
    /// ```
    pub fn insert(&mut self, value: V) -> V {
        core::mem::replace(self.get_mut(), value)
    }

    /// Removes the entry, returning the value.
    ///
    /// ```
    /// use mapstore::concurrent::Entry;
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// let Entry::Occupied(o) = store.entry(1) else { unreachable!() };
    /// assert_eq!(o.remove(), 2);
    /// assert!(store.is_empty());
    /// ```
    pub fn remove(self) -> V {
        self.remove_entry().1
    }

    /// Removes the entry, returning the stored key and the value.
    ///
    /// ```
    /// use mapstore::concurrent::Entry;
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// let Entry::Occupied(o) = store.entry(1) else { unreachable!() };
    /// assert_eq!(o.remove_entry(), (1, 2));
    /// ```
    pub fn remove_entry(mut self) -> (K, V) {
        let Map { table, side, .. } = &mut *self.guard;
        let Ok(entry) = table.get_bucket_entry(self.index) else {
            unreachable!("an occupied entry's bucket is full")
        };
        let (bucket, _) = entry.remove();
        <V::Storage as Ops>::take(side, bucket)
    }

    /// Turns the entry into a guard on its value.
    ///
    /// ```
    /// use mapstore::concurrent::Entry;
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// let Entry::Occupied(o) = store.entry(1) else { unreachable!() };
    /// assert_eq!(*o.into_ref(), 2);
    /// ```
    pub fn into_ref(self) -> RefMut<'a, K, V> {
        let OccupiedEntry { guard, index, _key } = self;
        RefMut {
            guard,
            index,
            _left: (Some(_key), None),
        }
    }
}

impl<'a, K, V, S> VacantEntry<'a, K, V, S>
where
    K: Hash,
    V: MapValue,
    S: BuildHasher,
{
    /// The key that would be inserted.
    ///
    /// ```
    /// use mapstore::concurrent::Entry;
    /// let store: mapstore::ConcurrentStore<u8, u8> = mapstore::ConcurrentStore::new();
    /// let Entry::Vacant(v) = store.entry(1) else { unreachable!() };
    /// assert_eq!(*v.key(), 1);
    /// ```
    pub fn key(&self) -> &K {
        &self.key
    }

    /// Gives the key back; nothing is inserted.
    ///
    /// ```
    /// use mapstore::concurrent::Entry;
    /// let store: mapstore::ConcurrentStore<String, u8> = mapstore::ConcurrentStore::new();
    /// let Entry::Vacant(v) = store.entry("k".to_string()) else { unreachable!() };
    /// assert_eq!(v.into_key(), "k");
    /// ```
    pub fn into_key(self) -> K {
        self.key
    }

    /// Inserts the value; returns a guard on it.
    ///
    /// ```
    /// use mapstore::concurrent::Entry;
    /// let store: mapstore::ConcurrentStore<u8, u8> = mapstore::ConcurrentStore::new();
    /// let Entry::Vacant(v) = store.entry(1) else { unreachable!() };
    /// assert_eq!(*v.insert(2), 2);
    /// ```
    pub fn insert(self, value: V) -> RefMut<'a, K, V> {
        let VacantEntry {
            mut guard,
            key,
            hash,
            hash_builder,
        } = self;
        let index = insert_new(&mut guard, hash_builder, hash, key, value);
        RefMut {
            guard,
            index,
            _left: (None, None),
        }
    }
}

impl<K: fmt::Debug, V: MapValue + fmt::Debug, S> fmt::Debug for Entry<'_, K, V, S> {
    /// `Occupied((key, value))` or `Vacant(key)`.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = mapstore::ConcurrentStore::new();
    /// assert_eq!(format!("{:?}", store.entry(1)), "Vacant(1)");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Occupied(o) => f.debug_tuple("Occupied").field(&o.pair()).finish(),
            Entry::Vacant(v) => f.debug_tuple("Vacant").field(&v.key).finish(),
        }
    }
}

impl<K: fmt::Debug, V: MapValue + fmt::Debug> fmt::Debug for OccupiedEntry<'_, K, V> {
    /// `OccupiedEntry((key, value))`.
    ///
    /// ```
    /// use mapstore::concurrent::Entry;
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// let Entry::Occupied(o) = store.entry(1) else { unreachable!() };
    /// assert_eq!(format!("{o:?}"), "OccupiedEntry((1, 2))");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OccupiedEntry").field(&self.pair()).finish()
    }
}

impl<K: fmt::Debug, V: MapValue, S> fmt::Debug for VacantEntry<'_, K, V, S> {
    /// `VacantEntry(key)`.
    ///
    /// ```
    /// use mapstore::concurrent::Entry;
    /// let store: mapstore::ConcurrentStore<u8, u8> = mapstore::ConcurrentStore::new();
    /// let Entry::Vacant(v) = store.entry(1) else { unreachable!() };
    /// assert_eq!(format!("{v:?}"), "VacantEntry(1)");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VacantEntry").field(&self.key).finish()
    }
}

// ---------------------------------------------------------------------------
// Iteration

/// The iterator of [`ConcurrentStore::iter`]: a [`Ref`] per entry, one shard
/// read-locked at a time (the lock is shared by that shard's `Ref`s and
/// released when the iterator and they have all moved on).
///
/// ```
/// let store: mapstore::ConcurrentStore<u8, u8> = (0..10).map(|i| (i, i)).collect();
/// let it: mapstore::concurrent::Iter<'_, u8, u8> = store.iter();
/// assert_eq!(it.map(|r| u32::from(*r)).sum::<u32>(), 45);
/// ```
pub struct Iter<'a, K, V: MapValue, S = DefaultHashBuilder> {
    store: &'a ConcurrentStore<K, V, S>,
    next_shard: usize,
    /// The shard being walked and the next bucket index in it.
    current: Option<(Arc<ReadGuard<'a, K, V>>, usize)>,
}

impl<'a, K, V: MapValue, S> Iterator for Iter<'a, K, V, S> {
    type Item = Ref<'a, K, V>;

    fn next(&mut self) -> Option<Ref<'a, K, V>> {
        loop {
            if let Some((guard, index)) = &mut self.current {
                while *index < guard.table.num_buckets() {
                    let i = *index;
                    *index += 1;
                    if guard.table.get_bucket(i).is_some() {
                        return Some(Ref {
                            guard: ReadHold::Shared(Arc::clone(guard)),
                            index: i,
                        });
                    }
                }
                self.current = None;
            }
            if self.next_shard >= self.store.shards.len() {
                return None;
            }
            let guard = self.store.read_shard(
                self.next_shard,
                "iter",
                "an `iter()` (or a `Ref` it yielded)",
            );
            self.next_shard += 1;
            if !guard.is_empty() {
                self.current = Some((Arc::new(guard), 0));
            }
        }
    }
}

impl<K, V: MapValue, S> core::iter::FusedIterator for Iter<'_, K, V, S> {}

impl<K, V: MapValue, S> fmt::Debug for Iter<'_, K, V, S> {
    /// The iterator's position: `Iter { next_shard: n }`.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = mapstore::ConcurrentStore::new();
    /// assert_eq!(format!("{:?}", store.iter()), "Iter { next_shard: 0 }");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("next_shard", &self.next_shard)
            .finish()
    }
}

impl<'a, K, V: MapValue, S> IntoIterator for &'a ConcurrentStore<K, V, S> {
    type Item = Ref<'a, K, V>;
    type IntoIter = Iter<'a, K, V, S>;

    /// As [`ConcurrentStore::iter`].
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 1)].into_iter().collect();
    /// for entry in &store {
    ///     assert_eq!(*entry, 1);
    /// }
    /// ```
    fn into_iter(self) -> Iter<'a, K, V, S> {
        self.iter()
    }
}

// ---------------------------------------------------------------------------
// serde

#[cfg(feature = "serde")]
mod serde_impls {
    use alloc::vec::Vec;
    use core::fmt;
    use core::hash::{BuildHasher, Hash};
    use core::marker::PhantomData;

    use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
    use serde::ser::{Serialize, SerializeMap, Serializer};

    use super::ConcurrentStore;
    use crate::MapValue;

    /// A serde map of keys to values, as std's `HashMap` (and DashMap)
    /// serialize. It read-locks every shard, in index order, for as long as
    /// it writes: the output is a snapshot of the store, with its exact
    /// length (formats such as bincode write the length first); writers
    /// wait until it is done. Like [`len`](ConcurrentStore::len), calling it
    /// while this thread holds a guard into the store deadlocks (debug
    /// builds panic).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<String, u32> = [("a".to_string(), 1)].into_iter().collect();
    /// assert_eq!(serde_json::to_string(&store).unwrap(), r#"{"a":1}"#);
    /// ```
    impl<K, V, S> Serialize for ConcurrentStore<K, V, S>
    where
        K: Serialize,
        V: MapValue + Serialize,
    {
        fn serialize<T: Serializer>(&self, serializer: T) -> Result<T::Ok, T::Error> {
            let shards: Vec<_> = (0..self.shards.len())
                .map(|i| {
                    self.read_shard(
                        i,
                        "serialize",
                        "`serialize`, whose key's or value's `Serialize` called the store",
                    )
                })
                .collect();
            let len = shards.iter().map(|shard| shard.len()).sum();
            let mut map = serializer.serialize_map(Some(len))?;
            for shard in &shards {
                for (key, value) in shard.iter() {
                    map.serialize_entry(key, value)?;
                }
            }
            map.end()
        }
    }

    struct StoreVisitor<K, V: MapValue, S>(PhantomData<ConcurrentStore<K, V, S>>);

    impl<'de, K, V, S> Visitor<'de> for StoreVisitor<K, V, S>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: MapValue + Deserialize<'de>,
        S: BuildHasher + Default,
    {
        type Value = ConcurrentStore<K, V, S>;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a map")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            // Cap the hint, as serde does, against hostile lengths.
            let hint = access.size_hint().unwrap_or(0).min(4096);
            let mut store = ConcurrentStore::with_capacity_and_hasher(hint, S::default());
            while let Some((key, value)) = access.next_entry()? {
                // Through `&mut`: no lock. A repeated key: the last value wins.
                drop(store.insert_mut(key, value));
            }
            Ok(store)
        }
    }

    /// Builds a store from a serde map; for a repeated key the last value
    /// wins, as for std's `HashMap`.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<String, u32> =
    ///     serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
    /// assert_eq!(store.len(), 2);
    /// assert_eq!(store.read("a", |v| *v), Some(3));
    /// ```
    impl<'de, K, V, S> Deserialize<'de> for ConcurrentStore<K, V, S>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: MapValue + Deserialize<'de>,
        S: BuildHasher + Default,
    {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_map(StoreVisitor(PhantomData))
        }
    }
}
