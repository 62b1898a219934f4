//! # diameter-sim
//!
//! Test support shared by the tests of `diameter-cc` and of the transports:
//!
//! - [`net`]: [`Net`], endpoints joined by in-memory links with a virtual
//!   clock, per-message delay, seeded loss, disconnects and a step bound
//!   that catches endless loops (quinn-proto's `tests/util.rs` `Pair`,
//!   for any number of nodes);
//! - [`alloc`]: the one counting allocator of every no-allocation test;
//! - [`tcp`]: one endpoint over real TCP sockets, for interop tests;
//! - [`peers`]: freeDiameter, a live tshark capture and the tshark checks
//!   of `../shared/peers/`, for interop tests;
//! - [`transcript`]: print a conversation as a message ladder;
//! - [`fixtures`]: the identities and settings of `SCENARIOS.md` (client
//!   and server of the `diameter.test` realm), ready-made endpoints.
//!
//! Nothing here is for production: it panics on misuse, like a test should.

pub mod alloc;
pub mod fixtures;
pub mod net;
pub mod peers;
pub mod tcp;
pub mod transcript;

pub use net::{Frame, Net, NodeId, Unhandled, Verdict};
pub use transcript::Transcript;
