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

/// An owned DiameterIdentity (RFC 6733 §4.3.1): a host or realm name of at
/// most [`MAX_IDENTITY`] octets.
pub type IdentityBuf = heapless::String<MAX_IDENTITY>;

/// Most Host-IP-Address values advertised.
pub const MAX_ADDRESSES: usize = 4;
/// Most Supported-Vendor-Id values advertised.
pub const MAX_VENDORS: usize = 8;
/// Longest Product-Name kept.
pub const MAX_PRODUCT: usize = 64;

/// Copy `text` into an [`IdentityBuf`]; `what` names the setting in the error.
pub fn identity_buf(what: &'static str, text: &str) -> Result<IdentityBuf, ConfigError> {
    owned(what, text)
}

/// Copy `text` into a fixed-capacity string, or say which setting (`what`)
/// was too long.
pub fn owned_text<const N: usize>(
    what: &'static str,
    text: &str,
) -> Result<heapless::String<N>, ConfigError> {
    owned(what, text)
}

pub(crate) fn owned<const N: usize>(
    what: &'static str,
    text: &str,
) -> Result<heapless::String<N>, ConfigError> {
    let mut s = heapless::String::new();
    s.push_str(text)
        .map_err(|_| ConfigError::TooLong { what, max: N })?;
    Ok(s)
}

/// A setting that does not fit the fixed capacity chosen at compile time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigError {
    /// A text setting is longer than `max` octets.
    TooLong {
        /// The setting.
        what: &'static str,
        /// Its capacity.
        max: usize,
    },
    /// A list setting has more than `max` entries.
    TooMany {
        /// The setting.
        what: &'static str,
        /// Its capacity.
        max: usize,
    },
    /// A setting must not be empty.
    Empty {
        /// The setting.
        what: &'static str,
    },
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ConfigError::TooLong { what, max } => write!(f, "{what} is longer than {max} octets"),
            ConfigError::TooMany { what, max } => write!(f, "more than {max} {what}"),
            ConfigError::Empty { what } => write!(f, "{what} must not be empty"),
        }
    }
}

impl core::error::Error for ConfigError {}

/// What we say about ourselves in CER/CEA, DWR and DPR (RFC 6733 §5.3.1).
///
/// Owned, so that a peer machine or an endpoint holding it can live in a
/// `static` cell or a task: no borrowed configuration.
///
/// ```
/// use diameter_core::peer::{App, LocalIdentity};
/// let me = LocalIdentity::new("client.example.org", "example.org")?
///     .with_application(App::auth(4))?
///     .with_application(App::acct(3))?;
/// assert_eq!(me.origin_host.as_str(), "client.example.org");
/// assert_eq!(me.host_ip_addresses.len(), 1); // 127.0.0.1 until you set yours
/// # Ok::<(), diameter_core::peer::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalIdentity {
    /// Origin-Host.
    pub origin_host: IdentityBuf,
    /// Origin-Realm.
    pub origin_realm: IdentityBuf,
    /// Host-IP-Address values (at least one; §5.3.5).
    pub host_ip_addresses: heapless::Vec<core::net::IpAddr, MAX_ADDRESSES>,
    /// Vendor-Id (0 when none).
    pub vendor_id: u32,
    /// Product-Name.
    pub product_name: heapless::String<MAX_PRODUCT>,
    /// Firmware-Revision, if any.
    pub firmware_revision: Option<u32>,
    /// Origin-State-Id: changes on every restart (§8.16).
    pub origin_state_id: u32,
    /// Supported-Vendor-Id values.
    pub supported_vendor_ids: heapless::Vec<u32, MAX_VENDORS>,
    /// Applications we support. Use [`RELAY`] as an Auth id to act as a relay.
    pub applications: heapless::Vec<App, MAX_APPS>,
    /// Inband-Security-Id to advertise (0 = none), `None` to omit.
    pub inband_security_id: Option<u32>,
}

impl LocalIdentity {
    /// An identity with defaults: Host-IP-Address 127.0.0.1 (replace it with
    /// the address peers reach you at), Vendor-Id 0, Product-Name
    /// `diameter-rs`, Origin-State-Id 0, no applications yet.
    pub fn new(origin_host: &str, origin_realm: &str) -> Result<Self, ConfigError> {
        if origin_host.is_empty() {
            return Err(ConfigError::Empty {
                what: "Origin-Host",
            });
        }
        if origin_realm.is_empty() {
            return Err(ConfigError::Empty {
                what: "Origin-Realm",
            });
        }
        let mut host_ip_addresses = heapless::Vec::new();
        let _ = host_ip_addresses.push(core::net::IpAddr::V4(core::net::Ipv4Addr::LOCALHOST));
        Ok(LocalIdentity {
            origin_host: owned("Origin-Host", origin_host)?,
            origin_realm: owned("Origin-Realm", origin_realm)?,
            host_ip_addresses,
            vendor_id: 0,
            product_name: owned("Product-Name", "diameter-rs")?,
            firmware_revision: None,
            origin_state_id: 0,
            supported_vendor_ids: heapless::Vec::new(),
            applications: heapless::Vec::new(),
            inband_security_id: None,
        })
    }

