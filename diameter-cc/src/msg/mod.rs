//! Typed Credit-Control and accounting messages: borrowed views to read,
//! `Copy` "repr" structs to write.
//!
//! Read RFC 8506 §3 (CCR/CCA, and the RAR/ASR of a credit-control session)
//! and RFC 6733 §8.3, §8.5 and §9.7 (RAR/RAA, ASR/ASA, ACR/ACA) first.
//!
//! | request | answer | decoded view | to encode | grammar |
//! | --- | --- | --- | --- | --- |
//! | CCR | CCA | [`Ccr`] / [`Cca`] | [`CcrRepr`] / [`CcaRepr`] | RFC 8506 §3.1 / §3.2 |
//! | ACR | ACA | [`Acr`] / [`Aca`] | [`AcrRepr`] / [`AcaRepr`] | RFC 6733 §9.7.1 / §9.7.2 |
//! | RAR | RAA | [`Rar`] / [`Raa`] | [`RarRepr`] / [`RaaRepr`] | RFC 6733 §8.3, RFC 8506 §3.3 / §3.4 |
//! | ASR | ASA | [`Asr`] / [`Asa`] | [`AsrRepr`] / [`AsaRepr`] | RFC 6733 §8.5, RFC 8506 §3.5 / §3.6 |
//!
//! ## Decoding
//!
//! `Xxx::decode(&msg)` checks the Command-Code and the R bit (and, for
//! CCR/CCA, the Application-Id 4 of RFC 8506 §3), validates the message
//! against the command's grammar with [`CreditControl`] (so the precise
//! [`Error`] comes back: 5005 naming the missing AVP, 5009, 5004 pointing at
//! the bad value, ...; use [`Error::result_code`] and
//! [`diameter_core::answer::error_answer`] to answer it), then reads every
//! field in one pass over the AVPs. Nothing is copied: strings borrow from
//! the message, repeated AVPs (Multiple-Services-Credit-Control,
//! Used-Service-Unit, Subscription-Id, ...) are read through iterators
//! ([`Groups`]) over the message bytes, and the whole [`Message`] stays in
//! the `message` field so that AVPs without a field remain reachable.
//!
//! ## Encoding
//!
//! A repr holds the values to send: `&str`s, `Option`s for optional AVPs,
//! slices for repeated ones. `write` appends its AVPs, in the order of the
//! RFC grammar, to a [`MessageBuilder`] (so more AVPs can follow), and
//! `encode` builds a whole message into a caller's buffer. Answers have
//! `encode_answer_to(&request, buf)`, which takes the header, the
//! identifiers and the Session-Id from the request
//! ([`MessageBuilder::answer_to`], RFC 6733 §6.2).
//!
//! ```
//! use diameter_cc::msg::{Ccr, CcrRepr, ImsRepr, ServiceUnit, SubscriptionId};
//! use diameter_cc::dict::{CcRequestType, tgpp::{NodeFunctionality, RoleOfNode}};
//! use diameter_cc::CreditControl;
//! use diameter_core::Message;
//!
//! // The SCENARIOS "prepaid" CCR-I: Requested-Service-Unit plus the common tail.
//! let ccr = CcrRepr {
//!     user_name: Some("1001"),
//!     subscription_ids: &[SubscriptionId::e164("1001")],
//!     requested_service_unit: Some(ServiceUnit::time(10800)),
//!     ims: Some(ImsRepr {
//!         role_of_node: Some(RoleOfNode::Originating),
//!         node_functionality: NodeFunctionality::As,
//!         calling_party_address: Some("1001"),
//!         called_party_address: Some("1002"),
//!     }),
//!     ..CcrRepr::new(
//!         "call-id-1", "client.diameter.test", "diameter.test", "diameter.test",
//!         "voice@OsipsDiamCCR", CcRequestType::Initial, 0,
//!     )
//! };
//! let mut buf = [0u8; 512];
//! let bytes = ccr.encode(CcrRepr::header(1, 1), &mut buf).unwrap();
//!
//! let msg = Message::parse_with(bytes, &CreditControl).unwrap();
//! let got = Ccr::decode(&msg).unwrap();
//! assert_eq!(got.cc_request_type, CcRequestType::Initial);
//! assert_eq!(got.requested_service_unit.unwrap().cc_time, Some(10800));
//! assert_eq!(got.ims.unwrap().called_party_address, Some("1002"));
//! ```
//!
//! Nothing here allocates or panics on any input; every type is `no_std`.
//!
//! [`CreditControl`]: crate::CreditControl
//! [`MessageBuilder`]: diameter_core::MessageBuilder
//! [`MessageBuilder::answer_to`]: diameter_core::MessageBuilder::answer_to

