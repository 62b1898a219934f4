//! One line per message, for message ladders in logs, examples and the
//! command line: the command's short name, then the AVPs that tell the
//! story of a charged call (CC-Request-Type/-Number,
//! Accounting-Record-Type/-Number, Result-Code, the CC-Time of the
//! Requested-, Granted- and Used-Service-Unit, Termination-Cause). No
//! allocation: [`Ladder`] implements [`core::fmt::Display`].
//!
//! ```
//! use diameter_cc::ladder::Ladder;
//! use diameter_cc::msg::{CcrRepr, ServiceUnit};
//! use diameter_cc::dict::CcRequestType;
//! let ccr = CcrRepr {
//!     requested_service_unit: Some(ServiceUnit::time(10800)),
//!     ..CcrRepr::new("s", "h", "r", "r", "voice@x", CcRequestType::Initial, 0)
//! };
//! let mut buf = [0u8; 256];
//! let bytes = ccr.encode(CcrRepr::header(1, 1), &mut buf).unwrap();
//! assert_eq!(Ladder(bytes).to_string(), "CCR  INITIAL/0 RSU{CC-Time 10800}");
//! ```

use core::fmt;

use diameter_core::dict::{base, Dictionary};
use diameter_core::types::Grouped;
use diameter_core::{AvpDef, AvpSet, Message};

use crate::dict::{self, CcRequestType};
use crate::CreditControl;

/// A message on the wire, shown as one ladder line.
#[derive(Debug, Clone, Copy)]
pub struct Ladder<'a>(pub &'a [u8]);

fn unit(
    f: &mut fmt::Formatter<'_>,
    m: &Message<'_>,
    def: &AvpDef<Grouped>,
    label: &str,
) -> fmt::Result {
    if let Ok(Some(g)) = m.get(def) {
        if let Ok(Some(t)) = AvpSet::get(&g, &dict::CC_TIME) {
            write!(f, " {label}{{CC-Time {t}}}")?;
        }
    }
    Ok(())
}

impl fmt::Display for Ladder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Ok(m) = Message::parse_with(self.0, &CreditControl) else {
            return f.write_str("(malformed)");
        };
        let name = CreditControl
            .command(m.command_code(), m.is_request())
            .map(|c| c.abbrev)
            .unwrap_or("?");
        write!(f, "{name:<4}")?;
        if m.flags().is_retransmit() {
            f.write_str(" (T)")?;
        }
        if let Ok(Some(t)) = m.get(&dict::CC_REQUEST_TYPE) {
            let t = match t {
                CcRequestType::Initial => "INITIAL",
                CcRequestType::Update => "UPDATE",
                CcRequestType::Termination => "TERMINATION",
                CcRequestType::Event => "EVENT",
                CcRequestType::Unknown(_) => "?",
            };
            let n = m.get(&dict::CC_REQUEST_NUMBER).ok().flatten().unwrap_or(0);
            write!(f, " {t}/{n}")?;
        }
        if let Ok(Some(t)) = m.get(&base::ACCOUNTING_RECORD_TYPE) {
            let t = match t {
                base::AccountingRecordType::EventRecord => "EVENT",
                base::AccountingRecordType::StartRecord => "START",
                base::AccountingRecordType::InterimRecord => "INTERIM",
                base::AccountingRecordType::StopRecord => "STOP",
                base::AccountingRecordType::Unknown(_) => "?",
            };
            let n = m
                .get(&base::ACCOUNTING_RECORD_NUMBER)
                .ok()
                .flatten()
                .unwrap_or(0);
            write!(f, " {t}/{n}")?;
        }
        if let Ok(Some(rc)) = m.get(&base::RESULT_CODE) {
            write!(f, " Result-Code {rc}")?;
        }
        unit(f, &m, &dict::REQUESTED_SERVICE_UNIT, "RSU")?;
        unit(f, &m, &dict::GRANTED_SERVICE_UNIT, "GSU")?;
        unit(f, &m, &dict::USED_SERVICE_UNIT, "USU")?;
        if let Ok(Some(c)) = m.get(&base::TERMINATION_CAUSE) {
            write!(f, " Termination-Cause {}", i32::from(c))?;
        }
        Ok(())
    }
}
