//! Re-Auth-Request and -Answer (258, PXY), RFC 6733 §8.3, as the
//! credit-control server uses them to ask a client for an immediate
//! re-authorization (RFC 8506 §3.3, §3.4, §5.5).

use diameter_core::{
    ApplicationId, AvpSet, CommandCode, CommandFlags, EncodeError, Error, HeaderRepr, Message,
    MessageBuilder, ParseConfig, ResultCode,
};

use super::{check, required, scan};
use crate::dict;
use crate::dict::base::{self, ReAuthRequestType};

/// A Re-Auth-Request (RFC 6733 §8.3.1; RFC 8506 §3.3 adds the
/// credit-control AVPs) as decoded.
///
/// ```text
/// < Session-Id > { Origin-Host } { Origin-Realm } { Destination-Realm }
/// { Destination-Host } { Auth-Application-Id } { Re-Auth-Request-Type }
/// [ User-Name ] [ Origin-State-Id ] *[ Proxy-Info ] *[ Route-Record ]
/// [ CC-Sub-Session-Id ] [ G-S-U-Pool-Identifier ] [ Service-Identifier ]
/// [ Rating-Group ] *[ AVP ]
/// ```
///
/// On a credit-control session the client answers with an [`Raa`] and then
/// re-authorizes with a CCR UPDATE_REQUEST (RFC 8506 §5.5); Rating-Group or
/// Service-Identifier narrow the re-authorization to one service.
///
/// ```
/// use diameter_cc::msg::{Rar, RarRepr};
/// use diameter_cc::dict::base::ReAuthRequestType;
/// use diameter_core::Message;
/// let repr = RarRepr { rating_group: Some(100),
///     ..RarRepr::new("s;1", "ocs.example", "example", "example", "client.example") };
/// let mut buf = [0u8; 256];
/// let bytes = repr.encode(RarRepr::header(1, 1), &mut buf).unwrap();
/// let rar = Rar::decode(&Message::parse(bytes).unwrap()).unwrap();
/// assert_eq!(rar.re_auth_request_type, ReAuthRequestType::AuthorizeOnly);
/// assert_eq!((rar.auth_application_id, rar.rating_group), (4, Some(100)));
/// assert_eq!(rar.destination_host, "client.example");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rar<'a> {
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
    pub destination_host: &'a str,
    /// Auth-Application-Id (258, RFC 6733 §6.8): the session's, 4 for
    /// credit control.
    pub auth_application_id: u32,
    /// Re-Auth-Request-Type (285, RFC 6733 §8.12): AUTHORIZE_ONLY for
    /// credit control (RFC 8506 §5.5).
    pub re_auth_request_type: ReAuthRequestType,
    /// User-Name (1, RFC 6733 §8.14).
    pub user_name: Option<&'a str>,
    /// Origin-State-Id (278, RFC 6733 §8.16).
    pub origin_state_id: Option<u32>,
    /// CC-Sub-Session-Id (419, RFC 8506 §8.5).
    pub cc_sub_session_id: Option<u64>,
    /// G-S-U-Pool-Identifier (453, RFC 8506 §8.31).
    pub g_s_u_pool_identifier: Option<u32>,
    /// Service-Identifier (439, RFC 8506 §8.28).
    pub service_identifier: Option<u32>,
    /// Rating-Group (432, RFC 8506 §8.29).
    pub rating_group: Option<u32>,
}

