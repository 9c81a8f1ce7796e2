//! `MapValue` for the std types people put in maps, and for tuples and
//! arrays of them.
//!
//! The std types are small, so all are stored inline; each plan is still
//! computed by [`Plan::new`] from the real layout, and the tests below check
//! that it names `Inline` too. Types that own heap memory list `"self"` as
//! their heap field.
//!
//! Generic ones are covered where the size does not depend on the
//! parameters (`Vec<T>`, `BTreeMap<K, V>`, `HashMap<K, V>` with std's
//! hasher: a handle to the heap).
//!
//! Tuples of 1 to 8 values take the storage of their components: inline if
//! all are inline, else boxed if one is boxed, else pooled. A tuple is at
//! least as large and as aligned as each component, so it never goes below
//! what the policy would pick for it; it can go above (three `String`s
//! are each inline, 72 bytes of them would be pooled), and then its plan
//! says so. Stable Rust cannot choose a storage from a generic type's size.
//!
//! Arrays `[T; N]` of a primitive number, `bool` or `char`, for `N` from 0
//! to 32 and the powers of two from 64 to 4096, are chosen by the policy
//! like a derived type (one impl per element type and length: a generic
//! `N` cannot choose on stable Rust either). Other arrays: wrap them in a
//! struct and derive, or use [`InlineMap`](crate::InlineMap) and friends,
//! which take any value.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::mem::{align_of, needs_drop, size_of};

use crate::__private::{kind_of, Pick, Select};
use crate::storage::{Inline, Storage};
use crate::{MapValue, Plan};

macro_rules! inline_value {
    ($heap:expr => $($({$($g:ident $(: ?$sized:ident)?),*})? $ty:ty),* $(,)?) => {$(
        impl$(<$($g $(: ?$sized)?),*>)? MapValue for $ty {
            type Storage = Inline;
            const PLAN: Plan = Plan::new(
                stringify!($ty),
                size_of::<Self>(),
                align_of::<Self>(),
                needs_drop::<Self>(),
                $heap,
                None,
            );
        }
    )*};
}

inline_value!(&[] =>
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize,
    f32, f64, bool, char, (),
    Option<u8>, Option<u16>, Option<u32>, Option<u64>, Option<u128>, Option<usize>,
    Option<i8>, Option<i16>, Option<i32>, Option<i64>, Option<i128>, Option<isize>,
    Option<f32>, Option<f64>, Option<bool>, Option<char>,
);

inline_value!(&[] =>
    core::time::Duration, Option<core::time::Duration>, core::cmp::Ordering,
    core::num::NonZeroU8, core::num::NonZeroU16, core::num::NonZeroU32,
    core::num::NonZeroU64, core::num::NonZeroU128, core::num::NonZeroUsize,
    core::num::NonZeroI8, core::num::NonZeroI16, core::num::NonZeroI32,
    core::num::NonZeroI64, core::num::NonZeroI128, core::num::NonZeroIsize,
    core::net::IpAddr, core::net::Ipv4Addr, core::net::Ipv6Addr,
    core::net::SocketAddr, core::net::SocketAddrV4, core::net::SocketAddrV6,
    core::sync::atomic::AtomicBool, core::sync::atomic::AtomicUsize,
    core::sync::atomic::AtomicIsize, core::sync::atomic::AtomicU32,
    core::sync::atomic::AtomicI32,
    {T: ?Sized} core::marker::PhantomData<T>,
);

#[cfg(target_has_atomic = "64")]
inline_value!(&[] => core::sync::atomic::AtomicU64, core::sync::atomic::AtomicI64);

inline_value!(&["self"] =>
    String, Option<String>,
    {T} Vec<T>, {T} Option<Vec<T>>,
    {T: ?Sized} Box<T>, {T: ?Sized} Option<Box<T>>,
    {T: ?Sized} Rc<T>, {T: ?Sized} Option<Rc<T>>,
    {T: ?Sized} Arc<T>, {T: ?Sized} Option<Arc<T>>,
    {T} alloc::collections::VecDeque<T>, {T} alloc::collections::BinaryHeap<T>,
    {T} alloc::collections::LinkedList<T>, {T} alloc::collections::BTreeSet<T>,
    {K, V} alloc::collections::BTreeMap<K, V>,
);

