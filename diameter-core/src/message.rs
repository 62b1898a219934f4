//! A parsed Diameter message (RFC 6733 §3) as a borrowed view.
//!
//! [`Message::parse_with`] checks the header and every AVP header once,
//! descending into the Grouped AVPs its dictionary knows, with the nesting
//! depth bounded by [`ParseConfig::max_depth`]. Afterwards typed reads
//! ([`Message::get`], [`Message::get_all`]) only decode values; a value error
//! (bad UTF-8, wrong fixed size) is reported by the read, pointing at the AVP.
//! [`Message::validate`] checks everything at once against the dictionary:
//! the command's CCF grammar (counts, fixed positions, AVPs not allowed),
//! every known value, flag rules, and unknown AVPs with the M bit (5001).
//!
//! Unknown AVPs and unknown commands are kept: iteration yields them, and
//! validation rejects them only when the M bit says so.
//!
//! No-panic promise: no function in this module panics on any input bytes;
//! recursion depth is bounded by the configured maximum.

use crate::avp::{Avp, AvpIter};
use crate::dict::{AvpDef, AvpInfo, CommandDef, Dictionary, Grammar, Rule, RuleKind};
use crate::error::{Error, ErrorKind};
use crate::header::{ApplicationId, CommandCode, CommandFlags, HeaderRepr, HEADER_LEN};
use crate::read::{ReadAvps, WalkState};
use crate::types::{AvpType, DataType};

/// Failed-AVP's code (RFC 6733 §7.5).
const FAILED_AVP: u32 = 279;

/// Default bound on Grouped AVP nesting (the message body is depth 0).
///
/// RFC 6733 sets no limit and other stacks accept deep but valid chains
/// (a Multiple-Services-Credit-Control inside another through its
/// `*[ AVP ]`, 200 deep), so hosted targets handle 256 levels: about
/// 100 KiB of stack at most in a release build, well within a thread's
/// default 2 MiB. Bare-metal targets (`target_os = "none"`), whose stacks
/// are a few KiB, keep 16; set [`ParseConfig::max_depth`] to what your
/// stack allows.
#[cfg(not(target_os = "none"))]
pub const DEFAULT_MAX_DEPTH: u16 = 256;
/// Default bound on Grouped AVP nesting on bare metal (see the hosted
/// value's docs).
#[cfg(target_os = "none")]
pub const DEFAULT_MAX_DEPTH: u16 = 16;

/// Parser settings. Strict by default; leniency is opt-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ParseConfig {
    /// Deepest Grouped AVP nesting accepted; deeper is 5004 on the AVP
    /// that crosses the bound. Never a stack overflow.
    pub max_depth: u16,
    /// Reject AVPs whose five reserved flag bits are set (3009). RFC 6733
    /// §4.1 says receivers ignore them, so set this to `false` for peers
    /// that send garbage there.
    pub strict_reserved_bits: bool,
    /// Reject messages whose four reserved command flag bits are set
    /// (3008). Off by default: RFC 6733 §3 says they "MUST be set to zero
    /// and ignored by the receiver", and freeDiameter and Erlang/OTP accept
    /// them.
    pub strict_command_flags: bool,
}

impl ParseConfig {
    /// The defaults: depth [`DEFAULT_MAX_DEPTH`], strict reserved AVP
    /// bits, reserved command flag bits ignored.
    pub const DEFAULT: ParseConfig = ParseConfig {
        max_depth: DEFAULT_MAX_DEPTH,
        strict_reserved_bits: true,
        strict_command_flags: false,
    };

    fn check_command_flags(&self, flags: CommandFlags) -> Result<(), Error> {
        if self.strict_command_flags && flags.0 & CommandFlags::RESERVED.0 != 0 {
            return Err(Error::new(ErrorKind::InvalidHeaderBits));
        }
        Ok(())
    }
}

impl Default for ParseConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A borrowed sequence of AVPs: a message body or a Grouped AVP's data.
///
/// Offsets in errors and in [`Avp::offset`] count from the start of the
/// message the set was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AvpSet<'a> {
    bytes: &'a [u8],
    pub(crate) base: u32,
}

impl<'a> AvpSet<'a> {
    /// A set over `bytes`, which start `base` bytes into the message.
    pub const fn new(bytes: &'a [u8], base: u32) -> Self {
        AvpSet { bytes, base }
    }

    /// The raw bytes of the AVPs.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The message offset of the set's first byte (what error reports and
    /// [`Avp::offset`] count from).
    pub const fn base(&self) -> u32 {
        self.base
    }

    /// Iterate over the AVPs.
    pub const fn iter(&self) -> AvpIter<'a> {
        AvpIter::with_offset(self.bytes, self.base as usize)
    }

    /// The first AVP with this code and vendor. A malformed AVP before it
    /// ends the search (only possible on an unparsed set).
    pub fn find(&self, code: u32, vendor: u32) -> Option<Avp<'a>> {
        self.iter()
            .map_while(Result::ok)
            .find(|a| a.is(code, vendor))
    }

    /// Read the first AVP of `def` as its typed value.
    ///
    /// `Ok(None)` when absent; an error (pointing at the AVP) when its value
    /// does not decode.
    #[inline]
    pub fn get<T: AvpType>(&self, def: &AvpDef<T>) -> Result<Option<T::Value<'a>>, Error> {
        match self.find(def.info.code, def.info.vendor) {
            None => Ok(None),
            Some(avp) => decode_avp::<T>(&avp).map(Some),
        }
    }

    /// Like [`AvpSet::get`], but a missing AVP is a 5005 error naming it.
    pub fn require<T: AvpType>(&self, def: &AvpDef<T>) -> Result<T::Value<'a>, Error> {
        self.get(def)?.ok_or_else(|| missing(&def.info))
    }

    /// Every AVP of `def`, decoded, in order.
    pub fn get_all<T: AvpType>(&self, def: &AvpDef<T>) -> GetAll<'a, T> {
        GetAll {
            iter: self.iter(),
            code: def.info.code,
            vendor: def.info.vendor,
            _t: core::marker::PhantomData,
        }
    }

    /// Number of AVPs (stops at a malformed one).
    pub fn count(&self) -> usize {
        self.iter().map_while(Result::ok).count()
    }
}

