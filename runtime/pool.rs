//! The pool behind [`Pooled`](crate::storage::Pooled): chunks of value slots
//! that never move, addressed by direct slot pointers, with a free list.
//!
//! All of the crate's `unsafe` code is in this file.
//!
//! Chunk `k` holds `min(FIRST << k, MAX)` slots, where `FIRST` and `MAX` are
//! powers of two chosen from the slot's size so that the first chunk is
//! about [`FIRST_CHUNK_BYTES`] and no chunk exceeds [`MAX_CHUNK_BYTES`]
//! (unless one slot is larger). Small pools stay small, a large pool
//! over-reserves at most one chunk, and a large pool is a few hundred
//! allocations that the allocator serves from fresh pages. A chunk is never
//! reallocated, so a value stays at its address from insert to remove.
//!
//! A slot is the value followed by its `u32` *dense index* (at byte
//! [`index_offset`] of the slot). The dense index counts slots in chunk
//! order (chunk 0's slots, then chunk 1's, ...); the occupancy bitmap is
//! indexed by it, and `next` and the capacity count in it. The handle
//! ([`PoolSlot`]) is a pointer to the slot, so a lookup is one dereference,
//! as with a `Box`. `remove` reads the index next to the value it moves out
//! and writes the free list's link in its place; only handing out a slot
//! (and clearing, cloning, dropping) turns an index into a pointer.
//!
//! Invariants, for a pool `p`:
//! - `p.next <= p.capacity() <= u32::MAX`; slots at dense indices `next..`
//!   hold nothing the pool reads (they may keep bytes from before a
//!   `clear`, a `shrink_to_fit` or an emptying, which are never read as
//!   values). Every occupied slot holds its own dense index at
//!   [`index_offset`], written when it was handed out and unchanged since.
//! - bit `i` of `p.occupied` is set iff the slot with dense index `i` holds
//!   an initialized value; `p.len` counts the set bits.
//! - the free list: the vacant slots below `next`, each once, linked
//!   through their index fields. `p.free` is the dense index of the first
//!   ([`NO_FREE`] if none), the index field of each vacant slot below `next`
//!   holds the next one's ([`NO_FREE`] at the end), and `p.vacant` counts
//!   them. A remove so never allocates (std's never does), and the list
//!   costs no memory of its own.
//! - each occupied slot is referred to by at most one usable [`PoolSlot`]
//!   (held by the map's table), and no usable [`PoolSlot`] refers to a
//!   vacant slot or to another pool's slot. The one exception is brief:
//!   while a map is cloned, the cloned table's handles are duplicates
//!   ([`PoolSlot::duplicate`]) of the original's, not usable until
//!   [`Pool::rebase`] moves each to the clone, with nothing run in between.
//!   The map upholds this: it creates slots only through [`Pool::insert`],
//!   consumes them only through [`Pool::remove`], an [`Emptying`] pool or
//!   by clearing the table with the pool.
//! - no code outside this crate can hold a [`PoolSlot`] or a [`Pool`]: the
//!   storage operations that hand them out are crate-private
//!   (`storage::StorageOps` is a `pub(crate)` supertrait of the public
//!   `Storage`), and neither type has a public constructor.
//! - every pointer in a [`PoolSlot`] was derived from a chunk allocation of
//!   `p` and points at the start of a slot; chunks are only freed by
//!   `shrink_to_fit`, above every live slot, and by drop.
//!
//! Two ways out keep the bookkeeping light. A walk ([`Pool::iter`],
//! [`Pool::iter_mut`], [`Pool::into_values`]) visits the occupied slots in
//! dense order, a run of adjacent ones at a time, as a slice iterator
//! would. An [`Emptying`] pool (a map's `drain` and `into_iter`) has
//! cleared its bitmap up front: the table's handles are then the only
//! record of its values, each given back once, to be moved out or dropped.

use alloc::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use alloc::vec::Vec;
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::mem::{self, align_of, size_of};
use core::panic::UnwindSafe;
use core::ptr::{self, NonNull};

use hashbrown::hash_table::{self, HashTable};
use hashbrown::TryReserveError;

use crate::map::{Bucket, Map, Side};
use crate::storage::Storage;

/// Target size of a pool's first chunk.
pub(crate) const FIRST_CHUNK_BYTES: usize = 1024;
/// Upper bound on a chunk's size (a single larger slot gets a chunk of one).
///
/// 2 MiB: glibc's malloc serves chunks this big with fresh pages (mmap, or
/// the top of the heap) instead of carving them from its free lists. Under
/// Miri it is smaller, so that the Miri suite's few hundred values reach the
/// full-size chunks.
#[cfg(not(miri))]
pub(crate) const MAX_CHUNK_BYTES: usize = 2 * 1024 * 1024;
/// See above.
#[cfg(miri)]
pub(crate) const MAX_CHUNK_BYTES: usize = 64 * 1024;
/// Dense indices are `u32`: at most this many slots.
const MAX_SLOTS: usize = u32::MAX as usize;
/// The free list's end: no slot has this dense index (there are at most
/// [`MAX_SLOTS`], numbered from 0).
const NO_FREE: u32 = u32::MAX;

/// The handle of an occupied pool slot, held in the map's table: a pointer
/// to the value.
///
/// Not `Clone`: a unique borrow of a `PoolSlot` stands for a unique borrow of
/// its value.
#[derive(Debug)]
pub(crate) struct PoolSlot<V>(NonNull<V>);

// SAFETY: a `PoolSlot<V>` stands for the ownership of one value of its pool
// (`Pool::remove` moves the value out through it), like a `Box<V>`; the
// pool's other data is not reachable through it.
unsafe impl<V: Send> Send for PoolSlot<V> {}
// SAFETY: through `&PoolSlot<V>` only `&V` can be reached (`Pool::get`), as
// through `&Box<V>`.
unsafe impl<V: Sync> Sync for PoolSlot<V> {}
// Unwind safety as `Box<V>` has it (the pointer alone would demand
// `V: RefUnwindSafe`). The auto `RefUnwindSafe` already matches `Box<V>`'s.
impl<V: UnwindSafe> UnwindSafe for PoolSlot<V> {}

impl<V> PoolSlot<V> {
    /// A second handle to the same slot, for the clone of a table whose
    /// pool was cloned slot for slot ([`Pool::clone`]).
    ///
    /// # Safety
    ///
    /// The duplicate still refers to the original pool's slot. Before it or
    /// the original is used again, the caller must either move it to the
    /// clone with [`Pool::rebase`] or drop it unused (dropping a handle
    /// releases nothing).
    pub(crate) unsafe fn duplicate(&self) -> PoolSlot<V> {
        PoolSlot(self.0)
    }

    /// The value, read without the pool: for `ConcurrentStore`'s table,
    /// whose pools sit behind locks of their own while buckets are read
    /// under their group's lock.
    ///
    /// # Safety
    ///
    /// The pool that holds this slot outlives the returned borrow and does
    /// not remove the value meanwhile (the caller holds the bucket, through
    /// a lock that every remover takes).
    #[inline]
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) unsafe fn get_detached(&self) -> &V {
        // SAFETY: a live handle points at an occupied, initialized slot
        // (the module's invariants), whose chunk is neither freed nor moved
        // while the pool lives; the caller keeps the pool alive and the
        // value in place for the borrow. Only `&V` is formed; the pool's own
        // fields are not touched.
        unsafe { self.0.as_ref() }
    }

    /// The value, mutably, read without the pool (see
    /// [`get_detached`](Self::get_detached)).
    ///
    /// # Safety
    ///
    /// As for [`get_detached`](Self::get_detached).
    #[inline]
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) unsafe fn get_mut_detached(&mut self) -> &mut V {
        // SAFETY: as in `get_detached`; the borrow is unique because at
        // most one usable handle refers to an occupied slot and it is
        // borrowed mutably here. The pointer was derived from the chunk's
        // raw allocation, so no borrow of the pool covers the value.
        unsafe { self.0.as_mut() }
    }
}

/// A bucket of the pooled table: the key and the handle of the pool slot
/// that holds its value. Here, not in `storage`, so that the crate's unsafe
/// code stays in this file.
pub(crate) struct PoolBucket<K, V> {
    pub(crate) key: K,
    pub(crate) slot: PoolSlot<V>,
}

/// A copy whose handle still refers to the original's pool slot: not a
/// usable bucket until its handle is moved to a slot of its own (by
/// [`Pool::rebase`] or to a value's clone). Only for [`clone_table`] and
/// [`clone_compact`], here, which need it because hashbrown's
/// `HashTable::clone` needs `Clone`, and which move every copy's handle
/// before anything outside them can see it. In debug builds with `std`, a clone made
/// anywhere else panics, so a `table.clone()` added elsewhere fails every
/// test that reaches it.
///
/// `PoolBucket` is crate-private and no public item hands one out, so this
/// impl is no door for outside code.
impl<K: Clone, V> Clone for PoolBucket<K, V> {
    fn clone(&self) -> Self {
        debug_assert!(
            cloning::active(),
            "PoolBucket::clone outside pool::clone_table or clone_compact: its copy aliases the original's slot"
        );
        PoolBucket {
            key: self.key.clone(),
            // SAFETY: the callers are the `HashTable::clone`s of
            // `clone_table` and `clone_compact` (checked above in debug
            // builds). `clone_table` rebases every copy onto the cloned pool
            // right after, running nothing in between; `clone_compact` only
            // reads the original's value through a copy (a shared read, the
            // original borrowed shared throughout) and then replaces the
            // copy's handle by one of its new pool. A copy dropped before
            // that (a panicking `K::clone` or `V::clone` unwinds) releases
            // nothing: dropping a handle frees no slot.
            slot: unsafe { self.slot.duplicate() },
        }
    }
}

