//! [`FrozenStore`]: a map built once, then only read.
//!
//! A frozen store knows its exact key set when it is built, so it needs no
//! empty buckets, no tombstones and no growth. It picks its layout then, from
//! `K`'s and `V`'s sizes and the exact number of entries `N`:
//!
//! - **index**: a linear scan for at most [`FrozenPlan::SCAN_MAX`] entries
//!   (no hashing at all); otherwise a minimal perfect hash in the style of
//!   PtrHash: the user's 64-bit hash (conditioned by a mixer unless the
//!   build found it spread well as it is) picks a bucket of 1.5
//!   to 3 keys by its low bits; the bucket's 8-bit pilot picks one of 256
//!   fixed offsets, added to the hash's high bits and scaled by a
//!   multiply-high to `0..N + N/128`: the slot. The key is compared in place
//!   in the entry array. The 0.8% of keys that the search put on one of the
//!   `N/128` spare slots past the entries are stored in the slots left free
//!   below `N`, and a probe that lands on a spare slot reads a small remap
//!   table where the entry's bounds check fails (no branch more on other
//!   lookups). The 0.05% of keys whose bucket no pilot placed take free
//!   slots too and are found, after their probe fails, in a small sorted
//!   overflow table. Only keys whose full 64-bit
//!   hashes collide (a constant or weak hasher) take the fallback layout,
//!   sorted by hash and searched by binary search: correct, not fast.
//! - **entries**: `(K, V)` pairs inline in one dense array when the value is
//!   at most [`FrozenPlan::APART_ABOVE`] bytes (the key and the start of its
//!   value share a cache line); keys in one dense array and values apart in
//!   another, in the same order, for larger values (the key array stays
//!   small, `keys()` and `values()` walk dense slices), each value with
//!   eight bytes beside it so that the array's stride is never a large
//!   power of two (1 KiB values read at random otherwise crowd into a
//!   sixteenth of the cache sets).
//! - **fingerprints**: for keys with drop glue (comparing them reads their
//!   heap) and where the array a miss compares in (the entries, or the keys
//!   when values live apart) is larger than 16 MiB (its load would miss the
//!   last-level cache), one byte of the hash per slot, so a miss is
//!   rejected after touching only the pilots and the fingerprints.
//! - **hashing**: the store's hasher, or for string-like keys whose `Hash`
//!   streams average more than 16 bytes, a 16-byte window of the stream
//!   (first or last) and its length, where that tells the keys apart.
//!
//! [`FrozenStore::plan`] shows what was picked and why; `docs/frozen.md`
//! has the measurements.

#![forbid(unsafe_code)]

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::iter::FusedIterator;
use core::mem::size_of;
use core::ops::Index;
use core::panic::{RefUnwindSafe, UnwindSafe};
use core::slice;

use hashbrown::{DefaultHashBuilder, Equivalent};

use crate::map::Map;
use crate::storage::Storage;

/// At most this many keys per bucket on average (PtrHash's λ): the bucket
/// count is the power of two at or above `N / LAMBDA`, so λ is 1 to 2.
const LAMBDA: usize = 2;
/// Seeds tried: each conditions every hash anew (see [`condition`]). A seed
/// is kept unless more than [`overflow_max`] keys land in the overflow; the
/// last is kept whatever its overflow (lookups stay correct).
const ATTEMPTS: u64 = 8;
/// Spare slots: the search places keys on `slots(n) = n + n / 2^SPARE_SHIFT`
/// slots (0.8% more than keys), so that the last buckets, placed when few
/// slots are free, still find one in a few tries. The keys that land past
/// `n` are moved to the slots left free below it, through a small remap
/// table that a lookup reads only where its probe lands on a spare slot
/// (where the entry's bounds check fails; see [`SlotsOps::pair_get`]).
const SPARE_SHIFT: u32 = 7;

/// The slots the search places `n` keys on.
#[inline(always)]
fn slots(n: usize) -> usize {
    n + (n >> SPARE_SHIFT)
}

/// The slot that the key on spare slot `s` (at least `n`) was moved to:
/// `moved[s - n]`; 0 for a spare slot no key took (a lookup that lands
/// there compares the key at 0, which fails unless it is that key) and
/// past `moved` (an empty `moved`: no spare slots).
#[inline]
fn moved_to(moved: &[u32], s: usize, n: usize) -> usize {
    moved.get(s.wrapping_sub(n)).map_or(0, |&r| r as usize)
}

/// The pilot that marks a bucket whose keys are in the overflow.
const OVERFLOW: u8 = u8::MAX;
/// Pilots a bucket may take: `0..PILOTS` (all but [`OVERFLOW`]).
const PILOTS: usize = OVERFLOW as usize;
/// An odd multiplier of the window hashes (from splitmix64's finalizer).
const MIX_HASH: u64 = 0x94d0_49bb_1331_11eb;

/// The user's 64-bit hash, conditioned before it picks a bucket and a slot:
/// the folded product (the 128-bit product's halves xored) of two seeded
/// copies of the hash, `(x ^ seed) * (x ^ seed')`, a product of the hash
/// with itself. Structured hashes (an identity hasher's small integers,
/// keys that differ only in high or low bits, a fast hasher's sequential
/// outputs) otherwise crowd into a few buckets or give every bucket the
/// same rigid shape of slots, and the search then jams. A folded multiply
/// by a constant, used first, left such keys on a lattice (the product is
/// linear in the hash): under an identity hasher `i << 44` kept 33 503 of
/// 100 000 keys in the overflow after five seeds, `i << 32` at N = 1 000
/// 180 after all eight. MurmurHash3's finalizer (two multiplies, three
/// xor-shifts), used next, placed every such set at the first seed but
/// cost every lookup of a conditioned store about 13 cycles of dependent
/// work; this product places them as well (the same sets, first seed,
/// 0-6 keys over at 1e3 and 43-52 at 1e5) in about 6, as foldhash's own
/// hash of a `u64` takes: hits of `0..1000` under an identity hasher 2.75
/// -> 2.1 ns (hashbrown with foldhash: 1.8). Not bijective, but two hashes
/// meet only where a 64-bit product's halves collide, and keys that do
/// still meet in the overflow, compared there.
#[inline]
fn condition(hash: u64, seed: u64) -> u64 {
    let a = hash ^ seed;
    let b = hash ^ seed.rotate_left(32) ^ MIX_HASH;
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

// ---------------------------------------------------------------------------
// Storage of the entries

/// The entries' arrays, in slot order: `(K, V)` pairs inline (`.0`), or
/// keys (`.1`) and values (`.2`) apart. Which one is a constant of `V`
/// ([`SlotsOps::APART`]), so a lookup's choice costs nothing at run time
/// (no discriminant to test: the other arrays are empty boxes, which
/// allocate nothing). A tuple of std types, not a struct of this module:
/// the compiler's error for a `FrozenStore` of a value that is not `Send`
/// then names only std's types and `FrozenStore`.
type Slots<K, V> = (Box<[(K, V)]>, Box<[K]>, Box<[Padded<V>]>);

/// A value kept apart, with eight bytes beside it: the array's stride is
/// then never a multiple of a large power of two. Values of 256 or 1024
/// bytes in a plain array sit at addresses that repeat modulo 4 KiB every
/// 16 or 4 entries, so random reads of them crowd into a sixteenth or a
/// quarter of the cache's sets and evict each other: at N = 1e5, `u64` keys
/// with 1 KiB values took 20.9 ns per hit against hashbrown's 10.2, and
/// 7.1-7.3 against 8.8-10.1 with a 1032-byte stride (hashbrown's own
/// entries, `(u64, [u8; 1024])`, are 1032 bytes). The pad costs at most
/// `max(8, align_of::<V>())` bytes per entry; the value comes first in
/// memory or second as the compiler lays the tuple out, and is reached as
/// `.0`.
type Padded<V> = (V, u64);

/// [`Slots`] borrowed (see [`SlotsOps::view`]).
type View<'a, K, V> = Entries<&'a [(K, V)], &'a [K], &'a [Padded<V>]>;

/// [`Slots`] borrowed with mutable values (see [`SlotsOps::view_mut`]).
type ViewMut<'a, K, V> = Entries<&'a mut [(K, V)], &'a [K], &'a mut [Padded<V>]>;

/// What the entries' arrays do (see [`Slots`]).
trait SlotsOps<K, V>: Sized {
    /// Whether values live apart from their keys: values over
    /// [`FrozenPlan::APART_ABOVE`] bytes.
    const APART: bool;
    fn from_parts(pairs: Vec<(K, V)>, keys: Vec<K>, values: Vec<Padded<V>>) -> Self;
    fn new(pairs: Vec<(K, V)>) -> Self;
    /// `items[src[s]]` at slot `s`; see [`gather`].
    fn gathered(items: Vec<Item<K, V>>, src: &[u32]) -> Self;
    fn view(&self) -> View<'_, K, V>;
    fn view_mut(&mut self) -> ViewMut<'_, K, V>;
    fn len(&self) -> usize;
    fn key(&self, i: usize) -> &K;
    /// The entry a probe of slot `i` reads if its key is `key`: the entry
    /// at `i`, or past the entries (a spare slot, see [`SPARE_SHIFT`]) the
    /// one `moved` says its key went to.
    fn pair_if<Q: Equivalent<K> + ?Sized>(
        &self,
        i: usize,
        key: &Q,
        moved: &[u32],
    ) -> Option<(&K, &V)>;
    /// The entry a probe of slot `i` reads, if there is one.
    fn pair_get(&self, i: usize, moved: &[u32]) -> Option<(&K, &V)>;
    fn pair(&self, i: usize) -> (&K, &V);
    fn value_mut(&mut self, i: usize) -> &mut V;
    fn bytes(&self) -> usize;
}

/// A view of [`Slots`]: `Inline(pairs)` or `Apart(keys, values)`, borrowed
/// or owned. Built from a constant, so a `match` on it folds away.
enum Entries<P, KS, VS> {
    Inline(P),
    Apart(KS, VS),
}

impl<K, V> SlotsOps<K, V> for Slots<K, V> {
    const APART: bool = size_of::<V>() > FrozenPlan::APART_ABOVE;

    fn from_parts(pairs: Vec<(K, V)>, keys: Vec<K>, values: Vec<Padded<V>>) -> Self {
        (
            pairs.into_boxed_slice(),
            keys.into_boxed_slice(),
            values.into_boxed_slice(),
        )
    }

    fn new(pairs: Vec<(K, V)>) -> Self {
        if Self::APART {
            let (keys, values): (Vec<K>, Vec<Padded<V>>) =
                pairs.into_iter().map(|(k, v)| (k, (v, 0))).unzip();
            Self::from_parts(Vec::new(), keys, values)
        } else {
            Self::from_parts(pairs, Vec::new(), Vec::new())
        }
    }

    fn gathered(items: Vec<Item<K, V>>, src: &[u32]) -> Self {
        if Self::APART {
            let (keys, values) = gather_apart(items, src);
            Self::from_parts(Vec::new(), keys, values)
        } else {
            Self::from_parts(gather(items, src), Vec::new(), Vec::new())
        }
    }

    #[inline(always)]
    fn view(&self) -> View<'_, K, V> {
        if Self::APART {
            Entries::Apart(&self.1, &self.2)
        } else {
            Entries::Inline(&self.0)
        }
    }

    #[inline(always)]
    fn view_mut(&mut self) -> ViewMut<'_, K, V> {
        if Self::APART {
            Entries::Apart(&self.1, &mut self.2)
        } else {
            Entries::Inline(&mut self.0)
        }
    }

    #[inline]
    fn len(&self) -> usize {
        match self.view() {
            Entries::Inline(e) => e.len(),
            Entries::Apart(k, _) => k.len(),
        }
    }

    #[inline]
    fn key(&self, i: usize) -> &K {
        match self.view() {
            Entries::Inline(e) => &e[i].0,
            Entries::Apart(k, _) => &k[i],
        }
    }

    /// The entry a probe of slot `i` reads if its key is `key`: the entry
    /// at `i`, or past the entries (a spare slot, see [`SPARE_SHIFT`]) the
    /// one `moved` says its key went to. The spare slot's lookup sits where
    /// the entry's bounds check fails, so a probe below `len` tests `i`
    /// once, as a plain bounds check would.
    #[inline(always)]
    fn pair_if<Q: Equivalent<K> + ?Sized>(
        &self,
        i: usize,
        key: &Q,
        moved: &[u32],
    ) -> Option<(&K, &V)> {
        let (k, v) = self.pair_get(i, moved)?;
        key.equivalent(k).then_some((k, v))
    }

    /// The entry a probe of slot `i` reads (see [`pair_if`](SlotsOps::pair_if)),
    /// if there is one.
    #[inline(always)]
    fn pair_get(&self, i: usize, moved: &[u32]) -> Option<(&K, &V)> {
        match self.view() {
            Entries::Inline(e) => match e.get(i) {
                Some((k, v)) => Some((k, v)),
                None => e.get(moved_to(moved, i, e.len())).map(|(k, v)| (k, v)),
            },
            Entries::Apart(k, v) => match (k.get(i), v.get(i)) {
                (Some(k), Some((v, _))) => Some((k, v)),
                _ => {
                    let i = moved_to(moved, i, k.len());
                    Some((k.get(i)?, &v.get(i)?.0))
                }
            },
        }
    }

    #[inline]
    fn pair(&self, i: usize) -> (&K, &V) {
        match self.view() {
            Entries::Inline(e) => {
                let (k, v) = &e[i];
                (k, v)
            }
            Entries::Apart(k, v) => (&k[i], &v[i].0),
        }
    }

    #[inline]
    fn value_mut(&mut self, i: usize) -> &mut V {
        match self.view_mut() {
            Entries::Inline(e) => &mut e[i].1,
            Entries::Apart(_, v) => &mut v[i].0,
        }
    }

    fn bytes(&self) -> usize {
        self.0.len() * size_of::<(K, V)>()
            + self.1.len() * size_of::<K>()
            + self.2.len() * size_of::<Padded<V>>()
    }
}

// ---------------------------------------------------------------------------
// The index

#[derive(Clone)]
enum Lookup {
    /// Compare every key (few entries).
    Scan,
    /// A minimal perfect hash.
    Perfect(Perfect),
    /// Entries sorted by hash; `collision` says why (true: two distinct keys
    /// share a hash; false: no pilot set was found).
    Sorted { hashes: Box<[u64]>, collision: bool },
}

#[derive(Clone)]
struct Perfect {
    /// How a key is hashed: the user's hasher, or a window of the key.
    hashing: KeyHash,
    /// Conditions every hash (changes between attempts).
    seed: u64,
    /// Which attempt's seed was kept (0 for the first).
    attempt: u8,
    /// Whether lookups condition the hash ([`condition`]): a later attempt
    /// with the store's hasher. A later attempt with a window reseeds the
    /// window's hash instead (its seed is in `hashing`), so a lookup by a
    /// string never tests this.
    conditioned: bool,
    /// The number of entries: slots are `0..n`, no spare ones.
    n: usize,
    /// One pilot per bucket (a power of two of them); [`OVERFLOW`] for a
    /// bucket no pilot placed.
    pilots: Box<[u8]>,
    /// The keys of the [`OVERFLOW`] buckets: `(conditioned hash, slot)`,
    /// sorted.
    overflow: Box<[(u64, u32)]>,
    /// For each spare slot `n + j` that a key landed on, the slot below `n`
    /// that holds it (0 where none did).
    remap: Box<[u32]>,
    /// How many keys landed on spare slots.
    moved: usize,
    /// One byte of the conditioned hash per slot, where the plan keeps
    /// fingerprints; empty otherwise.
    tags: Box<[u8]>,
    /// Not conditioned and no fingerprints: a lookup is the hash, the pilot,
    /// the slot and the key, and nothing else to check.
    plain: bool,
    /// Not conditioned and the store's hasher: the hash is the user's own
    /// (one test on a lookup instead of two).
    user_raw: bool,
    /// With [`KeyHash::Ends`]: how many keys are at most [`ENDS_EXACT`]
    /// bytes long (compared from their ends' reads); 0 otherwise.
    short_keys: usize,
}

#[inline]
fn mul_high(x: u64, n: usize) -> usize {
    ((u128::from(x) * n as u128) >> 64) as usize
}

/// The bucket of a conditioned hash: its low bits (`buckets` a power of
/// two; one `and`). The slot takes the high bits.
#[inline]
fn bucket_of(x: u64, buckets: usize) -> usize {
    x as usize & (buckets - 1)
}

