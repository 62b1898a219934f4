//! Multiple-Services-Credit-Control (RFC 8506 §8.16) with the 3GPP quota
//! AVPs of TS 32.299 §7.2, and Final-Unit-Indication (§8.34) with its
//! Redirect-Server (§8.37).

use diameter_core::message::GetAll;
use diameter_core::types::{IpFilterRule, Unsigned32, Utf8String};
use diameter_core::{AvpSet, Error, MessageBuilder, ResultCode};

use super::{required, scan, Groups, ServiceUnit, ServiceUnits};
use crate::dict::base;
use crate::dict::tgpp::{self, ReportingReason};
use crate::dict::{self, FinalUnitAction, RedirectAddressType};

/// One Multiple-Services-Credit-Control (456, RFC 8506 §8.16) as decoded:
/// the quota of one service or rating group, borrowed from the message.
///
/// Single-valued AVPs are fields; the repeated `*[ Used-Service-Unit ]`
/// and `*[ Service-Identifier ]` are iterators over the group
/// ([`Mscc::used_service_units`], [`Mscc::service_identifiers`]); the
/// group's AVPs stay in [`Mscc::avps`] for anything else (3GPP Trigger,
/// Envelope, ...). Obtained from [`Ccr::mscc`](super::Ccr::mscc) and
/// [`Cca::mscc`](super::Cca::mscc).
///
/// ```
/// use diameter_cc::msg::{Mscc, MsccRepr, ServiceUnit};
/// use diameter_cc::{dict, CreditControl};
/// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder, Message, ResultCode};
///
/// let repr = MsccRepr {
///     granted_service_unit: Some(ServiceUnit::time(300)),
///     rating_group: Some(1),
///     validity_time: Some(3600),
///     result_code: Some(ResultCode::SUCCESS),
///     ..MsccRepr::EMPTY
/// };
/// let mut buf = [0u8; 128];
/// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
/// b.grouped(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL, |g| repr.write(g));
/// let bytes = b.finish().unwrap();
/// let m = Message::parse_with(bytes, &CreditControl).unwrap();
/// let mscc = Mscc::decode(m.require(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL).unwrap()).unwrap();
/// assert_eq!(mscc.granted_service_unit.unwrap().cc_time, Some(300));
/// assert_eq!((mscc.rating_group, mscc.validity_time), (Some(1), Some(3600)));
/// assert_eq!(mscc.result_code, Some(ResultCode::SUCCESS));
/// assert_eq!(mscc.used_service_units().count(), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Mscc<'a> {
    /// Granted-Service-Unit (431, RFC 8506 §8.17), in answers.
    pub granted_service_unit: Option<ServiceUnit>,
    /// Requested-Service-Unit (437, RFC 8506 §8.18), in requests.
    pub requested_service_unit: Option<ServiceUnit>,
    /// Rating-Group (432, RFC 8506 §8.29).
    pub rating_group: Option<u32>,
    /// Validity-Time (448, RFC 8506 §8.33): seconds the grant stays valid.
    pub validity_time: Option<u32>,
    /// Result-Code (268) of this service's quota, in answers (RFC 8506
    /// §8.16, e.g. 4012 CREDIT_LIMIT_REACHED for one rating group only).
    pub result_code: Option<ResultCode>,
    /// Final-Unit-Indication (430, RFC 8506 §8.34): the grant is the last.
    pub final_unit_indication: Option<FinalUnitIndication<'a>>,
    /// Time-Quota-Threshold (868/10415, TS 32.299 §7.2): re-authorize when
    /// this many seconds are left.
    pub time_quota_threshold: Option<u32>,
    /// Volume-Quota-Threshold (869/10415, TS 32.299 §7.2): octets left.
    pub volume_quota_threshold: Option<u32>,
    /// Unit-Quota-Threshold (1226/10415, TS 32.299 §7.2): units left.
    pub unit_quota_threshold: Option<u32>,
    /// Quota-Holding-Time (871/10415, TS 32.299 §7.2): seconds of idleness
    /// after which the quota is reported and released.
    pub quota_holding_time: Option<u32>,
    /// Quota-Consumption-Time (881/10415, TS 32.299 §7.2).
    pub quota_consumption_time: Option<u32>,
    /// The first Reporting-Reason (872/10415, TS 32.299 §7.2), in requests:
    /// why all quota types of this group are reported.
    pub reporting_reason: Option<ReportingReason>,
    /// The group's AVPs.
    pub avps: AvpSet<'a>,
}