/// Whether [`clone_table`] or [`clone_compact`] is cloning a table on this thread (debug builds
/// with `std` only).
mod cloning {
    #[cfg(all(feature = "std", debug_assertions))]
    std::thread_local! {
        static ACTIVE: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
    }

    /// Marks this thread as cloning a table until dropped.
    pub(super) struct Active(());

    impl Active {
        pub(super) fn start() -> Active {
            #[cfg(all(feature = "std", debug_assertions))]
            ACTIVE.with(|a| a.set(true));
            Active(())
        }
    }

    impl Drop for Active {
        fn drop(&mut self) {
            #[cfg(all(feature = "std", debug_assertions))]
            ACTIVE.with(|a| a.set(false));
        }
    }

    /// Always true where it cannot be told.
    pub(super) fn active() -> bool {
        #[cfg(all(feature = "std", debug_assertions))]
        return ACTIVE.with(|a| a.get());
        #[cfg(not(all(feature = "std", debug_assertions)))]
        true
    }
}

/// The copy of a pooled table whose pool `copy` is `original`'s clone
/// ([`Pool::clone`], slot for slot): the same buckets in the same places,
/// keys cloned, each handle moved to the same slot of `copy`. The copies'
/// handles refer to `original` only inside this function.
pub(crate) fn clone_table<K: Clone, V>(
    table: &HashTable<PoolBucket<K, V>>,
    original: &Pool<V>,
    copy: &Pool<V>,
) -> HashTable<PoolBucket<K, V>> {
    let active = cloning::Active::start();
    // If a key's `clone` panics, hashbrown drops the copies made so far,
    // which releases nothing (dropping a handle frees no slot).
    let mut cloned = table.clone();
    drop(active);
    for bucket in cloned.iter_mut() {
        copy.rebase(original, &mut bucket.slot);
    }
    cloned
}

/// The copy of a pooled table and of its pool, compacted: each value is
/// cloned into the next slot of a new pool sized for the entries alone, in
/// the table's order, so that a pool that once held many more values (most
/// removed since) is copied at the cost and size of its entries, not of the
/// slots it ever used. As in [`clone_table`], the table's copies refer to
/// `original`'s slots until each is moved: here to its value's clone, one
/// by one, the value cloned through that copy. If a value's `clone`
/// panics, the copied table is dropped (its handles release nothing) and
/// the new pool drops the values cloned so far.
pub(crate) fn clone_compact<K: Clone, V: Clone>(
    table: &HashTable<PoolBucket<K, V>>,
    original: &Pool<V>,
) -> (HashTable<PoolBucket<K, V>>, Pool<V>) {
    let mut copy = Pool::<V>::new();
    if let Err(err) = copy.try_reserve(table.len()) {
        match err {
            TryReserveError::CapacityOverflow => unreachable!("the original holds these values"),
            TryReserveError::AllocError { layout } => handle_alloc_error(layout),
        }
    }
    let active = cloning::Active::start();
    let mut cloned = table.clone();
    drop(active);
    for bucket in cloned.iter_mut() {
        let value = original.get(&bucket.slot).clone();
        bucket.slot = copy.insert(value);
    }
    (cloned, copy)
}

/// Chunk sizes for a slot size, as log2 of the slot counts.
struct Geometry {
    /// log2 of the first chunk's slot count.
    first: u32,
    /// log2 of the largest chunk's slot count.
    shift: u32,
}

impl Geometry {
    const fn of(size: usize) -> Geometry {
        let size = if size == 0 { 1 } else { size };
        let first = log2_floor(max1(FIRST_CHUNK_BYTES / size));
        let max = log2_floor(max1(MAX_CHUNK_BYTES / size));
        Geometry {
            first,
            shift: if max > first { max } else { first },
        }
    }

    /// Number of geometric chunks before the first chunk of maximum size.
    const fn ramp(&self) -> usize {
        (self.shift - self.first) as usize
    }

    /// Slots in chunk `k`.
    const fn chunk_len(&self, k: usize) -> usize {
        if k < self.ramp() {
            1 << (self.first as usize + k)
        } else {
            1 << self.shift
        }
    }

    /// Total slots in chunks `0..n`: the dense index of chunk `n`'s first
    /// slot.
    const fn capacity(&self, n: usize) -> usize {
        let first = 1usize << self.first;
        if n <= self.ramp() {
            first * ((1 << n) - 1)
        } else {
            (1usize << self.shift) - first + (n - self.ramp()) * (1 << self.shift)
        }
    }

    /// Chunk and offset of dense index `i`.
    #[inline]
    const fn locate(&self, i: usize) -> (usize, usize) {
        let first = 1usize << self.first;
        let ramp_slots = (1usize << self.shift) - first;
        if i < ramp_slots {
            let x = i + first;
            let log = usize::BITS - 1 - x.leading_zeros();
            ((log - self.first) as usize, x - (1 << log))
        } else {
            let j = i - ramp_slots;
            (self.ramp() + (j >> self.shift), j & ((1 << self.shift) - 1))
        }
    }
}

/// A word with its `n` low bits set, `n <= 64`.
#[inline]
const fn low_bits(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1 << n) - 1
    }
}

/// Alignment of a slot: the value's, and at least the index's.
const fn slot_align(align: usize) -> usize {
    if align > 4 {
        align
    } else {
        4
    }
}

/// Byte offset of the dense index in a slot: right after the value, rounded
/// up to the index's alignment.
pub(crate) const fn index_offset(size: usize) -> usize {
    size.next_multiple_of(4)
}

/// Bytes from one slot to the next: the value and its `u32` index, rounded
/// up to the slot's alignment. A value whose size is a multiple of 1 KiB
/// gets 16 bytes (or its alignment, up to 64) after it instead, which hold
/// the index: at a stride of 4 KiB every value's first cache line would fall
/// in the same cache set (a 1 000-entry map of 4 KiB values then misses L2
/// on every lookup); the padding spreads them over all sets, as malloc's
/// 16-byte headers do for boxes. Costs at most 1.6 %.
const fn stride(size: usize, align: usize) -> usize {
    let align = slot_align(align);
    if size >= 1024 && size % 1024 == 0 && align <= 64 {
        size + if align > 16 { align } else { 16 }
    } else {
        (index_offset(size) + 4).next_multiple_of(align)
    }
}

const fn max1(n: usize) -> usize {
    if n == 0 {
        1
    } else {
        n
    }
}

const fn log2_floor(n: usize) -> u32 {
    usize::BITS - 1 - n.leading_zeros()
}

/// The chunk allocations, freed on drop whatever happens to the values.
struct Chunks<V> {
    ptrs: Vec<NonNull<u8>>,
    _slots: PhantomData<V>,
}

impl<V> Chunks<V> {
    const STRIDE: usize = stride(size_of::<V>(), align_of::<V>());
    const ALIGN: usize = slot_align(align_of::<V>());
    const INDEX: usize = index_offset(size_of::<V>());
    const GEOMETRY: Geometry = Geometry::of(Self::STRIDE);

    /// The layout of chunk `k`, or `None` where its size overflows `isize`
    /// (a value within a few bytes of `isize::MAX`).
    fn try_layout(k: usize) -> Option<Layout> {
        let size = Self::STRIDE.checked_mul(Self::GEOMETRY.chunk_len(k))?;
        Layout::from_size_align(size, Self::ALIGN).ok()
    }

    /// The layout of chunk `k`, which `try_grow` allocated: it exists.
    fn layout(k: usize) -> Layout {
        match Self::try_layout(k) {
            Some(layout) => layout,
            None => unreachable!("chunk {k} was allocated with this layout"),
        }
    }

    /// Allocates chunks up to `count` (chunks `ptrs.len()..count`), all or
    /// none: on an error the chunk list is as it was, capacity included.
    /// Where the list lacks room for `count` pointers it is replaced by a
    /// larger one, and the old one is returned (for
    /// [`Pool::undo_reserve`]).
    fn try_grow(&mut self, count: usize) -> Result<Option<Vec<NonNull<u8>>>, TryReserveError> {
        let keep = self.ptrs.len();
        let mut grown = with_room(&self.ptrs, count)?;
        let list = match &mut grown {
            Some(grown) => grown,
            None => &mut self.ptrs,
        };
        for k in keep..count {
            let allocated = match Self::try_layout(k) {
                // SAFETY: `layout` has a non-zero size: a slot holds at
                // least its 4-byte index, and a chunk holds at least one
                // slot.
                Some(layout) => NonNull::new(unsafe { alloc(layout) })
                    .ok_or(TryReserveError::AllocError { layout }),
                None => Err(TryReserveError::CapacityOverflow),
            };
            match allocated {
                // Within the list's capacity: no reallocation.
                Ok(ptr) => list.push(ptr),
                Err(err) => {
                    Self::free_above(list, keep);
                    return Err(err);
                }
            }
        }
        Ok(grown.map(|grown| mem::replace(&mut self.ptrs, grown)))
    }

    /// Frees chunks `keep..`, which hold no values.
    fn truncate(&mut self, keep: usize) {
        Self::free_above(&mut self.ptrs, keep);
    }

    /// Frees the chunks `list[keep..]` and removes them from `list`, a
    /// chunk list of this type (or a copy of one, grown by `try_grow`):
    /// `list[k]` is chunk `k`. They hold no values.
    fn free_above(list: &mut Vec<NonNull<u8>>, keep: usize) {
        while list.len() > keep {
            let k = list.len() - 1;
            if let Some(ptr) = list.pop() {
                // SAFETY: `ptr` is chunk `k`, allocated by `try_grow` with
                // `Self::layout(k)`, and is freed once, here: it leaves
                // the only list that holds it.
                unsafe { dealloc(ptr.as_ptr(), Self::layout(k)) };
            }
        }
    }
}

