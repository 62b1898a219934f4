//! Errors that map onto Diameter Result-Codes (RFC 6733 §7.1).
//!
//! Every decode problem is an [`Error`]: a [`ErrorKind`] that names the
//! Result-Code the RFC prescribes, plus the position of the offending AVP so
//! that an answer carrying `Failed-AVP` (§7.5) can be built in one call with
//! [`crate::answer::error_answer`].

use core::fmt;

use crate::result_code::ResultCode;

/// What went wrong; each kind maps to one Result-Code (see [`ErrorKind::result_code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ErrorKind {
    /// The header's version is not 1: 5011 DIAMETER_UNSUPPORTED_VERSION (§7.1.5).
    UnsupportedVersion,
    /// The header's Message Length is below 20, not a multiple of 4, or does
    /// not match the bytes given: 5015 DIAMETER_INVALID_MESSAGE_LENGTH (§7.1.5).
    InvalidMessageLength,
    /// Command flags are an invalid combination (E bit on a request, reserved
    /// bits set): 3008 DIAMETER_INVALID_HDR_BITS (§7.1.3).
    InvalidHeaderBits,
    /// AVP flags contradict the AVP's definition (M or V bit where they are
    /// not allowed or missing where required, reserved bits in strict mode):
    /// 3009 DIAMETER_INVALID_AVP_BITS (§7.1.3).
    InvalidAvpBits,
    /// An AVP's length is below its header size, runs past its container, or
    /// does not fit the data type's fixed size: 5014 DIAMETER_INVALID_AVP_LENGTH (§7.1.5).
    InvalidAvpLength,
    /// An AVP's value is not valid for its type (bad UTF-8, bad URI):
    /// 5004 DIAMETER_INVALID_AVP_VALUE.
    InvalidAvpValue,
    /// Grouped AVPs nested deeper than this receiver handles
    /// ([`crate::ParseConfig::max_depth`]): RFC 6733 sets no limit, so the
    /// message is not invalid; the receiver cannot comply. 5012
    /// DIAMETER_UNABLE_TO_COMPLY.
    NestingTooDeep,
    /// An AVP with the M bit that the dictionary does not know:
    /// 5001 DIAMETER_AVP_UNSUPPORTED (§7.1.5).
    AvpUnsupported,
    /// A required AVP is absent: 5005 DIAMETER_MISSING_AVP. The error's
    /// [`Error::avp`] names it, so Failed-AVP can carry a zero-filled example.
    MissingAvp,
    /// An AVP occurs more often than the grammar allows:
    /// 5009 DIAMETER_AVP_OCCURS_TOO_MANY_TIMES.
    TooManyAvps,
    /// An AVP is present that the grammar does not allow (or a fixed AVP out
    /// of place): 5008 DIAMETER_AVP_NOT_ALLOWED.
    AvpNotAllowed,
    /// A command code the dictionary does not know: 3001 DIAMETER_COMMAND_UNSUPPORTED.
    CommandUnsupported,
    /// An Application-Id not agreed with the peer: 3007 DIAMETER_APPLICATION_UNSUPPORTED.
    ApplicationUnsupported,
    /// A message larger than the configured maximum (framing). Answered as
    /// 5015 DIAMETER_INVALID_MESSAGE_LENGTH, but a transport usually closes
    /// the connection instead, because the stream cannot be resynchronised.
    MessageTooLarge,
}

impl ErrorKind {
    /// The Result-Code RFC 6733 §7.1 prescribes for this error.
    ///
    /// ```
    /// use diameter_core::{ErrorKind, ResultCode};
    /// assert_eq!(ErrorKind::MissingAvp.result_code(), ResultCode::MISSING_AVP);
    /// assert_eq!(ErrorKind::InvalidHeaderBits.result_code().get(), 3008);
    /// ```
    pub const fn result_code(self) -> ResultCode {
        match self {
            ErrorKind::UnsupportedVersion => ResultCode::UNSUPPORTED_VERSION,
            ErrorKind::InvalidMessageLength | ErrorKind::MessageTooLarge => {
                ResultCode::INVALID_MESSAGE_LENGTH
            }
            ErrorKind::InvalidHeaderBits => ResultCode::INVALID_HDR_BITS,
            ErrorKind::InvalidAvpBits => ResultCode::INVALID_AVP_BITS,
            ErrorKind::InvalidAvpLength => ResultCode::INVALID_AVP_LENGTH,
            ErrorKind::InvalidAvpValue => ResultCode::INVALID_AVP_VALUE,
            ErrorKind::NestingTooDeep => ResultCode::UNABLE_TO_COMPLY,
            ErrorKind::AvpUnsupported => ResultCode::AVP_UNSUPPORTED,
            ErrorKind::MissingAvp => ResultCode::MISSING_AVP,
            ErrorKind::TooManyAvps => ResultCode::AVP_OCCURS_TOO_MANY_TIMES,
            ErrorKind::AvpNotAllowed => ResultCode::AVP_NOT_ALLOWED,
            ErrorKind::CommandUnsupported => ResultCode::COMMAND_UNSUPPORTED,
            ErrorKind::ApplicationUnsupported => ResultCode::APPLICATION_UNSUPPORTED,
        }
    }
}

