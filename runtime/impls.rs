//! `MapValue` for the std types people put in maps, for wrappers, `Result`s,
//! tuples and arrays of values, and for the crate's own stores.
//!
//! The std types are small, so all are stored inline; each plan is still
//! computed by [`Plan::new`] from the real layout, and the tests below check
//! that it names `Inline` too. Types that own heap memory list `"self"` as
//! their heap field.
//!
//! Generic ones are covered where the size does not depend on the
//! parameters (`Vec<T>`, `BTreeMap<K, V>`, `Cow<[T]>`, `Sender<T>`,
//! `ScopedJoinHandle<T>`: a handle to the heap). std's and hashbrown's
//! `HashMap<K, V, S>` and `HashSet<T, S>` are stored inline with any hasher
//! `S`: their size depends on `S` alone, and the plan says when a hasher is
//! large enough that the policy would store the map otherwise.
//!
//! Wrappers of one value (`Option<T>`, `Cell<T>`, `Mutex<T>`, `LazyLock<T>`,
//! `Cursor<T>`, `BufWriter<W>`, ...) take `T`'s storage and heap fields (a
//! buffered reader or writer lists its buffer). Tuples of 1 to 8 values,
//! `Result<T, E>` and `ControlFlow<B, C>` take the storage of their
//! components: inline if all are inline, else
//! boxed if one is boxed, else pooled. Each of these is at least as large
//! and as aligned as each component, so it never goes below what the policy
//! would pick for it; it can go above (three `String`s are each inline, 72
//! bytes of them would be pooled), and then its plan says so. Stable Rust
//! cannot choose a storage from a generic type's size.
//!
//! The crate's own maps, `FrozenStore` and `ConcurrentStore` (whose impl
//! is in its module), with any hasher, so that maps nest: their size does
//! not depend on `K` or `V`, so the policy chooses from the size of the
//! store of `()`s with the default hasher, as for a derived type.
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

use crate::__private::{kind_of, Chosen, Pick, Select};
use crate::storage::{Inline, Storage};
use crate::{MapValue, Plan};

/// The policy's plan of `T` from its real layout (size, alignment, drop
/// glue from the compiler), with `heap_fields`: what every impl here states
/// unless it takes its storage from its components.
pub(crate) const fn layout_plan<T>(
    type_name: &'static str,
    heap_fields: &'static [&'static str],
) -> Plan {
    Plan::new(
        type_name,
        size_of::<T>(),
        align_of::<T>(),
        needs_drop::<T>(),
        heap_fields,
        None,
    )
}

macro_rules! inline_value {
    ($heap:expr => $($({$($g:ident $(: ?$sized:ident)?),*})? $ty:ty),* $(,)?) => {$(
        impl$(<$($g $(: ?$sized)?),*>)? MapValue for $ty {
            type Storage = Inline;
            const PLAN: Plan = layout_plan::<Self>(stringify!($ty), $heap);
        }
    )*};
}

inline_value!(&[] =>
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize,
    f32, f64, bool, char, (),
);

inline_value!(&[] =>
    core::time::Duration, core::cmp::Ordering,
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
    core::any::TypeId, core::alloc::Layout,
    core::marker::PhantomPinned, core::fmt::Error,
    core::num::ParseIntError, core::num::ParseFloatError,
);

#[cfg(target_has_atomic = "8")]
inline_value!(&[] => core::sync::atomic::AtomicU8, core::sync::atomic::AtomicI8);

#[cfg(target_has_atomic = "16")]
inline_value!(&[] => core::sync::atomic::AtomicU16, core::sync::atomic::AtomicI16);

#[cfg(target_has_atomic = "64")]
inline_value!(&[] => core::sync::atomic::AtomicU64, core::sync::atomic::AtomicI64);

#[cfg(target_has_atomic = "ptr")]
inline_value!(&["self"] => {T} core::sync::atomic::AtomicPtr<T>);

inline_value!(&["self"] =>
    String, alloc::ffi::CString,
    {T} Vec<T>,
    {T: ?Sized} Box<T>,
    {T: ?Sized} Rc<T>, {T: ?Sized} alloc::rc::Weak<T>,
    {T: ?Sized} Arc<T>, {T: ?Sized} alloc::sync::Weak<T>,
    {T} alloc::collections::VecDeque<T>, {T} alloc::collections::BinaryHeap<T>,
    {T} alloc::collections::LinkedList<T>, {T} alloc::collections::BTreeSet<T>,
    {K, V} alloc::collections::BTreeMap<K, V>,
    alloc::string::FromUtf8Error,
);

/// `MapValue` for `Cow`s of the borrowed types std gives an owned form:
/// the owned form is a handle to the heap, so the size does not depend on
/// the contents.
macro_rules! cow_value {
    ($($name:literal: {$($g:ident $(: $bound:path)?),*} $b:ty),* $(,)?) => {$(
        impl<'a, $($g $(: $bound)?),*> MapValue for alloc::borrow::Cow<'a, $b> {
            type Storage = Inline;
            const PLAN: Plan = layout_plan::<Self>($name, &["self"]);
        }
    )*};
}

