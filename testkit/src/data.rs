//! Keys and values made from an index, and the key sets of one
//! configuration.

use std::fmt::Write as _;
use std::hash::Hash;

/// SplitMix64: spreads `0, 1, 2...` like real ids.
#[inline]
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A key type the benches can make from an index.
pub trait Key: Hash + Eq + Clone {
    /// Short name for reports: `u64`, `string`.
    const LABEL: &'static str;
    /// Distinct for distinct `i`.
    fn make(i: u64) -> Self;
    /// Heap bytes this key owns.
    fn heap_bytes(&self) -> usize;
}

impl Key for u64 {
    const LABEL: &'static str = "u64";
    #[inline]
    fn make(i: u64) -> Self {
        splitmix(i)
    }
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl Key for String {
    const LABEL: &'static str = "string";
    fn make(i: u64) -> Self {
        let mut s = String::with_capacity(24);
        write!(s, "key-{:016x}", splitmix(i)).expect("writing to a String");
        s
    }
    fn heap_bytes(&self) -> usize {
        self.capacity()
    }
}

/// A value type the benches can make from an index and read back.
pub trait Value {
    /// Short name for reports: `pod64`, `own128`.
    const LABEL: &'static str;
    /// Whether a field owns heap memory (what the derive calls a heap
    /// field, and `ValueLayout::owns_heap`).
    const OWNS_HEAP: bool;
    /// A value made from `i`, every byte written.
    fn make(i: u64) -> Self;
    /// Reads one word of the value (so a lookup touches the value).
    fn read(&self) -> u64;
    /// Heap bytes this value owns.
    fn heap_bytes(&self) -> usize {
        0
    }
}

/// A pointer-free value of `N` bytes (`N >= 8`), aligned like a struct of
/// `u64`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(8))]
pub struct Pod<const N: usize>(pub [u8; N]);

impl<const N: usize> Value for Pod<N> {
    const LABEL: &'static str = "pod";
    const OWNS_HEAP: bool = false;
    #[inline]
    fn make(i: u64) -> Self {
        let mut bytes = [i as u8 ^ 0x5a; N];
        bytes[..8].copy_from_slice(&i.to_le_bytes());
        Pod(bytes)
    }
    #[inline]
    fn read(&self) -> u64 {
        let mut word = [0; 8];
        word.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(word)
    }
}

/// A heap-owning value: a `String` plus `W` words, `24 + 8 * W` bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owned<const W: usize> {
    /// 16 bytes of text on the heap.
    pub name: String,
    /// Inline payload.
    pub words: [u64; W],
}

impl<const W: usize> Value for Owned<W> {
    const LABEL: &'static str = "own";
    const OWNS_HEAP: bool = true;
    #[inline]
    fn make(i: u64) -> Self {
        let mut name = String::with_capacity(16);
        write!(name, "{:016x}", i).expect("writing to a String");
        Owned {
            name,
            words: [i; W],
        }
    }
    #[inline]
    fn read(&self) -> u64 {
        self.words.first().copied().unwrap_or(0) ^ self.name.len() as u64
    }
    fn heap_bytes(&self) -> usize {
        self.name.capacity()
    }
}

/// The keys of one configuration.
pub struct Keys<K> {
    /// Inserted, in this order; key `i` gets value `V::make(i)`.
    pub insert: Vec<K>,
    /// The same keys, shuffled: lookup and churn order.
    pub shuffled: Vec<K>,
    /// Keys never inserted.
    pub missing: Vec<K>,
}

impl<K: Key> Keys<K> {
    /// `n` keys to insert, the same shuffled, and `n` absent keys.
    pub fn new(n: usize) -> Self {
        let insert: Vec<K> = (0..n as u64).map(|i| K::make(2 * i)).collect();
        let missing = (0..n as u64).map(|i| K::make(2 * i + 1)).collect();
        let shuffled = shuffle(&insert, 0x2545_f491_4f6c_dd1d);
        Keys {
            insert,
            shuffled,
            missing,
        }
    }

    /// How many keys are inserted.
    pub fn len(&self) -> usize {
        self.insert.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.insert.is_empty()
    }
}

/// A copy of `items` in a fixed pseudo-random order (Fisher-Yates).
pub fn shuffle<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    let mut state = seed;
    for i in (1..order.len()).rev() {
        state = splitmix(state);
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    order.iter().map(|&i| items[i].clone()).collect()
}
