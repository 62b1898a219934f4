//! Capabilities exchange (RFC 6733 §5.3): what we advertise in CER/CEA,
//! what the peer advertised, and the negotiation of common applications.

use crate::dict::base;
use crate::encode::MessageBuilder;
use crate::error::Error;
use crate::message::{AvpSet, Message};
use crate::types::AddressValue;

/// Largest DiameterIdentity kept for a peer (an FQDN is at most 255 octets).
pub const MAX_IDENTITY: usize = 255;
/// Most applications remembered from a peer's CER/CEA.
pub const MAX_APPS: usize = 16;

/// The relay Application-Id (§2.4): matches every application.
pub const RELAY: u32 = 0xffff_ffff;

/// Whether an application is advertised for authorization/credit-control or
/// for accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AppKind {
    /// Auth-Application-Id (258).
    Auth,
    /// Acct-Application-Id (259).
    Acct,
}

/// One supported application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct App {
    /// Auth or Acct.
    pub kind: AppKind,
    /// The Application-Id.
    pub id: u32,
    /// Advertised inside a Vendor-Specific-Application-Id with this Vendor-Id.
    pub vendor: Option<u32>,
}

impl App {
    /// An Auth-Application-Id.
    pub const fn auth(id: u32) -> App {
        App {
            kind: AppKind::Auth,
            id,
            vendor: None,
        }
    }
    /// An Acct-Application-Id.
    pub const fn acct(id: u32) -> App {
        App {
            kind: AppKind::Acct,
            id,
            vendor: None,
        }
    }
    /// The same application advertised as vendor-specific.
    pub const fn vendor_specific(mut self, vendor: u32) -> App {
        self.vendor = Some(vendor);
        self
    }
}

/// What we say about ourselves in CER/CEA, DWR and DPR.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalIdentity<'a> {
    /// Origin-Host.
    pub origin_host: &'a str,
    /// Origin-Realm.
    pub origin_realm: &'a str,
    /// Host-IP-Address values (at least one; §5.3.5).
    pub host_ip_addresses: &'a [AddressValue<'a>],
    /// Vendor-Id (0 when none).
    pub vendor_id: u32,
    /// Product-Name.
    pub product_name: &'a str,
    /// Firmware-Revision, if any.
    pub firmware_revision: Option<u32>,
    /// Origin-State-Id: changes on every restart (§8.16).
    pub origin_state_id: u32,
    /// Supported-Vendor-Id values.
    pub supported_vendor_ids: &'a [u32],
    /// Applications we support. Use [`RELAY`] as an Auth id to act as a relay.
    pub applications: &'a [App],
    /// Inband-Security-Id to advertise (0 = none), `None` to omit.
    pub inband_security_id: Option<u32>,
}

impl LocalIdentity<'_> {
    /// Write the CER/CEA body after the Result-Code (§5.3.1, §5.3.2).
    pub(crate) fn put_capabilities(&self, b: &mut MessageBuilder<'_>) {
        b.put(&base::ORIGIN_HOST, self.origin_host);
        b.put(&base::ORIGIN_REALM, self.origin_realm);
        for a in self.host_ip_addresses {
            b.put(&base::HOST_IP_ADDRESS, *a);
        }
        b.put(&base::VENDOR_ID, self.vendor_id);
        b.put(&base::PRODUCT_NAME, self.product_name);
        b.put(&base::ORIGIN_STATE_ID, self.origin_state_id);
        for v in self.supported_vendor_ids {
            b.put(&base::SUPPORTED_VENDOR_ID, *v);
        }
        for app in self.applications.iter().filter(|a| a.vendor.is_none()) {
            match app.kind {
                AppKind::Auth => b.put(&base::AUTH_APPLICATION_ID, app.id),
                AppKind::Acct => b.put(&base::ACCT_APPLICATION_ID, app.id),
            };
        }
        if let Some(i) = self.inband_security_id {
            b.put(&base::INBAND_SECURITY_ID, i);
        }
        for app in self.applications.iter() {
            if let Some(v) = app.vendor {
                b.grouped(&base::VENDOR_SPECIFIC_APPLICATION_ID, |g| {
                    g.put(&base::VENDOR_ID, v);
                    match app.kind {
                        AppKind::Auth => g.put(&base::AUTH_APPLICATION_ID, app.id),
                        AppKind::Acct => g.put(&base::ACCT_APPLICATION_ID, app.id),
                    };
                });
            }
        }
        if let Some(f) = self.firmware_revision {
            b.put(&base::FIRMWARE_REVISION, f);
        }
    }

    /// Whether we support application `id` of `kind` (relay supports all).
    pub fn supports(&self, kind: AppKind, id: u32) -> bool {
        self.applications
            .iter()
            .any(|a| a.id == RELAY || (a.kind == kind && a.id == id))
    }
}

