//! The Credit-Control dictionary: RFC 8506 AVPs and commands, the 3GPP
//! TS 32.299 Ro subset and the SIP accounting AVPs, chained to the RFC 6733
//! base dictionary.
//!
//! - [`rfc8506`] (re-exported here): every Credit-Control AVP, their
//!   enumerations, [`CCR`] and [`CCA`].
//! - [`tgpp`]: Service-Information, IMS-Information and the AVPs inside
//!   them, plus the 3GPP quota AVPs of Multiple-Services-Credit-Control
//!   (vendor 10415).
//! - [`sip`]: the SIP accounting AVPs OpenSIPS sends (vendor 0).
//! - [`base`]: `diameter_core`'s RFC 6733 dictionary, re-exported; base
//!   AVPs are not redefined here.
//! - [`CreditControl`]: one [`Dictionary`] for all of the above. [`AVPS`]
//!   lists every AVP this crate defines, [`COMMANDS`] its commands.
//!
//! ```
//! use diameter_cc::dict::{self, tgpp, CreditControl};
//! use diameter_core::dict::Dictionary;
//! use diameter_core::CommandCode;
//!
//! let d = CreditControl;
//! assert_eq!(d.avp(416, 0).unwrap().name, "CC-Request-Type");
//! assert_eq!(d.avp(831, tgpp::VENDOR_3GPP).unwrap().name, "Calling-Party-Address");
//! assert_eq!(d.avp(264, 0).unwrap().name, "Origin-Host"); // from base
//! assert_eq!(d.command(CommandCode::CREDIT_CONTROL, true).unwrap().abbrev, "CCR");
//! assert_eq!(d.command(CommandCode::DEVICE_WATCHDOG, true).unwrap().abbrev, "DWR");
//! assert!(dict::AVPS.iter().any(|a| a.name == "Sip-Call-Duration"));
//! ```

use diameter_core::dict::{AvpInfo, CommandDef, Dictionary};
use diameter_core::{CommandCode, Error, Message, ParseConfig};

pub use diameter_core::dict::base;

pub mod rfc8506;
pub mod sip;
pub mod tgpp;

pub use rfc8506::*;

/// Generates [`AVPS`], the list behind the lookup tables of
/// [`CreditControl`]. Each entry names its vendor and code so that the
/// list reads like the RFC's tables; a wrong one fails to compile.
macro_rules! avp_table {
    ($($vendor:literal, $code:literal => $($path:ident)::+,)*) => {
        /// Every AVP this crate defines (RFC 8506, the 3GPP subset and the
        /// SIP accounting AVPs), without the base AVPs of
        /// [`base::AVPS`].
        pub static AVPS: &[&AvpInfo] = ALL;

        const ALL: &[&AvpInfo] = &[$(&$($path)::+.info,)*];

        const _: () = {
            $(assert!(
                $($path)::+.info.vendor == $vendor && $($path)::+.info.code == $code,
                "avp_table: vendor or code does not match the definition"
            );)*
        };
    };
}

