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
    /// `DOWNSTREAM_TIMEOUT_MS`, by default that and at least 60 s. The reconciler leaves users changed within it
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{Config, ConfigError, StoreConfig};
    use super::ReconcileMode;

    fn crud(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut pairs = vec![
            ("USERS_CRUD_ENDPOINT", "/users"),
            ("UMS_CONFIG_CRUD_ENDPOINT", "/ums-config"),
            ("AUTH_SERVICE", "auth0-client"),
        ];
        pairs.extend_from_slice(extra);
        Config::from_pairs(pairs)
    }

    fn problem(result: Result<Config, ConfigError>) -> (&'static str, String) {
        match result {
            Err(ConfigError::Invalid { var, problem }) => (var, problem),
            other => panic!("expected an invalid variable, got {other:?}"),
        }
    }

    #[test]
    fn defaults_report_in_crud_mode_and_repair_in_embedded_mode() {
        let config = crud(&[]).unwrap().consistency;
        assert_eq!(config.reconcile_mode, ReconcileMode::Report);
        assert_eq!(
            config.recovery_grace,
            Duration::from_secs(120),
            "12 x the 10 s timeout"
        );
        assert_eq!(config.reconcile_interval, Some(Duration::from_secs(3600)));
        assert_eq!(config.reconcile_rate_per_second, 10);
        let embedded = Config::from_pairs(Vec::<(String, String)>::new()).unwrap();
        assert!(matches!(embedded.store, StoreConfig::Embedded { .. }));
        assert_eq!(embedded.consistency.reconcile_mode, ReconcileMode::Repair);
        let short = crud(&[("DOWNSTREAM_TIMEOUT_MS", "1000")]).unwrap().consistency;
        assert_eq!(
            short.recovery_grace,
            Duration::from_secs(60),
            "never below 60 s by default"
        );
    }

    #[test]
    fn every_variable_is_read() {
        let config = crud(&[
            ("SAGA_CRUD_ENDPOINT", "/sagas"),
            ("DOWNSTREAM_TIMEOUT_MS", "500"),
            ("SAGA_RECOVERY_GRACE_MS", "6000"),
            ("RECONCILE_MODE", "repair"),
            ("RECONCILE_INTERVAL", "10 minutes"),
            ("RECONCILE_RATE_PER_SECOND", "3"),
        ])
        .unwrap();
        let StoreConfig::Crud(store) = &config.store else {
            panic!("CRUD mode expected");
        };
        assert_eq!(store.saga_path.as_deref(), Some("/sagas"));
        let consistency = config.consistency;
        assert_eq!(consistency.recovery_grace, Duration::from_secs(6));
        assert_eq!(consistency.reconcile_mode, ReconcileMode::Repair);
        assert_eq!(consistency.reconcile_interval, Some(Duration::from_secs(600)));
        assert_eq!(consistency.reconcile_rate_per_second, 3);
        for off in ["off", "0"] {
            let config = crud(&[("RECONCILE_INTERVAL", off)]).unwrap();
            assert_eq!(config.consistency.reconcile_interval, None);
        }
    }

    #[test]
    fn a_grace_shorter_than_the_longest_create_is_refused() {
        let (var, message) = problem(crud(&[
            ("DOWNSTREAM_TIMEOUT_MS", "500"),
            ("SAGA_RECOVERY_GRACE_MS", "5999"),
        ]));
        assert_eq!(var, "SAGA_RECOVERY_GRACE_MS");
        assert!(message.contains("6000 ms"), "{message}");
    }

    #[test]
    fn bad_values_name_their_variable() {
        let (var, message) = problem(crud(&[("RECONCILE_MODE", "fix")]));
        assert_eq!(var, "RECONCILE_MODE");
        assert!(message.contains("report or repair"), "{message}");
        assert_eq!(
            problem(crud(&[("RECONCILE_INTERVAL", "soon")])).0,
            "RECONCILE_INTERVAL"
        );
        assert_eq!(
            problem(crud(&[("RECONCILE_RATE_PER_SECOND", "0")])).0,
            "RECONCILE_RATE_PER_SECOND"
        );
        assert_eq!(
            problem(crud(&[("SAGA_CRUD_ENDPOINT", "sagas")])).0,
            "SAGA_CRUD_ENDPOINT"
        );
    }
}
