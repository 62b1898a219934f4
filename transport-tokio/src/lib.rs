//! # diameter-tokio
//!
//! Diameter (RFC 6733) over TCP, and TLS with the `tls` feature, on tokio:
//! a thin driver of the sans-IO [`diameter_cc::endpoint::Endpoint`].
//! Every protocol decision (capabilities exchange, watchdogs, DPR,
//! identifiers, timers, failover, the credit-control and accounting
//! session machines, what an answer means) is the endpoint's; this crate
//! moves bytes and time.
//!
//! A [`Node`] is a client, a server, or both (a proxy):
//!
//! - **client**: [`Builder::connect_to`] one or more peers in priority
//!   order; capabilities exchange, watchdogs, reconnection with back-off
//!   and DPR on shutdown happen by themselves. [`Node::request`] sends any
//!   request and returns its answer (many in flight on one connection,
//!   matched by identifiers); [`Node::prepaid`], [`Node::postpaid`] and
//!   [`Node::accounting`] run a call's charging session as a [`Call`].
//! - **server**: [`Builder::listen`]; peers are admitted by the allow-lists
//!   of the peer settings (others get CEA 3010); credit control and
//!   accounting run on the built-in server sessions with a rating engine
//!   and a record sink the application supplies
//!   ([`Builder::credit_control`], [`Builder::accounting`]); requests of
//!   other applications go to a [`Handler`]. [`Limits`] are enforced with
//!   clear errors, never by crashing; [`Node::shutdown`] sends DPR to every
//!   peer and waits for the DPAs.
//!
//! # How it runs
//!
//! The endpoint lives on a thread of its own (its tables are sized at
//! compile time and may be large; a rating engine may block on a
//! database), driven by a small single-threaded runtime for its timers.
//! Each connection is two tasks on the application's runtime: a reader
//! that frames the stream with [`diameter_core::RxBuf`] and hands whole
//! messages to the node's thread, and a writer. Handles talk to the thread
//! through a channel. After every message the thread polls the endpoint's
//! events, then its transmits, then its timer, as the endpoint's contract
//! says.
//!
//! # Example: a prepaid call between two nodes
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use diameter_tokio::{Authorization, Node, Target};
//! use diameter_cc::client::{Parties, prepaid::PrepaidConfig};
//! use diameter_cc::endpoint::EndpointConfig;
//! use diameter_cc::server::credit_control::{Balances, CcServerConfig};
//! use diameter_cc::session::WallClock;
//! use diameter_core::dict::base::TerminationCause;
//! use diameter_core::peer::{App, LocalIdentity, PeerConfig};
//!
//! let config = |host: &str| -> Result<EndpointConfig, Box<dyn std::error::Error>> {
//!     let me = LocalIdentity::new(host, "example.org")?.with_application(App::auth(4))?;
//!     Ok(EndpointConfig::new(PeerConfig::new(me, 1_764_720_000), WallClock::new(0)))
//! };
//! let mut balances = Balances::<16>::new();
//! balances.set("1001", 3600);
//! let server = Node::builder(config("ocs.example.org")?)
//!     .credit_control(CcServerConfig::new(), balances)
//!     .listen("127.0.0.1:0".parse()?)
//!     .start_sized::<4, 16>()
//!     .await?;
//!
//! let mut client_config = config("proxy.example.org")?;
//! client_config.prepaid = Some(PrepaidConfig::new("example.org", "voice@example.org")?);
//! let client = Node::builder(client_config)
//!     .connect_to(Target::new(server.local_addrs()[0]))
//!     .start_sized::<4, 16>()
//!     .await?;
//! client.wait_open(Duration::from_secs(5)).await?;
//!
//! let mut call = client.prepaid("call-1@proxy", Parties::new("1001", "1002")?).await?;
//! assert!(matches!(call.start().await?, Authorization::Allowed { seconds: Some(_) }));
//! call.answered().await?;
//! call.hangup(TerminationCause::Logout).await?;
//! client.shutdown(Duration::from_secs(2)).await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod call;
mod config;
mod driver;
mod handler;
mod node;
mod request;
mod stats;

pub use call::{Authorization, Call, SessionError};
pub use config::{Limits, Target};
pub use driver::ep::PeerStatus;
pub use driver::Tap;
pub use handler::{Handler, IncomingRequest, Responder};
pub use node::{Builder, ConnectError, Node, StartError, Stopped, DEFAULT_PEERS, DEFAULT_SESSIONS};
pub use request::{Answer, RequestError};
pub use stats::{Direction, NodeEvent, Stats};

/// rustls, as this crate uses it (build the client and server
/// configurations with it).
#[cfg(feature = "tls")]
pub use tokio_rustls::rustls;
