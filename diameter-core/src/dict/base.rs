//! The RFC 6733 base protocol dictionary.
//!
//! - Every AVP of the §4.5 table as an [`AvpDef`] constant, typed by its data
//!   format (so `msg.get(&ORIGIN_HOST)` yields a `&str` and
//!   `msg.get(&RESULT_CODE)` a `u32`), with the M/V flag rules of the table.
//!   The table has no P column; §4.1 says P SHOULD be 0, and these entries
//!   use the crate's convention of P "must not" ([`FlagRules::M`],
//!   [`FlagRules::NONE`]).
//! - The values of every Enumerated AVP as Rust enums ([`DisconnectCause`],
//!   [`TerminationCause`], ...), which keep unknown values.
//! - The fourteen base commands (CER/CEA, DPR/DPA, DWR/DWA §5; RAR/RAA,
//!   STR/STA, ASR/ASA §8; ACR/ACA §9.7) as [`CommandDef`]s carrying their CCF
//!   grammar, plus the generic error answer grammar of §7.2
//!   ([`ERROR_ANSWER`]).
//! - [`Base`], the [`Dictionary`] that looks all of it up, and the tables
//!   [`AVPS`] and [`COMMANDS`] for tools and tests.
//!
//! ```
//! use diameter_core::dict::{base, Dictionary};
//! use diameter_core::CommandCode;
//! let info = base::Base.avp(264, 0).unwrap();
//! assert_eq!(info.name, "Origin-Host");
//! let cer = base::Base.command(CommandCode::CAPABILITIES_EXCHANGE, true).unwrap();
//! assert_eq!(cer.abbrev, "CER");
//! assert_eq!(base::AVPS.len(), 49);
//! ```

use crate::dict::{AvpDef, AvpInfo, CommandDef, Dictionary, FlagRules, Grammar, Rule};
use crate::header::{ApplicationId, CommandCode};
use crate::types::{
    Address, DiameterIdentity, DiameterUri, Enumerated, Grouped, OctetString, Time, Unsigned32,
    Unsigned64, Utf8String,
};

// ---------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------

crate::enumeration! {
    /// Values of Disconnect-Cause (273), RFC 6733 §5.4.3.
    pub enum DisconnectCause {
        /// REBOOTING (0): a scheduled reboot is imminent; the receiver MAY
        /// reconnect.
        Rebooting = 0 => "REBOOTING",
        /// BUSY (1): the peer's resources are constrained; the receiver
        /// SHOULD NOT reconnect.
        Busy = 1 => "BUSY",
        /// DO_NOT_WANT_TO_TALK_TO_YOU (2): the peer expects no traffic in the
        /// near future; the receiver SHOULD NOT reconnect.
        DoNotWantToTalkToYou = 2 => "DO_NOT_WANT_TO_TALK_TO_YOU",
    }
}

crate::enumeration! {
    /// Values of Termination-Cause (295), RFC 6733 §8.15 (the IANA
    /// "Termination-Cause AVP Values" registry, first defined by RFC 3588).
    pub enum TerminationCause {
        /// DIAMETER_LOGOUT (1): the user initiated a disconnect.
        Logout = 1 => "DIAMETER_LOGOUT",
        /// DIAMETER_SERVICE_NOT_PROVIDED (2): the user disconnected before
        /// the authorization answer arrived.
        ServiceNotProvided = 2 => "DIAMETER_SERVICE_NOT_PROVIDED",
        /// DIAMETER_BAD_ANSWER (3): the authorization answer could not be
        /// processed.
        BadAnswer = 3 => "DIAMETER_BAD_ANSWER",
        /// DIAMETER_ADMINISTRATIVE (4): disconnected for administrative
        /// reasons.
        Administrative = 4 => "DIAMETER_ADMINISTRATIVE",
        /// DIAMETER_LINK_BROKEN (5): the communication with the user was
        /// interrupted.
        LinkBroken = 5 => "DIAMETER_LINK_BROKEN",
        /// DIAMETER_AUTH_EXPIRED (6): the user's access was terminated as
        /// the authorization expired.
        AuthExpired = 6 => "DIAMETER_AUTH_EXPIRED",
        /// DIAMETER_USER_MOVED (7): the user moved to a new session.
        UserMoved = 7 => "DIAMETER_USER_MOVED",
        /// DIAMETER_SESSION_TIMEOUT (8): the session timed out.
        SessionTimeout = 8 => "DIAMETER_SESSION_TIMEOUT",
    }
}

crate::enumeration! {
    /// Values of Accounting-Record-Type (480), RFC 6733 §9.8.1.
    pub enum AccountingRecordType {
        /// EVENT_RECORD (1): a one-time event; the only record of the service.
        EventRecord = 1 => "EVENT_RECORD",
        /// START_RECORD (2): starts an accounting session.
        StartRecord = 2 => "START_RECORD",
        /// INTERIM_RECORD (3): cumulative information for an ongoing session.
        InterimRecord = 3 => "INTERIM_RECORD",
        /// STOP_RECORD (4): ends an accounting session.
        StopRecord = 4 => "STOP_RECORD",
    }
}

crate::enumeration! {
    /// Values of Auth-Session-State (277), RFC 6733 §8.11.
    pub enum AuthSessionState {
        /// STATE_MAINTAINED (0): the access device MUST send a session
        /// termination message when service ends. The default.
        StateMaintained = 0 => "STATE_MAINTAINED",
        /// NO_STATE_MAINTAINED (1): no session termination messages will be
        /// sent.
        NoStateMaintained = 1 => "NO_STATE_MAINTAINED",
    }
}

crate::enumeration! {
    /// Values of Re-Auth-Request-Type (285), RFC 6733 §8.12.
    pub enum ReAuthRequestType {
        /// AUTHORIZE_ONLY (0): an authorization-only re-auth is expected when
        /// Authorization-Lifetime expires. The default.
        AuthorizeOnly = 0 => "AUTHORIZE_ONLY",
        /// AUTHORIZE_AUTHENTICATE (1): an authentication and authorization
        /// re-auth is expected.
        AuthorizeAuthenticate = 1 => "AUTHORIZE_AUTHENTICATE",
    }
}

crate::enumeration! {
    /// Values of Auth-Request-Type (274), RFC 6733 §8.7.
    pub enum AuthRequestType {
        /// AUTHENTICATE_ONLY (1): authentication only.
        AuthenticateOnly = 1 => "AUTHENTICATE_ONLY",
        /// AUTHORIZE_ONLY (2): authorization only.
        AuthorizeOnly = 2 => "AUTHORIZE_ONLY",
        /// AUTHORIZE_AUTHENTICATE (3): both authentication and authorization.
        AuthorizeAuthenticate = 3 => "AUTHORIZE_AUTHENTICATE",
    }
}

