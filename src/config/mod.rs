//! Configuration: every environment variable of SPEC §3, read once and validated before the port
//! opens. `RawConfig` only maps names; `Config::try_from(raw)` checks every value and names the
//! variable at fault.

mod authz;
mod consistency;
mod limits;
mod mode;
mod parse;
mod protection;
mod raw;
mod schedule;
mod sections;

use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::HeaderName;

pub use authz::{AuthzConfig, AuthzMode, MIN_CLIENT_SECRET_CHARS};
pub use consistency::{ConsistencyConfig, ReconcileMode};
pub use limits::{describe as describe_limit, InputLimits};
pub use mode::{CRUD_MODE_VARIABLES, DEFAULT_GROUPS_DIR};
use parse::number;
pub use protection::{LoginLockout, PasswordPolicy, ProtectionConfig};
pub use raw::RawConfig;
pub use schedule::{CronSchedule, PollSchedule};
use sections::{auth_config, bulk_config, header_names, rond_config, timer_config, user_policy};

/// A variable with a bad or missing value; the message names it and says what is expected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A value that cannot be used.
    #[error("{var}: {problem}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// What is wrong and what is expected.
        problem: String,
    },
    /// Variables a CRUD/Auth0 deployment needs that are not set.
    #[error("{} must be set when {trigger} is set (or unset {trigger} for embedded mode)", .missing.join(", "))]
    Missing {
        /// The missing variables.
        missing: Vec<&'static str>,
        /// The variables whose presence asked for them.
        trigger: String,
    },
    /// The environment could not be read at all.
    #[error("cannot read the environment: {0}")]
    Environment(String),
}

/// Where users, groups, roles and jobs live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreConfig {
    /// Collections of a Mia-Platform CRUD Service.
    Crud(CrudConfig),
    /// The embedded SQLite store under `data_dir` (SPEC §9).
    Embedded {
        /// `DATA_DIR`.
        data_dir: PathBuf,
        /// `GROUPS_CONFIG_DIR`; an empty path when set empty: no group files.
        groups_dir: PathBuf,
    },
}

/// The CRUD Service and its collection paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrudConfig {
    /// `CRUD_SERVICE` as a base URL (`http://crud-service`).
    pub base_url: String,
    /// `USERS_CRUD_ENDPOINT`.
    pub users_path: String,
    /// `UMS_CONFIG_CRUD_ENDPOINT`.
    pub groups_path: String,
    /// `ROLES_CRUD_ENDPOINT`.
    pub roles_path: Option<String>,
    /// `JOBS_CRUD_ENDPOINT`.
    pub jobs_path: Option<String>,
    /// `SAGA_CRUD_ENDPOINT` (new): the saga journal and idempotency records; the jobs
    /// collection when unset.
    pub saga_path: Option<String>,
    /// `AUDIT_CRUD_ENDPOINT` (new): the audit trail; unset, records are log lines only.
    pub audit_path: Option<String>,
}

/// Which authentication provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthConfig {
    /// The Mia-Platform Auth0 Client.
    Auth0Client(Auth0Settings),
    /// The built-in local provider (SPEC §9).
    Local {
        /// `PASSWORD_RESET_WEBHOOK_URL`.
        reset_webhook_url: Option<String>,
    },
}

/// Settings of the Auth0 Client adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth0Settings {
    /// `AUTH_SERVICE` as a base URL.
    pub base_url: String,
    /// `AUTH_CONNECTION`.
    pub connection: Option<String>,
    /// `AUTH_CHANGE_PASSWORD_PATH` (new; the Auth0 Client route is undocumented).
    pub change_password_path: String,
    /// `AUTH_USER_PATH` (new; `{id}` is replaced by the auth user id).
    pub user_path_template: String,
}

/// Role bindings through Rönd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RondConfig {
    /// `ROND_SERVICE` as a base URL.
    pub base_url: String,
    /// `ROND_SUBJECT_KEY`: which user field is the binding subject.
    pub subject_key: SubjectKey,
}

/// The user field used as the Rönd binding subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubjectKey {
    /// `authUserId` (default): what the gateway injects as `miauserid` with Auth0.
    AuthUserId,
    /// `_id`: the store id.
    Id,
}

/// Automatic blocking at `expirationDate` through the Timer Service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimerConfig {
    /// `TIMER_SERVICE` as a base URL.
    pub base_url: String,
    /// `TIMER_SERVICE_HEADERS`: incoming headers copied into the callback.
    pub headers: Vec<HeaderName>,
    /// `TIMER_CALLBACK_BASE_URL` (new): how the Timer Service reaches this service.
    pub callback_base_url: String,
}

