//! The built-in charging server: a [`diameter_tokio::Node`] that serves
//! credit control (RFC 8506) and accounting (RFC 6733 §9) on diameter-cc's
//! server sessions, rated and recorded by [`crate::charging::Charging`].
//! `diameter serve` runs it on its own; `diameter call` without `--peer`
//! runs it in the same process on a free loopback port. Either listens on
//! plain TCP or, given [`ServerOptions::tls`], TLS.
//!
//! Every protocol decision is the server sessions' (grants, duplicates,
//! Tcc, the Abort-Session-Request sent when a client keeps a session
//! beyond its grant): this module only wires the database in and reports
//! events.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diameter_cc::endpoint::EndpointConfig;
use diameter_cc::server::accounting::AccountingServerConfig;
use diameter_cc::server::credit_control::CcServerConfig;
use diameter_cc::session::WallClock;
use diameter_cc::CreditControl;
use diameter_core::peer::{App, LocalIdentity, Pattern, PeerConfig};
use diameter_tokio::rustls::ServerConfig;
use diameter_tokio::{Direction, Node, NodeEvent};

use crate::charging::{Charging, ChargingConfig};
use crate::commands::Failure;

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddr,
    /// The charging database (see [`Charging::open`]).
    pub db: String,
    /// Origin-Host.
    pub origin_host: String,
    /// Origin-Realm.
    pub realm: String,
    /// This instance's name in the database (stable across restarts,
    /// distinct between instances sharing one database).
    pub instance: String,
    /// Clock speed ([`diameter_tokio::Builder::clock_speed`]).
    pub speed: u32,
    /// Acct-Interim-Interval told to accounting clients (seconds; 0: none).
    pub interim: u32,
    /// Only these Origin-Host patterns may connect (empty: anyone).
    pub allow_hosts: Vec<String>,
    /// Print every message in and out in full to stderr.
    pub dump: bool,
    /// Room for 64 peers and 4,096 sessions (`serve`); false: 4 peers and
    /// 64 sessions, quicker to start (the in-process server of `call`).
    pub large: bool,
    /// Listen with TLS (RFC 6733 §2.1: the handshake first) with these
    /// settings ([`crate::tls::server_config`], [`crate::tls::throwaway`]);
    /// `None`: plain TCP.
    pub tls: Option<Arc<ServerConfig>>,
}

impl ServerOptions {
    /// The defaults of `diameter serve`: `server.diameter.test` in
    /// `diameter.test` (SCENARIOS.md), listening on `listen`, storing in
    /// `db`, INTERIM records every 30 s.
    pub fn new(listen: SocketAddr, db: &str) -> ServerOptions {
        ServerOptions {
            listen,
            db: db.to_string(),
            origin_host: "server.diameter.test".into(),
            realm: "diameter.test".into(),
            instance: "serve".into(),
            speed: 1,
            interim: 30,
            allow_hosts: Vec::new(),
            dump: false,
            large: true,
            tls: None,
        }
    }
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The identity of a node of the `diameter` command: credit control (4)
/// and accounting (3), 3GPP (10415) supported, Product-Name `diameter-rs`.
pub fn identity(host: &str, realm: &str) -> Result<LocalIdentity, Failure> {
    LocalIdentity::new(host, realm)
        .and_then(|l| l.with_application(App::auth(4)))
        .and_then(|l| l.with_application(App::acct(3)))
        .and_then(|l| l.with_supported_vendor(10415))
        .and_then(|l| l.with_product_name("diameter-rs"))
        .map_err(|e| Failure(format!("bad identity {host:?} / {realm:?}: {e}")))
}

/// A running server: the node, and a connection to its database for
/// reading balances and records.
#[derive(Debug)]
pub struct Server {
    /// The node (listening at [`Node::local_addrs`]).
    pub node: Node,
    /// Another connection to the database.
    pub db: Charging,
}

/// Open the database (creating it with the demo data when missing),
/// release what a crashed predecessor of the same instance held, and
/// start listening. Must run inside a tokio runtime.
pub async fn start(opts: &ServerOptions) -> Result<Server, Failure> {
    let config = ChargingConfig {
        instance: opts.instance.clone(),
        ..ChargingConfig::default()
    };
    let mut rating = Charging::open(&opts.db, config)?;
    rating.release_instance()?;
    let sink = rating.reopen()?;
    let db = rating.reopen()?;

    let mut peer = PeerConfig::new(identity(&opts.origin_host, &opts.realm)?, unix_now() as u32);
    // The watchdog and the capabilities exchange stay in real time
    // whatever the clock's speed.
    let speed = opts.speed.max(1);
    peer.tw = peer.tw.saturating_mul(speed);
    peer.capabilities_timeout = peer.capabilities_timeout.saturating_mul(speed);
    for h in &opts.allow_hosts {
        let p = Pattern::try_from(h.as_str())
            .map_err(|_| Failure(format!("host pattern too long: {h:?}")))?;
        peer.allowed_hosts
            .push(p)
            .map_err(|_| Failure("too many --allow-host patterns".into()))?;
    }
    let endpoint = EndpointConfig::new(peer, WallClock::new(0));
    let acct = AccountingServerConfig {
        interim_interval: (opts.interim > 0).then_some(opts.interim),
        ..AccountingServerConfig::new()
    };
    let mut builder = Node::builder(endpoint)
        .credit_control(CcServerConfig::new(), rating)
        .accounting(acct, sink)
        .listen(opts.listen)
        .clock_speed(opts.speed);
    if let Some(tls) = &opts.tls {
        builder = builder.tls_server(tls.clone());
    }
    if opts.dump {
        builder = builder.tap(|dir, addr, bytes| {
            let (tree, _) = crate::tree::render(bytes, &CreditControl, Default::default());
            let arrow = if dir == Direction::In { "<--" } else { "-->" };
            let peer = addr.map(|a| a.to_string()).unwrap_or_default();
            eprint!("{arrow} {peer}\n{tree}");
        });
    }
    let node = if opts.large {
        builder.start_sized::<64, 4096>().await
    } else {
        builder.start_sized::<4, 64>().await
    }
    .map_err(|e| Failure(e.to_string()))?;
    Ok(Server { node, db })
}

/// One line about a node event, for the server's log; `None` for events
/// not worth a line.
pub fn describe(e: &NodeEvent) -> Option<String> {
    Some(match e {
        NodeEvent::PeerUp { host, addr, .. } => match addr {
            Some(a) => format!("peer up: {host} ({a})"),
            None => format!("peer up: {host}"),
        },
        NodeEvent::PeerDown { reason, .. } => format!("peer down: {reason}"),
        NodeEvent::PeerSuspect { .. } => "peer suspect (no DWA)".into(),
        NodeEvent::Session {
            session_id, event, ..
        } => format!("{session_id}: {event:?}"),
        NodeEvent::CreditControlServer(e) => format!("credit control: {e:?}"),
        NodeEvent::AccountingServer(e) => format!("accounting: {e:?}"),
        NodeEvent::HandshakeFailed { addr, error } => {
            format!("connection {addr} closed: TLS handshake failed: {error}")
        }
        NodeEvent::LimitBroken { addr, what } => match addr {
            Some(a) => format!("connection {a} closed: {what}"),
            None => format!("connection closed: {what}"),
        },
        _ => return None,
    })
}

/// How long `serve` waits for its peers' DPAs when stopped.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
