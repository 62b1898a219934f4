//! The application's own requests: an owned answer and why a request
//! failed.

use core::fmt;

use diameter_core::dict::base;
use diameter_core::{Avp, Error, Message, ResultCode};

/// An answer to a request, owned.
///
/// ```
/// # use diameter_tokio::Answer;
/// # let bytes = diameter_core::doc_example().to_vec();
/// let a = Answer::new(bytes);
/// assert!(a.message().is_ok());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Answer {
    bytes: Vec<u8>,
}

impl Answer {
    /// Wrap the bytes of one answer.
    pub fn new(bytes: Vec<u8>) -> Self {
        Answer { bytes }
    }

    /// The bytes as received.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Take the bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// A view of the answer (the node validated it on receipt).
    pub fn message(&self) -> Result<Message<'_>, Error> {
        Message::new_checked(&self.bytes)
    }

    /// Its Result-Code, or the Experimental-Result-Code inside
    /// Experimental-Result (RFC 6733 §7.6) when there is no Result-Code.
    pub fn result_code(&self) -> Option<ResultCode> {
        let m = self.message().ok()?;
        if let Ok(Some(rc)) = m.get(&base::RESULT_CODE) {
            return Some(ResultCode(rc));
        }
        let er = m.find(297, 0)?;
        let code = er.group_set().get(&base::EXPERIMENTAL_RESULT_CODE).ok()??;
        Some(ResultCode(code))
    }

    /// The AVPs inside Failed-AVP (RFC 6733 §7.5), as they were received.
    pub fn failed_avps(&self) -> Vec<Avp<'_>> {
        let Ok(m) = self.message() else {
            return Vec::new();
        };
        m.find(279, 0)
            .map(|f| f.group_set().iter().map_while(Result::ok).collect())
            .unwrap_or_default()
    }

    /// Error-Message (RFC 6733 §7.3), when the answer carries one.
    pub fn error_message(&self) -> Option<&str> {
        self.message()
            .ok()?
            .get(&base::ERROR_MESSAGE)
            .ok()
            .flatten()
    }

    /// Whether the E bit (a protocol error) is set.
    pub fn is_protocol_error(&self) -> bool {
        self.message().is_ok_and(|m| m.flags().is_error())
    }

    /// A success: a 2xxx Result-Code, or no result at all.
    pub fn is_success(&self) -> bool {
        !self.is_protocol_error() && self.result_code().is_none_or(|rc| rc.is_success())
    }
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.message();
        f.debug_struct("Answer")
            .field("command", &m.as_ref().ok().map(|m| m.command_code().0))
            .field("result_code", &self.result_code().map(|r| r.0))
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Why a request got no successful answer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RequestError {
    /// The request cannot be sent as it is: it does not parse, or it names
    /// no Destination-Realm (RFC 6733 §6.1).
    Invalid(Error),
    /// No answer before the deadline.
    Timeout,
    /// No open peer serves its realm and application, and none opened
    /// before the deadline.
    Unreachable,
    /// The answer failed validation (the request ends there).
    InvalidAnswer(Error),
    /// The peer answered with a failure: the Result-Code is not 2xxx, or
    /// the E bit is set. The answer is kept (Result-Code, Failed-AVP,
    /// Error-Message).
    Rejected(Answer),
    /// The node shut down first.
    Shutdown,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Invalid(e) => write!(f, "invalid request: {e}"),
            RequestError::Timeout => f.write_str("no answer before the deadline"),
            RequestError::Unreachable => {
                f.write_str("no open peer serves this realm and application")
            }
            RequestError::InvalidAnswer(e) => write!(f, "invalid answer: {e}"),
            RequestError::Rejected(a) => {
                match a.result_code() {
                    Some(rc) => write!(f, "rejected with Result-Code {}", rc.0)?,
                    None => f.write_str("rejected (E bit)")?,
                }
                for avp in a.failed_avps() {
                    write!(f, ", Failed-AVP code {}", avp.code())?;
                }
                if let Some(m) = a.error_message() {
                    write!(f, ": {m}")?;
                }
                Ok(())
            }
            RequestError::Shutdown => f.write_str("the node shut down"),
        }
    }
}

impl std::error::Error for RequestError {}