impl<'a> IntoIterator for AvpSet<'a> {
    type Item = Result<Avp<'a>, Error>;
    type IntoIter = AvpIter<'a>;
    fn into_iter(self) -> AvpIter<'a> {
        self.iter()
    }
}

/// Decode one AVP as `T`, keeping message offsets for Grouped values.
#[inline]
pub fn decode_avp<'a, T: AvpType>(avp: &Avp<'a>) -> Result<T::Value<'a>, Error> {
    T::decode_avp(avp).map_err(|k| avp.error(k))
}

fn missing(info: &AvpInfo) -> Error {
    Error::missing(info.code, info.vendor, info.flags.default_flags().0)
}

/// Iterator of [`AvpSet::get_all`]: the decoded values of one AVP definition.
pub struct GetAll<'a, T> {
    iter: AvpIter<'a>,
    code: u32,
    vendor: u32,
    _t: core::marker::PhantomData<fn() -> T>,
}

impl<'a, T: AvpType> Iterator for GetAll<'a, T> {
    type Item = Result<T::Value<'a>, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        for r in self.iter.by_ref() {
            match r {
                Ok(avp) if avp.is(self.code, self.vendor) => return Some(decode_avp::<T>(&avp)),
                Ok(_) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }
}

/// A Diameter message borrowed from a buffer, checked by one of the parse
/// functions.
///
/// ```
/// use diameter_core::{Message, dict::base, CommandCode};
/// # let bytes = diameter_core::doc_example();
/// let msg = Message::parse_with(&bytes, &base::Base)?;
/// assert_eq!(msg.command_code(), CommandCode::DEVICE_WATCHDOG);
/// assert!(msg.is_request());
/// for avp in msg.iter() {
///     let avp = avp?;
///     assert!(avp.code() > 0);
/// }
/// msg.validate(&base::Base)?;
/// # Ok::<(), diameter_core::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    bytes: &'a [u8],
    /// The first [`HEADER_LEN`] bytes of `bytes`, as an array: the header's
    /// fields are read from it when asked (no bounds check), not decoded up
    /// front (BENCHMARKS.md, "Twelfth look").
    head: &'a [u8; HEADER_LEN],
    validated: bool,
}

impl core::fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Message")
            .field("header", &self.header())
            .field("len", &self.bytes.len())
            .field("validated", &self.validated)
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Message<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Message {{ header: {}, len: {}, validated: {} }}",
            self.header(),
            self.bytes.len(),
            self.validated
        )
    }
}

impl<'a> Message<'a> {
    /// Check the header only (version 1, length a multiple of 4 and equal to
    /// `bytes.len()`, flag rules), in O(1). AVP headers are then checked as
    /// they are iterated: every [`AvpIter`] yields an error at the first
    /// malformed AVP, so a caller that visits every AVP (recursing into
    /// Grouped ones with [`Avp::group_set`]) validates the whole message in
    /// a single pass. This is the fastest way to decode a message fully;
    /// [`Message::parse_with`] is the one to use when nothing may be read
    /// before everything is known to be well-formed.
    ///
    /// ```
    /// use diameter_core::Message;
    /// # let bytes = diameter_core::doc_example();
    /// let msg = Message::new_checked(&bytes)?;
    /// for avp in msg.iter() {
    ///     let avp = avp?; // header checked here
    ///     assert!(avp.len() >= 8);
    /// }
    /// # Ok::<(), diameter_core::Error>(())
    /// ```
    #[inline]
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, Error> {
        // On a host the common case takes a few instructions, inline; on
        // bare metal, where flash counts, every message takes the one
        // out-of-line check.
        #[cfg(not(target_os = "none"))]
        if let Some(head) = well_formed_head(bytes) {
            return Ok(Message {
                bytes,
                head,
                validated: false,
            });
        }
        Ok(Message {
            bytes,
            head: checked_head(bytes)?,
            validated: false,
        })
    }

