//! Messages built independently of the machine, from the configuration
//! values, and checks of what the machine emitted.

use diameter_core::dict::base::{self, AccountingRecordType, DisconnectCause};
use diameter_core::peer::{AppKind, LocalIdentity, PeerConfig};
use diameter_core::{
    AddressValue, ApplicationId, AvpFlags, CommandCode, CommandFlags, HeaderRepr, Message,
    MessageBuilder, ParseConfig,
};

use super::REALM;

// ---------------------------------------------------------------------------
// Messages built independently of the machine
// ---------------------------------------------------------------------------

pub fn build(hdr: HeaderRepr, f: impl FnOnce(&mut MessageBuilder<'_>)) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let mut b = MessageBuilder::new(&mut buf, hdr);
    f(&mut b);
    let n = b.finish().expect("encode").len();
    buf.truncate(n);
    buf
}

/// The CER/CEA capability AVPs of RFC 6733 §5.3.1/§5.3.2 from `l`.
pub fn put_caps(b: &mut MessageBuilder<'_>, l: &LocalIdentity) {
    b.put(&base::ORIGIN_HOST, l.origin_host.as_str())
        .put(&base::ORIGIN_REALM, l.origin_realm.as_str());
    for ip in &l.host_ip_addresses {
        b.put(&base::HOST_IP_ADDRESS, AddressValue::from(*ip));
    }
    b.put(&base::VENDOR_ID, l.vendor_id)
        .put(&base::PRODUCT_NAME, l.product_name.as_str())
        .put(&base::ORIGIN_STATE_ID, l.origin_state_id);
    for v in &l.supported_vendor_ids {
        b.put(&base::SUPPORTED_VENDOR_ID, *v);
    }
    for a in l.applications.iter().filter(|a| a.vendor.is_none()) {
        match a.kind {
            AppKind::Auth => b.put(&base::AUTH_APPLICATION_ID, a.id),
            AppKind::Acct => b.put(&base::ACCT_APPLICATION_ID, a.id),
        };
    }
    if let Some(i) = l.inband_security_id {
        b.put(&base::INBAND_SECURITY_ID, i);
    }
    for a in &l.applications {
        if let Some(v) = a.vendor {
            b.grouped(&base::VENDOR_SPECIFIC_APPLICATION_ID, |g| {
                g.put(&base::VENDOR_ID, v);
                match a.kind {
                    AppKind::Auth => g.put(&base::AUTH_APPLICATION_ID, a.id),
                    AppKind::Acct => g.put(&base::ACCT_APPLICATION_ID, a.id),
                };
            });
        }
    }
    if let Some(f) = l.firmware_revision {
        b.put(&base::FIRMWARE_REVISION, f);
    }
}

pub fn common_req(code: CommandCode, hbh: u32, e2e: u32) -> HeaderRepr {
    HeaderRepr::request(code, ApplicationId::COMMON, hbh, e2e)
}

pub fn common_ans(code: CommandCode, hbh: u32, e2e: u32, error: bool) -> HeaderRepr {
    let mut h = common_req(code, hbh, e2e).answer();
    if error {
        h.flags = h.flags | CommandFlags::ERROR;
    }
    h
}

pub fn expect_cer(l: &LocalIdentity, hbh: u32, e2e: u32) -> Vec<u8> {
    build(
        common_req(CommandCode::CAPABILITIES_EXCHANGE, hbh, e2e),
        |b| put_caps(b, l),
    )
}

pub fn expect_cea(l: &LocalIdentity, hbh: u32, e2e: u32, rc: u32, error: bool) -> Vec<u8> {
    build(
        common_ans(CommandCode::CAPABILITIES_EXCHANGE, hbh, e2e, error),
        |b| {
            b.put(&base::RESULT_CODE, rc);
            put_caps(b, l);
        },
    )
}

pub fn expect_dwr(l: &LocalIdentity, hbh: u32, e2e: u32) -> Vec<u8> {
    build(common_req(CommandCode::DEVICE_WATCHDOG, hbh, e2e), |b| {
        b.put(&base::ORIGIN_HOST, l.origin_host.as_str())
            .put(&base::ORIGIN_REALM, l.origin_realm.as_str())
            .put(&base::ORIGIN_STATE_ID, l.origin_state_id);
    })
}

pub fn expect_dwa(l: &LocalIdentity, hbh: u32, e2e: u32) -> Vec<u8> {
    build(
        common_ans(CommandCode::DEVICE_WATCHDOG, hbh, e2e, false),
        |b| {
            b.put(&base::RESULT_CODE, 2001)
                .put(&base::ORIGIN_HOST, l.origin_host.as_str())
                .put(&base::ORIGIN_REALM, l.origin_realm.as_str())
                .put(&base::ORIGIN_STATE_ID, l.origin_state_id);
        },
    )
}

pub fn expect_dpr(l: &LocalIdentity, hbh: u32, e2e: u32, cause: DisconnectCause) -> Vec<u8> {
    build(common_req(CommandCode::DISCONNECT_PEER, hbh, e2e), |b| {
        b.put(&base::ORIGIN_HOST, l.origin_host.as_str())
            .put(&base::ORIGIN_REALM, l.origin_realm.as_str())
            .put(&base::DISCONNECT_CAUSE, cause);
    })
}

pub fn expect_dpa(l: &LocalIdentity, hbh: u32, e2e: u32) -> Vec<u8> {
    build(
        common_ans(CommandCode::DISCONNECT_PEER, hbh, e2e, false),
        |b| {
            b.put(&base::RESULT_CODE, 2001)
                .put(&base::ORIGIN_HOST, l.origin_host.as_str())
                .put(&base::ORIGIN_REALM, l.origin_realm.as_str());
        },
    )
}

/// The error answer of RFC 6733 §7.2 to `req`: identifiers and P bit kept,
/// E bit for 3xxx, Session-Id, Origin-Host, Origin-Realm, Result-Code, the
/// AVPs with the codes in `echo` copied from the request (an answer without
/// the E bit follows its command's grammar, so the machine echoes the AVPs
/// it requires, e.g. an ACA's Accounting-Record-Type and -Number) and an
/// optional Failed-AVP holding one AVP (code, flags, data).
pub fn expect_error(
    req: &[u8],
    l: &LocalIdentity,
    rc: u32,
    echo: &[u32],
    failed: Option<(u32, AvpFlags, &[u8])>,
) -> Vec<u8> {
    let (h, _) = HeaderRepr::parse(req).expect("request header");
    let mut hdr = h.answer();
    if (3000..4000).contains(&rc) {
        hdr.flags = hdr.flags | CommandFlags::ERROR;
    }
    let m = Message::parse(req).expect("request");
    build(hdr, |b| {
        if let Some(sid) = m.find(263, 0) {
            b.put_avp(&sid);
        }
        b.put(&base::ORIGIN_HOST, l.origin_host.as_str())
            .put(&base::ORIGIN_REALM, l.origin_realm.as_str())
            .put(&base::RESULT_CODE, rc);
        for &code in echo {
            let avp = m.find(code, 0).expect("AVP to echo");
            b.put_avp(&avp);
        }
        if let Some((code, flags, data)) = failed {
            b.grouped(&base::FAILED_AVP, |g| {
                g.put_raw(code, None, flags, data);
            });
        }
    })
}

/// An Accounting-Request (base accounting, application 3) from `host`,
/// identifiers left 0 for the machine to fill in.
pub fn acr(host: &str, session: &str, record: u32) -> Vec<u8> {
    build(
        HeaderRepr::request(
            CommandCode::ACCOUNTING,
            ApplicationId::BASE_ACCOUNTING,
            0,
            0,
        )
        .proxiable(true),
        |b| {
            b.put(&base::SESSION_ID, session)
                .put(&base::ORIGIN_HOST, host)
                .put(&base::ORIGIN_REALM, REALM)
                .put(&base::DESTINATION_REALM, REALM)
                .put(
                    &base::ACCOUNTING_RECORD_TYPE,
                    AccountingRecordType::EventRecord,
                )
                .put(&base::ACCOUNTING_RECORD_NUMBER, record);
        },
    )
}

/// The application's answer to an ACR.
pub fn answer_for(cfg: &PeerConfig, req: &[u8], rc: u32) -> Vec<u8> {
    let m = Message::parse_with(req, &base::Base).expect("request parses");
    let mut buf = vec![0u8; 1024];
    let mut b = MessageBuilder::answer_to(&mut buf, &m);
    b.put(&base::RESULT_CODE, rc)
        .put(&base::ORIGIN_HOST, cfg.local.origin_host.as_str())
        .put(&base::ORIGIN_REALM, cfg.local.origin_realm.as_str());
    if let Ok(Some(t)) = m.get(&base::ACCOUNTING_RECORD_TYPE) {
        b.put(&base::ACCOUNTING_RECORD_TYPE, t);
    }
    if let Ok(Some(n)) = m.get(&base::ACCOUNTING_RECORD_NUMBER) {
        b.put(&base::ACCOUNTING_RECORD_NUMBER, n);
    }
    let n = b.finish().expect("answer").len();
    buf.truncate(n);
    buf
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn assert_bytes(actual: &[u8], expected: &[u8], what: &str) {
    if actual != expected {
        let at = actual
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(actual.len().min(expected.len()));
        panic!(
            "{what}: bytes differ at offset {at} (lengths {} / {})\n  actual:   {}\n  expected: {}",
            actual.len(),
            expected.len(),
            hex(actual),
            hex(expected)
        );
    }
}

/// Decode a CER/CEA and check every capability AVP against `l`.
pub fn check_caps(m: &Message<'_>, l: &LocalIdentity) {
    let def = if m.is_request() {
        &base::CER
    } else {
        &base::CEA
    };
    m.validate_command(def, &base::Base, &ParseConfig::DEFAULT)
        .expect("CER/CEA grammar");
    assert_eq!(
        m.get(&base::ORIGIN_HOST).unwrap(),
        Some(l.origin_host.as_str())
    );
    assert_eq!(
        m.get(&base::ORIGIN_REALM).unwrap(),
        Some(l.origin_realm.as_str())
    );
    let ips: Vec<AddressValue<'_>> = m
        .get_all(&base::HOST_IP_ADDRESS)
        .map(|r| r.unwrap())
        .collect();
    let want: Vec<AddressValue<'_>> = l
        .host_ip_addresses
        .iter()
        .map(|ip| AddressValue::from(*ip))
        .collect();
    assert_eq!(ips, want);
    assert_eq!(m.get(&base::VENDOR_ID).unwrap(), Some(l.vendor_id));
    assert_eq!(
        m.get(&base::PRODUCT_NAME).unwrap(),
        Some(l.product_name.as_str())
    );
    assert_eq!(
        m.get(&base::ORIGIN_STATE_ID).unwrap(),
        Some(l.origin_state_id)
    );
    let svi: Vec<u32> = m
        .get_all(&base::SUPPORTED_VENDOR_ID)
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(svi, l.supported_vendor_ids.as_slice());
    let plain = |kind| -> Vec<u32> {
        l.applications
            .iter()
            .filter(|a| a.vendor.is_none() && a.kind == kind)
            .map(|a| a.id)
            .collect()
    };
    let auth: Vec<u32> = m
        .get_all(&base::AUTH_APPLICATION_ID)
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(auth, plain(AppKind::Auth));
    let acct: Vec<u32> = m
        .get_all(&base::ACCT_APPLICATION_ID)
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(acct, plain(AppKind::Acct));
    let vsai: Vec<(Option<u32>, Option<u32>, Option<u32>)> = m
        .get_all(&base::VENDOR_SPECIFIC_APPLICATION_ID)
        .map(|g| {
            let g = g.unwrap();
            (
                g.get(&base::VENDOR_ID).unwrap(),
                g.get(&base::AUTH_APPLICATION_ID).unwrap(),
                g.get(&base::ACCT_APPLICATION_ID).unwrap(),
            )
        })
        .collect();
    let want: Vec<(Option<u32>, Option<u32>, Option<u32>)> = l
        .applications
        .iter()
        .filter_map(|a| {
            let v = a.vendor?;
            Some(match a.kind {
                AppKind::Auth => (Some(v), Some(a.id), None),
                AppKind::Acct => (Some(v), None, Some(a.id)),
            })
        })
        .collect();
    assert_eq!(vsai, want);
    assert_eq!(
        m.get(&base::INBAND_SECURITY_ID).unwrap(),
        l.inband_security_id
    );
    assert_eq!(
        m.get(&base::FIRMWARE_REVISION).unwrap(),
        l.firmware_revision
    );
    let n = 2
        + l.host_ip_addresses.len()
        + 3
        + l.supported_vendor_ids.len()
        + l.applications.len()
        + usize::from(l.inband_security_id.is_some())
        + usize::from(l.firmware_revision.is_some())
        + usize::from(!m.is_request());
    assert_eq!(m.avps().count(), n, "no other AVPs");
}

/// Decode a DWR/DWA/DPR/DPA and check every AVP.
pub fn check_base(bytes: &[u8], l: &LocalIdentity, cause: Option<DisconnectCause>) {
    let m = Message::parse_with(bytes, &base::Base).expect("parses");
    m.validate(&base::Base).expect("grammar");
    assert!(!m.flags().is_proxiable() && !m.flags().is_error());
    assert_eq!(m.application_id(), ApplicationId::COMMON);
    assert_eq!(
        m.get(&base::ORIGIN_HOST).unwrap(),
        Some(l.origin_host.as_str())
    );
    assert_eq!(
        m.get(&base::ORIGIN_REALM).unwrap(),
        Some(l.origin_realm.as_str())
    );
    let mut n = 2;
    if !m.is_request() {
        assert_eq!(m.get(&base::RESULT_CODE).unwrap(), Some(2001));
        n += 1;
    }
    if m.command_code() == CommandCode::DEVICE_WATCHDOG {
        assert_eq!(
            m.get(&base::ORIGIN_STATE_ID).unwrap(),
            Some(l.origin_state_id)
        );
        n += 1;
    }
    if m.command_code() == CommandCode::DISCONNECT_PEER && m.is_request() {
        assert_eq!(m.get(&base::DISCONNECT_CAUSE).unwrap(), cause);
        n += 1;
    }
    assert_eq!(m.avps().count(), n, "no other AVPs");
}
