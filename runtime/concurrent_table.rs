//! The table behind [`ConcurrentStore`](crate::ConcurrentStore): buckets in
//! groups of [`GROUP`], a reader-writer lock word per group, growth by
//! cooperative migration. All of the concurrent store's `unsafe` code is in
//! this file.
//!
//! # Layout
//!
//! An [`Array`] is a power-of-two number of groups. Each group's header is
//! one 64-byte line: its lock word (parking_lot's), a `moved` flag, its entry
//! count and the 16 tag bytes of its first buckets, so two operations on
//! different groups never write the same line. The first 16 buckets of
//! every group are in a second allocation (the slot block); a group that
//! fills up chains overflow nodes of 16 more. A bucket is what
//! `V::Storage` stores in a table (`(K, V)`, `(K, Box<V>)` or a key and a
//! pool slot handle). A key's group is its hash's low bits; its tag is
//! `0x80 |` the top 7 bits (0 marks an empty bucket).
//!
//! Pooled values live in pools striped by the tag's low bits, each behind
//! its own mutex, taken only to store or take a value: a read goes from the
//! bucket to the value, and a resize moves handles, never values.
//!
//! # Growth
//!
//! When an insert has to chain a new overflow node and a sample of groups
//! spread over the array is more than 3/4 full, it installs an array of
//! twice as many groups whose `prev` is the old one. From then on:
//!
//! - a **read** or **write** of a key locks its old group; if that group
//!   has not been moved, the key is there or nowhere, and a write works
//!   there; if it has, the operation goes to the key's group in the new
//!   array;
//! - every write first tries to move the next [`HELP`] old groups in order
//!   (skipping any it cannot lock at once), each under the old group's
//!   exclusive lock: every bucket goes to one of the two groups it splits
//!   into;
//! - the mover of the last old group unlinks the old array and frees its
//!   slot block. Its headers are kept until the table is dropped: a thread
//!   may still hold the old array's address, lock one of its headers, find
//!   it moved and go on. Keeping them (64 bytes per 16 buckets, at most as
//!   many as the current array has in all) is what lets every operation run
//!   without epoch bookkeeping: no pin, no deferred free.
//!
//! A group that is found `moved` after its lock is taken is never read:
//! the operation starts again from the current array. One migration runs
//! at a time (a new array is installed only when the current one has no
//! `prev`), and none starts while a walk (`iter`, `retain`, `clear`, ...)
//! is registered, so a walk sees each entry present throughout exactly
//! once; one that came due meanwhile is started by the last walk to end.
//!
//! Lock order: a group, then a pool stripe's mutex. A mover holds an old
//! group and then locks its two new groups, which no one else can have
//! locked: a new group is reached only through its old group, once that is
//! marked moved, under the old group's exclusive lock.

use alloc::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::mem::{self, MaybeUninit};
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};

use hashbrown::{Equivalent, TryReserveError};

use crate::map::{Bucket, Detached, Side};
use crate::storage::{EmptySide, Storage};

use sync::{fence, relax, AtomicBool, AtomicPtr, AtomicUsize, Mutex, Ordering, RawLock};

/// Buckets per group (and per overflow node). Under loom, 2: a third key
/// chains a node and grows the table, so small models reach the migration.
pub(crate) const GROUP: usize = if cfg!(mapstore_loom) { 2 } else { 16 };
/// Old groups a write tries to move while a migration runs: a run of
/// neighbours, so that the move streams through memory.
const HELP: usize = 8;
/// Groups sampled, spread over the array, to decide whether to grow (all of
/// them in a smaller array).
const SAMPLE: usize = 64;

// ---------------------------------------------------------------------------
// Synchronization: std and parking_lot, or loom's under `--cfg mapstore_loom`.

#[cfg(not(mapstore_loom))]
mod sync {
    pub(crate) use core::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering};
    pub(crate) use std::sync::Mutex;

    /// Waits a little before a lock-free read tries again: spins at first,
    /// then lets another thread run (a move it waits for may be on a
    /// preempted thread).
    pub(crate) fn relax(attempt: usize) {
        if attempt < 8 {
            core::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }

    use parking_lot::lock_api::{RawRwLock as _, RawRwLockRecursive as _};

    /// A group's lock: parking_lot's one-word reader-writer lock, which
    /// spins briefly and then parks. A waiting writer stops new readers
    /// only while no reader holds the lock (see [`lock_shared`](Self::lock_shared)).
    pub(crate) struct RawLock(parking_lot::RawRwLock);

    impl RawLock {
        pub(crate) fn new() -> RawLock {
            RawLock(<parking_lot::RawRwLock as parking_lot::lock_api::RawRwLock>::INIT)
        }
        /// Waits only while a writer holds the lock, or waits for it with
        /// no reader in: a reader joins the readers in even when a writer
        /// is queued behind them (parking_lot's recursive read lock), as
        /// DashMap's readers do. So a thread that reads a group it already
        /// reads through a guard never waits for a writer queued behind
        /// that guard (which would wait for the guard: a deadlock); a
        /// writer may wait for readers that keep overlapping.
        #[inline]
        pub(crate) fn lock_shared(&self) {
            self.0.lock_shared_recursive();
        }
        #[inline]
        pub(crate) fn lock_exclusive(&self) {
            self.0.lock_exclusive();
        }
        #[inline]
        pub(crate) fn try_lock_exclusive(&self) -> bool {
            self.0.try_lock_exclusive()
        }
        /// Fails where [`lock_shared`](Self::lock_shared) would wait: while
        /// a writer holds the lock, or waits for it with no reader in.
        #[inline]
        pub(crate) fn try_lock_shared(&self) -> bool {
            self.0.try_lock_shared_recursive()
        }
        #[cfg(feature = "serde")]
        /// [`lock_shared`](Self::lock_shared), waiting at most `patience`.
        #[inline]
        pub(crate) fn try_lock_shared_for(&self, patience: std::time::Duration) -> bool {
            use parking_lot::lock_api::RawRwLockRecursiveTimed as _;
            self.0.try_lock_shared_recursive_for(patience)
        }
        /// Turns this thread's exclusive hold into a shared one, with no
        /// moment unlocked (parking_lot's `downgrade`).
        ///
        /// # Safety
        ///
        /// This thread holds the lock exclusively.
        #[inline]
        pub(crate) unsafe fn downgrade(&self) {
            use parking_lot::lock_api::RawRwLockDowngrade as _;
            // SAFETY: the caller's contract.
            unsafe { self.0.downgrade() };
        }
        /// # Safety
        ///
        /// This thread holds the lock shared.
        #[inline]
        pub(crate) unsafe fn unlock_shared(&self) {
            // SAFETY: the caller holds a shared lock.
            unsafe { self.0.unlock_shared() }
        }
        /// # Safety
        ///
        /// This thread holds the lock exclusively.
        #[inline]
        pub(crate) unsafe fn unlock_exclusive(&self) {
            // SAFETY: the caller holds the exclusive lock.
            unsafe { self.0.unlock_exclusive() }
        }
    }
}

#[cfg(mapstore_loom)]
mod sync {
    pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering};
    pub(crate) use loom::sync::Mutex;

    /// Under loom: lets another thread run, so the model explores the
    /// retry's progress instead of spinning through loom's branch limit.
    pub(crate) fn relax(_attempt: usize) {
        loom::thread::yield_now();
    }

    /// Under loom: a blocking reader-writer lock on a loom mutex and
    /// condition variable (the state: bit 0 a writer, readers counting in
    /// steps of 2), so that loom explores every interleaving of the
    /// table's locks, and a thread waiting for one is blocked (a deadlock
    /// is reported as such) rather than spinning through loom's branch
    /// limit.
    pub(crate) struct RawLock {
        state: Mutex<usize>,
        changed: loom::sync::Condvar,
    }

    impl RawLock {
        pub(crate) fn new() -> RawLock {
            RawLock {
                state: Mutex::new(0),
                changed: loom::sync::Condvar::new(),
            }
        }
        fn state(&self) -> loom::sync::MutexGuard<'_, usize> {
            self.state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
        pub(crate) fn lock_shared(&self) {
            let mut state = self.state();
            while *state & 1 != 0 {
                state = self
                    .changed
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            *state += 2;
        }
        pub(crate) fn lock_exclusive(&self) {
            let mut state = self.state();
            while *state != 0 {
                state = self
                    .changed
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            *state = 1;
        }
        pub(crate) fn try_lock_exclusive(&self) -> bool {
            let mut state = self.state();
            let free = *state == 0;
            if free {
                *state = 1;
            }
            free
        }
        pub(crate) fn try_lock_shared(&self) -> bool {
            let mut state = self.state();
            let free = *state & 1 == 0;
            if free {
                *state += 2;
            }
            free
        }
        #[cfg(feature = "serde")]
        /// Loom has no clock: a lock it does not get at once has run out
        /// of patience.
        pub(crate) fn try_lock_shared_for(&self, _patience: std::time::Duration) -> bool {
            self.try_lock_shared()
        }
        /// # Safety
        ///
        /// This thread holds the lock exclusively.
        pub(crate) unsafe fn downgrade(&self) {
            *self.state() = 2;
            self.changed.notify_all();
        }
        /// # Safety
        ///
        /// This thread holds the lock shared.
        pub(crate) unsafe fn unlock_shared(&self) {
            let mut state = self.state();
            *state -= 2;
            if *state == 0 {
                self.changed.notify_all();
            }
        }
        /// # Safety
        ///
        /// This thread holds the lock exclusively.
        pub(crate) unsafe fn unlock_exclusive(&self) {
            *self.state() = 0;
            self.changed.notify_all();
        }
    }
}

/// A value alone on its cache lines (128 bytes: x86's spatial prefetcher
/// pulls lines in pairs).
#[repr(align(128))]
struct Padded<T>(T);

// ---------------------------------------------------------------------------
// Debug builds: the locks this thread holds.

/// Debug builds: which group locks this thread holds (by address), so that
/// taking one again, which would hang, panics with a message instead.
#[cfg(debug_assertions)]
mod held {
    use alloc::vec::Vec;
    use core::cell::RefCell;

    struct Hold {
        lock: usize,
        holder: &'static str,
        exclusive: bool,
    }

    #[cfg(mapstore_loom)]
    loom::thread_local! {
        static HELD: RefCell<Vec<Hold>> = RefCell::new(Vec::new());
    }
    #[cfg(not(mapstore_loom))]
    std::thread_local! {
        static HELD: RefCell<Vec<Hold>> = const { RefCell::new(Vec::new()) };
    }

    /// This thread's record of one lock it holds.
    pub(crate) struct Mark {
        lock: usize,
    }

    /// Panics if locking `lock` (`exclusive`ly or shared) would wait for
    /// a hold of this thread's own: any hold for a write, any write to a
    /// group this thread reads. A read of a group this thread reads does
    /// not wait (see `RawLock::lock_shared`).
    #[track_caller]
    pub(crate) fn check(lock: usize, op: &str, exclusive: bool) {
        let held_by = HELD
            .try_with(|held| {
                held.borrow()
                    .iter()
                    .find(|h| h.lock == lock && (h.exclusive || exclusive))
                    .map(|h| (h.holder, h.exclusive))
            })
            .ok()
            .flatten();
        if let Some((held_by, held_for_write)) = held_by {
            let wants = if exclusive { "write" } else { "read" };
            // The way out depends on the hold: under a write hold every call
            // on the group waits, `read` too; a read hold that was only
            // there to look at a value can be a `read` instead.
            let fix = if held_for_write {
                "Drop the guard first: under a write guard every call on its group waits, \
                 `read` included; closures given to the store must not call it on their own \
                 group."
            } else {
                "Drop the guard first (a guard kept only to look at a value can be \
                 `read(&key, |v| ..)`, which holds nothing after it returns); closures given \
                 to the store must not write to it."
            };
            panic!(
                "ConcurrentStore::{op} would wait to {wants} a group of keys that this thread \
                 holds through {held_by}: that would deadlock (two reads of a group by one \
                 thread are fine; a write under any guard of its group, or any call under a \
                 write guard, is not). {fix} (Checked in debug builds.)"
            );
        }
    }

    impl Mark {
        /// Records that this thread is about to lock `lock` for `op`
        /// (`exclusive`ly or shared), held by `holder`; panics if that
        /// would wait for a hold of this thread's own (see [`check`]).
        #[track_caller]
        pub(crate) fn new(lock: usize, op: &str, holder: &'static str, exclusive: bool) -> Mark {
            check(lock, op, exclusive);
            Mark::taken(lock, holder, exclusive)
        }

        /// Records that this thread took `lock` without waiting (a `try_`
        /// call never waits).
        pub(crate) fn taken(lock: usize, holder: &'static str, exclusive: bool) -> Mark {
            let _ = HELD.try_with(|held| {
                held.borrow_mut().push(Hold {
                    lock,
                    holder,
                    exclusive,
                })
            });
            Mark { lock }
        }

        /// Records that this thread's exclusive hold of the lock became a
        /// shared one.
        pub(crate) fn downgrade(&self) {
            let _ = HELD.try_with(|held| {
                if let Some(h) = held
                    .borrow_mut()
                    .iter_mut()
                    .rev()
                    .find(|h| h.lock == self.lock)
                {
                    h.exclusive = false;
                }
            });
        }
    }

    impl Drop for Mark {
        fn drop(&mut self) {
            let _ = HELD.try_with(|held| {
                let mut held = held.borrow_mut();
                if let Some(i) = held.iter().rposition(|h| h.lock == self.lock) {
                    held.swap_remove(i);
                }
            });
        }
    }
}

/// What a blocking lock is taken for: the operation's name and what will
/// hold the lock (for debug builds' message).
#[derive(Clone, Copy)]
#[cfg_attr(not(debug_assertions), allow(dead_code))]
pub(crate) struct Why {
    pub(crate) op: &'static str,
    pub(crate) holder: &'static str,
}

// ---------------------------------------------------------------------------
// Groups and arrays

/// The buckets of a group's first node.
type Slots<B> = [MaybeUninit<B>; GROUP];

/// A chained overflow node: sixteen more buckets and their tags.
#[repr(C)]
struct Node<B> {
    tags: [u8; GROUP],
    next: Option<Box<Node<B>>>,
    slots: Slots<B>,
}

impl<B> Node<B> {
    fn empty() -> Node<B> {
        Node {
            tags: [0; GROUP],
            next: None,
            slots: [const { MaybeUninit::uninit() }; GROUP],
        }
    }
}

/// What a group's lock guards in its header: the first node's tags and the
/// chain. The first node's buckets are in the array's slot block.
#[repr(C)]
struct Head<B> {
    tags: [u8; GROUP],
    next: Option<Box<Node<B>>>,
}

/// A group's header: one cache line (64 bytes).
#[repr(C, align(64))]
struct Group<B> {
    lock: RawLock,
    /// Set, under the exclusive lock, once the group's buckets have been
    /// moved to the next array; never cleared. Atomic so that `lock_of`
    /// can read it without the lock.
    moved: AtomicBool,
    /// Entries in the group (its chain included). Written only under the
    /// exclusive lock (a plain load and store, no read-modify-write), read
    /// without it by `len`.
    len: AtomicUsize,
    head: UnsafeCell<Head<B>>,
}

impl<B> Group<B> {
    /// Whether the group was moved; read under its lock, or as a hint.
    #[inline]
    fn moved(&self) -> bool {
        self.moved.load(Ordering::Acquire)
    }

    /// Adds `delta` to the entry count. The caller holds the exclusive lock,
    /// so no other write can interleave.
    #[inline]
    fn add_len(&self, delta: isize) {
        let len = self.len.load(Ordering::Relaxed);
        self.len
            .store(len.wrapping_add_signed(delta), Ordering::Relaxed);
    }
}

/// The positions of the tags equal to `tag`, as a bit mask: one SSE2
/// compare where the target has it (every x86-64), else a loop.
#[inline]
fn match_tag(tags: &[u8; GROUP], tag: u8) -> u32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2", not(mapstore_loom)))]
    {
        use core::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
        };
        const _: () = assert!(GROUP == 16);
        // SAFETY: SSE2 is enabled for this target (the `cfg`); the unaligned
        // load reads exactly the 16 bytes of `tags`.
        unsafe {
            let group = _mm_loadu_si128(tags.as_ptr().cast());
            _mm_movemask_epi8(_mm_cmpeq_epi8(group, _mm_set1_epi8(tag as i8))) as u32
        }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2", not(mapstore_loom))))]
    {
        let mut mask = 0u32;
        for (i, &t) in tags.iter().enumerate() {
            mask |= u32::from(t == tag) << i;
        }
        mask
    }
}