crate::enumeration! {
    /// Values of Redirect-Host-Usage (261), RFC 6733 §6.13.
    pub enum RedirectHostUsage {
        /// DONT_CACHE (0): do not cache the redirect host. The default.
        DontCache = 0 => "DONT_CACHE",
        /// ALL_SESSION (1): all messages of the same session.
        AllSession = 1 => "ALL_SESSION",
        /// ALL_REALM (2): all messages for the requested realm.
        AllRealm = 2 => "ALL_REALM",
        /// REALM_AND_APPLICATION (3): all messages for the application to
        /// the realm.
        RealmAndApplication = 3 => "REALM_AND_APPLICATION",
        /// ALL_APPLICATION (4): all messages for the application.
        AllApplication = 4 => "ALL_APPLICATION",
        /// ALL_HOST (5): all messages that would go to the redirecting host.
        AllHost = 5 => "ALL_HOST",
        /// ALL_USER (6): all messages for the user.
        AllUser = 6 => "ALL_USER",
    }
}

crate::enumeration! {
    /// Values of Session-Server-Failover (271), RFC 6733 §8.18.
    pub enum SessionServerFailover {
        /// REFUSE_SERVICE (0): on a failed re-auth or STR delivery, end the
        /// service. The default.
        RefuseService = 0 => "REFUSE_SERVICE",
        /// TRY_AGAIN (1): resend without Destination-Host.
        TryAgain = 1 => "TRY_AGAIN",
        /// ALLOW_SERVICE (2): assume a failed re-auth succeeded; a failed
        /// STR ends the session.
        AllowService = 2 => "ALLOW_SERVICE",
        /// TRY_AGAIN_ALLOW_SERVICE (3): resend without Destination-Host, then
        /// behave as ALLOW_SERVICE.
        TryAgainAllowService = 3 => "TRY_AGAIN_ALLOW_SERVICE",
    }
}

crate::enumeration! {
    /// Values of Accounting-Realtime-Required (483), RFC 6733 §9.8.7.
    pub enum AccountingRealtimeRequired {
        /// DELIVER_AND_GRANT (1): service only while an accounting server is
        /// reachable.
        DeliverAndGrant = 1 => "DELIVER_AND_GRANT",
        /// GRANT_AND_STORE (2): service while records can be delivered or
        /// stored. The default.
        GrantAndStore = 2 => "GRANT_AND_STORE",
        /// GRANT_AND_LOSE (3): service even if records are lost.
        GrantAndLose = 3 => "GRANT_AND_LOSE",
    }
}

/// Values of Inband-Security-Id (299), an Unsigned32, RFC 6733 §6.10.
///
/// The AVP is deprecated (§11.3.13) and NOT RECOMMENDED in CER/CEA.
pub mod inband_security {
    /// NO_INBAND_SECURITY (0): no TLS/TCP or DTLS/SCTP. The default.
    pub const NO_INBAND_SECURITY: u32 = 0;
    /// TLS (1): TLS/TCP and DTLS/SCTP supported.
    pub const TLS: u32 = 1;
}

/// Bits of Session-Binding (270), an Unsigned32 bit mask, RFC 6733 §8.17.
pub mod session_binding {
    /// RE_AUTH (1): future re-auth messages MUST NOT carry Destination-Host.
    pub const RE_AUTH: u32 = 1;
    /// STR (2): the STR MUST NOT carry Destination-Host.
    pub const STR: u32 = 2;
    /// ACCOUNTING (4): accounting messages MUST NOT carry Destination-Host.
    pub const ACCOUNTING: u32 = 4;
}

// ---------------------------------------------------------------------------
// AVPs (RFC 6733 §4.5 table, in table order)
// ---------------------------------------------------------------------------

/// Acct-Interim-Interval (85), Unsigned32, RFC 6733 §9.8.2: nominal seconds
/// between INTERIM_RECORDs.
pub const ACCT_INTERIM_INTERVAL: AvpDef<Unsigned32> =
    AvpDef::new(85, 0, "Acct-Interim-Interval", FlagRules::M);

/// Accounting-Realtime-Required (483), Enumerated, RFC 6733 §9.8.7.
pub const ACCOUNTING_REALTIME_REQUIRED: AvpDef<Enumerated<AccountingRealtimeRequired>> =
    AvpDef::new(483, 0, "Accounting-Realtime-Required", FlagRules::M);

/// Acct-Multi-Session-Id (50), UTF8String, RFC 6733 §9.8.5: links related
/// accounting sessions.
pub const ACCT_MULTI_SESSION_ID: AvpDef<Utf8String> =
    AvpDef::new(50, 0, "Acct-Multi-Session-Id", FlagRules::M);

/// Accounting-Record-Number (485), Unsigned32, RFC 6733 §9.8.3: the record's
/// number within its session.
pub const ACCOUNTING_RECORD_NUMBER: AvpDef<Unsigned32> =
    AvpDef::new(485, 0, "Accounting-Record-Number", FlagRules::M);

/// Accounting-Record-Type (480), Enumerated, RFC 6733 §9.8.1.
pub const ACCOUNTING_RECORD_TYPE: AvpDef<Enumerated<AccountingRecordType>> =
    AvpDef::new(480, 0, "Accounting-Record-Type", FlagRules::M);

/// Acct-Session-Id (44), OctetString, RFC 6733 §9.8.4: the RADIUS
/// Acct-Session-Id, for RADIUS/Diameter translation.
pub const ACCT_SESSION_ID: AvpDef<OctetString> =
    AvpDef::new(44, 0, "Acct-Session-Id", FlagRules::M);

/// Accounting-Sub-Session-Id (287), Unsigned64, RFC 6733 §9.8.6.
pub const ACCOUNTING_SUB_SESSION_ID: AvpDef<Unsigned64> =
    AvpDef::new(287, 0, "Accounting-Sub-Session-Id", FlagRules::M);

/// Acct-Application-Id (259), Unsigned32, RFC 6733 §6.9.
pub const ACCT_APPLICATION_ID: AvpDef<Unsigned32> =
    AvpDef::new(259, 0, "Acct-Application-Id", FlagRules::M);

/// Auth-Application-Id (258), Unsigned32, RFC 6733 §6.8.
pub const AUTH_APPLICATION_ID: AvpDef<Unsigned32> =
    AvpDef::new(258, 0, "Auth-Application-Id", FlagRules::M);

/// Auth-Request-Type (274), Enumerated, RFC 6733 §8.7.
pub const AUTH_REQUEST_TYPE: AvpDef<Enumerated<AuthRequestType>> =
    AvpDef::new(274, 0, "Auth-Request-Type", FlagRules::M);

/// Authorization-Lifetime (291), Unsigned32, RFC 6733 §8.9: seconds of
/// service before re-auth (all ones: no re-auth expected).
pub const AUTHORIZATION_LIFETIME: AvpDef<Unsigned32> =
    AvpDef::new(291, 0, "Authorization-Lifetime", FlagRules::M);

/// Auth-Grace-Period (276), Unsigned32, RFC 6733 §8.10.
pub const AUTH_GRACE_PERIOD: AvpDef<Unsigned32> =
    AvpDef::new(276, 0, "Auth-Grace-Period", FlagRules::M);

/// Auth-Session-State (277), Enumerated, RFC 6733 §8.11.
pub const AUTH_SESSION_STATE: AvpDef<Enumerated<AuthSessionState>> =
    AvpDef::new(277, 0, "Auth-Session-State", FlagRules::M);

/// Re-Auth-Request-Type (285), Enumerated, RFC 6733 §8.12.
pub const RE_AUTH_REQUEST_TYPE: AvpDef<Enumerated<ReAuthRequestType>> =
    AvpDef::new(285, 0, "Re-Auth-Request-Type", FlagRules::M);

