//! # diameter-core
//!
//! A `no_std`, zero-allocation Diameter (RFC 6733) codec.
//!
//! - [`header`]: the 20-byte header (§3), a view and a [`HeaderRepr`].
//! - [`avp`]: AVP headers (§4.1) and a borrowing iterator; [`walk`]: every
//!   AVP of a message depth first, Grouped ones descended in one loop.
//! - [`types`]: every basic and derived data format (§4.2, §4.3).
//! - [`value`]: [`value::Value`], one enum over every data format, for
//!   tools that print or convert any message.
//! - [`dict`]: `const` AVP and command definitions; [`dict::base`] is RFC 6733;
//!   [`dict::names`] names commands, AVPs, values, applications and vendors.
//! - [`message`]: [`Message::parse`] validates once, then typed `get`/`get_all`
//!   and grammar validation.
//! - [`encode`]: [`MessageBuilder`] writes straight into a caller's buffer.
//! - [`answer`]: answers and error answers with Failed-AVP in one call.
//! - [`framing`]: split a TCP byte stream into messages; [`rxbuf`]: a
//!   receive buffer that yields them.
//! - [`peer`]: the RFC 6733 §5 peer state machine.
//! - [`error`]: one error type whose kinds are Result-Codes.
//!
//! ## Decode
//!
//! ```
//! use diameter_core::{Message, dict::base};
//! # let bytes = diameter_core::doc_example();
//! let msg = Message::parse_with(&bytes, &base::Base).unwrap();
//! assert_eq!(msg.get(&base::ORIGIN_HOST).unwrap(), Some("client.example.org"));
//! assert_eq!(msg.get(&base::ORIGIN_STATE_ID).unwrap(), Some(7));
//! ```
//!
//! ## Encode
//!
//! ```
//! use diameter_core::{MessageBuilder, HeaderRepr, CommandCode, ApplicationId, dict::base};
//! let mut buf = [0u8; 256];
//! let hdr = HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 2);
//! let mut b = MessageBuilder::new(&mut buf, hdr);
//! b.put(&base::ORIGIN_HOST, "client.example.org");
//! b.put(&base::ORIGIN_REALM, "example.org");
//! b.put(&base::ORIGIN_STATE_ID, 7);
//! let bytes = b.finish().unwrap();
//! assert_eq!(bytes.len(), 20 + 28 + 20 + 12);
//! ```
//!
//! Nothing here allocates or panics on input; see each module's promise.
//!
//! ## Build settings for speed
//!
//! The codec is many small functions meant to inline into each other
//! across this crate, `diameter-cc` and yours. Link a binary with
//!
//! ```toml
//! [profile.release]
//! lto = "fat"
//! codegen-units = 1
//! ```
//!
//! (12–53% fewer instructions on the receive and encode paths). A server
//! can go further with a profile-guided build trained on its own traffic
//! (`-Cprofile-generate`, a training run, `llvm-profdata merge`,
//! `-Cprofile-use`): with LTO, 14–26% less time on a server's receive
//! path of a request in the benches (and 27% more on one large encode), as
//! long as the training runs the code the way the server calls it.
//! `BENCHMARKS.md` has the numbers and `benches/pgo.sh` the steps.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod answer;
pub mod avp;
pub mod dict;
pub mod encode;
pub mod error;
pub mod framing;
pub mod hash;
pub mod header;
pub mod message;
pub mod peer;
pub mod read;
pub mod result_code;
pub mod rxbuf;
pub mod time;
pub mod types;
pub mod value;
pub mod walk;

pub use avp::{Avp, AvpFlags, AvpIter, VendorId};
pub use dict::{AvpDef, CommandDef, Dictionary};
pub use encode::MessageBuilder;
pub use error::{EncodeError, Error, ErrorAvp, ErrorKind};
pub use framing::{Frame, Framer};
pub use header::{ApplicationId, CommandCode, CommandFlags, HeaderRepr};
pub use message::{AvpSet, Message, ParseConfig};
pub use result_code::ResultCode;
pub use rxbuf::{RxBuf, RxError};
pub use types::{AddressValue, Timestamp, Uri};
pub use value::Value;
pub use walk::Walked;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// A small DWR used by the crate-level examples.
#[doc(hidden)]
pub fn doc_example() -> [u8; 80] {
    let mut buf = [0u8; 80];
    let hdr = HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 2);
    let mut b = MessageBuilder::new(&mut buf, hdr);
    b.put(&dict::base::ORIGIN_HOST, "client.example.org");
    b.put(&dict::base::ORIGIN_REALM, "example.org");
    b.put(&dict::base::ORIGIN_STATE_ID, 7);
    let _ = b.finish();
    buf
}
