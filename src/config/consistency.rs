//! The consistency settings (new): the saga journal's recovery grace, and the reconciler's
//! mode, schedule and pace (`SAGA_RECOVERY_GRACE_MS`, `RECONCILE_MODE`, `RECONCILE_INTERVAL`,
//! `RECONCILE_RATE_PER_SECOND`).

use std::time::Duration;

use super::{parse, ConfigError, RawConfig};

/// What a reconcile pass does with what it finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReconcileMode {
    /// Counts and lists the inconsistencies, changes nothing.
    Report,
    /// Also repairs what is safe to repair.
    Repair,
}

impl ReconcileMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Report => "report",
            Self::Repair => "repair",
        }
    }
}

/// How the two systems are kept consistent after faults and crashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyConfig {
    /// `SAGA_RECOVERY_GRACE_MS`: how long an intent may stay open before the recovery worker
    /// finishes or rolls it back (its request is presumed dead after this); at least 12 times
    /// `DOWNSTREAM_TIMEOUT_MS`, 60 s by default. The reconciler leaves users changed within it
    /// alone too.
    pub recovery_grace: Duration,
    /// `RECONCILE_MODE`: `report` (default in CRUD mode) or `repair` (default in embedded mode).
    pub reconcile_mode: ReconcileMode,
    /// `RECONCILE_INTERVAL`: how often a scheduled reconcile pass starts; `None` (`off`): only on
    /// demand.
    pub reconcile_interval: Option<Duration>,
    /// `RECONCILE_RATE_PER_SECOND`: the most auth provider calls a reconcile pass makes a second.
    pub reconcile_rate_per_second: u32,
}

/// How many downstream calls, one after the other, the longest saga (a create) makes at most:
/// the recovery grace must outlast them all, or the worker would roll back a create in flight.
pub const LONGEST_SAGA_CALLS: u32 = 12;

pub(super) fn consistency_config(
    raw: &RawConfig,
    embedded: bool,
    downstream_timeout: Duration,
) -> Result<ConsistencyConfig, ConfigError> {
    let reconcile_mode = match parse::optional(&raw.reconcile_mode) {
        None if embedded => ReconcileMode::Repair,
        None => ReconcileMode::Report,
        Some("report") => ReconcileMode::Report,
        Some("repair") => ReconcileMode::Repair,
        Some(other) => {
            return Err(ConfigError::Invalid {
                var: "RECONCILE_MODE",
                problem: format!("\"{other}\" is not a mode: expected report or repair"),
            })
        }
    };
    let reconcile_interval = match parse::optional(&raw.reconcile_interval) {
        Some("off" | "0") => None,
        _ => Some(parse::duration(
            &raw.reconcile_interval,
            "RECONCILE_INTERVAL",
            Duration::from_secs(3600),
        )?),
    };
    let shortest_grace = downstream_timeout * LONGEST_SAGA_CALLS;
    let recovery_grace = Duration::from_millis(parse::positive(
        &raw.saga_recovery_grace_ms,
        "SAGA_RECOVERY_GRACE_MS",
        shortest_grace.max(Duration::from_secs(60)).as_millis() as u64,
    )?);
    if recovery_grace < shortest_grace {
        return Err(ConfigError::Invalid {
            var: "SAGA_RECOVERY_GRACE_MS",
            problem: format!(
                "{} ms is shorter than the longest request ({LONGEST_SAGA_CALLS} calls of DOWNSTREAM_TIMEOUT_MS = {} ms): \
                 the recovery worker would roll back creates still in flight",
                recovery_grace.as_millis(),
                shortest_grace.as_millis()
            ),
        });
    }
    Ok(ConsistencyConfig {
        recovery_grace,
        reconcile_mode,
        reconcile_interval,
        reconcile_rate_per_second: parse::positive(
            &raw.reconcile_rate_per_second,
            "RECONCILE_RATE_PER_SECOND",
            10,
        )?,
    })
}