avp_table! {
    // RFC 8506 §8, table order.
    0, 411 => rfc8506::CC_CORRELATION_ID,
    0, 412 => rfc8506::CC_INPUT_OCTETS,
    0, 413 => rfc8506::CC_MONEY,
    0, 414 => rfc8506::CC_OUTPUT_OCTETS,
    0, 415 => rfc8506::CC_REQUEST_NUMBER,
    0, 416 => rfc8506::CC_REQUEST_TYPE,
    0, 417 => rfc8506::CC_SERVICE_SPECIFIC_UNITS,
    0, 418 => rfc8506::CC_SESSION_FAILOVER,
    0, 419 => rfc8506::CC_SUB_SESSION_ID,
    0, 420 => rfc8506::CC_TIME,
    0, 421 => rfc8506::CC_TOTAL_OCTETS,
    0, 454 => rfc8506::CC_UNIT_TYPE,
    0, 422 => rfc8506::CHECK_BALANCE_RESULT,
    0, 423 => rfc8506::COST_INFORMATION,
    0, 424 => rfc8506::COST_UNIT,
    0, 426 => rfc8506::CREDIT_CONTROL,
    0, 427 => rfc8506::CREDIT_CONTROL_FAILURE_HANDLING,
    0, 425 => rfc8506::CURRENCY_CODE,
    0, 428 => rfc8506::DIRECT_DEBITING_FAILURE_HANDLING,
    0, 429 => rfc8506::EXPONENT,
    0, 449 => rfc8506::FINAL_UNIT_ACTION,
    0, 430 => rfc8506::FINAL_UNIT_INDICATION,
    0, 669 => rfc8506::QOS_FINAL_UNIT_INDICATION,
    0, 431 => rfc8506::GRANTED_SERVICE_UNIT,
    0, 453 => rfc8506::G_S_U_POOL_IDENTIFIER,
    0, 457 => rfc8506::G_S_U_POOL_REFERENCE,
    0, 456 => rfc8506::MULTIPLE_SERVICES_CREDIT_CONTROL,
    0, 455 => rfc8506::MULTIPLE_SERVICES_INDICATOR,
    0, 432 => rfc8506::RATING_GROUP,
    0, 433 => rfc8506::REDIRECT_ADDRESS_TYPE,
    0, 434 => rfc8506::REDIRECT_SERVER,
    0, 435 => rfc8506::REDIRECT_SERVER_ADDRESS,
    0, 665 => rfc8506::REDIRECT_SERVER_EXTENSION,
    0, 666 => rfc8506::REDIRECT_ADDRESS_IP_ADDRESS,
    0, 667 => rfc8506::REDIRECT_ADDRESS_URL,
    0, 668 => rfc8506::REDIRECT_ADDRESS_SIP_URI,
    0, 436 => rfc8506::REQUESTED_ACTION,
    0, 437 => rfc8506::REQUESTED_SERVICE_UNIT,
    0, 438 => rfc8506::RESTRICTION_FILTER_RULE,
    0, 461 => rfc8506::SERVICE_CONTEXT_ID,
    0, 439 => rfc8506::SERVICE_IDENTIFIER,
    0, 440 => rfc8506::SERVICE_PARAMETER_INFO,
    0, 441 => rfc8506::SERVICE_PARAMETER_TYPE,
    0, 442 => rfc8506::SERVICE_PARAMETER_VALUE,
    0, 443 => rfc8506::SUBSCRIPTION_ID,
    0, 444 => rfc8506::SUBSCRIPTION_ID_DATA,
    0, 450 => rfc8506::SUBSCRIPTION_ID_TYPE,
    0, 659 => rfc8506::SUBSCRIPTION_ID_EXTENSION,
    0, 660 => rfc8506::SUBSCRIPTION_ID_E164,
    0, 661 => rfc8506::SUBSCRIPTION_ID_IMSI,
    0, 662 => rfc8506::SUBSCRIPTION_ID_SIP_URI,
    0, 663 => rfc8506::SUBSCRIPTION_ID_NAI,
    0, 664 => rfc8506::SUBSCRIPTION_ID_PRIVATE,
    0, 452 => rfc8506::TARIFF_CHANGE_USAGE,
    0, 451 => rfc8506::TARIFF_TIME_CHANGE,
    0, 445 => rfc8506::UNIT_VALUE,
    0, 446 => rfc8506::USED_SERVICE_UNIT,
    0, 458 => rfc8506::USER_EQUIPMENT_INFO,
    0, 459 => rfc8506::USER_EQUIPMENT_INFO_TYPE,
    0, 460 => rfc8506::USER_EQUIPMENT_INFO_VALUE,
    0, 653 => rfc8506::USER_EQUIPMENT_INFO_EXTENSION,
    0, 654 => rfc8506::USER_EQUIPMENT_INFO_IMEISV,
    0, 655 => rfc8506::USER_EQUIPMENT_INFO_MAC,
    0, 656 => rfc8506::USER_EQUIPMENT_INFO_EUI64,
    0, 657 => rfc8506::USER_EQUIPMENT_INFO_MODIFIED_EUI64,
    0, 658 => rfc8506::USER_EQUIPMENT_INFO_IMEI,
    0, 447 => rfc8506::VALUE_DIGITS,
    0, 448 => rfc8506::VALIDITY_TIME,
    // Referred to by the Final-Unit-Indication grammars (RFC 7155, RFC 5777).
    0, 11 => rfc8506::FILTER_ID,
    0, 509 => rfc8506::FILTER_RULE,
    // 3GPP TS 32.299 (vendor 10415).
    10415, 873 => tgpp::SERVICE_INFORMATION,
    10415, 876 => tgpp::IMS_INFORMATION,
    10415, 823 => tgpp::EVENT_TYPE,
    10415, 824 => tgpp::SIP_METHOD,
    10415, 825 => tgpp::EVENT,
    10415, 888 => tgpp::EXPIRES,
    10415, 826 => tgpp::CONTENT_TYPE,
    10415, 827 => tgpp::CONTENT_LENGTH,
    10415, 828 => tgpp::CONTENT_DISPOSITION,
    10415, 889 => tgpp::MESSAGE_BODY,
    10415, 864 => tgpp::ORIGINATOR,
    10415, 829 => tgpp::ROLE_OF_NODE,
    10415, 862 => tgpp::NODE_FUNCTIONALITY,
    10415, 830 => tgpp::USER_SESSION_ID,
    10415, 2320 => tgpp::OUTGOING_SESSION_ID,
    10415, 831 => tgpp::CALLING_PARTY_ADDRESS,
    10415, 832 => tgpp::CALLED_PARTY_ADDRESS,
    10415, 1250 => tgpp::CALLED_ASSERTED_IDENTITY,
    10415, 1251 => tgpp::REQUESTED_PARTY_ADDRESS,
    10415, 856 => tgpp::ASSOCIATED_URI,
    10415, 833 => tgpp::TIME_STAMPS,
    10415, 834 => tgpp::SIP_REQUEST_TIMESTAMP,
    10415, 835 => tgpp::SIP_RESPONSE_TIMESTAMP,
    10415, 2301 => tgpp::SIP_REQUEST_TIMESTAMP_FRACTION,
    10415, 2302 => tgpp::SIP_RESPONSE_TIMESTAMP_FRACTION,
    10415, 838 => tgpp::INTER_OPERATOR_IDENTIFIER,
    10415, 839 => tgpp::ORIGINATING_IOI,
    10415, 840 => tgpp::TERMINATING_IOI,
    10415, 841 => tgpp::IMS_CHARGING_IDENTIFIER,
    10415, 861 => tgpp::CAUSE_CODE,
    10415, 868 => tgpp::TIME_QUOTA_THRESHOLD,
    10415, 869 => tgpp::VOLUME_QUOTA_THRESHOLD,
    10415, 1226 => tgpp::UNIT_QUOTA_THRESHOLD,
    10415, 871 => tgpp::QUOTA_HOLDING_TIME,
    10415, 881 => tgpp::QUOTA_CONSUMPTION_TIME,
    10415, 872 => tgpp::REPORTING_REASON,
    // SIP accounting (vendor 0).
    0, 6 => sip::SERVICE_TYPE,
    0, 40 => sip::ACCT_STATUS_TYPE,
    0, 204 => sip::SIP_METHOD,
    0, 205 => sip::SIP_RESPONSE_CODE,
    0, 206 => sip::SIP_FROM_TAG,
    0, 207 => sip::SIP_TO_TAG,
    0, 225 => sip::SIP_AVP,
    0, 227 => sip::SIP_CALL_DURATION,
    0, 228 => sip::SIP_CALL_SETUPTIME,
    0, 229 => sip::SIP_CALL_CREATED,
    0, 230 => sip::SIP_CALL_MS_DURATION,
}

