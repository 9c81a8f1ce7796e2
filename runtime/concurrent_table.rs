//! The table behind [`ConcurrentStore`](crate::ConcurrentStore): buckets in
//! groups of [`GROUP`], a reader-writer lock word per group, growth by
//! cooperative migration, old arrays reclaimed by epochs. All of the
//! concurrent store's `unsafe` code is in this file.
//!
//! # Layout
//!
//! An [`Array`] is a power-of-two number of [`Group`]s in one allocation,
//! each group 64-byte aligned: its lock word, a `moved` flag and 16 tag
//! bytes share the group's first cache line with the first buckets, so two
//! operations on different groups never write the same line. A bucket is
//! what `V::Storage` stores in a table (`(K, V)`, `(K, Box<V>)` or a key and
//! a pool slot handle). A group that fills up chains overflow nodes of 16
//! more buckets, allocated once and reused. A key's group is its hash's low
//! bits; its tag is `0x80 |` the top 7 bits (0 marks an empty bucket).
//!
//! Pooled values live in pools striped by the tag's low bits, each behind
//! its own mutex, taken only to store or take a value: a read goes from the
//! bucket to the value, and a resize moves handles, never values.
//!
//! The entry count is a set of striped counters, one per thread slot, so
//! inserts and removes write no shared line either; `len` sums them.
//!
//! # Growth
//!
//! When an insert has to chain a new overflow node and the table is more
//! than half full, it installs an array of twice as many groups whose
//! `prev` is the old one. From then on:
//!
//! - a **read** of a key locks its old group (shared); if that group has
//!   not been moved, the key is there or nowhere; if it has, the read goes
//!   to the key's group in the new array;
//! - a **write** first moves the key's old group into the new array (under
//!   the old group's exclusive lock: every bucket, into the two groups it
//!   splits into), then locks the key's new group, and moves up to
//!   [`HELP`] more old groups it can lock without waiting;
//! - the mover of the last old group unlinks the old array and hands it to
//!   the epoch collector (crossbeam-epoch), which frees it once every
//!   thread that could still read it has moved on.
//!
//! A group that is found `moved` after its lock is taken is never used:
//! the operation starts again from the current array. One migration runs
//! at a time (a new array is installed only when the current one has no
//! `prev`), and none starts while a walk (`iter`, `retain`, `clear`, ...)
//! is registered, so a walk sees each entry present throughout exactly
//! once.
//!
//! Lock order: an old group before a new one, a group before a pool
//! stripe's mutex. A new group is locked by anyone else only after its old
//! group is marked moved, which happens under that old group's exclusive
//! lock, so a mover never waits for a new group.

use alloc::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::mem::{self, MaybeUninit};
use core::ptr::{self, NonNull};

use hashbrown::Equivalent;

use crate::map::{Bucket, Side};
use crate::storage::{EmptySide, Storage};

use sync::{AtomicBool, AtomicIsize, AtomicPtr, AtomicUsize, Mutex, Ordering, RawLock};

/// Buckets per group (and per overflow node). Under loom, 2: a third key
/// chains a node and grows the table, so small models reach the migration.
pub(crate) const GROUP: usize = if cfg!(mapstore_loom) { 2 } else { 16 };
/// Old groups a write moves, besides its own key's, while a migration runs.
const HELP: usize = 2;

// ---------------------------------------------------------------------------
// Synchronization: std and parking_lot, or loom's under `--cfg mapstore_loom`.

#[cfg(not(mapstore_loom))]
mod sync {
    pub(crate) use core::sync::atomic::{AtomicBool, AtomicIsize, AtomicPtr, AtomicUsize, Ordering};
    pub(crate) use std::sync::Mutex;

    use parking_lot::lock_api::RawRwLock as _;

    /// A group's lock: parking_lot's one-word reader-writer lock, which
    /// spins briefly and then parks. Task-fair: a waiting writer stops new
    /// readers.
    pub(crate) struct RawLock(parking_lot::RawRwLock);

