//! Zero allocation, as in `core`: whole credit-control sessions between the
//! client machines and the [`CcServer`] (every message encoded into a
//! buffer on the stack, parsed, validated and answered) make no heap
//! allocation. A counting global allocator counts the allocations of the
//! measuring thread only; a self-check proves it counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use diameter_cc::client::postpaid::{PostpaidClient, PostpaidConfig, PostpaidEvent, PostpaidState};
use diameter_cc::client::prepaid::{
    Parties, PrepaidClient, PrepaidConfig, PrepaidEvent, PrepaidState, Transmit,
};
use diameter_cc::dict::tgpp;
use diameter_cc::server::credit_control::{Balances, CcServer, CcServerConfig, Rating};
use diameter_cc::session::{session_id_from, WallClock};
use diameter_cc::CreditControl;
use diameter_core::dict::base::TerminationCause;
use diameter_core::time::Instant;
use diameter_core::Message;

struct Counting;

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

// SAFETY: every method forwards to `System` unchanged; `note` only touches an
// atomic and a const-initialised thread-local without destructor.
unsafe impl GlobalAlloc for Counting {
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

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Run `f`; return its result and the heap allocations it made on this
/// thread (other test threads are not counted).
fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
    struct Off;
    impl Drop for Off {
        fn drop(&mut self) {
            ACTIVE.with(|a| a.set(false));
        }
    }
    let _lock = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    ALLOCATIONS.store(0, Ordering::SeqCst);
    ACTIVE.with(|a| a.set(true));
    let off = Off;
    let r = black_box(f());
    drop(off);
    (r, ALLOCATIONS.load(Ordering::SeqCst))
}

#[test]
fn the_allocation_counter_counts() {
    let (_, n) = allocations(|| black_box(Vec::<u8>::with_capacity(1)));
    assert_eq!(n, 1);
    let (_, n) = allocations(|| black_box(String::from("x")).len());
    assert_eq!(n, 1);
    let (_, n) = allocations(|| black_box([0u8; 64]));
    assert_eq!(n, 0);
    // another thread's allocations are not counted: spawning costs the
    // same whether the thread allocates 100 times or not at all
    let spawn = |k: usize| {
        allocations(|| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    (0..k)
                        .map(|i| black_box(vec![0u8; i + 1]).len())
                        .sum::<usize>()
                })
                .join()
                .unwrap()
            })
        })
        .1
    };
    assert_eq!(spawn(100), spawn(0));
}

const CLIENT: &str = "client.diameter.test";
const SERVER: &str = "server.diameter.test";
const REALM: &str = "diameter.test";
const CONTEXT: &str = "voice@OsipsDiamCCR";
const CLOCK: WallClock = WallClock {
    unix_at_zero: 1_704_067_200,
};
const PARTIES: Parties<'static> = Parties {
    user_name: "1001",
    subscription_id: "1001",
    calling_party: "1001",
    called_party: "1002",
    role_of_node: tgpp::RoleOfNode::Originating,
    node_functionality: tgpp::NodeFunctionality::As,
};

/// Outputs seen, without a collection: (events, CCRs, answers to the
/// server, last event).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    events: u32,
    ccrs: u32,
    answers: u32,
    finished: bool,
}

/// Move every CCR to the server and its CCA back, every RAA/ASA parsed:
/// all in stack buffers.
fn exchange<R: Rating, const N: usize>(
    now: Instant,
    c: &mut PrepaidClient<'_, '_>,
    s: &mut CcServer<'_, R, N>,
    tally: &mut Tally,
    hbh: &mut u32,
) {
    loop {
        while let Some(e) = c.poll_event() {
            tally.events += 1;
            tally.finished |= e == PrepaidEvent::Finished;
        }
        let mut buf = [0u8; 2048];
        let Some(t) = c.poll_transmit(now, &mut buf) else {
            break;
        };
        match t.unwrap() {
            Transmit::Request { len, .. } => {
                *hbh += 1;
                buf[12..16].copy_from_slice(&hbh.to_be_bytes());
                let req = Message::parse_with(&buf[..len], &CreditControl).unwrap();
                req.validate(&CreditControl).unwrap();
                let mut abuf = [0u8; 2048];
                let ans = s.handle_request(now, &req, &mut abuf).unwrap();
                let ans = Message::parse_with(ans, &CreditControl).unwrap();
                ans.validate(&CreditControl).unwrap();
                c.handle_answer(now, &ans);
                tally.ccrs += 1;
            }
            Transmit::Answer { len } => {
                let a = Message::parse_with(&buf[..len], &CreditControl).unwrap();
                a.validate(&CreditControl).unwrap();
                tally.answers += 1;
            }
        }
    }
}