/// Class (25), OctetString, RFC 6733 §8.20: server state returned to the
/// access device.
pub const CLASS: AvpDef<OctetString> = AvpDef::new(25, 0, "Class", FlagRules::M);

/// Destination-Host (293), DiameterIdentity, RFC 6733 §6.5.
pub const DESTINATION_HOST: AvpDef<DiameterIdentity> =
    AvpDef::new(293, 0, "Destination-Host", FlagRules::M);

/// Destination-Realm (283), DiameterIdentity, RFC 6733 §6.6.
pub const DESTINATION_REALM: AvpDef<DiameterIdentity> =
    AvpDef::new(283, 0, "Destination-Realm", FlagRules::M);

/// Disconnect-Cause (273), Enumerated, RFC 6733 §5.4.3.
pub const DISCONNECT_CAUSE: AvpDef<Enumerated<DisconnectCause>> =
    AvpDef::new(273, 0, "Disconnect-Cause", FlagRules::M);

/// Error-Message (281), UTF8String, RFC 6733 §7.3: human-readable text.
/// M and V MUST NOT be set.
pub const ERROR_MESSAGE: AvpDef<Utf8String> = AvpDef::new(281, 0, "Error-Message", FlagRules::NONE);

/// Error-Reporting-Host (294), DiameterIdentity, RFC 6733 §7.4. M and V MUST
/// NOT be set.
pub const ERROR_REPORTING_HOST: AvpDef<DiameterIdentity> =
    AvpDef::new(294, 0, "Error-Reporting-Host", FlagRules::NONE);

/// Event-Timestamp (55), Time, RFC 6733 §8.21.
pub const EVENT_TIMESTAMP: AvpDef<Time> = AvpDef::new(55, 0, "Event-Timestamp", FlagRules::M);

/// Experimental-Result (297), Grouped, RFC 6733 §7.6:
/// `{ Vendor-Id } { Experimental-Result-Code }`.
pub const EXPERIMENTAL_RESULT: AvpDef<Grouped> =
    AvpDef::new(297, 0, "Experimental-Result", FlagRules::M).with_grammar(Grammar::closed(&[
        Rule::required(&VENDOR_ID),
        Rule::required(&EXPERIMENTAL_RESULT_CODE),
    ]));

/// Experimental-Result-Code (298), Unsigned32, RFC 6733 §7.7.
pub const EXPERIMENTAL_RESULT_CODE: AvpDef<Unsigned32> =
    AvpDef::new(298, 0, "Experimental-Result-Code", FlagRules::M);

/// Failed-AVP (279), Grouped, RFC 6733 §7.5: `1* { AVP }`, the offending
/// AVPs.
///
/// Modelled as an open grammar without rules: the "at least one AVP" of the
/// CCF is not checked.
pub const FAILED_AVP: AvpDef<Grouped> =
    AvpDef::new(279, 0, "Failed-AVP", FlagRules::M).with_grammar(Grammar::open(&[]));

/// Firmware-Revision (267), Unsigned32, RFC 6733 §5.3.4. M and V MUST NOT be
/// set.
pub const FIRMWARE_REVISION: AvpDef<Unsigned32> =
    AvpDef::new(267, 0, "Firmware-Revision", FlagRules::NONE);

/// Host-IP-Address (257), Address, RFC 6733 §5.3.5.
pub const HOST_IP_ADDRESS: AvpDef<Address> = AvpDef::new(257, 0, "Host-IP-Address", FlagRules::M);

/// Inband-Security-Id (299), Unsigned32, RFC 6733 §6.10; values in
/// [`inband_security`]. Deprecated (§11.3.13).
pub const INBAND_SECURITY_ID: AvpDef<Unsigned32> =
    AvpDef::new(299, 0, "Inband-Security-Id", FlagRules::M);

/// Multi-Round-Time-Out (272), Unsigned32, RFC 6733 §8.19.
pub const MULTI_ROUND_TIME_OUT: AvpDef<Unsigned32> =
    AvpDef::new(272, 0, "Multi-Round-Time-Out", FlagRules::M);

/// Origin-Host (264), DiameterIdentity, RFC 6733 §6.3: the originator of the
/// message; present in every message.
pub const ORIGIN_HOST: AvpDef<DiameterIdentity> = AvpDef::new(264, 0, "Origin-Host", FlagRules::M);

/// Origin-Realm (296), DiameterIdentity, RFC 6733 §6.4.
pub const ORIGIN_REALM: AvpDef<DiameterIdentity> =
    AvpDef::new(296, 0, "Origin-Realm", FlagRules::M);

/// Origin-State-Id (278), Unsigned32, RFC 6733 §8.16: increases on every
/// restart with loss of state.
pub const ORIGIN_STATE_ID: AvpDef<Unsigned32> =
    AvpDef::new(278, 0, "Origin-State-Id", FlagRules::M);

/// Product-Name (269), UTF8String, RFC 6733 §5.3.7. M and V MUST NOT be set.
pub const PRODUCT_NAME: AvpDef<Utf8String> = AvpDef::new(269, 0, "Product-Name", FlagRules::NONE);

/// Proxy-Host (280), DiameterIdentity, RFC 6733 §6.7.3.
pub const PROXY_HOST: AvpDef<DiameterIdentity> = AvpDef::new(280, 0, "Proxy-Host", FlagRules::M);

/// Proxy-Info (284), Grouped, RFC 6733 §6.7.2:
/// `{ Proxy-Host } { Proxy-State } * [ AVP ]`.
pub const PROXY_INFO: AvpDef<Grouped> = AvpDef::new(284, 0, "Proxy-Info", FlagRules::M)
    .with_grammar(Grammar::open(&[
        Rule::required(&PROXY_HOST),
        Rule::required(&PROXY_STATE),
    ]));

/// Proxy-State (33), OctetString, RFC 6733 §6.7.4: opaque state of the proxy.
pub const PROXY_STATE: AvpDef<OctetString> = AvpDef::new(33, 0, "Proxy-State", FlagRules::M);

/// Redirect-Host (292), DiameterURI, RFC 6733 §6.12.
pub const REDIRECT_HOST: AvpDef<DiameterUri> = AvpDef::new(292, 0, "Redirect-Host", FlagRules::M);

/// Redirect-Host-Usage (261), Enumerated, RFC 6733 §6.13.
pub const REDIRECT_HOST_USAGE: AvpDef<Enumerated<RedirectHostUsage>> =
    AvpDef::new(261, 0, "Redirect-Host-Usage", FlagRules::M);

/// Redirect-Max-Cache-Time (262), Unsigned32, RFC 6733 §6.14.
pub const REDIRECT_MAX_CACHE_TIME: AvpDef<Unsigned32> =
    AvpDef::new(262, 0, "Redirect-Max-Cache-Time", FlagRules::M);

/// Result-Code (268), Unsigned32, RFC 6733 §7.1; see
/// [`crate::ResultCode`].
pub const RESULT_CODE: AvpDef<Unsigned32> = AvpDef::new(268, 0, "Result-Code", FlagRules::M);

/// Route-Record (282), DiameterIdentity, RFC 6733 §6.7.1.
pub const ROUTE_RECORD: AvpDef<DiameterIdentity> =
    AvpDef::new(282, 0, "Route-Record", FlagRules::M);