    /// Parse without a dictionary: checks the header and every top-level AVP
    /// header. Grouped AVPs are not descended into (without a dictionary
    /// their data cannot be told from an OctetString); their content is
    /// checked when iterated or by [`Message::validate`].
    ///
    /// `bytes` must hold exactly one message (see [`crate::framing`]).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        Self::parse_with_config(bytes, &crate::dict::Empty, &ParseConfig::DEFAULT)
    }

    /// Parse, descending into every Grouped AVP that `dict` knows.
    pub fn parse_with<D: Dictionary>(bytes: &'a [u8], dict: &D) -> Result<Self, Error> {
        Self::parse_with_config(bytes, dict, &ParseConfig::DEFAULT)
    }

    /// Parse with explicit settings.
    pub fn parse_with_config<D: Dictionary>(
        bytes: &'a [u8],
        dict: &D,
        config: &ParseConfig,
    ) -> Result<Self, Error> {
        let msg = Self::new_checked(bytes)?;
        config.check_command_flags(msg.flags())?;
        check_headers(msg.avps(), dict, config, 0)?;
        Ok(msg)
    }

    /// The whole message as received.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// The header's fields.
    #[inline]
    pub const fn header(&self) -> HeaderRepr {
        HeaderRepr {
            flags: self.flags(),
            command_code: self.command_code(),
            application_id: self.application_id(),
            hop_by_hop: self.hop_by_hop(),
            end_to_end: self.end_to_end(),
        }
    }
    /// Command flags.
    #[inline]
    pub const fn flags(&self) -> CommandFlags {
        CommandFlags(self.head[4])
    }
    /// R bit.
    #[inline]
    pub const fn is_request(&self) -> bool {
        self.flags().is_request()
    }
    /// Command-Code.
    #[inline]
    pub const fn command_code(&self) -> CommandCode {
        let h = self.head;
        CommandCode(u32::from_be_bytes([0, h[5], h[6], h[7]]))
    }
    /// Application-ID.
    #[inline]
    pub const fn application_id(&self) -> ApplicationId {
        ApplicationId(self.word::<8>())
    }
    /// Hop-by-Hop Identifier.
    #[inline]
    pub const fn hop_by_hop(&self) -> u32 {
        self.word::<12>()
    }
    /// End-to-End Identifier.
    #[inline]
    pub const fn end_to_end(&self) -> u32 {
        self.word::<16>()
    }
    /// The big-endian word of the header at `AT` (8, 12 or 16): a constant
    /// index, so that an index past the header cannot compile.
    #[inline]
    const fn word<const AT: usize>(&self) -> u32 {
        let h = self.head;
        u32::from_be_bytes([h[AT], h[AT + 1], h[AT + 2], h[AT + 3]])
    }
    /// The top-level AVPs.
    pub fn avps(&self) -> AvpSet<'a> {
        AvpSet::new(
            self.bytes.get(HEADER_LEN..).unwrap_or(&[]),
            HEADER_LEN as u32,
        )
    }
    /// Iterate over the top-level AVPs.
    pub fn iter(&self) -> AvpIter<'a> {
        self.avps().iter()
    }
    /// See [`AvpSet::find`].
    pub fn find(&self, code: u32, vendor: u32) -> Option<Avp<'a>> {
        self.avps().find(code, vendor)
    }
    /// See [`AvpSet::get`].
    #[inline]
    pub fn get<T: AvpType>(&self, def: &AvpDef<T>) -> Result<Option<T::Value<'a>>, Error> {
        self.avps().get(def)
    }
    /// See [`AvpSet::require`].
    pub fn require<T: AvpType>(&self, def: &AvpDef<T>) -> Result<T::Value<'a>, Error> {
        self.avps().require(def)
    }
    /// The first value of `def` in a message that was validated
    /// ([`Message::is_validated`]): validation decoded every value, so only
    /// absence is left to report. Use [`Message::get`] on a message that
    /// was not validated (a debug build asserts that it was; a release
    /// build reads a value that does not decode as absent).
    #[inline]
    pub fn value<T: AvpType>(&self, def: &AvpDef<T>) -> Option<T::Value<'a>> {
        debug_assert!(self.validated, "Message::value on a message not validated");
        self.get(def).ok().flatten()
    }
    /// See [`AvpSet::get_all`].
    pub fn get_all<T: AvpType>(&self, def: &AvpDef<T>) -> GetAll<'a, T> {
        self.avps().get_all(def)
    }
    /// The Session-Id (263) as text, if present and valid UTF-8.
    pub fn session_id(&self) -> Option<&'a str> {
        self.find(263, 0)
            .and_then(|a| core::str::from_utf8(a.data()).ok())
    }

    /// The Session-Id's bytes, not checked to be UTF-8: for lookups that
    /// only compare them (a validated message has checked them already).
    pub fn session_id_bytes(&self) -> Option<&'a [u8]> {
        self.find(263, 0).map(|a| a.data())
    }

    /// Whether this message was validated against its command's grammar
    /// ([`Message::validated`]): typed views built from it then read it
    /// without validating again.
    pub const fn is_validated(&self) -> bool {
        self.validated
    }

    /// Validate against the dictionary: the command's grammar if `dict`
    /// knows the command (an unknown command is kept and only its AVPs are
    /// checked), header flags against the command definition (3008), flag
    /// rules (3009), values (5004/5014), unknown M-bit AVPs (5001), counts
    /// (5005/5009) and AVPs not allowed (5008), recursively through Grouped
    /// AVPs.
    ///
    /// Answers follow one rule for failures: an answer with the E bit is
    /// checked against the generic `<answer-message>` grammar of RFC 6733
    /// §7.2 (its P bit is not compared with the command's); an answer whose
    /// Result-Code is not 2xxx need not carry the command's other required
    /// AVPs (freeDiameter leaves Auth-Application-Id and CC-Request-Type
    /// out of its 5xxx CCAs), but everything it does carry is checked.
    pub fn validate<D: Dictionary>(&self, dict: &D) -> Result<(), Error> {
        self.validate_with_config(dict, &ParseConfig::DEFAULT)
    }

    /// [`Message::validate`] with explicit settings.
    pub fn validate_with_config<D: Dictionary>(
        &self,
        dict: &D,
        config: &ParseConfig,
    ) -> Result<(), Error> {
        config.check_command_flags(self.flags())?;
        match dict.command(self.command_code(), self.is_request()) {
            Some(def) => dict.validate_command(self, def, config),
            None if self.flags().is_error() => validate_set(
                self.avps(),
                &crate::dict::base::ERROR_ANSWER,
                dict,
                config,
                0,
            ),
            None => validate_set(self.avps(), &Grammar::EMPTY, dict, config, 0),
        }
    }

    /// Validate (see [`Message::validate`]) and return the message marked
    /// validated when `dict` knows its command, so that typed views read
    /// it without validating again. This single walk also checks every AVP
    /// header, so `Message::new_checked(bytes)?.validated(dict)?` is the
    /// whole receive-side check.
    ///
    /// ```
    /// use diameter_core::{Message, dict::base};
    /// # let bytes = diameter_core::doc_example();
    /// let msg = Message::new_checked(&bytes)?.validated(&base::Base)?;
    /// assert!(msg.is_validated());
    /// # Ok::<(), diameter_core::Error>(())
    /// ```
    pub fn validated<D: Dictionary>(self, dict: &D) -> Result<Self, Error> {
        self.validated_with_config(dict, &ParseConfig::DEFAULT)
    }

    /// [`Message::validated`] with explicit settings.
    pub fn validated_with_config<D: Dictionary>(
        self,
        dict: &D,
        config: &ParseConfig,
    ) -> Result<Self, Error> {
        match dict.command(self.command_code(), self.is_request()) {
            Some(def) => {
                dict.validate_command(&self, def, config)?;
                Ok(Message {
                    validated: true,
                    ..self
                })
            }
            None => {
                self.validate_with_config(dict, config)?;
                Ok(self)
            }
        }
    }

    /// Validate against a given command definition (see [`Message::validate`]).
    pub fn validate_command<D: Dictionary>(
        &self,
        def: &CommandDef,
        dict: &D,
        config: &ParseConfig,
    ) -> Result<(), Error> {
        self.validate_command_reading(def, dict, config, &mut skip)
    }

    /// [`Message::validate_command`] and a read of the message in the same
    /// walk (one pass instead of a validation and then a walk of
    /// [`Message::iter`]): `read` is called with each AVP of the top level,
    /// in message order, once that AVP passed every check of the
    /// validation (its header, flag rules and value, the content of a
    /// Grouped AVP, its count and position in the grammar). A failed check
    /// stops the walk before `read` sees the AVP; an error of `read` stops
    /// it at once and is returned. The checks that need the whole set
    /// (missing AVPs, 5005) come after the last call, so on `Ok` every
    /// AVP was read and the message is valid. `read` is any
    /// [`ReadAvps`], a closure for one: a reader
    /// that gives readers for the content of Grouped AVPs
    /// ([`ReadAvps::group`]) has that content
    /// read in the walk that validates it, rather than walked again
    /// afterwards. The typed views of `diameter-cc` decode a message not
    /// validated yet this way.
    ///
    /// ```
    /// use diameter_core::{Avp, Error, Message, ParseConfig, dict::base};
    /// use diameter_core::{message::decode_avp, read::ReadAvps, types::DiameterIdentity};
    ///
    /// struct OriginHost<'a>(Option<&'a str>);
    /// impl<'a> ReadAvps<'a> for OriginHost<'a> {
    ///     fn avp(&mut self, avp: &Avp<'a>) -> Result<(), Error> {
    ///         if avp.is(264, 0) {
    ///             self.0 = Some(decode_avp::<DiameterIdentity>(avp)?);
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # let bytes = diameter_core::doc_example();
    /// let msg = Message::new_checked(&bytes)?;
    /// let def = base::Base.command(msg.command_code(), msg.is_request()).unwrap();
    /// let mut origin_host = OriginHost(None);
    /// msg.validate_command_reading(def, &base::Base, &ParseConfig::DEFAULT, &mut origin_host)?;
    /// assert!(origin_host.0.is_some());
    /// # use diameter_core::Dictionary;
    /// # Ok::<(), diameter_core::Error>(())
    /// ```
    pub fn validate_command_reading<D, R>(
        &self,
        def: &CommandDef,
        dict: &D,
        config: &ParseConfig,
        read: &mut R,
    ) -> Result<(), Error>
    where
        D: Dictionary,
        R: ReadAvps<'a> + ?Sized,
    {
        config.check_command_flags(self.flags())?;
        if def.request != self.is_request() {
            return Err(Error::new(ErrorKind::InvalidHeaderBits));
        }
        // An answer with the E bit follows the generic answer-message grammar
        // of §7.2, whatever its command (and whatever its P bit).
        if self.flags().is_error() {
            // Not the grammar `read` was written for: its AVPs are checked
            // by the validator ([`ReadAvps::listed`] is not asked).
            let grammar = &crate::dict::base::ERROR_ANSWER;
            let (all, set) = (Required::All, self.avps());
            return validate_rules(set, grammar, dict, config, 0, all, read, false);
        }
        if def.proxiable != self.flags().is_proxiable() {
            return Err(Error::new(ErrorKind::InvalidHeaderBits));
        }
        let failure = !self.is_request()
            && matches!(
                self.get(&crate::dict::base::RESULT_CODE),
                Ok(Some(rc)) if !(2000..3000).contains(&rc)
            );
        let mode = if failure {
            Required::AnswerMessage
        } else {
            Required::All
        };
        validate_rules(self.avps(), &def.grammar, dict, config, 0, mode, read, true)
    }
}