/// The commands this crate defines: [`CCR`] and [`CCA`] (RFC 8506 §3).
pub static COMMANDS: &[&CommandDef] = &[&CCR, &CCA];

/// One dictionary for RFC 6733 base, RFC 8506 Credit-Control, the 3GPP
/// TS 32.299 subset of [`tgpp`] and the SIP accounting AVPs of [`sip`].
///
/// AVPs are looked up in two tables indexed by code (vendor 0 and 3GPP)
/// built at compile time from [`AVPS`] and [`base::AVPS`], falling back to
/// [`base::Base`]; commands give [`CCR`]/[`CCA`] for
/// Command-Code 272 and fall back to the base commands (so ACR/ACA, RAR,
/// ASR, ... work too).
///
/// ```
/// use diameter_cc::dict::{CreditControl, CCR};
/// use diameter_core::{ApplicationId, CommandCode, HeaderRepr, Message, MessageBuilder};
/// use diameter_core::dict::base;
/// use diameter_cc::dict::{self, CcRequestType};
///
/// let mut buf = [0u8; 512];
/// let hdr = HeaderRepr::request(CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1)
///     .proxiable(true);
/// let mut b = MessageBuilder::new(&mut buf, hdr);
/// b.put(&base::SESSION_ID, "client.example;1;1")
///     .put(&base::ORIGIN_HOST, "client.example")
///     .put(&base::ORIGIN_REALM, "example")
///     .put(&base::DESTINATION_REALM, "example")
///     .put(&base::AUTH_APPLICATION_ID, 4)
///     .put(&dict::SERVICE_CONTEXT_ID, "voice@example")
///     .put(&dict::CC_REQUEST_TYPE, CcRequestType::Initial)
///     .put(&dict::CC_REQUEST_NUMBER, 0)
///     .grouped(&dict::REQUESTED_SERVICE_UNIT, |g| {
///         g.put(&dict::CC_TIME, 300);
///     });
/// let bytes = b.finish().unwrap();
///
/// let msg = Message::parse_with(bytes, &CreditControl).unwrap();
/// msg.validate(&CreditControl).unwrap();
/// assert_eq!(msg.get(&dict::CC_REQUEST_TYPE).unwrap(), Some(CcRequestType::Initial));
/// let rsu = msg.get(&dict::REQUESTED_SERVICE_UNIT).unwrap().unwrap();
/// assert_eq!(rsu.get(&dict::CC_TIME).unwrap(), Some(300));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CreditControl;