/// Session-Id (263), UTF8String, RFC 6733 §8.8: globally unique session
/// identifier, right after the header when present.
pub const SESSION_ID: AvpDef<Utf8String> = AvpDef::new(263, 0, "Session-Id", FlagRules::M);

/// Session-Timeout (27), Unsigned32, RFC 6733 §8.13.
pub const SESSION_TIMEOUT: AvpDef<Unsigned32> = AvpDef::new(27, 0, "Session-Timeout", FlagRules::M);

/// Session-Binding (270), Unsigned32 bit mask, RFC 6733 §8.17; bits in
/// [`session_binding`].
pub const SESSION_BINDING: AvpDef<Unsigned32> =
    AvpDef::new(270, 0, "Session-Binding", FlagRules::M);

/// Session-Server-Failover (271), Enumerated, RFC 6733 §8.18.
pub const SESSION_SERVER_FAILOVER: AvpDef<Enumerated<SessionServerFailover>> =
    AvpDef::new(271, 0, "Session-Server-Failover", FlagRules::M);

/// Supported-Vendor-Id (265), Unsigned32, RFC 6733 §5.3.6.
pub const SUPPORTED_VENDOR_ID: AvpDef<Unsigned32> =
    AvpDef::new(265, 0, "Supported-Vendor-Id", FlagRules::M);

/// Termination-Cause (295), Enumerated, RFC 6733 §8.15.
pub const TERMINATION_CAUSE: AvpDef<Enumerated<TerminationCause>> =
    AvpDef::new(295, 0, "Termination-Cause", FlagRules::M);

/// User-Name (1), UTF8String, RFC 6733 §8.14: the user's NAI.
pub const USER_NAME: AvpDef<Utf8String> = AvpDef::new(1, 0, "User-Name", FlagRules::M);

/// Vendor-Id (266), Unsigned32, RFC 6733 §5.3.3: IANA enterprise code.
pub const VENDOR_ID: AvpDef<Unsigned32> = AvpDef::new(266, 0, "Vendor-Id", FlagRules::M);

/// Vendor-Specific-Application-Id (260), Grouped, RFC 6733 §6.11:
/// `{ Vendor-Id } [ Auth-Application-Id ] [ Acct-Application-Id ]`.
///
/// The RFC also requires exactly one of the two application ids; that
/// cross-AVP rule is not expressible as a grammar and is left to the
/// application.
pub const VENDOR_SPECIFIC_APPLICATION_ID: AvpDef<Grouped> =
    AvpDef::new(260, 0, "Vendor-Specific-Application-Id", FlagRules::M).with_grammar(
        Grammar::closed(&[
            Rule::required(&VENDOR_ID),
            Rule::optional(&AUTH_APPLICATION_ID),
            Rule::optional(&ACCT_APPLICATION_ID),
        ]),
    );

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

const UNBOUNDED: u16 = Rule::UNBOUNDED;

/// Capabilities-Exchange-Request (257, REQ), RFC 6733 §5.3.1.
pub const CER: CommandDef = CommandDef {
    name: "Capabilities-Exchange-Request",
    abbrev: "CER",
    code: CommandCode::CAPABILITIES_EXCHANGE,
    application: Some(ApplicationId::COMMON),
    request: true,
    proxiable: false,
    grammar: Grammar::open(&[
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::repeated(&HOST_IP_ADDRESS, 1, UNBOUNDED),
        Rule::required(&VENDOR_ID),
        Rule::required(&PRODUCT_NAME),
        Rule::optional(&ORIGIN_STATE_ID),
        Rule::repeated(&SUPPORTED_VENDOR_ID, 0, UNBOUNDED),
        Rule::repeated(&AUTH_APPLICATION_ID, 0, UNBOUNDED),
        Rule::repeated(&INBAND_SECURITY_ID, 0, UNBOUNDED),
        Rule::repeated(&ACCT_APPLICATION_ID, 0, UNBOUNDED),
        Rule::repeated(&VENDOR_SPECIFIC_APPLICATION_ID, 0, UNBOUNDED),
        Rule::optional(&FIRMWARE_REVISION),
    ]),
};

/// Capabilities-Exchange-Answer (257), RFC 6733 §5.3.2.
pub const CEA: CommandDef = CommandDef {
    name: "Capabilities-Exchange-Answer",
    abbrev: "CEA",
    code: CommandCode::CAPABILITIES_EXCHANGE,
    application: Some(ApplicationId::COMMON),
    request: false,
    proxiable: false,
    grammar: Grammar::open(&[
        Rule::required(&RESULT_CODE),
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::repeated(&HOST_IP_ADDRESS, 1, UNBOUNDED),
        Rule::required(&VENDOR_ID),
        Rule::required(&PRODUCT_NAME),
        Rule::optional(&ORIGIN_STATE_ID),
        Rule::optional(&ERROR_MESSAGE),
        Rule::optional(&FAILED_AVP),
        Rule::repeated(&SUPPORTED_VENDOR_ID, 0, UNBOUNDED),
        Rule::repeated(&AUTH_APPLICATION_ID, 0, UNBOUNDED),
        Rule::repeated(&INBAND_SECURITY_ID, 0, UNBOUNDED),
        Rule::repeated(&ACCT_APPLICATION_ID, 0, UNBOUNDED),
        Rule::repeated(&VENDOR_SPECIFIC_APPLICATION_ID, 0, UNBOUNDED),
        Rule::optional(&FIRMWARE_REVISION),
    ]),
};

/// Disconnect-Peer-Request (282, REQ), RFC 6733 §5.4.1.
pub const DPR: CommandDef = CommandDef {
    name: "Disconnect-Peer-Request",
    abbrev: "DPR",
    code: CommandCode::DISCONNECT_PEER,
    application: Some(ApplicationId::COMMON),
    request: true,
    proxiable: false,
    grammar: Grammar::open(&[
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::required(&DISCONNECT_CAUSE),
    ]),
};

/// Disconnect-Peer-Answer (282), RFC 6733 §5.4.2.
pub const DPA: CommandDef = CommandDef {
    name: "Disconnect-Peer-Answer",
    abbrev: "DPA",
    code: CommandCode::DISCONNECT_PEER,
    application: Some(ApplicationId::COMMON),
    request: false,
    proxiable: false,
    grammar: Grammar::open(&[
        Rule::required(&RESULT_CODE),
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::optional(&ERROR_MESSAGE),
        Rule::optional(&FAILED_AVP),
    ]),
};

/// Device-Watchdog-Request (280, REQ), RFC 6733 §5.5.1.
pub const DWR: CommandDef = CommandDef {
    name: "Device-Watchdog-Request",
    abbrev: "DWR",
    code: CommandCode::DEVICE_WATCHDOG,
    application: Some(ApplicationId::COMMON),
    request: true,
    proxiable: false,
    grammar: Grammar::open(&[
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::optional(&ORIGIN_STATE_ID),
    ]),
};

