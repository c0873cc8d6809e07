//! Configuration: every environment variable of SPEC §3, read once and validated before the port
//! opens. `RawConfig` only maps names; `Config::try_from(raw)` checks every value and names the
//! variable at fault.

mod parse;
mod raw;

use std::path::PathBuf;
use std::time::Duration;

use axum::http::HeaderName;

use parse::{bool_var, endpoint, header_list, header_name, number, service_url};
pub use raw::RawConfig;

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
    #[error("{} must be set when {trigger} is set (or unset every one of USERS_CRUD_ENDPOINT, UMS_CONFIG_CRUD_ENDPOINT, AUTH_SERVICE for embedded mode)", .missing.join(", "))]
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
        /// `GROUPS_CONFIG_DIR`.
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
    /// `AUTH0_JOB_POLLING_INTERVAL`.
    pub job_polling_interval: Duration,
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
    /// `HTTP_HOST` (new): the address to listen on; `0.0.0.0` by default, `127.0.0.1` in tests.
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
        let store = store_config(&raw)?;
        let auth = auth_config(&raw, matches!(store, StoreConfig::Embedded { .. }))?;
        Ok(Self {
            http_port: number(&raw.http_port, "HTTP_PORT", 3000u16)?,
            http_host: parse::ip_address(&raw.http_host)?,
            log_level: parse::log_level(&raw.log_level)?,
            rond: rond_config(&raw)?,
            timer: timer_config(&raw)?,
            headers: header_names(&raw)?,
            users: user_policy(&raw)?,
            bulk: bulk_config(&raw)?,
            downstream_timeout: Duration::from_millis(parse::positive(
                &raw.downstream_timeout_ms,
                "DOWNSTREAM_TIMEOUT_MS",
                10_000,
            )?),
            body_limit_bytes: parse::positive(
                &raw.request_body_limit_bytes,
                "REQUEST_BODY_LIMIT_BYTES",
                1_048_576,
            )?,
            store,
            auth,
        })
    }
}

fn store_config(raw: &RawConfig) -> Result<StoreConfig, ConfigError> {
    let mode_vars = [
        ("USERS_CRUD_ENDPOINT", &raw.users_crud_endpoint),
        ("UMS_CONFIG_CRUD_ENDPOINT", &raw.ums_config_crud_endpoint),
        ("AUTH_SERVICE", &raw.auth_service),
    ];
    let set: Vec<&str> = mode_vars
        .iter()
        .filter(|(_, v)| v.as_deref().is_some_and(|v| !v.trim().is_empty()))
        .map(|(name, _)| *name)
        .collect();
    if set.is_empty() {
        return Ok(StoreConfig::Embedded {
            data_dir: PathBuf::from(raw.data_dir.as_deref().unwrap_or("./data")),
            groups_dir: PathBuf::from(raw.groups_config_dir.as_deref().unwrap_or("./config/groups")),
        });
    }
    let auth_is_local = raw.auth_module.as_deref() == Some("local");
    let missing: Vec<&'static str> = mode_vars
        .iter()
        .filter(|(name, v)| {
            v.as_deref().is_none_or(|v| v.trim().is_empty()) && !(*name == "AUTH_SERVICE" && auth_is_local)
        })
        .map(|(name, _)| *name)
        .collect();
    if !missing.is_empty() {
        return Err(ConfigError::Missing {
            missing,
            trigger: set.join(", "),
        });
    }
    let required = |v: &Option<String>, var| endpoint(v.as_deref().unwrap_or_default(), var);
    Ok(StoreConfig::Crud(CrudConfig {
        base_url: service_url(
            raw.crud_service.as_deref().unwrap_or("crud-service"),
            "CRUD_SERVICE",
        )?,
        users_path: required(&raw.users_crud_endpoint, "USERS_CRUD_ENDPOINT")?,
        groups_path: required(&raw.ums_config_crud_endpoint, "UMS_CONFIG_CRUD_ENDPOINT")?,
        roles_path: parse::optional(&raw.roles_crud_endpoint)
            .map(|v| endpoint(v, "ROLES_CRUD_ENDPOINT"))
            .transpose()?,
        jobs_path: parse::optional(&raw.jobs_crud_endpoint)
            .map(|v| endpoint(v, "JOBS_CRUD_ENDPOINT"))
            .transpose()?,
    }))
}

fn auth_config(raw: &RawConfig, embedded: bool) -> Result<AuthConfig, ConfigError> {
    let module = match parse::optional(&raw.auth_module) {
        None if embedded => "local",
        None => "auth0Client",
        Some(m) => m,
    };
    match module {
        "local" => Ok(AuthConfig::Local {
            reset_webhook_url: parse::optional(&raw.password_reset_webhook_url)
                .map(|v| service_url(v, "PASSWORD_RESET_WEBHOOK_URL"))
                .transpose()?,
        }),
        "auth0Client" => {
            let Some(service) = parse::optional(&raw.auth_service) else {
                return Err(ConfigError::Missing {
                    missing: vec!["AUTH_SERVICE"],
                    trigger: "AUTH_MODULE=auth0Client".into(),
                });
            };
            Ok(AuthConfig::Auth0Client(Auth0Settings {
                base_url: service_url(service, "AUTH_SERVICE")?,
                connection: parse::optional(&raw.auth_connection).map(str::to_owned),
                change_password_path: endpoint(
                    parse::optional(&raw.auth_change_password_path).unwrap_or("/change-password"),
                    "AUTH_CHANGE_PASSWORD_PATH",
                )?,
                user_path_template: parse::user_path_template(&raw.auth_user_path)?,
            }))
        }
        other => Err(ConfigError::Invalid {
            var: "AUTH_MODULE",
            problem: format!("\"{other}\" is not a known module: expected auth0Client or local"),
        }),
    }
}

