//! [`ConcurrentStore`]: a map shared between threads through `&self`, which
//! stores values the way `V::Storage` says.
//!
//! # Design
//!
//! The store is a table built for sharing (`runtime/concurrent_table.rs`),
//! in the style of scc's `HashMap` and boost's `concurrent_flat_map`: its
//! buckets come in groups of 16, each with a 64-byte header holding its own
//! one-word reader-writer lock (parking_lot's) and 16 tag bytes, so two
//! operations on keys of different groups never write the same cache line, and a store of 65 536 entries has thousands of
//! locks instead of a few dozen. A key is hashed once, by the store's `S`:
//! the low bits pick the group, the top 7 bits are the key's tag. A bucket
//! holds what `V::Storage` stores in a table: the entry itself (inline), a
//! key and a `Box` (boxed), or a key and the handle of a pool slot
//! (pooled). Pooled values live in pools striped by the tag's low bits,
//! each behind its own mutex, which is taken only to store or take a value,
//! so an insert allocates no node and a resize moves handles, never values.
//! Each group counts its entries in its header: [`len`](ConcurrentStore::len)
//! sums the counts and locks nothing.
//!
//! Growth does not stop the world. When an insert must chain an overflow
//! node to a full group and a sample of groups spread over the table is
//! more than 3/4 full, it installs an array of twice as many groups. Each write then moves the
//! next eight old groups it can lock without waiting into the new array;
//! until its old group is moved, a key is read and written there. The last
//! mover frees the old array's buckets at once (a group's buckets are read
//! only under its lock, after finding it not moved) and keeps its small
//! headers until the store is dropped, so no operation needs an epoch pin
//! or any other reclamation bookkeeping. No operation ever waits for the
//! whole table.
//!
//! The store's own code has no `unsafe`; the table's module has it all,
//! each block with its `// SAFETY:` argument, and is checked by loom
//! models, Miri, ThreadSanitizer and a linearizability checker
//! (`docs/concurrent.md`).
//!
//! # Blocking and deadlocks
//!
//! Each operation takes at most one group's lock at a time and releases it
//! before it returns, unless it returns a guard (during a resize a write
//! may also move up to eight old groups, only ones it can lock without
//! waiting; `Serialize` holds every group's read lock for a snapshot, but
//! waits for none while holding others: see its docs). An operation
//! *blocks* while another thread holds a conflicting lock on its key's
//! group, a set of about ten keys:
//!
//! - reads ([`get`](ConcurrentStore::get), [`read`](ConcurrentStore::read),
//!   [`view`](ConcurrentStore::view), [`contains_key`](ConcurrentStore::contains_key),
//!   [`iter`](ConcurrentStore::iter), and `Clone` and `Debug`, which walk
//!   as `iter` does) wait while a writer holds that group,
//!   or waits for it (parking_lot's lock lets a queued writer go first);
//! - writes ([`insert`](ConcurrentStore::insert), [`remove`](ConcurrentStore::remove),
//!   [`remove_entry`](ConcurrentStore::remove_entry),
//!   [`get_mut`](ConcurrentStore::get_mut), [`entry`](ConcurrentStore::entry),
//!   [`remove_if`](ConcurrentStore::remove_if),
//!   [`remove_if_mut`](ConcurrentStore::remove_if_mut), [`alter`](ConcurrentStore::alter),
//!   [`iter_mut`](ConcurrentStore::iter_mut), [`retain`](ConcurrentStore::retain),
//!   [`alter_all`](ConcurrentStore::alter_all), [`clear`](ConcurrentStore::clear))
//!   wait for readers and writers of that group.
//!
//! [`len`](ConcurrentStore::len), [`is_empty`](ConcurrentStore::is_empty),
//! [`capacity`](ConcurrentStore::capacity)
//! and [`memory_usage`](ConcurrentStore::memory_usage) take no group lock:
//! they never block on one and never deadlock. Nor do the calls through
//! `&mut self` ([`shrink_to_fit`](ConcurrentStore::shrink_to_fit),
//! [`reserve`](ConcurrentStore::reserve), `into_map_store`, ...): no other
//! thread and no guard can reach the store then.
//!
//! Keys and values that leave the store are dropped after the group's lock
//! is released, so their `Drop` may call the store: removed and replaced
//! values (returned by [`remove`](ConcurrentStore::remove) and
//! [`insert`](ConcurrentStore::insert), kept by the guard of an occupied
//! [`Entry::insert`] until it is dropped), the entries
//! [`retain`](ConcurrentStore::retain) and [`clear`](ConcurrentStore::clear)
//! remove, the key given to `insert` or `entry` for a key already present
//! (the stored key stays, as in std), and an unused
//! [`or_insert`](Entry::or_insert) default. What runs under the lock: the
//! closures given to `read`, `view`, `remove_if*`, `alter`, `alter_all`,
//! `retain` and an entry's `or_insert_with*` and `and_modify` (and their
//! drop, with what they captured; `alter`'s closure drops or returns the
//! value it is given), keys' `Hash` and `Eq`, and the drops of a call that
//! unwinds from a panic under the lock.
//!
//! Without guards held, and with no store call from those, nothing
//! deadlocks. With guards ([`Ref`], [`RefMut`],
//! an [`Entry`], and an [`iter`](ConcurrentStore::iter) or
//! [`iter_mut`](ConcurrentStore::iter_mut) itself: the iterator holds the
//! read (`iter_mut`: write) lock of the group it is in until it moves past
//! that group, and its items hold it until the last of them is dropped),
//! DashMap's rules, applied to groups of about ten keys instead of shards
//! of thousands:
//!
//! - a thread **deadlocks** if it writes to a group it holds any guard
//!   into, or calls the store at all on a group it holds a [`RefMut`], an
//!   [`Entry`] or an `iter_mut` item into, or calls back into the store from
//!   a closure it passed to it (or from its keys' `Hash`/`Eq`) on the same
//!   group: any call from one that runs under a write lock (`alter`,
//!   `alter_all`, `retain`, an entry's closures), a write from one that
//!   runs under a read lock (`read`, `view`). A read under a read guard of
//!   the same group goes on, also while another thread waits to write it
//!   (a reader joins the readers in ahead of a queued writer, as DashMap's
//!   do). Which keys share a group depends on the table's size
//!   and changes as it grows ([`lock_of`](ConcurrentStore::lock_of) tells,
//!   for now): do not rely on two keys being in different groups. Calls
//!   that visit every group ([`iter`](ConcurrentStore::iter),
//!   [`iter_mut`](ConcurrentStore::iter_mut),
//!   [`retain`](ConcurrentStore::retain), [`alter_all`](ConcurrentStore::alter_all),
//!   [`clear`](ConcurrentStore::clear), `Debug`, `Serialize`) visit the held one too, so they deadlock under
//!   any guard of the same thread if they write, and under a [`RefMut`] or
//!   [`Entry`] if they read. So does writing while iterating:
//!   `for k in store.iter().map(|r| *r.key()) { store.remove(&k); }` waits
//!   for the iterator's own lock (collect the keys first);
//! - two threads **deadlock** if each holds a guard and then waits for the
//!   other's group, as with any two locks taken in opposite orders (for
//!   example a thread iterating, holding items of one group, while another
//!   holds a [`RefMut`] into a later one and writes the first).
//!
//! A live [`iter`](ConcurrentStore::iter) or [`iter_mut`](ConcurrentStore::iter_mut)
//! (and a running `retain`, `alter_all`, `clear`,
//! `Debug` or `Serialize`) also defers resizes: the table keeps its size,
//! chaining overflow nodes, until the walk ends; the last walk to end
//! starts the resize that came due meanwhile.
//!
//! **Panics under a lock.** A panic inside the closure of `and_modify`,
//! `or_insert_with*` or `retain`, or while a `get_mut`/`entry` guard is
//! being written through, unwinds and releases the lock; the table stays
//! consistent, but the value keeps whatever was written before the
//! panic. The locks have no poison, so no later caller can tell
//! that a value is half-updated: where that matters, build the new value
//! first and store it whole (`insert`, or `*guard = new_value`), or use
//! [`alter`](ConcurrentStore::alter), whose closure owns the value: if it
//! panics, the entry is removed rather than left half-updated.
//!
//! [`read`](ConcurrentStore::read) holds nothing once it returns: prefer it
//! where a guard could live too long, keep guards short, and never hold one
//! across an `.await` (guards are not `Send`).
//!
//! [`try_get`](ConcurrentStore::try_get),
//! [`try_get_mut`](ConcurrentStore::try_get_mut) and
//! [`try_entry`](ConcurrentStore::try_entry) never wait: where the blocking
//! call would wait, they answer [`TryResult::Locked`] (`try_entry`: `None`),
//! so they never deadlock, not even under a guard of the same thread.
//!
//! **The rule: never call the store on a key whose group your thread holds**
//! (through a live `Ref`, `RefMut`, `Entry` or `iter()`, or from inside a
//! closure you gave the store), and since groups change as the store grows,
//! treat any key as possibly in it: drop the guard first, or use `read`. In
//! debug builds (`debug_assertions`) each thread keeps a record of the locks
//! it holds and in which mode, and an operation that would wait for one of
//! them panics instead of hanging, with a message naming what holds the
//! lock (for example "a `Ref` from `get`") and the fix. The check covers
//! every lock the store takes on `&self`; a read under a read guard of the
//! same group never waits, and passes. Release builds keep no record and
//! hang as described above. Each method that can wait for a group's lock
//! says under `# Panics` which locks of its own thread make it panic.
//!
//! ```should_panic
//! let store: mapstore::ConcurrentStore<u32, u32> = [(1, 1)].into_iter().collect();
//! if let Some(v) = store.get(&1) {
//!     // Debug builds: "ConcurrentStore::insert would wait to write a group of
//!     // keys that this thread holds through a `Ref` from `get` ..."
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

use hashbrown::{DefaultHashBuilder, Equivalent, TryReserveError};

use crate::concurrent_table::{self as table, Local, RawTable, Why};
use crate::map::{hasher, make_hash, reserve_table, unwrap_reserve, Map};
use crate::storage::Storage;
use crate::storage::StorageOps as Ops;
use crate::StorageKind;
use crate::{MapStore, MapValue};

/// The table of a store whose values are `V`.
type Table<K, V> = RawTable<K, V, <V as MapValue>::Storage>;
/// A group an iterator holds, shared with the items it yielded.
type SharedGroup<'a, K, V> = Arc<table::SharedGroup<'a, K, V, <V as MapValue>::Storage>>;
/// A key's group, write-locked: the key's bucket, or its place.
type Found<'a, K, V> = Result<
    table::WriteRef<'a, K, V, <V as MapValue>::Storage>,
    table::Vacant<'a, K, V, <V as MapValue>::Storage>,
>;

/// What a `try_` lookup found without waiting, as DashMap's `TryResult`:
/// the guard, no entry for the key, or a lock it would have had to wait
/// for.
///
/// ```
/// use mapstore::concurrent::TryResult;
///
/// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
/// match store.try_get(&1) {
///     TryResult::Present(v) => assert_eq!(*v, 2),
///     TryResult::Absent => unreachable!("1 is in the store"),
///     TryResult::Locked => unreachable!("nothing holds its group"),
/// };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub enum TryResult<R> {
    /// The key is present: its guard.
    Present(R),
    /// The key is absent (checked under its group's lock).
    Absent,
    /// The key's group is locked in a conflicting mode: the call would
    /// have waited (or, with a guard of this thread on the group,
    /// deadlocked).
    Locked,
}

impl<R> TryResult<R> {
    /// Whether the key was found.
    pub fn is_present(&self) -> bool {
        matches!(self, TryResult::Present(_))
    }

    /// Whether the key was found absent.
    pub fn is_absent(&self) -> bool {
        matches!(self, TryResult::Absent)
    }

    /// Whether the group was locked.
    pub fn is_locked(&self) -> bool {
        matches!(self, TryResult::Locked)
    }

    /// The guard, if present.
    pub fn try_unwrap(self) -> Option<R> {
        match self {
            TryResult::Present(r) => Some(r),
            TryResult::Absent | TryResult::Locked => None,
        }
    }

