//! What `answer::error_answer` builds, checked field by field against
//! RFC 6733 §6.2 (identifiers), §7.1.3 (E bit), §7.2 (`<answer-message>`) and
//! §7.5 (Failed-AVP), and whether our own `validate` accepts the result.

mod common;

use common::*;
use diameter_core::answer::{error_answer, Identity};
use diameter_core::avp::AvpIter;
use diameter_core::dict::base;
use diameter_core::header::Header;
use diameter_core::{
    ApplicationId, Avp, AvpFlags, CommandCode, Error, ErrorKind, HeaderRepr, Message,
    MessageBuilder,
};

const ME: Identity<'static> = Identity {
    origin_host: "server.example.org",
    origin_realm: "example.org",
};

fn request(
    code: CommandCode,
    app: ApplicationId,
    f: impl FnOnce(&mut MessageBuilder<'_>),
) -> Vec<u8> {
    let mut buf = vec![0u8; 1024];
    // Base peer commands (CER, DWR, DPR) are not proxiable; the others are.
    let pxy = !matches!(code.0, 257 | 280 | 282);
    let hdr = HeaderRepr::request(code, app, 0xabc, 0xdef).proxiable(pxy);
    let mut b = MessageBuilder::new(&mut buf, hdr);
    f(&mut b);
    b.finish().unwrap().to_vec()
}

fn answer(req: &[u8], err: &Error) -> Vec<u8> {
    let mut buf = vec![0u8; 1024];
    error_answer(req, err, &ME, &TestDict, &mut buf)
        .unwrap()
        .finish()
        .unwrap()
        .to_vec()
}

fn validation_error(req: &[u8]) -> Error {
    Message::parse_with(req, &TestDict)
        .unwrap()
        .validate(&TestDict)
        .unwrap_err()
}

/// The parts every error answer shares: identifiers, P copied, R cleared,
/// Session-Id first, then Origin-Host, Origin-Realm, Result-Code.
fn check_common<'a>(ans: &'a [u8], req: &[u8], code: u32) -> Message<'a> {
    let m = Message::parse_with(ans, &TestDict).unwrap();
    // The request may not parse: read its header and Session-Id leniently.
    let r = Header::new_checked(req).unwrap();
    let sid = AvpIter::new(&req[20..])
        .map_while(Result::ok)
        .find(|a| a.is(263, 0))
        .map(|a| a.data());
    assert!(!m.is_request());
    assert_eq!(m.flags().is_proxiable(), r.flags().is_proxiable());
    assert_eq!(m.command_code(), r.command_code());
    assert_eq!(m.application_id(), r.application_id());
    assert_eq!((m.hop_by_hop(), m.end_to_end()), (0xabc, 0xdef));
    assert_eq!(m.flags().is_error(), (3000..4000).contains(&code), "E bit");
    let mut it = m.iter().map(Result::unwrap);
    if let Some(sid) = sid {
        let first = it.next().unwrap();
        assert!(first.is(263, 0));
        assert_eq!(first.data(), sid);
    }
    let codes: Vec<u32> = it.take(3).map(|a: Avp<'_>| a.code()).collect();
    assert_eq!(codes, [264, 296, 268]);
    assert_eq!(m.get(&base::ORIGIN_HOST).unwrap(), Some(ME.origin_host));
    assert_eq!(m.get(&base::ORIGIN_REALM).unwrap(), Some(ME.origin_realm));
    assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(code));
    m
}

/// The only AVP inside the answer's Failed-AVP.
fn failed_avp<'a>(m: &Message<'a>) -> Avp<'a> {
    let f = m.require(&base::FAILED_AVP).unwrap();
    let inner: Vec<_> = f.iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(inner.len(), 1, "one AVP in Failed-AVP");
    inner[0]
}

fn acr_without_record_type() -> Vec<u8> {
    request(
        CommandCode::ACCOUNTING,
        ApplicationId::BASE_ACCOUNTING,
        |b| {
            b.put(&base::SESSION_ID, SESSION_ID)
                .put(&base::ORIGIN_HOST, "client.example.org")
                .put(&base::ORIGIN_REALM, "example.org")
                .put(&base::DESTINATION_REALM, "example.org")
                .put(&base::ACCOUNTING_RECORD_NUMBER, 0);
        },
    )
}

#[test]
fn missing_avp_5005_has_zero_filled_example() {
    let req = acr_without_record_type();
    let err = validation_error(&req);
    assert_eq!(err.kind(), ErrorKind::MissingAvp);
    let ans = answer(&req, &err);
    let m = check_common(&ans, &req, 5005);
    let f = failed_avp(&m);
    assert_eq!((f.code(), f.vendor()), (480, 0));
    assert_eq!(f.flags(), AvpFlags::MANDATORY);
    assert_eq!(f.data(), &[0, 0, 0, 0], "minimum length of an Enumerated");
}