/// A pilot's offset: 256 fixed pseudo-random 64-bit fractions (SplitMix64
/// of the pilot). A key's slot under pilot `p` is its position `u` (the
/// conditioned hash) moved by `OFFSETS[p]` around the circle of `2^64`, then
/// scaled to the slots (see [`SPARE_SHIFT`]): a wrapping add and a
/// multiply-high, no branch. Random offsets, not multiples of one step: with `b + p * step`
/// the keys fell into `step` disjoint classes of 256 slots each, and the
/// fuller classes overflowed (2% of the keys, measured).
const OFFSETS: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut p = 0;
    while p < 256 {
        table[p] = splitmix(p as u64 ^ 0x5eed_0ff5);
        p += 1;
    }
    table
};

/// The slot of a key with conditioned hash `x` under `pilot`, in `0..n`.
#[inline]
fn slot_of(x: u64, pilot: u8, n: usize) -> usize {
    mul_high(position(x).wrapping_add(OFFSETS[usize::from(pilot)]), n)
}

/// A key's position on the circle before its pilot's offset: the
/// conditioned hash itself, whose high bits the multiply-high reads (the
/// bucket takes the low bits).
#[inline]
fn position(x: u64) -> u64 {
    x
}

/// The fingerprint of a conditioned hash: bits that neither the bucket (the
/// top bits) nor the base (the low half, from its top) depend on.
#[inline]
fn tag_of(x: u64) -> u8 {
    (x >> 32) as u8
}

/// Whether a store of `n` entries keeps fingerprints: one byte per slot,
/// checked before the entry, so that a miss reads a small array instead of
/// the entries. They pay where the array a miss compares in is larger than
/// a last-level cache holds (its load goes to memory) or where comparing
/// keys reads their heap (`String`, `Vec`, `Box` keys: keys with drop
/// glue), and cost a load, a compare and the lookup's general path on every
/// hit otherwise (measured both ways in `docs/frozen.md`: with them, `u64`
/// hits over 16 MB of entries took 1.03-1.15 of hashbrown's time, without
/// them 0.68, misses 0.98 and 1.28-1.32). With values apart, a miss compares in the key array
/// only: `u64` keys with 256-byte values at N = 1e5 have 0.8 MB of keys
/// and no fingerprints (hits 17-19 ns against 23-26 with them, misses
/// unchanged at 2.8-2.9 ns).
fn fingerprints_pay<K, V>(n: usize) -> bool {
    let compared = if Slots::<K, V>::APART {
        size_of::<K>()
    } else {
        size_of::<(K, V)>()
    };
    core::mem::needs_drop::<K>() || n.saturating_mul(compared) > FINGERPRINTS_ABOVE
}

/// Entry arrays of more bytes than this get fingerprints (16 MiB: `u64`
/// pairs up to N = 1e6 have none).
const FINGERPRINTS_ABOVE: usize = 16 << 20;

/// At most this many keys in the overflow before the build tries another
/// seed: measured, random hashes leave about 0.05% of the keys there with
/// the spare slots (46 of 100 000, 526 of 1 000 000; 0.27% without them).
/// The user's own hashes (attempt 0, unconditioned) must do about as well
/// as random ones; a conditioned attempt is kept with up to 1.6%. Neither
/// bound exceeds `n / 64 + 2`: below 171 keys the user's hashes get that
/// one (with `n / 256 + 4` alone, ten small `usize` keys under the default
/// hasher kept 3 or 4 of the 10 in the overflow in up to 60 % of a
/// process's builds, as its per-process seed fell). An attempt stops as
/// soon as it passes this (see [`search`]); the last one always finishes
/// and is kept.
fn overflow_max(n: usize, unconditioned: bool) -> usize {
    let conditioned = n / 64 + 2;
    if unconditioned {
        (n / 256 + 4).min(conditioned)
    } else {
        conditioned
    }
}

/// How the perfect hash hashes a key: with the store's `BuildHasher` over
/// the whole key, or, where the build found that a window of 16 bytes of
/// every key's `Hash` stream (the bytes `Hash` writes: for a `str`, its
/// UTF-8 bytes and a `0xff`) and the stream's length tell the keys apart,
/// with a folded multiply of that window alone (as .NET's FrozenDictionary
/// hashes only the distinguishing characters of string keys). A lookup by
/// `&str` for `String` keys reads the same stream: `Borrow` and
/// `Equivalent` require equal hashes for equal keys under any hasher, and
/// this window hasher is one, whose result depends only on the stream's
/// bytes (not on how `Hash` splits them into writes). The seed comes from
/// the store's hasher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyHash {
    /// The store's `BuildHasher`.
    User,
    /// The stream's first 16 bytes and its length.
    Head(u64),
    /// The stream's last 16 bytes and its length.
    Tail(u64),
    /// For [`str_like`] keys: the first and the last 8 bytes of the string
    /// (overlapping reads, as foldhash reads short inputs) and its length,
    /// see [`Ends`]. Cheaper than the store's hasher on short strings, and a
    /// string of at most [`ENDS_EXACT`] bytes lies whole in those reads, so
    /// they also settle its compare.
    Ends(u64),
    /// For [`int_like`] keys: the key's own value (see [`IntValue`]), no
    /// hasher called, as .NET's FrozenDictionary uses an integer key's value
    /// as its hash code. Distinct integers have distinct values; the build
    /// takes them as they are where they spread as well as random hashes
    /// (random identifiers, hashes: a sample's test, [`values_spread`], then
    /// the search's first attempt with the bound of a real hasher's), and
    /// the store's hasher where they do not (`0..n`, strides), never a
    /// conditioning mixer on the values (MurmurHash3's finalizer on every
    /// lookup of `0..1000`: hits 1.02 -> 1.57 of hashbrown's time).
    Value,
}

/// Whether `T` is one of the primitive types whose `Hash` writes its value
/// as one integer of at most 64 bits (`u8` to `u64`, `usize`, `i8` to
/// `i64`, `isize`, `char`, `bool`), and whose equality is the equality of
/// that integer: their stores try [`KeyHash::Value`] first. A constant of
/// `T` (the names are constants, as in [`str_like`]): no other key type's
/// lookup contains that path, and an integer key's tests one flag, which
/// LLVM hoists out of the caller's loop.
#[inline(always)]
fn int_like<T: ?Sized>() -> bool {
    matches!(
        core::any::type_name::<T>(),
        "u8" | "u16"
            | "u32"
            | "u64"
            | "usize"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "isize"
            | "char"
            | "bool"
    )
}

/// The `Hasher` of [`KeyHash::Value`]: each integer written is folded in
/// as `state * MIX_HASH + value` from 0, so a stream of one integer (the
/// stream of an [`int_like`] key) hashes to that integer's bits,
/// zero-extended to 64 (`Hasher` writes a signed integer as the unsigned
/// one of its width), and the whole hash of a `u64` key inlines to the key
/// itself. Any other stream (a query
/// type of another shape, which `Equivalent` lets a lookup use) still
/// gets a value that depends on all of it: equal keys, whose streams are
/// equal, get equal values.
struct IntValue(u64);

impl IntValue {
    #[inline(always)]
    fn push(&mut self, value: u64) {
        self.0 = self.0.wrapping_mul(MIX_HASH).wrapping_add(value);
    }
}

impl core::hash::Hasher for IntValue {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.push(u64::from(byte));
        }
    }

    #[inline(always)]
    fn write_u8(&mut self, i: u8) {
        self.push(u64::from(i));
    }

    #[inline(always)]
    fn write_u16(&mut self, i: u16) {
        self.push(u64::from(i));
    }

    #[inline(always)]
    fn write_u32(&mut self, i: u32) {
        self.push(u64::from(i));
    }

    #[inline(always)]
    fn write_u64(&mut self, i: u64) {
        self.push(i);
    }

    #[inline(always)]
    fn write_usize(&mut self, i: usize) {
        self.push(i as u64);
    }

    #[inline(always)]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Keys sampled by [`values_spread`]: 64 random 16-bit values are all
/// distinct but for one or two (the test allows three), and a structured set
/// shows its few distinct high or low bits as well in 64 keys as in more
/// (a sample of 256 cost 60 000 instructions, a quarter of the build of
/// 1 000 `u64` keys).
const VALUE_SAMPLE: usize = 64;

/// Whether the values of an evenly spaced sample of `items` (up to
/// [`VALUE_SAMPLE`] keys, integers) look as spread as random hashes: their
/// lowest 16 bits (which pick a bucket) and their highest 16 bits (which
/// pick a slot) each take as many values as the sample has distinct keys,
/// but for a few. Sequential values (highest bits all 0), strides (lowest
/// bits all 0) and small signed values (highest bits all 0 or all 1) fail
/// it, and their stores take the store's hasher at once: without the test
/// their values were grouped, deduplicated and searched before the search
/// gave up (1e5 keys `i * 4096`: builds 20 -> 51 ns per key).
fn values_spread<K: Hash, V>(items: &[Item<K, V>]) -> bool {
    let step = (items.len() / VALUE_SAMPLE).max(1);
    let mut values: Vec<u64> = (0..items.len())
        .step_by(step)
        .map(|i| int_value(key_of(&items[i])))
        .collect();
    values.sort_unstable();
    values.dedup();
    let distinct = |bits: fn(u64) -> u16| {
        let mut parts: Vec<u16> = values.iter().map(|&x| bits(x)).collect();
        parts.sort_unstable();
        parts.dedup();
        parts.len()
    };
    let enough = values.len() - values.len() / 32 - 1;
    distinct(|x| x as u16) >= enough && distinct(|x| (x >> 48) as u16) >= enough
}

/// [`KeyHash::Value`]'s hash of `key`.
#[inline(always)]
fn int_value<Q: Hash + ?Sized>(key: &Q) -> u64 {
    let mut value = IntValue(0);
    key.hash(&mut value);
    value.0
}

/// Whether the build considers a window for keys of type `K`: keys that
/// own heap memory (`String`, `Box<str>`, `Vec<u8>`) or are at least 16
/// bytes (`&str`, `&[u8]`, arrays). A constant of `K`, so the lookup of
/// a small key type (`(u32, u32)`, an integer newtype) has no branch on the
/// way it hashes: only the store's hasher is ever used for those (and for
/// integers, their values or the store's hasher: [`int_like`]).
const fn windows_for<K>() -> bool {
    core::mem::needs_drop::<K>() || size_of::<K>() >= 16
}

/// Streams shorter than this on average are hashed whole (a window would
/// skip nothing worth skipping).
const WINDOW_FROM: usize = 17;

/// Strings of at most this many bytes lie whole in [`Ends`]' two reads.
const ENDS_EXACT: usize = 16;

/// Whether `T` is one of the string types whose `Hash` stream is the
/// string's UTF-8 bytes in one `write` and then a `write_u8(0xff)` (`str`'s
/// `Hash`, which `String`, `Box<str>` and `&str` forward to) and whose
/// equality is the equality of those bytes: `str`, `&str`, `String`,
/// `Box<str>`. For these two values are equal exactly when their streams
/// are, so a short string's compare can be settled from bytes already read
/// for its hash. Any other type (one whose `Hash` writes less than its `Eq`
/// compares, or a query type whose `Equivalent` is stricter than its
/// stream) is always compared with `Equivalent`. The names are constants,
/// so LLVM folds the test: no other key type's lookup contains this path.
#[inline(always)]
fn str_like<T: ?Sized>() -> bool {
    matches!(
        core::any::type_name::<T>(),
        "str" | "&str" | "alloc::string::String" | "alloc::boxed::Box<str>"
    )
}

/// The two reads of a string `u` that [`KeyHash::Ends`] hashes: its first
/// and last 8 bytes (little-endian, overlapping) from 8 bytes on, its first
/// and last 4 from 4, its first, middle and last byte below. With the
/// length they determine every string of at most [`ENDS_EXACT`] bytes.
#[inline(always)]
fn ends_of(u: &[u8]) -> (u64, u64) {
    let l = u.len();
    if let (Some(first), Some(last)) = (u.first_chunk::<8>(), u.last_chunk::<8>()) {
        (u64::from_le_bytes(*first), u64::from_le_bytes(*last))
    } else if let (Some(first), Some(last)) = (u.first_chunk::<4>(), u.last_chunk::<4>()) {
        (
            u64::from(u32::from_le_bytes(*first)),
            u64::from(u32::from_le_bytes(*last)),
        )
    } else if l > 0 {
        (
            u64::from(u[0]),
            (u64::from(u[l / 2]) << 8) | u64::from(u[l - 1]),
        )
    } else {
        (0, 0)
    }
}

/// [`KeyHash::Ends`]' hash of a stream whose last byte is `z` and whose
/// `l` other bytes read as `a` and `b` ([`ends_of`]): one folded multiply.
/// For a `str`, `l` is its length and `z` the constant `0xff`, so the
/// length and the last byte cost a multiply and two `xor`s (the length
/// shifted in beside `z`, with a second constant, cost four instructions
/// more per lookup).
#[inline(always)]
fn ends_hash(seed: u64, a: u64, b: u64, l: usize, z: u8) -> u64 {
    let lo = a ^ seed;
    let hi = b ^ (l as u64).wrapping_mul(MIX_HASH) ^ u64::from(z);
    let product = u128::from(lo) * u128::from(hi);
    (product as u64) ^ ((product >> 64) as u64)
}

/// The `Hasher` of [`KeyHash::Ends`] for a [`str_like`] value, whose stream
/// is one `write` of the string and a `write_u8(0xff)`: the string's reads
/// and length straight from the one `write` (no buffer). Only ever fed such
/// a value; [`Ends`] hashes any other stream the same way.
#[derive(Default)]
struct StrEnds {
    a: u64,
    b: u64,
    len: usize,
    last: u8,
}

impl StrEnds {
    /// The reads of `key`, a [`str_like`] value.
    #[inline(always)]
    fn of<Q: Hash + ?Sized>(key: &Q) -> Self {
        let mut ends = StrEnds::default();
        key.hash(&mut ends);
        ends
    }

    #[inline(always)]
    fn hash(&self, seed: u64) -> u64 {
        ends_hash(seed, self.a, self.b, self.len, self.last)
    }

    /// Whether `self` and `other` read the same string, where `self`'s is
    /// at most [`ENDS_EXACT`] bytes long (its reads then hold all of it).
    #[inline(always)]
    fn same_short_string(&self, other: &Self) -> bool {
        self.len == other.len && self.a == other.a && self.b == other.b
    }
}

impl core::hash::Hasher for StrEnds {
    #[inline(always)]
    fn write(&mut self, bytes: &[u8]) {
        (self.a, self.b) = ends_of(bytes);
        self.len = bytes.len();
    }

    #[inline(always)]
    fn write_u8(&mut self, byte: u8) {
        self.last = byte;
    }

    fn finish(&self) -> u64 {
        self.hash(0)
    }
}

/// The `Hasher` of [`KeyHash::Ends`] for any stream, however `Hash` splits
/// it: the stream's first 8 bytes and last 16 bytes, from which
/// [`finish`](Ends::finish) takes the same reads [`StrEnds`] takes of a
/// string (the stream but its last byte) and that last byte. For query
/// types that are not [`str_like`]; byte by byte, not fast.
struct Ends {
    seed: u64,
    len: usize,
    /// The first 8 bytes, the first lowest.
    first: u64,
    /// The last 16 bytes, the latest lowest.
    last: u128,
}

impl core::hash::Hasher for Ends {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if self.len < 8 {
                self.first |= u64::from(byte) << (8 * self.len);
            }
            self.last = (self.last << 8) | u128::from(byte);
            self.len += 1;
        }
    }

    fn finish(&self) -> u64 {
        let Some(l) = self.len.checked_sub(1) else {
            // An empty stream: `b = 1` tells it from the one-byte streams
            // (whose `b` is 0).
            return ends_hash(self.seed, 0, 1, 0, 0);
        };
        // The stream but its last byte: its last bytes are `last >> 8`.
        let before = self.last >> 8;
        let (a, b) = if l >= 8 {
            (self.first, (before as u64).swap_bytes())
        } else if l >= 4 {
            (
                u64::from(self.first as u32),
                u64::from((before as u32).swap_bytes()),
            )
        } else if l > 0 {
            let middle = (self.first >> (8 * (l / 2))) as u8;
            (
                u64::from(self.first as u8),
                (u64::from(middle) << 8) | u64::from(before as u8),
            )
        } else {
            (0, 0)
        };
        ends_hash(self.seed, a, b, l, self.last as u8)
    }
}

/// Keys sampled by [`window_merges_sample`].
const WINDOW_SAMPLE: usize = 256;

