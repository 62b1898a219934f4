//! Accounting-Request (271, REQ, PXY), RFC 6733 §9.7.1, with the SIP
//! accounting AVPs OpenSIPS sends ([`crate::dict::sip`]).

use diameter_core::read::WalkState;
use diameter_core::types::Timestamp;
use diameter_core::{
    ApplicationId, Avp, CommandCode, EncodeError, Error, HeaderRepr, Message, MessageBuilder,
    ParseConfig, ResultCode,
};

use super::{fields, fields_reader, read_avps, required, AcaRepr};
use crate::dict::base::{self, AccountingRecordType};
use crate::dict::sip::{self, ServiceType, SipMethod};

/// An Accounting-Request (RFC 6733 §9.7.1) as decoded, with the SIP
/// accounting AVPs of the SCENARIOS accounting flow.
///
/// ```text
/// < Session-Id > { Origin-Host } { Origin-Realm } { Destination-Realm }
/// { Accounting-Record-Type } { Accounting-Record-Number }
/// [ Acct-Application-Id ] [ Vendor-Specific-Application-Id ] [ User-Name ]
/// [ Destination-Host ] [ Accounting-Sub-Session-Id ] [ Acct-Session-Id ]
/// [ Acct-Multi-Session-Id ] [ Acct-Interim-Interval ]
/// [ Accounting-Realtime-Required ] [ Origin-State-Id ] [ Event-Timestamp ]
/// *[ Proxy-Info ] *[ Route-Record ] *[ AVP ]
/// ```
///
/// The Application-Id of the header is not checked: base accounting (3)
/// for split accounting, the application's own for coupled accounting
/// (RFC 6733 §9.3).
///
/// ```
/// use diameter_cc::msg::{Acr, AcrRepr};
/// use diameter_cc::dict::{base::AccountingRecordType, sip::{ServiceType, SipMethod}};
/// use diameter_core::Message;
///
/// // The SCENARIOS STOP record.
/// let repr = AcrRepr {
///     acct_session_id: Some(b"call-1"),
///     service_type: Some(ServiceType::SipSession),
///     sip_method: Some(SipMethod::Bye),
///     sip_call_duration: Some(42),
///     ..AcrRepr::new("acct;1", "client.diameter.test", "diameter.test", "diameter.test",
///                    AccountingRecordType::StopRecord, 1)
/// };
/// let mut buf = [0u8; 512];
/// let bytes = repr.encode(AcrRepr::header(1, 1), &mut buf).unwrap();
/// let acr = Acr::decode(&Message::parse(bytes).unwrap()).unwrap();
/// assert_eq!(acr.accounting_record_type, AccountingRecordType::StopRecord);
/// assert_eq!((acr.accounting_record_number, acr.sip_call_duration), (1, Some(42)));
/// assert_eq!(acr.acct_session_id, Some(&b"call-1"[..]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Acr<'a> {
    /// The whole message, for AVPs without a field.
    pub message: Message<'a>,
    /// Session-Id (263, RFC 6733 §8.8).
    pub session_id: &'a str,
    /// Origin-Host (264, RFC 6733 §6.3).
    pub origin_host: &'a str,
    /// Origin-Realm (296, RFC 6733 §6.4).
    pub origin_realm: &'a str,
    /// Destination-Realm (283, RFC 6733 §6.6).
    pub destination_realm: &'a str,
    /// Accounting-Record-Type (480, RFC 6733 §9.8.1).
    pub accounting_record_type: AccountingRecordType,
    /// Accounting-Record-Number (485, RFC 6733 §9.8.3).
    pub accounting_record_number: u32,
    /// Acct-Application-Id (259, RFC 6733 §6.9).
    pub acct_application_id: Option<u32>,
    /// User-Name (1, RFC 6733 §8.14).
    pub user_name: Option<&'a str>,
    /// Destination-Host (293, RFC 6733 §6.5).
    pub destination_host: Option<&'a str>,
    /// Acct-Session-Id (44, RFC 6733 §9.8.4), an OctetString: the SIP
    /// Call-ID in the SCENARIOS.
    pub acct_session_id: Option<&'a [u8]>,
    /// Acct-Multi-Session-Id (50, RFC 6733 §9.8.5).
    pub acct_multi_session_id: Option<&'a str>,
    /// Accounting-Sub-Session-Id (287, RFC 6733 §9.8.6).
    pub accounting_sub_session_id: Option<u64>,
    /// Acct-Interim-Interval (85, RFC 6733 §9.8.2): seconds.
    pub acct_interim_interval: Option<u32>,
    /// Origin-State-Id (278, RFC 6733 §8.16).
    pub origin_state_id: Option<u32>,
    /// Event-Timestamp (55, RFC 6733 §8.21).
    pub event_timestamp: Option<Timestamp>,
    /// Service-Type (6, RFC 2865 §5.6): 15, Sip-Session.
    pub service_type: Option<ServiceType>,
    /// Sip-Method (204, OpenSIPS).
    pub sip_method: Option<SipMethod>,
    /// Sip-Response-Code (205, OpenSIPS).
    pub sip_response_code: Option<u32>,
    /// Sip-From-Tag (206, OpenSIPS).
    pub sip_from_tag: Option<&'a str>,
    /// Sip-To-Tag (207, OpenSIPS).
    pub sip_to_tag: Option<&'a str>,
    /// Sip-Call-Duration (227, OpenSIPS): seconds, rounded up.
    pub sip_call_duration: Option<u32>,
    /// Sip-Call-Setuptime (228, OpenSIPS): seconds from INVITE to 200 OK.
    pub sip_call_setuptime: Option<u32>,
    /// Sip-Call-Created (229, OpenSIPS): Unix time of the call start.
    pub sip_call_created: Option<u32>,
    /// Sip-Call-MSDuration (230, OpenSIPS): milliseconds, rounded up.
    pub sip_call_ms_duration: Option<u32>,
}