    /// The guard.
    ///
    /// # Panics
    ///
    /// If the key was absent or its group locked.
    #[track_caller]
    pub fn unwrap(self) -> R {
        match self {
            TryResult::Present(r) => r,
            TryResult::Absent => panic!("called `TryResult::unwrap` on an absent key"),
            TryResult::Locked => panic!("called `TryResult::unwrap` on a locked key"),
        }
    }

    /// Maps the guard (for example to a copy of the value).
    pub fn map<T>(self, f: impl FnOnce(R) -> T) -> TryResult<T> {
        match self {
            TryResult::Present(r) => TryResult::Present(f(r)),
            TryResult::Absent => TryResult::Absent,
            TryResult::Locked => TryResult::Locked,
        }
    }
}

/// A hash map shared between threads through `&self`, built for many cores
/// (a lock per group of 16 buckets, growth that never stops the world),
/// storing its values as `V::Storage` says: inline, boxed or pooled.
///
/// It is the `MapStore` of shared state (sessions, caches, registries): the
/// same API as DashMap's for the common operations, with the value layout of
/// [`MapStore`](type@crate::MapStore). See the [module docs](self) for the design, and
/// [Blocking and deadlocks](self#blocking-and-deadlocks) for exactly when an
/// operation can block, and when debug builds panic instead of deadlocking
/// (each method that can wait for a lock says so under `# Panics`).
///
/// ```
/// # #[cfg(feature = "derive")] {
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
/// # }
/// ```
///
/// # Send and Sync
///
/// `ConcurrentStore<K, V, S>` is `Send` when `K`, `V` and `S` are, and `Sync`
/// when `K` and `V` are `Send + Sync` and `S` is `Sync`, as
/// `RwLock<HashMap<K, V, S>>` is. Its guards ([`Ref`], [`RefMut`],
/// [`Entry`], and the walks [`Iter`] and [`IterMut`]) are not `Send`: a
/// guard held across an `.await` cannot move to another thread, where
/// releasing the lock would be undefined. They are `Sync` when `K` and `V`
/// are, as std's lock guards are: a shared reference to a guard gives out
/// only `&K` and `&V`.
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
    table: Table<K, V>,
    hash_builder: S,
}

// Unwind safety as std's `HashMap<K, V, S>` has it (and scc's concurrent
// map): from `K`, `V` and `S` alone. The table's cells and raw pointers
// would otherwise make the store neither, whatever it holds, so that
// `catch_unwind` around code that shares one failed to compile. A panic
// inside any call (a `Hash`, an `Eq`, a closure) unwinds out of it with
// every lock released and every entry whole or absent (`tests/concurrent.rs`,
// `panics_*`); what it can leave is a value that the panicking closure
// itself had half updated, as a panic in code holding a `get_mut` of a
// std map can (see "Panics under a lock" in `docs/concurrent.md`).
impl<K, V, S> std::panic::UnwindSafe for ConcurrentStore<K, V, S>
where
    K: std::panic::UnwindSafe,
    V: MapValue + std::panic::UnwindSafe,
    S: std::panic::UnwindSafe,
{
}
impl<K, V, S> std::panic::RefUnwindSafe for ConcurrentStore<K, V, S>
where
    K: std::panic::RefUnwindSafe,
    V: MapValue + std::panic::RefUnwindSafe,
    S: std::panic::RefUnwindSafe,
{
}

impl<K, V: MapValue> ConcurrentStore<K, V, DefaultHashBuilder> {
    /// Creates an empty store: one group of buckets, which grows as
    /// entries arrive.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u64, String> = mapstore::ConcurrentStore::new();
    /// assert!(store.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::with_hasher(DefaultHashBuilder::default())
    }

    /// Creates an empty store with room for at least `capacity` entries
    /// before it first grows.
    ///
    /// # Panics
    ///
    /// With `"Hash table capacity overflow"` (std's message), as std's
    /// `HashMap::with_capacity` does, if the store's bucket arrays for
    /// `capacity` entries would exceed `isize::MAX` bytes (a `capacity` so
    /// large that counting them overflows `usize` included). If the allocator
    /// fails, it calls `handle_alloc_error` (which aborts by default), as
    /// std's does.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u64, u64> = mapstore::ConcurrentStore::with_capacity(1000);
    /// assert!(store.memory_usage() > 1000 * 16);
    /// ```
    #[track_caller]
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
    /// # Panics
    ///
    /// As [`with_capacity`](ConcurrentStore::with_capacity).
    ///
    /// ```
    /// use std::hash::RandomState;
    /// let store: mapstore::ConcurrentStore<u32, u32, _> =
    ///     mapstore::ConcurrentStore::with_capacity_and_hasher(64, RandomState::new());
    /// assert!(store.is_empty());
    /// ```
    #[track_caller]
    pub fn with_capacity_and_hasher(capacity: usize, hash_builder: S) -> Self {
        ConcurrentStore {
            table: RawTable::with_capacity(capacity),
            hash_builder,
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

    /// The number of entries. It takes no lock: it sums the groups' counts,
    /// so it reads one header per 16 buckets (about 0.3 ms at a million
    /// entries, where DashMap's reads one count per shard; scc's `len` also
    /// reads the whole table). Code that checks the size on every insert
    /// (`if cache.len() > MAX`) keeps its own `AtomicUsize` beside the
    /// store. With no write running it is exact. Under concurrent writes, as
    /// DashMap's: each entry present for the whole call is counted once,
    /// and one inserted or removed during it may or may not be, so the
    /// count lies between the entries present throughout and those present
    /// at any point of the call. A resize moving entries meanwhile does not
    /// change that: a sum that a move crossed is taken again.
    ///
    /// ```
    /// let store = mapstore::ConcurrentStore::new();
    /// store.insert('a', 1u8);
    /// assert_eq!(store.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the store has no entries (as [`len`](Self::len): no lock),
    /// stopping at the first group that holds one: a store with entries
    /// answers after a few groups, an empty one after reading them all.
    ///
    /// ```
    /// let store = mapstore::ConcurrentStore::new();
    /// assert!(store.is_empty());
    /// store.insert(1u8, 2u8);
    /// assert!(!store.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
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

    /// Bytes this store holds: its bucket arrays (two while it grows),
    /// overflow nodes, counters, pool chunks and boxes; not the heap memory
    /// keys and values own themselves. It takes no group lock (only each
    /// pool stripe's mutex, briefly).
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// #[derive(mapstore::MapStore)]
    /// struct Page([u8; 1000]);
    ///
    /// let store = mapstore::ConcurrentStore::new();
    /// store.insert(1u64, Page([0; 1000]));
    /// assert!(store.memory_usage() >= 1000);
    /// assert_eq!(store.storage(), mapstore::StorageKind::Pooled);
    /// # }
    /// ```
    pub fn memory_usage(&self) -> usize {
        self.table.memory_usage()
    }

    /// About the number of entries the store holds before it grows: 3/4 of
    /// its buckets, and never less than [`len`](Self::len), as std's
    /// (a table grows only when a group overflows, so it may hold more than
    /// 3/4 before it does). The growth check samples groups, so a store may
    /// grow a little before or after; [`with_capacity`](Self::with_capacity)`(n)`
    /// gives a capacity of at least `n`. Takes no lock.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, u32> = mapstore::ConcurrentStore::with_capacity(1000);
    /// assert!(store.capacity() >= 1000);
    /// let mut small = mapstore::ConcurrentStore::new();
    /// (0..13u32).for_each(|i| drop(small.insert(i, i)));
    /// small.shrink_to_fit();
    /// assert!(small.capacity() >= small.len());
    /// ```
    pub fn capacity(&self) -> usize {
        self.table.capacity().max(self.table.len())
    }

    /// Removes every entry, group by group (each write-locked in turn).
    ///
    /// Keys and values are dropped after each group's lock is released, so
    /// their `Drop` may call the store.
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread holds any group of the store, whose
    /// write lock `clear` would wait for when it reaches that group: through
    /// any guard into the store (a [`Ref`], a [`RefMut`], an [`Entry`], a
    /// live [`iter`](Self::iter) or [`iter_mut`](Self::iter_mut)), or because
    /// it is called from a closure (or a key's `Hash`/`Eq`) that the store
    /// runs under a group's lock. Release builds deadlock there instead; see
    /// [Blocking and deadlocks](self#blocking-and-deadlocks).
    ///
    /// If a value's `Drop` panics, the panic propagates: the groups cleared
    /// so far are empty (the entries of the group being dropped after the
    /// panicking one are leaked, none is dropped twice) and the groups after
    /// it keep their entries.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, String> =
    ///     (0..10).map(|i| (i, i.to_string())).collect();
    /// store.clear();
    /// assert!(store.is_empty());
    /// ```
    pub fn clear(&self) {
        let why = Why {
            op: "clear",
            holder: "`clear`",
        };
        let mut walk = self.table.walk();
        let mut removed = Vec::new();
        while let Some(mut group) = walk.next_group(true, why) {
            group.clear(|entry| removed.push(entry));
            drop(group);
            removed.clear();
        }
    }

    /// Keeps only the entries for which `keep` returns `true`, group by
    /// group, each write-locked while `keep` runs over it. Entries inserted
    /// meanwhile into a group already visited are kept.
    ///
    /// The entries removed from a group are dropped after its lock is
    /// released, so their `Drop` may call the store.
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread holds any group of the store, whose
    /// write lock `retain` would wait for when it reaches that group: through
    /// any guard into the store (a [`Ref`], a [`RefMut`], an [`Entry`], a
    /// live [`iter`](Self::iter) or [`iter_mut`](Self::iter_mut)), or because
    /// it is called from a closure (or a key's `Hash`/`Eq`) that the store
    /// runs under a group's lock. Release builds deadlock there instead; see
    /// [Blocking and deadlocks](self#blocking-and-deadlocks).
    ///
    /// `keep` runs under the lock of the group it visits: a call from `keep`
    /// into the store on a key of that group panics the same way (see the
    /// called method's `# Panics`).
    ///
    /// If `keep` panics, the panic propagates: the entries visited so far
    /// have been kept or removed as it said (those removed are dropped after
    /// the lock is released), and the store stays usable.
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
        let why = Why {
            op: "retain",
            holder: "`retain`, whose closure called the store",
        };
        let mut walk = self.table.walk();
        // Declared before the guards: if `keep` panics, the group unlocks
        // first, then what was removed is dropped.
        // (A boxed value stays in its box until then.)
        let mut removed = Vec::new();
        while let Some(mut group) = walk.next_group(true, why) {
            group.retain(&mut keep, |entry| removed.push(entry));
            drop(group);
            removed.clear();
        }
    }

    /// Iterates over the entries, yielding a [`Ref`] for each.
    ///
    /// Consistency: one group at a time is read-locked, from its first entry
    /// to its last, and stays locked while any `Ref` from it is alive. Each
    /// group is therefore seen as a snapshot, but not the store as a whole:
    /// an entry inserted or removed concurrently in a group not yet reached
    /// may or may not be seen, and one in a group already passed is not; an
    /// entry present throughout is seen exactly once, even while the store
    /// grows. While the iterator lives the store does not start a resize.
    /// The iterator holds the read lock of the group it is in until it moves
    /// past it (and each item, until dropped): writing to the store from the
    /// iterating thread before the iterator is done can deadlock (debug
    /// builds panic instead: see the writing method's `# Panics`). Collect
    /// what you need first.
    ///
    /// # Panics
    ///
    /// In debug builds, the iterator's `next` panics when it reaches a group
    /// this thread holds for writing, whose read lock it would wait for:
    /// through a [`RefMut`], an [`Entry`] or a live
    /// [`iter_mut`](Self::iter_mut), or because it runs in a closure (or a
    /// key's `Hash`/`Eq`) that the store runs under a group's write lock. A
    /// read guard of this thread (a [`Ref`], another `iter`) does not make
    /// it wait. Release builds deadlock there instead; see [Blocking and
    /// deadlocks](self#blocking-and-deadlocks).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, u32> = (0..4).map(|i| (i, i * 10)).collect();
    /// let mut pairs: Vec<(u32, u32)> = store.iter().map(|r| (*r.key(), *r.value())).collect();
    /// pairs.sort();
    /// assert_eq!(pairs, [(0, 0), (1, 10), (2, 20), (3, 30)]);
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V, S> {
        Iter {
            walk: Local(self.table.walk()),
            current: Local(None),
            _hasher: PhantomData,
            _not_send: PhantomData,
        }
    }

    /// Iterates over the entries, yielding a [`RefMut`] for each, through
    /// which the value can change (as DashMap's `iter_mut`).
    ///
    /// Consistency as [`iter`](ConcurrentStore::iter)'s, one group at a
    /// time, but each group is write-locked, from its first entry to its
    /// last, and stays locked while any `RefMut` from it is alive: a
    /// reader of that group waits meanwhile. Writing to or reading from
    /// the store on the iterating thread before the iterator and its
    /// items are done can deadlock (debug builds panic instead: see the
    /// called method's `# Panics`). To change the values and drop some
    /// entries in one pass, [`retain`](ConcurrentStore::retain).
    ///
    /// # Panics
    ///
    /// In debug builds, the iterator's `next` panics when it reaches a group
    /// this thread holds, whose write lock it would wait for: through any
    /// guard into it (a [`Ref`], a [`RefMut`], an [`Entry`], another live
    /// [`iter`](Self::iter) or `iter_mut`), or because it runs in a closure
    /// (or a key's `Hash`/`Eq`) that the store runs under a group's lock.
    /// Release builds deadlock there instead; see [Blocking and
    /// deadlocks](self#blocking-and-deadlocks).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, u32> = (0..4).map(|i| (i, i)).collect();
    /// for mut entry in store.iter_mut() {
    ///     *entry *= 10;
    /// }
    /// assert_eq!(store.read(&3, |v| *v), Some(30));
    /// ```
    pub fn iter_mut(&self) -> IterMut<'_, K, V, S> {
        IterMut {
            current: Local(Vec::new().into_iter()),
            walk: Local(self.table.walk()),
            _hasher: PhantomData,
            _not_send: PhantomData,
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
        let ConcurrentStore {
            mut table,
            hash_builder,
        } = self;
        let mut map = Map::with_capacity_and_hasher(table.len(), hash_builder);
        table.drain_with(|key, value| {
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
        });
        map
    }
}