/// `None` if `v` has room for `n` elements; else a new vector with room
/// for `n` (twice `v`'s capacity where that is more, as `Vec`'s growth),
/// holding `v`'s elements, so that an allocation failure leaves `v` as it
/// was, capacity included.
fn with_room<T: Copy>(v: &Vec<T>, n: usize) -> Result<Option<Vec<T>>, TryReserveError> {
    if v.capacity() >= n {
        return Ok(None);
    }
    let cap = n.max(v.capacity().saturating_mul(2));
    let mut grown = Vec::new();
    grown
        .try_reserve_exact(cap)
        .map_err(|_| match Layout::array::<T>(cap) {
            Ok(layout) => TryReserveError::AllocError { layout },
            Err(_) => TryReserveError::CapacityOverflow,
        })?;
    grown.extend_from_slice(v);
    Ok(Some(grown))
}

impl<V> Drop for Chunks<V> {
    fn drop(&mut self) {
        self.truncate(0);
    }
}

/// What a [`Pool::try_reserve`] changed, for [`Pool::undo_reserve`]: the
/// chunk count before it, and the chunk list and bitmap it replaced with
/// larger ones (`None` where it grew neither).
pub(crate) struct Reserved {
    chunks: usize,
    ptrs: Option<Vec<NonNull<u8>>>,
    occupied: Option<Vec<u64>>,
}

/// A chunked pool of `V` slots with a free list.
pub(crate) struct Pool<V> {
    chunks: Chunks<V>,
    /// Slots at dense indices `..next` have been handed out at least once.
    next: usize,
    /// Slots in the chunks allocated so far.
    cap: usize,
    /// The first of the vacant slots below `next` (a dense index, or
    /// [`NO_FREE`]), each linked to the next through its index field:
    /// reused last-freed first.
    free: u32,
    /// How many slots the free list holds.
    vacant: usize,
    /// One bit per dense index below `next`: set while the slot holds a
    /// value.
    occupied: Vec<u64>,
    len: usize,
    _owns: PhantomData<V>,
}

// SAFETY: a `Pool<V>` owns its values like a `Vec<V>`; the raw chunk
// pointers are not shared with anything but the pool's own `PoolSlot`s.
unsafe impl<V: Send> Send for Pool<V> {}
// SAFETY: through `&Pool<V>` only `&V` can be reached: `get_mut` also needs
// a unique borrow of a `PoolSlot`, and only the crate's maps hold
// `PoolSlot`s (no code outside the crate can name or make one), each in its
// own table, reachable mutably only through `&mut` of that map.
unsafe impl<V: Sync> Sync for Pool<V> {}

// Unwind safety as `Vec<V>` has it: the chunk pointers alone would demand
// `V: RefUnwindSafe`, where std's `HashMap` asks `V: UnwindSafe`. (The auto
// `RefUnwindSafe` already matches std's.)
impl<V: UnwindSafe> UnwindSafe for Pool<V> {}

impl<V> Pool<V> {
    /// An empty pool. It allocates nothing; `const` so that a map's
    /// `with_hasher` can be.
    pub(crate) const fn new() -> Self {
        Pool {
            chunks: Chunks {
                ptrs: Vec::new(),
                _slots: PhantomData,
            },
            next: 0,
            cap: 0,
            free: NO_FREE,
            vacant: 0,
            occupied: Vec::new(),
            len: 0,
            _owns: PhantomData,
        }
    }
    const GEOMETRY: Geometry = Chunks::<V>::GEOMETRY;

    /// Slots allocated so far.
    #[inline]
    fn capacity(&self) -> usize {
        self.cap
    }

    /// Recomputes `cap` after the chunk list changed.
    fn update_capacity(&mut self) {
        self.cap = Self::GEOMETRY
            .capacity(self.chunks.ptrs.len())
            .min(MAX_SLOTS);
    }

    /// Pointer to the slot with dense index `i`, which must be below
    /// `capacity()`.
    #[inline]
    fn slot_at(&self, i: usize) -> NonNull<V> {
        debug_assert!(i < self.capacity());
        let (chunk, offset) = Self::GEOMETRY.locate(i);
        let base = self.chunks.ptrs[chunk];
        // SAFETY: `i < capacity()`, so chunk `chunk` is allocated and holds
        // more than `offset` slots of `STRIDE` bytes: the result stays
        // inside its allocation (and is not null). It is aligned for `V`
        // and for the index because the chunk is aligned to `ALIGN` and the
        // stride is a multiple of it.
        unsafe { base.add(offset * Chunks::<V>::STRIDE).cast::<V>() }
    }

    /// The dense index stored in a slot: an occupied slot's own, a vacant
    /// one's link to the next on the free list.
    #[inline]
    fn index_of(slot: NonNull<V>) -> usize {
        // SAFETY: `slot` points at a slot below `next` of a live pool (a
        // `PoolSlot`'s, or one on the free list, see the module's
        // invariants), whose index field was written when it was handed out
        // or freed. The index lies inside the slot (`INDEX + 4 <= STRIDE`),
        // 4-aligned, outside the value's bytes, so reading it does not
        // overlap any reference to the value.
        let index = unsafe {
            slot.cast::<u8>()
                .add(Chunks::<V>::INDEX)
                .cast::<u32>()
                .read()
        };
        index as usize
    }

    #[inline]
    fn is_occupied(&self, i: usize) -> bool {
        self.occupied
            .get(i / 64)
            .is_some_and(|word| word & (1 << (i % 64)) != 0)
    }

    /// Makes room for `additional` more values without further allocation.
    /// All or nothing: on an error the pool is as it was, its memory
    /// included. What it changed can be undone with
    /// [`undo_reserve`](Self::undo_reserve) (dropping the [`Reserved`]
    /// keeps it).
    pub(crate) fn try_reserve(&mut self, additional: usize) -> Result<Reserved, TryReserveError> {
        let chunks = self.chunks.ptrs.len();
        let unchanged = Reserved {
            chunks,
            ptrs: None,
            occupied: None,
        };
        let vacant = self.vacant + (self.capacity() - self.next);
        let Some(fresh) = additional.checked_sub(vacant) else {
            return Ok(unchanged);
        };
        let needed = self.capacity().saturating_add(fresh);
        if needed > MAX_SLOTS {
            return Err(TryReserveError::CapacityOverflow);
        }
        let mut count = chunks;
        while Self::GEOMETRY.capacity(count) < needed {
            count += 1;
        }
        let words = Self::GEOMETRY.capacity(count).min(MAX_SLOTS).div_ceil(64);
        // The bitmap's room first, into a new vector where it lacks it;
        // then the chunks, all or none; only then does the pool change.
        let occupied = with_room(&self.occupied, words)?;
        let ptrs = self.chunks.try_grow(count)?;
        let occupied = occupied.map(|grown| mem::replace(&mut self.occupied, grown));
        self.update_capacity();
        Ok(Reserved {
            chunks,
            ptrs,
            occupied,
        })
    }

    /// Undoes the [`try_reserve`](Self::try_reserve) that returned
    /// `reserved`: frees the chunks it allocated and puts back the chunk
    /// list and bitmap it replaced, so that the pool holds the memory it
    /// held before. Chunks that hold a slot handed out since are kept.
    pub(crate) fn undo_reserve(&mut self, reserved: Reserved) {
        let Reserved {
            chunks,
            ptrs,
            occupied,
        } = reserved;
        if self.next > Self::GEOMETRY.capacity(chunks) {
            return;
        }
        // Every slot handed out (all below `next`) is in chunks `..chunks`.
        self.chunks.truncate(chunks);
        if let Some(ptrs) = ptrs {
            // The pointers of chunks `..chunks`, copied from it.
            debug_assert_eq!(ptrs[..], self.chunks.ptrs[..]);
            self.chunks.ptrs = ptrs;
        }
        if let Some(mut occupied) = occupied {
            if occupied.capacity() >= self.occupied.len() {
                occupied.clear();
                occupied.extend_from_slice(&self.occupied);
                self.occupied = occupied;
            }
        }
        self.update_capacity();
    }

    /// Stores `value` in a vacant slot, reusing freed slots first.
    ///
    /// # Panics
    ///
    /// If the pool already holds `u32::MAX` values.
    #[inline]
    pub(crate) fn insert(&mut self, value: V) -> PoolSlot<V> {
        let (slot, i) = if self.free == NO_FREE {
            self.fresh_slot()
        } else {
            let i = self.free as usize;
            let slot = self.slot_at(i);
            // The slot's link is the list's next head.
            self.free = Self::index_of(slot) as u32;
            self.vacant -= 1;
            (slot, i)
        };
        // SAFETY: `slot` is a vacant slot of this pool (it was on the free
        // list or was just handed out), so writing does not overwrite a
        // live value.
        unsafe { slot.write(value) };
        // After the value: a fresh slot's index shares its last cache line,
        // which the value's write has just brought in. (A reused slot's
        // link is replaced by its own index.)
        self.write_index(slot, i);
        self.occupied[i / 64] |= 1 << (i % 64);
        self.len += 1;
        PoolSlot(slot)
    }