/// The fields of an ACR as its AVPs are read (see [`Acr::decode`]): a
/// struct with an inlined method rather than a closure, which the
/// validation walk would call out of line.
#[derive(Default)]
struct Fields<'a> {
    session_id: Option<&'a str>,
    origin_host: Option<&'a str>,
    origin_realm: Option<&'a str>,
    destination_realm: Option<&'a str>,
    accounting_record_type: Option<AccountingRecordType>,
    accounting_record_number: Option<u32>,
    acct_application_id: Option<u32>,
    user_name: Option<&'a str>,
    destination_host: Option<&'a str>,
    acct_session_id: Option<&'a [u8]>,
    acct_multi_session_id: Option<&'a str>,
    accounting_sub_session_id: Option<u64>,
    acct_interim_interval: Option<u32>,
    origin_state_id: Option<u32>,
    event_timestamp: Option<Timestamp>,
    service_type: Option<ServiceType>,
    sip_method: Option<SipMethod>,
    sip_response_code: Option<u32>,
    sip_from_tag: Option<&'a str>,
    sip_to_tag: Option<&'a str>,
    sip_call_duration: Option<u32>,
    sip_call_setuptime: Option<u32>,
    sip_call_created: Option<u32>,
    sip_call_ms_duration: Option<u32>,
}

