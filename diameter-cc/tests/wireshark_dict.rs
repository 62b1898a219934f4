//! Oracle: every AVP we define (RFC 6733 base and this crate) must exist in
//! Wireshark's Diameter dictionary with the same code, vendor, a compatible
//! data type and the same name.
//!
//! Wireshark's XML files (`/usr/share/wireshark/diameter/*.xml`, installed
//! with tshark by `../shared/peers/install.sh`) are read at test time with
//! a small scanner: comments are dropped, `<vendor vendor-id=".." code="..">`
//! entries resolve vendor names to numbers, and each `<avp name code
//! vendor-id>` element gives its type from `<type type-name=".."/>` or
//! `<grouped>`.
//!
//! Differences are allowed only through [`ALLOWED`], each entry with the
//! section that justifies our definition; an entry that no longer matches
//! anything fails the test too, so the list stays short and true.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::ops::RangeInclusive;
use std::path::Path;

use diameter_cc::dict::{self, base};
use diameter_core::dict::AvpInfo;
use diameter_core::types::DataType;

const WIRESHARK_DIR: &str = "/usr/share/wireshark/diameter";

/// What may differ from Wireshark for an allowed AVP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Diff {
    /// Wireshark has no AVP with this code and vendor.
    Missing,
    /// Wireshark's type is not compatible with ours.
    Type,
    /// Wireshark's name differs from ours.
    Name,
}

/// One allowed difference: vendor, code range, what differs, and why we are
/// right.
struct Allowed {
    vendor: u32,
    codes: RangeInclusive<u32>,
    diffs: &'static [Diff],
    why: &'static str,
}

/// The allow-list.
const ALLOWED: &[Allowed] = &[
    // RFC 6733 base (diameter-core).
    Allowed {
        vendor: 0,
        codes: 50..=50,
        diffs: &[Diff::Name],
        why: "RFC 6733 §9.8.5 names AVP 50 Acct-Multi-Session-Id; Wireshark calls it \
              Accounting-Multi-Session-Id",
    },
    Allowed {
        vendor: 0,
        codes: 268..=268,
        diffs: &[Diff::Type],
        why: "RFC 6733 §7.1: Result-Code is Unsigned32; Wireshark declares it Enumerated to \
              name the values",
    },
    Allowed {
        vendor: 0,
        codes: 270..=270,
        diffs: &[Diff::Type],
        why: "RFC 6733 §8.17: Session-Binding is an Unsigned32 bit mask; Wireshark declares \
              it Enumerated",
    },
    Allowed {
        vendor: 0,
        codes: 291..=291,
        diffs: &[Diff::Type],
        why: "RFC 6733 §8.9: Authorization-Lifetime is Unsigned32; Wireshark keeps Integer32",
    },
    Allowed {
        vendor: 0,
        codes: 298..=298,
        diffs: &[Diff::Type],
        why: "RFC 6733 §7.7: Experimental-Result-Code is Unsigned32; Wireshark declares it \
              Enumerated to name the values",
    },
    Allowed {
        vendor: 0,
        codes: 299..=299,
        diffs: &[Diff::Type],
        why: "RFC 6733 §6.10: Inband-Security-Id is Unsigned32; Wireshark declares it \
              Enumerated to name the values",
    },
    // This crate.
    Allowed {
        vendor: 0,
        codes: 659..=669,
        diffs: &[Diff::Missing],
        why: "RFC 8506 §8.58-§8.68 (Subscription-Id-Extension and its five sub-AVPs, \
              Redirect-Server-Extension and its three, QoS-Final-Unit-Indication) were \
              assigned by RFC 8506 (2019); Wireshark 4.0 lists them only in a comment",
    },
    Allowed {
        vendor: 0,
        codes: 204..=207,
        diffs: &[Diff::Name, Diff::Type],
        why: "RFC 3575 §2.1 reserves RADIUS codes 192-223 for experimental use; Wireshark \
              fills them with OctetString placeholders (Experimental-Use-NNN). Sip-Method, \
              Sip-Response-Code, Sip-From-Tag and Sip-To-Tag are defined by OpenSIPS \
              (aaa_diameter), whose types we follow",
    },
    Allowed {
        vendor: 0,
        codes: 225..=230,
        diffs: &[Diff::Name, Diff::Type],
        why: "RFC 3575 §2.1 reserves RADIUS codes 224-240 for implementation-specific use; \
              Wireshark fills them with OctetString placeholders \
              (Implementation-Specific-NNN). SIP-AVP and Sip-Call-* are defined by OpenSIPS \
              (aaa_diameter), whose types we follow",
    },
    Allowed {
        vendor: 10415,
        codes: 861..=861,
        diffs: &[Diff::Type],
        why: "3GPP TS 32.299 §7.2 Cause-Code AVP is of type Integer32 (values <= 0 are \
              successes, SIP codes are reused); Wireshark declares it Enumerated to name \
              the values",
    },
];