/// The table's hash of `key`: the store's hasher's, spread over all 64
/// bits by [`table::spread`] (the table reads its low bits, its top seven and
/// four in between).
#[inline]
fn table_hash<S: BuildHasher, Q: Hash + ?Sized>(hash_builder: &S, key: &Q) -> u64 {
    table::spread(make_hash(hash_builder, key))
}

impl<K, V, S> ConcurrentStore<K, V, S>
where
    K: Eq + Hash,
    V: MapValue,
    S: BuildHasher,
{
    #[inline]
    fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        table_hash(&self.hash_builder, key)
    }

    /// Locks `key`'s group for writing (moving its old group first while the
    /// store grows) and looks the key up.
    #[inline]
    #[track_caller]
    fn write<Q>(&self, hash: u64, key: &Q, why: Why) -> Found<'_, K, V>
    where
        Q: Equivalent<K> + ?Sized,
    {
        let hash_of = |k: &K| table_hash(&self.hash_builder, k);
        self.table.entry(hash, key, why, &hash_of)
    }

    /// An id of the lock that guards `key` now: two keys with the same id
    /// share a lock (a group of about ten keys), so a thread holding a guard
    /// on one deadlocks if it writes the other (debug builds panic instead).
    /// Which keys share a lock changes as the store grows: use it to
    /// understand a hang, not to plan around one.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, u32> = mapstore::ConcurrentStore::new();
    /// assert_eq!(store.lock_of(&7), store.lock_of(&7));
    /// ```
    pub fn lock_of<Q>(&self, key: &Q) -> usize
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.table.lock_of(self.hash(key))
    }

    /// Inserts a value. If the key was present, returns the old value and
    /// keeps the old key, as std's `HashMap::insert` does. Write-locks the
    /// key's group; the old value is dropped by the caller and the key given
    /// for a present key is dropped here, both after the lock is released.
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread already holds `key`'s group, whose
    /// write lock this call would wait for: through any guard into it (a
    /// [`Ref`], a [`RefMut`], an [`Entry`], a live [`iter`](Self::iter) or
    /// [`iter_mut`](Self::iter_mut)), or because it is called from a closure
    /// (or a key's `Hash`/`Eq`) that the store runs under that group's lock.
    /// Release builds deadlock there instead; see [Blocking and
    /// deadlocks](self#blocking-and-deadlocks).
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// #[derive(mapstore::MapStore, Debug, PartialEq)]
    /// struct Frame([u8; 300]);
    ///
    /// let store = mapstore::ConcurrentStore::new();
    /// assert_eq!(store.insert("k", Frame([1; 300])), None);
    /// assert_eq!(store.insert("k", Frame([2; 300])), Some(Frame([1; 300])));
    /// # }
    /// ```
    #[cfg_attr(debug_assertions, track_caller)]
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        let hash = self.hash(&key);
        let why = Why {
            op: "insert",
            holder: "`insert`, whose key's `Hash` or `Eq` called the store",
        };
        match self.write(hash, &key, why) {
            Ok(mut found) => {
                let old = core::mem::replace(found.pair_mut().1, value);
                drop(found);
                // The duplicate key is dropped here, after the lock is released.
                drop(key);
                Some(old)
            }
            Err(vacant) => {
                vacant.insert_and_unlock(key, value);
                None
            }
        }
    }

    /// Removes a key, returning its value, which is dropped by the caller
    /// after the group's lock is released.
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread already holds `key`'s group, whose
    /// write lock this call would wait for: through any guard into it (a
    /// [`Ref`], a [`RefMut`], an [`Entry`], a live [`iter`](Self::iter) or
    /// [`iter_mut`](Self::iter_mut)), or because it is called from a closure
    /// (or a key's `Hash`/`Eq`) that the store runs under that group's lock.
    /// Release builds deadlock there instead; see [Blocking and
    /// deadlocks](self#blocking-and-deadlocks).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 10)].into_iter().collect();
    /// assert_eq!(store.remove(&1), Some(10));
    /// assert_eq!(store.remove(&1), None);
    /// ```
    #[cfg_attr(debug_assertions, track_caller)]
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let why = Why {
            op: "remove",
            holder: "`remove`, whose key's `Eq` called the store",
        };
        self.remove_with(key, why).map(|(_, v)| v)
    }

    /// Removes a key, returning the stored key and its value.
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread already holds `key`'s group, whose
    /// write lock this call would wait for: through any guard into it (a
    /// [`Ref`], a [`RefMut`], an [`Entry`], a live [`iter`](Self::iter) or
    /// [`iter_mut`](Self::iter_mut)), or because it is called from a closure
    /// (or a key's `Hash`/`Eq`) that the store runs under that group's lock.
    /// Release builds deadlock there instead; see [Blocking and
    /// deadlocks](self#blocking-and-deadlocks).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<String, u8> = [("a".to_string(), 1)].into_iter().collect();
    /// assert_eq!(store.remove_entry("a"), Some(("a".to_string(), 1)));
    /// ```
    #[cfg_attr(debug_assertions, track_caller)]
    pub fn remove_entry<Q>(&self, key: &Q) -> Option<(K, V)>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let why = Why {
            op: "remove_entry",
            holder: "`remove_entry`, whose key's `Eq` called the store",
        };
        self.remove_with(key, why)
    }

    /// [`remove_entry`](Self::remove_entry), named `why` in debug builds'
    /// re-lock message.
    #[inline]
    #[cfg_attr(debug_assertions, track_caller)]
    fn remove_with<Q>(&self, key: &Q, why: Why) -> Option<(K, V)>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let hash = self.hash(key);
        self.write(hash, key, why).ok().map(table::WriteRef::remove)
    }

    /// Removes a key if `f` returns `true` for its entry, returning the stored
    /// key and its value; `f` and the removal run under one write lock, so no
    /// other thread changes the entry between the test and the removal (as
    /// DashMap's `remove_if`). The removed pair is dropped by the caller,
    /// after the lock is released; `f` runs under it (see the module docs).
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread already holds `key`'s group, whose
    /// write lock this call would wait for: through any guard into it (a
    /// [`Ref`], a [`RefMut`], an [`Entry`], a live [`iter`](Self::iter) or
    /// [`iter_mut`](Self::iter_mut)), or because it is called from a closure
    /// (or a key's `Hash`/`Eq`) that the store runs under that group's lock.
    /// Release builds deadlock there instead; see [Blocking and
    /// deadlocks](self#blocking-and-deadlocks).
    ///
    /// ```
    /// let sessions: mapstore::ConcurrentStore<u32, u64> = [(1, 10), (2, 99)].into_iter().collect();
    /// // Evict only what has expired, atomically with the check.
    /// assert_eq!(sessions.remove_if(&1, |_, expires| *expires < 50), Some((1, 10)));
    /// assert_eq!(sessions.remove_if(&2, |_, expires| *expires < 50), None);
    /// assert_eq!(sessions.remove_if(&3, |_, _| true), None);
    /// assert_eq!(sessions.len(), 1);
    /// ```
    #[cfg_attr(debug_assertions, track_caller)]
    pub fn remove_if<Q>(&self, key: &Q, f: impl FnOnce(&K, &V) -> bool) -> Option<(K, V)>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let why = Why {
            op: "remove_if",
            holder: "`remove_if`, whose closure (or a key's `Eq`) called the store",
        };
        self.remove_where(key, why, |k, v| f(k, v))
    }

    /// [`remove_if`](Self::remove_if) and [`remove_if_mut`](Self::remove_if_mut):
    /// the test and the removal under one write lock.
    #[cfg_attr(debug_assertions, track_caller)]
    fn remove_where<Q>(
        &self,
        key: &Q,
        why: Why,
        f: impl FnOnce(&K, &mut V) -> bool,
    ) -> Option<(K, V)>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let mut found = self.write(self.hash(key), key, why).ok()?;
        let (k, v) = found.pair_mut();
        if f(k, v) {
            Some(found.remove())
        } else {
            None
        }
    }

    /// [`remove_if`](Self::remove_if) with `&mut V`: `f` may change the
    /// value it keeps (as DashMap's `remove_if_mut`).
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread already holds `key`'s group, whose
    /// write lock this call would wait for: through any guard into it (a
    /// [`Ref`], a [`RefMut`], an [`Entry`], a live [`iter`](Self::iter) or
    /// [`iter_mut`](Self::iter_mut)), or because it is called from a closure
    /// (or a key's `Hash`/`Eq`) that the store runs under that group's lock.
    /// Release builds deadlock there instead; see [Blocking and
    /// deadlocks](self#blocking-and-deadlocks).
    ///
    /// ```
    /// let credits: mapstore::ConcurrentStore<&str, u32> = [("ann", 2)].into_iter().collect();
    /// // Spend one credit; remove the account when none is left.
    /// let spend = |_: &&str, c: &mut u32| {
    ///     *c -= 1;
    ///     *c == 0
    /// };
    /// assert_eq!(credits.remove_if_mut("ann", spend), None);
    /// assert_eq!(credits.read("ann", |c| *c), Some(1));
    /// assert_eq!(credits.remove_if_mut("ann", spend), Some(("ann", 0)));
    /// assert!(credits.is_empty());
    /// ```
    #[cfg_attr(debug_assertions, track_caller)]
    pub fn remove_if_mut<Q>(&self, key: &Q, f: impl FnOnce(&K, &mut V) -> bool) -> Option<(K, V)>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let why = Why {
            op: "remove_if_mut",
            holder: "`remove_if_mut`, whose closure (or a key's `Eq`) called the store",
        };
        self.remove_where(key, why, f)
    }

    /// Replaces the value for `key`, if present, with `f(key, value)`, under
    /// the key's write lock (as DashMap's `alter`): no other thread sees the
    /// key absent or the old value once `f` has started. `f` runs under the
    /// lock (see the module docs).
    ///
    /// If `f` panics, the entry is removed (`f` had taken its value; the
    /// key is dropped) and the panic propagates; the store stays usable.
    /// DashMap aborts the process instead.
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread already holds `key`'s group, whose
    /// write lock this call would wait for: through any guard into it (a
    /// [`Ref`], a [`RefMut`], an [`Entry`], a live [`iter`](Self::iter) or
    /// [`iter_mut`](Self::iter_mut)), or because it is called from a closure
    /// (or a key's `Hash`/`Eq`) that the store runs under that group's lock.
    /// Release builds deadlock there instead; see [Blocking and
    /// deadlocks](self#blocking-and-deadlocks).
    ///
    /// ```
    /// let names: mapstore::ConcurrentStore<u32, String> = [(1, "ann".to_string())].into_iter().collect();
    /// names.alter(&1, |_, name| name.to_uppercase());
    /// names.alter(&2, |_, _| unreachable!("absent keys are not visited"));
    /// assert_eq!(names.read(&1, String::clone), Some("ANN".to_string()));
    /// ```
    #[cfg_attr(debug_assertions, track_caller)]
    pub fn alter<Q>(&self, key: &Q, f: impl FnOnce(&K, V) -> V)
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let hash = self.hash(key);
        let why = Why {
            op: "alter",
            holder: "`alter`, whose closure (or a key's `Eq`) called the store",
        };
        if let Ok(found) = self.write(hash, key, why) {
            found.alter(f);
        }
    }

    /// [`alter`](Self::alter) for every entry, group by group, each
    /// write-locked while `f` runs over it (as [`retain`](Self::retain)
    /// walks).
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread holds any group of the store, whose
    /// write lock `alter_all` would wait for when it reaches that group: through
    /// any guard into the store (a [`Ref`], a [`RefMut`], an [`Entry`], a
    /// live [`iter`](Self::iter) or [`iter_mut`](Self::iter_mut)), or because
    /// it is called from a closure (or a key's `Hash`/`Eq`) that the store
    /// runs under a group's lock. Release builds deadlock there instead; see
    /// [Blocking and deadlocks](self#blocking-and-deadlocks).
    ///
    /// `f` runs under the lock of the group it visits: a call from `f` into
    /// the store on a key of that group panics the same way (see the called
    /// method's `# Panics`).
    ///
    /// If `f` panics, the panic propagates: the entry it was given is
    /// removed, the entries visited before it keep their new values and the
    /// others their old ones.
    ///
    /// ```
    /// let prices: mapstore::ConcurrentStore<&str, u32> = [("tea", 3), ("cake", 5)].into_iter().collect();
    /// prices.alter_all(|_, p| p * 2);
    /// assert_eq!(prices.read("cake", |p| *p), Some(10));
    /// ```
    pub fn alter_all(&self, mut f: impl FnMut(&K, V) -> V) {
        let why = Why {
            op: "alter_all",
            holder: "`alter_all`, whose closure called the store",
        };
        let mut walk = self.table.walk();
        while let Some(mut group) = walk.next_group(true, why) {
            group.alter_all(&mut f);
        }
    }

    /// Shrinks the store's arrays to fit its entries, through `&mut self`
    /// (as std's `HashMap::shrink_to_fit`; DashMap's takes `&self`). Also
    /// finishes a resize under way, frees what earlier resizes kept, and
    /// gives back the pool chunks no value uses. Values do not move.
    ///
    /// ```
    /// let mut store: mapstore::ConcurrentStore<u32, u32> = (0..10_000).map(|i| (i, i)).collect();
    /// store.retain(|&k, _| k < 10);
    /// let before = store.memory_usage();
    /// store.shrink_to_fit();
    /// assert!(store.memory_usage() < before / 10);
    /// assert_eq!(store.len(), 10);
    /// assert!(store.capacity() >= 10);
    /// ```
    pub fn shrink_to_fit(&mut self) {
        self.shrink_to(0);
    }

    /// Shrinks the store's arrays to hold at least `min_capacity` entries
    /// (and all it holds), as [`shrink_to_fit`](Self::shrink_to_fit) does.
    ///
    /// ```
    /// let mut store: mapstore::ConcurrentStore<u32, u32> = mapstore::ConcurrentStore::with_capacity(10_000);
    /// store.insert(1, 1);
    /// store.shrink_to(100);
    /// assert!(store.capacity() >= 100 && store.capacity() < 10_000);
    /// ```
    pub fn shrink_to(&mut self, min_capacity: usize) {
        let hash_builder = &self.hash_builder;
        unwrap_reserve(
            self.table
                .rebuild(min_capacity, true, |k| table_hash(hash_builder, k)),
        );
    }

    /// Makes room for at least `additional` more entries before the store
    /// grows, through `&mut self` (one move of every entry, instead of the
    /// resizes that inserting them would run). The room is in the table;
    /// pooled values still take pool chunks as they arrive.
    ///
    /// # Panics
    ///
    /// With `"Hash table capacity overflow"` (std's message), as std's
    /// `HashMap::reserve` does, if the store's bucket arrays for
    /// [`len`](Self::len)` + additional` entries would exceed `isize::MAX`
    /// bytes (that sum overflowing `usize` included), as
    /// [`with_capacity`](Self::with_capacity). If the allocator fails, it
    /// calls `handle_alloc_error` (which aborts by default), as std's does.
    /// [`try_reserve`](Self::try_reserve) returns either as an error.
    ///
    /// ```
    /// let mut store: mapstore::ConcurrentStore<u32, u32> = mapstore::ConcurrentStore::new();
    /// store.reserve(5_000);
    /// assert!(store.capacity() >= 5_000);
    /// ```
    pub fn reserve(&mut self, additional: usize) {
        unwrap_reserve(self.try_reserve(additional));
    }

    /// [`reserve`](Self::reserve), returning an error instead of panicking
    /// or aborting, as std's `HashMap::try_reserve` (and DashMap's).
    ///
    /// # Errors
    ///
    /// [`CapacityOverflow`](TryReserveError::CapacityOverflow) when
    /// [`len`](Self::len)` + additional` overflows `usize` or the store's
    /// bucket arrays for that many entries would exceed `isize::MAX` bytes;
    /// [`AllocError`](TryReserveError::AllocError) when the allocator refuses
    /// the memory (the new arrays, or the buffer of the entries' hashes that
    /// moving them into those takes). The store is unchanged either way,
    /// its memory included: nothing is moved before everything is
    /// allocated.
    ///
    /// ```
    /// use mapstore::TryReserveError;
    ///
    /// let mut store: mapstore::ConcurrentStore<u64, u64> = (0..10).map(|i| (i, i)).collect();
    /// assert!(store.try_reserve(1_000).is_ok());
    /// assert_eq!(store.try_reserve(usize::MAX), Err(TryReserveError::CapacityOverflow));
    /// assert!(matches!(
    ///     store.try_reserve(usize::MAX / 64),
    ///     Err(TryReserveError::CapacityOverflow | TryReserveError::AllocError { .. })
    /// ));
    /// assert_eq!(store.len(), 10);
    /// ```
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        let capacity = self
            .len()
            .checked_add(additional)
            .ok_or(TryReserveError::CapacityOverflow)?;
        let hash_builder = &self.hash_builder;
        self.table
            .rebuild(capacity, false, |k| table_hash(hash_builder, k))
    }

    /// Whether the store has a value for the key (under its group's read
    /// lock, released before it returns).
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread already holds `key`'s group for
    /// writing, which this call would wait for: through a [`RefMut`], an
    /// [`Entry`] or a live [`iter_mut`](Self::iter_mut) in it, or because it
    /// is called from a closure (or a key's `Hash`/`Eq`) that the store runs
    /// under that group's write lock. A read guard of this thread (a
    /// [`Ref`], a live [`iter`](Self::iter)) does not make it wait. Release
    /// builds deadlock there instead; see [Blocking and
    /// deadlocks](self#blocking-and-deadlocks).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 1)].into_iter().collect();
    /// assert!(store.contains_key(&1));
    /// assert!(!store.contains_key(&2));
    /// ```
    #[cfg_attr(debug_assertions, track_caller)]
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let why = Why {
            op: "contains_key",
            holder: "`contains_key`, whose key's `Eq` called the store",
        };
        self.table
            .read(self.hash(key), key, why, |_, _| ())
            .is_some()
    }

    /// Calls `f` on the value for `key` under its group's read lock and
    /// returns what it returns; holds nothing once it returns. The lookup to
    /// prefer wherever a guard could be held too long.
    ///
    /// If `f` panics, the panic propagates and the store is unchanged.
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread already holds `key`'s group for
    /// writing, which this call would wait for: through a [`RefMut`], an
    /// [`Entry`] or a live [`iter_mut`](Self::iter_mut) in it, or because it
    /// is called from a closure (or a key's `Hash`/`Eq`) that the store runs
    /// under that group's write lock. A read guard of this thread (a
    /// [`Ref`], a live [`iter`](Self::iter)) does not make it wait. Release
    /// builds deadlock there instead; see [Blocking and
    /// deadlocks](self#blocking-and-deadlocks).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<String, Vec<u32>> = mapstore::ConcurrentStore::new();
    /// store.insert("a".to_string(), vec![1, 2, 3]);
    /// assert_eq!(store.read("a", |v| v.len()), Some(3));
    /// assert_eq!(store.read("b", |v| v.len()), None);
    /// ```
    #[inline]
    #[cfg_attr(debug_assertions, track_caller)]
    pub fn read<Q, R>(&self, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let why = Why {
            op: "read",
            holder: "`read`, whose closure (or a key's `Eq`) called the store",
        };
        self.table.read(self.hash(key), key, why, |_, v| f(v))
    }

    /// [`read`](Self::read) with the stored key too (DashMap's `view`).
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread already holds `key`'s group for
    /// writing, which this call would wait for: through a [`RefMut`], an
    /// [`Entry`] or a live [`iter_mut`](Self::iter_mut) in it, or because it
    /// is called from a closure (or a key's `Hash`/`Eq`) that the store runs
    /// under that group's write lock. A read guard of this thread (a
    /// [`Ref`], a live [`iter`](Self::iter)) does not make it wait. Release
    /// builds deadlock there instead; see [Blocking and
    /// deadlocks](self#blocking-and-deadlocks).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<String, u32> = [("a".to_string(), 1)].into_iter().collect();
    /// assert_eq!(store.view("a", |k, v| format!("{k}={v}")), Some("a=1".to_string()));
    /// ```
    #[inline]
    #[cfg_attr(debug_assertions, track_caller)]
    pub fn view<Q, R>(&self, key: &Q, f: impl FnOnce(&K, &V) -> R) -> Option<R>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let why = Why {
            op: "view",
            holder: "`view`, whose closure (or a key's `Eq`) called the store",
        };
        self.table.read(self.hash(key), key, why, f)
    }

    /// A guard on the value for `key` that holds its group's read lock until
    /// it is dropped. Other readers of the group go on; its writers wait.
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread already holds `key`'s group for
    /// writing, which this call would wait for: through a [`RefMut`], an
    /// [`Entry`] or a live [`iter_mut`](Self::iter_mut) in it, or because it
    /// is called from a closure (or a key's `Hash`/`Eq`) that the store runs
    /// under that group's write lock. A read guard of this thread (a
    /// [`Ref`], a live [`iter`](Self::iter)) does not make it wait. Release
    /// builds deadlock there instead; see [Blocking and
    /// deadlocks](self#blocking-and-deadlocks).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, String> = mapstore::ConcurrentStore::new();
    /// store.insert(1, "one".to_string());
    /// let one = store.get(&1).unwrap();
    /// assert_eq!(*one.key(), 1);
    /// assert_eq!(one.len(), 3); // derefs to the value
    /// ```
    #[inline]
    #[cfg_attr(debug_assertions, track_caller)]
    pub fn get<Q>(&self, key: &Q) -> Option<Ref<'_, K, V>>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let why = Why {
            op: "get",
            holder: "a `Ref` from `get` (or a guard mapped from it)",
        };
        let found = self.table.get(self.hash(key), key, why)?;
        Some(Ref {
            hold: Local(ReadHold::Own(found)),
            _left: None,
            _not_send: PhantomData,
        })
    }

    /// A guard on the value for `key`, mutably, that holds its group's write
    /// lock until it is dropped.
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread already holds `key`'s group, whose
    /// write lock this call would wait for: through any guard into it (a
    /// [`Ref`], a [`RefMut`], an [`Entry`], a live [`iter`](Self::iter) or
    /// [`iter_mut`](Self::iter_mut)), or because it is called from a closure
    /// (or a key's `Hash`/`Eq`) that the store runs under that group's lock.
    /// Release builds deadlock there instead; see [Blocking and
    /// deadlocks](self#blocking-and-deadlocks).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u32, u32> = [(1, 10)].into_iter().collect();
    /// *store.get_mut(&1).unwrap() += 1;
    /// assert_eq!(store.read(&1, |v| *v), Some(11));
    /// ```
    #[inline]
    #[cfg_attr(debug_assertions, track_caller)]
    pub fn get_mut<Q>(&self, key: &Q) -> Option<RefMut<'_, K, V>>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let why = Why {
            op: "get_mut",
            holder: "a `RefMut` from `get_mut` (or a `Ref` it was downgraded to, or a guard mapped from either)",
        };
        let found = self.write(self.hash(key), key, why).ok()?;
        Some(RefMut {
            found: Local(WriteHold::Own(found)),
            _left: (None, None),
            _not_send: PhantomData,
        })
    }

    /// [`get`](Self::get) without waiting: [`TryResult::Locked`] where `get`
    /// would block (a writer holds the key's group, a write guard of this
    /// thread included, or waits for it with no reader in; with a reader
    /// in, a read joins it, as `get`'s does). As DashMap's `try_get`; never
    /// deadlocks (nor panics for a lock of its own thread, in debug builds
    /// either), so it is the read to use where a thread may hold a guard
    /// into the same group.
    ///
    /// ```
    /// use mapstore::concurrent::TryResult;
    ///
    /// let store: mapstore::ConcurrentStore<u32, u32> = [(1, 10)].into_iter().collect();
    /// assert_eq!(store.try_get(&1).map(|r| *r), TryResult::Present(10));
    /// assert!(store.try_get(&2).is_absent());
    ///
    /// let writing = store.get_mut(&1).unwrap();
    /// // `get(&1)` here would deadlock (debug builds panic); `try_get` says so.
    /// assert!(store.try_get(&1).is_locked());
    /// drop(writing);
    /// assert!(store.try_get(&1).is_present());
    /// ```
    pub fn try_get<Q>(&self, key: &Q) -> TryResult<Ref<'_, K, V>>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let why = Why {
            op: "try_get",
            holder: "a `Ref` from `try_get` (or a guard mapped from it)",
        };
        match self.table.try_get(self.hash(key), key, why) {
            Ok(Some(found)) => TryResult::Present(Ref {
                hold: Local(ReadHold::Own(found)),
                _left: None,
                _not_send: PhantomData,
            }),
            Ok(None) => TryResult::Absent,
            Err(()) => TryResult::Locked,
        }
    }

    /// [`get_mut`](Self::get_mut) without waiting: [`TryResult::Locked`]
    /// where `get_mut` would block (any other guard on the key's group, this
    /// thread's included). As DashMap's `try_get_mut`; never deadlocks (nor
    /// panics for a lock of its own thread, in debug builds either).
    ///
    /// ```
    /// use mapstore::concurrent::TryResult;
    ///
    /// let store: mapstore::ConcurrentStore<u32, u32> = [(1, 10)].into_iter().collect();
    /// if let TryResult::Present(mut v) = store.try_get_mut(&1) {
    ///     *v += 1;
    /// }
    /// let reading = store.get(&1).unwrap();
    /// assert!(store.try_get_mut(&1).is_locked());
    /// assert_eq!(*reading, 11);
    /// ```
    pub fn try_get_mut<Q>(&self, key: &Q) -> TryResult<RefMut<'_, K, V>>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let why = Why {
            op: "try_get_mut",
            holder: "a `RefMut` from `try_get_mut` (or a `Ref` it was downgraded to, or a guard mapped from either)",
        };
        let hash_of = |k: &K| table_hash(&self.hash_builder, k);
        match self.table.try_entry(self.hash(key), key, why, &hash_of) {
            Some(Ok(found)) => TryResult::Present(RefMut {
                found: Local(WriteHold::Own(found)),
                _left: (None, None),
                _not_send: PhantomData,
            }),
            Some(Err(_vacant)) => TryResult::Absent,
            None => TryResult::Locked,
        }
    }

    /// [`entry`](Self::entry) without waiting: `None` where `entry` would
    /// block (any other guard on the key's group, this thread's included).
    /// As DashMap's `try_entry`; never deadlocks (nor panics for a lock of
    /// its own thread, in debug builds either). While the store grows, it
    /// moves old groups as any write does, only those it can lock without
    /// waiting.
    ///
    /// ```
    /// let counts: mapstore::ConcurrentStore<char, u32> = mapstore::ConcurrentStore::new();
    /// *counts.try_entry('a').unwrap().or_default() += 1;
    ///
    /// let held = counts.get(&'a').unwrap();
    /// assert!(counts.try_entry('a').is_none());
    /// drop(held);
    /// assert_eq!(counts.read(&'a', |n| *n), Some(1));
    /// ```
    pub fn try_entry(&self, key: K) -> Option<Entry<'_, K, V, S>> {
        let why = Why {
            op: "try_entry",
            holder: "an `Entry` from `try_entry` (or the `RefMut` it returned, or a guard made from that)",
        };
        let hash_of = |k: &K| table_hash(&self.hash_builder, k);
        Some(
            match self.table.try_entry(self.hash(&key), &key, why, &hash_of)? {
                Ok(found) => Entry::Occupied(OccupiedEntry {
                    found: Local(found),
                    _key: key,
                    _old: None,
                    _not_send: PhantomData,
                }),
                Err(vacant) => Entry::Vacant(VacantEntry {
                    vacant: Local(vacant),
                    key,
                    _hasher: PhantomData,
                    _not_send: PhantomData,
                }),
            },
        )
    }

    /// The entry for `key`: holds its group's write lock until it (or the
    /// [`RefMut`] it turns into) is dropped, so everything done through it is
    /// atomic for that key.
    ///
    /// # Panics
    ///
    /// In debug builds, if this thread already holds `key`'s group, whose
    /// write lock this call would wait for: through any guard into it (a
    /// [`Ref`], a [`RefMut`], an [`Entry`], a live [`iter`](Self::iter) or
    /// [`iter_mut`](Self::iter_mut)), or because it is called from a closure
    /// (or a key's `Hash`/`Eq`) that the store runs under that group's lock.
    /// Release builds deadlock there instead; see [Blocking and
    /// deadlocks](self#blocking-and-deadlocks).
    ///
    /// ```
    /// let counts: mapstore::ConcurrentStore<char, u32> = mapstore::ConcurrentStore::new();
    /// for c in "hello".chars() {
    ///     *counts.entry(c).or_default() += 1;
    /// }
    /// assert_eq!(counts.read(&'l', |n| *n), Some(2));
    /// ```
    #[cfg_attr(debug_assertions, track_caller)]
    pub fn entry(&self, key: K) -> Entry<'_, K, V, S> {
        let why = Why {
            op: "entry",
            holder:
                "an `Entry` from `entry` (or the `RefMut` it returned, or a guard made from that)",
        };
        match self.write(self.hash(&key), &key, why) {
            Ok(found) => Entry::Occupied(OccupiedEntry {
                found: Local(found),
                _key: key,
                _old: None,
                _not_send: PhantomData,
            }),
            Err(vacant) => Entry::Vacant(VacantEntry {
                vacant: Local(vacant),
                key,
                _hasher: PhantomData,
                _not_send: PhantomData,
            }),
        }
    }
}