/// Whether `hashing` (a window) gives two distinct keys of an evenly spaced
/// sample of `items` the same hash: then it cannot tell all the keys apart.
/// Equal keys (duplicates) may share a hash.
fn window_merges_sample<K: Hash + Eq, V>(items: &[Item<K, V>], hashing: KeyHash) -> bool {
    let step = (items.len() / WINDOW_SAMPLE).max(1);
    let mut sample: Vec<(u64, usize)> = (0..items.len())
        .step_by(step)
        .map(|i| (hashing.hash_window(key_of(&items[i])), i))
        .collect();
    sample.sort_unstable();
    sample
        .windows(2)
        .any(|w| w[0].0 == w[1].0 && key_of(&items[w[0].1]) != key_of(&items[w[1].1]))
}

/// A `Hasher` that only counts the bytes of the streams written to it.
struct StreamLen(usize);

impl core::hash::Hasher for StreamLen {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }

    fn finish(&self) -> u64 {
        self.0 as u64
    }
}

/// A `Hasher` that keeps the length of a key's `Hash` stream and its first
/// (`TAIL = false`) or last 16 bytes, then folds them with a seed.
struct Window<const TAIL: bool> {
    seed: u64,
    len: usize,
    bytes: u128,
}

impl<const TAIL: bool> Window<TAIL> {
    #[inline]
    fn new(seed: u64) -> Self {
        Window {
            seed,
            len: 0,
            bytes: 0,
        }
    }
}

/// The bytes of `bytes` (fewer than 16) as one big-endian number: the first
/// byte highest. Overlapping loads, as foldhash reads short inputs (no copy
/// of a variable length).
#[inline(always)]
fn short_be(bytes: &[u8]) -> u128 {
    let len = bytes.len();
    if len >= 8 {
        let first = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
        let last = u64::from_be_bytes(bytes[len - 8..].try_into().expect("8 bytes"));
        (u128::from(first) << (8 * (len - 8))) | u128::from(last)
    } else if len >= 4 {
        let first = u32::from_be_bytes(bytes[..4].try_into().expect("4 bytes"));
        let last = u32::from_be_bytes(bytes[len - 4..].try_into().expect("4 bytes"));
        (u128::from(first) << (8 * (len - 4))) | u128::from(last)
    } else {
        bytes
            .iter()
            .fold(0u128, |acc, &b| (acc << 8) | u128::from(b))
    }
}

/// [`short_be`]'s little-endian twin (the first byte lowest), for at most
/// 16 bytes.
#[inline(always)]
fn short_le(bytes: &[u8]) -> u128 {
    let len = bytes.len();
    if let Some(all) = bytes.first_chunk::<16>() {
        u128::from_le_bytes(*all)
    } else if len >= 8 {
        let first = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        let last = u64::from_le_bytes(bytes[len - 8..].try_into().expect("8 bytes"));
        u128::from(first) | (u128::from(last) << (8 * (len - 8)))
    } else if len >= 4 {
        let first = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
        let last = u32::from_le_bytes(bytes[len - 4..].try_into().expect("4 bytes"));
        u128::from(first) | (u128::from(last) << (8 * (len - 4)))
    } else {
        bytes
            .iter()
            .rev()
            .fold(0u128, |acc, &b| (acc << 8) | u128::from(b))
    }
}

impl<const TAIL: bool> core::hash::Hasher for Window<TAIL> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        if TAIL {
            // The last 16 bytes, the latest lowest.
            if let Some(last) = bytes.last_chunk::<16>() {
                self.bytes = u128::from_be_bytes(*last);
            } else if !bytes.is_empty() {
                self.bytes = (self.bytes << (8 * bytes.len())) | short_be(bytes);
            }
        } else if self.len < 16 {
            // The first 16 bytes, the earliest lowest.
            if let (0, Some(first)) = (self.len, bytes.first_chunk::<16>()) {
                self.bytes = u128::from_le_bytes(*first);
            } else {
                let take = (16 - self.len).min(bytes.len());
                self.bytes |= short_le(&bytes[..take]) << (8 * self.len);
            }
        }
        self.len += bytes.len();
    }

    /// One byte (`str`'s `Hash` ends with a `0xff`): no buffer.
    #[inline]
    fn write_u8(&mut self, byte: u8) {
        if TAIL {
            self.bytes = (self.bytes << 8) | u128::from(byte);
        } else if self.len < 16 {
            self.bytes |= u128::from(byte) << (8 * self.len);
        }
        self.len += 1;
    }

    #[inline]
    fn finish(&self) -> u64 {
        let lo = self.bytes as u64 ^ self.seed;
        let hi = (self.bytes >> 64) as u64 ^ (self.len as u64).wrapping_mul(MIX_HASH);
        let product = u128::from(lo) * u128::from(hi);
        (product as u64) ^ ((product >> 64) as u64)
    }
}

/// The hash of [`KeyHash::Head`] (`TAIL = false`) or [`KeyHash::Tail`]
/// with `seed`, inline: for a lookup by a string, where the window's reads
/// fold into a few loads (the out-of-line [`KeyHash::hash_window`] costs a
/// call and a dispatch on the kind of window).
#[inline(always)]
fn window_hash<const TAIL: bool, Q: Hash + ?Sized>(seed: u64, key: &Q) -> u64 {
    let mut window = Window::<TAIL>::new(seed);
    key.hash(&mut window);
    core::hash::Hasher::finish(&window)
}

impl KeyHash {
    /// This window with the seed of a later attempt (`attempt` 0: itself);
    /// any other hashing as it is.
    fn reseeded(self, attempt: u64) -> KeyHash {
        let seed = |s: u64| {
            if attempt == 0 {
                s
            } else {
                splitmix(s ^ attempt)
            }
        };
        match self {
            KeyHash::Head(s) => KeyHash::Head(seed(s)),
            KeyHash::Tail(s) => KeyHash::Tail(seed(s)),
            KeyHash::Ends(s) => KeyHash::Ends(seed(s)),
            other => other,
        }
    }

    /// The 64-bit hash of `key` this way.
    #[inline(always)]
    fn hash<K, Q: Hash + ?Sized, S: BuildHasher>(self, hash_builder: &S, key: &Q) -> u64 {
        if int_like::<K>() {
            // An integer key's store: its values, or the store's hasher.
            return if self == KeyHash::Value {
                int_value(key)
            } else {
                hash_builder.hash_one(key)
            };
        }
        if !windows_for::<K>() {
            return hash_builder.hash_one(key);
        }
        match self {
            KeyHash::User => hash_builder.hash_one(key),
            // A string's window, inline: its reads are a few loads (the
            // out-of-line call and its dispatch cost url paths at N = 1e3
            // 101 -> 90 instructions per hit).
            KeyHash::Tail(seed) if str_like::<Q>() => window_hash::<true, _>(seed, key),
            KeyHash::Head(seed) if str_like::<Q>() => window_hash::<false, _>(seed, key),
            _ => self.hash_window(key),
        }
    }

    /// [`hash`](KeyHash::hash) for the windows: out of line, so that the
    /// store's own hasher's path stays small.
    #[inline(never)]
    fn hash_window<Q: Hash + ?Sized>(self, key: &Q) -> u64 {
        match self {
            KeyHash::User => unreachable!("the store's hasher is not a window"),
            KeyHash::Value => int_value(key),
            KeyHash::Head(seed) => window_hash::<false, _>(seed, key),
            KeyHash::Tail(seed) => window_hash::<true, _>(seed, key),
            KeyHash::Ends(seed) if str_like::<Q>() => StrEnds::of(key).hash(seed),
            KeyHash::Ends(seed) => {
                let mut ends = Ends {
                    seed,
                    len: 0,
                    first: 0,
                    last: 0,
                };
                key.hash(&mut ends);
                core::hash::Hasher::finish(&ends)
            }
        }
    }
}

impl Perfect {
    /// The user's hash as this index reads it: conditioned, or as it is
    /// where the build found it spread well enough (attempt 0).
    #[inline]
    fn condition(&self, hash: u64) -> u64 {
        if self.conditioned {
            condition(hash, self.seed)
        } else {
            hash
        }
    }

    /// The slot a conditioned hash probes, and its bucket's pilot.
    #[inline]
    fn probe(&self, x: u64) -> (usize, u8) {
        self.probe_in(x, self.n)
    }

    /// The entry a probe that landed on slot `s` reads, in a store of `n`
    /// entries: `s` itself, or for a spare slot the slot its key was moved
    /// to.
    #[inline]
    fn resolve(&self, s: usize, n: usize) -> usize {
        if s < n {
            s
        } else {
            moved_to(&self.remap, s, n)
        }
    }

    /// [`probe`](Perfect::probe) with `n` given: the entries' own length,
    /// which the caller loads anyway for the entry's bounds check (one
    /// field fewer to keep in a register or reload in a lookup loop). The
    /// slot is in `0..slots(n)`: one past `n` is a spare slot, whose remap
    /// the lookup reads where the entry's bounds check fails.
    #[inline]
    fn probe_in(&self, x: u64, n: usize) -> (usize, u8) {
        // The bucket: `x`'s low bits. Masked with the slice's own length (a
        // power of two), the index needs no bounds check: LLVM proves it.
        let pilot = self.pilots[x as usize & (self.pilots.len() - 1)];
        (slot_of(x, pilot, slots(n)), pilot)
    }

    /// Whether the fingerprint at `i` allows `x` (always, without
    /// fingerprints).
    #[inline]
    fn tag_allows(&self, i: usize, x: u64) -> bool {
        self.tags.get(i).is_none_or(|&t| t == tag_of(x))
    }

    /// The overflow's slots of keys whose conditioned hash is `x`.
    #[cold]
    #[inline(never)]
    fn overflow(&self, x: u64) -> &[(u64, u32)] {
        let start = self.overflow.partition_point(|&(h, _)| h < x);
        let len = self.overflow[start..].partition_point(|&(h, _)| h == x);
        &self.overflow[start..start + len]
    }

    fn bytes(&self) -> usize {
        self.pilots.len()
            + self.overflow.len() * size_of::<(u64, u32)>()
            + self.remap.len() * size_of::<u32>()
            + self.tags.len()
    }
}

/// Entries grouped by bucket, in the order the pilot search places them:
/// the buckets of the largest size first, then each smaller size down to
/// one key; within a size, by bucket index. A bucket's keys are contiguous
/// in `members` (entry indices increasing within a bucket), so the search
/// reads them sequentially and never looks a bucket up: its index is its
/// hashes' low bits ([`bucket_of`]). An earlier layout kept the buckets
/// in index order and had the search visit them by size through a sorted
/// list of bucket indices: at N = 1e5 each bucket then cost three dependent
/// loads from arrays larger than L1 (the list, the bucket's start, its
/// hashes) before its first pilot; the search's bucket loops took 15.8 ns
/// per key (14.3 in this layout) and sorting the buckets 2 ns more.
struct Groups {
    members: Vec<Member>,
    /// The number of buckets of each size (`sizes[k]` of `k` keys); the
    /// last is not 0 (unless every bucket is empty).
    sizes: Vec<usize>,
    /// The number of buckets.
    buckets: usize,
}

/// A key in [`Groups`]: its hash (as the search reads it) and its entry's
/// index. One array of both, not two arrays: the grouping writes each key
/// to a random position, and one line written per key instead of two took
/// the grouping's last pass from 4.4 to 3.7 ns per key at N = 1e5 (8.6
/// against 11.5 at 1e6).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Member {
    hash: u64,
    index: u32,
}

impl Groups {
    /// A counting sort by bucket, the buckets laid out by size. The last
    /// pass fills each bucket from its end, walking the entries backwards,
    /// so that entry indices still increase within a bucket.
    fn new(hashes: &[u64], buckets: usize) -> Groups {
        let mut cursors = vec![0u32; buckets];
        let mask = buckets - 1;
        for &h in hashes {
            cursors[h as usize & mask] += 1;
        }
        let mut sizes = vec![0usize; 8];
        for &count in &cursors {
            let size = count as usize;
            if size >= sizes.len() {
                sizes.resize(size + 1, 0);
            }
            sizes[size] += 1;
        }
        while sizes.len() > 1 && sizes.last() == Some(&0) {
            sizes.pop();
        }
        // Where each size's buckets start, largest size first.
        let mut class_at = vec![0u32; sizes.len()];
        let mut at = 0u32;
        for k in (1..sizes.len()).rev() {
            class_at[k] = at;
            at += (k * sizes[k]) as u32;
        }
        // Each bucket's end, handed out in bucket order within its size.
        for count in cursors.iter_mut() {
            let size = *count as usize;
            class_at[size] += size as u32;
            *count = class_at[size];
        }
        let mut members = vec![Member { hash: 0, index: 0 }; hashes.len()];
        for (i, &hash) in hashes.iter().enumerate().rev() {
            let at = &mut cursors[bucket_of(hash, buckets)];
            *at -= 1;
            members[*at as usize] = Member {
                hash,
                index: i as u32,
            };
        }
        Groups {
            members,
            sizes,
            buckets,
        }
    }

    fn buckets(&self) -> usize {
        self.buckets
    }

    /// The size of the largest bucket.
    fn largest(&self) -> usize {
        self.sizes.len() - 1
    }

    /// Each bucket size `k` that some bucket has (largest first) and the
    /// positions of those buckets, contiguous: `sizes[k]` runs of `k`.
    fn classes(&self) -> impl Iterator<Item = (usize, core::ops::Range<usize>)> + '_ {
        let mut at = 0;
        (1..self.sizes.len())
            .rev()
            .map(move |k| {
                let first = at;
                at += k * self.sizes[k];
                (k, first..at)
            })
            .filter(|(_, run)| !run.is_empty())
    }

    /// Every non-empty bucket's range of positions, in layout order.
    fn ranges(&self) -> impl Iterator<Item = core::ops::Range<usize>> + '_ {
        self.classes().flat_map(|(k, run)| {
            (0..run.len() / k).map(move |j| run.start + j * k..run.start + (j + 1) * k)
        })
    }
}

/// The search's map of taken slots: one byte per slot of `0..n` (a load
/// and a compare per pilot tried, where a bitmap took a shift, a mask and a
/// bit test more), in a power of two of bytes, so that an index masked by
/// the length needs no bounds check (the bytes past `n` stay zero and are
/// never read as slots).
struct Taken(Vec<u8>);

impl Taken {
    fn new(n: usize) -> Taken {
        Taken(vec![0u8; n.max(1).next_power_of_two()])
    }

    #[inline(always)]
    fn is_free(taken: &[u8], s: usize) -> bool {
        taken[s & (taken.len() - 1)] == 0
    }

    #[inline(always)]
    fn set(taken: &mut [u8], s: usize) {
        let mask = taken.len() - 1;
        taken[s & mask] = 1;
    }

    #[inline(always)]
    fn clear(taken: &mut [u8], s: usize) {
        let mask = taken.len() - 1;
        taken[s & mask] = 0;
    }
}

/// The first pilot under which the key at position `u` lands on a slot
/// that `taken` (a bitmap of `0..n`) leaves free, and that slot. Out of
/// line so that its loop keeps everything in registers: most of a build's
/// pilot tries are here (the last buckets placed hold one key, when few
/// slots are free). Four pilots are tried at once, without a branch
/// between them (the slots' loads overlap; one branch per four tries).
#[inline(never)]
fn place_one(u: u64, n: usize, taken: &[u8]) -> Option<(usize, usize)> {
    let chunks = OFFSETS[..PILOTS].chunks_exact(4);
    let rest = chunks.remainder();
    let full = PILOTS / 4;
    for (c, offsets) in chunks.enumerate() {
        let offsets = [offsets[0], offsets[1], offsets[2], offsets[3]];
        let s = offsets.map(|o| mul_high(position(u).wrapping_add(o), n));
        let t = s.map(|s| taken[s & (taken.len() - 1)]);
        // Taken bytes are 0 or 1: their `and` is 0 when one slot is free.
        if t[0] & t[1] & t[2] & t[3] == 0 {
            // The first free one: the lowest byte of `t ^ 1` that is set.
            let k = (u32::from_le_bytes(t) ^ 0x0101_0101).trailing_zeros() as usize / 8;
            return Some((c * 4 + k, s[k & 3]));
        }
    }
    let base = full * 4;
    rest.iter().enumerate().find_map(|(k, &o)| {
        let s = mul_high(position(u).wrapping_add(o), n);
        Taken::is_free(taken, s).then_some((base + k, s))
    })
}

