//! Server-side session machines: the credit-control server (RFC 8506 §7
//! server state machine) and the accounting server (RFC 6733 §8.2), used
//! by our test charging server and by anyone building an OCS.

pub mod accounting;
mod acct_session;
mod balances;
mod cc_session;
pub mod credit_control;
