//! Small grouped AVPs of the charging messages: Subscription-Id (RFC 8506
//! §8.46) and the IMS-Information of Service-Information (3GPP TS 32.299
//! §7.2).

use diameter_core::message::GetAll;
use diameter_core::types::Utf8String;
use diameter_core::{AvpSet, Error, MessageBuilder};

use diameter_core::read::{ReadAvps, WalkState};
use diameter_core::Avp;

use super::in_walk::{decode_group, GroupReader, InWalk};
use super::{fields, fields_reader, required};
use crate::dict::tgpp::{self, NodeFunctionality, RoleOfNode};
use crate::dict::{self, SubscriptionIdType};

/// A Subscription-Id (443, RFC 8506 §8.46): the identity of the end user
/// charged, e.g. `{ END_USER_E164, "1001" }`. `Copy`, used for decoding and
/// encoding alike.
///
/// ```
/// use diameter_cc::msg::SubscriptionId;
/// use diameter_cc::dict::SubscriptionIdType;
/// let s = SubscriptionId::e164("1001");
/// assert_eq!(s, SubscriptionId { id_type: SubscriptionIdType::E164, data: "1001" });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SubscriptionId<'a> {
    /// Subscription-Id-Type (450, RFC 8506 §8.47).
    pub id_type: SubscriptionIdType,
    /// Subscription-Id-Data (444, RFC 8506 §8.48).
    pub data: &'a str,
}

impl<'a> SubscriptionId<'a> {
    /// An END_USER_E164 identity (RFC 8506 §8.47): an international number
    /// (MSISDN), as the SCENARIOS common tail sends for the caller.
    ///
    /// ```
    /// use diameter_cc::msg::SubscriptionId;
    /// assert_eq!(SubscriptionId::e164("1001").data, "1001");
    /// ```
    pub const fn e164(number: &'a str) -> Self {
        SubscriptionId {
            id_type: SubscriptionIdType::E164,
            data: number,
        }
    }

    /// Decode the AVPs of a Subscription-Id (RFC 8506 §8.46); both are
    /// required (5005).
    ///
    /// ```
    /// use diameter_cc::msg::SubscriptionId;
    /// use diameter_core::AvpSet;
    /// let e = SubscriptionId::decode(AvpSet::new(&[], 0)).unwrap_err();
    /// assert_eq!(e.avp().unwrap().code, 450);
    /// ```
    pub fn decode(set: AvpSet<'a>) -> Result<SubscriptionId<'a>, Error> {
        decode_group(set, SubscriptionIdReader::default())
    }

    /// Append Subscription-Id-Type and Subscription-Id-Data (the content).
    ///
    /// ```
    /// use diameter_cc::msg::SubscriptionId;
    /// use diameter_cc::dict;
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder};
    /// let mut buf = [0u8; 64];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// b.grouped(&dict::SUBSCRIPTION_ID, |g| SubscriptionId::e164("1001").write(g));
    /// assert_eq!(b.finish().unwrap().len(), 20 + 32);
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        b.put(&dict::SUBSCRIPTION_ID_TYPE, self.id_type);
        b.put(&dict::SUBSCRIPTION_ID_DATA, self.data);
    }
}

/// The IMS-Information (876/10415, 3GPP TS 32.299 §7.2) inside a
/// Service-Information, as decoded: who calls whom, and which IMS node
/// reports.
///
/// Only the AVPs a SIP charging flow reads have fields; the whole group
/// stays in [`ImsInformation::avps`]. Calling-Party-Address may repeat;
/// the field holds the first, [`ImsInformation::calling_party_addresses`]
/// all of them.
///
/// ```
/// use diameter_cc::msg::{ImsInformation, ImsRepr};
/// use diameter_cc::dict::tgpp::{self, NodeFunctionality};
/// use diameter_cc::CreditControl;
/// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder, Message};
///
/// let repr = ImsRepr {
///     role_of_node: None,
///     node_functionality: NodeFunctionality::As,
///     calling_party_address: Some("sip:1001@example.org"),
///     called_party_address: Some("sip:1002@example.org"),
/// };
/// let mut buf = [0u8; 256];
/// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
/// b.grouped(&tgpp::IMS_INFORMATION, |g| repr.write(g));
/// let bytes = b.finish().unwrap();
/// let m = Message::parse_with(bytes, &CreditControl).unwrap();
/// let ims = ImsInformation::decode(m.require(&tgpp::IMS_INFORMATION).unwrap()).unwrap();
/// assert_eq!(ims.repr(), repr);
/// assert_eq!(ims.user_session_id, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ImsInformation<'a> {
    /// Role-Of-Node (829/10415): originating, terminating, forwarding.
    pub role_of_node: Option<RoleOfNode>,
    /// Node-Functionality (862/10415), required: the reporting node (AS,
    /// S-CSCF, ...).
    pub node_functionality: NodeFunctionality,
    /// User-Session-Id (830/10415): the SIP Call-ID.
    pub user_session_id: Option<&'a str>,
    /// The first Calling-Party-Address (831/10415).
    pub calling_party_address: Option<&'a str>,
    /// Called-Party-Address (832/10415).
    pub called_party_address: Option<&'a str>,
    /// IMS-Charging-Identifier (841/10415): the ICID.
    pub ims_charging_identifier: Option<&'a str>,
    /// The IMS-Information's AVPs, for everything else.
    pub avps: AvpSet<'a>,
}

