//! Accounting-Answer (271, PXY), RFC 6733 §9.7.2.

use diameter_core::types::Timestamp;
use diameter_core::{
    ApplicationId, AvpSet, CommandCode, CommandFlags, EncodeError, Error, HeaderRepr, Message,
    MessageBuilder, ParseConfig, ResultCode,
};

use super::{check, required, scan};
use crate::dict::base::{self, AccountingRealtimeRequired, AccountingRecordType};

/// An Accounting-Answer (RFC 6733 §9.7.2) as decoded.
///
/// Accounting-Record-Type and -Number are `Option`s: an answer with the E
/// bit follows the RFC 6733 §7.2 grammar, and a failure answer from a
/// generic error path may lack them (see [`Cca`](super::Cca), which has
/// the same rule). They are always `Some` in a successful answer.
///
/// ```
/// use diameter_cc::msg::{Aca, AcaRepr};
/// use diameter_cc::dict::base::AccountingRecordType;
/// use diameter_core::{Message, ResultCode};
/// let repr = AcaRepr::new("s", ResultCode::SUCCESS, "server", "realm",
///                         AccountingRecordType::StartRecord, 0);
/// let mut buf = [0u8; 256];
/// let aca = Aca::decode(&Message::parse(repr.encode(AcaRepr::header(1, 1), &mut buf).unwrap())
///     .unwrap()).unwrap();
/// assert!(aca.result_code.is_success());
/// assert_eq!(aca.accounting_record_type, Some(AccountingRecordType::StartRecord));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Aca<'a> {
    /// The whole message, for AVPs without a field.
    pub message: Message<'a>,
    /// Session-Id (263, RFC 6733 §8.8).
    pub session_id: &'a str,
    /// Result-Code (268, RFC 6733 §7.1).
    pub result_code: ResultCode,
    /// Origin-Host (264, RFC 6733 §6.3).
    pub origin_host: &'a str,
    /// Origin-Realm (296, RFC 6733 §6.4).
    pub origin_realm: &'a str,
    /// Accounting-Record-Type (480, RFC 6733 §9.8.1); see the type's docs.
    pub accounting_record_type: Option<AccountingRecordType>,
    /// Accounting-Record-Number (485, RFC 6733 §9.8.3); see the type's docs.
    pub accounting_record_number: Option<u32>,
    /// Acct-Application-Id (259, RFC 6733 §6.9).
    pub acct_application_id: Option<u32>,
    /// User-Name (1, RFC 6733 §8.14).
    pub user_name: Option<&'a str>,
    /// Acct-Session-Id (44, RFC 6733 §9.8.4).
    pub acct_session_id: Option<&'a [u8]>,
    /// Acct-Interim-Interval (85, RFC 6733 §9.8.2): the server's choice of
    /// interim interval.
    pub acct_interim_interval: Option<u32>,
    /// Accounting-Realtime-Required (483, RFC 6733 §9.8.7): the server's
    /// choice of delivery policy.
    pub accounting_realtime_required: Option<AccountingRealtimeRequired>,
    /// Origin-State-Id (278, RFC 6733 §8.16).
    pub origin_state_id: Option<u32>,
    /// Event-Timestamp (55, RFC 6733 §8.21).
    pub event_timestamp: Option<Timestamp>,
    /// Error-Message (281, RFC 6733 §7.3).
    pub error_message: Option<&'a str>,
    /// The content of Failed-AVP (279, RFC 6733 §7.5).
    pub failed_avp: Option<AvpSet<'a>>,
}

