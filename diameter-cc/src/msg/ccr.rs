//! Credit-Control-Request (272, REQ, PXY, application 4), RFC 8506 §3.1.

use diameter_core::types::Timestamp;
use diameter_core::{
    ApplicationId, Avp, AvpSet, CommandCode, EncodeError, Error, HeaderRepr, Message,
    MessageBuilder, ParseConfig, ResultCode,
};

use diameter_core::read::{ReadAvps, WalkState};

use super::groups::{ServiceInformationReader, SubscriptionIdReader};
use super::in_walk::InWalk;
use super::units::ServiceUnitReader;
use super::Mscc;
use super::{
    fields, read_avps, required, CcaRepr, Groups, ImsInformation, ImsRepr, MsccIter, MsccRepr,
    ServiceUnit, ServiceUnits, SubscriptionId, SubscriptionIds,
};
use crate::dict::base::{self, TerminationCause};
use crate::dict::tgpp;
use crate::dict::{self, CcRequestType, MultipleServicesIndicator, RequestedAction};

/// A Credit-Control-Request (RFC 8506 §3.1) as decoded: typed fields for
/// what a charging server reads, borrowed from the message.
///
/// The grammar, in the order [`CcrRepr`] writes it:
///
/// ```text
/// < Session-Id > { Origin-Host } { Origin-Realm } { Destination-Realm }
/// { Auth-Application-Id } { Service-Context-Id } { CC-Request-Type }
/// { CC-Request-Number } [ Destination-Host ] [ User-Name ]
/// [ Origin-State-Id ] [ Event-Timestamp ] *[ Subscription-Id ]
/// [ Service-Identifier ] [ Termination-Cause ] [ Requested-Service-Unit ]
/// [ Requested-Action ] *[ Used-Service-Unit ] [ Multiple-Services-Indicator ]
/// *[ Multiple-Services-Credit-Control ] ... *[ AVP ]
/// (Service-Information, 3GPP TS 32.299 §6.4.2, among the *[ AVP ])
/// ```
///
/// Repeated AVPs are iterators ([`Ccr::subscription_ids`],
/// [`Ccr::used_service_units`], [`Ccr::mscc`]); the first Subscription-Id
/// also has a field. Everything else is in [`Ccr::message`].
///
/// ```
/// use diameter_cc::msg::{Ccr, CcrRepr, ServiceUnit};
/// use diameter_cc::dict::CcRequestType;
/// use diameter_cc::CreditControl;
/// use diameter_core::{Message, dict::base::TerminationCause};
///
/// // CCR-T of the SCENARIOS prepaid call: hangup after 42 s.
/// let repr = CcrRepr {
///     termination_cause: Some(TerminationCause::Logout),
///     used_service_units: &[ServiceUnit::time(42)],
///     ..CcrRepr::new("sid;1", "client.diameter.test", "diameter.test", "diameter.test",
///                    "voice@OsipsDiamCCR", CcRequestType::Termination, 2)
/// };
/// let mut buf = [0u8; 512];
/// let bytes = repr.encode(CcrRepr::header(7, 7), &mut buf).unwrap();
/// let msg = Message::parse_with(bytes, &CreditControl).unwrap();
/// let ccr = Ccr::decode(&msg).unwrap();
/// assert_eq!((ccr.cc_request_type, ccr.cc_request_number), (CcRequestType::Termination, 2));
/// assert_eq!(ccr.termination_cause, Some(TerminationCause::Logout));
/// assert_eq!(ccr.used_service_units().next().unwrap().unwrap().cc_time, Some(42));
/// assert_eq!(ccr.requested_service_unit, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Ccr<'a> {
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
    /// Destination-Host (293, RFC 6733 §6.5).
    pub destination_host: Option<&'a str>,
    /// Auth-Application-Id (258, RFC 6733 §6.8): 4.
    pub auth_application_id: u32,
    /// Service-Context-Id (461, RFC 8506 §8.42).
    pub service_context_id: &'a str,
    /// CC-Request-Type (416, RFC 8506 §8.3).
    pub cc_request_type: CcRequestType,
    /// CC-Request-Number (415, RFC 8506 §8.2).
    pub cc_request_number: u32,
    /// User-Name (1, RFC 6733 §8.14).
    pub user_name: Option<&'a str>,
    /// Origin-State-Id (278, RFC 6733 §8.16).
    pub origin_state_id: Option<u32>,
    /// Event-Timestamp (55, RFC 6733 §8.21).
    pub event_timestamp: Option<Timestamp>,
    /// The first Subscription-Id (443, RFC 8506 §8.46); all of them with
    /// [`Ccr::subscription_ids`].
    pub subscription_id: Option<SubscriptionId<'a>>,
    /// Service-Identifier (439, RFC 8506 §8.28).
    pub service_identifier: Option<u32>,
    /// Termination-Cause (295, RFC 6733 §8.15), in TERMINATION_REQUESTs
    /// (and, in the SCENARIOS postpaid flow, EVENT_REQUESTs).
    pub termination_cause: Option<TerminationCause>,
    /// Requested-Service-Unit (437, RFC 8506 §8.18).
    pub requested_service_unit: Option<ServiceUnit>,
    /// Requested-Action (436, RFC 8506 §8.41), in EVENT_REQUESTs.
    pub requested_action: Option<RequestedAction>,
    /// Multiple-Services-Indicator (455, RFC 8506 §8.40).
    pub multiple_services_indicator: Option<MultipleServicesIndicator>,
    /// The content of Service-Information (873/10415, TS 32.299 §7.2).
    pub service_information: Option<AvpSet<'a>>,
    /// The IMS-Information (876/10415) inside Service-Information.
    pub ims: Option<ImsInformation<'a>>,
    /// Where the repeated AVPs start (message offsets of the first
    /// Subscription-Id, Used-Service-Unit and Multiple-Services-Credit-
    /// Control, the message length for none), noted by the decoding walk
    /// so that their iterators do not walk the AVPs before them again.
    repeated_at: RepeatedAt,
}