impl<K, V: MapValue, S: Default> Default for ConcurrentStore<K, V, S> {
    /// An empty store with the hasher's default, as std's `HashMap` has for
    /// any `S: Default`.
    ///
    /// ```
    /// use std::hash::{BuildHasherDefault, DefaultHasher};
    ///
    /// let store: mapstore::ConcurrentStore<u8, u8> = Default::default();
    /// assert!(store.is_empty());
    /// let fixed: mapstore::ConcurrentStore<u8, u8, BuildHasherDefault<DefaultHasher>> =
    ///     Default::default();
    /// fixed.insert(1, 2);
    /// assert_eq!(fixed.read(&1, |v| *v), Some(2));
    /// ```
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K, V, S> Clone for ConcurrentStore<K, V, S>
where
    K: Eq + Hash + Clone,
    V: MapValue + Clone,
    S: BuildHasher + Clone,
{
    /// A new store with a clone of every entry and of the hasher, walked group
    /// by group as [`iter`](ConcurrentStore::iter) walks them: each group is
    /// copied under its read lock, so an entry written by another thread
    /// during the clone is in the copy or not, and the copy is not one
    /// instant's snapshot of the whole store (DashMap's clone, too, copies
    /// shard by shard). Blocks and deadlocks as [`iter`](ConcurrentStore::iter)
    /// does, under a write guard of the same thread (debug builds panic
    /// instead: see `iter`'s `# Panics`).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, String> = [(1, "one".to_string())].into_iter().collect();
    /// let copy = store.clone();
    /// store.insert(2, "two".to_string());
    /// assert_eq!((store.len(), copy.len()), (2, 1));
    /// assert_eq!(copy.read(&1, |v| v.clone()).as_deref(), Some("one"));
    /// ```
    fn clone(&self) -> Self {
        let copy = Self::with_capacity_and_hasher(self.len(), self.hash_builder.clone());
        for entry in self.iter() {
            let (key, value) = entry.pair();
            copy.insert(key.clone(), value.clone());
        }
        copy
    }
}

impl<K, V, S> fmt::Debug for ConcurrentStore<K, V, S>
where
    K: fmt::Debug,
    V: MapValue + fmt::Debug,
{
    /// The entries as a map, group by group (read-locking each in turn).
    /// Blocks and deadlocks as [`iter`](ConcurrentStore::iter) does, under a
    /// write guard of the same thread (debug builds panic instead: see
    /// `iter`'s `# Panics`).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(format!("{store:?}"), "{1: 2}");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = Why {
            op: "fmt",
            holder: "`Debug`, whose key's or value's `Debug` called the store",
        };
        let mut map = f.debug_map();
        let mut walk = self.table.walk();
        while let Some(group) = walk.next_group(false, why) {
            map.entries(group.entries());
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
    /// Inserts the pairs (through `&mut self`, so no other thread waits).
    ///
    /// ```
    /// let mut store: mapstore::ConcurrentStore<u8, u8> = mapstore::ConcurrentStore::new();
    /// store.extend([(1, 1), (2, 2)]);
    /// assert_eq!(store.len(), 2);
    /// ```
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (key, value) in iter {
            self.insert(key, value);
        }
    }
}

