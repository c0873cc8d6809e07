//! Tests of every configuration rule, on name/value pairs (never the process environment).

use std::time::Duration;

use super::*;

fn crud_mode() -> Vec<(&'static str, &'static str)> {
    vec![
        ("USERS_CRUD_ENDPOINT", "/users"),
        ("UMS_CONFIG_CRUD_ENDPOINT", "/ums-config"),
        ("AUTH_SERVICE", "auth0-client"),
    ]
}

fn with(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
    let mut pairs = crud_mode();
    pairs.retain(|(k, _)| extra.iter().all(|(e, _)| e != k));
    pairs.extend_from_slice(extra);
    Config::from_pairs(pairs)
}

fn invalid_var(result: Result<Config, ConfigError>) -> &'static str {
    match result {
        Err(ConfigError::Invalid { var, .. }) => var,
        other => panic!("expected an invalid variable, got {other:?}"),
    }
}

#[test]
fn no_crud_or_auth_variable_selects_embedded_mode_with_local_auth() {
    let config = Config::from_pairs(Vec::<(String, String)>::new()).unwrap();
    assert_eq!(
        config.store,
        StoreConfig::Embedded {
            data_dir: "./data".into(),
            groups_dir: "./config/groups".into()
        }
    );
    let local = AuthConfig::Local {
        reset_webhook_url: None,
    };
    assert_eq!((&config.auth, config.http_port), (&local, 3000));
    assert_eq!(config.warnings, [super::DEV_RESET_TOKENS_WARNING]);
    let hooked = Config::from_pairs([("PASSWORD_RESET_WEBHOOK_URL", "http://hook/reset")]).unwrap();
    assert!(hooked.warnings.is_empty());
}

#[test]
fn audit_crud_endpoint_is_a_collection_path() {
    let config = with(&[("AUDIT_CRUD_ENDPOINT", "/audit")]).unwrap();
    let StoreConfig::Crud(crud) = &config.store else {
        panic!("not crud mode")
    };
    assert_eq!(crud.audit_path.as_deref(), Some("/audit"));
    assert_eq!(
        invalid_var(with(&[("AUDIT_CRUD_ENDPOINT", "audit")])),
        "AUDIT_CRUD_ENDPOINT"
    );
}

#[test]
fn crud_mode_uses_mia_defaults() {
    let config = with(&[]).unwrap();
    let StoreConfig::Crud(crud) = &config.store else {
        panic!("not crud mode")
    };
    assert_eq!(crud.base_url, "http://crud-service");
    assert_eq!(crud.users_path, "/users");
    assert_eq!(crud.groups_path, "/ums-config");
    assert_eq!(crud.roles_path, None);
    assert_eq!(crud.audit_path, None, "no audit collection: log lines");
    let AuthConfig::Auth0Client(auth) = &config.auth else {
        panic!("not auth0")
    };
    assert_eq!(auth.base_url, "http://auth0-client");
    assert_eq!(auth.change_password_path, "/change-password");
    assert_eq!(auth.user_path_template, "/users/{id}");
    assert!(config.users.hard_delete);
    assert!(config.users.random_password);
    assert_eq!(config.users.random_password_length, 8);
    assert_eq!(config.users.custom_user_id_key, "sub");
    assert_eq!(config.users.userinfo_properties, None);
    assert_eq!(config.bulk.import_batch_size, 250);
    assert_eq!(config.bulk.import_max_file_bytes, 52_428_800);
    assert_eq!(
        config.bulk.job_polling_interval,
        PollSchedule::Every(Duration::from_secs(120))
    );
    assert_eq!(config.bulk.change_password_rate_per_second, 2);
    assert_eq!(config.bulk.job_lease, Duration::from_secs(30));
    assert_eq!(config.bulk.job_poll_interval, Duration::from_millis(1000));
    assert_eq!(config.downstream_timeout, Duration::from_millis(10_000));
    assert_eq!(config.headers.user_id.as_str(), "miauserid");
    assert_eq!(config.headers.client_type.as_str(), "client-type");
    assert!(config.rond.is_none());
    assert!(config.timer.is_none());
}