// With std's own hasher (the type's default): the size of a map with
// another hasher depends on that hasher.
#[cfg(feature = "std")]
inline_value!(&["self"] =>
    {K, V} std::collections::HashMap<K, V>, {T} std::collections::HashSet<T>,
    std::path::PathBuf, std::ffi::OsString,
);

#[cfg(feature = "std")]
inline_value!(&[] => std::time::Instant, std::time::SystemTime);

/// Field names of a tuple, as `Plan::heap_fields` lists them.
const TUPLE_FIELDS: [&str; 8] = ["0", "1", "2", "3", "4", "5", "6", "7"];

/// The names of the fields that own heap memory, packed at the front, and
/// how many there are.
const fn heap_names<const N: usize>(owns: [bool; N]) -> ([&'static str; N], usize) {
    let mut names = [""; N];
    let mut count = 0;
    let mut i = 0;
    while i < N {
        if owns[i] {
            names[count] = TUPLE_FIELDS[i];
            count += 1;
        }
        i += 1;
    }
    (names, count)
}

/// The heap fields of a tuple, as a `'static` list.
trait TupleHeap {
    /// The list, padded.
    const PADDED: &'static [&'static str];
    /// How many entries of `PADDED` are names.
    const COUNT: usize;
    /// The fields of the tuple that own heap memory.
    const FIELDS: &'static [&'static str] = Self::PADDED.split_at(Self::COUNT).0;
}

/// The plan of a tuple whose storage was joined from its components':
/// the policy's own plan where it agrees, else a plan that names the joined
/// storage and says why.
const fn tuple_plan<T: MapValue + TupleHeap>(type_name: &'static str) -> Plan {
    let kind = <T::Storage as Storage>::KIND;
    let chosen = Plan::new(
        type_name,
        size_of::<T>(),
        align_of::<T>(),
        needs_drop::<T>(),
        T::FIELDS,
        None,
    );
    if chosen.storage as u8 == kind as u8 {
        return chosen;
    }
    let mut plan = Plan::new(
        type_name,
        size_of::<T>(),
        align_of::<T>(),
        needs_drop::<T>(),
        T::FIELDS,
        Some(kind),
    );
    plan.reason = "a tuple takes its components' storage (the largest: inline < pooled < boxed), as stable Rust cannot choose from a generic tuple's size; derive `MapStore` on a struct for the policy's choice";
    plan
}

macro_rules! tuple_value {
    ($name:literal: $first:ident $(, $rest:ident)*) => {
        impl<$first: MapValue $(, $rest: MapValue)*> TupleHeap for ($first, $($rest,)*) {
            const PADDED: &'static [&'static str] =
                &heap_names([!$first::PLAN.heap_fields.is_empty() $(, !$rest::PLAN.heap_fields.is_empty())*]).0;
            const COUNT: usize =
                heap_names([!$first::PLAN.heap_fields.is_empty() $(, !$rest::PLAN.heap_fields.is_empty())*]).1;
        }

        impl<$first: MapValue $(, $rest: MapValue)*> MapValue for ($first, $($rest,)*) {
            type Storage = tuple_value!(@join $first::Storage $(, $rest::Storage)*);
            const PLAN: Plan = tuple_plan::<Self>($name);
        }
    };
    (@join $last:ty) => { $last };
    (@join $first:ty, $($rest:ty),+) => {
        <$first as Storage>::Join<tuple_value!(@join $($rest),+)>
    };
}

tuple_value!("(A,)": A);
tuple_value!("(A, B)": A, B);
tuple_value!("(A, B, C)": A, B, C);
tuple_value!("(A, B, C, D)": A, B, C, D);
tuple_value!("(A, B, C, D, E)": A, B, C, D, E);
tuple_value!("(A, B, C, D, E, F)": A, B, C, D, E, F);
tuple_value!("(A, B, C, D, E, F, G)": A, B, C, D, E, F, G);
tuple_value!("(A, B, C, D, E, F, G, H)": A, B, C, D, E, F, G, H);

