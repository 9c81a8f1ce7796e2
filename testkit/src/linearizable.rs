//! A linearizability checker: is a recorded concurrent history something
//! some sequential order of the same calls produces?
//!
//! Threads record each call with [`Clock::call`]: a ticket from one shared
//! counter before the call and one after it. Call `a` *precedes* call `b` in
//! real time when `a` returned before `b` was invoked (`a.returned <
//! b.invoked`); calls whose ticket intervals overlap may take effect in
//! either order. [`check`] searches for a total order of the calls that
//! respects real-time precedence and in which a sequential [`Model`],
//! replaying the calls in that order, returns exactly what each call
//! returned (Wing and Gong's search, with Lowe's memoisation of
//! `(calls already ordered, model state)` pairs that were already explored).
//!
//! The tickets are taken with `SeqCst` read-modify-writes on one atomic, so
//! if `a.returned < b.invoked` then everything `a` did happens-before
//! everything `b` does: the real-time order the checker uses is one the
//! memory model guarantees, never one the recorder made up.
//!
//! Linearizability is *local* (Herlihy and Wing): a history of calls on
//! several independent objects (the keys of a map, for single-key calls) is
//! linearizable if and only if each object's sub-history is. [`partition`]
//! splits a history that way, which keeps each search small.
//!
//! ```
//! use mapstore_testkit::linearizable::{check, Call, Model};
//!
//! /// A register holding a `u32`.
//! #[derive(Clone, PartialEq, Eq, Hash)]
//! struct Register(u32);
//! #[derive(Clone, Debug)]
//! enum Op { Write(u32), Read }
//!
//! impl Model for Register {
//!     type Op = Op;
//!     type Ret = Option<u32>;
//!     fn apply(&mut self, op: &Op) -> Option<u32> {
//!         match *op {
//!             Op::Write(v) => { self.0 = v; None }
//!             Op::Read => Some(self.0),
//!         }
//!     }
//! }
//!
//! let call = |thread, invoked, returned, op, ret| Call { thread, invoked, returned, op, ret };
//! // A write overlapping a read: the read may see either value.
//! let overlapping = [call(0, 0, 3, Op::Write(1), None), call(1, 1, 2, Op::Read, Some(1))];
//! assert!(check(&Register(0), &overlapping).is_ok());
//! // A read that returns a value written only after it returned: rejected.
//! let from_the_future = [call(1, 0, 1, Op::Read, Some(1)), call(0, 2, 3, Op::Write(1), None)];
//! assert!(check(&Register(0), &from_the_future).is_err());
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

/// The sequential specification an object's calls are checked against.
///
/// `apply` must be deterministic: the state and the call decide the result.
/// The state is hashed and compared for memoisation, so keep it small (for
/// a map, check key by key: see [`partition`]).
pub trait Model: Clone + Eq + Hash {
    /// A call's operation and arguments.
    type Op: fmt::Debug + Clone;
    /// What a call returns.
    type Ret: fmt::Debug + PartialEq + Clone;
    /// Applies `op` to the state and returns what a sequential object would.
    fn apply(&mut self, op: &Self::Op) -> Self::Ret;
}

/// One completed call of a history.
#[derive(Clone, Debug, PartialEq)]
pub struct Call<O, R> {
    /// The thread that made it (for reports only).
    pub thread: usize,
    /// The clock's ticket taken just before the call.
    pub invoked: u64,
    /// The clock's ticket taken just after it returned.
    pub returned: u64,
    /// The operation and its arguments.
    pub op: O,
    /// What it returned.
    pub ret: R,
}

/// A call on an object that model `M` specifies.
pub type CallOf<M> = Call<<M as Model>::Op, <M as Model>::Ret>;

/// The global logical clock threads record their calls with.
#[derive(Debug, Default)]
pub struct Clock(AtomicU64);

impl Clock {
    /// A clock at 0.
    pub const fn new() -> Self {
        Clock(AtomicU64::new(0))
    }

    /// A ticket: every ticket is distinct, and a ticket taken after another
    /// (in happens-before order) is larger.
    pub fn tick(&self) -> u64 {
        self.0.fetch_add(1, SeqCst)
    }

    /// Runs `run(&op)` between two tickets and records it as a call.
    pub fn call<O, R>(&self, thread: usize, op: O, run: impl FnOnce(&O) -> R) -> Call<O, R> {
        let invoked = self.tick();
        let ret = run(&op);
        let returned = self.tick();
        Call {
            thread,
            invoked,
            returned,
            op,
            ret,
        }
    }
}

/// Splits a history into independent sub-histories, one per `object(op)`,
/// each in the order of the input. Sound for checking when every call
/// touches exactly the one object `object` names (linearizability is local).
pub fn partition<O: Clone, R: Clone, P: Ord>(
    calls: &[Call<O, R>],
    object: impl Fn(&O) -> P,
) -> BTreeMap<P, Vec<Call<O, R>>> {
    let mut parts: BTreeMap<P, Vec<Call<O, R>>> = BTreeMap::new();
    for call in calls {
        parts
            .entry(object(&call.op))
            .or_default()
            .push(call.clone());
    }
    parts
}