impl<'a> Mscc<'a> {
    /// Decode the AVPs of a Multiple-Services-Credit-Control (RFC 8506
    /// §8.16). Nothing in it is required; a value that does not decode is
    /// an error pointing at its AVP.
    ///
    /// ```
    /// use diameter_cc::msg::Mscc;
    /// use diameter_core::AvpSet;
    /// let m = Mscc::decode(AvpSet::new(&[], 0)).unwrap();
    /// assert_eq!(m.rating_group, None);
    /// ```
    pub fn decode(set: AvpSet<'a>) -> Result<Mscc<'a>, Error> {
        let mut granted_service_unit = None;
        let mut requested_service_unit = None;
        let mut rating_group = None;
        let mut validity_time = None;
        let mut result_code = None;
        let mut final_unit_indication = None;
        let mut time_quota_threshold = None;
        let mut volume_quota_threshold = None;
        let mut unit_quota_threshold = None;
        let mut quota_holding_time = None;
        let mut quota_consumption_time = None;
        let mut reporting_reason = None;
        for avp in set.iter() {
            let avp = avp?;
            scan!(avp;
                rating_group = dict::RATING_GROUP,
                validity_time = dict::VALIDITY_TIME,
                result_code = base::RESULT_CODE,
                time_quota_threshold = tgpp::TIME_QUOTA_THRESHOLD,
                volume_quota_threshold = tgpp::VOLUME_QUOTA_THRESHOLD,
                unit_quota_threshold = tgpp::UNIT_QUOTA_THRESHOLD,
                quota_holding_time = tgpp::QUOTA_HOLDING_TIME,
                quota_consumption_time = tgpp::QUOTA_CONSUMPTION_TIME,
                reporting_reason = tgpp::REPORTING_REASON;
                group granted_service_unit = dict::GRANTED_SERVICE_UNIT => ServiceUnit::decode,
                group requested_service_unit = dict::REQUESTED_SERVICE_UNIT => ServiceUnit::decode,
                group final_unit_indication = dict::FINAL_UNIT_INDICATION => FinalUnitIndication::decode,
            );
        }
        Ok(Mscc {
            granted_service_unit,
            requested_service_unit,
            rating_group,
            validity_time,
            result_code: result_code.map(ResultCode),
            final_unit_indication,
            time_quota_threshold,
            volume_quota_threshold,
            unit_quota_threshold,
            quota_holding_time,
            quota_consumption_time,
            reporting_reason,
            avps: set,
        })
    }

    /// Every Used-Service-Unit (`*[ Used-Service-Unit ]`, RFC 8506 §8.19),
    /// decoded one by one from the group.
    ///
    /// ```
    /// use diameter_cc::msg::{Mscc, MsccRepr, ServiceUnit};
    /// use diameter_cc::dict;
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder, Message};
    /// let usu = [ServiceUnit::time(60), ServiceUnit::total_octets(9)];
    /// let repr = MsccRepr { used_service_units: &usu, ..MsccRepr::EMPTY };
    /// let mut buf = [0u8; 128];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// b.grouped(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL, |g| repr.write(g));
    /// let bytes = b.finish().unwrap();
    /// let m = Message::parse(bytes).unwrap();
    /// let mscc = Mscc::decode(m.require(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL).unwrap()).unwrap();
    /// let got: Vec<_> = mscc.used_service_units().map(Result::unwrap).collect();
    /// assert_eq!(got, usu);
    /// ```
    pub fn used_service_units(&self) -> ServiceUnits<'a> {
        Groups::new(self.avps, &dict::USED_SERVICE_UNIT, ServiceUnit::decode)
    }

    /// Every Service-Identifier (`*[ Service-Identifier ]`, RFC 8506 §8.28).
    ///
    /// ```
    /// use diameter_cc::msg::{Mscc, MsccRepr};
    /// use diameter_cc::dict;
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder, Message};
    /// let repr = MsccRepr { service_identifiers: &[1000, 1001], ..MsccRepr::EMPTY };
    /// let mut buf = [0u8; 128];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// b.grouped(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL, |g| repr.write(g));
    /// let bytes = b.finish().unwrap();
    /// let m = Message::parse(bytes).unwrap();
    /// let mscc = Mscc::decode(m.require(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL).unwrap()).unwrap();
    /// let ids: Vec<u32> = mscc.service_identifiers().map(Result::unwrap).collect();
    /// assert_eq!(ids, [1000, 1001]);
    /// ```
    pub fn service_identifiers(&self) -> GetAll<'a, Unsigned32> {
        self.avps.get_all(&dict::SERVICE_IDENTIFIER)
    }
}

