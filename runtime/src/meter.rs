//! The per-rollout memory budget: how many bytes the evaluation of one rollout holds live.
//!
//! A reward runs inside a training job, so one rollout must not be able to take the host's
//! memory (a doubling `join`, a comprehension nested over `range`). Every allocation and free
//! on a thread moves that thread's live-byte count ([`CountingAlloc`], the global allocator of
//! every program built with the default `meter` feature: the CLI, the Python module and the
//! shared libraries). An engine scoring a rollout opens a [`RowGuard`] with the spec's limit,
//! and checks [`over`] at its safe points: each loop iteration and function call, and after
//! each builtin or concatenation. Exceeding the limit makes that rollout a row error naming the
//! term; the next rollout starts from zero.
//!
//! What counts is memory live at the check, not allocated in total: a loop that builds and drops
//! a large text per step costs one text. A single value is bounded separately (texts by
//! [`crate::value::MAX_BUILT_TEXT_BYTES`], `range` by its length), so the overshoot past the
//! limit before a check is bounded too.
//!
//! Without the `meter` feature (a Rust program that brings its own global allocator) nothing is
//! counted and only the per-value bounds apply.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The default per-rollout budget: 512 MiB.
pub const DEFAULT_MAX_ROW_BYTES: u64 = 512 << 20;

thread_local! {
    /// Bytes allocated minus bytes freed by this thread (frees of memory allocated elsewhere
    /// can make it negative; only differences matter).
    static LIVE: Cell<i64> = const { Cell::new(0) };
    /// The open rollout: the live count when it started and its limit.
    static ROW: Cell<(i64, u64)> = const { Cell::new((0, u64::MAX)) };
    /// Allocations (and reallocations) made by this thread.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn add(delta: i64) {
    // `try_with`: allocations while the thread is being torn down are simply not counted.
    let _ = LIVE.try_with(|c| c.set(c.get().wrapping_add(delta)));
}

fn allocated(delta: i64) {
    add(delta);
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get().wrapping_add(1)));
}

/// How many allocations this thread has made (0 without the `meter` feature): tests use it to
/// show a hot path allocates nothing.
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// The system allocator, counting live bytes per thread.
pub struct CountingAlloc;

// SAFETY: every call is forwarded to `System` unchanged; the counting touches only a
// const-initialised thread-local `Cell` (no allocation, no destructor).
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            allocated(layout.size() as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            allocated(layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        add(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            allocated(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

#[cfg(feature = "meter")]
#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// The budget of the rollout being scored on this thread; the previous one (none, normally)
/// comes back when it drops.
pub struct RowGuard {
    previous: (i64, u64),
}

/// Opens a rollout with a budget of `limit` live bytes on this thread.
pub fn begin_row(limit: u64) -> RowGuard {
    let start = LIVE.with(Cell::get);
    RowGuard {
        previous: ROW.with(|r| r.replace((start, limit))),
    }
}

impl Drop for RowGuard {
    fn drop(&mut self) {
        ROW.with(|r| r.set(self.previous));
    }
}

/// Whether the open rollout holds more than its budget.
#[inline]
pub fn over() -> bool {
    let (start, limit) = ROW.with(Cell::get);
    if limit == u64::MAX {
        return false;
    }
    let used = LIVE.with(Cell::get).wrapping_sub(start);
    used > 0 && used as u64 > limit
}

/// `Err` with [`error`]'s message when the open rollout is over its budget.
#[inline]
pub fn check() -> Result<(), String> {
    if over() {
        Err(error())
    } else {
        Ok(())
    }
}

/// The row error for a rollout over its budget.
pub fn error() -> String {
    let (_, limit) = ROW.with(Cell::get);
    format!(
        "this rollout holds more than {} of values (the per-rollout memory budget; raise it with --max-row-bytes or the max_row_bytes option)",
        human_bytes(limit)
    )
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(all(test, feature = "meter"))]
mod tests {
    use super::*;

    #[test]
    fn live_bytes_count_against_the_open_row_only() {
        let _row = begin_row(1 << 20);
        assert!(!over());
        let big = std::hint::black_box(vec![0u8; 2 << 20]);
        assert!(over(), "2 MiB live in a 1 MiB row");
        assert!(check().unwrap_err().contains("1 MiB"));
        drop(big);
        assert!(!over(), "freed memory no longer counts");
        {
            let _inner = begin_row(u64::MAX);
            let _big = std::hint::black_box(vec![0u8; 2 << 20]);
            assert!(!over(), "an unlimited row");
        }
        drop(_row);
        let _big = std::hint::black_box(vec![0u8; 2 << 20]);
        assert!(!over(), "no row open");
    }
}
