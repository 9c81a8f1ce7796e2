//! The pool behind [`Pooled`](crate::storage::Pooled): chunks of value slots
//! that never move, addressed by `u32` handles, with a free list.
//!
//! All of the crate's `unsafe` code is in this file.
//!
//! Chunk `k` holds `min(FIRST << k, MAX)` slots, where `FIRST` and `MAX` are
//! powers of two chosen from the value's size so that the first chunk is
//! about [`FIRST_CHUNK_BYTES`] and no chunk exceeds [`MAX_CHUNK_BYTES`]
//! (unless one value is larger). Small pools stay small, a large pool
//! over-reserves at most one chunk, and a large pool is a few hundred
//! allocations that the allocator serves from fresh pages. A chunk is never
//! reallocated, so a value stays at its address from insert to remove.
//!
//! Slots have two numbers:
//! - the *dense index* counts slots in chunk order (chunk 0's slots, then
//!   chunk 1's, ...). The occupancy bitmap is indexed by it, and `next` and
//!   the capacity count in it.
//! - the *handle* ([`PoolSlot`]) is `chunk << SHIFT | offset`, where
//!   `1 << SHIFT` is the largest chunk's slot count. A lookup is one shift,
//!   one mask and one (unchecked) load of the chunk's base: no branch, and
//!   no search. The handles of the smaller first chunks leave gaps, so a
//!   pool holds slightly fewer than `u32::MAX` values (the limit is
//!   [`Geometry::max_slots`]).
//!
//! Invariants, for a pool `p`:
//! - `p.next <= p.capacity()`; slots at dense indices `next..` have never
//!   been written.
//! - bit `i` of `p.occupied` is set iff the slot with dense index `i` holds
//!   an initialized value; `p.len` counts the set bits.
//! - `p.free` lists the handle of each slot below `next` whose bit is clear,
//!   once.
//! - each occupied slot is referred to by exactly one live [`PoolSlot`]
//!   (held by the map's table), and no [`PoolSlot`] refers to a vacant slot.
//!   The map upholds this: it creates slots only through [`Pool::insert`],
//!   and consumes them only through [`Pool::remove`] or by clearing.
//! - every handle this pool gives out names a chunk below
//!   `p.chunks.ptrs.len()` and an offset below that chunk's length; chunks
//!   are only freed by `shrink_to_fit`, above every live slot, and by drop.

use alloc::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use alloc::vec::Vec;
use core::marker::PhantomData;
use core::mem::{self, align_of, size_of};
use core::panic::UnwindSafe;
use core::ptr::{self, NonNull};

use hashbrown::TryReserveError;

/// Target size of a pool's first chunk.
pub(crate) const FIRST_CHUNK_BYTES: usize = 1024;
/// Upper bound on a chunk's size (a single larger value gets a chunk of one).
///
/// 2 MiB: a pool of a million 512-byte values is 250 chunks, whose base
/// pointers fit in L1, and glibc's malloc serves chunks this big with fresh
/// pages (mmap, or the top of the heap) instead of carving them from its
/// free lists. Under Miri it is smaller, so that the Miri suite's few
/// hundred values reach the full-size chunks.
#[cfg(not(miri))]
pub(crate) const MAX_CHUNK_BYTES: usize = 2 * 1024 * 1024;
/// See above.
#[cfg(miri)]
pub(crate) const MAX_CHUNK_BYTES: usize = 64 * 1024;
/// Slot counts are `u32`: at most this many slots.
const MAX_SLOTS: usize = u32::MAX as usize;

/// The handle of an occupied pool slot, held in the map's table.
///
/// Not `Clone`: a unique borrow of a `PoolSlot` stands for a unique borrow of
/// its value.
#[derive(Debug)]
pub struct PoolSlot(u32);