/// Message offsets of the first AVP of each repeated kind of a [`Ccr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct RepeatedAt {
    subscription_id: u32,
    used_service_unit: u32,
    mscc: u32,
}

/// The fields of a CCR as its AVPs are read (see [`Ccr::decode`]): a
/// struct with an inlined method rather than a closure, which the
/// validation walk would call out of line.
struct Fields<'a> {
    session_id: Option<&'a str>,
    origin_host: Option<&'a str>,
    origin_realm: Option<&'a str>,
    destination_realm: Option<&'a str>,
    destination_host: Option<&'a str>,
    auth_application_id: Option<u32>,
    service_context_id: Option<&'a str>,
    cc_request_type: Option<CcRequestType>,
    cc_request_number: Option<u32>,
    user_name: Option<&'a str>,
    origin_state_id: Option<u32>,
    event_timestamp: Option<Timestamp>,
    subscription_id: InWalk<'a, SubscriptionIdReader<'a>>,
    service_identifier: Option<u32>,
    termination_cause: Option<TerminationCause>,
    requested_service_unit: InWalk<'a, ServiceUnitReader>,
    requested_action: Option<RequestedAction>,
    multiple_services_indicator: Option<MultipleServicesIndicator>,
    service_information: InWalk<'a, ServiceInformationReader<'a>>,
    at: RepeatedAt,
}

impl<'a> Fields<'a> {
    fn new(msg: &Message<'a>) -> Self {
        let end = msg.as_bytes().len().min(u32::MAX as usize) as u32;
        Fields {
            session_id: None,
            origin_host: None,
            origin_realm: None,
            destination_realm: None,
            destination_host: None,
            auth_application_id: None,
            service_context_id: None,
            cc_request_type: None,
            cc_request_number: None,
            user_name: None,
            origin_state_id: None,
            event_timestamp: None,
            subscription_id: InWalk::new(SubscriptionIdReader::default()),
            service_identifier: None,
            termination_cause: None,
            requested_service_unit: InWalk::new(ServiceUnitReader(ServiceUnit::EMPTY)),
            requested_action: None,
            multiple_services_indicator: None,
            service_information: InWalk::new(ServiceInformationReader::new()),
            at: RepeatedAt {
                subscription_id: end,
                used_service_unit: end,
                mscc: end,
            },
        }
    }

