//! Client-side session machines: what a SIP proxy or gateway links to charge
//! calls (see `SCENARIOS.md`): prepaid ([`prepaid`], RFC 8506 §7
//! session-based), postpaid (one CCR-Event) and accounting
//! ([`accounting`], RFC 6733 §8.2/§9).

pub mod accounting;
pub mod postpaid;
pub mod prepaid;

use diameter_core::dict::base::TerminationCause;
use diameter_core::{EncodeError, Timestamp};

use crate::dict::CcRequestType;
use crate::msg::{CcrRepr, ImsRepr, ServiceUnit, SubscriptionId};
pub use prepaid::Parties;

/// Where CCRs go and for which service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CcrTarget<'a> {
    pub origin_host: &'a str,
    pub origin_realm: &'a str,
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
    t: &CcrTarget<'_>,
    session_id: &str,
    parties: &Parties<'_>,
    f: &CcrFields,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let subscription = [SubscriptionId::e164(parties.subscription_id)];
    let used = f.used.map(ServiceUnit::time);
    let repr = CcrRepr {
        destination_host: t.destination_host,
        user_name: Some(parties.user_name),
        event_timestamp: Some(f.timestamp),
        subscription_ids: &subscription,
        termination_cause: f.cause,
        requested_service_unit: f.requested.map(ServiceUnit::time),
        requested_action: f.requested_action,
        used_service_units: used.as_slice(),
        ims: t.service_information.then_some(ImsRepr {
            role_of_node: Some(parties.role_of_node),
            node_functionality: parties.node_functionality,
            calling_party_address: Some(parties.calling_party),
            called_party_address: Some(parties.called_party),
        }),
        ..CcrRepr::new(
            session_id,
            t.origin_host,
            t.origin_realm,
            t.destination_realm,
            t.service_context_id,
            f.request_type,
            f.number,
        )
    };
    repr.encode(CcrRepr::header(0, 0), buf).map(<[u8]>::len)
}
