//! Client-side session machines: what a SIP proxy or gateway links to charge
//! calls (see `SCENARIOS.md`): prepaid ([`prepaid`], RFC 8506 §7
//! session-based), postpaid ([`postpaid`], one CCR-Event) and accounting
//! ([`accounting`], RFC 6733 §8.2/§9).

pub mod accounting;
pub mod postpaid;
pub mod prepaid;

use diameter_core::dict::base::TerminationCause;
use diameter_core::peer::{owned_text, ConfigError, IdentityBuf};
use diameter_core::{EncodeError, Timestamp};

use crate::dict::tgpp::{NodeFunctionality, RoleOfNode};
use crate::dict::CcRequestType;
use crate::msg::{CcrRepr, ImsRepr, ServiceUnit, SubscriptionId};
use crate::session::Node;

/// Longest party identity kept (user name, subscription, SIP URIs).
pub const MAX_PARTY: usize = 96;
/// Longest Service-Context-Id kept (RFC 8506 §8.42).
pub const MAX_CONTEXT: usize = 96;

/// An owned party identity.
pub type PartyBuf = heapless::String<MAX_PARTY>;

/// Who is charged for what: the "common tail" of every CCR in SCENARIOS.md.
/// Owned, so a session holding it borrows nothing.
///
/// IMS-Information also carries Role-Of-Node and Node-Functionality: TS
/// 32.299 §7.2 makes Node-Functionality required there, so a 3GPP-aware
/// server (and our own validation) rejects an IMS-Information without it.
/// They are only sent when the session sends Service-Information.
///
/// ```
/// use diameter_cc::client::Parties;
/// let p = Parties::new("1001", "1002")?
///     .with_addresses("sip:1001@diameter.test", "sip:1002@diameter.test")?;
/// assert_eq!(p.subscription_id.as_str(), "1001");
/// assert_eq!(p.called_party.as_str(), "sip:1002@diameter.test");
/// # Ok::<(), diameter_core::peer::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parties {
    /// User-Name (the caller).
    pub user_name: PartyBuf,
    /// Subscription-Id-Data, sent as END_USER_E164 (the caller's number).
    pub subscription_id: PartyBuf,
    /// Calling-Party-Address (3GPP).
    pub calling_party: PartyBuf,
    /// Called-Party-Address (3GPP).
    pub called_party: PartyBuf,
    /// Role-Of-Node (3GPP), ORIGINATING by default.
    pub role_of_node: RoleOfNode,
    /// Node-Functionality (3GPP); a SIP proxy charging calls acts as AS.
    pub node_functionality: NodeFunctionality,
}

impl Parties {
    /// `caller` calls `callee`: the caller is the User-Name, the
    /// subscription (E.164) and the Calling-Party-Address; the callee the
    /// Called-Party-Address.
    pub fn new(caller: &str, callee: &str) -> Result<Self, ConfigError> {
        Ok(Parties {
            user_name: owned_text("User-Name", caller)?,
            subscription_id: owned_text("Subscription-Id-Data", caller)?,
            calling_party: owned_text("Calling-Party-Address", caller)?,
            called_party: owned_text("Called-Party-Address", callee)?,
            role_of_node: RoleOfNode::Originating,
            node_functionality: NodeFunctionality::As,
        })
    }

    /// Set the 3GPP Calling- and Called-Party-Address (SIP URIs, say).
    pub fn with_addresses(mut self, calling: &str, called: &str) -> Result<Self, ConfigError> {
        self.calling_party = owned_text("Calling-Party-Address", calling)?;
        self.called_party = owned_text("Called-Party-Address", called)?;
        Ok(self)
    }
}

/// Where CCRs go and for which service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CcrTarget<'a> {
    pub destination_realm: &'a str,
    pub destination_host: Option<&'a str>,
    pub service_context_id: &'a str,
    pub service_information: bool,
}

/// The per-request part of a CCR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CcrFields {
    pub request_type: CcRequestType,
    pub number: u32,
    pub timestamp: Timestamp,
    pub cause: Option<TerminationCause>,
    pub requested: Option<u32>,
    pub requested_action: Option<crate::dict::RequestedAction>,
    pub used: Option<u32>,
}

/// Encode a CCR with the "common tail" of SCENARIOS.md (User-Name,
/// Subscription-Id END_USER_E164, Service-Information{IMS-Information}),
/// through [`crate::msg::CcrRepr`], which owns the RFC 8506 §3.1 AVP order.
pub(crate) fn write_ccr(
    node: &Node,
    t: &CcrTarget<'_>,
    session_id: &str,
    parties: &Parties,
    f: &CcrFields,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let subscription = [SubscriptionId::e164(parties.subscription_id.as_str())];
    let used = f.used.map(ServiceUnit::time);
    let repr = CcrRepr {
        destination_host: t.destination_host,
        user_name: Some(parties.user_name.as_str()),
        event_timestamp: Some(f.timestamp),
        subscription_ids: &subscription,
        termination_cause: f.cause,
        requested_service_unit: f.requested.map(ServiceUnit::time),
        requested_action: f.requested_action,
        used_service_units: used.as_slice(),
        ims: t.service_information.then_some(ImsRepr {
            role_of_node: Some(parties.role_of_node),
            node_functionality: parties.node_functionality,
            calling_party_address: Some(parties.calling_party.as_str()),
            called_party_address: Some(parties.called_party.as_str()),
        }),
        ..CcrRepr::new(
            session_id,
            node.origin_host.as_str(),
            node.origin_realm.as_str(),
            t.destination_realm,
            t.service_context_id,
            f.request_type,
            f.number,
        )
    };
    repr.encode(CcrRepr::header(0, 0), buf).map(<[u8]>::len)
}

/// An optional owned identity as `&str`.
pub(crate) fn opt(s: &Option<IdentityBuf>) -> Option<&str> {
    s.as_ref().map(|h| h.as_str())
}
