//! # diameter-cli
//!
//! The `diameter` command and the library parts it is made of, so tests
//! and the subcommands share them:
//!
//! - [`input`]: reading files or stdin, hex text, framing a byte stream.
//! - [`tree`]: a message as a readable tree (names from
//!   [`diameter_cc::CreditControl`], values through
//!   [`diameter_core::value::Value`]).
//! - [`json`]: the exact JSON form of a message, both ways.
//! - [`pcap`]: Diameter messages out of a pcap/pcapng capture (TCP
//!   reassembled per direction).
//! - [`charging`]: subscribers, balances, tariffs, reservations, CDRs and
//!   accounting records in SQLite or PostgreSQL, behind diameter-cc's
//!   `Rating` and `AccountingSink`.
//! - [`server`]: the built-in charging server (a diameter-tokio node on
//!   the diameter-cc server sessions and [`charging`]).
//! - [`ladder`]: the message ladder of `diameter call`.
//! - [`tls`]: TLS at connect (RFC 6733 §2.1): PEM certificates and keys,
//!   the shared client flags, the throw-away certificate of `call --tls`.
//! - [`commands`]: the subcommands' arguments and `run` functions.
//!
//! The value type and the name look-ups are in the library crates
//! ([`diameter_core::value`], [`diameter_core::dict::names`]); this crate
//! only formats.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod charging;
pub mod commands;
pub mod input;
pub mod json;
pub mod ladder;
pub mod pcap;
pub mod server;
pub mod tls;
pub mod tree;
