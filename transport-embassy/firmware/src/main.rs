//! `diameter-embassy` on an emulated Cortex-M3 (QEMU `mps2-an385`;
//! `--target thumbv7em-none-eabihf` runs it on the Cortex-M4F `mps2-an386`),
//! semihosting for output and the exit status, with no allocator:
//!
//! 1. the bench messages of `../shared/bench-msgs/` are decoded, validated
//!    and re-encoded byte for byte ([`bench`]);
//! 2. the SCENARIOS prepaid call runs between a client node and a charging
//!    responder node, each behind its own embassy-net stack, the stacks
//!    joined in memory ([`scenario`]), under virtual time ([`vtime`]);
//! 3. the stack high-water mark of that run is read back ([`stack`]) and
//!    the sizes of a session's state are printed.
//!
//! It exits 0 when everything checked out, 1 otherwise (CI runs it with
//! `cargo run --release`). `--no-default-features --features client-only`
//! builds only the client side (no `server` feature: neither the
//! charging node nor the server sessions of `diameter-cc` are linked): the
//! footprint build of BENCHMARKS.md, which runs to the same output but has
//! no server to talk to.
#![no_std]
#![no_main]

#[cfg(all(feature = "client-only", feature = "server"))]
compile_error!(
    "client-only leaves the server out: build with --no-default-features --features client-only"
);
#[cfg(not(any(feature = "client-only", feature = "server")))]
compile_error!("build with the default features (the whole run) or with --features client-only");

#[cfg(not(feature = "client-only"))]
mod bench;
mod scenario;
mod stack;
mod vtime;

use core::mem::size_of;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug::{exit, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hprintln;
use diameter_cc::client::prepaid::PrepaidClient;
use diameter_cc::endpoint::Session;
use diameter_core::peer;

#[entry]
fn main() -> ! {
    stack::paint();
    hprintln!(
        "diameter-embassy firmware: {}, no allocator",
        if cfg!(target_abi = "eabihf") {
            "Cortex-M4F (QEMU mps2-an386)"
        } else {
            "Cortex-M3 (QEMU mps2-an385)"
        }
    );
    #[cfg(not(feature = "client-only"))]
    let codec = {
        hprintln!("bench messages: decode, validate, re-encode");
        bench::run()
    };
    #[cfg(feature = "client-only")]
    let codec = true;

    hprintln!("prepaid call: 1001 -> 1002 over two embassy-net stacks in memory");
    let result = scenario::run();
    let mut ok = codec;
    match &result {
        None => {
            hprintln!("  the call never finished (deadlock)");
            ok = false;
        }
        Some((o, balance)) => {
            hprintln!("  CCA-I:  {:?}", o.grant);
            hprintln!("  CCA-T:  {:?}", o.hangup);
            hprintln!("  DPR:    {:?}", o.down);
            if cfg!(feature = "client-only") {
                // Nobody answers: the call is refused, the client survives.
                ok &= o.grant.is_err();
            } else {
                let expected = scenario::BALANCE - scenario::TALK;
                hprintln!(
                    "  balance of 1001: {} s -> {:?} s (expected {})",
                    scenario::BALANCE,
                    balance,
                    expected
                );
                hprintln!(
                    "  frames: {} delivered, {} dropped",
                    scenario::FRAMES.load(core::sync::atomic::Ordering::Relaxed),
                    scenario::DROPPED.load(core::sync::atomic::Ordering::Relaxed)
                );
                ok &= o.grant.is_ok()
                    && o.hangup.is_ok()
                    && matches!(o.down, Some(peer::Event::Down(_)))
                    && *balance == Some(expected);
            }
        }
    }
    // SAFETY: written by `scenario::run`, which has returned.
    #[allow(static_mut_refs)]
    let s = unsafe { &scenario::STACK };
    let task = |i: usize| vtime::TASK_STACK[i].load(core::sync::atomic::Ordering::Relaxed) as usize;
    let deepest = (0..scenario::TASK_NAMES.len()).map(task).max().unwrap_or(0);
    hprintln!(
        "stack: {} B at most during the call ({} B deep when it starts + {} B for the deepest poll); {} B at most while setting up; {} B free for the stack",
        s.start + deepest,
        s.start,
        deepest,
        s.setup,
        stack::free_ram()
    );
    hprintln!(
        "sizes: prepaid session {} B (endpoint slot {} B), message buffers {} B, client node {} B, runner {} B",
        size_of::<PrepaidClient>(),
        size_of::<Session>(),
        2 * scenario::MSG,
        size_of::<scenario::ClientNode>(),
        size_of::<scenario::ClientRunner>(),
    );
    hprintln!("stack of one poll, most, by task (bytes below the executor's frame):");
    for (i, name) in scenario::TASK_NAMES.iter().enumerate() {
        hprintln!("  {:<14} {:>6}", name, task(i));
    }
    hprintln!(
        "virtual time {} us, {} task polls",
        vtime::now_micros(),
        vtime::POLLS.load(core::sync::atomic::Ordering::Relaxed)
    );
    hprintln!("{}", if ok { "RESULT PASS" } else { "RESULT FAIL" });
    exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    loop {
        cortex_m::asm::bkpt();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("PANIC: {}", info);
    exit(EXIT_FAILURE);
    loop {
        cortex_m::asm::bkpt();
    }
}
