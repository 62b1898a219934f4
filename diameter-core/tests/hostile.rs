//! Hostile input: a table of malformed messages, each built from a valid
//! base request and then corrupted, with the Result-Code and Failed-AVP
//! position the RFC prescribes; the error answer for each; and a loop that
//! feeds every truncation of every entry to every entry point.
//!

use diameter_core::answer::{error_answer, Identity};
use diameter_core::dict::base;
use diameter_core::header::HEADER_LEN;
use diameter_core::{
    ApplicationId, AvpFlags, CommandCode, CommandFlags, Error, ErrorKind, Frame, Framer,
    HeaderRepr, Message, MessageBuilder,
};

// ---------------------------------------------------------------------------
// Building blocks

const HBH: u32 = 0x1122_3344;
const E2E: u32 = 0x5566_7788;
const M: AvpFlags = AvpFlags::MANDATORY;
const ME: Identity<'static> = Identity {
    origin_host: "server.example.net",
    origin_realm: "example.net",
};

fn build(
    code: CommandCode,
    app: ApplicationId,
    proxiable: bool,
    f: impl FnOnce(&mut MessageBuilder<'_>),
) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let hdr = HeaderRepr::request(code, app, HBH, E2E).proxiable(proxiable);
    let mut b = MessageBuilder::new(&mut buf, hdr);
    f(&mut b);
    b.finish().expect("valid base message fits").to_vec()
}

