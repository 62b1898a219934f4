//! Readers of a one-pass receive path: what a validation walk does with
//! each AVP it accepted, Grouped AVPs (RFC 6733 §4.4) included.
//!
//! [`Message::validate_command_reading`] checks a message and hands every
//! top-level AVP that passed its checks to a [`ReadAvps`]. A closure
//! `FnMut(&Avp) -> Result<(), Error>` is one. A reader that also wants the
//! content of some Grouped AVPs answers [`ReadAvps::group`] with the reader
//! of that content: the walk that validates the group's AVPs against its
//! grammar hands them to that reader as it goes, so the content is walked
//! once, not validated and then walked again by a group decoder.
//!
//! [`read_set`] is the same read without the checks, for a message
//! validated already.
//!
//! A reader written for one grammar may also check the AVPs it lists
//! itself ([`ReadAvps::listed`]), with the place of each in that grammar
//! computed at compile time ([`Listed::of`]): each such AVP is then
//! dispatched once, on its code, to code that checks its flags against
//! constants and decodes its value once, into the reader's field, instead
//! of being looked up in the grammar's rules, checked by its data type and
//! then read. The checks and their order, hence the errors, are the
//! validator's ([`WalkState::read`]).
//!
//! [`Message::validate_command_reading`]: crate::Message::validate_command_reading

use crate::avp::{Avp, AvpFlags};
use crate::dict::{AvpDef, Grammar, Rule, RuleKind};
use crate::error::{Error, ErrorKind};
use crate::message::{AvpSet, ParseConfig};
use crate::types::{AvpType, DataType};

/// What a one-pass read does with the AVPs of a set (see the [module
/// docs](self)).
///
/// ```
/// use diameter_core::read::{read_set, ReadAvps};
/// use diameter_core::{Avp, AvpSet, Error, HeaderRepr, CommandCode, ApplicationId, MessageBuilder, Message};
/// use diameter_core::dict::base;
///
/// /// Counts the AVPs of the first Proxy-Info it is given, and the top-level ones.
/// #[derive(Default)]
/// struct Counts { top: u32, inner: Inner }
/// #[derive(Default)]
/// struct Inner { n: u32, open: bool }
/// impl<'a> ReadAvps<'a> for Inner {
///     fn avp(&mut self, _: &Avp<'a>) -> Result<(), Error> { self.n += 1; Ok(()) }
/// }
/// impl<'a> ReadAvps<'a> for Counts {
///     fn avp(&mut self, _: &Avp<'a>) -> Result<(), Error> { self.top += 1; Ok(()) }
///     fn group(&mut self, avp: &Avp<'a>) -> Option<&mut dyn ReadAvps<'a>> {
///         (avp.is(284, 0) && !self.inner.open).then(|| {
///             self.inner.open = true;
///             &mut self.inner as &mut dyn ReadAvps<'a>
///         })
///     }
/// }
///
/// let mut buf = [0u8; 128];
/// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
///     CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 1));
/// b.put(&base::ORIGIN_HOST, "a.example");
/// b.grouped(&base::PROXY_INFO, |g| {
///     g.put(&base::PROXY_HOST, "p.example").put(&base::PROXY_STATE, &b"x"[..]);
/// });
/// let msg = Message::parse(b.finish().unwrap()).unwrap();
/// let mut counts = Counts::default();
/// read_set(msg.avps(), &mut counts)?;
/// assert_eq!((counts.top, counts.inner.n), (2, 2));
/// # Ok::<(), Error>(())
/// ```
pub trait ReadAvps<'a> {
    /// Read one AVP of the set, in message order, once it passed every
    /// check of the walk (for a Grouped AVP: after its content was
    /// validated, and read by the reader [`ReadAvps::group`] gave).
    fn avp(&mut self, avp: &Avp<'a>) -> Result<(), Error>;

    /// The reader of the content of Grouped AVP `avp`, called before that
    /// content is walked; `None` (the default) has it validated without
    /// being read. A reader given here sees every AVP of the content, in
    /// order, before [`ReadAvps::avp`] sees the group itself.
    #[inline(always)]
    fn group(&mut self, avp: &Avp<'a>) -> Option<&mut dyn ReadAvps<'a>> {
        let _ = avp;
        None
    }

    /// Check and read `avp` here, in place of the validator's generic
    /// checks and [`ReadAvps::avp`]: `Ok(true)` when this reader lists
    /// the AVP (its code and vendor) and `walk.read` accepted it, `Ok(false)`
    /// (the default) to leave it to the validator, which then checks it
    /// and hands it to [`ReadAvps::avp`].
    ///
    /// Only for a reader written for the grammar of the walk it is given
    /// to: the [`Listed`] places it passes to [`WalkState::read`] are
    /// indices in that grammar. A listed AVP must not be Grouped (its
    /// content goes through [`ReadAvps::group`]).
    ///
    /// ```
    /// use diameter_core::read::{Listed, ReadAvps, WalkState};
    /// use diameter_core::{dict::base, Avp, Error, Message, ParseConfig};
    ///
    /// /// The Origin-Host of a DWR, checked and read in one dispatch.
    /// #[derive(Default)]
    /// struct OriginHost<'a>(Option<&'a str>);
    /// impl<'a> ReadAvps<'a> for OriginHost<'a> {
    ///     fn avp(&mut self, _: &Avp<'a>) -> Result<(), Error> { Ok(()) }
    ///     fn listed(&mut self, avp: &Avp<'a>, walk: &mut WalkState<'_>) -> Result<bool, Error> {
    ///         const AT: Listed = Listed::of(&base::DWR.grammar, &base::ORIGIN_HOST);
    ///         if !avp.is(base::ORIGIN_HOST.code(), 0) {
    ///             return Ok(false);
    ///         }
    ///         let host = walk.read(avp, &base::ORIGIN_HOST, &AT)?;
    ///         self.0.get_or_insert(host);
    ///         Ok(true)
    ///     }
    /// }
    ///
    /// # let bytes = diameter_core::doc_example();
    /// let msg = Message::new_checked(&bytes)?;
    /// let mut host = OriginHost::default();
    /// msg.validate_command_reading(&base::DWR, &base::Base, &ParseConfig::DEFAULT, &mut host)?;
    /// assert_eq!(host.0, Some("client.example.org"));
    /// # Ok::<(), Error>(())
    /// ```
    #[inline(always)]
    fn listed(&mut self, avp: &Avp<'a>, walk: &mut WalkState<'_>) -> Result<bool, Error> {
        let _ = (avp, walk);
        Ok(false)
    }
}

/// The place of one AVP definition in one grammar, for a reader that
/// checks the AVPs it lists ([`ReadAvps::listed`]): its rule's index, count
/// and position rules and the flag bits it must have. Made at compile
/// time by [`Listed::of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    /// The bit of the rule in the walk's seen set; 0 for an AVP of the
    /// grammar's `* [ AVP ]`.
    bit: u64,
    /// [`FlagRules::mask_want`](crate::dict::FlagRules) of the definition.
    mask: u8,
    want: u8,
    /// The rule's maximum is 1.
    once: bool,
    /// `< AVP >`: first in its set.
    fixed: bool,
    /// The rule's index (0 for an AVP of `* [ AVP ]`).
    index: u8,
    code: u32,
    vendor: u32,
}

