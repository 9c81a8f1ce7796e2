//! Shared helpers for the reliability suites: drop-tracked keys and values
//! with a double-drop detector, panics injected at chosen calls, a
//! `BuildHasher` whose hashes collide, and `per_storage!` (from
//! `mapstore-testkit`, shared with the Miri suite, the benches and the tour).
//!
//! All state is thread-local, so tests running in parallel threads do not
//! see each other's counts.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::hash::{BuildHasher, Hash, Hasher};

use mapstore::storage::{Boxed, Inline, Pooled};
use mapstore::{MapValue, Plan};

/// What a tracked object is, for the per-kind live counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Key,
    Val,
}

/// The operations a panic can be injected into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Hash = 0,
    Eq = 1,
    CloneKey = 2,
    CloneVal = 3,
    DropKey = 4,
    DropVal = 5,
}

const OPS: usize = 6;

thread_local! {
    static LIVE: RefCell<HashSet<(u64, Kind)>> = RefCell::new(HashSet::new());
    static NEXT: Cell<u64> = const { Cell::new(1) };
    static CREATED: Cell<[u64; 2]> = const { Cell::new([0; 2]) };
    static DROPPED: Cell<[u64; 2]> = const { Cell::new([0; 2]) };
    static DOUBLE_DROPS: Cell<u64> = const { Cell::new(0) };
    /// Objects written off by [`reset`]: dropping one later is a late
    /// drop, not a double drop.
    static WRITTEN_OFF: RefCell<HashSet<(u64, Kind)>> = RefCell::new(HashSet::new());
    static LATE_DROPS: Cell<[u64; 2]> = const { Cell::new([0; 2]) };
    static LIVE_COUNT: Cell<[usize; 2]> = const { Cell::new([0; 2]) };
    /// Per op: 0 = disarmed, n = panic on the n-th call from now.
    static ARMED: Cell<[u32; OPS]> = const { Cell::new([0; OPS]) };
    static CALLS: Cell<[u64; OPS]> = const { Cell::new([0; OPS]) };
}

fn kind_index(kind: Kind) -> usize {
    match kind {
        Kind::Key => 0,
        Kind::Val => 1,
    }
}

/// Panics on the `nth` call (1-based) of `op` from now on this thread.
pub fn arm(op: Op, nth: u32) {
    ARMED.with(|a| {
        let mut v = a.get();
        v[op as usize] = nth;
        a.set(v);
    });
}

/// Disarms every injected panic.
pub fn disarm() {
    ARMED.with(|a| a.set([0; OPS]));
}

/// How many times `op` ran on this thread.
pub fn calls(op: Op) -> u64 {
    CALLS.with(|c| c.get()[op as usize])
}

/// Called at the start of every instrumented operation.
pub fn hook(op: Op) {
    CALLS.with(|c| {
        let mut v = c.get();
        v[op as usize] += 1;
        c.set(v);
    });
    let fire = ARMED.with(|a| {
        let mut v = a.get();
        let n = &mut v[op as usize];
        let fire = match *n {
            0 => false,
            1 => {
                *n = 0;
                true
            }
            _ => {
                *n -= 1;
                false
            }
        };
        a.set(v);
        fire
    });
    if fire {
        panic!("injected panic in {op:?}");
    }
}

/// A unique, registered identity. Dropping it twice is detected (and counted,
/// not panicked on, so a double drop during unwinding does not abort).
#[derive(Debug)]
pub struct Token {
    serial: u64,
    kind: Kind,
}

