//! Service units and money: the content of Requested-, Granted- and
//! Used-Service-Unit (RFC 8506 §8.17–§8.19), CC-Money (§8.22), Unit-Value
//! (§8.8) and Cost-Information (§8.7).

use diameter_core::types::Timestamp;
use diameter_core::{AvpSet, Error, MessageBuilder};

use diameter_core::read::{ReadAvps, WalkState};
use diameter_core::Avp;

use super::in_walk::{decode_group, GroupReader};
use super::{fields, required, scan};
use crate::dict::tgpp::{self, ReportingReason};
use crate::dict::{self, TariffChangeUsage};

/// The content of a Requested-Service-Unit (RFC 8506 §8.18),
/// Granted-Service-Unit (§8.17) or Used-Service-Unit (§8.19): the amounts
/// of each unit type, all optional.
///
/// One `Copy` type serves the three AVPs; the fields that belong to only one
/// of them say so. It is decoded from a group's AVPs with
/// [`ServiceUnit::decode`] and written (inside whichever Grouped AVP the
/// caller opens) with [`ServiceUnit::write`], in the order of the §8.17–§8.19
/// grammars (3GPP TS 32.299 §7.2 puts Reporting-Reason first in
/// Used-Service-Unit).
///
/// ```
/// use diameter_cc::msg::ServiceUnit;
/// let rsu = ServiceUnit::time(300);
/// assert_eq!(rsu.cc_time, Some(300));
/// let usu = ServiceUnit { cc_total_octets: Some(1500), ..ServiceUnit::time(60) };
/// assert_eq!((usu.cc_time, usu.cc_input_octets), (Some(60), None));
/// assert_eq!(ServiceUnit::default(), ServiceUnit::EMPTY);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ServiceUnit {
    /// Reporting-Reason (872/10415, 3GPP TS 32.299 §7.2), in a
    /// Used-Service-Unit only: why this quota type is reported.
    pub reporting_reason: Option<ReportingReason>,
    /// Tariff-Time-Change (451, RFC 8506 §8.20), in a Granted-Service-Unit
    /// only: when the tariff changes.
    pub tariff_time_change: Option<Timestamp>,
    /// Tariff-Change-Usage (452, RFC 8506 §8.27), in a Used-Service-Unit
    /// only: whether the units were used before or after the tariff change.
    pub tariff_change_usage: Option<TariffChangeUsage>,
    /// CC-Time (420, RFC 8506 §8.21): seconds.
    pub cc_time: Option<u32>,
    /// CC-Money (413, RFC 8506 §8.22).
    pub cc_money: Option<CcMoney>,
    /// CC-Total-Octets (421, RFC 8506 §8.23).
    pub cc_total_octets: Option<u64>,
    /// CC-Input-Octets (412, RFC 8506 §8.24): received from the end user.
    pub cc_input_octets: Option<u64>,
    /// CC-Output-Octets (414, RFC 8506 §8.25): sent to the end user.
    pub cc_output_octets: Option<u64>,
    /// CC-Service-Specific-Units (417, RFC 8506 §8.26).
    pub cc_service_specific_units: Option<u64>,
}

impl ServiceUnit {
    /// No unit at all (an empty group, which the grammars allow).
    pub const EMPTY: ServiceUnit = ServiceUnit {
        reporting_reason: None,
        tariff_time_change: None,
        tariff_change_usage: None,
        cc_time: None,
        cc_money: None,
        cc_total_octets: None,
        cc_input_octets: None,
        cc_output_octets: None,
        cc_service_specific_units: None,
    };

    /// Only CC-Time (RFC 8506 §8.21), in seconds: what a SIP call asks for,
    /// is granted and reports.
    ///
    /// ```
    /// use diameter_cc::msg::ServiceUnit;
    /// assert_eq!(ServiceUnit::time(10800).cc_time, Some(10800));
    /// ```
    pub const fn time(seconds: u32) -> Self {
        let mut u = Self::EMPTY;
        u.cc_time = Some(seconds);
        u
    }

