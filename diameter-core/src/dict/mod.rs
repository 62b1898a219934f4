//! Dictionaries: `const` AVP and command definitions.
//!
//! An [`AvpDef<T>`] carries code, vendor, flag rules and, through its marker
//! type `T` (see [`crate::types`]), the data type. Typed access is checked by
//! the compiler:
//!
//! ```
//! use diameter_core::dict::base;
//! use diameter_core::{MessageBuilder, HeaderRepr, CommandCode, ApplicationId};
//! let mut buf = [0u8; 64];
//! let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
//!     CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 1));
//! b.put(&base::ORIGIN_STATE_ID, 7);       // Unsigned32 takes a u32
//! // b.put(&base::ORIGIN_STATE_ID, "7"); // does not compile
//! assert!(b.finish().is_ok());
//! ```
//!
//! [`AvpInfo`] is the same entry without the type parameter, for runtime
//! lookups through a [`Dictionary`]; [`CommandDef`] holds a command's CCF
//! grammar (RFC 6733 §3.2) as a table of [`Rule`]s. [`names`] gathers the
//! look-ups a printer needs (commands, AVPs, Enumerated values,
//! Result-Codes, applications, vendors).

use core::marker::PhantomData;

use crate::avp::AvpFlags;
use crate::error::Error;
use crate::header::{ApplicationId, CommandCode};
use crate::message::{Message, ParseConfig};
use crate::types::{AvpType, DataType, EnumValue};

pub mod base;
pub mod names;

/// What the definition of an AVP says about one flag bit (RFC 6733 §4.5 table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FlagRule {
    /// MUST be set.
    Must = 0,
    /// MAY be set (either is accepted).
    May = 1,
    /// MUST NOT be set.
    MustNot = 2,
}

/// The M, V and P rules of an AVP definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FlagRules {
    /// M bit.
    pub m: FlagRule,
    /// V bit.
    pub v: FlagRule,
    /// P bit.
    pub p: FlagRule,
}

impl FlagRules {
    /// IETF AVP: M must, V and P must not (most of RFC 6733 §4.5).
    pub const M: FlagRules = FlagRules {
        m: FlagRule::Must,
        v: FlagRule::MustNot,
        p: FlagRule::MustNot,
    };
    /// IETF AVP that must not carry M (e.g. Error-Message... where the RFC says so).
    pub const NONE: FlagRules = FlagRules {
        m: FlagRule::MustNot,
        v: FlagRule::MustNot,
        p: FlagRule::MustNot,
    };
    /// IETF AVP where M may or may not be set.
    pub const M_MAY: FlagRules = FlagRules {
        m: FlagRule::May,
        v: FlagRule::MustNot,
        p: FlagRule::MustNot,
    };
    /// Vendor AVP with M and V set (3GPP AVPs that are mandatory).
    pub const VM: FlagRules = FlagRules {
        m: FlagRule::Must,
        v: FlagRule::Must,
        p: FlagRule::MustNot,
    };
    /// Vendor AVP with V set and M optional.
    pub const V_M_MAY: FlagRules = FlagRules {
        m: FlagRule::May,
        v: FlagRule::Must,
        p: FlagRule::MustNot,
    };
    /// Vendor AVP with V set and M clear.
    pub const V: FlagRules = FlagRules {
        m: FlagRule::MustNot,
        v: FlagRule::Must,
        p: FlagRule::MustNot,
    };

    /// The flags an encoder sets by default: every `Must` bit.
    pub const fn default_flags(&self) -> AvpFlags {
        let mut f = 0u8;
        if matches!(self.m, FlagRule::Must) {
            f |= AvpFlags::MANDATORY.0;
        }
        if matches!(self.v, FlagRule::Must) {
            f |= AvpFlags::VENDOR.0;
        }
        if matches!(self.p, FlagRule::Must) {
            f |= AvpFlags::PROTECTED.0;
        }
        AvpFlags(f)
    }