impl<'a> Fields<'a> {
    /// Read one top-level AVP, checked in `walk` when given (see
    /// [`fields!`]): the first of each field's AVPs is kept.
    #[inline(always)]
    fn read(&mut self, avp: &Avp<'a>, mut walk: Option<&mut WalkState<'_>>) -> Result<bool, Error> {
        let Fields {
            session_id,
            origin_host,
            origin_realm,
            destination_realm,
            accounting_record_type,
            accounting_record_number,
            acct_application_id,
            user_name,
            destination_host,
            acct_session_id,
            acct_multi_session_id,
            accounting_sub_session_id,
            acct_interim_interval,
            origin_state_id,
            event_timestamp,
            service_type,
            sip_method,
            sip_response_code,
            sip_from_tag,
            sip_to_tag,
            sip_call_duration,
            sip_call_setuptime,
            sip_call_created,
            sip_call_ms_duration,
        } = self;
        fields!(base::ACR.grammar; avp, walk;
            session_id = base::SESSION_ID,
            origin_host = base::ORIGIN_HOST,
            origin_realm = base::ORIGIN_REALM,
            destination_realm = base::DESTINATION_REALM,
            accounting_record_type = base::ACCOUNTING_RECORD_TYPE,
            accounting_record_number = base::ACCOUNTING_RECORD_NUMBER,
            acct_application_id = base::ACCT_APPLICATION_ID,
            user_name = base::USER_NAME,
            destination_host = base::DESTINATION_HOST,
            acct_session_id = base::ACCT_SESSION_ID,
            acct_multi_session_id = base::ACCT_MULTI_SESSION_ID,
            accounting_sub_session_id = base::ACCOUNTING_SUB_SESSION_ID,
            acct_interim_interval = base::ACCT_INTERIM_INTERVAL,
            origin_state_id = base::ORIGIN_STATE_ID,
            event_timestamp = base::EVENT_TIMESTAMP,
            service_type = sip::SERVICE_TYPE,
            sip_method = sip::SIP_METHOD,
            sip_response_code = sip::SIP_RESPONSE_CODE,
            sip_from_tag = sip::SIP_FROM_TAG,
            sip_to_tag = sip::SIP_TO_TAG,
            sip_call_duration = sip::SIP_CALL_DURATION,
            sip_call_setuptime = sip::SIP_CALL_SETUPTIME,
            sip_call_created = sip::SIP_CALL_CREATED,
            sip_call_ms_duration = sip::SIP_CALL_MS_DURATION,
        )
    }
}

fields_reader!(Fields);

/// Validate `msg` against [`base::ACR`] with the [`CreditControl`]
/// dictionary, the AVPs the ACR's reader lists checked by it
/// ([`CreditControl`]'s [`Dictionary::validate_command`]).
///
/// [`CreditControl`]: crate::CreditControl
/// [`Dictionary::validate_command`]: diameter_core::Dictionary::validate_command
#[cfg(all(feature = "server", not(target_os = "none")))]
pub(crate) fn validate(msg: &Message<'_>, config: &ParseConfig) -> Result<(), Error> {
    let mut checks = super::Checks(Fields::default());
    msg.validate_command_reading(&base::ACR, &crate::CreditControl, config, &mut checks)
}