/// The positions of the occupied buckets, as a bit mask: every tag of an
/// occupied bucket has its high bit set (`0x80 |`), an empty one is 0, so
/// one SSE2 `movemask` reads them all.
#[inline]
fn occupied(tags: &[u8; GROUP]) -> u32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2", not(mapstore_loom)))]
    {
        use core::arch::x86_64::{_mm_loadu_si128, _mm_movemask_epi8};
        // SAFETY: SSE2 is enabled for this target (the `cfg`); the unaligned
        // load reads exactly the 16 bytes of `tags`.
        unsafe { _mm_movemask_epi8(_mm_loadu_si128(tags.as_ptr().cast())) as u32 }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2", not(mapstore_loom))))]
    {
        let mut mask = 0u32;
        for (i, &t) in tags.iter().enumerate() {
            mask |= u32::from(t != 0) << i;
        }
        mask
    }
}

/// The store's hash spread over all 64 bits before the table reads it (the
/// group index its low bits, the tag its top seven, the home bucket four
/// bits in between). A hasher whose outputs differ only in some bits (an
/// identity hasher on aligned ids or pointers, `i * 4096`, `i << 32`) put
/// every key in one group and gave every key one tag: measured, 20 000
/// such keys took 134 MB, the group's chain holding all of them while the
/// array kept doubling. A multiply by an odd constant carries each bit's
/// difference up, the fold brings the high half down; both are bijective,
/// so distinct hashes stay distinct. Measured (callgrind, default hasher):
/// 6 more instructions per read (100.3 against 94.3).
#[inline]
pub(crate) fn spread(hash: u64) -> u64 {
    let product = hash.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    product ^ (product >> 32)
}

#[inline]
fn tag_of(hash: u64) -> u8 {
    0x80 | (hash >> 57) as u8
}

/// A key's home bucket in its group's first node: where an insert or a
/// migration puts it when that bucket is free (else in the first free
/// one), so that a lookup can start fetching the bucket's line from the
/// hash alone, before it takes the group's lock (see [`prefetch_home`]).
/// Bits that neither the group index (the low bits) nor the tag (the top
/// seven) use.
#[inline]
fn home_of(hash: u64) -> usize {
    (hash >> 48) as usize & (GROUP - 1)
}

/// Asks the processor to start loading the cache line of `hash`'s home
/// bucket in a first-node block at `slots`, so that the line arrives while
/// the group's lock is being taken (a locked instruction holds later loads
/// back until it completes; a prefetch issued before it is already under
/// way). A hint only: nothing is read, and `slots` may be a block freed
/// since (a stale old array), which a prefetch does not fault on.
#[inline(always)]
fn prefetch_home<B>(slots: *mut UnsafeCell<Slots<B>>, hash: u64) {
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "sse",
        not(mapstore_loom),
        not(miri)
    ))]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let at = slots
            .cast::<B>()
            .wrapping_add(home_of(hash))
            .cast::<i8>()
            .cast_const();
        // SAFETY: `_mm_prefetch` reads nothing and cannot fault, whatever
        // the address; SSE is enabled for this target (the `cfg`).
        unsafe { _mm_prefetch::<_MM_HINT_T0>(at) }
    }
    // Elsewhere (and under loom and Miri, which model memory, not caches)
    // there is nothing to ask for.
    #[cfg(not(all(
        target_arch = "x86_64",
        target_feature = "sse",
        not(mapstore_loom),
        not(miri)
    )))]
    {
        let _ = (slots, hash);
    }
}

/// The bucket of a first node to fill: `home` if free (a bit of `free`),
/// else the first free one. `free` is not 0.
#[inline]
fn free_at(free: u32, home: usize) -> usize {
    if free & (1 << home) != 0 {
        home
    } else {
        free.trailing_zeros() as usize
    }
}

/// A power-of-two number of groups: their headers in one allocation, kept
/// until the table is dropped, and their first nodes' buckets in another,
/// freed as soon as every group has been moved to the next array.
struct Array<B> {
    groups: NonNull<Group<B>>,
    /// Group `i`'s first buckets at `slots + i`. Dangling once freed (the
    /// address is kept; nothing reads it then: see [`RawTable::retire`]).
    slots: NonNull<UnsafeCell<Slots<B>>>,
    len: usize,
    /// The array this one is being filled from, or null.
    prev: AtomicPtr<Array<B>>,
    /// Next old group a helping write tries to move (wraps around).
    cursor: AtomicUsize,
    /// Old groups whose move began: counted before the move changes any
    /// group's count, so that [`RawTable::len`] can tell a sum that a move
    /// crossed (a seqlock's sequence, with `done`).
    begun: AtomicUsize,
    /// Old groups moved so far.
    done: AtomicUsize,
}

impl<B> Array<B> {
    fn groups_layout(len: usize) -> Layout {
        Layout::array::<Group<B>>(len).expect("Hash table capacity overflow")
    }

    fn slots_layout(len: usize) -> Layout {
        Layout::array::<UnsafeCell<Slots<B>>>(len).expect("Hash table capacity overflow")
    }

    /// A new array of `len` empty groups (a power of two), whose `prev` is
    /// `prev`; returned as a raw pointer owned by the caller.
    fn alloc(len: usize, prev: *mut Array<B>) -> *mut Array<B> {
        match Self::try_alloc(len, prev) {
            Ok(array) => array,
            Err(TryReserveError::AllocError { layout }) => handle_alloc_error(layout),
            Err(TryReserveError::CapacityOverflow) => panic!("Hash table capacity overflow"),
        }
    }

    /// [`alloc`](Self::alloc), or the error: nothing is allocated then.
    fn try_alloc(len: usize, prev: *mut Array<B>) -> Result<*mut Array<B>, TryReserveError> {
        debug_assert!(len.is_power_of_two());
        let (Ok(layout), Ok(slots_layout)) = (
            Layout::array::<Group<B>>(len),
            Layout::array::<UnsafeCell<Slots<B>>>(len),
        ) else {
            return Err(TryReserveError::CapacityOverflow);
        };
        // SAFETY: `Group` is 64-byte aligned and at least 64 bytes, so the
        // layout has a non-zero size.
        let groups = unsafe { alloc(layout) }.cast::<Group<B>>();
        let Some(groups) = NonNull::new(groups) else {
            return Err(TryReserveError::AllocError { layout });
        };
        let slots = if slots_layout.size() == 0 {
            NonNull::dangling()
        } else {
            // SAFETY: a non-zero size.
            let slots = unsafe { alloc(slots_layout) }.cast::<UnsafeCell<Slots<B>>>();
            match NonNull::new(slots) {
                Some(slots) => slots,
                None => {
                    // SAFETY: allocated just above with this layout, and
                    // not yet written.
                    unsafe { dealloc(groups.as_ptr().cast(), layout) };
                    return Err(TryReserveError::AllocError {
                        layout: slots_layout,
                    });
                }
            }
        };
        for i in 0..len {
            // SAFETY: `i < len`: in bounds of the fresh allocation. The
            // slots stay uninitialized (tags of 0 say so).
            unsafe {
                groups.add(i).write(Group {
                    lock: RawLock::new(),
                    moved: AtomicBool::new(false),
                    len: AtomicUsize::new(0),
                    head: UnsafeCell::new(Head {
                        tags: [0; GROUP],
                        next: None,
                    }),
                });
            }
        }
        Ok(Box::into_raw(Box::new(Array {
            groups,
            slots,
            len,
            prev: AtomicPtr::new(prev),
            cursor: AtomicUsize::new(0),
            begun: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
        })))
    }

    #[inline]
    fn index(&self, hash: u64) -> usize {
        hash as usize & (self.len - 1)
    }

    #[inline]
    fn group_at(&self, i: usize) -> &Group<B> {
        assert!(i < self.len);
        // SAFETY: in bounds; the headers are initialized and live as long
        // as the array (until the table is dropped).
        unsafe { self.groups.add(i).as_ref() }
    }

    /// Group `i`'s header and the address of its first buckets.
    #[inline]
    fn at(&self, i: usize) -> (&Group<B>, *mut UnsafeCell<Slots<B>>) {
        let group = self.group_at(i);
        // `wrapping_add`: the block may be freed already (a stale old
        // array), and the address is only dereferenced once the group is
        // found not moved under its lock, which proves the block live.
        (group, self.slots.as_ptr().wrapping_add(i))
    }

    /// Frees the slot block.
    ///
    /// # Safety
    ///
    /// Every group is moved (or empty and unreachable), so no thread reads
    /// the block again; called once.
    unsafe fn free_slots(&self) {
        let layout = Self::slots_layout(self.len);
        if layout.size() != 0 {
            // SAFETY: allocated by `alloc` with this layout; the caller's
            // contract.
            unsafe { dealloc(self.slots.as_ptr().cast(), layout) };
        }
    }

    /// Frees the headers and the array itself.
    ///
    /// # Safety
    ///
    /// `array` came from [`Array::alloc`] and is unreachable; its groups
    /// hold no buckets and no chains; its slots were freed or are freed by
    /// the caller.
    unsafe fn free_headers(array: *mut Array<B>) {
        // SAFETY: the caller's contract; the headers' drop glue has nothing
        // left to drop (no chains).
        unsafe {
            let (groups, len) = ((*array).groups, (*array).len);
            dealloc(groups.as_ptr().cast(), Self::groups_layout(len));
            drop(Box::from_raw(array));
        }
    }

    /// Bytes: the headers, and the slot block unless freed.
    fn bytes(&self, with_slots: bool) -> usize {
        let slots = if with_slots {
            Self::slots_layout(self.len).size()
        } else {
            0
        };
        mem::size_of::<Array<B>>() + Self::groups_layout(self.len).size() + slots
    }
}

// ---------------------------------------------------------------------------
// Locked groups

/// A group this thread holds, shared or exclusive; unlocks on drop.
struct Held<'a, B> {
    group: &'a Group<B>,
    /// The group's first buckets: read only once the group is known not
    /// moved, under the lock (a moved group's may be freed).
    slots: *mut UnsafeCell<Slots<B>>,
    exclusive: bool,
    #[cfg(debug_assertions)]
    _mark: Option<held::Mark>,
}