/// `MapValue` for `[T; N]`, for each element type and each length listed:
/// the storage is the policy's, chosen as for a derived type.
macro_rules! array_values {
    ([$($t:ty),*]; $lens:tt) => {$(
        array_values!(@one $t; $lens);
    )*};
    (@one $t:ty; [$($n:literal)*]) => {$(
        const _: () = {
            const PLAN: Plan = Plan::new(
                stringify!([$t; $n]),
                size_of::<[$t; $n]>(),
                align_of::<[$t; $n]>(),
                needs_drop::<[$t; $n]>(),
                &[],
                None,
            );
            #[doc(hidden)]
            impl MapValue for [$t; $n] {
                type Storage = <Select<{ kind_of(&PLAN) }> as Pick>::S;
                const PLAN: Plan = PLAN;
            }
        };
    )*};
}

array_values!(
    [u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64, bool, char];
    [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32
     64 128 256 512 1024 2048 4096]
);

impl<T: ?Sized> MapValue for &T {
    type Storage = Inline;
    const PLAN: Plan = Plan::new(
        "&T",
        size_of::<Self>(),
        align_of::<Self>(),
        false,
        &["self"],
        None,
    );
}

impl<T: ?Sized> MapValue for Option<&T> {
    type Storage = Inline;
    const PLAN: Plan = Plan::new(
        "Option<&T>",
        size_of::<Self>(),
        align_of::<Self>(),
        false,
        &["self"],
        None,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StorageKind;

    fn plan_names_its_storage<V: MapValue>() {
        let plan = V::PLAN;
        assert_eq!(
            plan.storage,
            <V::Storage as crate::storage::Storage>::KIND,
            "{plan}"
        );
        assert_eq!(plan.size, size_of::<V>(), "{plan}");
    }

    #[test]
    fn every_plan_names_the_storage_its_impl_uses() {
        plan_names_its_storage::<u8>();
        plan_names_its_storage::<u128>();
        plan_names_its_storage::<i128>();
        plan_names_its_storage::<Option<u128>>();
        plan_names_its_storage::<Option<char>>();
        plan_names_its_storage::<()>();
        plan_names_its_storage::<String>();
        plan_names_its_storage::<Option<String>>();
        plan_names_its_storage::<Vec<[u8; 4096]>>();
        plan_names_its_storage::<Option<Vec<u8>>>();
        plan_names_its_storage::<Box<[u8]>>();
        plan_names_its_storage::<Option<Box<str>>>();
        plan_names_its_storage::<Rc<[u8; 4096]>>();
        plan_names_its_storage::<Option<Arc<str>>>();
        plan_names_its_storage::<&str>();
        plan_names_its_storage::<Option<&[u64]>>();
        plan_names_its_storage::<core::time::Duration>();
        plan_names_its_storage::<core::net::SocketAddr>();
        plan_names_its_storage::<core::num::NonZeroU128>();
        plan_names_its_storage::<core::sync::atomic::AtomicUsize>();
        plan_names_its_storage::<core::marker::PhantomData<[u8; 4096]>>();
        plan_names_its_storage::<alloc::collections::VecDeque<[u8; 4096]>>();
        plan_names_its_storage::<alloc::collections::BTreeMap<String, [u8; 4096]>>();
        plan_names_its_storage::<alloc::collections::BTreeSet<u8>>();
        plan_names_its_storage::<alloc::collections::BinaryHeap<u8>>();
        plan_names_its_storage::<alloc::collections::LinkedList<u8>>();
        #[cfg(target_has_atomic = "64")]
        plan_names_its_storage::<core::sync::atomic::AtomicU64>();
        #[cfg(feature = "std")]
        {
            plan_names_its_storage::<std::collections::HashMap<String, [u8; 4096]>>();
            plan_names_its_storage::<std::collections::HashSet<u64>>();
            plan_names_its_storage::<std::path::PathBuf>();
            plan_names_its_storage::<std::ffi::OsString>();
            plan_names_its_storage::<std::time::Instant>();
            plan_names_its_storage::<std::time::SystemTime>();
        }
        assert_eq!(<String as MapValue>::PLAN.storage, StorageKind::Inline);
    }
}