/// [`place_one`] for a bucket of two keys: the pilot and both slots.
#[inline(never)]
fn place_two(u: u64, v: u64, n: usize, taken: &[u8]) -> Option<(usize, usize, usize)> {
    OFFSETS[..PILOTS]
        .iter()
        .enumerate()
        .find_map(|(p, &offset)| {
            let s = mul_high(position(u).wrapping_add(offset), n);
            let t = mul_high(position(v).wrapping_add(offset), n);
            // Not `&&`: a branch per test mispredicted about once per bucket.
            (Taken::is_free(taken, s) & (s != t) & Taken::is_free(taken, t)).then_some((p, s, t))
        })
}

/// [`place_one`] for a bucket of three keys or more: the first pilot under
/// which every key lands on a free slot, no two on one. Each slot is marked
/// taken as it is found (so a second key on it fails like a taken slot, no
/// list to search) and unmarked if a later key fails. On success the slots
/// are in `found`, in the keys' order, and marked.
#[inline(never)]
fn place_many(hashes: &[u64], n: usize, taken: &mut [u8], found: &mut Vec<usize>) -> Option<usize> {
    for (p, &offset) in OFFSETS[..PILOTS].iter().enumerate() {
        found.clear();
        let mut free = true;
        for &x in hashes {
            let s = mul_high(position(x).wrapping_add(offset), n);
            if !Taken::is_free(taken, s) {
                free = false;
                break;
            }
            Taken::set(taken, s);
            found.push(s);
        }
        if free {
            return Some(p);
        }
        for &s in found.iter() {
            Taken::clear(taken, s);
        }
    }
    found.clear();
    None
}

/// [`place_many`] for a bucket of exactly `K` keys (at most 8; larger ones
/// are rare but for weak hashers): every
/// key's slot under a pilot is computed and tested without a branch, then
/// one branch says whether all were free, and only then are they checked to
/// be distinct (a loop that stopped at the first taken slot mispredicted its
/// exit on most pilots tried). `K` is a constant, so the loops over the
/// keys are unrolled and none of them ends on a mispredicted exit: the
/// search walks the buckets one size at a time and calls the instance for
/// that size (with a slice's length instead, the build at N = 1e3 took 2.4
/// mispredicted branches per bucket here, against about one).
#[inline(never)]
fn place_k<const K: usize>(
    hashes: &[u64; K],
    n: usize,
    taken: &[u8],
) -> Option<(usize, [usize; K])> {
    for (p, &offset) in OFFSETS[..PILOTS].iter().enumerate() {
        let slots = hashes.map(|x| mul_high(position(x).wrapping_add(offset), n));
        let free = slots
            .iter()
            .fold(true, |free, &s| free & Taken::is_free(taken, s));
        if free && (1..K).all(|i| !slots[..i].contains(&slots[i])) {
            return Some((p, slots));
        }
    }
    None
}

/// Places the buckets of `K` keys at positions `run` of `groups` (see
/// [`search`]): each one's pilot goes to `pilots`, its keys' entry indices
/// to their slots of `src`, their slots to `taken`, and the positions of
/// the keys of a bucket no pilot places to `spilled`. False as soon as
/// `spilled` holds more than `limit`.
#[allow(clippy::too_many_arguments)]
fn place_size<const K: usize>(
    run: core::ops::Range<usize>,
    groups: &Groups,
    n: usize,
    taken: &mut [u8],
    pilots: &mut [u8],
    src: &mut [u32],
    spilled: &mut Vec<usize>,
    limit: Option<usize>,
) -> bool {
    let buckets = pilots.len();
    let members = groups.members[run.clone()].chunks_exact(K);
    for (members, at) in members.zip(run.step_by(K)) {
        let hashes: [u64; K] = core::array::from_fn(|j| members[j].hash);
        let b = bucket_of(hashes[0], buckets);
        if let Some((p, slots)) = place_k(&hashes, n, taken) {
            pilots[b] = p as u8;
            for (member, &s) in members.iter().zip(&slots) {
                Taken::set(taken, s);
                src[s] = member.index;
            }
        } else {
            pilots[b] = OVERFLOW;
            spilled.extend(at..at + K);
            if limit.is_some_and(|limit| spilled.len() > limit) {
                return false;
            }
        }
    }
    true
}

/// Finds a pilot for every bucket, largest buckets first, so that every
/// key of the bucket lands on a free slot of `0..n`; a bucket no pilot
/// places gets [`OVERFLOW`] and its keys go to the free slots left at the
/// end. Returns the pilots, the overflow (`(conditioned hash, slot)`,
/// sorted) and each slot's entry index.
///
/// With a `limit`, the search gives up (`None`) as soon as more keys than
/// that are in the overflow: an attempt that will be discarded stops at
/// once instead of trying every pilot for every bucket left. Hashes that
/// jam the search (an identity hasher's small integers, taken as they are
/// by attempt 0) spill a bucket in their first few hundred, so the next
/// attempt starts after a sliver of a full search.
fn search(groups: &Groups, n: usize, limit: Option<usize>) -> Option<Placed> {
    let over = |spilled: &[usize]| limit.is_some_and(|limit| spilled.len() > limit);
    let buckets = groups.buckets();
    let members = &groups.members[..];
    let count_of = |k: usize| groups.sizes.get(k).map_or(0, |&c| c);
    let (ones, twos) = (count_of(1), count_of(2));
    // The layout is by size, largest first: buckets of three keys or more,
    // then the pairs, then the single keys.
    let ones_at = members.len() - ones;
    let twos_at = ones_at - 2 * twos;
    // Keys are placed on `slots(n)` slots; the ones past `n` move below it
    // at the end.
    let n_keys = n;
    let n = slots(n_keys);

    let mut taken = Taken::new(n);
    let words = &mut taken.0[..];
    let mut pilots = vec![0u8; buckets];
    // Each slot's entry index, spare slots included (`u32::MAX`: none).
    let mut src = vec![u32::MAX; n];
    let mut spilled: Vec<usize> = Vec::new();
    let mut found: Vec<usize> = Vec::new();
    let mut wide: Vec<u64> = Vec::new();
    // Buckets of three keys or more, one size at a time, largest first.
    for (k, run) in groups.classes().take_while(|(k, _)| *k >= 3) {
        let (taken, pilots, spilled, dest) =
            (&mut *words, &mut pilots[..], &mut spilled, &mut src[..]);
        let within = match k {
            3 => place_size::<3>(run, groups, n, taken, pilots, dest, spilled, limit),
            4 => place_size::<4>(run, groups, n, taken, pilots, dest, spilled, limit),
            5 => place_size::<5>(run, groups, n, taken, pilots, dest, spilled, limit),
            6 => place_size::<6>(run, groups, n, taken, pilots, dest, spilled, limit),
            7 => place_size::<7>(run, groups, n, taken, pilots, dest, spilled, limit),
            8 => place_size::<8>(run, groups, n, taken, pilots, dest, spilled, limit),
            _ => run.step_by(k).all(|at| {
                let range = at..at + k;
                let b = bucket_of(members[at].hash, buckets);
                wide.clear();
                wide.extend(members[range.clone()].iter().map(|m| m.hash));
                if let Some(p) = place_many(&wide, n, taken, &mut found) {
                    pilots[b] = p as u8;
                    for (at, &s) in range.zip(&found) {
                        dest[s] = members[at].index;
                    }
                } else {
                    pilots[b] = OVERFLOW;
                    spilled.extend(range);
                }
                !over(spilled)
            }),
        };
        if !within {
            return None;
        }
    }
    // Buckets of two and one keys (the last part of the search, when few
    // slots are free and most pilots fail: 445 000 and 139 000 of the
    // 620 000 pilots tried for 100 000 random keys) take loops of their
    // own, out of line.
    for at in (twos_at..ones_at).step_by(2) {
        let (u, v) = (members[at], members[at + 1]);
        let b = bucket_of(u.hash, buckets);
        if let Some((p, s, t)) = place_two(u.hash, v.hash, n, words) {
            Taken::set(words, s);
            Taken::set(words, t);
            pilots[b] = p as u8;
            src[s] = u.index;
            src[t] = v.index;
        } else {
            pilots[b] = OVERFLOW;
            spilled.extend([at, at + 1]);
            if over(&spilled) {
                return None;
            }
        }
    }
    for (at, u) in members.iter().enumerate().skip(ones_at) {
        if let Some((p, s)) = place_one(u.hash, n, words) {
            Taken::set(words, s);
            pilots[bucket_of(u.hash, buckets)] = p as u8;
            src[s] = u.index;
        } else {
            pilots[bucket_of(u.hash, buckets)] = OVERFLOW;
            spilled.push(at);
            if over(&spilled) {
                return None;
            }
        }
    }
    // The keys on spare slots, then the overflow's, take the free slots
    // below `n_keys`: as many as there are such keys.
    let mut free = taken.0[..n_keys]
        .iter()
        .enumerate()
        .filter_map(|(s, &t)| (t == 0).then_some(s));
    let mut remap = vec![0u32; n - n_keys];
    let mut moved = 0;
    for spare in n_keys..n {
        let i = src[spare];
        if i != u32::MAX {
            let s = free.next().expect("one free slot per moved key");
            remap[spare - n_keys] = s as u32;
            src[s] = i;
            moved += 1;
        }
    }
    let mut overflow = Vec::with_capacity(spilled.len());
    for at in spilled {
        let s = free.next().expect("one free slot per overflowing key");
        src[s] = members[at].index;
        overflow.push((members[at].hash, s as u32));
    }
    overflow.sort_unstable();
    drop(free);
    src.truncate(n_keys);
    Some(Placed {
        pilots,
        overflow,
        remap,
        moved,
        src,
    })
}

/// What [`search`] found: a pilot per bucket, the overflow's keys
/// (`(conditioned hash, slot)`, sorted), the spare slots' remap, how many
/// keys it moved, and which entry each slot holds.
struct Placed {
    pilots: Vec<u8>,
    overflow: Vec<(u64, u32)>,
    remap: Vec<u32>,
    moved: usize,
    /// The entry index of each slot of `0..n`.
    src: Vec<u32>,
}

/// Buckets of at most this many keys are checked for equal hashes by whole-array passes in [`dedup`].
const DEDUP_WINDOW: usize = 16;

/// Removes every key but the last of each set of equal keys (`hashes`, the
/// user's, in `items` order; `groups` made from their conditioned values).
/// Returns whether two distinct keys share a (user's) hash, and whether any
/// entry was removed (then `groups` is stale). Equal keys have equal hashes,
/// so they meet in one bucket.
///
/// With `give_up`, the first two distinct keys found sharing a hash end the
/// check: the caller will not use these hashes (a window of the keys that
/// does not tell them apart), and comparing on through runs of equal
/// windows cost a comparison per pair of the run (sorted `(u64, u64, u64)`
/// keys whose first 16 bytes repeat 3 000 times took 3.4 s for 900 000 keys,
/// 1.4e9 `Eq` calls). The duplicates removed by then stay removed, each
/// keeping the last value and the first key, so the next hashing's check
/// finds the rest as if none had been.
fn dedup<K: Eq, V>(
    items: &mut Vec<Item<K, V>>,
    hashes: &mut Vec<u64>,
    groups: &mut Groups,
    give_up: bool,
) -> (bool, bool) {
    // First a quick pass: with a real hasher no two hashes of a bucket are
    // equal, and nothing else need be done.
    // Equal hashes share a bucket and hashes of different buckets differ
    // (in their low bits). The buckets of `k` keys are contiguous, so
    // comparing each hash of that run with the next `k - 1` finds every
    // equal pair: `k - 1` whole-run passes per size with no branch on a
    // bucket (a loop per bucket mispredicted its exits, about one per
    // bucket), and none for single keys. (Passes over the whole array,
    // `largest - 1` of them, took 1.5 ns per key at N = 1e5.) Weak hashers'
    // large buckets take the loop.
    let largest = groups.largest();
    let m = &groups.members[..];
    let equal = if largest <= DEDUP_WINDOW {
        groups.classes().fold(false, |equal, (k, run)| {
            let run = &m[run];
            (1..k).fold(equal, |equal, d| {
                run.iter()
                    .zip(&run[d..])
                    .fold(equal, |equal, (a, b)| equal | (a.hash == b.hash))
            })
        })
    } else {
        // Large buckets (a weak hasher's: an identity hasher on `i << 20`
        // put 100 000 keys in one) are sorted, not compared pairwise: the
        // pairwise scan took a second for that bucket.
        let mut sorted: Vec<u64> = Vec::new();
        groups.ranges().any(|range| {
            let run = &m[range];
            if run.len() <= DEDUP_WINDOW {
                (1..run.len()).any(|j| run[..j].iter().any(|a| a.hash == run[j].hash))
            } else {
                sorted.clear();
                sorted.extend(run.iter().map(|m| m.hash));
                sorted.sort_unstable();
                sorted.windows(2).any(|p| p[0] == p[1])
            }
        })
    };
    if !equal {
        return (false, false);
    }
    let mut removed: Vec<bool> = Vec::new();
    let mut collision = false;
    // The buckets of two keys or more (the single keys come last); their
    // ranges are collected first, as the loop rewrites `groups`.
    let ranges: Vec<core::ops::Range<usize>> = groups
        .ranges()
        .take_while(|range| range.len() >= 2)
        .collect();
    'runs: for range in ranges {
        // Few buckets are large unless the hasher is weak: sort those (by
        // hash, then entry index), so that only neighbours need comparing.
        let large = range.len() > 16;
        let run = &mut groups.members[range];
        if large {
            run.sort_unstable();
        }
        for j in 0..run.len() {
            let a = run[j].index as usize;
            for l in j + 1..run.len() {
                if run[l].hash != run[j].hash {
                    if large {
                        break; // sorted: no later entry has this hash
                    }
                    continue;
                }
                let b = run[l].index as usize;
                if hashes[a] != hashes[b] {
                    // The conditioning merged two distinct hashes: not a
                    // collision of the user's hashes (that seed fails).
                    continue;
                }
                if key_of(&items[a]) == key_of(&items[b]) {
                    // Indices increase along a run of equal hashes, so
                    // `run[l]` is the later entry: its value wins, and it
                    // takes the earlier key, as std's map keeps the first
                    // key it was given.
                    if removed.is_empty() {
                        removed = vec![false; items.len()];
                    }
                    let (earlier, later) = items.split_at_mut(b);
                    if let (Some(earlier), Some(later)) = (&mut earlier[a], &mut later[0]) {
                        core::mem::swap(&mut earlier.0, &mut later.0);
                    }
                    removed[a] = true;
                    break;
                }
                collision = true;
                if give_up {
                    break 'runs;
                }
            }
        }
    }
    if removed.is_empty() {
        return (collision, false);
    }
    let mut i = 0;
    hashes.retain(|_| {
        i += 1;
        !removed[i - 1]
    });
    let mut i = 0;
    items.retain(|_| {
        i += 1;
        !removed[i - 1]
    });
    (collision, true)
}

/// Keeps one entry of each set of equal keys, comparing all pairs (few
/// entries): the last value, with the first key (as std's map).
fn dedup_scan<K: Eq, V>(items: &mut Vec<(K, V)>) {
    let mut i = 0;
    while i < items.len() {
        if let Some(later) = items[i + 1..].iter().position(|(k, _)| *k == items[i].0) {
            let (earlier, rest) = items.split_at_mut(i + 1);
            core::mem::swap(&mut earlier[i].0, &mut rest[later].0);
            items.remove(i);
        } else {
            i += 1;
        }
    }
}

/// An entry while the store is built: every one is `Some` until [`gather`]
/// takes it to its slot. (Taking from a slice of options, in slot order,
/// is how safe code moves the entries into place without a copy of the
/// array: measured at N = 1e5, the gather took 4.2 ns per `u64` pair and
/// 9.0 per 72-byte pair, where scattering them into a `Vec<Option<_>>` and
/// unwrapping that took 5.0 and 15.8.)
type Item<K, V> = Option<(K, V)>;

/// The key of an item not yet taken.
#[inline]
fn key_of<K, V>(item: &Item<K, V>) -> &K {
    &item
        .as_ref()
        .expect("an item is taken only by the gather")
        .0
}

/// The items, in the order of `src`: slot `s` gets `items[src[s]]`.
///
/// `src` is a permutation of `0..items.len()` built by the store itself
/// (the pilot search never gives two entries one slot, and the remap fills
/// each free slot once), or the order of a sort. The code stays sound, and
/// leaks nothing, even if it were not: an index listed twice panics at its
/// second take, and an item never listed is dropped with `items`.
fn gather<K, V>(mut items: Vec<Item<K, V>>, src: &[u32]) -> Vec<(K, V)> {
    assert_eq!(src.len(), items.len(), "one source per slot");
    src.iter()
        .map(|&i| items[i as usize].take().expect("src is a permutation"))
        .collect()
}