impl<B> Drop for Held<'_, B> {
    fn drop(&mut self) {
        // SAFETY: a `Held` is made only by the functions below, right after
        // taking the lock in the mode `exclusive` says, and is not `Send`.
        unsafe {
            if self.exclusive {
                self.group.lock.unlock_exclusive();
            } else {
                self.group.lock.unlock_shared();
            }
        }
    }
}

/// A locked group's buckets, shared.
struct View<'g, B> {
    head: &'g Head<B>,
    slots: &'g Slots<B>,
}

/// A locked group's buckets, unique.
struct ViewMut<'g, B> {
    head: &'g mut Head<B>,
    slots: &'g mut Slots<B>,
}

impl<'a, B> Held<'a, B> {
    #[inline]
    #[track_caller]
    fn shared((group, slots): (&'a Group<B>, *mut UnsafeCell<Slots<B>>), why: Why) -> Self {
        #[cfg(debug_assertions)]
        let mark = Some(held::Mark::new(lock_id(group), why.op, why.holder, false));
        #[cfg(not(debug_assertions))]
        let _ = why;
        group.lock.lock_shared();
        Held {
            group,
            slots,
            exclusive: false,
            #[cfg(debug_assertions)]
            _mark: mark,
        }
    }

    #[cfg(feature = "serde")]
    /// [`shared`](Self::shared), waiting at most `patience`; `None` if the
    /// lock stayed taken that long. In debug builds it panics where
    /// `shared` would (a wait for this thread's own write).
    #[track_caller]
    fn shared_within(
        (group, slots): (&'a Group<B>, *mut UnsafeCell<Slots<B>>),
        why: Why,
        patience: std::time::Duration,
    ) -> Option<Self> {
        #[cfg(debug_assertions)]
        let mark = Some(held::Mark::new(lock_id(group), why.op, why.holder, false));
        #[cfg(not(debug_assertions))]
        let _ = why;
        // `then`, not `then_some`: a `Held` made for a lock not taken would
        // unlock it when dropped (a mark not kept is dropped, unrecorded).
        group.lock.try_lock_shared_for(patience).then(|| Held {
            group,
            slots,
            exclusive: false,
            #[cfg(debug_assertions)]
            _mark: mark,
        })
    }

    #[inline]
    #[track_caller]
    fn exclusive((group, slots): (&'a Group<B>, *mut UnsafeCell<Slots<B>>), why: Why) -> Self {
        #[cfg(debug_assertions)]
        let mark = Some(held::Mark::new(lock_id(group), why.op, why.holder, true));
        #[cfg(not(debug_assertions))]
        let _ = why;
        group.lock.lock_exclusive();
        Held {
            group,
            slots,
            exclusive: true,
            #[cfg(debug_assertions)]
            _mark: mark,
        }
    }

    /// The lock without waiting, or `None`. Recorded in debug builds as
    /// held by a resize: the keys' `Hash` runs under it while a group is
    /// moved, and must not call the store on that group.
    #[inline]
    fn try_exclusive((group, slots): (&'a Group<B>, *mut UnsafeCell<Slots<B>>)) -> Option<Self> {
        // `then`, not `then_some`: a `Held` made for a lock not taken would
        // unlock it when dropped.
        group.lock.try_lock_exclusive().then(|| Held {
            group,
            slots,
            exclusive: true,
            // Taking the lock succeeded, so this thread did not hold it:
            // the record cannot find it held.
            #[cfg(debug_assertions)]
            _mark: Some(held::Mark::new(
                lock_id(group),
                "insert",
                "a resize moving this group, whose key's `Hash` called the store",
                true,
            )),
        })
    }

    /// The lock in the mode asked, without waiting, or `None` if another
    /// guard (this thread's included) holds it in a conflicting mode or a
    /// writer waits for it. Recorded in debug builds, so that a blocking
    /// call on the group while this is held still panics.
    #[inline]
    fn try_lock(
        (group, slots): (&'a Group<B>, *mut UnsafeCell<Slots<B>>),
        exclusive: bool,
        why: Why,
    ) -> Option<Self> {
        #[cfg(not(debug_assertions))]
        let _ = why;
        let taken = if exclusive {
            group.lock.try_lock_exclusive()
        } else {
            group.lock.try_lock_shared()
        };
        // `then`, not `then_some`: a `Held` made for a lock not taken would
        // unlock it when dropped.
        taken.then(|| Held {
            group,
            slots,
            exclusive,
            #[cfg(debug_assertions)]
            _mark: Some(held::Mark::taken(lock_id(group), why.holder, exclusive)),
        })
    }

    /// Exclusive, uncontended by construction (a new group whose old group
    /// this thread is moving): not recorded.
    #[inline]
    fn fresh((group, slots): (&'a Group<B>, *mut UnsafeCell<Slots<B>>)) -> Self {
        group.lock.lock_exclusive();
        Held {
            group,
            slots,
            exclusive: true,
            #[cfg(debug_assertions)]
            _mark: None,
        }
    }

    /// Turns an exclusive hold into a shared one, with no moment unlocked.
    /// The debug record stays, now shared: the thread still holds the lock.
    fn downgrade(&mut self) {
        assert!(self.exclusive, "only an exclusive hold is downgraded");
        // SAFETY: `exclusive`: this thread holds the lock exclusively, and
        // `Drop` will now release it shared, as it is then held.
        unsafe { self.group.lock.downgrade() };
        self.exclusive = false;
        #[cfg(debug_assertions)]
        if let Some(mark) = &self._mark {
            mark.downgrade();
        }
    }

    /// The buckets. Only for a group found not moved under this lock.
    #[inline]
    fn view(&self) -> View<'_, B> {
        debug_assert!(!self.group.moved());
        // SAFETY: the lock is held (shared or exclusive): no `&mut` to the
        // group's contents exists meanwhile; the group is not moved, so its
        // array's slot block is not freed (it is freed only once every
        // group is moved, which takes this lock).
        unsafe {
            View {
                head: &*self.group.head.get(),
                slots: &*(*self.slots).get(),
            }
        }
    }

    /// The buckets, uniquely. Only for a group found not moved under this
    /// (exclusive) lock.
    #[inline]
    fn view_mut(&mut self) -> ViewMut<'_, B> {
        assert!(self.exclusive);
        debug_assert!(!self.group.moved());
        // SAFETY: as in `view`; the lock is exclusive and this `Held` is
        // borrowed mutably for the references' lifetime.
        unsafe {
            ViewMut {
                head: &mut *self.group.head.get(),
                slots: &mut *(*self.slots).get(),
            }
        }
    }
}

/// The address of a group's lock, as an id.
#[inline]
fn lock_id<B>(group: &Group<B>) -> usize {
    ptr::from_ref(&group.lock).addr()
}

/// Where a bucket is: its tag byte and its slot. Valid while its group's
/// lock is held, with the permissions of the borrow it came from.
struct Pos<B> {
    tag: NonNull<u8>,
    bucket: NonNull<B>,
}

impl<B> Clone for Pos<B> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<B> Copy for Pos<B> {}

/// Looks `hash`/`key` up in a locked group: the depth of its node (0: the
/// first) and its index there.
#[inline]
fn find_in<K, V, St: Storage, Q>(
    view: View<'_, Bucket<K, V, St>>,
    hash: u64,
    key: &Q,
) -> Option<(usize, usize)>
where
    Q: Equivalent<K> + ?Sized,
{
    let tag = tag_of(hash);
    let (mut tags, mut slots, mut next) = (&view.head.tags, view.slots, &view.head.next);
    let mut depth = 0;
    loop {
        let mut mask = match_tag(tags, tag);
        while mask != 0 {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            // SAFETY: a non-zero tag marks an initialized bucket.
            let bucket = unsafe { slots[i].assume_init_ref() };
            if St::matches(bucket, key) {
                return Some((depth, i));
            }
        }
        let node = next.as_deref()?;
        (tags, slots, next) = (&node.tags, &node.slots, &node.next);
        depth += 1;
    }
}

/// The position `(depth, index)` (from [`find_in`]), for reading.
fn pos_ref<B>(view: View<'_, B>, (depth, index): (usize, usize)) -> Pos<B> {
    if depth == 0 {
        return Pos {
            tag: NonNull::from(&view.head.tags[index]),
            bucket: NonNull::from(&view.slots[index]).cast(),
        };
    }
    let mut node = view.head.next.as_deref().expect("a position found here");
    for _ in 1..depth {
        node = node.next.as_deref().expect("a position found here");
    }
    Pos {
        tag: NonNull::from(&node.tags[index]),
        bucket: NonNull::from(&node.slots[index]).cast(),
    }
}

/// The position `(depth, index)`, for writing: derived from a unique
/// borrow, which must be the last one formed while the position is used.
fn pos_mut<B>(view: ViewMut<'_, B>, (depth, index): (usize, usize)) -> Pos<B> {
    if depth == 0 {
        return Pos {
            tag: NonNull::from(&mut view.head.tags[index]),
            bucket: NonNull::from(&mut view.slots[index]).cast(),
        };
    }
    let mut node = view
        .head
        .next
        .as_deref_mut()
        .expect("a position found here");
    for _ in 1..depth {
        node = node.next.as_deref_mut().expect("a position found here");
    }
    Pos {
        tag: NonNull::from(&mut node.tags[index]),
        bucket: NonNull::from(&mut node.slots[index]).cast(),
    }
}

/// Puts `bucket` with `tag` into a locked group: in the first node, at
/// `home` if free, else in its first free bucket; else in the first free
/// place of the chain, chaining a node if all are taken. Returns its
/// position and whether a node was chained.
#[inline]
fn put<B>(view: ViewMut<'_, B>, home: usize, tag: u8, bucket: B) -> (Pos<B>, bool) {
    let (mut tags, mut slots, mut next) = (&mut view.head.tags, view.slots, &mut view.head.next);
    let mut home = home;
    loop {
        let free = match_tag(tags, 0);
        if free != 0 {
            let i = free_at(free, home);
            slots[i].write(bucket);
            tags[i] = tag;
            return (
                Pos {
                    tag: NonNull::from(&mut tags[i]),
                    bucket: NonNull::from(&mut slots[i]).cast(),
                },
                false,
            );
        }
        if next.is_none() {
            let node = next.insert(Box::new(Node::empty()));
            node.slots[0].write(bucket);
            node.tags[0] = tag;
            return (
                Pos {
                    tag: NonNull::from(&mut node.tags[0]),
                    bucket: NonNull::from(&mut node.slots[0]).cast(),
                },
                true,
            );
        }
        let node = next.as_deref_mut().expect("checked above");
        (tags, slots, next) = (&mut node.tags, &mut node.slots, &mut node.next);
        // Chained nodes have no home: a lookup prefetches only the first.
        home = 0;
    }
}

/// Moves every bucket out of a locked group (its overflow nodes are freed),
/// calling `f` on each with its tag, first node first, in slot order; the
/// group is left empty. Returns the number of nodes freed.
fn drain<B>(view: ViewMut<'_, B>, mut f: impl FnMut(u8, B)) -> usize {
    let mut freed = 0;
    let mut next = view.head.next.take();
    take_all(&mut view.head.tags, view.slots, &mut f);
    while let Some(mut node) = next {
        next = node.next.take();
        take_all(&mut node.tags, &mut node.slots, &mut f);
        freed += 1;
    }
    freed
}

/// Fills an empty locked group: its first node's buckets (each key at its
/// home if still free, else in the first free one), then (past 16) through
/// [`put`].
struct Fill<'g, B> {
    view: ViewMut<'g, B>,
    len: usize,
    /// The first node's free buckets, as a bit mask.
    free: u32,
    chained: usize,
}

impl<'g, B> Fill<'g, B> {
    fn new(view: ViewMut<'g, B>) -> Self {
        debug_assert!(view.head.tags == [0; GROUP] && view.head.next.is_none());
        Fill {
            view,
            len: 0,
            free: (1 << GROUP) - 1,
            chained: 0,
        }
    }

    /// Puts the bucket of a key whose hash is `hash`, with the tag it was
    /// stored with (see [`RawTable::with_side`]).
    #[inline]
    fn push(&mut self, hash: u64, tag: u8, bucket: B) {
        if self.free != 0 {
            let i = free_at(self.free, home_of(hash));
            self.free &= !(1 << i);
            self.view.slots[i].write(bucket);
            self.view.head.tags[i] = tag;
        } else {
            let view = ViewMut {
                head: &mut *self.view.head,
                slots: &mut *self.view.slots,
            };
            self.chained += usize::from(put(view, 0, tag, bucket).1);
        }
        self.len += 1;
    }

    /// The number of buckets filled.
    fn finish(self) -> usize {
        self.len
    }
}

#[inline]
fn take_all<B>(tags: &mut [u8; GROUP], slots: &mut Slots<B>, f: &mut impl FnMut(u8, B)) {
    let mut mask = occupied(tags);
    while mask != 0 {
        let i = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        let tag = mem::replace(&mut tags[i], 0);
        // SAFETY: a non-zero tag (its bit in `occupied`) marked an
        // initialized bucket; the tag is cleared first, so it is read once.
        f(tag, unsafe { slots[i].assume_init_read() });
    }
}

/// Calls `f` on each occupied bucket of a locked group, with its tag, in
/// `drain`'s order, with both writable (the buckets to visit are read from
/// the tags before `f` runs on a node: a tag `f` clears or sets changes
/// nothing in the walk).
fn for_each_mut<B>(view: ViewMut<'_, B>, mut f: impl FnMut(&mut u8, &mut MaybeUninit<B>)) {
    let (mut tags, mut slots, mut next) = (&mut view.head.tags, view.slots, &mut view.head.next);
    loop {
        let mut mask = occupied(tags);
        while mask != 0 {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            f(&mut tags[i], &mut slots[i]);
        }
        let Some(node) = next.as_deref_mut() else {
            return;
        };
        (tags, slots, next) = (&mut node.tags, &mut node.slots, &mut node.next);
    }
}

/// Calls `f` on each bucket of a locked group, with its tag, in `drain`'s
/// order.
fn for_each<B>(view: View<'_, B>, mut f: impl FnMut(u8, &B)) {
    let (mut tags, mut slots, mut next) = (&view.head.tags, view.slots, &view.head.next);
    loop {
        let mut mask = occupied(tags);
        while mask != 0 {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            // SAFETY: a non-zero tag (its bit in `occupied`) marks an
            // initialized bucket.
            f(tags[i], unsafe { slots[i].assume_init_ref() });
        }
        let Some(node) = next.as_deref() else {
            return;
        };
        (tags, slots, next) = (&node.tags, &node.slots, &node.next);
    }
}

// ---------------------------------------------------------------------------
// The table

/// The concurrent table of [`ConcurrentStore`](crate::ConcurrentStore).
pub(crate) struct RawTable<K, V, St: Storage> {
    current: AtomicPtr<Array<Bucket<K, V, St>>>,
    /// Walks in progress (while any is, no resize starts) and whether one
    /// deferred a resize. Also serializes starting a resize.
    walkers: Mutex<Walkers>,
    /// Pools (for `Pooled`), striped by tag; empty for a zero-sized side.
    sides: Box<[Stripe<K, V, St>]>,
    /// Overflow nodes allocated, for `memory_usage`.
    nodes: AtomicUsize,
    /// Arrays fully moved to their successor: their slot blocks are freed,
    /// their headers kept until the table is dropped.
    retired: Mutex<Vec<*mut Arr<K, V, St>>>,
    _owns: PhantomData<(K, V)>,
}

// SAFETY: the table owns keys and values (in its buckets and pools) as a
// `RwLock<HashMap<K, V>>` does, and nothing else that is tied to a thread:
// its raw pointers lead to its own arrays and nodes. Sending it sends the
// entries.
unsafe impl<K: Send, V: Send, St: Storage> Send for RawTable<K, V, St> {}
// SAFETY: through `&RawTable` threads read entries concurrently (needs
// `Sync`) and insert or remove them on any thread (needs `Send`), as with
// `RwLock<HashMap<K, V>>`; every access to a bucket is under its group's
// lock and every access to a pool under its stripe's mutex.
unsafe impl<K: Send + Sync, V: Send + Sync, St: Storage> Sync for RawTable<K, V, St> {}

// The store's own impls, with the table's bounds (and the hasher's): its
// fields are the table and the hasher, so they claim exactly what the auto
// traits would derive, and the compiler's error for a store of a value that
// is not `Send` then names the store, not this module's table.
//
// SAFETY: as for `RawTable` above; the hasher `S` is sent with the store.
unsafe impl<K: Send, V: crate::MapValue + Send, S: Send> Send for crate::ConcurrentStore<K, V, S> {}
// SAFETY: as for `RawTable` above; the hasher `S` is shared by every thread
// that hashes a key.
unsafe impl<K: Send + Sync, V: crate::MapValue + Send + Sync, S: Sync> Sync
    for crate::ConcurrentStore<K, V, S>
{
}
// `Unpin` as std's `HashMap` has it (when `K`, `V` and `S` are), claimed
// here for the same reason: its error then names the store, not the table.
// Nothing in the store is pinned: entries live in the table's heap arrays.
impl<K: Unpin, V: crate::MapValue + Unpin, S: Unpin> Unpin for crate::ConcurrentStore<K, V, S> {}

/// The walk registry.
struct Walkers {
    /// Walks in progress.
    count: usize,
    /// A resize was due while a walk was in progress: the last walk to end
    /// starts it (without this, back-to-back walks on one thread kept a
    /// growing table from ever growing, all of its keys chained in a few
    /// groups).
    deferred: bool,
}

/// Pool stripes: twice the cores, a power of two, at most 64 (the tag has 7
/// bits).
fn stripes() -> usize {
    if cfg!(any(mapstore_loom, miri)) {
        return 2;
    }
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_mul(2)
        .clamp(1, 64)
        .next_power_of_two()
}

/// Groups for `capacity` entries at most 3/4 full (at least one).
#[track_caller]
fn groups_for(capacity: usize) -> usize {
    try_groups_for(capacity).expect("Hash table capacity overflow")
}

/// [`groups_for`], or `None` past what an array's headers can hold.
fn try_groups_for(capacity: usize) -> Option<usize> {
    capacity
        .checked_mul(4)
        .map(|c| c / (3 * GROUP) + 1)
        .and_then(usize::checked_next_power_of_two)
        .filter(|&groups| Layout::array::<Group<()>>(groups).is_ok())
}

type Arr<K, V, St> = Array<Bucket<K, V, St>>;
/// A pool stripe.
type Stripe<K, V, St> = Padded<Mutex<Side<K, V, St>>>;
/// A locked group and its array.
type Located<'t, K, V, St> = (Held<'t, Bucket<K, V, St>>, &'t Arr<K, V, St>);

impl<K, V, St: Storage> RawTable<K, V, St> {
    #[track_caller]
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let groups = groups_for(capacity);
        let sides = if mem::size_of::<Side<K, V, St>>() == 0 {
            0
        } else {
            stripes()
        };
        RawTable {
            current: AtomicPtr::new(Array::alloc(groups, ptr::null_mut())),
            walkers: Mutex::new(Walkers {
                count: 0,
                deferred: false,
            }),
            sides: (0..sides)
                .map(|_| Padded(Mutex::new(<Side<K, V, St> as EmptySide>::EMPTY)))
                .collect(),
            nodes: AtomicUsize::new(0),
            retired: Mutex::new(Vec::new()),
            _owns: PhantomData,
        }
    }

    /// The current array.
    #[inline]
    fn array(&self) -> &Arr<K, V, St> {
        // SAFETY: `current` is never null, and an array's header and its
        // `Array` are freed only when the table is dropped.
        unsafe { &*self.current.load(Ordering::Acquire) }
    }

    /// The array `array` is being filled from, if any.
    #[inline]
    fn prev<'t>(&'t self, array: &'t Arr<K, V, St>) -> Option<&'t Arr<K, V, St>> {
        let prev = array.prev.load(Ordering::Acquire);
        // SAFETY: as in `array`.
        (!prev.is_null()).then(|| unsafe { &*prev })
    }

    /// The entry count: exact when no write runs; under concurrent writes,
    /// each entry present for the whole call is counted once, and one
    /// inserted or removed during it may or may not be. Sums the groups'
    /// counts (no lock): one header line per group, so its cost grows with
    /// the table (about 0.3 ms at a million entries).
    pub(crate) fn len(&self) -> usize {
        self.read_counts(|array| {
            let total: usize = (0..array.len)
                .map(|i| array.group_at(i).len.load(Ordering::Relaxed))
                .sum();
            core::ops::ControlFlow::Continue(total)
        })
    }

    /// Whether there is no entry, as [`len`](Self::len) would say, but
    /// stopping at the first group that holds one.
    pub(crate) fn is_empty(&self) -> bool {
        let found = self.read_counts(|array| {
            let any = (0..array.len).any(|i| array.group_at(i).len.load(Ordering::Relaxed) != 0);
            // An entry seen: the store was not empty when it was read.
            if any {
                core::ops::ControlFlow::Break(1)
            } else {
                core::ops::ControlFlow::Continue(0)
            }
        });
        found == 0
    }

    /// `read(array)` over the current array and the one it is filled from,
    /// summed (or the first `Break`, returned as it is), taken again while
    /// a migration moved entries across the reads.
    ///
    /// A migration moves entries from old groups to new ones: a sum that a
    /// move crossed could count them twice or not at all. Each move is
    /// counted in its old array's `begun` before it changes any count and
    /// in `done` after, so a sum that began with every begun move done, saw
    /// no new one begin, and ended with its array still the current one (no
    /// move out of it) counted each entry once (a seqlock's read). Else it
    /// is taken again, up to `TRIES` times (moves are few: one per old
    /// group), then the last sum is returned.
    fn read_counts(
        &self,
        read: impl Fn(&Arr<K, V, St>) -> core::ops::ControlFlow<usize, usize>,
    ) -> usize {
        use core::ops::ControlFlow::{Break, Continue};
        const TRIES: usize = 1000;
        let mut total = 0;
        for attempt in 0..TRIES {
            let array = self.array();
            let prev = self.prev(array);
            // `done` first: a move seen done was seen begun.
            let moves = prev.map(|prev| {
                let done = prev.done.load(Ordering::Acquire);
                (prev.begun.load(Ordering::Acquire), done)
            });
            // A moved old group counts 0: its entries are counted in the
            // new array.
            total = match read(array) {
                Break(found) => return found,
                Continue(n) => n,
            };
            if let Some(prev) = prev {
                total += match read(prev) {
                    Break(found) => return found,
                    Continue(n) => n,
                };
            }
            fence(Ordering::Acquire);
            let settled = ptr::eq(self.array(), array)
                && match (prev, moves) {
                    (Some(prev), Some((begun, done))) => {
                        begun == done && prev.begun.load(Ordering::Relaxed) == begun
                    }
                    _ => true,
                };
            if settled {
                return total;
            }
            relax(attempt);
        }
        total
    }

    /// Runs `f` with the stripe of the side storage for `tag`.
    ///
    /// A pooled value is stored in the stripe of its bucket's tag and taken
    /// from the stripe of that same tag: a bucket keeps its tag for as long
    /// as it holds the value, through growth and rebuilds (which place it
    /// by its key's hash of the moment, but never recompute its tag).
    #[inline]
    fn with_side<R>(&self, tag: u8, f: impl FnOnce(&mut Side<K, V, St>) -> R) -> R {
        // In-table storages have a zero-sized side and no stripes: known at
        // compile time.
        if mem::size_of::<Side<K, V, St>>() == 0 || self.sides.is_empty() {
            let mut side = <Side<K, V, St> as EmptySide>::EMPTY;
            return f(&mut side);
        }
        let stripe = usize::from(tag) & (self.sides.len() - 1);
        let mut side = self.sides[stripe]
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut side)
    }

    /// Takes a bucket's entry out of the storage (a pool slot back to its
    /// stripe).
    #[inline]
    fn take(&self, tag: u8, bucket: Bucket<K, V, St>) -> (K, V) {
        self.with_side(tag, |side| St::take(side, bucket))
    }

    /// Takes a bucket's entry out of the storage to be dropped later, a
    /// boxed value still in its box (see [`StorageOps::Detached`]).
    #[inline]
    fn detach(&self, tag: u8, bucket: Bucket<K, V, St>) -> Detached<K, V, St> {
        self.with_side(tag, |side| St::detach(side, bucket))
    }

    /// Locks the group that holds `hash`'s key for reading: its old group
    /// while that is not moved, else its group in the current array.
    #[inline]
    #[track_caller]
    fn locate_read(&self, hash: u64, why: Why) -> Held<'_, Bucket<K, V, St>> {
        loop {
            let array = self.array();
            if let Some(prev) = self.prev(array) {
                let at = prev.at(prev.index(hash));
                prefetch_home(at.1, hash);
                let held = Held::shared(at, why);
                if !held.group.moved() {
                    return held;
                }
            }
            let at = array.at(array.index(hash));
            prefetch_home(at.1, hash);
            let held = Held::shared(at, why);
            if !held.group.moved() {
                return held;
            }
        }
    }

