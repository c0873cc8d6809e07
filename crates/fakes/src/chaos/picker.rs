//! The random fault settings, the seeded picker and the counters of injected faults.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// What a picked request suffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    /// 500 without applying the request.
    FailBefore,
    /// The request is applied, its answer replaced by a 500.
    FailAfter,
    /// Sleep the configured delay, then apply and answer normally.
    Delay,
    /// Close the connection without any response and without applying.
    DropBefore,
    /// Apply the request, then close the connection without any response.
    DropAfter,
}

impl FaultKind {
    /// The five kinds, in the order of the counters.
    pub const ALL: [FaultKind; 5] = [
        FaultKind::FailBefore,
        FaultKind::FailAfter,
        FaultKind::Delay,
        FaultKind::DropBefore,
        FaultKind::DropAfter,
    ];

    /// The camelCase name (`failBefore`, ...), as in the admin route.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::FailBefore => "failBefore",
            FaultKind::FailAfter => "failAfter",
            FaultKind::Delay => "delay",
            FaultKind::DropBefore => "dropBefore",
            FaultKind::DropAfter => "dropAfter",
        }
    }

    /// Parses a camelCase name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).unwrap_or_default()
    }
}

/// Random fault settings: each data request is picked with probability `rate`, then suffers one
/// of `kinds` (all five when empty), equally likely.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomFaults {
    /// Probability in `[0, 1]` that a data request is faulted; 0 turns faults off.
    pub rate: f64,
    /// Sleep of the `delay` kind.
    pub delay: Duration,
    /// Seed of the picker; `None` = from entropy.
    pub seed: Option<u64>,
    /// The kinds to pick from; empty = all five.
    pub kinds: Vec<FaultKind>,
}

impl Default for RandomFaults {
    /// Off (rate 0), 1500 ms delay, entropy seed, all kinds.
    fn default() -> Self {
        Self {
            rate: 0.0,
            delay: Duration::from_millis(1500),
            seed: None,
            kinds: Vec::new(),
        }
    }
}

impl RandomFaults {
    /// Faults at `rate` (clamped to `[0, 1]`), the other settings at their defaults.
    pub fn rate(rate: f64) -> Self {
        Self {
            rate: clamp_rate(rate),
            ..Self::default()
        }
    }

    /// Sets the delay of the `delay` kind.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Seeds the picker.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Restricts the picked kinds (empty = all five).
    pub fn with_kinds(mut self, kinds: &[FaultKind]) -> Self {
        self.kinds = kinds.to_vec();
        self
    }
}

/// The command-line flags of [`RandomFaults::apply_flag`], for usage texts.
pub const FAULT_FLAGS_USAGE: &str =
    "[--fault-rate 0..1] [--fault-delay-ms N] [--fault-seed N] [--fault-kinds failBefore,failAfter,delay,dropBefore,dropAfter]";

