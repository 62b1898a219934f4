//! Names for printing any message: commands, applications, vendors, AVPs
//! and values, from a [`Dictionary`] and a few IANA registries.
//!
//! | look-up | where |
//! | --- | --- |
//! | Command-Code (+ R bit) → name, abbreviation, grammar | [`Dictionary::command`], else [`command_name`] for codes no dictionary here defines |
//! | (AVP code, Vendor-Id) → name, data type, flag rules | [`Dictionary::avp`] ([`AvpInfo::name`], [`AvpInfo::data_type`]) |
//! | Enumerated value → name | [`AvpInfo::value_name`] (and [`AvpInfo::value_of`] back) |
//! | any value of an AVP → name | [`value_name`]: Enumerated names, Result-Codes, application ids, vendor ids |
//! | Application-Id → name | [`application_name`] |
//! | Vendor-Id → name | [`vendor_name`] |
//!
//! The base dictionary ([`super::base::Base`]) knows RFC 6733;
//! `diameter_cc::CreditControl` adds RFC 8506, the 3GPP Ro subset and the
//! SIP accounting AVPs, with the same look-ups. Everything is `'static`;
//! nothing allocates.
//!
//! ```
//! use diameter_core::dict::{base::Base, names, Dictionary};
//! use diameter_core::value::Value;
//! use diameter_core::{ApplicationId, CommandCode};
//!
//! assert_eq!(Base.command(CommandCode::DEVICE_WATCHDOG, true).unwrap().abbrev, "DWR");
//! assert_eq!(names::command_name(CommandCode(316)), Some("Update-Location"));
//! let info = Base.avp(295, 0).unwrap();
//! assert_eq!((info.name, info.data_type.name()), ("Termination-Cause", "Enumerated"));
//! assert_eq!(info.value_name(1), Some("DIAMETER_LOGOUT"));
//! let rc = Base.avp(268, 0).unwrap();
//! assert_eq!(names::value_name(rc, &Value::Unsigned32(2001)), Some("DIAMETER_SUCCESS"));
//! assert_eq!(names::application_name(ApplicationId(4)), Some("Diameter Credit Control"));
//! assert_eq!(names::vendor_name(10415), Some("3GPP"));
//! ```

use crate::dict::{AvpInfo, Dictionary};
use crate::header::{ApplicationId, CommandCode};
use crate::result_code::ResultCode;
use crate::value::Value;

/// The name of an application (the IANA "Application IDs" registry, the
/// ones a charging or 3GPP network commonly carries).
///
/// ```
/// use diameter_core::{dict::names, ApplicationId};
/// assert_eq!(names::application_name(ApplicationId::COMMON), Some("Diameter Common Messages"));
/// assert_eq!(names::application_name(ApplicationId(4242)), None);
/// ```
pub const fn application_name(id: ApplicationId) -> Option<&'static str> {
    Some(match id.0 {
        0 => "Diameter Common Messages",
        1 => "NASREQ",
        2 => "Mobile IPv4",
        3 => "Diameter Base Accounting",
        4 => "Diameter Credit Control",
        5 => "Diameter EAP",
        6 => "Diameter SIP",
        16_777_216 => "3GPP Cx",
        16_777_217 => "3GPP Sh",
        16_777_236 => "3GPP Rx",
        16_777_238 => "3GPP Gx",
        16_777_251 => "3GPP S6a/S6d",
        16_777_252 => "3GPP S13",
        16_777_255 => "3GPP SLg",
        16_777_291 => "3GPP SLh",
        0xffff_ffff => "Relay",
        _ => return None,
    })
}

/// The name of a vendor (the IANA "Private Enterprise Numbers" the
/// Diameter world meets most).
///
/// ```
/// use diameter_core::dict::names;
/// assert_eq!(names::vendor_name(0), Some("IETF"));
/// assert_eq!(names::vendor_name(99_999_999), None);
/// ```
pub const fn vendor_name(vendor: u32) -> Option<&'static str> {
    Some(match vendor {
        0 => "IETF",
        9 => "Cisco",
        193 => "Ericsson",
        5535 => "3GPP2",
        10415 => "3GPP",
        13019 => "ETSI",
        28458 => "Nokia",
        _ => return None,
    })
}

/// Command names of the IANA "Command Codes" registry, for codes no
/// dictionary of this workspace defines (those have a full
/// [`crate::dict::CommandDef`] through [`Dictionary::command`]).
static COMMANDS: &[(u32, &str)] = &[
    (257, "Capabilities-Exchange"),
    (258, "Re-Auth"),
    (260, "AA-Mobile-Node"),
    (262, "Home-Agent-MIP"),
    (265, "AA"),
    (268, "Diameter-EAP"),
    (271, "Accounting"),
    (272, "Credit-Control"),
    (274, "Abort-Session"),
    (275, "Session-Termination"),
    (280, "Device-Watchdog"),
    (282, "Disconnect-Peer"),
    (283, "User-Authorization"),
    (284, "Server-Assignment"),
    (285, "Location-Info"),
    (286, "Multimedia-Auth"),
    (287, "Registration-Termination"),
    (288, "Push-Profile"),
    (300, "User-Authorization"),
    (301, "Server-Assignment"),
    (302, "Location-Info"),
    (303, "Multimedia-Auth"),
    (304, "Registration-Termination"),
    (305, "Push-Profile"),
    (306, "User-Data"),
    (307, "Profile-Update"),
    (308, "Subscribe-Notifications"),
    (309, "Push-Notification"),
    (316, "Update-Location"),
    (317, "Cancel-Location"),
    (318, "Authentication-Information"),
    (319, "Insert-Subscriber-Data"),
    (320, "Delete-Subscriber-Data"),
    (321, "Purge-UE"),
    (322, "Reset"),
    (323, "Notify"),
    (324, "ME-Identity-Check"),
];

