//! `Pacer`: spaces the auth provider calls of bulk work (change-password, reconcile) evenly so
//! that no 1-second window holds more than the configured ceiling, with a small margin for the
//! jitter between our send and the provider's clock. One pacer serves every job of a kind in a
//! replica, so concurrent jobs share the ceiling, and a 429 seen by one job holds them all.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::{interval, sleep_until, Instant, Interval, MissedTickBehavior};

/// Extra spacing over `1/N` s (2%): ten calls spaced exactly 100 ms apart can land 999 ms apart
/// at the provider when the first one is delayed by a millisecond more than the eleventh.
const MARGIN_DIVISOR: u32 = 50;

/// Lets one call through every `1/N` s (plus the margin) on a fixed schedule (a tick may fire up
/// to a few ms late, never early); after a pause a late caller goes at once and the next one
/// waits a whole period again, so calls never bunch up.
pub struct Pacer {
    ticks: tokio::sync::Mutex<Interval>,
    held_until: Mutex<Option<Instant>>,
    period: Duration,
}

impl Pacer {
    /// A pacer for at most `per_second` calls a second (0 is read as 1). Needs a Tokio runtime.
    pub fn new(per_second: u32) -> Self {
        let period = period(per_second);
        let mut ticks = interval(period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            ticks: tokio::sync::Mutex::new(ticks),
            held_until: Mutex::new(None),
            period,
        }
    }

    /// The spacing between two calls.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Lets no call through before `until` (the provider answered 429); a later hold wins.
    pub fn hold(&self, until: Instant) {
        if let Ok(mut held) = self.held_until.lock() {
            *held = Some(held.map_or(until, |h| h.max(until)));
        }
    }

    fn held(&self) -> Option<Instant> {
        self.held_until
            .lock()
            .ok()
            .and_then(|h| *h)
            .filter(|h| *h > Instant::now())
    }

    /// Waits until the next call may start (the first one starts at once). Cancel-safe.
    pub async fn ready(&self) {
        let mut ticks = self.ticks.lock().await;
        while let Some(until) = self.held() {
            sleep_until(until).await;
        }
        ticks.tick().await;
    }
}

/// `1/N` s plus the margin.
fn period(per_second: u32) -> Duration {
    let even = Duration::from_secs(1) / per_second.max(1);
    even + even / MARGIN_DIVISOR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_is_one_nth_of_a_second_plus_two_percent() {
        assert_eq!(period(10), Duration::from_millis(102));
        assert_eq!(period(2), Duration::from_millis(510));
        assert_eq!(period(0), Duration::from_millis(1020));
    }

    #[tokio::test]
    async fn no_one_second_window_lets_more_than_n_calls_through() {
        let n = 40;
        let pacer = Pacer::new(n);
        let mut instants = Vec::new();
        let started = Instant::now();
        for _ in 0..60 {
            pacer.ready().await;
            instants.push(Instant::now());
        }
        // Ticks follow a fixed schedule: one may fire a little late, never early.
        for pair in instants.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(gap + Duration::from_millis(6) >= pacer.period(), "{gap:?}");
        }
        for (i, first) in instants.iter().enumerate() {
            let in_window = instants[i..]
                .iter()
                .take_while(|t| **t - *first < Duration::from_secs(1))
                .count();
            assert!(in_window <= n as usize, "{in_window} calls in one second");
        }
        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_millis(1700),
            "60 calls at 40/s took {elapsed:?}"
        );
    }

    #[tokio::test]
    async fn a_late_caller_goes_at_once_but_the_next_one_waits_a_whole_period() {
        let pacer = Pacer::new(20);
        pacer.ready().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let late = Instant::now();
        pacer.ready().await;
        assert!(late.elapsed() < Duration::from_millis(20));
        let after_late = Instant::now();
        pacer.ready().await;
        assert!(after_late.elapsed() >= pacer.period() - Duration::from_millis(2));
    }

    #[tokio::test]
    async fn a_hold_delays_every_caller_until_it_ends() {
        let pacer = std::sync::Arc::new(Pacer::new(20));
        pacer.ready().await;
        let started = Instant::now();
        pacer.hold(started + Duration::from_millis(200));
        pacer.hold(started + Duration::from_millis(100));
        let other = pacer.clone();
        let waiter = tokio::spawn(async move {
            other.ready().await;
            Instant::now()
        });
        pacer.ready().await;
        let first = Instant::now();
        let second = waiter.await.unwrap();
        assert!(first.min(second) - started >= Duration::from_millis(200));
        assert!(first.max(second) - first.min(second) >= pacer.period() - Duration::from_millis(6));
    }
}