/// One Multiple-Services-Credit-Control (RFC 8506 §8.16) to send.
///
/// Written in the order of the RFC 8506 §8.16 grammar followed by the TS
/// 32.299 §7.2 additions: Granted-, Requested-, Used-Service-Unit(s),
/// Service-Identifier(s), Rating-Group, Validity-Time, Result-Code,
/// Final-Unit-Indication, Time-, Volume-, Unit-Quota-Threshold,
/// Quota-Holding-Time, Quota-Consumption-Time, Reporting-Reason. Start from
/// [`MsccRepr::EMPTY`].
///
/// ```
/// use diameter_cc::msg::{MsccRepr, ServiceUnit};
/// // a CCR-U report for rating group 100 (ccr-u-large's first MSCC)
/// let usu = [ServiceUnit {
///     cc_time: Some(60), cc_total_octets: Some(1_000_000),
///     cc_input_octets: Some(400_000), cc_output_octets: Some(600_000),
///     ..ServiceUnit::EMPTY
/// }];
/// let m = MsccRepr {
///     requested_service_unit: Some(ServiceUnit::time(300)),
///     used_service_units: &usu,
///     service_identifiers: &[1000],
///     rating_group: Some(100),
///     ..MsccRepr::EMPTY
/// };
/// assert_eq!(m.used_service_units.len(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MsccRepr<'a> {
    /// Granted-Service-Unit (431, RFC 8506 §8.17).
    pub granted_service_unit: Option<ServiceUnit>,
    /// Requested-Service-Unit (437, RFC 8506 §8.18).
    pub requested_service_unit: Option<ServiceUnit>,
    /// Used-Service-Units (446, RFC 8506 §8.19).
    pub used_service_units: &'a [ServiceUnit],
    /// Service-Identifiers (439, RFC 8506 §8.28).
    pub service_identifiers: &'a [u32],
    /// Rating-Group (432, RFC 8506 §8.29).
    pub rating_group: Option<u32>,
    /// Validity-Time (448, RFC 8506 §8.33).
    pub validity_time: Option<u32>,
    /// Result-Code (268), in answers.
    pub result_code: Option<ResultCode>,
    /// Final-Unit-Indication (430, RFC 8506 §8.34).
    pub final_unit_indication: Option<FinalUnitIndicationRepr<'a>>,
    /// Time-Quota-Threshold (868/10415, TS 32.299 §7.2).
    pub time_quota_threshold: Option<u32>,
    /// Volume-Quota-Threshold (869/10415, TS 32.299 §7.2).
    pub volume_quota_threshold: Option<u32>,
    /// Unit-Quota-Threshold (1226/10415, TS 32.299 §7.2).
    pub unit_quota_threshold: Option<u32>,
    /// Quota-Holding-Time (871/10415, TS 32.299 §7.2).
    pub quota_holding_time: Option<u32>,
    /// Quota-Consumption-Time (881/10415, TS 32.299 §7.2).
    pub quota_consumption_time: Option<u32>,
    /// Reporting-Reason (872/10415, TS 32.299 §7.2).
    pub reporting_reason: Option<ReportingReason>,
}