    /// Only CC-Total-Octets (RFC 8506 §8.23).
    ///
    /// ```
    /// use diameter_cc::msg::ServiceUnit;
    /// assert_eq!(ServiceUnit::total_octets(1 << 20).cc_total_octets, Some(1 << 20));
    /// ```
    pub const fn total_octets(octets: u64) -> Self {
        let mut u = Self::EMPTY;
        u.cc_total_octets = Some(octets);
        u
    }

    /// Decode the AVPs of a Requested-, Granted- or Used-Service-Unit (RFC
    /// 8506 §8.17–§8.19). Unknown AVPs inside (the `*[ AVP ]` of the
    /// grammars) are skipped; read them from the group's [`AvpSet`].
    ///
    /// ```
    /// use diameter_cc::msg::{Ccr, ServiceUnit};
    /// use diameter_cc::{dict, CreditControl};
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder, Message};
    /// let mut buf = [0u8; 128];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// b.grouped(&dict::USED_SERVICE_UNIT, |g| { g.put(&dict::CC_TIME, 42); });
    /// let bytes = b.finish().unwrap();
    /// let m = Message::parse_with(bytes, &CreditControl).unwrap();
    /// let set = m.require(&dict::USED_SERVICE_UNIT).unwrap();
    /// assert_eq!(ServiceUnit::decode(set).unwrap(), ServiceUnit::time(42));
    /// ```
    pub fn decode(set: AvpSet<'_>) -> Result<ServiceUnit, Error> {
        decode_group(set, ServiceUnitReader(ServiceUnit::EMPTY))
    }

    /// Append the AVPs of this unit (not the enclosing Grouped AVP) in
    /// grammar order.
    ///
    /// ```
    /// use diameter_cc::msg::ServiceUnit;
    /// use diameter_cc::dict;
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder};
    /// let mut buf = [0u8; 128];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// b.grouped(&dict::REQUESTED_SERVICE_UNIT, |g| ServiceUnit::time(300).write(g));
    /// assert_eq!(b.finish().unwrap().len(), 20 + 8 + 12);
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        if let Some(v) = self.reporting_reason {
            b.put(&tgpp::REPORTING_REASON, v);
        }
        if let Some(v) = self.tariff_time_change {
            b.put(&dict::TARIFF_TIME_CHANGE, v);
        }
        if let Some(v) = self.tariff_change_usage {
            b.put(&dict::TARIFF_CHANGE_USAGE, v);
        }
        if let Some(v) = self.cc_time {
            b.put(&dict::CC_TIME, v);
        }
        if let Some(v) = self.cc_money {
            b.grouped(&dict::CC_MONEY, |g| v.write(g));
        }
        if let Some(v) = self.cc_total_octets {
            b.put(&dict::CC_TOTAL_OCTETS, v);
        }
        if let Some(v) = self.cc_input_octets {
            b.put(&dict::CC_INPUT_OCTETS, v);
        }
        if let Some(v) = self.cc_output_octets {
            b.put(&dict::CC_OUTPUT_OCTETS, v);
        }
        if let Some(v) = self.cc_service_specific_units {
            b.put(&dict::CC_SERVICE_SPECIFIC_UNITS, v);
        }
    }
}

/// A Unit-Value (RFC 8506 §8.8): `Value-Digits × 10^Exponent`.
///
/// ```
/// use diameter_cc::msg::UnitValue;
/// // 2.50 = 250 × 10^-2
/// let v = UnitValue { value_digits: 250, exponent: Some(-2) };
/// assert_eq!(v.exponent(), -2);
/// assert_eq!(UnitValue { value_digits: 7, exponent: None }.exponent(), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UnitValue {
    /// Value-Digits (447, RFC 8506 §8.10): the significant digits.
    pub value_digits: i64,
    /// Exponent (429, RFC 8506 §8.9): the power of ten; absent means 0.
    pub exponent: Option<i32>,
}