    /// Whether received flags obey these rules (§4.1, 3009 otherwise).
    ///
    /// The V bit is checked strictly (it changes the header layout). A
    /// missing M bit where the RFC says MUST is accepted, as peers commonly
    /// clear it and RFC 6733 §4.1 only obliges the *receiver* to honour a set
    /// M bit; an M bit where the RFC says MUST NOT is rejected. The P bit is
    /// ignored on receipt: RFC 6733 dropped end-to-end security, and 3GPP
    /// dictionaries still say "P may"; encoders never set it.
    // Inlined on hosts for speed; on bare metal (flash) the compiler decides.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    pub const fn accepts(&self, flags: AvpFlags) -> bool {
        let (mask, want) = self.mask_want();
        flags.0 & mask == want
    }

    /// The bits [`FlagRules::accepts`] looks at and the values they must
    /// have: `flags & mask == want`. From a table of the nine (M, V) rule
    /// pairs (rules numbered as declared: Must 0, May 1, MustNot 2), so
    /// that the check of every received AVP is a load, an AND and a
    /// compare.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    pub(crate) const fn mask_want(&self) -> (u8, u8) {
        const M: u8 = AvpFlags::MANDATORY.0;
        const V: u8 = AvpFlags::VENDOR.0;
        // [mask, want] for 3 * m + v.
        const TABLE: [[u8; 2]; 9] = {
            let mut t = [[0u8; 2]; 9];
            let mut i = 0;
            while i < 9 {
                let (m, v) = (i / 3, i % 3);
                // V must: set; V must not: clear; M must not: clear (a
                // missing M bit where it must be set is accepted).
                let mut mask = 0;
                let mut want = 0;
                if v == 0 {
                    mask |= V;
                    want |= V;
                } else if v == 2 {
                    mask |= V;
                }
                if m == 2 {
                    mask |= M;
                }
                t[i] = [mask, want];
                i += 1;
            }
            t
        };
        let [mask, want] = TABLE[(3 * self.m as u8 + self.v as u8) as usize];
        (mask, want)
    }
}

/// An AVP definition without its Rust type: for runtime lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AvpInfo {
    /// AVP code.
    pub code: u32,
    /// Vendor-Id (0 = IETF).
    pub vendor: u32,
    /// Name as in the defining document.
    pub name: &'static str,
    /// Data type.
    pub data_type: DataType,
    /// Flag rules.
    pub flags: FlagRules,
    /// For Grouped AVPs, the grammar of the content; empty otherwise.
    pub grammar: Grammar,
    /// For Enumerated AVPs, the named values; empty otherwise (see
    /// [`AvpInfo::value_name`]).
    pub values: &'static [EnumValue],
}

impl AvpInfo {
    /// The name of an Enumerated value of this AVP, if the dictionary
    /// names it.
    ///
    /// ```
    /// use diameter_core::dict::{base, Dictionary};
    /// let info = base::Base.avp(480, 0).unwrap(); // Accounting-Record-Type
    /// assert_eq!(info.value_name(2), Some("START_RECORD"));
    /// assert_eq!(info.value_name(7), None);
    /// ```
    pub fn value_name(&self, value: i32) -> Option<&'static str> {
        crate::types::value_name(self.values, value)
    }

    /// The Enumerated value this AVP names `name` (ASCII case-insensitive).
    ///
    /// ```
    /// use diameter_core::dict::base;
    /// assert_eq!(base::TERMINATION_CAUSE.info.value_of("DIAMETER_LOGOUT"), Some(1));
    /// ```
    pub fn value_of(&self, name: &str) -> Option<i32> {
        crate::types::value_of(self.values, name)
    }
}

/// A typed AVP definition: code, vendor, flags and data type `T`.
#[derive(Debug)]
pub struct AvpDef<T> {
    /// The untyped entry.
    pub info: AvpInfo,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for AvpDef<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for AvpDef<T> {}

impl<T: AvpType> AvpDef<T> {
    /// A definition; the data type comes from `T`.
    pub const fn new(code: u32, vendor: u32, name: &'static str, flags: FlagRules) -> Self {
        AvpDef {
            info: AvpInfo {
                code,
                vendor,
                name,
                data_type: T::DATA_TYPE,
                flags,
                grammar: Grammar::EMPTY,
                values: T::VALUE_NAMES,
            },
            _t: PhantomData,
        }
    }

    /// The same definition with a grammar for its content (Grouped AVPs).
    pub const fn with_grammar(mut self, grammar: Grammar) -> Self {
        self.info.grammar = grammar;
        self
    }