impl<'a> Acr<'a> {
    /// Check that `msg` is an ACR (Command-Code 271, R bit), validate it
    /// against RFC 6733 §9.7.1 ([`base::ACR`]) with the
    /// [`CreditControl`](crate::CreditControl) dictionary and read its
    /// fields. Errors as for [`Ccr::decode`](super::Ccr::decode), without
    /// the Application-Id check.
    ///
    /// ```
    /// use diameter_cc::msg::{Acr, AcrRepr};
    /// use diameter_cc::dict::base::AccountingRecordType;
    /// use diameter_core::{Message, MessageBuilder, ErrorKind, dict::base};
    /// // No Accounting-Record-Number: 5005 names AVP 485.
    /// let mut buf = [0u8; 256];
    /// let mut b = MessageBuilder::new(&mut buf, AcrRepr::header(1, 1));
    /// b.put(&base::SESSION_ID, "s").put(&base::ORIGIN_HOST, "h").put(&base::ORIGIN_REALM, "r")
    ///     .put(&base::DESTINATION_REALM, "r")
    ///     .put(&base::ACCOUNTING_RECORD_TYPE, AccountingRecordType::EventRecord);
    /// let e = Acr::decode(&Message::parse(b.finish().unwrap()).unwrap()).unwrap_err();
    /// assert_eq!((e.kind(), e.avp().unwrap().code), (ErrorKind::MissingAvp, 485));
    /// ```
    pub fn decode(msg: &Message<'a>) -> Result<Acr<'a>, Error> {
        Self::decode_with_config(msg, &ParseConfig::DEFAULT)
    }

    /// [`Acr::decode`] with explicit validation settings.
    ///
    /// ```
    /// use diameter_cc::msg::{Acr, AcrRepr};
    /// use diameter_cc::dict::base::AccountingRecordType;
    /// use diameter_core::{Message, ParseConfig};
    /// let r = AcrRepr::new("s", "h", "r", "r", AccountingRecordType::EventRecord, 0);
    /// let mut buf = [0u8; 256];
    /// let msg = Message::parse(r.encode(AcrRepr::header(1, 1), &mut buf).unwrap()).unwrap();
    /// assert!(Acr::decode_with_config(&msg, &ParseConfig::DEFAULT).is_ok());
    /// ```
    pub fn decode_with_config(msg: &Message<'a>, config: &ParseConfig) -> Result<Acr<'a>, Error> {
        let mut fields = Fields::default();
        read_avps(msg, &base::ACR, None, config, &mut fields)?;
        Ok(Acr {
            message: *msg,
            session_id: required(fields.session_id, &base::SESSION_ID)?,
            origin_host: required(fields.origin_host, &base::ORIGIN_HOST)?,
            origin_realm: required(fields.origin_realm, &base::ORIGIN_REALM)?,
            destination_realm: required(fields.destination_realm, &base::DESTINATION_REALM)?,
            accounting_record_type: required(
                fields.accounting_record_type,
                &base::ACCOUNTING_RECORD_TYPE,
            )?,
            accounting_record_number: required(
                fields.accounting_record_number,
                &base::ACCOUNTING_RECORD_NUMBER,
            )?,
            acct_application_id: fields.acct_application_id,
            user_name: fields.user_name,
            destination_host: fields.destination_host,
            acct_session_id: fields.acct_session_id,
            acct_multi_session_id: fields.acct_multi_session_id,
            accounting_sub_session_id: fields.accounting_sub_session_id,
            acct_interim_interval: fields.acct_interim_interval,
            origin_state_id: fields.origin_state_id,
            event_timestamp: fields.event_timestamp,
            service_type: fields.service_type,
            sip_method: fields.sip_method,
            sip_response_code: fields.sip_response_code,
            sip_from_tag: fields.sip_from_tag,
            sip_to_tag: fields.sip_to_tag,
            sip_call_duration: fields.sip_call_duration,
            sip_call_setuptime: fields.sip_call_setuptime,
            sip_call_created: fields.sip_call_created,
            sip_call_ms_duration: fields.sip_call_ms_duration,
        })
    }

    /// Start the answer (RFC 6733 §9.7.2): an [`AcaRepr`] echoing
    /// Session-Id, Accounting-Record-Type, Accounting-Record-Number and
    /// Acct-Application-Id, with the server's identity and `result_code`.
    ///
    /// ```
    /// use diameter_cc::msg::{Aca, Acr, AcrRepr};
    /// use diameter_cc::dict::base::AccountingRecordType;
    /// use diameter_core::{Message, ResultCode};
    /// let r = AcrRepr { acct_application_id: Some(3),
    ///     ..AcrRepr::new("s", "h", "r", "r", AccountingRecordType::InterimRecord, 2) };
    /// let mut req = [0u8; 256];
    /// let request = Message::parse(r.encode(AcrRepr::header(1, 1), &mut req).unwrap()).unwrap();
    /// let acr = Acr::decode(&request).unwrap();
    /// let mut buf = [0u8; 256];
    /// let bytes = acr.answer("server", "r", ResultCode::SUCCESS)
    ///     .encode_answer_to(&request, &mut buf).unwrap();
    /// let aca = Aca::decode(&Message::parse(bytes).unwrap()).unwrap();
    /// assert_eq!(aca.accounting_record_number, Some(2));
    /// assert_eq!(aca.acct_application_id, Some(3));
    /// ```
    pub fn answer(
        &self,
        origin_host: &'a str,
        origin_realm: &'a str,
        result_code: ResultCode,
    ) -> AcaRepr<'a> {
        AcaRepr {
            acct_application_id: self.acct_application_id,
            ..AcaRepr::new(
                self.session_id,
                result_code,
                origin_host,
                origin_realm,
                self.accounting_record_type,
                self.accounting_record_number,
            )
        }
    }
}

/// An Accounting-Request (RFC 6733 §9.7.1) to send.
///
/// Written in grammar order: Session-Id, Origin-Host, Origin-Realm,
/// Destination-Realm, Accounting-Record-Type, Accounting-Record-Number,
/// Acct-Application-Id, User-Name, Destination-Host, Acct-Session-Id,
/// Acct-Interim-Interval, Origin-State-Id, Event-Timestamp (the order of the
/// bench message `acr-start`), then the SIP accounting AVPs in code order
/// (Service-Type, Sip-Method, Sip-Response-Code, Sip-From-Tag, Sip-To-Tag,
/// Sip-Call-Duration, Sip-Call-Setuptime, Sip-Call-Created,
/// Sip-Call-MSDuration) among the `*[ AVP ]`.
///
/// ```
/// use diameter_cc::msg::AcrRepr;
/// use diameter_cc::dict::base::AccountingRecordType;
/// use diameter_core::Timestamp;
/// // The SCENARIOS START record: record number 0, stable Acct-Session-Id.
/// let start = AcrRepr {
///     acct_application_id: Some(3),
///     user_name: Some("1001"),
///     acct_session_id: Some(b"call-1"),
///     acct_interim_interval: Some(300),
///     event_timestamp: Timestamp::from_unix(1_704_067_200),
///     ..AcrRepr::new("call-1", "client.diameter.test", "diameter.test", "diameter.test",
///                    AccountingRecordType::StartRecord, 0)
/// };
/// let mut buf = [0u8; 512];
/// assert!(start.encode(AcrRepr::header(1, 1), &mut buf).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AcrRepr<'a> {
    /// Session-Id (263, RFC 6733 §8.8).
    pub session_id: &'a str,
    /// Origin-Host (264, RFC 6733 §6.3).
    pub origin_host: &'a str,
    /// Origin-Realm (296, RFC 6733 §6.4).
    pub origin_realm: &'a str,
    /// Destination-Realm (283, RFC 6733 §6.6).
    pub destination_realm: &'a str,
    /// Accounting-Record-Type (480, RFC 6733 §9.8.1).
    pub accounting_record_type: AccountingRecordType,
    /// Accounting-Record-Number (485, RFC 6733 §9.8.3).
    pub accounting_record_number: u32,
    /// Acct-Application-Id (259, RFC 6733 §6.9).
    pub acct_application_id: Option<u32>,
    /// User-Name (1, RFC 6733 §8.14).
    pub user_name: Option<&'a str>,
    /// Destination-Host (293, RFC 6733 §6.5).
    pub destination_host: Option<&'a str>,
    /// Acct-Session-Id (44, RFC 6733 §9.8.4).
    pub acct_session_id: Option<&'a [u8]>,
    /// Acct-Interim-Interval (85, RFC 6733 §9.8.2).
    pub acct_interim_interval: Option<u32>,
    /// Origin-State-Id (278, RFC 6733 §8.16).
    pub origin_state_id: Option<u32>,
    /// Event-Timestamp (55, RFC 6733 §8.21).
    pub event_timestamp: Option<Timestamp>,
    /// Service-Type (6, RFC 2865 §5.6).
    pub service_type: Option<ServiceType>,
    /// Sip-Method (204, OpenSIPS).
    pub sip_method: Option<SipMethod>,
    /// Sip-Response-Code (205, OpenSIPS).
    pub sip_response_code: Option<u32>,
    /// Sip-From-Tag (206, OpenSIPS).
    pub sip_from_tag: Option<&'a str>,
    /// Sip-To-Tag (207, OpenSIPS).
    pub sip_to_tag: Option<&'a str>,
    /// Sip-Call-Duration (227, OpenSIPS).
    pub sip_call_duration: Option<u32>,
    /// Sip-Call-Setuptime (228, OpenSIPS).
    pub sip_call_setuptime: Option<u32>,
    /// Sip-Call-Created (229, OpenSIPS).
    pub sip_call_created: Option<u32>,
    /// Sip-Call-MSDuration (230, OpenSIPS).
    pub sip_call_ms_duration: Option<u32>,
    /// Accounting-Realtime-Required (483, RFC 6733 §9.8.7).
    pub accounting_realtime_required: Option<base::AccountingRealtimeRequired>,
    /// Acct-Status-Type (40, RFC 2866 §5.1), as OpenSIPS sends it.
    pub acct_status_type: Option<sip::AcctStatusType>,
    /// SIP-AVP (225, OpenSIPS) values, one AVP each, written last.
    pub sip_avps: &'a [&'a str],
}