    /// The CCR, once every AVP was read (5005 for a missing field).
    fn finish(self, msg: &Message<'a>) -> Result<Ccr<'a>, Error> {
        let (service_information, ims) = match self.service_information.value {
            Some((si, ims)) => (Some(si), ims),
            None => (None, None),
        };
        Ok(Ccr {
            message: *msg,
            session_id: required(self.session_id, &base::SESSION_ID)?,
            origin_host: required(self.origin_host, &base::ORIGIN_HOST)?,
            origin_realm: required(self.origin_realm, &base::ORIGIN_REALM)?,
            destination_realm: required(self.destination_realm, &base::DESTINATION_REALM)?,
            destination_host: self.destination_host,
            auth_application_id: required(self.auth_application_id, &base::AUTH_APPLICATION_ID)?,
            service_context_id: required(self.service_context_id, &dict::SERVICE_CONTEXT_ID)?,
            cc_request_type: required(self.cc_request_type, &dict::CC_REQUEST_TYPE)?,
            cc_request_number: required(self.cc_request_number, &dict::CC_REQUEST_NUMBER)?,
            user_name: self.user_name,
            origin_state_id: self.origin_state_id,
            event_timestamp: self.event_timestamp,
            subscription_id: self.subscription_id.value,
            service_identifier: self.service_identifier,
            termination_cause: self.termination_cause,
            requested_service_unit: self.requested_service_unit.value,
            requested_action: self.requested_action,
            multiple_services_indicator: self.multiple_services_indicator,
            service_information,
            ims,
            repeated_at: self.at,
        })
    }
}

impl<'a> Fields<'a> {
    /// Read one top-level AVP of a simple (not Grouped) field, checked in
    /// `walk` when given (see [`fields!`]): the first copy is kept.
    #[inline(always)]
    fn simple(
        &mut self,
        avp: &Avp<'a>,
        mut walk: Option<&mut WalkState<'_>>,
    ) -> Result<bool, Error> {
        let Fields {
            session_id,
            origin_host,
            origin_realm,
            destination_realm,
            destination_host,
            auth_application_id,
            service_context_id,
            cc_request_type,
            cc_request_number,
            user_name,
            origin_state_id,
            event_timestamp,
            service_identifier,
            termination_cause,
            requested_action,
            multiple_services_indicator,
            ..
        } = self;
        fields!(dict::CCR.grammar; avp, walk;
            session_id = base::SESSION_ID,
            origin_host = base::ORIGIN_HOST,
            origin_realm = base::ORIGIN_REALM,
            destination_realm = base::DESTINATION_REALM,
            auth_application_id = base::AUTH_APPLICATION_ID,
            service_context_id = dict::SERVICE_CONTEXT_ID,
            cc_request_type = dict::CC_REQUEST_TYPE,
            cc_request_number = dict::CC_REQUEST_NUMBER,
            destination_host = base::DESTINATION_HOST,
            user_name = base::USER_NAME,
            origin_state_id = base::ORIGIN_STATE_ID,
            event_timestamp = base::EVENT_TIMESTAMP,
            service_identifier = dict::SERVICE_IDENTIFIER,
            termination_cause = base::TERMINATION_CAUSE,
            requested_action = dict::REQUESTED_ACTION,
            multiple_services_indicator = dict::MULTIPLE_SERVICES_INDICATOR,
        )
    }
}

impl<'a> ReadAvps<'a> for Fields<'a> {
    /// Read one top-level AVP: the first of each field's AVPs is kept.
    #[inline(always)]
    fn avp(&mut self, avp: &Avp<'a>) -> Result<(), Error> {
        if avp.vendor() == 0 {
            let at = &mut self.at;
            let first = |at: &mut u32| *at = (*at).min(avp.offset() as u32);
            match avp.code() {
                c if c == dict::SUBSCRIPTION_ID.code() => {
                    first(&mut at.subscription_id);
                    return self.subscription_id.close(avp);
                }
                c if c == dict::REQUESTED_SERVICE_UNIT.code() => {
                    return self.requested_service_unit.close(avp);
                }
                c if c == dict::USED_SERVICE_UNIT.code() => first(&mut at.used_service_unit),
                c if c == dict::MULTIPLE_SERVICES_CREDIT_CONTROL.code() => first(&mut at.mscc),
                _ => {}
            }
        } else if avp.is(
            tgpp::SERVICE_INFORMATION.code(),
            tgpp::SERVICE_INFORMATION.vendor(),
        ) {
            return self.service_information.close(avp);
        }
        self.simple(avp, None).map(drop)
    }

    /// The simple fields are checked and read in one dispatch.
    // Not asked on bare metal (flash): see `ReadAvps::listed`.
    #[cfg(not(target_os = "none"))]
    #[inline(always)]
    fn listed(&mut self, avp: &Avp<'a>, walk: &mut WalkState<'_>) -> Result<bool, Error> {
        self.simple(avp, Some(walk))
    }

