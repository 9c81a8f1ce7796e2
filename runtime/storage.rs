//! The three value storages, as marker types for [`MapStore`] and the
//! concrete maps.
//!
//! [`Storage`] is sealed: the three markers here are the only storages. Each
//! one says what a table bucket holds next to the key (a "slot") and what the
//! map keeps beside the table (the pool, for [`Pooled`]).
//!
//! [`MapStore`]: type@crate::MapStore

use core::fmt;

pub(crate) use sealed::{EmptySide, Pair, StorageOps};

use crate::__private::{kind_of, Pick, Select};

mod sealed {
    use core::hash::{BuildHasher, Hash};
    use core::iter::FusedIterator;

    use alloc::boxed::Box;
    use hashbrown::hash_table::{self, HashTable};
    use hashbrown::{Equivalent, TryReserveError};

    use crate::pool::{self, Emptying, Pool, PoolBucket};

    /// A map's two parts: its table and the side storage beside it.
    pub(crate) type Parts<St, K, V> = (
        HashTable<<St as StorageOps>::Bucket<K, V>>,
        <St as StorageOps>::Side<K, V>,
    );

    /// The storage operations. Crate-private, and so are the items of
    /// every trait here: [`Storage`](super::Storage) names this trait as a
    /// supertrait, but a bound `St: Storage` outside the crate reaches none
    /// of its items (`St::Side` or `St::store` there is error E0624), so
    /// no outside code can make a bucket, pair one with the wrong side
    /// storage, or take a value twice. `tests/ui/fail/storage_ops_private.rs`
    /// keeps it so.
    ///
    /// A map is a `HashTable<Self::Bucket<K, V>>` and a `Self::Side<K, V>`
    /// beside it (the pool, for `Pooled`); every operation on an entry goes
    /// through these functions.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not one of mapstore's storages: `Storage` is sealed",
        label = "not `Inline`, `Boxed` or `Pooled`",
        note = "a map's storage is one of `mapstore::storage::Inline`, `Boxed` and `Pooled`; to choose one for a type, write `#[map_store(storage = \"...\")]` on its derive, or use `InlineMap`, `BoxedMap` or `PooledMap`"
    )]
    pub(crate) trait StorageOps {
        /// What a table bucket holds.
        type Bucket<K, V>;
        /// What the map keeps beside its table: its side storage.
        type Side<K, V>: EmptySide;
        /// What a [`try_reserve`](Self::try_reserve) changed beside the
        /// table, for [`undo_reserve`](Self::undo_reserve).
        type Reserved;
        /// Iterator over `(&K, &V)`.
        type Iter<'a, K: 'a, V: 'a>: Iterator<Item = (&'a K, &'a V)>
            + ExactSizeIterator
            + FusedIterator
            + Clone
            + Default;
        /// Iterator over `(&K, &mut V)`.
        type IterMut<'a, K: 'a, V: 'a>: Iterator<Item = (&'a K, &'a mut V)>
            + ExactSizeIterator
            + FusedIterator
            + Default;
        /// Owning iterator over `(K, V)`.
        type IntoIter<K, V>: Iterator<Item = (K, V)> + ExactSizeIterator + FusedIterator + Default;
        /// Draining iterator over `(K, V)`: the map is empty once it is
        /// dropped.
        type Drain<'a, K: 'a, V: 'a>: Iterator<Item = (K, V)> + ExactSizeIterator + FusedIterator;
        /// Iterator over `&V`.
        type Values<'a, K: 'a, V: 'a>: Iterator<Item = &'a V>
            + ExactSizeIterator
            + FusedIterator
            + Clone;
        /// Iterator over `&mut V`.
        type ValuesMut<'a, K: 'a, V: 'a>: Iterator<Item = &'a mut V>
            + ExactSizeIterator
            + FusedIterator;
        /// Owning iterator over `V`.
        type IntoValues<K, V>: Iterator<Item = V> + ExactSizeIterator + FusedIterator;

        /// Stores an entry; returns its bucket.
        ///
        /// Panics only where the storage runs out of addressable slots or
        /// the allocator fails, as `Vec::push` does.
        fn store<K, V>(side: &mut Self::Side<K, V>, key: K, value: V) -> Self::Bucket<K, V>;
        /// Whether the bucket holds the key `key`.
        fn matches<K, V, Q: Equivalent<K> + ?Sized>(bucket: &Self::Bucket<K, V>, key: &Q) -> bool;
        /// The hash of the bucket's key.
        fn hash<K: Hash, V, S: BuildHasher>(bucket: &Self::Bucket<K, V>, hash_builder: &S) -> u64;
        /// The bucket's key and value.
        fn pair<'a, K, V>(
            side: &'a Self::Side<K, V>,
            bucket: &'a Self::Bucket<K, V>,
        ) -> (&'a K, &'a V);
        /// The bucket's key and value, the value mutably. A unique borrow
        /// of the bucket is a unique borrow of its value: no two live
        /// buckets refer to one value.
        fn pair_mut<'a, K, V>(
            side: &'a Self::Side<K, V>,
            bucket: &'a mut Self::Bucket<K, V>,
        ) -> (&'a K, &'a mut V);
        /// Moves the entry out of a bucket that left the table.
        fn take<K, V>(side: &mut Self::Side<K, V>, bucket: Self::Bucket<K, V>) -> (K, V);
        /// Drops the entry of a bucket that left the table, key then value,
        /// the value where it lies: a boxed or pooled value is never moved
        /// onto the stack to be dropped (a `BoxedMap` of megabyte values
        /// must not need a megabyte of stack to `retain`).
        fn discard<K, V>(side: &mut Self::Side<K, V>, bucket: Self::Bucket<K, V>);
        /// The next key of an owning iterator, its value dropped where it
        /// lies (as [`discard`](Self::discard)).
        fn next_key<K, V>(iter: &mut Self::IntoIter<K, V>) -> Option<K>;
        /// An entry out of the table, kept whole to be dropped later (by
        /// `ConcurrentStore`, after the group's lock is released): the
        /// bucket itself where the value is in it or in its box, so a boxed
        /// value is not moved; the key and value for a pooled one, whose
        /// slot goes back to the pool at once.
        #[cfg(feature = "std")]
        type Detached<K, V>;
        /// Takes a bucket's entry out of the side storage as
        /// [`Detached`](Self::Detached).
        #[cfg(feature = "std")]
        fn detach<K, V>(
            side: &mut Self::Side<K, V>,
            bucket: Self::Bucket<K, V>,
        ) -> Self::Detached<K, V>;
        /// The bucket's key and value, without its side storage: for
        /// `ConcurrentStore`'s table, whose side storage sits behind locks
        /// of its own, so that no `&Self::Side` can be formed while another
        /// thread may hold it mutably.
        ///
        /// # Safety
        ///
        /// The side storage that holds the bucket's value outlives the
        /// returned borrows, and the value is not removed from it meanwhile.
        #[cfg_attr(not(feature = "std"), allow(dead_code))]
        unsafe fn pair_detached<K, V>(bucket: &Self::Bucket<K, V>) -> (&K, &V);
        /// As [`pair_detached`](Self::pair_detached), the value mutably: a
        /// unique borrow of the bucket is a unique borrow of its value.
        ///
        /// # Safety
        ///
        /// As for [`pair_detached`](Self::pair_detached).
        #[cfg_attr(not(feature = "std"), allow(dead_code))]
        unsafe fn pair_mut_detached<K, V>(bucket: &mut Self::Bucket<K, V>) -> (&K, &mut V);
        /// Reserves room for `additional` more entries beside the table,
        /// all or nothing: on an error the side storage is as it was.
        /// Nothing to do where the table holds the entries.
        fn try_reserve<K, V>(
            side: &mut Self::Side<K, V>,
            additional: usize,
        ) -> Result<Self::Reserved, TryReserveError>;
        /// Undoes the [`try_reserve`](Self::try_reserve) that returned
        /// `reserved` (the table's own growth failed after it), so that a
        /// failed `try_reserve` of a map changes nothing.
        fn undo_reserve<K, V>(side: &mut Self::Side<K, V>, reserved: Self::Reserved);
        /// Drops every entry held beside the table. The table has been
        /// cleared already, which dropped what it held itself.
        fn clear<K, V>(side: &mut Self::Side<K, V>) {
            let _ = side;
        }
        /// Drops every entry, keeping the memory (a map's `clear`): the
        /// table's, then those beside it.
        fn clear_table<K, V>(
            table: &mut HashTable<Self::Bucket<K, V>>,
            side: &mut Self::Side<K, V>,
        ) {
            table.clear();
            Self::clear(side);
        }
        /// Runs first in a map's drop, before the table's and the side's
        /// own drops. Nothing to do where the table holds the entries.
        fn drop_entries<K, V>(
            table: &mut HashTable<Self::Bucket<K, V>>,
            side: &mut Self::Side<K, V>,
        ) {
            let _ = (table, side);
        }
        /// Releases spare room beside the table.
        fn shrink_to_fit<K, V>(side: &mut Self::Side<K, V>) {
            let _ = side;
        }
        /// Releases spare room beside the table beyond what `min_capacity`
        /// entries need.
        fn shrink_to<K, V>(side: &mut Self::Side<K, V>, min_capacity: usize) {
            let _ = (side, min_capacity);
        }
        /// Bytes held beside the table, plus `len` buckets' own heap.
        fn side_bytes<K, V>(side: &Self::Side<K, V>, len: usize) -> usize;
        /// A copy of the table and of its side storage, for `Map::clone`.
        fn clone_parts<K: Clone, V: Clone>(
            table: &HashTable<Self::Bucket<K, V>>,
            side: &Self::Side<K, V>,
        ) -> Parts<Self, K, V>;
        /// Makes `table` a copy of `source` in place, reusing its allocation
        /// where the two have as many buckets (hashbrown's `clone_from`),
        /// where the table holds the entries; `false` (nothing done) where
        /// the storage cannot, and the map is replaced by a clone instead.
        fn clone_table_from<K: Clone, V: Clone>(
            table: &mut HashTable<Self::Bucket<K, V>>,
            source: &HashTable<Self::Bucket<K, V>>,
        ) -> bool {
            let _ = (table, source);
            false
        }
        /// `Map::retain` in one pass of the table's own `retain`, which skips
        /// a group of empty buckets at a time, where the table holds the
        /// entries (each removed entry is dropped where it lies, as
        /// [`discard`](Self::discard) does); `false` (nothing done) where
        /// removing an entry needs the side storage too.
        fn retain_in_table<K, V>(
            table: &mut HashTable<Self::Bucket<K, V>>,
            keep: &mut impl FnMut(&K, &mut V) -> bool,
        ) -> bool {
            let _ = (table, keep);
            false
        }
        /// Drops the entries no bucket in `live` refers to: the table
        /// dropped their buckets (a rehash interrupted by a panicking
        /// `Hash`).
        fn release_unreferenced<'a, K: 'a, V: 'a>(
            side: &mut Self::Side<K, V>,
            live: impl Iterator<Item = &'a Self::Bucket<K, V>>,
        ) where
            Self::Bucket<K, V>: 'a,
        {
            let _ = (side, live);
        }
        /// Iterates over the entries.
        fn iter<'a, K: 'a, V: 'a>(
            table: &'a HashTable<Self::Bucket<K, V>>,
            side: &'a Self::Side<K, V>,
        ) -> Self::Iter<'a, K, V>;
        /// Iterates over the entries, values mutably.
        fn iter_mut<'a, K: 'a, V: 'a>(
            table: &'a mut HashTable<Self::Bucket<K, V>>,
            side: &'a mut Self::Side<K, V>,
        ) -> Self::IterMut<'a, K, V>;
        /// Moves the entries out.
        fn into_iter<K, V>(
            table: HashTable<Self::Bucket<K, V>>,
            side: Self::Side<K, V>,
        ) -> Self::IntoIter<K, V>;
        /// Moves the entries out, leaving the map empty with its memory.
        fn drain<'a, K: 'a, V: 'a>(
            table: &'a mut HashTable<Self::Bucket<K, V>>,
            side: &'a mut Self::Side<K, V>,
        ) -> Self::Drain<'a, K, V>;
        /// Iterates over the values.
        fn values<'a, K: 'a, V: 'a>(
            table: &'a HashTable<Self::Bucket<K, V>>,
            side: &'a Self::Side<K, V>,
        ) -> Self::Values<'a, K, V>;
        /// Iterates over the values, mutably.
        fn values_mut<'a, K: 'a, V: 'a>(
            table: &'a mut HashTable<Self::Bucket<K, V>>,
            side: &'a mut Self::Side<K, V>,
        ) -> Self::ValuesMut<'a, K, V>;
        /// Moves the values out; the keys are dropped.
        fn into_values<K, V>(
            table: HashTable<Self::Bucket<K, V>>,
            side: Self::Side<K, V>,
        ) -> Self::IntoValues<K, V>;
        /// Shows `visit` each entry that `iter` has not yielded yet, in
        /// its order, without advancing it (for `Debug`, as std's shows
        /// them).
        fn peek_iter_mut<K, V>(iter: &Self::IterMut<'_, K, V>, visit: &mut dyn FnMut(&K, &V));
        /// As [`peek_iter_mut`](Self::peek_iter_mut), for an owning
        /// iterator.
        fn peek_into_iter<K, V>(iter: &Self::IntoIter<K, V>, visit: &mut dyn FnMut(&K, &V));
        /// As [`peek_iter_mut`](Self::peek_iter_mut), for a drain.
        fn peek_drain<K, V>(iter: &Self::Drain<'_, K, V>, visit: &mut dyn FnMut(&K, &V));
    }

    /// The side storage of an empty map, as a constant: trait methods
    /// cannot be `const fn` on stable Rust, an associated constant of the
    /// side's own type can, so `Map::with_hasher` is a `const fn`.
    pub(crate) trait EmptySide {
        /// Holds nothing and owns no memory.
        const EMPTY: Self;
    }

    impl EmptySide for () {
        const EMPTY: Self = ();
    }

    impl<T> EmptySide for Pool<T> {
        const EMPTY: Self = Pool::new();
    }

    /// A storage whose table buckets hold the key and the value or its box:
    /// `Inline` and `Boxed`.
    pub(crate) trait InTable {
        /// What a bucket holds next to its key.
        type Slot<V>;
        /// Whether a slot owns heap memory of `size_of::<V>()` bytes.
        const BOXES: bool;
        fn wrap<V>(value: V) -> Self::Slot<V>;
        fn unwrap<V>(slot: Self::Slot<V>) -> V;
        fn get<V>(slot: &Self::Slot<V>) -> &V;
        fn get_mut<V>(slot: &mut Self::Slot<V>) -> &mut V;
    }

    /// A table bucket of an `InTable` storage.
    #[derive(Clone)]
    pub(crate) struct Pair<K, T> {
        pub(crate) key: K,
        pub(crate) slot: T,
    }

    impl InTable for super::Inline {
        type Slot<V> = V;
        const BOXES: bool = false;
        #[inline]
        fn wrap<V>(value: V) -> V {
            value
        }
        #[inline]
        fn unwrap<V>(slot: V) -> V {
            slot
        }
        #[inline]
        fn get<V>(slot: &V) -> &V {
            slot
        }
        #[inline]
        fn get_mut<V>(slot: &mut V) -> &mut V {
            slot
        }
    }

    impl InTable for super::Boxed {
        type Slot<V> = Box<V>;
        const BOXES: bool = true;
        #[inline]
        fn wrap<V>(value: V) -> Box<V> {
            Box::new(value)
        }
        #[inline]
        fn unwrap<V>(slot: Box<V>) -> V {
            *slot
        }
        #[inline]
        fn get<V>(slot: &Box<V>) -> &V {
            slot
        }
        #[inline]
        fn get_mut<V>(slot: &mut Box<V>) -> &mut V {
            slot
        }
    }

    /// `StorageOps` for an `InTable` storage and its iterator types.
    macro_rules! in_table_ops {
        ($st:ty: $iter:ident, $iter_mut:ident, $into_iter:ident, $drain:ident) => {
            impl StorageOps for $st {
                type Bucket<K, V> = Pair<K, <$st as InTable>::Slot<V>>;
                type Side<K, V> = ();
                type Reserved = ();
                type Iter<'a, K: 'a, V: 'a> = $iter<'a, K, V>;
                type IterMut<'a, K: 'a, V: 'a> = $iter_mut<'a, K, V>;
                type IntoIter<K, V> = $into_iter<K, V>;
                type Drain<'a, K: 'a, V: 'a> = $drain<'a, K, V>;
                type Values<'a, K: 'a, V: 'a> = Second<$iter<'a, K, V>>;
                type ValuesMut<'a, K: 'a, V: 'a> = Second<$iter_mut<'a, K, V>>;
                type IntoValues<K, V> = Second<$into_iter<K, V>>;
                #[cfg(feature = "std")]
                type Detached<K, V> = Self::Bucket<K, V>;

                #[inline]
                fn store<K, V>((): &mut (), key: K, value: V) -> Self::Bucket<K, V> {
                    Pair {
                        key,
                        slot: <$st as InTable>::wrap(value),
                    }
                }
                #[inline]
                fn matches<K, V, Q: Equivalent<K> + ?Sized>(
                    bucket: &Self::Bucket<K, V>,
                    key: &Q,
                ) -> bool {
                    key.equivalent(&bucket.key)
                }
                #[inline]
                fn hash<K: Hash, V, S: BuildHasher>(
                    bucket: &Self::Bucket<K, V>,
                    hash_builder: &S,
                ) -> u64 {
                    hash_builder.hash_one(&bucket.key)
                }
                #[inline]
                fn pair<'a, K, V>((): &'a (), bucket: &'a Self::Bucket<K, V>) -> (&'a K, &'a V) {
                    (&bucket.key, <$st as InTable>::get(&bucket.slot))
                }
                #[inline]
                fn pair_mut<'a, K, V>(
                    (): &'a (),
                    bucket: &'a mut Self::Bucket<K, V>,
                ) -> (&'a K, &'a mut V) {
                    (&bucket.key, <$st as InTable>::get_mut(&mut bucket.slot))
                }
                #[inline]
                unsafe fn pair_detached<K, V>(bucket: &Self::Bucket<K, V>) -> (&K, &V) {
                    // SAFETY: nothing to uphold here: the value is in the
                    // bucket itself (the side is `()`), so the borrows are
                    // the bucket's; `unsafe` is the trait's pooled contract.
                    Self::pair(&(), bucket)
                }
                #[inline]
                unsafe fn pair_mut_detached<K, V>(bucket: &mut Self::Bucket<K, V>) -> (&K, &mut V) {
                    // SAFETY: as above: the value is in the bucket.
                    Self::pair_mut(&(), bucket)
                }
                #[inline]
                fn take<K, V>((): &mut (), bucket: Self::Bucket<K, V>) -> (K, V) {
                    (bucket.key, <$st as InTable>::unwrap(bucket.slot))
                }
                #[cfg(feature = "std")]
                #[inline]
                fn detach<K, V>((): &mut (), bucket: Self::Bucket<K, V>) -> Self::Bucket<K, V> {
                    bucket
                }
                #[inline]
                fn discard<K, V>((): &mut (), bucket: Self::Bucket<K, V>) {
                    // The pair's drop glue: the key, then the value in its
                    // slot (a box is freed after its value is dropped in it).
                    drop(bucket);
                }
                #[inline]
                fn next_key<K, V>(iter: &mut $into_iter<K, V>) -> Option<K> {
                    iter.inner.next().map(|bucket| {
                        let Pair { key, slot } = bucket;
                        // If the value's `Drop` panics, the key is leaked,
                        // as std's `into_keys` leaks it (dropping it while
                        // that panic unwinds could abort).
                        let key = core::mem::ManuallyDrop::new(key);
                        drop(slot);
                        core::mem::ManuallyDrop::into_inner(key)
                    })
                }
                #[inline]
                fn try_reserve<K, V>((): &mut (), _: usize) -> Result<(), TryReserveError> {
                    Ok(())
                }
                #[inline]
                fn undo_reserve<K, V>((): &mut (), (): ()) {}
                #[inline]
                fn side_bytes<K, V>((): &(), len: usize) -> usize {
                    if <$st as InTable>::BOXES {
                        len * core::mem::size_of::<V>()
                    } else {
                        0
                    }
                }
                fn clone_parts<K: Clone, V: Clone>(
                    table: &HashTable<Self::Bucket<K, V>>,
                    (): &(),
                ) -> Parts<Self, K, V> {
                    (table.clone(), ())
                }
                fn clone_table_from<K: Clone, V: Clone>(
                    table: &mut HashTable<Self::Bucket<K, V>>,
                    source: &HashTable<Self::Bucket<K, V>>,
                ) -> bool {
                    table.clone_from(source);
                    true
                }
                fn retain_in_table<K, V>(
                    table: &mut HashTable<Self::Bucket<K, V>>,
                    keep: &mut impl FnMut(&K, &mut V) -> bool,
                ) -> bool {
                    // hashbrown erases a bucket, then drops its pair: the
                    // key, then the value in its slot (in its box, for a
                    // boxed one), as `discard` does.
                    table.retain(|bucket| {
                        let (key, value) = Self::pair_mut(&(), bucket);
                        keep(key, value)
                    });
                    true
                }
                #[inline]
                fn iter<'a, K: 'a, V: 'a>(
                    table: &'a HashTable<Self::Bucket<K, V>>,
                    (): &'a (),
                ) -> Self::Iter<'a, K, V> {
                    $iter {
                        inner: table.iter(),
                    }
                }
                #[inline]
                fn iter_mut<'a, K: 'a, V: 'a>(
                    table: &'a mut HashTable<Self::Bucket<K, V>>,
                    (): &'a mut (),
                ) -> Self::IterMut<'a, K, V> {
                    $iter_mut {
                        inner: table.iter_mut(),
                    }
                }
                #[inline]
                fn into_iter<K, V>(
                    table: HashTable<Self::Bucket<K, V>>,
                    (): (),
                ) -> Self::IntoIter<K, V> {
                    $into_iter {
                        inner: table.into_iter(),
                    }
                }
                #[inline]
                fn drain<'a, K: 'a, V: 'a>(
                    table: &'a mut HashTable<Self::Bucket<K, V>>,
                    (): &'a mut (),
                ) -> Self::Drain<'a, K, V> {
                    $drain {
                        inner: table.drain(),
                    }
                }
                #[inline]
                fn values<'a, K: 'a, V: 'a>(
                    table: &'a HashTable<Self::Bucket<K, V>>,
                    side: &'a (),
                ) -> Self::Values<'a, K, V> {
                    Second(Self::iter(table, side))
                }
                #[inline]
                fn values_mut<'a, K: 'a, V: 'a>(
                    table: &'a mut HashTable<Self::Bucket<K, V>>,
                    side: &'a mut (),
                ) -> Self::ValuesMut<'a, K, V> {
                    Second(Self::iter_mut(table, side))
                }
                #[inline]
                fn into_values<K, V>(
                    table: HashTable<Self::Bucket<K, V>>,
                    side: (),
                ) -> Self::IntoValues<K, V> {
                    Second(Self::into_iter(table, side))
                }

                fn peek_iter_mut<K, V>(iter: &$iter_mut<'_, K, V>, visit: &mut dyn FnMut(&K, &V)) {
                    for bucket in iter.inner.iter() {
                        visit(&bucket.key, <$st as InTable>::get(&bucket.slot));
                    }
                }
                fn peek_into_iter<K, V>(iter: &$into_iter<K, V>, visit: &mut dyn FnMut(&K, &V)) {
                    for bucket in iter.inner.iter() {
                        visit(&bucket.key, <$st as InTable>::get(&bucket.slot));
                    }
                }
                fn peek_drain<K, V>(iter: &$drain<'_, K, V>, visit: &mut dyn FnMut(&K, &V)) {
                    for bucket in iter.inner.iter() {
                        visit(&bucket.key, <$st as InTable>::get(&bucket.slot));
                    }
                }
            }
        };
    }

    in_table_ops!(super::Inline: InlineIter, InlineIterMut, InlineIntoIter, InlineDrain);
    in_table_ops!(super::Boxed: BoxedIter, BoxedIterMut, BoxedIntoIter, BoxedDrain);

    impl StorageOps for super::Pooled {
        type Bucket<K, V> = PoolBucket<K, V>;
        type Side<K, V> = Pool<V>;
        type Reserved = pool::Reserved;
        type Iter<'a, K: 'a, V: 'a> = PoolIter<'a, K, V>;
        type IterMut<'a, K: 'a, V: 'a> = PoolIterMut<'a, K, V>;
        type IntoIter<K, V> = PoolIntoIter<K, V>;
        type Drain<'a, K: 'a, V: 'a> = PoolDrain<'a, K, V>;
        type Values<'a, K: 'a, V: 'a> = pool::Iter<'a, V>;
        type ValuesMut<'a, K: 'a, V: 'a> = pool::IterMut<'a, V>;
        type IntoValues<K, V> = pool::IntoIter<V>;
        #[cfg(feature = "std")]
        type Detached<K, V> = (K, V);

        #[inline]
        fn store<K, V>(side: &mut Pool<V>, key: K, value: V) -> PoolBucket<K, V> {
            PoolBucket {
                key,
                slot: side.insert(value),
            }
        }
        #[inline]
        fn matches<K, V, Q: Equivalent<K> + ?Sized>(bucket: &PoolBucket<K, V>, key: &Q) -> bool {
            key.equivalent(&bucket.key)
        }
        #[inline]
        fn hash<K: Hash, V, S: BuildHasher>(bucket: &PoolBucket<K, V>, hash_builder: &S) -> u64 {
            hash_builder.hash_one(&bucket.key)
        }
        #[inline]
        fn pair<'a, K, V>(side: &'a Pool<V>, bucket: &'a PoolBucket<K, V>) -> (&'a K, &'a V) {
            (&bucket.key, side.get(&bucket.slot))
        }
        #[inline]
        fn pair_mut<'a, K, V>(
            side: &'a Pool<V>,
            bucket: &'a mut PoolBucket<K, V>,
        ) -> (&'a K, &'a mut V) {
            (&bucket.key, side.get_mut(&mut bucket.slot))
        }
        #[inline]
        unsafe fn pair_detached<K, V>(bucket: &PoolBucket<K, V>) -> (&K, &V) {
            // SAFETY: the caller's contract is `PoolSlot::get_detached`'s.
            (&bucket.key, unsafe { bucket.slot.get_detached() })
        }
        #[inline]
        unsafe fn pair_mut_detached<K, V>(bucket: &mut PoolBucket<K, V>) -> (&K, &mut V) {
            // SAFETY: as above, `PoolSlot::get_mut_detached`'s contract.
            (&bucket.key, unsafe { bucket.slot.get_mut_detached() })
        }
        #[inline]
        fn take<K, V>(side: &mut Pool<V>, bucket: PoolBucket<K, V>) -> (K, V) {
            (bucket.key, side.remove(bucket.slot))
        }
        #[cfg(feature = "std")]
        #[inline]
        fn detach<K, V>(side: &mut Pool<V>, bucket: PoolBucket<K, V>) -> (K, V) {
            Self::take(side, bucket)
        }
        #[inline]
        fn discard<K, V>(side: &mut Pool<V>, bucket: PoolBucket<K, V>) {
            let PoolBucket { key, slot } = bucket;
            // The slot is back on the free list first; then the key is
            // dropped, then the value in its slot, even when the key's
            // `Drop` panics (as a pair's drop glue does).
            let value = side.vacate(slot);
            drop(key);
            drop(value);
        }
        #[inline]
        fn next_key<K, V>(iter: &mut PoolIntoIter<K, V>) -> Option<K> {
            let PoolBucket { key, slot } = iter.inner.next()?;
            // If the value's `Drop` panics, the key is leaked, as std's
            // `into_keys` leaks it (dropping it while that panic unwinds
            // could abort).
            let key = core::mem::ManuallyDrop::new(key);
            iter.pool.discard(slot);
            Some(core::mem::ManuallyDrop::into_inner(key))
        }
        #[inline]
        fn try_reserve<K, V>(
            side: &mut Pool<V>,
            additional: usize,
        ) -> Result<pool::Reserved, TryReserveError> {
            side.try_reserve(additional)
        }
        #[inline]
        fn undo_reserve<K, V>(side: &mut Pool<V>, reserved: pool::Reserved) {
            side.undo_reserve(reserved);
        }
        #[inline]
        fn clear<K, V>(side: &mut Pool<V>) {
            side.clear();
        }
        #[inline]
        fn clear_table<K, V>(table: &mut HashTable<PoolBucket<K, V>>, side: &mut Pool<V>) {
            pool::clear_table(table, side);
        }
        #[inline]
        fn drop_entries<K, V>(table: &mut HashTable<PoolBucket<K, V>>, side: &mut Pool<V>) {
            pool::drop_table(table, side);
        }
        #[inline]
        fn shrink_to_fit<K, V>(side: &mut Pool<V>) {
            side.shrink_to_fit();
        }
        #[inline]
        fn shrink_to<K, V>(side: &mut Pool<V>, min_capacity: usize) {
            side.shrink_to(min_capacity);
        }
        #[inline]
        fn side_bytes<K, V>(side: &Pool<V>, _: usize) -> usize {
            side.memory_usage()
        }
        fn clone_parts<K: Clone, V: Clone>(
            table: &HashTable<PoolBucket<K, V>>,
            side: &Pool<V>,
        ) -> Parts<Self, K, V> {
            // A pool most of whose slots were freed is copied entries only
            // (a clone slot for slot would copy and keep every slot it ever
            // handed out). Otherwise the values first, then the table, whose
            // buckets refer to them.
            if side.is_sparse() {
                pool::clone_compact(table, side)
            } else {
                let copy = side.clone();
                let table = pool::clone_table(table, side, &copy);
                (table, copy)
            }
        }
        fn release_unreferenced<'a, K: 'a, V: 'a>(
            side: &mut Pool<V>,
            live: impl Iterator<Item = &'a PoolBucket<K, V>>,
        ) {
            side.release_unreferenced(live.map(|bucket| &bucket.slot));
        }
        #[inline]
        fn iter<'a, K: 'a, V: 'a>(
            table: &'a HashTable<PoolBucket<K, V>>,
            side: &'a Pool<V>,
        ) -> PoolIter<'a, K, V> {
            PoolIter {
                inner: table.iter(),
                side: side.values_ref(),
            }
        }
        #[inline]
        fn iter_mut<'a, K: 'a, V: 'a>(
            table: &'a mut HashTable<PoolBucket<K, V>>,
            side: &'a mut Pool<V>,
        ) -> PoolIterMut<'a, K, V> {
            PoolIterMut {
                inner: table.iter_mut(),
                side: side.values_access(),
            }
        }
        #[inline]
        fn into_iter<K, V>(
            table: HashTable<PoolBucket<K, V>>,
            side: Pool<V>,
        ) -> PoolIntoIter<K, V> {
            PoolIntoIter {
                inner: table.into_iter(),
                pool: side.emptying(),
            }
        }
        #[inline]
        fn drain<'a, K: 'a, V: 'a>(
            table: &'a mut HashTable<PoolBucket<K, V>>,
            side: &'a mut Pool<V>,
        ) -> PoolDrain<'a, K, V> {
            // The pool leaves the map for as long as the drain lives: if
            // the drain is leaked, the map is left empty and consistent.
            PoolDrain {
                inner: table.drain(),
                pool: core::mem::replace(side, Pool::new()).emptying(),
                home: side,
            }
        }
        #[inline]
        fn values<'a, K: 'a, V: 'a>(
            _: &'a HashTable<PoolBucket<K, V>>,
            side: &'a Pool<V>,
        ) -> pool::Iter<'a, V> {
            side.iter()
        }
        #[inline]
        fn values_mut<'a, K: 'a, V: 'a>(
            _: &'a mut HashTable<PoolBucket<K, V>>,
            side: &'a mut Pool<V>,
        ) -> pool::IterMut<'a, V> {
            side.iter_mut()
        }
        #[inline]
        fn into_values<K, V>(
            table: HashTable<PoolBucket<K, V>>,
            side: Pool<V>,
        ) -> pool::IntoIter<V> {
            // The keys go first; the pool owns the values.
            drop(table);
            side.into_values()
        }
        fn peek_iter_mut<K, V>(iter: &PoolIterMut<'_, K, V>, visit: &mut dyn FnMut(&K, &V)) {
            for bucket in iter.inner.iter() {
                visit(&bucket.key, iter.side.get(&bucket.slot));
            }
        }
        fn peek_into_iter<K, V>(iter: &PoolIntoIter<K, V>, visit: &mut dyn FnMut(&K, &V)) {
            for bucket in iter.inner.iter() {
                visit(&bucket.key, iter.pool.get(&bucket.slot));
            }
        }
        fn peek_drain<K, V>(iter: &PoolDrain<'_, K, V>, visit: &mut dyn FnMut(&K, &V)) {
            for bucket in iter.inner.iter() {
                visit(&bucket.key, iter.pool.get(&bucket.slot));
            }
        }
    }

    /// The second half of each pair an iterator yields.
    pub(crate) struct Second<I>(I);

    impl<A, B, I: Iterator<Item = (A, B)>> Iterator for Second<I> {
        type Item = B;

        #[inline]
        fn next(&mut self) -> Option<B> {
            self.0.next().map(|(_, b)| b)
        }

        #[inline]
        fn size_hint(&self) -> (usize, Option<usize>) {
            self.0.size_hint()
        }

        #[inline]
        fn fold<C, F: FnMut(C, B) -> C>(self, init: C, mut f: F) -> C {
            self.0.fold(init, |acc, (_, b)| f(acc, b))
        }
    }

    impl<A, B, I: ExactSizeIterator<Item = (A, B)>> ExactSizeIterator for Second<I> {}

    impl<A, B, I: FusedIterator<Item = (A, B)>> FusedIterator for Second<I> {}

    impl<I: Clone> Clone for Second<I> {
        fn clone(&self) -> Self {
            Second(self.0.clone())
        }
    }

    /// `(&K, &V)` from the pooled table, each value through its pointer.
    pub(crate) struct PoolIter<'a, K, V> {
        inner: hash_table::Iter<'a, PoolBucket<K, V>>,
        side: pool::ValuesRef<'a, V>,
    }

    impl<K, V> Clone for PoolIter<'_, K, V> {
        fn clone(&self) -> Self {
            PoolIter {
                inner: self.inner.clone(),
                side: self.side,
            }
        }
    }

    impl<K, V> Default for PoolIter<'_, K, V> {
        fn default() -> Self {
            PoolIter {
                inner: Default::default(),
                side: pool::ValuesRef::none(),
            }
        }
    }

    impl<K, V> Default for PoolIterMut<'_, K, V> {
        fn default() -> Self {
            PoolIterMut {
                inner: Default::default(),
                side: pool::ValuesMut::none(),
            }
        }
    }

    impl<K, V> Default for PoolIntoIter<K, V> {
        fn default() -> Self {
            PoolIntoIter {
                inner: Default::default(),
                pool: Pool::new().emptying(),
            }
        }
    }

    /// `(&K, &mut V)` from the pooled table. It holds the pool's unique
    /// access, not `&Pool<V>`, so it is `Send` when `K` and `V` are, as
    /// std's `IterMut` is for `V: Send + !Sync`.
    pub(crate) struct PoolIterMut<'a, K, V> {
        inner: hash_table::IterMut<'a, PoolBucket<K, V>>,
        side: pool::ValuesMut<'a, V>,
    }

    /// `(K, V)` out of the pooled table and its pool.
    pub(crate) struct PoolIntoIter<K, V> {
        inner: hash_table::IntoIter<PoolBucket<K, V>>,
        pool: Emptying<V>,
    }

    impl<K, V> Drop for PoolIntoIter<K, V> {
        fn drop(&mut self) {
            // The entries not yielded, key then value, as std's; if a
            // destructor panics, the rest are leaked, as std's are.
            self.pool.drop_entries(&mut self.inner);
        }
    }

    /// `(K, V)` drained from the pooled table; the pool is away from the
    /// map until the drain is dropped.
    pub(crate) struct PoolDrain<'a, K, V> {
        inner: hash_table::Drain<'a, PoolBucket<K, V>>,
        pool: Emptying<V>,
        home: &'a mut Pool<V>,
    }

    impl<K, V> Drop for PoolDrain<'_, K, V> {
        fn drop(&mut self) {
            // The entries not yielded, key then value, as std's. If a
            // destructor panics, the map's pool stays empty and the rest is
            // leaked, as std's is, never dropped twice.
            self.pool.drop_entries(&mut self.inner);
            *self.home = self.pool.finish();
        }
    }

    /// Implements the iterator traits for a pooled-table iterator whose
    /// `next` maps a bucket through `$map`.
    macro_rules! pool_table_iter {
        ($name:ident<$($lt:lifetime,)? K, V>, $item:ty, |$this:ident, $bucket:ident| $map:expr) => {
            impl<$($lt,)? K, V> Iterator for $name<$($lt,)? K, V> {
                type Item = $item;

                #[inline]
                fn next(&mut self) -> Option<$item> {
                    let $this = &mut *self;
                    let $bucket = $this.inner.next()?;
                    Some($map)
                }

                #[inline]
                fn size_hint(&self) -> (usize, Option<usize>) {
                    self.inner.size_hint()
                }
            }

            impl<$($lt,)? K, V> ExactSizeIterator for $name<$($lt,)? K, V> {}

            impl<$($lt,)? K, V> FusedIterator for $name<$($lt,)? K, V> {}
        };
    }

    pool_table_iter!(PoolIter<'a, K, V>, (&'a K, &'a V), |this, bucket| {
        (&bucket.key, this.side.get(&bucket.slot))
    });
    pool_table_iter!(PoolIterMut<'a, K, V>, (&'a K, &'a mut V), |this, bucket| {
        (&bucket.key, this.side.get_mut(&mut bucket.slot))
    });
    pool_table_iter!(PoolIntoIter<K, V>, (K, V), |this, bucket| {
        (bucket.key, this.pool.take(bucket.slot))
    });
    pool_table_iter!(PoolDrain<'a, K, V>, (K, V), |this, bucket| {
        (bucket.key, this.pool.take(bucket.slot))
    });

    /// Defines an iterator over a table or a pool with the map's item type.
    macro_rules! entry_iter {
        (
            $(#[$doc:meta])*
            $name:ident<$($lt:lifetime,)? K, V>
            { $inner:ty } -> $item:ty, |$pat:pat_param| $out:expr
        ) => {
            $(#[$doc])*
            pub(crate) struct $name<$($lt,)? K, V> {
                inner: $inner,
            }

            impl<$($lt,)? K, V> Iterator for $name<$($lt,)? K, V> {
                type Item = $item;

                #[inline]
                fn next(&mut self) -> Option<$item> {
                    self.inner.next().map(|$pat| $out)
                }

                #[inline]
                fn size_hint(&self) -> (usize, Option<usize>) {
                    self.inner.size_hint()
                }

                #[inline]
                fn fold<B, F: FnMut(B, $item) -> B>(self, init: B, mut f: F) -> B {
                    self.inner.fold(init, |acc, $pat| f(acc, $out))
                }
            }

            impl<$($lt,)? K, V> ExactSizeIterator for $name<$($lt,)? K, V> {}

            impl<$($lt,)? K, V> FusedIterator for $name<$($lt,)? K, V> {}

            impl<$($lt,)? K, V> Default for $name<$($lt,)? K, V>
            where
                $inner: Default,
            {
                fn default() -> Self {
                    $name { inner: Default::default() }
                }
            }
        };
    }

    entry_iter!(
        /// `(&K, &V)` from the table.
        InlineIter<'a, K, V> { hash_table::Iter<'a, Pair<K, V>> }
            -> (&'a K, &'a V), |bucket| (&bucket.key, &bucket.slot)
    );
    entry_iter!(
        /// `(&K, &mut V)` from the table.
        InlineIterMut<'a, K, V> { hash_table::IterMut<'a, Pair<K, V>> }
            -> (&'a K, &'a mut V), |bucket| (&bucket.key, &mut bucket.slot)
    );
    entry_iter!(
        /// `(K, V)` out of the table.
        InlineIntoIter<K, V> { hash_table::IntoIter<Pair<K, V>> }
            -> (K, V), |bucket| (bucket.key, bucket.slot)
    );
    entry_iter!(
        /// `(K, V)` drained from the table.
        InlineDrain<'a, K, V> { hash_table::Drain<'a, Pair<K, V>> }
            -> (K, V), |bucket| (bucket.key, bucket.slot)
    );
    entry_iter!(
        /// `(&K, &V)` from the table.
        BoxedIter<'a, K, V> { hash_table::Iter<'a, Pair<K, Box<V>>> }
            -> (&'a K, &'a V), |bucket| (&bucket.key, &*bucket.slot)
    );
    entry_iter!(
        /// `(&K, &mut V)` from the table.
        BoxedIterMut<'a, K, V> { hash_table::IterMut<'a, Pair<K, Box<V>>> }
            -> (&'a K, &'a mut V), |bucket| (&bucket.key, &mut *bucket.slot)
    );
    entry_iter!(
        /// `(K, V)` out of the table.
        BoxedIntoIter<K, V> { hash_table::IntoIter<Pair<K, Box<V>>> }
            -> (K, V), |bucket| (bucket.key, *bucket.slot)
    );
    entry_iter!(
        /// `(K, V)` drained from the table.
        BoxedDrain<'a, K, V> { hash_table::Drain<'a, Pair<K, Box<V>>> }
            -> (K, V), |bucket| (bucket.key, *bucket.slot)
    );
    impl<K, V> Clone for InlineIter<'_, K, V> {
        fn clone(&self) -> Self {
            InlineIter {
                inner: self.inner.clone(),
            }
        }
    }

    impl<K, V> Clone for BoxedIter<'_, K, V> {
        fn clone(&self) -> Self {
            BoxedIter {
                inner: self.inner.clone(),
            }
        }
    }
}