/// A linearization found by [`check`].
#[derive(Clone, Debug)]
pub struct Linearization {
    /// Indices into the checked calls, in the order they took effect.
    pub order: Vec<usize>,
    /// How many `(calls ordered, state)` configurations the search visited.
    pub explored: usize,
}

/// No order of the calls explains their results: the history, sorted by
/// invocation, and the longest prefix the search could order.
pub struct Violation<M: Model> {
    /// The calls, sorted by invocation ticket.
    pub calls: Vec<CallOf<M>>,
    /// Indices into `calls` of the longest sequence of calls the search could
    /// order consistently with real time and the model.
    pub longest: Vec<usize>,
    /// How many configurations the search visited before giving up.
    pub explored: usize,
}

impl<M: Model> fmt::Debug for Violation<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl<M: Model> fmt::Display for Violation<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "not linearizable: no order of these {} calls that respects real time gives \
             every call its result ({} configurations explored)",
            self.calls.len(),
            self.explored
        )?;
        writeln!(f, "calls ([invoked, returned] thread: op -> returned):")?;
        for (i, c) in self.calls.iter().enumerate() {
            writeln!(
                f,
                "  #{i:<3} [{:>5}, {:>5}] t{}: {:?} -> {:?}",
                c.invoked, c.returned, c.thread, c.op, c.ret
            )?;
        }
        write!(f, "longest order found:")?;
        for i in &self.longest {
            write!(f, " #{i}")?;
        }
        Ok(())
    }
}

/// Beyond this many explored configurations [`check`] panics rather than
/// run for minutes: split the history (see [`partition`]) or shorten it.
pub const MAX_EXPLORED: usize = 4_000_000;

/// Checks that `calls` (in any order) form a linearizable history of an
/// object that starts in state `init`.
///
/// Every call must have completed, and `invoked < returned` for each.
///
/// # Panics
///
/// If a call returned before it was invoked, or the search visits more than
/// [`MAX_EXPLORED`] configurations.
pub fn check<M: Model>(init: &M, calls: &[CallOf<M>]) -> Result<Linearization, Violation<M>> {
    let mut sorted: Vec<(usize, &CallOf<M>)> = calls.iter().enumerate().collect();
    sorted.sort_by_key(|(_, c)| c.invoked);
    for (_, c) in &sorted {
        assert!(
            c.invoked < c.returned,
            "a call returned ({}) before it was invoked ({})",
            c.returned,
            c.invoked
        );
    }
    let mut search = Search {
        calls: sorted.iter().map(|(_, c)| *c).collect(),
        done: vec![0; calls.len().div_ceil(64)],
        order: Vec::with_capacity(calls.len()),
        longest: Vec::new(),
        seen: HashSet::new(),
    };
    if search.run(init.clone()) {
        Ok(Linearization {
            order: search.order.iter().map(|&i| sorted[i].0).collect(),
            explored: search.seen.len(),
        })
    } else {
        Err(Violation {
            calls: sorted.iter().map(|(_, c)| (*c).clone()).collect(),
            longest: search.longest,
            explored: search.seen.len(),
        })
    }
}

/// The depth-first search: linearize some call that no remaining call
/// precedes, recurse, and undo on failure.
struct Search<'a, M: Model> {
    /// The calls, sorted by `invoked`.
    calls: Vec<&'a CallOf<M>>,
    /// A bit per call: already ordered.
    done: Vec<u64>,
    /// The calls ordered so far (indices into `calls`).
    order: Vec<usize>,
    longest: Vec<usize>,
    /// Configurations visited; each was either a dead end or led to success.
    seen: HashSet<(Vec<u64>, M)>,
}

impl<M: Model> Search<'_, M> {
    fn is_done(&self, i: usize) -> bool {
        self.done[i / 64] & (1 << (i % 64)) != 0
    }

    fn flip(&mut self, i: usize) {
        self.done[i / 64] ^= 1 << (i % 64);
    }

    fn run(&mut self, state: M) -> bool {
        if self.order.len() == self.calls.len() {
            return true;
        }
        if self.order.len() > self.longest.len() {
            self.longest.clone_from(&self.order);
        }
        // A remaining call can go next only if no remaining call returned
        // before it was invoked.
        let first_return = (0..self.calls.len())
            .filter(|&i| !self.is_done(i))
            .map(|i| self.calls[i].returned)
            .min()
            .expect("a call remains");
        for i in 0..self.calls.len() {
            let call = self.calls[i];
            if call.invoked > first_return {
                break; // sorted by `invoked`: no later call can go next either
            }
            if self.is_done(i) {
                continue;
            }
            let mut next = state.clone();
            if next.apply(&call.op) != call.ret {
                continue;
            }
            self.flip(i);
            self.order.push(i);
            let fresh = self.seen.insert((self.done.clone(), next.clone()));
            assert!(
                self.seen.len() <= MAX_EXPLORED,
                "the linearizability search explored {MAX_EXPLORED} configurations: \
                 check a smaller history (split it per object with `partition`)"
            );
            if fresh && self.run(next) {
                return true;
            }
            self.order.pop();
            self.flip(i);
        }
        false
    }
}