    /// Hands out dense index `next`, growing the pool if it is full. The
    /// caller writes the index into the slot.
    #[inline]
    fn fresh_slot(&mut self) -> (NonNull<V>, usize) {
        if self.next == self.capacity() {
            self.grow_one();
        }
        if self.next % 64 == 0 {
            // Does not allocate after a growth: `try_reserve` reserves a
            // word per 64 slots of capacity.
            self.occupied.push(0);
        }
        let i = self.next;
        let slot = self.slot_at(i);
        self.next += 1;
        (slot, i)
    }

    /// Writes `i` into the index field of `slot`, a slot of this pool below
    /// `capacity()`: its own dense index, or its link on the free list.
    #[inline]
    fn write_index(&self, slot: NonNull<V>, i: usize) {
        // SAFETY: as in `index_of`, the index field is inside the slot,
        // aligned, and not part of the value; `i <= MAX_SLOTS` fits.
        unsafe {
            slot.cast::<u8>()
                .add(Chunks::<V>::INDEX)
                .cast::<u32>()
                .write(i as u32);
        }
    }

    /// Puts the vacant slot `i` (below `next`) first on the free list.
    #[inline]
    fn push_free(&mut self, i: usize) {
        self.write_index(self.slot_at(i), self.free as usize);
        self.free = i as u32;
        self.vacant += 1;
    }

    #[cold]
    #[inline(never)]
    fn grow_one(&mut self) {
        match self.try_reserve(1) {
            Ok(_) => {}
            Err(TryReserveError::CapacityOverflow) => {
                panic!("mapstore: a pooled map is out of u32 slot indices")
            }
            Err(TryReserveError::AllocError { layout }) => handle_alloc_error(layout),
        }
    }

    /// The value in an occupied slot.
    #[inline]
    pub(crate) fn get<'a>(&'a self, slot: &'a PoolSlot<V>) -> &'a V {
        debug_assert!(self.is_occupied(Self::index_of(slot.0)));
        // SAFETY: a live `PoolSlot` of this pool points at an occupied,
        // initialized slot. The value stays valid for `'a`: removing it
        // takes `&mut self` and the slot by value, both borrowed here.
        unsafe { slot.0.as_ref() }
    }

    /// The value in an occupied slot, mutably.
    #[inline]
    #[allow(clippy::mut_from_ref)]
    pub(crate) fn get_mut<'a>(&'a self, slot: &'a mut PoolSlot<V>) -> &'a mut V {
        debug_assert!(self.is_occupied(Self::index_of(slot.0)));
        // SAFETY: as in `get`; and the borrow is unique because at most one
        // usable `PoolSlot` refers to each occupied slot (see the module's
        // invariants), and it is borrowed mutably here for `'a`. The
        // pointer was derived from the chunk's raw allocation, not from a
        // reference to the pool, so no shared borrow covers the value.
        unsafe { slot.0.as_mut() }
    }

    /// Unique access to the values for `'a`, without a borrow of the pool
    /// itself: see [`ValuesMut`].
    #[inline]
    pub(crate) fn values_access(&mut self) -> ValuesMut<'_, V> {
        ValuesMut { _pool: PhantomData }
    }

    /// Shared access to the values for `'a`: see [`ValuesRef`].
    #[inline]
    pub(crate) fn values_ref(&self) -> ValuesRef<'_, V> {
        ValuesRef { _pool: PhantomData }
    }

    /// Moves the value out of a slot and frees the slot.
    #[inline]
    pub(crate) fn remove(&mut self, slot: PoolSlot<V>) -> V {
        let value = self.vacate(slot);
        // SAFETY: `vacate` freed the slot in the books and handed over its
        // value, initialized and owned by `value` alone; `forget` keeps it
        // from being dropped too, so it is read exactly once.
        let moved = unsafe { value.0.read() };
        mem::forget(value);
        moved
    }

    /// Frees a slot in the books (its bit cleared, the slot first on the
    /// free list) and returns its value, still where it lies, to be dropped
    /// there by the guard (or moved out by [`remove`](Self::remove)).
    #[inline]
    pub(crate) fn vacate(&mut self, slot: PoolSlot<V>) -> InPlace<'_, V> {
        let i = Self::index_of(slot.0);
        // The books first: a handle whose slot is not occupied (a broken
        // invariant) stops here with a panic, before the value is read.
        let word = &mut self.occupied[i / 64];
        let bit = 1 << (i % 64);
        assert!(*word & bit != 0, "mapstore: a pool handle to a vacant slot");
        *word &= !bit;
        self.len -= 1;
        // On the free list: the slot's index field, outside the value's
        // bytes, becomes its link (nothing is allocated).
        self.write_index(slot.0, self.free as usize);
        self.free = i as u32;
        self.vacant += 1;
        InPlace(slot.0, PhantomData)
    }

    /// Whether at most half of the slots this pool has handed out hold a
    /// value (the rest are on the free list): a clone then copies the
    /// entries alone ([`clone_compact`]) rather than slot for slot.
    pub(crate) fn is_sparse(&self) -> bool {
        self.len * 2 <= self.next
    }

    /// Moves `slot`, a handle of `original` (of which `self` is a clone,
    /// [`Pool::clone`]), to the same slot of `self`.
    #[inline]
    pub(crate) fn rebase(&self, original: &Pool<V>, slot: &mut PoolSlot<V>) {
        let i = Self::index_of(slot.0);
        debug_assert!(original.is_occupied(i) && self.is_occupied(i));
        slot.0 = self.slot_at(i);
    }

    /// Drops every value; keeps the chunks. No per-value work when `V`
    /// needs no drop.
    pub(crate) fn clear(&mut self) {
        let occupied = if mem::needs_drop::<V>() {
            mem::take(&mut self.occupied)
        } else {
            self.occupied.clear();
            Vec::new()
        };
        // Mark everything vacant before running any destructor: if one
        // panics, the pool is empty and consistent, and the values not yet
        // dropped are leaked, never dropped twice.
        self.next = 0;
        self.len = 0;
        self.free = NO_FREE;
        self.vacant = 0;
        self.drop_marked(&occupied);
        if occupied.capacity() > self.occupied.capacity() {
            self.occupied = occupied;
            self.occupied.clear();
        }
    }

    /// Drops the values in the slots whose dense bits are set in `marked`.
    fn drop_marked(&self, marked: &[u64]) {
        for (w, &word) in marked.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                // SAFETY: bit `i` was set, so slot `i` held a value; the
                // caller has already marked it vacant, so it is dropped
                // exactly once.
                unsafe { ptr::drop_in_place(self.slot_at(i).as_ptr()) };
            }
        }
    }

    /// Drops the values in occupied slots that no slot in `live` refers to,
    /// and frees those slots.
    pub(crate) fn release_unreferenced<'a>(&mut self, live: impl Iterator<Item = &'a PoolSlot<V>>)
    where
        V: 'a,
    {
        let mut orphans = self.occupied.clone();
        for slot in live {
            let i = Self::index_of(slot.0);
            orphans[i / 64] &= !(1 << (i % 64));
        }
        for (w, &word) in orphans.iter().enumerate() {
            self.occupied[w] &= !word;
            let mut bits = word;
            while bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                self.push_free(i);
                self.len -= 1;
            }
        }
        self.drop_marked(&orphans);
    }

    /// Frees chunks above the highest occupied slot and spare bookkeeping.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.shrink_to(0);
    }

    /// Frees the chunks above the highest occupied slot that are not
    /// needed to hold `min_capacity` values, and spare bookkeeping. Values
    /// never move, so a chunk below the last value stays, however empty.
    pub(crate) fn shrink_to(&mut self, min_capacity: usize) {
        let high = self
            .occupied
            .iter()
            .enumerate()
            .rev()
            .find(|(_, &word)| word != 0)
            .map_or(0, |(w, &word)| w * 64 + 64 - word.leading_zeros() as usize);
        self.next = high;
        // The free list anew, of the vacant slots below `high`, the lowest
        // first (reused first, so the pool stays compact).
        self.free = NO_FREE;
        self.vacant = 0;
        for i in (0..high).rev() {
            if !self.is_occupied(i) {
                self.push_free(i);
            }
        }
        let geometry = &Self::GEOMETRY;
        let room = high.max(min_capacity);
        let mut keep = 0;
        while keep < self.chunks.ptrs.len() && geometry.capacity(keep) < room {
            keep += 1;
        }
        self.chunks.truncate(keep);
        self.chunks.ptrs.shrink_to_fit();
        self.update_capacity();
        self.occupied.truncate(high.div_ceil(64));
        self.occupied
            .shrink_to(room.min(self.capacity()).div_ceil(64));
    }

    /// Bytes this pool holds: chunks and bookkeeping.
    pub(crate) fn memory_usage(&self) -> usize {
        let chunks: usize = (0..self.chunks.ptrs.len())
            .map(|k| Chunks::<V>::layout(k).size())
            .sum();
        chunks
            + self.chunks.ptrs.capacity() * size_of::<NonNull<u8>>()
            + self.occupied.capacity() * size_of::<u64>()
    }
}

impl<V> Pool<V> {
    /// The values in dense-index order: chunk by chunk, in memory order.
    pub(crate) fn iter(&self) -> Iter<'_, V> {
        Iter {
            pool: self,
            cursor: Cursor::new(self),
        }
    }

    /// The values in dense-index order, mutably.
    pub(crate) fn iter_mut(&mut self) -> IterMut<'_, V> {
        IterMut {
            cursor: Cursor::new(self),
            pool: self,
            _values: PhantomData,
        }
    }

    /// Moves the values out in dense-index order; the pool's chunks are
    /// freed when the iterator is dropped, with the values not yielded.
    pub(crate) fn into_values(self) -> IntoIter<V> {
        IntoIter {
            cursor: Cursor::new(&self),
            pool: self,
        }
    }
}