use core::fmt;

use diameter_core::avp::AvpIter;
use diameter_core::dict::{AvpDef, CommandDef};
use diameter_core::message::decode_avp;
use diameter_core::read::{read_set, ReadAvps};
use diameter_core::types::{AvpType, Grouped};
use diameter_core::{ApplicationId, Avp, AvpSet, Error, ErrorKind, Message, ParseConfig};

mod aca;
pub(crate) mod acr;
mod asr;
mod cca;
pub(crate) mod ccr;
mod groups;
mod in_walk;
mod mscc;
mod rar;
mod units;

pub use aca::{Aca, AcaRepr};
pub use acr::{Acr, AcrRepr};
pub use asr::{Asa, AsaRepr, Asr, AsrRepr};
pub use cca::{Cca, CcaRepr};
pub use ccr::{Ccr, CcrRepr};
pub use groups::{ImsInformation, ImsRepr, SubscriptionId};
pub use mscc::{FinalUnitIndication, FinalUnitIndicationRepr, Mscc, MsccRepr, RedirectServer};
pub use rar::{Raa, RaaRepr, Rar, RarRepr};
pub use units::{CcMoney, CostInformation, ServiceUnit, UnitValue};

/// An iterator over the Grouped AVPs of one definition in a set, each
/// decoded into a typed view `T` (RFC 6733 §4.4).
///
/// This is what the `*[ Grouped-AVP ]` accessors return, e.g.
/// [`Ccr::mscc`] for `*[ Multiple-Services-Credit-Control ]` (RFC 8506
/// §8.16). It walks the message bytes in place: no allocation, no copy. A
/// group whose content does not decode yields its error and iteration goes
/// on with the next AVP; a malformed AVP header (impossible in a validated
/// message) yields its error and ends the iteration.
///
/// ```
/// use diameter_cc::msg::{Groups, Mscc, MsccRepr, ServiceUnit};
/// use diameter_cc::{dict, CreditControl};
/// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder, Message};
///
/// let mut buf = [0u8; 256];
/// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
/// for rg in [10, 20] {
///     b.grouped(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL, |g| {
///         MsccRepr { rating_group: Some(rg), ..MsccRepr::EMPTY }.write(g);
///     });
/// }
/// let bytes = b.finish().unwrap();
/// let msg = Message::parse_with(bytes, &CreditControl).unwrap();
/// let groups = Groups::new(msg.avps(), &dict::MULTIPLE_SERVICES_CREDIT_CONTROL, Mscc::decode);
/// let rgs: Vec<_> = groups.map(|m| m.unwrap().rating_group).collect();
/// assert_eq!(rgs, [Some(10), Some(20)]);
/// ```
#[derive(Clone)]
pub struct Groups<'a, T> {
    iter: AvpIter<'a>,
    code: u32,
    vendor: u32,
    decode: fn(AvpSet<'a>) -> Result<T, Error>,
}

impl<'a, T> Groups<'a, T> {
    /// Iterate over the AVPs of `def` in `set`, decoding each one's content
    /// with `decode` (any `fn(AvpSet) -> Result<T, Error>`, e.g. the
    /// `decode` of this module's group types).
    ///
    /// ```
    /// use diameter_cc::msg::{Groups, SubscriptionId};
    /// use diameter_cc::dict;
    /// use diameter_core::AvpSet;
    /// let none = AvpSet::new(&[], 20);
    /// let mut ids = Groups::new(none, &dict::SUBSCRIPTION_ID, SubscriptionId::decode);
    /// assert!(ids.next().is_none());
    /// ```
    pub fn new(
        set: AvpSet<'a>,
        def: &AvpDef<Grouped>,
        decode: fn(AvpSet<'a>) -> Result<T, Error>,
    ) -> Self {
        Groups {
            iter: set.iter(),
            code: def.code(),
            vendor: def.vendor(),
            decode,
        }
    }
}

impl<T> fmt::Debug for Groups<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Groups")
            .field("code", &self.code)
            .field("vendor", &self.vendor)
            .field("remaining", &self.iter.remaining().len())
            .finish()
    }
}

