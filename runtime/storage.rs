//! The three value storages, as marker types for [`MapStore`] and the
//! concrete maps.
//!
//! [`Storage`] is sealed: the three markers here are the only storages. Each
//! one says what a table bucket holds next to the key (a "slot") and what the
//! map keeps beside the table (the pool, for [`Pooled`]).
//!
//! [`MapStore`]: type@crate::MapStore

use core::fmt;

use crate::plan::StorageKind;

pub(crate) use sealed::EmptySide;

mod sealed {
    use crate::pool::{Pool, PoolSlot};
    use alloc::boxed::Box;

    /// The storage operations. Private: only this crate can name these
    /// items, so no outside code can pair a slot with the wrong pool.
    pub trait StorageOps {
        /// What a table bucket holds next to its key.
        type Slot<V>;
        /// What the map keeps beside its table (the pool, for `Pooled`): its
        /// side storage.
        type Side<V>: EmptySide;

        /// Stores `value` and returns the slot that refers to it.
        ///
        /// Panics only where the storage runs out of addressable slots or
        /// the allocator fails, as `Vec::push` does.
        fn store<V>(side: &mut Self::Side<V>, value: V) -> Self::Slot<V>;
        /// The value a slot refers to.
        fn get<'a, V>(side: &'a Self::Side<V>, slot: &'a Self::Slot<V>) -> &'a V;
        /// The value a slot refers to, mutably. A unique borrow of the slot
        /// is a unique borrow of its value: no two live slots refer to one
        /// value.
        fn get_mut<'a, V>(side: &'a Self::Side<V>, slot: &'a mut Self::Slot<V>) -> &'a mut V;
        /// Moves the value out and releases the slot.
        fn take<V>(side: &mut Self::Side<V>, slot: Self::Slot<V>) -> V;
        /// Reserves room for `additional` more values. Nothing to do where
        /// the table holds the values or their boxes.
        fn try_reserve<V>(
            side: &mut Self::Side<V>,
            additional: usize,
        ) -> Result<(), hashbrown::TryReserveError> {
            let _ = (side, additional);
            Ok(())
        }
        /// Drops every value. The table has been cleared already, which
        /// dropped the values it held itself.
        fn clear<V>(side: &mut Self::Side<V>) {
            let _ = side;
        }
        /// Releases spare room beside the table.
        fn shrink_to_fit<V>(side: &mut Self::Side<V>) {
            let _ = side;
        }
        /// Bytes held beside the table, plus `len` slots' own heap.
        fn side_bytes<V>(side: &Self::Side<V>, len: usize) -> usize;
        /// Copies a slot so that it refers to the clone's copy of the value:
        /// `side` was cloned slot for slot. Used by `Clone` for maps.
        fn clone_slot<V: Clone>(slot: &Self::Slot<V>) -> Self::Slot<V>;
        /// Clones the side storage slot for slot.
        fn clone_side<V: Clone>(side: &Self::Side<V>) -> Self::Side<V>;
        /// Moves a slot copied by `clone_slot`, which still refers to the
        /// value in `original`, to the same value in `copy`, the
        /// `clone_side` of `original`. Nothing to do where the slot holds the
        /// value or its box. Does not panic.
        fn rebase_slot<V>(
            original: &Self::Side<V>,
            copy: &Self::Side<V>,
            slot: &mut Self::Slot<V>,
        ) {
            let _ = (original, copy, slot);
        }
        /// Drops the values no slot in `live` refers to: the table dropped
        /// their entries (a rehash interrupted by a panicking `Hash`).
        fn release_unreferenced<'a, V: 'a>(
            side: &mut Self::Side<V>,
            live: impl Iterator<Item = &'a Self::Slot<V>>,
        ) where
            Self::Slot<V>: 'a,
        {
            let _ = (side, live);
        }
    }

    /// The side storage of an empty map, as a constant: trait methods
    /// cannot be `const fn` on stable Rust, an associated constant of the
    /// side's own type can, so `Map::with_hasher` is a `const fn`.
    pub trait EmptySide {
        /// Holds nothing and owns no memory.
        const EMPTY: Self;
    }

    impl EmptySide for () {
        const EMPTY: Self = ();
    }

    impl<V> EmptySide for Pool<V> {
        const EMPTY: Self = Pool::new();
    }

    impl StorageOps for super::Inline {
        type Slot<V> = V;
        type Side<V> = ();

