//! Every message type of `diameter_cc::msg` (CCR/CCA, ACR/ACA, RAR/RAA,
//! ASR/ASA, with every field set, the bench messages and the SCENARIOS
//! requests) against Wireshark: each dissects cleanly with
//! `shared/peers/tshark-decode.sh`, and tshark reads the same command, R
//! flag, Hop-by-Hop id, Session-Id, Result-Code, CC-Request-Type and
//! Accounting-Record-Type as we wrote. tshark is required: the test fails
//! without it.

mod typed;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use diameter_cc::dict::base::{AccountingRecordType, TerminationCause};
use diameter_cc::dict::{self, base, CcRequestType};
use diameter_cc::msg::{
    AcaRepr, AcrRepr, AsaRepr, AsrRepr, CcaRepr, CcrRepr, ImsRepr, RaaRepr, RarRepr, ServiceUnit,
};
use diameter_cc::CreditControl;
use diameter_core::{CommandFlags, MessageBuilder, ResultCode};

use typed::*;

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p =
            std::env::temp_dir().join(format!("diameter-cc-typed-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("keeping {} for inspection", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every message type this module encodes, as (name, bytes, command code,
/// request?).
fn every_message() -> Vec<(String, Vec<u8>, u32, bool)> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 8192];
    let mut add = |name: &str, bytes: &[u8]| {
        let m = parse(bytes);
        m.validate(&CreditControl)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((
            name.to_string(),
            bytes.to_vec(),
            m.command_code().0,
            m.is_request(),
        ));
    };

    add("ccr-i", CCR_I.encode(CCR_I_HEADER, &mut buf).unwrap());
    let large = Large::new();
    let mscc = large.mscc();
    add(
        "ccr-u-large",
        ccr_u_large(&mscc)
            .encode(CcrRepr::header(0x5AE5_A003, 0x1C0D_E003), &mut buf)
            .unwrap(),
    );
    add(
        "ccr-u-full",
        ccr_full().encode(CcrRepr::header(2, 2), &mut buf).unwrap(),
    );
    // SCENARIOS prepaid CCR-U, CCR-T and the postpaid CCR-Event.
    let tail = CcrRepr {
        destination_host: Some("server.diameter.test"),
        user_name: Some("1001"),
        subscription_ids: &SUBS,
        ims: Some(ImsRepr {
            role_of_node: None,
            ..IMS
        }),
        ..CcrRepr::new(
            "call-1",
            "client.diameter.test",
            "diameter.test",
            "diameter.test",
            "voice@OsipsDiamCCR",
            CcRequestType::Update,
            1,
        )
    };
    add(
        "ccr-u",
        CcrRepr {
            event_timestamp: Some(T0),
            requested_service_unit: Some(ServiceUnit::time(0)),
            ..tail
        }
        .encode(CcrRepr::header(3, 3), &mut buf)
        .unwrap(),
    );
    add(
        "ccr-t",
        CcrRepr {
            cc_request_type: CcRequestType::Termination,
            cc_request_number: 2,
            termination_cause: Some(TerminationCause::Logout),
            used_service_units: &[ServiceUnit::time(42)],
            ..tail
        }
        .encode(CcrRepr::header(4, 4), &mut buf)
        .unwrap(),
    );
    add(
        "ccr-event",
        CcrRepr {
            cc_request_type: CcRequestType::Event,
            cc_request_number: 0,
            termination_cause: Some(TerminationCause::Logout),
            event_timestamp: Some(T0),
            requested_service_unit: Some(ServiceUnit::time(0)),
            used_service_units: &[ServiceUnit::time(42)],
            ..tail
        }
        .encode(CcrRepr::header(5, 5), &mut buf)
        .unwrap(),
    );

    add(
        "cca-i",
        CCA_I
            .encode(CcaRepr::header(0x5AE5_A001, 0x1C0D_E001), &mut buf)
            .unwrap(),
    );
    add(
        "cca-full",
        cca_full().encode(CcaRepr::header(2, 2), &mut buf).unwrap(),
    );
    add(
        "cca-4012",
        CcaRepr::new(
            "call-1",
            ResultCode(4012),
            OCS,
            REALM,
            CcRequestType::Update,
            1,
        )
        .encode(CcaRepr::header(3, 3), &mut buf)
        .unwrap(),
    );

    // Failure answers with only the <answer-message> AVPs (RFC 6733 §7.2):
    // a 5005 CCA without the CC AVPs, and a relay's 3002 with the E bit and
    // without the P bit.
    {
        let mut b = MessageBuilder::new(&mut buf, CcaRepr::header(6, 6));
        b.put(&base::SESSION_ID, "call-1")
            .put(&base::ORIGIN_HOST, OCS)
            .put(&base::ORIGIN_REALM, REALM)
            .put(&base::RESULT_CODE, 5005)
            .grouped(&base::FAILED_AVP, |g| {
                // (Wireshark flags an empty payload: any value will do)
                g.put(&dict::SERVICE_CONTEXT_ID, "voice@cgrates.org");
            });
        add("cca-5005", b.finish().unwrap());
    }
    {
        let mut h = CcaRepr::header(7, 7);
        h.flags = CommandFlags::ERROR;
        let mut b = MessageBuilder::new(&mut buf, h);
        b.put(&base::SESSION_ID, "call-1")
            .put(&base::ORIGIN_HOST, "relay.cgrates.org")
            .put(&base::ORIGIN_REALM, REALM)
            .put(&base::RESULT_CODE, 3002);
        add("cca-3002-e", b.finish().unwrap());
    }

    for (i, t) in [
        AccountingRecordType::EventRecord,
        AccountingRecordType::StartRecord,
        AccountingRecordType::InterimRecord,
        AccountingRecordType::StopRecord,
    ]
    .into_iter()
    .enumerate()
    {
        let i = i as u32;
        add(
            &format!("acr-{i}"),
            acr_full(t, i)
                .encode(AcrRepr::header(10 + i, 10 + i), &mut buf)
                .unwrap(),
        );
    }
    add(
        "acr-start",
        ACR_START
            .encode(AcrRepr::header(0x5AE5_A002, 0x1C0D_E002), &mut buf)
            .unwrap(),
    );
    add(
        "aca",
        ACA_FULL.encode(AcaRepr::header(11, 11), &mut buf).unwrap(),
    );
    add(
        "rar",
        RAR_FULL.encode(RarRepr::header(12, 12), &mut buf).unwrap(),
    );
    add(
        "raa",
        RAA_FULL.encode(RaaRepr::header(12, 12), &mut buf).unwrap(),
    );
    add(
        "asr",
        ASR_FULL.encode(AsrRepr::header(13, 13), &mut buf).unwrap(),
    );
    add(
        "asa",
        ASA_FULL.encode(AsaRepr::header(13, 13), &mut buf).unwrap(),
    );
    out
}

