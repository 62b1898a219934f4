//! Time for the machines: `embassy-time`'s clock in the milliseconds of
//! [`diameter_core::time::Instant`] (same origin: the time driver's boot).

use diameter_core::time::Instant;

/// Now, for the endpoint.
///
/// ```
/// # // the doc tests link embassy-time's std driver
/// let t = diameter_embassy::clock::now();
/// assert!(diameter_embassy::clock::now() >= t);
/// ```
pub fn now() -> Instant {
    Instant(embassy_time::Instant::now().as_millis())
}

/// The endpoint's deadline as an `embassy-time` instant.
///
/// ```
/// use diameter_core::time::Instant;
/// assert_eq!(diameter_embassy::clock::at(Instant(1500)).as_millis(), 1500);
/// ```
pub fn at(t: Instant) -> embassy_time::Instant {
    embassy_time::Instant::from_millis(t.as_millis())
}
