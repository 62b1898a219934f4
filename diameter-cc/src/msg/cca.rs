//! Credit-Control-Answer (272, PXY, application 4), RFC 8506 §3.2.

use diameter_core::types::Timestamp;
use diameter_core::{
    ApplicationId, AvpSet, CommandCode, CommandFlags, EncodeError, Error, HeaderRepr, Message,
    MessageBuilder, ParseConfig, ResultCode,
};

use super::{
    check, required, scan, CostInformation, FinalUnitIndication, FinalUnitIndicationRepr, Groups,
    Mscc, MsccIter, MsccRepr, ServiceUnit,
};
use crate::dict::base;
use crate::dict::{
    self, CcRequestType, CcSessionFailover, CheckBalanceResult, CreditControlFailureHandling,
    DirectDebitingFailureHandling,
};

/// A Credit-Control-Answer (RFC 8506 §3.2) as decoded.
///
/// Auth-Application-Id, CC-Request-Type and CC-Request-Number are
/// `Option`s: a protocol-error answer (E bit) follows the generic
/// `<answer-message>` grammar of RFC 6733 §7.2 instead of §3.2, and a
/// failure answer (Result-Code not 2xxx) built by a generic error path
/// (e.g. [`diameter_core::answer::error_answer`] for a 5005) often lacks
/// them; [`Cca::decode`] accepts both. They are always `Some` in a
/// successful answer. Session-Id is required in every case (RFC 6733 §6.2:
/// an answer carries the request's Session-Id). [`Cca::is_protocol_error`],
/// [`Cca::error_message`] and [`Cca::failed_avp`] describe error answers.
///
/// ```
/// use diameter_cc::msg::{Cca, CcaRepr, MsccRepr, ServiceUnit};
/// use diameter_cc::dict::CcRequestType;
/// use diameter_core::{Message, ResultCode};
///
/// // cca-i: GSU 300 s and one MSCC for rating group 1.
/// let mscc = [MsccRepr {
///     granted_service_unit: Some(ServiceUnit::time(300)),
///     rating_group: Some(1),
///     validity_time: Some(3600),
///     result_code: Some(ResultCode::SUCCESS),
///     ..MsccRepr::EMPTY
/// }];
/// let repr = CcaRepr {
///     granted_service_unit: Some(ServiceUnit::time(300)),
///     mscc: &mscc,
///     ..CcaRepr::new("sid", ResultCode::SUCCESS, "ocs.example", "example",
///                    CcRequestType::Initial, 0)
/// };
/// let mut buf = [0u8; 256];
/// let bytes = repr.encode(CcaRepr::header(1, 2), &mut buf).unwrap();
/// let cca = Cca::decode(&Message::parse(bytes).unwrap()).unwrap();
/// assert!(cca.result_code.is_success());
/// assert_eq!(cca.granted_service_unit.unwrap().cc_time, Some(300));
/// let m = cca.mscc().next().unwrap().unwrap();
/// assert_eq!((m.rating_group, m.validity_time), (Some(1), Some(3600)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Cca<'a> {
    /// The whole message, for AVPs without a field.
    pub message: Message<'a>,
    /// Session-Id (263, RFC 6733 §8.8).
    pub session_id: &'a str,
    /// Result-Code (268, RFC 6733 §7.1, RFC 8506 §9): 2001 grants; 4012
    /// CREDIT_LIMIT_REACHED, 5030 USER_UNKNOWN, 5031 RATING_FAILED deny.
    pub result_code: ResultCode,
    /// Origin-Host (264, RFC 6733 §6.3).
    pub origin_host: &'a str,
    /// Origin-Realm (296, RFC 6733 §6.4).
    pub origin_realm: &'a str,
    /// Auth-Application-Id (258, RFC 6733 §6.8); see the type's docs.
    pub auth_application_id: Option<u32>,
    /// CC-Request-Type (416, RFC 8506 §8.3); see the type's docs.
    pub cc_request_type: Option<CcRequestType>,
    /// CC-Request-Number (415, RFC 8506 §8.2); see the type's docs.
    pub cc_request_number: Option<u32>,
    /// User-Name (1, RFC 6733 §8.14).
    pub user_name: Option<&'a str>,
    /// CC-Session-Failover (418, RFC 8506 §8.4).
    pub cc_session_failover: Option<CcSessionFailover>,
    /// Origin-State-Id (278, RFC 6733 §8.16).
    pub origin_state_id: Option<u32>,
    /// Event-Timestamp (55, RFC 6733 §8.21).
    pub event_timestamp: Option<Timestamp>,
    /// Granted-Service-Unit (431, RFC 8506 §8.17).
    pub granted_service_unit: Option<ServiceUnit>,
    /// Cost-Information (423, RFC 8506 §8.7).
    pub cost_information: Option<CostInformation<'a>>,
    /// Final-Unit-Indication (430, RFC 8506 §8.34).
    pub final_unit_indication: Option<FinalUnitIndication<'a>>,
    /// Check-Balance-Result (422, RFC 8506 §8.6).
    pub check_balance_result: Option<CheckBalanceResult>,
    /// Credit-Control-Failure-Handling (427, RFC 8506 §8.14).
    pub credit_control_failure_handling: Option<CreditControlFailureHandling>,
    /// Direct-Debiting-Failure-Handling (428, RFC 8506 §8.15).
    pub direct_debiting_failure_handling: Option<DirectDebitingFailureHandling>,
    /// Validity-Time (448, RFC 8506 §8.33).
    pub validity_time: Option<u32>,
    /// Error-Message (281, RFC 6733 §7.3).
    pub error_message: Option<&'a str>,
    /// The content of the first Failed-AVP (279, RFC 6733 §7.5).
    pub failed_avp: Option<AvpSet<'a>>,
}