impl<V> Pool<V> {
    /// Turns the pool into one that is emptied through its handles, for a
    /// drain or an owning iterator of the table: see [`Emptying`].
    pub(crate) fn emptying(mut self) -> Emptying<V> {
        self.occupied.iter_mut().for_each(|word| *word = 0);
        self.len = 0;
        Emptying { pool: self }
    }
}

/// The value of a slot that [`Pool::vacate`] freed, still in its slot;
/// dropped there when the guard is dropped. It holds the pool's unique
/// borrow, so the slot is not reused before.
pub(crate) struct InPlace<'a, V>(NonNull<V>, PhantomData<&'a mut V>);

impl<V> Drop for InPlace<'_, V> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the slot held an initialized value when `vacate` freed
        // it, consumed with its only handle; the guard owns that value and
        // borrows the pool uniquely (no insert can reuse the slot, the
        // chunks stay allocated), and it is dropped once: the value is
        // dropped exactly once, in place.
        unsafe { ptr::drop_in_place(self.0.as_ptr()) }
    }
}

/// A pool emptied through the table's handles, in the table's order. It
/// has forgotten which slots hold values (its bitmap is clear): each value
/// leaves through its handle, moved out by [`take`](Emptying::take) or
/// dropped with its key by [`drop_entry`](Emptying::drop_entry), and a value whose handle is
/// never given back is leaked, never dropped twice. Neither touches the
/// bitmap, the free list or the slot's index: a drain costs one read of
/// each value.
pub(crate) struct Emptying<V> {
    pool: Pool<V>,
}

impl<V> Emptying<V> {
    /// The value of a handle not given back yet, shared (to show it).
    #[inline]
    pub(crate) fn get<'a>(&'a self, slot: &'a PoolSlot<V>) -> &'a V {
        // SAFETY: a handle of this pool that the table still holds refers
        // to an initialized value (its bitmap is clear, but the handles are
        // the record: each value leaves only through `take` or
        // `drop_entry`, which consume the handle). The value stays for
        // `'a`: both consume the handle by value, and it is borrowed here;
        // the chunks live as long as `self.pool`, borrowed here too. Only
        // `&V` is formed.
        unsafe { slot.0.as_ref() }
    }

    /// Moves the value out of its slot.
    #[inline]
    pub(crate) fn take(&mut self, slot: PoolSlot<V>) -> V {
        // SAFETY: a live `PoolSlot` of this pool refers to an initialized
        // value, and it is consumed here: the value is read exactly once.
        // The chunks stay allocated as long as `self.pool` does.
        unsafe { slot.0.read() }
    }

    /// Drops the value of a handle not given back yet, in its slot.
    #[inline]
    pub(crate) fn discard(&mut self, slot: PoolSlot<V>) {
        // SAFETY: as in `take`: the handle is consumed here, so the value
        // is dropped exactly once, in place, while the chunks are borrowed.
        unsafe { ptr::drop_in_place(slot.0.as_ptr()) }
    }

    /// The emptied pool, with its chunks, ready for reuse. Values whose
    /// handles were not given back are leaked.
    pub(crate) fn finish(&mut self) -> Pool<V> {
        let mut pool = mem::replace(&mut self.pool, Pool::new());
        // Resets the free list and the fresh-slot mark; drops nothing, as
        // no bit is set.
        pool.clear();
        pool
    }

    /// Drops an entry as std's map drops a `(K, V)`: the key, then the
    /// value, and the value even when the key's `Drop` panics (dropped
    /// while that panic unwinds, as a tuple's drop glue does).
    #[inline]
    pub(crate) fn drop_entry<K>(&mut self, bucket: PoolBucket<K, V>) {
        /// Owns a value of an emptying pool; drops it when dropped.
        struct Owned<V>(PoolSlot<V>);

        impl<V> Drop for Owned<V> {
            fn drop(&mut self) {
                // SAFETY: the handle came from the table of this emptying
                // pool, so its value is initialized and (the bitmap being
                // clear) recorded nowhere else; it was consumed into this
                // guard, which is dropped once, inside `drop_entry`, while
                // the pool and its chunks are borrowed: the value is
                // dropped exactly once, in place.
                unsafe { ptr::drop_in_place((self.0).0.as_ptr()) }
            }
        }

        let PoolBucket { key, slot } = bucket;
        let value = Owned(slot);
        drop(key);
        drop(value);
    }

    /// Drops `entries`, the table's buckets of this pool, one entry at a
    /// time, as std's map drops its `(K, V)` pairs: key then value. If a
    /// destructor panics, the entries not reached yet are leaked, keys and
    /// values, as std's map leaks them; nothing is dropped while that panic
    /// unwinds except the value of the entry whose key panicked.
    pub(crate) fn drop_entries<K, I>(&mut self, entries: &mut I)
    where
        I: Iterator<Item = PoolBucket<K, V>>,
    {
        /// Leaks the entries left in the iterator, so that the table's own
        /// drop (or a drain's) finds none left to drop while unwinding.
        struct LeakRest<'a, I: Iterator>(&'a mut I);

        impl<I: Iterator> Drop for LeakRest<'_, I> {
            fn drop(&mut self) {
                self.0.by_ref().for_each(mem::forget);
            }
        }

        let rest = LeakRest(entries);
        for bucket in rest.0.by_ref() {
            self.drop_entry(bucket);
        }
    }
}

/// Drops every entry of a pooled table, leaving the table and `pool` empty
/// with their memory: a map's `clear`, and its drop.
///
/// When keys and values both need dropping, each entry goes as std's map
/// drops a `(K, V)` ([`Emptying::drop_entry`]), in the table's order, and a
/// panicking destructor leaks the entries after it, as std's does: no
/// destructor runs while one unwinds, except the panicking key's own value
/// (std's too), so two panicking destructors abort where std's abort and
/// nowhere else. Otherwise only one of the two can panic, and the table is
/// cleared first, then the pool (in memory order, or not at all when the
/// values need no drop).
pub(crate) fn clear_table<K, V>(table: &mut HashTable<PoolBucket<K, V>>, pool: &mut Pool<V>) {
    if mem::needs_drop::<K>() && mem::needs_drop::<V>() {
        /// The walk: on its way out, normal or unwinding, it leaks what is
        /// left (nothing, unless a destructor panicked) and puts the pool
        /// back, emptied, with its chunks.
        struct Walk<'a, K, V> {
            drain: hash_table::Drain<'a, PoolBucket<K, V>>,
            pool: Emptying<V>,
            home: &'a mut Pool<V>,
        }

        impl<K, V> Drop for Walk<'_, K, V> {
            fn drop(&mut self) {
                self.drain.by_ref().for_each(mem::forget);
                *self.home = self.pool.finish();
            }
        }

        let mut walk = Walk {
            drain: table.drain(),
            pool: mem::replace(pool, Pool::new()).emptying(),
            home: pool,
        };
        let Walk { drain, pool, .. } = &mut walk;
        pool.drop_entries(drain);
    } else {
        /// Clears the pool after the table, also when a key's `Drop`
        /// panics out of the table's clear (the values then need no drop:
        /// the pool only resets its books).
        struct ClearPool<'a, V>(&'a mut Pool<V>);

        impl<V> Drop for ClearPool<'_, V> {
            fn drop(&mut self) {
                self.0.clear();
            }
        }

        let pool = ClearPool(pool);
        table.clear();
        drop(pool);
    }
}

/// A map's fields, moved out of it without running its `Drop` (for
/// `into_iter` and the like, which hand the entries to their new owner).
/// That `Drop` only drops a pooled map's entries ahead of the fields' own
/// drops, so skipping it loses nothing: the fields are dropped wherever they
/// end up.
#[allow(clippy::type_complexity)]
pub(crate) fn into_parts<K, V, St: Storage, S>(
    map: Map<K, V, St, S>,
) -> (HashTable<Bucket<K, V, St>>, Side<K, V, St>, S) {
    let map = mem::ManuallyDrop::new(map);
    // SAFETY: each field is read exactly once, out of a map that is never
    // used or dropped again (it is in a `ManuallyDrop` that goes out of scope
    // here), so each field ends up with one owner.
    unsafe {
        (
            ptr::read(&map.table),
            ptr::read(&map.side),
            ptr::read(&map.hash_builder),
        )
    }
}

/// A pooled map's drop: when keys and values both need dropping, drops the
/// entries as [`clear_table`] does, so that a panicking key's `Drop` is not
/// followed by the pool's drop of every value while the panic unwinds (std's
/// map leaks them). Otherwise the table's and the pool's own drops do it:
/// only one of the two can panic.
pub(crate) fn drop_table<K, V>(table: &mut HashTable<PoolBucket<K, V>>, pool: &mut Pool<V>) {
    if mem::needs_drop::<K>() && mem::needs_drop::<V>() {
        clear_table(table, pool);
    }
}

/// The unique access to a pool's values that a mutable walk of the table
/// needs: a map's `iter_mut` hands out `&mut V` through the table's handles.
///
/// It stands for `&'a mut Pool<V>` (which created it) without holding a
/// shared borrow of the pool, so the walk is `Send` when `V: Send`, as std's
/// `IterMut` is, and `Sync` when `V: Sync`, both by the auto traits of
/// `&mut Pool<V>`.
pub(crate) struct ValuesMut<'a, V> {
    _pool: PhantomData<&'a mut Pool<V>>,
}