    /// AVP code.
    pub const fn code(&self) -> u32 {
        self.info.code
    }
    /// Vendor-Id.
    pub const fn vendor(&self) -> u32 {
        self.info.vendor
    }
    /// Name.
    pub const fn name(&self) -> &'static str {
        self.info.name
    }
}

/// How often an AVP may appear in a grammar (§3.2 CCF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RuleKind {
    /// `< AVP >`: required, at a fixed position at the start.
    Fixed,
    /// `{ AVP }`: required, anywhere.
    Required,
    /// `[ AVP ]`: optional, anywhere.
    Optional,
}

/// One line of a CCF grammar: an AVP and how many times it may occur.
///
/// A rule also carries what its AVP's definition says of every received
/// copy (its [`DataType`] and its flag rules, taken from the [`AvpDef`] it
/// is built from), so that validation checks an AVP the grammar lists
/// without looking it up in the dictionary (a dictionary is expected to
/// hold the same definitions its grammars name; the dictionaries of these
/// crates are tested for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rule {
    /// AVP code.
    pub code: u32,
    /// AVP vendor.
    pub vendor: u32,
    /// Fixed, required or optional.
    pub kind: RuleKind,
    /// The data type of the AVP's definition.
    pub data_type: DataType,
    /// Minimum count (0 for optional).
    pub min: u16,
    /// Maximum count; [`Rule::UNBOUNDED`] for `*`.
    pub max: u16,
    /// [`FlagRules::mask_want`] of the AVP's definition.
    mask_want: [u8; 2],
}

impl Rule {
    /// `max` for an unbounded `*`.
    pub const UNBOUNDED: u16 = u16::MAX;

    /// `< AVP >`.
    pub const fn fixed<T>(def: &AvpDef<T>) -> Rule {
        Rule::new(def, RuleKind::Fixed, 1, 1)
    }
    /// `{ AVP }`.
    pub const fn required<T>(def: &AvpDef<T>) -> Rule {
        Rule::new(def, RuleKind::Required, 1, 1)
    }
    /// `[ AVP ]`.
    pub const fn optional<T>(def: &AvpDef<T>) -> Rule {
        Rule::new(def, RuleKind::Optional, 0, 1)
    }
    /// `min*max { AVP }` when `min > 0`, `*max [ AVP ]` otherwise. Use
    /// [`Rule::UNBOUNDED`] for no upper bound.
    pub const fn repeated<T>(def: &AvpDef<T>, min: u16, max: u16) -> Rule {
        let kind = if min > 0 {
            RuleKind::Required
        } else {
            RuleKind::Optional
        };
        Rule::new(def, kind, min, max)
    }
    const fn new<T>(def: &AvpDef<T>, kind: RuleKind, min: u16, max: u16) -> Rule {
        let (mask, want) = def.info.flags.mask_want();
        Rule {
            code: def.info.code,
            vendor: def.info.vendor,
            kind,
            data_type: def.info.data_type,
            min,
            max,
            mask_want: [mask, want],
        }
    }

    /// The flag bits of the AVP's definition a received copy must have
    /// (see [`FlagRules::mask_want`]).
    #[inline(always)]
    pub(crate) const fn mask_want(&self) -> (u8, u8) {
        (self.mask_want[0], self.mask_want[1])
    }

    /// Whether this rule names the AVP of `info` and carries its data type
    /// and flag rules: what a dictionary must say of every AVP its
    /// grammars list (validation takes them from the rule).
    ///
    /// ```
    /// use diameter_core::dict::{base, Dictionary, Rule};
    /// let rule = Rule::required(&base::ORIGIN_HOST);
    /// assert!(rule.describes(base::Base.avp(264, 0).unwrap()));
    /// assert!(!rule.describes(base::Base.avp(296, 0).unwrap()));
    /// ```
    pub const fn describes(&self, info: &AvpInfo) -> bool {
        let (mask, want) = info.flags.mask_want();
        self.code == info.code
            && self.vendor == info.vendor
            && self.data_type as u8 == info.data_type as u8
            && self.mask_want[0] == mask
            && self.mask_want[1] == want
    }
}