    /// Looks a key up; the result holds its group's read lock.
    #[inline]
    #[track_caller]
    pub(crate) fn get<Q>(&self, hash: u64, key: &Q, why: Why) -> Option<ReadRef<'_, K, V, St>>
    where
        Q: Equivalent<K> + ?Sized,
    {
        let held = self.locate_read(hash, why);
        let at = find_in::<K, V, St, Q>(held.view(), hash, key)?;
        let bucket = pos_ref(held.view(), at).bucket;
        Some(ReadRef { held, bucket })
    }

    /// Calls `f` on a key's entry under its group's read lock.
    #[inline]
    #[track_caller]
    pub(crate) fn read<Q, R>(
        &self,
        hash: u64,
        key: &Q,
        why: Why,
        f: impl FnOnce(&K, &V) -> R,
    ) -> Option<R>
    where
        Q: Equivalent<K> + ?Sized,
    {
        let held = self.locate_read(hash, why);
        let at = find_in::<K, V, St, Q>(held.view(), hash, key)?;
        let bucket = pos_ref(held.view(), at).bucket;
        // SAFETY: the bucket is initialized (found by its tag) and stays in
        // place while the read lock is held; its pooled value is removed
        // only under the group's exclusive lock, and the pools live as long
        // as the table.
        let (k, v) = unsafe { St::pair_detached(bucket.as_ref()) };
        Some(f(k, v))
    }

