//! The codec's promise "nothing allocates", checked with a counting global
//! allocator: parse + reading every leaf, validation, encoding (into a stack
//! buffer and into a `heapless::Vec`), error answers and framing must make
//! zero heap allocations.
//!
//! The counting allocator is the shared one of `diameter-sim`
//! ([`diameter_sim::alloc`]): it counts only on a thread that has switched
//! counting on (a const thread-local flag, which itself never allocates),
//! and measured sections are serialised by a mutex, so the test harness's
//! own threads and parallel tests do not disturb the count.

mod common;

use std::hint::black_box;

use common::*;
use diameter_core::answer::{error_answer, Identity};
use diameter_core::dict::base;
use diameter_core::encode::encode_into_vec;
use diameter_core::{
    ApplicationId, CommandCode, Error, ErrorKind, Frame, Framer, HeaderRepr, Message,
    MessageBuilder,
};
use diameter_sim::alloc::{allocations, assert_counting};

#[global_allocator]
static ALLOC: diameter_sim::alloc::CountingAlloc = diameter_sim::alloc::CountingAlloc;

/// Assert that `f` makes no allocation.
#[track_caller]
fn assert_no_alloc<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let (r, n) = allocations(f);
    assert_eq!(n, 0, "{what}: {n} heap allocation(s)");
    r
}

#[test]
fn counter_counts() {
    assert_counting();
    let (_, n) = allocations(|| black_box(Vec::<u8>::with_capacity(1)));
    assert_eq!(n, 1, "Vec::with_capacity(1)");
    let (_, n) = allocations(|| {
        let mut v = black_box(Vec::<u8>::with_capacity(1));
        v.extend_from_slice(black_box(&[1, 2, 3, 4, 5, 6, 7, 8]));
        v
    });
    assert_eq!(n, 2, "allocation + growth");
    let (_, n) = allocations(|| black_box(Box::new(black_box(7u64))));
    assert_eq!(n, 1, "Box::new");
    let (_, n) = allocations(|| black_box(format!("{}", black_box(12345))));
    assert!(n >= 1, "format!");
    let (_, n) = allocations(|| black_box([0u8; 64]));
    assert_eq!(n, 0, "a stack array");
    // A failing measurement really fails.
    let r = std::panic::catch_unwind(|| {
        assert_no_alloc("deliberate", || black_box(Vec::<u8>::with_capacity(1)))
    });
    assert!(r.is_err(), "assert_no_alloc must fail on an allocation");
}

struct Loaded {
    name: &'static str,
    bytes: Vec<u8>,
    want: Bench<'static>,
}

fn load_all() -> Vec<Loaded> {
    BENCH_NAMES
        .iter()
        .map(|&name| Loaded {
            name,
            bytes: bench_msg(name),
            want: expected(name),
        })
        .collect()
}

#[test]
fn parse_and_read_every_leaf() {
    for l in load_all() {
        let (_, _, total) = documented_sizes(l.name);
        assert_no_alloc(l.name, || {
            let m = Message::parse_with(&l.bytes, &TestDict).unwrap();
            let got = decode_like(&l.want, &m).unwrap();
            assert!(got == l.want, "{}", l.name);
            assert_eq!(count_avps(m.avps()), total);
            assert_eq!(m.session_id(), Some(SESSION_ID));
            // Every bench message but the CCA carries Event-Timestamp.
            let ts = m.get(&base::EVENT_TIMESTAMP).unwrap().map(|t| t.unix());
            match l.want {
                Bench::Cca(_) => assert_eq!(ts, None),
                _ => assert_eq!(ts, Some(1_704_067_200)),
            }
            for a in m.iter() {
                black_box(a.unwrap().data());
            }
        });
        // And without a dictionary.
        assert_no_alloc(l.name, || {
            let m = Message::parse(&l.bytes).unwrap();
            assert!(decode_like(&l.want, &m).unwrap() == l.want);
        });
    }
}

#[test]
fn validate() {
    for l in load_all() {
        let m = Message::parse_with(&l.bytes, &TestDict).unwrap();
        assert_no_alloc(l.name, || m.validate(&TestDict).unwrap());
    }
    // A failing validation builds its error without allocating either.
    let acr = bench_msg("acr-start");
    let m = Message::parse_with(&acr, &TestDict).unwrap();
    let e = assert_no_alloc("validate an ACR against the ACA grammar", || {
        m.validate_command(&base::ACA, &TestDict, &Default::default())
    });
    assert!(e.is_err());
}

#[test]
fn encode_from_values_into_stack_buffer() {
    for l in load_all() {
        assert_no_alloc(l.name, || {
            let mut buf = [0u8; 4096];
            let out = encode(&mut buf, &l.want).unwrap();
            assert!(out == &l.bytes[..], "{}", l.name);
        });
        // The decode -> encode round trip, all on the stack.
        assert_no_alloc(l.name, || {
            let m = Message::parse_with(&l.bytes, &TestDict).unwrap();
            let v = decode_like(&l.want, &m).unwrap();
            let mut buf = [0u8; 4096];
            assert!(encode(&mut buf, &v).unwrap() == &l.bytes[..]);
        });
        // A too-small buffer is an error, not an allocation.
        assert_no_alloc(l.name, || {
            let mut buf = [0u8; 100];
            assert!(encode(&mut buf, &l.want).is_err());
        });
    }
}