/// One `<avp>` of Wireshark's dictionary.
#[derive(Debug, Clone)]
struct WsAvp {
    name: String,
    ty: String,
    file: String,
}

/// Wireshark's AVPs by (vendor, code).
struct WsDict {
    avps: BTreeMap<(u32, u32), Vec<WsAvp>>,
    vendors: BTreeMap<String, u32>,
}

/// Remove `<!-- ... -->` comments (an unterminated one runs to the end).
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("<!--") {
        out.push_str(&rest[..i]);
        match rest[i + 4..].find("-->") {
            Some(j) => rest = &rest[i + 4 + j + 3..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// `name="value"` pairs of one tag's text (between `<tag` and `>`).
fn attributes(tag: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = tag;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq]
            .trim()
            .rsplit(char::is_whitespace)
            .next()
            .unwrap_or("");
        let after = rest[eq + 1..].trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            rest = &rest[eq + 1..];
            continue;
        };
        let value_start = &after[1..];
        let Some(end) = value_start.find(quote) else {
            break;
        };
        out.insert(name.to_string(), value_start[..end].to_string());
        rest = &value_start[end + 1..];
    }
    out
}

/// Every element `<tag ...>` in `text`: its attributes and, unless it is
/// self-closing, its body up to `</tag>`.
fn elements<'t>(text: &'t str, tag: &str) -> Vec<(BTreeMap<String, String>, &'t str)> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        // `<avp` must not match `<avpx`.
        if !after.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') {
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else { break };
        let head = &after[..gt];
        let attrs = attributes(head.trim_end_matches('/'));
        let body_start = &after[gt + 1..];
        if head.ends_with('/') {
            out.push((attrs, ""));
            rest = body_start;
        } else {
            let end = body_start.find(&close).unwrap_or(body_start.len());
            out.push((attrs, &body_start[..end]));
            rest = &body_start[end..];
        }
    }
    out
}

/// Load and index every XML file of the Wireshark Diameter directory.
fn load() -> WsDict {
    let dir = Path::new(WIRESHARK_DIR);
    assert!(
        dir.is_dir(),
        "Wireshark's Diameter dictionary is missing ({WIRESHARK_DIR}). This oracle test needs \
         it: run `bash ../shared/peers/install.sh` (as root, from the workspace root) to \
         install tshark, then run the tests again."
    );
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no XML files in {WIRESHARK_DIR}: run `bash ../shared/peers/install.sh`"
    );
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let text = fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (name, strip_comments(&text))
        })
        .collect();

    let mut vendors = BTreeMap::new();
    for (_, text) in &texts {
        for (attrs, _) in elements(text, "vendor") {
            if let (Some(id), Some(code)) = (attrs.get("vendor-id"), attrs.get("code")) {
                vendors.insert(id.clone(), code.parse::<u32>().unwrap());
            }
        }
    }

    let mut avps: BTreeMap<(u32, u32), Vec<WsAvp>> = BTreeMap::new();
    let mut unresolved = BTreeSet::new();
    for (file, text) in &texts {
        for (attrs, body) in elements(text, "avp") {
            let (Some(name), Some(code)) = (attrs.get("name"), attrs.get("code")) else {
                panic!("{file}: <avp> without name or code: {attrs:?}");
            };
            let code: u32 = code
                .parse()
                .unwrap_or_else(|_| panic!("{file}: code {code}"));
            let vendor_name = attrs.get("vendor-id").map(String::as_str).unwrap_or("None");
            let Some(&vendor) = vendors.get(vendor_name) else {
                unresolved.insert(vendor_name.to_string());
                continue;
            };
            let ty = if body.contains("<grouped") {
                "Grouped".to_string()
            } else {
                elements(body, "type")
                    .first()
                    .and_then(|(a, _)| a.get("type-name").cloned())
                    .unwrap_or_default()
            };
            avps.entry((vendor, code)).or_default().push(WsAvp {
                name: name.clone(),
                ty,
                file: file.clone(),
            });
        }
    }
    // Vendor names we do not need may stay unresolved; ours must not.
    assert!(
        !unresolved.contains("None") && !unresolved.contains("TGPP"),
        "{unresolved:?}"
    );
    WsDict { avps, vendors }
}