impl RandomFaults {
    /// Applies the binaries' flag `flag` with `value`: `--fault-rate`, `--fault-delay-ms`,
    /// `--fault-seed`, `--fault-kinds` (comma list). `Ok(false)` for any other flag.
    pub fn apply_flag(&mut self, flag: &str, value: &str) -> Result<bool, String> {
        match flag {
            "--fault-rate" => {
                let rate: f64 = value.parse().map_err(|e| format!("--fault-rate: {e}"))?;
                if !(0.0..=1.0).contains(&rate) {
                    return Err(format!("--fault-rate must be between 0 and 1: {value}"));
                }
                self.rate = rate;
            }
            "--fault-delay-ms" => {
                let ms = value.parse().map_err(|e| format!("--fault-delay-ms: {e}"))?;
                self.delay = Duration::from_millis(ms);
            }
            "--fault-seed" => self.seed = Some(value.parse().map_err(|e| format!("--fault-seed: {e}"))?),
            "--fault-kinds" => {
                self.kinds = value
                    .split(',')
                    .filter(|k| !k.trim().is_empty())
                    .map(|k| {
                        FaultKind::parse(k.trim()).ok_or_else(|| format!("--fault-kinds: unknown kind {k}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn clamp_rate(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

/// The settings and counters, as `GET /-/faults` answers them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultStats {
    /// Current rate.
    pub rate: f64,
    /// Current delay of the `delay` kind, in ms.
    pub delay_ms: u64,
    /// The kinds picked from.
    pub kinds: Vec<FaultKind>,
    /// Injected faults by kind name (every kind present).
    pub injected: serde_json::Map<String, serde_json::Value>,
    /// Data requests seen (faulted or not).
    pub requests: u64,
}

impl FaultStats {
    /// Injected faults of `kind`.
    pub fn injected_of(&self, kind: FaultKind) -> u64 {
        self.injected
            .get(kind.name())
            .and_then(serde_json::Value::as_u64)
            .unwrap_or_default()
    }
}

/// A fault forced on the next requests matching a method and a path prefix.
#[derive(Debug)]
struct Forced {
    method: String,
    prefix: String,
    kind: FaultKind,
    remaining: usize,
}

#[derive(Debug)]
struct Inner {
    forced: Vec<Forced>,
    rate: f64,
    delay: Duration,
    kinds: Vec<FaultKind>,
    rng: StdRng,
    injected: [u64; 5],
    requests: u64,
}

/// The random fault controller of one fake: settings, seeded picker and counters. Cheap to
/// share behind an `Arc`; settings can change while the fake serves.
#[derive(Debug)]
pub struct Chaos {
    /// The fake's name, in the messages of injected errors.
    name: &'static str,
    inner: Mutex<Inner>,
}

impl Chaos {
    /// A controller with `settings`, for the fake `name`.
    pub fn new(name: &'static str, settings: &RandomFaults) -> Self {
        let rng = settings
            .seed
            .map_or_else(StdRng::from_entropy, StdRng::seed_from_u64);
        Self {
            name,
            inner: Mutex::new(Inner {
                forced: Vec::new(),
                rate: clamp_rate(settings.rate),
                delay: settings.delay,
                kinds: all_if_empty(&settings.kinds),
                rng,
                injected: [0; 5],
                requests: 0,
            }),
        }
    }

    /// The fake's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the settings (a seed reseeds the picker; `None` keeps its sequence). Counters
    /// are kept.
    pub fn set(&self, settings: &RandomFaults) {
        self.update(
            Some(settings.rate),
            Some(settings.delay),
            Some(&settings.kinds),
            settings.seed,
        );
    }

    /// Changes the given settings only.
    pub(crate) fn update(
        &self,
        rate: Option<f64>,
        delay: Option<Duration>,
        kinds: Option<&[FaultKind]>,
        seed: Option<u64>,
    ) {
        let mut inner = self.lock();
        if let Some(rate) = rate {
            inner.rate = clamp_rate(rate);
        }
        if let Some(delay) = delay {
            inner.delay = delay;
        }
        if let Some(kinds) = kinds {
            inner.kinds = all_if_empty(kinds);
        }
        if let Some(seed) = seed {
            inner.rng = StdRng::seed_from_u64(seed);
        }
    }

    /// Turns random faults off (rate 0).
    pub fn off(&self) {
        self.lock().rate = 0.0;
    }

    /// The settings and counters.
    pub fn stats(&self) -> FaultStats {
        let inner = self.lock();
        let injected = FaultKind::ALL
            .iter()
            .map(|kind| (kind.name().to_owned(), inner.injected[kind.index()].into()))
            .collect();
        FaultStats {
            rate: inner.rate,
            delay_ms: u64::try_from(inner.delay.as_millis()).unwrap_or(u64::MAX),
            kinds: inner.kinds.clone(),
            injected,
            requests: inner.requests,
        }
    }

    /// The next `count` data requests with `method` (`*`: any) whose path starts with
    /// `path_prefix` suffer `kind` (before any random fault; a delay takes the configured
    /// `delayMs`). For tests of one exact call.
    pub fn force_next(&self, method: &str, path_prefix: &str, kind: FaultKind, count: usize) {
        self.lock().forced.push(Forced {
            method: method.to_owned(),
            prefix: path_prefix.to_owned(),
            kind,
            remaining: count,
        });
    }

    /// Counts a data request and decides its fault, if any (with the delay to apply): a forced
    /// one first, else a random one.
    pub(crate) fn pick(&self, method: &str, path: &str) -> Option<(FaultKind, Duration)> {
        let mut inner = self.lock();
        inner.requests += 1;
        let forced = inner.forced.iter_mut().find(|f| {
            f.remaining > 0
                && (f.method == "*" || f.method.eq_ignore_ascii_case(method))
                && path.starts_with(&f.prefix)
        });
        if let Some(forced) = forced {
            forced.remaining -= 1;
            let kind = forced.kind;
            inner.forced.retain(|f| f.remaining > 0);
            inner.injected[kind.index()] += 1;
            return Some((kind, inner.delay));
        }
        if inner.rate <= 0.0 || inner.kinds.is_empty() {
            return None;
        }
        let rate = inner.rate;
        if !inner.rng.gen_bool(rate) {
            return None;
        }
        let n = inner.kinds.len();
        let at = inner.rng.gen_range(0..n);
        let kind = *inner.kinds.get(at)?;
        inner.injected[kind.index()] += 1;
        Some((kind, inner.delay))
    }
}

fn all_if_empty(kinds: &[FaultKind]) -> Vec<FaultKind> {
    if kinds.is_empty() {
        FaultKind::ALL.to_vec()
    } else {
        let mut unique = Vec::new();
        for kind in kinds {
            if !unique.contains(kind) {
                unique.push(*kind);
            }
        }
        unique
    }
}

#[cfg(test)]
#[path = "picker_tests.rs"]
mod tests;