#[test]
fn every_message_type_dissects_cleanly_in_tshark() {
    for tool in ["tshark", "text2pcap"] {
        let ok = Command::new(tool)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            ok,
            "{tool} not found: Wireshark's tshark is required by this test. Install it with \
             `bash ../shared/peers/install.sh` (from the workspace root; it needs root and apt)"
        );
    }
    let script = shared().join("peers/tshark-decode.sh");
    assert!(
        script.is_file(),
        "{} is missing: the shared/ folder must sit beside the workspace",
        script.display()
    );

    let msgs = every_message();
    let dir = TempDir::new();
    let files: Vec<PathBuf> = msgs
        .iter()
        .enumerate()
        .map(|(i, (name, bytes, ..))| {
            let p = dir.0.join(format!("{i:02}-{name}.hex"));
            std::fs::write(&p, hex(bytes)).unwrap();
            p
        })
        .collect();
    let out = Command::new("bash")
        .arg(&script)
        .args([
            "-e",
            "diameter.CC-Request-Type",
            "-e",
            "diameter.Accounting-Record-Type",
        ])
        .args(&files)
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "tshark-decode.sh exited with {}:\n{stderr}\n{stdout}",
        out.status
    );
    assert!(stderr.contains("decoded cleanly"), "{stderr}");

    // What tshark saw, frame by frame.
    let mut lines = stdout.lines();
    let header: Vec<&str> = lines.next().expect("fields header").split('\t').collect();
    let rows: Vec<HashMap<&str, &str>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| header.iter().copied().zip(l.split('\t')).collect())
        .collect();
    assert_eq!(rows.len(), msgs.len(), "{stdout}");
    for (row, (name, bytes, code, request)) in rows.iter().zip(&msgs) {
        let m = parse(bytes);
        assert_eq!(row["diameter.cmd.code"], code.to_string(), "{name}");
        let r = row["diameter.flags.request"];
        assert!(
            (r == "1" || r == "True" || r == "true") == *request,
            "{name}: R flag {r}"
        );
        assert_eq!(
            row["diameter.hopbyhopid"]
                .trim_start_matches("0x")
                .trim_start_matches('0'),
            format!("{:x}", m.hop_by_hop()),
            "{name}"
        );
        assert_eq!(Some(row["diameter.Session-Id"]), m.session_id(), "{name}");
        if let Ok(Some(rc)) = m.get(&base::RESULT_CODE) {
            // (occurrence=a: a Result-Code inside an MSCC follows the top one)
            let top = row["diameter.Result-Code"].split(',').next();
            assert_eq!(top, Some(rc.to_string().as_str()), "{name}");
        }
        if let Ok(Some(t)) = m.get(&dict::CC_REQUEST_TYPE) {
            let v: i32 = t.into();
            assert_eq!(row["diameter.CC-Request-Type"], v.to_string(), "{name}");
        }
        if let Ok(Some(t)) = m.get(&base::ACCOUNTING_RECORD_TYPE) {
            let v: i32 = t.into();
            assert_eq!(
                row["diameter.Accounting-Record-Type"],
                v.to_string(),
                "{name}"
            );
        }
    }
}