impl PoolSlot {
    /// A second handle to the same slot, for the clone of a pool that was
    /// cloned slot for slot ([`Pool::clone`]). The copy belongs with the
    /// cloned pool only.
    pub(crate) fn duplicate(&self) -> PoolSlot {
        PoolSlot(self.0)
    }
}

/// Chunk sizes for a value type, as log2 of the slot counts.
struct Geometry {
    /// log2 of the first chunk's slot count.
    first: u32,
    /// log2 of the largest chunk's slot count: a handle's chunk is
    /// `handle >> shift`.
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

    /// The most slots a pool can hold: handles must fit in `u32`, so there
    /// are at most `2^(32 - shift)` chunks. Computed in `u64`, so it is
    /// right on 32-bit targets too.
    const fn max_slots(&self) -> usize {
        let chunks = 1u64 << (32 - self.shift);
        let first = 1u64 << self.first;
        let max = 1u64 << self.shift;
        let slots = max - first + (chunks - self.ramp() as u64) * max;
        if slots < MAX_SLOTS as u64 {
            slots as usize
        } else {
            MAX_SLOTS
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

    /// The handle of dense index `i`, which must be below `max_slots()`.
    #[inline]
    const fn handle(&self, i: usize) -> u32 {
        let (chunk, offset) = self.locate(i);
        ((chunk << self.shift) | offset) as u32
    }

    /// Chunk and offset of a handle.
    #[inline]
    const fn split(&self, handle: u32) -> (usize, usize) {
        let h = handle as usize;
        (h >> self.shift, h & ((1 << self.shift) - 1))
    }

    /// The dense index of a handle.
    #[inline]
    const fn dense(&self, handle: u32) -> usize {
        let (chunk, offset) = self.split(handle);
        self.capacity(chunk) + offset
    }
}

/// Bytes from one slot to the next. A value whose size is a multiple of
/// 1 KiB gets 16 bytes (or its alignment, up to 64) of padding: at a stride
/// of 4 KiB every value's first cache line would fall in the same cache set
/// (a 1 000-entry map of 4 KiB values then misses L2 on every lookup); the
/// padding spreads them over all sets, as malloc's 16-byte headers do for
/// boxes. Costs at most 1.6 %.
const fn stride(size: usize, align: usize) -> usize {
    if size >= 1024 && size % 1024 == 0 && align <= 64 {
        size + if align > 16 { align } else { 16 }
    } else {
        size
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
    ptrs: Vec<NonNull<V>>,
}

impl<V> Chunks<V> {
    const STRIDE: usize = stride(size_of::<V>(), align_of::<V>());
    const GEOMETRY: Geometry = Geometry::of(Self::STRIDE);

    fn layout(k: usize) -> Layout {
        // Cannot fail: a chunk is at most MAX_CHUNK_BYTES or one slot, and
        // the stride is a multiple of the alignment.
        Layout::from_size_align(Self::STRIDE * Self::GEOMETRY.chunk_len(k), align_of::<V>())
            .unwrap_or_else(|_| Layout::new::<V>())
    }

    /// Allocates the next chunk.
    fn try_push(&mut self) -> Result<(), TryReserveError> {
        let k = self.ptrs.len();
        let layout = Self::layout(k);
        self.ptrs
            .try_reserve(1)
            .map_err(|_| TryReserveError::AllocError {
                layout: Layout::new::<NonNull<V>>(),
            })?;
        // SAFETY: `layout` has a non-zero size: `V` is not zero-sized (the
        // pool allocates no chunks for zero-sized values) and a chunk holds
        // at least one slot.
        let ptr = unsafe { alloc(layout) };
        match NonNull::new(ptr.cast::<V>()) {
            Some(ptr) => {
                self.ptrs.push(ptr);
                Ok(())
            }
            None => Err(TryReserveError::AllocError { layout }),
        }
    }

    /// Frees chunks `keep..`, which hold no values.
    fn truncate(&mut self, keep: usize) {
        while self.ptrs.len() > keep {
            let k = self.ptrs.len() - 1;
            if let Some(ptr) = self.ptrs.pop() {
                // SAFETY: `ptr` was allocated by `try_push` with
                // `Self::layout(k)` and is freed once, here.
                unsafe { dealloc(ptr.as_ptr().cast(), Self::layout(k)) };
            }
        }
    }
}

impl<V> Drop for Chunks<V> {
    fn drop(&mut self) {
        self.truncate(0);
    }
}

/// A chunked pool of `V` slots with a free list.
pub struct Pool<V> {
    chunks: Chunks<V>,
    /// Slots at dense indices `..next` have been handed out at least once.
    next: usize,
    /// Slots in the chunks allocated so far (`MAX_SLOTS` for zero-sized
    /// values, which need no chunks).
    cap: usize,
    /// Handles of the vacant slots below `next`, reused last-freed first.
    free: Vec<u32>,
    /// One bit per dense index below `next`: set while the slot holds a
    /// value.
    occupied: Vec<u64>,
    len: usize,
    _owns: PhantomData<V>,
}

// SAFETY: a `Pool<V>` owns its values like a `Vec<V>`; the raw chunk
// pointers are not shared with anything else.
unsafe impl<V: Send> Send for Pool<V> {}
// SAFETY: through `&Pool<V>` only `&V` can be reached: `get_mut` also needs
// a unique borrow of a `PoolSlot`, which only the owner of `&mut` map has.
unsafe impl<V: Sync> Sync for Pool<V> {}

// Unwind safety as `Vec<V>` has it: the chunk pointers alone would demand
// `V: RefUnwindSafe`, where std's `HashMap` asks `V: UnwindSafe`. (The auto
// `RefUnwindSafe` already matches std's.)
impl<V: UnwindSafe> UnwindSafe for Pool<V> {}

impl<V> Default for Pool<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> Pool<V> {
    const IS_ZST: bool = size_of::<V>() == 0;

    /// An empty pool. It allocates nothing; `const` so that a map's
    /// `with_hasher` can be.
    pub(crate) const fn new() -> Self {
        Pool {
            chunks: Chunks { ptrs: Vec::new() },
            next: 0,
            cap: if Self::IS_ZST { MAX_SLOTS } else { 0 },
            free: Vec::new(),
            occupied: Vec::new(),
            len: 0,
            _owns: PhantomData,
        }
    }
    const GEOMETRY: Geometry = Chunks::<V>::GEOMETRY;
    /// The most values this pool can hold.
    const MAX_LEN: usize = if Self::IS_ZST {
        MAX_SLOTS
    } else {
        Self::GEOMETRY.max_slots()
    };

    /// Slots allocated so far.
    #[inline]
    fn capacity(&self) -> usize {
        self.cap
    }

    /// Recomputes `cap` after the chunk list changed.
    fn update_capacity(&mut self) {
        if !Self::IS_ZST {
            self.cap = Self::GEOMETRY
                .capacity(self.chunks.ptrs.len())
                .min(Self::MAX_LEN);
        }
    }

    /// The handle of dense index `i` (identity for zero-sized values).
    #[inline]
    fn handle(i: usize) -> u32 {
        if Self::IS_ZST {
            i as u32
        } else {
            Self::GEOMETRY.handle(i)
        }
    }

    /// The dense index of a handle (identity for zero-sized values).
    #[inline]
    fn dense(handle: u32) -> usize {
        if Self::IS_ZST {
            handle as usize
        } else {
            Self::GEOMETRY.dense(handle)
        }
    }

    /// Pointer to the slot with handle `h`, which this pool gave out (so it
    /// names an allocated chunk).
    #[inline]
    fn slot_ptr(&self, h: u32) -> *mut V {
        if Self::IS_ZST {
            return NonNull::dangling().as_ptr();
        }
        let (chunk, offset) = Self::GEOMETRY.split(h);
        debug_assert!(chunk < self.chunks.ptrs.len());
        debug_assert!(offset < Self::GEOMETRY.chunk_len(chunk));
        // SAFETY: every handle the pool gives out names a chunk below
        // `ptrs.len()` (see the module's invariants), so the load is in
        // bounds.
        let base = unsafe { self.chunks.ptrs.get_unchecked(chunk) }.as_ptr();
        // SAFETY: the handle's offset is below `chunk_len(chunk)`, the
        // number of slots allocated in that chunk (`STRIDE` bytes each), so
        // the result stays inside the chunk's allocation; it is aligned
        // because the stride is a multiple of `V`'s alignment.
        unsafe {
            base.cast::<u8>()
                .add(offset * Chunks::<V>::STRIDE)
                .cast::<V>()
        }
    }

    #[inline]
    fn is_occupied(&self, i: usize) -> bool {
        self.occupied
            .get(i / 64)
            .is_some_and(|word| word & (1 << (i % 64)) != 0)
    }

    /// Makes room for `additional` more values without further allocation.
    pub(crate) fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        let vacant = self.free.len() + (self.capacity() - self.next);
        let Some(fresh) = additional.checked_sub(vacant) else {
            return Ok(());
        };
        let needed = self.capacity().saturating_add(fresh);
        if needed > Self::MAX_LEN {
            return Err(TryReserveError::CapacityOverflow);
        }
        while self.capacity() < needed {
            let pushed = self.chunks.try_push();
            self.update_capacity();
            pushed?;
        }
        let words = self.capacity().div_ceil(64);
        self.occupied
            .try_reserve(words - self.occupied.len())
            .map_err(|_| TryReserveError::AllocError {
                layout: Layout::new::<u64>(),
            })
    }

    /// Stores `value` in a vacant slot, reusing freed slots first.
    ///
    /// # Panics
    ///
    /// If the pool already holds [`Geometry::max_slots`] values (just under
    /// `u32::MAX`).
    #[inline]
    pub(crate) fn insert(&mut self, value: V) -> PoolSlot {
        let (h, i) = match self.free.pop() {
            Some(h) => (h, Self::dense(h)),
            None => {
                let i = self.fresh_slot();
                (Self::handle(i), i)
            }
        };
        // SAFETY: `i < next <= capacity()`, so `h` names an allocated slot,
        // and the slot is vacant (it was on the free list or never handed
        // out), so writing does not overwrite a live value.
        unsafe { self.slot_ptr(h).write(value) };
        self.occupied[i / 64] |= 1 << (i % 64);
        self.len += 1;
        PoolSlot(h)
    }

    /// Hands out dense index `next`, growing the pool if it is full.
    #[inline]
    fn fresh_slot(&mut self) -> usize {
        if self.next == self.capacity() {
            self.grow_one();
        }
        if self.next % 64 == 0 {
            // Does not allocate after a growth: `try_reserve` reserves a
            // word per 64 slots of capacity.
            self.occupied.push(0);
        }
        self.next += 1;
        self.next - 1
    }

    #[cold]
    #[inline(never)]
    fn grow_one(&mut self) {
        match self.try_reserve(1) {
            Ok(()) => {}
            Err(TryReserveError::CapacityOverflow) => {
                panic!("mapstore: a pooled map is out of u32 slot handles")
            }
            Err(TryReserveError::AllocError { layout }) => handle_alloc_error(layout),
        }
    }

    /// The value in an occupied slot.
    #[inline]
    pub(crate) fn get<'a>(&'a self, slot: &'a PoolSlot) -> &'a V {
        debug_assert!(self.is_occupied(Self::dense(slot.0)));
        // SAFETY: a live `PoolSlot` refers to an occupied, initialized slot
        // of this pool. The value stays valid for `'a`: removing it takes
        // `&mut self` and the slot by value, both borrowed here.
        unsafe { &*self.slot_ptr(slot.0) }
    }

    /// The value in an occupied slot, mutably.
    #[inline]
    #[allow(clippy::mut_from_ref)]
    pub(crate) fn get_mut<'a>(&'a self, slot: &'a mut PoolSlot) -> &'a mut V {
        debug_assert!(self.is_occupied(Self::dense(slot.0)));
        // SAFETY: as in `get`; and the borrow is unique because exactly one
        // live `PoolSlot` refers to each occupied slot, and it is borrowed
        // mutably here for `'a`. The chunk memory is reached through a raw
        // pointer, not through a reference derived from `&self`, so no
        // shared borrow covers the value.
        unsafe { &mut *self.slot_ptr(slot.0) }
    }

    /// Moves the value out of a slot and frees the slot.
    #[inline]
    pub(crate) fn remove(&mut self, slot: PoolSlot) -> V {
        let i = Self::dense(slot.0);
        debug_assert!(self.is_occupied(i));
        // SAFETY: the slot is occupied (a live `PoolSlot` refers to it) and
        // is marked vacant right after, so the value is read exactly once.
        let value = unsafe { self.slot_ptr(slot.0).read() };
        self.occupied[i / 64] &= !(1 << (i % 64));
        self.len -= 1;
        // Cannot panic: the free list holds fewer than `u32::MAX` entries,
        // so its capacity cannot overflow, and allocation failure aborts.
        self.free.push(slot.0);
        value
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
        self.free.clear();
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
                unsafe { ptr::drop_in_place(self.slot_ptr(Self::handle(i))) };
            }
        }
    }