fn rond_config(raw: &RawConfig) -> Result<Option<RondConfig>, ConfigError> {
    if !bool_var(&raw.rond_enabled, "ROND_ENABLED", false)? {
        return Ok(None);
    }
    let subject_key = match parse::optional(&raw.rond_subject_key).unwrap_or("authUserId") {
        "authUserId" => SubjectKey::AuthUserId,
        "_id" => SubjectKey::Id,
        other => {
            return Err(ConfigError::Invalid {
                var: "ROND_SUBJECT_KEY",
                problem: format!("\"{other}\" is not allowed: expected authUserId or _id"),
            })
        }
    };
    Ok(Some(RondConfig {
        base_url: service_url(
            parse::optional(&raw.rond_service).unwrap_or("rond-service"),
            "ROND_SERVICE",
        )?,
        subject_key,
    }))
}

fn timer_config(raw: &RawConfig) -> Result<Option<TimerConfig>, ConfigError> {
    let Some(service) = parse::optional(&raw.timer_service) else {
        return Ok(None);
    };
    Ok(Some(TimerConfig {
        base_url: service_url(service, "TIMER_SERVICE")?,
        headers: header_list(&raw.timer_service_headers, "TIMER_SERVICE_HEADERS")?,
        callback_base_url: service_url(
            parse::optional(&raw.timer_callback_base_url).unwrap_or("http://user-manager-service"),
            "TIMER_CALLBACK_BASE_URL",
        )?,
    }))
}

fn header_names(raw: &RawConfig) -> Result<HeaderNames, ConfigError> {
    Ok(HeaderNames {
        user_id: header_name(&raw.userid_header_key, "USERID_HEADER_KEY", "miauserid")?,
        groups: header_name(&raw.groups_header_key, "GROUPS_HEADER_KEY", "miausergroups")?,
        client_type: header_name(&raw.clienttype_header_key, "CLIENTTYPE_HEADER_KEY", "client-type")?,
        backoffice: header_name(
            &raw.backoffice_header_key,
            "BACKOFFICE_HEADER_KEY",
            "isbackoffice",
        )?,
        user_properties: header_name(
            &raw.user_properties_header_key,
            "USER_PROPERTIES_HEADER_KEY",
            "miauserproperties",
        )?,
        additional: header_list(&raw.additional_headers_to_proxy, "ADDITIONAL_HEADERS_TO_PROXY")?,
    })
}

fn user_policy(raw: &RawConfig) -> Result<UserPolicy, ConfigError> {
    let length: usize = number(&raw.random_pwd_length, "RANDOM_PWD_LENGTH", 8)?;
    if !(4..=128).contains(&length) {
        return Err(ConfigError::Invalid {
            var: "RANDOM_PWD_LENGTH",
            problem: format!("{length} is out of range: expected 4 to 128 (a password needs an upper, a lower, a digit and a symbol)"),
        });
    }
    Ok(UserPolicy {
        hard_delete: bool_var(&raw.auth_hard_delete, "AUTH_HARD_DELETE", true)?,
        random_password: bool_var(&raw.random_pwd_gen, "RANDOM_PWD_GEN", true)?,
        random_password_length: length,
        custom_user_id_key: parse::optional(&raw.custom_user_id_key)
            .unwrap_or("sub")
            .to_owned(),
        userinfo_properties: raw
            .userinfo_additional_properties
            .as_deref()
            .map(parse::comma_list),
        enrichment: parse::optional(&raw.configuration_path)
            .map(parse::enrichment_file)
            .transpose()?,
    })
}

fn bulk_config(raw: &RawConfig) -> Result<BulkConfig, ConfigError> {
    let batch: usize = parse::positive(&raw.user_import_batch_size, "USER_IMPORT_BATCH_SIZE", 250)?;
    if batch > 10_000 {
        return Err(ConfigError::Invalid {
            var: "USER_IMPORT_BATCH_SIZE",
            problem: format!("{batch} is too large: expected 1 to 10000"),
        });
    }
    Ok(BulkConfig {
        import_batch_size: batch,
        import_max_file_bytes: parse::positive(
            &raw.import_max_file_bytes,
            "IMPORT_MAX_FILE_BYTES",
            52_428_800,
        )?,
        job_polling_interval: parse::duration(
            &raw.auth0_job_polling_interval,
            "AUTH0_JOB_POLLING_INTERVAL",
            Duration::from_secs(120),
        )?,
        job_lease: Duration::from_secs(parse::positive(
            &raw.jobs_lease_seconds,
            "JOBS_LEASE_SECONDS",
            30,
        )?),
        job_poll_interval: Duration::from_millis(parse::positive(
            &raw.jobs_poll_interval_ms,
            "JOBS_POLL_INTERVAL_MS",
            1000,
        )?),
        change_password_rate_per_second: parse::positive(
            &raw.auth0_bulk_change_password_rate_limit_per_second,
            "AUTH0_BULK_CHANGE_PASSWORD_RATE_LIMIT_PER_SECOND",
            2,
        )?,
    })
}

#[cfg(test)]
mod tests;