cow_value!(
    "Cow<str>": {} str,
    "Cow<[T]>": {T: Clone} [T],
    "Cow<CStr>": {} core::ffi::CStr,
);

// Each std-only group of impls below sits in a module of its own
// (`std_values_*`) under `cfg(feature = "std")`: rustdoc marks an impl
// "available on crate feature `std` only" from its module's cfg, not from a
// cfg on the macro invocation that wrote it.
#[cfg(feature = "std")]
mod std_values_1 {
    use super::*;
    cow_value!(
        "Cow<Path>": {} std::path::Path,
        "Cow<OsStr>": {} std::ffi::OsStr,
    );
}

/// Why the plan of a map or set with a large hasher names `Inline`.
const HASHER_REASON: &str = "a map or set of std or hashbrown is stored inline with any hasher (a table handle and the hasher), as stable Rust cannot choose from a generic type's size; derive `MapStore` on a struct around it for the policy's choice";

/// `MapValue` for std's and hashbrown's maps and sets with any hasher `S`:
/// a handle to their table and the hasher, stored inline. Their size
/// depends on `S` alone; where a hasher is large enough that the policy
/// would store the map otherwise, the plan says so.
macro_rules! hashed_value {
    ($($name:literal: {$($g:ident),*} $ty:ty),* $(,)?) => {$(
        impl<$($g,)* S> MapValue for $ty {
            type Storage = Inline;
            const PLAN: Plan = joined_plan::<Self>($name, &["self"], HASHER_REASON);
        }
    )*};
}

hashed_value!(
    "hashbrown::HashMap<K, V, S>": {K, V} hashbrown::HashMap<K, V, S>,
    "hashbrown::HashSet<T, S>": {T} hashbrown::HashSet<T, S>,
);

#[cfg(feature = "std")]
mod std_values_2 {
    use super::*;
    hashed_value!(
        "HashMap<K, V, S>": {K, V} std::collections::HashMap<K, V, S>,
        "HashSet<T, S>": {T} std::collections::HashSet<T, S>,
    );
}

#[cfg(feature = "std")]
mod std_values_3 {
    use super::*;
    inline_value!(&["self"] =>
        std::path::PathBuf, std::ffi::OsString,
        // Channel and thread handles, keyed by a client or a task: each is a
        // handle to shared state, of one size whatever it carries.
        {T} std::sync::mpsc::Sender<T>, {T} std::sync::mpsc::SyncSender<T>,
        {T} std::sync::mpsc::Receiver<T>, {T} std::thread::JoinHandle<T>,
        std::thread::Thread,
    );
}

#[cfg(feature = "std")]
mod std_values_4 {
    use super::*;
    inline_value!(&[] =>
        std::time::Instant, std::time::SystemTime,
        std::hash::RandomState, std::hash::DefaultHasher,
        // Handles to what the OS holds (a descriptor), keyed by a connection
        // or a path: no heap of their own.
        std::fs::File, std::net::TcpStream, std::net::TcpListener, std::net::UdpSocket,
        std::process::Child, std::process::ChildStdin, std::process::ChildStdout,
        std::process::ChildStderr, std::process::ExitStatus,
        std::process::ExitCode, std::process::Stdio,
        // The standard streams: handles to process-wide buffers.
        std::io::Stdin, std::io::Stdout, std::io::Stderr,
    );
}

// Unix sockets and owned descriptors, keyed by a connection or a path.
#[cfg(all(feature = "std", unix))]
mod std_values_5 {
    use super::*;
    inline_value!(&[] =>
        std::os::unix::net::UnixStream, std::os::unix::net::UnixListener,
        std::os::unix::net::UnixDatagram, std::os::fd::OwnedFd,
    );
}

/// A scoped thread's handle: one size whatever the thread returns.
#[cfg(feature = "std")]
impl<T> MapValue for std::thread::ScopedJoinHandle<'_, T> {
    type Storage = Inline;
    const PLAN: Plan = layout_plan::<Self>("ScopedJoinHandle<T>", &["self"]);
}

// An error that may box its payload.
#[cfg(feature = "std")]
mod std_values_6 {
    use super::*;
    inline_value!(&["self"] => std::io::Error);
}