    /// The first Subscription-Id, Requested-Service-Unit and
    /// Service-Information are read in the walk that validates them.
    #[inline(always)]
    fn group(&mut self, avp: &Avp<'a>) -> Option<&mut dyn ReadAvps<'a>> {
        match (avp.code(), avp.vendor()) {
            (c, 0) if c == dict::SUBSCRIPTION_ID.code() => self.subscription_id.open(),
            (c, 0) if c == dict::REQUESTED_SERVICE_UNIT.code() => {
                self.requested_service_unit.open()
            }
            (c, v)
                if c == tgpp::SERVICE_INFORMATION.code()
                    && v == tgpp::SERVICE_INFORMATION.vendor() =>
            {
                self.service_information.open()
            }
            _ => None,
        }
    }
}

/// Validate `msg` against [`dict::CCR`] with the [`CreditControl`]
/// dictionary, the AVPs the CCR's reader lists checked by it
/// ([`CreditControl`]'s [`Dictionary::validate_command`]).
///
/// [`CreditControl`]: crate::CreditControl
/// [`Dictionary::validate_command`]: diameter_core::Dictionary::validate_command
#[cfg(all(feature = "server", not(target_os = "none")))]
pub(crate) fn validate(msg: &Message<'_>, config: &ParseConfig) -> Result<(), Error> {
    let mut checks = super::Checks(Fields::new(msg));
    msg.validate_command_reading(&dict::CCR, &crate::CreditControl, config, &mut checks)
}

impl<'a> Ccr<'a> {
    /// Check that `msg` is a CCR (Command-Code 272, R bit, Application-Id 4
    /// per RFC 8506 §3.1), validate it against the §3.1 grammar
    /// ([`dict::CCR`]) and the [`CreditControl`](crate::CreditControl)
    /// dictionary, and read its fields.
    ///
    /// Errors: 3001 (another command), 3008 (R bit clear, or P bit clear:
    /// the CCR is proxiable), 3007 (another application), and every error of
    /// [`Message::validate`] (5005 naming a missing AVP, 5009, 5004, 5014,
    /// 5001, 3009 with the offending AVP's position), ready for
    /// [`diameter_core::answer::error_answer`].
    ///
    /// ```
    /// use diameter_cc::msg::{Ccr, CcrRepr};
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_cc::CreditControl;
    /// use diameter_core::{Message, ErrorKind};
    /// let repr = CcrRepr::new("s;1", "c.example", "example", "example", "voice@x",
    ///                         CcRequestType::Event, 0);
    /// let mut buf = [0u8; 256];
    /// let bytes = repr.encode(CcrRepr::header(1, 1), &mut buf).unwrap();
    /// let msg = Message::parse_with(bytes, &CreditControl).unwrap();
    /// assert_eq!(Ccr::decode(&msg).unwrap().service_context_id, "voice@x");
    ///
    /// // The same bytes without the P bit break the §3.1 header rule.
    /// let mut copy = bytes.to_vec();
    /// copy[4] &= !0x40;
    /// let msg = Message::parse(&copy).unwrap();
    /// assert_eq!(Ccr::decode(&msg).unwrap_err().kind(), ErrorKind::InvalidHeaderBits);
    /// ```
    pub fn decode(msg: &Message<'a>) -> Result<Ccr<'a>, Error> {
        Self::decode_with_config(msg, &ParseConfig::DEFAULT)
    }

    /// [`Ccr::decode`] with explicit validation settings (e.g. lenient
    /// reserved AVP flag bits).
    ///
    /// ```
    /// use diameter_cc::msg::{Ccr, CcrRepr};
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_core::{Message, ParseConfig};
    /// let repr = CcrRepr::new("s;1", "c.example", "example", "example", "voice@x",
    ///                         CcRequestType::Event, 0);
    /// let mut buf = [0u8; 256];
    /// let bytes = repr.encode(CcrRepr::header(1, 1), &mut buf).unwrap();
    /// let lenient = ParseConfig { strict_reserved_bits: false, ..ParseConfig::DEFAULT };
    /// let msg = Message::parse(bytes).unwrap();
    /// assert!(Ccr::decode_with_config(&msg, &lenient).is_ok());
    /// ```
    pub fn decode_with_config(msg: &Message<'a>, config: &ParseConfig) -> Result<Ccr<'a>, Error> {
        let mut fields = Fields::new(msg);
        let app = Some(ApplicationId::CREDIT_CONTROL);
        read_avps(msg, &dict::CCR, app, config, &mut fields)?;
        fields.finish(msg)
    }

    /// Every Subscription-Id (`*[ Subscription-Id ]`, RFC 8506 §8.46).
    ///
    /// ```
    /// use diameter_cc::msg::{Ccr, CcrRepr, SubscriptionId};
    /// use diameter_cc::dict::{CcRequestType, SubscriptionIdType};
    /// use diameter_core::Message;
    /// let ids = [SubscriptionId::e164("1001"),
    ///            SubscriptionId { id_type: SubscriptionIdType::SipUri, data: "sip:1001@x" }];
    /// let repr = CcrRepr { subscription_ids: &ids,
    ///     ..CcrRepr::new("s", "h", "r", "r", "voice@x", CcRequestType::Initial, 0) };
    /// let mut buf = [0u8; 512];
    /// let msg = Message::parse(repr.encode(CcrRepr::header(1, 1), &mut buf).unwrap()).unwrap();
    /// let ccr = Ccr::decode(&msg).unwrap();
    /// assert_eq!(ccr.subscription_id, Some(ids[0]));
    /// assert!(ccr.subscription_ids().map(Result::unwrap).eq(ids));
    /// ```
    pub fn subscription_ids(&self) -> SubscriptionIds<'a> {
        Groups::new(
            self.avps_from(self.repeated_at.subscription_id),
            &dict::SUBSCRIPTION_ID,
            SubscriptionId::decode,
        )
    }

    /// Every top-level Used-Service-Unit (`*[ Used-Service-Unit ]`, RFC 8506
    /// §8.19).
    ///
    /// ```
    /// use diameter_cc::msg::{Ccr, CcrRepr, ServiceUnit};
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_core::Message;
    /// let used = [ServiceUnit::time(30), ServiceUnit::total_octets(1500)];
    /// let repr = CcrRepr { used_service_units: &used,
    ///     ..CcrRepr::new("s", "h", "r", "r", "voice@x", CcRequestType::Termination, 3) };
    /// let mut buf = [0u8; 512];
    /// let msg = Message::parse(repr.encode(CcrRepr::header(1, 1), &mut buf).unwrap()).unwrap();
    /// let ccr = Ccr::decode(&msg).unwrap();
    /// assert!(ccr.used_service_units().map(Result::unwrap).eq(used));
    /// ```
    pub fn used_service_units(&self) -> ServiceUnits<'a> {
        Groups::new(
            self.avps_from(self.repeated_at.used_service_unit),
            &dict::USED_SERVICE_UNIT,
            ServiceUnit::decode,
        )
    }

