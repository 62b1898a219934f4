//! SIP accounting AVPs sent by OpenSIPS (`aaa_diameter` module) in its
//! accounting requests, all vendor 0 with the M flag.
//!
//! Two are RADIUS attributes reused by Diameter under the same code (RFC
//! 6733 §4.1: codes 1–255 are RADIUS's): [`SERVICE_TYPE`] (RFC 2865 §5.6)
//! and [`ACCT_STATUS_TYPE`] (RFC 2866 §5.1). The others use RADIUS codes
//! that RFC 3575 §2.1 reserves for experimental (192–223) and
//! implementation-specific (224–240) use; no RFC defines them. Their names,
//! types and values are those OpenSIPS registers with freeDiameter
//! (`modules/aaa_diameter/app_opensips/avps.c`); a charging server must
//! read them the same way.
//!
//! The RFC 6733 accounting AVPs these messages also carry
//! (Accounting-Record-Type, Acct-Session-Id, ...) are in
//! [`diameter_core::dict::base`].
//!
//! ```
//! use diameter_cc::dict::sip::{self, SipMethod};
//! use diameter_core::types::Enumeration;
//! assert_eq!(sip::SIP_CALL_DURATION.code(), 227);
//! assert_eq!(SipMethod::from_i32(8), SipMethod::Bye);
//! ```

use diameter_core::dict::{AvpDef, FlagRules};
use diameter_core::types::{Enumerated, Unsigned32, Utf8String};

diameter_core::enumeration! {
    /// Values of Service-Type (6), RFC 2865 §5.6, plus the SIP value
    /// OpenSIPS sends.
    pub enum ServiceType {
        /// Login (1).
        Login = 1 => "Login",
        /// Framed (2).
        Framed = 2 => "Framed",
        /// Callback Login (3).
        CallbackLogin = 3 => "Callback Login",
        /// Callback Framed (4).
        CallbackFramed = 4 => "Callback Framed",
        /// Outbound (5).
        Outbound = 5 => "Outbound",
        /// Administrative (6).
        Administrative = 6 => "Administrative",
        /// NAS Prompt (7).
        NasPrompt = 7 => "NAS Prompt",
        /// Authenticate Only (8).
        AuthenticateOnly = 8 => "Authenticate Only",
        /// Callback NAS Prompt (9).
        CallbackNasPrompt = 9 => "Callback NAS Prompt",
        /// Call Check (10).
        CallCheck = 10 => "Call Check",
        /// Callback Administrative (11).
        CallbackAdministrative = 11 => "Callback Administrative",
        /// Sip-Session (15): a SIP call, as OpenSIPS (and SER before it)
        /// names it. The IANA RADIUS registry assigns 15 to IAPP-Register;
        /// a peer outside the SIP world may mean that.
        SipSession = 15 => "Sip-Session",
    }
}

diameter_core::enumeration! {
    /// Values of Acct-Status-Type (40), RFC 2866 §5.1 (9–14 from RFC 2867
    /// §4.1).
    pub enum AcctStatusType {
        /// Start (1).
        Start = 1 => "Start",
        /// Stop (2).
        Stop = 2 => "Stop",
        /// Interim-Update (3).
        InterimUpdate = 3 => "Interim-Update",
        /// Accounting-On (7).
        AccountingOn = 7 => "Accounting-On",
        /// Accounting-Off (8).
        AccountingOff = 8 => "Accounting-Off",
        /// Tunnel-Start (9), RFC 2867 §4.1.
        TunnelStart = 9 => "Tunnel-Start",
        /// Tunnel-Stop (10), RFC 2867 §4.1.
        TunnelStop = 10 => "Tunnel-Stop",
        /// Tunnel-Reject (11), RFC 2867 §4.1.
        TunnelReject = 11 => "Tunnel-Reject",
        /// Tunnel-Link-Start (12), RFC 2867 §4.1.
        TunnelLinkStart = 12 => "Tunnel-Link-Start",
        /// Tunnel-Link-Stop (13), RFC 2867 §4.1.
        TunnelLinkStop = 13 => "Tunnel-Link-Stop",
        /// Tunnel-Link-Reject (14), RFC 2867 §4.1.
        TunnelLinkReject = 14 => "Tunnel-Link-Reject",
        /// Failed (15), reserved for it by RFC 2866 §5.1; OpenSIPS registers
        /// it for failed transactions.
        Failed = 15 => "Failed",
    }
}