impl<T> Iterator for Groups<'_, T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        for r in self.iter.by_ref() {
            match r {
                Ok(avp) if avp.is(self.code, self.vendor) => {
                    return Some((self.decode)(avp.group_set()));
                }
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }
}

/// `*[ Multiple-Services-Credit-Control ]` of a CCR or CCA (RFC 8506
/// §8.16), from [`Ccr::mscc`] and [`Cca::mscc`].
///
/// ```
/// use diameter_cc::msg::{Mscc, MsccIter};
/// fn rating_groups(it: MsccIter<'_>) -> impl Iterator<Item = Option<u32>> + '_ {
///     it.filter_map(Result::ok).map(|m: Mscc<'_>| m.rating_group)
/// }
/// ```
pub type MsccIter<'a> = Groups<'a, Mscc<'a>>;
/// `*[ Used-Service-Unit ]` of a CCR or an MSCC (RFC 8506 §8.19), from
/// [`Ccr::used_service_units`] and [`Mscc::used_service_units`].
///
/// ```
/// use diameter_cc::msg::ServiceUnits;
/// fn seconds(it: ServiceUnits<'_>) -> u32 {
///     it.filter_map(Result::ok).filter_map(|u| u.cc_time).sum()
/// }
/// ```
pub type ServiceUnits<'a> = Groups<'a, ServiceUnit>;
/// `*[ Subscription-Id ]` of a CCR (RFC 8506 §8.46), from
/// [`Ccr::subscription_ids`].
///
/// ```
/// use diameter_cc::msg::SubscriptionIds;
/// use diameter_cc::dict::SubscriptionIdType;
/// fn msisdn<'a>(mut it: SubscriptionIds<'a>) -> Option<&'a str> {
///     it.find_map(|s| s.ok().filter(|s| s.id_type == SubscriptionIdType::E164).map(|s| s.data))
/// }
/// ```
pub type SubscriptionIds<'a> = Groups<'a, SubscriptionId<'a>>;

// ---------------------------------------------------------------------------
// Decoding helpers
// ---------------------------------------------------------------------------

/// Check the header against `def` (Command-Code, R bit, optionally the
/// Application-Id), then validate the message against `def`'s grammar with
/// the [`crate::CreditControl`] dictionary.
pub(crate) fn check(
    msg: &Message<'_>,
    def: &CommandDef,
    application: Option<ApplicationId>,
    config: &ParseConfig,
) -> Result<(), Error> {
    // Validated once on the way in (by the peer machine): not again.
    if check_header(msg, def, application)? {
        return Ok(());
    }
    msg.validate_command(def, &crate::CreditControl, config)
}

/// Check `msg`'s header against `def` (see [`check`]), then hand each
/// top-level AVP to `read` in one walk: a message the peer machine
/// validated is only read ([`read_set`]); any other is validated in the
/// same walk ([`Message::validate_command_reading`] with
/// [`crate::CreditControl`]), the content of the groups `read` asks for
/// ([`ReadAvps::group`]) read as it is validated.
#[inline(always)]
pub(crate) fn read_avps<'a, R>(
    msg: &Message<'a>,
    def: &CommandDef,
    application: Option<ApplicationId>,
    config: &ParseConfig,
    read: &mut R,
) -> Result<(), Error>
where
    R: ReadAvps<'a>,
{
    if check_header(msg, def, application)? {
        return read_set(msg.avps(), read);
    }
    msg.validate_command_reading(def, &crate::CreditControl, config, read)
}

/// The header checks of [`check`]; `true` when the message was validated
/// already (by the peer machine), so that only its fields remain to read.
pub(crate) fn check_header(
    msg: &Message<'_>,
    def: &CommandDef,
    application: Option<ApplicationId>,
) -> Result<bool, Error> {
    if msg.command_code() != def.code {
        return Err(Error::new(ErrorKind::CommandUnsupported));
    }
    if msg.is_request() != def.request {
        return Err(Error::new(ErrorKind::InvalidHeaderBits));
    }
    if let Some(app) = application {
        if msg.application_id() != app {
            return Err(Error::new(ErrorKind::ApplicationUnsupported));
        }
    }
    Ok(msg.is_validated())
}

/// Decode `avp` as an AVP of `def`'s type (the caller matched its code).
#[inline(always)]
pub(crate) fn read<'a, T: AvpType>(avp: &Avp<'a>, _def: &AvpDef<T>) -> Result<T::Value<'a>, Error> {
    decode_avp::<T>(avp)
}

