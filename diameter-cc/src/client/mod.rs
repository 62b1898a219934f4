//! Client-side session machines: what a SIP proxy or gateway links to charge
//! calls (see `SCENARIOS.md`): prepaid ([`prepaid`], RFC 8506 §7
//! session-based), postpaid (one CCR-Event) and accounting
//! ([`accounting`], RFC 6733 §8.2/§9).

pub mod accounting;
pub mod postpaid;
pub mod prepaid;

use diameter_core::dict::base::{self, TerminationCause};
use diameter_core::{
    ApplicationId, CommandCode, EncodeError, HeaderRepr, MessageBuilder, Timestamp,
};

use crate::dict::{self, tgpp, CcRequestType, SubscriptionIdType};
pub use prepaid::Parties;

/// Where CCRs go and for which service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CcrTarget<'a> {
    pub origin_host: &'a str,
    pub origin_realm: &'a str,
    pub destination_realm: &'a str,
    pub destination_host: Option<&'a str>,
    pub service_context_id: &'a str,
}

/// The per-request part of a CCR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CcrFields {
    pub request_type: CcRequestType,
    pub number: u32,
    pub timestamp: Timestamp,
    pub cause: Option<TerminationCause>,
    pub requested: Option<u32>,
    pub used: Option<u32>,
}

/// Encode a CCR in the AVP order of RFC 8506 §3.1 with the "common tail" of
/// SCENARIOS.md (User-Name, Subscription-Id END_USER_E164,
/// Service-Information{IMS-Information{Calling/Called-Party-Address}}).
pub(crate) fn write_ccr(
    t: &CcrTarget<'_>,
    session_id: &str,
    parties: &Parties<'_>,
    f: &CcrFields,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let hdr = HeaderRepr::request(
        CommandCode::CREDIT_CONTROL,
        ApplicationId::CREDIT_CONTROL,
        0,
        0,
    )
    .proxiable(true);
    let mut b = MessageBuilder::new(buf, hdr);
    b.put(&base::SESSION_ID, session_id)
        .put(&base::ORIGIN_HOST, t.origin_host)
        .put(&base::ORIGIN_REALM, t.origin_realm)
        .put(&base::DESTINATION_REALM, t.destination_realm)
        .put(&base::AUTH_APPLICATION_ID, ApplicationId::CREDIT_CONTROL.0)
        .put(&dict::SERVICE_CONTEXT_ID, t.service_context_id)
        .put(&dict::CC_REQUEST_TYPE, f.request_type)
        .put(&dict::CC_REQUEST_NUMBER, f.number);
    if let Some(h) = t.destination_host {
        b.put(&base::DESTINATION_HOST, h);
    }
    b.put(&base::USER_NAME, parties.user_name)
        .put(&base::EVENT_TIMESTAMP, f.timestamp);
    b.grouped(&dict::SUBSCRIPTION_ID, |g| {
        g.put(&dict::SUBSCRIPTION_ID_TYPE, SubscriptionIdType::E164)
            .put(&dict::SUBSCRIPTION_ID_DATA, parties.subscription_id);
    });
    if let Some(cause) = f.cause {
        b.put(&base::TERMINATION_CAUSE, cause);
    }
    if let Some(t) = f.requested {
        b.grouped(&dict::REQUESTED_SERVICE_UNIT, |g| {
            g.put(&dict::CC_TIME, t);
        });
    }
    if let Some(t) = f.used {
        b.grouped(&dict::USED_SERVICE_UNIT, |g| {
            g.put(&dict::CC_TIME, t);
        });
    }
    b.grouped(&tgpp::SERVICE_INFORMATION, |g| {
        g.grouped(&tgpp::IMS_INFORMATION, |i| {
            i.put(&tgpp::ROLE_OF_NODE, parties.role_of_node)
                .put(&tgpp::NODE_FUNCTIONALITY, parties.node_functionality)
                .put(&tgpp::CALLING_PARTY_ADDRESS, parties.calling_party)
                .put(&tgpp::CALLED_PARTY_ADDRESS, parties.called_party);
        });
    });
    b.finish().map(|m| m.len())
}