    /// Locks the group that holds `hash`'s key (or would) for writing:
    /// while a migration runs, its old group if not moved yet, else its
    /// group in the current array; first moving up to [`HELP`] old groups
    /// it can lock without waiting, in order. `hash_of` rehashes keys being
    /// moved. Returns the lock and the array of the group.
    #[inline(always)]
    #[track_caller]
    fn locate_write<H: Fn(&K) -> u64>(
        &self,
        hash: u64,
        why: Why,
        hash_of: &H,
    ) -> Located<'_, K, V, St> {
        loop {
            let array = self.array();
            if let Some(prev) = self.prev(array) {
                self.help(prev, array, hash_of);
                let at = prev.at(prev.index(hash));
                prefetch_home(at.1, hash);
                let held = Held::exclusive(at, why);
                if !held.group.moved() {
                    return (held, prev);
                }
            }
            let at = array.at(array.index(hash));
            prefetch_home(at.1, hash);
            let held = Held::exclusive(at, why);
            if !held.group.moved() {
                return (held, array);
            }
        }
    }

    /// Moves the next [`HELP`] old groups of a migration (wrapping around,
    /// so that groups skipped because they were locked are tried again),
    /// skipping those moved already or locked.
    fn help<H: Fn(&K) -> u64>(&self, prev: &Arr<K, V, St>, array: &Arr<K, V, St>, hash_of: &H) {
        let start = prev.cursor.fetch_add(HELP, Ordering::Relaxed);
        for j in start..start + HELP {
            let j = j & (prev.len - 1);
            if !prev.group_at(j).moved() {
                self.migrate(prev, array, j, hash_of);
            }
        }
    }

    /// Moves old group `i` of `prev` into `array` (whose `prev` it is), if
    /// its lock is free and it was not moved yet.
    fn migrate<H: Fn(&K) -> u64>(
        &self,
        prev: &Arr<K, V, St>,
        array: &Arr<K, V, St>,
        i: usize,
        hash_of: &H,
    ) {
        let Some(mut held) = Held::try_exclusive(prev.at(i)) else {
            return;
        };
        if held.group.moved() {
            return;
        }
        // Hash every key first: a panicking `Hash` leaves the group as it
        // was (the lock is released by unwinding). The first node's hashes
        // stay on the stack, by slot; a chain's (rare) go to a vector.
        let mut first = [0u64; GROUP];
        let mut chain: Vec<u64> = Vec::new();
        let view = held.view();
        let mask = occupied(&view.head.tags);
        let mut bits = mask;
        while bits != 0 {
            let j = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            // SAFETY: the group is locked and not moved; its bit in
            // `occupied` marks an initialized bucket.
            let (k, _) = unsafe { St::pair_detached(view.slots[j].assume_init_ref()) };
            first[j] = hash_of(k);
        }
        let mut node = view.head.next.as_deref();
        while let Some(n) = node {
            let mut bits = occupied(&n.tags);
            while bits != 0 {
                let j = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                // SAFETY: as above, a bucket of the group's chain.
                let (k, _) = unsafe { St::pair_detached(n.slots[j].assume_init_ref()) };
                chain.push(hash_of(k));
            }
            node = n.next.as_deref();
        }
        debug_assert_eq!(array.len, prev.len * 2);
        // The move begins: counted before any group's count changes, and
        // the fence keeps those changes after the count (see `len`).
        prev.begun.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::Release);
        let mut low_held = Held::fresh(array.at(i));
        let mut high_held = Held::fresh(array.at(i + prev.len));
        // The two new groups are empty (no one reaches them before this
        // group is marked moved): fill their first buckets in order.
        let mut low = Fill::new(low_held.view_mut());
        let mut high = Fill::new(high_held.view_mut());
        let split = prev.len as u64;
        let view = held.view_mut();
        // Every tag is cleared before any bucket is read, so each is read
        // once; nothing below can panic (a node's allocation failure
        // aborts). Each bucket keeps its tag: a key whose hash changed
        // since it was stored (a logic error of the caller, as with std's
        // map) would otherwise take a new tag, and its pooled value would
        // later be taken from another stripe than the one that holds it.
        let tags = mem::replace(&mut view.head.tags, [0; GROUP]);
        let mut bits = mask;
        while bits != 0 {
            let j = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            // SAFETY: its bit in `mask` marked an initialized bucket, whose
            // tag is cleared now: read once.
            let bucket = unsafe { view.slots[j].assume_init_read() };
            let hash = first[j];
            let to = if hash & split == 0 {
                &mut low
            } else {
                &mut high
            };
            to.push(hash, tags[j], bucket);
        }
        // The chain, in the order its hashes were taken.
        let mut freed = 0;
        let mut seen = 0;
        let mut next = view.head.next.take();
        while let Some(mut node) = next {
            next = node.next.take();
            take_all(&mut node.tags, &mut node.slots, &mut |tag, bucket| {
                let hash = chain[seen];
                seen += 1;
                let to = if hash & split == 0 {
                    &mut low
                } else {
                    &mut high
                };
                to.push(hash, tag, bucket);
            });
            freed += 1;
        }
        let chained = low.chained + high.chained;
        let (to_low, to_high) = (low.finish(), high.finish());
        low_held.group.add_len(to_low as isize);
        high_held.group.add_len(to_high as isize);
        held.group.len.store(0, Ordering::Relaxed);
        held.group.moved.store(true, Ordering::Release);
        drop((low_held, high_held, held));
        if freed != chained {
            self.nodes.fetch_add(chained, Ordering::Relaxed);
            self.nodes.fetch_sub(freed, Ordering::Relaxed);
        }
        if prev.done.fetch_add(1, Ordering::AcqRel) + 1 == prev.len {
            self.retire(array);
        }
    }

    /// The last old group of `array`'s migration was moved: unlinks the old
    /// array, frees its slot block, and keeps its headers until the table
    /// is dropped.
    ///
    /// Freeing the slots here needs no epoch: a thread reads a group's
    /// buckets only under its lock, after finding the group not moved; every
    /// group of the old array is moved now, and a thread that still holds
    /// the old array's address (its headers stay allocated) only ever
    /// locks a header, finds it moved, and goes on to the new array. The
    /// headers (64 bytes per 16 buckets, at most as many as the current
    /// array has) are what a thread may still touch, so they live as long as
    /// the table: this keeps every read and write free of any reclamation
    /// bookkeeping (an epoch pin was measured at about a third of a read's
    /// instructions).
    fn retire(&self, array: &Arr<K, V, St>) {
        let old = array.prev.swap(ptr::null_mut(), Ordering::AcqRel);
        debug_assert!(!old.is_null());
        // SAFETY: every group of `old` is moved (`done` reached its length),
        // so no thread reads its slot block again (see above); this runs
        // once per array, for the mover of its last group.
        unsafe { (*old).free_slots() };
        self.retired
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(old);
    }

    /// Locks the group that holds `hash`'s key (its old group while that is
    /// not moved), in the mode asked, without waiting: `None` if a lock it
    /// needs is held in a conflicting mode. A write (`hash_of` given) first
    /// moves the old groups it can lock without waiting, as a blocking
    /// write does, so that a store written only through `try_` calls still
    /// finishes its resizes.
    fn try_locate<H: Fn(&K) -> u64>(
        &self,
        hash: u64,
        hash_of: Option<&H>,
        why: Why,
    ) -> Option<Located<'_, K, V, St>> {
        let exclusive = hash_of.is_some();
        loop {
            let array = self.array();
            if let Some(prev) = self.prev(array) {
                if let Some(hash_of) = hash_of {
                    self.help(prev, array, hash_of);
                }
                let held = Held::try_lock(prev.at(prev.index(hash)), exclusive, why)?;
                if !held.group.moved() {
                    return Some((held, prev));
                }
            }
            let held = Held::try_lock(array.at(array.index(hash)), exclusive, why)?;
            if !held.group.moved() {
                return Some((held, array));
            }
        }
    }

    /// [`get`](Self::get) without waiting: `Err(())` if the key's group is
    /// write-locked (or a writer waits for it).
    pub(crate) fn try_get<Q>(
        &self,
        hash: u64,
        key: &Q,
        why: Why,
    ) -> Result<Option<ReadRef<'_, K, V, St>>, ()>
    where
        Q: Equivalent<K> + ?Sized,
    {
        let (held, _) = self
            .try_locate(hash, None::<&fn(&K) -> u64>, why)
            .ok_or(())?;
        Ok(find_in::<K, V, St, Q>(held.view(), hash, key).map(|at| {
            let bucket = pos_ref(held.view(), at).bucket;
            ReadRef { held, bucket }
        }))
    }

    /// [`entry`](Self::entry) without waiting: `None` if the key's group
    /// is locked.
    #[allow(clippy::type_complexity)]
    pub(crate) fn try_entry<Q, H: Fn(&K) -> u64>(
        &self,
        hash: u64,
        key: &Q,
        why: Why,
        hash_of: &H,
    ) -> Option<Result<WriteRef<'_, K, V, St>, Vacant<'_, K, V, St>>>
    where
        Q: Equivalent<K> + ?Sized,
    {
        let (mut held, array) = self.try_locate(hash, Some(hash_of), why)?;
        Some(match find_in::<K, V, St, Q>(held.view(), hash, key) {
            Some(at) => {
                let pos = pos_mut(held.view_mut(), at);
                Ok(WriteRef {
                    held,
                    pos,
                    table: self,
                })
            }
            None => Err(Vacant {
                held,
                hash,
                array,
                table: self,
            }),
        })
    }

    /// Locks the group of a key for writing and looks the key up. Inlined
    /// into each caller: its result (a lock, a position) then stays in
    /// registers instead of going through memory (callgrind: about 20
    /// instructions of an insert).
    #[inline(always)]
    #[track_caller]
    pub(crate) fn entry<Q, H: Fn(&K) -> u64>(
        &self,
        hash: u64,
        key: &Q,
        why: Why,
        hash_of: &H,
    ) -> Result<WriteRef<'_, K, V, St>, Vacant<'_, K, V, St>>
    where
        Q: Equivalent<K> + ?Sized,
    {
        let (mut held, array) = self.locate_write(hash, why, hash_of);
        match find_in::<K, V, St, Q>(held.view(), hash, key) {
            Some(at) => {
                let pos = pos_mut(held.view_mut(), at);
                Ok(WriteRef {
                    held,
                    pos,
                    table: self,
                })
            }
            None => Err(Vacant {
                held,
                hash,
                array,
                table: self,
            }),
        }
    }

    /// Starts a resize of `array` if it is still current, no resize runs,
    /// no walk is registered, and the table looks more than 3/4 full: the
    /// [`SAMPLE`] groups spread evenly over the array from `hash`'s hold
    /// more than 3/4 of their buckets' worth (an estimate, as scc's: no
    /// global count is kept). Called only when an insert chains a node.
    ///
    /// Measured (bench memory pass, growing from empty): the first version
    /// sampled the 8 groups next to the chaining one; a sum over so few
    /// groups, tested at every chain, crosses 3/4 by chance long before the
    /// table is that full, and the table grew at 59-64 % (about 30 % just
    /// after). Sampling 64 groups across the array, it grows at 68-72 %:
    /// 61 instead of 89 bytes per 16-byte entry, 218 instead of 239 per
    /// 128-byte pooled entry; growth runs more chains (callgrind: 253
    /// instead of 227 instructions per insert from empty) and times the
    /// same within the bench's noise.
    fn maybe_grow(&self, array: &Arr<K, V, St>, hash: u64) {
        if !Self::full(array, array.index(hash)) {
            return;
        }
        let Ok(mut walkers) = self.walkers.try_lock() else {
            return;
        };
        if walkers.count != 0 {
            walkers.deferred = true;
            return;
        }
        self.grow_registered(array);
    }

    /// Whether `array` is full enough to grow: more than 3/4 of the
    /// buckets of [`SAMPLE`] groups spread over it, starting at `start`,
    /// are taken.
    fn full(array: &Arr<K, V, St>, start: usize) -> bool {
        let sample = SAMPLE.min(array.len);
        let stride = array.len / sample;
        // A group counts for at most two nodes' worth (more than any group
        // holds by chance at 3/4 load): one long chain (a hasher that sends
        // many keys to one group) is not a full table, and doubling the
        // array would not shorten it.
        let held: usize = (0..sample)
            .map(|i| {
                array
                    .group_at(start.wrapping_add(i * stride) & (array.len - 1))
                    .len
                    .load(Ordering::Relaxed)
                    .min(2 * GROUP)
            })
            .sum();
        held * 4 > sample * GROUP * 3
    }

    /// Installs an array of twice `array`'s groups, if `array` is still
    /// current and no migration runs. The caller holds the walk registry's
    /// lock and found no walk registered: none can start before the new
    /// array is installed.
    fn grow_registered(&self, array: &Arr<K, V, St>) {
        let current = self.current.load(Ordering::Acquire);
        if current.cast_const() != ptr::from_ref(array)
            || !array.prev.load(Ordering::Acquire).is_null()
        {
            return;
        }
        let Some(len) = array
            .len
            .checked_mul(2)
            .filter(|&len| Layout::array::<Group<()>>(len).is_ok())
        else {
            return;
        };
        let next = Array::alloc(len, current);
        self.current.store(next, Ordering::Release);
    }

    /// Registers a walk: no resize starts until it is dropped.
    pub(crate) fn walk(&self) -> Walk<'_, K, V, St> {
        self.walkers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .count += 1;
        // Registered: the current array stays current until the walk is
        // dropped.
        let array = self.array();
        Walk {
            table: self,
            array,
            prev: self.prev(array),
            next: 0,
            pending: None,
        }
    }

    /// Bytes held: arrays (headers and slot blocks, the retired arrays'
    /// headers), overflow nodes, pools (not the entries' own heap memory).
    /// Takes no group lock.
    pub(crate) fn memory_usage(&self) -> usize {
        let array = self.array();
        let arrays = array.bytes(true) + self.prev(array).map_or(0, |prev| prev.bytes(true));
        let retired: usize = self
            .retired
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            // SAFETY: retired arrays' headers live until the table drops.
            .map(|&old| unsafe { &*old }.bytes(false))
            .sum();
        let nodes = self.nodes.load(Ordering::Relaxed) * mem::size_of::<Node<Bucket<K, V, St>>>();
        let sides: usize = self
            .sides
            .iter()
            .map(|side| {
                let side = side
                    .0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                St::side_bytes(&side, 0)
            })
            .sum();
        let boxes = if self.sides.is_empty() {
            // Boxed values: a box per entry (in-table storages report it
            // from the count).
            St::side_bytes(&<Side<K, V, St> as EmptySide>::EMPTY, self.len())
        } else {
            0
        };
        mem::size_of::<Self>()
            + self.sides.len() * mem::size_of::<Stripe<K, V, St>>()
            + arrays
            + retired
            + nodes
            + sides
            + boxes
    }

    /// An id of the lock that guards `hash`'s key now.
    pub(crate) fn lock_of(&self, hash: u64) -> usize {
        let array = self.array();
        if let Some(prev) = self.prev(array) {
            let old = prev.group_at(prev.index(hash));
            if !old.moved() {
                return lock_id(old);
            }
        }
        lock_id(array.group_at(array.index(hash)))
    }

    /// About the number of entries the current array holds before the
    /// table grows: 3/4 of its first buckets (the growth check samples
    /// groups, so it can start a little before or after).
    pub(crate) fn capacity(&self) -> usize {
        self.array().len * GROUP / 4 * 3
    }

    /// Moves every entry into one new array sized for `capacity` entries
    /// (at least the entries held), through `&mut self`: no lock is taken.
    /// Finishes a running migration, frees the old arrays, their chains
    /// and the retired headers. Buckets move, values do not (a pool slot's
    /// handle moves with its bucket). Every key is hashed before anything
    /// moves: if `hash_of` panics, the table is as it was.
    ///
    /// With `shrink`, the new array may be smaller than the current one,
    /// and the pools give back their unused chunks; without it, the table
    /// is rebuilt only to grow. An error (a capacity past what an array can
    /// hold, an allocation that failed) leaves the table as it was.
    pub(crate) fn rebuild(
        &mut self,
        capacity: usize,
        shrink: bool,
        hash_of: impl Fn(&K) -> u64,
    ) -> Result<(), TryReserveError> {
        let groups =
            try_groups_for(capacity.max(self.len())).ok_or(TryReserveError::CapacityOverflow)?;
        let settled = self.prev(self.array()).is_none()
            && self
                .retired
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .is_empty();
        let current = self.array();
        // A shrink never grows the array, even to finish a resize.
        let groups = if shrink {
            groups.min(current.len)
        } else {
            groups
        };
        let same = if shrink {
            groups == current.len && settled
        } else {
            groups <= current.len
        };
        if !same {
            self.move_all(groups, &hash_of)?;
        }
        if shrink {
            for stripe in self.sides.iter_mut() {
                St::shrink_to_fit(
                    stripe
                        .0
                        .get_mut()
                        .unwrap_or_else(std::sync::PoisonError::into_inner),
                );
            }
        }
        Ok(())
    }

    /// Calls `f` on every group that holds entries (an old array's not yet
    /// moved, then the current array's), in a fixed order, each as a unique
    /// view: through `&mut self`, no other thread reaches the table and no
    /// guard into it is alive.
    fn each_live_group(&mut self, mut f: impl FnMut(ViewMut<'_, Bucket<K, V, St>>)) {
        let array = self.array();
        let mut visit = |arr: &Arr<K, V, St>| {
            for i in 0..arr.len {
                let (group, slots) = arr.at(i);
                if group.moved() {
                    continue;
                }
                // SAFETY: `&mut self`: nothing else reaches the group; it
                // is not moved, so its slot block is allocated.
                f(unsafe {
                    ViewMut {
                        head: &mut *group.head.get(),
                        slots: &mut *(*slots).get(),
                    }
                });
            }
        };
        if let Some(prev) = self.prev(array) {
            visit(prev);
        }
        visit(array);
    }

    /// [`rebuild`](Self::rebuild)'s move into an array of `groups` groups.
    fn move_all(
        &mut self,
        groups: usize,
        hash_of: &impl Fn(&K) -> u64,
    ) -> Result<(), TryReserveError> {
        let len = self.len();
        let mut hashes: Vec<u64> = Vec::new();
        hashes
            .try_reserve_exact(len)
            .map_err(|_| match Layout::array::<u64>(len) {
                Ok(layout) => TryReserveError::AllocError { layout },
                Err(_) => TryReserveError::CapacityOverflow,
            })?;
        self.each_live_group(|view| {
            let view = View {
                head: view.head,
                slots: view.slots,
            };
            for_each(view, |_, bucket| {
                // SAFETY: an initialized bucket (`for_each`'s contract),
                // not written while this runs.
                let (key, _) = unsafe { St::pair_detached(bucket) };
                hashes.push(hash_of(key));
            });
        });
        let next = Array::try_alloc(groups, ptr::null_mut())?;
        // Nothing below calls user code or fails (a chained node's
        // allocation failure aborts).
        // SAFETY: fresh, and freed only with the table.
        let arr = unsafe { &*next };
        let mut chained = 0;
        let mut seen = 0;
        self.each_live_group(|view| {
            // Each bucket keeps its tag, as in `migrate`.
            drain(view, |tag, bucket| {
                let hash = hashes[seen];
                seen += 1;
                let (group, slots) = arr.at(arr.index(hash));
                // SAFETY: `arr` is not yet reachable by any other thread,
                // and this is the only view of the group alive.
                let view = unsafe {
                    ViewMut {
                        head: &mut *group.head.get(),
                        slots: &mut *(*slots).get(),
                    }
                };
                chained += usize::from(put(view, home_of(hash), tag, bucket).1);
                group.add_len(1);
            });
        });
        debug_assert_eq!(seen, hashes.len());
        let old = self.current.swap(next, Ordering::AcqRel);
        self.nodes.store(chained, Ordering::Relaxed);
        // SAFETY: `&mut self`: `old` and its `prev` are unreachable now,
        // their groups were drained (no buckets, no chains) or moved, and
        // their slot blocks are still allocated; retired arrays' slot
        // blocks were freed when they were retired.
        unsafe {
            let prev = (*old).prev.load(Ordering::Acquire);
            for array in [prev, old] {
                if !array.is_null() {
                    (*array).free_slots();
                    Array::free_headers(array);
                }
            }
            let retired = mem::take(
                self.retired
                    .get_mut()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            for old in retired {
                Array::free_headers(old);
            }
        }
        Ok(())
    }

    /// Moves every entry out, calling `f` on each (through `&mut self`: no
    /// lock is taken). The table is left empty and usable.
    pub(crate) fn drain_with(&mut self, mut f: impl FnMut(K, V)) {
        let this = &*self;
        let array = this.array();
        let visit = |arr: &Arr<K, V, St>, i: usize, f: &mut dyn FnMut(K, V)| {
            let (group, slots) = arr.at(i);
            if group.moved() {
                return;
            }
            group.len.store(0, Ordering::Relaxed);
            // SAFETY: `&mut self`: no other thread can reach the table and
            // no guard into it is alive; the group is not moved, so its
            // slot block is allocated.
            let view = unsafe {
                ViewMut {
                    head: &mut *group.head.get(),
                    slots: &mut *(*slots).get(),
                }
            };
            let freed = drain(view, |tag, bucket| {
                let (k, v) = this.take(tag, bucket);
                f(k, v);
            });
            this.nodes.fetch_sub(freed, Ordering::Relaxed);
        };
        if let Some(prev) = this.prev(array) {
            (0..prev.len).for_each(|i| visit(prev, i, &mut f));
        }
        (0..array.len).for_each(|i| visit(array, i, &mut f));
    }
}

impl<K, V, St: Storage> Drop for RawTable<K, V, St> {
    fn drop(&mut self) {
        // Entries first (a panicking drop leaves the rest to leak, as
        // std's map does), then the arrays.
        struct Free<'a, K, V, St: Storage>(&'a mut RawTable<K, V, St>);
        impl<K, V, St: Storage> Drop for Free<'_, K, V, St> {
            fn drop(&mut self) {
                let current = self.0.current.load(Ordering::Acquire);
                // SAFETY: `&mut`: no reader is left; the arrays are live.
                // Buckets a panicking drop left behind are leaked, not
                // dropped: only the chains are freed.
                unsafe {
                    let prev = (*current).prev.load(Ordering::Acquire);
                    for array in [prev, current] {
                        if array.is_null() {
                            continue;
                        }
                        let arr = &*array;
                        for i in 0..arr.len {
                            let head = &mut *arr.group_at(i).head.get();
                            head.tags = [0; GROUP];
                            let mut next = head.next.take();
                            while let Some(mut node) = next {
                                next = node.next.take();
                            }
                        }
                        arr.free_slots();
                        Array::free_headers(array);
                    }
                    let retired = mem::take(
                        self.0
                            .retired
                            .get_mut()
                            .unwrap_or_else(std::sync::PoisonError::into_inner),
                    );
                    for old in retired {
                        Array::free_headers(old);
                    }
                }
            }
        }
        let free = Free(self);
        if mem::needs_drop::<Bucket<K, V, St>>() || mem::needs_drop::<V>() {
            free.0.drain_with(|k, v| drop((k, v)));
        }
    }
}

