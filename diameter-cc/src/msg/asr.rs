//! Abort-Session-Request and -Answer (274, PXY), RFC 6733 §8.5, as a
//! credit-control server uses them to end a session, e.g. when the credit
//! runs out mid-call (RFC 8506 §3.5, §3.6; SCENARIOS).

use diameter_core::{
    ApplicationId, AvpSet, CommandCode, CommandFlags, EncodeError, Error, HeaderRepr, Message,
    MessageBuilder, ParseConfig, ResultCode,
};

use super::rar::{decode_session_answer, write_session_answer};
use super::{check, required, scan};
use crate::dict::base;

/// An Abort-Session-Request (RFC 6733 §8.5.1, RFC 8506 §3.5) as decoded.
///
/// ```text
/// < Session-Id > { Origin-Host } { Origin-Realm } { Destination-Realm }
/// { Destination-Host } { Auth-Application-Id } [ User-Name ]
/// [ Origin-State-Id ] *[ Proxy-Info ] *[ Route-Record ] *[ AVP ]
/// ```
///
/// The client answers with an [`Asa`]; when it agrees (2001) it stops the
/// service and closes the credit-control session with a CCR
/// TERMINATION_REQUEST reporting the used units (RFC 6733 §8.5, RFC 8506
/// §3.5).
///
/// ```
/// use diameter_cc::msg::{Asr, AsrRepr};
/// use diameter_core::Message;
/// let repr = AsrRepr { user_name: Some("1001"),
///     ..AsrRepr::new("s;1", "ocs.example", "example", "example", "client.example") };
/// let mut buf = [0u8; 256];
/// let asr = Asr::decode(&Message::parse(repr.encode(AsrRepr::header(1, 1), &mut buf).unwrap())
///     .unwrap()).unwrap();
/// assert_eq!((asr.session_id, asr.user_name), ("s;1", Some("1001")));
/// assert_eq!(asr.auth_application_id, 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Asr<'a> {
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
    /// Auth-Application-Id (258, RFC 6733 §6.8).
    pub auth_application_id: u32,
    /// User-Name (1, RFC 6733 §8.14).
    pub user_name: Option<&'a str>,
    /// Origin-State-Id (278, RFC 6733 §8.16).
    pub origin_state_id: Option<u32>,
}