impl<K, V, S> From<MapStore<K, V, S>> for ConcurrentStore<K, V, S>
where
    K: Eq + Hash,
    V: MapValue,
    S: BuildHasher,
{
    /// Starts sharing a map: its entries, with its hasher. Each value is
    /// moved once, into the store's storage.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// use mapstore::{ConcurrentStore, MapStore};
    ///
    /// #[derive(MapStore)]
    /// struct Frame([u8; 256]);
    ///
    /// let map: MapStore<u32, Frame> = [(1, Frame([1; 256]))].into();
    /// let store = ConcurrentStore::from(map);
    /// assert_eq!(store.read(&1, |v| v.0[0]), Some(1));
    /// # }
    /// ```
    fn from(map: MapStore<K, V, S>) -> Self {
        let (table, side, hash_builder) = crate::pool::into_parts(map);
        let entries = Map::<K, V, V::Storage, ()> {
            table,
            side,
            hash_builder: (),
        };
        let store = Self::with_capacity_and_hasher(entries.len(), hash_builder);
        for (key, value) in entries {
            store.insert(key, value);
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

impl<K, V, S> From<crate::FrozenStore<K, V, S>> for ConcurrentStore<K, V, S>
where
    K: Eq + Hash,
    V: MapValue,
    S: BuildHasher,
{
    /// Shares a frozen store again, to be written (the way back from
    /// `FrozenStore::from(store)`, as DashMap's `ReadOnlyView::into_inner`),
    /// keeping its hasher. The entries are moved, not cloned.
    ///
    /// ```
    /// use mapstore::{ConcurrentStore, FrozenStore};
    ///
    /// let store: ConcurrentStore<u32, u64> = (0..100).map(|k| (k, u64::from(k))).collect();
    /// let frozen = FrozenStore::from(store);
    /// let store = ConcurrentStore::from(frozen);
    /// store.insert(100, 100);
    /// assert_eq!((store.len(), store.read(&7, |v| *v)), (101, Some(7)));
    /// ```
    fn from(frozen: crate::FrozenStore<K, V, S>) -> Self {
        let (entries, hash_builder) = frozen.into_parts();
        let store = Self::with_capacity_and_hasher(entries.len(), hash_builder);
        for (key, value) in entries {
            // Distinct keys: nothing is replaced.
            drop(store.insert(key, value));
        }
        store
    }
}

impl<K, V, S> From<ConcurrentStore<K, V, S>> for crate::FrozenStore<K, V, S>
where
    K: Eq + Hash,
    V: MapValue,
    S: BuildHasher,
{
    /// Freezes a store once its writers are done (DashMap's
    /// `into_read_only`, into the fastest reads of a fixed key set), keeping
    /// its hasher. The entries are moved out, not cloned.
    ///
    /// ```
    /// use mapstore::{ConcurrentStore, FrozenStore};
    ///
    /// let store: ConcurrentStore<u32, u64> = ConcurrentStore::new();
    /// std::thread::scope(|s| {
    ///     for t in 0..2 {
    ///         let store = &store;
    ///         s.spawn(move || (t * 100..t * 100 + 100).for_each(|k| drop(store.insert(k, u64::from(k)))));
    ///     }
    /// });
    /// let frozen = FrozenStore::from(store);
    /// assert_eq!((frozen.len(), frozen[&150]), (200, 150));
    /// ```
    fn from(store: ConcurrentStore<K, V, S>) -> Self {
        let ConcurrentStore {
            mut table,
            hash_builder,
        } = store;
        let mut entries = Vec::with_capacity(table.len());
        table.drain_with(|key, value| entries.push((key, value)));
        crate::FrozenStore::from_iter_with_hasher(entries, hash_builder)
    }
}

impl<K, V: MapValue, S> IntoIterator for ConcurrentStore<K, V, S> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V>;

    /// Ends the sharing and yields every entry, owned, in no particular order.
    /// Needs no `Hash`: the entries are moved out of the table without
    /// rehashing, into a buffer the iterator owns.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, String> =
    ///     [(1, "a".to_string()), (2, "b".to_string())].into_iter().collect();
    /// let mut pairs: Vec<(u8, String)> = store.into_iter().collect();
    /// pairs.sort();
    /// assert_eq!(pairs, [(1, "a".to_string()), (2, "b".to_string())]);
    /// ```
    fn into_iter(self) -> IntoIter<K, V> {
        let mut table = self.table;
        let mut entries = Vec::with_capacity(table.len());
        table.drain_with(|key, value| entries.push((key, value)));
        IntoIter {
            inner: entries.into_iter(),
        }
    }
}

/// The owning iterator of a [`ConcurrentStore`] (its `into_iter`): every
/// entry, in no particular order.
///
/// ```
/// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 1)].into_iter().collect();
/// let iter: mapstore::concurrent::IntoIter<u8, u8> = store.into_iter();
/// assert_eq!(iter.len(), 1);
/// ```
pub struct IntoIter<K, V> {
    inner: alloc::vec::IntoIter<(K, V)>,
}

impl<K, V> Iterator for IntoIter<K, V> {
    type Item = (K, V);

    #[inline]
    fn next(&mut self) -> Option<(K, V)> {
        self.inner.next()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }

    #[inline]
    fn fold<B, F: FnMut(B, (K, V)) -> B>(self, init: B, f: F) -> B {
        self.inner.fold(init, f)
    }
}

impl<K, V> ExactSizeIterator for IntoIter<K, V> {
    #[inline]
    fn len(&self) -> usize {
        self.inner.len()
    }
}

impl<K, V> core::iter::FusedIterator for IntoIter<K, V> {}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for IntoIter<K, V> {
    /// The entries not yet yielded, as a list.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.inner.as_slice()).finish()
    }
}

impl<K, V> Default for IntoIter<K, V> {
    /// An iterator that yields nothing.
    fn default() -> Self {
        IntoIter {
            inner: Vec::new().into_iter(),
        }
    }
}

// ---------------------------------------------------------------------------
// Guards

/// A read guard's lock: its own, or shared by the items of one group that
/// [`ConcurrentStore::iter`] yields; or, for an item of
/// [`ConcurrentStore::iter_mut`] downgraded, its share of the group's write
/// lock (the group's other items may still be written through).
type ReadHold<'a, K, V> = table::ReadHold<'a, K, V, <V as MapValue>::Storage>;

/// What a downgraded [`RefMut`] still keeps to drop after its lock is
/// released (see [`RefMut`]'s `_left`): boxed, and only when there is any.
type Left<K, V> = Option<Box<(Option<K>, Option<Box<V>>)>>;

/// Keeps a guard on the thread that took its lock (a lock is released by
/// that thread): not `Send`, as std's `MutexGuard`, the type it names, is
/// not; and `Sync` only where `&K` and `&T` may be shared, the most a shared
/// guard gives out (`T` the value, or the part of it a mapped guard holds).
type NotSend<'a, K, T> = PhantomData<(std::sync::MutexGuard<'static, ()>, &'a K, &'a T)>;