#[test]
fn a_prepaid_session_allocates_nothing() {
    let mut cfg = PrepaidConfig::new(CLIENT, REALM, REALM, CONTEXT);
    cfg.destination_host = Some(SERVER);
    cfg.clock = CLOCK;
    let mut scfg = CcServerConfig::new(SERVER, REALM);
    scfg.validity_time = Some(30);
    let (tally, n) = allocations(|| {
        let mut bal = Balances::<8>::new();
        bal.set("1001", 3600);
        let mut server: CcServer<'_, _, 8> = CcServer::new(&scfg, bal);
        let mut c = PrepaidClient::new(
            &cfg,
            session_id_from("sip-call-na@client").unwrap(),
            PARTIES,
        );
        let mut tally = Tally::default();
        let mut hbh = 0;
        // INVITE: CCR-I, answer: CCR-U
        c.call_setup(Instant::ZERO);
        exchange(Instant::ZERO, &mut c, &mut server, &mut tally, &mut hbh);
        c.call_answered(Instant::from_secs(3));
        exchange(
            Instant::from_secs(3),
            &mut c,
            &mut server,
            &mut tally,
            &mut hbh,
        );
        // Validity-Time runs out: CCR-U
        let t = c.poll_timeout().unwrap();
        c.handle_timeout(t);
        exchange(t, &mut c, &mut server, &mut tally, &mut hbh);
        // the server re-authorises: RAR → RAA + CCR-U
        let mut rbuf = [0u8; 512];
        assert!(server.reauthorize("sip-call-na@client", CLIENT));
        let len = server.poll_transmit(&mut rbuf).unwrap().unwrap();
        let rar = Message::parse_with(&rbuf[..len], &CreditControl).unwrap();
        let now = t + Duration::from_secs(5);
        assert!(c.handle_server_request(now, &rar));
        exchange(now, &mut c, &mut server, &mut tally, &mut hbh);
        // hangup: CCR-T
        let end = Instant::from_secs(70);
        c.call_ended(end, TerminationCause::Logout);
        exchange(end, &mut c, &mut server, &mut tally, &mut hbh);
        assert_eq!(c.state(), PrepaidState::Ended);
        assert_eq!(server.sessions(), 0);
        assert_eq!(server.rating().balance("1001"), Some(3600 - 67));
        while server.poll_event().is_some() {}
        tally
    });
    assert_eq!(n, 0, "allocations in a prepaid session");
    // CCR-I, CCR-U (answer), CCR-U (validity), CCR-U (RAR), CCR-T; one RAA
    assert_eq!(tally.ccrs, 5);
    assert_eq!(tally.answers, 1);
    assert!(tally.finished);
}

#[test]
fn a_postpaid_session_allocates_nothing() {
    let mut cfg = PostpaidConfig::new(CLIENT, REALM, REALM, CONTEXT);
    cfg.destination_host = Some(SERVER);
    cfg.clock = CLOCK;
    let scfg = CcServerConfig::new(SERVER, REALM);
    let (charged, n) = allocations(|| {
        let mut bal = Balances::<8>::new();
        bal.set("1001", 3600);
        let mut server: CcServer<'_, _, 8> = CcServer::new(&scfg, bal);
        let mut c = PostpaidClient::new(
            &cfg,
            session_id_from("sip-call-pp@client").unwrap(),
            PARTIES,
        );
        c.call_answered(Instant::from_secs(4));
        c.call_ended(Instant::from_secs(71));
        let now = Instant::from_secs(71);
        let mut buf = [0u8; 2048];
        // the first CCR-Event is lost: Tx, resent with the T flag
        let t = c.poll_transmit(now, &mut buf).unwrap().unwrap();
        assert!(!t.retransmission);
        let tx = c.poll_timeout().unwrap();
        c.handle_timeout(tx);
        let t = c.poll_transmit(tx, &mut buf).unwrap().unwrap();
        assert!(t.retransmission);
        let req = Message::parse_with(&buf[..t.len], &CreditControl).unwrap();
        req.validate(&CreditControl).unwrap();
        let mut abuf = [0u8; 1024];
        let ans = server.handle_request(tx, &req, &mut abuf).unwrap();
        let ans = Message::parse_with(ans, &CreditControl).unwrap();
        c.handle_answer(tx, &ans);
        let mut charged = None;
        while let Some(e) = c.poll_event() {
            if let PostpaidEvent::Charged(rc) = e {
                charged = Some(rc.0);
            }
        }
        assert_eq!(c.state(), PostpaidState::Ended);
        assert_eq!(server.rating().balance("1001"), Some(3600 - 67));
        charged
    });
    assert_eq!(n, 0, "allocations in a postpaid session");
    assert_eq!(charged, Some(2001));
}