impl<'a> Asr<'a> {
    /// Check that `msg` is an ASR (Command-Code 274, R bit), validate it
    /// against RFC 6733 §8.5.1 ([`base::ASR`]) and read its fields. The
    /// Application-Id is not checked.
    ///
    /// ```
    /// use diameter_cc::msg::{Asr, RarRepr};
    /// use diameter_core::{Message, ErrorKind};
    /// let mut buf = [0u8; 256];
    /// let rar = RarRepr::new("s", "h", "r", "r", "c").encode(RarRepr::header(1, 1), &mut buf).unwrap();
    /// assert_eq!(Asr::decode(&Message::parse(rar).unwrap()).unwrap_err().kind(),
    ///            ErrorKind::CommandUnsupported);
    /// ```
    pub fn decode(msg: &Message<'a>) -> Result<Asr<'a>, Error> {
        Self::decode_with_config(msg, &ParseConfig::DEFAULT)
    }

    /// [`Asr::decode`] with explicit validation settings.
    ///
    /// ```
    /// use diameter_cc::msg::{Asr, AsrRepr};
    /// use diameter_core::{Message, ParseConfig};
    /// let mut buf = [0u8; 256];
    /// let b = AsrRepr::new("s", "h", "r", "r", "c").encode(AsrRepr::header(1, 1), &mut buf).unwrap();
    /// assert!(Asr::decode_with_config(&Message::parse(b).unwrap(), &ParseConfig::DEFAULT).is_ok());
    /// ```
    pub fn decode_with_config(msg: &Message<'a>, config: &ParseConfig) -> Result<Asr<'a>, Error> {
        check(msg, &base::ASR, None, config)?;
        let mut session_id = None;
        let mut origin_host = None;
        let mut origin_realm = None;
        let mut destination_realm = None;
        let mut destination_host = None;
        let mut auth_application_id = None;
        let mut user_name = None;
        let mut origin_state_id = None;
        for avp in msg.iter() {
            let avp = avp?;
            scan!(avp;
                session_id = base::SESSION_ID,
                origin_host = base::ORIGIN_HOST,
                origin_realm = base::ORIGIN_REALM,
                destination_realm = base::DESTINATION_REALM,
                destination_host = base::DESTINATION_HOST,
                auth_application_id = base::AUTH_APPLICATION_ID,
                user_name = base::USER_NAME,
                origin_state_id = base::ORIGIN_STATE_ID;
            );
        }
        Ok(Asr {
            message: *msg,
            session_id: required(session_id, &base::SESSION_ID)?,
            origin_host: required(origin_host, &base::ORIGIN_HOST)?,
            origin_realm: required(origin_realm, &base::ORIGIN_REALM)?,
            destination_realm: required(destination_realm, &base::DESTINATION_REALM)?,
            destination_host: required(destination_host, &base::DESTINATION_HOST)?,
            auth_application_id: required(auth_application_id, &base::AUTH_APPLICATION_ID)?,
            user_name,
            origin_state_id,
        })
    }

    /// Start the answer (RFC 6733 §8.5.2, RFC 8506 §3.6): an [`AsaRepr`]
    /// with this Session-Id, the client's identity and `result_code`.
    ///
    /// ```
    /// use diameter_cc::msg::{Asa, Asr, AsrRepr};
    /// use diameter_core::{Message, ResultCode};
    /// let mut req = [0u8; 256];
    /// let request = Message::parse(AsrRepr::new("s;1", "ocs", "r", "r", "client")
    ///     .encode(AsrRepr::header(8, 9), &mut req).unwrap()).unwrap();
    /// let asr = Asr::decode(&request).unwrap();
    /// let mut buf = [0u8; 256];
    /// let bytes = asr.answer("client", "r", ResultCode::SUCCESS)
    ///     .encode_answer_to(&request, &mut buf).unwrap();
    /// let asa = Asa::decode(&Message::parse(bytes).unwrap()).unwrap();
    /// assert_eq!((asa.session_id, asa.result_code), ("s;1", ResultCode::SUCCESS));
    /// ```
    pub fn answer(
        &self,
        origin_host: &'a str,
        origin_realm: &'a str,
        result_code: ResultCode,
    ) -> AsaRepr<'a> {
        AsaRepr::new(self.session_id, result_code, origin_host, origin_realm)
    }
}

/// An Abort-Session-Request (RFC 6733 §8.5.1, RFC 8506 §3.5) to send, in
/// grammar order: Session-Id, Origin-Host, Origin-Realm, Destination-Realm,
/// Destination-Host, Auth-Application-Id, User-Name, Origin-State-Id.
///
/// ```
/// use diameter_cc::msg::AsrRepr;
/// let asr = AsrRepr::new("s;1", "ocs.example", "example", "example", "client.example");
/// let mut buf = [0u8; 256];
/// assert!(asr.encode(AsrRepr::header(1, 1), &mut buf).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AsrRepr<'a> {
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
    /// Auth-Application-Id (258, RFC 6733 §6.8): 4 from [`AsrRepr::new`].
    pub auth_application_id: u32,
    /// User-Name (1, RFC 6733 §8.14).
    pub user_name: Option<&'a str>,
    /// Origin-State-Id (278, RFC 6733 §8.16).
    pub origin_state_id: Option<u32>,
}

impl<'a> AsrRepr<'a> {
    /// The required AVPs of RFC 6733 §8.5.1, Auth-Application-Id 4.
    ///
    /// ```
    /// use diameter_cc::msg::AsrRepr;
    /// assert_eq!(AsrRepr::new("s", "h", "r", "r", "c").auth_application_id, 4);
    /// ```
    pub const fn new(
        session_id: &'a str,
        origin_host: &'a str,
        origin_realm: &'a str,
        destination_realm: &'a str,
        destination_host: &'a str,
    ) -> Self {
        AsrRepr {
            session_id,
            origin_host,
            origin_realm,
            destination_realm,
            destination_host,
            auth_application_id: ApplicationId::CREDIT_CONTROL.0,
            user_name: None,
            origin_state_id: None,
        }
    }