/// `MapValue` for concrete types whose size differs by platform (a file's
/// metadata, a process builder, a barrier): the storage is the policy's,
/// chosen from the type's size as for a derived type.
macro_rules! chosen_value {
    ($heap:expr => $($ty:ty),* $(,)?) => {$(
        const _: () = {
            const PLAN: Plan = layout_plan::<$ty>(stringify!($ty), $heap);
            // Named through `Chosen`, as a derived type's storage: rustdoc
            // shows `<Waker as Chosen>::Storage`.
            impl Chosen for $ty {
                type Storage = <Select<{ kind_of(&PLAN) }> as Pick>::S;
            }
            impl MapValue for $ty {
                type Storage = <Self as Chosen>::Storage;
                const PLAN: Plan = PLAN;
            }
        };
    )*};
}

chosen_value!(&[] => core::convert::Infallible, core::ops::RangeFull);
// A waker keyed by a task id (an executor's map): a data pointer and a
// vtable.
chosen_value!(&["self"] => core::task::Waker);

#[cfg(feature = "std")]
mod std_values_7 {
    use super::*;
    chosen_value!(&[] =>
        std::thread::ThreadId, std::io::ErrorKind, std::net::Shutdown,
        std::sync::Condvar, std::sync::Barrier,
        std::fs::Metadata, std::fs::Permissions, std::fs::FileType,
    );
}

#[cfg(feature = "std")]
mod std_values_8 {
    use super::*;
    chosen_value!(&["self"] =>
        std::process::Command, std::process::Output,
        // A directory's entry holds its name and a handle to the directory.
        std::fs::DirEntry,
    );
}

/// Field names of a tuple, as `Plan::heap_fields` lists them.
const TUPLE_FIELDS: [&str; 8] = ["0", "1", "2", "3", "4", "5", "6", "7"];

/// The names of the fields that own heap memory (`names[i]` where
/// `owns[i]`), packed at the front, and how many there are.
const fn heap_names<const N: usize>(
    owns: [bool; N],
    names: &[&'static str],
) -> ([&'static str; N], usize) {
    let mut packed = [""; N];
    let mut count = 0;
    let mut i = 0;
    while i < N {
        if owns[i] {
            packed[count] = names[i];
            count += 1;
        }
        i += 1;
    }
    (packed, count)
}

/// The heap fields of a tuple or a `Result`, as a `'static` list.
trait JoinedHeap {
    /// The list, padded.
    const PADDED: &'static [&'static str];
    /// How many entries of `PADDED` are names.
    const COUNT: usize;
    /// The fields of the type that own heap memory.
    const FIELDS: &'static [&'static str] = Self::PADDED.split_at(Self::COUNT).0;
}

/// Why a tuple's plan names a storage the policy would not pick.
const TUPLE_REASON: &str = "a tuple takes its components' storage (the largest: inline < pooled < boxed), as stable Rust cannot choose from a generic tuple's size; derive `MapStore` on a struct for the policy's choice";

/// Why a `Result`'s plan names a storage the policy would not pick.
const RESULT_REASON: &str = "a `Result` takes the storage of its `Ok` and `Err` types (the larger: inline < pooled < boxed), as stable Rust cannot choose from a generic type's size; derive `MapStore` on a struct for the policy's choice";

/// Why a `ControlFlow`'s plan names a storage the policy would not pick.
const CONTROL_FLOW_REASON: &str = "a `ControlFlow` takes the storage of its `Break` and `Continue` types (the larger: inline < pooled < boxed), as stable Rust cannot choose from a generic type's size; derive `MapStore` on a struct for the policy's choice";

/// Why a wrapper's plan names a storage the policy would not pick.
const WRAPPER_REASON: &str = "a wrapper (`Option`, `Cell`, `Mutex`, ...) takes its contents' storage, as stable Rust cannot choose from a generic type's size; derive `MapStore` on a struct for the policy's choice";

/// The plan of a type whose storage was taken from its components': the
/// policy's own plan where it agrees, else a plan that names the storage
/// taken and says why (`reason`).
pub(crate) const fn joined_plan<T: MapValue>(
    type_name: &'static str,
    heap_fields: &'static [&'static str],
    reason: &'static str,
) -> Plan {
    let kind = <T::Storage as Storage>::KIND;
    let chosen = layout_plan::<T>(type_name, heap_fields);
    if chosen.storage as u8 == kind as u8 {
        return chosen;
    }
    let mut plan = Plan::new(
        type_name,
        size_of::<T>(),
        align_of::<T>(),
        needs_drop::<T>(),
        heap_fields,
        Some(kind),
    );
    plan.reason = reason;
    plan
}