#[test]
fn encode_into_heapless_vec() {
    for l in load_all() {
        assert_no_alloc(l.name, || {
            let mut v: heapless::Vec<u8, 4096> = heapless::Vec::new();
            encode_into_vec(&mut v, header_of(&l.want), |b| put(b, &l.want)).unwrap();
            assert!(v.as_slice() == &l.bytes[..], "{}", l.name);
            let mut small: heapless::Vec<u8, 64> = heapless::Vec::new();
            assert!(encode_into_vec(&mut small, header_of(&l.want), |b| put(b, &l.want)).is_err());
            assert!(small.is_empty());
        });
    }
}

const ME: Identity<'static> = Identity {
    origin_host: "server.example.org",
    origin_realm: "example.org",
};

#[test]
fn error_answers() {
    // 5005: ACR without Accounting-Record-Type.
    let mut req = [0u8; 512];
    let mut b = MessageBuilder::new(
        &mut req,
        HeaderRepr::request(
            CommandCode::ACCOUNTING,
            ApplicationId::BASE_ACCOUNTING,
            7,
            8,
        )
        .proxiable(true),
    );
    b.put(&base::SESSION_ID, SESSION_ID)
        .put(&base::ORIGIN_HOST, "client.example.org")
        .put(&base::ORIGIN_REALM, "example.org")
        .put(&base::DESTINATION_REALM, "example.org")
        .put(&base::ACCOUNTING_RECORD_NUMBER, 0);
    let req = b.finish().unwrap().to_vec();
    let e = Message::parse_with(&req, &TestDict)
        .unwrap()
        .validate(&TestDict)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MissingAvp);
    assert_no_alloc("error_answer 5005", || {
        let mut buf = [0u8; 512];
        let ans = error_answer(&req, &e, &ME, &TestDict, &mut buf)
            .unwrap()
            .finish()
            .unwrap();
        let m = Message::parse_with(ans, &TestDict).unwrap();
        assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(5005));
        assert!(m.get(&base::FAILED_AVP).unwrap().is_some());
    });

    // 3008: the E bit on a request.
    let mut bad = bench_msg("ccr-i");
    bad[4] |= 0x20;
    assert_no_alloc("error_answer 3008", || {
        let e = Message::parse_with(&bad, &TestDict).unwrap_err();
        let mut buf = [0u8; 512];
        let ans = error_answer(&bad, &e, &ME, &TestDict, &mut buf)
            .unwrap()
            .finish()
            .unwrap();
        let m = Message::parse(ans).unwrap();
        assert!(m.flags().is_error());
        assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(3008));
    });

    // 5014: an Unsigned32 with 5 bytes of data (CC-Request-Number).
    let mut buf = [0u8; 512];
    let mut b = MessageBuilder::new(
        &mut buf,
        HeaderRepr::request(
            CommandCode::CREDIT_CONTROL,
            ApplicationId::CREDIT_CONTROL,
            1,
            2,
        ),
    );
    b.put(&base::SESSION_ID, "s;1").put_raw(
        415,
        None,
        diameter_core::AvpFlags::MANDATORY,
        &[0, 0, 0, 0, 1],
    );
    let bad_len = b.finish().unwrap().to_vec();
    assert_no_alloc("error_answer 5014", || {
        let m = Message::parse_with(&bad_len, &TestDict).unwrap();
        let e: Error = m.validate(&TestDict).unwrap_err();
        assert_eq!(e.result_code().get(), 5014);
        let mut out = [0u8; 512];
        let ans = error_answer(&bad_len, &e, &ME, &TestDict, &mut out)
            .unwrap()
            .finish()
            .unwrap();
        let a = Message::parse(ans).unwrap();
        assert_eq!(a.get(&base::RESULT_CODE).unwrap(), Some(5014));
    });
}

#[test]
fn framer() {
    let all = load_all();
    let mut stream = Vec::new();
    for l in &all {
        stream.extend_from_slice(&l.bytes);
    }
    let cut = stream.len() - 7; // the last message is incomplete
    assert_no_alloc("framer", || {
        let f = Framer::default();
        let mut it = f.messages(&stream[..cut]);
        let mut n = 0;
        for (frame, l) in it.by_ref().zip(all.iter()) {
            let frame = frame.unwrap();
            assert!(frame == &l.bytes[..]);
            let m = Message::parse_with(frame, &TestDict).unwrap();
            assert!(decode_like(&l.want, &m).unwrap() == l.want);
            n += 1;
        }
        assert_eq!(n, 3);
        let consumed = it.consumed();
        assert_eq!(
            f.check(&stream[consumed..cut]),
            Ok(Frame::Partial {
                needed: all[3].bytes.len()
            })
        );
        assert_eq!(
            f.check(&stream[consumed..]),
            Ok(Frame::Complete(all[3].bytes.len()))
        );
        assert!(Framer::new(1000).check(&stream[consumed..]).is_err());
    });
}