impl<'a> Cca<'a> {
    /// Check that `msg` is a CCA (Command-Code 272, R bit clear,
    /// Application-Id 4), validate it against RFC 8506 §3.2 ([`dict::CCA`];
    /// the RFC 6733 §7.2 grammar when the E bit is set) and read its fields.
    /// Errors as for [`Ccr::decode`](super::Ccr::decode), except that a
    /// failure answer may lack Auth-Application-Id, CC-Request-Type and
    /// CC-Request-Number (see [`Cca`]).
    ///
    /// ```
    /// use diameter_cc::msg::{Cca, CcaRepr};
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_core::{Message, ResultCode, ErrorKind};
    /// let repr = CcaRepr::new("s", ResultCode::new(4012), "ocs", "realm", CcRequestType::Update, 3);
    /// let mut buf = [0u8; 256];
    /// let msg = Message::parse(repr.encode(CcaRepr::header(1, 1), &mut buf).unwrap()).unwrap();
    /// let cca = Cca::decode(&msg).unwrap();
    /// assert_eq!(cca.result_code.get(), 4012);
    /// assert_eq!(cca.cc_request_number, Some(3));
    /// ```
    pub fn decode(msg: &Message<'a>) -> Result<Cca<'a>, Error> {
        Self::decode_with_config(msg, &ParseConfig::DEFAULT)
    }

    /// [`Cca::decode`] with explicit validation settings.
    ///
    /// ```
    /// use diameter_cc::msg::{Cca, CcaRepr};
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_core::{Message, ResultCode, ParseConfig};
    /// let repr = CcaRepr::new("s", ResultCode::SUCCESS, "ocs", "realm", CcRequestType::Event, 0);
    /// let mut buf = [0u8; 256];
    /// let msg = Message::parse(repr.encode(CcaRepr::header(1, 1), &mut buf).unwrap()).unwrap();
    /// assert!(Cca::decode_with_config(&msg, &ParseConfig::DEFAULT).is_ok());
    /// ```
    pub fn decode_with_config(msg: &Message<'a>, config: &ParseConfig) -> Result<Cca<'a>, Error> {
        check(msg, &dict::CCA, Some(ApplicationId::CREDIT_CONTROL), config)?;
        let mut session_id = None;
        let mut result_code = None;
        let mut origin_host = None;
        let mut origin_realm = None;
        let mut auth_application_id = None;
        let mut cc_request_type = None;
        let mut cc_request_number = None;
        let mut user_name = None;
        let mut cc_session_failover = None;
        let mut origin_state_id = None;
        let mut event_timestamp = None;
        let mut granted_service_unit = None;
        let mut cost_information = None;
        let mut final_unit_indication = None;
        let mut check_balance_result = None;
        let mut credit_control_failure_handling = None;
        let mut direct_debiting_failure_handling = None;
        let mut validity_time = None;
        let mut error_message = None;
        let mut failed_avp = None;
        for avp in msg.iter() {
            let avp = avp?;
            scan!(avp;
                session_id = base::SESSION_ID,
                result_code = base::RESULT_CODE,
                origin_host = base::ORIGIN_HOST,
                origin_realm = base::ORIGIN_REALM,
                auth_application_id = base::AUTH_APPLICATION_ID,
                cc_request_type = dict::CC_REQUEST_TYPE,
                cc_request_number = dict::CC_REQUEST_NUMBER,
                user_name = base::USER_NAME,
                cc_session_failover = dict::CC_SESSION_FAILOVER,
                origin_state_id = base::ORIGIN_STATE_ID,
                event_timestamp = base::EVENT_TIMESTAMP,
                check_balance_result = dict::CHECK_BALANCE_RESULT,
                credit_control_failure_handling = dict::CREDIT_CONTROL_FAILURE_HANDLING,
                direct_debiting_failure_handling = dict::DIRECT_DEBITING_FAILURE_HANDLING,
                validity_time = dict::VALIDITY_TIME,
                error_message = base::ERROR_MESSAGE,
                failed_avp = base::FAILED_AVP;
                group granted_service_unit = dict::GRANTED_SERVICE_UNIT => ServiceUnit::decode,
                group cost_information = dict::COST_INFORMATION => CostInformation::decode,
                group final_unit_indication = dict::FINAL_UNIT_INDICATION => FinalUnitIndication::decode,
            );
        }
        Ok(Cca {
            message: *msg,
            session_id: required(session_id, &base::SESSION_ID)?,
            result_code: ResultCode(required(result_code, &base::RESULT_CODE)?),
            origin_host: required(origin_host, &base::ORIGIN_HOST)?,
            origin_realm: required(origin_realm, &base::ORIGIN_REALM)?,
            auth_application_id,
            cc_request_type,
            cc_request_number,
            user_name,
            cc_session_failover,
            origin_state_id,
            event_timestamp,
            granted_service_unit,
            cost_information,
            final_unit_indication,
            check_balance_result,
            credit_control_failure_handling,
            direct_debiting_failure_handling,
            validity_time,
            error_message,
            failed_avp,
        })
    }

    /// Whether the E bit is set: a protocol error (3xxx, RFC 6733 §7.1.3,
    /// §7.2), or a peer that sets it on other errors (SCENARIOS: 5012).
    ///
    /// ```
    /// use diameter_cc::msg::{Cca, Ccr, CcrRepr};
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_cc::CreditControl;
    /// use diameter_core::{Message, answer::{error_answer, Identity}};
    /// // A CCR without Service-Context-Id, answered by diameter-core's error_answer.
    /// let mut buf = [0u8; 256];
    /// let mut b = diameter_core::MessageBuilder::new(&mut buf, CcrRepr::header(1, 1));
    /// b.put(&diameter_cc::dict::base::SESSION_ID, "s;1");
    /// let req = b.finish().unwrap();
    /// let err = Ccr::decode(&Message::parse(req).unwrap()).unwrap_err();
    /// let me = Identity { origin_host: "ocs.example", origin_realm: "example" };
    /// let mut out = [0u8; 256];
    /// let ans = error_answer(req, &err, &me, &CreditControl, &mut out).unwrap().finish().unwrap();
    /// let cca = Cca::decode(&Message::parse(ans).unwrap()).unwrap();
    /// assert_eq!(cca.result_code.get(), 5005);
    /// assert!(!cca.is_protocol_error());
    /// assert!(cca.failed_avp.is_some());
    /// assert_eq!(cca.cc_request_type, None);
    /// ```
    pub fn is_protocol_error(&self) -> bool {
        self.message.flags().is_error()
    }

    /// Every Multiple-Services-Credit-Control (`*[
    /// Multiple-Services-Credit-Control ]`, RFC 8506 §8.16): the grants per
    /// service or rating group.
    ///
    /// ```
    /// use diameter_cc::msg::{Cca, CcaRepr, MsccRepr, ServiceUnit};
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_core::{Message, ResultCode};
    /// let grants = [
    ///     MsccRepr { rating_group: Some(1), granted_service_unit: Some(ServiceUnit::time(60)),
    ///                ..MsccRepr::EMPTY },
    ///     MsccRepr { rating_group: Some(2), result_code: Some(ResultCode::new(4012)),
    ///                ..MsccRepr::EMPTY },
    /// ];
    /// let repr = CcaRepr { mscc: &grants,
    ///     ..CcaRepr::new("s", ResultCode::SUCCESS, "ocs", "r", CcRequestType::Update, 1) };
    /// let mut buf = [0u8; 256];
    /// let cca = Cca::decode(&Message::parse(repr.encode(CcaRepr::header(1, 1), &mut buf).unwrap())
    ///     .unwrap()).unwrap();
    /// let denied: Vec<_> = cca.mscc().map(Result::unwrap)
    ///     .filter(|m| m.result_code.is_some_and(|rc| !rc.is_success()))
    ///     .map(|m| m.rating_group).collect();
    /// assert_eq!(denied, [Some(2)]);
    /// ```
    pub fn mscc(&self) -> MsccIter<'a> {
        Groups::new(
            self.message.avps(),
            &dict::MULTIPLE_SERVICES_CREDIT_CONTROL,
            Mscc::decode,
        )
    }
}

/// A Credit-Control-Answer (RFC 8506 §3.2) to send.
///
/// Written in the order of the §3.2 grammar: Session-Id, Result-Code,
/// Origin-Host, Origin-Realm, Auth-Application-Id, CC-Request-Type,
/// CC-Request-Number, User-Name, CC-Session-Failover, Origin-State-Id,
/// Event-Timestamp, Granted-Service-Unit, Multiple-Services-Credit-Control(s),
/// Cost-Information, Final-Unit-Indication, Check-Balance-Result,
/// Credit-Control-Failure-Handling, Direct-Debiting-Failure-Handling,
/// Validity-Time (the order of the bench message `cca-i`). Start from
/// [`CcaRepr::new`] or [`Ccr::answer`](super::Ccr::answer).
///
/// ```
/// use diameter_cc::msg::{CcaRepr, FinalUnitIndicationRepr, ServiceUnit};
/// use diameter_cc::dict::{CcRequestType, FinalUnitAction};
/// use diameter_core::ResultCode;
/// // The last 30 s of credit: terminate when they are used.
/// let cca = CcaRepr {
///     granted_service_unit: Some(ServiceUnit::time(30)),
///     final_unit_indication: Some(FinalUnitIndicationRepr::new(FinalUnitAction::Terminate)),
///     ..CcaRepr::new("sid", ResultCode::SUCCESS, "ocs", "realm", CcRequestType::Update, 4)
/// };
/// let mut buf = [0u8; 256];
/// assert!(cca.encode(CcaRepr::header(1, 1), &mut buf).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CcaRepr<'a> {
    /// Session-Id (263, RFC 6733 §8.8).
    pub session_id: &'a str,
    /// Result-Code (268, RFC 6733 §7.1).
    pub result_code: ResultCode,
    /// Origin-Host (264, RFC 6733 §6.3).
    pub origin_host: &'a str,
    /// Origin-Realm (296, RFC 6733 §6.4).
    pub origin_realm: &'a str,
    /// Auth-Application-Id (258, RFC 6733 §6.8): 4 from [`CcaRepr::new`].
    pub auth_application_id: u32,
    /// CC-Request-Type (416, RFC 8506 §8.3), as in the request.
    pub cc_request_type: CcRequestType,
    /// CC-Request-Number (415, RFC 8506 §8.2), as in the request.
    pub cc_request_number: u32,
    /// User-Name (1, RFC 6733 §8.14).
    pub user_name: Option<&'a str>,
    /// CC-Session-Failover (418, RFC 8506 §8.4).
    pub cc_session_failover: Option<CcSessionFailover>,
    /// Origin-State-Id (278, RFC 6733 §8.16).
    pub origin_state_id: Option<u32>,
    /// Event-Timestamp (55, RFC 6733 §8.21).
    pub event_timestamp: Option<Timestamp>,
    /// Granted-Service-Unit (431, RFC 8506 §8.17).
    pub granted_service_unit: Option<ServiceUnit>,
    /// Multiple-Services-Credit-Controls (456, RFC 8506 §8.16).
    pub mscc: &'a [MsccRepr<'a>],
    /// Cost-Information (423, RFC 8506 §8.7).
    pub cost_information: Option<CostInformation<'a>>,
    /// Final-Unit-Indication (430, RFC 8506 §8.34).
    pub final_unit_indication: Option<FinalUnitIndicationRepr<'a>>,
    /// Check-Balance-Result (422, RFC 8506 §8.6).
    pub check_balance_result: Option<CheckBalanceResult>,
    /// Credit-Control-Failure-Handling (427, RFC 8506 §8.14).
    pub credit_control_failure_handling: Option<CreditControlFailureHandling>,
    /// Direct-Debiting-Failure-Handling (428, RFC 8506 §8.15).
    pub direct_debiting_failure_handling: Option<DirectDebitingFailureHandling>,
    /// Validity-Time (448, RFC 8506 §8.33).
    pub validity_time: Option<u32>,
}

