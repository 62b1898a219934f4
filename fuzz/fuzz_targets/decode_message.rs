//! Any bytes → `Message::parse_with`. On success every AVP value of every
//! known type can be read, validation runs, and re-encoding the parsed tree
//! parses back to the same tree. On failure the error's Result-Code is a
//! known one and its Failed-AVP offset lies inside the input, and the error
//! answer builds and parses. On any input with a valid header,
//! `AvpSet::walk` visits the same AVPs, at the same depths, and stops with
//! the same error as iterators and recursion.
#![no_main]

use diameter_core::answer::{error_answer, Identity};
use diameter_core::dict::{base::Base, Dictionary};
use diameter_core::types::DataType;
use diameter_core::walk::WALK_DEPTH;
use diameter_core::{AvpSet, Error, ErrorKind, Message, MessageBuilder};
use libfuzzer_sys::fuzz_target;

const ME: Identity<'static> = Identity {
    origin_host: "fuzz.example",
    origin_realm: "example",
};

fn touch(set: AvpSet<'_>, depth: usize) -> usize {
    let mut n = 0;
    for avp in set {
        let Ok(avp) = avp else { return n };
        n += 1;
        if let Some(info) = Base.avp(avp.code(), avp.vendor()) {
            let _ = info.data_type.check(avp.data());
            if info.data_type == DataType::Grouped && depth < 64 {
                n += touch(avp.group_set(), depth + 1);
            }
        }
    }
    n
}

/// Whether the parser descends into this AVP: a Grouped AVP of the
/// dictionary, except inside Failed-AVP, whose children are opaque (RFC
/// 6733 §7.5; only nested Failed-AVPs are descended there).
fn descends(avp: &diameter_core::Avp<'_>, in_failed: bool) -> bool {
    if in_failed {
        return avp.is(279, 0);
    }
    Base.avp(avp.code(), avp.vendor())
        .is_some_and(|i| i.data_type == DataType::Grouped)
}

/// Re-encode: header, then every top-level AVP copied, grouped AVPs
/// rebuilt recursively.
fn reencode(set: AvpSet<'_>, b: &mut MessageBuilder<'_>, depth: usize, in_failed: bool) {
    for avp in set {
        let Ok(avp) = avp else { return };
        if descends(&avp, in_failed) && depth < 64 {
            let vendor = avp.flags().is_vendor().then_some(avp.vendor());
            let inner = in_failed || avp.is(279, 0);
            b.grouped_raw(avp.code(), vendor, avp.flags(), |g| {
                reencode(avp.group_set(), g, depth + 1, inner)
            });
        } else {
            b.put_avp(&avp);
        }
    }
}

fn same_tree(a: AvpSet<'_>, b: AvpSet<'_>, in_failed: bool) -> bool {
    let mut ia = a.iter();
    let mut ib = b.iter();
    loop {
        match (ia.next(), ib.next()) {
            (None, None) => return true,
            (Some(Ok(x)), Some(Ok(y))) => {
                if x.code() != y.code() || x.vendor() != y.vendor() || x.flags() != y.flags() {
                    return false;
                }
                if descends(&x, in_failed) {
                    let inner = in_failed || x.is(279, 0);
                    if !same_tree(x.group_set(), y.group_set(), inner) {
                        return false;
                    }
                } else if x.data() != y.data() {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// What `AvpSet::walk` must do, by iterators and recursion: every AVP as
/// (offset, code, depth), Grouped ones of the dictionary descended into at
/// most `WALK_DEPTH` deep.
fn reference(set: AvpSet<'_>, depth: u16, out: &mut Vec<(usize, u32, u16)>) -> Result<(), Error> {
    for avp in set {
        let avp = avp?;
        out.push((avp.offset(), avp.code(), depth));
        let grouped = Base
            .avp(avp.code(), avp.vendor())
            .is_some_and(|i| i.data_type == DataType::Grouped);
        if grouped {
            if depth >= WALK_DEPTH {
                return Err(avp.error(ErrorKind::NestingTooDeep));
            }
            reference(avp.group_set(), depth + 1, out)?;
        }
    }
    Ok(())
}

fn check_walk(data: &[u8]) {
    let Ok(msg) = Message::new_checked(data) else {
        return;
    };
    let mut want = Vec::new();
    let want_end = reference(msg.avps(), 0, &mut want);
    let mut got = Vec::new();
    let got_end = msg.avps().walk(&Base, WALK_DEPTH, |w| {
        got.push((w.avp.offset(), w.avp.code(), w.depth));
        Ok(())
    });
    assert_eq!(got, want, "walk visits other AVPs than recursion");
    assert_eq!(got_end, want_end, "walk ends otherwise than recursion");
}

fuzz_target!(|data: &[u8]| {
    check_walk(data);
    match Message::parse_with(data, &Base) {
        Ok(msg) => {
            touch(msg.avps(), 0);
            let _ = msg.validate(&Base);
            let _ = msg.session_id();
            let mut buf = vec![0u8; data.len() + 64];
            let mut b = MessageBuilder::new(&mut buf, msg.header());
            reencode(msg.avps(), &mut b, 0, false);
            let out = b.finish().expect("re-encoding a parsed message fits");
            let back = Message::parse_with(out, &Base).expect("re-encoded message parses");
            assert_eq!(back.header(), msg.header());
            assert!(
                same_tree(msg.avps(), back.avps(), false),
                "tree differs after re-encoding"
            );
        }
        Err(e) => {
            let code = e.result_code();
            assert!(code.name().is_some(), "unnamed Result-Code {}", code.0);
            if let Some(off) = e.offset() {
                assert!(
                    off < data.len().max(1),
                    "offset {off} outside input {}",
                    data.len()
                );
            }
            if data.len() >= 20 {
                // The answer echoes at most the offending AVP: it fits in the
                // request's size plus the fixed AVPs.
                let mut buf = vec![0u8; data.len() + 256];
                let ans = error_answer(data, &e, &ME, &Base, &mut buf)
                    .expect("header present")
                    .finish()
                    .expect("error answer fits request size + 256");
                let m = Message::parse_with(ans, &Base).expect("error answer parses");
                assert_eq!(m.flags().is_error(), e.is_protocol_error());
            }
        }
    }
});