#[test]
fn a_partial_crud_configuration_is_refused_naming_what_is_missing() {
    let err = Config::from_pairs([("USERS_CRUD_ENDPOINT", "/users")]).unwrap_err();
    match &err {
        ConfigError::Missing { missing, trigger } => {
            assert_eq!(missing, &vec!["UMS_CONFIG_CRUD_ENDPOINT", "AUTH_SERVICE"]);
            assert_eq!(trigger, "USERS_CRUD_ENDPOINT");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err
        .to_string()
        .starts_with("UMS_CONFIG_CRUD_ENDPOINT, AUTH_SERVICE must be set"));
}

#[test]
fn auth_service_alone_never_falls_back_to_embedded_storage() {
    let err = Config::from_pairs([("AUTH_SERVICE", "auth0-client")]).unwrap_err();
    assert!(
        matches!(err, ConfigError::Missing { ref missing, .. } if missing == &vec!["USERS_CRUD_ENDPOINT", "UMS_CONFIG_CRUD_ENDPOINT"])
    );
}

#[test]
fn crud_store_with_local_auth_needs_no_auth_service() {
    let config = Config::from_pairs([
        ("USERS_CRUD_ENDPOINT", "/users"),
        ("UMS_CONFIG_CRUD_ENDPOINT", "/ums-config"),
        ("AUTH_MODULE", "local"),
    ])
    .unwrap();
    assert!(matches!(config.store, StoreConfig::Crud(_)));
    assert!(matches!(config.auth, AuthConfig::Local { .. }));
}

#[test]
fn embedded_mode_with_auth0_client_module_requires_auth_service() {
    let err = Config::from_pairs([("AUTH_MODULE", "auth0Client")]).unwrap_err();
    assert!(matches!(err, ConfigError::Missing { ref missing, .. } if missing == &vec!["AUTH_SERVICE"]));
}

#[test]
fn each_bad_value_names_its_variable() {
    assert_eq!(invalid_var(with(&[("HTTP_PORT", "http")])), "HTTP_PORT");
    assert_eq!(invalid_var(with(&[("HTTP_PORT", "70000")])), "HTTP_PORT");
    assert_eq!(invalid_var(with(&[("HTTP_HOST", "localhost:80")])), "HTTP_HOST");
    assert_eq!(invalid_var(with(&[("LOG_LEVEL", "loud")])), "LOG_LEVEL");
    assert_eq!(invalid_var(with(&[("AUTH_MODULE", "ldap")])), "AUTH_MODULE");
    assert_eq!(
        invalid_var(with(&[("AUTH_HARD_DELETE", "yes")])),
        "AUTH_HARD_DELETE"
    );
    assert_eq!(
        invalid_var(with(&[("RANDOM_PWD_GEN", "maybe")])),
        "RANDOM_PWD_GEN"
    );
    assert_eq!(
        invalid_var(with(&[("RANDOM_PWD_LENGTH", "2")])),
        "RANDOM_PWD_LENGTH"
    );
    assert_eq!(
        invalid_var(with(&[("USERS_CRUD_ENDPOINT", "users")])),
        "USERS_CRUD_ENDPOINT"
    );
    assert_eq!(
        invalid_var(with(&[("ROLES_CRUD_ENDPOINT", "roles")])),
        "ROLES_CRUD_ENDPOINT"
    );
    assert_eq!(
        invalid_var(with(&[("CRUD_SERVICE", "ftp://crud")])),
        "CRUD_SERVICE"
    );
    assert_eq!(
        invalid_var(with(&[("ROND_ENABLED", "true"), ("ROND_SUBJECT_KEY", "email")])),
        "ROND_SUBJECT_KEY"
    );
    assert_eq!(
        invalid_var(with(&[("USER_IMPORT_BATCH_SIZE", "0")])),
        "USER_IMPORT_BATCH_SIZE"
    );
    assert_eq!(
        invalid_var(with(&[("USER_IMPORT_BATCH_SIZE", "20000")])),
        "USER_IMPORT_BATCH_SIZE"
    );
    assert_eq!(
        invalid_var(with(&[("IMPORT_MAX_FILE_BYTES", "-1")])),
        "IMPORT_MAX_FILE_BYTES"
    );
    assert_eq!(
        invalid_var(with(&[("AUTH0_JOB_POLLING_INTERVAL", "soon")])),
        "AUTH0_JOB_POLLING_INTERVAL"
    );
    assert_eq!(
        invalid_var(with(&[("AUTH0_BULK_CHANGE_PASSWORD_RATE_LIMIT_PER_SECOND", "0")])),
        "AUTH0_BULK_CHANGE_PASSWORD_RATE_LIMIT_PER_SECOND"
    );
    assert_eq!(
        invalid_var(with(&[("DOWNSTREAM_TIMEOUT_MS", "0")])),
        "DOWNSTREAM_TIMEOUT_MS"
    );
    assert_eq!(
        invalid_var(with(&[("USERID_HEADER_KEY", "bad header")])),
        "USERID_HEADER_KEY"
    );
    assert_eq!(
        invalid_var(with(&[("ADDITIONAL_HEADERS_TO_PROXY", "ok,not ok")])),
        "ADDITIONAL_HEADERS_TO_PROXY"
    );
    assert_eq!(
        invalid_var(with(&[("AUTH_USER_PATH", "/users/id")])),
        "AUTH_USER_PATH"
    );
    assert_eq!(
        invalid_var(with(&[("CONFIGURATION_PATH", "/nonexistent/ums.json")])),
        "CONFIGURATION_PATH"
    );
}

#[test]
fn error_messages_say_what_is_expected() {
    let err = with(&[("HTTP_PORT", "http")]).unwrap_err();
    assert_eq!(err.to_string(), "HTTP_PORT: \"http\" is not a valid number");
    let err = with(&[("AUTH_HARD_DELETE", "yes")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "AUTH_HARD_DELETE: \"yes\" is not a boolean: expected true or false"
    );
}

#[test]
fn polling_interval_accepts_words_seconds_and_cron() {
    let every = |s| PollSchedule::Every(Duration::from_secs(s));
    let config = with(&[("AUTH0_JOB_POLLING_INTERVAL", "30 seconds")]).unwrap();
    assert_eq!(config.bulk.job_polling_interval, every(30));
    let config = with(&[("AUTH0_JOB_POLLING_INTERVAL", "45")]).unwrap();
    assert_eq!(config.bulk.job_polling_interval, every(45));
    let config = with(&[("AUTH0_JOB_POLLING_INTERVAL", "*/2 * * * *")]).unwrap();
    let PollSchedule::Cron(cron) = config.bulk.job_polling_interval else {
        panic!("not a cron schedule: {:?}", config.bulk.job_polling_interval)
    };
    assert_eq!(cron.expression(), "*/2 * * * *");
    let err = with(&[("AUTH0_JOB_POLLING_INTERVAL", "every now and then")]).unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("AUTH0_JOB_POLLING_INTERVAL: "), "{message}");
    assert!(
        message.contains("a duration (seconds, or e.g. \"2 minutes\")"),
        "{message}"
    );
    assert!(
        message.contains("a cron expression (5 fields, e.g. \"*/2 * * * *\""),
        "{message}"
    );
}

#[test]
fn userinfo_properties_distinguish_unset_from_empty() {
    assert_eq!(with(&[]).unwrap().users.userinfo_properties, None);
    assert_eq!(
        with(&[("USERINFO_ADDITIONAL_PROPERTIES", "")])
            .unwrap()
            .users
            .userinfo_properties,
        Some(vec![])
    );
    assert_eq!(
        with(&[("USERINFO_ADDITIONAL_PROPERTIES", "name, permissions")])
            .unwrap()
            .users
            .userinfo_properties,
        Some(vec!["name".to_owned(), "permissions".to_owned()])
    );
}

#[test]
fn service_hosts_become_base_urls() {
    let config = with(&[
        ("CRUD_SERVICE", "http://127.0.0.1:8080/"),
        ("ROND_ENABLED", "true"),
        ("TIMER_SERVICE", "timer"),
    ])
    .unwrap();
    let StoreConfig::Crud(crud) = &config.store else {
        panic!("not crud mode")
    };
    assert_eq!(crud.base_url, "http://127.0.0.1:8080");
    let rond = config.rond.unwrap();
    assert_eq!(rond.base_url, "http://rond-service");
    assert_eq!(rond.subject_key, SubjectKey::AuthUserId);
    let timer = config.timer.unwrap();
    assert_eq!(timer.base_url, "http://timer");
    assert_eq!(timer.callback_base_url, "http://user-manager-service");
}

#[test]
fn header_names_are_lower_cased_and_listed() {
    let config = with(&[
        ("USERID_HEADER_KEY", "X-User"),
        ("ADDITIONAL_HEADERS_TO_PROXY", "acl_rows, Cookie,x-custom"),
    ])
    .unwrap();
    assert_eq!(config.headers.user_id.as_str(), "x-user");
    let names: Vec<&str> = config.headers.additional.iter().map(|h| h.as_str()).collect();
    assert_eq!(names, ["acl_rows", "cookie", "x-custom"]);
}

#[test]
fn configuration_path_is_read_at_startup() {
    let dir = std::env::temp_dir().join(format!("ums-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("enrich.json");
    std::fs::write(
        &path,
        r#"{"user_id":"user_id","additionalProperties":["last_login","logins_count"]}"#,
    )
    .unwrap();
    let path_str = path.to_str().unwrap().to_owned();
    let mut pairs: Vec<(String, String)> = crud_mode()
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    pairs.push(("CONFIGURATION_PATH".into(), path_str));
    let config = Config::from_pairs(pairs).unwrap();
    let enrichment = config.users.enrichment.unwrap();
    assert_eq!(enrichment.user_id, "user_id");
    assert_eq!(enrichment.additional_properties, ["last_login", "logins_count"]);
    std::fs::write(&path, "not json").unwrap();
    let mut pairs: Vec<(String, String)> = crud_mode()
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    pairs.push(("CONFIGURATION_PATH".into(), path.to_str().unwrap().into()));
    assert!(matches!(
        Config::from_pairs(pairs),
        Err(ConfigError::Invalid {
            var: "CONFIGURATION_PATH",
            ..
        })
    ));
}

#[test]
fn input_limits_have_defaults_and_are_bounded_by_what_the_stores_read_back() {
    let config = with(&[]).unwrap();
    assert_eq!(config.limits, InputLimits::default());
    assert_eq!(config.limits.document.max_depth, 32);
    let config = with(&[
        ("LIMIT_DOCUMENT_DEPTH", "8"),
        ("LIMIT_FIELD_PATH_BYTES", "64"),
        ("LIMIT_ARRAY_LENGTH", "50"),
        ("LIMIT_QUERY_STRING_BYTES", "1000"),
        ("LIMIT_CSV_COLUMNS", "10"),
        ("LIMIT_GROUP_SCHEMA_BYTES", "2048"),
        ("LIMIT_VIOLATIONS_REPORTED", "3"),
    ])
    .unwrap();
    let expected = InputLimits {
        document: docquery::Limits {
            max_depth: 8,
            max_path_bytes: 64,
            max_array_len: 50,
        },
        query_string_bytes: 1000,
        csv_columns: 10,
        group_schema_bytes: 2048,
        violations_reported: 3,
    };
    assert_eq!(config.limits, expected);
    for (var, value) in [
        ("LIMIT_DOCUMENT_DEPTH", "101"),
        ("LIMIT_DOCUMENT_DEPTH", "0"),
        ("LIMIT_FIELD_PATH_BYTES", "4097"),
        ("LIMIT_ARRAY_LENGTH", "1000001"),
        ("LIMIT_QUERY_STRING_BYTES", "0"),
        ("LIMIT_CSV_COLUMNS", "x"),
        ("LIMIT_GROUP_SCHEMA_BYTES", "-5"),
        ("LIMIT_VIOLATIONS_REPORTED", "0"),
    ] {
        assert_eq!(invalid_var(with(&[(var, value)])), var, "{var}={value}");
    }
    let message = with(&[("LIMIT_DOCUMENT_DEPTH", "101")]).unwrap_err().to_string();
    assert!(message.contains("expected 1 to 100"), "{message}");
}

#[test]
fn mongodb_variables_without_a_jobs_collection_give_one_warning_naming_what_to_set() {
    let warned = with(&[
        ("MONGODB_URL", "mongodb://db/ums"),
        ("JOBS_COLLECTION_NAME", "jobs"),
    ])
    .unwrap();
    assert_eq!(warned.warnings.len(), 1);
    assert!(warned.warnings[0].contains("MONGODB_URL and JOBS_COLLECTION_NAME"));
    assert!(warned.warnings[0].contains("set JOBS_CRUD_ENDPOINT"));
    let fine = with(&[
        ("MONGODB_URL", "mongodb://db/ums"),
        ("JOBS_CRUD_ENDPOINT", "/jobs"),
    ])
    .unwrap();
    assert!(fine.warnings.is_empty());
    assert!(with(&[]).unwrap().warnings.is_empty());
}