impl<'a> Rar<'a> {
    /// Check that `msg` is a RAR (Command-Code 258, R bit), validate it
    /// against RFC 6733 §8.3.1 ([`base::RAR`]) and read its fields. The
    /// Application-Id is not checked (the session's application).
    ///
    /// ```
    /// use diameter_cc::msg::{Rar, RarRepr};
    /// use diameter_core::{Message, MessageBuilder, ErrorKind, dict::base};
    /// // Without Destination-Host: 5005 names AVP 293.
    /// let mut buf = [0u8; 256];
    /// let mut b = MessageBuilder::new(&mut buf, RarRepr::header(1, 1));
    /// b.put(&base::SESSION_ID, "s").put(&base::ORIGIN_HOST, "h").put(&base::ORIGIN_REALM, "r")
    ///     .put(&base::DESTINATION_REALM, "r").put(&base::AUTH_APPLICATION_ID, 4)
    ///     .put(&base::RE_AUTH_REQUEST_TYPE, base::ReAuthRequestType::AuthorizeOnly);
    /// let e = Rar::decode(&Message::parse(b.finish().unwrap()).unwrap()).unwrap_err();
    /// assert_eq!((e.kind(), e.avp().unwrap().code), (ErrorKind::MissingAvp, 293));
    /// ```
    pub fn decode(msg: &Message<'a>) -> Result<Rar<'a>, Error> {
        Self::decode_with_config(msg, &ParseConfig::DEFAULT)
    }

    /// [`Rar::decode`] with explicit validation settings.
    ///
    /// ```
    /// use diameter_cc::msg::{Rar, RarRepr};
    /// use diameter_core::{Message, ParseConfig};
    /// let mut buf = [0u8; 256];
    /// let bytes = RarRepr::new("s", "h", "r", "r", "c").encode(RarRepr::header(1, 1), &mut buf).unwrap();
    /// assert!(Rar::decode_with_config(&Message::parse(bytes).unwrap(), &ParseConfig::DEFAULT).is_ok());
    /// ```
    pub fn decode_with_config(msg: &Message<'a>, config: &ParseConfig) -> Result<Rar<'a>, Error> {
        check(msg, &base::RAR, None, config)?;
        let mut session_id = None;
        let mut origin_host = None;
        let mut origin_realm = None;
        let mut destination_realm = None;
        let mut destination_host = None;
        let mut auth_application_id = None;
        let mut re_auth_request_type = None;
        let mut user_name = None;
        let mut origin_state_id = None;
        let mut cc_sub_session_id = None;
        let mut g_s_u_pool_identifier = None;
        let mut service_identifier = None;
        let mut rating_group = None;
        for avp in msg.iter() {
            let avp = avp?;
            scan!(avp;
                session_id = base::SESSION_ID,
                origin_host = base::ORIGIN_HOST,
                origin_realm = base::ORIGIN_REALM,
                destination_realm = base::DESTINATION_REALM,
                destination_host = base::DESTINATION_HOST,
                auth_application_id = base::AUTH_APPLICATION_ID,
                re_auth_request_type = base::RE_AUTH_REQUEST_TYPE,
                user_name = base::USER_NAME,
                origin_state_id = base::ORIGIN_STATE_ID,
                cc_sub_session_id = dict::CC_SUB_SESSION_ID,
                g_s_u_pool_identifier = dict::G_S_U_POOL_IDENTIFIER,
                service_identifier = dict::SERVICE_IDENTIFIER,
                rating_group = dict::RATING_GROUP;
            );
        }
        Ok(Rar {
            message: *msg,
            session_id: required(session_id, &base::SESSION_ID)?,
            origin_host: required(origin_host, &base::ORIGIN_HOST)?,
            origin_realm: required(origin_realm, &base::ORIGIN_REALM)?,
            destination_realm: required(destination_realm, &base::DESTINATION_REALM)?,
            destination_host: required(destination_host, &base::DESTINATION_HOST)?,
            auth_application_id: required(auth_application_id, &base::AUTH_APPLICATION_ID)?,
            re_auth_request_type: required(re_auth_request_type, &base::RE_AUTH_REQUEST_TYPE)?,
            user_name,
            origin_state_id,
            cc_sub_session_id,
            g_s_u_pool_identifier,
            service_identifier,
            rating_group,
        })
    }

    /// Start the answer (RFC 6733 §8.3.2, RFC 8506 §3.4): an [`RaaRepr`]
    /// with this Session-Id, the client's identity and `result_code`.
    ///
    /// ```
    /// use diameter_cc::msg::{Raa, Rar, RarRepr};
    /// use diameter_core::{Message, ResultCode};
    /// let mut req = [0u8; 256];
    /// let req = RarRepr::new("s;1", "ocs", "r", "r", "client")
    ///     .encode(RarRepr::header(8, 9), &mut req).unwrap();
    /// let request = Message::parse(req).unwrap();
    /// let rar = Rar::decode(&request).unwrap();
    /// let mut buf = [0u8; 256];
    /// let bytes = rar.answer("client", "r", ResultCode::SUCCESS)
    ///     .encode_answer_to(&request, &mut buf).unwrap();
    /// let raa = Raa::decode(&Message::parse(bytes).unwrap()).unwrap();
    /// assert_eq!((raa.session_id, raa.result_code), ("s;1", ResultCode::SUCCESS));
    /// assert_eq!(raa.message.hop_by_hop(), 8);
    /// ```
    pub fn answer(
        &self,
        origin_host: &'a str,
        origin_realm: &'a str,
        result_code: ResultCode,
    ) -> RaaRepr<'a> {
        RaaRepr::new(self.session_id, result_code, origin_host, origin_realm)
    }
}

/// A Re-Auth-Request (RFC 6733 §8.3.1, RFC 8506 §3.3) to send, in grammar
/// order: Session-Id, Origin-Host, Origin-Realm, Destination-Realm,
/// Destination-Host, Auth-Application-Id, Re-Auth-Request-Type, User-Name,
/// Origin-State-Id, CC-Sub-Session-Id, G-S-U-Pool-Identifier,
/// Service-Identifier, Rating-Group.
///
/// ```
/// use diameter_cc::msg::RarRepr;
/// let rar = RarRepr::new("s;1", "ocs.example", "example", "example", "client.example");
/// assert_eq!(rar.auth_application_id, 4);
/// let mut buf = [0u8; 256];
/// assert!(rar.encode(RarRepr::header(1, 1), &mut buf).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RarRepr<'a> {
    /// Session-Id (263, RFC 6733 §8.8).
    pub session_id: &'a str,
    /// Origin-Host (264, RFC 6733 §6.3).
    pub origin_host: &'a str,
    /// Origin-Realm (296, RFC 6733 §6.4).
    pub origin_realm: &'a str,
    /// Destination-Realm (283, RFC 6733 §6.6).
    pub destination_realm: &'a str,
    /// Destination-Host (293, RFC 6733 §6.5): the client of the session.
    pub destination_host: &'a str,
    /// Auth-Application-Id (258, RFC 6733 §6.8): 4 from [`RarRepr::new`].
    pub auth_application_id: u32,
    /// Re-Auth-Request-Type (285, RFC 6733 §8.12): AUTHORIZE_ONLY from
    /// [`RarRepr::new`] (RFC 8506 §5.5).
    pub re_auth_request_type: ReAuthRequestType,
    /// User-Name (1, RFC 6733 §8.14).
    pub user_name: Option<&'a str>,
    /// Origin-State-Id (278, RFC 6733 §8.16).
    pub origin_state_id: Option<u32>,
    /// CC-Sub-Session-Id (419, RFC 8506 §8.5).
    pub cc_sub_session_id: Option<u64>,
    /// G-S-U-Pool-Identifier (453, RFC 8506 §8.31).
    pub g_s_u_pool_identifier: Option<u32>,
    /// Service-Identifier (439, RFC 8506 §8.28).
    pub service_identifier: Option<u32>,
    /// Rating-Group (432, RFC 8506 §8.29).
    pub rating_group: Option<u32>,
}