/// A required value, or 5005 naming the missing AVP of `def`.
#[inline]
pub(crate) fn required<T, V>(slot: Option<V>, def: &AvpDef<T>) -> Result<V, Error> {
    slot.ok_or_else(|| {
        Error::missing(
            def.info.code,
            def.info.vendor,
            def.info.flags.default_flags().0,
        )
    })
}

/// Read the AVPs of a set in one pass into `Option` slots:
/// `scan!(avp; slot = DEF, ...; group slot = DEF => decode_fn, ...)`.
/// Inside a `for` loop over the AVPs; `continue`s once an AVP is matched.
///
/// The AVP's code is compared with each definition's code alone (a chain
/// of compares of one value with constants, which the compiler turns into
/// one jump), its vendor only once the code matched; so the codes of one
/// `scan!` must differ, which a compile-time assertion checks.
macro_rules! scan {
    ($avp:ident; $($rest:tt)*) => {
        $crate::msg::scan!(@exit continue; $avp; $($rest)*)
    };
    (@exit $exit:expr; $avp:ident; $($slot:ident = $def:expr),* $(,)?; $(group $gslot:ident = $gdef:expr => $f:expr),* $(,)?) => {
        const {
            $crate::msg::assert_distinct(&[$($def.info.code,)* $($gdef.info.code,)*]);
        }
        let code = $avp.code();
        $(
            if code == $def.info.code {
                if $avp.vendor() == $def.info.vendor && $slot.is_none() {
                    let _ = $slot.insert($crate::msg::read(&$avp, &$def)?);
                }
                $exit;
            }
        )*
        $(
            if code == $gdef.info.code {
                if $avp.vendor() == $gdef.info.vendor && $gslot.is_none() {
                    let _ = $gslot.insert(($f)($avp.group_set())?);
                }
                $exit;
            }
        )*
    };
}
pub(crate) use scan;

/// Read the simple (not Grouped) fields of a reader written for the
/// grammar `$grammar`, in either walk, from one list:
/// `fields!(GRAMMAR; avp, walk; slot = DEF, ...)` with `avp: &Avp` and
/// `walk: Option<&mut WalkState>`, each `slot` a `&mut Option<_>`.
/// Evaluates to `Ok(true)` when the AVP is one of the list's (the value of
/// the first copy is kept), and `Ok(false)` otherwise.
///
/// With a walk (the one-pass decode, [`ReadAvps::listed`]) the AVP is also
/// checked as the validator would ([`WalkState::read`]), with its place in
/// `$grammar` computed at compile time: each AVP is dispatched once on its
/// code. Without (a message validated already) it is only decoded. Codes
/// are compared alone, as in [`scan!`], so they must differ.
macro_rules! fields {
    ($grammar:expr; $avp:ident, $walk:ident; $($slot:ident = $def:expr),* $(,)?) => {{
        const {
            $crate::msg::assert_distinct(&[$($def.info.code,)*]);
        }
        let code = $avp.code();
        'found: {
            $(
                if code == $def.info.code {
                    if $avp.vendor() != $def.info.vendor {
                        break 'found Ok(false);
                    }
                    match $walk {
                        Some(ref mut walk) => {
                            const AT: diameter_core::read::Listed =
                                diameter_core::read::Listed::of(&$grammar, &$def);
                            let value = walk.read($avp, &$def, &AT)?;
                            if $slot.is_none() {
                                *$slot = Some(value);
                            }
                        }
                        None => {
                            if $slot.is_none() {
                                *$slot = Some($crate::msg::read($avp, &$def)?);
                            }
                        }
                    }
                    break 'found Ok(true);
                }
            )*
            Ok(false)
        }
    }};
}
pub(crate) use fields;

/// The checks of a reader's listed AVPs ([`ReadAvps::listed`]) without
/// its reads: a validation compiled for the reader's grammar. Groups are
/// left to the validator (no reader of their content), and
/// [`ReadAvps::avp`] reads nothing.
#[cfg(all(feature = "server", not(target_os = "none")))]
pub(crate) struct Checks<R>(pub(crate) R);