/// What a peer told us in its CER or CEA, copied out of the message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerInfo {
    /// The peer's Origin-Host.
    pub origin_host: heapless::String<MAX_IDENTITY>,
    /// The peer's Origin-Realm.
    pub origin_realm: heapless::String<MAX_IDENTITY>,
    /// The peer's Origin-State-Id, if sent.
    pub origin_state_id: Option<u32>,
    /// The peer's Vendor-Id.
    pub vendor_id: u32,
    /// Applications both sides support (the negotiated set).
    pub common: heapless::Vec<App, MAX_APPS>,
}

impl PeerInfo {
    /// Whether application `id` may be used with this peer (in the common
    /// set, either kind, or either side is a relay).
    pub fn allows(&self, id: u32) -> bool {
        self.common.iter().any(|a| a.id == id || a.id == RELAY)
    }
}

/// Why capabilities could not be agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CapabilitiesError {
    /// The CER/CEA is malformed; answer with the codec error.
    Invalid(Error),
    /// No application in common: 5010.
    NoCommonApplication,
    /// The identity is too long to keep.
    IdentityTooLong,
}

fn app_of(avp: &crate::Avp<'_>, vendor: Option<u32>) -> Option<App> {
    let kind = match (avp.vendor(), avp.code()) {
        (0, 258) => AppKind::Auth,
        (0, 259) => AppKind::Acct,
        _ => return None,
    };
    let id = crate::message::decode_avp::<crate::types::Unsigned32>(avp).ok()?;
    Some(App { kind, id, vendor })
}

fn for_each_app(set: AvpSet<'_>, mut f: impl FnMut(App)) {
    for avp in set.iter().map_while(Result::ok) {
        if let Some(a) = app_of(&avp, None) {
            f(a);
        } else if avp.is(260, 0) {
            let g = avp.group_set();
            let vendor = g.get(&base::VENDOR_ID).ok().flatten().unwrap_or(0);
            for inner in g.iter().map_while(Result::ok) {
                if let Some(a) = app_of(&inner, Some(vendor)) {
                    f(a);
                }
            }
        }
    }
}

/// Read a peer's CER/CEA (already validated against the base grammar) and
/// negotiate the applications both sides support (§5.3).
pub fn negotiate(
    msg: &Message<'_>,
    local: &LocalIdentity<'_>,
) -> Result<PeerInfo, CapabilitiesError> {
    let mut info = PeerInfo::default();
    let host = msg
        .require(&base::ORIGIN_HOST)
        .map_err(CapabilitiesError::Invalid)?;
    let realm = msg
        .require(&base::ORIGIN_REALM)
        .map_err(CapabilitiesError::Invalid)?;
    info.origin_host
        .push_str(host)
        .map_err(|_| CapabilitiesError::IdentityTooLong)?;
    info.origin_realm
        .push_str(realm)
        .map_err(|_| CapabilitiesError::IdentityTooLong)?;
    info.origin_state_id = msg.get(&base::ORIGIN_STATE_ID).ok().flatten();
    info.vendor_id = msg.get(&base::VENDOR_ID).ok().flatten().unwrap_or(0);
    let mut common = heapless::Vec::<App, MAX_APPS>::new();
    for_each_app(msg.avps(), |theirs: App| {
        let ours = local
            .applications
            .iter()
            .find(|a| (a.kind == theirs.kind && a.id == theirs.id) || a.id == RELAY);
        let agreed = match ours {
            Some(o) if o.id == RELAY => Some(theirs),
            Some(o) => Some(*o),
            None if theirs.id == RELAY => None, // handled below
            None => None,
        };
        if let Some(a) = agreed {
            if !common.contains(&a) {
                let _ = common.push(a);
            }
        }
        if theirs.id == RELAY {
            // A relay peer supports everything we do.
            for o in local.applications {
                if !common.contains(o) {
                    let _ = common.push(*o);
                }
            }
        }
    });
    if common.is_empty() {
        return Err(CapabilitiesError::NoCommonApplication);
    }
    info.common = common;
    Ok(info)
}

/// Which of two simultaneous connections survives (§5.6.4): the election is
/// won by the side whose Origin-Host is the higher when both are compared as
/// octet strings. Returns true when the local side wins, in which case the
/// local *responder* connection is kept and the local initiator connection
/// is closed; otherwise the local initiator connection is kept.
///
/// ```
/// use diameter_core::peer::election_won;
/// assert!(election_won("b.example", "a.example"));
/// assert!(!election_won("a.example", "b.example"));
/// ```
pub fn election_won(local_origin_host: &str, peer_origin_host: &str) -> bool {
    local_origin_host.as_bytes() > peer_origin_host.as_bytes()
}