    /// Add an application to advertise.
    pub fn with_application(mut self, app: App) -> Result<Self, ConfigError> {
        self.applications
            .push(app)
            .map_err(|_| ConfigError::TooMany {
                what: "applications",
                max: MAX_APPS,
            })?;
        Ok(self)
    }

    /// Add a Supported-Vendor-Id.
    pub fn with_supported_vendor(mut self, vendor: u32) -> Result<Self, ConfigError> {
        self.supported_vendor_ids
            .push(vendor)
            .map_err(|_| ConfigError::TooMany {
                what: "Supported-Vendor-Id values",
                max: MAX_VENDORS,
            })?;
        Ok(self)
    }

    /// Replace the Host-IP-Address values with `addresses` (at least one).
    pub fn with_addresses(mut self, addresses: &[core::net::IpAddr]) -> Result<Self, ConfigError> {
        if addresses.is_empty() {
            return Err(ConfigError::Empty {
                what: "Host-IP-Address",
            });
        }
        self.host_ip_addresses =
            heapless::Vec::from_slice(addresses).map_err(|_| ConfigError::TooMany {
                what: "Host-IP-Address values",
                max: MAX_ADDRESSES,
            })?;
        Ok(self)
    }

    /// Set the Product-Name.
    pub fn with_product_name(mut self, name: &str) -> Result<Self, ConfigError> {
        self.product_name = owned("Product-Name", name)?;
        Ok(self)
    }

    /// Set the Origin-State-Id (§8.16: a value that grows on every restart,
    /// for example the boot time in seconds).
    pub fn with_origin_state_id(mut self, id: u32) -> Self {
        self.origin_state_id = id;
        self
    }

    /// Write the CER/CEA body after the Result-Code (§5.3.1, §5.3.2).
    pub(crate) fn put_capabilities(&self, b: &mut MessageBuilder<'_>) {
        b.put(&base::ORIGIN_HOST, self.origin_host.as_str());
        b.put(&base::ORIGIN_REALM, self.origin_realm.as_str());
        for a in &self.host_ip_addresses {
            b.put(&base::HOST_IP_ADDRESS, AddressValue::from(*a));
        }
        b.put(&base::VENDOR_ID, self.vendor_id);
        b.put(&base::PRODUCT_NAME, self.product_name.as_str());
        b.put(&base::ORIGIN_STATE_ID, self.origin_state_id);
        for v in &self.supported_vendor_ids {
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

impl core::fmt::Display for CapabilitiesError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CapabilitiesError::Invalid(e) => write!(f, "invalid capabilities exchange: {e}"),
            CapabilitiesError::NoCommonApplication => f.write_str("no application in common"),
            CapabilitiesError::IdentityTooLong => f.write_str("peer identity too long"),
        }
    }
}

impl core::error::Error for CapabilitiesError {}

fn app_of(avp: &crate::Avp<'_>, vendor: Option<u32>) -> Result<Option<App>, Error> {
    let kind = match (avp.vendor(), avp.code()) {
        (0, 258) => AppKind::Auth,
        (0, 259) => AppKind::Acct,
        _ => return Ok(None),
    };
    let id = crate::message::decode_avp::<crate::types::Unsigned32>(avp)?;
    Ok(Some(App { kind, id, vendor }))
}

/// Every application a CER/CEA advertises, top level and inside
/// Vendor-Specific-Application-Id; a value that does not decode is an error,
/// not a missing application.
fn for_each_app(set: AvpSet<'_>, mut f: impl FnMut(App)) -> Result<(), Error> {
    for avp in set.iter() {
        let avp = avp?;
        if let Some(a) = app_of(&avp, None)? {
            f(a);
        } else if avp.is(260, 0) {
            let g = avp.group_set();
            let vendor = g.get(&base::VENDOR_ID)?.unwrap_or(0);
            for inner in g.iter() {
                if let Some(a) = app_of(&inner?, Some(vendor))? {
                    f(a);
                }
            }
        }
    }
    Ok(())
}

/// Read a peer's CER/CEA (already validated against the base grammar) and
/// negotiate the applications both sides support (§5.3).
pub fn negotiate(msg: &Message<'_>, local: &LocalIdentity) -> Result<PeerInfo, CapabilitiesError> {
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
    info.origin_state_id = msg
        .get(&base::ORIGIN_STATE_ID)
        .map_err(CapabilitiesError::Invalid)?;
    info.vendor_id = msg
        .get(&base::VENDOR_ID)
        .map_err(CapabilitiesError::Invalid)?
        .unwrap_or(0);
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
            for o in &local.applications {
                if !common.contains(o) {
                    let _ = common.push(*o);
                }
            }
        }
    })
    .map_err(CapabilitiesError::Invalid)?;
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