    /// Drops the values in occupied slots that no slot in `live` refers to,
    /// and frees those slots.
    pub(crate) fn release_unreferenced<'a>(&mut self, live: impl Iterator<Item = &'a PoolSlot>) {
        let mut orphans = self.occupied.clone();
        for slot in live {
            let i = Self::dense(slot.0);
            orphans[i / 64] &= !(1 << (i % 64));
        }
        for (w, &word) in orphans.iter().enumerate() {
            self.occupied[w] &= !word;
            let mut bits = word;
            while bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                self.free.push(Self::handle(i));
                self.len -= 1;
            }
        }
        self.drop_marked(&orphans);
    }

    /// Frees chunks above the highest occupied slot and spare bookkeeping.
    pub(crate) fn shrink_to_fit(&mut self) {
        let high = self
            .occupied
            .iter()
            .enumerate()
            .rev()
            .find(|(_, &word)| word != 0)
            .map_or(0, |(w, &word)| w * 64 + 64 - word.leading_zeros() as usize);
        self.next = high;
        self.free.retain(|&h| Self::dense(h) < high);
        self.free.shrink_to_fit();
        self.occupied.truncate(high.div_ceil(64));
        self.occupied.shrink_to_fit();
        if !Self::IS_ZST {
            let geometry = &Self::GEOMETRY;
            let mut keep = 0;
            while geometry.capacity(keep) < high {
                keep += 1;
            }
            self.chunks.truncate(keep);
            self.chunks.ptrs.shrink_to_fit();
            self.update_capacity();
        }
    }

    /// Bytes this pool holds: chunks and bookkeeping.
    pub(crate) fn memory_usage(&self) -> usize {
        let chunks = if Self::IS_ZST {
            0
        } else {
            (0..self.chunks.ptrs.len())
                .map(|k| Chunks::<V>::layout(k).size())
                .sum()
        };
        chunks
            + self.chunks.ptrs.capacity() * size_of::<NonNull<V>>()
            + self.free.capacity() * size_of::<u32>()
            + self.occupied.capacity() * size_of::<u64>()
    }
}