/// The name of a command (without "-Request"/"-Answer"), for any code in
/// the IANA registry's common part.
///
/// ```
/// use diameter_core::{dict::names, CommandCode};
/// assert_eq!(names::command_name(CommandCode::CREDIT_CONTROL), Some("Credit-Control"));
/// assert_eq!(names::command_name(CommandCode(9999)), None);
/// ```
pub fn command_name(code: CommandCode) -> Option<&'static str> {
    COMMANDS.iter().find(|(c, _)| *c == code.0).map(|(_, n)| *n)
}

/// The name of the command of a message in `dict`: the dictionary's
/// full name ("Credit-Control-Request") when it defines the command, else
/// [`command_name`]; `None` for a code nobody named.
///
/// ```
/// use diameter_core::dict::{base::Base, names};
/// use diameter_core::CommandCode;
/// assert_eq!(names::message_name(&Base, CommandCode(280), false), Some("Device-Watchdog-Answer"));
/// assert_eq!(names::message_name(&Base, CommandCode(316), true), Some("Update-Location"));
/// ```
pub fn message_name<D: Dictionary + ?Sized>(
    dict: &D,
    code: CommandCode,
    request: bool,
) -> Option<&'static str> {
    match dict.command(code, request) {
        Some(def) => Some(def.name),
        None => command_name(code),
    }
}

/// The name of an AVP's value where one is defined: the dictionary's
/// name of an Enumerated value, the RFC name of a Result-Code (268) or
/// Experimental-Result-Code (298), the application of an
/// Auth-/Acct-Application-Id (258, 259), the vendor of a Vendor-Id,
/// Supported-Vendor-Id (266, 265).
///
/// ```
/// use diameter_core::dict::{base::Base, names, Dictionary};
/// use diameter_core::value::Value;
/// let app = Base.avp(258, 0).unwrap();
/// assert_eq!(names::value_name(app, &Value::Unsigned32(3)), Some("Diameter Base Accounting"));
/// let dc = Base.avp(273, 0).unwrap();
/// assert_eq!(names::value_name(dc, &Value::Enumerated(0)), Some("REBOOTING"));
/// assert_eq!(names::value_name(dc, &Value::Enumerated(42)), None);
/// ```
pub fn value_name(info: &AvpInfo, value: &Value<'_>) -> Option<&'static str> {
    match (*value, info.vendor, info.code) {
        (Value::Enumerated(v), _, _) => info.value_name(v),
        (Value::Unsigned32(v), 0, 268 | 298) => ResultCode(v).rfc_name(),
        (Value::Unsigned32(v), 0, 258 | 259) => application_name(ApplicationId(v)),
        (Value::Unsigned32(v), 0, 265 | 266) => vendor_name(v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dict::base::{Base, AVPS, COMMANDS as BASE_COMMANDS};
    use crate::types::DataType;

    #[test]
    fn every_enumerated_base_avp_names_its_values() {
        for a in AVPS {
            if a.data_type == DataType::Enumerated {
                assert!(!a.values.is_empty(), "{}", a.name);
                for (i, v) in a.values.iter().enumerate() {
                    assert!(!v.name.is_empty());
                    assert_eq!(a.value_name(v.value), Some(v.name));
                    assert_eq!(a.value_of(v.name), Some(v.value));
                    assert!(a.values[..i].iter().all(|w| w.value != v.value));
                }
            } else {
                assert!(a.values.is_empty(), "{}", a.name);
            }
        }
    }

    #[test]
    fn base_commands_have_iana_names() {
        for c in BASE_COMMANDS {
            let generic = command_name(c.code).unwrap();
            assert!(c.name.starts_with(generic), "{}", c.name);
            assert_eq!(message_name(&Base, c.code, c.request), Some(c.name));
        }
    }

    #[test]
    fn unsigned_names() {
        let rc = Base.avp(268, 0).unwrap();
        assert_eq!(
            value_name(rc, &Value::Unsigned32(5030)),
            Some("DIAMETER_USER_UNKNOWN")
        );
        assert_eq!(value_name(rc, &Value::Unsigned32(2999)), None);
        let vid = Base.avp(266, 0).unwrap();
        assert_eq!(value_name(vid, &Value::Unsigned32(10415)), Some("3GPP"));
        // Another type than the dictionary's gets no name.
        assert_eq!(value_name(vid, &Value::Unsigned64(10415)), None);
    }
}