    /// An ASR header (RFC 6733 §8.5.1): Command-Code 274, R and P set,
    /// Application-Id 4.
    ///
    /// ```
    /// use diameter_cc::msg::AsrRepr;
    /// let h = AsrRepr::header(1, 2);
    /// assert_eq!((h.command_code.0, h.flags.bits()), (274, 0xc0));
    /// ```
    pub const fn header(hop_by_hop: u32, end_to_end: u32) -> HeaderRepr {
        HeaderRepr::request(
            CommandCode::ABORT_SESSION,
            ApplicationId::CREDIT_CONTROL,
            hop_by_hop,
            end_to_end,
        )
        .proxiable(true)
    }

    /// Append every AVP in grammar order.
    ///
    /// ```
    /// use diameter_cc::msg::AsrRepr;
    /// use diameter_core::MessageBuilder;
    /// let mut buf = [0u8; 256];
    /// let mut b = MessageBuilder::new(&mut buf, AsrRepr::header(1, 1));
    /// AsrRepr::new("s", "h", "r", "r", "c").write(&mut b);
    /// assert!(b.finish().is_ok());
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        b.put(&base::SESSION_ID, self.session_id)
            .put(&base::ORIGIN_HOST, self.origin_host)
            .put(&base::ORIGIN_REALM, self.origin_realm)
            .put(&base::DESTINATION_REALM, self.destination_realm)
            .put(&base::DESTINATION_HOST, self.destination_host)
            .put(&base::AUTH_APPLICATION_ID, self.auth_application_id);
        if let Some(v) = self.user_name {
            b.put(&base::USER_NAME, v);
        }
        if let Some(v) = self.origin_state_id {
            b.put(&base::ORIGIN_STATE_ID, v);
        }
    }

    /// Build the whole message into `buf` with `header` (normally
    /// [`AsrRepr::header`]).
    ///
    /// ```
    /// use diameter_cc::msg::AsrRepr;
    /// let mut buf = [0u8; 256];
    /// assert!(AsrRepr::new("s", "h", "r", "r", "c").encode(AsrRepr::header(1, 1), &mut buf).is_ok());
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

/// An Abort-Session-Answer (RFC 6733 §8.5.2, RFC 8506 §3.6) as decoded.
///
/// ```
/// use diameter_cc::msg::{Asa, AsaRepr};
/// use diameter_core::{Message, ResultCode};
/// let r = AsaRepr::new("s", ResultCode::new(5002), "client", "r"); // UNKNOWN_SESSION_ID
/// let mut buf = [0u8; 256];
/// let asa = Asa::decode(&Message::parse(r.encode(AsaRepr::header(1, 1), &mut buf).unwrap())
///     .unwrap()).unwrap();
/// assert_eq!(asa.result_code.get(), 5002);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Asa<'a> {
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