impl<'a> Aca<'a> {
    /// Check that `msg` is an ACA (Command-Code 271, R bit clear), validate
    /// it against RFC 6733 §9.7.2 ([`base::ACA`]; §7.2 with the E bit) and
    /// read its fields. A failure answer may lack Accounting-Record-Type and
    /// -Number.
    ///
    /// ```
    /// use diameter_cc::msg::{Aca, AcrRepr};
    /// use diameter_cc::dict::base::AccountingRecordType;
    /// use diameter_core::{Message, ErrorKind};
    /// // An ACR is not an ACA: same command, R bit set.
    /// let mut buf = [0u8; 256];
    /// let acr = AcrRepr::new("s", "h", "r", "r", AccountingRecordType::EventRecord, 0)
    ///     .encode(AcrRepr::header(1, 1), &mut buf).unwrap();
    /// let e = Aca::decode(&Message::parse(acr).unwrap()).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::InvalidHeaderBits);
    /// ```
    pub fn decode(msg: &Message<'a>) -> Result<Aca<'a>, Error> {
        Self::decode_with_config(msg, &ParseConfig::DEFAULT)
    }

    /// [`Aca::decode`] with explicit validation settings.
    ///
    /// ```
    /// use diameter_cc::msg::{Aca, AcaRepr};
    /// use diameter_cc::dict::base::AccountingRecordType;
    /// use diameter_core::{Message, ResultCode, ParseConfig};
    /// let r = AcaRepr::new("s", ResultCode::SUCCESS, "h", "r", AccountingRecordType::EventRecord, 0);
    /// let mut buf = [0u8; 256];
    /// let msg = Message::parse(r.encode(AcaRepr::header(1, 1), &mut buf).unwrap()).unwrap();
    /// assert!(Aca::decode_with_config(&msg, &ParseConfig::DEFAULT).is_ok());
    /// ```
    pub fn decode_with_config(msg: &Message<'a>, config: &ParseConfig) -> Result<Aca<'a>, Error> {
        check(msg, &base::ACA, None, config)?;
        let mut session_id = None;
        let mut result_code = None;
        let mut origin_host = None;
        let mut origin_realm = None;
        let mut accounting_record_type = None;
        let mut accounting_record_number = None;
        let mut acct_application_id = None;
        let mut user_name = None;
        let mut acct_session_id = None;
        let mut acct_interim_interval = None;
        let mut accounting_realtime_required = None;
        let mut origin_state_id = None;
        let mut event_timestamp = None;
        let mut error_message = None;
        let mut failed_avp = None;
        for avp in msg.iter() {
            let avp = avp?;
            scan!(avp;
                session_id = base::SESSION_ID,
                result_code = base::RESULT_CODE,
                origin_host = base::ORIGIN_HOST,
                origin_realm = base::ORIGIN_REALM,
                accounting_record_type = base::ACCOUNTING_RECORD_TYPE,
                accounting_record_number = base::ACCOUNTING_RECORD_NUMBER,
                acct_application_id = base::ACCT_APPLICATION_ID,
                user_name = base::USER_NAME,
                acct_session_id = base::ACCT_SESSION_ID,
                acct_interim_interval = base::ACCT_INTERIM_INTERVAL,
                accounting_realtime_required = base::ACCOUNTING_REALTIME_REQUIRED,
                origin_state_id = base::ORIGIN_STATE_ID,
                event_timestamp = base::EVENT_TIMESTAMP,
                error_message = base::ERROR_MESSAGE,
                failed_avp = base::FAILED_AVP;
            );
        }
        Ok(Aca {
            message: *msg,
            session_id: required(session_id, &base::SESSION_ID)?,
            result_code: ResultCode(required(result_code, &base::RESULT_CODE)?),
            origin_host: required(origin_host, &base::ORIGIN_HOST)?,
            origin_realm: required(origin_realm, &base::ORIGIN_REALM)?,
            accounting_record_type,
            accounting_record_number,
            acct_application_id,
            user_name,
            acct_session_id,
            acct_interim_interval,
            accounting_realtime_required,
            origin_state_id,
            event_timestamp,
            error_message,
            failed_avp,
        })
    }

    /// Whether the E bit is set (RFC 6733 §7.2).
    ///
    /// ```
    /// use diameter_cc::msg::{Aca, AcaRepr};
    /// use diameter_cc::dict::base::AccountingRecordType;
    /// use diameter_core::{Message, ResultCode, CommandFlags};
    /// let r = AcaRepr::new("s", ResultCode::TOO_BUSY, "h", "r", AccountingRecordType::EventRecord, 0);
    /// let mut h = AcaRepr::header(1, 1);
    /// h.flags = h.flags | CommandFlags::ERROR;
    /// let mut buf = [0u8; 256];
    /// let aca = Aca::decode(&Message::parse(r.encode(h, &mut buf).unwrap()).unwrap()).unwrap();
    /// assert!(aca.is_protocol_error());
    /// ```
    pub fn is_protocol_error(&self) -> bool {
        self.message.flags().is_error()
    }
}

/// An Accounting-Answer (RFC 6733 §9.7.2) to send.
///
/// Written in grammar order: Session-Id, Result-Code, Origin-Host,
/// Origin-Realm, Accounting-Record-Type, Accounting-Record-Number,
/// Acct-Application-Id, Acct-Interim-Interval. Start from
/// [`AcaRepr::new`] or [`Acr::answer`](super::Acr::answer).
///
/// ```
/// use diameter_cc::msg::AcaRepr;
/// use diameter_cc::dict::base::AccountingRecordType;
/// use diameter_core::ResultCode;
/// // Ask the client for INTERIM records every 60 s.
/// let aca = AcaRepr {
///     acct_interim_interval: Some(60),
///     ..AcaRepr::new("s", ResultCode::SUCCESS, "server", "realm",
///                    AccountingRecordType::StartRecord, 0)
/// };
/// let mut buf = [0u8; 256];
/// assert!(aca.encode(AcaRepr::header(1, 1), &mut buf).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AcaRepr<'a> {
    /// Session-Id (263, RFC 6733 §8.8).
    pub session_id: &'a str,
    /// Result-Code (268, RFC 6733 §7.1).
    pub result_code: ResultCode,
    /// Origin-Host (264, RFC 6733 §6.3).
    pub origin_host: &'a str,
    /// Origin-Realm (296, RFC 6733 §6.4).
    pub origin_realm: &'a str,
    /// Accounting-Record-Type (480, RFC 6733 §9.8.1), as in the request.
    pub accounting_record_type: AccountingRecordType,
    /// Accounting-Record-Number (485, RFC 6733 §9.8.3), as in the request.
    pub accounting_record_number: u32,
    /// Acct-Application-Id (259, RFC 6733 §6.9).
    pub acct_application_id: Option<u32>,
    /// Acct-Interim-Interval (85, RFC 6733 §9.8.2).
    pub acct_interim_interval: Option<u32>,
}

impl<'a> AcaRepr<'a> {
    /// The required AVPs of RFC 6733 §9.7.2.
    ///
    /// ```
    /// use diameter_cc::msg::AcaRepr;
    /// use diameter_cc::dict::base::AccountingRecordType;
    /// use diameter_core::ResultCode;
    /// let a = AcaRepr::new("s", ResultCode::SUCCESS, "h", "r", AccountingRecordType::StopRecord, 5);
    /// assert_eq!(a.accounting_record_number, 5);
    /// ```
    pub const fn new(
        session_id: &'a str,
        result_code: ResultCode,
        origin_host: &'a str,
        origin_realm: &'a str,
        accounting_record_type: AccountingRecordType,
        accounting_record_number: u32,
    ) -> Self {
        AcaRepr {
            session_id,
            result_code,
            origin_host,
            origin_realm,
            accounting_record_type,
            accounting_record_number,
            acct_application_id: None,
            acct_interim_interval: None,
        }
    }