impl<'a> CcaRepr<'a> {
    /// The required AVPs of RFC 8506 §3.2, Auth-Application-Id 4.
    ///
    /// ```
    /// use diameter_cc::msg::CcaRepr;
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_core::ResultCode;
    /// let a = CcaRepr::new("s", ResultCode::SUCCESS, "ocs", "realm", CcRequestType::Initial, 0);
    /// assert_eq!(a.auth_application_id, 4);
    /// assert!(a.granted_service_unit.is_none());
    /// ```
    pub const fn new(
        session_id: &'a str,
        result_code: ResultCode,
        origin_host: &'a str,
        origin_realm: &'a str,
        cc_request_type: CcRequestType,
        cc_request_number: u32,
    ) -> Self {
        CcaRepr {
            session_id,
            result_code,
            origin_host,
            origin_realm,
            auth_application_id: ApplicationId::CREDIT_CONTROL.0,
            cc_request_type,
            cc_request_number,
            user_name: None,
            cc_session_failover: None,
            origin_state_id: None,
            event_timestamp: None,
            granted_service_unit: None,
            mscc: &[],
            cost_information: None,
            final_unit_indication: None,
            check_balance_result: None,
            credit_control_failure_handling: None,
            direct_debiting_failure_handling: None,
            validity_time: None,
        }
    }