/// Vendor-0 codes below this are looked up in [`IETF_INDEX`]: past the
/// highest vendor-0 code of this crate and of the base below 1024 (a
/// base AVP above goes to [`base::Base`]).
const DIRECT: usize = {
    let mut end = 0;
    let mut i = 0;
    while i < ALL.len() {
        if ALL[i].vendor == 0 && ALL[i].code as usize >= end {
            end = ALL[i].code as usize + 1;
        }
        i += 1;
    }
    let mut j = 0;
    while j < BASE.len() {
        if BASE[j].code < 1024 && BASE[j].code as usize >= end {
            end = BASE[j].code as usize + 1;
        }
        j += 1;
    }
    end
};

/// Vendor-0 AVPs of this crate and of the base, by code: `i + 1` for
/// `ALL[i]`, `ALL.len() + 1 + j` for `base::AVPS[j]`, 0 for none. Built at
/// compile time; a lookup is one load instead of a match over 166 codes
/// (measured: see BENCHMARKS.md).
const IETF_INDEX: [u8; DIRECT] = {
    let mut t = [0u8; DIRECT];
    let mut i = 0;
    while i < ALL.len() {
        let a = ALL[i];
        if a.vendor == 0 && (a.code as usize) < DIRECT {
            t[a.code as usize] = (i + 1) as u8;
        }
        i += 1;
    }
    let mut j = 0;
    while j < BASE.len() {
        let a = BASE[j];
        if (a.code as usize) < DIRECT && t[a.code as usize] == 0 {
            t[a.code as usize] = (ALL.len() + 1 + j) as u8;
        }
        j += 1;
    }
    assert!(ALL.len() + BASE.len() < 255, "IETF_INDEX stores u8 indexes");
    t
};

const BASE: &[&AvpInfo] = base::AVPS;

/// Entries of [`LOOKUP`]: 256 on a host, so that a `u8` index needs no
/// bounds check; on a microcontroller, where flash counts (48 KiB for the
/// codec and the machines, BENCHMARKS.md), only as many as there are AVPs.
const LOOKUP_LEN: usize = if cfg!(target_os = "none") {
    1 + ALL.len() + BASE.len()
} else {
    256
};

/// `None`, then [`ALL`], then [`BASE`], in one table, so that an index of
/// [`IETF_INDEX`] or [`TGPP_INDEX`] (a `u8`, 0 for an unknown code) is one
/// load whichever list it names, with no decrement (and, on a host, no
/// bounds check: BENCHMARKS.md, "Eighth look").
const LOOKUP: [Option<&AvpInfo>; LOOKUP_LEN] = {
    let mut t = [None; LOOKUP_LEN];
    let mut i = 0;
    while i < ALL.len() {
        t[1 + i] = Some(ALL[i]);
        i += 1;
    }
    let mut j = 0;
    while j < BASE.len() {
        t[1 + ALL.len() + j] = Some(BASE[j]);
        j += 1;
    }
    t
};

/// The three tables of a lookup in one static: a walk keeps one address
/// for all three in a register (out of LTO, an address of another crate's
/// static is a load from the GOT, once per table and AVP otherwise).
#[repr(C)]
struct Tables {
    ietf: [u8; DIRECT],
    tgpp: [u8; DIRECT_3GPP],
    lookup: [Option<&'static AvpInfo>; LOOKUP_LEN],
}

static TABLES: Tables = Tables {
    ietf: IETF_INDEX,
    tgpp: TGPP_INDEX,
    lookup: LOOKUP,
};

/// The entry of index `i` of [`IETF_INDEX`] or [`TGPP_INDEX`].
#[inline(always)]
fn lookup(i: u8) -> Option<&'static AvpInfo> {
    TABLES.lookup.get(usize::from(i)).copied().flatten()
}

