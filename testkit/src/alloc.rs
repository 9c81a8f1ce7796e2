//! A counting global allocator and a per-thread meter that reads it.
//!
//! Register it once per binary (test, bench or example):
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: mapstore_testkit::alloc::Counting = mapstore_testkit::alloc::Counting;
//! ```
//!
//! then measure a stretch of code on the current thread:
//!
//! ```ignore
//! let meter = Meter::start();
//! let v = vec![0u8; 100];
//! assert_eq!(meter.live(), 100);
//! ```
//!
//! Counts are per thread (tests run in parallel threads) and taken only
//! while a [`Meter`] is alive on that thread, so timed code outside a meter
//! pays one thread-local load per allocation and nothing else. Sizes are the
//! requested layout sizes (what `memory_usage()` reports); on glibc the
//! meter also reports the allocator's real block sizes (usable size plus
//! its 8-byte header).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The counting global allocator: forwards every call to [`System`].
pub struct Counting;

#[derive(Clone, Copy)]
struct State {
    /// Meters alive on this thread; counting happens while it is non-zero.
    depth: u32,
    live: isize,
    peak: isize,
    allocs: u64,
    live_real: isize,
    peak_real: isize,
}

thread_local! {
    static STATE: Cell<State> = const {
        Cell::new(State { depth: 0, live: 0, peak: 0, allocs: 0, live_real: 0, peak_real: 0 })
    };
}

/// Updates this thread's state if a meter is counting. Never allocates.
#[inline]
fn update(f: impl FnOnce(&mut State)) {
    let _ = STATE.try_with(|cell| {
        let mut state = cell.get();
        if state.depth > 0 {
            f(&mut state);
            cell.set(state);
        }
    });
}

fn grew(state: &mut State, size: usize) {
    state.live += size as isize;
    state.peak = state.peak.max(state.live);
}

fn got_real(state: &mut State, ptr: *mut u8) {
    if !ptr.is_null() {
        state.live_real += block_size(ptr) as isize;
        state.peak_real = state.peak_real.max(state.live_real);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu", not(miri)))]
fn block_size(ptr: *mut u8) -> usize {
    extern "C" {
        fn malloc_usable_size(ptr: *mut core::ffi::c_void) -> usize;
    }
    // SAFETY: `ptr` is a live block from `System`, which is glibc's malloc
    // (or `posix_memalign`) on this target.
    unsafe { malloc_usable_size(ptr.cast()) + 8 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu", not(miri))))]
fn block_size(_: *mut u8) -> usize {
    0
}

// SAFETY: every call forwards to `System` with the caller's arguments; the
// counters are thread-local `Cell`s with const initializers and no
// destructor, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller, who upholds `alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        update(|s| {
            s.allocs += 1;
            grew(s, layout.size());
            got_real(s, ptr);
        });
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        update(|s| {
            s.allocs += 1;
            grew(s, layout.size());
            got_real(s, ptr);
        });
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        update(|s| {
            s.live -= layout.size() as isize;
            s.live_real -= block_size(ptr) as isize;
        });
        // SAFETY: as in `alloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as resized in place (glibc grows large blocks with
        // mremap), so the peak is the larger size, not old plus new.
        update(|s| {
            s.allocs += 1;
            s.live -= layout.size() as isize;
            s.live_real -= block_size(ptr) as isize;
        });
        // SAFETY: as in `alloc`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        update(|s| {
            if new.is_null() {
                // The old block is still live, unchanged.
                grew(s, layout.size());
                got_real(s, ptr);
            } else {
                grew(s, new_size);
                got_real(s, new);
            }
        });
        new
    }
}

/// Counts this thread's allocations from its start until it is dropped.
/// Meters nest; each reports what happened since its own start.
///
/// Panics on start if [`Counting`] is not the global allocator.
pub struct Meter {
    live: isize,
    allocs: u64,
    live_real: isize,
    outer_peak: isize,
    outer_peak_real: isize,
}