/// A CCF grammar: rules, and whether `* [ AVP ]` admits other AVPs.
///
/// Built with [`Grammar::open`] or [`Grammar::closed`], which also note
/// which rules have a minimum, so that validation checks the minimums with
/// one mask comparison when every one of them is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Grammar {
    /// The listed AVPs. Fixed rules come first, in order.
    pub rules: &'static [Rule],
    /// `* [ AVP ]`: AVPs not listed are allowed.
    pub extensible: bool,
    /// Bit `i` set when `rules[i].min > 0`.
    required: u64,
    /// Some rule counts beyond "present or not" (a minimum above 1, or a
    /// bounded maximum other than 1): validation then counts every rule.
    counted: bool,
    /// Bit [`Grammar::code_bit`] of every rule's code: an AVP whose bit is
    /// clear has no rule, without a search (in the struct's padding).
    codes: u32,
}

impl Grammar {
    /// No rules, anything allowed (non-grouped AVPs, unknown content).
    pub const EMPTY: Grammar = Grammar::open(&[]);
    /// Maximum number of rules a grammar may have (validation keeps one
    /// counter per rule on the stack). A longer grammar does not compile.
    pub const MAX_RULES: usize = 64;

    /// A grammar with `* [ AVP ]`.
    pub const fn open(rules: &'static [Rule]) -> Grammar {
        Grammar {
            rules,
            extensible: true,
            required: Self::required_mask(rules),
            counted: Self::any_counted(rules),
            codes: Self::code_mask(rules),
        }
    }
    /// A grammar without `* [ AVP ]`: unlisted AVPs get 5008.
    pub const fn closed(rules: &'static [Rule]) -> Grammar {
        Grammar {
            rules,
            extensible: false,
            required: Self::required_mask(rules),
            counted: Self::any_counted(rules),
            codes: Self::code_mask(rules),
        }
    }

    const fn required_mask(rules: &'static [Rule]) -> u64 {
        assert!(
            rules.len() <= Self::MAX_RULES,
            "a grammar has at most Grammar::MAX_RULES rules"
        );
        let mut mask = 0u64;
        let mut i = 0;
        while i < rules.len() {
            if rules[i].min > 0 {
                mask |= 1 << i;
            }
            i += 1;
        }
        mask
    }

    const fn code_mask(rules: &'static [Rule]) -> u32 {
        let mut mask = 0u32;
        let mut i = 0;
        while i < rules.len() {
            mask |= Self::code_bit(rules[i].code, rules[i].vendor);
            i += 1;
        }
        mask
    }

    /// One of 32 bits for an AVP (Fibonacci hashing: the top 5 bits of
    /// `code ^ vendor` times 2^32/φ).
    #[inline(always)]
    const fn code_bit(code: u32, vendor: u32) -> u32 {
        1 << ((code ^ vendor).wrapping_mul(0x9E37_79B9) >> 27)
    }

    /// `false` when no rule of this grammar is for the AVP `code`/`vendor`
    /// (`true` may be a false positive: search the rules).
    #[inline(always)]
    pub(crate) const fn may_list(&self, code: u32, vendor: u32) -> bool {
        self.codes & Self::code_bit(code, vendor) != 0
    }