/// A shared reference to an entry of a [`ConcurrentStore`]: holds its group's
/// read lock until dropped. Derefs to the value.
///
/// Not `Send`: the lock must be released by the thread that took it, so a
/// `Ref` cannot be held across an `.await` of a multi-threaded executor.
/// `Sync` when `K` and `V` are, as std's `RwLockReadGuard` is.
///
/// ```
/// let store: mapstore::ConcurrentStore<&str, u32> = [("a", 1)].into_iter().collect();
/// let a: mapstore::concurrent::Ref<'_, &str, u32> = store.get("a").unwrap();
/// assert_eq!((*a.key(), *a.value(), *a), ("a", 1, 1));
/// ```
pub struct Ref<'a, K, V: MapValue> {
    // Field order is drop order: the lock is released first.
    hold: Local<ReadHold<'a, K, V>>,
    _left: Left<K, V>,
    _not_send: NotSend<'a, K, V>,
}

impl<K, V: MapValue> Ref<'_, K, V> {
    #[inline]
    fn entry_pair(&self) -> (&K, &V) {
        self.hold.pair()
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

impl<'a, K, V: MapValue> Ref<'a, K, V> {
    /// A guard on a part of the value, `f(value)`, that keeps this guard's
    /// lock (DashMap's `Ref::map`): the field of a struct, a `&str` of a
    /// `String`, an element of a `Vec`.
    ///
    /// ```
    /// use mapstore::concurrent::MappedRef;
    ///
    /// let store: mapstore::ConcurrentStore<u32, (String, u64)> =
    ///     [(7, ("seven".to_string(), 49))].into_iter().collect();
    /// let name: MappedRef<'_, u32, (String, u64), str> = store.get(&7).unwrap().map(|v| v.0.as_str());
    /// assert_eq!((*name.key(), &*name), (7, "seven"));
    /// ```
    pub fn map<F, T: ?Sized>(self, f: F) -> MappedRef<'a, K, V, T>
    where
        F: FnOnce(&V) -> &T,
    {
        let Ref {
            hold: Local(hold),
            _left,
            ..
        } = self;
        MappedRef {
            hold: Local(table::MappedRead::new(hold, f)),
            _left,
            _not_send: PhantomData,
        }
    }

    /// [`map`](Ref::map) where `f` may find no part: then this guard comes
    /// back unchanged (DashMap's `Ref::try_map`).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<&str, Vec<u8>> =
    ///     [("a", vec![1, 2, 3])].into_iter().collect();
    /// let second = store.get("a").unwrap().try_map(|v| v.get(1));
    /// assert_eq!(second.ok().as_deref(), Some(&2));
    /// let tenth = store.get("a").unwrap().try_map(|v| v.get(10));
    /// assert_eq!(tenth.unwrap_err().len(), 3);
    /// ```
    pub fn try_map<F, T: ?Sized>(self, f: F) -> Result<MappedRef<'a, K, V, T>, Self>
    where
        F: FnOnce(&V) -> Option<&T>,
    {
        let Ref {
            hold: Local(hold),
            _left,
            ..
        } = self;
        match table::MappedRead::try_new(hold, f) {
            Ok(hold) => Ok(MappedRef {
                hold: Local(hold),
                _left,
                _not_send: PhantomData,
            }),
            Err(hold) => Err(Ref {
                hold: Local(hold),
                _left,
                _not_send: PhantomData,
            }),
        }
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
/// group's write lock until dropped. Derefs (mutably) to the value.
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
    found: Local<WriteHold<'a, K, V>>,
    /// What left the store while the guard was made, dropped after the lock
    /// is released: the key given to `entry` for a present key, and the
    /// value [`Entry::insert`] replaced (boxed, so that a guard stays small
    /// for large values; only when `V` needs dropping).
    _left: (Option<K>, Option<Box<V>>),
    _not_send: NotSend<'a, K, V>,
}

/// What a [`RefMut`] holds: its own write lock (`get_mut`, `entry`), or a
/// share of its group's, taken by [`ConcurrentStore::iter_mut`] for the
/// group's entries together.
type WriteHold<'a, K, V> = table::WriteHold<'a, K, V, <V as MapValue>::Storage>;

impl<'a, K, V: MapValue> RefMut<'a, K, V> {
    /// Turns this guard into a [`Ref`], taking the group's read lock over
    /// from its write lock with no moment unlocked (as DashMap's
    /// `downgrade`): no writer comes between what this guard wrote and what
    /// the `Ref` reads, and other readers of the group go on meanwhile. An
    /// item of [`iter_mut`](ConcurrentStore::iter_mut) keeps its share of
    /// the group's write lock instead, since the group's other items may
    /// still be written through: its group stays write-locked until all of
    /// them are dropped.
    ///
    /// What the guard was keeping to drop after its lock is released (the
    /// key given to `entry` for a present key, a value
    /// [`Entry::insert`] replaced) moves into the `Ref` and is dropped after
    /// the `Ref`'s lock is released.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<&str, u32> = mapstore::ConcurrentStore::new();
    /// let mut hits = store.entry("home").or_insert(0);
    /// *hits += 1;
    /// let hits = hits.downgrade();
    /// // Other threads read the group while `hits` lives; their writes wait.
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert_eq!(store.read("home", |n| *n), Some(1)));
    /// });
    /// assert_eq!(*hits, 1);
    /// ```
    pub fn downgrade(self) -> Ref<'a, K, V> {
        let RefMut {
            found: Local(found),
            _left,
            ..
        } = self;
        let left = (_left.0.is_some() || _left.1.is_some()).then(|| Box::new(_left));
        Ref {
            hold: Local(found.downgrade()),
            _left: left,
            _not_send: PhantomData,
        }
    }

    /// A guard on a part of the value, `f(value)`, mutably, that keeps this
    /// guard's lock (DashMap's `RefMut::map`).
    ///
    /// ```
    /// use mapstore::concurrent::MappedRefMut;
    ///
    /// let store: mapstore::ConcurrentStore<u32, (String, u64)> =
    ///     [(7, ("seven".to_string(), 49))].into_iter().collect();
    /// let mut count: MappedRefMut<'_, u32, (String, u64), u64> =
    ///     store.get_mut(&7).unwrap().map(|v| &mut v.1);
    /// *count += 1;
    /// drop(count);
    /// assert_eq!(store.read(&7, |v| v.1), Some(50));
    /// ```
    pub fn map<F, T: ?Sized>(self, f: F) -> MappedRefMut<'a, K, V, T>
    where
        F: FnOnce(&mut V) -> &mut T,
    {
        let RefMut {
            found: Local(found),
            _left,
            ..
        } = self;
        MappedRefMut {
            found: Local(table::MappedWrite::new(found, f)),
            _left,
            _not_send: PhantomData,
        }
    }

    /// [`map`](RefMut::map) where `f` may find no part: then this guard
    /// comes back unchanged (DashMap's `RefMut::try_map`).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<&str, Vec<u8>> =
    ///     [("a", vec![1, 2, 3])].into_iter().collect();
    /// if let Ok(mut last) = store.get_mut("a").unwrap().try_map(|v| v.last_mut()) {
    ///     *last = 30;
    /// }
    /// let missing = store.get_mut("a").unwrap().try_map(|v| v.get_mut(10));
    /// assert!(missing.is_err());
    /// drop(missing);
    /// assert_eq!(store.read("a", |v| v.clone()), Some(vec![1, 2, 30]));
    /// ```
    pub fn try_map<F, T: ?Sized>(self, f: F) -> Result<MappedRefMut<'a, K, V, T>, Self>
    where
        F: FnOnce(&mut V) -> Option<&mut T>,
    {
        let RefMut {
            found: Local(found),
            _left,
            ..
        } = self;
        match table::MappedWrite::try_new(found, f) {
            Ok(found) => Ok(MappedRefMut {
                found: Local(found),
                _left,
                _not_send: PhantomData,
            }),
            Err(found) => Err(RefMut {
                found: Local(found),
                _left,
                _not_send: PhantomData,
            }),
        }
    }

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
        self.found.pair()
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

    /// The key and the value (DashMap's `RefMut::pair`).
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// assert_eq!(store.get_mut(&1).unwrap().pair(), (&1, &2));
    /// ```
    #[inline]
    pub fn pair(&self) -> (&K, &V) {
        self.bucket_pair()
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
        self.found.pair_mut()
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

/// A shared reference to a part of an entry's value, from [`Ref::map`]:
/// holds the entry's read lock, as the [`Ref`] it came from did, until
/// dropped. Derefs to the part.
///
/// Not `Send`, like [`Ref`]; `Sync` when `K` and `T` are.
///
/// ```
/// let store: mapstore::ConcurrentStore<&str, String> =
///     [("greeting", "hello".to_string())].into_iter().collect();
/// let word = store.get("greeting").unwrap().map(|s| s.as_str());
/// let head = word.map(|s| &s[..2]);
/// assert_eq!((*head.key(), &*head), ("greeting", "he"));
/// ```
pub struct MappedRef<'a, K, V: MapValue, T: ?Sized> {
    // Field order is drop order: the lock is released first.
    hold: Local<table::MappedRead<'a, K, V, V::Storage, T>>,
    _left: Left<K, V>,
    _not_send: NotSend<'a, K, T>,
}

impl<'a, K, V: MapValue, T: ?Sized> MappedRef<'a, K, V, T> {
    /// The entry's key.
    #[inline]
    pub fn key(&self) -> &K {
        self.hold.pair().0
    }

    /// The part of the value.
    #[inline]
    pub fn value(&self) -> &T {
        self.hold.pair().1
    }

    /// The key and the part of the value.
    #[inline]
    pub fn pair(&self) -> (&K, &T) {
        self.hold.pair()
    }

    /// A part of this part, under the same lock.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, (u8, [u16; 2])> = [(1, (2, [3, 4]))].into_iter().collect();
    /// let pair = store.get(&1).unwrap().map(|v| &v.1);
    /// assert_eq!(*pair.map(|a| &a[1]), 4);
    /// ```
    pub fn map<F, U: ?Sized>(self, f: F) -> MappedRef<'a, K, V, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let MappedRef {
            hold: Local(hold),
            _left,
            ..
        } = self;
        MappedRef {
            hold: Local(hold.map(f)),
            _left,
            _not_send: PhantomData,
        }
    }

    /// [`map`](MappedRef::map) where `f` may find no part: then this guard
    /// comes back unchanged.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, Vec<String>> =
    ///     [(1, vec!["x".to_string()])].into_iter().collect();
    /// let names = store.get(&1).unwrap().map(|v| v.as_slice());
    /// let names = names.try_map(|v| v.get(5)).unwrap_err();
    /// let first = names.try_map(|v| v.first()).ok().unwrap();
    /// assert_eq!(first.as_str(), "x");
    /// ```
    pub fn try_map<F, U: ?Sized>(self, f: F) -> Result<MappedRef<'a, K, V, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let MappedRef {
            hold: Local(hold),
            _left,
            ..
        } = self;
        match hold.try_map(f) {
            Ok(hold) => Ok(MappedRef {
                hold: Local(hold),
                _left,
                _not_send: PhantomData,
            }),
            Err(hold) => Err(MappedRef {
                hold: Local(hold),
                _left,
                _not_send: PhantomData,
            }),
        }
    }
}