impl UnitValue {
    /// The exponent, 0 when absent (RFC 8506 §8.9).
    pub const fn exponent(&self) -> i32 {
        match self.exponent {
            Some(e) => e,
            None => 0,
        }
    }

    /// Decode the AVPs of a Unit-Value (RFC 8506 §8.8); Value-Digits is
    /// required (5005).
    ///
    /// ```
    /// use diameter_cc::msg::UnitValue;
    /// use diameter_core::AvpSet;
    /// // an empty group: Value-Digits is missing
    /// let e = UnitValue::decode(AvpSet::new(&[], 0)).unwrap_err();
    /// assert_eq!(e.avp().unwrap().code, 447);
    /// ```
    pub fn decode(set: AvpSet<'_>) -> Result<UnitValue, Error> {
        let mut value_digits = None;
        let mut exponent = None;
        for avp in set.iter() {
            let avp = avp?;
            scan!(avp; value_digits = dict::VALUE_DIGITS, exponent = dict::EXPONENT; );
        }
        Ok(UnitValue {
            value_digits: required(value_digits, &dict::VALUE_DIGITS)?,
            exponent,
        })
    }

    /// Append Value-Digits and Exponent (the content of a Unit-Value).
    ///
    /// ```
    /// use diameter_cc::msg::UnitValue;
    /// use diameter_cc::dict;
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder};
    /// let mut buf = [0u8; 64];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// let v = UnitValue { value_digits: 250, exponent: Some(-2) };
    /// b.grouped(&dict::UNIT_VALUE, |g| v.write(g));
    /// assert_eq!(b.finish().unwrap().len(), 20 + 8 + 16 + 12);
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        b.put(&dict::VALUE_DIGITS, self.value_digits);
        if let Some(e) = self.exponent {
            b.put(&dict::EXPONENT, e);
        }
    }
}

/// CC-Money (413, RFC 8506 §8.22): an amount and its ISO 4217 currency.
///
/// ```
/// use diameter_cc::msg::{CcMoney, ServiceUnit, UnitValue};
/// let gsu = ServiceUnit {
///     cc_money: Some(CcMoney {
///         unit_value: UnitValue { value_digits: 500, exponent: Some(-2) },
///         currency_code: Some(978), // EUR
///     }),
///     ..ServiceUnit::EMPTY
/// };
/// assert_eq!(gsu.cc_money.unwrap().unit_value.value_digits, 500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CcMoney {
    /// Unit-Value (445, RFC 8506 §8.8).
    pub unit_value: UnitValue,
    /// Currency-Code (425, RFC 8506 §8.11): ISO 4217 numeric code.
    pub currency_code: Option<u32>,
}

impl CcMoney {
    /// Decode the AVPs of a CC-Money (RFC 8506 §8.22); Unit-Value is
    /// required (5005).
    ///
    /// ```
    /// use diameter_cc::msg::CcMoney;
    /// use diameter_core::AvpSet;
    /// let e = CcMoney::decode(AvpSet::new(&[], 0)).unwrap_err();
    /// assert_eq!(e.avp().unwrap().code, 445);
    /// ```
    pub fn decode(set: AvpSet<'_>) -> Result<CcMoney, Error> {
        let mut unit_value = None;
        let mut currency_code = None;
        for avp in set.iter() {
            let avp = avp?;
            scan!(avp; currency_code = dict::CURRENCY_CODE;
                group unit_value = dict::UNIT_VALUE => UnitValue::decode);
        }
        Ok(CcMoney {
            unit_value: required(unit_value, &dict::UNIT_VALUE)?,
            currency_code,
        })
    }

