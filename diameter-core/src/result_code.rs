//! Result-Code values (RFC 6733 §7.1, RFC 8506 §9) as an open newtype.

/// A Result-Code (AVP 268) value. Open: unknown codes are kept as they are.
///
/// The class is the thousands digit (§7.1): 1xxx informational, 2xxx success,
/// 3xxx protocol errors (sent with the E bit), 4xxx transient and 5xxx
/// permanent failures.
///
/// ```
/// use diameter_core::ResultCode;
/// assert!(ResultCode::SUCCESS.is_success());
/// assert!(ResultCode::UNABLE_TO_DELIVER.is_protocol_error());
/// assert_eq!(ResultCode::new(4012).class(), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ResultCode(pub u32);

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $v:expr;)*) => {
        impl ResultCode {
            $($(#[$doc])* pub const $name: ResultCode = ResultCode($v);)*

            /// The name of a known code without its `DIAMETER_` prefix
            /// (`SUCCESS`), `None` otherwise.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($v => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// The name of a known code as the RFC spells it
            /// (`DIAMETER_SUCCESS`), `None` otherwise.
            ///
            /// ```
            /// use diameter_core::ResultCode;
            /// assert_eq!(ResultCode::new(4012).rfc_name(), Some("DIAMETER_CREDIT_LIMIT_REACHED"));
            /// assert_eq!(ResultCode::new(4999).rfc_name(), None);
            /// ```
            pub const fn rfc_name(self) -> Option<&'static str> {
                match self.0 {
                    $($v => Some(concat!("DIAMETER_", stringify!($name))),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    /// 1001 (§7.1.1)
    MULTI_ROUND_AUTH = 1001;
    /// 2001 (§7.1.2)
    SUCCESS = 2001;
    /// 2002 (§7.1.2)
    LIMITED_SUCCESS = 2002;
    /// 3001 (§7.1.3)
    COMMAND_UNSUPPORTED = 3001;
    /// 3002 (§7.1.3)
    UNABLE_TO_DELIVER = 3002;
    /// 3003 (§7.1.3)
    REALM_NOT_SERVED = 3003;
    /// 3004 (§7.1.3)
    TOO_BUSY = 3004;
    /// 3005 (§7.1.3)
    LOOP_DETECTED = 3005;
    /// 3006 (§7.1.3)
    REDIRECT_INDICATION = 3006;
    /// 3007 (§7.1.3)
    APPLICATION_UNSUPPORTED = 3007;
    /// 3008 (§7.1.3)
    INVALID_HDR_BITS = 3008;
    /// 3009 (§7.1.3)
    INVALID_AVP_BITS = 3009;
    /// 3010 (§7.1.3)
    UNKNOWN_PEER = 3010;
    /// 4001 (§7.1.4)
    AUTHENTICATION_REJECTED = 4001;
    /// 4002 (§7.1.4)
    OUT_OF_SPACE = 4002;
    /// 4003 (§7.1.4)
    ELECTION_LOST = 4003;
    /// 4010 DIAMETER_END_USER_SERVICE_DENIED (RFC 8506 §9.1)
    END_USER_SERVICE_DENIED = 4010;
    /// 4011 DIAMETER_CREDIT_CONTROL_NOT_APPLICABLE (RFC 8506 §9.1)
    CREDIT_CONTROL_NOT_APPLICABLE = 4011;
    /// 4012 DIAMETER_CREDIT_LIMIT_REACHED (RFC 8506 §9.1)
    CREDIT_LIMIT_REACHED = 4012;
    /// 5001 (§7.1.5)
    AVP_UNSUPPORTED = 5001;
    /// 5002 (§7.1.5)
    UNKNOWN_SESSION_ID = 5002;
    /// 5003 (§7.1.5)
    AUTHORIZATION_REJECTED = 5003;
    /// 5004 (§7.1.5)
    INVALID_AVP_VALUE = 5004;
    /// 5005 (§7.1.5)
    MISSING_AVP = 5005;
    /// 5006 (§7.1.5)
    RESOURCES_EXCEEDED = 5006;
    /// 5007 (§7.1.5)
    CONTRADICTING_AVPS = 5007;
    /// 5008 (§7.1.5)
    AVP_NOT_ALLOWED = 5008;
    /// 5009 (§7.1.5)
    AVP_OCCURS_TOO_MANY_TIMES = 5009;
    /// 5010 (§7.1.5)
    NO_COMMON_APPLICATION = 5010;
    /// 5011 (§7.1.5)
    UNSUPPORTED_VERSION = 5011;
    /// 5012 (§7.1.5)
    UNABLE_TO_COMPLY = 5012;
    /// 5013 (§7.1.5)
    INVALID_BIT_IN_HEADER = 5013;
    /// 5014 (§7.1.5)
    INVALID_AVP_LENGTH = 5014;
    /// 5015 (§7.1.5)
    INVALID_MESSAGE_LENGTH = 5015;
    /// 5016 (§7.1.5)
    INVALID_AVP_BIT_COMBO = 5016;
    /// 5017 (§7.1.5)
    NO_COMMON_SECURITY = 5017;
    /// 5030 DIAMETER_USER_UNKNOWN (RFC 8506 §9.1)
    USER_UNKNOWN = 5030;
    /// 5031 DIAMETER_RATING_FAILED (RFC 8506 §9.1)
    RATING_FAILED = 5031;
}

impl ResultCode {
    /// Wrap a raw value.
    pub const fn new(v: u32) -> Self {
        ResultCode(v)
    }
    /// The raw value.
    pub const fn get(self) -> u32 {
        self.0
    }
    /// The class digit: `v / 1000`.
    pub const fn class(self) -> u32 {
        self.0 / 1000
    }
    /// 2xxx.
    pub const fn is_success(self) -> bool {
        self.class() == 2
    }
    /// 3xxx: answered with the E bit set (§7.1.3).
    pub const fn is_protocol_error(self) -> bool {
        self.class() == 3
    }
    /// 4xxx.
    pub const fn is_transient_failure(self) -> bool {
        self.class() == 4
    }
    /// 5xxx.
    pub const fn is_permanent_failure(self) -> bool {
        self.class() == 5
    }
}

impl From<u32> for ResultCode {
    fn from(v: u32) -> Self {
        ResultCode(v)
    }
}

impl From<ResultCode> for u32 {
    fn from(v: ResultCode) -> Self {
        v.0
    }
}

impl core::fmt::Display for ResultCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{} ({n})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}