    const fn any_counted(rules: &'static [Rule]) -> bool {
        let mut i = 0;
        while i < rules.len() {
            let r = &rules[i];
            if r.min > 1 || (r.max != 1 && r.max != Rule::UNBOUNDED) {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Bit `i` set when `rules[i]` has a minimum count.
    pub(crate) const fn required(&self) -> u64 {
        self.required
    }

    /// Whether a rule of this grammar needs its AVPs counted (a minimum
    /// above 1, or a maximum other than 1 and unbounded, 0 included): every grammar
    /// of RFC 6733 and RFC 8506 has only `[x]`, `{x}`, `*[x]` and `1*{x}`,
    /// which a set of "seen" bits decides.
    pub(crate) const fn counted(&self) -> bool {
        self.counted
    }
}

/// A command definition (§3.2): code, application, direction, header flag
/// rules and CCF grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CommandDef {
    /// Name, e.g. `"Capabilities-Exchange-Request"`.
    pub name: &'static str,
    /// Abbreviation, e.g. `"CER"`.
    pub abbrev: &'static str,
    /// Command-Code.
    pub code: CommandCode,
    /// Application-Id in the header; `None` when any application may use it
    /// (RAR/STR/ASR and the like belong to the application of the session).
    pub application: Option<ApplicationId>,
    /// Whether this is the request (R bit set) of the pair.
    pub request: bool,
    /// Whether the P bit must be set (`PXY` in the CCF).
    pub proxiable: bool,
    /// Grammar of the body.
    pub grammar: Grammar,
}

/// A runtime dictionary: looks up AVP and command definitions.
///
/// Implement it with a `match` for speed; chain dictionaries by falling back
/// to another one (see [`base::Base`]).
pub trait Dictionary {
    /// The definition of AVP `code` from `vendor`, if known.
    fn avp(&self, code: u32, vendor: u32) -> Option<&'static AvpInfo>;
    /// The definition of a command, if known.
    fn command(&self, code: CommandCode, request: bool) -> Option<&'static CommandDef>;

    /// Validate `msg` against `def` with this dictionary: what
    /// [`Message::validated`](crate::Message::validated) does once
    /// [`Dictionary::command`] gave `def`. The default is
    /// [`Message::validate_command`]; a dictionary may answer some of its
    /// own commands with a validator compiled for their grammar (a reader
    /// that checks the AVPs it lists, [`ReadAvps::listed`]), which must
    /// give the same result.
    ///
    /// [`ReadAvps::listed`]: crate::read::ReadAvps::listed
    ///
    /// ```
    /// use diameter_core::{dict::base, Dictionary, Message, ParseConfig};
    /// # let bytes = diameter_core::doc_example();
    /// let msg = Message::new_checked(&bytes)?;
    /// base::Base.validate_command(&msg, &base::DWR, &ParseConfig::DEFAULT)?;
    /// # Ok::<(), diameter_core::Error>(())
    /// ```
    #[inline]
    fn validate_command(
        &self,
        msg: &Message<'_>,
        def: &CommandDef,
        config: &ParseConfig,
    ) -> Result<(), Error> {
        msg.validate_command(def, &self, config)
    }
}

impl<D: Dictionary + ?Sized> Dictionary for &D {
    fn avp(&self, code: u32, vendor: u32) -> Option<&'static AvpInfo> {
        (**self).avp(code, vendor)
    }
    fn command(&self, code: CommandCode, request: bool) -> Option<&'static CommandDef> {
        (**self).command(code, request)
    }
    #[inline]
    fn validate_command(
        &self,
        msg: &Message<'_>,
        def: &CommandDef,
        config: &ParseConfig,
    ) -> Result<(), Error> {
        (**self).validate_command(msg, def, config)
    }
}

/// A dictionary that knows nothing: every AVP is opaque.
#[derive(Debug, Clone, Copy, Default)]
pub struct Empty;

impl Dictionary for Empty {
    fn avp(&self, _: u32, _: u32) -> Option<&'static AvpInfo> {
        None
    }
    fn command(&self, _: CommandCode, _: bool) -> Option<&'static CommandDef> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_rules() {
        let m = FlagRules::M;
        assert_eq!(m.default_flags(), AvpFlags::MANDATORY);
        assert!(m.accepts(AvpFlags::MANDATORY));
        assert!(m.accepts(AvpFlags::NONE)); // lenient on a missing M
        assert!(!m.accepts(AvpFlags::VENDOR | AvpFlags::MANDATORY));
        assert!(!FlagRules::NONE.accepts(AvpFlags::MANDATORY));
        assert!(!FlagRules::VM.accepts(AvpFlags::MANDATORY));
        assert_eq!(FlagRules::VM.default_flags(), AvpFlags(0xc0));
        assert!(m.accepts(AvpFlags::MANDATORY | AvpFlags::PROTECTED));
    }

    /// Every rule against every flag byte, by the words of `accepts`' doc.
    #[test]
    fn flag_rules_exhaustive() {
        use FlagRule::*;
        let holds = |rule: FlagRule, set: bool| match rule {
            Must => set,
            May => true,
            MustNot => !set,
        };
        for m in [Must, May, MustNot] {
            for v in [Must, May, MustNot] {
                for p in [Must, May, MustNot] {
                    let rules = FlagRules { m, v, p };
                    for f in 0..=255u8 {
                        let flags = AvpFlags(f);
                        // M: only a set M where it must not be is refused;
                        // V: strict; P and the reserved bits: not looked at.
                        let m_ok = m != MustNot || !flags.is_mandatory();
                        let want = m_ok && holds(v, flags.is_vendor());
                        assert_eq!(rules.accepts(flags), want, "{rules:?} {f:#04x}");
                    }
                }
            }
        }
    }
}