macro_rules! tuple_value {
    ($name:literal: $first:ident $(, $rest:ident)*) => {
        impl<$first: MapValue $(, $rest: MapValue)*> JoinedHeap for ($first, $($rest,)*) {
            const PADDED: &'static [&'static str] = &heap_names(
                [!$first::PLAN.heap_fields.is_empty() $(, !$rest::PLAN.heap_fields.is_empty())*],
                &TUPLE_FIELDS,
            ).0;
            const COUNT: usize = heap_names(
                [!$first::PLAN.heap_fields.is_empty() $(, !$rest::PLAN.heap_fields.is_empty())*],
                &TUPLE_FIELDS,
            ).1;
        }

        impl<$first: MapValue $(, $rest: MapValue)*> MapValue for ($first, $($rest,)*) {
            type Storage = tuple_value!(@join $first::Storage $(, $rest::Storage)*);
            const PLAN: Plan = joined_plan::<Self>($name, <Self as JoinedHeap>::FIELDS, TUPLE_REASON);
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

impl<T: MapValue, E: MapValue> JoinedHeap for Result<T, E> {
    const PADDED: &'static [&'static str] = &heap_names(
        [
            !T::PLAN.heap_fields.is_empty(),
            !E::PLAN.heap_fields.is_empty(),
        ],
        &["Ok", "Err"],
    )
    .0;
    const COUNT: usize = heap_names(
        [
            !T::PLAN.heap_fields.is_empty(),
            !E::PLAN.heap_fields.is_empty(),
        ],
        &["Ok", "Err"],
    )
    .1;
}

/// A `Result` takes the storage of its two types, as a tuple does: it is
/// at least as large as each.
impl<T: MapValue, E: MapValue> MapValue for Result<T, E> {
    type Storage = <T::Storage as Storage>::Join<E::Storage>;
    const PLAN: Plan =
        joined_plan::<Self>("Result<T, E>", <Self as JoinedHeap>::FIELDS, RESULT_REASON);
}

impl<B: MapValue, C: MapValue> JoinedHeap for core::ops::ControlFlow<B, C> {
    const PADDED: &'static [&'static str] = &heap_names(
        [
            !C::PLAN.heap_fields.is_empty(),
            !B::PLAN.heap_fields.is_empty(),
        ],
        &["Continue", "Break"],
    )
    .0;
    const COUNT: usize = heap_names(
        [
            !C::PLAN.heap_fields.is_empty(),
            !B::PLAN.heap_fields.is_empty(),
        ],
        &["Continue", "Break"],
    )
    .1;
}

/// A `ControlFlow` takes the storage of its two types, as a `Result` does.
impl<B: MapValue, C: MapValue> MapValue for core::ops::ControlFlow<B, C> {
    type Storage = <B::Storage as Storage>::Join<C::Storage>;
    const PLAN: Plan = joined_plan::<Self>(
        "ControlFlow<B, C>",
        <Self as JoinedHeap>::FIELDS,
        CONTROL_FLOW_REASON,
    );
}

/// `MapValue` for types that hold one `T` and little else (`Option<T>`,
/// `Mutex<T>`, ...): `T`'s storage, and `T`'s heap fields. Such a type is at
/// least as large as `T`, so it never goes below what the policy picks for
/// `T`; where the policy would pick more for the wrapper, its plan says so.
macro_rules! wrapper_value {
    ($($name:literal: $ty:ty),* $(,)?) => {$(
        impl<T: MapValue> MapValue for $ty {
            type Storage = T::Storage;
            const PLAN: Plan = joined_plan::<Self>($name, T::PLAN.heap_fields, WRAPPER_REASON);
        }
    )*};
}

wrapper_value!(
    "Option<T>": Option<T>,
    "Cell<T>": core::cell::Cell<T>,
    "RefCell<T>": core::cell::RefCell<T>,
    "OnceCell<T>": core::cell::OnceCell<T>,
    "Wrapping<T>": core::num::Wrapping<T>,
    "Saturating<T>": core::num::Saturating<T>,
    "Reverse<T>": core::cmp::Reverse<T>,
    "Pin<T>": core::pin::Pin<T>,
    // Two `T`s (and a flag): as large as a tuple of them, which takes
    // `T`'s storage too.
    "Range<T>": core::ops::Range<T>,
    "RangeInclusive<T>": core::ops::RangeInclusive<T>,
    "RangeFrom<T>": core::ops::RangeFrom<T>,
    "RangeTo<T>": core::ops::RangeTo<T>,
    "RangeToInclusive<T>": core::ops::RangeToInclusive<T>,
    "Bound<T>": core::ops::Bound<T>,
    "Poll<T>": core::task::Poll<T>,
    "ManuallyDrop<T>": core::mem::ManuallyDrop<T>,
    "UnsafeCell<T>": core::cell::UnsafeCell<T>,
);

#[cfg(feature = "std")]
mod std_values_9 {
    use super::*;
    wrapper_value!(
        "Mutex<T>": std::sync::Mutex<T>,
        "RwLock<T>": std::sync::RwLock<T>,
        "OnceLock<T>": std::sync::OnceLock<T>,
    );
}

#[cfg(feature = "std")]
mod std_values_10 {
    use super::*;
    wrapper_value!("Cursor<T>": std::io::Cursor<T>);
}