/// The shared access to a pool's values that a walk of the table needs:
/// it stands for `&'a Pool<V>` (which created it, [`Pool::values_ref`]),
/// with the same auto traits, and holds nothing, so that an empty walk can
/// have one without a pool ([`ValuesRef::none`], for a default iterator).
pub(crate) struct ValuesRef<'a, V> {
    _pool: PhantomData<&'a Pool<V>>,
}

impl<V> Clone for ValuesRef<'_, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<V> Copy for ValuesRef<'_, V> {}

impl<'a, V> ValuesRef<'a, V> {
    /// The access of a walk over no handle at all: [`get`](Self::get) is
    /// never called on it (a default, empty table iterator yields none).
    pub(crate) const fn none() -> Self {
        ValuesRef { _pool: PhantomData }
    }

    /// The value in an occupied slot of the pool, shared.
    #[inline]
    pub(crate) fn get(&self, slot: &'a PoolSlot<V>) -> &'a V {
        // SAFETY: as in `Pool::get`: `slot` is a live handle of the pool
        // this access was made from (the map's table holds only handles of
        // its own pool; an access from `none` is paired with a walk that
        // has no handle), which is borrowed shared for `'a`, so the value
        // is initialized and no one can remove it or borrow it mutably
        // for `'a`.
        unsafe { slot.0.as_ref() }
    }
}

impl<'a, V> ValuesMut<'a, V> {
    /// The access of a walk over no handle at all (a default, empty table
    /// iterator): [`get_mut`](Self::get_mut) is never called on it.
    pub(crate) const fn none() -> Self {
        ValuesMut { _pool: PhantomData }
    }

    /// The value of a handle that the walk has not handed out yet, shared
    /// (to show it).
    #[inline]
    pub(crate) fn get<'b>(&'b self, slot: &'b PoolSlot<V>) -> &'b V {
        // SAFETY: as in `get_mut`: `slot` is a live handle of the pool this
        // access was made from, uniquely borrowed for `'a`, which outlives
        // `'b`, so the value is initialized and stays so for `'b`. The
        // walk has handed out `&mut` only through handles it has passed,
        // and `slot` is one it has not reached (borrowed shared from the
        // rest of the table walk), so no `&mut` to this value exists.
        unsafe { slot.0.as_ref() }
    }

    /// The value in an occupied slot of the pool, mutably.
    #[inline]
    pub(crate) fn get_mut(&self, slot: &'a mut PoolSlot<V>) -> &'a mut V {
        // SAFETY: `slot` is a handle of the pool this access was made from
        // (the map's table holds only handles of its own pool), which is
        // borrowed uniquely for `'a`, so the value is initialized and stays
        // so for `'a`; the unique borrow of the only usable handle makes the
        // value's borrow unique, as in `Pool::get_mut`.
        unsafe { slot.0.as_mut() }
    }
}

/// A walk over a pool's occupied slots in dense-index order, a run of
/// adjacent occupied slots at a time: within a run, a step is a pointer
/// increment, as in a slice. It does not borrow the pool: each step is given
/// it, and the pool's occupancy must not change between steps except for
/// the slots already walked.
#[derive(Clone)]
struct Cursor {
    /// Occupied slots not walked yet, the current run's included.
    remaining: usize,
    /// Slots left in the current run, the next one at `ptr`; the run
    /// started at dense index `index`.
    run: usize,
    index: usize,
    ptr: NonNull<u8>,
    /// Bits of `occupied[word]` past the current run.
    bits: u64,
    word: usize,
    /// Dense indices `start..end` are in the current chunk, at `base`.
    start: usize,
    end: usize,
    base: NonNull<u8>,
    /// The chunk after the current one.
    next_chunk: usize,
}

impl Cursor {
    fn new<V>(pool: &Pool<V>) -> Cursor {
        Cursor {
            remaining: pool.len,
            run: 0,
            index: 0,
            ptr: NonNull::dangling(),
            bits: pool.occupied.first().copied().unwrap_or(0),
            word: 0,
            start: 0,
            end: 0,
            base: NonNull::dangling(),
            next_chunk: 0,
        }
    }

    /// Starts the next run. The current one is over, and `remaining > 0`.
    #[inline]
    fn next_run<V>(&mut self, pool: &Pool<V>) {
        // `remaining` counts the set bits from here on: one is ahead.
        while self.bits == 0 {
            self.word += 1;
            self.bits = pool.occupied[self.word];
        }
        let offset = self.bits.trailing_zeros();
        let i = self.word * 64 + offset as usize;
        while i >= self.end {
            self.start = self.end;
            self.end += Pool::<V>::GEOMETRY.chunk_len(self.next_chunk);
            self.base = pool.chunks.ptrs[self.next_chunk];
            self.next_chunk += 1;
        }
        // The set bits from `offset` on, up to the chunk's end: 1..=64.
        let ones = (self.bits >> offset).trailing_ones() as usize;
        let mut len = ones.min(self.end - i);
        self.bits &= !low_bits(offset as usize + len);
        // A run that fills its word to the end goes on into the next words
        // of the same chunk, as far as their bits are set.
        while (i + len) % 64 == 0 && i + len < self.end {
            let next = pool.occupied.get(self.word + 1).copied().unwrap_or(0);
            let more = (next.trailing_ones() as usize).min(self.end - (i + len));
            if more == 0 {
                break;
            }
            self.word += 1;
            self.bits = next & !low_bits(more);
            len += more;
        }
        self.run = len;
        self.index = i;
        // SAFETY: bit `i` is set, so `i < next <= capacity()` and slot `i`
        // lies in the allocated chunk `next_chunk - 1`, whose dense indices
        // are `start..end`, at `(i - start) * STRIDE` bytes from its start:
        // inside the allocation, aligned for `V` (as in `slot_at`).
        self.ptr = unsafe { self.base.add((i - self.start) * Chunks::<V>::STRIDE) };
    }

    /// The next occupied slot.
    #[inline]
    fn next<V>(&mut self, pool: &Pool<V>) -> Option<NonNull<V>> {
        if self.run == 0 {
            if self.remaining == 0 {
                return None;
            }
            self.next_run(pool);
        }
        Some(self.advance())
    }

    /// The next slot of the current run, which is not over.
    #[inline]
    fn advance<V>(&mut self) -> NonNull<V> {
        debug_assert!(self.run > 0);
        let slot = self.ptr.cast::<V>();
        self.run -= 1;
        self.remaining -= 1;
        // SAFETY: the run stays inside one chunk, so this is the next slot
        // of that chunk or one past its last byte.
        self.ptr = unsafe { self.ptr.add(Chunks::<V>::STRIDE) };
        slot
    }

    /// Calls `f` on every slot not walked yet: a loop per run.
    #[inline]
    fn fold<V, B>(
        mut self,
        pool: &Pool<V>,
        mut acc: B,
        mut f: impl FnMut(B, NonNull<V>) -> B,
    ) -> B {
        loop {
            let ptr = self.ptr.cast::<V>();
            for k in 0..self.run {
                // SAFETY: as in `next`: slot `k` of the run, in its chunk.
                acc = f(acc, unsafe { ptr.byte_add(k * Chunks::<V>::STRIDE) });
            }
            self.remaining -= self.run;
            self.run = 0;
            if self.remaining == 0 {
                return acc;
            }
            self.next_run(pool);
        }
    }
}

/// Shared references to a pool's values, in dense-index order.
pub(crate) struct Iter<'a, V> {
    pool: &'a Pool<V>,
    cursor: Cursor,
}

// SAFETY: an `Iter` hands out `&V` only, like `core::slice::Iter<V>`; its
// chunk pointer is a position in the borrowed pool.
unsafe impl<V: Sync> Send for Iter<'_, V> {}
// SAFETY: as above.
unsafe impl<V: Sync> Sync for Iter<'_, V> {}

impl<V> Clone for Iter<'_, V> {
    fn clone(&self) -> Self {
        Iter {
            pool: self.pool,
            cursor: self.cursor.clone(),
        }
    }
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = &'a V;

    #[inline]
    fn next(&mut self) -> Option<&'a V> {
        let slot = self.cursor.next(self.pool)?;
        // SAFETY: the slot is occupied, and the pool is borrowed for `'a`,
        // so the value stays initialized and unchanged.
        Some(unsafe { slot.as_ref() })
    }

    #[inline]
    fn fold<B, F: FnMut(B, &'a V) -> B>(self, init: B, mut f: F) -> B {
        // SAFETY: as in `next`.
        self.cursor.fold(self.pool, init, |acc, slot| {
            f(acc, unsafe { slot.as_ref() })
        })
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.cursor.remaining, Some(self.cursor.remaining))
    }
}

/// Mutable references to a pool's values, in dense-index order.
pub(crate) struct IterMut<'a, V> {
    pool: &'a Pool<V>,
    cursor: Cursor,
    _values: PhantomData<&'a mut V>,
}

// SAFETY: an `IterMut` hands out `&mut V` only, each value once, like
// `core::slice::IterMut<V>`.
unsafe impl<V: Send> Send for IterMut<'_, V> {}
// SAFETY: through `&IterMut` nothing can be reached.
unsafe impl<V: Sync> Sync for IterMut<'_, V> {}

impl<'a, V> Iterator for IterMut<'a, V> {
    type Item = &'a mut V;

    #[inline]
    fn next(&mut self) -> Option<&'a mut V> {
        let mut slot = self.cursor.next(self.pool)?;
        // SAFETY: the slot is occupied; the pool was borrowed uniquely for
        // `'a` (`iter_mut`), and the cursor yields each slot once, so this
        // is the only reference to the value. The pointer comes from the
        // chunk's allocation, not from a reference to the pool.
        Some(unsafe { slot.as_mut() })
    }

    #[inline]
    fn fold<B, F: FnMut(B, &'a mut V) -> B>(self, init: B, mut f: F) -> B {
        // SAFETY: as in `next`.
        self.cursor.fold(self.pool, init, |acc, mut slot| {
            f(acc, unsafe { slot.as_mut() })
        })
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.cursor.remaining, Some(self.cursor.remaining))
    }
}