    /// An ACA header (RFC 6733 §9.7.2): Command-Code 271, P set,
    /// Application-Id 3.
    ///
    /// ```
    /// use diameter_cc::msg::AcaRepr;
    /// assert_eq!(AcaRepr::header(1, 2).flags.bits(), 0x40);
    /// ```
    pub const fn header(hop_by_hop: u32, end_to_end: u32) -> HeaderRepr {
        HeaderRepr {
            flags: CommandFlags::PROXIABLE,
            command_code: CommandCode::ACCOUNTING,
            application_id: ApplicationId::BASE_ACCOUNTING,
            hop_by_hop,
            end_to_end,
        }
    }

    /// Append every AVP, Session-Id first, in grammar order.
    ///
    /// ```
    /// use diameter_cc::msg::AcaRepr;
    /// use diameter_cc::dict::base::AccountingRecordType;
    /// use diameter_core::{MessageBuilder, ResultCode};
    /// let a = AcaRepr::new("s", ResultCode::SUCCESS, "h", "r", AccountingRecordType::StopRecord, 5);
    /// let mut buf = [0u8; 256];
    /// let mut b = MessageBuilder::new(&mut buf, AcaRepr::header(1, 1));
    /// a.write(&mut b);
    /// assert!(b.finish().is_ok());
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        b.put(&base::SESSION_ID, self.session_id);
        self.write_without_session_id(b);
    }