/// Names of the Mia headers read from requests and forwarded downstream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderNames {
    /// `USERID_HEADER_KEY`.
    pub user_id: HeaderName,
    /// `GROUPS_HEADER_KEY`.
    pub groups: HeaderName,
    /// `CLIENTTYPE_HEADER_KEY`.
    pub client_type: HeaderName,
    /// `BACKOFFICE_HEADER_KEY`.
    pub backoffice: HeaderName,
    /// `USER_PROPERTIES_HEADER_KEY`.
    pub user_properties: HeaderName,
    /// `ADDITIONAL_HEADERS_TO_PROXY`.
    pub additional: Vec<HeaderName>,
}

/// `CONFIGURATION_PATH`: auth-provider fields added to `GET /users` results.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct Enrichment {
    /// The auth-provider field holding the id matched against `authUserId`.
    pub user_id: String,
    /// The auth-provider fields copied into each user.
    #[serde(rename = "additionalProperties", default)]
    pub additional_properties: Vec<String>,
}

/// User-lifecycle policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserPolicy {
    /// `AUTH_HARD_DELETE`.
    pub hard_delete: bool,
    /// `RANDOM_PWD_GEN`.
    pub random_password: bool,
    /// `RANDOM_PWD_LENGTH`.
    pub random_password_length: usize,
    /// `CUSTOM_USER_ID_KEY`.
    pub custom_user_id_key: String,
    /// `USERINFO_ADDITIONAL_PROPERTIES`: `None` = all, `Some([])` = none.
    pub userinfo_properties: Option<Vec<String>>,
    /// `CONFIGURATION_PATH`, read and parsed at startup.
    pub enrichment: Option<Enrichment>,
}

/// Bulk work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkConfig {
    /// `USER_IMPORT_BATCH_SIZE`.
    pub import_batch_size: usize,
    /// `IMPORT_MAX_FILE_BYTES`.
    pub import_max_file_bytes: usize,
    /// `AUTH0_JOB_POLLING_INTERVAL`: an interval or a cron expression.
    pub job_polling_interval: PollSchedule,
    /// `AUTH0_BULK_CHANGE_PASSWORD_RATE_LIMIT_PER_SECOND`.
    pub change_password_rate_per_second: u32,
    /// `JOBS_LEASE_SECONDS` (new): how long a replica holds a job without renewing its lease.
    pub job_lease: Duration,
    /// `JOBS_POLL_INTERVAL_MS` (new): how often a replica looks for due jobs.
    pub job_poll_interval: Duration,
}

/// The validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `HTTP_PORT` (0 picks a free port; tests use it).
    pub http_port: u16,
    /// `HTTP_HOST` (new): the address to listen on (a host name is resolved at startup, its first
    /// IPv4 address preferred); `0.0.0.0` by default, `127.0.0.1` in tests.
    pub http_host: std::net::IpAddr,
    /// `LOG_LEVEL`.
    pub log_level: tracing::Level,
    /// Store selection.
    pub store: StoreConfig,
    /// Auth provider selection.
    pub auth: AuthConfig,
    /// Rönd, when `ROND_ENABLED`.
    pub rond: Option<RondConfig>,
    /// Timer Service, when `TIMER_SERVICE` is set.
    pub timer: Option<TimerConfig>,
    /// Mia header names.
    pub headers: HeaderNames,
    /// User lifecycle policy.
    pub users: UserPolicy,
    /// Import and jobs.
    pub bulk: BulkConfig,
    /// `DOWNSTREAM_TIMEOUT_MS`.
    pub downstream_timeout: Duration,
    /// `REQUEST_BODY_LIMIT_BYTES` (new): largest JSON body accepted (413 above).
    pub body_limit_bytes: usize,
    /// `DATA_DIR` (new): where the embedded store and the local provider's key live.
    pub data_dir: std::path::PathBuf,
    /// `LIMIT_*` (new): bounds on every dimension of user input.
    pub limits: InputLimits,
    /// The saga journal's recovery and the reconciler (new).
    pub consistency: ConsistencyConfig,
    /// Access control (new): `AUTHZ_MODE` and the OAuth2 clients.
    pub authz: AuthzConfig,
    /// What the configuration sets that this service does not use, each with what to set
    /// instead: logged once at startup.
    pub warnings: Vec<String>,
    /// Login lockout, password policy and trusted proxies (new).
    pub protection: ProtectionConfig,
}