    /// Every Multiple-Services-Credit-Control (`*[
    /// Multiple-Services-Credit-Control ]`, RFC 8506 §8.16), decoded one at
    /// a time from the message bytes: no allocation, no copy.
    ///
    /// ```
    /// use diameter_cc::msg::{Ccr, CcrRepr, MsccRepr, ServiceUnit};
    /// use diameter_cc::dict::{CcRequestType, MultipleServicesIndicator};
    /// use diameter_core::Message;
    /// let used = [ServiceUnit::time(60)];
    /// let msccs = [
    ///     MsccRepr { used_service_units: &used, rating_group: Some(100), ..MsccRepr::EMPTY },
    ///     MsccRepr { rating_group: Some(101), ..MsccRepr::EMPTY },
    /// ];
    /// let repr = CcrRepr {
    ///     multiple_services_indicator: Some(MultipleServicesIndicator::Supported),
    ///     mscc: &msccs,
    ///     ..CcrRepr::new("s", "h", "r", "r", "voice@x", CcRequestType::Update, 1)
    /// };
    /// let mut buf = [0u8; 512];
    /// let msg = Message::parse(repr.encode(CcrRepr::header(1, 1), &mut buf).unwrap()).unwrap();
    /// let ccr = Ccr::decode(&msg).unwrap();
    /// let mut total = 0;
    /// for m in ccr.mscc() {
    ///     let m = m.unwrap();
    ///     for u in m.used_service_units() {
    ///         total += u.unwrap().cc_time.unwrap_or(0);
    ///     }
    /// }
    /// assert_eq!((ccr.mscc().count(), total), (2, 60));
    /// ```
    pub fn mscc(&self) -> MsccIter<'a> {
        Groups::new(
            self.avps_from(self.repeated_at.mscc),
            &dict::MULTIPLE_SERVICES_CREDIT_CONTROL,
            Mscc::decode,
        )
    }

    /// The top-level AVPs from message offset `at` on.
    fn avps_from(&self, at: u32) -> AvpSet<'a> {
        let bytes = self.message.as_bytes();
        AvpSet::new(bytes.get(at as usize..).unwrap_or_default(), at)
    }

    /// Start the answer (RFC 8506 §3.2): a [`CcaRepr`] with this request's
    /// Session-Id, Auth-Application-Id, CC-Request-Type and
    /// CC-Request-Number, the server's identity and `result_code`; add
    /// grants with struct update syntax and send it with
    /// [`CcaRepr::encode_answer_to`].
    ///
    /// ```
    /// use diameter_cc::msg::{Cca, Ccr, CcrRepr, CcaRepr, ServiceUnit};
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_core::{Message, ResultCode};
    /// let mut req = [0u8; 256];
    /// let bytes = CcrRepr::new("s;9", "client.example", "example", "example", "voice@x",
    ///                          CcRequestType::Initial, 0)
    ///     .encode(CcrRepr::header(5, 6), &mut req).unwrap();
    /// let request = Message::parse(bytes).unwrap();
    /// let ccr = Ccr::decode(&request).unwrap();
    ///
    /// let answer = CcaRepr {
    ///     granted_service_unit: Some(ServiceUnit::time(300)),
    ///     ..ccr.answer("ocs.example", "example", ResultCode::SUCCESS)
    /// };
    /// let mut out = [0u8; 256];
    /// let bytes = answer.encode_answer_to(&request, &mut out).unwrap();
    /// let cca = Cca::decode(&Message::parse(bytes).unwrap()).unwrap();
    /// assert_eq!((cca.message.hop_by_hop(), cca.message.end_to_end()), (5, 6));
    /// assert_eq!(cca.session_id, "s;9");
    /// assert_eq!(cca.cc_request_number, Some(0));
    /// assert_eq!(cca.granted_service_unit, Some(ServiceUnit::time(300)));
    /// ```
    pub fn answer(
        &self,
        origin_host: &'a str,
        origin_realm: &'a str,
        result_code: ResultCode,
    ) -> CcaRepr<'a> {
        CcaRepr {
            auth_application_id: self.auth_application_id,
            ..CcaRepr::new(
                self.session_id,
                result_code,
                origin_host,
                origin_realm,
                self.cc_request_type,
                self.cc_request_number,
            )
        }
    }
}

