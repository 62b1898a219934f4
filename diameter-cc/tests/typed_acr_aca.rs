//! The typed Accounting-Request and -Answer of `diameter_cc::msg` (RFC 6733
//! §9.7.1, §9.7.2, with the SIP accounting AVPs OpenSIPS sends) against the
//! shared bench message acr-start (`../shared/bench-msgs`), against
//! themselves (repr → bytes → typed decode, every record type), against
//! the failure-answer rule of RFC 6733 §7.2, and against a message already
//! validated (the typed views then skip validation).

mod typed;

use diameter_cc::dict::base::{self, AccountingRecordType};
use diameter_cc::msg::{Aca, AcaRepr, Acr, AcrRepr};
use diameter_cc::CreditControl;
use diameter_core::{ApplicationId, ErrorKind, Message, MessageBuilder, ResultCode};

use typed::*;

#[test]
fn decode_acr_start() {
    let bytes = bench_msg("acr-start");
    let msg = parse(&bytes);
    let a = Acr::decode(&msg).unwrap();
    assert_eq!(msg.application_id(), ApplicationId::BASE_ACCOUNTING);
    assert_eq!(a.session_id, SID);
    assert_eq!((a.origin_host, a.origin_realm), (CLIENT, REALM));
    assert_eq!(a.destination_realm, REALM);
    assert_eq!(a.accounting_record_type, AccountingRecordType::StartRecord);
    assert_eq!(a.accounting_record_number, 0);
    assert_eq!(a.acct_application_id, Some(3));
    assert_eq!(a.user_name, Some("1001@cgrates.org"));
    assert_eq!(a.acct_interim_interval, Some(300));
    assert_eq!(a.origin_state_id, Some(1_704_067_200));
    assert_eq!(a.event_timestamp, Some(T0));
    assert_eq!(a.acct_session_id, None);
    assert_eq!(a.service_type, None);
    assert_acr(&a, &ACR_START);
}

#[test]
fn encode_reproduces_acr_start() {
    let mut buf = [0u8; 4096];
    let acr = bench_msg("acr-start");
    assert_eq!(
        ACR_START
            .encode(AcrRepr::header(0x5AE5_A002, 0x1C0D_E002), &mut buf)
            .unwrap(),
        &acr[..]
    );
}

/// Every record type of RFC 6733 §9.8.1 with every field set, and its
/// answer built from the decoded request (§9.7.2).
#[test]
fn round_trip_acr_and_aca() {
    let mut buf = [0u8; 4096];
    for (i, t) in [
        AccountingRecordType::EventRecord,
        AccountingRecordType::StartRecord,
        AccountingRecordType::InterimRecord,
        AccountingRecordType::StopRecord,
    ]
    .into_iter()
    .enumerate()
    {
        let r = acr_full(t, i as u32);
        let bytes = r.encode(AcrRepr::header(7, 8), &mut buf).unwrap().to_vec();
        let msg = parse(&bytes);
        let acr = Acr::decode(&msg).unwrap();
        assert_acr(&acr, &r);
        // The answer built from the decoded request.
        let aca = AcaRepr {
            acct_interim_interval: Some(120),
            ..acr.answer(OCS, REALM, ResultCode::SUCCESS)
        };
        let bytes = aca.encode_answer_to(&msg, &mut buf).unwrap().to_vec();
        let got = Aca::decode(&parse(&bytes)).unwrap();
        assert_aca(&got, &aca);
        assert_eq!(got.message.end_to_end(), 8);
    }
    let bytes = ACA_FULL
        .encode(AcaRepr::header(1, 1), &mut buf)
        .unwrap()
        .to_vec();
    assert_aca(&Aca::decode(&parse(&bytes)).unwrap(), &ACA_FULL);
}

/// RFC 6733 §7.2: an ACA whose Result-Code is not 2xxx need carry only the
/// `<answer-message>` AVPs; a successful one needs `{ Accounting-Record-Type }`
/// and `{ Accounting-Record-Number }` (§9.7.2). `Message::validate` and
/// `Aca::decode` agree.
#[test]
fn aca_record_fields_required_only_on_success() {
    let build = |rc: u32, buf: &mut [u8; 256]| -> Vec<u8> {
        let mut b = MessageBuilder::new(buf, AcaRepr::header(1, 1));
        b.put(&base::SESSION_ID, "sid;acct")
            .put(&base::RESULT_CODE, rc)
            .put(&base::ORIGIN_HOST, OCS)
            .put(&base::ORIGIN_REALM, REALM);
        b.finish().unwrap().to_vec()
    };
    let mut buf = [0u8; 256];
    let failed = build(4002, &mut buf);
    let msg = parse(&failed);
    msg.validate(&CreditControl).unwrap();
    let a = Aca::decode(&msg).unwrap();
    assert_eq!(a.result_code, ResultCode::OUT_OF_SPACE);
    assert_eq!(
        (a.accounting_record_type, a.accounting_record_number),
        (None, None)
    );
    assert_eq!(
        Aca::decode(&checked(&failed)).unwrap(),
        Aca {
            message: checked(&failed),
            ..a
        }
    );

    let ok = build(2001, &mut buf);
    let msg = parse(&ok);
    for e in [
        msg.validate(&CreditControl).unwrap_err(),
        Aca::decode(&msg).unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::MissingAvp);
        assert_eq!(e.avp().unwrap().code, 480);
    }
}

/// A message validated once (as the peer machine hands it over) gives the
/// typed views the same fields as an unvalidated one; the header checks
/// still apply.
#[test]
fn views_of_a_validated_message_read_the_same_fields() {
    let mut buf = [0u8; 4096];
    let mut requests = vec![bench_msg("acr-start")];
    for (i, t) in [
        AccountingRecordType::EventRecord,
        AccountingRecordType::StartRecord,
        AccountingRecordType::InterimRecord,
        AccountingRecordType::StopRecord,
    ]
    .into_iter()
    .enumerate()
    {
        let r = acr_full(t, i as u32);
        requests.push(r.encode(AcrRepr::header(7, 8), &mut buf).unwrap().to_vec());
    }
    for bytes in &requests {
        let plain = Message::new_checked(bytes).unwrap();
        let once = checked(bytes);
        assert!(once.is_validated() && !plain.is_validated());
        let slow = Acr::decode(&plain).unwrap();
        let fast = Acr::decode(&once).unwrap();
        assert_eq!(
            Acr {
                message: plain,
                ..fast
            },
            slow
        );
        assert_eq!(
            Aca::decode(&once).unwrap_err().kind(),
            ErrorKind::InvalidHeaderBits
        );
    }
    assert_acr(
        &Acr::decode(&checked(&requests[4])).unwrap(),
        &acr_full(AccountingRecordType::StopRecord, 3),
    );

    let aca = ACA_FULL
        .encode(AcaRepr::header(1, 1), &mut buf)
        .unwrap()
        .to_vec();
    let plain = Message::new_checked(&aca).unwrap();
    let once = checked(&aca);
    let slow = Aca::decode(&plain).unwrap();
    let fast = Aca::decode(&once).unwrap();
    assert_eq!(
        Aca {
            message: plain,
            ..fast
        },
        slow
    );
    assert_aca(&fast, &ACA_FULL);
    assert_eq!(
        Acr::decode(&once).unwrap_err().kind(),
        ErrorKind::InvalidHeaderBits
    );
}