/// The AVP an error is about, as far as it could be read.
///
/// For [`ErrorKind::MissingAvp`] this is the missing AVP's identity (there are
/// no bytes); otherwise `offset` is where the offending AVP's header starts,
/// counted from the start of the message, and `len` the bytes available for
/// it (header and data, without padding, clamped to its container).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ErrorAvp {
    /// AVP code.
    pub code: u32,
    /// Vendor-Id, 0 when the V bit is clear.
    pub vendor: u32,
    /// AVP flags as received (or as the dictionary requires, for a missing AVP).
    pub flags: u8,
    /// Offset of the AVP header in the message; `None` for a missing AVP.
    pub offset: Option<u32>,
    /// Bytes of the AVP present in the message (header + data, no padding).
    pub len: u32,
}

/// A decode or validation error: its kind (and so its Result-Code) and,
/// where one exists, the offending AVP.
///
/// ```
/// use diameter_core::{Message, ErrorKind};
/// // version 2: 5011
/// let mut bytes = [0u8; 20];
/// bytes[0] = 2; bytes[3] = 20;
/// let err = Message::parse(&bytes).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::UnsupportedVersion);
/// assert_eq!(err.result_code().get(), 5011);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Error {
    kind: ErrorKind,
    avp: Option<ErrorAvp>,
}

impl Error {
    /// An error not tied to an AVP (header problems).
    pub const fn new(kind: ErrorKind) -> Self {
        Error { kind, avp: None }
    }

    /// An error about the AVP described by `avp`.
    pub const fn at(kind: ErrorKind, avp: ErrorAvp) -> Self {
        Error {
            kind,
            avp: Some(avp),
        }
    }

    /// An error about a missing AVP with this code, vendor and flags.
    pub const fn missing(code: u32, vendor: u32, flags: u8) -> Self {
        Error::at(
            ErrorKind::MissingAvp,
            ErrorAvp {
                code,
                vendor,
                flags,
                offset: None,
                len: 0,
            },
        )
    }

    /// What went wrong.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The offending (or missing) AVP, if the error concerns one.
    pub const fn avp(&self) -> Option<ErrorAvp> {
        self.avp
    }

    /// Offset of the offending AVP's header in the message, if known.
    pub fn offset(&self) -> Option<usize> {
        self.avp.and_then(|a| a.offset).map(|o| o as usize)
    }

    /// The Result-Code to answer with.
    pub const fn result_code(&self) -> ResultCode {
        self.kind.result_code()
    }

    /// Whether the answer must set the E bit: true for protocol errors (3xxx),
    /// RFC 6733 §7.1.3 and §7.2.
    pub const fn is_protocol_error(&self) -> bool {
        self.kind.result_code().is_protocol_error()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::UnsupportedVersion => "unsupported Diameter version",
            ErrorKind::InvalidMessageLength => "invalid message length",
            ErrorKind::InvalidHeaderBits => "invalid command flag bits",
            ErrorKind::InvalidAvpBits => "invalid AVP flag bits",
            ErrorKind::InvalidAvpLength => "invalid AVP length",
            ErrorKind::InvalidAvpValue => "invalid AVP value",
            ErrorKind::NestingTooDeep => "grouped AVPs nested too deep",
            ErrorKind::AvpUnsupported => "unsupported AVP with the M bit",
            ErrorKind::MissingAvp => "missing required AVP",
            ErrorKind::TooManyAvps => "AVP occurs too many times",
            ErrorKind::AvpNotAllowed => "AVP not allowed here",
            ErrorKind::CommandUnsupported => "unsupported command",
            ErrorKind::ApplicationUnsupported => "unsupported application",
            ErrorKind::MessageTooLarge => "message larger than the configured maximum",
        };
        write!(f, "{what} (Result-Code {})", self.result_code().get())?;
        if let Some(a) = self.avp {
            write!(f, ", AVP {}", a.code)?;
            if a.vendor != 0 {
                write!(f, "/{}", a.vendor)?;
            }
            if let Some(o) = a.offset {
                write!(f, " at byte {o}")?;
            }
        }
        Ok(())
    }
}

impl core::error::Error for Error {}

/// The encoder could not build the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EncodeError {
    /// The buffer is too small; `needed` is the size the whole message requires.
    BufferTooSmall {
        /// Bytes the complete message needs.
        needed: usize,
    },
    /// A message or AVP would exceed the 24-bit length field (16 MiB - 1).
    TooLong,
    /// A value cannot be represented on the wire (e.g. a time outside the
    /// 1968..2104 NTP era range).
    InvalidValue,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall { needed } => {
                write!(f, "buffer too small: the message needs {needed} bytes")
            }
            EncodeError::TooLong => f.write_str("message or AVP longer than 16 MiB - 1"),
            EncodeError::InvalidValue => f.write_str("value cannot be encoded"),
        }
    }
}

impl core::error::Error for EncodeError {}