/// The reader of a validation that reads nothing (see
/// [`Message::validate_command_reading`]).
#[inline(always)]
fn skip(_: &Avp<'_>) -> Result<(), Error> {
    Ok(())
}

/// Whether a validation asks readers to check the AVPs they list
/// ([`ReadAvps::listed`]): on hosts, not on bare metal (`target_os =
/// "none"`), where the generic checks take less flash.
const COMPILED: bool = cfg!(not(target_os = "none"));

/// Which minimum counts of a grammar are enforced.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Required {
    /// Every rule's minimum.
    All,
    /// A failure answer: only those the `<answer-message>` grammar of RFC
    /// 6733 §7.2 requires (Origin-Host, Origin-Realm, Result-Code).
    AnswerMessage,
}

/// The AVP flag bits that must be clear whatever the AVP: the reserved
/// ones when `config` is strict (RFC 6733 §4.1), none otherwise.
#[inline(always)]
fn reserved_mask(config: &ParseConfig) -> u8 {
    match config.strict_reserved_bits {
        true => crate::AvpFlags::RESERVED.0,
        false => 0,
    }
}

/// The error of `kind` about the AVP at message offset `offset` of `set`,
/// read again from the bytes (cold: only on failure).
#[cold]
#[inline(never)]
fn avp_error(set: &AvpSet<'_>, offset: usize, kind: ErrorKind) -> Error {
    let rel = offset.saturating_sub(set.base as usize);
    match Avp::parse(set.bytes.get(rel..).unwrap_or_default(), offset) {
        Ok((avp, _)) => avp.error(kind),
        Err(e) => e,
    }
}

/// Walk every AVP header of `set`, descending into Grouped AVPs known to
/// `dict`, bounded by `config.max_depth`.
fn check_headers<D: Dictionary>(
    set: AvpSet<'_>,
    dict: &D,
    config: &ParseConfig,
    depth: u16,
) -> Result<(), Error> {
    for avp in set.iter() {
        let avp = avp?;
        if config.strict_reserved_bits && avp.flags().0 & crate::AvpFlags::RESERVED.0 != 0 {
            return Err(avp.error(ErrorKind::InvalidAvpBits));
        }
        if let Some(info) = dict.avp(avp.code(), avp.vendor()) {
            if info.data_type == DataType::Grouped {
                if depth >= config.max_depth {
                    return Err(avp.error(ErrorKind::NestingTooDeep));
                }
                if avp.is(FAILED_AVP, 0) {
                    check_failed_avp(avp.group_set(), config, depth + 1)?;
                } else {
                    check_headers(avp.group_set(), dict, config, depth + 1)?;
                }
            }
        }
    }
    Ok(())
}

