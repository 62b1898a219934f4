//! The 20-byte Diameter header (RFC 6733 §3).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Version    |                 Message Length                |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Command Flags |                  Command Code                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         Application-ID                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Hop-by-Hop Identifier                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      End-to-End Identifier                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! [`Header`] is a view over any `AsRef<[u8]>` in the style of smoltcp's
//! `wire` packets: [`Header::new_checked`] verifies the length once, after
//! which no getter can panic. [`HeaderRepr`] is the parsed form, which also
//! checks version, length and flag rules, and emits a header.

use crate::error::{Error, ErrorKind};

/// Length of the Diameter header in bytes.
pub const HEADER_LEN: usize = 20;

/// The only Diameter version (§3).
pub const VERSION: u8 = 1;

/// Largest value of the 24-bit Message Length field.
pub const MAX_MESSAGE_LEN: usize = 0xff_ffff;

mod field {
    pub const VERSION: usize = 0;
    pub const LENGTH: core::ops::Range<usize> = 1..4;
    pub const FLAGS: usize = 4;
    pub const CODE: core::ops::Range<usize> = 5..8;
    pub const APP: core::ops::Range<usize> = 8..12;
    pub const HBH: core::ops::Range<usize> = 12..16;
    pub const E2E: core::ops::Range<usize> = 16..20;
}

/// Command flags (§3): R, P, E, T and four reserved bits.
///
/// ```
/// use diameter_core::CommandFlags;
/// let f = CommandFlags::REQUEST | CommandFlags::PROXIABLE;
/// assert!(f.is_request() && f.is_proxiable() && !f.is_error());
/// assert_eq!(f.bits(), 0xc0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CommandFlags(pub u8);

impl CommandFlags {
    /// R: the message is a request.
    pub const REQUEST: CommandFlags = CommandFlags(0x80);
    /// P: the message may be proxied, relayed or redirected.
    pub const PROXIABLE: CommandFlags = CommandFlags(0x40);
    /// E: the answer carries a protocol error (3xxx). Never on requests.
    pub const ERROR: CommandFlags = CommandFlags(0x20);
    /// T: potentially retransmitted after a link failover (§5.5.4).
    pub const RETRANSMIT: CommandFlags = CommandFlags(0x10);
    /// The four reserved bits, which must be zero.
    pub const RESERVED: CommandFlags = CommandFlags(0x0f);

    /// Raw bits.
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: CommandFlags) -> bool {
        self.0 & other.0 == other.0
    }
    /// R bit.
    pub const fn is_request(self) -> bool {
        self.contains(Self::REQUEST)
    }
    /// P bit.
    pub const fn is_proxiable(self) -> bool {
        self.contains(Self::PROXIABLE)
    }
    /// E bit.
    pub const fn is_error(self) -> bool {
        self.contains(Self::ERROR)
    }
    /// T bit.
    pub const fn is_retransmit(self) -> bool {
        self.contains(Self::RETRANSMIT)
    }
    /// Set or clear the bits of `other`.
    pub const fn with(self, other: CommandFlags, on: bool) -> Self {
        if on {
            CommandFlags(self.0 | other.0)
        } else {
            CommandFlags(self.0 & !other.0)
        }
    }
}

impl core::ops::BitOr for CommandFlags {
    type Output = CommandFlags;
    fn bitor(self, rhs: Self) -> Self {
        CommandFlags(self.0 | rhs.0)
    }
}

/// A Command-Code (§3, 24 bits). Open newtype with the base commands named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CommandCode(pub u32);

impl CommandCode {
    /// 257 Capabilities-Exchange (§5.3).
    pub const CAPABILITIES_EXCHANGE: CommandCode = CommandCode(257);
    /// 258 Re-Auth (§8.3).
    pub const RE_AUTH: CommandCode = CommandCode(258);
    /// 271 Accounting (§9.7).
    pub const ACCOUNTING: CommandCode = CommandCode(271);
    /// 272 Credit-Control (RFC 8506 §3).
    pub const CREDIT_CONTROL: CommandCode = CommandCode(272);
    /// 274 Abort-Session (§8.5).
    pub const ABORT_SESSION: CommandCode = CommandCode(274);
    /// 275 Session-Termination (§8.4).
    pub const SESSION_TERMINATION: CommandCode = CommandCode(275);
    /// 280 Device-Watchdog (§5.5).
    pub const DEVICE_WATCHDOG: CommandCode = CommandCode(280);
    /// 282 Disconnect-Peer (§5.4).
    pub const DISCONNECT_PEER: CommandCode = CommandCode(282);
}

/// An Application-ID (§2.4). Open newtype with the well-known ids named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ApplicationId(pub u32);