impl<'a> RarRepr<'a> {
    /// The required AVPs, Auth-Application-Id 4 and Re-Auth-Request-Type
    /// AUTHORIZE_ONLY (RFC 8506 §5.5).
    ///
    /// ```
    /// use diameter_cc::msg::RarRepr;
    /// use diameter_cc::dict::base::ReAuthRequestType;
    /// let r = RarRepr::new("s", "h", "r", "r", "c");
    /// assert_eq!(r.re_auth_request_type, ReAuthRequestType::AuthorizeOnly);
    /// ```
    pub const fn new(
        session_id: &'a str,
        origin_host: &'a str,
        origin_realm: &'a str,
        destination_realm: &'a str,
        destination_host: &'a str,
    ) -> Self {
        RarRepr {
            session_id,
            origin_host,
            origin_realm,
            destination_realm,
            destination_host,
            auth_application_id: ApplicationId::CREDIT_CONTROL.0,
            re_auth_request_type: ReAuthRequestType::AuthorizeOnly,
            user_name: None,
            origin_state_id: None,
            cc_sub_session_id: None,
            g_s_u_pool_identifier: None,
            service_identifier: None,
            rating_group: None,
        }
    }

    /// A RAR header (RFC 6733 §8.3.1): Command-Code 258, R and P set,
    /// Application-Id 4 (credit control).
    ///
    /// ```
    /// use diameter_cc::msg::RarRepr;
    /// let h = RarRepr::header(1, 2);
    /// assert_eq!((h.command_code.0, h.application_id.0, h.flags.bits()), (258, 4, 0xc0));
    /// ```
    pub const fn header(hop_by_hop: u32, end_to_end: u32) -> HeaderRepr {
        HeaderRepr::request(
            CommandCode::RE_AUTH,
            ApplicationId::CREDIT_CONTROL,
            hop_by_hop,
            end_to_end,
        )
        .proxiable(true)
    }