/// Error values format into a fixed buffer without the heap.
#[test]
fn error_display() {
    use core::fmt::Write;
    struct Buf<'a>(&'a mut [u8], usize);
    impl Write for Buf<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let end = self.1 + s.len();
            self.0
                .get_mut(self.1..end)
                .ok_or(core::fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.1 = end;
            Ok(())
        }
    }
    let mut bytes = bench_msg("ccr-i");
    bytes[0] = 2;
    assert_no_alloc("Display for Error", || {
        let e = Message::parse(&bytes).unwrap_err();
        let mut store = [0u8; 128];
        let mut w = Buf(&mut store, 0);
        write!(w, "{e}").unwrap();
        let n = w.1;
        assert!(store[..n].starts_with(b"unsupported Diameter version"));
    });
}

/// The peer machine: a whole connection (CER/CEA, a request and its
/// answer, a DWR/DWA, DPR/DPA) between an initiator and a responder,
/// with every byte moving through stack buffers.
#[test]
fn peer_machine_conversation() {
    use diameter_core::peer::{App, Incoming, LocalIdentity, Peer, PeerConfig, Role};
    use diameter_core::time::Instant;
    use diameter_core::{ApplicationId, CommandCode};

    // The configuration is owned now: it is built (on the stack, heapless)
    // outside the measurement and moved into the machines inside it.
    fn config(host: &str) -> PeerConfig {
        let ident = LocalIdentity::new(host, "example.org")
            .unwrap()
            .with_product_name("no-alloc")
            .unwrap()
            .with_origin_state_id(1)
            .with_application(App::acct(3))
            .unwrap();
        PeerConfig::new(ident, 1_764_720_000)
    }
    let ci = config("client.example.org");
    let cr = config("server.example.org");
    assert_no_alloc("peer conversation", move || {
        let t0 = Instant::ZERO;
        let mut i: Peer<8> = Peer::new(ci, Role::Initiator, t0);
        let mut r: Peer<8> = Peer::new(cr, Role::Responder, t0);
        let mut wire = [0u8; 4096];
        // move i's output into r and back until quiet
        fn pump(now: Instant, a: &mut Peer<8>, b: &mut Peer<8>, wire: &mut [u8]) {
            let n = a.transmit().len();
            wire[..n].copy_from_slice(a.transmit());
            a.transmitted(n);
            let mut rest = &wire[..n];
            while let Ok(Frame::Complete(len)) = Framer::default().check(rest) {
                let (m, r2) = rest.split_at(len);
                rest = r2;
                let _ = b.handle_message(now, m, &base::Base);
            }
            while a.poll_event(now).is_some() {}
            while b.poll_event(now).is_some() {}
        }
        i.start(t0);
        i.handle_connected(t0);
        r.handle_connected(t0);
        pump(t0, &mut i, &mut r, &mut wire);
        pump(t0, &mut r, &mut i, &mut wire);
        assert!(i.is_open() && r.is_open());
        // an ACR and its ACA
        let mut req = [0u8; 256];
        let mut b = MessageBuilder::new(
            &mut req,
            HeaderRepr::request(
                CommandCode::ACCOUNTING,
                ApplicationId::BASE_ACCOUNTING,
                0,
                0,
            )
            .proxiable(true),
        );
        b.put(&base::SESSION_ID, "s;1")
            .put(&base::ORIGIN_HOST, "client.example.org")
            .put(&base::ORIGIN_REALM, "example.org")
            .put(&base::DESTINATION_REALM, "example.org")
            .put(
                &base::ACCOUNTING_RECORD_TYPE,
                base::AccountingRecordType::EventRecord,
            )
            .put(&base::ACCOUNTING_RECORD_NUMBER, 0);
        let n = b.finish().unwrap().len();
        i.send_request(t0, &mut req[..n], 1, Instant::from_secs(10))
            .unwrap();
        let mut ans = [0u8; 256];
        let a = match r.handle_message(t0, &req[..n], &base::Base) {
            Incoming::Request { message, .. } => {
                // Answers are validated now: a complete ACA.
                let mut b = MessageBuilder::answer_to(&mut ans, &message);
                b.put(&base::RESULT_CODE, 2001)
                    .put(&base::ORIGIN_HOST, "server.example.org")
                    .put(&base::ORIGIN_REALM, "example.org")
                    .put(
                        &base::ACCOUNTING_RECORD_TYPE,
                        base::AccountingRecordType::EventRecord,
                    )
                    .put(&base::ACCOUNTING_RECORD_NUMBER, 0);
                b.finish().unwrap().len()
            }
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            i.handle_message(t0, &ans[..a], &base::Base),
            Incoming::Answer { token: 1, .. }
        ));
        // watchdog, then disconnect
        let t = i.poll_timeout().unwrap();
        i.handle_timeout(t);
        pump(t, &mut i, &mut r, &mut wire);
        pump(t, &mut r, &mut i, &mut wire);
        i.disconnect(t, base::DisconnectCause::Rebooting);
        pump(t, &mut i, &mut r, &mut wire);
        pump(t, &mut r, &mut i, &mut wire);
        assert!(!i.is_open());
    });
}