/// The three ways a map can hold its values.
///
/// `Ord` is the order of declaration (inline, boxed, pooled), for sorting
/// and as a key; it is not a ranking of the storages (a tuple of values is
/// stored as the larger of its parts in the order inline < pooled < boxed,
/// [`Storage::Join`]).
///
/// # Examples
///
/// ```
/// use mapstore::{choose, Optimize, StorageKind, ValueLayout};
///
/// assert_eq!(choose(ValueLayout::new(16, 8, false, false), Optimize::Balanced), StorageKind::Inline);
/// assert_eq!(choose(ValueLayout::new(4096, 8, false, false), Optimize::Balanced), StorageKind::Pooled);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StorageKind {
    /// Values live in the hash table's buckets, next to their keys.
    Inline,
    /// Each value lives in its own heap allocation; the table holds a `Box`.
    Boxed,
    /// Values live in a chunked pool that never moves them; the table holds
    /// the key and a pointer to the value's pool slot.
    Pooled,
}

impl StorageKind {
    /// The lowercase name used in `#[map_store(storage = "...")]`.
    ///
    /// ```
    /// assert_eq!(mapstore::StorageKind::Pooled.name(), "pooled");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            StorageKind::Inline => "inline",
            StorageKind::Boxed => "boxed",
            StorageKind::Pooled => "pooled",
        }
    }
}