/// A Credit-Control-Request (RFC 8506 §3.1) to send: the values, borrowed.
///
/// [`CcrRepr::write`] appends the AVPs in the order of the §3.1 grammar:
/// Session-Id, Origin-Host, Origin-Realm, Destination-Realm,
/// Auth-Application-Id, Service-Context-Id, CC-Request-Type,
/// CC-Request-Number, Destination-Host, User-Name, Origin-State-Id,
/// Event-Timestamp, Subscription-Id(s), Service-Identifier,
/// Termination-Cause, Requested-Service-Unit, Requested-Action,
/// Used-Service-Unit(s), Multiple-Services-Indicator,
/// Multiple-Services-Credit-Control(s), then
/// `Service-Information { IMS-Information }` (TS 32.299 §6.4.2 puts it
/// there, among the `*[ AVP ]`). That is the order of the shared bench
/// messages `ccr-i` and `ccr-u-large`, which this encodes byte for byte.
///
/// Start from [`CcrRepr::new`] (the required AVPs) and set the rest with
/// struct update syntax. The SCENARIOS "common tail" is `user_name`,
/// `subscription_ids` and `ims`:
///
/// ```
/// use diameter_cc::msg::{CcrRepr, ImsRepr, ServiceUnit, SubscriptionId};
/// use diameter_cc::dict::{CcRequestType, tgpp::{NodeFunctionality, RoleOfNode}};
/// use diameter_core::Timestamp;
///
/// let (caller, callee) = ("1001", "1002");
/// let ccr_u = CcrRepr {
///     event_timestamp: Timestamp::from_unix(1_704_067_200),
///     requested_service_unit: Some(ServiceUnit::time(0)),
///     user_name: Some(caller),
///     subscription_ids: &[SubscriptionId::e164(caller)],
///     ims: Some(ImsRepr {
///         role_of_node: Some(RoleOfNode::Originating),
///         node_functionality: NodeFunctionality::As,
///         calling_party_address: Some(caller),
///         called_party_address: Some(callee),
///     }),
///     destination_host: Some("server.diameter.test"),
///     ..CcrRepr::new("call-1", "client.diameter.test", "diameter.test", "diameter.test",
///                    "voice@OsipsDiamCCR", CcRequestType::Update, 1)
/// };
/// let mut buf = [0u8; 512];
/// let bytes = ccr_u.encode(CcrRepr::header(0x10, 0x20), &mut buf).unwrap();
/// assert_eq!(bytes[4], 0xc0); // R and P
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CcrRepr<'a> {
    /// Session-Id (263, RFC 6733 §8.8).
    pub session_id: &'a str,
    /// Origin-Host (264, RFC 6733 §6.3).
    pub origin_host: &'a str,
    /// Origin-Realm (296, RFC 6733 §6.4).
    pub origin_realm: &'a str,
    /// Destination-Realm (283, RFC 6733 §6.6).
    pub destination_realm: &'a str,
    /// Auth-Application-Id (258, RFC 6733 §6.8): 4 from [`CcrRepr::new`].
    pub auth_application_id: u32,
    /// Service-Context-Id (461, RFC 8506 §8.42).
    pub service_context_id: &'a str,
    /// CC-Request-Type (416, RFC 8506 §8.3).
    pub cc_request_type: CcRequestType,
    /// CC-Request-Number (415, RFC 8506 §8.2).
    pub cc_request_number: u32,
    /// Destination-Host (293, RFC 6733 §6.5): lets the server send ASR/RAR
    /// back (SCENARIOS).
    pub destination_host: Option<&'a str>,
    /// User-Name (1, RFC 6733 §8.14).
    pub user_name: Option<&'a str>,
    /// Origin-State-Id (278, RFC 6733 §8.16).
    pub origin_state_id: Option<u32>,
    /// Event-Timestamp (55, RFC 6733 §8.21).
    pub event_timestamp: Option<Timestamp>,
    /// Subscription-Ids (443, RFC 8506 §8.46).
    pub subscription_ids: &'a [SubscriptionId<'a>],
    /// Service-Identifier (439, RFC 8506 §8.28).
    pub service_identifier: Option<u32>,
    /// Termination-Cause (295, RFC 6733 §8.15).
    pub termination_cause: Option<TerminationCause>,
    /// Requested-Service-Unit (437, RFC 8506 §8.18).
    pub requested_service_unit: Option<ServiceUnit>,
    /// Requested-Action (436, RFC 8506 §8.41).
    pub requested_action: Option<RequestedAction>,
    /// Used-Service-Units (446, RFC 8506 §8.19).
    pub used_service_units: &'a [ServiceUnit],
    /// Multiple-Services-Indicator (455, RFC 8506 §8.40).
    pub multiple_services_indicator: Option<MultipleServicesIndicator>,
    /// Multiple-Services-Credit-Controls (456, RFC 8506 §8.16).
    pub mscc: &'a [MsccRepr<'a>],
    /// `Service-Information { IMS-Information { ... } }` (873 and
    /// 876/10415, TS 32.299 §7.2).
    pub ims: Option<ImsRepr<'a>>,
}

impl<'a> CcrRepr<'a> {
    /// The required AVPs of RFC 8506 §3.1, Auth-Application-Id 4, nothing
    /// optional.
    ///
    /// ```
    /// use diameter_cc::msg::CcrRepr;
    /// use diameter_cc::dict::CcRequestType;
    /// let r = CcrRepr::new("s", "h", "r", "r", "voice@x", CcRequestType::Initial, 0);
    /// assert_eq!(r.auth_application_id, 4);
    /// assert!(r.mscc.is_empty() && r.ims.is_none());
    /// ```
    pub const fn new(
        session_id: &'a str,
        origin_host: &'a str,
        origin_realm: &'a str,
        destination_realm: &'a str,
        service_context_id: &'a str,
        cc_request_type: CcRequestType,
        cc_request_number: u32,
    ) -> Self {
        CcrRepr {
            session_id,
            origin_host,
            origin_realm,
            destination_realm,
            auth_application_id: ApplicationId::CREDIT_CONTROL.0,
            service_context_id,
            cc_request_type,
            cc_request_number,
            destination_host: None,
            user_name: None,
            origin_state_id: None,
            event_timestamp: None,
            subscription_ids: &[],
            service_identifier: None,
            termination_cause: None,
            requested_service_unit: None,
            requested_action: None,
            used_service_units: &[],
            multiple_services_indicator: None,
            mscc: &[],
            ims: None,
        }
    }