/// [`gather`] into two arrays, the keys and the values, in one pass (no
/// unzipped copy of the pairs first: measured at 1e5 entries with 1 KiB
/// values, the build was mostly page faults and `memmove` of fresh arrays,
/// and an unzip was one of three 100 MB copies).
fn gather_apart<K, V>(mut items: Vec<Item<K, V>>, src: &[u32]) -> (Vec<K>, Vec<Padded<V>>) {
    assert_eq!(src.len(), items.len(), "one source per slot");
    let mut keys = Vec::with_capacity(src.len());
    let mut values = Vec::with_capacity(src.len());
    for &i in src {
        let (key, value) = items[i as usize].take().expect("src is a permutation");
        keys.push(key);
        values.push((value, 0));
    }
    (keys, values)
}

// ---------------------------------------------------------------------------
// The store

/// A hash map built once and then only read: the key set never changes,
/// values can (`get_mut`, `values_mut`).
///
/// Built from an iterator ([`FromIterator`], [`from_iter_with_hasher`]; a
/// duplicate key keeps the last value and the first key, as `HashMap` does) or from any map of
/// this crate ([`From<MapStore>`](#impl-From%3CMap%3CK,+V,+St,+S%3E%3E-for-FrozenStore%3CK,+V,+S%3E)).
/// Its layout is picked then, from `K`, `V` and the exact number of entries,
/// with no empty buckets and no tombstones; [`plan`](FrozenStore::plan) shows
/// it. See [the module](crate::frozen) for the layouts.
///
/// `keys()`, `values()`, `values_mut()`, `iter()` and `into_iter()` walk the
/// entries in one order (the order of the store's slots, not the insertion
/// order).
///
/// ```
/// use mapstore::FrozenStore;
///
/// let routes: FrozenStore<&str, u16> =
///     [("/", 200), ("/admin", 403), ("/old", 301), ("/old", 308)].into_iter().collect();
/// assert_eq!(routes.len(), 3);
/// assert_eq!(routes["/old"], 308); // the last duplicate wins
/// assert_eq!(routes.get("/missing"), None);
/// println!("{}", routes.plan());
/// ```
///
/// [`from_iter_with_hasher`]: FrozenStore::from_iter_with_hasher
pub struct FrozenStore<K, V, S = DefaultHashBuilder> {
    entries: Slots<K, V>,
    lookup: Lookup,
    hash_builder: S,
}

// Unwind safety with std's `HashMap`'s bounds, stated so that an unmet one
// names the key, value or hasher type and the store, not the entries'
// private arrays (`tests/static.rs` checks each against std's). The store
// holds no interior mutability of its own: only `K`, `V` and `S` decide.
impl<K: UnwindSafe, V: UnwindSafe, S: UnwindSafe> UnwindSafe for FrozenStore<K, V, S> {}
impl<K: RefUnwindSafe, V: RefUnwindSafe, S: RefUnwindSafe> RefUnwindSafe for FrozenStore<K, V, S> {}

impl<K: Hash + Eq, V, S: BuildHasher> FrozenStore<K, V, S> {
    /// Builds a store from `iter`, hashing with `hash_builder`. A duplicate
    /// key keeps its last value and its first key, as `HashMap` does.
    ///
    /// Panics if there are more than `u32::MAX` entries. If `K`'s `Hash` or
    /// `Eq`, or the iterator, panics, every entry taken so far is dropped
    /// once and nothing leaks.
    ///
    /// ```
    /// use mapstore::{DefaultHashBuilder, FrozenStore};
    ///
    /// let squares = FrozenStore::from_iter_with_hasher(
    ///     (0..100u32).map(|i| (i, i * i)),
    ///     DefaultHashBuilder::default(),
    /// );
    /// assert_eq!(squares[&9], 81);
    /// ```
    pub fn from_iter_with_hasher<I: IntoIterator<Item = (K, V)>>(iter: I, hash_builder: S) -> Self {
        Self::build(iter.into_iter().map(Some).collect(), hash_builder)
    }

    /// The store of `items`, every one of which is `Some`.
    fn build(mut items: Vec<Item<K, V>>, hash_builder: S) -> Self {
        assert!(
            u32::try_from(items.len()).is_ok(),
            "a FrozenStore holds at most u32::MAX entries"
        );
        if items.len() <= FrozenPlan::SCAN_MAX {
            return Self::scan(items, hash_builder);
        }
        // How to hash the keys: a window of every key where one tells them
        // apart (tried only for keys whose `Hash` streams are long), else
        // the store's hasher. Equal keys have equal hashes either way, so
        // the dedup below removes duplicates whichever is tried, and says
        // whether distinct keys collide (then the next way is tried).
        let mut candidates: Vec<KeyHash> = Vec::with_capacity(3);
        let seed = hash_builder.hash_one(0x5eed_f20e_u64);
        if str_like::<K>() {
            // Strings of any length: their ends, where they tell the keys
            // apart (cheaper to hash than the whole string, and a short
            // string's compare reads nothing more).
            candidates.push(KeyHash::Ends(seed));
        }
        if windows_for::<K>() {
            let mut lens = StreamLen(0);
            items.iter().for_each(|item| key_of(item).hash(&mut lens));
            if lens.0 / items.len() >= WINDOW_FROM {
                candidates.extend([KeyHash::Head(seed), KeyHash::Tail(seed)]);
            }
        }
        if int_like::<K>() && values_spread(&items) {
            // Integers: their values where they spread as they are, else
            // the store's hasher.
            candidates.push(KeyHash::Value);
        }
        candidates.push(KeyHash::User);
        let buckets_for = |n: usize| (n / LAMBDA).max(2).next_power_of_two();
        let mut chosen = KeyHash::User;
        let mut hashes = Vec::new();
        let mut groups = None;
        let mut collision = false;
        let mut removed = false;
        // The search of the keys' values, where it placed them.
        let mut by_value = None;
        for hashing in candidates {
            // A window that already merges two distinct keys of a sample
            // (evenly spaced, up to `WINDOW_SAMPLE` keys) is skipped before
            // it hashes every key: url paths that share their first 16
            // bytes cost one pass, not two.
            let window = matches!(
                hashing,
                KeyHash::Head(_) | KeyHash::Tail(_) | KeyHash::Ends(_)
            );
            if window && window_merges_sample(&items, hashing) {
                continue;
            }
            hashes = items
                .iter()
                .map(|item| hashing.hash::<K, _, _>(&hash_builder, key_of(item)))
                .collect();
            // Duplicates meet in one bucket (equal keys, equal hashes).
            let mut grouped = Groups::new(&hashes, buckets_for(items.len()));
            let (collides, dropped) = dedup(&mut items, &mut hashes, &mut grouped, window);
            removed |= dropped;
            if hashing == KeyHash::Value {
                // Integer values are distinct. They are taken as they are
                // where they spread as well as random hashes (one search,
                // with the bound of the user's own hashes); values that do
                // not (`0..n`, strides) take the store's hasher instead, as
                // if they had not been tried, rather than a conditioning
                // mixer on every lookup.
                if items.len() <= FrozenPlan::SCAN_MAX {
                    return Self::scan(items, hash_builder);
                }
                if dropped {
                    grouped = Groups::new(&hashes, buckets_for(items.len()));
                }
                let limit = overflow_max(items.len(), true);
                if let Some(placed) = search(&grouped, items.len(), Some(limit)) {
                    by_value = Some(placed);
                    chosen = hashing;
                    collision = false;
                    break;
                }
                continue;
            }
            chosen = hashing;
            collision = collides;
            groups = Some(grouped);
            if !collision {
                break;
            }
        }
        // Duplicates are gone: at most `SCAN_MAX` distinct keys are scanned,
        // as that many pairs are (nine pairs of two keys are not hashed).
        if items.len() <= FrozenPlan::SCAN_MAX {
            return Self::scan(items, hash_builder);
        }
        // Attempt 0 takes the hashes as they are; the others condition
        // them, each with its own seed. But a window's hash (of the ends,
        // the first or the last bytes) takes a seed of its own on each
        // later attempt instead: its stores never condition, and a lookup
        // by a string skips the test for it (identifier misses at N = 1e3
        // 47.6 -> 43.1 instructions). The keys are hashed again, on the
        // rare build whose first attempt fails (2-5 % of the seeds for
        // some structured sets of 100 keys).
        let windowed = matches!(
            chosen,
            KeyHash::Head(_) | KeyHash::Tail(_) | KeyHash::Ends(_)
        );
        let conditioned = |hashes: &[u64], attempt: u64| -> Vec<u64> {
            if attempt == 0 {
                hashes.to_vec()
            } else if windowed {
                let hashing = chosen.reseeded(attempt);
                items
                    .iter()
                    .map(|item| hashing.hash_window(key_of(item)))
                    .collect()
            } else {
                let seed = splitmix(attempt);
                hashes.iter().map(|&h| condition(h, seed)).collect()
            }
        };
        let n = items.len();
        if !collision {
            // As many buckets as the distinct keys need, not the input
            // (a million pairs over nine keys want four buckets).
            let mut first = if by_value.is_some() {
                None
            } else {
                let groups = groups.expect("the store's hasher is always tried");
                (!removed).then_some(groups)
            };
            type Kept = (u64, u64, Placed, Vec<u64>);
            let mut kept: Option<Kept> =
                by_value.map(|placed| (0, splitmix(0), placed, Vec::new()));
            // Every attempt but the last gives up as soon as its overflow
            // passes [`overflow_max`]; the last one always finishes (and is
            // kept whatever its overflow: lookups stay correct).
            // (None to make where the keys' values were placed.)
            let attempts = if kept.is_some() { 0 } else { ATTEMPTS };
            for attempt in 0..attempts {
                let seed = splitmix(attempt);
                // Attempt 0's hashes are the user's own (no copy): its
                // conditioned hashes are `hashes`, kept below.
                let mixed = if attempt == 0 {
                    Vec::new()
                } else {
                    conditioned(&hashes, attempt)
                };
                let groups = first.take().unwrap_or_else(|| {
                    Groups::new(if attempt == 0 { &hashes } else { &mixed }, buckets_for(n))
                });
                let limit = (attempt + 1 < ATTEMPTS).then(|| overflow_max(n, attempt == 0));
                let placed = search(&groups, n, limit);
                drop(groups);
                if let Some(placed) = placed {
                    kept = Some((attempt, seed, placed, mixed));
                    break;
                }
            }
            let (attempt, seed, placed, mixed) = kept.expect("one attempt is kept");
            let (hashing, conditioned) = if windowed {
                (chosen.reseeded(attempt), false)
            } else {
                (chosen, attempt > 0)
            };
            let tags = if fingerprints_pay::<K, V>(n) {
                let mixed = if attempt == 0 { &hashes } else { &mixed };
                placed
                    .src
                    .iter()
                    .map(|&i| tag_of(mixed[i as usize]))
                    .collect()
            } else {
                Vec::new()
            };
            drop((hashes, mixed));
            let short_keys = if matches!(chosen, KeyHash::Ends(_)) {
                items
                    .iter()
                    .filter(|item| {
                        let mut len = StreamLen(0);
                        key_of(item).hash(&mut len);
                        len.0 <= ENDS_EXACT + 1
                    })
                    .count()
            } else {
                0
            };
            return FrozenStore {
                entries: Slots::gathered(items, &placed.src),
                lookup: Lookup::Perfect(Perfect {
                    hashing,
                    seed,
                    attempt: attempt as u8,
                    conditioned,
                    n,
                    pilots: placed.pilots.into_boxed_slice(),
                    overflow: placed.overflow.into_boxed_slice(),
                    remap: placed.remap.into_boxed_slice(),
                    moved: placed.moved,
                    plain: !conditioned && tags.is_empty(),
                    user_raw: !conditioned && hashing == KeyHash::User,
                    short_keys,
                    tags: tags.into_boxed_slice(),
                }),
                hash_builder,
            };
        }
        // The fallback: sorted by hash.
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_unstable_by_key(|&i| hashes[i as usize]);
        hashes.sort_unstable();
        FrozenStore {
            entries: Slots::gathered(items, &order),
            lookup: Lookup::Sorted {
                hashes: hashes.into_boxed_slice(),
                collision,
            },
            hash_builder,
        }
    }
}

impl<K: Eq, V, S> FrozenStore<K, V, S> {
    /// The store of a few `items` (every one `Some`), which lookups scan.
    fn scan(items: Vec<Item<K, V>>, hash_builder: S) -> Self {
        let mut items: Vec<(K, V)> = items.into_iter().flatten().collect();
        dedup_scan(&mut items);
        FrozenStore {
            entries: Slots::new(items),
            lookup: Lookup::Scan,
            hash_builder,
        }
    }
}