impl<'a> Asa<'a> {
    /// Check that `msg` is an ASA (Command-Code 274, R bit clear), validate
    /// it against RFC 6733 §8.5.2 ([`base::ASA`]; §7.2 with the E bit) and
    /// read its fields.
    ///
    /// ```
    /// use diameter_cc::msg::{Asa, AsrRepr};
    /// use diameter_core::{Message, ErrorKind};
    /// let mut buf = [0u8; 256];
    /// let asr = AsrRepr::new("s", "h", "r", "r", "c").encode(AsrRepr::header(1, 1), &mut buf).unwrap();
    /// assert_eq!(Asa::decode(&Message::parse(asr).unwrap()).unwrap_err().kind(),
    ///            ErrorKind::InvalidHeaderBits);
    /// ```
    pub fn decode(msg: &Message<'a>) -> Result<Asa<'a>, Error> {
        Self::decode_with_config(msg, &ParseConfig::DEFAULT)
    }

    /// [`Asa::decode`] with explicit validation settings.
    ///
    /// ```
    /// use diameter_cc::msg::{Asa, AsaRepr};
    /// use diameter_core::{Message, ParseConfig, ResultCode};
    /// let mut buf = [0u8; 256];
    /// let b = AsaRepr::new("s", ResultCode::SUCCESS, "c", "r").encode(AsaRepr::header(1, 1), &mut buf).unwrap();
    /// assert!(Asa::decode_with_config(&Message::parse(b).unwrap(), &ParseConfig::DEFAULT).is_ok());
    /// ```
    pub fn decode_with_config(msg: &Message<'a>, config: &ParseConfig) -> Result<Asa<'a>, Error> {
        check(msg, &base::ASA, None, config)?;
        decode_session_answer(msg).map(|a| Asa {
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

/// An Abort-Session-Answer (RFC 6733 §8.5.2, RFC 8506 §3.6) to send, in
/// grammar order: Session-Id, Result-Code, Origin-Host, Origin-Realm,
/// User-Name, Origin-State-Id. Start from [`AsaRepr::new`] or
/// [`Asr::answer`].
///
/// ```
/// use diameter_cc::msg::AsaRepr;
/// use diameter_core::ResultCode;
/// let mut buf = [0u8; 128];
/// assert!(AsaRepr::new("s", ResultCode::SUCCESS, "c", "r").encode(AsaRepr::header(1, 1), &mut buf).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AsaRepr<'a> {
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

impl<'a> AsaRepr<'a> {
    /// The required AVPs of RFC 6733 §8.5.2.
    ///
    /// ```
    /// use diameter_cc::msg::AsaRepr;
    /// use diameter_core::ResultCode;
    /// assert!(AsaRepr::new("s", ResultCode::SUCCESS, "c", "r").origin_state_id.is_none());
    /// ```
    pub const fn new(
        session_id: &'a str,
        result_code: ResultCode,
        origin_host: &'a str,
        origin_realm: &'a str,
    ) -> Self {
        AsaRepr {
            session_id,
            result_code,
            origin_host,
            origin_realm,
            user_name: None,
            origin_state_id: None,
        }
    }

    /// An ASA header: Command-Code 274, P set, Application-Id 4.
    ///
    /// ```
    /// use diameter_cc::msg::AsaRepr;
    /// assert_eq!(AsaRepr::header(1, 1).command_code.0, 274);
    /// ```
    pub const fn header(hop_by_hop: u32, end_to_end: u32) -> HeaderRepr {
        HeaderRepr {
            flags: CommandFlags::PROXIABLE,
            command_code: CommandCode::ABORT_SESSION,
            application_id: ApplicationId::CREDIT_CONTROL,
            hop_by_hop,
            end_to_end,
        }
    }

    /// Append every AVP, Session-Id first.
    ///
    /// ```
    /// use diameter_cc::msg::AsaRepr;
    /// use diameter_core::{MessageBuilder, ResultCode};
    /// let mut buf = [0u8; 128];
    /// let mut b = MessageBuilder::new(&mut buf, AsaRepr::header(1, 1));
    /// AsaRepr::new("s", ResultCode::SUCCESS, "c", "r").write(&mut b);
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
    /// use diameter_cc::msg::{AsaRepr, AsrRepr};
    /// use diameter_core::{Message, MessageBuilder, ResultCode};
    /// let mut req = [0u8; 256];
    /// let req = Message::parse(AsrRepr::new("s", "h", "r", "r", "c")
    ///     .encode(AsrRepr::header(1, 1), &mut req).unwrap()).unwrap();
    /// let mut buf = [0u8; 128];
    /// let mut b = MessageBuilder::answer_to(&mut buf, &req);
    /// AsaRepr::new("s", ResultCode::SUCCESS, "c", "r").write_without_session_id(&mut b);
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
    /// use diameter_cc::msg::AsaRepr;
    /// use diameter_core::ResultCode;
    /// let mut buf = [0u8; 128];
    /// assert!(AsaRepr::new("s", ResultCode::SUCCESS, "c", "r")
    ///     .encode(AsaRepr::header(1, 1), &mut buf).is_ok());
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
    /// use diameter_cc::msg::{AsrRepr, AsaRepr};
    /// use diameter_core::{Message, ResultCode};
    /// let mut req = [0u8; 256];
    /// let req = Message::parse(AsrRepr::new("s;1", "ocs", "r", "r", "c")
    ///     .encode(AsrRepr::header(5, 6), &mut req).unwrap()).unwrap();
    /// let mut buf = [0u8; 128];
    /// let ans = AsaRepr::new("s;1", ResultCode::SUCCESS, "c", "r")
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