#[cfg(all(feature = "server", not(target_os = "none")))]
impl<'a, R: ReadAvps<'a>> ReadAvps<'a> for Checks<R> {
    #[inline(always)]
    fn avp(&mut self, _: &Avp<'a>) -> Result<(), Error> {
        Ok(())
    }

    #[inline(always)]
    fn listed(
        &mut self,
        avp: &Avp<'a>,
        walk: &mut diameter_core::read::WalkState<'_>,
    ) -> Result<bool, Error> {
        self.0.listed(avp, walk)
    }
}

/// [`crate::CreditControl`] without its compiled validators: every
/// command validated by the generic validator, for the tests that hold
/// the two to the same result.
#[cfg(test)]
pub(crate) struct Interpreted;

#[cfg(test)]
impl diameter_core::Dictionary for Interpreted {
    fn avp(&self, code: u32, vendor: u32) -> Option<&'static diameter_core::dict::AvpInfo> {
        diameter_core::Dictionary::avp(&crate::CreditControl, code, vendor)
    }
    fn command(
        &self,
        code: diameter_core::CommandCode,
        request: bool,
    ) -> Option<&'static CommandDef> {
        diameter_core::Dictionary::command(&crate::CreditControl, code, request)
    }
}

/// The checks of a one-pass decode against the generic validator, for
/// `bytes` and every one-byte corruption of it: `agree` is given each
/// message that passes the header check.
#[cfg(test)]
pub(crate) fn every_corruption(bytes: &[u8], mut agree: impl FnMut(&[u8])) {
    agree(bytes);
    let mut copy = [0u8; 1024];
    for at in 20..bytes.len() {
        for flip in [0x01, 0x02, 0x20, 0x40, 0x80, 0xff] {
            let copy = &mut copy[..bytes.len()];
            copy.copy_from_slice(bytes);
            copy[at] ^= flip;
            agree(copy);
        }
    }
}

/// [`crate::CreditControl`]'s validation of `msg` (compiled for its CCR
/// and ACR) gives what the generic validator gives.
#[cfg(test)]
pub(crate) fn assert_compiled_validation(msg: &Message<'_>) {
    use diameter_core::Dictionary;
    let cfg = ParseConfig::DEFAULT;
    let compiled = msg.validate_with_config(&crate::CreditControl, &cfg);
    let generic = msg.validate_with_config(&Interpreted, &cfg);
    assert_eq!(compiled, generic, "{:02x?}", msg.as_bytes());
    if let Some(def) = crate::CreditControl.command(msg.command_code(), msg.is_request()) {
        let generic = msg.validate_command(def, &crate::CreditControl, &cfg);
        assert_eq!(compiled, generic, "{:02x?}", msg.as_bytes());
    }
}

/// The [`ReadAvps`] of a reader whose fields are all read by its
/// `read(avp, walk)` method (made with [`fields!`]): without a walk in
/// [`ReadAvps::avp`], with one in [`ReadAvps::listed`] (hosts only; on bare
/// metal the validator does not ask).
macro_rules! fields_reader {
    ($reader:ident) => {
        impl<'a> diameter_core::read::ReadAvps<'a> for $reader<'a> {
            #[inline(always)]
            fn avp(&mut self, avp: &diameter_core::Avp<'a>) -> Result<(), diameter_core::Error> {
                self.read(avp, None).map(drop)
            }

            #[cfg(not(target_os = "none"))]
            #[inline(always)]
            fn listed(
                &mut self,
                avp: &diameter_core::Avp<'a>,
                walk: &mut diameter_core::read::WalkState<'_>,
            ) -> Result<bool, diameter_core::Error> {
                self.read(avp, Some(walk))
            }
        }
    };
}
pub(crate) use fields_reader;