impl<'a> ImsInformation<'a> {
    /// Decode the AVPs of an IMS-Information (TS 32.299 §7.2);
    /// Node-Functionality is required (5005).
    ///
    /// ```
    /// use diameter_cc::msg::ImsInformation;
    /// use diameter_core::AvpSet;
    /// let e = ImsInformation::decode(AvpSet::new(&[], 0)).unwrap_err();
    /// assert_eq!(e.avp().unwrap().code, 862);
    /// ```
    pub fn decode(set: AvpSet<'a>) -> Result<ImsInformation<'a>, Error> {
        decode_group(set, ImsInformationReader::default())
    }

    /// The IMS-Information inside the content of a Service-Information
    /// (873/10415), if there is one.
    ///
    /// ```
    /// use diameter_cc::msg::ImsInformation;
    /// use diameter_core::AvpSet;
    /// assert_eq!(ImsInformation::in_service_information(AvpSet::new(&[], 0)).unwrap(), None);
    /// ```
    pub fn in_service_information(
        service_information: AvpSet<'a>,
    ) -> Result<Option<ImsInformation<'a>>, Error> {
        let (_, ims) = decode_group(service_information, ServiceInformationReader::new())?;
        Ok(ims)
    }

    /// Every Calling-Party-Address (`*[ Calling-Party-Address ]`), in order.
    ///
    /// ```
    /// use diameter_cc::msg::ImsInformation;
    /// use diameter_cc::dict::tgpp::{self, NodeFunctionality};
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder, Message};
    /// let mut buf = [0u8; 256];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// b.grouped(&tgpp::IMS_INFORMATION, |g| {
    ///     g.put(&tgpp::NODE_FUNCTIONALITY, NodeFunctionality::As)
    ///         .put(&tgpp::CALLING_PARTY_ADDRESS, "sip:a@x")
    ///         .put(&tgpp::CALLING_PARTY_ADDRESS, "tel:+1");
    /// });
    /// let bytes = b.finish().unwrap();
    /// let m = Message::parse(bytes).unwrap();
    /// let ims = ImsInformation::decode(m.require(&tgpp::IMS_INFORMATION).unwrap()).unwrap();
    /// let all: Vec<_> = ims.calling_party_addresses().map(Result::unwrap).collect();
    /// assert_eq!(all, ["sip:a@x", "tel:+1"]);
    /// ```
    pub fn calling_party_addresses(&self) -> GetAll<'a, Utf8String> {
        self.avps.get_all(&tgpp::CALLING_PARTY_ADDRESS)
    }

    /// The fields of [`ImsRepr`], e.g. to answer or re-send with them.
    ///
    /// ```
    /// use diameter_cc::msg::{ImsInformation, ImsRepr};
    /// # use diameter_cc::dict::tgpp::{self, NodeFunctionality};
    /// # use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder, Message};
    /// # let mut buf = [0u8; 256];
    /// # let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    /// #     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// # b.grouped(&tgpp::IMS_INFORMATION, |g| { g.put(&tgpp::NODE_FUNCTIONALITY, NodeFunctionality::As); });
    /// # let bytes = b.finish().unwrap();
    /// # let m = Message::parse(bytes).unwrap();
    /// let ims = ImsInformation::decode(m.require(&tgpp::IMS_INFORMATION).unwrap()).unwrap();
    /// assert_eq!(ims.repr().node_functionality, NodeFunctionality::As);
    /// ```
    pub fn repr(&self) -> ImsRepr<'a> {
        ImsRepr {
            role_of_node: self.role_of_node,
            node_functionality: self.node_functionality,
            calling_party_address: self.calling_party_address,
            called_party_address: self.called_party_address,
        }
    }
}