/// SplitMix64, for the per-attempt seeds.
pub(crate) const fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl<K, V, S> FrozenStore<K, V, S> {
    /// The number of entries.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<u8, u8> = [(1, 2), (1, 3)].into_iter().collect();
    /// assert_eq!(store.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store has no entries.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<u8, u8> = Default::default();
    /// assert!(store.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The store's hasher.
    ///
    /// ```
    /// use mapstore::{DefaultHashBuilder, FrozenStore};
    /// let store = FrozenStore::from_iter_with_hasher([(1, 1)], DefaultHashBuilder::default());
    /// let _hasher: &DefaultHashBuilder = store.hasher();
    /// ```
    pub fn hasher(&self) -> &S {
        &self.hash_builder
    }

    /// The bytes this store holds on the heap: its entries and its index
    /// (not the keys' and values' own heap memory). Exact: the store
    /// allocates nothing else.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<u64, u64> = (0..1000).map(|i| (i, i)).collect();
    /// assert!(store.memory_usage() >= 1000 * 16);
    /// assert!(store.memory_usage() <= 1000 * 19);
    /// ```
    pub fn memory_usage(&self) -> usize {
        self.entries.bytes()
            + match &self.lookup {
                Lookup::Scan => 0,
                Lookup::Perfect(p) => p.bytes(),
                Lookup::Sorted { hashes, .. } => hashes.len() * size_of::<u64>(),
            }
    }

    /// The layout this store picked when it was built, and why.
    ///
    /// ```
    /// use std::hash::{BuildHasherDefault, DefaultHasher};
    /// use mapstore::{FrozenIndex, FrozenStore};
    ///
    /// let small: FrozenStore<u64, u64> = (0..4).map(|i| (i, i)).collect();
    /// assert_eq!(small.plan().index, FrozenIndex::Scan);
    ///
    /// // A fixed hasher (SipHash with zero keys): the same layout in every
    /// // process, whatever the default hasher's seed.
    /// let fixed = BuildHasherDefault::<DefaultHasher>::default();
    /// let large = FrozenStore::from_iter_with_hasher((0..1000u64).map(|i| (i, [0u8; 256])), fixed);
    /// let plan = large.plan();
    /// assert_eq!(plan.index, FrozenIndex::Perfect);
    /// assert!(plan.values_apart);
    /// println!("{plan}");
    /// ```
    pub fn plan(&self) -> FrozenPlan {
        let (index, buckets, overflow, fingerprints, collision, seeds) = match &self.lookup {
            Lookup::Scan => (FrozenIndex::Scan, 0, 0, false, false, 0),
            Lookup::Perfect(p) => (
                FrozenIndex::Perfect,
                p.pilots.len(),
                p.overflow.len(),
                !p.tags.is_empty(),
                false,
                u32::from(p.attempt) + 1,
            ),
            Lookup::Sorted { collision, .. } => {
                let seeds = if *collision { 0 } else { ATTEMPTS as u32 };
                (FrozenIndex::Sorted, 0, 0, false, *collision, seeds)
            }
        };
        let (spare_slots, moved) = match &self.lookup {
            Lookup::Perfect(p) => (p.remap.len(), p.moved),
            _ => (0, 0),
        };
        FrozenPlan {
            key_type: core::any::type_name::<K>(),
            value_type: core::any::type_name::<V>(),
            key_size: size_of::<K>(),
            value_size: size_of::<V>(),
            len: self.len(),
            index,
            values_apart: Slots::<K, V>::APART,
            fingerprints,
            buckets,
            overflow,
            spare_slots,
            moved,
            hash_collision: collision,
            seeds_tried: seeds,
            hash_conditioned: matches!(&self.lookup, Lookup::Perfect(p) if p.conditioned),
            hash_window: match &self.lookup {
                Lookup::Perfect(p) => match p.hashing {
                    KeyHash::User => None,
                    KeyHash::Head(_) => Some("first"),
                    KeyHash::Tail(_) => Some("last"),
                    KeyHash::Ends(_) => Some("ends"),
                    KeyHash::Value => Some("value"),
                },
                _ => None,
            },
            short_compare: match &self.lookup {
                Lookup::Perfect(p) => p.short_keys,
                _ => 0,
            },
            bytes: self.memory_usage(),
        }
    }

    /// The entries, in the store's order.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<u8, u8> = (0..20).map(|i| (i, i + 1)).collect();
    /// assert!(store.iter().all(|(k, v)| *v == k + 1));
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            e: self.entries.0.iter(),
            k: self.entries.1.iter(),
            v: self.entries.2.iter(),
        }
    }

    /// The entries with mutable values, in the store's order.
    ///
    /// ```
    /// let mut store: mapstore::FrozenStore<u8, u8> = (0..20).map(|i| (i, i)).collect();
    /// for (_, v) in store.iter_mut() {
    ///     *v *= 2;
    /// }
    /// assert_eq!(store[&7], 14);
    /// ```
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        IterMut {
            e: self.entries.0.iter_mut(),
            k: self.entries.1.iter_mut(),
            v: self.entries.2.iter_mut(),
        }
    }

    /// The keys, in the order of [`iter`](FrozenStore::iter).
    ///
    /// ```
    /// let store: mapstore::FrozenStore<u8, char> = [(1, 'a'), (2, 'b')].into_iter().collect();
    /// let mut keys: Vec<u8> = store.keys().copied().collect();
    /// keys.sort();
    /// assert_eq!(keys, [1, 2]);
    /// ```
    pub fn keys(&self) -> Keys<'_, K, V> {
        Keys {
            e: self.entries.0.iter(),
            k: self.entries.1.iter(),
        }
    }

    /// The values, in the order of [`keys`](FrozenStore::keys). Where
    /// the plan keeps values apart this walks one slice of values alone.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<u8, u32> = (0..50).map(|i| (i, u32::from(i))).collect();
    /// assert_eq!(store.values().sum::<u32>(), (0..50).sum());
    /// assert!(store.keys().zip(store.values()).all(|(k, v)| u32::from(*k) == *v));
    /// ```
    pub fn values(&self) -> Values<'_, K, V> {
        Values {
            e: self.entries.0.iter(),
            v: self.entries.2.iter(),
        }
    }

    /// The values, mutably, in the order of [`keys`](FrozenStore::keys).
    ///
    /// ```
    /// let mut store: mapstore::FrozenStore<u8, u32> = (0..50).map(|i| (i, 1)).collect();
    /// store.values_mut().for_each(|v| *v += 1);
    /// assert_eq!(store.values().sum::<u32>(), 100);
    /// ```
    pub fn values_mut(&mut self) -> ValuesMut<'_, K, V> {
        ValuesMut {
            e: self.entries.0.iter_mut(),
            v: self.entries.2.iter_mut(),
        }
    }

    /// The keys by value, in the order of [`keys`](FrozenStore::keys); the
    /// values are dropped.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<u8, String> =
    ///     (0..20).map(|i| (i, i.to_string())).collect();
    /// let order: Vec<u8> = store.keys().copied().collect();
    /// assert_eq!(store.into_keys().collect::<Vec<_>>(), order);
    /// ```
    pub fn into_keys(self) -> IntoKeys<K, V> {
        let (e, k, v) = self.entries;
        drop(v);
        IntoKeys {
            e: e.into_vec().into_iter(),
            k: k.into_vec().into_iter(),
        }
    }

    /// The values by value, in the order of [`keys`](FrozenStore::keys);
    /// the keys are dropped.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<String, u8> =
    ///     (0..20).map(|i| (i.to_string(), i)).collect();
    /// let order: Vec<u8> = store.values().copied().collect();
    /// assert_eq!(store.into_values().collect::<Vec<_>>(), order);
    /// ```
    pub fn into_values(self) -> IntoValues<K, V> {
        let (e, k, v) = self.entries;
        drop(k);
        IntoValues {
            e: e.into_vec().into_iter(),
            v: v.into_vec().into_iter(),
        }
    }
}

impl<K: Hash, V, S: BuildHasher> FrozenStore<K, V, S> {
    /// The slot of `key`, if present.
    #[inline]
    fn find<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) -> Option<usize> {
        match &self.lookup {
            Lookup::Perfect(p) => {
                let x = p.condition(p.hashing.hash::<K, _, _>(&self.hash_builder, key));
                let (i, pilot) = p.probe(x);
                let i = p.resolve(i, p.n);
                if p.tag_allows(i, x) && self.entries.pair_if(i, key, &[]).is_some() {
                    return Some(i);
                }
                if pilot != OVERFLOW {
                    return None;
                }
                p.overflow(x)
                    .iter()
                    .map(|&(_, s)| s as usize)
                    .find(|&s| key.equivalent(self.entries.key(s)))
            }
            Lookup::Scan => match self.entries.view() {
                Entries::Inline(e) => e.iter().position(|(k, _)| key.equivalent(k)),
                Entries::Apart(k, _) => k.iter().position(|k| key.equivalent(k)),
            },
            Lookup::Sorted { hashes, .. } => {
                let hash = self.hash_builder.hash_one(key);
                let start = hashes.partition_point(|&h| h < hash);
                hashes[start..]
                    .iter()
                    .take_while(|&&h| h == hash)
                    .enumerate()
                    .find(|&(at, _)| key.equivalent(self.entries.key(start + at)))
                    .map(|(at, _)| start + at)
            }
        }
    }

    /// The value of `key`.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<String, u8> =
    ///     [("a".to_string(), 1)].into_iter().collect();
    /// assert_eq!(store.get("a"), Some(&1));
    /// assert_eq!(store.get("b"), None);
    /// ```
    #[inline(always)]
    pub fn get<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) -> Option<&V> {
        self.lookup(key, |_, v| v)
    }

    /// The stored key and the value of `key`.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<String, u8> =
    ///     [("a".to_string(), 1)].into_iter().collect();
    /// assert_eq!(store.get_key_value("a"), Some((&"a".to_string(), &1)));
    /// ```
    #[inline(always)]
    pub fn get_key_value<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) -> Option<(&K, &V)> {
        self.lookup(key, |k, v| (k, v))
    }

    /// The lookup behind [`get`](FrozenStore::get) and
    /// [`get_key_value`](FrozenStore::get_key_value): `out` picks what a hit
    /// returns. Each return applies it where it has the pair, so that
    /// `get`'s hit returns the value's pointer at once; finding the pair
    /// first and mapping it after the overflow's call merged the two paths
    /// into a flag that every hit then tested (3 instructions more per hit,
    /// and `u64` hits at N = 1e5 0.90 -> 1.00 of hashbrown's time).
    #[inline(always)]
    fn lookup<'a, Q: Hash + Equivalent<K> + ?Sized, R>(
        &'a self,
        key: &Q,
        out: impl FnOnce(&'a K, &'a V) -> R,
    ) -> Option<R> {
        // The perfect hash in one step: the probed slot's fingerprint and
        // key, then one match on the entries that yields the pair (measured
        // faster than finding the slot first and matching again). A key of
        // an overflow bucket fails the probe and is found in the overflow.
        if let Lookup::Perfect(p) = &self.lookup {
            // Keys with drop glue always have fingerprints (a constant of
            // `K`); other keys test one flag (no conditioning, no
            // fingerprints), which LLVM hoists out of the caller's loop:
            // the plain probe is then the hash, the pilot, the slot and the
            // key, 28 instructions per `u64` hit (hashbrown: 34).
            if core::mem::needs_drop::<K>() {
                // A string looked up by a string, the store hashing their
                // ends: the ends' reads also settle a short key's compare.
                if str_like::<K>() && str_like::<Q>() {
                    if let KeyHash::Ends(seed) = p.hashing {
                        return self.get_str(p, seed, key).map(|(k, v)| out(k, v));
                    }
                }
                let x = if p.user_raw {
                    self.hash_builder.hash_one(key)
                } else {
                    p.condition(p.hashing.hash::<K, _, _>(&self.hash_builder, key))
                };
                let (i, pilot) = p.probe_in(x, self.entries.len());
                if p.tag_allows(i, x) {
                    if let Some(pair) = self.entries.pair_if(i, key, &p.remap) {
                        return Some(out(pair.0, pair.1));
                    }
                }
                if pilot != OVERFLOW {
                    return None;
                }
            } else if p.plain {
                let x = p.hashing.hash::<K, _, _>(&self.hash_builder, key);
                let (i, pilot) = p.probe_in(x, self.entries.len());
                if let Some(pair) = self.entries.pair_if(i, key, &p.remap) {
                    return Some(out(pair.0, pair.1));
                }
                if pilot != OVERFLOW {
                    return None;
                }
            } else {
                return self.get_perfect(p, key).map(|(k, v)| out(k, v));
            }
        }
        self.get_elsewhere(key).map(|(k, v)| out(k, v))
    }

    /// The perfect hash's lookup of a [`str_like`] query in a store of
    /// [`str_like`] keys hashed by [`KeyHash::Ends`]: the query's reads
    /// give its hash inline, and where the query is at most [`ENDS_EXACT`]
    /// bytes long the stored key's same reads settle the compare: equal
    /// lengths and equal reads of strings that short are equal strings, so
    /// a short key's hit or miss calls no `memcmp` (the stored key's bytes
    /// are read once, by two loads). Longer queries are compared with
    /// `Equivalent`.
    #[inline(always)]
    fn get_str<Q: Hash + Equivalent<K> + ?Sized>(
        &self,
        p: &Perfect,
        seed: u64,
        key: &Q,
    ) -> Option<(&K, &V)> {
        let query = StrEnds::of(key);
        // A window's store is never conditioned (its later attempts
        // reseed the window).
        debug_assert!(!p.conditioned);
        let x = query.hash(seed);
        let (i, pilot) = p.probe_in(x, self.entries.len());
        if p.tag_allows(i, x) {
            if let Some((k, v)) = self.entries.pair_get(i, &p.remap) {
                let equal = if query.len <= ENDS_EXACT {
                    query.same_short_string(&StrEnds::of(k))
                } else {
                    key.equivalent(k)
                };
                if equal {
                    return Some((k, v));
                }
            }
        }
        if pilot != OVERFLOW {
            return None;
        }
        self.get_elsewhere(key)
    }

    /// The perfect hash's lookup with every check: conditioning and
    /// fingerprints.
    #[inline(always)]
    fn get_perfect<Q: Hash + Equivalent<K> + ?Sized>(
        &self,
        p: &Perfect,
        key: &Q,
    ) -> Option<(&K, &V)> {
        let x = p.condition(p.hashing.hash::<K, _, _>(&self.hash_builder, key));
        let (i, pilot) = p.probe(x);
        if p.tag_allows(i, x) {
            if let Some(pair) = self.entries.pair_if(i, key, &p.remap) {
                return Some(pair);
            }
        }
        if pilot != OVERFLOW {
            return None;
        }
        self.get_elsewhere(key)
    }

    /// [`get_key_value`](FrozenStore::get_key_value) for the overflow, the
    /// scan and the sorted layouts: out of line, so that the perfect hash's
    /// probe stays small enough to inline into the caller's loop.
    #[inline(never)]
    fn get_elsewhere<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) -> Option<(&K, &V)> {
        self.find(key).map(|i| self.entries.pair(i))
    }

    /// Whether `key` is in the store.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<u32, ()> = (0..100).map(|i| (i, ())).collect();
    /// assert!(store.contains_key(&99));
    /// assert!(!store.contains_key(&100));
    /// ```
    #[inline]
    pub fn contains_key<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) -> bool {
        self.find(key).is_some()
    }

    /// The values of many keys, in their order: an iterator yielding
    /// `self.get(key)` for each key of `keys`.
    ///
    /// It looks the keys up [`BATCH`] at a time, in three passes over each
    /// batch (hash every key; load every bucket's pilot; compare every
    /// probed entry), so that the batch's memory loads are in flight
    /// together instead of one lookup's chain after another's: PtrHash's
    /// streaming queries, in safe code (no prefetch instruction). It pays
    /// where the store does not fit in the cache and a lookup is long
    /// (keys with drop glue, such as `String`: a long hash, a compare that
    /// reads the key's heap); `docs/frozen.md` has the measurements. Other
    /// keys (`u64`, whose `get` loop the processor already overlaps) and
    /// stores whose entries fit in 1 MiB look the keys up one after
    /// another.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<String, u32> =
    ///     (0..100).map(|i| (format!("k{i}"), i)).collect();
    /// let found: Vec<Option<&u32>> = store.get_many(["k1", "k99", "nope"]).collect();
    /// assert_eq!(found, [Some(&1), Some(&99), None]);
    /// let sum: u32 = store.get_many(["k2", "k3"]).flatten().sum();
    /// assert_eq!(sum, 5);
    /// ```
    pub fn get_many<'a, 'q, Q, I>(&'a self, keys: I) -> GetMany<'a, 'q, K, V, S, Q, I::IntoIter>
    where
        Q: Hash + Equivalent<K> + ?Sized + 'q,
        I: IntoIterator<Item = &'q Q>,
    {
        GetMany {
            store: self,
            // In cache, or for keys whose lookup is short (no drop glue: a
            // `u64`), one lookup after another is faster (measured: the
            // passes cost more than the loads they overlap; the out-of-order
            // core already overlaps a loop of short independent lookups).
            batched: core::mem::needs_drop::<K>()
                && matches!(self.lookup, Lookup::Perfect(_))
                && self.entries.bytes() > BATCH_ABOVE,
            keys: keys.into_iter(),
            found: [None; BATCH],
            at: 0,
            len: 0,
            _keys: core::marker::PhantomData,
        }
    }

    /// Looks up `keys` (at most [`BATCH`]) into `found`, in three passes.
    #[inline]
    fn get_batch<'a, Q: Hash + Equivalent<K> + ?Sized>(
        &'a self,
        keys: &[&Q],
        found: &mut [Option<&'a V>; BATCH],
    ) {
        let Lookup::Perfect(p) = &self.lookup else {
            for (key, out) in keys.iter().zip(found.iter_mut()) {
                *out = self.get(*key);
            }
            return;
        };
        let mut hashes = [0u64; BATCH];
        for (key, x) in keys.iter().zip(hashes.iter_mut()) {
            *x = p.condition(p.hashing.hash::<K, _, _>(&self.hash_builder, key));
        }
        let mut probes = [(0usize, 0u8); BATCH];
        for (x, probe) in hashes.iter().zip(probes.iter_mut()) {
            *probe = p.probe(*x);
        }
        for (j, key) in keys.iter().enumerate() {
            let (i, pilot) = probes[j];
            let x = hashes[j];
            let mut hit = None;
            if p.tag_allows(i, x) {
                hit = self.entries.pair_if(i, *key, &p.remap).map(|(_, v)| v);
            }
            if hit.is_none() && pilot == OVERFLOW {
                hit = self.get_elsewhere(*key).map(|(_, v)| v);
            }
            found[j] = hit;
        }
    }

    /// The value of `key`, mutably (values change; keys never do).
    ///
    /// ```
    /// let mut store: mapstore::FrozenStore<u32, u32> = (0..100).map(|i| (i, i)).collect();
    /// *store.get_mut(&7).unwrap() += 100;
    /// assert_eq!(store[&7], 107);
    /// assert!(store.get_mut(&100).is_none());
    /// ```
    #[inline]
    pub fn get_mut<Q: Hash + Equivalent<K> + ?Sized>(&mut self, key: &Q) -> Option<&mut V> {
        let i = self.find(key)?;
        Some(self.entries.value_mut(i))
    }
}

// ---------------------------------------------------------------------------
// The plan

/// How a [`FrozenStore`] finds a key.
///
/// ```
/// use std::hash::{BuildHasherDefault, DefaultHasher};
/// use mapstore::{FrozenIndex, FrozenStore};
///
/// let fixed = BuildHasherDefault::<DefaultHasher>::default(); // same layout in every process
/// let store = FrozenStore::from_iter_with_hasher((0..100u8).map(|i| (i, i)), fixed);
/// assert_eq!(store.plan().index, FrozenIndex::Perfect);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrozenIndex {
    /// Compares the key with every stored key: at most
    /// [`FrozenPlan::SCAN_MAX`] entries, no hashing.
    Scan,
    /// A minimal perfect hash: one pilot load, one entry load.
    Perfect,
    /// Sorted by hash, binary search: the fallback when distinct keys share
    /// a 64-bit hash (a weak or constant hasher). A perfect hash is always
    /// found otherwise: its overflow table takes what the search leaves.
    Sorted,
}