impl Config {
    /// Reads and validates the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_pairs(std::env::vars())
    }

    /// Reads and validates name/value pairs (tests use this instead of the process environment).
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let pairs = pairs.into_iter().map(|(k, v)| (k.into(), v.into()));
        let raw: RawConfig = envy::from_iter(pairs).map_err(|e| ConfigError::Environment(e.to_string()))?;
        Self::try_from(raw)
    }

    /// True when running on the embedded store.
    pub fn is_embedded(&self) -> bool {
        matches!(self.store, StoreConfig::Embedded { .. })
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = ConfigError;

    fn try_from(raw: RawConfig) -> Result<Self, ConfigError> {
        let store = mode::store_config(&raw)?;
        let auth = auth_config(&raw, matches!(store, StoreConfig::Embedded { .. }))?;
        let downstream_timeout = Duration::from_millis(parse::positive(
            &raw.downstream_timeout_ms,
            "DOWNSTREAM_TIMEOUT_MS",
            10_000,
        )?);
        let consistency = consistency::consistency_config(
            &raw,
            matches!(store, StoreConfig::Embedded { .. }),
            downstream_timeout,
        )?;
        let authz = authz::authz_config(&raw, matches!(store, StoreConfig::Embedded { .. }))?;
        let mut warnings = warnings(&raw);
        warnings.extend(mode::groups_warning(&raw, &store));
        if matches!(
            auth,
            AuthConfig::Local {
                reset_webhook_url: None
            }
        ) {
            warnings.push(DEV_RESET_TOKENS_WARNING.to_owned());
        }
        Ok(Self {
            http_port: parse::port(&raw.http_port)?,
            http_host: parse::listen_address(&raw.http_host)?,
            log_level: parse::log_level(&raw.log_level)?,
            rond: rond_config(&raw)?,
            timer: timer_config(&raw)?,
            headers: header_names(&raw)?,
            users: user_policy(&raw)?,
            bulk: bulk_config(&raw)?,
            downstream_timeout,
            body_limit_bytes: parse::positive(
                &raw.request_body_limit_bytes,
                "REQUEST_BODY_LIMIT_BYTES",
                1_048_576,
            )?,
            data_dir: std::path::PathBuf::from(parse::optional(&raw.data_dir).unwrap_or("./data")),
            limits: limits::limits_config(&raw)?,
            consistency,
            authz,
            warnings,
            protection: protection_for(&raw, &auth)?,
            store,
            auth,
        })
    }
}

/// The protection section; with the local provider, generated passwords (`RANDOM_PWD_LENGTH`)
/// must be long enough for the policy.
fn protection_for(raw: &RawConfig, auth: &AuthConfig) -> Result<ProtectionConfig, ConfigError> {
    let protection = protection::protection_config(raw)?;
    let generated = number(&raw.random_pwd_length, "RANDOM_PWD_LENGTH", 8usize)?;
    let bounds = protection.password.min_length..=protection.password.max_length;
    if matches!(auth, AuthConfig::Local { .. }) && !bounds.contains(&generated) {
        return Err(ConfigError::Invalid {
            var: "RANDOM_PWD_LENGTH",
            problem: format!(
                "{generated} is outside PASSWORD_MIN_LENGTH..PASSWORD_MAX_LENGTH ({}..{}): generated passwords must pass the password policy",
                bounds.start(),
                bounds.end()
            ),
        });
    }
    Ok(protection)
}

/// The startup warning of the local provider without a reset webhook.
pub const DEV_RESET_TOKENS_WARNING: &str =
    "no PASSWORD_RESET_WEBHOOK_URL: reset tokens are logged, for development only";

/// The Mia service's variables this one replaces: set without their replacement, each gives one
/// startup warning saying what to set instead.
fn warnings(raw: &RawConfig) -> Vec<String> {
    let mongo = [
        ("MONGODB_URL", &raw.mongodb_url),
        ("JOBS_COLLECTION_NAME", &raw.jobs_collection_name),
    ];
    let set: Vec<&str> = mongo
        .iter()
        .filter(|(_, value)| parse::optional(value).is_some())
        .map(|(name, _)| *name)
        .collect();
    match (set.is_empty(), parse::optional(&raw.jobs_crud_endpoint)) {
        (false, None) => vec![format!(
            "{} set: this service keeps its jobs in a CRUD collection, not in MongoDB directly — \
             set JOBS_CRUD_ENDPOINT (e.g. /jobs) to the CRUD Service collection of the jobs",
            set.join(" and ")
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_mode;