impl<V: Clone> Clone for Pool<V> {
    /// Clones slot for slot: each value keeps its handle, so the table's
    /// slots can be copied as they are.
    fn clone(&self) -> Self {
        let mut copy = Pool::<V>::default();
        if let Err(err) = copy.try_reserve(self.next) {
            match err {
                TryReserveError::CapacityOverflow => unreachable!("the original has these slots"),
                TryReserveError::AllocError { layout } => handle_alloc_error(layout),
            }
        }
        copy.occupied.resize(self.occupied.len(), 0);
        copy.next = self.next;
        copy.free.clone_from(&self.free);
        for (w, &word) in self.occupied.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let h = Self::handle(i);
                // SAFETY: bit `i` is set, so slot `i` of `self` holds a value.
                let value = unsafe { &*self.slot_ptr(h) }.clone();
                // SAFETY: `copy` has the same geometry and at least `next`
                // slots, so `h` names an allocated slot of `copy`, and that
                // slot is vacant. If a `clone` panics, `copy` is dropped and
                // drops the values marked so far.
                unsafe { copy.slot_ptr(h).write(value) };
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
    fn handles_round_trip_and_fit_in_u32() {
        for size in [1, 3, 8, 24, 100, 300, 1024, 4096, 100_000, 3 << 20] {
            let g = Geometry::of(size);
            let mut previous = None;
            for i in (0..5000).chain(g.max_slots() - 5000..g.max_slots()) {
                let h = g.handle(i);
                let (chunk, offset) = g.split(h);
                assert_eq!((chunk, offset), g.locate(i), "size {size} slot {i}");
                assert_eq!(g.dense(h), i, "size {size} slot {i}");
                // Handles increase with the dense index, so they are unique.
                assert!(previous < Some(h), "size {size} slot {i}");
                previous = Some(h);
            }
            // One more slot would need a chunk whose handles pass u32::MAX.
            let last_chunk = g.locate(g.max_slots() - 1).0;
            assert!(
                g.max_slots() == MAX_SLOTS
                    || ((last_chunk + 1) << g.shift) as u64 > u64::from(u32::MAX),
                "size {size}"
            );
        }
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
        assert_eq!(stride(4096, 4096), 4096);
        assert_eq!(stride(512, 8), 512);
        assert_eq!(stride(1000, 8), 1000);

        #[derive(Clone)]
        #[repr(align(32))]
        struct Page([u64; 128]);
        let mut pool = Pool::<Page>::default();
        let slots: alloc::vec::Vec<_> = (0..300).map(|i| pool.insert(Page([i; 128]))).collect();
        let copy = pool.clone();
        for (i, slot) in slots.iter().enumerate() {
            let value = pool.get(slot);
            assert_eq!(value as *const Page as usize % 32, 0);
            assert!(value.0.iter().all(|&w| w == i as u64));
            assert!(copy.get(slot).0.iter().all(|&w| w == i as u64));
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
    fn freed_slots_are_reused_first() {
        let mut pool = Pool::<[u64; 40]>::default();
        let a = pool.insert([1; 40]);
        let b = pool.insert([2; 40]);
        let a_index = a.0;
        assert_eq!(pool.remove(a), [1; 40]);
        let c = pool.insert([3; 40]);
        assert_eq!(c.0, a_index);
        assert_eq!(pool.get(&b)[0], 2);
        assert_eq!(pool.get(&c)[0], 3);
    }

    #[test]
    fn values_never_move() {
        let mut pool = Pool::<[u8; 200]>::default();
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
        let mut pool = Pool::<()>::default();
        assert_eq!(
            pool.try_reserve(MAX_SLOTS + 1),
            Err(TryReserveError::CapacityOverflow)
        );
        assert_eq!(pool.try_reserve(MAX_SLOTS), Ok(()));
        let mut big = Pool::<[u8; 64]>::default();
        assert_eq!(
            big.try_reserve(usize::MAX),
            Err(TryReserveError::CapacityOverflow)
        );
    }

    #[test]
    fn shrink_releases_chunks_above_the_last_value() {
        let mut pool = Pool::<[u8; 256]>::default();
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