    /// Append Unit-Value and Currency-Code (the content of a CC-Money).
    ///
    /// ```
    /// use diameter_cc::msg::{CcMoney, UnitValue};
    /// use diameter_cc::dict;
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder};
    /// let mut buf = [0u8; 128];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// let m = CcMoney { unit_value: UnitValue { value_digits: 1, exponent: None }, currency_code: Some(978) };
    /// b.grouped(&dict::CC_MONEY, |g| m.write(g));
    /// assert!(b.finish().is_ok());
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        let uv = self.unit_value;
        b.grouped(&dict::UNIT_VALUE, |g| uv.write(g));
        if let Some(c) = self.currency_code {
            b.put(&dict::CURRENCY_CODE, c);
        }
    }
}

/// Cost-Information (423, RFC 8506 §8.7): the cost of the service, sent in
/// a CCA when the request asked for it (§5.3, PRICE_ENQUIRY §6.4).
///
/// ```
/// use diameter_cc::msg::{CostInformation, UnitValue};
/// let c = CostInformation {
///     unit_value: UnitValue { value_digits: 15, exponent: Some(-2) },
///     currency_code: 978,
///     cost_unit: Some("minute"),
/// };
/// assert_eq!(c.cost_unit, Some("minute"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CostInformation<'a> {
    /// Unit-Value (445, RFC 8506 §8.8).
    pub unit_value: UnitValue,
    /// Currency-Code (425, RFC 8506 §8.11).
    pub currency_code: u32,
    /// Cost-Unit (424, RFC 8506 §8.12): what the cost applies to, for
    /// people ("minute", "MB").
    pub cost_unit: Option<&'a str>,
}

impl<'a> CostInformation<'a> {
    /// Decode the AVPs of a Cost-Information (RFC 8506 §8.7); Unit-Value and
    /// Currency-Code are required (5005).
    ///
    /// ```
    /// use diameter_cc::msg::CostInformation;
    /// use diameter_core::AvpSet;
    /// assert!(CostInformation::decode(AvpSet::new(&[], 0)).is_err());
    /// ```
    pub fn decode(set: AvpSet<'a>) -> Result<CostInformation<'a>, Error> {
        let mut unit_value = None;
        let mut currency_code = None;
        let mut cost_unit = None;
        for avp in set.iter() {
            let avp = avp?;
            scan!(avp; currency_code = dict::CURRENCY_CODE, cost_unit = dict::COST_UNIT;
                group unit_value = dict::UNIT_VALUE => UnitValue::decode);
        }
        Ok(CostInformation {
            unit_value: required(unit_value, &dict::UNIT_VALUE)?,
            currency_code: required(currency_code, &dict::CURRENCY_CODE)?,
            cost_unit,
        })
    }

    /// Append Unit-Value, Currency-Code and Cost-Unit (the content of a
    /// Cost-Information).
    ///
    /// ```
    /// use diameter_cc::msg::{CostInformation, UnitValue};
    /// use diameter_cc::dict;
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder};
    /// let mut buf = [0u8; 128];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// let c = CostInformation {
    ///     unit_value: UnitValue { value_digits: 15, exponent: Some(-2) },
    ///     currency_code: 978,
    ///     cost_unit: None,
    /// };
    /// b.grouped(&dict::COST_INFORMATION, |g| c.write(g));
    /// assert!(b.finish().is_ok());
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        let uv = self.unit_value;
        b.grouped(&dict::UNIT_VALUE, |g| uv.write(g));
        b.put(&dict::CURRENCY_CODE, self.currency_code);
        if let Some(u) = self.cost_unit {
            b.put(&dict::COST_UNIT, u);
        }
    }
}

/// The reader of a Requested-, Granted- or Used-Service-Unit's content
/// (see [`GroupReader`]): the first of each AVP is kept. In a validation
/// walk it is given for a Requested-Service-Unit only (the CCR's): the
/// places of its AVPs are those of that grammar ([`ReadAvps::listed`]).
pub(crate) struct ServiceUnitReader(pub(crate) ServiceUnit);