#[test]
fn missing_vendor_avp_5005_keeps_vendor() {
    // IMS-Information requires Node-Functionality (862/10415).
    let req = request(
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        |b| {
            b.put(&base::SESSION_ID, "s;5005v")
                .grouped(&SERVICE_INFORMATION, |g| {
                    g.grouped(&IMS_INFORMATION, |i| {
                        i.put(&ROLE_OF_NODE, RoleOfNode::Originating);
                    });
                });
        },
    );
    let err = validation_error(&req);
    assert_eq!(err.kind(), ErrorKind::MissingAvp);
    let ans = answer(&req, &err);
    let m = check_common(&ans, &req, 5005);
    let f = failed_avp(&m);
    assert_eq!((f.code(), f.vendor()), (862, TGPP));
    assert!(f.flags().is_vendor() && f.flags().is_mandatory());
    assert_eq!(f.data(), &[0, 0, 0, 0]);
}

#[test]
fn e_bit_on_request_3008() {
    let mut req = bench_msg("ccr-i");
    req[4] |= 0x20;
    req[12..20].copy_from_slice(&[0, 0, 0x0a, 0xbc, 0, 0, 0x0d, 0xef]);
    let err = Message::parse_with(&req, &TestDict).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidHeaderBits);
    let ans = answer(&req, &err);
    let m = check_common(&ans, &req, 3008);
    assert!(m.flags().is_error());
    assert_eq!(m.get(&base::FAILED_AVP).unwrap(), None);
    assert_eq!(m.session_id(), Some(SESSION_ID));
}

#[test]
fn unsupported_vendor_avp_5001_is_echoed() {
    let req = request(
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        |b| {
            b.put(&base::SESSION_ID, "s;5001").put_raw(
                4242,
                Some(TGPP),
                AvpFlags::MANDATORY,
                &[1, 2, 3, 4, 5],
            );
        },
    );
    let err = validation_error(&req);
    assert_eq!(err.kind(), ErrorKind::AvpUnsupported);
    let ans = answer(&req, &err);
    let m = check_common(&ans, &req, 5001);
    let f = failed_avp(&m);
    let orig = Message::parse(&req).unwrap().find(4242, TGPP).unwrap();
    assert_eq!(f.raw(), orig.raw(), "the whole AVP as received");
}

#[test]
fn invalid_value_5004_is_echoed() {
    let req = request(
        CommandCode::SESSION_TERMINATION,
        ApplicationId::CREDIT_CONTROL,
        |b| {
            b.put(&base::SESSION_ID, "s;5004")
                .put(&base::ORIGIN_HOST, "client.example.org")
                .put(&base::ORIGIN_REALM, "example.org")
                .put(&base::DESTINATION_REALM, "example.org")
                .put(&base::AUTH_APPLICATION_ID, 4)
                .put(&base::TERMINATION_CAUSE, base::TerminationCause::Logout)
                .put_raw(1, None, AvpFlags::MANDATORY, &[0xff, 0xfe]);
        },
    );
    let err = validation_error(&req);
    assert_eq!(err.kind(), ErrorKind::InvalidAvpValue);
    let ans = answer(&req, &err);
    let m = check_common(&ans, &req, 5004);
    let f = failed_avp(&m);
    assert_eq!(
        f.raw(),
        Message::parse(&req).unwrap().find(1, 0).unwrap().raw()
    );
}

#[test]
fn invalid_value_inside_grouped_is_echoed() {
    let req = request(
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        |b| {
            b.put(&base::SESSION_ID, "s;nested")
                .grouped(&SUBSCRIPTION_ID, |g| {
                    g.put(&SUBSCRIPTION_ID_TYPE, SubscriptionIdType::EndUserE164)
                        .put_raw(444, None, AvpFlags::MANDATORY, &[0xff]);
                });
        },
    );
    let err = validation_error(&req);
    assert_eq!(err.kind(), ErrorKind::InvalidAvpValue);
    assert_eq!(err.avp().unwrap().code, 444);
    let ans = answer(&req, &err);
    let m = check_common(&ans, &req, 5004);
    // §7.5: the offending AVP itself (the enclosing Grouped AVP MAY be added).
    let f = failed_avp(&m);
    let inner = if f.is(443, 0) {
        f.group_set().find(444, 0).unwrap()
    } else {
        f
    };
    assert!(inner.is(444, 0));
    assert_eq!(inner.data(), &[0xff]);
}