/// Device-Watchdog-Answer (280), RFC 6733 §5.5.2.
pub const DWA: CommandDef = CommandDef {
    name: "Device-Watchdog-Answer",
    abbrev: "DWA",
    code: CommandCode::DEVICE_WATCHDOG,
    application: Some(ApplicationId::COMMON),
    request: false,
    proxiable: false,
    grammar: Grammar::open(&[
        Rule::required(&RESULT_CODE),
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::optional(&ERROR_MESSAGE),
        Rule::optional(&FAILED_AVP),
        Rule::optional(&ORIGIN_STATE_ID),
    ]),
};

/// Re-Auth-Request (258, REQ, PXY), RFC 6733 §8.3.1. Sent in the session's
/// application, so no fixed Application-Id.
pub const RAR: CommandDef = CommandDef {
    name: "Re-Auth-Request",
    abbrev: "RAR",
    code: CommandCode::RE_AUTH,
    application: None,
    request: true,
    proxiable: true,
    grammar: Grammar::open(&[
        Rule::fixed(&SESSION_ID),
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::required(&DESTINATION_REALM),
        Rule::required(&DESTINATION_HOST),
        Rule::required(&AUTH_APPLICATION_ID),
        Rule::required(&RE_AUTH_REQUEST_TYPE),
        Rule::optional(&USER_NAME),
        Rule::optional(&ORIGIN_STATE_ID),
        Rule::repeated(&PROXY_INFO, 0, UNBOUNDED),
        Rule::repeated(&ROUTE_RECORD, 0, UNBOUNDED),
    ]),
};

/// Re-Auth-Answer (258, PXY), RFC 6733 §8.3.2.
pub const RAA: CommandDef = CommandDef {
    name: "Re-Auth-Answer",
    abbrev: "RAA",
    code: CommandCode::RE_AUTH,
    application: None,
    request: false,
    proxiable: true,
    grammar: Grammar::open(&[
        Rule::fixed(&SESSION_ID),
        Rule::required(&RESULT_CODE),
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::optional(&USER_NAME),
        Rule::optional(&ORIGIN_STATE_ID),
        Rule::optional(&ERROR_MESSAGE),
        Rule::optional(&ERROR_REPORTING_HOST),
        Rule::optional(&FAILED_AVP),
        Rule::repeated(&REDIRECT_HOST, 0, UNBOUNDED),
        Rule::optional(&REDIRECT_HOST_USAGE),
        Rule::optional(&REDIRECT_MAX_CACHE_TIME),
        Rule::repeated(&PROXY_INFO, 0, UNBOUNDED),
    ]),
};

/// Session-Termination-Request (275, REQ, PXY), RFC 6733 §8.4.1.
pub const STR: CommandDef = CommandDef {
    name: "Session-Termination-Request",
    abbrev: "STR",
    code: CommandCode::SESSION_TERMINATION,
    application: None,
    request: true,
    proxiable: true,
    grammar: Grammar::open(&[
        Rule::fixed(&SESSION_ID),
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::required(&DESTINATION_REALM),
        Rule::required(&AUTH_APPLICATION_ID),
        Rule::required(&TERMINATION_CAUSE),
        Rule::optional(&USER_NAME),
        Rule::optional(&DESTINATION_HOST),
        Rule::repeated(&CLASS, 0, UNBOUNDED),
        Rule::optional(&ORIGIN_STATE_ID),
        Rule::repeated(&PROXY_INFO, 0, UNBOUNDED),
        Rule::repeated(&ROUTE_RECORD, 0, UNBOUNDED),
    ]),
};

/// Session-Termination-Answer (275, PXY), RFC 6733 §8.4.2.
pub const STA: CommandDef = CommandDef {
    name: "Session-Termination-Answer",
    abbrev: "STA",
    code: CommandCode::SESSION_TERMINATION,
    application: None,
    request: false,
    proxiable: true,
    grammar: Grammar::open(&[
        Rule::fixed(&SESSION_ID),
        Rule::required(&RESULT_CODE),
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::optional(&USER_NAME),
        Rule::repeated(&CLASS, 0, UNBOUNDED),
        Rule::optional(&ERROR_MESSAGE),
        Rule::optional(&ERROR_REPORTING_HOST),
        Rule::optional(&FAILED_AVP),
        Rule::optional(&ORIGIN_STATE_ID),
        Rule::repeated(&REDIRECT_HOST, 0, UNBOUNDED),
        Rule::optional(&REDIRECT_HOST_USAGE),
        Rule::optional(&REDIRECT_MAX_CACHE_TIME),
        Rule::repeated(&PROXY_INFO, 0, UNBOUNDED),
    ]),
};

/// Abort-Session-Request (274, REQ, PXY), RFC 6733 §8.5.1.
pub const ASR: CommandDef = CommandDef {
    name: "Abort-Session-Request",
    abbrev: "ASR",
    code: CommandCode::ABORT_SESSION,
    application: None,
    request: true,
    proxiable: true,
    grammar: Grammar::open(&[
        Rule::fixed(&SESSION_ID),
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::required(&DESTINATION_REALM),
        Rule::required(&DESTINATION_HOST),
        Rule::required(&AUTH_APPLICATION_ID),
        Rule::optional(&USER_NAME),
        Rule::optional(&ORIGIN_STATE_ID),
        Rule::repeated(&PROXY_INFO, 0, UNBOUNDED),
        Rule::repeated(&ROUTE_RECORD, 0, UNBOUNDED),
    ]),
};

/// Abort-Session-Answer (274, PXY), RFC 6733 §8.5.2.
pub const ASA: CommandDef = CommandDef {
    name: "Abort-Session-Answer",
    abbrev: "ASA",
    code: CommandCode::ABORT_SESSION,
    application: None,
    request: false,
    proxiable: true,
    grammar: Grammar::open(&[
        Rule::fixed(&SESSION_ID),
        Rule::required(&RESULT_CODE),
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::optional(&USER_NAME),
        Rule::optional(&ORIGIN_STATE_ID),
        Rule::optional(&ERROR_MESSAGE),
        Rule::optional(&ERROR_REPORTING_HOST),
        Rule::optional(&FAILED_AVP),
        Rule::repeated(&REDIRECT_HOST, 0, UNBOUNDED),
        Rule::optional(&REDIRECT_HOST_USAGE),
        Rule::optional(&REDIRECT_MAX_CACHE_TIME),
        Rule::repeated(&PROXY_INFO, 0, UNBOUNDED),
    ]),
};

/// Accounting-Request (271, REQ, PXY), RFC 6733 §9.7.1, in the base
/// accounting application (split accounting, §9.3). Applications with
/// coupled accounting send it under their own Application-Id.
pub const ACR: CommandDef = CommandDef {
    name: "Accounting-Request",
    abbrev: "ACR",
    code: CommandCode::ACCOUNTING,
    application: Some(ApplicationId::BASE_ACCOUNTING),
    request: true,
    proxiable: true,
    grammar: Grammar::open(&[
        Rule::fixed(&SESSION_ID),
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::required(&DESTINATION_REALM),
        Rule::required(&ACCOUNTING_RECORD_TYPE),
        Rule::required(&ACCOUNTING_RECORD_NUMBER),
        Rule::optional(&ACCT_APPLICATION_ID),
        Rule::optional(&VENDOR_SPECIFIC_APPLICATION_ID),
        Rule::optional(&USER_NAME),
        Rule::optional(&DESTINATION_HOST),
        Rule::optional(&ACCOUNTING_SUB_SESSION_ID),
        Rule::optional(&ACCT_SESSION_ID),
        Rule::optional(&ACCT_MULTI_SESSION_ID),
        Rule::optional(&ACCT_INTERIM_INTERVAL),
        Rule::optional(&ACCOUNTING_REALTIME_REQUIRED),
        Rule::optional(&ORIGIN_STATE_ID),
        Rule::optional(&EVENT_TIMESTAMP),
        Rule::repeated(&PROXY_INFO, 0, UNBOUNDED),
        Rule::repeated(&ROUTE_RECORD, 0, UNBOUNDED),
    ]),
};