/// The IMS-Information to send inside a Service-Information (3GPP TS
/// 32.299 §7.2): the SCENARIOS "common tail" `Service-Information {
/// IMS-Information { Calling-Party-Address, Called-Party-Address } }` plus
/// Role-Of-Node and the required Node-Functionality.
///
/// [`CcrRepr::ims`](super::CcrRepr::ims) writes it as
/// `Service-Information { IMS-Information { ... } }`.
///
/// ```
/// use diameter_cc::msg::ImsRepr;
/// use diameter_cc::dict::tgpp::{NodeFunctionality, RoleOfNode};
/// let tail = ImsRepr {
///     role_of_node: Some(RoleOfNode::Originating),
///     node_functionality: NodeFunctionality::As,
///     calling_party_address: Some("sip:1001@cgrates.org"),
///     called_party_address: Some("sip:1002@cgrates.org"),
/// };
/// assert_eq!(tail.called_party_address, Some("sip:1002@cgrates.org"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ImsRepr<'a> {
    /// Role-Of-Node (829/10415).
    pub role_of_node: Option<RoleOfNode>,
    /// Node-Functionality (862/10415), required by TS 32.299.
    pub node_functionality: NodeFunctionality,
    /// Calling-Party-Address (831/10415).
    pub calling_party_address: Option<&'a str>,
    /// Called-Party-Address (832/10415).
    pub called_party_address: Option<&'a str>,
}

impl ImsRepr<'_> {
    /// Append the content of an IMS-Information in TS 32.299 order
    /// (Role-Of-Node, Node-Functionality, Calling-, Called-Party-Address).
    ///
    /// ```
    /// use diameter_cc::msg::ImsRepr;
    /// use diameter_cc::dict::tgpp::{self, NodeFunctionality};
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder};
    /// let mut buf = [0u8; 128];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// let ims = ImsRepr { role_of_node: None, node_functionality: NodeFunctionality::As,
    ///                     calling_party_address: None, called_party_address: None };
    /// b.grouped(&tgpp::IMS_INFORMATION, |g| ims.write(g));
    /// assert_eq!(b.finish().unwrap().len(), 20 + 12 + 16);
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        if let Some(r) = self.role_of_node {
            b.put(&tgpp::ROLE_OF_NODE, r);
        }
        b.put(&tgpp::NODE_FUNCTIONALITY, self.node_functionality);
        if let Some(a) = self.calling_party_address {
            b.put(&tgpp::CALLING_PARTY_ADDRESS, a);
        }
        if let Some(a) = self.called_party_address {
            b.put(&tgpp::CALLED_PARTY_ADDRESS, a);
        }
    }

    /// Append a whole `Service-Information { IMS-Information { ... } }`.
    ///
    /// ```
    /// use diameter_cc::msg::ImsRepr;
    /// use diameter_cc::dict::tgpp::NodeFunctionality;
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder};
    /// let mut buf = [0u8; 128];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// let ims = ImsRepr { role_of_node: None, node_functionality: NodeFunctionality::As,
    ///                     calling_party_address: None, called_party_address: None };
    /// ims.write_service_information(&mut b);
    /// assert_eq!(b.finish().unwrap().len(), 20 + 12 + 12 + 16);
    /// ```
    pub fn write_service_information(&self, b: &mut MessageBuilder<'_>) {
        b.grouped(&tgpp::SERVICE_INFORMATION, |si| {
            si.grouped(&tgpp::IMS_INFORMATION, |g| self.write(g));
        });
    }
}

/// The reader of a Subscription-Id's content (see [`GroupReader`]).
#[derive(Default)]
pub(crate) struct SubscriptionIdReader<'a> {
    id_type: Option<SubscriptionIdType>,
    data: Option<&'a str>,
}

impl<'a> SubscriptionIdReader<'a> {
    /// Read one AVP of the content, checked in `walk` when given (see
    /// [`fields!`]).
    #[inline(always)]
    fn read(&mut self, avp: &Avp<'a>, mut walk: Option<&mut WalkState<'_>>) -> Result<bool, Error> {
        let SubscriptionIdReader { id_type, data } = self;
        fields!(dict::SUBSCRIPTION_ID.info.grammar; avp, walk;
            id_type = dict::SUBSCRIPTION_ID_TYPE,
            data = dict::SUBSCRIPTION_ID_DATA,
        )
    }
}