    /// A CCA header (RFC 8506 §3.2): Command-Code 272, P set, R clear,
    /// Application-Id 4. [`CcaRepr::encode_answer_to`] takes the header
    /// from the request instead.
    ///
    /// ```
    /// use diameter_cc::msg::CcaRepr;
    /// let h = CcaRepr::header(1, 2);
    /// assert!(!h.flags.is_request() && h.flags.is_proxiable());
    /// ```
    pub const fn header(hop_by_hop: u32, end_to_end: u32) -> HeaderRepr {
        HeaderRepr {
            flags: CommandFlags::PROXIABLE,
            command_code: CommandCode::CREDIT_CONTROL,
            application_id: ApplicationId::CREDIT_CONTROL,
            hop_by_hop,
            end_to_end,
        }
    }

    /// Append every AVP, Session-Id first, in grammar order.
    ///
    /// ```
    /// use diameter_cc::msg::CcaRepr;
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_core::{MessageBuilder, ResultCode, dict::base};
    /// let a = CcaRepr::new("s", ResultCode::SUCCESS, "ocs", "realm", CcRequestType::Initial, 0);
    /// let mut buf = [0u8; 256];
    /// let mut b = MessageBuilder::new(&mut buf, CcaRepr::header(1, 1));
    /// a.write(&mut b);
    /// b.put(&base::ERROR_MESSAGE, "welcome");
    /// assert!(b.finish().is_ok());
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        b.put(&base::SESSION_ID, self.session_id);
        self.write_without_session_id(b);
    }

    /// Append every AVP but Session-Id: for a builder started with
    /// [`MessageBuilder::answer_to`], which copies the request's.
    ///
    /// ```
    /// use diameter_cc::msg::{CcaRepr, CcrRepr};
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_core::{Message, MessageBuilder, ResultCode};
    /// let mut req = [0u8; 256];
    /// let req = CcrRepr::new("s;1", "c", "r", "r", "voice@x", CcRequestType::Initial, 0)
    ///     .encode(CcrRepr::header(1, 1), &mut req).unwrap();
    /// let req = Message::parse(req).unwrap();
    /// let a = CcaRepr::new("s;1", ResultCode::SUCCESS, "ocs", "r", CcRequestType::Initial, 0);
    /// let mut buf = [0u8; 256];
    /// let mut b = MessageBuilder::answer_to(&mut buf, &req);
    /// a.write_without_session_id(&mut b);
    /// let mut other = [0u8; 256];
    /// assert_eq!(b.finish().unwrap(), a.encode_answer_to(&req, &mut other).unwrap());
    /// ```
    pub fn write_without_session_id(&self, b: &mut MessageBuilder<'_>) {
        b.put(&base::RESULT_CODE, self.result_code.get())
            .put(&base::ORIGIN_HOST, self.origin_host)
            .put(&base::ORIGIN_REALM, self.origin_realm)
            .put(&base::AUTH_APPLICATION_ID, self.auth_application_id)
            .put(&dict::CC_REQUEST_TYPE, self.cc_request_type)
            .put(&dict::CC_REQUEST_NUMBER, self.cc_request_number);
        if let Some(v) = self.user_name {
            b.put(&base::USER_NAME, v);
        }
        if let Some(v) = self.cc_session_failover {
            b.put(&dict::CC_SESSION_FAILOVER, v);
        }
        if let Some(v) = self.origin_state_id {
            b.put(&base::ORIGIN_STATE_ID, v);
        }
        if let Some(v) = self.event_timestamp {
            b.put(&base::EVENT_TIMESTAMP, v);
        }
        if let Some(u) = self.granted_service_unit {
            b.grouped(&dict::GRANTED_SERVICE_UNIT, |g| u.write(g));
        }
        for m in self.mscc {
            b.grouped(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL, |g| m.write(g));
        }
        if let Some(c) = self.cost_information {
            b.grouped(&dict::COST_INFORMATION, |g| c.write(g));
        }
        if let Some(f) = self.final_unit_indication {
            b.grouped(&dict::FINAL_UNIT_INDICATION, |g| f.write(g));
        }
        if let Some(v) = self.check_balance_result {
            b.put(&dict::CHECK_BALANCE_RESULT, v);
        }
        if let Some(v) = self.credit_control_failure_handling {
            b.put(&dict::CREDIT_CONTROL_FAILURE_HANDLING, v);
        }
        if let Some(v) = self.direct_debiting_failure_handling {
            b.put(&dict::DIRECT_DEBITING_FAILURE_HANDLING, v);
        }
        if let Some(v) = self.validity_time {
            b.put(&dict::VALIDITY_TIME, v);
        }
    }

    /// Build the whole message into `buf` with `header`.
    ///
    /// ```
    /// use diameter_cc::msg::CcaRepr;
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_core::ResultCode;
    /// let a = CcaRepr::new("s", ResultCode::SUCCESS, "ocs", "realm", CcRequestType::Initial, 0);
    /// let mut buf = [0u8; 256];
    /// let bytes = a.encode(CcaRepr::header(1, 1), &mut buf).unwrap();
    /// assert_eq!(bytes.len() % 4, 0);
    /// ```
    pub fn encode<'b>(
        &self,
        header: HeaderRepr,
        buf: &'b mut [u8],
    ) -> Result<&'b [u8], EncodeError> {
        let mut b = MessageBuilder::new(buf, header);
        self.write(&mut b);
        b.finish()
    }

    /// Build the answer to `request` (RFC 6733 §6.2 via
    /// [`MessageBuilder::answer_to`]): its Command-Code, Application-Id,
    /// Hop-by-Hop and End-to-End identifiers and P bit, and its Session-Id
    /// as the first AVP. `self.session_id` is written only when the request
    /// has none. See [`Ccr::answer`](super::Ccr::answer) for an example.
    ///
    /// ```
    /// use diameter_cc::msg::{CcaRepr, CcrRepr};
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_core::{Message, ResultCode};
    /// let mut req = [0u8; 256];
    /// let req = CcrRepr::new("s;1", "c", "r", "r", "voice@x", CcRequestType::Event, 0)
    ///     .encode(CcrRepr::header(0xaa, 0xbb), &mut req).unwrap();
    /// let req = Message::parse(req).unwrap();
    /// let a = CcaRepr::new("s;1", ResultCode::SUCCESS, "ocs", "r", CcRequestType::Event, 0);
    /// let mut buf = [0u8; 256];
    /// let ans = Message::parse(a.encode_answer_to(&req, &mut buf).unwrap()).unwrap();
    /// assert_eq!((ans.hop_by_hop(), ans.end_to_end()), (0xaa, 0xbb));
    /// assert!(!ans.is_request() && ans.flags().is_proxiable());
    /// ```
    pub fn encode_answer_to<'b>(
        &self,
        request: &Message<'_>,
        buf: &'b mut [u8],
    ) -> Result<&'b [u8], EncodeError> {
        let mut b = MessageBuilder::answer_to(buf, request);
        if self.result_code.is_protocol_error() {
            // 3xxx answers carry the E bit (RFC 6733 §7.1.3).
            let mut h = b.header();
            h.flags = h.flags | diameter_core::CommandFlags::ERROR;
            b.set_header(h);
        }
        if request.find(base::SESSION_ID.code(), 0).is_none() {
            b.put(&base::SESSION_ID, self.session_id);
        }
        self.write_without_session_id(&mut b);
        b.finish()
    }
}