    /// The CCR header (RFC 8506 §3.1): Command-Code 272, R and P set,
    /// Application-Id 4, with the given identifiers.
    ///
    /// ```
    /// use diameter_cc::msg::CcrRepr;
    /// let h = CcrRepr::header(0x5AE5A001, 0x1C0DE001);
    /// assert!(h.flags.is_request() && h.flags.is_proxiable());
    /// assert_eq!((h.command_code.0, h.application_id.0), (272, 4));
    /// ```
    pub const fn header(hop_by_hop: u32, end_to_end: u32) -> HeaderRepr {
        HeaderRepr::request(
            CommandCode::CREDIT_CONTROL,
            ApplicationId::CREDIT_CONTROL,
            hop_by_hop,
            end_to_end,
        )
        .proxiable(true)
    }

    /// Append every AVP, in grammar order, to `b`; more may follow (they
    /// land in the `*[ AVP ]` of the grammar).
    ///
    /// ```
    /// use diameter_cc::msg::CcrRepr;
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_core::{MessageBuilder, dict::base};
    /// let r = CcrRepr::new("s", "h", "r", "r", "voice@x", CcRequestType::Event, 0);
    /// let mut buf = [0u8; 256];
    /// let mut b = MessageBuilder::new(&mut buf, CcrRepr::header(1, 1));
    /// r.write(&mut b);
    /// b.put(&base::ROUTE_RECORD, "relay.example");
    /// assert!(b.finish().is_ok());
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        b.put(&base::SESSION_ID, self.session_id)
            .put(&base::ORIGIN_HOST, self.origin_host)
            .put(&base::ORIGIN_REALM, self.origin_realm)
            .put(&base::DESTINATION_REALM, self.destination_realm)
            .put(&base::AUTH_APPLICATION_ID, self.auth_application_id)
            .put(&dict::SERVICE_CONTEXT_ID, self.service_context_id)
            .put(&dict::CC_REQUEST_TYPE, self.cc_request_type)
            .put(&dict::CC_REQUEST_NUMBER, self.cc_request_number);
        if let Some(v) = self.destination_host {
            b.put(&base::DESTINATION_HOST, v);
        }
        if let Some(v) = self.user_name {
            b.put(&base::USER_NAME, v);
        }
        if let Some(v) = self.origin_state_id {
            b.put(&base::ORIGIN_STATE_ID, v);
        }
        if let Some(v) = self.event_timestamp {
            b.put(&base::EVENT_TIMESTAMP, v);
        }
        for s in self.subscription_ids {
            b.grouped(&dict::SUBSCRIPTION_ID, |g| s.write(g));
        }
        if let Some(v) = self.service_identifier {
            b.put(&dict::SERVICE_IDENTIFIER, v);
        }
        if let Some(v) = self.termination_cause {
            b.put(&base::TERMINATION_CAUSE, v);
        }
        if let Some(u) = self.requested_service_unit {
            b.grouped(&dict::REQUESTED_SERVICE_UNIT, |g| u.write(g));
        }
        if let Some(v) = self.requested_action {
            b.put(&dict::REQUESTED_ACTION, v);
        }
        for u in self.used_service_units {
            b.grouped(&dict::USED_SERVICE_UNIT, |g| u.write(g));
        }
        if let Some(v) = self.multiple_services_indicator {
            b.put(&dict::MULTIPLE_SERVICES_INDICATOR, v);
        }
        for m in self.mscc {
            b.grouped(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL, |g| m.write(g));
        }
        if let Some(ims) = self.ims {
            ims.write_service_information(b);
        }
    }

    /// Build the whole message into `buf` with `header` (normally
    /// [`CcrRepr::header`]). A too-small buffer is
    /// [`EncodeError::BufferTooSmall`] with the size needed.
    ///
    /// ```
    /// use diameter_cc::msg::CcrRepr;
    /// use diameter_cc::dict::CcRequestType;
    /// use diameter_core::EncodeError;
    /// let r = CcrRepr::new("s", "h", "r", "r", "voice@x", CcRequestType::Event, 0);
    /// let mut small = [0u8; 32];
    /// let needed = match r.encode(CcrRepr::header(1, 1), &mut small) {
    ///     Err(EncodeError::BufferTooSmall { needed }) => needed,
    ///     other => panic!("{other:?}"),
    /// };
    /// let mut buf = vec![0u8; needed];
    /// assert_eq!(r.encode(CcrRepr::header(1, 1), &mut buf).unwrap().len(), needed);
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
    use diameter_core::MessageBuilder;

    /// The iterators start where the decoding walk saw the first AVP of
    /// their kind, and find the same AVPs as a walk of the whole message,
    /// wherever the AVPs sit (here out of grammar order, interleaved).
    #[test]
    fn iterators_from_noted_offsets_match_a_whole_walk() {
        let mut buf = [0u8; 1024];
        let mut b = MessageBuilder::new(&mut buf, CcrRepr::header(1, 1));
        // The required head from the repr, then the repeated AVPs by hand,
        // interleaved.
        CcrRepr::new("s;1", "h", "r", "r", "c@x", CcRequestType::Update, 1).write(&mut b);
        let used = |b: &mut MessageBuilder<'_>, t: u32| {
            b.grouped(&dict::USED_SERVICE_UNIT, |g| {
                ServiceUnit::time(t).write(g);
            });
        };
        used(&mut b, 1);
        let mscc = |b: &mut MessageBuilder<'_>, rg: u32| {
            b.grouped(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL, |g| {
                MsccRepr {
                    rating_group: Some(rg),
                    ..MsccRepr::EMPTY
                }
                .write(g);
            });
        };
        let sub = |b: &mut MessageBuilder<'_>, data: &str| {
            b.grouped(&dict::SUBSCRIPTION_ID, |g| {
                SubscriptionId::e164(data).write(g);
            });
        };
        mscc(&mut b, 7);
        sub(&mut b, "1001");
        used(&mut b, 2);
        sub(&mut b, "1002");
        mscc(&mut b, 8);
        let bytes = b.finish().unwrap();
        let msg = Message::parse(bytes).unwrap();
        let ccr = Ccr::decode(&msg).unwrap();
        let whole = msg.avps();
        assert!(ccr.used_service_units().eq(Groups::new(
            whole,
            &dict::USED_SERVICE_UNIT,
            ServiceUnit::decode
        )));
        assert_eq!(ccr.used_service_units().count(), 2);
        assert!(ccr.subscription_ids().eq(Groups::new(
            whole,
            &dict::SUBSCRIPTION_ID,
            SubscriptionId::decode
        )));
        assert_eq!(ccr.subscription_ids().count(), 2);
        assert!(ccr
            .mscc()
            .map(|m| m.unwrap().rating_group)
            .eq([Some(7), Some(8)]));
    }

    /// The one-pass decode of a message nobody validated (validation and
    /// read in the same walk, the AVPs the readers list checked by them)
    /// gives what the generic validator and then the read give: the same
    /// CCR, or the same error (Result-Code, offset, failed AVP), for a
    /// full CCR and every one-byte corruption of it; and the dictionary's
    /// compiled validation of the CCR agrees with the generic one.
    #[test]
    fn one_pass_equals_validate_then_read() {
        use crate::dict::tgpp::{NodeFunctionality, RoleOfNode};
        let ids = [SubscriptionId::e164("1001"), SubscriptionId::e164("1002")];
        let used = [ServiceUnit::time(30), ServiceUnit::time(40)];
        let repr = CcrRepr {
            destination_host: Some("ocs.example"),
            user_name: Some("1001@example"),
            origin_state_id: Some(7),
            event_timestamp: Timestamp::from_unix(1_704_067_200),
            subscription_ids: &ids,
            service_identifier: Some(1),
            requested_service_unit: Some(ServiceUnit::time(300)),
            used_service_units: &used,
            ims: Some(ImsRepr {
                role_of_node: Some(RoleOfNode::Originating),
                node_functionality: NodeFunctionality::As,
                calling_party_address: Some("sip:1001@example"),
                called_party_address: Some("sip:1002@example"),
            }),
            ..CcrRepr::new(
                "s;1",
                "c.example",
                "example",
                "example",
                "v@x",
                CcRequestType::Update,
                3,
            )
        };
        let mut buf = [0u8; 1024];
        let bytes = repr.encode(CcrRepr::header(1, 2), &mut buf).unwrap();
        let both = |b: &[u8]| {
            let Ok(msg) = Message::new_checked(b) else {
                return;
            };
            crate::msg::assert_compiled_validation(&msg);
            let one = Ccr::decode(&msg).map(|c| Ccr { message: msg, ..c });
            let two = msg
                .validated(&crate::msg::Interpreted)
                .and_then(|m| Ccr::decode(&m))
                .map(|c| Ccr { message: msg, ..c });
            assert_eq!(one, two, "{b:02x?}");
            // The groups read in the validation walk are what their own
            // decoders read from the message afterwards (the same readers
            // fed by a walk of their own: this checks what the validation
            // walk hands them, and when).
            if let Ok(c) = one {
                assert_eq!(
                    c.subscription_id,
                    c.subscription_ids().next().transpose().unwrap()
                );
                let si = msg.get(&tgpp::SERVICE_INFORMATION).unwrap();
                assert_eq!(c.service_information, si);
                let ims = si.map(|si| ImsInformation::in_service_information(si).unwrap());
                assert_eq!(c.ims, ims.flatten(), "{b:02x?}");
                let rsu = msg.get(&dict::REQUESTED_SERVICE_UNIT).unwrap();
                assert_eq!(
                    c.requested_service_unit,
                    rsu.map(|u| ServiceUnit::decode(u).unwrap())
                );
            }
        };
        assert!(Ccr::decode(&Message::new_checked(bytes).unwrap()).is_ok());
        crate::msg::every_corruption(bytes, both);
    }
}