impl Token {
    pub fn new(kind: Kind) -> Token {
        let serial = NEXT.with(|n| {
            let s = n.get();
            n.set(s + 1);
            s
        });
        LIVE.with(|l| assert!(l.borrow_mut().insert((serial, kind))));
        bump_live(kind, true);
        CREATED.with(|c| {
            let mut v = c.get();
            v[kind_index(kind)] += 1;
            c.set(v);
        });
        Token { serial, kind }
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        let was_live = LIVE.with(|l| l.borrow_mut().remove(&(self.serial, self.kind)));
        if was_live {
            bump_live(self.kind, false);
            DROPPED.with(|c| {
                let mut v = c.get();
                v[kind_index(self.kind)] += 1;
                c.set(v);
            });
        } else if WRITTEN_OFF.with(|w| w.borrow_mut().remove(&(self.serial, self.kind))) {
            LATE_DROPS.with(|c| {
                let mut v = c.get();
                v[kind_index(self.kind)] += 1;
                c.set(v);
            });
        } else {
            DOUBLE_DROPS.with(|d| d.set(d.get() + 1));
        }
    }
}

fn bump_live(kind: Kind, up: bool) {
    LIVE_COUNT.with(|c| {
        let mut v = c.get();
        let n = &mut v[kind_index(kind)];
        *n = if up { *n + 1 } else { *n - 1 };
        c.set(v);
    });
}

/// Live tracked objects of `kind` on this thread.
pub fn live(kind: Kind) -> usize {
    LIVE_COUNT.with(|c| c.get()[kind_index(kind)])
}

pub fn live_vals() -> usize {
    live(Kind::Val)
}

pub fn live_keys() -> usize {
    live(Kind::Key)
}

pub fn created(kind: Kind) -> u64 {
    CREATED.with(|c| c.get()[kind_index(kind)])
}

pub fn dropped(kind: Kind) -> u64 {
    DROPPED.with(|c| c.get()[kind_index(kind)])
}

/// Drops of an object that was not live: must stay zero.
pub fn double_drops() -> u64 {
    DOUBLE_DROPS.with(|d| d.get())
}

/// Writes off every live object (after a scenario that leaks, as std does)
/// and disarms panics: live counts restart from zero; a written-off object
/// dropped later counts as a [`late_drops`], never as a double drop.
pub fn reset() {
    disarm();
    let live = LIVE.with(|l| std::mem::take(&mut *l.borrow_mut()));
    WRITTEN_OFF.with(|w| w.borrow_mut().extend(live));
    LIVE_COUNT.with(|c| c.set([0; 2]));
    LATE_DROPS.with(|c| c.set([0; 2]));
}

/// Written-off objects of `kind` dropped since the last [`reset`].
pub fn late_drops(kind: Kind) -> u64 {
    LATE_DROPS.with(|c| c.get()[kind_index(kind)])
}

/// Asserts nothing was dropped twice and nothing tracked is alive.
pub fn assert_clean() {
    assert_eq!(double_drops(), 0, "an object was dropped twice");
    assert_eq!(live_keys(), 0, "keys leaked");
    assert_eq!(live_vals(), 0, "values leaked");
}

/// A key that counts itself and can panic in `Hash`, `Eq`, `Clone`, `Drop`.
#[derive(Debug)]
pub struct TKey {
    pub id: u32,
    token: Token,
}

impl TKey {
    pub fn new(id: u32) -> TKey {
        TKey {
            id,
            token: Token::new(Kind::Key),
        }
    }
}

impl Hash for TKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hook(Op::Hash);
        self.id.hash(state);
    }
}

impl PartialEq for TKey {
    fn eq(&self, other: &Self) -> bool {
        hook(Op::Eq);
        self.id == other.id
    }
}

impl Eq for TKey {}

impl Clone for TKey {
    fn clone(&self) -> Self {
        hook(Op::CloneKey);
        TKey::new(self.id)
    }
}

impl Drop for TKey {
    fn drop(&mut self) {
        // The token is dropped (and counted) even if this panics.
        hook(Op::DropKey);
    }
}

/// A value of `8 * (N + 1)` bytes plus a token that counts itself and can
/// panic in `Clone` and `Drop`. `pad` is derived from `id`, so a value that
/// was torn or read from the wrong slot is detected by [`TVal::check`].
#[derive(Debug)]
pub struct TVal<const N: usize> {
    pub id: u64,
    pad: [u64; N],
    token: Token,
}