impl ApplicationId {
    /// 0: Diameter common messages (CER, DWR, DPR...).
    pub const COMMON: ApplicationId = ApplicationId(0);
    /// 1: NASREQ.
    pub const NASREQ: ApplicationId = ApplicationId(1);
    /// 3: Diameter base accounting.
    pub const BASE_ACCOUNTING: ApplicationId = ApplicationId(3);
    /// 4: Diameter Credit-Control (RFC 8506).
    pub const CREDIT_CONTROL: ApplicationId = ApplicationId(4);
    /// 0xffffffff: relay (§2.4).
    pub const RELAY: ApplicationId = ApplicationId(0xffff_ffff);
}

/// A zero-copy view of a Diameter header over a buffer.
///
/// ```
/// use diameter_core::header::Header;
/// let bytes = [1, 0, 0, 20, 0x80, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2];
/// let h = Header::new_checked(&bytes[..]).unwrap();
/// assert_eq!(h.length(), 20);
/// assert_eq!(h.command_code().0, 257);
/// assert!(h.flags().is_request());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// Wrap without checking; getters panic if the buffer is shorter than 20 bytes.
    pub const fn new_unchecked(buffer: T) -> Self {
        Header { buffer }
    }

    /// Wrap after checking the buffer holds at least [`HEADER_LEN`] bytes; no
    /// getter panics afterwards.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::new(ErrorKind::InvalidMessageLength));
        }
        Ok(Header { buffer })
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn u32_at(&self, r: core::ops::Range<usize>) -> u32 {
        let b = self.buffer.as_ref();
        let mut w = [0u8; 4];
        let n = r.len();
        w[4 - n..].copy_from_slice(&b[r]);
        u32::from_be_bytes(w)
    }

    /// Version (must be 1).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION]
    }
    /// Message Length, header included.
    pub fn length(&self) -> u32 {
        self.u32_at(field::LENGTH)
    }
    /// Command flags.
    pub fn flags(&self) -> CommandFlags {
        CommandFlags(self.buffer.as_ref()[field::FLAGS])
    }
    /// Command-Code.
    pub fn command_code(&self) -> CommandCode {
        CommandCode(self.u32_at(field::CODE))
    }
    /// Application-ID.
    pub fn application_id(&self) -> ApplicationId {
        ApplicationId(self.u32_at(field::APP))
    }
    /// Hop-by-Hop Identifier.
    pub fn hop_by_hop(&self) -> u32 {
        self.u32_at(field::HBH)
    }
    /// End-to-End Identifier.
    pub fn end_to_end(&self) -> u32 {
        self.u32_at(field::E2E)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Header<T> {
    fn set_u32_at(&mut self, r: core::ops::Range<usize>, v: u32) {
        let n = r.len();
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes()[4 - n..]);
    }
    /// Set the version.
    pub fn set_version(&mut self, v: u8) {
        self.buffer.as_mut()[field::VERSION] = v;
    }
    /// Set Message Length (only the low 24 bits are written).
    pub fn set_length(&mut self, v: u32) {
        self.set_u32_at(field::LENGTH, v & 0xff_ffff);
    }
    /// Set the command flags.
    pub fn set_flags(&mut self, f: CommandFlags) {
        self.buffer.as_mut()[field::FLAGS] = f.0;
    }
    /// Set Command-Code (low 24 bits).
    pub fn set_command_code(&mut self, c: CommandCode) {
        self.set_u32_at(field::CODE, c.0 & 0xff_ffff);
    }
    /// Set Application-ID.
    pub fn set_application_id(&mut self, a: ApplicationId) {
        self.set_u32_at(field::APP, a.0);
    }
    /// Set the Hop-by-Hop Identifier.
    pub fn set_hop_by_hop(&mut self, v: u32) {
        self.set_u32_at(field::HBH, v);
    }
    /// Set the End-to-End Identifier.
    pub fn set_end_to_end(&mut self, v: u32) {
        self.set_u32_at(field::E2E, v);
    }
}

/// The parsed header (without the length, which belongs to the message).
///
/// ```
/// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, CommandFlags};
/// let h = HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 7, 9);
/// let mut buf = [0u8; 20];
/// h.emit(&mut buf, 20);
/// let (back, len) = HeaderRepr::parse(&buf).unwrap();
/// assert_eq!((back, len), (h, 20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HeaderRepr {
    /// R/P/E/T flags.
    pub flags: CommandFlags,
    /// Command-Code.
    pub command_code: CommandCode,
    /// Application-ID.
    pub application_id: ApplicationId,
    /// Hop-by-Hop Identifier.
    pub hop_by_hop: u32,
    /// End-to-End Identifier.
    pub end_to_end: u32,
}

impl HeaderRepr {
    /// A request header (R set, P clear; set P with [`HeaderRepr::proxiable`]).
    pub const fn request(
        command_code: CommandCode,
        application_id: ApplicationId,
        hop_by_hop: u32,
        end_to_end: u32,
    ) -> Self {
        HeaderRepr {
            flags: CommandFlags::REQUEST,
            command_code,
            application_id,
            hop_by_hop,
            end_to_end,
        }
    }