    /// Append every AVP in grammar order.
    ///
    /// ```
    /// use diameter_cc::msg::RarRepr;
    /// use diameter_core::MessageBuilder;
    /// let mut buf = [0u8; 256];
    /// let mut b = MessageBuilder::new(&mut buf, RarRepr::header(1, 1));
    /// RarRepr::new("s", "h", "r", "r", "c").write(&mut b);
    /// assert!(b.finish().is_ok());
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        b.put(&base::SESSION_ID, self.session_id)
            .put(&base::ORIGIN_HOST, self.origin_host)
            .put(&base::ORIGIN_REALM, self.origin_realm)
            .put(&base::DESTINATION_REALM, self.destination_realm)
            .put(&base::DESTINATION_HOST, self.destination_host)
            .put(&base::AUTH_APPLICATION_ID, self.auth_application_id)
            .put(&base::RE_AUTH_REQUEST_TYPE, self.re_auth_request_type);
        if let Some(v) = self.user_name {
            b.put(&base::USER_NAME, v);
        }
        if let Some(v) = self.origin_state_id {
            b.put(&base::ORIGIN_STATE_ID, v);
        }
        if let Some(v) = self.cc_sub_session_id {
            b.put(&dict::CC_SUB_SESSION_ID, v);
        }
        if let Some(v) = self.g_s_u_pool_identifier {
            b.put(&dict::G_S_U_POOL_IDENTIFIER, v);
        }
        if let Some(v) = self.service_identifier {
            b.put(&dict::SERVICE_IDENTIFIER, v);
        }
        if let Some(v) = self.rating_group {
            b.put(&dict::RATING_GROUP, v);
        }
    }

    /// Build the whole message into `buf` with `header` (normally
    /// [`RarRepr::header`]).
    ///
    /// ```
    /// use diameter_cc::msg::RarRepr;
    /// let mut buf = [0u8; 256];
    /// assert!(RarRepr::new("s", "h", "r", "r", "c").encode(RarRepr::header(1, 1), &mut buf).is_ok());
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

/// A Re-Auth-Answer (RFC 6733 §8.3.2, RFC 8506 §3.4) as decoded.
///
/// ```
/// use diameter_cc::msg::{Raa, RaaRepr};
/// use diameter_core::{Message, ResultCode};
/// let r = RaaRepr { origin_state_id: Some(7),
///     ..RaaRepr::new("s", ResultCode::new(5002), "client", "r") }; // UNKNOWN_SESSION_ID
/// let mut buf = [0u8; 256];
/// let raa = Raa::decode(&Message::parse(r.encode(RaaRepr::header(1, 1), &mut buf).unwrap())
///     .unwrap()).unwrap();
/// assert_eq!((raa.result_code.get(), raa.origin_state_id), (5002, Some(7)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Raa<'a> {
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
    /// User-Name (1, RFC 6733 §8.14).
    pub user_name: Option<&'a str>,
    /// Origin-State-Id (278, RFC 6733 §8.16).
    pub origin_state_id: Option<u32>,
    /// Error-Message (281, RFC 6733 §7.3).
    pub error_message: Option<&'a str>,
    /// The content of Failed-AVP (279, RFC 6733 §7.5).
    pub failed_avp: Option<AvpSet<'a>>,
}