/// Whether Wireshark's type name denotes our data type. Wireshark's derived
/// names (`dictionary.dtd` typedefns) map onto RFC 6733 §4.2/§4.3 types.
fn compatible(ours: DataType, ws: &str) -> bool {
    use DataType::*;
    match ws {
        "OctetString" | "MIPRegistrationRequest" => ours == OctetString,
        "OctetStringOrUTF8" => matches!(ours, OctetString | Utf8String),
        "UTF8String" => ours == Utf8String,
        "IPAddress" | "Address" => ours == Address,
        "DiameterIdentity" => ours == DiameterIdentity,
        "DiameterURI" => ours == DiameterUri,
        "IPFilterRule" => ours == IpFilterRule,
        "Integer32" => ours == Integer32,
        "Integer64" => ours == Integer64,
        "Unsigned32" | "AppId" | "VendorId" => ours == Unsigned32,
        "Unsigned64" => ours == Unsigned64,
        "Float32" => ours == Float32,
        "Float64" => ours == Float64,
        "Time" => ours == Time,
        "Enumerated" => ours == Enumerated,
        "Grouped" => ours == Grouped,
        _ => false,
    }
}

/// Names compared case-insensitively; Wireshark prefixes some 3GPP names
/// with `3GPP-` to tell them apart (`3GPP-SIP-Method`, `3GPP-Reporting-Reason`).
fn same_name(ours: &str, ws: &str) -> bool {
    let ws = ws.to_ascii_lowercase();
    let ours = ours.to_ascii_lowercase();
    ws == ours || ws.strip_prefix("3gpp-") == Some(ours.as_str())
}

fn allowed(a: &AvpInfo, diff: Diff, used: &mut BTreeSet<usize>) -> bool {
    for (i, e) in ALLOWED.iter().enumerate() {
        if e.vendor == a.vendor && e.codes.contains(&a.code) && e.diffs.contains(&diff) {
            used.insert(i);
            return true;
        }
    }
    false
}

#[test]
fn scanner_reads_wireshark() {
    let ws = load();
    assert_eq!(ws.vendors.get("None"), Some(&0));
    assert_eq!(ws.vendors.get("TGPP"), Some(&10415));
    assert!(ws.avps.len() > 1000, "only {} AVPs read", ws.avps.len());
    let oh = &ws.avps[&(0, 264)];
    assert!(oh
        .iter()
        .any(|a| a.name == "Origin-Host" && a.ty == "DiameterIdentity"));
    let si = &ws.avps[&(10415, 873)];
    assert!(si
        .iter()
        .any(|a| a.name == "Service-Information" && a.ty == "Grouped"));
    // Commented-out entries are not read.
    assert!(!ws.avps.contains_key(&(0, 660)));
}

#[test]
fn every_avp_we_define_is_in_wireshark() {
    let ws = load();
    let mut used = BTreeSet::new();
    let mut problems = Vec::new();
    let ours = base::AVPS.iter().chain(dict::AVPS.iter());
    let mut checked = 0;
    for a in ours {
        checked += 1;
        let Some(entries) = ws.avps.get(&(a.vendor, a.code)) else {
            if !allowed(a, Diff::Missing, &mut used) {
                problems.push(format!(
                    "{} ({}/{}): not in Wireshark",
                    a.name, a.code, a.vendor
                ));
            }
            continue;
        };
        let describe = || {
            entries
                .iter()
                .map(|e| format!("{} [{}] in {}", e.name, e.ty, e.file))
                .collect::<Vec<_>>()
                .join("; ")
        };
        if !entries.iter().any(|e| compatible(a.data_type, &e.ty))
            && !allowed(a, Diff::Type, &mut used)
        {
            problems.push(format!(
                "{} ({}/{}): our type {} vs Wireshark {}",
                a.name,
                a.code,
                a.vendor,
                a.data_type.name(),
                describe()
            ));
        }
        if !entries.iter().any(|e| same_name(a.name, &e.name)) && !allowed(a, Diff::Name, &mut used)
        {
            problems.push(format!(
                "{} ({}/{}): name differs from Wireshark {}",
                a.name,
                a.code,
                a.vendor,
                describe()
            ));
        }
    }
    assert_eq!(checked, base::AVPS.len() + dict::AVPS.len());
    for (i, e) in ALLOWED.iter().enumerate() {
        if !used.contains(&i) {
            problems.push(format!(
                "allow-list entry {}/{:?} {:?} is no longer needed ({})",
                e.vendor, e.codes, e.diffs, e.why
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