/// `MapValue` for a lazily initialized `T` (and its initializer `F`):
/// `T`'s storage and heap fields, as for the wrappers above.
impl<T: MapValue, F> MapValue for core::cell::LazyCell<T, F> {
    type Storage = T::Storage;
    const PLAN: Plan = joined_plan::<Self>("LazyCell<T, F>", T::PLAN.heap_fields, WRAPPER_REASON);
}

/// As for `LazyCell`.
#[cfg(feature = "std")]
impl<T: MapValue, F> MapValue for std::sync::LazyLock<T, F> {
    type Storage = T::Storage;
    const PLAN: Plan = joined_plan::<Self>("LazyLock<T, F>", T::PLAN.heap_fields, WRAPPER_REASON);
}

/// `MapValue` for buffered readers and writers around a value (a file, a
/// socket, a stream: a connection's writer keyed by its id): the inner
/// value's storage, as for a wrapper, and their own buffer on the heap.
macro_rules! buffered_value {
    ($($name:literal: $ty:ident<$g:ident $(: $bound:path)?>),* $(,)?) => {$(
        #[cfg(feature = "std")]
        impl<$g: MapValue $(+ $bound)?> MapValue for std::io::$ty<$g> {
            type Storage = $g::Storage;
            const PLAN: Plan = joined_plan::<Self>($name, &["self"], WRAPPER_REASON);
        }
    )*};
}

buffered_value!(
    "BufReader<R>": BufReader<R>,
    "BufWriter<W>": BufWriter<W: std::io::Write>,
    "LineWriter<W>": LineWriter<W: std::io::Write>,
);

/// The plans of the crate's maps of `()`s with the default hasher, from
/// which each storage's [`Storage::MapOf`] is chosen: a map's size does not
/// depend on `K` or `V` (a table handle, a pool's books, the hasher).
pub(crate) const INLINE_MAP: Plan =
    layout_plan::<crate::InlineMap<(), ()>>("InlineMap<K, V>", &["self"]);
pub(crate) const BOXED_MAP: Plan =
    layout_plan::<crate::BoxedMap<(), ()>>("BoxedMap<K, V>", &["self"]);
pub(crate) const POOLED_MAP: Plan =
    layout_plan::<crate::PooledMap<(), ()>>("PooledMap<K, V>", &["self"]);

/// Why the plan of a map with a hasher larger than the default one may
/// name another storage than the policy's.
const MAP_REASON: &str = "a map held as a value is stored as it would be with the default hasher, as stable Rust cannot choose from a generic type's size; derive `MapStore` on a struct around it for the policy's choice";

// The storage is named through `Chosen`, as a derived type's: rustdoc
// shows `<Map<K, V, St, S> as Chosen>::Storage`, not a hidden item.
impl<K, V, St: Storage, S> Chosen for crate::map::Map<K, V, St, S> {
    type Storage = St::MapOf;
}

/// `MapValue` for the crate's maps, with any storage, key, value and
/// hasher, so that maps nest (`MapStore<String, MapStore<String, u32>>`),
/// in generic code over `V: MapValue` too: the storage is the policy's
/// choice for the size of a map of that storage with the default hasher.
impl<K, V, St: Storage, S> MapValue for crate::map::Map<K, V, St, S> {
    type Storage = <Self as Chosen>::Storage;
    const PLAN: Plan = joined_plan::<Self>(
        match St::KIND {
            crate::StorageKind::Inline => INLINE_MAP.type_name,
            crate::StorageKind::Boxed => BOXED_MAP.type_name,
            crate::StorageKind::Pooled => POOLED_MAP.type_name,
        },
        &["self"],
        MAP_REASON,
    );
}

/// Why the plan of a store with a hasher larger than the default names the
/// storage the default hasher's store takes.
pub(crate) const STORE_REASON: &str = "a store held as a value is stored as it would be with the default hasher, as stable Rust cannot choose from a generic type's size; derive `MapStore` on a struct around it for the policy's choice";

/// `MapValue` for `FrozenStore` with any hasher: its size does not depend
/// on `K` or `V`, so the policy chooses from the size of the store of `()`s
/// with the default hasher, as for a derived type; where another hasher
/// makes the store large enough that the policy would choose otherwise, the
/// plan says so.
const _: () = {
    const STANDIN: Plan = layout_plan::<crate::FrozenStore<(), ()>>("FrozenStore<K, V>", &["self"]);
    impl<K, V, S> Chosen for crate::FrozenStore<K, V, S> {
        type Storage = <Select<{ kind_of(&STANDIN) }> as Pick>::S;
    }
    impl<K, V, S> MapValue for crate::FrozenStore<K, V, S> {
        type Storage = <Self as Chosen>::Storage;
        const PLAN: Plan = joined_plan::<Self>("FrozenStore<K, V>", &["self"], STORE_REASON);
    }
};