impl FrozenIndex {
    /// A short lowercase name.
    ///
    /// ```
    /// assert_eq!(mapstore::FrozenIndex::Perfect.name(), "perfect hash");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            FrozenIndex::Scan => "linear scan",
            FrozenIndex::Perfect => "perfect hash",
            FrozenIndex::Sorted => "sorted by hash",
        }
    }
}

/// The layout a [`FrozenStore`] picked when it was built. Its `Display` is
/// one line: what, why, `N` and bytes per entry.
///
/// ```
/// use std::hash::{BuildHasherDefault, DefaultHasher};
/// use mapstore::FrozenStore;
///
/// let fixed = BuildHasherDefault::<DefaultHasher>::default(); // same layout in every process
/// let store =
///     FrozenStore::from_iter_with_hasher((0..1000u64).map(|i| (i.to_string(), [i; 32])), fixed);
/// let plan = store.plan();
/// assert!(plan.values_apart);
/// assert_eq!(plan.len, 1000);
/// let line = plan.to_string();
/// assert!(line.starts_with("FrozenStore<String, [u64; 32]>: perfect hash"), "{line}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrozenPlan {
    /// `K`'s type name.
    pub key_type: &'static str,
    /// `V`'s type name.
    pub value_type: &'static str,
    /// `size_of::<K>()`.
    pub key_size: usize,
    /// `size_of::<V>()`.
    pub value_size: usize,
    /// The number of entries.
    pub len: usize,
    /// How a key is found.
    pub index: FrozenIndex,
    /// Whether values live in their own array (true) or beside their keys.
    pub values_apart: bool,
    /// Whether one hash byte per slot rejects misses before the key is read.
    pub fingerprints: bool,
    /// Buckets of the perfect hash (one 8-bit pilot each); 0 otherwise.
    pub buckets: usize,
    /// Keys of the perfect hash's buckets that no pilot placed: they take
    /// the slots left free, found through a small sorted side table (a
    /// lookup of such a key misses its probe first). About 0.05% of the
    /// keys.
    pub overflow: usize,
    /// For [`FrozenIndex::Perfect`]: slots past the `len` entries that the
    /// search may place keys on (`len / 128`), so that the last buckets
    /// placed still find a free slot in a few tries.
    pub spare_slots: usize,
    /// Keys that the search placed on a spare slot: each is stored in a
    /// slot that no key took, found through a small table that only a
    /// probe landing on a spare slot reads (about 0.8% of the keys).
    pub moved: usize,
    /// Whether distinct keys shared a 64-bit hash: what sends a store to
    /// [`FrozenIndex::Sorted`] (the only way there).
    pub hash_collision: bool,
    /// How many attempts the perfect hash's search made: the first takes
    /// the user's hashes as they are, each later one conditions them anew
    /// with its own seed (or, for a window's hash, seeds the window anew);
    /// 0 for a scan or when distinct keys share a hash (no search).
    pub seeds_tried: u32,
    /// Whether the perfect hash conditions the user's hashes (a folded
    /// multiply with a seed) before they pick buckets and slots. The build
    /// first tries the hashes as they are and keeps them where they spread
    /// as well as random ones (a lookup then skips the multiply); keys and
    /// hashers whose hashes are structured (an identity hasher's integers)
    /// get conditioned ones. A store that hashes a window of its keys
    /// ([`hash_window`](Self::hash_window)) is never conditioned: each
    /// later attempt seeds the window's hash anew.
    pub hash_conditioned: bool,
    /// `Some("first")` or `Some("last")` where the perfect hash hashes only
    /// that window of 16 bytes of each key's `Hash` stream (with the
    /// stream's length), because it tells these keys apart: cheaper than
    /// hashing a long key whole. `None`: the store's hasher, whole key.
    /// Tried for keys whose streams average at least 17 bytes (strings).
    ///
    /// `Some("ends")` for string keys (`String`, `Box<str>`, `&str`) whose
    /// first and last 8 bytes (overlapping) and length tell them apart,
    /// tried before the others for strings of any length: the perfect hash
    /// then hashes those two reads with one multiply (see
    /// [`short_compare`](FrozenPlan::short_compare)).
    ///
    /// `Some("value")` for integer keys (`u8` to `u64`, `usize`, `i8` to
    /// `i64`, `isize`, `char`, `bool`) whose values spread as well as random
    /// hashes (random identifiers, hashes): each key's value is its hash,
    /// and a lookup calls no hasher. Integer keys whose values do not
    /// (`0..n`, multiples of a stride) are hashed by the store's hasher
    /// (`None`).
    ///
    /// ```
    /// use mapstore::FrozenStore;
    /// // Identifiers as random as hashes (MurmurHash3's finalizer of 0..1000).
    /// let mix = |mut x: u64| {
    ///     x = (x ^ (x >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    ///     x = (x ^ (x >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    ///     x ^ (x >> 33)
    /// };
    /// let ids: FrozenStore<u64, u32> = (0..1000u64).map(|i| (mix(i), 0)).collect();
    /// assert_eq!(ids.plan().hash_window, Some("value"));
    /// let sequential: FrozenStore<u64, u32> = (0..1000u64).map(|i| (i, 0)).collect();
    /// assert_eq!(sequential.plan().hash_window, None);
    /// ```
    pub hash_window: Option<&'static str>,
    /// With `hash_window == Some("ends")`: how many keys are at most 16
    /// bytes long. Such a key lies whole in the two reads taken for its
    /// hash, so a lookup by a string (`&str`, `String`) compares it from
    /// those reads and the stored key's same two loads, with no call to
    /// `Eq` (`memcmp`); a longer key is compared with `Eq` after the
    /// probe. 0 otherwise.
    pub short_compare: usize,
    /// [`FrozenStore::memory_usage`].
    pub bytes: usize,
}

impl FrozenPlan {
    /// Stores of at most this many entries use [`FrozenIndex::Scan`].
    ///
    /// ```
    /// assert_eq!(mapstore::FrozenPlan::SCAN_MAX, 8);
    /// ```
    pub const SCAN_MAX: usize = 8;

    /// Values larger than this many bytes are stored apart from the keys.
    ///
    /// ```
    /// assert_eq!(mapstore::FrozenPlan::APART_ABOVE, 64);
    /// ```
    pub const APART_ABOVE: usize = 64;

    /// Heap bytes per entry (`bytes / len`; 0 when empty).
    ///
    /// ```
    /// let store: mapstore::FrozenStore<u64, u64> = (0..1000).map(|i| (i, i)).collect();
    /// assert!(store.plan().bytes_per_entry() < 19.0);
    /// ```
    pub fn bytes_per_entry(&self) -> f64 {
        if self.len == 0 {
            0.0
        } else {
            self.bytes as f64 / self.len as f64
        }
    }
}

/// Writes a type name without module paths: `alloc::string::String` as
/// `String`.
fn short_type(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    let mut rest = name;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let (path, tail) = rest.split_at(end);
        f.write_str(path.rsplit("::").next().unwrap_or(path))?;
        let punct = tail
            .find(|c: char| c.is_alphanumeric() || c == '_')
            .unwrap_or(tail.len());
        f.write_str(&tail[..punct])?;
        rest = &tail[punct..];
    }
    Ok(())
}

impl fmt::Display for FrozenPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FrozenStore<")?;
        short_type(f, self.key_type)?;
        f.write_str(", ")?;
        short_type(f, self.value_type)?;
        let entries = if self.len == 1 { "entry" } else { "entries" };
        write!(f, ">: {} over {} {entries} (", self.index.name(), self.len)?;
        if self.hash_window == Some("ends") {
            write!(
                f,
                "hashing only the first and last 8 bytes of each key and its length (they tell these keys apart; {} of the {} keys are at most 16 bytes and compared from those reads, no memcmp), ",
                self.short_compare, self.len
            )?;
        } else if self.hash_window == Some("value") {
            f.write_str("hashing each key as its own integer value, no hasher called, ")?;
        } else if let Some(window) = self.hash_window {
            write!(
                f,
                "hashing only the {window} 16 bytes of each key and its length (they tell these keys apart), "
            )?;
        }
        match self.index {
            FrozenIndex::Scan => write!(
                f,
                "at most {}: comparing keys beats hashing",
                FrozenPlan::SCAN_MAX
            )?,
            FrozenIndex::Perfect => {
                if self.hash_window == Some("value") {
                    // The values are tried once, as they are (no seeds).
                    f.write_str("one search")?;
                } else {
                    write!(
                        f,
                        "{}, attempt {} of {ATTEMPTS}",
                        if self.hash_conditioned {
                            "hashes conditioned by a mixer"
                        } else if self.hash_window.is_some() && self.seeds_tried > 1 {
                            "the window's hash seeded anew"
                        } else {
                            "hashes used as they are"
                        },
                        self.seeds_tried
                    )?;
                }
                write!(
                    f,
                    "; {} buckets with 8-bit pilots, {} spare slots ({} keys moved off them), {} overflow key{}: one pilot and one entry per lookup",
                    self.buckets,
                    self.spare_slots,
                    self.moved,
                    self.overflow,
                    if self.overflow == 1 { "" } else { "s" }
                )?
            }
            FrozenIndex::Sorted if self.hash_collision => {
                f.write_str("distinct keys share a 64-bit hash: binary search, correct but slow")?
            }
            FrozenIndex::Sorted => write!(
                f,
                "no perfect hash found in {} attempts: binary search, correct but slow",
                self.seeds_tried
            )?,
        }
        if self.values_apart {
            write!(
                f,
                "), {}-byte keys dense and {}-byte values apart, padded off power-of-two strides (over {} bytes)",
                self.key_size,
                self.value_size,
                FrozenPlan::APART_ABOVE
            )?;
        } else {
            write!(
                f,
                "), entries inline ({}-byte key + {}-byte value, values of at most {} bytes stay beside their key: one probe reads both)",
                self.key_size,
                self.value_size,
                FrozenPlan::APART_ABOVE
            )?;
        }
        if self.fingerprints {
            f.write_str(", 1-byte fingerprints (a miss reads no entry)")?;
        }
        write!(f, "; {:.1} bytes per entry", self.bytes_per_entry())
    }
}

// ---------------------------------------------------------------------------
// Traits

impl<K: Hash + Eq, V, S: BuildHasher + Default> FromIterator<(K, V)> for FrozenStore<K, V, S> {
    /// Builds a store; a duplicate key keeps its last value and its first key.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<u8, u8> = [(1, 1), (1, 2)].into_iter().collect();
    /// assert_eq!(store[&1], 2);
    /// ```
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self::from_iter_with_hasher(iter, S::default())
    }
}

impl<K, V, St, S> From<Map<K, V, St, S>> for FrozenStore<K, V, S>
where
    K: Hash + Eq,
    St: Storage,
    S: BuildHasher + Clone,
{
    /// Freezes a map of this crate (`MapStore`, `InlineMap`, `BoxedMap`,
    /// `PooledMap`), keeping its hasher.
    ///
    /// ```
    /// use mapstore::{FrozenStore, MapStore};
    ///
    /// let mut map: MapStore<u32, String> = MapStore::new();
    /// map.insert(1, "one".into());
    /// let frozen = FrozenStore::from(map);
    /// assert_eq!(frozen[&1], "one");
    /// ```
    fn from(map: Map<K, V, St, S>) -> Self {
        let hash_builder = map.hasher().clone();
        Self::from_iter_with_hasher(map, hash_builder)
    }
}

impl<K: Hash + Eq, V, const N: usize> From<[(K, V); N]> for FrozenStore<K, V> {
    /// Builds a store from an array of pairs; a duplicate key keeps its
    /// last value.
    ///
    /// ```
    /// let ports = mapstore::FrozenStore::from([("http", 80), ("https", 443), ("ssh", 22)]);
    /// assert_eq!(ports["https"], 443);
    /// ```
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl<K, V, S: Default> Default for FrozenStore<K, V, S> {
    /// An empty store.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<u8, u8> = Default::default();
    /// assert_eq!(store.memory_usage(), 0);
    /// ```
    fn default() -> Self {
        FrozenStore {
            entries: Slots::from_parts(Vec::new(), Vec::new(), Vec::new()),
            lookup: Lookup::Scan,
            hash_builder: S::default(),
        }
    }
}

impl<K: Clone, V: Clone, S: Clone> Clone for FrozenStore<K, V, S> {
    fn clone(&self) -> Self {
        FrozenStore {
            entries: self.entries.clone(),
            lookup: self.lookup.clone(),
            hash_builder: self.hash_builder.clone(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug, S> fmt::Debug for FrozenStore<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K, V, S> PartialEq for FrozenStore<K, V, S>
where
    K: Hash + Eq,
    V: PartialEq,
    S: BuildHasher,
{
    /// Equal when both hold the same keys with equal values (whatever
    /// their layouts or orders).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<K: Hash + Eq, V: Eq, S: BuildHasher> Eq for FrozenStore<K, V, S> {}

impl<K, Q, V, S> Index<&Q> for FrozenStore<K, V, S>
where
    K: Hash,
    Q: Hash + Equivalent<K> + ?Sized,
    S: BuildHasher,
{
    type Output = V;

    /// The value of `key`; panics if it is absent.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<&str, u8> = [("x", 1)].into_iter().collect();
    /// assert_eq!(store["x"], 1);
    /// ```
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry found for key")
    }
}

impl<'a, K, V, S> IntoIterator for &'a FrozenStore<K, V, S> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

impl<'a, K, V, S> IntoIterator for &'a mut FrozenStore<K, V, S> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;
    fn into_iter(self) -> IterMut<'a, K, V> {
        self.iter_mut()
    }
}

impl<K, V, S> IntoIterator for FrozenStore<K, V, S> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V>;
    /// The entries by value, in the order of `iter()`.
    ///
    /// ```
    /// let store: mapstore::FrozenStore<u8, u8> = (0..20).map(|i| (i, i)).collect();
    /// let mut all: Vec<(u8, u8)> = store.into_iter().collect();
    /// all.sort();
    /// assert_eq!(all.len(), 20);
    /// ```
    fn into_iter(self) -> IntoIter<K, V> {
        self.into_parts().0
    }
}

impl<K, V, S> FrozenStore<K, V, S> {
    /// The entries by value and the hasher (for `ConcurrentStore`'s
    /// `From<FrozenStore>`).
    pub(crate) fn into_parts(self) -> (IntoIter<K, V>, S) {
        let (e, k, v) = self.entries;
        let entries = IntoIter {
            e: e.into_vec().into_iter(),
            k: k.into_vec().into_iter(),
            v: v.into_vec().into_iter(),
        };
        (entries, self.hash_builder)
    }
}

// ---------------------------------------------------------------------------
// Iterators

/// Keys per batch of [`FrozenStore::get_many`]: enough loads in flight to
/// cover a memory miss, few enough that a batch's state stays in registers
/// and L1 (measured: 8, 16 and 32 within a few percent at N = 1e6).
pub const BATCH: usize = 16;

/// Stores whose entries take at most this many bytes answer `get_many` one
/// `get` per item: they are in cache, and a batch's passes cost more than
/// the loads they overlap (measured at N = 1e3: 3.9 against 2.3 ns per
/// `u64` key).
const BATCH_ABOVE: usize = 1 << 20;

/// The values of many keys, from [`FrozenStore::get_many`].
///
/// ```
/// let store: mapstore::FrozenStore<u64, u64> = (0..100).map(|i| (i, i * 2)).collect();
/// let keys = [1u64, 2, 500];
/// let mut found: mapstore::frozen::GetMany<'_, '_, u64, u64, _, u64, _> = store.get_many(&keys);
/// assert_eq!(found.next(), Some(Some(&2)));
/// assert_eq!(found.collect::<Vec<_>>(), [Some(&4), None]);
/// ```
pub struct GetMany<'a, 'q, K, V, S, Q: ?Sized, I> {
    store: &'a FrozenStore<K, V, S>,
    /// Whether to look keys up in batches (else one `get` per `next`).
    batched: bool,
    keys: I,
    found: [Option<&'a V>; BATCH],
    at: usize,
    len: usize,
    _keys: core::marker::PhantomData<&'q Q>,
}

impl<'a, 'q, K, V, S, Q, I> Iterator for GetMany<'a, 'q, K, V, S, Q, I>
where
    K: Hash,
    S: BuildHasher,
    Q: Hash + Equivalent<K> + ?Sized + 'q,
    I: Iterator<Item = &'q Q>,
{
    type Item = Option<&'a V>;

    #[inline]
    fn next(&mut self) -> Option<Option<&'a V>> {
        if !self.batched {
            return self.keys.next().map(|key| self.store.get(key));
        }
        if self.at == self.len {
            let first: &'q Q = self.keys.next()?;
            let mut keys: [&'q Q; BATCH] = [first; BATCH];
            let mut len = 1;
            for (slot, key) in keys[1..].iter_mut().zip(&mut self.keys) {
                *slot = key;
                len += 1;
            }
            self.store.get_batch(&keys[..len], &mut self.found);
            self.at = 0;
            self.len = len;
        }
        self.at += 1;
        Some(self.found[self.at - 1])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (low, high) = self.keys.size_hint();
        let left = self.len - self.at;
        (
            low.saturating_add(left),
            high.and_then(|h| h.checked_add(left)),
        )
    }
}

impl<K, V, S, Q: ?Sized, I> fmt::Debug for GetMany<'_, '_, K, V, S, Q, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetMany")
            .field("batched", &self.batched)
            .field("buffered", &(self.len - self.at))
            .finish_non_exhaustive()
    }
}

// The iterators hold an iterator over each of the store's three arrays
// (two of them for keys or values alone) and walk the one its layout fills,
// a constant of `K` and `V` ([`SlotsOps::APART`]); the others are empty.
// Their fields are std's iterators and nothing private, so that their auto
// traits follow `K` and `V` alone, as std's do, and an error about one (an
// `Rc` value sent to a thread) names std's types and this one, not a
// private path of the crate.

/// The entries of a [`FrozenStore`], from [`FrozenStore::iter`].
///
/// ```
/// let store: mapstore::FrozenStore<u8, u8> = (0..3).map(|i| (i, i)).collect();
/// let iter: mapstore::frozen::Iter<'_, u8, u8> = store.iter();
/// assert_eq!(iter.len(), 3);
/// ```
pub struct Iter<'a, K, V> {
    e: slice::Iter<'a, (K, V)>,
    k: slice::Iter<'a, K>,
    v: slice::Iter<'a, Padded<V>>,
}