/// The content of a Failed-AVP (§7.5): the offending AVPs' headers must be
/// well formed, but their payloads are opaque. A peer may send "the
/// offending AVP header and a zero filled payload", so a Grouped AVP inside
/// Failed-AVP is not parsed (freeDiameter zero-fills them). Failed-AVPs
/// nested in Failed-AVP are descended, so the depth bound still holds.
fn check_failed_avp(set: AvpSet<'_>, config: &ParseConfig, depth: u16) -> Result<(), Error> {
    for avp in set.iter() {
        let avp = avp?;
        if config.strict_reserved_bits && avp.flags().0 & crate::AvpFlags::RESERVED.0 != 0 {
            return Err(avp.error(ErrorKind::InvalidAvpBits));
        }
        if avp.is(FAILED_AVP, 0) {
            if depth >= config.max_depth {
                return Err(avp.error(ErrorKind::NestingTooDeep));
            }
            check_failed_avp(avp.group_set(), config, depth + 1)?;
        }
    }
    Ok(())
}

/// Validate a set of AVPs against a grammar (see [`Message::validate`]).
pub fn validate_set<D: Dictionary>(
    set: AvpSet<'_>,
    grammar: &Grammar,
    dict: &D,
    config: &ParseConfig,
    depth: u16,
) -> Result<(), Error> {
    let all = Required::All;
    validate_rules(set, grammar, dict, config, depth, all, &mut skip, false)
}

/// Validate `set` against `grammar`, calling `read` with each AVP that
/// passed its checks (see [`Message::validate_command_reading`]; the
/// nested sets of Grouped AVPs are validated with [`skip`]). With
/// `listed`, `read` was written for `grammar` and checks the AVPs it lists
/// itself ([`ReadAvps::listed`]).
#[allow(clippy::too_many_arguments)]
fn validate_rules<'a, D, R>(
    set: AvpSet<'a>,
    grammar: &Grammar,
    dict: &D,
    config: &ParseConfig,
    depth: u16,
    required: Required,
    read: &mut R,
    listed: bool,
) -> Result<(), Error>
where
    D: Dictionary,
    R: ReadAvps<'a> + ?Sized,
{
    let rules = grammar.rules;
    let reserved = reserved_mask(config);
    // Rules seen at least once (bit i for rules[i], `walk.seen`): with
    // `[x]`, `{x}`, `*[x]` and `1*{x}` (every grammar of the RFCs) that is
    // all a count has to say; a grammar with other bounds is counted
    // afterwards. The reader checks the AVPs it lists itself, against the
    // same state ([`ReadAvps::listed`]).
    let mut walk = WalkState::new(&set, rules, config);
    // AVPs mostly come in the grammar's order: the search for an AVP's rule
    // starts at the previous AVP's (`walk.cursor`).
    // Errors are built by `fail` out of line, from the AVP's offset alone,
    // so that the AVP need not be kept in memory on the way.
    let fail = |avp: &Avp<'_>, kind| avp_error(&set, avp.offset(), kind);
    let mut iter = set.iter();
    while let Some(avp) = iter.next_avp() {
        // On bare metal the generic checks only: the compiled ones are
        // code per listed AVP, flash a device would rather keep.
        if COMPILED && listed && read.listed(&avp, &mut walk)? {
            continue;
        }
        let rule = find_rule(grammar, avp.code(), avp.vendor(), walk.cursor);
        // What the AVP's definition says: from its rule when the grammar
        // lists it (a rule carries its AVP's type and flag rules), from the
        // dictionary otherwise.
        let info = match rule {
            Some(_) => None,
            None => dict.avp(avp.code(), avp.vendor()),
        };
        let (data_type, (mask, want)) = match (rule, info) {
            (Some((_, r)), _) => (Some(r.data_type), r.mask_want()),
            (None, Some(info)) => (Some(info.data_type), info.flags.mask_want()),
            (None, None) => (None, (0, 0)),
        };
        if avp.flags().0 & (mask | reserved) != want {
            return Err(fail(&avp, ErrorKind::InvalidAvpBits));
        }
        match data_type {
            Some(data_type) => {
                if let Err(k) = data_type.check(avp.data()) {
                    return Err(fail(&avp, k));
                }
                if data_type == DataType::Grouped {
                    let info = info.or_else(|| dict.avp(avp.code(), avp.vendor()));
                    validate_group(&avp, info, dict, config, depth, read)?;
                }
            }
            None if avp.flags().is_mandatory() && rule.is_none() => {
                return Err(fail(&avp, ErrorKind::AvpUnsupported));
            }
            None => {}
        }
        match rule {
            Some((i, r)) => {
                walk.cursor = i;
                let bit = 1u64 << (i & 63);
                if walk.seen & bit != 0 && r.max == 1 {
                    return Err(fail(&avp, ErrorKind::TooManyAvps));
                }
                walk.seen |= bit;
                if r.kind == RuleKind::Fixed && !at_position(&set, avp.offset(), i) {
                    return Err(fail(&avp, ErrorKind::AvpNotAllowed));
                }
            }
            None if !grammar.extensible => return Err(fail(&avp, ErrorKind::AvpNotAllowed)),
            None => {}
        }
        read.avp(&avp)?;
    }
    iter.finish()?;
    if grammar.counted() {
        return check_counts(set, grammar, dict, required);
    }
    let min = grammar.required();
    if walk.seen & min == min {
        return Ok(());
    }
    missing_of_seen(rules, dict, required, walk.seen)
}

