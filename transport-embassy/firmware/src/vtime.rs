//! Virtual time for an emulated board: an `embassy-time` driver whose
//! clock moves only when no task is runnable, straight to the earliest
//! timer, and the small executor that decides when that is. A 67-second
//! call then takes milliseconds of emulation, deterministically: the
//! in-memory link delivers every frame at once, so no protocol or TCP
//! timer fires that would not have fired in real time.
//!
//! The executor polls each task only when its own waker fired (one bit per
//! task), as embassy-executor does. Polling everything on every wake would
//! never go idle: every embassy-net socket access wakes its stack, and a
//! stack poll re-polls the runners' reads.

use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicU32, Ordering};
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use critical_section::Mutex;
use embassy_time_driver::Driver;

/// Timers the clock holds at once (one per waker: a waker scheduled again
/// keeps its earliest deadline, as embassy's queues do; a task that is
/// woken early polls its timers again and they schedule themselves anew).
const TIMERS: usize = 16;

struct Inner {
    now: u64,
    timers: heapless::Vec<(u64, Waker), TIMERS>,
}

/// The virtual clock.
pub struct VirtualClock(Mutex<RefCell<Inner>>);

impl VirtualClock {
    const fn new() -> Self {
        VirtualClock(Mutex::new(RefCell::new(Inner {
            now: 0,
            timers: heapless::Vec::new(),
        })))
    }
}

impl Driver for VirtualClock {
    fn now(&self) -> u64 {
        critical_section::with(|cs| self.0.borrow_ref(cs).now)
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        let wake_now = critical_section::with(|cs| {
            let mut inner = self.0.borrow_ref_mut(cs);
            if at <= inner.now {
                return true;
            }
            if let Some(t) = inner.timers.iter_mut().find(|(_, w)| w.will_wake(waker)) {
                t.0 = t.0.min(at);
                return false;
            }
            // Full: wake it now; it polls and schedules again.
            inner.timers.push((at, waker.clone())).is_err()
        });
        if wake_now {
            waker.wake_by_ref();
        }
    }
}

embassy_time_driver::time_driver_impl!(static CLOCK: VirtualClock = VirtualClock::new());

/// Move the clock to the earliest timer and wake every task due then;
/// false if no timer is set.
fn advance() -> bool {
    let mut due: heapless::Vec<Waker, TIMERS> = heapless::Vec::new();
    let any = critical_section::with(|cs| {
        let mut inner = CLOCK.0.borrow_ref_mut(cs);
        let Some(next) = inner.timers.iter().map(|(t, _)| *t).min() else {
            return false;
        };
        inner.now = inner.now.max(next);
        let now = inner.now;
        let mut i = 0;
        while i < inner.timers.len() {
            if inner.timers[i].0 <= now {
                let (_, w) = inner.timers.swap_remove(i);
                // `due` has the capacity of `timers`.
                let _ = due.push(w);
            } else {
                i += 1;
            }
        }
        true
    });
    for w in due {
        w.wake();
    }
    any
}

/// One microsecond passes (work takes time), and the timers due then fire.
fn tick() {
    let due = critical_section::with(|cs| {
        let mut inner = CLOCK.0.borrow_ref_mut(cs);
        inner.now += 1;
        let now = inner.now;
        inner.timers.iter().any(|(t, _)| *t <= now)
    });
    if due {
        advance();
    }
}

/// One bit per task: set by its waker, cleared when it is polled.
static READY: AtomicU32 = AtomicU32::new(0);

fn task_waker(task: usize) -> RawWaker {
    fn clone(p: *const ()) -> RawWaker {
        task_waker(p as usize)
    }
    fn wake(p: *const ()) {
        READY.fetch_or(1 << (p as usize), Ordering::SeqCst);
    }
    fn drop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);
    RawWaker::new(task as *const (), &VTABLE)
}

/// Most stack one poll of each task used (bytes below the executor's
/// frame), by task index (`main` is the last).
pub static TASK_STACK: [AtomicU32; 8] = [const { AtomicU32::new(0) }; 8];

/// Poll through `f` on a freshly painted stack; keep the task's maximum.
#[inline(never)]
fn measure<T>(task: usize, f: impl FnOnce() -> T) -> T {
    crate::stack::paint();
    let base = crate::stack::depth();
    let out = f();
    let used = crate::stack::high_water().saturating_sub(base) as u32;
    if let Some(max) = TASK_STACK.get(task) {
        max.fetch_max(used, Ordering::Relaxed);
    }
    out
}

/// Polls made by [`run`], for the report.
pub static POLLS: AtomicU32 = AtomicU32::new(0);

/// Run `main` and the `background` tasks (which never finish) until `main`
/// finishes: poll the tasks that were woken, else jump to the next timer.
/// `None` if `main` can never finish (nothing woken, no timer set).
pub fn run<T, const N: usize>(
    main: impl Future<Output = T>,
    mut background: [Pin<&mut dyn Future<Output = ()>>; N],
) -> Option<T> {
    const { assert!(N < 8) };
    let mut main = core::pin::pin!(main);
    READY.store(u32::MAX >> (31 - N), Ordering::SeqCst); // poll everything once
    loop {
        let ready = READY.swap(0, Ordering::SeqCst);
        if ready == 0 {
            if advance() {
                continue;
            }
            return None;
        }
        for (i, task) in background.iter_mut().enumerate() {
            if ready & (1 << i) != 0 {
                // SAFETY: the vtable's functions only read the task index
                // out of the data pointer.
                let waker = unsafe { Waker::from_raw(task_waker(i)) };
                POLLS.fetch_add(1, Ordering::Relaxed);
                measure(i, || {
                    let _ = task.as_mut().poll(&mut Context::from_waker(&waker));
                });
            }
        }
        if ready & (1 << N) != 0 {
            // SAFETY: as above.
            let waker = unsafe { Waker::from_raw(task_waker(N)) };
            POLLS.fetch_add(1, Ordering::Relaxed);
            let polled = measure(N, || main.as_mut().poll(&mut Context::from_waker(&waker)));
            if let Poll::Ready(v) = polled {
                return Some(v);
            }
        }
        tick();
    }
}

/// A task for [`run`] out of any future (the runners' `-> !` included).
pub async fn task<F: Future>(f: F) {
    let _ = f.await;
}

/// The virtual time now, in microseconds since boot.
pub fn now_micros() -> u64 {
    CLOCK.now()
}