/// `MapValue` for `[T; N]`, for each element type and each length listed:
/// the storage is the policy's, chosen as for a derived type.
macro_rules! array_values {
    ([$($t:ty),*]; $lens:tt) => {$(
        array_values!(@one $t; $lens);
    )*};
    (@one $t:ty; [$($n:literal)*]) => {$(
        const _: () = {
            const PLAN: Plan = layout_plan::<[$t; $n]>(stringify!([$t; $n]), &[]);
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

/// `MapValue` for references and pointers: a word, or two for a pointer to
/// an unsized type, stored inline.
macro_rules! pointer_value {
    ($($name:literal: $ty:ty),* $(,)?) => {$(
        impl<T: ?Sized> MapValue for $ty {
            type Storage = Inline;
            const PLAN: Plan = Plan::new(
                $name,
                size_of::<Self>(),
                align_of::<Self>(),
                false,
                &["self"],
                None,
            );
        }
    )*};
}

pointer_value!(
    "&T": &T,
    "&mut T": &mut T,
    "*const T": *const T,
    "*mut T": *mut T,
    "NonNull<T>": core::ptr::NonNull<T>,
);

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
        plan_names_its_storage::<&mut [u64]>();
        plan_names_its_storage::<core::task::Waker>();
        plan_names_its_storage::<core::convert::Infallible>();
        plan_names_its_storage::<core::ops::Bound<String>>();
        plan_names_its_storage::<core::task::Poll<[u8; 4096]>>();
        plan_names_its_storage::<core::mem::ManuallyDrop<u64>>();
        plan_names_its_storage::<core::cell::UnsafeCell<Vec<u8>>>();
        plan_names_its_storage::<core::ops::RangeFrom<u32>>();
        plan_names_its_storage::<*const u8>();
        plan_names_its_storage::<*mut str>();
        plan_names_its_storage::<core::ptr::NonNull<[u8; 4096]>>();
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
            plan_names_its_storage::<std::thread::ThreadId>();
            plan_names_its_storage::<std::io::ErrorKind>();
            plan_names_its_storage::<std::fs::Metadata>();
            plan_names_its_storage::<std::process::Command>();
            plan_names_its_storage::<std::sync::Barrier>();
            plan_names_its_storage::<std::time::SystemTime>();
        }
        assert_eq!(<String as MapValue>::PLAN.storage, StorageKind::Inline);
    }

    #[test]
    fn wrappers_results_cows_and_stores_are_values() {
        plan_names_its_storage::<Option<[u8; 4096]>>();
        plan_names_its_storage::<Option<[u8; 32]>>();
        plan_names_its_storage::<Option<(u8, [u64; 6])>>();
        plan_names_its_storage::<Result<u32, String>>();
        plan_names_its_storage::<Result<[u8; 4096], ()>>();
        plan_names_its_storage::<core::cell::Cell<u64>>();
        plan_names_its_storage::<core::cell::RefCell<[u8; 64]>>();
        plan_names_its_storage::<core::num::Wrapping<u32>>();
        plan_names_its_storage::<core::cmp::Reverse<String>>();
        plan_names_its_storage::<core::pin::Pin<Box<u8>>>();
        plan_names_its_storage::<core::ops::Range<usize>>();
        plan_names_its_storage::<core::ops::RangeInclusive<[u8; 4096]>>();
        plan_names_its_storage::<core::any::TypeId>();
        plan_names_its_storage::<alloc::borrow::Cow<'static, str>>();
        plan_names_its_storage::<alloc::borrow::Cow<'static, [String]>>();
        plan_names_its_storage::<alloc::ffi::CString>();
        plan_names_its_storage::<alloc::rc::Weak<str>>();
        plan_names_its_storage::<alloc::sync::Weak<[u8; 4096]>>();
        plan_names_its_storage::<hashbrown::HashMap<String, [u8; 4096], crate::DefaultHashBuilder>>(
        );
        plan_names_its_storage::<crate::InlineMap<u8, u8>>();
        plan_names_its_storage::<crate::BoxedMap<String, [u8; 4096]>>();
        plan_names_its_storage::<crate::PooledMap<u64, String>>();
        plan_names_its_storage::<crate::FrozenStore<String, [u8; 4096]>>();
        #[cfg(feature = "std")]
        {
            plan_names_its_storage::<std::sync::Mutex<Vec<u8>>>();
            plan_names_its_storage::<std::sync::RwLock<[u8; 4096]>>();
            plan_names_its_storage::<std::sync::mpsc::Sender<[u8; 4096]>>();
            plan_names_its_storage::<std::thread::JoinHandle<String>>();
            plan_names_its_storage::<std::net::TcpStream>();
            plan_names_its_storage::<std::fs::File>();
            plan_names_its_storage::<std::io::Error>();
            plan_names_its_storage::<std::hash::RandomState>();
            plan_names_its_storage::<alloc::borrow::Cow<'static, std::path::Path>>();
        }
        // A wrapper takes its contents' storage and heap fields; a `Result`
        // and a tuple name the fields that own heap memory.
        assert_eq!(
            <Option<[u8; 4096]> as MapValue>::PLAN.storage,
            StorageKind::Pooled
        );
        assert_eq!(<Option<String> as MapValue>::PLAN.heap_fields, ["self"]);
        assert!(<Option<u64> as MapValue>::PLAN.heap_fields.is_empty());
        assert_eq!(<Result<u32, String> as MapValue>::PLAN.heap_fields, ["Err"]);
        assert_eq!(
            <Result<String, Vec<u8>> as MapValue>::PLAN.heap_fields,
            ["Ok", "Err"]
        );
        assert_eq!(
            <(u8, String, u8, Vec<u8>) as MapValue>::PLAN.heap_fields,
            ["1", "3"]
        );
        // `Option<[u8; 32]>` (33 bytes) is inline as the policy would have
        // it; `Option<(u8, [u64; 6])>` (64 bytes) is over the inline limit,
        // takes its contents' inline storage, and its plan says why.
        let plan = <Option<[u8; 32]> as MapValue>::PLAN;
        assert!(!plan.forced, "{plan}");
        let plan = <Option<(u8, [u64; 6])> as MapValue>::PLAN;
        assert_eq!(plan.storage, StorageKind::Inline);
        assert!(plan.forced, "{plan}");
        assert!(plan.reason.contains("wrapper"), "{plan}");
    }

    #[test]
    fn more_std_values_name_their_storage() {
        plan_names_its_storage::<core::marker::PhantomPinned>();
        plan_names_its_storage::<core::fmt::Error>();
        plan_names_its_storage::<core::num::ParseIntError>();
        plan_names_its_storage::<core::num::ParseFloatError>();
        plan_names_its_storage::<alloc::string::FromUtf8Error>();
        plan_names_its_storage::<core::ops::ControlFlow<u8>>();
        plan_names_its_storage::<core::ops::ControlFlow<[u8; 4096], String>>();
        plan_names_its_storage::<core::cell::LazyCell<[u8; 4096]>>();
        plan_names_its_storage::<core::cell::LazyCell<u64, fn() -> u64>>();
        plan_names_its_storage::<hashbrown::HashMap<u8, u8, [u8; 4096]>>();
        assert_eq!(
            <core::ops::ControlFlow<[u8; 4096], String> as MapValue>::PLAN.heap_fields,
            ["Continue"]
        );
        // A map with a huge hasher is inline, and its plan says why.
        let plan = <hashbrown::HashMap<u8, u8, [u8; 4096]> as MapValue>::PLAN;
        assert_eq!(plan.storage, StorageKind::Inline);
        assert!(plan.forced && plan.reason.contains("hasher"), "{plan}");
        let plan = <hashbrown::HashMap<u8, u8> as MapValue>::PLAN;
        assert!(!plan.forced, "{plan}");
        #[cfg(feature = "std")]
        {
            use std::io::{BufReader, BufWriter, Cursor, LineWriter};
            plan_names_its_storage::<std::collections::HashMap<u8, u8>>();
            plan_names_its_storage::<std::collections::HashMap<u8, u8, crate::DefaultHashBuilder>>(
            );
            plan_names_its_storage::<std::collections::HashSet<u8, [u64; 512]>>();
            plan_names_its_storage::<BufWriter<std::fs::File>>();
            plan_names_its_storage::<BufReader<std::net::TcpStream>>();
            plan_names_its_storage::<LineWriter<std::io::Stdout>>();
            plan_names_its_storage::<BufWriter<Vec<u8>>>();
            plan_names_its_storage::<Cursor<Vec<u8>>>();
            plan_names_its_storage::<Cursor<[u8; 4096]>>();
            plan_names_its_storage::<std::fs::DirEntry>();
            plan_names_its_storage::<std::io::Stdin>();
            plan_names_its_storage::<std::io::Stdout>();
            plan_names_its_storage::<std::io::Stderr>();
            plan_names_its_storage::<std::sync::LazyLock<String>>();
            plan_names_its_storage::<std::sync::OnceLock<u64>>();
            plan_names_its_storage::<core::cell::OnceCell<u64>>();
            plan_names_its_storage::<std::thread::ScopedJoinHandle<'static, [u8; 4096]>>();
            plan_names_its_storage::<std::process::Stdio>();
            plan_names_its_storage::<std::process::ExitCode>();
            plan_names_its_storage::<std::process::ExitStatus>();
            plan_names_its_storage::<std::path::PathBuf>();
            plan_names_its_storage::<Box<std::path::Path>>();
            plan_names_its_storage::<std::ffi::OsString>();
            plan_names_its_storage::<std::time::Duration>();
            assert_eq!(
                <BufWriter<std::fs::File> as MapValue>::PLAN.heap_fields,
                ["self"]
            );
            assert_eq!(
                <Cursor<[u8; 4096]> as MapValue>::PLAN.storage,
                StorageKind::Pooled
            );
        }
        #[cfg(all(feature = "std", unix))]
        {
            plan_names_its_storage::<std::os::unix::net::UnixStream>();
            plan_names_its_storage::<std::os::unix::net::UnixListener>();
            plan_names_its_storage::<std::os::unix::net::UnixDatagram>();
            plan_names_its_storage::<std::os::fd::OwnedFd>();
        }
    }

    /// The stores' plans are chosen from the store of `()`s: right only
    /// while their size does not depend on `K` and `V`.
    #[test]
    fn a_store_is_the_same_size_whatever_it_holds() {
        fn same<A, B>() {
            let name = core::any::type_name::<B>();
            assert_eq!(size_of::<A>(), size_of::<B>(), "{name}");
            assert_eq!(align_of::<A>(), align_of::<B>(), "{name}");
        }
        same::<crate::InlineMap<(), ()>, crate::InlineMap<String, [u8; 4096]>>();
        same::<crate::BoxedMap<(), ()>, crate::BoxedMap<u8, [u64; 512]>>();
        same::<crate::PooledMap<(), ()>, crate::PooledMap<[u8; 100], String>>();
        same::<crate::FrozenStore<(), ()>, crate::FrozenStore<String, [u8; 4096]>>();
    }

    /// A hasher large enough that the policy would box a store holding it
    /// (64 KiB: the box limit), where with the default hasher it pools it:
    /// FNV-1a, seeded by its first word.
    #[derive(Clone)]
    struct LargeHasher([u64; 8192]);

    impl Default for LargeHasher {
        fn default() -> Self {
            LargeHasher([0xcbf2_9ce4_8422_2325; 8192])
        }
    }

    struct Fnv(u64);

    impl core::hash::Hasher for Fnv {
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        fn finish(&self) -> u64 {
            self.0
        }
    }

    impl core::hash::BuildHasher for LargeHasher {
        type Hasher = Fnv;
        fn build_hasher(&self) -> Fnv {
            Fnv(self.0[0])
        }
    }

    /// Stores with any hasher are values, as the crate's maps and std's are
    /// (`MapStore<K, FrozenStore<K2, V2, S>>` in code generic over `S`); a
    /// hasher that makes the store large keeps the default hasher's storage,
    /// and the plan says so.
    #[test]
    fn stores_with_any_hasher_are_values() {
        fn nest<S: core::hash::BuildHasher + Default>(
        ) -> crate::MapStore<u8, crate::FrozenStore<u8, u8, S>> {
            let mut outer = crate::MapStore::new();
            let pairs = (0..=255u8).map(|k| (k, k.wrapping_mul(3)));
            outer.insert(
                7,
                crate::FrozenStore::from_iter_with_hasher(pairs, S::default()),
            );
            outer
        }
        let default = nest::<crate::DefaultHashBuilder>();
        assert!((0..=255u8).all(|k| default[&7][&k] == k.wrapping_mul(3)));
        let large = nest::<LargeHasher>();
        assert!((0..=255u8).all(|k| large[&7][&k] == k.wrapping_mul(3)));

        let default = <crate::FrozenStore<u8, u8> as MapValue>::PLAN;
        let large = <crate::FrozenStore<u8, u8, LargeHasher> as MapValue>::PLAN;
        assert!(!default.forced, "{default}");
        assert_eq!(large.storage, default.storage, "{large}");
        assert!(large.forced, "{large}");
        assert_eq!(large.reason, STORE_REASON);
        assert_eq!(large.chosen(), StorageKind::Boxed, "{large}");
        assert_eq!(
            large.size,
            size_of::<crate::FrozenStore<u8, u8, LargeHasher>>()
        );
        plan_names_its_storage::<crate::FrozenStore<u8, u8, LargeHasher>>();
        #[cfg(feature = "std")]
        {
            type Shared<S> = crate::ConcurrentStore<u8, u8, S>;
            let mut outer: crate::MapStore<u8, Shared<std::hash::RandomState>> =
                crate::MapStore::new();
            outer.entry(7).or_default().insert(1, 2);
            assert_eq!(outer[&7].read(&1, |v| *v), Some(2));
            let default = <Shared<crate::DefaultHashBuilder> as MapValue>::PLAN;
            let large = <Shared<LargeHasher> as MapValue>::PLAN;
            assert!(!default.forced, "{default}");
            assert_eq!(large.storage, default.storage, "{large}");
            assert!(large.forced, "{large}");
            assert_eq!(large.reason, STORE_REASON);
            assert_eq!(large.chosen(), StorageKind::Boxed, "{large}");
            plan_names_its_storage::<Shared<std::hash::RandomState>>();
            plan_names_its_storage::<Shared<LargeHasher>>();
        }
    }
}