/// The values of a pool, moved out in dense-index order.
pub(crate) struct IntoIter<V> {
    pool: Pool<V>,
    cursor: Cursor,
}

// SAFETY: the cursor's chunk pointer is a position in the owned pool, which
// is `Send` and `Sync` when `V` is.
unsafe impl<V: Send> Send for IntoIter<V> {}
// SAFETY: as above; through `&IntoIter` nothing can be reached.
unsafe impl<V: Sync> Sync for IntoIter<V> {}

impl<V> IntoIter<V> {
    /// Starts the next run and takes it off the pool's books at once, so
    /// the pool's drop skips it; `take_run` hands over the part of it not
    /// yielded. The current run is over, and values remain.
    #[inline]
    fn start_run(&mut self) {
        self.cursor.next_run(&self.pool);
        let (mut index, run) = (self.cursor.index, self.cursor.run);
        let end = index + run;
        while index < end {
            let offset = index % 64;
            let n = (64 - offset).min(end - index);
            self.pool.occupied[index / 64] &= !(low_bits(n) << offset);
            index += n;
        }
        self.pool.len -= run;
    }

    /// Moves the values out into `f`, a run at a time. Each run moves
    /// from the cursor into a local guard, which drops the run's values not
    /// yet moved if `f` panics; the loop's counters stay in registers.
    /// Moves the rest of the current run out of the cursor, into a guard
    /// that moves its values out or drops them.
    #[inline]
    fn take_run(&mut self) -> Run<V> {
        let run = Run {
            next: self.cursor.ptr,
            left: self.cursor.run,
            _values: PhantomData,
        };
        self.cursor.remaining -= self.cursor.run;
        self.cursor.run = 0;
        run
    }

    #[inline]
    fn fold_by_ref<B>(&mut self, mut acc: B, mut f: impl FnMut(B, V) -> B) -> B {
        loop {
            let mut run = self.take_run();
            while let Some(value) = run.take() {
                acc = f(acc, value);
            }
            if self.cursor.remaining == 0 {
                return acc;
            }
            self.start_run();
        }
    }
}

/// The rest of a run of slots taken off a pool's books: marked vacant, still
/// holding their values, which it moves out one by one or drops.
struct Run<V> {
    /// The next slot.
    next: NonNull<u8>,
    /// Slots left, from `next` on.
    left: usize,
    _values: PhantomData<V>,
}

impl<V> Run<V> {
    #[inline]
    fn take(&mut self) -> Option<V> {
        if self.left == 0 {
            return None;
        }
        let slot = self.next.cast::<V>();
        self.left -= 1;
        // SAFETY: a run stays inside one chunk, so this is the run's next
        // slot or one past the chunk's last byte.
        self.next = unsafe { self.next.add(Chunks::<V>::STRIDE) };
        // SAFETY: the slot holds a value that only this run refers to (it is
        // marked vacant and the cursor has moved past it), and `left` was
        // decremented first: the value is moved out exactly once.
        Some(unsafe { slot.read() })
    }
}

impl<V> Drop for Run<V> {
    fn drop(&mut self) {
        if mem::needs_drop::<V>() {
            while let Some(value) = self.take() {
                drop(value);
            }
        }
    }
}

impl<V> Iterator for IntoIter<V> {
    type Item = V;

    #[inline]
    fn next(&mut self) -> Option<V> {
        if self.cursor.run == 0 {
            if self.cursor.remaining == 0 {
                return None;
            }
            self.start_run();
        }
        let slot = self.cursor.advance::<V>();
        // SAFETY: the slot is in the current run: it held a value, is marked
        // vacant, and the cursor passes it once, so the value is read
        // exactly once.
        Some(unsafe { slot.read() })
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.cursor.remaining, Some(self.cursor.remaining))
    }

    #[inline]
    fn fold<B, F: FnMut(B, V) -> B>(mut self, init: B, f: F) -> B {
        self.fold_by_ref(init, f)
    }
}

impl<V> Drop for IntoIter<V> {
    fn drop(&mut self) {
        // The current run's values not yielded are marked vacant already, so
        // the pool's own drop, which drops the values still marked, skips
        // them: the run's guard drops them.
        drop(self.take_run());
    }
}

macro_rules! exact_and_fused {
    ($($name:ident $(<$lt:lifetime>)?),*) => {$(
        impl<$($lt,)? V> ExactSizeIterator for $name<$($lt,)? V> {}
        impl<$($lt,)? V> FusedIterator for $name<$($lt,)? V> {}
    )*};
}

exact_and_fused!(Iter<'a>, IterMut<'a>, IntoIter);

impl<V: Clone> Clone for Pool<V> {
    /// Clones slot for slot: each value keeps its dense index, so the
    /// table's slots can be copied and then moved over with
    /// [`Pool::rebase`].
    fn clone(&self) -> Self {
        let mut copy = Pool::<V>::new();
        if let Err(err) = copy.try_reserve(self.next) {
            match err {
                TryReserveError::CapacityOverflow => unreachable!("the original has these slots"),
                TryReserveError::AllocError { layout } => handle_alloc_error(layout),
            }
        }
        copy.occupied.resize(self.occupied.len(), 0);
        copy.next = self.next;
        // Each slot's index field as the original's: an occupied slot's own
        // index, a vacant one's link, so the free list is the same.
        for i in 0..self.next {
            copy.write_index(copy.slot_at(i), Self::index_of(self.slot_at(i)));
        }
        copy.free = self.free;
        copy.vacant = self.vacant;
        for (w, &word) in self.occupied.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                // SAFETY: bit `i` is set, so slot `i` of `self` holds a value.
                let value = unsafe { self.slot_at(i).as_ref() }.clone();
                // SAFETY: `copy` has the same geometry and at least `next`
                // slots, so slot `i` of `copy` is allocated, and it is
                // vacant. If a `clone` panics, `copy` is dropped and drops
                // the values marked so far.
                unsafe { copy.slot_at(i).write(value) };
                copy.occupied[w] |= 1 << (i % 64);
                copy.len += 1;
            }
        }
        copy
    }
}