impl<K, V: MapValue, T: ?Sized> Deref for MappedRef<'_, K, V, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        self.value()
    }
}

impl<K, V: MapValue, T: ?Sized + AsRef<U>, U: ?Sized> AsRef<U> for MappedRef<'_, K, V, T> {
    #[inline]
    fn as_ref(&self) -> &U {
        self.value().as_ref()
    }
}

impl<K: fmt::Debug, V: MapValue, T: ?Sized + fmt::Debug> fmt::Debug for MappedRef<'_, K, V, T> {
    /// `(key, part)`.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, (u8, u8)> = [(1, (2, 3))].into_iter().collect();
    /// assert_eq!(format!("{:?}", store.get(&1).unwrap().map(|v| &v.1)), "(1, 3)");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (k, v) = self.pair();
        f.debug_tuple("").field(k).field(&v).finish()
    }
}

impl<K, V: MapValue, T: ?Sized + fmt::Display> fmt::Display for MappedRef<'_, K, V, T> {
    /// The part, as it displays.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, (u8, String)> =
    ///     [(1, (2, "two".to_string()))].into_iter().collect();
    /// assert_eq!(store.get(&1).unwrap().map(|v| &v.1).to_string(), "two");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.value(), f)
    }
}

/// A mutable reference to a part of an entry's value, from
/// [`RefMut::map`]: holds the entry's write lock, as the [`RefMut`] it came
/// from did, until dropped. Derefs (mutably) to the part.
///
/// Not `Send`, like [`RefMut`]; `Sync` when `K` and `T` are.
///
/// ```
/// let store: mapstore::ConcurrentStore<&str, Vec<u32>> =
///     [("scores", vec![1, 2])].into_iter().collect();
/// let mut scores = store.get_mut("scores").unwrap().map(|v| v.as_mut_slice());
/// scores[0] = 10;
/// assert_eq!(*scores.key(), "scores");
/// drop(scores);
/// assert_eq!(store.read("scores", |v| v[0]), Some(10));
/// ```
pub struct MappedRefMut<'a, K, V: MapValue, T: ?Sized> {
    // Field order is drop order: the lock is released before what left the
    // store is dropped (see [`RefMut`]).
    found: Local<table::MappedWrite<'a, K, V, V::Storage, T>>,
    _left: (Option<K>, Option<Box<V>>),
    _not_send: NotSend<'a, K, T>,
}

impl<'a, K, V: MapValue, T: ?Sized> MappedRefMut<'a, K, V, T> {
    /// The entry's key.
    #[inline]
    pub fn key(&self) -> &K {
        self.found.pair().0
    }

    /// The part of the value.
    #[inline]
    pub fn value(&self) -> &T {
        self.found.pair().1
    }

    /// The part of the value, mutably.
    #[inline]
    pub fn value_mut(&mut self) -> &mut T {
        self.found.pair_mut().1
    }

    /// The key and the part of the value.
    #[inline]
    pub fn pair(&self) -> (&K, &T) {
        self.found.pair()
    }

    /// The key, and the part of the value mutably.
    #[inline]
    pub fn pair_mut(&mut self) -> (&K, &mut T) {
        self.found.pair_mut()
    }

    /// A part of this part, under the same lock.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, (u8, [u16; 2])> = [(1, (2, [3, 4]))].into_iter().collect();
    /// let mut last = store.get_mut(&1).unwrap().map(|v| &mut v.1).map(|a| &mut a[1]);
    /// *last += 1;
    /// drop(last);
    /// assert_eq!(store.read(&1, |v| v.1), Some([3, 5]));
    /// ```
    pub fn map<F, U: ?Sized>(self, f: F) -> MappedRefMut<'a, K, V, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let MappedRefMut {
            found: Local(found),
            _left,
            ..
        } = self;
        MappedRefMut {
            found: Local(found.map(f)),
            _left,
            _not_send: PhantomData,
        }
    }

    /// [`map`](MappedRefMut::map) where `f` may find no part: then this
    /// guard comes back unchanged.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, (u8, Vec<u8>)> = [(1, (2, vec![]))].into_iter().collect();
    /// let list = store.get_mut(&1).unwrap().map(|v| &mut v.1);
    /// let mut list = list.try_map(|l| l.first_mut()).unwrap_err();
    /// list.push(9);
    /// assert_eq!(list.try_map(|l| l.first_mut()).ok().as_deref(), Some(&9));
    /// ```
    pub fn try_map<F, U: ?Sized>(self, f: F) -> Result<MappedRefMut<'a, K, V, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let MappedRefMut {
            found: Local(found),
            _left,
            ..
        } = self;
        match found.try_map(f) {
            Ok(found) => Ok(MappedRefMut {
                found: Local(found),
                _left,
                _not_send: PhantomData,
            }),
            Err(found) => Err(MappedRefMut {
                found: Local(found),
                _left,
                _not_send: PhantomData,
            }),
        }
    }
}

impl<K, V: MapValue, T: ?Sized> Deref for MappedRefMut<'_, K, V, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        self.value()
    }
}

impl<K, V: MapValue, T: ?Sized> DerefMut for MappedRefMut<'_, K, V, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.value_mut()
    }
}

impl<K: fmt::Debug, V: MapValue, T: ?Sized + fmt::Debug> fmt::Debug for MappedRefMut<'_, K, V, T> {
    /// `(key, part)`.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, (u8, u8)> = [(1, (2, 3))].into_iter().collect();
    /// assert_eq!(format!("{:?}", store.get_mut(&1).unwrap().map(|v| &mut v.0)), "(1, 2)");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (k, v) = self.pair();
        f.debug_tuple("").field(k).field(&v).finish()
    }
}

// ---------------------------------------------------------------------------
// Entries

/// The entry of a key in a [`ConcurrentStore`], from
/// [`entry`](ConcurrentStore::entry): holds the group's write lock, so the
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

/// A present key's entry; holds the group's write lock.
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
    // Field order is drop order: the lock is released before the key and
    // a replaced value are dropped.
    found: Local<table::WriteRef<'a, K, V, V::Storage>>,
    /// The key given to `entry` (the stored one stays), dropped after the
    /// lock is released.
    _key: K,
    /// The value [`Entry::insert_entry`] replaced, dropped after the lock
    /// is released (boxed; only when `V` needs dropping).
    _old: Option<Box<V>>,
    _not_send: NotSend<'a, K, V>,
}

/// An absent key's entry; holds the group's write lock.
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
    // Field order is drop order: the lock is released before the key is
    // dropped.
    vacant: Local<table::Vacant<'a, K, V, V::Storage>>,
    key: K,
    _hasher: PhantomData<&'a S>,
    _not_send: NotSend<'a, K, V>,
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
    /// under the group's write lock: if it panics, nothing is inserted and
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

    /// The value, inserting what `default()` returns if the key is absent
    /// and `default` succeeds (DashMap's `or_try_insert_with`). `default`
    /// runs under the group's write lock; an error inserts nothing and is
    /// returned after the lock is released.
    ///
    /// ```
    /// let ports: mapstore::ConcurrentStore<&str, u16> = mapstore::ConcurrentStore::new();
    /// assert_eq!(ports.entry("http").or_try_insert_with(|| "80".parse()).map(|p| *p), Ok(80));
    /// assert!(ports.entry("ftp").or_try_insert_with(|| "x".parse::<u16>()).is_err());
    /// assert_eq!(ports.len(), 1);
    /// ```
    pub fn or_try_insert_with<E>(
        self,
        default: impl FnOnce() -> Result<V, E>,
    ) -> Result<RefMut<'a, K, V>, E> {
        match self {
            Entry::Occupied(o) => Ok(o.into_ref()),
            Entry::Vacant(v) => Ok(v.insert(default()?)),
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

    /// Gives back the key given to `entry`; nothing is inserted, and the
    /// lock is released.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<String, u8> = [("a".to_string(), 1)].into_iter().collect();
    /// assert_eq!(store.entry("a".to_string()).into_key(), "a");
    /// assert_eq!(store.entry("b".to_string()).into_key(), "b");
    /// assert_eq!(store.len(), 1);
    /// ```
    pub fn into_key(self) -> K {
        match self {
            Entry::Occupied(o) => o.into_key(),
            Entry::Vacant(v) => v.into_key(),
        }
    }

    /// Sets the value, inserting or replacing it, and keeps the entry
    /// (DashMap's `insert_entry`; its `K: Clone` too: an inserted key goes
    /// into the store, and the entry keeps a copy). A replaced value is
    /// dropped when the entry is, after its lock is released.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u32> = [(1, 1)].into_iter().collect();
    /// let entry = store.entry(1).insert_entry(5);
    /// assert_eq!((*entry.key(), *entry.get()), (1, 5));
    /// drop(entry);
    /// assert_eq!(*store.entry(2).insert_entry(7).get(), 7);
    /// assert_eq!(store.len(), 2);
    /// ```
    pub fn insert_entry(self, value: V) -> OccupiedEntry<'a, K, V>
    where
        K: Clone,
    {
        match self {
            Entry::Occupied(mut o) => {
                let old = o.insert(value);
                if core::mem::needs_drop::<V>() {
                    o._old = Some(Box::new(old));
                }
                o
            }
            Entry::Vacant(v) => v.insert_entry(value),
        }
    }
}