impl fmt::Display for StorageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A value storage strategy: [`Inline`], [`Boxed`] or [`Pooled`].
///
/// Sealed: it cannot be implemented outside this crate, and its operations
/// (a crate-private supertrait) cannot be called from outside it.
///
/// ```
/// use mapstore::storage::{Pooled, Storage};
/// use mapstore::StorageKind;
///
/// assert_eq!(<Pooled as Storage>::KIND, StorageKind::Pooled);
/// ```
#[allow(private_bounds)]
pub trait Storage: sealed::StorageOps + Sized + Copy + fmt::Debug + Default + 'static {
    /// The run-time name of this storage.
    const KIND: StorageKind;
    /// The storage of a tuple of a value stored as `Self` and one stored as
    /// `Other`: the larger of the two, in the order inline < pooled <
    /// boxed (a tuple, a `Result` or a `ControlFlow` is at least as large
    /// as each of its parts, so it is stored as the largest of them is).
    ///
    /// ```
    /// use mapstore::storage::{Boxed, Inline, Pooled, Storage};
    /// use mapstore::{MapValue, StorageKind};
    ///
    /// assert_eq!(<<Inline as Storage>::Join<Pooled> as Storage>::KIND, StorageKind::Pooled);
    /// assert_eq!(<<Boxed as Storage>::Join<Pooled> as Storage>::KIND, StorageKind::Boxed);
    /// // `(u32, String)`: inline, as both of its parts are.
    /// assert_eq!(<(u32, String) as MapValue>::PLAN.storage, StorageKind::Inline);
    /// ```
    type Join<Other: Storage>: Storage;
    /// `Self` joined with [`Pooled`].
    #[doc(hidden)]
    type JoinPooled: Storage;
    /// The storage of a map of this storage held as a value (maps nest:
    /// `MapStore<K, MapStore<K, V>>`, in generic code too): the policy's
    /// choice for the size of such a map with the default hasher.
    #[doc(hidden)]
    type MapOf: Storage;
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
    type MapOf = <Select<{ kind_of(&crate::impls::INLINE_MAP) }> as Pick>::S;
    type Join<Other: Storage> = Other;
    type JoinPooled = Pooled;
}

impl Storage for Boxed {
    const KIND: StorageKind = StorageKind::Boxed;
    type MapOf = <Select<{ kind_of(&crate::impls::BOXED_MAP) }> as Pick>::S;
    type Join<Other: Storage> = Boxed;
    type JoinPooled = Boxed;
}

impl Storage for Pooled {
    const KIND: StorageKind = StorageKind::Pooled;
    type MapOf = <Select<{ kind_of(&crate::impls::POOLED_MAP) }> as Pick>::S;
    type Join<Other: Storage> = Other::JoinPooled;
    type JoinPooled = Pooled;
}
