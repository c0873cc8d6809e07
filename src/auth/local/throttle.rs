//! Failed-login counters kept in memory, per replica: per client address (IPv6 by its /64, the
//! block one host usually holds) and per *unknown* login name, so that a name no account has is
//! locked after as many failures as an account would be and the lockout does not tell which
//! accounts exist. (Account counters are persisted on the credential, see `lockout.rs`.)
//!
//! A key counts its failures in a window of `LOGIN_LOCKOUT_SECONDS` from its first failure;
//! reaching the threshold locks it for `LOGIN_LOCKOUT_SECONDS`. A success does not reset an
//! address (one valid account would otherwise let an attacker reset it at will). The map is
//! bounded: when full, stale keys go first, then the key with the oldest window.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

/// The most keys remembered (about 100 bytes each).
const MAX_KEYS: usize = 100_000;

/// What is counted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Key {
    /// A client address (IPv6 reduced to its /64).
    Address(IpAddr),
    /// A login name no account has, lower case.
    UnknownLogin(String),
}

impl Key {
    /// The key of client address `ip`.
    pub(super) fn address(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => Self::Address(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::Address(IpAddr::V4(v4)),
                None => {
                    let masked = u128::from(v6) & !((1u128 << 64) - 1);
                    Self::Address(IpAddr::V6(masked.into()))
                }
            },
        }
    }

    /// The key of an unknown login name.
    pub(super) fn unknown_login(login: &str) -> Self {
        Self::UnknownLogin(login.trim().to_lowercase())
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    window_start: OffsetDateTime,
    failures: u32,
    locked_until: Option<OffsetDateTime>,
}

/// The counters of one replica.
#[derive(Debug, Default)]
pub(super) struct Throttle {
    entries: Mutex<HashMap<Key, Entry>>,
}

impl Throttle {
    /// How long `key` stays locked at `now`, when it is.
    pub(super) fn locked(&self, key: &Key, now: OffsetDateTime) -> Option<Duration> {
        let entries = self.lock();
        let until = entries.get(key)?.locked_until?;
        remaining(until, now)
    }

    /// Counts a failure of `key` at `now`; returns `true` when this failure locks it (after
    /// `max_failures` within `window`, for `window`).
    pub(super) fn fail(&self, key: Key, max_failures: u32, window: Duration, now: OffsetDateTime) -> bool {
        let window = time::Duration::try_from(window).unwrap_or(time::Duration::MAX);
        let mut entries = self.lock();
        if !entries.contains_key(&key) && entries.len() >= MAX_KEYS {
            evict(&mut entries, window, now);
        }
        let fresh = Entry {
            window_start: now,
            failures: 0,
            locked_until: None,
        };
        let entry = entries.entry(key).or_insert(fresh);
        if entry.locked_until.is_some_and(|until| until <= now) || now - entry.window_start >= window {
            *entry = fresh;
        }
        if entry.locked_until.is_some() {
            return false;
        }
        entry.failures = entry.failures.saturating_add(1);
        if entry.failures >= max_failures {
            entry.locked_until = now.checked_add(window);
            return true;
        }
        false
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        // Counters are always whole: a panic elsewhere cannot leave one half-written.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Room for one more key: the stale ones go, and if none was, the one with the oldest window.
fn evict(entries: &mut HashMap<Key, Entry>, window: time::Duration, now: OffsetDateTime) {
    entries.retain(|_, e| now - e.window_start < window || e.locked_until.is_some_and(|u| u > now));
    if entries.len() < MAX_KEYS {
        return;
    }
    let oldest = entries
        .iter()
        .min_by_key(|(_, e)| e.window_start)
        .map(|(k, _)| k.clone());
    if let Some(oldest) = oldest {
        entries.remove(&oldest);
    }
}

/// The whole seconds (rounded up) from `now` to `until`, when `until` is later.
pub(super) fn remaining(until: OffsetDateTime, now: OffsetDateTime) -> Option<Duration> {
    let left = until - now;
    if !left.is_positive() {
        return None;
    }
    let whole = left.whole_seconds() + i64::from(left.subsec_nanoseconds() > 0);
    Some(Duration::from_secs(u64::try_from(whole).unwrap_or(u64::MAX)))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2024-05-01 10:00:00 UTC);
    const WINDOW: Duration = Duration::from_secs(900);

    fn ip(text: &str) -> Key {
        Key::address(text.parse().unwrap())
    }

    #[test]
    fn a_key_locks_at_its_threshold_for_the_window_then_starts_again() {
        let throttle = Throttle::default();
        let key = ip("192.0.2.7");
        assert!(!throttle.fail(key.clone(), 3, WINDOW, NOW));
        assert!(!throttle.fail(key.clone(), 3, WINDOW, NOW));
        assert_eq!(throttle.locked(&key, NOW), None);
        assert!(throttle.fail(key.clone(), 3, WINDOW, NOW));
        assert_eq!(throttle.locked(&key, NOW), Some(WINDOW));
        let later = NOW + time::Duration::seconds(899);
        assert_eq!(throttle.locked(&key, later), Some(Duration::from_secs(1)));
        let expired = NOW + time::Duration::seconds(900);
        assert_eq!(throttle.locked(&key, expired), None);
        assert!(!throttle.fail(key.clone(), 3, WINDOW, expired), "a fresh count");
        assert_eq!(
            throttle.locked(&ip("192.0.2.8"), NOW),
            None,
            "other keys are apart"
        );
    }

    #[test]
    fn failures_older_than_the_window_are_forgotten() {
        let throttle = Throttle::default();
        let key = ip("192.0.2.7");
        throttle.fail(key.clone(), 2, WINDOW, NOW);
        let later = NOW + time::Duration::seconds(901);
        assert!(!throttle.fail(key.clone(), 2, WINDOW, later));
        assert!(throttle.fail(key, 2, WINDOW, later));
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_block_and_mapped_v4_as_v4() {
        assert_eq!(ip("2001:db8:1:2:aaaa::1"), ip("2001:db8:1:2:bbbb::2"));
        assert_ne!(ip("2001:db8:1:2::1"), ip("2001:db8:1:3::1"));
        assert_eq!(ip("::ffff:192.0.2.7"), ip("192.0.2.7"));
        assert_eq!(Key::unknown_login(" Alice "), Key::unknown_login("alice"));
    }

    #[test]
    fn the_remaining_time_rounds_up_to_whole_seconds() {
        let until = NOW + time::Duration::milliseconds(1500);
        assert_eq!(remaining(until, NOW), Some(Duration::from_secs(2)));
        assert_eq!(remaining(NOW, NOW), None);
        assert_eq!(remaining(NOW, until), None);
    }
}
