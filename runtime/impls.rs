//! `MapValue` for the std types people put in maps.
//!
//! All of them are small, so all are stored inline; each plan is still
//! computed by [`Plan::new`] from the real layout, and the tests below check
//! that it names `Inline` too. Types that own heap memory list `"self"` as
//! their heap field.
//!
//! Generic ones are covered where the size does not depend on the
//! parameters (`Vec<T>`, `BTreeMap<K, V>`, `HashMap<K, V>` with std's
//! hasher: a handle to the heap). Tuples and arrays are not: their size
//! depends on their element types, and a generic impl cannot choose a
//! storage from it on stable Rust. Wrap them in a struct and derive, or use
//! [`InlineMap`](crate::InlineMap) and friends, which take any value.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::mem::{align_of, needs_drop, size_of};

use crate::storage::Inline;
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