impl Listed {
    /// The place of `def` in `grammar`: its rule (which must carry `def`'s
    /// type and flag rules, [`Rule::describes`]), or `* [ AVP ]` when the
    /// grammar does not list it. Does not compile for a Grouped `def`, an
    /// AVP a closed grammar does not list, or a fixed rule other than the
    /// first (the validator counts the AVPs before a later one).
    ///
    /// ```
    /// use diameter_core::dict::base;
    /// use diameter_core::read::Listed;
    /// const AT: Listed = Listed::of(&base::ACR.grammar, &base::SESSION_ID);
    /// # let _ = AT;
    /// ```
    pub const fn of<T: AvpType>(grammar: &Grammar, def: &AvpDef<T>) -> Listed {
        let info = &def.info;
        assert!(
            !matches!(info.data_type, DataType::Grouped),
            "Listed: a Grouped AVP goes through ReadAvps::group"
        );
        let rules = grammar.rules;
        let mut i = 0;
        while i < rules.len() {
            let r: &Rule = &rules[i];
            if r.code == info.code && r.vendor == info.vendor {
                assert!(
                    r.describes(info),
                    "Listed: the rule is of another definition"
                );
                let fixed = matches!(r.kind, RuleKind::Fixed);
                assert!(
                    !fixed || i == 0,
                    "Listed: a fixed rule other than the first"
                );
                let (mask, want) = r.mask_want();
                return Listed {
                    bit: 1 << i,
                    mask,
                    want,
                    once: r.max == 1,
                    fixed,
                    index: i as u8,
                    code: info.code,
                    vendor: info.vendor,
                };
            }
            i += 1;
        }
        assert!(grammar.extensible, "Listed: not in a closed grammar");
        let (mask, want) = info.flags.mask_want();
        Listed {
            bit: 0,
            mask,
            want,
            once: false,
            fixed: false,
            index: 0,
            code: info.code,
            vendor: info.vendor,
        }
    }
}