    impl RawLock {
        pub(crate) fn new() -> RawLock {
            RawLock(<parking_lot::RawRwLock as parking_lot::lock_api::RawRwLock>::INIT)
        }
        #[inline]
        pub(crate) fn lock_shared(&self) {
            self.0.lock_shared();
        }
        #[inline]
        pub(crate) fn lock_exclusive(&self) {
            self.0.lock_exclusive();
        }
        #[inline]
        pub(crate) fn try_lock_exclusive(&self) -> bool {
            self.0.try_lock_exclusive()
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
    pub(crate) use loom::sync::atomic::{
        AtomicBool, AtomicIsize, AtomicPtr, AtomicUsize, Ordering,
    };
    pub(crate) use loom::sync::Mutex;

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
        pub(crate) unsafe fn unlock_shared(&self) {
            let mut state = self.state();
            *state -= 2;
            if *state == 0 {
                self.changed.notify_all();
            }
        }
        pub(crate) unsafe fn unlock_exclusive(&self) {
            *self.state() = 0;
            self.changed.notify_all();
        }
    }
}

/// A pinned epoch: arrays retired while it lives are not freed. Not `Send`.
#[cfg(not(mapstore_loom))]
pub(crate) struct Pin {
    _guard: crossbeam_epoch::Guard,
}
/// Under loom, retired arrays are kept until the table is dropped.
#[cfg(mapstore_loom)]
pub(crate) struct Pin {
    _guard: PhantomData<*const ()>,
}
/// Under loom: nothing to release, but dropped where a real pin is, and
/// (for clippy's `drop_non_drop`) a type with a destructor like it.
#[cfg(mapstore_loom)]
impl Drop for Pin {
    fn drop(&mut self) {}
}

#[inline]
pub(crate) fn pin() -> Pin {
    #[cfg(not(mapstore_loom))]
    return Pin {
        _guard: crossbeam_epoch::pin(),
    };
    #[cfg(mapstore_loom)]
    return Pin {
        _guard: PhantomData,
    };
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

    /// Panics if this thread holds `lock`.
    #[track_caller]
    pub(crate) fn check(lock: usize, op: &str) {
        let held_by = HELD
            .try_with(|held| {
                held.borrow()
                    .iter()
                    .find(|h| h.lock == lock)
                    .map(|h| h.holder)
            })
            .ok()
            .flatten();
        if let Some(held_by) = held_by {
            panic!(
                "ConcurrentStore::{op} would lock a group of keys whose lock this thread \
                 already holds through {held_by}: that would deadlock (a thread never takes \
                 a lock twice, not even to read). Drop the guard first, or use \
                 `read(&key, |v| ..)`, which holds nothing after it returns; closures given \
                 to the store must not call it. (Checked in debug builds.)"
            );
        }
    }

    impl Mark {
        /// Records that this thread is about to lock `lock` for `op`, held
        /// by `holder`; panics if it already holds it.
        #[track_caller]
        pub(crate) fn new(lock: usize, op: &str, holder: &'static str) -> Mark {
            check(lock, op);
            let _ = HELD.try_with(|held| held.borrow_mut().push(Hold { lock, holder }));
            Mark { lock }
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
pub(crate) struct Why {
    pub(crate) op: &'static str,
    pub(crate) holder: &'static str,
}

// ---------------------------------------------------------------------------
// Groups and arrays

/// Sixteen buckets and their tags; a group's first node is inline, more
/// are chained.
#[repr(C)]
struct Node<B> {
    tags: [u8; GROUP],
    next: Option<Box<Node<B>>>,
    slots: [MaybeUninit<B>; GROUP],
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

/// What a group's lock guards.
#[repr(C)]
struct Inner<B> {
    head: Node<B>,
}

#[repr(C, align(64))]
struct Group<B> {
    lock: RawLock,
    /// Set, under the exclusive lock, once the group's buckets have been
    /// moved to the next array; never cleared. Atomic so that `lock_of`
    /// can read it without the lock.
    moved: AtomicBool,
    cell: UnsafeCell<Inner<B>>,
}

impl<B> Group<B> {
    /// Whether the group was moved; read under its lock, or as a hint.
    #[inline]
    fn moved(&self) -> bool {
        self.moved.load(Ordering::Acquire)
    }
}

/// The positions of the tags equal to `tag`, as a bit mask.
#[inline]
fn match_tag(tags: &[u8; GROUP], tag: u8) -> u32 {
    let mut mask = 0u32;
    for (i, &t) in tags.iter().enumerate() {
        mask |= u32::from(t == tag) << i;
    }
    mask
}

#[inline]
fn tag_of(hash: u64) -> u8 {
    0x80 | (hash >> 57) as u8
}

struct Array<B> {
    groups: NonNull<Group<B>>,
    /// A power of two.
    len: usize,
    /// The array this one is being filled from, or null.
    prev: AtomicPtr<Array<B>>,
    /// Next old group a helping write tries to move (wraps around).
    cursor: AtomicUsize,
    /// Old groups moved so far.
    done: AtomicUsize,
}

impl<B> Array<B> {
    /// A new array of `len` empty groups (a power of two), whose `prev` is
    /// `prev`; returned as a raw pointer owned by the caller.
    fn alloc(len: usize, prev: *mut Array<B>) -> *mut Array<B> {
        debug_assert!(len.is_power_of_two());
        let layout = Layout::array::<Group<B>>(len).expect("capacity overflow");
        // SAFETY: `Group` is 64-byte aligned and at least 64 bytes, so the
        // layout has a non-zero size.
        let groups = unsafe { alloc(layout) }.cast::<Group<B>>();
        let Some(groups) = NonNull::new(groups) else {
            handle_alloc_error(layout)
        };
        for i in 0..len {
            // SAFETY: `i < len`: in bounds of the fresh allocation.
            unsafe {
                groups.add(i).write(Group {
                    lock: RawLock::new(),
                    moved: AtomicBool::new(false),
                    cell: UnsafeCell::new(Inner {
                        head: Node::empty(),
                    }),
                });
            }
        }
        Box::into_raw(Box::new(Array {
            groups,
            len,
            prev: AtomicPtr::new(prev),
            cursor: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
        }))
    }

    #[inline]
    fn group(&self, hash: u64) -> &Group<B> {
        self.group_at(hash as usize & (self.len - 1))
    }

    #[inline]
    fn group_at(&self, i: usize) -> &Group<B> {
        assert!(i < self.len);
        // SAFETY: in bounds; the groups are initialized and live as long as
        // the array.
        unsafe { self.groups.add(i).as_ref() }
    }

    /// Frees an array none of whose groups holds a bucket (all moved out or
    /// taken) and which no thread can reach any more.
    ///
    /// # Safety
    ///
    /// `array` came from [`Array::alloc`], is unreachable, and its groups
    /// hold no buckets and no overflow nodes.
    unsafe fn free(array: *mut Array<B>) {
        // SAFETY: the caller's contract.
        let (groups, len) = unsafe { ((*array).groups, (*array).len) };
        // SAFETY: as above; the groups' drop glue has nothing to drop.
        unsafe {
            dealloc(
                groups.as_ptr().cast(),
                Layout::array::<Group<B>>(len).expect("its layout was valid when allocated"),
            );
            drop(Box::from_raw(array));
        }
    }

    /// Memory the array and its groups hold (not overflow nodes).
    fn bytes(&self) -> usize {
        mem::size_of::<Array<B>>() + self.len * mem::size_of::<Group<B>>()
    }
}

// ---------------------------------------------------------------------------
// Locked groups

/// A group this thread holds, shared or exclusive; unlocks on drop.
struct Held<'a, B> {
    group: &'a Group<B>,
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

impl<'a, B> Held<'a, B> {
    #[inline]
    #[track_caller]
    fn shared(group: &'a Group<B>, why: Why) -> Self {
        #[cfg(debug_assertions)]
        let mark = Some(held::Mark::new(lock_id(group), why.op, why.holder));
        #[cfg(not(debug_assertions))]
        let _ = why;
        group.lock.lock_shared();
        Held {
            group,
            exclusive: false,
            #[cfg(debug_assertions)]
            _mark: mark,
        }
    }

    #[inline]
    #[track_caller]
    fn exclusive(group: &'a Group<B>, why: Why) -> Self {
        #[cfg(debug_assertions)]
        let mark = Some(held::Mark::new(lock_id(group), why.op, why.holder));
        #[cfg(not(debug_assertions))]
        let _ = why;
        group.lock.lock_exclusive();
        Held {
            group,
            exclusive: true,
            #[cfg(debug_assertions)]
            _mark: mark,
        }
    }

    /// The lock without waiting, or `None`. Not recorded: it is held only
    /// while no user code runs.
    #[inline]
    fn try_exclusive(group: &'a Group<B>) -> Option<Self> {
        // `then`, not `then_some`: a `Held` made for a lock not taken would
        // unlock it when dropped.
        group.lock.try_lock_exclusive().then(|| Held {
            group,
            exclusive: true,
            #[cfg(debug_assertions)]
            _mark: None,
        })
    }

    /// Exclusive, uncontended by construction (a new group whose old group
    /// this thread is moving): not recorded.
    #[inline]
    fn fresh(group: &'a Group<B>) -> Self {
        group.lock.lock_exclusive();
        Held {
            group,
            exclusive: true,
            #[cfg(debug_assertions)]
            _mark: None,
        }
    }

    #[inline]
    fn inner(&self) -> &Inner<B> {
        // SAFETY: the lock is held (shared or exclusive): no `&mut` to the
        // group's contents exists meanwhile.
        unsafe { &*self.group.cell.get() }
    }

    #[inline]
    #[allow(clippy::mut_from_ref)]
    fn inner_mut(&mut self) -> &mut Inner<B> {
        assert!(self.exclusive);
        // SAFETY: the lock is held exclusively by this `Held`, which is
        // borrowed mutably for the reference's lifetime.
        unsafe { &mut *self.group.cell.get() }
    }
}

/// The address of a group's lock, as an id.
#[inline]
fn lock_id<B>(group: &Group<B>) -> usize {
    ptr::from_ref(&group.lock) as usize
}

/// Where a bucket is: its node and index. Valid while its group's lock is
/// held and the group is not moved.
struct Pos<B> {
    node: NonNull<Node<B>>,
    index: usize,
}

impl<B> Clone for Pos<B> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<B> Copy for Pos<B> {}

impl<B> Pos<B> {
    /// The bucket's address, with the permissions of the reference the
    /// position was derived from (shared for reads, unique for writes).
    #[inline]
    fn bucket(&self) -> NonNull<B> {
        // SAFETY: `node` points at a live node (its group is locked) and
        // `index < GROUP`; `addr_of_mut!` forms no reference, so other
        // readers' shared references stay valid.
        unsafe {
            NonNull::new_unchecked(
                ptr::addr_of_mut!((*self.node.as_ptr()).slots[self.index]).cast::<B>(),
            )
        }
    }
}

/// Looks `hash`/`key` up in a locked group: the depth of its node in the
/// chain and its index there.
#[inline]
fn find_in<K, V, St: Storage, Q>(
    inner: &Inner<Bucket<K, V, St>>,
    hash: u64,
    key: &Q,
) -> Option<(usize, usize)>
where
    Q: Equivalent<K> + ?Sized,
{
    let tag = tag_of(hash);
    let mut node = &inner.head;
    let mut depth = 0;
    loop {
        let mut mask = match_tag(&node.tags, tag);
        while mask != 0 {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            // SAFETY: a non-zero tag marks an initialized bucket.
            let bucket = unsafe { node.slots[i].assume_init_ref() };
            if St::matches(bucket, key) {
                return Some((depth, i));
            }
        }
        match &node.next {
            Some(next) => node = next,
            None => return None,
        }
        depth += 1;
    }
}

/// The position `(depth, index)` (from [`find_in`]), for reading.
fn pos_ref<B>(inner: &Inner<B>, (depth, index): (usize, usize)) -> Pos<B> {
    let mut node = &inner.head;
    for _ in 0..depth {
        node = node.next.as_deref().expect("a position found in this group");
    }
    Pos {
        node: NonNull::from(node),
        index,
    }
}

/// The position `(depth, index)`, for writing: derived from a unique
/// borrow, which must be the last one formed while the position is used.
fn pos_mut<B>(inner: &mut Inner<B>, (depth, index): (usize, usize)) -> Pos<B> {
    let mut node = &mut inner.head;
    for _ in 0..depth {
        node = node.next.as_deref_mut().expect("a position found in this group");
    }
    Pos {
        node: NonNull::from(node),
        index,
    }
}

/// Puts `bucket` with `tag` into the first free place of a locked group,
/// chaining a node if all are taken; returns its position and whether a
/// node was chained.
fn put<B>(inner: &mut Inner<B>, tag: u8, bucket: B) -> (Pos<B>, bool) {
    let mut node = &mut inner.head;
    loop {
        if let Some(i) = node.tags.iter().position(|&t| t == 0) {
            node.slots[i].write(bucket);
            node.tags[i] = tag;
            return (
                Pos {
                    node: NonNull::from(&mut *node),
                    index: i,
                },
                false,
            );
        }
        if node.next.is_none() {
            let fresh = node.next.insert(Box::new(Node::empty()));
            fresh.slots[0].write(bucket);
            fresh.tags[0] = tag;
            return (
                Pos {
                    node: NonNull::from(&mut **fresh),
                    index: 0,
                },
                true,
            );
        }
        node = node.next.as_deref_mut().expect("checked above");
    }
}

/// Moves every bucket out of a locked group (its overflow nodes are freed),
/// calling `f` on each with its tag; the group is left empty. Returns the
/// number of nodes freed.
fn drain<B>(inner: &mut Inner<B>, mut f: impl FnMut(u8, B)) -> usize {
    let mut freed = 0;
    let mut next = inner.head.next.take();
    take_node(&mut inner.head, &mut f);
    while let Some(mut node) = next {
        next = node.next.take();
        take_node(&mut node, &mut f);
        freed += 1;
    }
    freed
}

fn take_node<B>(node: &mut Node<B>, f: &mut impl FnMut(u8, B)) {
    for i in 0..GROUP {
        let tag = mem::replace(&mut node.tags[i], 0);
        if tag != 0 {
            // SAFETY: a non-zero tag marked an initialized bucket; the tag is
            // cleared first, so it is read once.
            f(tag, unsafe { node.slots[i].assume_init_read() });
        }
    }
}

/// Counts the buckets of a locked group.
fn count<B>(inner: &Inner<B>) -> usize {
    let mut n = 0;
    let mut node = Some(&inner.head);
    while let Some(nd) = node {
        n += nd.tags.iter().filter(|&&t| t != 0).count();
        node = nd.next.as_deref();
    }
    n
}

// ---------------------------------------------------------------------------
// The table

/// The concurrent table of [`ConcurrentStore`](crate::ConcurrentStore).
pub(crate) struct RawTable<K, V, St: Storage> {
    current: AtomicPtr<Array<Bucket<K, V, St>>>,
    /// Walks in progress; while non-zero no resize starts. Also serializes
    /// starting a resize.
    walkers: Mutex<usize>,
    /// Entry count, striped by thread.
    counts: Box<[Padded<AtomicIsize>]>,
    /// Pools (for `Pooled`), striped by tag; empty for a zero-sized side.
    sides: Box<[Padded<Mutex<Side<K, V, St>>>]>,
    /// Overflow nodes allocated, for `memory_usage`.
    nodes: AtomicUsize,
    /// Under loom: retired arrays, freed on drop.
    #[cfg(mapstore_loom)]
    graveyard: Mutex<Vec<usize>>,
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

/// Stripes (counters and pools): twice the cores, a power of two, at most
/// 64 (the tag has 7 bits).
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

/// This thread's counter stripe.
#[inline]
fn thread_stripe() -> usize {
    #[cfg(not(mapstore_loom))]
    {
        use core::sync::atomic::AtomicUsize as StdAtomic;
        static NEXT: StdAtomic = StdAtomic::new(0);
        std::thread_local! {
            static STRIPE: usize = NEXT.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        }
        STRIPE.try_with(|s| *s).unwrap_or(0)
    }
    #[cfg(mapstore_loom)]
    {
        0
    }
}

/// Groups for `capacity` entries at most 3/4 full (at least one).
fn groups_for(capacity: usize) -> usize {
    capacity
        .checked_mul(4)
        .map(|c| c / (3 * GROUP) + 1)
        .and_then(usize::checked_next_power_of_two)
        .expect("capacity overflow")
}

impl<K, V, St: Storage> RawTable<K, V, St> {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let stripes = stripes();
        let sides = if mem::size_of::<Side<K, V, St>>() == 0 {
            0
        } else {
            stripes
        };
        RawTable {
            current: AtomicPtr::new(Array::alloc(groups_for(capacity), ptr::null_mut())),
            walkers: Mutex::new(0),
            counts: (0..stripes)
                .map(|_| Padded(AtomicIsize::new(0)))
                .collect(),
            sides: (0..sides)
                .map(|_| Padded(Mutex::new(<Side<K, V, St> as EmptySide>::EMPTY)))
                .collect(),
            nodes: AtomicUsize::new(0),
            #[cfg(mapstore_loom)]
            graveyard: Mutex::new(Vec::new()),
            _owns: PhantomData,
        }
    }

    /// The entry count: exact when no write runs; under concurrent writes,
    /// a count the table had at no single instant.
    pub(crate) fn len(&self) -> usize {
        let sum: isize = self
            .counts
            .iter()
            .map(|c| c.0.load(Ordering::Relaxed))
            .sum();
        sum.max(0) as usize
    }

    #[inline]
    fn count(&self, delta: isize) {
        let i = thread_stripe() & (self.counts.len() - 1);
        self.counts[i].0.fetch_add(delta, Ordering::Relaxed);
    }

    /// The current array.
    #[inline]
    fn array<'p>(&self, _pin: &'p Pin) -> &'p Array<Bucket<K, V, St>> {
        // SAFETY: `current` is never null and points at a live array; an
        // array is freed only after it stopped being current and every pin
        // that could have seen it was dropped (`retire`).
        unsafe { &*self.current.load(Ordering::Acquire) }
    }

    #[inline]
    fn prev<'p>(array: &'p Array<Bucket<K, V, St>>, _pin: &'p Pin) -> Option<&'p Array<Bucket<K, V, St>>> {
        let prev = array.prev.load(Ordering::Acquire);
        // SAFETY: as in `array`: a `prev` is retired only after it is
        // unlinked, under the pin's protection.
        (!prev.is_null()).then(|| unsafe { &*prev })
    }

    /// Runs `f` with the stripe of the side storage for `tag`.
    #[inline]
    fn with_side<R>(&self, tag: u8, f: impl FnOnce(&mut Side<K, V, St>) -> R) -> R {
        if self.sides.is_empty() {
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

    /// Locks the group that holds `hash`'s key for reading.
    #[inline]
    #[track_caller]
    fn locate_read<'p>(&self, pin: &'p Pin, hash: u64, why: Why) -> Held<'p, Bucket<K, V, St>> {
        loop {
            let array = self.array(pin);
            if let Some(prev) = Self::prev(array, pin) {
                let held = Held::shared(prev.group(hash), why);
                if !held.group.moved() {
                    return held;
                }
            }
            let held = Held::shared(array.group(hash), why);
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
        let pin = pin();
        // SAFETY (lifetime): see `extend`.
        let held = unsafe { extend(self.locate_read(&pin, hash, why)) };
        drop(pin);
        let at = find_in::<K, V, St, Q>(held.inner(), hash, key)?;
        let bucket = pos_ref(held.inner(), at).bucket();
        Some(ReadRef {
            held,
            bucket,
            _table: PhantomData,
        })
    }

    /// Calls `f` on a key's entry under its group's read lock.
    #[inline]
    #[track_caller]
    pub(crate) fn read<Q, R>(&self, hash: u64, key: &Q, why: Why, f: impl FnOnce(&K, &V) -> R) -> Option<R>
    where
        Q: Equivalent<K> + ?Sized,
    {
        let pin = pin();
        let held = self.locate_read(&pin, hash, why);
        let at = find_in::<K, V, St, Q>(held.inner(), hash, key)?;
        let bucket = pos_ref(held.inner(), at).bucket();
        // SAFETY: the bucket is initialized (found by its tag) and stays in
        // place while the read lock is held; its pooled value is removed
        // only under the group's exclusive lock, and the pools live as long
        // as the table.
        let (k, v) = unsafe { St::pair_detached(bucket.as_ref()) };
        Some(f(k, v))
    }

    /// Locks the group where `hash`'s key belongs in the current array for
    /// writing, first moving its old group (and helping with a few more)
    /// if a migration runs. `hash_of` rehashes keys being moved.
    #[track_caller]
    fn locate_write<'p>(
        &self,
        pin: &'p Pin,
        hash: u64,
        why: Why,
        hash_of: &dyn Fn(&K) -> u64,
    ) -> (Held<'p, Bucket<K, V, St>>, &'p Array<Bucket<K, V, St>>) {
        loop {
            let array = self.array(pin);
            if let Some(prev) = Self::prev(array, pin) {
                let i = hash as usize & (prev.len - 1);
                self.migrate(prev, array, i, Some(why), hash_of);
                for _ in 0..HELP {
                    let j = prev.cursor.fetch_add(1, Ordering::Relaxed) & (prev.len - 1);
                    self.migrate(prev, array, j, None, hash_of);
                }
            }
            let held = Held::exclusive(array.group(hash), why);
            if !held.group.moved() {
                return (held, array);
            }
        }
    }

    /// Moves old group `i` of `prev` into `array` (whose `prev` it is),
    /// waiting for its lock if `wait` says why, else only if it is free.
    fn migrate(
        &self,
        prev: &Array<Bucket<K, V, St>>,
        array: &Array<Bucket<K, V, St>>,
        i: usize,
        wait: Option<Why>,
        hash_of: &dyn Fn(&K) -> u64,
    ) {
        let old = prev.group_at(i);
        let mut held = match wait {
            Some(why) => Held::exclusive(old, why),
            None => match Held::try_exclusive(old) {
                Some(held) => held,
                None => return,
            },
        };
        if held.group.moved() {
            return;
        }
        // Hash every key first: a panicking `Hash` leaves the group as it
        // was (the lock is released by unwinding).
        let mut hashes: Vec<u64> = Vec::new();
        {
            let mut node = Some(&held.inner().head);
            while let Some(nd) = node {
                for (slot, &tag) in nd.slots.iter().zip(&nd.tags) {
                    if tag != 0 {
                        // SAFETY: a non-zero tag marks an initialized bucket.
                        let (k, _) = unsafe { St::pair_detached(slot.assume_init_ref()) };
                        hashes.push(hash_of(k));
                    }
                }
                node = nd.next.as_deref();
            }
        }
        debug_assert_eq!(array.len, prev.len * 2);
        let mut low = Held::fresh(array.group_at(i));
        let mut high = Held::fresh(array.group_at(i + prev.len));
        let mut hashes = hashes.into_iter();
        let mut chained = 0;
        let inner = held.inner_mut();
        let freed = drain(inner, |_, bucket| {
            let hash = hashes.next().expect("one hash per bucket");
            let to = if hash as usize & prev.len == 0 {
                &mut low
            } else {
                &mut high
            };
            chained += usize::from(put(to.inner_mut(), tag_of(hash), bucket).1);
        });
        old.moved.store(true, Ordering::Release);
        drop((low, high));
        drop(held);
        if freed != chained {
            self.nodes.fetch_add(chained, Ordering::Relaxed);
            self.nodes.fetch_sub(freed, Ordering::Relaxed);
        }
        if prev.done.fetch_add(1, Ordering::AcqRel) + 1 == prev.len {
            // The last old group: unlink the old array and retire it.
            let unlinked = array.prev.swap(ptr::null_mut(), Ordering::AcqRel);
            debug_assert_eq!(unlinked.cast_const(), ptr::from_ref(prev));
            self.retire(unlinked);
        }
    }

    /// Hands an unlinked array, all of whose groups are moved, to the
    /// reclamation.
    fn retire(&self, array: *mut Array<Bucket<K, V, St>>) {
        #[cfg(not(mapstore_loom))]
        {
            let raw = array as usize;
            let free: unsafe fn(*mut Array<Bucket<K, V, St>>) = Array::free;
            // SAFETY (of the deferred call): the array is unlinked (no new
            // reader can reach it) and empty; crossbeam-epoch runs the
            // closure once every thread pinned when it was deferred has
            // unpinned, so no reader is left. The closure touches no key or
            // value: it only frees memory, so it may run on any thread and
            // after the table is gone.
            let guard = crossbeam_epoch::pin();
            unsafe {
                guard.defer_unchecked(move || free(raw as *mut Array<Bucket<K, V, St>>));
            }
        }
        #[cfg(mapstore_loom)]
        self.graveyard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(array as usize);
    }

    /// Locks the group of a key for writing and looks the key up.
    #[track_caller]
    pub(crate) fn entry<Q>(
        &self,
        hash: u64,
        key: &Q,
        why: Why,
        hash_of: &dyn Fn(&K) -> u64,
    ) -> Result<WriteRef<'_, K, V, St>, Vacant<'_, K, V, St>>
    where
        Q: Equivalent<K> + ?Sized,
    {
        let pin = pin();
        // SAFETY (lifetime): see `extend`; the array outlives the lock on
        // one of its unmoved groups for the same reason.
        let (mut held, array) = unsafe {
            let (held, array) = self.locate_write(&pin, hash, why, hash_of);
            (extend(held), &*ptr::from_ref(array))
        };
        drop(pin);
        match find_in::<K, V, St, Q>(held.inner(), hash, key) {
            Some(at) => {
                let pos = pos_mut(held.inner_mut(), at);
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
    /// no walk is registered, and the table is more than half full.
    fn maybe_grow(&self, array: &Array<Bucket<K, V, St>>) {
        if self.len() * 2 <= array.len * GROUP {
            return;
        }
        let Ok(walkers) = self.walkers.try_lock() else {
            return;
        };
        if *walkers != 0 {
            return;
        }
        let current = self.current.load(Ordering::Acquire);
        if current.cast_const() != ptr::from_ref(array) || !array.prev.load(Ordering::Acquire).is_null() {
            return;
        }
        let Some(len) = array.len.checked_mul(2) else {
            return;
        };
        let next = Array::alloc(len, current);
        self.current.store(next, Ordering::Release);
        drop(walkers);
    }

    /// Registers a walk: no resize starts until it is dropped.
    #[track_caller]
    pub(crate) fn walk(&self) -> Walk<'_, K, V, St> {
        *self
            .walkers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
        // Registered: the current array stays current (and allocated)
        // until the walk is dropped, so it needs no pin.
        let pin = pin();
        let array = self.array(&pin);
        let units = Self::prev(array, &pin).map_or(array.len, |prev| prev.len);
        Walk {
            table: self,
            array: NonNull::from(array),
            units,
            next: 0,
            pending: None,
        }
    }

    /// Bytes held: arrays, overflow nodes, pools (not the entries' own
    /// heap memory). Takes no group lock.
    pub(crate) fn memory_usage(&self) -> usize {
        let pin = pin();
        let array = self.array(&pin);
        let arrays = array.bytes() + Self::prev(array, &pin).map_or(0, Array::bytes);
        let nodes = self.nodes.load(Ordering::Relaxed) * mem::size_of::<Node<Bucket<K, V, St>>>();
        let sides: usize = self
            .sides
            .iter()
            .map(|side| {
                let side = side.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
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
            + self.counts.len() * mem::size_of::<Padded<AtomicIsize>>()
            + self.sides.len() * mem::size_of::<Padded<Mutex<Side<K, V, St>>>>()
            + arrays
            + nodes
            + sides
            + boxes
    }

    /// An id of the lock that guards `hash`'s key now.
    pub(crate) fn lock_of(&self, hash: u64) -> usize {
        let pin = pin();
        let array = self.array(&pin);
        if let Some(prev) = Self::prev(array, &pin) {
            let old = prev.group(hash);
            if !old.moved() {
                return lock_id(old);
            }
        }
        lock_id(array.group(hash))
    }

    /// Moves every entry out, calling `f` on each (through `&mut self`: no
    /// lock is taken). The table is left empty and usable.
    pub(crate) fn drain_with(&mut self, mut f: impl FnMut(K, V)) {
        let pin = pin();
        let array = self.array(&pin);
        let prev = Self::prev(array, &pin);
        let mut visit = |group: &Group<Bucket<K, V, St>>| {
            // SAFETY: `&mut self`: no other thread can reach the table, and
            // no guard into it is alive.
            let inner = unsafe { &mut *group.cell.get() };
            if group.moved() {
                return;
            }
            let freed = drain(inner, |tag, bucket| {
                let (k, v) = self.take(tag, bucket);
                self.count(-1);
                f(k, v);
            });
            self.nodes.fetch_sub(freed, Ordering::Relaxed);
        };
        if let Some(prev) = prev {
            (0..prev.len).for_each(|i| visit(prev.group_at(i)));
        }
        (0..array.len).for_each(|i| visit(array.group_at(i)));
        for c in self.counts.iter() {
            c.0.store(0, Ordering::Relaxed);
        }
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
                unsafe {
                    let prev = (*current).prev.load(Ordering::Acquire);
                    for array in [prev, current] {
                        if array.is_null() {
                            continue;
                        }
                        let array_ref = &*array;
                        for i in 0..array_ref.len {
                            let inner = &mut *array_ref.group_at(i).cell.get();
                            // Anything left after a panic is leaked, not
                            // dropped; only the nodes are freed.
                            let mut next = inner.head.next.take();
                            inner.head.tags = [0; GROUP];
                            while let Some(mut node) = next {
                                next = node.next.take();
                                node.tags = [0; GROUP];
                            }
                        }
                        Array::free(array);
                    }
                    #[cfg(mapstore_loom)]
                    for array in self
                        .0
                        .graveyard
                        .get_mut()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .drain(..)
                    {
                        Array::free(array as *mut Array<Bucket<K, V, St>>);
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

/// Erases the borrow of a local `Pin` from a `Held` on an unmoved group,
/// which moves into a guard that outlives the pin.
///
/// Sound because an array is retired only once every one of its groups has
/// been moved, and moving a group takes its exclusive lock: while this
/// thread holds a group that it found unmoved under the lock, the group's
/// array stays allocated, pinned or not. The pin is only needed from
/// loading the array's address to taking the lock.
///
/// # Safety
///
/// `held` is a lock on a group found not `moved` while held.
#[inline]
unsafe fn extend<'a, B>(held: Held<'_, B>) -> Held<'a, B> {
    // SAFETY: the caller's contract; only the lifetime changes.
    unsafe { mem::transmute::<Held<'_, B>, Held<'a, B>>(held) }
}

// ---------------------------------------------------------------------------
// Guards

/// A bucket under its group's read lock.
pub(crate) struct ReadRef<'a, K, V, St: Storage> {
    held: Held<'a, Bucket<K, V, St>>,
    bucket: NonNull<Bucket<K, V, St>>,
    _table: PhantomData<&'a RawTable<K, V, St>>,
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
        unsafe { St::pair_detached(self.pos.bucket().as_ref()) }
    }

    #[inline]
    pub(crate) fn pair_mut(&mut self) -> (&K, &mut V) {
        let _ = &mut self.held;
        // SAFETY: the write lock is held by this guard, borrowed mutably:
        // the only reference to the bucket (and to its pooled value).
        unsafe { St::pair_mut_detached(self.pos.bucket().as_mut()) }
    }

    /// Removes the entry.
    pub(crate) fn remove(self) -> (K, V) {
        let pos = self.pos;
        // SAFETY: the write lock is held and `pos` carries the unique
        // borrow of the group's contents; the tag is cleared before the
        // bucket is read, so it is read once.
        let (tag, bucket) = unsafe {
            let node = &mut *pos.node.as_ptr();
            let tag = mem::replace(&mut node.tags[pos.index], 0);
            (tag, node.slots[pos.index].assume_init_read())
        };
        self.table.count(-1);
        self.table.take(tag, bucket)
    }
}

/// An absent key's place, under its group's write lock.
pub(crate) struct Vacant<'a, K, V, St: Storage> {
    held: Held<'a, Bucket<K, V, St>>,
    hash: u64,
    array: &'a Array<Bucket<K, V, St>>,
    table: &'a RawTable<K, V, St>,
}

impl<'a, K, V, St: Storage> Vacant<'a, K, V, St> {
    /// Inserts the entry; the result keeps the write lock.
    pub(crate) fn insert(mut self, key: K, value: V) -> WriteRef<'a, K, V, St> {
        let tag = tag_of(self.hash);
        let bucket = self.table.with_side(tag, |side| St::store(side, key, value));
        let (pos, chained) = put(self.held.inner_mut(), tag, bucket);
        self.table.count(1);
        if chained {
            self.table.nodes.fetch_add(1, Ordering::Relaxed);
            self.table.maybe_grow(self.array);
        }
        WriteRef {
            held: self.held,
            pos,
            table: self.table,
        }
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
    array: NonNull<Array<Bucket<K, V, St>>>,
    /// Old groups (while a migration ran at registration) or groups.
    units: usize,
    next: usize,
    /// The second new group of a moved old group, still to visit.
    pending: Option<usize>,
}

impl<K, V, St: Storage> Drop for Walk<'_, K, V, St> {
    fn drop(&mut self) {
        let mut walkers = self
            .table
            .walkers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *walkers -= 1;
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
        let lock = |group: &'a Group<Bucket<K, V, St>>| WalkGroup {
            held: if exclusive {
                Held::exclusive(group, why)
            } else {
                Held::shared(group, why)
            },
            table,
        };
        // SAFETY: the walk is registered, so its array is still current:
        // no new array was installed, so this one was not retired.
        let array: &'a Array<_> = unsafe { self.array.as_ref() };
        if let Some(j) = self.pending.take() {
            return Some(lock(array.group_at(j)));
        }
        if self.next >= self.units {
            return None;
        }
        let i = self.next;
        self.next += 1;
        if self.units == array.len {
            return Some(lock(array.group_at(i)));
        }
        // A migration ran at registration: old group `i`, unless moved.
        let pin = pin();
        if let Some(prev) = Self::prev_of(array, &pin) {
            // SAFETY (lifetime): see `extend`: the group is checked unmoved
            // under its lock before the pin is dropped.
            let group = lock(unsafe { &*ptr::from_ref(prev.group_at(i)) });
            if !group.held.group.moved() {
                return Some(group);
            }
        }
        drop(pin);
        self.pending = Some(i + self.units);
        Some(lock(array.group_at(i)))
    }

    #[inline]
    fn prev_of<'p>(
        array: &'p Array<Bucket<K, V, St>>,
        pin: &'p Pin,
    ) -> Option<&'p Array<Bucket<K, V, St>>> {
        RawTable::<K, V, St>::prev(array, pin)
    }

    /// How far the walk is, for `Debug`.
    pub(crate) fn position(&self) -> usize {
        self.next
    }
}

impl<'a, K, V, St: Storage> WalkGroup<'a, K, V, St> {
    /// The group's entries.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.buckets().map(|b| {
            // SAFETY: the group's lock is held while `self` is borrowed.
            unsafe { St::pair_detached(b.as_ref()) }
        })
    }

    fn buckets(&self) -> impl Iterator<Item = NonNull<Bucket<K, V, St>>> + '_ {
        let mut node = Some(&self.held.inner().head);
        let mut i = 0;
        core::iter::from_fn(move || loop {
            let nd = node?;
            if i == GROUP {
                node = nd.next.as_deref();
                i = 0;
                continue;
            }
            i += 1;
            if nd.tags[i - 1] != 0 {
                return Some(NonNull::from(&nd.slots[i - 1]).cast());
            }
        })
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        count(self.held.inner())
    }

    /// Turns the group's entries into read guards sharing the group's
    /// (recursive) lock: `f` gets each bucket's guard.
    pub(crate) fn share(self) -> SharedGroup<'a, K, V, St> {
        SharedGroup {
            buckets: self.buckets().collect(),
            held: self.held,
            _table: PhantomData,
        }
    }

    /// Keeps the entries for which `keep` returns `true`; the others are
    /// handed to `removed`. Needs an exclusive lock.
    pub(crate) fn retain(
        &mut self,
        mut keep: impl FnMut(&K, &mut V) -> bool,
        mut removed: impl FnMut(K, V),
    ) {
        let table = self.table;
        let inner = self.held.inner_mut();
        let mut node = Some(&mut inner.head);
        while let Some(nd) = node {
            for i in 0..GROUP {
                if nd.tags[i] == 0 {
                    continue;
                }
                // SAFETY: a non-zero tag marks an initialized bucket; the
                // lock is held exclusively.
                let (k, v) = unsafe { St::pair_mut_detached(nd.slots[i].assume_init_mut()) };
                if !keep(k, v) {
                    let tag = mem::replace(&mut nd.tags[i], 0);
                    // SAFETY: the tag was non-zero and is now cleared: read
                    // once.
                    let bucket = unsafe { nd.slots[i].assume_init_read() };
                    table.count(-1);
                    let (k, v) = table.take(tag, bucket);
                    removed(k, v);
                }
            }
            node = nd.next.as_deref_mut();
        }
    }

    /// Moves every entry out to `f`. Needs an exclusive lock.
    pub(crate) fn clear(&mut self, mut f: impl FnMut(K, V)) {
        let table = self.table;
        let inner = self.held.inner_mut();
        let freed = drain(inner, |tag, bucket| {
            table.count(-1);
            let (k, v) = table.take(tag, bucket);
            f(k, v);
        });
        table.nodes.fetch_sub(freed, Ordering::Relaxed);
    }
}

/// A group read-locked by a walk, its buckets listed, each handed out as a
/// [`ReadRef`]-like item sharing the lock.
pub(crate) struct SharedGroup<'a, K, V, St: Storage> {
    buckets: Vec<NonNull<Bucket<K, V, St>>>,
    held: Held<'a, Bucket<K, V, St>>,
    _table: PhantomData<&'a RawTable<K, V, St>>,
}

impl<K, V, St: Storage> SharedGroup<'_, K, V, St> {
    /// The number of buckets.
    pub(crate) fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Bucket `i`'s entry.
    pub(crate) fn pair(&self, i: usize) -> (&K, &V) {
        let _ = &self.held;
        // SAFETY: the group's read lock is held while `self` lives.
        unsafe { St::pair_detached(self.buckets[i].as_ref()) }
    }
}