/// Compile-time check of [`scan!`]: no code twice in one list.
pub(crate) const fn assert_distinct(codes: &[u32]) {
    let mut i = 0;
    while i < codes.len() {
        let mut j = i + 1;
        while j < codes.len() {
            assert!(codes[i] != codes[j], "scan!: an AVP code listed twice");
            j += 1;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dict::{self, base};
    use diameter_core::{CommandCode, HeaderRepr, MessageBuilder, ResultCode};

    #[test]
    fn groups_stop_after_an_error() {
        // An MSCC whose Rating-Group has 3 bytes: decoding fails (5014),
        // then the iterator ends.
        let mut buf = [0u8; 128];
        let mut b = MessageBuilder::new(
            &mut buf,
            HeaderRepr::request(
                CommandCode::CREDIT_CONTROL,
                ApplicationId::CREDIT_CONTROL,
                1,
                1,
            ),
        );
        b.grouped(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL, |g| {
            g.put_raw(432, None, diameter_core::AvpFlags::MANDATORY, &[0, 0, 1]);
        });
        b.grouped(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL, |g| {
            g.put(&dict::RATING_GROUP, 1);
        });
        let bytes = b.finish().unwrap();
        let m = Message::parse(bytes).unwrap();
        let mut it = Groups::new(
            m.avps(),
            &dict::MULTIPLE_SERVICES_CREDIT_CONTROL,
            Mscc::decode,
        );
        let e = it.next().unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidAvpLength);
        assert_eq!(e.avp().unwrap().code, 432);
        // The second MSCC is fine: a bad value ends only that group.
        assert_eq!(it.next().unwrap().unwrap().rating_group, Some(1));
        assert!(it.next().is_none());
    }

    #[test]
    fn wrong_command_or_direction() {
        let mut buf = [0u8; 128];
        let hdr = HeaderRepr::request(CommandCode::DEVICE_WATCHDOG, ApplicationId::COMMON, 1, 1);
        let mut b = MessageBuilder::new(&mut buf, hdr);
        b.put(&base::ORIGIN_HOST, "a.example");
        let bytes = b.finish().unwrap();
        let m = Message::parse(bytes).unwrap();
        assert_eq!(
            Ccr::decode(&m).unwrap_err().kind(),
            ErrorKind::CommandUnsupported
        );
        assert_eq!(
            Acr::decode(&m).unwrap_err().kind(),
            ErrorKind::CommandUnsupported
        );
    }

    use crate::dict::base::{AccountingRecordType, TerminationCause};
    use crate::dict::sip::{ServiceType, SipMethod};
    use crate::dict::tgpp::{NodeFunctionality, ReportingReason, RoleOfNode};
    use crate::dict::{
        CcRequestType, CcSessionFailover, CheckBalanceResult, CreditControlFailureHandling,
        DirectDebitingFailureHandling, FinalUnitAction, MultipleServicesIndicator,
        RedirectAddressType, RequestedAction,
    };
    use diameter_core::dict::{CommandDef, Grammar};
    use diameter_core::types::Timestamp;

    /// AVPs of `set` appear in the order of `grammar`'s rules; AVPs the
    /// grammar does not list (its `*[ AVP ]`) come after all listed ones.
    /// Recurses into the groups `dict` knows.
    fn assert_grammar_order(set: AvpSet<'_>, grammar: &Grammar, what: &str) {
        let mut last = 0usize;
        for avp in set.iter() {
            let avp = avp.unwrap();
            let pos = grammar
                .rules
                .iter()
                .position(|r| r.code == avp.code() && r.vendor == avp.vendor())
                .unwrap_or(usize::MAX);
            assert!(
                pos >= last,
                "{what}: AVP {}/{} out of grammar order",
                avp.code(),
                avp.vendor()
            );
            last = pos;
            use diameter_core::dict::Dictionary;
            if let Some(info) = crate::CreditControl.avp(avp.code(), avp.vendor()) {
                if !info.grammar.rules.is_empty() {
                    assert_grammar_order(avp.group_set(), &info.grammar, info.name);
                }
            }
        }
    }

    fn check_order(bytes: &[u8], def: &CommandDef) {
        let m = Message::parse_with(bytes, &crate::CreditControl).unwrap();
        m.validate(&crate::CreditControl).unwrap();
        assert_grammar_order(m.avps(), &def.grammar, def.abbrev);
    }

    /// Every unit type of RFC 8506 §8.18.
    const RSU: ServiceUnit = ServiceUnit {
        reporting_reason: None,
        tariff_time_change: None,
        tariff_change_usage: None,
        cc_time: Some(1),
        cc_money: Some(CcMoney {
            unit_value: UnitValue {
                value_digits: 1,
                exponent: Some(1),
            },
            currency_code: Some(1),
        }),
        cc_total_octets: Some(1),
        cc_input_octets: Some(1),
        cc_output_octets: Some(1),
        cc_service_specific_units: Some(1),
    };
    /// §8.17 adds Tariff-Time-Change.
    const GSU: ServiceUnit = ServiceUnit {
        tariff_time_change: Some(Timestamp(1)),
        ..RSU
    };
    /// §8.19 adds Tariff-Change-Usage (TS 32.299's Reporting-Reason, not in
    /// the RFC grammar, is left out here).
    const USU: ServiceUnit = ServiceUnit {
        tariff_change_usage: Some(crate::dict::TariffChangeUsage::Indeterminate),
        ..RSU
    };

    const FUI: FinalUnitIndicationRepr<'static> = FinalUnitIndicationRepr {
        final_unit_action: FinalUnitAction::Redirect,
        restriction_filter_rules: &["permit out ip from any to 10.0.0.1"],
        filter_ids: &["f"],
        redirect_server: Some(RedirectServer {
            address_type: RedirectAddressType::Url,
            address: "http://top.up",
        }),
    };

    const MSCC: [MsccRepr<'static>; 1] = [MsccRepr {
        granted_service_unit: Some(GSU),
        requested_service_unit: Some(RSU),
        used_service_units: &[USU, USU],
        service_identifiers: &[1, 2],
        rating_group: Some(1),
        validity_time: Some(1),
        result_code: Some(ResultCode::SUCCESS),
        final_unit_indication: Some(FUI),
        time_quota_threshold: Some(1),
        volume_quota_threshold: Some(1),
        unit_quota_threshold: Some(1),
        quota_holding_time: Some(1),
        quota_consumption_time: Some(1),
        reporting_reason: Some(ReportingReason::Final),
    }];

    /// Every repr, with every field set, writes its AVPs in grammar order
    /// (RFC 8506 §3.1, §3.2, §8; RFC 6733 §8.3, §8.5, §9.7).
    #[test]
    fn every_repr_writes_in_grammar_order() {
        let mut buf = [0u8; 4096];
        let ccr = CcrRepr {
            destination_host: Some("ocs"),
            user_name: Some("u"),
            origin_state_id: Some(1),
            event_timestamp: Some(Timestamp(1)),
            subscription_ids: &[SubscriptionId::e164("1"), SubscriptionId::e164("2")],
            service_identifier: Some(1),
            termination_cause: Some(TerminationCause::Logout),
            requested_service_unit: Some(RSU),
            requested_action: Some(RequestedAction::CheckBalance),
            used_service_units: &[USU],
            multiple_services_indicator: Some(MultipleServicesIndicator::Supported),
            mscc: &MSCC,
            ims: Some(ImsRepr {
                role_of_node: Some(RoleOfNode::Forwarding),
                node_functionality: NodeFunctionality::PCscf,
                calling_party_address: Some("a"),
                called_party_address: Some("b"),
            }),
            ..CcrRepr::new("s", "h", "r", "r", "c@x", CcRequestType::Update, 1)
        };
        check_order(
            ccr.encode(CcrRepr::header(1, 1), &mut buf).unwrap(),
            &dict::CCR,
        );
        let cca = CcaRepr {
            user_name: Some("u"),
            cc_session_failover: Some(CcSessionFailover::NotSupported),
            origin_state_id: Some(1),
            event_timestamp: Some(Timestamp(1)),
            granted_service_unit: Some(GSU),
            mscc: &MSCC,
            cost_information: Some(CostInformation {
                unit_value: UnitValue {
                    value_digits: 1,
                    exponent: Some(-1),
                },
                currency_code: 1,
                cost_unit: Some("min"),
            }),
            final_unit_indication: Some(FUI),
            check_balance_result: Some(CheckBalanceResult::NoCredit),
            credit_control_failure_handling: Some(CreditControlFailureHandling::Continue),
            direct_debiting_failure_handling: Some(DirectDebitingFailureHandling::Continue),
            validity_time: Some(1),
            ..CcaRepr::new("s", ResultCode::SUCCESS, "h", "r", CcRequestType::Update, 1)
        };
        check_order(
            cca.encode(CcaRepr::header(1, 1), &mut buf).unwrap(),
            &dict::CCA,
        );
        let acr = AcrRepr {
            acct_application_id: Some(3),
            user_name: Some("u"),
            destination_host: Some("d"),
            acct_session_id: Some(b"x"),
            acct_interim_interval: Some(1),
            origin_state_id: Some(1),
            event_timestamp: Some(Timestamp(1)),
            service_type: Some(ServiceType::SipSession),
            sip_method: Some(SipMethod::Invite),
            sip_response_code: Some(200),
            sip_from_tag: Some("f"),
            sip_to_tag: Some("t"),
            sip_call_duration: Some(1),
            sip_call_setuptime: Some(1),
            sip_call_created: Some(1),
            sip_call_ms_duration: Some(1),
            ..AcrRepr::new("s", "h", "r", "r", AccountingRecordType::StopRecord, 3)
        };
        check_order(
            acr.encode(AcrRepr::header(1, 1), &mut buf).unwrap(),
            &base::ACR,
        );
        let aca = AcaRepr {
            acct_application_id: Some(3),
            acct_interim_interval: Some(1),
            ..AcaRepr::new(
                "s",
                ResultCode::SUCCESS,
                "h",
                "r",
                AccountingRecordType::StopRecord,
                3,
            )
        };
        check_order(
            aca.encode(AcaRepr::header(1, 1), &mut buf).unwrap(),
            &base::ACA,
        );
        let rar = RarRepr {
            user_name: Some("u"),
            origin_state_id: Some(1),
            cc_sub_session_id: Some(1),
            g_s_u_pool_identifier: Some(1),
            service_identifier: Some(1),
            rating_group: Some(1),
            ..RarRepr::new("s", "h", "r", "r", "c")
        };
        check_order(
            rar.encode(RarRepr::header(1, 1), &mut buf).unwrap(),
            &base::RAR,
        );
        let raa = RaaRepr {
            user_name: Some("u"),
            origin_state_id: Some(1),
            ..RaaRepr::new("s", ResultCode::SUCCESS, "h", "r")
        };
        check_order(
            raa.encode(RaaRepr::header(1, 1), &mut buf).unwrap(),
            &base::RAA,
        );
        let asr = AsrRepr {
            user_name: Some("u"),
            origin_state_id: Some(1),
            ..AsrRepr::new("s", "h", "r", "r", "c")
        };
        check_order(
            asr.encode(AsrRepr::header(1, 1), &mut buf).unwrap(),
            &base::ASR,
        );
        let asa = AsaRepr {
            user_name: Some("u"),
            origin_state_id: Some(1),
            ..AsaRepr::new("s", ResultCode::SUCCESS, "h", "r")
        };
        check_order(
            asa.encode(AsaRepr::header(1, 1), &mut buf).unwrap(),
            &base::ASA,
        );
    }

    /// `encode_answer_to` takes the Session-Id from the request and falls
    /// back to the repr's when the request has none.
    #[test]
    fn answers_take_the_request_session_id() {
        let mut req = [0u8; 128];
        let mut b = MessageBuilder::new(&mut req, RarRepr::header(1, 2));
        b.put(&base::ORIGIN_HOST, "ocs");
        let no_sid = Message::parse(b.finish().unwrap()).unwrap();
        let mut buf = [0u8; 256];
        let a = RaaRepr::new("mine", ResultCode::SUCCESS, "c", "r");
        let ans = Message::parse(a.encode_answer_to(&no_sid, &mut buf).unwrap()).unwrap();
        assert_eq!(ans.session_id(), Some("mine"));
        assert_eq!(ans.iter().next().unwrap().unwrap().code(), 263);

        let mut req = [0u8; 256];
        let with_sid = RarRepr::new("theirs", "ocs", "r", "r", "c")
            .encode(RarRepr::header(1, 2), &mut req)
            .unwrap();
        let with_sid = Message::parse(with_sid).unwrap();
        let ans = Message::parse(a.encode_answer_to(&with_sid, &mut buf).unwrap()).unwrap();
        assert_eq!(ans.session_id(), Some("theirs"));
        assert_eq!(ans.get_all(&base::SESSION_ID).count(), 1);
        let raa = Raa::decode(&ans).unwrap();
        assert_eq!(raa.session_id, "theirs");
    }

    /// A too-small buffer is an error with the size needed, for every repr.
    #[test]
    fn small_buffers_report_the_size_needed() {
        let r = CcrRepr {
            mscc: &MSCC,
            ..CcrRepr::new("s", "h", "r", "r", "c@x", CcRequestType::Update, 1)
        };
        let mut big = [0u8; 2048];
        let n = r.encode(CcrRepr::header(1, 1), &mut big).unwrap().len();
        for size in [0, 19, 20, 100, n - 1] {
            let mut small = [0u8; 2048];
            assert_eq!(
                r.encode(CcrRepr::header(1, 1), &mut small[..size]),
                Err(diameter_core::EncodeError::BufferTooSmall { needed: n })
            );
        }
    }
}