        #[inline]
        fn store<V>((): &mut (), value: V) -> V {
            value
        }
        #[inline]
        fn get<'a, V>((): &'a (), slot: &'a V) -> &'a V {
            slot
        }
        #[inline]
        fn get_mut<'a, V>((): &'a (), slot: &'a mut V) -> &'a mut V {
            slot
        }
        #[inline]
        fn take<V>((): &mut (), slot: V) -> V {
            slot
        }
        #[inline]
        fn side_bytes<V>((): &(), _: usize) -> usize {
            0
        }
        #[inline]
        fn clone_slot<V: Clone>(slot: &V) -> V {
            slot.clone()
        }
        #[inline]
        fn clone_side<V: Clone>((): &()) {}
    }

    impl StorageOps for super::Boxed {
        type Slot<V> = Box<V>;
        type Side<V> = ();

        #[inline]
        fn store<V>((): &mut (), value: V) -> Box<V> {
            Box::new(value)
        }
        #[inline]
        fn get<'a, V>((): &'a (), slot: &'a Box<V>) -> &'a V {
            slot
        }
        #[inline]
        fn get_mut<'a, V>((): &'a (), slot: &'a mut Box<V>) -> &'a mut V {
            slot
        }
        #[inline]
        fn take<V>((): &mut (), slot: Box<V>) -> V {
            *slot
        }
        #[inline]
        fn side_bytes<V>((): &(), len: usize) -> usize {
            len * core::mem::size_of::<V>()
        }
        #[inline]
        fn clone_slot<V: Clone>(slot: &Box<V>) -> Box<V> {
            slot.clone()
        }
        #[inline]
        fn clone_side<V: Clone>((): &()) {}
    }

    impl StorageOps for super::Pooled {
        type Slot<V> = PoolSlot<V>;
        type Side<V> = Pool<V>;

        #[inline]
        fn store<V>(side: &mut Pool<V>, value: V) -> PoolSlot<V> {
            side.insert(value)
        }
        #[inline]
        fn get<'a, V>(side: &'a Pool<V>, slot: &'a PoolSlot<V>) -> &'a V {
            side.get(slot)
        }
        #[inline]
        fn get_mut<'a, V>(side: &'a Pool<V>, slot: &'a mut PoolSlot<V>) -> &'a mut V {
            side.get_mut(slot)
        }
        #[inline]
        fn take<V>(side: &mut Pool<V>, slot: PoolSlot<V>) -> V {
            side.remove(slot)
        }
        #[inline]
        fn try_reserve<V>(
            side: &mut Pool<V>,
            additional: usize,
        ) -> Result<(), hashbrown::TryReserveError> {
            side.try_reserve(additional)
        }
        #[inline]
        fn clear<V>(side: &mut Pool<V>) {
            side.clear();
        }
        #[inline]
        fn shrink_to_fit<V>(side: &mut Pool<V>) {
            side.shrink_to_fit();
        }
        #[inline]
        fn side_bytes<V>(side: &Pool<V>, _: usize) -> usize {
            side.memory_usage()
        }
        #[inline]
        fn clone_slot<V: Clone>(slot: &PoolSlot<V>) -> PoolSlot<V> {
            slot.duplicate()
        }
        #[inline]
        fn rebase_slot<V>(original: &Pool<V>, copy: &Pool<V>, slot: &mut PoolSlot<V>) {
            copy.rebase(original, slot);
        }
        #[inline]
        fn clone_side<V: Clone>(side: &Pool<V>) -> Pool<V> {
            side.clone()
        }
        fn release_unreferenced<'a, V: 'a>(
            side: &mut Pool<V>,
            live: impl Iterator<Item = &'a PoolSlot<V>>,
        ) {
            side.release_unreferenced(live);
        }
    }
}

/// A value storage strategy: [`Inline`], [`Boxed`] or [`Pooled`].
///
/// StorageOps: it cannot be implemented outside this crate, and its operations
/// are private to it.
///
/// ```
/// use mapstore::storage::{Pooled, Storage};
/// use mapstore::StorageKind;
///
/// assert_eq!(<Pooled as Storage>::KIND, StorageKind::Pooled);
/// ```
pub trait Storage: sealed::StorageOps + Sized + Copy + fmt::Debug + Default + 'static {
    /// The run-time name of this storage.
    const KIND: StorageKind;
}

/// Values live in the table's buckets: `HashTable<(K, V)>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Inline;

/// Each value in its own allocation: `HashTable<(K, Box<V>)>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Boxed;

/// Values in a chunked pool that never moves them; each bucket holds the key
/// and a pointer to its value's pool slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pooled;

impl Storage for Inline {
    const KIND: StorageKind = StorageKind::Inline;
}

impl Storage for Boxed {
    const KIND: StorageKind = StorageKind::Boxed;
}

impl Storage for Pooled {
    const KIND: StorageKind = StorageKind::Pooled;
}