    /// Append every AVP but Session-Id, for a builder started with
    /// [`MessageBuilder::answer_to`].
    ///
    /// ```
    /// use diameter_cc::msg::{AcaRepr, AcrRepr};
    /// use diameter_cc::dict::base::AccountingRecordType;
    /// use diameter_core::{Message, MessageBuilder, ResultCode};
    /// let mut req = [0u8; 256];
    /// let req = AcrRepr::new("s", "h", "r", "r", AccountingRecordType::EventRecord, 0)
    ///     .encode(AcrRepr::header(1, 1), &mut req).unwrap();
    /// let req = Message::parse(req).unwrap();
    /// let mut buf = [0u8; 256];
    /// let mut b = MessageBuilder::answer_to(&mut buf, &req);
    /// AcaRepr::new("s", ResultCode::SUCCESS, "srv", "r", AccountingRecordType::EventRecord, 0)
    ///     .write_without_session_id(&mut b);
    /// assert!(b.finish().is_ok());
    /// ```
    pub fn write_without_session_id(&self, b: &mut MessageBuilder<'_>) {
        b.put(&base::RESULT_CODE, self.result_code.get())
            .put(&base::ORIGIN_HOST, self.origin_host)
            .put(&base::ORIGIN_REALM, self.origin_realm)
            .put(&base::ACCOUNTING_RECORD_TYPE, self.accounting_record_type)
            .put(
                &base::ACCOUNTING_RECORD_NUMBER,
                self.accounting_record_number,
            );
        if let Some(v) = self.acct_application_id {
            b.put(&base::ACCT_APPLICATION_ID, v);
        }
        if let Some(v) = self.acct_interim_interval {
            b.put(&base::ACCT_INTERIM_INTERVAL, v);
        }
    }

    /// Build the whole message into `buf` with `header`.
    ///
    /// ```
    /// use diameter_cc::msg::AcaRepr;
    /// use diameter_cc::dict::base::AccountingRecordType;
    /// use diameter_core::ResultCode;
    /// let a = AcaRepr::new("s", ResultCode::SUCCESS, "h", "r", AccountingRecordType::StopRecord, 5);
    /// let mut buf = [0u8; 256];
    /// assert!(a.encode(AcaRepr::header(1, 1), &mut buf).is_ok());
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

    /// Build the answer to `request` (RFC 6733 §6.2): its header,
    /// identifiers and Session-Id; `self.session_id` only when it has none.
    /// See [`Acr::answer`](super::Acr::answer).
    ///
    /// ```
    /// use diameter_cc::msg::{AcaRepr, AcrRepr};
    /// use diameter_cc::dict::base::AccountingRecordType;
    /// use diameter_core::{Message, ResultCode};
    /// let mut req = [0u8; 256];
    /// let req = AcrRepr::new("s", "h", "r", "r", AccountingRecordType::EventRecord, 0)
    ///     .encode(AcrRepr::header(3, 4), &mut req).unwrap();
    /// let req = Message::parse(req).unwrap();
    /// let mut buf = [0u8; 256];
    /// let a = AcaRepr::new("s", ResultCode::SUCCESS, "srv", "r", AccountingRecordType::EventRecord, 0);
    /// let ans = Message::parse(a.encode_answer_to(&req, &mut buf).unwrap()).unwrap();
    /// assert_eq!(ans.end_to_end(), 4);
    /// ```
    pub fn encode_answer_to<'b>(
        &self,
        request: &Message<'_>,
        buf: &'b mut [u8],
    ) -> Result<&'b [u8], EncodeError> {
        let mut b = MessageBuilder::answer_to(buf, request);
        if request.find(base::SESSION_ID.code(), 0).is_none() {
            b.put(&base::SESSION_ID, self.session_id);
        }
        self.write_without_session_id(&mut b);
        b.finish()
    }
}
