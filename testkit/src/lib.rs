//! Test and benchmark support for `mapstore`, shared by its integration
//! tests, its benches and the tour. Not published.
//!
//! - [`alloc`]: a counting global allocator ([`alloc::Counting`]) and a
//!   per-thread [`alloc::Meter`] that reads it.
//! - [`per_storage!`]: one `#[test]` per storage for a scenario generic over
//!   `St: Storage`.
//! - [`data`]: keys and values made from an index ([`data::Key`],
//!   [`data::Value`], [`data::Pod`], [`data::Owned`]) and key sets
//!   ([`data::Keys`]).
//! - [`contender`]: one trait over the three storages, `MapStore`, hashbrown's
//!   `HashMap<K, V>` and `HashMap<K, Box<V>>`, `IndexMap` and std's
//!   `HashMap`, plus the timed workloads run on them.
//! - [`race`]: runs contenders interleaved in one process, order rotated
//!   each round, minimum over rounds, with a control entrant (the same code
//!   timed twice) so the noise is visible.
//! - [`linearizable`]: a linearizability checker (Wing and Gong's search
//!   with Lowe's memoisation) for histories recorded on a logical clock,
//!   against a sequential model.

pub mod alloc;
pub mod concurrent;
pub mod contender;
pub mod data;
pub mod linearizable;
pub mod race;

/// The storage markers, for [`per_storage!`]'s expansion.
#[doc(hidden)]
pub mod __storage {
    pub use mapstore::storage::{Boxed, Inline, Pooled};
}

/// One `#[test]` per storage for each scenario `fn name<St: Storage>()`:
/// expands to `mod name { #[test] fn inline() .. fn boxed() .. fn pooled() }`.
///
/// An optional `after { ... }` block runs after each scenario (for example
/// a leak check). Items are looked up from the calling module
/// (`use super::*`).
///
/// ```ignore
/// fn round_trip<St: mapstore::storage::Storage>() { /* ... */ }
/// mapstore_testkit::per_storage!(after { assert_eq!(live(), 0) }; round_trip);
/// mapstore_testkit::per_storage!(round_trip);
/// ```
#[macro_export]
macro_rules! per_storage {
    (after $after:block; $($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn inline() {
                $scenario::<$crate::__storage::Inline>();
                $after
            }

            #[test]
            fn boxed() {
                $scenario::<$crate::__storage::Boxed>();
                $after
            }

            #[test]
            fn pooled() {
                $scenario::<$crate::__storage::Pooled>();
                $after
            }
        }
    )*};
    ($($scenario:ident),* $(,)?) => {
        $crate::per_storage!(after {}; $($scenario),*);
    };
}