impl<'a> MsccRepr<'a> {
    /// Nothing set: the start for struct update syntax.
    pub const EMPTY: MsccRepr<'a> = MsccRepr {
        granted_service_unit: None,
        requested_service_unit: None,
        used_service_units: &[],
        service_identifiers: &[],
        rating_group: None,
        validity_time: None,
        result_code: None,
        final_unit_indication: None,
        time_quota_threshold: None,
        volume_quota_threshold: None,
        unit_quota_threshold: None,
        quota_holding_time: None,
        quota_consumption_time: None,
        reporting_reason: None,
    };

    /// Append the content of the Multiple-Services-Credit-Control (not the
    /// enclosing AVP; see the [`Mscc`] example).
    ///
    /// ```
    /// use diameter_cc::msg::MsccRepr;
    /// use diameter_cc::dict;
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder};
    /// let mut buf = [0u8; 64];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// let m = MsccRepr { rating_group: Some(7), ..MsccRepr::EMPTY };
    /// b.grouped(&dict::MULTIPLE_SERVICES_CREDIT_CONTROL, |g| m.write(g));
    /// assert_eq!(b.finish().unwrap().len(), 20 + 8 + 12);
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        if let Some(u) = self.granted_service_unit {
            b.grouped(&dict::GRANTED_SERVICE_UNIT, |g| u.write(g));
        }
        if let Some(u) = self.requested_service_unit {
            b.grouped(&dict::REQUESTED_SERVICE_UNIT, |g| u.write(g));
        }
        for u in self.used_service_units {
            b.grouped(&dict::USED_SERVICE_UNIT, |g| u.write(g));
        }
        for &s in self.service_identifiers {
            b.put(&dict::SERVICE_IDENTIFIER, s);
        }
        if let Some(v) = self.rating_group {
            b.put(&dict::RATING_GROUP, v);
        }
        if let Some(v) = self.validity_time {
            b.put(&dict::VALIDITY_TIME, v);
        }
        if let Some(v) = self.result_code {
            b.put(&base::RESULT_CODE, v.get());
        }
        if let Some(f) = self.final_unit_indication {
            b.grouped(&dict::FINAL_UNIT_INDICATION, |g| f.write(g));
        }
        if let Some(v) = self.time_quota_threshold {
            b.put(&tgpp::TIME_QUOTA_THRESHOLD, v);
        }
        if let Some(v) = self.volume_quota_threshold {
            b.put(&tgpp::VOLUME_QUOTA_THRESHOLD, v);
        }
        if let Some(v) = self.unit_quota_threshold {
            b.put(&tgpp::UNIT_QUOTA_THRESHOLD, v);
        }
        if let Some(v) = self.quota_holding_time {
            b.put(&tgpp::QUOTA_HOLDING_TIME, v);
        }
        if let Some(v) = self.quota_consumption_time {
            b.put(&tgpp::QUOTA_CONSUMPTION_TIME, v);
        }
        if let Some(v) = self.reporting_reason {
            b.put(&tgpp::REPORTING_REASON, v);
        }
    }
}

/// A Redirect-Server (434, RFC 8506 §8.37): where to send the user when
/// the final units are used up and the action is REDIRECT. `Copy`, for
/// decoding and encoding alike.
///
/// ```
/// use diameter_cc::msg::RedirectServer;
/// use diameter_cc::dict::RedirectAddressType;
/// let r = RedirectServer { address_type: RedirectAddressType::Url, address: "https://topup.example" };
/// assert_eq!(r.address, "https://topup.example");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RedirectServer<'a> {
    /// Redirect-Address-Type (433, RFC 8506 §8.38).
    pub address_type: RedirectAddressType,
    /// Redirect-Server-Address (435, RFC 8506 §8.39).
    pub address: &'a str,
}

impl<'a> RedirectServer<'a> {
    /// Decode the AVPs of a Redirect-Server (RFC 8506 §8.37); both are
    /// required (5005).
    ///
    /// ```
    /// use diameter_cc::msg::RedirectServer;
    /// use diameter_core::AvpSet;
    /// assert_eq!(RedirectServer::decode(AvpSet::new(&[], 0)).unwrap_err().avp().unwrap().code, 433);
    /// ```
    pub fn decode(set: AvpSet<'a>) -> Result<RedirectServer<'a>, Error> {
        let mut address_type = None;
        let mut address = None;
        for avp in set.iter() {
            let avp = avp?;
            scan!(avp; address_type = dict::REDIRECT_ADDRESS_TYPE,
                address = dict::REDIRECT_SERVER_ADDRESS; );
        }
        Ok(RedirectServer {
            address_type: required(address_type, &dict::REDIRECT_ADDRESS_TYPE)?,
            address: required(address, &dict::REDIRECT_SERVER_ADDRESS)?,
        })
    }

    /// Append Redirect-Address-Type and Redirect-Server-Address.
    ///
    /// ```
    /// use diameter_cc::msg::RedirectServer;
    /// use diameter_cc::dict::{self, RedirectAddressType};
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder};
    /// let mut buf = [0u8; 64];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// let r = RedirectServer { address_type: RedirectAddressType::Url, address: "http://a" };
    /// b.grouped(&dict::REDIRECT_SERVER, |g| r.write(g));
    /// assert_eq!(b.finish().unwrap().len(), 20 + 8 + 12 + 16);
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        b.put(&dict::REDIRECT_ADDRESS_TYPE, self.address_type);
        b.put(&dict::REDIRECT_SERVER_ADDRESS, self.address);
    }
}

