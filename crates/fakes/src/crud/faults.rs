//! Fault injection (forced error statuses and delays) and request counting.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use axum::http::Method;

use super::lock;

#[derive(Debug, Clone, Copy)]
enum Effect {
    Fail(u16),
    Delay(Duration),
}

#[derive(Debug)]
struct Fault {
    method: Method,
    prefix: String,
    effect: Effect,
    remaining: usize,
}

/// What an incoming request must suffer before being served.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Injected {
    /// Sleep this long first.
    pub delay: Option<Duration>,
    /// Then answer this status instead of serving.
    pub fail: Option<u16>,
}

/// The pending faults and the request counters of a fake.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pending: AtomicUsize,
    faults: Mutex<Vec<Fault>>,
    counts: Mutex<HashMap<(Method, String), usize>>,
}

impl Faults {
    /// Queues `count` failures with `status` for requests matching `method` and `prefix`.
    pub fn fail_next(&self, method: Method, prefix: &str, status: u16, count: usize) {
        self.push(method, prefix, Effect::Fail(status), count);
    }

    /// Queues `count` delays for requests matching `method` and `prefix`.
    pub fn delay_next(&self, method: Method, prefix: &str, delay: Duration, count: usize) {
        self.push(method, prefix, Effect::Delay(delay), count);
    }

    fn push(&self, method: Method, prefix: &str, effect: Effect, count: usize) {
        if count == 0 {
            return;
        }
        let mut faults = lock(&self.faults);
        faults.push(Fault {
            method,
            prefix: prefix.to_owned(),
            effect,
            remaining: count,
        });
        self.pending.store(faults.len(), Ordering::Release);
    }

    /// Drops every pending fault.
    pub fn clear(&self) {
        let mut faults = lock(&self.faults);
        faults.clear();
        self.pending.store(0, Ordering::Release);
    }

    /// Counts the request and takes the faults it triggers (at most one delay and one failure).
    pub fn on_request(&self, method: &Method, path: &str) -> Injected {
        *lock(&self.counts)
            .entry((method.clone(), path.to_owned()))
            .or_insert(0) += 1;
        let mut injected = Injected::default();
        if self.pending.load(Ordering::Acquire) == 0 {
            return injected;
        }
        let mut faults = lock(&self.faults);
        for fault in faults.iter_mut() {
            if fault.remaining == 0 || fault.method != *method || !path.starts_with(&fault.prefix) {
                continue;
            }
            match fault.effect {
                Effect::Delay(d) if injected.delay.is_none() => injected.delay = Some(d),
                Effect::Fail(s) if injected.fail.is_none() => injected.fail = Some(s),
                _ => continue,
            }
            fault.remaining -= 1;
        }
        faults.retain(|f| f.remaining > 0);
        self.pending.store(faults.len(), Ordering::Release);
        injected
    }

    /// Requests seen so far with `method` and a path starting with `prefix`.
    pub fn request_count(&self, method: &Method, prefix: &str) -> usize {
        lock(&self.counts)
            .iter()
            .filter(|((m, path), _)| m == method && path.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    }

    /// Resets every request counter.
    pub fn reset_counts(&self) {
        lock(&self.counts).clear();
    }
}