/// What a validation walk of one set knows of the AVPs before the current
/// one, for a reader that checks the AVPs it lists
/// ([`ReadAvps::listed`]).
pub struct WalkState<'g> {
    /// Bit `i` for each rule `i` of the grammar seen at least once.
    pub(crate) seen: u64,
    /// The rule of the last AVP the grammar lists: where the search for
    /// the next one's starts (AVPs mostly come in grammar order).
    pub(crate) cursor: usize,
    /// The reserved flag bits when they must be clear (see
    /// [`ParseConfig::strict_reserved_bits`]).
    reserved: u8,
    /// The message offset of the set's first AVP.
    base: usize,
    /// The grammar's rules (to check [`Listed`] places in debug builds).
    rules: &'g [Rule],
}

impl<'g> WalkState<'g> {
    /// The start of the walk of `set` against `rules`.
    #[inline(always)]
    pub(crate) fn new(set: &AvpSet<'_>, rules: &'g [Rule], config: &ParseConfig) -> Self {
        let reserved = match config.strict_reserved_bits {
            true => AvpFlags::RESERVED.0,
            false => 0,
        };
        WalkState {
            seen: 0,
            cursor: 0,
            reserved,
            base: set.base as usize,
            rules,
        }
    }

    /// Check `avp` of `def` at place `at` as the validator would, and
    /// decode its value: its flags (3009), its value (5004, 5014), then
    /// its count (5009) and position (5008). The AVP must be of `def`
    /// (its code and vendor).
    // Inlined on hosts (the place is a constant there); on bare metal one
    // copy per type, for flash.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline(never))]
    pub fn read<'a, T: AvpType>(
        &mut self,
        avp: &Avp<'a>,
        def: &AvpDef<T>,
        at: &Listed,
    ) -> Result<T::Value<'a>, Error> {
        debug_assert!(avp.is(def.info.code, def.info.vendor) && at.code == def.info.code);
        debug_assert_eq!(
            self.rules
                .iter()
                .position(|r| r.code == at.code && r.vendor == at.vendor)
                .map(|i| 1u64 << i)
                .unwrap_or(0),
            at.bit,
            "Listed place of another grammar"
        );
        if avp.flags().0 & (at.mask | self.reserved) != at.want {
            return Err(fail(avp, ErrorKind::InvalidAvpBits));
        }
        let value = match T::decode_avp(avp) {
            Ok(v) => v,
            Err(kind) => return Err(fail(avp, kind)),
        };
        if at.bit != 0 {
            if at.once && self.seen & at.bit != 0 {
                return Err(fail(avp, ErrorKind::TooManyAvps));
            }
            self.seen |= at.bit;
            self.cursor = usize::from(at.index);
            if at.fixed && avp.offset() != self.base {
                return Err(fail(avp, ErrorKind::AvpNotAllowed));
            }
        }
        Ok(value)
    }
}

/// The error of `kind` about `avp` (cold: only on failure).
#[cold]
#[inline(never)]
fn fail(avp: &Avp<'_>, kind: ErrorKind) -> Error {
    avp.error(kind)
}

impl<'a, F> ReadAvps<'a> for F
where
    F: FnMut(&Avp<'a>) -> Result<(), Error>,
{
    #[inline(always)]
    fn avp(&mut self, avp: &Avp<'a>) -> Result<(), Error> {
        self(avp)
    }
}

/// Read every AVP of `set` with `read`, in message order, and the content
/// of each Grouped AVP that [`ReadAvps::group`] gives a reader for, without
/// the checks of a validation: for a message validated already. A
/// malformed AVP header ends the read with its error (see
/// [`AvpIter::finish`](crate::AvpIter::finish)).
///
/// ```
/// use diameter_core::read::read_set;
/// use diameter_core::{Avp, Error, Message};
/// # let bytes = diameter_core::doc_example();
/// let msg = Message::parse(&bytes)?;
/// let mut n = 0;
/// read_set(msg.avps(), &mut |_: &Avp<'_>| { n += 1; Ok(()) })?;
/// assert_eq!(n, msg.iter().count());
/// # Ok::<(), Error>(())
/// ```
///
/// Groups are descended at most [`ParseConfig::DEFAULT`]'s `max_depth`
/// deep (deeper: 5017 on the group, as a validation would answer).
pub fn read_set<'a, R>(set: AvpSet<'a>, read: &mut R) -> Result<(), Error>
where
    R: ReadAvps<'a> + ?Sized,
{
    read_nested(set, read, 0)
}

fn read_nested<'a, R>(set: AvpSet<'a>, read: &mut R, depth: u16) -> Result<(), Error>
where
    R: ReadAvps<'a> + ?Sized,
{
    let mut iter = set.iter();
    while let Some(avp) = iter.next_avp() {
        if let Some(inner) = read.group(&avp) {
            if depth >= ParseConfig::DEFAULT.max_depth {
                return Err(avp.error(ErrorKind::NestingTooDeep));
            }
            read_nested(avp.group_set(), inner, depth + 1)?;
        }
        read.avp(&avp)?;
    }
    iter.finish()
}