/// The content of Grouped AVP `avp` of `info` (the dictionary's entry;
/// none: content not checked), in the walk of its set at `depth`: read by
/// the reader `read` gives for it, if any ([`ReadAvps::group`]). Failed-AVP
/// (§7.5) carries offending AVPs on purpose: only its headers are checked,
/// not its content.
#[inline(always)]
fn validate_group<'a, D, R>(
    avp: &Avp<'a>,
    info: Option<&AvpInfo>,
    dict: &D,
    config: &ParseConfig,
    depth: u16,
    read: &mut R,
) -> Result<(), Error>
where
    D: Dictionary,
    R: ReadAvps<'a> + ?Sized,
{
    let Some(info) = info else {
        return Ok(());
    };
    if depth >= config.max_depth {
        return Err(avp.error(ErrorKind::NestingTooDeep));
    }
    if avp.is(FAILED_AVP, 0) {
        check_failed_avp(avp.group_set(), config, depth + 1)
    } else if let Some(inner) = read.group(avp) {
        let (set, all) = (avp.group_set(), Required::All);
        validate_rules(
            set,
            &info.grammar,
            dict,
            config,
            depth + 1,
            all,
            inner,
            true,
        )
    } else {
        validate_set(avp.group_set(), &info.grammar, dict, config, depth + 1)
    }
}

/// Whether the AVP at message offset `offset` is the AVP number `index`
/// (from 0) of `set`: where a fixed rule (`< x >`, fixed rules come first)
/// puts its AVP. The first AVP is known by its offset; a later one (no
/// grammar of the RFCs has a second fixed rule) by counting the AVPs before
/// it, out of line, so that the walk keeps no position counter.
#[inline(always)]
fn at_position(set: &AvpSet<'_>, offset: usize, index: usize) -> bool {
    match index {
        0 => offset == set.base as usize,
        _ => position_of(set, offset) == Some(index),
    }
}

/// The number of AVPs of `set` before the one at message offset `offset`.
#[cold]
#[inline(never)]
fn position_of(set: &AvpSet<'_>, offset: usize) -> Option<usize> {
    set.iter()
        .map_while(Result::ok)
        .position(|avp| avp.offset() == offset)
}

/// [`first_missing`] with the counts of a set of seen bits (cold; `seen` by
/// value, so that the walk keeps it in a register).
#[cold]
#[inline(never)]
fn missing_of_seen<D: Dictionary>(
    rules: &[Rule],
    dict: &D,
    required: Required,
    seen: u64,
) -> Result<(), Error> {
    first_missing(rules, dict, required, |i| {
        seen.checked_shr(i as u32).unwrap_or(0) as u16 & 1
    })
}

/// The counts of a grammar with bounds other than `[x]`, `{x}`, `*[x]`
/// and `1*{x}` (see [`Grammar`]), after the walk of [`validate_rules`]
/// accepted every AVP of `set` otherwise: the first AVP above its rule's
/// maximum (5009), then the first rule below its minimum (5005).
#[cold]
#[inline(never)]
fn check_counts<D: Dictionary>(
    set: AvpSet<'_>,
    grammar: &Grammar,
    dict: &D,
    required: Required,
) -> Result<(), Error> {
    let rules = grammar.rules;
    let mut counts = [0u16; Grammar::MAX_RULES];
    let mut cursor = 0usize;
    for avp in set.iter() {
        let avp = avp?;
        if let Some((i, r)) = find_rule(grammar, avp.code(), avp.vendor(), cursor) {
            cursor = i;
            if let Some(c) = counts.get_mut(i) {
                *c = c.saturating_add(1);
                if *c > r.max {
                    return Err(avp.error(ErrorKind::TooManyAvps));
                }
            }
        }
    }
    first_missing(rules, dict, required, |i| {
        counts.get(i).copied().unwrap_or(0)
    })
}

/// The first rule (in grammar order) whose minimum `count` does not meet,
/// among those `required` enforces, as a 5005 naming the missing AVP.
#[cold]
#[inline(never)]
fn first_missing<D: Dictionary>(
    rules: &[Rule],
    dict: &D,
    required: Required,
    count: impl Fn(usize) -> u16,
) -> Result<(), Error> {
    for (i, r) in rules.iter().enumerate() {
        let enforced = match required {
            Required::All => true,
            Required::AnswerMessage => r.vendor == 0 && matches!(r.code, 264 | 268 | 296),
        };
        if count(i) < r.min && enforced {
            let flags = dict
                .avp(r.code, r.vendor)
                .map(|i| i.flags.default_flags().0)
                .unwrap_or(if r.vendor != 0 { 0xc0 } else { 0x40 });
            return Err(Error::missing(r.code, r.vendor, flags));
        }
    }
    Ok(())
}

/// The index of the rule for `code`/`vendor` in `grammar`, and the rule,
/// searched from `from` on and then from the start (a grammar lists an AVP
/// once, so where the search starts does not change the answer).
#[inline]
fn find_rule(grammar: &Grammar, code: u32, vendor: u32, from: usize) -> Option<(usize, &Rule)> {
    let rules = grammar.rules;
    let is = |r: &Rule| r.code == code && r.vendor == vendor;
    // In grammar order, the AVP is the previous one's rule (a repeat) or
    // the next rule: two compares, no search.
    if let Some(r) = rules.get(from) {
        if is(r) {
            return Some((from, r));
        }
    }
    if let Some(r) = rules.get(from + 1) {
        if is(r) {
            return Some((from + 1, r));
        }
    }
    // An AVP the grammar does not list (a 3GPP AVP in an open grammar, say)
    // is known without walking every rule.
    if !grammar.may_list(code, vendor) {
        return None;
    }
    let start = from.saturating_add(2).min(rules.len());
    let (head, tail) = rules.split_at(start);
    let found = match tail.iter().position(is) {
        Some(i) => Some(start + i),
        None => head.iter().position(is),
    };
    debug_assert_eq!(found, rules.iter().position(is), "a rule listed twice");
    found.and_then(|i| Some((i, rules.get(i)?)))
}

impl<'a> Avp<'a> {
    /// The AVPs inside this AVP's data, as a set with message offsets.
    #[inline]
    pub fn group_set(&self) -> AvpSet<'a> {
        AvpSet::new(
            self.data(),
            (self.offset() + self.header_len()).min(u32::MAX as usize) as u32,
        )
    }
}