impl<'a> AcrRepr<'a> {
    /// The required AVPs of RFC 6733 §9.7.1, nothing optional.
    ///
    /// ```
    /// use diameter_cc::msg::AcrRepr;
    /// use diameter_cc::dict::base::AccountingRecordType;
    /// let r = AcrRepr::new("s", "h", "r", "r", AccountingRecordType::EventRecord, 0);
    /// assert!(r.acct_application_id.is_none() && r.sip_method.is_none());
    /// ```
    pub const fn new(
        session_id: &'a str,
        origin_host: &'a str,
        origin_realm: &'a str,
        destination_realm: &'a str,
        accounting_record_type: AccountingRecordType,
        accounting_record_number: u32,
    ) -> Self {
        AcrRepr {
            session_id,
            origin_host,
            origin_realm,
            destination_realm,
            accounting_record_type,
            accounting_record_number,
            acct_application_id: None,
            user_name: None,
            destination_host: None,
            acct_session_id: None,
            acct_interim_interval: None,
            origin_state_id: None,
            event_timestamp: None,
            service_type: None,
            sip_method: None,
            sip_response_code: None,
            sip_from_tag: None,
            sip_to_tag: None,
            sip_call_duration: None,
            sip_call_setuptime: None,
            sip_call_created: None,
            sip_call_ms_duration: None,
            accounting_realtime_required: None,
            acct_status_type: None,
            sip_avps: &[],
        }
    }