#[test]
fn truncated_avp_5014_gets_header_and_zero_payload() {
    // CC-Request-Number whose length field (64) runs past the message.
    let mut req = request(
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        |b| {
            b.put(&base::SESSION_ID, "s;trunc")
                .put(&CC_REQUEST_NUMBER, 7);
        },
    );
    let n = req.len();
    req[n - 12 + 7] = 64;
    let err = Message::parse_with(&req, &TestDict).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidAvpLength);
    let ans = answer(&req, &err);
    let m = check_common(&ans, &req, 5014);
    let f = failed_avp(&m);
    assert_eq!((f.code(), f.flags()), (415, AvpFlags::MANDATORY));
    assert_eq!(f.data(), &[0, 0, 0, 0]);
}

#[test]
fn answer_without_session_id_and_builder_continues() {
    let req = request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, |b| {
        b.put(&base::ORIGIN_HOST, "client.example.org");
    });
    let err = validation_error(&req);
    assert_eq!(err.avp().unwrap().code, 296);
    let mut buf = [0u8; 256];
    let mut b = error_answer(&req, &err, &ME, &TestDict, &mut buf).unwrap();
    b.put(&base::ERROR_MESSAGE, "Origin-Realm missing");
    let ans = b.finish().unwrap().to_vec();
    let m = check_common(&ans, &req, 5005);
    assert_eq!(m.session_id(), None);
    assert_eq!(
        m.get(&base::ERROR_MESSAGE).unwrap(),
        Some("Origin-Realm missing")
    );
    // The example is a zero-length Origin-Realm (§7.5: minimum length).
    let f = failed_avp(&m);
    assert!(f.is(296, 0) && f.data().is_empty());
}

// ---------------------------------------------------------------------------
// Library bugs
// ---------------------------------------------------------------------------

/// RFC 6733 §7.2: an answer with the E bit follows `<answer-message>`, not
/// its command's answer grammar. `base::ERROR_ANSWER` documents exactly that,
/// but `Message::validate` applies the ACA grammar and reports 5005 for the
/// missing Accounting-Record-Type.
#[test]
fn validate_accepts_e_bit_answer_to_acr() {
    let mut req = bench_msg("acr-start");
    req[4] |= 0x20;
    let err = Message::parse(&req).unwrap_err();
    let mut buf = [0u8; 512];
    let ans = error_answer(&req, &err, &ME, &base::Base, &mut buf)
        .unwrap()
        .finish()
        .unwrap();
    let m = Message::parse_with(ans, &base::Base).unwrap();
    assert!(m.flags().is_error());
    m.validate(&base::Base).unwrap();
}

/// Answers built by `error_answer` are rejected by our own `validate`,
/// which checks the AVPs inside Failed-AVP like any other: the echoed AVP of
/// a 5004 or 5001 is invalid or unknown by definition, and the §7.5 example
/// of a missing DiameterIdentity (zero-length) is not a valid
/// DiameterIdentity, so even the 5005 DWA for a missing Origin-Realm fails.
#[test]
fn validate_accepts_error_answers_with_failed_avp() {
    // 5005 in a DWA: Failed-AVP { Origin-Realm (empty) }.
    let req = request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, |b| {
        b.put(&base::ORIGIN_HOST, "client.example.org");
    });
    let ans = answer(&req, &validation_error(&req));
    let r = Message::parse_with(&ans, &TestDict)
        .unwrap()
        .validate(&TestDict);
    assert_eq!(r, Ok(()), "5005 DWA");
    // 5004 in an STA.
    let req = request(
        CommandCode::SESSION_TERMINATION,
        ApplicationId::CREDIT_CONTROL,
        |b| {
            b.put(&base::SESSION_ID, "s;5004")
                .put(&base::ORIGIN_HOST, "client.example.org")
                .put(&base::ORIGIN_REALM, "example.org")
                .put(&base::DESTINATION_REALM, "example.org")
                .put(&base::AUTH_APPLICATION_ID, 4)
                .put(&base::TERMINATION_CAUSE, base::TerminationCause::Logout)
                .put_raw(1, None, AvpFlags::MANDATORY, &[0xff, 0xfe]);
        },
    );
    let ans = answer(&req, &validation_error(&req));
    let r = Message::parse_with(&ans, &TestDict)
        .unwrap()
        .validate(&TestDict);
    assert_eq!(r, Ok(()), "5004 STA");
    // 5001 in a CCA (no grammar known, AVP checks only).
    let req = request(
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        |b| {
            b.put(&base::SESSION_ID, "s;5001").put_raw(
                4242,
                Some(TGPP),
                AvpFlags::MANDATORY,
                &[1, 2, 3, 4, 5],
            );
        },
    );
    let ans = answer(&req, &validation_error(&req));
    let r = Message::parse_with(&ans, &TestDict)
        .unwrap()
        .validate(&TestDict);
    assert_eq!(r, Ok(()), "5001 CCA");
}

