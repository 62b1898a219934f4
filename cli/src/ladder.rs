//! The message ladder of `diameter call`: every message the SIP-proxy side
//! sends and receives, one line each (time, direction, command, the AVPs
//! that tell a charged call's story, Result-Code), as text or as one JSON
//! object per line. The line itself is [`diameter_cc::ladder::Ladder`];
//! this module adds the time and direction and keeps what the summary
//! needs.
//!
//! ```
//! use diameter_cli::ladder::Entry;
//! let dwr = diameter_core::doc_example();
//! let e = Entry::new(1.5, true, &dwr);
//! assert_eq!(e.text(), "   1.500s  -->  DWR");
//! assert_eq!(e.command, "DWR");
//! ```

use diameter_cc::dict as cc;
use diameter_cc::ladder::Ladder;
use diameter_cc::CreditControl;
use diameter_core::dict::{base, Dictionary};
use diameter_core::types::Grouped;
use diameter_core::{AvpDef, AvpSet, Message};
use serde_json::{json, Map, Value as Json};

/// One message of the ladder, with the values the summary reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Seconds on the call's clock (`--speed` applied) since the command
    /// started, in milliseconds.
    pub at_ms: u64,
    /// Sent by us (true) or received.
    pub out: bool,
    /// The command's short name (`CCR`, `ACA`...), `?` when unknown.
    pub command: String,
    /// A request (R flag).
    pub request: bool,
    /// The ladder line of [`diameter_cc::ladder::Ladder`].
    pub line: String,
    /// Session-Id.
    pub session_id: Option<String>,
    /// Result-Code.
    pub result_code: Option<u32>,
    /// CC-Request-Type (1 INITIAL .. 4 EVENT).
    pub cc_request_type: Option<u32>,
    /// CC-Request-Number.
    pub cc_request_number: Option<u32>,
    /// Accounting-Record-Type (1 EVENT .. 4 STOP).
    pub record_type: Option<u32>,
    /// Accounting-Record-Number.
    pub record_number: Option<u32>,
    /// Requested-Service-Unit CC-Time.
    pub requested: Option<u32>,
    /// Granted-Service-Unit CC-Time.
    pub granted: Option<u32>,
    /// Used-Service-Unit CC-Time.
    pub used: Option<u32>,
    /// Termination-Cause.
    pub termination_cause: Option<i32>,
    /// Hop-by-Hop identifier.
    pub hop_by_hop: u32,
    /// End-to-End identifier.
    pub end_to_end: u32,
}

fn cc_time(m: &Message<'_>, def: &AvpDef<Grouped>) -> Option<u32> {
    let g = m.get(def).ok().flatten()?;
    AvpSet::get(&g, &cc::CC_TIME).ok().flatten()
}

impl Entry {
    /// Read `bytes` (one message), seen at `at_secs` on the call's clock.
    pub fn new(at_secs: f64, out: bool, bytes: &[u8]) -> Entry {
        let line = Ladder(bytes).to_string().trim_end().to_string();
        let at_ms = (at_secs.max(0.0) * 1000.0).round() as u64;
        let Ok(m) = Message::parse_with(bytes, &CreditControl) else {
            return Entry {
                at_ms,
                out,
                command: "?".into(),
                request: false,
                line,
                session_id: None,
                result_code: None,
                cc_request_type: None,
                cc_request_number: None,
                record_type: None,
                record_number: None,
                requested: None,
                granted: None,
                used: None,
                termination_cause: None,
                hop_by_hop: 0,
                end_to_end: 0,
            };
        };
        let command = CreditControl
            .command(m.command_code(), m.is_request())
            .map_or("?", |c| c.abbrev)
            .to_string();
        let get_u32 = |def: &AvpDef<diameter_core::types::Unsigned32>| m.get(def).ok().flatten();
        Entry {
            at_ms,
            out,
            command,
            request: m.is_request(),
            line,
            session_id: m.session_id().map(str::to_string),
            result_code: get_u32(&base::RESULT_CODE),
            cc_request_type: m
                .get(&cc::CC_REQUEST_TYPE)
                .ok()
                .flatten()
                .map(|t| i32::from(t) as u32),
            cc_request_number: get_u32(&cc::CC_REQUEST_NUMBER),
            record_type: m
                .get(&base::ACCOUNTING_RECORD_TYPE)
                .ok()
                .flatten()
                .map(|t| i32::from(t) as u32),
            record_number: get_u32(&base::ACCOUNTING_RECORD_NUMBER),
            requested: cc_time(&m, &cc::REQUESTED_SERVICE_UNIT),
            granted: cc_time(&m, &cc::GRANTED_SERVICE_UNIT),
            used: cc_time(&m, &cc::USED_SERVICE_UNIT),
            termination_cause: m
                .get(&base::TERMINATION_CAUSE)
                .ok()
                .flatten()
                .map(i32::from),
            hop_by_hop: m.hop_by_hop(),
            end_to_end: m.end_to_end(),
        }
    }

    /// The text line: time, `-->` (sent) or `<--` (received), the ladder
    /// line.
    pub fn text(&self) -> String {
        let dir = if self.out { "-->" } else { "<--" };
        format!(
            "{:4}.{:03}s  {dir}  {}",
            self.at_ms / 1000,
            self.at_ms % 1000,
            self.line
        )
    }

    /// One JSON object: `{"event":"message","t":..,"dir":"out",...}`,
    /// absent values left out.
    pub fn json(&self) -> Json {
        let mut o = Map::new();
        o.insert("event".into(), json!("message"));
        o.insert("t".into(), json!(self.at_ms as f64 / 1000.0));
        o.insert("dir".into(), json!(if self.out { "out" } else { "in" }));
        o.insert("command".into(), json!(self.command));
        o.insert("request".into(), json!(self.request));
        o.insert("line".into(), json!(self.line));
        let mut opt = |k: &str, v: Option<Json>| {
            if let Some(v) = v {
                o.insert(k.into(), v);
            }
        };
        opt("session_id", self.session_id.as_ref().map(|s| json!(s)));
        opt("result_code", self.result_code.map(|v| json!(v)));
        opt("cc_request_type", self.cc_request_type.map(|v| json!(v)));
        opt(
            "cc_request_number",
            self.cc_request_number.map(|v| json!(v)),
        );
        opt("record_type", self.record_type.map(|v| json!(v)));
        opt("record_number", self.record_number.map(|v| json!(v)));
        opt("requested", self.requested.map(|v| json!(v)));
        opt("granted", self.granted.map(|v| json!(v)));
        opt("used", self.used.map(|v| json!(v)));
        opt(
            "termination_cause",
            self.termination_cause.map(|v| json!(v)),
        );
        o.insert("hop_by_hop".into(), json!(self.hop_by_hop));
        o.insert("end_to_end".into(), json!(self.end_to_end));
        Json::Object(o)
    }

    /// A credit-control answer (CCA) of this CC-Request-Type.
    pub fn is_cca(&self, request_type: u32) -> bool {
        !self.request && self.command == "CCA" && self.cc_request_type == Some(request_type)
    }
}