// ---------------------------------------------------------------------------
// Guards

/// What a guard or a walk holds of a group's lock: `Send` and `Sync`, so
/// that the guard's own `NotSend` marker alone decides both (and the
/// compiler's error for a guard moved to another thread names that marker's
/// std type and the guard, not this crate's private types).
pub(crate) struct Local<T>(pub(crate) T);

// SAFETY: a `Local` is only ever a field of the guards, entries and walks
// of `concurrent.rs` (`Ref`, `RefMut`, `MappedRef`, `MappedRefMut`,
// `OccupiedEntry`, `VacantEntry`, `Iter`, `IterMut`), each of which also
// has a `NotSend` field, so none of them is `Send` (pinned by
// `tests/concurrent_relock.rs`) and no `Local` leaves the thread that took
// its lock.
unsafe impl<T> Send for Local<T> {}

// SAFETY: through a shared reference, those types give out only `&K` and
// `&V` (or `&T`, the part of the value a mapped guard holds): the lock is
// released by `Drop`, and moving on to another group takes `&mut`. Their
// `NotSend` field makes them `Sync` only where `&K` and `&V` (or `&T`) may
// be shared, as std's `RwLockReadGuard<T>` is `Sync` where `T` is.
unsafe impl<T> Sync for Local<T> {}

impl<T> Deref for Local<T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Local<T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// A bucket under its group's read lock.
pub(crate) struct ReadRef<'a, K, V, St: Storage> {
    held: Held<'a, Bucket<K, V, St>>,
    bucket: NonNull<Bucket<K, V, St>>,
}

impl<K, V, St: Storage> ReadRef<'_, K, V, St> {
    #[inline]
    pub(crate) fn pair(&self) -> (&K, &V) {
        let _ = &self.held;
        // SAFETY: the bucket is initialized and stays in place while the
        // read lock is held; see `RawTable::read`.
        unsafe { St::pair_detached(self.bucket.as_ref()) }
    }
}

/// A bucket under its group's write lock.
pub(crate) struct WriteRef<'a, K, V, St: Storage> {
    held: Held<'a, Bucket<K, V, St>>,
    /// Derived from the last unique borrow of the group's contents: no
    /// other reference to them is formed while this guard lives.
    pos: Pos<Bucket<K, V, St>>,
    table: &'a RawTable<K, V, St>,
}

// SAFETY: through `&WriteRef` only `pair` is reachable, which gives `&K`
// and `&V`: sharing it between threads shares those, as sharing std's
// `RwLockWriteGuard<(K, V)>` does. The lock is released by `Drop`, which a
// shared reference cannot run. Not `Send`: the lock must be released by the
// thread that took it.
unsafe impl<K: Sync, V: Sync, St: Storage> Sync for WriteRef<'_, K, V, St> {}

impl<'a, K, V, St: Storage> WriteRef<'a, K, V, St> {
    #[inline]
    pub(crate) fn pair(&self) -> (&K, &V) {
        let _ = &self.held;
        // SAFETY: as in `ReadRef::pair`, under the write lock.
        unsafe { St::pair_detached(self.pos.bucket.as_ref()) }
    }

    #[inline]
    pub(crate) fn pair_mut(&mut self) -> (&K, &mut V) {
        let _ = &mut self.held;
        // SAFETY: the write lock is held by this guard, borrowed mutably:
        // the only reference to the bucket (and to its pooled value).
        unsafe { St::pair_mut_detached(self.pos.bucket.as_mut()) }
    }

    /// Removes the entry.
    pub(crate) fn remove(self) -> (K, V) {
        let pos = self.pos;
        // SAFETY: the write lock is held and `pos` carries the unique
        // borrow of the group's contents; the tag is cleared before the
        // bucket is read, so it is read once.
        let (tag, bucket) = unsafe {
            let tag = mem::replace(&mut *pos.tag.as_ptr(), 0);
            (tag, pos.bucket.as_ptr().read())
        };
        self.held.group.add_len(-1);
        self.table.take(tag, bucket)
    }