/// RFC 6733 §7.5: the zero-filled example is for a length below the header
/// size or beyond the message; otherwise Failed-AVP carries "the entire AVP
/// that could not be processed". An Unsigned32 with 5 data bytes has a
/// trustworthy length, yet the answer carries a 4-byte zero value instead,
/// which hides what was wrong.
#[test]
fn invalid_fixed_size_5014_is_echoed() {
    let req = request(
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        |b| {
            b.put(&base::SESSION_ID, "s;5014").put_raw(
                415,
                None,
                AvpFlags::MANDATORY,
                &[0, 0, 0, 0, 1],
            );
        },
    );
    let err = validation_error(&req);
    assert_eq!(err.kind(), ErrorKind::InvalidAvpLength);
    let ans = answer(&req, &err);
    let m = check_common(&ans, &req, 5014);
    let f = failed_avp(&m);
    assert_eq!(f.data(), &[0, 0, 0, 0, 1], "the AVP as received");
}

/// Regression (fuzz target `decode_message`): a request whose Session-Id
/// carries reserved flag bits made `error_answer` copy those bits, and the
/// answer then failed to parse (3009). The Session-Id is now copied with
/// clean flags.
#[test]
fn session_id_with_reserved_bits_is_copied_clean() {
    let mut buf = vec![0u8; 512];
    let mut b = MessageBuilder::new(
        &mut buf,
        HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 2),
    );
    b.put_raw(263, None, AvpFlags(0x48), b"client;1;2")
        .put(&base::ORIGIN_HOST, "client.example.org");
    let req = b.finish().unwrap().to_vec();
    let err = Message::parse(&req).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidAvpBits);
    let mut out = [0u8; 512];
    let ans = error_answer(&req, &err, &ME, &base::Base, &mut out)
        .unwrap()
        .finish()
        .unwrap();
    let m = Message::parse_with(ans, &base::Base).expect("the error answer parses");
    let sid = m.find(263, 0).unwrap();
    assert_eq!(sid.flags(), AvpFlags::MANDATORY);
    assert_eq!(sid.data(), b"client;1;2");
    // the answer_to builder copies it clean too
    let mut ok = [0u8; 512];
    let bad_but_parsed = Message::parse_with_config(
        &req,
        &base::Base,
        &diameter_core::ParseConfig {
            strict_reserved_bits: false,
            ..Default::default()
        },
    )
    .unwrap();
    let ans = MessageBuilder::answer_to(&mut ok, &bad_but_parsed)
        .finish()
        .unwrap();
    assert_eq!(
        Message::parse(ans).unwrap().find(263, 0).unwrap().flags(),
        AvpFlags::MANDATORY
    );
}

/// Regression (interop with freeDiameter 1.2.1): its 5001 answer carries the
/// offending Grouped AVP in Failed-AVP with a zero-filled payload, as RFC
/// 6733 §7.5 allows. Parsing must not descend into it, or the whole answer
/// would be dropped as malformed.
#[test]
fn zero_filled_grouped_inside_failed_avp_parses() {
    let mut buf = vec![0u8; 512];
    let hdr =
        HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 2).answer();
    let mut b = MessageBuilder::new(&mut buf, hdr);
    b.put(&base::RESULT_CODE, 5001)
        .put(&base::ORIGIN_HOST, "fd.example")
        .put(&base::ORIGIN_REALM, "example")
        .grouped(&base::FAILED_AVP, |g| {
            // Proxy-Info (Grouped) with 40 zero bytes as its "payload"
            g.put_raw(284, None, AvpFlags::MANDATORY, &[0u8; 40]);
        });
    let bytes = b.finish().unwrap().to_vec();
    let m = Message::parse_with(&bytes, &base::Base).expect("parses");
    m.validate(&base::Base).expect("validates");
    let f = m.get(&base::FAILED_AVP).unwrap().unwrap();
    assert_eq!(f.iter().next().unwrap().unwrap().code(), 284);
    // outside Failed-AVP the same bytes are an error
    let mut b = MessageBuilder::new(&mut buf, hdr);
    b.put_raw(284, None, AvpFlags::MANDATORY, &[0u8; 40]);
    let bad = b.finish().unwrap().to_vec();
    assert!(Message::parse_with(&bad, &base::Base).is_err());
}