    /// The header of an answer to `self`: R, E and T cleared, P copied,
    /// code, application and both identifiers kept (§6.2).
    pub const fn answer(&self) -> Self {
        HeaderRepr {
            flags: CommandFlags(self.flags.0 & CommandFlags::PROXIABLE.0),
            ..*self
        }
    }

    /// The same header with the P bit set or cleared.
    pub const fn proxiable(mut self, on: bool) -> Self {
        self.flags = self.flags.with(CommandFlags::PROXIABLE, on);
        self
    }

    /// Parse and check a header: version 1 (5011), length at least 20, a
    /// multiple of 4 and within `bytes` (5015), no E bit on a request
    /// (3008). The reserved command flag bits "MUST be set to zero and
    /// ignored by the receiver" (RFC 6733 §3): they are kept in the flags
    /// but not checked here (see `ParseConfig::strict_command_flags`).
    /// Returns the header and the message length.
    pub fn parse(bytes: &[u8]) -> Result<(HeaderRepr, usize), Error> {
        let h = Header::new_checked(bytes)?;
        if h.version() != VERSION {
            return Err(Error::new(ErrorKind::UnsupportedVersion));
        }
        let len = h.length() as usize;
        if len < HEADER_LEN || len % 4 != 0 || len > bytes.len() {
            return Err(Error::new(ErrorKind::InvalidMessageLength));
        }
        let flags = h.flags();
        if flags.is_request() && flags.is_error() {
            return Err(Error::new(ErrorKind::InvalidHeaderBits));
        }
        Ok((
            HeaderRepr {
                flags,
                command_code: h.command_code(),
                application_id: h.application_id(),
                hop_by_hop: h.hop_by_hop(),
                end_to_end: h.end_to_end(),
            },
            len,
        ))
    }

    /// Write the header with the given message length into `buf[..20]`.
    ///
    /// # Panics
    /// If `buf` is shorter than [`HEADER_LEN`].
    pub fn emit(&self, buf: &mut [u8], length: u32) {
        let mut h = Header::new_unchecked(&mut buf[..HEADER_LEN]);
        h.set_version(VERSION);
        h.set_length(length);
        h.set_flags(self.flags);
        h.set_command_code(self.command_code);
        h.set_application_id(self.application_id);
        h.set_hop_by_hop(self.hop_by_hop);
        h.set_end_to_end(self.end_to_end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(v: u8, len: u32, flags: u8) -> [u8; 20] {
        let mut b = [0u8; 20];
        HeaderRepr {
            flags: CommandFlags(flags),
            command_code: CommandCode(272),
            application_id: ApplicationId(4),
            hop_by_hop: 1,
            end_to_end: 2,
        }
        .emit(&mut b, len);
        b[0] = v;
        b
    }

    #[test]
    fn parse_ok() {
        let b = hdr(1, 20, 0xc0);
        let (h, len) = HeaderRepr::parse(&b).unwrap();
        assert_eq!(len, 20);
        assert_eq!(h.command_code, CommandCode::CREDIT_CONTROL);
        assert!(h.flags.is_request() && h.flags.is_proxiable());
        assert_eq!(h.answer().flags, CommandFlags::PROXIABLE);
    }

    #[test]
    fn parse_errors() {
        let k = |b: &[u8]| HeaderRepr::parse(b).unwrap_err().kind();
        assert_eq!(k(&hdr(2, 20, 0x80)), ErrorKind::UnsupportedVersion);
        assert_eq!(k(&hdr(1, 21, 0x80)), ErrorKind::InvalidMessageLength);
        assert_eq!(k(&hdr(1, 16, 0x80)), ErrorKind::InvalidMessageLength);
        assert_eq!(k(&hdr(1, 24, 0x80)), ErrorKind::InvalidMessageLength);
        // reserved bits are ignored here (RFC 6733 §3), kept in the flags
        let (h, _) = HeaderRepr::parse(&hdr(1, 20, 0x81)).unwrap();
        assert_eq!(h.flags.0, 0x81);
        assert_eq!(k(&hdr(1, 20, 0xa0)), ErrorKind::InvalidHeaderBits);
        assert_eq!(k(&hdr(1, 20, 0x80)[..19]), ErrorKind::InvalidMessageLength);
        // E bit on an answer is fine.
        assert!(HeaderRepr::parse(&hdr(1, 20, 0x20)).is_ok());
    }

    #[test]
    fn setters_mask_24_bits() {
        let mut b = [0u8; 20];
        let mut h = Header::new_unchecked(&mut b[..]);
        h.set_length(0x0100_0014);
        h.set_command_code(CommandCode(0x0100_0101));
        assert_eq!(h.length(), 0x14);
        assert_eq!(h.command_code(), CommandCode(0x101));
    }
}