/// A Final-Unit-Indication (430, RFC 8506 §8.34) as decoded: what to do
/// when the granted units, the last ones, are used up (§5.6).
///
/// ```
/// use diameter_cc::msg::{FinalUnitIndication, FinalUnitIndicationRepr, RedirectServer};
/// use diameter_cc::dict::{self, FinalUnitAction, RedirectAddressType};
/// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder, Message};
///
/// let repr = FinalUnitIndicationRepr {
///     redirect_server: Some(RedirectServer {
///         address_type: RedirectAddressType::SipUri,
///         address: "sip:topup@example.org",
///     }),
///     ..FinalUnitIndicationRepr::new(FinalUnitAction::Redirect)
/// };
/// let mut buf = [0u8; 128];
/// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
/// b.grouped(&dict::FINAL_UNIT_INDICATION, |g| repr.write(g));
/// let bytes = b.finish().unwrap();
/// let m = Message::parse(bytes).unwrap();
/// let fui = FinalUnitIndication::decode(m.require(&dict::FINAL_UNIT_INDICATION).unwrap()).unwrap();
/// assert_eq!(fui.final_unit_action, FinalUnitAction::Redirect);
/// assert_eq!(fui.redirect_server.unwrap().address, "sip:topup@example.org");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FinalUnitIndication<'a> {
    /// Final-Unit-Action (449, RFC 8506 §8.35), required.
    pub final_unit_action: FinalUnitAction,
    /// Redirect-Server (434, RFC 8506 §8.37), for REDIRECT.
    pub redirect_server: Option<RedirectServer<'a>>,
    /// The group's AVPs.
    pub avps: AvpSet<'a>,
}

impl<'a> FinalUnitIndication<'a> {
    /// Decode the AVPs of a Final-Unit-Indication (RFC 8506 §8.34);
    /// Final-Unit-Action is required (5005).
    ///
    /// ```
    /// use diameter_cc::msg::FinalUnitIndication;
    /// use diameter_core::AvpSet;
    /// assert_eq!(FinalUnitIndication::decode(AvpSet::new(&[], 0)).unwrap_err().avp().unwrap().code, 449);
    /// ```
    pub fn decode(set: AvpSet<'a>) -> Result<FinalUnitIndication<'a>, Error> {
        let mut final_unit_action = None;
        let mut redirect_server = None;
        for avp in set.iter() {
            let avp = avp?;
            scan!(avp; final_unit_action = dict::FINAL_UNIT_ACTION;
                group redirect_server = dict::REDIRECT_SERVER => RedirectServer::decode);
        }
        Ok(FinalUnitIndication {
            final_unit_action: required(final_unit_action, &dict::FINAL_UNIT_ACTION)?,
            redirect_server,
            avps: set,
        })
    }

    /// Every Restriction-Filter-Rule (438, RFC 8506 §8.36), for
    /// RESTRICT_ACCESS.
    ///
    /// ```
    /// use diameter_cc::msg::{FinalUnitIndication, FinalUnitIndicationRepr};
    /// use diameter_cc::dict::{self, FinalUnitAction};
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder, Message};
    /// let repr = FinalUnitIndicationRepr {
    ///     restriction_filter_rules: &["permit out ip from any to 10.0.0.1"],
    ///     filter_ids: &["topup-only"],
    ///     ..FinalUnitIndicationRepr::new(FinalUnitAction::RestrictAccess)
    /// };
    /// let mut buf = [0u8; 128];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// b.grouped(&dict::FINAL_UNIT_INDICATION, |g| repr.write(g));
    /// let bytes = b.finish().unwrap();
    /// let m = Message::parse(bytes).unwrap();
    /// let fui = FinalUnitIndication::decode(m.require(&dict::FINAL_UNIT_INDICATION).unwrap()).unwrap();
    /// assert_eq!(fui.restriction_filter_rules().next().unwrap().unwrap(),
    ///            "permit out ip from any to 10.0.0.1");
    /// assert_eq!(fui.filter_ids().next().unwrap().unwrap(), "topup-only");
    /// ```
    pub fn restriction_filter_rules(&self) -> GetAll<'a, IpFilterRule> {
        self.avps.get_all(&dict::RESTRICTION_FILTER_RULE)
    }

    /// Every Filter-Id (11, RFC 7155 §4.4.7), for RESTRICT_ACCESS (RFC 8506
    /// §8.34).
    ///
    /// ```
    /// use diameter_cc::msg::{FinalUnitIndication, FinalUnitIndicationRepr};
    /// use diameter_cc::dict::{self, FinalUnitAction};
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder, Message};
    /// let repr = FinalUnitIndicationRepr {
    ///     filter_ids: &["walled-garden", "dns-only"],
    ///     ..FinalUnitIndicationRepr::new(FinalUnitAction::RestrictAccess)
    /// };
    /// let mut buf = [0u8; 128];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// b.grouped(&dict::FINAL_UNIT_INDICATION, |g| repr.write(g));
    /// let bytes = b.finish().unwrap();
    /// let m = Message::parse(bytes).unwrap();
    /// let fui = FinalUnitIndication::decode(m.require(&dict::FINAL_UNIT_INDICATION).unwrap()).unwrap();
    /// let ids: Vec<_> = fui.filter_ids().map(Result::unwrap).collect();
    /// assert_eq!(ids, ["walled-garden", "dns-only"]);
    /// ```
    pub fn filter_ids(&self) -> GetAll<'a, Utf8String> {
        self.avps.get_all(&dict::FILTER_ID)
    }
}

