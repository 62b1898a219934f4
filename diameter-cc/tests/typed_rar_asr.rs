//! The typed Re-Auth-Request/-Answer and Abort-Session-Request/-Answer of
//! `diameter_cc::msg` (RFC 6733 §8.3, §8.5; RFC 8506 §3.3-§3.6) against
//! themselves (repr → bytes → typed decode, answers built from the decoded
//! request), against the failure-answer rule of RFC 6733 §7.2, and against
//! a message already validated (the typed views then skip validation).

mod typed;

use diameter_cc::dict::base;
use diameter_cc::msg::{Asa, AsaRepr, Asr, AsrRepr, Raa, RaaRepr, Rar, RarRepr};
use diameter_cc::CreditControl;
use diameter_core::{CommandFlags, ErrorKind, Message, MessageBuilder, ResultCode};

use typed::*;

macro_rules! assert_session_answer {
    ($a:expr, $r:expr) => {{
        let (a, r) = ($a, $r);
        assert_eq!(a.session_id, r.session_id);
        assert_eq!(a.result_code, r.result_code);
        assert_eq!(a.origin_host, r.origin_host);
        assert_eq!(a.origin_realm, r.origin_realm);
        assert_eq!(a.user_name, r.user_name);
        assert_eq!(a.origin_state_id, r.origin_state_id);
        assert_eq!((a.error_message, a.failed_avp), (None, None));
    }};
}

#[test]
fn round_trip_rar_and_raa() {
    let mut buf = [0u8; 4096];
    let bytes = RAR_FULL
        .encode(RarRepr::header(9, 10), &mut buf)
        .unwrap()
        .to_vec();
    let rar_msg = parse(&bytes);
    let rar = Rar::decode(&rar_msg).unwrap();
    assert_rar(&rar, &RAR_FULL);
    let raa = RaaRepr {
        user_name: Some("1001"),
        origin_state_id: Some(8),
        ..rar.answer(CLIENT, REALM, ResultCode::SUCCESS)
    };
    assert_eq!(raa, RAA_FULL);
    let bytes = raa.encode_answer_to(&rar_msg, &mut buf).unwrap().to_vec();
    let got = Raa::decode(&parse(&bytes)).unwrap();
    assert_session_answer!(&got, &RAA_FULL);
    assert_eq!(got.message.hop_by_hop(), 9);
}

#[test]
fn round_trip_asr_and_asa() {
    let mut buf = [0u8; 4096];
    let bytes = ASR_FULL
        .encode(AsrRepr::header(11, 12), &mut buf)
        .unwrap()
        .to_vec();
    let asr_msg = parse(&bytes);
    let asr = Asr::decode(&asr_msg).unwrap();
    assert_asr(&asr, &ASR_FULL);
    let asa = AsaRepr {
        user_name: Some("1001"),
        origin_state_id: Some(8),
        ..asr.answer(CLIENT, REALM, ResultCode(5002))
    };
    assert_eq!(asa, ASA_FULL);
    let bytes = asa.encode_answer_to(&asr_msg, &mut buf).unwrap().to_vec();
    let got = Asa::decode(&parse(&bytes)).unwrap();
    assert_session_answer!(&got, &ASA_FULL);
}