/// A valid DWR (Origin-Host at 20, Origin-Realm at 48, 68 bytes) plus `f`.
fn dwr_with(f: impl FnOnce(&mut MessageBuilder<'_>)) -> Vec<u8> {
    build(
        CommandCode::DEVICE_WATCHDOG,
        ApplicationId::COMMON,
        false,
        |b| {
            b.put(&base::ORIGIN_HOST, "client.example.org");
            b.put(&base::ORIGIN_REALM, "example.org");
            f(b);
        },
    )
}

fn dwr() -> Vec<u8> {
    dwr_with(|_| {})
}

/// Offset where an AVP appended to [`dwr`] starts.
const DWR_END: usize = 68;

/// A valid ACR without the AVPs whose codes are in `skip`, plus `f`.
fn acr_with(skip: &[u32], f: impl FnOnce(&mut MessageBuilder<'_>)) -> Vec<u8> {
    build(
        CommandCode::ACCOUNTING,
        ApplicationId::BASE_ACCOUNTING,
        true,
        |b| {
            let s = |c: u32| !skip.contains(&c);
            if s(263) {
                b.put(&base::SESSION_ID, "client.example.org;1;2;acct");
            }
            if s(264) {
                b.put(&base::ORIGIN_HOST, "client.example.org");
            }
            if s(296) {
                b.put(&base::ORIGIN_REALM, "example.org");
            }
            if s(283) {
                b.put(&base::DESTINATION_REALM, "example.net");
            }
            if s(480) {
                b.put(
                    &base::ACCOUNTING_RECORD_TYPE,
                    base::AccountingRecordType::from(2),
                );
            }
            if s(485) {
                b.put(&base::ACCOUNTING_RECORD_NUMBER, 1);
            }
            f(b);
        },
    )
}

/// A valid CER without the AVPs whose codes are in `skip`, plus `f`.
fn cer_with(skip: &[u32], f: impl FnOnce(&mut MessageBuilder<'_>)) -> Vec<u8> {
    build(
        CommandCode::CAPABILITIES_EXCHANGE,
        ApplicationId::COMMON,
        false,
        |b| {
            let s = |c: u32| !skip.contains(&c);
            if s(264) {
                b.put(&base::ORIGIN_HOST, "client.example.org");
            }
            if s(296) {
                b.put(&base::ORIGIN_REALM, "example.org");
            }
            if s(257) {
                b.put(
                    &base::HOST_IP_ADDRESS,
                    diameter_core::AddressValue::V4([192, 0, 2, 1]),
                );
            }
            if s(266) {
                b.put(&base::VENDOR_ID, 0);
            }
            if s(269) {
                b.put(&base::PRODUCT_NAME, "hostile");
            }
            f(b);
        },
    )
}

/// AVP bytes with an arbitrary length field, zero-padded to 4.
fn raw_avp(code: u32, flags: u8, len_field: u32, vendor: Option<u32>, data: &[u8]) -> Vec<u8> {
    let mut v = code.to_be_bytes().to_vec();
    v.extend_from_slice(&(u32::from(flags) << 24 | (len_field & 0xff_ffff)).to_be_bytes());
    if let Some(x) = vendor {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v.extend_from_slice(data);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

/// A well-formed AVP (length field right).
fn avp(code: u32, flags: u8, vendor: Option<u32>, data: &[u8]) -> Vec<u8> {
    let hdr = if vendor.is_some() { 12 } else { 8 };
    raw_avp(code, flags, (hdr + data.len()) as u32, vendor, data)
}

/// `msg` with `extra` appended to the body and the length field fixed.
fn append(mut msg: Vec<u8>, extra: &[u8]) -> Vec<u8> {
    msg.extend_from_slice(extra);
    fix_len(&mut msg);
    msg
}

fn set_len(msg: &mut [u8], len: u32) {
    msg[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
}

fn fix_len(msg: &mut [u8]) {
    let n = msg.len() as u32;
    set_len(msg, n);
}

/// `depth` grouped AVPs of `code` nested in each other, the innermost
/// holding `inner`. Built iteratively: no recursion for 100 000 levels.
fn nested(code: u32, depth: usize, inner: &[u8]) -> Vec<u8> {
    let total = 8 * depth + inner.len();
    let mut v = Vec::with_capacity(total + 3);
    for i in 0..depth {
        let len = (total - 8 * i) as u32;
        v.extend_from_slice(&code.to_be_bytes());
        v.extend_from_slice(&(0x4000_0000 | len).to_be_bytes());
    }
    v.extend_from_slice(inner);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

/// A deterministic pseudo-random byte sequence.
fn garbage(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) as u8
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The table

#[derive(Debug, Clone, Copy)]
enum Api {
    /// `Message::parse`
    Parse,
    /// `Message::parse_with(&bytes, &base::Base)`
    ParseWith,
    /// `parse_with_config` with `strict_command_flags`.
    ParseStrict,
    /// `Message::parse(&bytes)` must succeed, then `validate(&base::Base)`.
    Validate,
    /// `Framer::new(max).check(&bytes)`
    Framer(usize),
}

#[derive(Debug, Clone, Copy)]
enum At {
    /// No AVP (header errors).
    Header,
    /// The offending AVP's header starts here and has this code.
    Avp(usize, u32),
    /// 5005: the missing AVP's code.
    Missing(u32),
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Accepted; an AVP of this code (if any) must be iterable.
    Accept(Option<u32>),
    /// Rejected with this Result-Code (and kind, when given) at this place.
    Reject(u32, Option<ErrorKind>, At),
}

struct Row {
    name: String,
    bytes: Vec<u8>,
    api: Api,
    expect: Expect,
}

fn row(name: impl Into<String>, bytes: Vec<u8>, api: Api, expect: Expect) -> Row {
    Row {
        name: name.into(),
        bytes,
        api,
        expect,
    }
}

fn rej(rc: u32, at: At) -> Expect {
    Expect::Reject(rc, None, at)
}

fn avp_at(off: usize, code: u32) -> At {
    At::Avp(off, code)
}

fn rows() -> Vec<Row> {
    use Api::*;
    let mut t = Vec::new();
    let o = DWR_END;

    // -- AVP lengths below the header size (5014)
    for len in 0..8u32 {
        let api = if len % 2 == 0 { Parse } else { ParseWith };
        t.push(row(
            format!("AVP length {len}"),
            append(dwr(), &raw_avp(278, 0x40, len, None, &[0, 0, 0, 7])),
            api,
            rej(5014, avp_at(o, 278)),
        ));
    }
    // -- V bit with a length that has no room for the Vendor-ID (5014)
    for len in 8..12u32 {
        t.push(row(
            format!("V bit, AVP length {len}"),
            append(dwr(), &raw_avp(1000, 0xc0, len, Some(10415), &[0, 0, 0, 1])),
            if len % 2 == 0 { ParseWith } else { Parse },
            rej(5014, avp_at(o, 1000)),
        ));
    }
    t.push(row(
        "AVP length past the end of the message",
        append(dwr(), &raw_avp(278, 0x40, 64, None, &[0, 0, 0, 7])),
        Parse,
        rej(5014, avp_at(o, 278)),
    ));
    t.push(row(
        "AVP length 0xFFFFFF",
        append(dwr(), &raw_avp(278, 0x40, 0xff_ffff, None, &[0, 0, 0, 7])),
        ParseWith,
        rej(5014, avp_at(o, 278)),
    ));
    t.push(row(
        "first AVP length runs past the end",
        {
            let mut m = dwr();
            m[20 + 5..20 + 8].copy_from_slice(&[0, 0, 200]);
            m
        },
        Parse,
        rej(5014, avp_at(20, 264)),
    ));
    t.push(row(
        "truncated Vendor-ID (V bit, 8 bytes left)",
        append(dwr(), &[0, 0, 0x03, 0xe8, 0xc0, 0, 0, 12]),
        Parse,
        rej(5014, avp_at(o, 1000)),
    ));
    t.push(row(
        "truncated AVP header (4 bytes left)",
        append(dwr(), &[0, 0, 1, 22]),
        ParseWith,
        rej(5014, avp_at(o, 278)),
    ));
    // -- padding
    t.push(row(
        "last AVP missing its padding (message length 67)",
        {
            let mut m = dwr();
            m.truncate(67);
            fix_len(&mut m);
            m
        },
        Parse,
        rej(5015, At::Header),
    ));
    // Inside a Grouped AVP the data need not be a multiple of 4, so a missing
    // inner padding is a 5014 on the inner AVP. Proxy-Info (8) holding
    // Proxy-Host (8 + 5) without its 3 padding bytes: outer length 21.
    let unpadded_group = {
        let inner = raw_avp(280, 0x40, 13, None, b"a.exa");
        append(dwr(), &raw_avp(284, 0x40, 21, None, &inner[..13]))
    };
    t.push(row(
        "grouped: inner AVP missing its padding",
        unpadded_group.clone(),
        ParseWith,
        rej(5014, avp_at(o + 8, 280)),
    ));
    t.push(row(
        "grouped: inner AVP missing its padding (validate)",
        unpadded_group.clone(),
        Validate,
        rej(5014, avp_at(o + 8, 280)),
    ));
    t.push(row(
        "grouped: not descended without a dictionary",
        unpadded_group,
        Parse,
        Expect::Accept(Some(284)),
    ));
    // -- message length (5015)
    t.push(row(
        "message length not a multiple of 4",
        {
            let mut m = dwr();
            m.push(0);
            fix_len(&mut m);
            m
        },
        Parse,
        rej(5015, At::Header),
    ));
    t.push(row(
        "message length larger than the buffer",
        {
            let mut m = dwr();
            set_len(&mut m, 72);
            m
        },
        Parse,
        rej(5015, At::Header),
    ));
    t.push(row(
        "message length 16 (< 20)",
        {
            let mut m = dwr();
            set_len(&mut m, 16);
            m
        },
        ParseWith,
        rej(5015, At::Header),
    ));
    t.push(row(
        "message length 0",
        {
            let mut m = dwr();
            set_len(&mut m, 0);
            m
        },
        Parse,
        rej(5015, At::Header),
    ));
    t.push(row(
        "trailing bytes after the message",
        {
            let mut m = dwr();
            m.extend_from_slice(&[0; 4]);
            m
        },
        Parse,
        rej(5015, At::Header),
    ));
    t.push(row(
        "buffer of 19 bytes",
        dwr()[..19].to_vec(),
        Parse,
        rej(5015, At::Header),
    ));
    t.push(row(
        "empty buffer",
        Vec::new(),
        Parse,
        rej(5015, At::Header),
    ));
    t.push(row(
        "length field 0xFFFFFF, 68-byte buffer",
        {
            let mut m = dwr();
            set_len(&mut m, 0xff_ffff);
            m
        },
        Parse,
        rej(5015, At::Header),
    ));
    t.push(row(
        "length field 0xFFFFFC, 68-byte buffer",
        {
            let mut m = dwr();
            set_len(&mut m, 0xff_fffc);
            m
        },
        ParseWith,
        rej(5015, At::Header),
    ));
    // -- framing
    t.push(row(
        "framer 64 KiB: length 0xFFFFFC",
        {
            let mut m = dwr();
            set_len(&mut m, 0xff_fffc);
            m
        },
        Framer(65_536),
        Expect::Reject(5015, Some(ErrorKind::MessageTooLarge), At::Header),
    ));
    // 0xFFFFFF is not a multiple of 4, which the framer checks first.
    t.push(row(
        "framer 64 KiB: length 0xFFFFFF",
        {
            let mut m = dwr();
            set_len(&mut m, 0xff_ffff);
            m
        },
        Framer(65_536),
        Expect::Reject(5015, Some(ErrorKind::InvalidMessageLength), At::Header),
    ));
    t.push(row(
        "framer: length 65540 over a 64 KiB limit, only 8 bytes buffered",
        {
            let mut m = dwr();
            set_len(&mut m, 65_540);
            m.truncate(8);
            m
        },
        Framer(65_536),
        Expect::Reject(5015, Some(ErrorKind::MessageTooLarge), At::Header),
    ));
    t.push(row(
        "framer: length 18",
        {
            let mut m = dwr();
            set_len(&mut m, 18);
            m
        },
        Framer(65_536),
        Expect::Reject(5015, Some(ErrorKind::InvalidMessageLength), At::Header),
    ));
    t.push(row(
        "framer: version 2",
        {
            let mut m = dwr();
            m[0] = 2;
            m
        },
        Framer(65_536),
        rej(5011, At::Header),
    ));
    // -- version (5011)
    for v in [0u8, 2, 0xff] {
        t.push(row(
            format!("version {v}"),
            {
                let mut m = dwr();
                m[0] = v;
                m
            },
            if v == 2 { ParseWith } else { Parse },
            rej(5011, At::Header),
        ));
    }
    // -- header bits (3008)
    for bit in [0x01u8, 0x02, 0x04, 0x08] {
        let m = {
            let mut m = dwr();
            m[4] |= bit;
            m
        };
        // RFC 6733 §3: "MUST be set to zero and ignored by the receiver"
        // (issue 9.3): accepted by default, 3008 only when strict.
        t.push(row(
            format!("reserved command flag 0x{bit:02x} ignored"),
            m.clone(),
            Parse,
            Expect::Accept(None),
        ));
        t.push(row(
            format!("reserved command flag 0x{bit:02x}, strict"),
            m,
            ParseStrict,
            rej(3008, At::Header),
        ));
    }
    t.push(row(
        "E bit on a request",
        {
            let mut m = dwr();
            m[4] |= 0x20;
            m
        },
        ParseWith,
        rej(3008, At::Header),
    ));
    t.push(row(
        "P bit on a DWR (not proxiable)",
        {
            let mut m = dwr();
            m[4] |= 0x40;
            m
        },
        Validate,
        rej(3008, At::Header),
    ));
    t.push(row(
        "ACR without the P bit",
        {
            let mut m = acr_with(&[], |_| {});
            m[4] &= !0x40;
            m
        },
        Validate,
        rej(3008, At::Header),
    ));
    // -- AVP flag bits (3009)
    t.push(row(
        "reserved AVP flag bit 0x01",
        append(dwr(), &avp(278, 0x41, None, &[0, 0, 0, 7])),
        Parse,
        rej(3009, avp_at(o, 278)),
    ));
    t.push(row(
        "all reserved AVP flag bits, first AVP",
        {
            let mut m = dwr();
            m[24] |= 0x1f;
            m
        },
        ParseWith,
        rej(3009, avp_at(20, 264)),
    ));
    t.push(row(
        "V bit on an IETF AVP (Origin-State-Id, vendor 0)",
        append(dwr(), &avp(278, 0xc0, Some(0), &[0, 0, 0, 7])),
        Validate,
        rej(3009, avp_at(o, 278)),
    ));
    t.push(row(
        "M bit on Error-Message (M MUST NOT)",
        append(dwr(), &avp(281, 0x40, None, b"oops")),
        Validate,
        rej(3009, avp_at(o, 281)),
    ));
    t.push(row(
        // RFC 6733 dropped end-to-end security: the P bit is ignored on
        // receipt (dict::FlagRules::accepts).
        "P bit on Origin-State-Id (ignored)",
        append(dwr(), &avp(278, 0x60, None, &[0, 0, 0, 7])),
        Validate,
        Expect::Accept(Some(278)),
    ));
    // -- unknown AVPs
    t.push(row(
        "unknown AVP with the M bit",
        append(dwr(), &avp(99_999, 0x40, None, b"x")),
        Validate,
        rej(5001, avp_at(o, 99_999)),
    ));
    t.push(row(
        "unknown vendor AVP with the M bit (User-Name code, vendor 10415)",
        append(dwr(), &avp(1, 0xc0, Some(10415), b"x")),
        Validate,
        rej(5001, avp_at(o, 1)),
    ));
    t.push(row(
        "unknown AVP without the M bit is kept",
        append(dwr(), &avp(99_999, 0x00, None, b"xyz")),
        Validate,
        Expect::Accept(Some(99_999)),
    ));
    t.push(row(
        "unknown vendor AVP without the M bit is kept",
        append(dwr(), &avp(77, 0x80, Some(10415), b"xyz")),
        Validate,
        Expect::Accept(Some(77)),
    ));
    // -- nesting depth (issue 9.4: RFC 6733 sets no limit, so a receiver
    // that keeps one answers 5012 UNABLE_TO_COMPLY at the AVP that crosses
    // it, never a stack overflow; the bound is 256 on hosted targets)
    // The body is depth 0; a Grouped AVP at depth 256 is one too deep.
    let max = usize::from(diameter_core::message::DEFAULT_MAX_DEPTH);
    let deep_at = o + max * 8;
    t.push(row(
        "Failed-AVP nested 256 deep is accepted",
        append(dwr(), &nested(279, max, &[])),
        ParseWith,
        Expect::Accept(Some(279)),
    ));
    t.push(row(
        "Failed-AVP nested 257 deep",
        append(dwr(), &nested(279, max + 1, &[])),
        ParseWith,
        rej(5012, avp_at(deep_at, 279)),
    ));
    t.push(Row {
        ..row(
            "Failed-AVP nested 1000 deep (parse_with)",
            append(dwr(), &nested(279, 1000, &[])),
            ParseWith,
            rej(5012, avp_at(deep_at, 279)),
        )
    });
    t.push(Row {
        ..row(
            "Failed-AVP nested 1000 deep (validate)",
            append(dwr(), &nested(279, 1000, &avp(278, 0x40, None, &[0; 4]))),
            Validate,
            rej(5012, avp_at(deep_at, 279)),
        )
    });
    t.push(Row {
        ..row(
            "Proxy-Info nested 1000 deep",
            append(dwr(), &nested(284, 1000, &[])),
            ParseWith,
            rej(5012, avp_at(deep_at, 284)),
        )
    });
    t.push(Row {
        ..row(
            "Failed-AVP nested 100000 deep (parse_with)",
            append(dwr(), &nested(279, 100_000, &[])),
            ParseWith,
            rej(5012, avp_at(deep_at, 279)),
        )
    });
    t.push(Row {
        ..row(
            "Failed-AVP nested 100000 deep (validate)",
            append(dwr(), &nested(279, 100_000, &[])),
            Validate,
            rej(5012, avp_at(deep_at, 279)),
        )
    });
    // -- values (5004)
    let sid_bad = avp(263, 0x40, None, &[b'a', 0xff, 0xfe, b';', 0xc3]);
    t.push(row(
        "invalid UTF-8 in Session-Id",
        build(
            CommandCode::ACCOUNTING,
            ApplicationId::BASE_ACCOUNTING,
            true,
            |b| {
                b.put_raw(263, None, M, &sid_bad[8..13]);
                b.put(&base::ORIGIN_HOST, "client.example.org");
                b.put(&base::ORIGIN_REALM, "example.org");
                b.put(&base::DESTINATION_REALM, "example.net");
                b.put(
                    &base::ACCOUNTING_RECORD_TYPE,
                    base::AccountingRecordType::from(2),
                );
                b.put(&base::ACCOUNTING_RECORD_NUMBER, 1);
            },
        ),
        Validate,
        rej(5004, avp_at(20, 263)),
    ));
    let acr = acr_with(&[], |_| {});
    let acr_end = acr.len();
    t.push(row(
        "invalid UTF-8 in User-Name",
        append(acr.clone(), &avp(1, 0x40, None, &[b'u', 0xc3, 0x28])),
        Validate,
        rej(5004, avp_at(acr_end, 1)),
    ));
    t.push(row(
        "non-ASCII Origin-Host (DiameterIdentity)",
        build(
            CommandCode::DEVICE_WATCHDOG,
            ApplicationId::COMMON,
            false,
            |b| {
                b.put_raw(264, None, M, "clïent.example.org".as_bytes());
                b.put(&base::ORIGIN_REALM, "example.org");
            },
        ),
        Validate,
        rej(5004, avp_at(20, 264)),
    ));
    t.push(row(
        "Origin-Realm with a space",
        build(
            CommandCode::DEVICE_WATCHDOG,
            ApplicationId::COMMON,
            false,
            |b| {
                b.put(&base::ORIGIN_HOST, "client.example.org");
                b.put_raw(296, None, M, b"example org");
            },
        ),
        Validate,
        rej(5004, avp_at(48, 296)),
    ));
    t.push(row(
        "empty Origin-Host",
        build(
            CommandCode::DEVICE_WATCHDOG,
            ApplicationId::COMMON,
            false,
            |b| {
                b.put_raw(264, None, M, b"");
                b.put(&base::ORIGIN_REALM, "example.org");
            },
        ),
        Validate,
        rej(5004, avp_at(20, 264)),
    ));
    // -- fixed sizes (5014)
    for n in [3usize, 5] {
        t.push(row(
            format!("Unsigned32 (Origin-State-Id) with {n} bytes"),
            append(dwr(), &avp(278, 0x40, None, &vec![1; n])),
            Validate,
            rej(5014, avp_at(o, 278)),
        ));
    }
    for n in [4usize, 7] {
        t.push(row(
            format!("Unsigned64 (Accounting-Sub-Session-Id) with {n} bytes"),
            append(acr.clone(), &avp(287, 0x40, None, &vec![1; n])),
            Validate,
            rej(5014, avp_at(acr_end, 287)),
        ));
    }
    t.push(row(
        "Time (Event-Timestamp) with 3 bytes",
        append(acr.clone(), &avp(55, 0x40, None, &[1, 2, 3])),
        Validate,
        rej(5014, avp_at(acr_end, 55)),
    ));
    t.push(row(
        "Enumerated (Accounting-Record-Type) with 2 bytes",
        build(
            CommandCode::ACCOUNTING,
            ApplicationId::BASE_ACCOUNTING,
            true,
            |b| {
                b.put(&base::SESSION_ID, "s");
                b.put(&base::ORIGIN_HOST, "client.example.org");
                b.put(&base::ORIGIN_REALM, "example.org");
                b.put(&base::DESTINATION_REALM, "example.net");
                b.put_raw(480, None, M, &[0, 2]);
                b.put(&base::ACCOUNTING_RECORD_NUMBER, 1);
            },
        ),
        Validate,
        rej(5014, avp_at(20 + 12 + 28 + 20 + 20, 480)),
    ));
    let cer = cer_with(&[], |_| {});
    let cer_end = cer.len();
    for (name, data) in [
        ("IPv4 with 3 address bytes", &[0u8, 1, 10, 0, 0][..]),
        ("IPv4 with 5 address bytes", &[0, 1, 10, 0, 0, 1, 2][..]),
        ("IPv6 with 4 address bytes", &[0, 2, 10, 0, 0, 1][..]),
        ("one byte", &[0][..]),
    ] {
        t.push(row(
            format!("Address (Host-IP-Address) {name}"),
            append(cer.clone(), &avp(257, 0x40, None, data)),
            Validate,
            rej(5014, avp_at(cer_end, 257)),
        ));
    }
    // -- grammar: missing (5005), too many (5009), not allowed (5008)
    t.push(row(
        "DWR without Origin-Realm",
        build(
            CommandCode::DEVICE_WATCHDOG,
            ApplicationId::COMMON,
            false,
            |b| {
                b.put(&base::ORIGIN_HOST, "client.example.org");
            },
        ),
        Validate,
        rej(5005, At::Missing(296)),
    ));
    t.push(row(
        "empty DWR body",
        build(
            CommandCode::DEVICE_WATCHDOG,
            ApplicationId::COMMON,
            false,
            |_| {},
        ),
        Validate,
        rej(5005, At::Missing(264)),
    ));
    t.push(row(
        "CER without Product-Name",
        cer_with(&[269], |_| {}),
        Validate,
        rej(5005, At::Missing(269)),
    ));
    t.push(row(
        "CER without Host-IP-Address",
        cer_with(&[257], |_| {}),
        Validate,
        rej(5005, At::Missing(257)),
    ));
    t.push(row(
        "ACR without Accounting-Record-Type",
        acr_with(&[480], |_| {}),
        Validate,
        rej(5005, At::Missing(480)),
    ));
    t.push(row(
        "ACR without Session-Id",
        acr_with(&[263], |_| {}),
        Validate,
        rej(5005, At::Missing(263)),
    ));
    t.push(row(
        "two Origin-Host in a DWR",
        dwr_with(|b| {
            b.put(&base::ORIGIN_HOST, "other.example.org");
        }),
        Validate,
        rej(5009, avp_at(o, 264)),
    ));
    t.push(row(
        "Session-Id not first in an ACR",
        {
            let mut sid_second = 0;
            let m = build(
                CommandCode::ACCOUNTING,
                ApplicationId::BASE_ACCOUNTING,
                true,
                |b| {
                    b.put(&base::ORIGIN_HOST, "client.example.org");
                    sid_second = b.len();
                    b.put(&base::SESSION_ID, "client.example.org;1;2;acct");
                    b.put(&base::ORIGIN_REALM, "example.org");
                    b.put(&base::DESTINATION_REALM, "example.net");
                    b.put(
                        &base::ACCOUNTING_RECORD_TYPE,
                        base::AccountingRecordType::from(2),
                    );
                    b.put(&base::ACCOUNTING_RECORD_NUMBER, 1);
                },
            );
            assert_eq!(sid_second, 48);
            m
        },
        Validate,
        rej(5008, avp_at(48, 263)),
    ));
    let vsai_extra = {
        let mut inner = avp(266, 0x40, None, &10415u32.to_be_bytes());
        inner.extend(avp(264, 0x40, None, b"intruder.example"));
        avp(260, 0x40, None, &inner)
    };
    t.push(row(
        "Origin-Host inside Vendor-Specific-Application-Id (closed grammar)",
        append(cer.clone(), &vsai_extra),
        Validate,
        rej(5008, avp_at(cer_end + 8 + 12, 264)),
    ));
    t.push(row(
        "non-M unknown AVP inside Vendor-Specific-Application-Id (closed grammar)",
        append(cer.clone(), &{
            let mut inner = avp(266, 0x40, None, &10415u32.to_be_bytes());
            inner.extend(avp(4242, 0x00, None, b"?"));
            avp(260, 0x40, None, &inner)
        }),
        Validate,
        rej(5008, avp_at(cer_end + 8 + 12, 4242)),
    ));
    t.push(row(
        "Vendor-Specific-Application-Id without Vendor-Id",
        append(
            cer.clone(),
            &avp(260, 0x40, None, &avp(258, 0x40, None, &4u32.to_be_bytes())),
        ),
        Validate,
        rej(5005, At::Missing(266)),
    ));
    // -- garbage
    t.push(row(
        "all-zero 20 bytes",
        vec![0; 20],
        Parse,
        rej(5011, At::Header),
    ));
    t.push(row(
        "random garbage",
        garbage(1, 96),
        ParseWith,
        rej(5011, At::Header),
    ));
    t.push(row(
        "random body behind a valid DWR header",
        {
            let mut m = dwr()[..20].to_vec();
            m.extend(garbage(7, 64));
            fix_len(&mut m);
            m
        },
        Parse,
        rej(5014, avp_at(20, u32::from_be_bytes([0; 4]))), // code patched below
    ));
    // The garbage body's first AVP header decides the expected code.
    if let Some(r) = t.last_mut() {
        let c = u32::from_be_bytes(r.bytes[20..24].try_into().unwrap());
        r.expect = rej(5014, avp_at(20, c));
    }
    t.push(row(
        "20-byte header of 0xFF",
        vec![0xff; 20],
        Framer(65_536),
        rej(5011, At::Header),
    ));
    t
}

// ---------------------------------------------------------------------------
// Running a row

/// Run the row's API; `Ok(Some(msg))` for a parsed message.
fn run(r: &Row) -> Result<Option<Message<'_>>, Error> {
    match r.api {
        Api::Parse => Message::parse(&r.bytes).map(Some),
        Api::ParseWith => Message::parse_with(&r.bytes, &base::Base).map(Some),
        Api::ParseStrict => {
            let strict = diameter_core::ParseConfig {
                strict_command_flags: true,
                ..diameter_core::ParseConfig::DEFAULT
            };
            Message::parse_with_config(&r.bytes, &base::Base, &strict).map(Some)
        }
        Api::Validate => {
            let m = Message::parse(&r.bytes).unwrap_or_else(|e| {
                panic!("{}: expected to parse before validate, got {e}", r.name)
            });
            m.validate(&base::Base).map(|()| Some(m))
        }
        Api::Framer(max) => match Framer::new(max).check(&r.bytes) {
            Ok(f) => panic!("{}: framer gave {f:?}", r.name),
            Err(e) => Err(e),
        },
    }
}

/// Check the error itself; returns the error for the answer check.
fn check_error(r: &Row) -> Result<Option<Error>, String> {
    let got = run(r);
    match (r.expect, got) {
        (Expect::Accept(code), Ok(m)) => {
            if let (Some(code), Some(m)) = (code, m) {
                let avps: Vec<_> = m
                    .iter()
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("accepted, but iterating failed: {e}"))?;
                let a = avps
                    .iter()
                    .find(|a| a.code() == code)
                    .ok_or(format!("AVP {code} not iterable"))?;
                if m.find(a.code(), a.vendor()) != Some(*a) {
                    return Err(format!("find({code}) disagrees with iteration"));
                }
            }
            Ok(None)
        }
        (Expect::Accept(_), Err(e)) => Err(format!("expected acceptance, got {e} / {e:?}")),
        (Expect::Reject(..), Ok(_)) => Err("expected an error, got Ok".into()),
        (Expect::Reject(rc, kind, at), Err(e)) => {
            if e.result_code().get() != rc {
                return Err(format!("expected {rc}, got {e} / {e:?}"));
            }
            if let Some(k) = kind {
                if e.kind() != k {
                    return Err(format!("expected kind {k:?}, got {:?}", e.kind()));
                }
            }
            match at {
                At::Header => {
                    if e.avp().is_some() {
                        return Err(format!("expected no AVP, got {e:?}"));
                    }
                }
                At::Avp(off, code) => {
                    if e.offset() != Some(off) {
                        return Err(format!("expected offset {off}, got {e:?}"));
                    }
                    if e.avp().map(|a| a.code) != Some(code) {
                        return Err(format!("expected AVP {code}, got {e:?}"));
                    }
                }
                At::Missing(code) => {
                    if e.avp().map(|a| a.code) != Some(code) || e.offset().is_some() {
                        return Err(format!("expected missing {code}, got {e:?}"));
                    }
                }
            }
            Ok(Some(e))
        }
    }
}

/// Build, finish and re-parse the error answer; check it.
fn check_answer(r: &Row, err: &Error) -> Result<(), String> {
    let req = &r.bytes;
    let mut buf = vec![0u8; req.len() + 1024];
    let b = error_answer(req, err, &ME, &base::Base, &mut buf);
    if req.len() < HEADER_LEN {
        return match b {
            Err(_) => Ok(()),
            Ok(_) => Err("error_answer accepted a request under 20 bytes".into()),
        };
    }
    let ans = b
        .map_err(|e| format!("error_answer: {e}"))?
        .finish()
        .map_err(|e| format!("finish: {e}"))?
        .to_vec();
    let m = Message::parse_with(&ans, &base::Base)
        .map_err(|e| format!("answer does not parse: {e} / {e:?}"))?;
    let rc = m
        .get(&base::RESULT_CODE)
        .map_err(|e| format!("Result-Code: {e}"))?;
    if rc != Some(err.result_code().get()) {
        return Err(format!("answer Result-Code {rc:?}"));
    }
    let protocol = (3000..4000).contains(&err.result_code().get());
    if m.flags().is_error() != protocol || m.is_request() {
        return Err(format!("answer flags {:?}", m.flags()));
    }
    let hbh = u32::from_be_bytes(req[12..16].try_into().unwrap());
    let e2e = u32::from_be_bytes(req[16..20].try_into().unwrap());
    let code = u32::from_be_bytes([0, req[5], req[6], req[7]]);
    if (m.hop_by_hop(), m.end_to_end(), m.command_code().0) != (hbh, e2e, code) {
        return Err("identifiers or command code not copied".into());
    }
    if m.flags().is_proxiable() != (req[4] & 0x40 != 0) {
        return Err("P bit not copied".into());
    }
    if m.get(&base::ORIGIN_HOST).ok().flatten() != Some(ME.origin_host) {
        return Err("Origin-Host".into());
    }
    // A valid Session-Id of the request comes first.
    let sid = Message::parse(req).ok().and_then(|q| q.session_id());
    if let Some(sid) = sid {
        let first = m.iter().next().and_then(Result::ok);
        if first.map(|a| (a.code(), a.data())) != Some((263, sid.as_bytes())) {
            return Err("Session-Id not copied first".into());
        }
    }
    let failed = m
        .get(&base::FAILED_AVP)
        .map_err(|e| format!("Failed-AVP: {e}"))?;
    match (err.avp(), failed) {
        (None, None) => {}
        (None, Some(_)) => return Err("Failed-AVP for a header error".into()),
        (Some(_), None) => return Err("no Failed-AVP".into()),
        (Some(want), Some(f)) => {
            let inner = f
                .iter()
                .next()
                .ok_or("empty Failed-AVP")?
                .map_err(|e| format!("Failed-AVP content: {e}"))?;
            if inner.code() != want.code || inner.vendor() != want.vendor {
                return Err(format!("Failed-AVP holds {inner:?}, want {want:?}"));
            }
            if inner.flags().bits() & AvpFlags::RESERVED.bits() != 0 {
                return Err("Failed-AVP inner AVP keeps reserved bits".into());
            }
        }
    }
    Ok(())
}

fn failures(rows: &[Row]) -> Vec<String> {
    let mut out = Vec::new();
    for r in rows {
        let res = check_error(r).and_then(|e| match e {
            Some(e) => check_answer(r, &e),
            None => Ok(()),
        });
        if let Err(msg) = res {
            out.push(format!("{}: {msg}", r.name));
        }
    }
    out
}

#[test]
fn hostile_table() {
    let rows = rows();
    assert!(rows.len() >= 40, "only {} rows", rows.len());
    println!("{} table rows", rows.len());
    let f = failures(&rows);
    assert!(f.is_empty(), "{} failing rows:\n{}", f.len(), f.join("\n"));
}

// ---------------------------------------------------------------------------
// Truncations: never panic

fn exercise(bytes: &[u8], buf: &mut [u8]) {
    let n = bytes.len();
    let check = |e: &Error| {
        if let Some(off) = e.offset() {
            assert!(off < n, "offset {off} beyond {n} bytes: {e:?}");
        }
    };
    let answer = |e: &Error, buf: &mut [u8]| {
        if n >= HEADER_LEN && buf.len() >= n + 1024 {
            let ans = error_answer(bytes, e, &ME, &base::Base, buf)
                .expect("20+ bytes")
                .finish()
                .expect("answer fits");
            Message::parse(ans).expect("answer parses");
        }
    };
    match Message::parse(bytes) {
        Ok(m) => {
            for a in m.iter() {
                if let Err(e) = a {
                    check(&e);
                }
            }
            if let Err(e) = m.validate(&base::Base) {
                check(&e);
                answer(&e, buf);
            }
        }
        Err(e) => {
            check(&e);
            answer(&e, buf);
        }
    }
    match Message::parse_with(bytes, &base::Base) {
        Ok(m) => {
            if let Err(e) = m.validate(&base::Base) {
                check(&e);
            }
        }
        Err(e) => check(&e),
    }
    match Framer::new(65_536).check(bytes) {
        Ok(Frame::Complete(k)) => assert!(k <= n),
        Ok(Frame::Partial { needed }) => assert!(needed > n),
        Err(e) => assert!(e.avp().is_none()),
    }
}

#[test]
fn truncations_never_panic() {
    let rows = rows();
    for r in &rows {
        let len = r.bytes.len();
        // Every cut of every entry (the 100 000-deep ones too); error answers
        // are built for entries up to 64 KiB (each answer copies the echo).
        let mut buf = vec![0u8; if len <= 65_536 { len + 1024 } else { 0 }];
        let mut patched = r.bytes.clone();
        for n in 0..=len {
            // As cut (the header still claims the full length) ...
            exercise(&r.bytes[..n], &mut buf);
            // ... and with a header that claims the cut length.
            if n >= 4 {
                set_len(&mut patched, n as u32);
                exercise(&patched[..n], &mut buf);
            }
        }
    }
}

#[test]
fn error_offsets_point_at_the_avp_header() {
    // For every AVP-level rejection, the offset is where the named AVP's
    // code sits in the request (or, for Missing, there is none).
    for r in rows() {
        if let Expect::Reject(_, _, At::Avp(off, code)) = r.expect {
            let have = r.bytes.get(off..off + 4).map(|b| {
                let mut w = [0u8; 4];
                w[..b.len()].copy_from_slice(b);
                u32::from_be_bytes(w)
            });
            assert_eq!(have, Some(code), "{}", r.name);
        }
    }
}

#[test]
fn framer_splits_a_stream_of_table_entries() {
    // Valid messages back to back frame exactly; the first hostile length
    // stops the iterator with one error.
    let good = dwr();
    let mut stream = good.clone();
    stream.extend_from_slice(&acr_with(&[], |_| {}));
    let mut bad = dwr();
    set_len(&mut bad, 0xff_fffc);
    stream.extend_from_slice(&bad);
    let framer = Framer::new(65_536);
    let mut it = framer.messages(&stream);
    assert_eq!(it.next().unwrap().unwrap(), &good[..]);
    assert!(Message::parse_with(it.next().unwrap().unwrap(), &base::Base).is_ok());
    let e = it.next().unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MessageTooLarge);
    assert!(it.next().is_none());
    assert_eq!(it.consumed(), good.len() + acr_with(&[], |_| {}).len());
}

#[test]
fn base_messages_used_by_the_table_are_valid() {
    for (name, m) in [
        ("DWR", dwr()),
        ("ACR", acr_with(&[], |_| {})),
        ("CER", cer_with(&[], |_| {})),
    ] {
        let msg = Message::parse_with(&m, &base::Base).unwrap_or_else(|e| panic!("{name}: {e}"));
        msg.validate(&base::Base)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(CommandFlags(m[4]).is_request());
    }
    assert_eq!(dwr().len(), DWR_END);
}

// ---------------------------------------------------------------------------
// Validating the error answers themselves

/// The error answer to `r`, or `None` for rows without an error or under 20 bytes.
fn answer_bytes(r: &Row) -> Option<(Error, Vec<u8>)> {
    let e = match check_error(r) {
        Ok(Some(e)) => e,
        _ => return None,
    };
    if r.bytes.len() < HEADER_LEN {
        return None;
    }
    let mut buf = vec![0u8; r.bytes.len() + 1024];
    let ans = error_answer(&r.bytes, &e, &ME, &base::Base, &mut buf)
        .ok()?
        .finish()
        .ok()?
        .to_vec();
    Some((e, ans))
}

/// Answers whose grammar `error_answer` alone satisfies: every E-bit answer
/// (RFC 6733 §7.2 `answer-message`) and every DWA (Result-Code, Origin-Host,
/// Origin-Realm). Answers to requests whose P bit was wrong copy it (§6.2),
/// so they are left out. Returns (name, has Failed-AVP, validation result).
fn validated_answers() -> Vec<(String, bool, Result<(), Error>)> {
    let mut out = Vec::new();
    for r in rows() {
        let Some((_, ans)) = answer_bytes(&r) else {
            continue;
        };
        let m = Message::parse_with(&ans, &base::Base).or_else(|_| Message::parse(&ans));
        let m = m.expect("answer parses");
        let def = dict_answer_def(m.command_code());
        let p_ok = def.is_none_or(|d| d.proxiable == m.flags().is_proxiable());
        if !p_ok || !(m.flags().is_error() || m.command_code() == CommandCode::DEVICE_WATCHDOG) {
            continue;
        }
        let has_failed = m.find(279, 0).is_some();
        out.push((r.name.clone(), has_failed, m.validate(&base::Base)));
    }
    out
}

fn dict_answer_def(code: CommandCode) -> Option<&'static diameter_core::CommandDef> {
    use diameter_core::Dictionary;
    base::Base.command(code, false)
}

#[test]
fn error_answers_without_failed_avp_validate() {
    let all = validated_answers();
    let checked: Vec<_> = all.iter().filter(|(_, f, _)| !f).collect();
    assert!(
        checked.len() >= 10,
        "only {} answers checked",
        checked.len()
    );
    let bad: Vec<_> = checked
        .iter()
        .filter_map(|(n, _, r)| r.err().map(|e| format!("{n}: {e}")))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn error_answers_with_failed_avp_validate() {
    let all = validated_answers();
    let checked: Vec<_> = all.iter().filter(|(_, f, _)| *f).collect();
    assert!(!checked.is_empty());
    let bad: Vec<_> = checked
        .iter()
        .filter_map(|(n, _, r)| r.err().map(|e| format!("{n}: {e}")))
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} fail:\n{}",
        bad.len(),
        checked.len(),
        bad.join("\n")
    );
}

#[test]
fn e_bit_answers_follow_the_answer_message_grammar() {
    let mut bad = Vec::new();
    for (name, mut req) in [
        ("CER", cer_with(&[], |_| {})),
        ("ACR", acr_with(&[], |_| {})),
    ] {
        req[4] |= 0x01; // reserved bit: 3008 when strict
        let strict = diameter_core::ParseConfig {
            strict_command_flags: true,
            ..diameter_core::ParseConfig::DEFAULT
        };
        let e = Message::parse_with_config(&req, &base::Base, &strict).unwrap_err();
        assert_eq!(e.result_code().get(), 3008);
        let mut buf = vec![0u8; 1024];
        let ans = error_answer(&req, &e, &ME, &base::Base, &mut buf)
            .unwrap()
            .finish()
            .unwrap();
        let m = Message::parse_with(ans, &base::Base).unwrap();
        assert!(m.flags().is_error());
        // The §7.2 grammar itself accepts it ...
        diameter_core::message::validate_set(
            m.avps(),
            &base::ERROR_ANSWER,
            &base::Base,
            &diameter_core::ParseConfig::DEFAULT,
            0,
        )
        .unwrap_or_else(|e| panic!("{name}: ERROR_ANSWER grammar: {e}"));
        // ... but validate() uses the command's.
        if let Err(e) = m.validate(&base::Base) {
            bad.push(format!("{name}: {e}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