    /// The entry under the group's read lock, taken over from this write
    /// lock with no moment unlocked: no writer can come between.
    pub(crate) fn downgrade(self) -> ReadRef<'a, K, V, St> {
        let WriteRef {
            mut held,
            pos,
            table: _,
        } = self;
        held.downgrade();
        ReadRef {
            held,
            bucket: pos.bucket,
        }
    }

    /// Replaces the value with `f(key, value)` under the lock. The entry is
    /// taken out of its bucket first and put back in it after: if `f`
    /// panics, the entry is gone (its key dropped) and the group is
    /// consistent.
    pub(crate) fn alter(mut self, f: impl FnOnce(&K, V) -> V) {
        let pos = self.pos;
        let _ = &mut self.held;
        // SAFETY: as in `remove`: the write lock is held, `pos` carries the
        // unique borrow of the group's contents, and the tag is cleared
        // before the bucket is read.
        let (tag, bucket) = unsafe {
            let tag = mem::replace(&mut *pos.tag.as_ptr(), 0);
            (tag, pos.bucket.as_ptr().read())
        };
        self.held.group.add_len(-1);
        let (key, value) = self.table.take(tag, bucket);
        let value = f(&key, value);
        let bucket = self
            .table
            .with_side(tag, |side| St::store(side, key, value));
        // SAFETY: the same bucket, empty since its tag was cleared, still
        // under the write lock.
        unsafe {
            pos.bucket.as_ptr().write(bucket);
            *pos.tag.as_ptr() = tag;
        }
        self.held.group.add_len(1);
    }
}

/// An absent key's place, under its group's write lock.
pub(crate) struct Vacant<'a, K, V, St: Storage> {
    held: Held<'a, Bucket<K, V, St>>,
    hash: u64,
    array: &'a Arr<K, V, St>,
    table: &'a RawTable<K, V, St>,
}

impl<'a, K, V, St: Storage> Vacant<'a, K, V, St> {
    /// Inserts the entry; the result keeps the write lock.
    #[inline]
    pub(crate) fn insert(mut self, key: K, value: V) -> WriteRef<'a, K, V, St> {
        let pos = self.put(key, value);
        WriteRef {
            held: self.held,
            pos,
            table: self.table,
        }
    }

    /// Inserts the entry and releases the lock.
    #[inline]
    pub(crate) fn insert_and_unlock(mut self, key: K, value: V) {
        self.put(key, value);
    }

    #[inline]
    fn put(&mut self, key: K, value: V) -> Pos<Bucket<K, V, St>> {
        let tag = tag_of(self.hash);
        let bucket = self
            .table
            .with_side(tag, |side| St::store(side, key, value));
        let (pos, chained) = put(self.held.view_mut(), home_of(self.hash), tag, bucket);
        self.held.group.add_len(1);
        if chained {
            self.grown();
        }
        pos
    }

    /// A node was chained: count it, and see whether the table should grow.
    #[cold]
    fn grown(&self) {
        self.table.nodes.fetch_add(1, Ordering::Relaxed);
        self.table.maybe_grow(self.array, self.hash);
    }
}

// ---------------------------------------------------------------------------
// Walks

/// A registered walk over every group: while a migration runs, each old
/// group not yet moved, or, for one moved, its two new groups; else the
/// current array's groups.
pub(crate) struct Walk<'a, K, V, St: Storage> {
    table: &'a RawTable<K, V, St>,
    /// The current array when the walk was registered: it stays current
    /// while the walk lives.
    array: &'a Arr<K, V, St>,
    /// The array it was being filled from then, if any (its headers live
    /// as long as the table).
    prev: Option<&'a Arr<K, V, St>>,
    next: usize,
    /// The second new group of a moved old group, still to visit.
    pending: Option<usize>,
}

impl<K, V, St: Storage> Drop for Walk<'_, K, V, St> {
    fn drop(&mut self) {
        let table = self.table;
        let mut walkers = table
            .walkers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        walkers.count -= 1;
        // The last walk starts the resize a walk deferred, if the table is
        // still full enough (under the registry's lock: no walk starts
        // meanwhile). It allocates the new array and moves nothing: the
        // writes that follow move the groups, as in any resize.
        if walkers.count == 0 && mem::take(&mut walkers.deferred) {
            let array = table.array();
            if RawTable::<K, V, St>::full(array, 0) {
                table.grow_registered(array);
            }
        }
    }
}

#[cfg(feature = "serde")]
/// A group whose lock a walk found taken for longer than its patience.
struct Busy<'a, B>((&'a Group<B>, *mut UnsafeCell<Slots<B>>));

#[cfg(feature = "serde")]
/// What [`Walk::next_group_within`] finds: the next group, locked; the end;
/// or a group it ran out of patience for.
type NextGroup<'a, K, V, St> = Result<Option<WalkGroup<'a, K, V, St>>, Busy<'a, Bucket<K, V, St>>>;

#[cfg(feature = "serde")]
/// How long [`RawTable::read_all`] waits for one group's lock while it holds
/// others before it lets go of them: far longer than a write holds a group
/// (well under a microsecond), so that it gives up only behind a guard held
/// for long, or behind a thread that waits for a group it holds.
const PATIENCE: std::time::Duration = std::time::Duration::from_millis(2);

#[cfg(feature = "serde")]
impl<K, V, St: Storage> RawTable<K, V, St> {
    /// `f` over every group, all read-locked at once: a snapshot. The groups
    /// are locked in the walk's order; where one stays write-locked for
    /// [`PATIENCE`] while others are held (its holder may be waiting for one
    /// of them: a guard's thread writing another key), every lock is let
    /// go, that group is waited for alone, and the walk starts again. So
    /// this never waits for a group while holding another, except this
    /// thread's own guards: it deadlocks only where a walk one group at a
    /// time does.
    #[track_caller]
    pub(crate) fn read_all<R>(
        &self,
        why: Why,
        f: impl FnOnce(&[WalkGroup<'_, K, V, St>]) -> R,
    ) -> R {
        loop {
            let mut walk = self.walk();
            let mut groups = Vec::new();
            let busy = loop {
                // The first group is waited for with nothing held.
                let patience = (!groups.is_empty()).then_some(PATIENCE);
                match walk.next_group_within(why, patience) {
                    Ok(Some(group)) => groups.push(group),
                    Ok(None) => break None,
                    Err(busy) => break Some(busy),
                }
            };
            let Some(Busy(at)) = busy else {
                return f(&groups);
            };
            drop(groups);
            drop(walk);
            drop(Held::shared(at, why));
        }
    }
}

/// A group a walk holds.
pub(crate) struct WalkGroup<'a, K, V, St: Storage> {
    held: Held<'a, Bucket<K, V, St>>,
    table: &'a RawTable<K, V, St>,
}

impl<'a, K, V, St: Storage> Walk<'a, K, V, St> {
    /// The next group, locked shared or exclusive; `None` at the end.
    #[track_caller]
    pub(crate) fn next_group(
        &mut self,
        exclusive: bool,
        why: Why,
    ) -> Option<WalkGroup<'a, K, V, St>> {
        let table = self.table;
        let lock = |at| WalkGroup {
            held: if exclusive {
                Held::exclusive(at, why)
            } else {
                Held::shared(at, why)
            },
            table,
        };
        let array = self.array;
        if let Some(j) = self.pending.take() {
            return Some(lock(array.at(j)));
        }
        let Some(prev) = self.prev else {
            if self.next >= array.len {
                return None;
            }
            self.next += 1;
            return Some(lock(array.at(self.next - 1)));
        };
        if self.next >= prev.len {
            return None;
        }
        let i = self.next;
        self.next += 1;
        let group = lock(prev.at(i));
        if !group.held.group.moved() {
            return Some(group);
        }
        drop(group);
        self.pending = Some(i + prev.len);
        Some(lock(array.at(i)))
    }

    #[cfg(feature = "serde")]
    /// The next group, read-locked, waiting at most `patience` for its lock
    /// (for ever where `None`); `Ok(None)` at the end, `Err` with the group
    /// whose lock stayed taken that long.
    #[track_caller]
    fn next_group_within(
        &mut self,
        why: Why,
        patience: Option<std::time::Duration>,
    ) -> NextGroup<'a, K, V, St> {
        let table = self.table;
        let lock = |at| {
            let held = match patience {
                None => Some(Held::shared(at, why)),
                Some(patience) => Held::shared_within(at, why, patience),
            };
            held.map(|held| WalkGroup { held, table }).ok_or(Busy(at))
        };
        let array = self.array;
        if let Some(j) = self.pending.take() {
            return lock(array.at(j)).map(Some);
        }
        let Some(prev) = self.prev else {
            if self.next >= array.len {
                return Ok(None);
            }
            self.next += 1;
            return lock(array.at(self.next - 1)).map(Some);
        };
        if self.next >= prev.len {
            return Ok(None);
        }
        let i = self.next;
        self.next += 1;
        let group = lock(prev.at(i))?;
        if !group.held.group.moved() {
            return Ok(Some(group));
        }
        drop(group);
        self.pending = Some(i + prev.len);
        lock(array.at(i)).map(Some)
    }

    /// How far the walk is, for `Debug`.
    pub(crate) fn position(&self) -> usize {
        self.next
    }
}

impl<'a, K, V, St: Storage> WalkGroup<'a, K, V, St> {
    /// The group's entries.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.buckets().into_iter().map(|b| {
            // SAFETY: the group's lock is held while `self` is borrowed.
            unsafe { St::pair_detached(b.as_ref()) }
        })
    }

    fn buckets(&self) -> Vec<NonNull<Bucket<K, V, St>>> {
        let mut buckets = Vec::new();
        for_each(self.held.view(), |_, b| buckets.push(NonNull::from(b)));
        buckets
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.held.group.len.load(Ordering::Relaxed)
    }

    /// The group's entries as items sharing its write lock, each bucket
    /// handed out once, for `iter_mut`. Needs an exclusive lock.
    pub(crate) fn share_mut(mut self) -> Vec<BucketMut<'a, K, V, St>> {
        let mut buckets = Vec::new();
        // Each pointer derived from the unique borrow of its own bucket.
        let view = self.held.view_mut();
        let (mut tags, mut slots, mut next) = (&view.head.tags, view.slots, &mut view.head.next);
        loop {
            let mut mask = occupied(tags);
            while mask != 0 {
                let i = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                // SAFETY: a non-zero tag marks an initialized bucket; the
                // lock is held exclusively.
                buckets.push(NonNull::from(unsafe { slots[i].assume_init_mut() }));
            }
            let Some(node) = next.as_deref_mut() else {
                break;
            };
            (tags, slots, next) = (&node.tags, &mut node.slots, &mut node.next);
        }
        let group = Arc::new(ExclusiveGroup { _held: self.held });
        buckets
            .into_iter()
            .map(|bucket| BucketMut {
                bucket,
                _group: Arc::clone(&group),
            })
            .collect()
    }

    /// The group's entries as items sharing its read lock.
    pub(crate) fn share(self) -> SharedGroup<'a, K, V, St> {
        SharedGroup {
            buckets: self.buckets(),
            held: self.held,
        }
    }

    /// Keeps the entries for which `keep` returns `true`; the others are
    /// handed to `removed`. Needs an exclusive lock.
    pub(crate) fn retain(
        &mut self,
        mut keep: impl FnMut(&K, &mut V) -> bool,
        mut removed: impl FnMut(Detached<K, V, St>),
    ) {
        let table = self.table;
        let group = self.held.group;
        for_each_mut(self.held.view_mut(), |tag, slot| {
            // SAFETY: a non-zero tag marks an initialized bucket; the lock
            // is held exclusively.
            let (k, v) = unsafe { St::pair_mut_detached(slot.assume_init_mut()) };
            if !keep(k, v) {
                let tag = mem::replace(tag, 0);
                // SAFETY: the tag was non-zero and is now cleared: read once.
                let bucket = unsafe { slot.assume_init_read() };
                group.add_len(-1);
                removed(table.detach(tag, bucket));
            }
        });
    }

    /// Replaces every value with `f(key, value)`, each entry taken out of
    /// its bucket and put back in it, as [`WriteRef::alter`] does (if `f`
    /// panics, the entry it was given is gone and the group is consistent).
    /// Needs an exclusive lock.
    pub(crate) fn alter_all(&mut self, f: &mut impl FnMut(&K, V) -> V) {
        let table = self.table;
        let group = self.held.group;
        for_each_mut(self.held.view_mut(), |tag_at, slot| {
            let tag = mem::replace(tag_at, 0);
            // SAFETY: a non-zero tag marked an initialized bucket, and it is
            // cleared now: read once. The lock is held exclusively.
            let bucket = unsafe { slot.assume_init_read() };
            group.add_len(-1);
            let (key, value) = table.take(tag, bucket);
            let value = f(&key, value);
            slot.write(table.with_side(tag, |side| St::store(side, key, value)));
            *tag_at = tag;
            group.add_len(1);
        });
    }

    /// Moves every entry out to `f`, keeping the group's overflow nodes
    /// for later inserts (a store's `clear` keeps its memory, as std's
    /// does). Needs an exclusive lock.
    pub(crate) fn clear(&mut self, mut f: impl FnMut(Detached<K, V, St>)) {
        let table = self.table;
        let group = self.held.group;
        let view = self.held.view_mut();
        let mut f = |tag, bucket| f(table.detach(tag, bucket));
        take_all(&mut view.head.tags, view.slots, &mut f);
        let mut next = view.head.next.as_deref_mut();
        while let Some(node) = next {
            take_all(&mut node.tags, &mut node.slots, &mut f);
            next = node.next.as_deref_mut();
        }
        group.len.store(0, Ordering::Relaxed);
    }
}

