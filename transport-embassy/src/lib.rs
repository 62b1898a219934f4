//! Diameter (RFC 6733) and credit control (RFC 8506) on
//! [embassy-net](https://docs.rs/embassy-net): the endpoint of
//! `diameter-cc` driven over a TCP socket, with `embassy-time` timers, no
//! heap and no `std`, so that a microcontroller or a small gateway can
//! charge its calls itself.
//!
//! Read `diameter_cc::endpoint` first: it makes every protocol decision
//! (capabilities exchange, watchdogs, DPR, request identifiers, timers,
//! failover, what each answer means). This crate only moves bytes and
//! time:
//!
//! - [`Node`] shares one endpoint between the [`Runner`] task and the
//!   application's tasks, and sorts its events;
//! - [`Runner`] drives it over connections from a [`Transport`]
//!   ([`TcpClient`] connects, [`TcpServer`] accepts; both over
//!   `embassy_net::tcp::TcpSocket` through the `embedded_io_async`
//!   traits), with fixed [`Buffers`] sized by the caller;
//! - [`calls`] gives each session an async API: `start`, `answered`,
//!   `hangup`, with grants and errors as values;
//! - a [`Handler`] answers requests the node does not serve and sees every
//!   message on the wire.
//!
//! A node whose endpoint serves credit control or accounting
//! (`Endpoint::with_credit_control`, `with_accounting`) behind a
//! [`TcpServer`] is the responder: a charging server small enough for a
//! gateway, and the peer of the tests.
//!
//! ```no_run
//! use diameter_cc::client::{prepaid::PrepaidConfig, Parties};
//! use diameter_cc::endpoint::{Endpoint, EndpointConfig};
//! use diameter_cc::session::WallClock;
//! use diameter_core::dict::base::TerminationCause;
//! use diameter_core::peer::{App, LocalIdentity, PeerConfig, Role};
//! use diameter_embassy::{Buffers, NoHandler, Node, Runner, TcpClient};
//! use embassy_futures::join::join;
//! use embassy_net::{IpEndpoint, Ipv4Address, Stack};
//! use embassy_sync::blocking_mutex::raw::NoopRawMutex;
//!
//! async fn gateway(stack: Stack<'_>) {
//!     let me = LocalIdentity::new("gw.example.org", "example.org").unwrap()
//!         .with_application(App::auth(4)).unwrap();
//!     let mut config = EndpointConfig::new(PeerConfig::new(me, 1_764_720_000), WallClock::new(1_764_720_000));
//!     config.prepaid = Some(PrepaidConfig::new("example.org", "voice@example.org").unwrap());
//!     let ep: Endpoint<_, _, 1, 4> = Endpoint::new(config, diameter_embassy::clock::now());
//!     let node: Node<NoopRawMutex, _, _, 1, 4> = Node::new(ep);
//!     node.with(|ep| ep.add_peer(Role::Initiator, None));
//!
//!     let (mut rx, mut tx) = ([0u8; 2048], [0u8; 2048]);
//!     let ocs = IpEndpoint::new(Ipv4Address::new(10, 0, 0, 1).into(), 3868);
//!     let mut runner = Runner::new(&node, TcpClient::new(stack, ocs, &mut rx, &mut tx),
//!                                  Buffers::<2048, 2048>::new(), NoHandler);
//!     let app = async {
//!         node.wait_open().await;
//!         let mut call = node.prepaid("call-1@gw", Parties::new("1001", "1002").unwrap()).unwrap();
//!         if let Ok(grant) = call.start().await {
//!             call.answered().await.ok();
//!             // ... the call runs for at most grant.seconds ...
//!             call.hangup(TerminationCause::Logout).await.ok();
//!             let _ = grant;
//!         }
//!     };
//!     join(runner.run(), app).await;
//! }
//! ```
//!
//! Memory: the endpoint (`P` peers, `S` sessions), two event queues of
//! [`node::EVENT_QUEUE`] entries, the runner's `RX` + `TX` bytes and the
//! socket's buffers; no allocation anywhere. The `defmt` feature logs
//! events and link errors.
//!
//! Flash: the features `prepaid`, `postpaid`, `accounting` and `server`
//! (all in `default`) are `diameter-cc`'s session kinds, each linked
//! whether it is used or not; a gateway takes only the ones it opens
//! (`default-features = false, features = ["medium-ip", "prepaid"]`, say,
//! with `diameter-cc` likewise).
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod calls;
pub mod clock;
pub mod handler;
pub mod node;
pub mod runner;
pub mod transport;

#[cfg(feature = "accounting")]
pub use calls::AccountingCall;
pub use calls::Grant;
#[cfg(feature = "postpaid")]
pub use calls::PostpaidCall;
#[cfg(feature = "prepaid")]
pub use calls::PrepaidCall;
pub use handler::{Direction, Handler, NoHandler};
pub use node::{Node, NodeStats};
pub use runner::{Buffers, LinkError, LinkStats, Runner};
pub use transport::{Connection, OpenError, TcpClient, TcpConnection, TcpServer, Transport};