impl Meter {
    /// Starts counting on this thread.
    pub fn start() -> Meter {
        let before = STATE.with(|cell| {
            let mut state = cell.get();
            state.depth += 1;
            cell.set(state);
            state
        });
        // A probe, to tell a missing `#[global_allocator]` from a quiet
        // stretch of code.
        drop(std::hint::black_box(Box::new(0u64)));
        STATE.with(|cell| {
            let mut state = cell.get();
            assert!(
                state.allocs > before.allocs,
                "mapstore_testkit::alloc::Counting is not the global allocator: add \
                 `#[global_allocator] static ALLOCATOR: Counting = Counting;` to this binary"
            );
            let meter = Meter {
                live: state.live,
                allocs: state.allocs,
                live_real: state.live_real,
                outer_peak: before.peak,
                outer_peak_real: before.peak_real,
            };
            state.peak = state.live;
            state.peak_real = state.live_real;
            cell.set(state);
            meter
        })
    }

    fn now() -> State {
        STATE.with(Cell::get)
    }

    /// Bytes allocated and not freed since the start (negative if more was
    /// freed than allocated).
    pub fn live(&self) -> isize {
        Self::now().live - self.live
    }

    /// The largest [`live`](Meter::live) since the start (or since
    /// [`reset_peak`](Meter::reset_peak)).
    pub fn peak(&self) -> usize {
        (Self::now().peak - self.live).max(0) as usize
    }

    /// Allocation calls (`alloc`, `alloc_zeroed`, `realloc`) since the start.
    pub fn allocations(&self) -> u64 {
        Self::now().allocs - self.allocs
    }

    /// [`live`](Meter::live) in the allocator's real block sizes (usable
    /// size plus header); 0 where the platform does not tell.
    pub fn live_real(&self) -> isize {
        Self::now().live_real - self.live_real
    }

    /// [`peak`](Meter::peak) in real block sizes; 0 where unknown.
    pub fn peak_real(&self) -> usize {
        (Self::now().peak_real - self.live_real).max(0) as usize
    }

    /// Forgets the peak so far: the next [`peak`](Meter::peak) counts from
    /// what is live now.
    pub fn reset_peak(&self) {
        STATE.with(|cell| {
            let mut state = cell.get();
            state.peak = state.live;
            state.peak_real = state.live_real;
            cell.set(state);
        });
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        let _ = STATE.try_with(|cell| {
            let mut state = cell.get();
            state.depth -= 1;
            state.peak = state.peak.max(self.outer_peak);
            state.peak_real = state.peak_real.max(self.outer_peak_real);
            cell.set(state);
        });
    }
}

/// glibc's malloc tuning, so every contender starts from the same allocator
/// state. No-ops elsewhere.
pub mod malloc {
    /// Pins glibc's malloc thresholds to the values its dynamic adjustment
    /// settles on once a program has freed one large block (mmap above
    /// 32 MiB, trim above 64 MiB). Left dynamic, they depend on what ran
    /// before, and a loop that grows and drops a 100 KiB table would return
    /// its pages to the kernel and fault them in again on every iteration.
    /// Call once, before anything is measured.
    #[cfg(all(target_os = "linux", target_env = "gnu", not(miri)))]
    pub fn pin() {
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_THRESHOLD: i32 = -3;
        // SAFETY: `mallopt` has no preconditions.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, 64 << 20);
        }
    }

    /// Returns free heap memory to the system, so that every contender
    /// starts from the same allocator state (otherwise the first one to
    /// grow the heap pays the page faults and the next ones reuse them).
    #[cfg(all(target_os = "linux", target_env = "gnu", not(miri)))]
    pub fn trim() {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: `malloc_trim` has no preconditions.
        unsafe { malloc_trim(0) };
    }

    /// No-op off glibc.
    #[cfg(not(all(target_os = "linux", target_env = "gnu", not(miri))))]
    pub fn pin() {}

    /// No-op off glibc.
    #[cfg(not(all(target_os = "linux", target_env = "gnu", not(miri))))]
    pub fn trim() {}
}
