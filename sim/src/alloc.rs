//! The counting allocator: install it in a test binary with
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: diameter_sim::alloc::CountingAlloc = diameter_sim::alloc::CountingAlloc;
//! ```
//!
//! then [`allocations`] runs a closure and counts the heap allocations the
//! current thread made meanwhile (other threads are not counted, and one
//! measurement runs at a time).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Forwards to the system allocator and counts allocations of a measuring
/// thread.
pub struct CountingAlloc;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static MEASURING: Mutex<()> = Mutex::new(());

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    if ACTIVE.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: every method forwards to `System` unchanged; `note` only touches
// an atomic and a const-initialised thread-local without destructor.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

/// Run `f`; return its result and the number of heap allocations it made
/// on this thread. Only meaningful with [`CountingAlloc`] installed (see
/// [`assert_counting`]).
pub fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let _guard = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    ALLOCATIONS.store(0, Ordering::SeqCst);
    ACTIVE.with(|a| a.set(true));
    let r = f();
    ACTIVE.with(|a| a.set(false));
    (r, ALLOCATIONS.load(Ordering::SeqCst))
}

/// Panic unless [`CountingAlloc`] is the global allocator and counts: a
/// no-allocation test that counts nothing proves nothing.
pub fn assert_counting() {
    let (_, n) = allocations(|| std::hint::black_box(Box::new(std::hint::black_box(7u64))));
    assert!(n >= 1, "the counting allocator is not installed");
    let (_, n) = allocations(|| std::hint::black_box([0u8; 64]));
    assert_eq!(n, 0, "a stack array counted as an allocation");
}
