//! # diameter-cc
//!
//! The Diameter Credit-Control Application (RFC 8506, which obsoletes RFC
//! 4006) for the `no_std`, zero-allocation [`diameter_core`] codec.
//!
//! Read RFC 8506 §3 (messages) and §8 (AVPs) first; the 3GPP AVPs follow
//! TS 32.299 §7.2.
//!
//! - [`dict`]: `const` definitions of every RFC 8506 AVP with its data type,
//!   flag rules and grouped grammar; the values of every Enumerated AVP as
//!   Rust enums; [`dict::CCR`] and [`dict::CCA`]; the 3GPP TS 32.299 Ro
//!   subset ([`dict::tgpp`]); the SIP accounting AVPs OpenSIPS sends
//!   ([`dict::sip`]); and [`CreditControl`], one [`Dictionary`] for all of
//!   it plus the RFC 6733 base.
//! - [`msg`]: typed, borrowed views of CCR/CCA, ACR/ACA, RAR/RAA and
//!   ASR/ASA (grammar-checked decode) and `Repr` structs that encode them.
//! - [`client`]: the session machines a SIP proxy links: prepaid
//!   (RFC 8506 §7 session-based), postpaid (one CCR-Event) and accounting
//!   (RFC 6733 §8.2, §9).
//! - [`server`]: the credit-control server (grants from a pluggable
//!   [`server::credit_control::Rating`]) and the accounting server.
//! - [`ladder`]: one readable line per message, for message ladders.
//! - [`session`]: the one shape of every session machine ([`session::Machine`]),
//!   Session-Id (RFC 6733 §8.8), wall clock, driving order.
//! - [`endpoint`]: one sans-IO node that owns the peer connections and a
//!   table of sessions of every kind, so that a transport only moves bytes
//!   and time.
//!
//! Nothing here allocates; every table is `'static`.
//!
//! # Features
//!
//! The endpoint dispatches its sessions by `match`, so every session kind
//! it can hold is linked into a firmware that uses it. Each kind is a
//! feature, all in `default`: `prepaid`, `postpaid`, `accounting` (the
//! client sessions) and `server` (the credit-control and accounting
//! server sessions, [`endpoint::Endpoint::with_credit_control`] and the
//! like). A gateway that only charges prepaid calls depends on this crate
//! with `default-features = false, features = ["prepaid"]`. The machines
//! ([`client`], [`server`]) and the codec are there in every build; what
//! is not called costs no flash. `defmt` derives `defmt::Format` on the
//! public enums.
//!
//! ```
//! use diameter_cc::{dict, CreditControl};
//! use diameter_core::dict::Dictionary;
//! let info = CreditControl.avp(dict::GRANTED_SERVICE_UNIT.code(), 0).unwrap();
//! assert_eq!(info.name, "Granted-Service-Unit");
//! assert!(!info.grammar.rules.is_empty());
//! ```
//!
//! [`Dictionary`]: diameter_core::dict::Dictionary
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod client;
pub mod dict;
pub mod endpoint;
pub mod ladder;
pub mod msg;
pub mod server;
pub mod session;

pub use dict::CreditControl;