    /// The ACR header of split accounting (RFC 6733 §9.7.1, §9.3):
    /// Command-Code 271, R and P set, Application-Id 3 (base accounting).
    ///
    /// ```
    /// use diameter_cc::msg::AcrRepr;
    /// let h = AcrRepr::header(1, 2);
    /// assert_eq!((h.command_code.0, h.application_id.0, h.flags.bits()), (271, 3, 0xc0));
    /// ```
    pub const fn header(hop_by_hop: u32, end_to_end: u32) -> HeaderRepr {
        HeaderRepr::request(
            CommandCode::ACCOUNTING,
            ApplicationId::BASE_ACCOUNTING,
            hop_by_hop,
            end_to_end,
        )
        .proxiable(true)
    }

    /// Append every AVP in grammar order.
    ///
    /// ```
    /// use diameter_cc::msg::AcrRepr;
    /// use diameter_cc::dict::{base::AccountingRecordType, sip};
    /// use diameter_core::MessageBuilder;
    /// let r = AcrRepr::new("s", "h", "r", "r", AccountingRecordType::EventRecord, 0);
    /// let mut buf = [0u8; 256];
    /// let mut b = MessageBuilder::new(&mut buf, AcrRepr::header(1, 1));
    /// r.write(&mut b);
    /// b.put(&sip::SIP_AVP, "billing:gold"); // more AVPs may follow
    /// assert!(b.finish().is_ok());
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        b.put(&base::SESSION_ID, self.session_id)
            .put(&base::ORIGIN_HOST, self.origin_host)
            .put(&base::ORIGIN_REALM, self.origin_realm)
            .put(&base::DESTINATION_REALM, self.destination_realm)
            .put(&base::ACCOUNTING_RECORD_TYPE, self.accounting_record_type)
            .put(
                &base::ACCOUNTING_RECORD_NUMBER,
                self.accounting_record_number,
            );
        if let Some(v) = self.acct_application_id {
            b.put(&base::ACCT_APPLICATION_ID, v);
        }
        if let Some(v) = self.user_name {
            b.put(&base::USER_NAME, v);
        }
        if let Some(v) = self.destination_host {
            b.put(&base::DESTINATION_HOST, v);
        }
        if let Some(v) = self.acct_session_id {
            b.put(&base::ACCT_SESSION_ID, v);
        }
        if let Some(v) = self.acct_interim_interval {
            b.put(&base::ACCT_INTERIM_INTERVAL, v);
        }
        if let Some(v) = self.accounting_realtime_required {
            b.put(&base::ACCOUNTING_REALTIME_REQUIRED, v);
        }
        if let Some(v) = self.origin_state_id {
            b.put(&base::ORIGIN_STATE_ID, v);
        }
        if let Some(v) = self.event_timestamp {
            b.put(&base::EVENT_TIMESTAMP, v);
        }
        if let Some(v) = self.service_type {
            b.put(&sip::SERVICE_TYPE, v);
        }
        if let Some(v) = self.acct_status_type {
            b.put(&sip::ACCT_STATUS_TYPE, v);
        }
        if let Some(v) = self.sip_method {
            b.put(&sip::SIP_METHOD, v);
        }
        if let Some(v) = self.sip_response_code {
            b.put(&sip::SIP_RESPONSE_CODE, v);
        }
        if let Some(v) = self.sip_from_tag {
            b.put(&sip::SIP_FROM_TAG, v);
        }
        if let Some(v) = self.sip_to_tag {
            b.put(&sip::SIP_TO_TAG, v);
        }
        if let Some(v) = self.sip_call_setuptime {
            b.put(&sip::SIP_CALL_SETUPTIME, v);
        }
        if let Some(v) = self.sip_call_created {
            b.put(&sip::SIP_CALL_CREATED, v);
        }
        if let Some(v) = self.sip_call_duration {
            b.put(&sip::SIP_CALL_DURATION, v);
        }
        if let Some(v) = self.sip_call_ms_duration {
            b.put(&sip::SIP_CALL_MS_DURATION, v);
        }
        for v in self.sip_avps {
            b.put(&sip::SIP_AVP, v);
        }
    }

    /// Build the whole message into `buf` with `header` (normally
    /// [`AcrRepr::header`]).
    ///
    /// ```
    /// use diameter_cc::msg::AcrRepr;
    /// use diameter_cc::dict::base::AccountingRecordType;
    /// let r = AcrRepr::new("s", "h", "r", "r", AccountingRecordType::EventRecord, 0);
    /// let mut buf = [0u8; 256];
    /// assert!(r.encode(AcrRepr::header(1, 1), &mut buf).is_ok());
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{assert_compiled_validation, every_corruption, Interpreted};
    use diameter_core::dict::base as core_base;

    /// The one-pass decode of an ACR nobody validated (the AVPs its reader
    /// lists checked by that reader, in the validation walk) gives what the
    /// generic validator and then the read give: the same ACR or the same
    /// error, for a full ACR (SIP AVPs among the `*[ AVP ]`, a Proxy-Info
    /// and a Route-Record left to the generic checks) and every one-byte
    /// corruption of it; and the dictionary's compiled validation of the
    /// ACR agrees with the generic one.
    #[test]
    fn one_pass_equals_validate_then_read() {
        let repr = AcrRepr {
            acct_application_id: Some(3),
            user_name: Some("1001@example"),
            destination_host: Some("cdr.example"),
            acct_session_id: Some(b"call-1"),
            acct_interim_interval: Some(60),
            origin_state_id: Some(7),
            event_timestamp: Timestamp::from_unix(1_704_067_200),
            service_type: Some(ServiceType::SipSession),
            sip_method: Some(SipMethod::Bye),
            sip_response_code: Some(200),
            sip_from_tag: Some("f1"),
            sip_to_tag: Some("t1"),
            sip_call_duration: Some(42),
            sip_call_setuptime: Some(2),
            sip_call_created: Some(1_704_067_158),
            sip_call_ms_duration: Some(41_500),
            ..AcrRepr::new(
                "acct;1",
                "client.example",
                "example",
                "example",
                AccountingRecordType::StopRecord,
                3,
            )
        };
        let mut buf = [0u8; 1024];
        let mut b = MessageBuilder::new(&mut buf, AcrRepr::header(1, 2));
        repr.write(&mut b);
        b.grouped(&core_base::PROXY_INFO, |g| {
            g.put(&core_base::PROXY_HOST, "proxy.example")
                .put(&core_base::PROXY_STATE, &b"st"[..]);
        });
        b.put(&core_base::ROUTE_RECORD, "relay.example");
        let bytes = b.finish().unwrap();
        let both = |b: &[u8]| {
            let Ok(msg) = Message::new_checked(b) else {
                return;
            };
            assert_compiled_validation(&msg);
            let one = Acr::decode(&msg).map(|a| Acr { message: msg, ..a });
            let two = msg
                .validated(&Interpreted)
                .and_then(|m| Acr::decode(&m))
                .map(|a| Acr { message: msg, ..a });
            assert_eq!(one, two, "{b:02x?}");
        };
        let acr = Acr::decode(&Message::new_checked(bytes).unwrap()).unwrap();
        assert_eq!(acr.sip_call_ms_duration, Some(41_500));
        every_corruption(bytes, both);
    }
}