impl<'a> Raa<'a> {
    /// Check that `msg` is an RAA (Command-Code 258, R bit clear), validate
    /// it against RFC 6733 §8.3.2 ([`base::RAA`]; §7.2 with the E bit) and
    /// read its fields.
    ///
    /// ```
    /// use diameter_cc::msg::{Raa, RarRepr};
    /// use diameter_core::{Message, ErrorKind};
    /// let mut buf = [0u8; 256];
    /// let rar = RarRepr::new("s", "h", "r", "r", "c").encode(RarRepr::header(1, 1), &mut buf).unwrap();
    /// assert_eq!(Raa::decode(&Message::parse(rar).unwrap()).unwrap_err().kind(),
    ///            ErrorKind::InvalidHeaderBits);
    /// ```
    pub fn decode(msg: &Message<'a>) -> Result<Raa<'a>, Error> {
        Self::decode_with_config(msg, &ParseConfig::DEFAULT)
    }

    /// [`Raa::decode`] with explicit validation settings.
    ///
    /// ```
    /// use diameter_cc::msg::{Raa, RaaRepr};
    /// use diameter_core::{Message, ParseConfig, ResultCode};
    /// let mut buf = [0u8; 256];
    /// let b = RaaRepr::new("s", ResultCode::SUCCESS, "c", "r").encode(RaaRepr::header(1, 1), &mut buf).unwrap();
    /// assert!(Raa::decode_with_config(&Message::parse(b).unwrap(), &ParseConfig::DEFAULT).is_ok());
    /// ```
    pub fn decode_with_config(msg: &Message<'a>, config: &ParseConfig) -> Result<Raa<'a>, Error> {
        check(msg, &base::RAA, None, config)?;
        decode_session_answer(msg).map(|a| Raa {
            message: *msg,
            session_id: a.session_id,
            result_code: a.result_code,
            origin_host: a.origin_host,
            origin_realm: a.origin_realm,
            user_name: a.user_name,
            origin_state_id: a.origin_state_id,
            error_message: a.error_message,
            failed_avp: a.failed_avp,
        })
    }
}

/// The fields RAA and ASA share (RFC 6733 §8.3.2, §8.5.2).
pub(crate) struct SessionAnswer<'a> {
    pub(crate) session_id: &'a str,
    pub(crate) result_code: ResultCode,
    pub(crate) origin_host: &'a str,
    pub(crate) origin_realm: &'a str,
    pub(crate) user_name: Option<&'a str>,
    pub(crate) origin_state_id: Option<u32>,
    pub(crate) error_message: Option<&'a str>,
    pub(crate) failed_avp: Option<AvpSet<'a>>,
}

/// Read the fields of an RAA or ASA (already validated).
pub(crate) fn decode_session_answer<'a>(msg: &Message<'a>) -> Result<SessionAnswer<'a>, Error> {
    let mut session_id = None;
    let mut result_code = None;
    let mut origin_host = None;
    let mut origin_realm = None;
    let mut user_name = None;
    let mut origin_state_id = None;
    let mut error_message = None;
    let mut failed_avp = None;
    for avp in msg.iter() {
        let avp = avp?;
        scan!(avp;
            session_id = base::SESSION_ID,
            result_code = base::RESULT_CODE,
            origin_host = base::ORIGIN_HOST,
            origin_realm = base::ORIGIN_REALM,
            user_name = base::USER_NAME,
            origin_state_id = base::ORIGIN_STATE_ID,
            error_message = base::ERROR_MESSAGE,
            failed_avp = base::FAILED_AVP;
        );
    }
    Ok(SessionAnswer {
        session_id: required(session_id, &base::SESSION_ID)?,
        result_code: ResultCode(required(result_code, &base::RESULT_CODE)?),
        origin_host: required(origin_host, &base::ORIGIN_HOST)?,
        origin_realm: required(origin_realm, &base::ORIGIN_REALM)?,
        user_name,
        origin_state_id,
        error_message,
        failed_avp,
    })
}

/// Write the fields of an RAA or ASA after Session-Id, in grammar order.
pub(crate) fn write_session_answer(
    b: &mut MessageBuilder<'_>,
    result_code: ResultCode,
    origin_host: &str,
    origin_realm: &str,
    user_name: Option<&str>,
    origin_state_id: Option<u32>,
) {
    b.put(&base::RESULT_CODE, result_code.get())
        .put(&base::ORIGIN_HOST, origin_host)
        .put(&base::ORIGIN_REALM, origin_realm);
    if let Some(v) = user_name {
        b.put(&base::USER_NAME, v);
    }
    if let Some(v) = origin_state_id {
        b.put(&base::ORIGIN_STATE_ID, v);
    }
}

/// A Re-Auth-Answer (RFC 6733 §8.3.2, RFC 8506 §3.4) to send, in grammar
/// order: Session-Id, Result-Code, Origin-Host, Origin-Realm, User-Name,
/// Origin-State-Id. Start from [`RaaRepr::new`] or
/// [`Rar::answer`].
///
/// ```
/// use diameter_cc::msg::RaaRepr;
/// use diameter_core::ResultCode;
/// let raa = RaaRepr::new("s", ResultCode::SUCCESS, "client", "realm");
/// let mut buf = [0u8; 128];
/// assert!(raa.encode(RaaRepr::header(1, 1), &mut buf).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RaaRepr<'a> {
    /// Session-Id (263, RFC 6733 §8.8).
    pub session_id: &'a str,
    /// Result-Code (268, RFC 6733 §7.1).
    pub result_code: ResultCode,
    /// Origin-Host (264, RFC 6733 §6.3).
    pub origin_host: &'a str,
    /// Origin-Realm (296, RFC 6733 §6.4).
    pub origin_realm: &'a str,
    /// User-Name (1, RFC 6733 §8.14).
    pub user_name: Option<&'a str>,
    /// Origin-State-Id (278, RFC 6733 §8.16).
    pub origin_state_id: Option<u32>,
}

