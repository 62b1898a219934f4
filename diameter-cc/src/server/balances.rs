//! [`Balances`]: a simple in-memory [`Rating`] for tests, examples and
//! firmware.

use diameter_core::ResultCode;

use super::credit_control::Rating;
use crate::client::MAX_PARTY;

/// A simple [`Rating`]: per-subscriber balances in seconds, reservations
/// per session, for tests, examples and the built-in charging server.
#[derive(Debug, Clone, Default)]
pub struct Balances<const N: usize> {
    accounts: heapless::Vec<(heapless::String<MAX_PARTY>, u64), N>,
    reserved: heapless::Vec<(u64, usize, u64), N>,
}

impl<const N: usize> Balances<N> {
    /// No accounts.
    pub const fn new() -> Self {
        Balances {
            accounts: heapless::Vec::new(),
            reserved: heapless::Vec::new(),
        }
    }
    /// Create or top up an account; false when the table is full.
    pub fn set(&mut self, subscriber: &str, seconds: u64) -> bool {
        if let Some(a) = self
            .accounts
            .iter_mut()
            .find(|a| a.0.as_str() == subscriber)
        {
            a.1 = seconds;
            return true;
        }
        let mut name = heapless::String::new();
        name.push_str(subscriber).is_ok() && self.accounts.push((name, seconds)).is_ok()
    }
    /// Seconds left (not counting reservations), if the account exists.
    pub fn balance(&self, subscriber: &str) -> Option<u64> {
        self.accounts
            .iter()
            .find(|a| a.0.as_str() == subscriber)
            .map(|a| a.1)
    }
    fn index(&self, subscriber: &str) -> Option<usize> {
        self.accounts
            .iter()
            .position(|a| a.0.as_str() == subscriber)
    }
    fn reserved_for(&self, account: usize) -> u64 {
        self.reserved
            .iter()
            .filter(|r| r.1 == account)
            .map(|r| r.2)
            .sum()
    }
}

impl<const N: usize> Rating for Balances<N> {
    fn reserve(
        &mut self,
        session: &str,
        subscriber: &str,
        _dst: &str,
        requested: u32,
    ) -> Result<u32, ResultCode> {
        let i = self.index(subscriber).ok_or(ResultCode::USER_UNKNOWN)?;
        let free = self.accounts[i].1.saturating_sub(self.reserved_for(i));
        let g = u64::from(requested).min(free);
        let sk = diameter_core::hash::fnv(session.as_bytes());
        match self.reserved.iter_mut().find(|r| r.0 == sk) {
            Some(r) => r.2 += g,
            None => {
                if g > 0 && self.reserved.push((sk, i, g)).is_err() {
                    return Err(ResultCode::TOO_BUSY);
                }
            }
        }
        Ok(g as u32)
    }
    fn debit(
        &mut self,
        session: &str,
        subscriber: &str,
        _dst: &str,
        used: u32,
    ) -> Result<(), ResultCode> {
        let i = self.index(subscriber).ok_or(ResultCode::USER_UNKNOWN)?;
        let used = u64::from(used);
        let sk = diameter_core::hash::fnv(session.as_bytes());
        if let Some(r) = self.reserved.iter_mut().find(|r| r.0 == sk) {
            r.2 = r.2.saturating_sub(used);
        }
        let a = &mut self.accounts[i];
        if a.1 < used {
            a.1 = 0;
            return Err(ResultCode::CREDIT_LIMIT_REACHED);
        }
        a.1 -= used;
        Ok(())
    }
    fn release(&mut self, session: &str, _subscriber: &str) {
        let sk = diameter_core::hash::fnv(session.as_bytes());
        self.reserved.retain(|r| r.0 != sk);
    }
}