impl<V> Drop for Pool<V> {
    fn drop(&mut self) {
        if mem::needs_drop::<V>() {
            let occupied = mem::take(&mut self.occupied);
            self.len = 0;
            // `self.chunks` frees the memory even if a destructor panics.
            self.drop_marked(&occupied);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_locates_every_slot_once() {
        for size in [1, 3, 8, 24, 100, 300, 1024, 4096, 100_000] {
            let g = Geometry::of(size);
            let mut expected = (0, 0);
            for i in 0..5000 {
                assert_eq!(g.locate(i), expected, "size {size} slot {i}");
                expected.1 += 1;
                if expected.1 == g.chunk_len(expected.0) {
                    expected = (expected.0 + 1, 0);
                }
            }
            for n in 0..20 {
                let total: usize = (0..n).map(|k| g.chunk_len(k)).sum();
                assert_eq!(g.capacity(n), total);
            }
        }
    }

    #[test]
    fn slots_hold_their_dense_index() {
        let mut pool = Pool::<[u8; 3]>::new();
        let slots: alloc::vec::Vec<_> = (0..3000).map(|i| pool.insert([i as u8; 3])).collect();
        for (i, slot) in slots.iter().enumerate() {
            assert_eq!(Pool::index_of(slot.0), i);
            assert_eq!(pool.slot_at(i), slot.0);
            assert_eq!(pool.get(slot), &[i as u8; 3]);
        }
        // The index sits after the value, in a 4-aligned field of the slot.
        assert_eq!(Chunks::<[u8; 3]>::INDEX, 4);
        assert_eq!(Chunks::<[u8; 3]>::STRIDE, 8);
        assert_eq!(Chunks::<[u8; 3]>::ALIGN, 4);
    }

    #[test]
    fn chunk_sizes_are_bounded() {
        let g = Geometry::of(300);
        assert!(g.chunk_len(0) * 300 <= FIRST_CHUNK_BYTES);
        assert!((0..100).all(|k| g.chunk_len(k) * 300 <= MAX_CHUNK_BYTES));
        let huge = Geometry::of(MAX_CHUNK_BYTES + 1);
        assert_eq!(huge.chunk_len(0), 1);
        assert_eq!(huge.chunk_len(50), 1);
    }

    #[test]
    fn slots_of_kibibyte_values_are_padded_and_aligned() {
        assert_eq!(stride(4096, 8), 4112);
        assert_eq!(stride(3072, 64), 3136);
        assert_eq!(stride(4096, 4096), 8192);
        assert_eq!(stride(512, 8), 520);
        assert_eq!(stride(1000, 8), 1008);
        assert_eq!(stride(0, 1), 4);
        assert_eq!(stride(6, 2), 12);

        #[derive(Clone)]
        #[repr(align(32))]
        struct Page([u64; 128]);
        let mut pool = Pool::<Page>::new();
        let slots: alloc::vec::Vec<_> = (0..300).map(|i| pool.insert(Page([i; 128]))).collect();
        let copy = pool.clone();
        for (i, slot) in slots.iter().enumerate() {
            let value = pool.get(slot);
            assert_eq!(value as *const Page as usize % 32, 0);
            assert!(value.0.iter().all(|&w| w == i as u64));
            // SAFETY: the duplicate is rebased onto the clone before use.
            let mut moved = unsafe { slot.duplicate() };
            copy.rebase(&pool, &mut moved);
            assert_ne!(moved.0, slot.0);
            assert!(copy.get(&moved).0.iter().all(|&w| w == i as u64));
        }
        let chunks: usize = (0..pool.chunks.ptrs.len())
            .map(|k| Chunks::<Page>::GEOMETRY.chunk_len(k) * (1024 + 32))
            .sum();
        let allocated: usize = (0..pool.chunks.ptrs.len())
            .map(|k| Chunks::<Page>::layout(k).size())
            .sum();
        assert_eq!(allocated, chunks);
        assert!(pool.memory_usage() > chunks);
        for slot in slots {
            pool.remove(slot);
        }
        assert_eq!(pool.len, 0);
    }

    #[test]
    fn walks_visit_occupied_slots_in_dense_order() {
        // Runs cut by holes, by bitmap words and by chunk ends (8-byte
        // slots: chunks of 128, 256, ... slots).
        let mut pool = Pool::<u32>::new();
        let slots: alloc::vec::Vec<_> = (0..2000u32).map(|i| pool.insert(i)).collect();
        let mut kept = alloc::vec::Vec::new();
        for (i, slot) in slots.into_iter().enumerate() {
            if i % 7 == 3 || (300..700).contains(&i) || i % 64 == 63 {
                pool.remove(slot);
            } else {
                kept.push(i as u32);
            }
        }
        let walked: alloc::vec::Vec<u32> = pool.iter().copied().collect();
        assert_eq!(walked, kept);
        assert_eq!(pool.iter().size_hint(), (kept.len(), Some(kept.len())));
        assert_eq!(
            pool.iter().fold(0u64, |n, &v| n + u64::from(v)),
            kept.iter().map(|&v| u64::from(v)).sum()
        );
        pool.iter_mut().for_each(|v| *v += 1);
        assert!(pool.iter().zip(&kept).all(|(a, b)| *a == b + 1));
        // Half moved out, the rest dropped with the iterator; then all of
        // a refilled pool moved out with fold.
        let mut values = pool.clone().into_values();
        let first: alloc::vec::Vec<u32> = values.by_ref().take(500).collect();
        assert_eq!(values.len(), kept.len() - 500);
        drop(values);
        let expected: alloc::vec::Vec<u32> = kept[..500].iter().map(|v| v + 1).collect();
        assert_eq!(first, expected);
        for i in 0..1500u32 {
            pool.insert(i);
        }
        let sum = pool.into_values().fold(0u64, |n, v| n + u64::from(v));
        let kept_sum: u64 = kept.iter().map(|&v| u64::from(v) + 1).sum();
        assert_eq!(sum, kept_sum + (0..1500u64).sum::<u64>());
    }

    /// A bucket's `Clone` outside `clone_table` would alias the original's
    /// slot: it panics in debug builds, and `clone_table` rebases.
    #[test]
    fn buckets_are_cloned_only_by_clone_table() {
        let mut pool = Pool::<[u8; 40]>::new();
        let mut table = HashTable::new();
        for i in 0..100u8 {
            let bucket = PoolBucket {
                key: i,
                slot: pool.insert([i; 40]),
            };
            table.insert_unique(u64::from(i), bucket, |b| u64::from(b.key));
        }
        let copy = pool.clone();
        let cloned = clone_table(&table, &pool, &copy);
        for bucket in cloned.iter() {
            assert_eq!(copy.get(&bucket.slot), &[bucket.key; 40]);
            let original = table.find(u64::from(bucket.key), |b| b.key == bucket.key);
            assert_ne!(original.map(|b| b.slot.0), Some(bucket.slot.0));
        }
        #[cfg(all(feature = "std", debug_assertions))]
        {
            let stray = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| table.clone()));
            assert!(stray.is_err(), "a stray clone must panic");
        }
    }

    #[test]
    fn freed_slots_are_reused_first() {
        let mut pool = Pool::<[u64; 40]>::new();
        let a = pool.insert([1; 40]);
        let b = pool.insert([2; 40]);
        let a_index = a.0;
        assert_eq!(pool.remove(a), [1; 40]);
        let c = pool.insert([3; 40]);
        assert_eq!(c.0, a_index);
        assert_eq!(pool.get(&b)[0], 2);
        assert_eq!(pool.get(&c)[0], 3);
    }

    /// The free list through the slots: reused last-freed first; rebuilt
    /// lowest first by `shrink_to_fit`; the same in a clone.
    #[test]
    fn the_free_list_lives_in_the_vacant_slots() {
        let mut pool = Pool::<[u64; 5]>::new();
        let mut slots: Vec<_> = (0..10u64).map(|i| Some(pool.insert([i; 5]))).collect();
        let address = |s: &PoolSlot<[u64; 5]>| s.0.as_ptr() as usize;
        let at: Vec<usize> = slots.iter().map(|s| address(s.as_ref().unwrap())).collect();
        for i in [2, 7, 4] {
            let slot = slots[i].take().unwrap();
            assert_eq!(pool.remove(slot), [i as u64; 5]);
        }
        assert_eq!(pool.vacant, 3);
        // A clone has the same list.
        let copy = pool.clone();
        assert_eq!((copy.free, copy.vacant), (pool.free, pool.vacant));
        drop(copy);
        let again: Vec<usize> = (0..3).map(|_| address(&pool.insert([9; 5]))).collect();
        assert_eq!(again, [at[4], at[7], at[2]]);
        assert_eq!((pool.free, pool.vacant), (NO_FREE, 0));
        // Values stay whole next to the links.
        for (i, slot) in slots.iter().enumerate() {
            if let Some(slot) = slot {
                assert_eq!(*pool.get(slot), [i as u64; 5]);
            }
        }
        // `shrink_to_fit` keeps the vacant slots below the highest value,
        // lowest first.
        let mut pool = Pool::<[u64; 5]>::new();
        let slots: Vec<_> = (0..10u64).map(|i| pool.insert([i; 5])).collect();
        let at: Vec<usize> = slots.iter().map(address).collect();
        let mut slots = slots.into_iter();
        let kept: Vec<_> = slots.by_ref().take(6).collect();
        for (i, slot) in kept.into_iter().enumerate() {
            if i % 2 == 1 {
                pool.remove(slot);
            }
        }
        for slot in slots {
            pool.remove(slot);
        }
        pool.shrink_to_fit();
        assert_eq!(pool.vacant, 2);
        let reused: Vec<usize> = (0..2).map(|_| address(&pool.insert([0; 5]))).collect();
        assert_eq!(reused, [at[1], at[3]]);
    }

    #[test]
    fn values_never_move() {
        let mut pool = Pool::<[u8; 200]>::new();
        let first = pool.insert([7; 200]);
        let address = pool.get(&first) as *const _;
        let mut slots = alloc::vec::Vec::new();
        for i in 0..10_000 {
            slots.push(pool.insert([i as u8; 200]));
        }
        assert_eq!(pool.get(&first) as *const _, address);
        assert_eq!(pool.len, 10_001);
    }

    #[test]
    fn reserve_past_u32_is_an_error() {
        let mut pool = Pool::<()>::new();
        assert_eq!(
            pool.try_reserve(MAX_SLOTS + 1).err(),
            Some(TryReserveError::CapacityOverflow)
        );
        let mut big = Pool::<[u8; 64]>::new();
        assert_eq!(
            big.try_reserve(usize::MAX).err(),
            Some(TryReserveError::CapacityOverflow)
        );
        assert_eq!((big.capacity(), big.memory_usage()), (0, 0));
    }

    #[test]
    fn an_undone_reserve_leaves_the_pool_as_it_was() {
        let mut pool = Pool::<[u8; 200]>::new();
        let slots: alloc::vec::Vec<_> = (0..100).map(|i| pool.insert([i as u8; 200])).collect();
        let (capacity, bytes) = (pool.capacity(), pool.memory_usage());
        // Small, then large enough to replace the chunk list and bitmap.
        for additional in [1, 500, 100_000] {
            let reserved = pool.try_reserve(additional).unwrap();
            assert!(pool.capacity() >= pool.next + additional);
            pool.undo_reserve(reserved);
            assert_eq!((pool.capacity(), pool.memory_usage()), (capacity, bytes));
        }
        // Nothing lost: every value is where it was, and the pool grows again.
        for (i, slot) in slots.iter().enumerate() {
            assert_eq!(pool.get(slot)[0], i as u8);
        }
        drop(pool.try_reserve(100_000).unwrap());
        assert!(pool.capacity() >= 100_100);
        let more: alloc::vec::Vec<_> = (0..1000).map(|_| pool.insert([7; 200])).collect();
        assert_eq!(pool.get(&more[999])[199], 7);
        assert_eq!(pool.len, 1100);
        assert_eq!(pool.get(&slots[99])[0], 99);
        for slot in slots.into_iter().chain(more) {
            pool.remove(slot);
        }
    }

    #[test]
    fn shrink_releases_chunks_above_the_last_value() {
        let mut pool = Pool::<[u8; 256]>::new();
        let slots: alloc::vec::Vec<_> = (0..2000).map(|_| pool.insert([0; 256])).collect();
        let full = pool.memory_usage();
        let mut slots = slots.into_iter();
        let keep = slots.next().unwrap();
        for slot in slots {
            pool.remove(slot);
        }
        pool.shrink_to_fit();
        assert!(pool.memory_usage() < full / 10);
        assert_eq!(pool.get(&keep)[0], 0);
        let again = pool.insert([9; 256]);
        assert_eq!(pool.get(&again)[0], 9);
    }
}