/// Accounting-Answer (271, PXY), RFC 6733 §9.7.2.
pub const ACA: CommandDef = CommandDef {
    name: "Accounting-Answer",
    abbrev: "ACA",
    code: CommandCode::ACCOUNTING,
    application: Some(ApplicationId::BASE_ACCOUNTING),
    request: false,
    proxiable: true,
    grammar: Grammar::open(&[
        Rule::fixed(&SESSION_ID),
        Rule::required(&RESULT_CODE),
        Rule::required(&ORIGIN_HOST),
        Rule::required(&ORIGIN_REALM),
        Rule::required(&ACCOUNTING_RECORD_TYPE),
        Rule::required(&ACCOUNTING_RECORD_NUMBER),
        Rule::optional(&ACCT_APPLICATION_ID),
        Rule::optional(&VENDOR_SPECIFIC_APPLICATION_ID),
        Rule::optional(&USER_NAME),
        Rule::optional(&ACCOUNTING_SUB_SESSION_ID),
        Rule::optional(&ACCT_SESSION_ID),
        Rule::optional(&ACCT_MULTI_SESSION_ID),
        Rule::optional(&ERROR_MESSAGE),
        Rule::optional(&ERROR_REPORTING_HOST),
        Rule::optional(&FAILED_AVP),
        Rule::optional(&ACCT_INTERIM_INTERVAL),
        Rule::optional(&ACCOUNTING_REALTIME_REQUIRED),
        Rule::optional(&ORIGIN_STATE_ID),
        Rule::optional(&EVENT_TIMESTAMP),
        Rule::repeated(&PROXY_INFO, 0, UNBOUNDED),
    ]),
};

/// The grammar every answer with the E bit set follows instead of its
/// command's (RFC 6733 §7.2, `<answer-message>`):
///
/// ```text
/// 0*1< Session-Id > { Origin-Host } { Origin-Realm } { Result-Code }
///    [ Origin-State-Id ] [ Error-Message ] [ Error-Reporting-Host ]
///    [ Failed-AVP ] [ Experimental-Result ] * [ Proxy-Info ] * [ AVP ]
/// ```
///
/// Session-Id is a fixed rule with `min` 0: when present it must come first.
pub const ERROR_ANSWER: Grammar = Grammar::open(&[
    Rule {
        min: 0,
        ..Rule::fixed(&SESSION_ID)
    },
    Rule::required(&ORIGIN_HOST),
    Rule::required(&ORIGIN_REALM),
    Rule::required(&RESULT_CODE),
    Rule::optional(&ORIGIN_STATE_ID),
    Rule::optional(&ERROR_MESSAGE),
    Rule::optional(&ERROR_REPORTING_HOST),
    Rule::optional(&FAILED_AVP),
    Rule::optional(&EXPERIMENTAL_RESULT),
    Rule::repeated(&PROXY_INFO, 0, UNBOUNDED),
]);

// ---------------------------------------------------------------------------
// Tables and the dictionary
// ---------------------------------------------------------------------------

/// Generates [`AVPS`] and the lookup behind [`Base`] from one list, so the
/// two cannot drift apart.
macro_rules! avp_table {
    ($($code:literal => $name:ident,)*) => {
        /// Every AVP of the RFC 6733 §4.5 table, in table order.
        pub static AVPS: &[&AvpInfo] = &[$(&$name.info,)*];

        /// The IETF (vendor 0) base AVP with this code.
        #[inline]
        const fn lookup_avp(code: u32) -> Option<&'static AvpInfo> {
            match code {
                $($code => Some(&$name.info),)*
                _ => None,
            }
        }
    };
}

avp_table! {
    85 => ACCT_INTERIM_INTERVAL,
    483 => ACCOUNTING_REALTIME_REQUIRED,
    50 => ACCT_MULTI_SESSION_ID,
    485 => ACCOUNTING_RECORD_NUMBER,
    480 => ACCOUNTING_RECORD_TYPE,
    44 => ACCT_SESSION_ID,
    287 => ACCOUNTING_SUB_SESSION_ID,
    259 => ACCT_APPLICATION_ID,
    258 => AUTH_APPLICATION_ID,
    274 => AUTH_REQUEST_TYPE,
    291 => AUTHORIZATION_LIFETIME,
    276 => AUTH_GRACE_PERIOD,
    277 => AUTH_SESSION_STATE,
    285 => RE_AUTH_REQUEST_TYPE,
    25 => CLASS,
    293 => DESTINATION_HOST,
    283 => DESTINATION_REALM,
    273 => DISCONNECT_CAUSE,
    281 => ERROR_MESSAGE,
    294 => ERROR_REPORTING_HOST,
    55 => EVENT_TIMESTAMP,
    297 => EXPERIMENTAL_RESULT,
    298 => EXPERIMENTAL_RESULT_CODE,
    279 => FAILED_AVP,
    267 => FIRMWARE_REVISION,
    257 => HOST_IP_ADDRESS,
    299 => INBAND_SECURITY_ID,
    272 => MULTI_ROUND_TIME_OUT,
    264 => ORIGIN_HOST,
    296 => ORIGIN_REALM,
    278 => ORIGIN_STATE_ID,
    269 => PRODUCT_NAME,
    280 => PROXY_HOST,
    284 => PROXY_INFO,
    33 => PROXY_STATE,
    292 => REDIRECT_HOST,
    261 => REDIRECT_HOST_USAGE,
    262 => REDIRECT_MAX_CACHE_TIME,
    268 => RESULT_CODE,
    282 => ROUTE_RECORD,
    263 => SESSION_ID,
    27 => SESSION_TIMEOUT,
    270 => SESSION_BINDING,
    271 => SESSION_SERVER_FAILOVER,
    265 => SUPPORTED_VENDOR_ID,
    295 => TERMINATION_CAUSE,
    1 => USER_NAME,
    266 => VENDOR_ID,
    260 => VENDOR_SPECIFIC_APPLICATION_ID,
}

/// Every base command, requests and answers (RFC 6733 §5, §8, §9.7).
pub static COMMANDS: &[&CommandDef] = &[
    &CER, &CEA, &DPR, &DPA, &DWR, &DWA, &RAR, &RAA, &STR, &STA, &ASR, &ASA, &ACR, &ACA,
];