fields_reader!(SubscriptionIdReader);

impl<'a> GroupReader<'a> for SubscriptionIdReader<'a> {
    type Value = SubscriptionId<'a>;

    /// Both AVPs are required (5005).
    fn finish(&mut self, _: AvpSet<'a>) -> Result<SubscriptionId<'a>, Error> {
        Ok(SubscriptionId {
            id_type: required(self.id_type, &dict::SUBSCRIPTION_ID_TYPE)?,
            data: required(self.data, &dict::SUBSCRIPTION_ID_DATA)?,
        })
    }
}

/// The reader of an IMS-Information's content (see [`GroupReader`]).
#[derive(Default)]
pub(crate) struct ImsInformationReader<'a> {
    role_of_node: Option<RoleOfNode>,
    node_functionality: Option<NodeFunctionality>,
    user_session_id: Option<&'a str>,
    calling_party_address: Option<&'a str>,
    called_party_address: Option<&'a str>,
    ims_charging_identifier: Option<&'a str>,
}

fields_reader!(ImsInformationReader);

impl<'a> ImsInformationReader<'a> {
    /// Read one AVP of the content, checked in `walk` when given (see
    /// [`fields!`]).
    #[inline(always)]
    fn read(&mut self, avp: &Avp<'a>, mut walk: Option<&mut WalkState<'_>>) -> Result<bool, Error> {
        let ImsInformationReader {
            role_of_node,
            node_functionality,
            user_session_id,
            calling_party_address,
            called_party_address,
            ims_charging_identifier,
        } = self;
        fields!(tgpp::IMS_INFORMATION.info.grammar; avp, walk;
            role_of_node = tgpp::ROLE_OF_NODE,
            node_functionality = tgpp::NODE_FUNCTIONALITY,
            user_session_id = tgpp::USER_SESSION_ID,
            calling_party_address = tgpp::CALLING_PARTY_ADDRESS,
            called_party_address = tgpp::CALLED_PARTY_ADDRESS,
            ims_charging_identifier = tgpp::IMS_CHARGING_IDENTIFIER,
        )
    }
}

impl<'a> GroupReader<'a> for ImsInformationReader<'a> {
    type Value = ImsInformation<'a>;

    /// Node-Functionality is required (5005).
    fn finish(&mut self, set: AvpSet<'a>) -> Result<ImsInformation<'a>, Error> {
        Ok(ImsInformation {
            role_of_node: self.role_of_node,
            node_functionality: required(self.node_functionality, &tgpp::NODE_FUNCTIONALITY)?,
            user_session_id: self.user_session_id,
            calling_party_address: self.calling_party_address,
            called_party_address: self.called_party_address,
            ims_charging_identifier: self.ims_charging_identifier,
            avps: set,
        })
    }
}

/// The reader of a Service-Information's content (TS 32.299 §7.2): the
/// first IMS-Information, read by its own reader in the same walk.
pub(crate) struct ServiceInformationReader<'a> {
    ims: InWalk<'a, ImsInformationReader<'a>>,
}

impl ServiceInformationReader<'_> {
    /// Nothing read yet.
    pub(crate) fn new() -> Self {
        ServiceInformationReader {
            ims: InWalk::new(ImsInformationReader::default()),
        }
    }
}

impl<'a> ReadAvps<'a> for ServiceInformationReader<'a> {
    #[inline(always)]
    fn avp(&mut self, avp: &Avp<'a>) -> Result<(), Error> {
        match avp.is(tgpp::IMS_INFORMATION.code(), tgpp::IMS_INFORMATION.vendor()) {
            true => self.ims.close(avp),
            false => Ok(()),
        }
    }

    #[inline(always)]
    fn group(&mut self, avp: &Avp<'a>) -> Option<&mut dyn ReadAvps<'a>> {
        match avp.is(tgpp::IMS_INFORMATION.code(), tgpp::IMS_INFORMATION.vendor()) {
            true => self.ims.open(),
            false => None,
        }
    }
}

impl<'a> GroupReader<'a> for ServiceInformationReader<'a> {
    /// The content itself, and its first IMS-Information.
    type Value = (AvpSet<'a>, Option<ImsInformation<'a>>);

    fn finish(&mut self, set: AvpSet<'a>) -> Result<Self::Value, Error> {
        Ok((set, self.ims.value))
    }
}
