//! Timers and policy of one peer connection (RFC 6733 §5, RFC 3539 §3.4).

use core::time::Duration;

use super::capabilities::{owned, ConfigError, LocalIdentity};
use super::watchdog;
use crate::answer::Identity;
use crate::message::ParseConfig;

/// Longest allow-list pattern kept.
pub const MAX_PATTERN: usize = 128;
/// Most allow-list patterns of each kind.
pub const MAX_ALLOWED: usize = 4;

/// An allow-list entry: an exact name, or `*.domain` for every name that
/// ends in `.domain`.
pub type Pattern = heapless::String<MAX_PATTERN>;

/// Timers and policy. Owned: a peer machine or an endpoint that holds it
/// borrows nothing.
///
/// ```
/// use diameter_core::peer::{App, LocalIdentity, PeerConfig};
/// let me = LocalIdentity::new("ocs.example.org", "example.org")?.with_application(App::auth(4))?;
/// let mut config = PeerConfig::new(me, 1_764_720_000); // boot time, Unix seconds
/// config.allow_host("*.example.org")?;
/// assert!(config.admits("client.example.org", "elsewhere.org"));
/// assert!(!config.admits("client.other.org", "other.org"));
/// # Ok::<(), diameter_core::peer::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PeerConfig {
    /// What we advertise.
    pub local: LocalIdentity,
    /// Tw (default 30 s, at least 6 s; jittered ±2 s).
    pub tw: Duration,
    /// How long to wait for CEA (initiator) or CER (responder) (default 10 s).
    pub capabilities_timeout: Duration,
    /// How long to wait for a DPA (default 5 s).
    pub dpa_timeout: Duration,
    /// Tc (RFC 6733 §2.1, default 30 s): the longest wait before an
    /// initiator connects again after a connection closed or failed.
    pub reconnect_interval: Duration,
    /// The first such wait (default 1 s): it doubles with every attempt
    /// that does not reach the Open state, up to Tc, and each wait is drawn
    /// from its upper half (jitter); a connection that opens starts over.
    pub reconnect_initial: Duration,
    /// After the peer sent a DPR with BUSY or DO_NOT_WANT_TO_TALK_TO_YOU
    /// (RFC 6733 §5.4.3: "SHOULD NOT attempt reconnection"), no automatic
    /// reconnect for this long (default 1 h); `Peer::allow_reconnect` and
    /// `start` reconnect at once when the application needs the peer.
    pub do_not_want_backoff: Duration,
    /// Responder: Origin-Host patterns accepted; both lists empty = anyone.
    pub allowed_hosts: heapless::Vec<Pattern, MAX_ALLOWED>,
    /// Responder: Origin-Realm patterns accepted.
    pub allowed_realms: heapless::Vec<Pattern, MAX_ALLOWED>,
    /// Window for duplicate detection (§6.5) (default 60 s).
    pub duplicate_window: Duration,
    /// Seed for Tw jitter and the first identifiers.
    pub seed: u32,
    /// Boot time in seconds (Unix time at start): its low 12 bits are the
    /// high 12 bits of every End-to-End id, so that ids stay unique across
    /// restarts (§3).
    pub boot_time: u32,
    /// Parser settings for incoming messages.
    pub parse: ParseConfig,
}

impl PeerConfig {
    /// Defaults around `local`; `boot_time` is the Unix time at start, in
    /// seconds (RFC 6733 §3 wants End-to-End ids unique across reboots, so
    /// there is no default for it).
    pub fn new(local: LocalIdentity, boot_time: u32) -> Self {
        PeerConfig {
            tw: watchdog::TW_DEFAULT,
            capabilities_timeout: Duration::from_secs(10),
            dpa_timeout: Duration::from_secs(5),
            reconnect_interval: Duration::from_secs(30),
            reconnect_initial: Duration::from_secs(1),
            do_not_want_backoff: Duration::from_secs(3600),
            allowed_hosts: heapless::Vec::new(),
            allowed_realms: heapless::Vec::new(),
            duplicate_window: Duration::from_secs(60),
            // Two nodes booted in the same second still jitter apart.
            seed: 0x9e37_79b9
                ^ boot_time.rotate_left(7)
                ^ (crate::hash::fnv(local.origin_host.as_bytes()) as u32),
            boot_time,
            parse: ParseConfig::DEFAULT,
            local,
        }
    }

    /// Admit peers whose Origin-Host matches `pattern` (`*.domain` allowed).
    pub fn allow_host(&mut self, pattern: &str) -> Result<(), ConfigError> {
        let p = owned("allowed host pattern", pattern)?;
        self.allowed_hosts
            .push(p)
            .map_err(|_| ConfigError::TooMany {
                what: "allowed host patterns",
                max: MAX_ALLOWED,
            })
    }

    /// Admit peers whose Origin-Realm matches `pattern` (`*.domain` allowed).
    pub fn allow_realm(&mut self, pattern: &str) -> Result<(), ConfigError> {
        let p = owned("allowed realm pattern", pattern)?;
        self.allowed_realms
            .push(p)
            .map_err(|_| ConfigError::TooMany {
                what: "allowed realm patterns",
                max: MAX_ALLOWED,
            })
    }

    pub(crate) fn identity(&self) -> Identity<'_> {
        Identity {
            origin_host: self.local.origin_host.as_str(),
            origin_realm: self.local.origin_realm.as_str(),
        }
    }

    /// Whether a responder admits a peer with this Origin-Host and
    /// Origin-Realm (the allow-lists; empty lists admit anyone). A peer
    /// that is not admitted gets CEA 3010 DIAMETER_UNKNOWN_PEER.
    pub fn admits(&self, host: &str, realm: &str) -> bool {
        (self.allowed_hosts.is_empty() && self.allowed_realms.is_empty())
            || self.allowed_hosts.iter().any(|p| matches(p, host))
            || self.allowed_realms.iter().any(|p| matches(p, realm))
    }
}

/// Case-insensitive match of a name against an exact name or `*.domain`.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix('*') {
        Some(suffix) if suffix.starts_with('.') => {
            name.len() > suffix.len()
                && name
                    .get(name.len() - suffix.len()..)
                    .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
        }
        _ => pattern.eq_ignore_ascii_case(name),
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns() {
        assert!(matches("*.localdomain", "client.localdomain"));
        assert!(matches("*.localdomain", "a.b.LOCALDOMAIN"));
        assert!(!matches("*.localdomain", ".localdomain"));
        assert!(!matches("*.localdomain", "localdomain"));
        assert!(matches("Host.Example", "host.example"));
        assert!(!matches("*", "anything"));
        assert!(!matches("host", "host2"));
    }
}