impl<'a, K, V: MapValue> OccupiedEntry<'a, K, V> {
    fn pair_mut(&mut self) -> (&K, &mut V) {
        self.found.pair_mut()
    }

    fn pair(&self) -> (&K, &V) {
        self.found.pair()
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
    pub fn remove_entry(self) -> (K, V) {
        self.found.0.remove()
    }

    /// Gives back the key given to `entry` (the stored one stays); the
    /// lock is released.
    ///
    /// ```
    /// use mapstore::concurrent::Entry;
    /// let store: mapstore::ConcurrentStore<u8, u8> = [(1, 2)].into_iter().collect();
    /// let Entry::Occupied(o) = store.entry(1) else { unreachable!() };
    /// assert_eq!(o.into_key(), 1);
    /// assert_eq!(store.read(&1, |v| *v), Some(2));
    /// ```
    pub fn into_key(self) -> K {
        let OccupiedEntry { found, _key, .. } = self;
        // The lock first, as the fields' order does.
        drop(found);
        _key
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
        let OccupiedEntry {
            found: Local(found),
            _key,
            _old,
            ..
        } = self;
        RefMut {
            found: Local(WriteHold::Own(found)),
            _left: (Some(_key), _old),
            _not_send: PhantomData,
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
            vacant: Local(vacant),
            key,
            ..
        } = self;
        RefMut {
            found: Local(WriteHold::Own(vacant.insert(key, value))),
            _left: (None, None),
            _not_send: PhantomData,
        }
    }

    /// Inserts the value and keeps the entry (DashMap's `insert_entry`; its
    /// `K: Clone` too: the key goes into the store, the entry keeps a copy).
    ///
    /// ```
    /// use mapstore::concurrent::Entry;
    /// let store: mapstore::ConcurrentStore<u8, u8> = mapstore::ConcurrentStore::new();
    /// let Entry::Vacant(v) = store.entry(1) else { unreachable!() };
    /// let mut o = v.insert_entry(2);
    /// assert_eq!(o.insert(3), 2);
    /// drop(o);
    /// assert_eq!(store.read(&1, |v| *v), Some(3));
    /// ```
    pub fn insert_entry(self, value: V) -> OccupiedEntry<'a, K, V>
    where
        K: Clone,
    {
        let VacantEntry {
            vacant: Local(vacant),
            key,
            ..
        } = self;
        let kept = key.clone();
        OccupiedEntry {
            found: Local(vacant.insert(key, value)),
            _key: kept,
            _old: None,
            _not_send: PhantomData,
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

/// The iterator of [`ConcurrentStore::iter`]: a [`Ref`] per entry, one group
/// read-locked at a time (the lock is shared by that group's `Ref`s and
/// released when the iterator and they have all moved on).
///
/// ```
/// let store: mapstore::ConcurrentStore<u8, u8> = (0..10).map(|i| (i, i)).collect();
/// let it: mapstore::concurrent::Iter<'_, u8, u8> = store.iter();
/// assert_eq!(it.map(|r| u32::from(*r)).sum::<u32>(), 45);
/// ```
pub struct Iter<'a, K, V: MapValue, S = DefaultHashBuilder> {
    // Field order is drop order: the current group, then the walk.
    /// The group being walked and the next entry index in it.
    current: Local<Option<(SharedGroup<'a, K, V>, usize)>>,
    walk: Local<table::Walk<'a, K, V, V::Storage>>,
    _hasher: PhantomData<&'a S>,
    _not_send: NotSend<'a, K, V>,
}

impl<'a, K, V: MapValue, S> Iterator for Iter<'a, K, V, S> {
    type Item = Ref<'a, K, V>;

    fn next(&mut self) -> Option<Ref<'a, K, V>> {
        let why = Why {
            op: "iter",
            holder: "an `iter()` (or a `Ref` it yielded, or a guard mapped from one)",
        };
        loop {
            if let Some((group, index)) = &mut *self.current {
                if *index < group.len() {
                    *index += 1;
                    return Some(Ref {
                        hold: Local(ReadHold::Shared(Arc::clone(group), *index - 1)),
                        _left: None,
                        _not_send: PhantomData,
                    });
                }
                *self.current = None;
            }
            let group = self.walk.next_group(false, why)?;
            if group.len() != 0 {
                *self.current = Some((Arc::new(group.share()), 0));
            }
        }
    }
}

impl<K, V: MapValue, S> core::iter::FusedIterator for Iter<'_, K, V, S> {}

impl<K, V: MapValue, S> fmt::Debug for Iter<'_, K, V, S> {
    /// The iterator's position: `Iter { position: n }`, the groups (or,
    /// while the store grows, old groups) it has started.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = mapstore::ConcurrentStore::new();
    /// assert_eq!(format!("{:?}", store.iter()), "Iter { position: 0 }");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("position", &self.walk.position())
            .finish()
    }
}

/// The iterator of [`ConcurrentStore::iter_mut`]: a [`RefMut`] per entry,
/// one group write-locked at a time (the lock is shared by that group's
/// `RefMut`s and released when the iterator and they have all moved on).
///
/// ```
/// let store: mapstore::ConcurrentStore<u8, u8> = (0..10).map(|i| (i, i)).collect();
/// let it: mapstore::concurrent::IterMut<'_, u8, u8> = store.iter_mut();
/// // Items of one group may live together: each is its own entry.
/// let mut all: Vec<_> = it.collect();
/// all.iter_mut().for_each(|entry| **entry += 1);
/// drop(all);
/// assert_eq!(store.iter().map(|r| u32::from(*r)).sum::<u32>(), 55);
/// ```
pub struct IterMut<'a, K, V: MapValue, S = DefaultHashBuilder> {
    // Field order is drop order: the current group's entries (the last
    // one releases its lock), then the walk.
    current: Local<alloc::vec::IntoIter<table::BucketMut<'a, K, V, V::Storage>>>,
    walk: Local<table::Walk<'a, K, V, V::Storage>>,
    _hasher: PhantomData<&'a S>,
    _not_send: NotSend<'a, K, V>,
}

impl<'a, K, V: MapValue, S> Iterator for IterMut<'a, K, V, S> {
    type Item = RefMut<'a, K, V>;

    fn next(&mut self) -> Option<RefMut<'a, K, V>> {
        let why = Why {
            op: "iter_mut",
            holder: "an `iter_mut()` (or a `RefMut` it yielded, or a guard made from one)",
        };
        loop {
            if let Some(bucket) = self.current.next() {
                return Some(RefMut {
                    found: Local(WriteHold::Shared(bucket)),
                    _left: (None, None),
                    _not_send: PhantomData,
                });
            }
            let group = self.walk.next_group(true, why)?;
            if group.len() != 0 {
                *self.current = group.share_mut().into_iter();
            }
        }
    }
}

impl<K, V: MapValue, S> core::iter::FusedIterator for IterMut<'_, K, V, S> {}

impl<K, V: MapValue, S> fmt::Debug for IterMut<'_, K, V, S> {
    /// The iterator's position: `IterMut { position: n }`, the groups (or,
    /// while the store grows, old groups) it has started.
    ///
    /// ```
    /// let store: mapstore::ConcurrentStore<u8, u8> = mapstore::ConcurrentStore::new();
    /// assert_eq!(format!("{:?}", store.iter_mut()), "IterMut { position: 0 }");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut")
            .field("position", &self.walk.position())
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

// `MapValue` for a store with any hasher, so that stores nest
// (`ConcurrentStore<String, ConcurrentStore<u64, u64>>`, DashMap's
// `DashMap<K, DashMap<K2, V>>`), as the crate's other maps do: its size
// does not depend on `K` or `V` (a table handle and the hasher), so the
// policy chooses from the size of the store of `()`s with the default
// hasher, as for a derived type (`a_store_is_the_same_size_whatever_it_holds`
// in `impls.rs`); where another hasher makes the store large enough that
// the policy would choose otherwise, the plan says so.
const _: () = {
    use crate::__private::{kind_of, Chosen, Pick, Select};
    use crate::impls::{joined_plan, layout_plan, STORE_REASON};
    use crate::Plan;

    const STANDIN: Plan =
        layout_plan::<ConcurrentStore<(), ()>>("ConcurrentStore<K, V>", &["self"]);
    // Named through `Chosen`, as a derived type's storage: rustdoc shows
    // `<ConcurrentStore<K, V, S> as Chosen>::Storage`.
    impl<K, V: MapValue, S> Chosen for ConcurrentStore<K, V, S> {
        type Storage = <Select<{ kind_of(&STANDIN) }> as Pick>::S;
    }
    impl<K, V: MapValue, S> MapValue for ConcurrentStore<K, V, S> {
        type Storage = <Self as Chosen>::Storage;
        const PLAN: Plan = joined_plan::<Self>("ConcurrentStore<K, V>", &["self"], STORE_REASON);
    }
};

#[cfg(feature = "serde")]
mod serde_impls {
    use core::fmt;
    use core::hash::{BuildHasher, Hash};
    use core::marker::PhantomData;

    use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
    use serde::ser::{Serialize, SerializeMap, Serializer};

    use super::ConcurrentStore;
    use crate::concurrent_table::Why;
    use crate::MapValue;

    /// A serde map of keys to values, as std's `HashMap` (and DashMap)
    /// serialize. It read-locks every group for as long as it writes: the
    /// output is a snapshot of the store, with its exact length (formats
    /// such as bincode write the length first); writers wait until it is
    /// done. It never waits for a group while holding others that another
    /// thread may wait for: where a group stays write-locked for 2 ms while
    /// it holds others (a guard's thread may be writing a second key), it
    /// lets go of all of them, waits for that group alone and starts again.
    /// So it blocks and deadlocks only as [`iter`](ConcurrentStore::iter)
    /// does: under a write guard of this thread (debug builds panic), or
    /// under a read guard of this thread whose group another thread waits
    /// to write while holding the group this one waits for.
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
            let why = Why {
                op: "serialize",
                holder: "`serialize`, whose key's or value's `Serialize` called the store",
            };
            self.table.read_all(why, |groups| {
                let len = groups.iter().map(|group| group.len()).sum();
                let mut map = serializer.serialize_map(Some(len))?;
                for group in groups {
                    for (key, value) in group.entries() {
                        map.serialize_entry(key, value)?;
                    }
                }
                map.end()
            })
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
            // At most 1 MiB of pairs for the input's claimed length, as
            // serde reserves for std's maps: a one-entry input claiming a
            // million large values must not reserve their memory.
            let hint = crate::serde_impls::cautious::<K, V>(access.size_hint());
            let store = ConcurrentStore::with_capacity_and_hasher(hint, S::default());
            while let Some((key, value)) = access.next_entry()? {
                // Not shared yet: no thread waits. A repeated key: the last value wins.
                drop(store.insert(key, value));
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