/// The 3GPP (vendor 10415) codes of this crate, `[FIRST_3GPP,
/// FIRST_3GPP + DIRECT_3GPP)`, are looked up in [`TGPP_INDEX`].
const FIRST_3GPP: u32 = {
    let mut first = u32::MAX;
    let mut i = 0;
    while i < ALL.len() {
        if ALL[i].vendor == tgpp::VENDOR_3GPP && ALL[i].code < first {
            first = ALL[i].code;
        }
        i += 1;
    }
    first
};
const DIRECT_3GPP: usize = {
    let mut end = 0;
    let mut i = 0;
    while i < ALL.len() {
        if ALL[i].vendor == tgpp::VENDOR_3GPP && ALL[i].code >= end {
            end = ALL[i].code + 1;
        }
        i += 1;
    }
    (end - FIRST_3GPP) as usize
};

/// 3GPP AVPs of this crate by code minus [`FIRST_3GPP`]: `i + 1` for
/// `ALL[i]`, 0 for none (1.5 KB: the codes run from 823 to 2320).
const TGPP_INDEX: [u8; DIRECT_3GPP] = {
    let mut t = [0u8; DIRECT_3GPP];
    let mut i = 0;
    while i < ALL.len() {
        let a = ALL[i];
        if a.vendor == tgpp::VENDOR_3GPP {
            t[(a.code - FIRST_3GPP) as usize] = (i + 1) as u8;
        }
        i += 1;
    }
    t
};

// Every AVP of this crate is in one of the two tables: the lookup has no
// other way to find it.
const _: () = {
    let mut i = 0;
    while i < ALL.len() {
        let a = ALL[i];
        assert!(
            (a.vendor == 0 && (a.code as usize) < DIRECT) || a.vendor == tgpp::VENDOR_3GPP,
            "an AVP of this crate is neither vendor 0 below 1024 nor 3GPP: extend CreditControl::avp"
        );
        i += 1;
    }
};

impl Dictionary for CreditControl {
    #[inline(always)]
    fn avp(&self, code: u32, vendor: u32) -> Option<&'static AvpInfo> {
        if vendor == 0 && (code as usize) < DIRECT {
            return lookup(*TABLES.ietf.get(code as usize)?);
        }
        if vendor == tgpp::VENDOR_3GPP && (code.wrapping_sub(FIRST_3GPP) as usize) < DIRECT_3GPP {
            return lookup(*TABLES.tgpp.get(code.wrapping_sub(FIRST_3GPP) as usize)?);
        }
        // Every AVP of this crate is in the tables above.
        base::Base.avp(code, vendor)
    }

    fn command(&self, code: CommandCode, request: bool) -> Option<&'static CommandDef> {
        match (code, request) {
            #[cfg(all(feature = "server", not(target_os = "none")))]
            (CommandCode::CREDIT_CONTROL, true) => Some(&CCR_DEF),
            #[cfg(not(all(feature = "server", not(target_os = "none"))))]
            (CommandCode::CREDIT_CONTROL, true) => Some(&CCR),
            (CommandCode::CREDIT_CONTROL, false) => Some(&CCA),
            #[cfg(all(feature = "server", not(target_os = "none")))]
            (CommandCode::ACCOUNTING, true) => Some(&ACR_DEF),
            _ => base::Base.command(code, request),
        }
    }

    /// With the `server` feature (the requests a server receives), the CCR
    /// and the ACR this dictionary gives are validated by the readers of
    /// [`Ccr`](crate::msg::Ccr) and [`Acr`](crate::msg::Acr), which check
    /// the AVPs they list in one dispatch each
    /// ([`ReadAvps::listed`](diameter_core::read::ReadAvps::listed)); any
    /// other definition, and every one without `server` (a client's
    /// firmware need not link them), by the generic validator.
    #[inline]
    fn validate_command(
        &self,
        msg: &Message<'_>,
        def: &CommandDef,
        config: &ParseConfig,
    ) -> Result<(), Error> {
        #[cfg(all(feature = "server", not(target_os = "none")))]
        if core::ptr::eq(def, &CCR_DEF) {
            return crate::msg::ccr::validate(msg, config);
        }
        #[cfg(all(feature = "server", not(target_os = "none")))]
        if core::ptr::eq(def, &ACR_DEF) {
            return crate::msg::acr::validate(msg, config);
        }
        msg.validate_command(def, self, config)
    }
}

/// The CCR of [`CreditControl::command`], at one address: a definition
/// at this address is the one the CCR's reader was written for.
#[cfg(all(feature = "server", not(target_os = "none")))]
static CCR_DEF: CommandDef = CCR;
/// The ACR of [`CreditControl::command`] (see [`CCR_DEF`]).
#[cfg(all(feature = "server", not(target_os = "none")))]
static ACR_DEF: CommandDef = base::ACR;

#[cfg(test)]
mod tests;
