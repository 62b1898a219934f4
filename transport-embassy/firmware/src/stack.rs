//! Stack high-water mark: paint the free stack with a pattern at reset,
//! run, then find the lowest word the pattern no longer holds.

const PAINT: u32 = 0xdead_c0de;

extern "C" {
    /// End of `.bss`/`.uninit`: the bottom of the free RAM (cortex-m-rt).
    static mut __sheap: u32;
    /// Initial stack pointer: the top of RAM (cortex-m-rt).
    static _stack_start: u32;
}

fn bottom() -> *mut u32 {
    core::ptr::addr_of_mut!(__sheap)
}

fn top() -> usize {
    core::ptr::addr_of!(_stack_start) as usize
}

/// Paint from the bottom of free RAM to a little below the current stack
/// pointer.
pub fn paint() {
    let sp = cortex_m::register::msp::read() as usize - 64;
    let mut p = bottom();
    while (p as usize) < sp {
        // SAFETY: between the end of the statics and the live stack: free
        // RAM nothing else uses (no heap).
        unsafe {
            p.write_volatile(PAINT);
            p = p.add(1);
        }
    }
}

/// Bytes of stack used at most since [`paint`].
pub fn high_water() -> usize {
    let mut p = bottom();
    // SAFETY: reads of the painted region, below the live stack.
    while (p as usize) < top() && unsafe { p.read_volatile() } == PAINT {
        p = unsafe { p.add(1) };
    }
    top() - p as usize
}

/// Free RAM between the statics and the top of RAM.
pub fn free_ram() -> usize {
    top() - bottom() as usize
}

/// Bytes of stack in use now (from the top of RAM to the stack pointer).
pub fn depth() -> usize {
    top() - cortex_m::register::msp::read() as usize
}