impl ServiceUnitReader {
    /// Read one AVP of a simple field, checked in `walk` when given (see
    /// [`fields!`]).
    #[inline(always)]
    fn read(&mut self, avp: &Avp<'_>, mut walk: Option<&mut WalkState<'_>>) -> Result<bool, Error> {
        let ServiceUnit {
            reporting_reason,
            tariff_time_change,
            tariff_change_usage,
            cc_time,
            cc_total_octets,
            cc_input_octets,
            cc_output_octets,
            cc_service_specific_units,
            ..
        } = &mut self.0;
        fields!(dict::REQUESTED_SERVICE_UNIT.info.grammar; avp, walk;
            cc_time = dict::CC_TIME,
            cc_total_octets = dict::CC_TOTAL_OCTETS,
            cc_input_octets = dict::CC_INPUT_OCTETS,
            cc_output_octets = dict::CC_OUTPUT_OCTETS,
            cc_service_specific_units = dict::CC_SERVICE_SPECIFIC_UNITS,
            tariff_time_change = dict::TARIFF_TIME_CHANGE,
            tariff_change_usage = dict::TARIFF_CHANGE_USAGE,
            reporting_reason = tgpp::REPORTING_REASON,
        )
    }
}

impl<'a> ReadAvps<'a> for ServiceUnitReader {
    #[inline(always)]
    fn avp(&mut self, avp: &Avp<'a>) -> Result<(), Error> {
        if self.read(avp, None)? {
            return Ok(());
        }
        let cc_money = &mut self.0.cc_money;
        scan!(@exit return Ok(()); avp;; group cc_money = dict::CC_MONEY => CcMoney::decode);
        Ok(())
    }

    // Not asked on bare metal (flash): see `ReadAvps::listed`.
    #[cfg(not(target_os = "none"))]
    #[inline(always)]
    fn listed(&mut self, avp: &Avp<'a>, walk: &mut WalkState<'_>) -> Result<bool, Error> {
        self.read(avp, Some(walk))
    }
}

impl<'a> GroupReader<'a> for ServiceUnitReader {
    type Value = ServiceUnit;

    fn finish(&mut self, _: AvpSet<'a>) -> Result<ServiceUnit, Error> {
        Ok(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CreditControl;
    use diameter_core::{ApplicationId, CommandCode, HeaderRepr, Message};

    #[test]
    fn every_field_round_trips() {
        let su = ServiceUnit {
            reporting_reason: Some(ReportingReason::QuotaExhausted),
            tariff_time_change: Some(Timestamp(3_913_056_000)),
            tariff_change_usage: Some(TariffChangeUsage::AfterTariffChange),
            cc_time: Some(1),
            cc_money: Some(CcMoney {
                unit_value: UnitValue {
                    value_digits: -5,
                    exponent: Some(3),
                },
                currency_code: Some(840),
            }),
            cc_total_octets: Some(u64::MAX),
            cc_input_octets: Some(2),
            cc_output_octets: Some(3),
            cc_service_specific_units: Some(4),
        };
        let mut buf = [0u8; 512];
        let mut b = MessageBuilder::new(
            &mut buf,
            HeaderRepr::request(
                CommandCode::CREDIT_CONTROL,
                ApplicationId::CREDIT_CONTROL,
                1,
                1,
            ),
        );
        b.grouped(&dict::USED_SERVICE_UNIT, |g| su.write(g));
        let bytes = b.finish().unwrap();
        let m = Message::parse_with(bytes, &CreditControl).unwrap();
        let set = m.require(&dict::USED_SERVICE_UNIT).unwrap();
        assert_eq!(ServiceUnit::decode(set).unwrap(), su);
        assert_eq!(
            ServiceUnit::decode(AvpSet::new(&[], 0)).unwrap(),
            ServiceUnit::EMPTY
        );
    }
}
