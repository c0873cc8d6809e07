//! Mode selection: which variables ask for CRUD mode, which of those it requires, and the
//! directories of embedded mode (`DATA_DIR`, `GROUPS_CONFIG_DIR`).

use std::path::{Path, PathBuf};

use super::parse::{self, endpoint, service_url};
use super::{ConfigError, CrudConfig, RawConfig, StoreConfig};

/// The variables that only mean something in CRUD mode (the CRUD Service and the Auth0 Client):
/// any of them in the environment, even with an empty value, selects CRUD mode.
pub const CRUD_MODE_VARIABLES: [&str; 12] = [
    "USERS_CRUD_ENDPOINT",
    "UMS_CONFIG_CRUD_ENDPOINT",
    "AUTH_SERVICE",
    "CRUD_SERVICE",
    "ROLES_CRUD_ENDPOINT",
    "JOBS_CRUD_ENDPOINT",
    "SAGA_CRUD_ENDPOINT",
    "AUDIT_CRUD_ENDPOINT",
    "CLIENTS_CRUD_ENDPOINT",
    "AUTH_CONNECTION",
    "AUTH_CHANGE_PASSWORD_PATH",
    "AUTH_USER_PATH",
];

/// `GROUPS_CONFIG_DIR` when unset.
pub const DEFAULT_GROUPS_DIR: &str = "./config/groups";

fn crud_mode_values(raw: &RawConfig) -> [&Option<String>; 12] {
    [
        &raw.users_crud_endpoint,
        &raw.ums_config_crud_endpoint,
        &raw.auth_service,
        &raw.crud_service,
        &raw.roles_crud_endpoint,
        &raw.jobs_crud_endpoint,
        &raw.saga_crud_endpoint,
        &raw.audit_crud_endpoint,
        &raw.clients_crud_endpoint,
        &raw.auth_connection,
        &raw.auth_change_password_path,
        &raw.auth_user_path,
    ]
}

/// What each required variable holds, for the "is empty" message.
fn expected(var: &str) -> &'static str {
    match var {
        "USERS_CRUD_ENDPOINT" => "the path of the users collection, e.g. /users",
        "UMS_CONFIG_CRUD_ENDPOINT" => "the path of the group-config collection, e.g. /ums-config",
        _ => "the host or URL of the Auth0 Client, e.g. auth0-client",
    }
}

/// Embedded mode when no CRUD-mode variable is present; otherwise CRUD mode, refused when a
/// required variable is missing or empty (`AUTH_SERVICE` is not required with `AUTH_MODULE=local`).
pub(super) fn store_config(raw: &RawConfig) -> Result<StoreConfig, ConfigError> {
    let present: Vec<&'static str> = CRUD_MODE_VARIABLES
        .iter()
        .zip(crud_mode_values(raw))
        .filter(|(_, value)| value.is_some())
        .map(|(name, _)| *name)
        .collect();
    if present.is_empty() {
        return Ok(StoreConfig::Embedded {
            data_dir: PathBuf::from(parse::optional(&raw.data_dir).unwrap_or("./data")),
            groups_dir: groups_dir(raw)?,
        });
    }
    let auth_is_local = parse::optional(&raw.auth_module) == Some("local");
    let required = [
        ("USERS_CRUD_ENDPOINT", &raw.users_crud_endpoint),
        ("UMS_CONFIG_CRUD_ENDPOINT", &raw.ums_config_crud_endpoint),
        ("AUTH_SERVICE", &raw.auth_service),
    ];
    let required = required
        .iter()
        .filter(|(name, _)| !(*name == "AUTH_SERVICE" && auth_is_local));
    if let Some((var, _)) = required
        .clone()
        .find(|(_, value)| value.as_deref().is_some_and(|v| v.trim().is_empty()))
    {
        return Err(ConfigError::Invalid {
            var,
            problem: format!(
                "is empty: expected {} (CRUD mode is selected because {} is set; unset every CRUD-mode variable for embedded mode)",
                expected(var),
                present.join(", ")
            ),
        });
    }
    let missing: Vec<&'static str> = required
        .filter(|(_, value)| value.is_none())
        .map(|(name, _)| *name)
        .collect();
    if !missing.is_empty() {
        return Err(ConfigError::Missing {
            missing,
            trigger: present.join(", "),
        });
    }
    crud_config(raw).map(StoreConfig::Crud)
}

fn crud_config(raw: &RawConfig) -> Result<CrudConfig, ConfigError> {
    let required = |v: &Option<String>, var| endpoint(v.as_deref().unwrap_or_default(), var);
    let optional = |v: &Option<String>, var| parse::optional(v).map(|v| endpoint(v, var)).transpose();
    Ok(CrudConfig {
        base_url: service_url(
            parse::optional(&raw.crud_service).unwrap_or("crud-service"),
            "CRUD_SERVICE",
        )?,
        users_path: required(&raw.users_crud_endpoint, "USERS_CRUD_ENDPOINT")?,
        groups_path: required(&raw.ums_config_crud_endpoint, "UMS_CONFIG_CRUD_ENDPOINT")?,
        roles_path: optional(&raw.roles_crud_endpoint, "ROLES_CRUD_ENDPOINT")?,
        jobs_path: optional(&raw.jobs_crud_endpoint, "JOBS_CRUD_ENDPOINT")?,
        saga_path: optional(&raw.saga_crud_endpoint, "SAGA_CRUD_ENDPOINT")?,
        audit_path: optional(&raw.audit_crud_endpoint, "AUDIT_CRUD_ENDPOINT")?,
    })
}

/// `GROUPS_CONFIG_DIR`: unset, the default (a warning when it cannot be read: see
/// [`groups_warning`]); set, a directory that must be readable; empty, no group files (an empty
/// path).
fn groups_dir(raw: &RawConfig) -> Result<PathBuf, ConfigError> {
    match raw.groups_config_dir.as_deref() {
        None => Ok(PathBuf::from(DEFAULT_GROUPS_DIR)),
        Some(value) if value.trim().is_empty() => Ok(PathBuf::new()),
        Some(value) => {
            let dir = PathBuf::from(value);
            readable_dir(&dir).map_err(|e| ConfigError::Invalid {
                var: "GROUPS_CONFIG_DIR",
                problem: format!(
                    "cannot read the directory \"{value}\" ({e}): expected a directory of group files \
                     (relative paths start at the working directory; an empty value loads no group file)"
                ),
            })?;
            Ok(dir)
        }
    }
}

fn readable_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::read_dir(dir).map(|_| ())
}

/// The startup warning about the group files: the default directory cannot be read (embedded
/// mode), or `GROUPS_CONFIG_DIR` is set in CRUD mode, where it is not used.
pub(super) fn groups_warning(raw: &RawConfig, store: &StoreConfig) -> Option<String> {
    match store {
        StoreConfig::Embedded { .. } if raw.groups_config_dir.is_none() => {
            let e = readable_dir(Path::new(DEFAULT_GROUPS_DIR)).err()?;
            Some(format!(
                "GROUPS_CONFIG_DIR unset and its default {DEFAULT_GROUPS_DIR} cannot be read ({e}): no group \
                 file is loaded, so users can only be created in groups already stored — run from the \
                 repository root or set GROUPS_CONFIG_DIR"
            ))
        }
        StoreConfig::Crud(_) if parse::optional(&raw.groups_config_dir).is_some() => Some(
            "GROUPS_CONFIG_DIR is not used in CRUD mode: the groups are the documents of the \
             UMS_CONFIG_CRUD_ENDPOINT collection"
                .to_owned(),
        ),
        _ => None,
    }
}