/// The RFC 6733 base dictionary: the AVPs of §4.5 and the base commands.
///
/// Application dictionaries chain to it by falling back:
///
/// ```
/// use diameter_core::dict::{base::Base, AvpDef, AvpInfo, CommandDef, Dictionary, FlagRules};
/// use diameter_core::types::Unsigned32;
/// use diameter_core::CommandCode;
///
/// /// A vendor AVP.
/// const MY_AVP: AvpDef<Unsigned32> = AvpDef::new(1000, 99999, "My-AVP", FlagRules::V);
///
/// struct MyApp;
/// impl Dictionary for MyApp {
///     fn avp(&self, code: u32, vendor: u32) -> Option<&'static AvpInfo> {
///         match (vendor, code) {
///             (99999, 1000) => Some(&MY_AVP.info),
///             _ => Base.avp(code, vendor),
///         }
///     }
///     fn command(&self, code: CommandCode, request: bool) -> Option<&'static CommandDef> {
///         Base.command(code, request)
///     }
/// }
/// assert_eq!(MyApp.avp(1000, 99999).unwrap().name, "My-AVP");
/// assert_eq!(MyApp.avp(263, 0).unwrap().name, "Session-Id");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Base;

impl Dictionary for Base {
    #[inline]
    fn avp(&self, code: u32, vendor: u32) -> Option<&'static AvpInfo> {
        match vendor {
            0 => lookup_avp(code),
            _ => None,
        }
    }

    fn command(&self, code: CommandCode, request: bool) -> Option<&'static CommandDef> {
        match (code, request) {
            (CommandCode::CAPABILITIES_EXCHANGE, true) => Some(&CER),
            (CommandCode::CAPABILITIES_EXCHANGE, false) => Some(&CEA),
            (CommandCode::DISCONNECT_PEER, true) => Some(&DPR),
            (CommandCode::DISCONNECT_PEER, false) => Some(&DPA),
            (CommandCode::DEVICE_WATCHDOG, true) => Some(&DWR),
            (CommandCode::DEVICE_WATCHDOG, false) => Some(&DWA),
            (CommandCode::RE_AUTH, true) => Some(&RAR),
            (CommandCode::RE_AUTH, false) => Some(&RAA),
            (CommandCode::SESSION_TERMINATION, true) => Some(&STR),
            (CommandCode::SESSION_TERMINATION, false) => Some(&STA),
            (CommandCode::ABORT_SESSION, true) => Some(&ASR),
            (CommandCode::ABORT_SESSION, false) => Some(&ASA),
            (CommandCode::ACCOUNTING, true) => Some(&ACR),
            (CommandCode::ACCOUNTING, false) => Some(&ACA),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dict::{FlagRule, RuleKind};
    use crate::types::{DataType, Enumeration};
    use std::vec::Vec;

    /// Every grammar in this module, with a name for messages.
    fn grammars() -> Vec<(&'static str, Grammar)> {
        let mut v: Vec<(&'static str, Grammar)> =
            COMMANDS.iter().map(|c| (c.abbrev, c.grammar)).collect();
        v.extend(AVPS.iter().map(|a| (a.name, a.grammar)));
        v.push(("answer-message", ERROR_ANSWER));
        v
    }

    #[test]
    fn every_avp_is_found_and_unique() {
        assert_eq!(AVPS.len(), 49);
        for (i, a) in AVPS.iter().enumerate() {
            let found = Base.avp(a.code, a.vendor).expect(a.name);
            assert!(core::ptr::eq(found, *a) || found == *a, "{}", a.name);
            assert_eq!(a.vendor, 0, "{}", a.name);
            for b in &AVPS[..i] {
                assert!(
                    a.code != b.code || a.vendor != b.vendor,
                    "{} / {}",
                    a.name,
                    b.name
                );
                assert_ne!(a.name, b.name);
            }
        }
        assert!(Base.avp(263, 10415).is_none());
        assert!(Base.avp(0, 0).is_none());
        assert!(Base.avp(9999, 0).is_none());
    }

    #[test]
    fn grouped_avps_have_grammars_others_none() {
        for a in AVPS {
            if a.data_type == DataType::Grouped {
                assert!(a.grammar != Grammar::EMPTY || a.code == 279, "{}", a.name);
            } else {
                assert_eq!(a.grammar, Grammar::EMPTY, "{}", a.name);
            }
        }
        assert_eq!(FAILED_AVP.info.grammar.rules.len(), 0);
        let open = |a: &AvpInfo| a.grammar.extensible;
        assert!(open(&FAILED_AVP.info));
        assert!(!open(&VENDOR_SPECIFIC_APPLICATION_ID.info));
        assert!(!open(&EXPERIMENTAL_RESULT.info));
        assert!(open(&PROXY_INFO.info));
    }

    #[test]
    fn grammars_are_well_formed() {
        for (name, g) in grammars() {
            assert!(g.rules.len() <= Grammar::MAX_RULES, "{name}");
            let first_non_fixed = g
                .rules
                .iter()
                .position(|r| r.kind != RuleKind::Fixed)
                .unwrap_or(g.rules.len());
            for (i, r) in g.rules.iter().enumerate() {
                let info = Base
                    .avp(r.code, r.vendor)
                    .unwrap_or_else(|| panic!("{name}: unknown AVP {}", r.code));
                assert!(r.describes(info), "{name}: {} disagrees", info.name);
                assert!(r.kind != RuleKind::Fixed || i < first_non_fixed, "{name}");
                assert!(g.may_list(r.code, r.vendor), "{name}: filter");
                assert!(r.min <= r.max && r.max > 0, "{name}: {}", info.name);
                match r.kind {
                    RuleKind::Required => assert!(r.min >= 1, "{name}: {}", info.name),
                    RuleKind::Optional => assert_eq!(r.min, 0, "{name}: {}", info.name),
                    RuleKind::Fixed => assert_eq!(r.max, 1, "{name}: {}", info.name),
                }
                for s in &g.rules[..i] {
                    assert!(
                        s.code != r.code || s.vendor != r.vendor,
                        "{name}: {}",
                        info.name
                    );
                }
            }
        }
    }

    #[test]
    fn commands_are_consistent() {
        assert_eq!(COMMANDS.len(), 14);
        for (i, c) in COMMANDS.iter().enumerate() {
            let found = Base.command(c.code, c.request).expect(c.abbrev);
            assert_eq!(found, *c);
            for d in &COMMANDS[..i] {
                assert!(c.code != d.code || c.request != d.request, "{}", c.abbrev);
            }
            // The pair shares application and proxiability.
            let other = Base.command(c.code, !c.request).expect(c.abbrev);
            assert_eq!(other.application, c.application, "{}", c.abbrev);
            assert_eq!(other.proxiable, c.proxiable, "{}", c.abbrev);
            assert_eq!(c.abbrev.len(), 3);
            assert!(c
                .name
                .ends_with(if c.request { "-Request" } else { "-Answer" }));
            assert!(c.abbrev.ends_with(if c.request { 'R' } else { 'A' }));
            // All base commands end in `* [ AVP ]`.
            assert!(c.grammar.extensible, "{}", c.abbrev);
            let rule = |code: u32| c.grammar.rules.iter().find(|r| r.code == code);
            for must in [264, 296] {
                let r = rule(must).expect(c.abbrev);
                assert_eq!(
                    (r.kind, r.min, r.max),
                    (RuleKind::Required, 1, 1),
                    "{}",
                    c.abbrev
                );
            }
            let rc = rule(268);
            if c.request {
                assert!(rc.is_none(), "{}", c.abbrev);
            } else {
                assert_eq!(rc.map(|r| r.kind), Some(RuleKind::Required), "{}", c.abbrev);
            }
            // Session-Id is fixed exactly in the session commands.
            let sid = rule(263).map(|r| r.kind);
            if c.proxiable {
                assert_eq!(c.grammar.rules[0].code, 263, "{}", c.abbrev);
                assert_eq!(sid, Some(RuleKind::Fixed), "{}", c.abbrev);
            } else {
                assert_eq!(sid, None, "{}", c.abbrev);
                assert_eq!(c.application, Some(ApplicationId::COMMON), "{}", c.abbrev);
            }
        }
        assert!(Base.command(CommandCode::CREDIT_CONTROL, true).is_none());
        assert!(Base.command(CommandCode(0), false).is_none());
    }

    #[test]
    fn spot_checks() {
        let sid = Base.avp(263, 0).unwrap();
        assert_eq!(sid.name, "Session-Id");
        assert_eq!(sid.data_type, DataType::Utf8String);
        assert_eq!(sid.flags.m, FlagRule::Must);
        assert_eq!(sid.flags.v, FlagRule::MustNot);
        assert_eq!(ORIGIN_HOST.info.data_type, DataType::DiameterIdentity);
        assert_eq!(ORIGIN_HOST.code(), 264);
        assert_eq!(USER_NAME.code(), 1);
        assert_eq!(
            ACCOUNTING_SUB_SESSION_ID.info.data_type,
            DataType::Unsigned64
        );
        assert_eq!(ACCT_SESSION_ID.info.data_type, DataType::OctetString);
        assert_eq!(REDIRECT_HOST.info.data_type, DataType::DiameterUri);
        assert_eq!(HOST_IP_ADDRESS.info.data_type, DataType::Address);
        assert_eq!(EVENT_TIMESTAMP.info.data_type, DataType::Time);
        assert_eq!(TERMINATION_CAUSE.info.data_type, DataType::Enumerated);
        assert_eq!(INBAND_SECURITY_ID.info.data_type, DataType::Unsigned32);

        // "M MUST NOT" AVPs of the §4.5 table.
        for a in [
            ERROR_MESSAGE.info,
            PRODUCT_NAME.info,
            ERROR_REPORTING_HOST.info,
        ] {
            assert_eq!(a.flags, FlagRules::NONE, "{}", a.name);
        }
        assert_eq!(FIRMWARE_REVISION.info.flags, FlagRules::NONE);
        let with_m = AVPS.iter().filter(|a| a.flags == FlagRules::M).count();
        assert_eq!(with_m, 45);

        // CER: { Origin-Host } { Origin-Realm } 1* { Host-IP-Address }
        //      { Vendor-Id } { Product-Name } ...
        let req = |g: &Grammar, code: u32| {
            g.rules
                .iter()
                .find(|r| r.code == code)
                .map(|r| (r.kind, r.min, r.max))
        };
        let cer = &Base
            .command(CommandCode::CAPABILITIES_EXCHANGE, true)
            .unwrap()
            .grammar;
        for code in [264, 296, 266, 269] {
            assert_eq!(req(cer, code), Some((RuleKind::Required, 1, 1)), "{code}");
        }
        assert_eq!(
            req(cer, 257),
            Some((RuleKind::Required, 1, Rule::UNBOUNDED))
        );
        assert_eq!(
            req(cer, 258),
            Some((RuleKind::Optional, 0, Rule::UNBOUNDED))
        );
        assert_eq!(req(cer, 267), Some((RuleKind::Optional, 0, 1)));
        assert_eq!(req(cer, 268), None);
        assert!(!CER.proxiable && CER.application == Some(ApplicationId::COMMON));

        // ACR: < Session-Id > ... { Accounting-Record-Type } { Accounting-Record-Number }
        let acr = &ACR.grammar;
        assert_eq!(acr.rules[0], Rule::fixed(&SESSION_ID));
        assert_eq!(req(acr, 480), Some((RuleKind::Required, 1, 1)));
        assert_eq!(req(acr, 485), Some((RuleKind::Required, 1, 1)));
        assert_eq!(req(acr, 283), Some((RuleKind::Required, 1, 1)));
        assert_eq!(ACR.application, Some(ApplicationId::BASE_ACCOUNTING));
        assert_eq!((ACR.proxiable, ACR.request), (true, true));

        // STR requires Termination-Cause; RAR Re-Auth-Request-Type.
        assert_eq!(req(&STR.grammar, 295), Some((RuleKind::Required, 1, 1)));
        assert_eq!(req(&RAR.grammar, 285), Some((RuleKind::Required, 1, 1)));
        assert_eq!(req(&ASR.grammar, 293), Some((RuleKind::Required, 1, 1)));
        assert_eq!(req(&STR.grammar, 293), Some((RuleKind::Optional, 0, 1)));
        assert_eq!(req(&DPR.grammar, 273), Some((RuleKind::Required, 1, 1)));

        // Grouped grammars.
        let vsai = &VENDOR_SPECIFIC_APPLICATION_ID.info.grammar;
        assert_eq!(req(vsai, 266), Some((RuleKind::Required, 1, 1)));
        assert_eq!(req(vsai, 258), Some((RuleKind::Optional, 0, 1)));
        assert_eq!(req(vsai, 259), Some((RuleKind::Optional, 0, 1)));
        let er = &EXPERIMENTAL_RESULT.info.grammar;
        assert_eq!(req(er, 298), Some((RuleKind::Required, 1, 1)));

        // The §7.2 error answer.
        assert_eq!(ERROR_ANSWER.rules[0].kind, RuleKind::Fixed);
        assert_eq!(
            (ERROR_ANSWER.rules[0].min, ERROR_ANSWER.rules[0].max),
            (0, 1)
        );
        assert_eq!(req(&ERROR_ANSWER, 268), Some((RuleKind::Required, 1, 1)));
    }

    #[test]
    fn enumerations() {
        assert_eq!(
            DisconnectCause::from_i32(2),
            DisconnectCause::DoNotWantToTalkToYou
        );
        assert_eq!(DisconnectCause::Rebooting.to_i32(), 0);
        assert_eq!(TerminationCause::from_i32(1), TerminationCause::Logout);
        assert_eq!(TerminationCause::SessionTimeout.to_i32(), 8);
        assert_eq!(TerminationCause::from_i32(9), TerminationCause::Unknown(9));
        assert_eq!(AccountingRecordType::StopRecord.to_i32(), 4);
        assert_eq!(
            AuthSessionState::from_i32(1),
            AuthSessionState::NoStateMaintained
        );
        assert_eq!(ReAuthRequestType::AuthorizeAuthenticate.to_i32(), 1);
        assert_eq!(AuthRequestType::AuthorizeAuthenticate.to_i32(), 3);
        assert_eq!(RedirectHostUsage::from_i32(6), RedirectHostUsage::AllUser);
        assert_eq!(SessionServerFailover::TryAgainAllowService.to_i32(), 3);
        assert_eq!(
            AccountingRealtimeRequired::from_i32(2),
            AccountingRealtimeRequired::GrantAndStore
        );
        assert_eq!(inband_security::TLS, 1);
        assert_eq!(session_binding::ACCOUNTING, 4);
    }
}