/// A Final-Unit-Indication (430, RFC 8506 §8.34) to send; written in
/// grammar order (Final-Unit-Action, Restriction-Filter-Rules, Filter-Ids,
/// Redirect-Server). See [`FinalUnitIndication`] for an example.
///
/// ```
/// use diameter_cc::msg::FinalUnitIndicationRepr;
/// use diameter_cc::dict::FinalUnitAction;
/// let f = FinalUnitIndicationRepr::new(FinalUnitAction::Terminate);
/// assert!(f.redirect_server.is_none() && f.filter_ids.is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FinalUnitIndicationRepr<'a> {
    /// Final-Unit-Action (449, RFC 8506 §8.35).
    pub final_unit_action: FinalUnitAction,
    /// Restriction-Filter-Rules (438, RFC 8506 §8.36), IPFilterRule text.
    pub restriction_filter_rules: &'a [&'a str],
    /// Filter-Ids (11, RFC 7155 §4.4.7).
    pub filter_ids: &'a [&'a str],
    /// Redirect-Server (434, RFC 8506 §8.37).
    pub redirect_server: Option<RedirectServer<'a>>,
}

impl<'a> FinalUnitIndicationRepr<'a> {
    /// Only the action.
    ///
    /// ```
    /// use diameter_cc::msg::FinalUnitIndicationRepr;
    /// use diameter_cc::dict::FinalUnitAction;
    /// let f = FinalUnitIndicationRepr::new(FinalUnitAction::Terminate);
    /// assert!(f.restriction_filter_rules.is_empty());
    /// ```
    pub const fn new(final_unit_action: FinalUnitAction) -> Self {
        FinalUnitIndicationRepr {
            final_unit_action,
            restriction_filter_rules: &[],
            filter_ids: &[],
            redirect_server: None,
        }
    }

    /// Append the content of the Final-Unit-Indication.
    ///
    /// ```
    /// use diameter_cc::msg::FinalUnitIndicationRepr;
    /// use diameter_cc::dict::{self, FinalUnitAction};
    /// use diameter_core::{HeaderRepr, CommandCode, ApplicationId, MessageBuilder};
    /// let mut buf = [0u8; 64];
    /// let mut b = MessageBuilder::new(&mut buf, HeaderRepr::request(
    ///     CommandCode::CREDIT_CONTROL, ApplicationId::CREDIT_CONTROL, 1, 1));
    /// let f = FinalUnitIndicationRepr::new(FinalUnitAction::Terminate);
    /// b.grouped(&dict::FINAL_UNIT_INDICATION, |g| f.write(g));
    /// assert_eq!(b.finish().unwrap().len(), 20 + 8 + 12);
    /// ```
    pub fn write(&self, b: &mut MessageBuilder<'_>) {
        b.put(&dict::FINAL_UNIT_ACTION, self.final_unit_action);
        for &r in self.restriction_filter_rules {
            b.put(&dict::RESTRICTION_FILTER_RULE, r);
        }
        for &f in self.filter_ids {
            b.put(&dict::FILTER_ID, f);
        }
        if let Some(r) = self.redirect_server {
            b.grouped(&dict::REDIRECT_SERVER, |g| r.write(g));
        }
    }
}