impl<'a> RaaRepr<'a> {
    /// The required AVPs of RFC 6733 §8.3.2.
    ///
    /// ```
    /// use diameter_cc::msg::RaaRepr;
    /// use diameter_core::ResultCode;
    /// assert!(RaaRepr::new("s", ResultCode::SUCCESS, "c", "r").user_name.is_none());
    /// ```
    pub const fn new(
        session_id: &'a str,
        result_code: ResultCode,
        origin_host: &'a str,
        origin_realm: &'a str,
    ) -> Self {
        RaaRepr {
            session_id,
            result_code,
            origin_host,
            origin_realm,
            user_name: None,
            origin_state_id: None,
        }
    }

    /// An RAA header: Command-Code 258, P set, Application-Id 4.
    ///
    /// ```
    /// use diameter_cc::msg::RaaRepr;
    /// assert_eq!(RaaRepr::header(1, 1).flags.bits(), 0x40);
    /// ```
    pub const fn header(hop_by_hop: u32, end_to_end: u32) -> HeaderRepr {
        HeaderRepr {
            flags: CommandFlags::PROXIABLE,
            command_code: CommandCode::RE_AUTH,
            application_id: ApplicationId::CREDIT_CONTROL,
            hop_by_hop,
            end_to_end,
        }
    }

    /// Append every AVP, Session-Id first.
    ///
    /// ```
    /// use diameter_cc::msg::RaaRepr;
    /// use diameter_core::{MessageBuilder, ResultCode};
    /// let mut buf = [0u8; 128];
    /// let mut b = MessageBuilder::new(&mut buf, RaaRepr::header(1, 1));
    /// RaaRepr::new("s", ResultCode::SUCCESS, "c", "r").write(&mut b);
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
    /// use diameter_cc::msg::{RaaRepr, RarRepr};
    /// use diameter_core::{Message, MessageBuilder, ResultCode};
    /// let mut req = [0u8; 256];
    /// let req = Message::parse(RarRepr::new("s", "h", "r", "r", "c")
    ///     .encode(RarRepr::header(1, 1), &mut req).unwrap()).unwrap();
    /// let mut buf = [0u8; 128];
    /// let mut b = MessageBuilder::answer_to(&mut buf, &req);
    /// RaaRepr::new("s", ResultCode::SUCCESS, "c", "r").write_without_session_id(&mut b);
    /// assert!(b.finish().is_ok());
    /// ```
    pub fn write_without_session_id(&self, b: &mut MessageBuilder<'_>) {
        write_session_answer(
            b,
            self.result_code,
            self.origin_host,
            self.origin_realm,
            self.user_name,
            self.origin_state_id,
        );
    }

    /// Build the whole message into `buf` with `header`.
    ///
    /// ```
    /// use diameter_cc::msg::RaaRepr;
    /// use diameter_core::ResultCode;
    /// let mut buf = [0u8; 128];
    /// assert!(RaaRepr::new("s", ResultCode::SUCCESS, "c", "r")
    ///     .encode(RaaRepr::header(1, 1), &mut buf).is_ok());
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
    ///
    /// ```
    /// use diameter_cc::msg::{RarRepr, RaaRepr};
    /// use diameter_core::{Message, ResultCode};
    /// let mut req = [0u8; 256];
    /// let req = Message::parse(RarRepr::new("s;1", "ocs", "r", "r", "c")
    ///     .encode(RarRepr::header(5, 6), &mut req).unwrap()).unwrap();
    /// let mut buf = [0u8; 128];
    /// let ans = RaaRepr::new("s;1", ResultCode::SUCCESS, "c", "r")
    ///     .encode_answer_to(&req, &mut buf).unwrap();
    /// let ans = Message::parse(ans).unwrap();
    /// assert_eq!((ans.hop_by_hop(), ans.session_id()), (5, Some("s;1")));
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