/// A group write-locked by an `iter_mut` walk, kept locked while any of its
/// [`BucketMut`]s lives.
pub(crate) struct ExclusiveGroup<'a, K, V, St: Storage> {
    _held: Held<'a, Bucket<K, V, St>>,
}

/// One bucket of an [`ExclusiveGroup`], made once per bucket by
/// [`WalkGroup::share_mut`] (not `Clone`): the only way to its entry while
/// it lives.
pub(crate) struct BucketMut<'a, K, V, St: Storage> {
    bucket: NonNull<Bucket<K, V, St>>,
    _group: Arc<ExclusiveGroup<'a, K, V, St>>,
}

// SAFETY: through `&BucketMut` only `pair` is reachable, which gives `&K`
// and `&V`, as through `&WriteRef`. Not `Send`: the last one dropped
// releases the lock, which must happen on the thread that took it.
unsafe impl<K: Sync, V: Sync, St: Storage> Sync for BucketMut<'_, K, V, St> {}

impl<K, V, St: Storage> BucketMut<'_, K, V, St> {
    #[inline]
    pub(crate) fn pair(&self) -> (&K, &V) {
        // SAFETY: the group's write lock is held while `_group` lives, and
        // the group is not moved (a walk yields only unmoved groups, and
        // moving it takes that lock), so the bucket stays in place; no
        // `&mut` to it exists while `self` is borrowed shared (only
        // `pair_mut`, through `&mut self`, makes one, and no other
        // `BucketMut` points to this bucket).
        unsafe { St::pair_detached(self.bucket.as_ref()) }
    }

    #[inline]
    pub(crate) fn pair_mut(&mut self) -> (&K, &mut V) {
        // SAFETY: as in `pair`; `self` is borrowed mutably and is the one
        // `BucketMut` of its bucket, so this is the only reference to the
        // bucket (and to its pooled value) while it is used.
        unsafe { St::pair_mut_detached(self.bucket.as_mut()) }
    }
}

/// A group read-locked by a walk, its buckets listed, each handed out as an
/// item sharing the lock.
pub(crate) struct SharedGroup<'a, K, V, St: Storage> {
    buckets: Vec<NonNull<Bucket<K, V, St>>>,
    held: Held<'a, Bucket<K, V, St>>,
}

impl<K, V, St: Storage> SharedGroup<'_, K, V, St> {
    /// The number of buckets.
    pub(crate) fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Bucket `i`'s entry.
    pub(crate) fn pair(&self, i: usize) -> (&K, &V) {
        let _ = &self.held;
        // SAFETY: the group's read lock is held while `self` lives, and the
        // group is not moved (a walk yields only unmoved groups), so the
        // bucket stays in place.
        unsafe { St::pair_detached(self.buckets[i].as_ref()) }
    }
}

/// What a read guard of the store holds: its own read lock, a share of a
/// walk's read lock on the group (an item of `iter`), or, for an item of
/// `iter_mut` downgraded, its share of the group's write lock (the group's
/// other items may still be written through, this one no longer).
pub(crate) enum ReadHold<'a, K, V, St: Storage> {
    Own(ReadRef<'a, K, V, St>),
    Shared(Arc<SharedGroup<'a, K, V, St>>, usize),
    Written(BucketMut<'a, K, V, St>),
}

impl<K, V, St: Storage> ReadHold<'_, K, V, St> {
    #[inline]
    pub(crate) fn pair(&self) -> (&K, &V) {
        match self {
            ReadHold::Own(found) => found.pair(),
            ReadHold::Shared(group, i) => group.pair(*i),
            ReadHold::Written(found) => found.pair(),
        }
    }
}

/// What a write guard of the store holds: its own write lock, or an item's
/// share of a walk's write lock on the group (`iter_mut`).
pub(crate) enum WriteHold<'a, K, V, St: Storage> {
    Own(WriteRef<'a, K, V, St>),
    Shared(BucketMut<'a, K, V, St>),
}

impl<'a, K, V, St: Storage> WriteHold<'a, K, V, St> {
    #[inline]
    pub(crate) fn pair(&self) -> (&K, &V) {
        match self {
            WriteHold::Own(found) => found.pair(),
            WriteHold::Shared(found) => found.pair(),
        }
    }

    #[inline]
    pub(crate) fn pair_mut(&mut self) -> (&K, &mut V) {
        match self {
            WriteHold::Own(found) => found.pair_mut(),
            WriteHold::Shared(found) => found.pair_mut(),
        }
    }

    /// The read hold that takes over: the group's read lock with no moment
    /// unlocked, or for a walk's item its share of the write lock.
    pub(crate) fn downgrade(self) -> ReadHold<'a, K, V, St> {
        match self {
            WriteHold::Own(found) => ReadHold::Own(found.downgrade()),
            WriteHold::Shared(found) => ReadHold::Written(found),
        }
    }
}

/// A read hold and a part of its entry: the entry's key and a reference
/// derived from its value, kept as pointers (they point into the group or
/// the pool, not into the hold, so moving the hold moves neither).
pub(crate) struct MappedRead<'a, K, V, St: Storage, T: ?Sized> {
    key: NonNull<K>,
    part: NonNull<T>,
    hold: ReadHold<'a, K, V, St>,
}

impl<'a, K, V, St: Storage, T: ?Sized> MappedRead<'a, K, V, St, T> {
    /// `f`'s part of the held entry's value.
    pub(crate) fn new(hold: ReadHold<'a, K, V, St>, f: impl FnOnce(&V) -> &T) -> Self {
        let (key, value) = hold.pair();
        let (key, part) = (NonNull::from(key), NonNull::from(f(value)));
        MappedRead { key, part, hold }
    }

    /// `f`'s part of this part.
    pub(crate) fn map<U: ?Sized>(self, f: impl FnOnce(&T) -> &U) -> MappedRead<'a, K, V, St, U> {
        let part = NonNull::from(f(self.pair().1));
        let MappedRead { key, part: _, hold } = self;
        MappedRead { key, part, hold }
    }

    /// `f`'s part of the held entry's value, or the hold back if `f` finds
    /// none.
    pub(crate) fn try_new(
        hold: ReadHold<'a, K, V, St>,
        f: impl FnOnce(&V) -> Option<&T>,
    ) -> Result<Self, ReadHold<'a, K, V, St>> {
        let (key, value) = hold.pair();
        let part = match f(value) {
            Some(part) => NonNull::from(part),
            None => return Err(hold),
        };
        let key = NonNull::from(key);
        Ok(MappedRead { key, part, hold })
    }

    /// `f`'s part of this part, or `self` back if `f` finds none.
    pub(crate) fn try_map<U: ?Sized>(
        self,
        f: impl FnOnce(&T) -> Option<&U>,
    ) -> Result<MappedRead<'a, K, V, St, U>, Self> {
        let part = match f(self.pair().1) {
            Some(part) => NonNull::from(part),
            None => return Err(self),
        };
        let MappedRead { key, part: _, hold } = self;
        Ok(MappedRead { key, part, hold })
    }

    #[inline]
    pub(crate) fn pair(&self) -> (&K, &T) {
        let _ = &self.hold;
        // SAFETY: both pointers were made from references that the hold
        // gave (`hold.pair()`, or a part of one through `try_map`), to the
        // entry's key in its bucket and to a part of its value (in the
        // bucket, the pool, or memory the value owns). They point into the
        // group or the pool, not into the hold itself, so moving the hold
        // into `self` left them valid. The hold keeps the group's read lock
        // (or, `Written`, this item's share of the write lock, through which
        // nothing else writes this entry) while `self` lives: the entry is
        // not moved (a migration takes the write lock), written or dropped,
        // so neither the value nor what it owns changes, and only shared
        // references are made from the pointers.
        unsafe { (self.key.as_ref(), self.part.as_ref()) }
    }
}

/// A write hold and a part of its entry's value, mutably: as
/// [`MappedRead`], with the part reachable as `&mut T` through `&mut self`.
pub(crate) struct MappedWrite<'a, K, V, St: Storage, T: ?Sized> {
    key: NonNull<K>,
    part: NonNull<T>,
    hold: WriteHold<'a, K, V, St>,
    /// Invariant in `T`, as `&mut T` is.
    _part: PhantomData<&'a mut T>,
}

impl<'a, K, V, St: Storage, T: ?Sized> MappedWrite<'a, K, V, St, T> {
    /// `f`'s part of the held entry's value.
    pub(crate) fn new(mut hold: WriteHold<'a, K, V, St>, f: impl FnOnce(&mut V) -> &mut T) -> Self {
        let (key, value) = hold.pair_mut();
        let (key, part) = (NonNull::from(key), NonNull::from(f(value)));
        MappedWrite {
            key,
            part,
            hold,
            _part: PhantomData,
        }
    }

    /// `f`'s part of this part.
    pub(crate) fn map<U: ?Sized>(
        mut self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> MappedWrite<'a, K, V, St, U> {
        let part = NonNull::from(f(self.pair_mut().1));
        let MappedWrite { key, hold, .. } = self;
        MappedWrite {
            key,
            part,
            hold,
            _part: PhantomData,
        }
    }

    /// `f`'s part of the held entry's value, or the hold back if `f` finds
    /// none.
    pub(crate) fn try_new(
        mut hold: WriteHold<'a, K, V, St>,
        f: impl FnOnce(&mut V) -> Option<&mut T>,
    ) -> Result<Self, WriteHold<'a, K, V, St>> {
        let (key, value) = hold.pair_mut();
        let key = NonNull::from(key);
        let part = match f(value) {
            Some(part) => NonNull::from(part),
            None => return Err(hold),
        };
        Ok(MappedWrite {
            key,
            part,
            hold,
            _part: PhantomData,
        })
    }

    /// `f`'s part of this part, or `self` back if `f` finds none.
    pub(crate) fn try_map<U: ?Sized>(
        mut self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<MappedWrite<'a, K, V, St, U>, Self> {
        let part = match f(self.pair_mut().1) {
            Some(part) => NonNull::from(part),
            None => return Err(self),
        };
        let MappedWrite { key, hold, .. } = self;
        Ok(MappedWrite {
            key,
            part,
            hold,
            _part: PhantomData,
        })
    }

    #[inline]
    pub(crate) fn pair(&self) -> (&K, &T) {
        let _ = &self.hold;
        // SAFETY: as in `MappedRead::pair`, under the write lock (or this
        // item's share of it) that the hold keeps: the pointers came from
        // the `(&K, &mut V)` that `hold.pair_mut()` gave (the key's and a
        // part of the value's, disjoint), and no `&mut` made from `part` is
        // alive while `self` is borrowed shared.
        unsafe { (self.key.as_ref(), self.part.as_ref()) }
    }

    #[inline]
    pub(crate) fn pair_mut(&mut self) -> (&K, &mut T) {
        let _ = &mut self.hold;
        // SAFETY: as in `pair`; `self` is borrowed mutably, and the hold is
        // the only way to the entry (the write lock, or the one walk item of
        // this bucket), so this is the only reference to the part while it
        // is used. The key's memory is disjoint from the value's.
        unsafe { (self.key.as_ref(), self.part.as_mut()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty first node of `u64` buckets: its header part and its slots.
    fn empty() -> (Head<u64>, Slots<u64>) {
        (
            Head {
                tags: [0; GROUP],
                next: None,
            },
            [const { MaybeUninit::uninit() }; GROUP],
        )
    }

    /// A hash whose home bucket is `home`.
    fn hash_with_home(home: usize) -> u64 {
        ((home as u64) << 48) | (1 << 60)
    }

    #[test]
    fn put_takes_the_home_bucket_while_it_is_free() {
        let (mut head, mut slots) = empty();
        let home = GROUP - 1;
        let hash = hash_with_home(home);
        let view = ViewMut {
            head: &mut head,
            slots: &mut slots,
        };
        let (pos, chained) = put(view, home_of(hash), tag_of(hash), 7);
        assert!(!chained);
        assert_eq!(head.tags[home], tag_of(hash));
        assert_eq!(pos.tag, NonNull::from(&head.tags[home]));
        assert_eq!(head.tags.iter().filter(|&&t| t != 0).count(), 1);
        // Taken: the next key with that home goes to the first free bucket.
        let view = ViewMut {
            head: &mut head,
            slots: &mut slots,
        };
        put(view, home, tag_of(hash), 8);
        assert_ne!(head.tags[0], 0, "{:?}", head.tags);
    }

    #[test]
    fn a_migration_fill_puts_each_key_at_its_home_when_free() {
        let (mut head, mut slots) = empty();
        let mut fill = Fill::new(ViewMut {
            head: &mut head,
            slots: &mut slots,
        });
        // Keys whose homes are the buckets in reverse: each lands at home,
        // where filling in order would have put them at 0, 1, ...
        for home in (0..GROUP).rev() {
            let hash = hash_with_home(home);
            fill.push(hash, tag_of(hash), home as u64);
        }
        // One more: every bucket taken, so it chains.
        fill.push(hash_with_home(0), tag_of(hash_with_home(0)), 99);
        assert_eq!(fill.chained, 1);
        assert_eq!(fill.finish(), GROUP + 1);
        for (i, slot) in slots.iter().enumerate() {
            assert_ne!(head.tags[i], 0);
            // SAFETY: every first-node bucket was written above.
            assert_eq!(unsafe { slot.assume_init_read() }, i as u64);
        }
        assert!(head.next.is_some());
    }
}