pub fn pad_of<const N: usize>(id: u64) -> [u64; N] {
    let mut pad = [0u64; N];
    for (i, p) in pad.iter_mut().enumerate() {
        *p = id.wrapping_mul(i as u64 * 2 + 1) ^ 0x5555_5555;
    }
    pad
}

impl<const N: usize> TVal<N> {
    pub fn new(id: u64) -> Self {
        TVal {
            id,
            pad: pad_of::<N>(id),
            token: Token::new(Kind::Val),
        }
    }

    pub fn check(&self) {
        assert!(
            self.pad == pad_of::<N>(self.id),
            "value {} is torn",
            self.id
        );
    }
}

impl<const N: usize> PartialEq for TVal<N> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.pad == other.pad
    }
}

impl<const N: usize> Default for TVal<N> {
    fn default() -> Self {
        TVal::new(0)
    }
}

impl<const N: usize> Clone for TVal<N> {
    fn clone(&self) -> Self {
        hook(Op::CloneVal);
        TVal::new(self.id)
    }
}

impl<const N: usize> Drop for TVal<N> {
    fn drop(&mut self) {
        hook(Op::DropVal);
    }
}

/// A small tracked value: 8 bytes of payload (stored inline by the policy).
pub type Small = TVal<0>;
/// A large tracked value: 264 bytes of payload, several values per pool
/// chunk, many chunks for a few hundred entries.
pub type Large = TVal<32>;

/// `MapValue` by hand, for a `MapStore` over each storage.
macro_rules! hand_map_value {
    ($ty:ty, $storage:ty) => {
        impl MapValue for $ty {
            type Storage = $storage;
            const PLAN: Plan = Plan::of::<$ty>(stringify!($ty), &[]);
        }
    };
}

hand_map_value!(TVal<0>, Inline);
hand_map_value!(TVal<32>, Pooled);
hand_map_value!(TVal<64>, Boxed);

/// A `BuildHasher` with only `N` distinct hash values (all with the same
/// top bits), so every lookup probes past other keys and compares them, and
/// deletions leave tombstones inside long probe sequences.
#[derive(Clone, Copy, Debug, Default)]
pub struct Collide<const N: u64>;

/// The hasher of [`Collide`]: FNV-1a reduced modulo `N`.
#[derive(Clone, Copy, Debug)]
pub struct CollideHasher<const N: u64>(u64);

impl<const N: u64> Hasher for CollideHasher<N> {
    fn finish(&self) -> u64 {
        self.0 % N
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

impl<const N: u64> BuildHasher for Collide<N> {
    type Hasher = CollideHasher<N>;
    fn build_hasher(&self) -> Self::Hasher {
        CollideHasher(0xcbf2_9ce4_8422_2325)
    }
}

/// One test per storage for each generic scenario `fn name<St: Storage>()`:
/// the testkit's `per_storage!`, shared with `tests/miri.rs`. Defined here
/// (not re-exported) so that a file's `mod common;` brings it into textual
/// scope, with no import.
#[allow(unused_macros)]
macro_rules! per_storage {
    ($($tokens:tt)*) => {
        mapstore_testkit::per_storage!($($tokens)*);
    };
}

/// Runs `f` on its own thread and waits for it at most `secs` seconds, so
/// that a deadlock fails the test instead of hanging it (the stuck thread is
/// left behind). `Some(Ok(..))`: what `f` returned; `Some(Err(message))`: it
/// panicked, with that message; `None`: it did not finish in time.
pub fn watchdog<R: Send + 'static>(
    secs: u64,
    f: impl FnOnce() -> R + Send + 'static,
) -> Option<Result<R, String>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        });
        let _ = tx.send(result);
    });
    rx.recv_timeout(std::time::Duration::from_secs(secs)).ok()
}