/// The header of `bytes` if it passes every check of
/// [`Message::new_checked`] (version 1, a Message Length of exactly
/// `bytes.len()`, so at least 20, and a multiple of 4, not both R and E),
/// as one flag: which check failed is [`checked_head`]'s to tell.
#[cfg(not(target_os = "none"))]
#[inline(always)]
fn well_formed_head(bytes: &[u8]) -> Option<&[u8; HEADER_LEN]> {
    let head = bytes.first_chunk::<HEADER_LEN>()?;
    let length = u32::from_be_bytes([0, head[1], head[2], head[3]]) as usize;
    let re = CommandFlags::REQUEST.0 | CommandFlags::ERROR.0;
    let ok = head[0] == crate::header::VERSION
        && length == bytes.len()
        && length % 4 == 0
        && head[4] & re != re;
    ok.then_some(head)
}

/// The header of `bytes` after the checks of [`HeaderRepr::parse`], in its
/// order (5015 short, 5011 version, 5015 length, 3008 R and E), then 5015
/// for a Message Length other than `bytes.len()`. Out of line: on a host
/// only a malformed header comes here (cold); on bare metal every message
/// does, one copy of the checks for every caller.
#[cfg_attr(not(target_os = "none"), cold)]
#[inline(never)]
fn checked_head(bytes: &[u8]) -> Result<&[u8; HEADER_LEN], Error> {
    let (_, len) = HeaderRepr::parse(bytes)?;
    match bytes.first_chunk() {
        Some(head) if len == bytes.len() => Ok(head),
        _ => Err(Error::new(ErrorKind::InvalidMessageLength)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dict::base;
    use crate::encode::MessageBuilder;

    fn dwr(buf: &mut [u8]) -> usize {
        let mut b = MessageBuilder::new(
            buf,
            HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 2),
        );
        b.put(&base::ORIGIN_HOST, "a.example");
        b.put(&base::ORIGIN_REALM, "example");
        b.finish().unwrap().len()
    }

    /// The inline header check accepts and refuses exactly what
    /// `HeaderRepr::parse` plus "the length is the buffer's" does, with the
    /// same error, and the fields read from the bytes are the parsed ones.
    #[test]
    fn new_checked_is_header_repr_parse() {
        let mut buf = [0u8; 64];
        for n in [0usize, 4, 19, 20, 21, 24, 28, 32] {
            for version in [0u8, 1, 2, 0x81] {
                for length in [0u32, 4, 19, 20, 21, 24, 28, 32, 0x0100_0018, 0x00ff_ffff] {
                    for flags in 0..=255u8 {
                        buf[..4].copy_from_slice(&length.to_be_bytes());
                        buf[0] = version;
                        buf[4] = flags;
                        buf[5..8].copy_from_slice(&[0, 1, 0x18]);
                        for (i, b) in buf[8..20].iter_mut().enumerate() {
                            *b = 0x40 + i as u8;
                        }
                        let bytes = &buf[..n];
                        let want = HeaderRepr::parse(bytes).and_then(|(h, len)| match len == n {
                            true => Ok(h),
                            false => Err(Error::new(ErrorKind::InvalidMessageLength)),
                        });
                        let got = Message::new_checked(bytes).map(|m| m.header());
                        assert_eq!(got, want, "{n} bytes, version {version}, length {length}");
                    }
                }
            }
        }
    }

    #[test]
    fn parse_get_validate() {
        let mut buf = [0u8; 128];
        let n = dwr(&mut buf);
        let m = Message::parse_with(&buf[..n], &base::Base).unwrap();
        assert_eq!(m.get(&base::ORIGIN_HOST).unwrap(), Some("a.example"));
        assert_eq!(m.get(&base::ORIGIN_STATE_ID).unwrap(), None);
        assert_eq!(
            m.require(&base::ORIGIN_STATE_ID).unwrap_err().kind(),
            ErrorKind::MissingAvp
        );
        m.validate(&base::Base).unwrap();
        assert_eq!(m.avps().count(), 2);
        // trailing bytes are not part of the message
        assert_eq!(
            Message::parse(&buf[..n + 4]).unwrap_err().kind(),
            ErrorKind::InvalidMessageLength
        );
    }

    #[test]
    fn missing_required() {
        let mut buf = [0u8; 128];
        let mut b = MessageBuilder::new(
            &mut buf,
            HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 2),
        );
        b.put(&base::ORIGIN_HOST, "a.example");
        let bytes = b.finish().unwrap();
        let m = Message::parse(bytes).unwrap();
        let e = m.validate(&base::Base).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingAvp);
        assert_eq!(e.avp().unwrap().code, 296);
    }

    /// A grammar with bounds beyond present/absent (`2*3 { Class }`) is
    /// counted: too few is 5005, the first AVP above the maximum is 5009.
    #[test]
    fn counted_bounds() {
        static RULES: [Rule; 2] = [
            Rule::required(&base::ORIGIN_HOST),
            Rule::repeated(&base::CLASS, 2, 3),
        ];
        static GRAMMAR: Grammar = Grammar::closed(&RULES);
        const { assert!(GRAMMAR.counted()) };
        const { assert!(!base::ERROR_ANSWER.counted()) };
        // `0*0` (must not be present) is counted too: one is above the maximum.
        static NONE: [Rule; 1] = [Rule::repeated(&base::CLASS, 0, 0)];
        const { assert!(Grammar::open(&NONE).counted()) };
        let check = |classes: usize| {
            let mut buf = [0u8; 256];
            let mut b = MessageBuilder::new(
                &mut buf,
                HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 2),
            );
            b.put(&base::ORIGIN_HOST, "a.example");
            for _ in 0..classes {
                b.put(&base::CLASS, &b"c"[..]);
            }
            let bytes = b.finish().unwrap().to_vec();
            let m = Message::new_checked(&bytes).unwrap();
            validate_set(m.avps(), &GRAMMAR, &base::Base, &ParseConfig::DEFAULT, 0)
                .map_err(|e| (e.kind(), e.avp().and_then(|a| a.offset)))
        };
        // Origin-Host is 20 + 20 bytes long (padded); each Class 12.
        let mut buf = [0u8; 64];
        let mut b = MessageBuilder::new(
            &mut buf,
            HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 2),
        );
        b.put(&base::CLASS, &b"c"[..]);
        let bytes = b.finish().unwrap().to_vec();
        let set = Message::new_checked(&bytes).unwrap().avps();
        let e = validate_set(
            set,
            &Grammar::open(&NONE),
            &base::Base,
            &ParseConfig::DEFAULT,
            0,
        );
        assert_eq!(e.unwrap_err().kind(), ErrorKind::TooManyAvps);
        assert_eq!(check(1), Err((ErrorKind::MissingAvp, None)));
        assert_eq!(check(2), Ok(()));
        assert_eq!(check(3), Ok(()));
        assert_eq!(
            check(4),
            Err((ErrorKind::TooManyAvps, Some(20 + 20 + 3 * 12)))
        );
    }

    /// The rule search (two compares, the code filter, then a scan from
    /// the cursor) finds what a plain scan finds, for every grammar of the
    /// base dictionary, the codes of its rules and their neighbours plus
    /// some it does not list, from cursors at both ends and in the middle
    /// (small enough for Miri, which runs these unit tests).
    #[test]
    fn find_rule_is_a_scan() {
        let commands = [
            base::CER,
            base::CEA,
            base::DPR,
            base::DPA,
            base::DWR,
            base::DWA,
            base::RAR,
            base::RAA,
            base::STR,
            base::STA,
            base::ASR,
            base::ASA,
            base::ACR,
            base::ACA,
        ];
        let grammars = commands.iter().map(|c| c.grammar).chain([
            base::ERROR_ANSWER,
            base::FAILED_AVP.info.grammar,
            Grammar::EMPTY,
        ]);
        for g in grammars {
            let n = g.rules.len();
            let listed = g
                .rules
                .iter()
                .flat_map(|r| [r.code.wrapping_sub(1), r.code, r.code.wrapping_add(1)]);
            let codes: std::vec::Vec<u32> = listed.chain([0, 873, 10_415, 99_999]).collect();
            for vendor in [0, 10415] {
                for &code in &codes {
                    let plain = g
                        .rules
                        .iter()
                        .position(|r| r.code == code && r.vendor == vendor);
                    for from in [0, 1, 2, n / 2, n.saturating_sub(1), n, n + 1] {
                        let found = find_rule(&g, code, vendor, from).map(|(i, _)| i);
                        assert_eq!(found, plain, "code {code}/{vendor} from {from}");
                    }
                }
            }
        }
    }

    /// A fixed rule's AVP must be at the rule's place (`< x >`, RFC 6733
    /// §3.2): the first by its offset, a later one by the AVPs before it
    /// (unknown ones included).
    #[test]
    fn fixed_rules_hold_their_place() {
        static RULES: [Rule; 3] = [
            Rule::fixed(&base::SESSION_ID),
            Rule::fixed(&base::ORIGIN_HOST),
            Rule::optional(&base::ORIGIN_REALM),
        ];
        static GRAMMAR: Grammar = Grammar::open(&RULES);
        // 263 Session-Id, 264 Origin-Host, 296 Origin-Realm, 9999 unknown.
        let check = |codes: &[u32]| {
            let mut buf = [0u8; 256];
            let mut b = MessageBuilder::new(
                &mut buf,
                HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 2),
            );
            for &c in codes {
                match c {
                    263 => b.put(&base::SESSION_ID, "s;1"),
                    264 => b.put(&base::ORIGIN_HOST, "a.example"),
                    296 => b.put(&base::ORIGIN_REALM, "example"),
                    _ => b.put_raw(c, None, crate::AvpFlags::NONE, b"x"),
                };
            }
            let bytes = b.finish().unwrap().to_vec();
            let m = Message::new_checked(&bytes).unwrap();
            validate_set(m.avps(), &GRAMMAR, &base::Base, &ParseConfig::DEFAULT, 0)
                .map_err(|e| (e.kind(), e.avp().map(|a| a.code)))
        };
        let not_allowed = |code| Err((ErrorKind::AvpNotAllowed, Some(code)));
        assert_eq!(check(&[263, 264, 296]), Ok(()));
        assert_eq!(check(&[263, 264, 9999, 296]), Ok(()));
        assert_eq!(check(&[263, 296, 264]), not_allowed(264));
        assert_eq!(check(&[264, 263]), not_allowed(264));
        assert_eq!(check(&[263, 9999, 264]), not_allowed(264));
        assert_eq!(check(&[9999, 263, 264]), not_allowed(263));
    }

    /// The validator's flag check: a reserved bit is 3009 in strict mode
    /// on a known and on an unknown AVP and passes in lenient mode; the
    /// flag rules hold in both (RFC 6733 §4.1).
    #[test]
    fn validation_checks_flags_and_reserved_bits() {
        let check = |flags: u8, code: u32, strict: bool| {
            let mut buf = [0u8; 128];
            let mut b = MessageBuilder::new(
                &mut buf,
                HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 2),
            );
            b.put(&base::ORIGIN_HOST, "a.example");
            b.put(&base::ORIGIN_REALM, "example");
            b.put_raw(code, None, crate::AvpFlags(flags), &[0, 0, 0, 1]);
            let bytes = b.finish().unwrap().to_vec();
            let config = ParseConfig {
                strict_reserved_bits: strict,
                ..ParseConfig::DEFAULT
            };
            Message::new_checked(&bytes)
                .unwrap()
                .validated_with_config(&base::Base, &config)
                .map(|_| ())
                .map_err(|e| e.kind())
        };
        let bits = Err(ErrorKind::InvalidAvpBits);
        // 278 Origin-State-Id: M must, V and P must not. 9999: unknown.
        assert_eq!(check(0x40, 278, true), Ok(()));
        assert_eq!(check(0x41, 278, true), bits);
        assert_eq!(check(0x41, 278, false), Ok(()));
        assert_eq!(check(0x01, 9999, true), bits);
        assert_eq!(check(0x01, 9999, false), Ok(()));
        assert_eq!(check(0x00, 278, true), Ok(()), "a missing M is accepted");
    }
}