/// RFC 6733 §7.2: a failure RAA or ASA (5002 DIAMETER_UNKNOWN_SESSION_ID,
/// say) carries the `<answer-message>` AVPs; one with the E bit is not
/// checked against the command's P bit. `Message::validate` and the typed
/// decode agree; Origin-Host is never optional.
#[test]
fn failure_answers_follow_the_answer_message_rule() {
    let mut buf = [0u8; 256];
    for (header, decode) in [
        (
            RaaRepr::header(1, 1),
            (|m: &Message<'_>| Raa::decode(m).map(|a| a.result_code))
                as fn(&Message<'_>) -> Result<ResultCode, diameter_core::Error>,
        ),
        (AsaRepr::header(1, 1), |m: &Message<'_>| {
            Asa::decode(m).map(|a| a.result_code)
        }),
    ] {
        let mut b = MessageBuilder::new(&mut buf, header);
        b.put(&base::SESSION_ID, "sid;gone")
            .put(&base::RESULT_CODE, 5002)
            .put(&base::ORIGIN_HOST, CLIENT)
            .put(&base::ORIGIN_REALM, REALM);
        let bytes = b.finish().unwrap().to_vec();
        parse(&bytes).validate(&CreditControl).unwrap();
        assert_eq!(decode(&parse(&bytes)), Ok(ResultCode::UNKNOWN_SESSION_ID));
        assert_eq!(decode(&checked(&bytes)), Ok(ResultCode::UNKNOWN_SESSION_ID));

        // 3002 from a relay: E bit, no P bit.
        let mut h = header;
        h.flags = CommandFlags::ERROR;
        let mut b = MessageBuilder::new(&mut buf, h);
        b.put(&base::SESSION_ID, "sid;gone")
            .put(&base::ORIGIN_HOST, "relay.cgrates.org")
            .put(&base::ORIGIN_REALM, REALM)
            .put(&base::RESULT_CODE, 3002);
        let bytes = b.finish().unwrap().to_vec();
        parse(&bytes).validate(&CreditControl).unwrap();
        assert_eq!(decode(&parse(&bytes)), Ok(ResultCode::UNABLE_TO_DELIVER));

        // No Origin-Host: 5005 naming 264 both ways.
        let mut b = MessageBuilder::new(&mut buf, header);
        b.put(&base::SESSION_ID, "sid;gone")
            .put(&base::RESULT_CODE, 5002)
            .put(&base::ORIGIN_REALM, REALM);
        let bytes = b.finish().unwrap().to_vec();
        let m = parse(&bytes);
        for e in [
            m.validate(&CreditControl).unwrap_err(),
            decode(&m).unwrap_err(),
        ] {
            assert_eq!(e.kind(), ErrorKind::MissingAvp);
            assert_eq!(e.avp().unwrap().code, 264);
        }
    }
}

/// A message validated once (as the peer machine hands it over) gives the
/// typed views the same fields as an unvalidated one; the header checks
/// still apply.
#[test]
fn views_of_a_validated_message_read_the_same_fields() {
    let mut buf = [0u8; 1024];
    let rar = RAR_FULL
        .encode(RarRepr::header(9, 10), &mut buf)
        .unwrap()
        .to_vec();
    let (plain, once) = (Message::new_checked(&rar).unwrap(), checked(&rar));
    let fast = Rar::decode(&once).unwrap();
    assert_eq!(
        Rar {
            message: plain,
            ..fast
        },
        Rar::decode(&plain).unwrap()
    );
    assert_rar(&fast, &RAR_FULL);
    assert_eq!(
        Raa::decode(&once).unwrap_err().kind(),
        ErrorKind::InvalidHeaderBits
    );
    assert_eq!(
        Asr::decode(&once).unwrap_err().kind(),
        ErrorKind::CommandUnsupported
    );

    let raa = RAA_FULL
        .encode(RaaRepr::header(9, 10), &mut buf)
        .unwrap()
        .to_vec();
    let (plain, once) = (Message::new_checked(&raa).unwrap(), checked(&raa));
    let fast = Raa::decode(&once).unwrap();
    assert_eq!(
        Raa {
            message: plain,
            ..fast
        },
        Raa::decode(&plain).unwrap()
    );
    assert_session_answer!(&fast, &RAA_FULL);

    let asr = ASR_FULL
        .encode(AsrRepr::header(11, 12), &mut buf)
        .unwrap()
        .to_vec();
    let (plain, once) = (Message::new_checked(&asr).unwrap(), checked(&asr));
    let fast = Asr::decode(&once).unwrap();
    assert_eq!(
        Asr {
            message: plain,
            ..fast
        },
        Asr::decode(&plain).unwrap()
    );
    assert_asr(&fast, &ASR_FULL);
    assert_eq!(
        Asa::decode(&once).unwrap_err().kind(),
        ErrorKind::InvalidHeaderBits
    );

    let asa = ASA_FULL
        .encode(AsaRepr::header(11, 12), &mut buf)
        .unwrap()
        .to_vec();
    let (plain, once) = (Message::new_checked(&asa).unwrap(), checked(&asa));
    let fast = Asa::decode(&once).unwrap();
    assert_eq!(
        Asa {
            message: plain,
            ..fast
        },
        Asa::decode(&plain).unwrap()
    );
    assert_session_answer!(&fast, &ASA_FULL);
}
