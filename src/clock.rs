//! The clock: what "now" is for expiry decisions (tokens, reset links), injectable so that tests
//! move time forward instead of sleeping.
//!
//! Production wires [`SystemClock`]; [`ManualClock`] is for tests (unit tests and the integration
//! tests under `tests/`, hence public): it stands still until it is set or advanced, and is shared
//! through an `Arc` between the test and the component under test.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current time (UTC).
    fn now(&self) -> OffsetDateTime;
}

/// The system clock: what production uses.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to: for tests. Share it as `Arc<ManualClock>` and hand a
/// clone to the component as `Arc<dyn Clock>`.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// A clock standing at `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        Self { now: Mutex::new(at) }
    }

    /// A clock standing at the current system time, to the second (so that tokens it dates also
    /// pass checks made on the system time, like a third party verifying a JWT).
    pub fn at_system_time() -> Self {
        let now = OffsetDateTime::now_utc();
        Self::new(now.replace_nanosecond(0).unwrap_or(now))
    }

    /// Moves the clock to `at` (backwards too).
    pub fn set(&self, at: OffsetDateTime) {
        *self.lock() = at;
    }

    /// Moves the clock forward by `by` (saturating at the largest representable time).
    pub fn advance(&self, by: Duration) {
        let mut now = self.lock();
        let by = time::Duration::try_from(by).unwrap_or(time::Duration::MAX);
        *now = now
            .checked_add(by)
            .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OffsetDateTime> {
        // The guarded value is always whole: a panic elsewhere cannot leave it half-written.
        self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.lock()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_set_or_advanced_and_is_shared() {
        let clock = Arc::new(ManualClock::new(datetime!(2024-05-01 10:00:00 UTC)));
        let shared: Arc<dyn Clock> = clock.clone();
        assert_eq!(shared.now(), datetime!(2024-05-01 10:00:00 UTC));
        clock.advance(Duration::from_secs(90));
        assert_eq!(shared.now(), datetime!(2024-05-01 10:01:30 UTC));
        clock.set(datetime!(2000-01-01 00:00:00 UTC));
        assert_eq!(shared.now(), datetime!(2000-01-01 00:00:00 UTC));
        clock.advance(Duration::MAX);
        assert!(shared.now() > datetime!(9999-01-01 00:00:00 UTC), "saturates");
    }

    #[test]
    fn the_system_clock_and_a_manual_clock_at_system_time_agree() {
        let manual = ManualClock::at_system_time();
        let system = SystemClock.now();
        assert_eq!(manual.now().nanosecond(), 0);
        assert!((system - manual.now()).whole_seconds().abs() <= 1);
    }
}
