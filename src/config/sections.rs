//! Builders of each configuration section from the raw variables (mode selection is in
//! `mode.rs`).

use std::time::Duration;

use super::parse::{self, bool_var, endpoint, header_list, header_name, number, service_url};
use super::{
    Auth0Settings, AuthConfig, BulkConfig, ConfigError, HeaderNames, PollSchedule, RawConfig, RondConfig,
    SubjectKey, TimerConfig, UserPolicy,
};

pub(super) fn auth_config(raw: &RawConfig, embedded: bool) -> Result<AuthConfig, ConfigError> {
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

pub(super) fn rond_config(raw: &RawConfig) -> Result<Option<RondConfig>, ConfigError> {
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

pub(super) fn timer_config(raw: &RawConfig) -> Result<Option<TimerConfig>, ConfigError> {
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

pub(super) fn header_names(raw: &RawConfig) -> Result<HeaderNames, ConfigError> {
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

pub(super) fn user_policy(raw: &RawConfig) -> Result<UserPolicy, ConfigError> {
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

pub(super) fn bulk_config(raw: &RawConfig) -> Result<BulkConfig, ConfigError> {
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
        job_polling_interval: match parse::optional(&raw.auth0_job_polling_interval) {
            None => PollSchedule::default(),
            Some(text) => PollSchedule::parse(text).map_err(|problem| ConfigError::Invalid {
                var: "AUTH0_JOB_POLLING_INTERVAL",
                problem,
            })?,
        },
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