diameter_core::enumeration! {
    /// Values of Sip-Method (204): OpenSIPS's `enum request_method`, one bit
    /// per method.
    ///
    /// OpenSIPS's dictionary names 15 `INFO`, but its parser gives INFO the
    /// value 16 (2^4), which is what travels; 16 is used here.
    pub enum SipMethod {
        /// Not a known method (0).
        Undefined = 0 => "UNDEFINED",
        /// INVITE (1).
        Invite = 1 => "INVITE",
        /// CANCEL (2).
        Cancel = 2 => "CANCEL",
        /// ACK (4).
        Ack = 4 => "ACK",
        /// BYE (8).
        Bye = 8 => "BYE",
        /// INFO (16).
        Info = 16 => "INFO",
        /// OPTIONS (32).
        Options = 32 => "OPTIONS",
        /// UPDATE (64).
        Update = 64 => "UPDATE",
        /// REGISTER (128).
        Register = 128 => "REGISTER",
        /// MESSAGE (256).
        Message = 256 => "MESSAGE",
        /// SUBSCRIBE (512).
        Subscribe = 512 => "SUBSCRIBE",
        /// NOTIFY (1024).
        Notify = 1024 => "NOTIFY",
        /// PRACK (2048).
        Prack = 2048 => "PRACK",
        /// REFER (4096).
        Refer = 4096 => "REFER",
        /// PUBLISH (8192).
        Publish = 8192 => "PUBLISH",
        /// Any other method (16384).
        Other = 16384 => "OTHER",
    }
}

/// Service-Type (6, Enumerated [`ServiceType`], M), RFC 2865 §5.6; 15
/// (Sip-Session) for SIP calls.
pub const SERVICE_TYPE: AvpDef<Enumerated<ServiceType>> =
    AvpDef::new(6, 0, "Service-Type", FlagRules::M);

/// Acct-Status-Type (40, Enumerated [`AcctStatusType`], M), RFC 2866 §5.1.
pub const ACCT_STATUS_TYPE: AvpDef<Enumerated<AcctStatusType>> =
    AvpDef::new(40, 0, "Acct-Status-Type", FlagRules::M);

/// Sip-Method (204, Enumerated [`SipMethod`], M), OpenSIPS; code in the
/// RFC 3575 §2.1 experimental range.
pub const SIP_METHOD: AvpDef<Enumerated<SipMethod>> =
    AvpDef::new(204, 0, "Sip-Method", FlagRules::M);

/// Sip-Response-Code (205, Unsigned32, M), OpenSIPS: the final SIP status
/// of the transaction; RFC 3575 §2.1 experimental range.
pub const SIP_RESPONSE_CODE: AvpDef<Unsigned32> =
    AvpDef::new(205, 0, "Sip-Response-Code", FlagRules::M);

/// Sip-From-Tag (206, UTF8String, M), OpenSIPS: the From header `tag`
/// parameter; RFC 3575 §2.1 experimental range.
pub const SIP_FROM_TAG: AvpDef<Utf8String> = AvpDef::new(206, 0, "Sip-From-Tag", FlagRules::M);

/// Sip-To-Tag (207, UTF8String, M), OpenSIPS: the To header `tag`
/// parameter; RFC 3575 §2.1 experimental range.
pub const SIP_TO_TAG: AvpDef<Utf8String> = AvpDef::new(207, 0, "Sip-To-Tag", FlagRules::M);

/// SIP-AVP (225, UTF8String, M), OpenSIPS: a `name:value` pair exported
/// to or from script variables; RFC 3575 §2.1 implementation-specific range.
pub const SIP_AVP: AvpDef<Utf8String> = AvpDef::new(225, 0, "SIP-AVP", FlagRules::M);

/// Sip-Call-Duration (227, Unsigned32, M), OpenSIPS: call duration in
/// seconds, rounded up; RFC 3575 §2.1 implementation-specific range.
pub const SIP_CALL_DURATION: AvpDef<Unsigned32> =
    AvpDef::new(227, 0, "Sip-Call-Duration", FlagRules::M);

/// Sip-Call-Setuptime (228, Unsigned32, M), OpenSIPS: seconds from INVITE
/// to 200 OK; RFC 3575 §2.1 implementation-specific range.
pub const SIP_CALL_SETUPTIME: AvpDef<Unsigned32> =
    AvpDef::new(228, 0, "Sip-Call-Setuptime", FlagRules::M);

/// Sip-Call-Created (229, Unsigned32, M), OpenSIPS: Unix time of the call
/// start (200 OK); not a Diameter Time. RFC 3575 §2.1
/// implementation-specific range.
pub const SIP_CALL_CREATED: AvpDef<Unsigned32> =
    AvpDef::new(229, 0, "Sip-Call-Created", FlagRules::M);

/// Sip-Call-MSDuration (230, Unsigned32, M), OpenSIPS: call duration in
/// milliseconds, rounded up; RFC 3575 §2.1 implementation-specific range.
pub const SIP_CALL_MS_DURATION: AvpDef<Unsigned32> =
    AvpDef::new(230, 0, "Sip-Call-MSDuration", FlagRules::M);