/// The entries of a [`FrozenStore`] with mutable values, from
/// [`FrozenStore::iter_mut`].
///
/// ```
/// let mut store: mapstore::FrozenStore<u8, u8> = (0..3).map(|i| (i, i)).collect();
/// let iter: mapstore::frozen::IterMut<'_, u8, u8> = store.iter_mut();
/// assert_eq!(iter.len(), 3);
/// ```
pub struct IterMut<'a, K, V> {
    e: slice::IterMut<'a, (K, V)>,
    // The keys' slice is walked mutably so that the iterator is `Send` when
    // `K` is (as std's `IterMut`), not only when `K` is `Sync`; it yields
    // each key shared, and keys never change.
    k: slice::IterMut<'a, K>,
    v: slice::IterMut<'a, Padded<V>>,
}

/// The keys of a [`FrozenStore`], from [`FrozenStore::keys`].
///
/// ```
/// let store: mapstore::FrozenStore<u8, u8> = (0..3).map(|i| (i, i)).collect();
/// let keys: mapstore::frozen::Keys<'_, u8, u8> = store.keys();
/// assert_eq!(keys.len(), 3);
/// ```
pub struct Keys<'a, K, V> {
    e: slice::Iter<'a, (K, V)>,
    k: slice::Iter<'a, K>,
}

/// The values of a [`FrozenStore`], from [`FrozenStore::values`].
///
/// ```
/// let store: mapstore::FrozenStore<u8, u8> = (0..3).map(|i| (i, i)).collect();
/// let values: mapstore::frozen::Values<'_, u8, u8> = store.values();
/// assert_eq!(values.len(), 3);
/// ```
pub struct Values<'a, K, V> {
    e: slice::Iter<'a, (K, V)>,
    v: slice::Iter<'a, Padded<V>>,
}

/// The values of a [`FrozenStore`], mutably, from
/// [`FrozenStore::values_mut`].
///
/// ```
/// let mut store: mapstore::FrozenStore<u8, u8> = (0..3).map(|i| (i, i)).collect();
/// let values: mapstore::frozen::ValuesMut<'_, u8, u8> = store.values_mut();
/// assert_eq!(values.len(), 3);
/// ```
pub struct ValuesMut<'a, K, V> {
    e: slice::IterMut<'a, (K, V)>,
    v: slice::IterMut<'a, Padded<V>>,
}

/// The entries of a [`FrozenStore`] by value, from its `into_iter`.
///
/// ```
/// let store: mapstore::FrozenStore<u8, u8> = (0..3).map(|i| (i, i)).collect();
/// let iter: mapstore::frozen::IntoIter<u8, u8> = store.into_iter();
/// assert_eq!(iter.len(), 3);
/// ```
pub struct IntoIter<K, V> {
    e: vec::IntoIter<(K, V)>,
    k: vec::IntoIter<K>,
    v: vec::IntoIter<Padded<V>>,
}

/// The keys of a [`FrozenStore`] by value, from [`FrozenStore::into_keys`].
///
/// ```
/// let store: mapstore::FrozenStore<u8, u8> = (0..3).map(|i| (i, i)).collect();
/// let keys: mapstore::frozen::IntoKeys<u8, u8> = store.into_keys();
/// assert_eq!(keys.len(), 3);
/// ```
pub struct IntoKeys<K, V> {
    e: vec::IntoIter<(K, V)>,
    k: vec::IntoIter<K>,
}

/// The values of a [`FrozenStore`] by value, from
/// [`FrozenStore::into_values`].
///
/// ```
/// let store: mapstore::FrozenStore<u8, u8> = (0..3).map(|i| (i, i)).collect();
/// let values: mapstore::frozen::IntoValues<u8, u8> = store.into_values();
/// assert_eq!(values.len(), 3);
/// ```
pub struct IntoValues<K, V> {
    e: vec::IntoIter<(K, V)>,
    v: vec::IntoIter<Padded<V>>,
}

/// `next`, `size_hint` and `fold` (which picks the layout once, so
/// `for_each`, `sum` and friends run at slice speed) for one iterator:
/// `inline` maps an entry of the pairs' array (field `e`) to an item,
/// `apart` the next of each array it names (fields `k` and `v`).
macro_rules! iterator {
    ($name:ident [$($gen:tt)*], $item:ty,
     inline => $inline:expr, apart($first:ident $(, $rest:ident)?) => $apart:expr) => {
        impl<$($gen)*> Iterator for $name<$($gen)*> {
            type Item = $item;

            #[inline]
            fn next(&mut self) -> Option<$item> {
                if Slots::<K, V>::APART {
                    let $first = self.$first.next()?;
                    $(let $rest = self.$rest.next()?;)?
                    Some($apart)
                } else {
                    self.e.next().map($inline)
                }
            }

            #[inline]
            fn size_hint(&self) -> (usize, Option<usize>) {
                let len = if Slots::<K, V>::APART {
                    self.$first.len()
                } else {
                    self.e.len()
                };
                (len, Some(len))
            }

            #[inline]
            fn fold<B, F: FnMut(B, $item) -> B>(self, init: B, mut f: F) -> B {
                let Self { e, $first $(, $rest)?, .. } = self;
                if Slots::<K, V>::APART {
                    iterator!(@fold init, f, ($first $(, $rest)?) => $apart)
                } else {
                    e.map($inline).fold(init, f)
                }
            }
        }

        impl<$($gen)*> ExactSizeIterator for $name<$($gen)*> {}
        impl<$($gen)*> FusedIterator for $name<$($gen)*> {}
    };
    (@fold $init:ident, $f:ident, ($a:ident) => $apart:expr) => {
        $a.fold($init, |acc, $a| $f(acc, $apart))
    };
    (@fold $init:ident, $f:ident, ($a:ident, $b:ident) => $apart:expr) => {
        $a.zip($b).fold($init, |acc, ($a, $b)| $f(acc, $apart))
    };
}

iterator!(Iter['a, K, V], (&'a K, &'a V),
    inline => |(k, v): &'a (K, V)| (k, v), apart(k, v) => (k, &v.0));
iterator!(IterMut['a, K, V], (&'a K, &'a mut V),
    inline => |(k, v): &'a mut (K, V)| (&*k, v), apart(k, v) => (&*k, &mut v.0));
iterator!(Keys['a, K, V], &'a K,
    inline => |(k, _): &'a (K, V)| k, apart(k) => k);
iterator!(Values['a, K, V], &'a V,
    inline => |(_, v): &'a (K, V)| v, apart(v) => &v.0);
iterator!(ValuesMut['a, K, V], &'a mut V,
    inline => |(_, v): &'a mut (K, V)| v, apart(v) => &mut v.0);
iterator!(IntoIter[K, V], (K, V),
    inline => |kv: (K, V)| kv, apart(k, v) => (k, v.0));
iterator!(IntoKeys[K, V], K,
    inline => |(k, _): (K, V)| k, apart(k) => k);
iterator!(IntoValues[K, V], V,
    inline => |(_, v): (K, V)| v, apart(v) => v.0);

impl<K, V> Clone for Iter<'_, K, V> {
    fn clone(&self) -> Self {
        Iter {
            e: self.e.clone(),
            k: self.k.clone(),
            v: self.v.clone(),
        }
    }
}

impl<K, V> Clone for Keys<'_, K, V> {
    fn clone(&self) -> Self {
        Keys {
            e: self.e.clone(),
            k: self.k.clone(),
        }
    }
}

impl<K, V> Clone for Values<'_, K, V> {
    fn clone(&self) -> Self {
        Values {
            e: self.e.clone(),
            v: self.v.clone(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Iter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<K: fmt::Debug, V> fmt::Debug for Keys<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<K, V: fmt::Debug> fmt::Debug for Values<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// The entries an iterator that yields `&mut` or owned items has left, as
/// an [`Iter`] that borrows it (for `Debug`, which prints them as std's
/// iterators do).
macro_rules! remaining {
    ($($name:ident[$($gen:tt)*]),+) => {$(
        impl<$($gen)*> $name<$($gen)*> {
            fn remaining(&self) -> Iter<'_, K, V> {
                Iter {
                    e: self.e.as_slice().iter(),
                    k: self.k.as_slice().iter(),
                    v: self.v.as_slice().iter(),
                }
            }
        }

        impl<$($gen)*> fmt::Debug for $name<$($gen)*>
        where
            K: fmt::Debug,
            V: fmt::Debug,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.remaining()).finish()
            }
        }
    )+};
}

remaining!(IterMut['a, K, V], IntoIter[K, V]);

impl<K, V: fmt::Debug> fmt::Debug for ValuesMut<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One of the two is empty.
        f.debug_list()
            .entries(self.e.as_slice().iter().map(|(_, v)| v))
            .entries(self.v.as_slice().iter().map(|(v, _)| v))
            .finish()
    }
}

impl<K: fmt::Debug, V> fmt::Debug for IntoKeys<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.e.as_slice().iter().map(|(k, _)| k))
            .entries(self.k.as_slice())
            .finish()
    }
}

impl<K, V: fmt::Debug> fmt::Debug for IntoValues<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.e.as_slice().iter().map(|(_, v)| v))
            .entries(self.v.as_slice().iter().map(|(v, _)| v))
            .finish()
    }
}

/// `Default` for every iterator: an empty one, as std's map iterators'.
macro_rules! empty_default {
    ($($name:ident[$($gen:tt)*] { $($field:ident),+ }),+ $(,)?) => {$(
        impl<$($gen)*> Default for $name<$($gen)*> {
            /// An empty iterator.
            fn default() -> Self {
                $name { $($field: Default::default()),+ }
            }
        }
    )+};
}

empty_default!(
    Iter['a, K, V] { e, k, v },
    IterMut['a, K, V] { e, k, v },
    Keys['a, K, V] { e, k },
    Values['a, K, V] { e, v },
    ValuesMut['a, K, V] { e, v },
    IntoIter[K, V] { e, k, v },
    IntoKeys[K, V] { e, k },
    IntoValues[K, V] { e, v },
);

// ---------------------------------------------------------------------------
// serde

#[cfg(feature = "serde")]
mod serde_impls {
    use core::fmt;
    use core::hash::{BuildHasher, Hash};
    use core::marker::PhantomData;

    use alloc::vec::Vec;
    use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
    use serde::ser::{Serialize, Serializer};

    use super::FrozenStore;

    impl<K: Serialize, V: Serialize, S> Serialize for FrozenStore<K, V, S> {
        fn serialize<T: Serializer>(&self, serializer: T) -> Result<T::Ok, T::Error> {
            serializer.collect_map(self.iter())
        }
    }

    struct FrozenVisitor<K, V, S>(PhantomData<FrozenStore<K, V, S>>);

    impl<'de, K, V, S> Visitor<'de> for FrozenVisitor<K, V, S>
    where
        K: Deserialize<'de> + Hash + Eq,
        V: Deserialize<'de>,
        S: BuildHasher + Default,
    {
        type Value = FrozenStore<K, V, S>;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a map")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            // At most 1 MiB of entries for whatever length the input
            // claims, as serde reserves for std's maps.
            let mut items =
                Vec::with_capacity(crate::serde_impls::cautious::<K, V>(access.size_hint()));
            while let Some(entry) = access.next_entry()? {
                items.push(Some(entry));
            }
            Ok(FrozenStore::build(items, S::default()))
        }
    }

    impl<'de, K, V, S> Deserialize<'de> for FrozenStore<K, V, S>
    where
        K: Deserialize<'de> + Hash + Eq,
        V: Deserialize<'de>,
        S: BuildHasher + Default,
    {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_map(FrozenVisitor(PhantomData))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pilot search of `hashes` with an overflow `limit`.
    fn search_of(hashes: &[u64], limit: Option<usize>) -> Option<Placed> {
        let n = hashes.len();
        let groups = Groups::new(hashes, (n / LAMBDA).max(2).next_power_of_two());
        search(&groups, n, limit)
    }

    #[test]
    fn a_search_gives_up_past_its_overflow_limit() {
        // Miri runs the unit tests too: a full search of 10 000 keys takes
        // it most of half an hour.
        let n = if cfg!(miri) { 300 } else { 10_000 };
        // An identity hasher's sequential integers, taken as they are: every
        // key of a bucket lands on one slot under any pilot.
        let raw: Vec<u64> = (0..n as u64).collect();
        let limit = overflow_max(n, true);
        assert!(search_of(&raw, Some(limit)).is_none());
        let finished = search_of(&raw, None).expect("no limit: the search finishes");
        assert!(
            finished.overflow.len() > limit,
            "{} keys over",
            finished.overflow.len()
        );
        // Random hashes stay under the limit and are placed.
        let random: Vec<u64> = (0..n as u64).map(|i| splitmix(i ^ 0xabcd)).collect();
        let placed = search_of(&random, Some(limit)).expect("random hashes are placed");
        assert!(placed.overflow.len() <= limit);
        // Every slot holds one entry, and every entry one slot.
        let mut src = placed.src.clone();
        src.sort_unstable();
        assert!(src.iter().copied().eq(0..n as u32), "src is a permutation");
        let mut src = finished.src;
        src.sort_unstable();
        assert!(src.iter().copied().eq(0..n as u32), "with an overflow too");
    }
    /// Values kept apart never sit on a stride that is a multiple of 128
    /// bytes (see [`Padded`]), whatever their size and alignment up to 64,
    /// and each costs at most `max(8, align)` bytes of padding.
    #[test]
    fn values_apart_are_off_power_of_two_strides() {
        fn check<V>() {
            let stride = size_of::<Padded<V>>();
            let pad = stride - size_of::<V>();
            assert!(
                stride % 128 != 0,
                "{}: stride {stride}",
                core::any::type_name::<V>()
            );
            assert!(
                pad <= align_of::<V>().max(8),
                "{}: {pad} bytes of padding",
                core::any::type_name::<V>()
            );
        }
        #[repr(align(64))]
        struct Line(#[allow(dead_code)] [u8; 128]);
        #[repr(align(16))]
        struct Sixteen(#[allow(dead_code)] [u8; 256]);
        check::<[u8; 128]>();
        check::<[u8; 256]>();
        check::<[u64; 128]>();
        check::<[u8; 4096]>();
        check::<[u128; 64]>();
        check::<Line>();
        check::<Sixteen>();
        check::<[u8; 72]>();
        // And the store holds them so: its bytes count the padding.
        let store: FrozenStore<u64, [u8; 1024]> =
            (0..100u64).map(|i| (i, [i as u8; 1024])).collect();
        assert!(store.memory_usage() >= 100 * (8 + 1024 + 8));
        for i in 0..100u64 {
            assert_eq!(store[&i], [i as u8; 1024]);
        }
    }
}
