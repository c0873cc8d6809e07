//! The processes of a scenario: the CRUD fake, the Auth0 fake and the service in CRUD mode (or
//! alone in embedded mode), plus the seeding every scenario shares (the `customer` group, store
//! users in bulk).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::procs::{free_port, start, Proc};

/// The two fakes of a run.
pub struct Fakes {
    /// `crud-fake` (collections `/users`, `/ums-config`, `/roles`, `/jobs`).
    pub crud: Proc,
    /// `auth0-fake`.
    pub auth: Proc,
}

/// Starts `crud-fake` and `auth0-fake` (with `auth_args`, e.g. `--rps 10`) on free ports.
pub async fn start_fakes(auth_args: &[String]) -> Fakes {
    let (crud_port, auth_port) = (free_port(), free_port());
    let (crud, _) = start(
        "crud-fake",
        &["--port".into(), crud_port.to_string()],
        &[],
        crud_port,
        "/-/healthz",
    )
    .await;
    let mut args = vec!["--port".to_owned(), auth_port.to_string()];
    args.extend_from_slice(auth_args);
    let (auth, _) = start("auth0-fake", &args, &[], auth_port, "/-/healthz").await;
    Fakes { crud, auth }
}

/// Starts the service in CRUD mode against `fakes`, with `extra` variables on top of the
/// defaults (`LOG_LEVEL` from the environment or `info`, mimalloc as in the Dockerfile, the jobs
/// collection at `/jobs`). Returns it and the time it took to answer `/-/ready`.
pub async fn start_service(fakes: &Fakes, extra: &[(&str, String)]) -> (Proc, Duration) {
    start_service_on(fakes, extra, free_port()).await
}

/// [`start_service`] on a given port (a restart after a kill keeps its address).
pub async fn start_service_on(fakes: &Fakes, extra: &[(&str, String)], port: u16) -> (Proc, Duration) {
    let mut env: Vec<(String, String)> = [
        ("HTTP_HOST", "127.0.0.1".to_owned()),
        ("HTTP_PORT", port.to_string()),
        ("LOG_LEVEL", log_level()),
        ("CRUD_SERVICE", fakes.crud.url.clone()),
        ("USERS_CRUD_ENDPOINT", "/users".to_owned()),
        ("UMS_CONFIG_CRUD_ENDPOINT", "/ums-config".to_owned()),
        ("JOBS_CRUD_ENDPOINT", "/jobs".to_owned()),
        ("AUTH_SERVICE", fakes.auth.url.clone()),
        // As in the Dockerfile: mimalloc commits arena memory lazily (idle RSS).
        ("MIMALLOC_ARENA_EAGER_COMMIT", "0".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (key, value) in extra {
        env.retain(|(k, _)| k != key);
        env.push(((*key).to_owned(), value.clone()));
    }
    start("user-manager-service", &[], &env, port, "/-/ready").await
}

/// `LOG_LEVEL` from the bench's environment, `info` by default.
fn log_level() -> String {
    std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".to_owned())
}

/// The repository's group files (`config/groups/`: `customer`, `backoffice_operator`).
pub fn groups_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/groups");
    dir.canonicalize().unwrap_or(dir)
}

/// Starts the service in embedded mode (no CRUD or auth variable: SQLite under `data_dir`, the
/// local auth provider, the groups of [`groups_dir`]) with the same `LOG_LEVEL` and mimalloc
/// settings as [`start_service`], without access control (`AUTHZ_MODE=gateway`). Returns it and
/// the time it took to answer `/-/ready`.
pub async fn start_embedded_service(data_dir: &Path) -> (Proc, Duration) {
    let port = free_port();
    let env: Vec<(String, String)> = [
        ("HTTP_HOST", "127.0.0.1".to_owned()),
        ("HTTP_PORT", port.to_string()),
        ("LOG_LEVEL", log_level()),
        ("DATA_DIR", data_dir.display().to_string()),
        ("GROUPS_CONFIG_DIR", groups_dir().display().to_string()),
        ("MIMALLOC_ARENA_EAGER_COMMIT", "0".to_owned()),
        // Behind a gateway, as every recorded embedded run so far (access control is measured apart).
        ("AUTHZ_MODE", "gateway".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    start("user-manager-service", &[], &env, port, "/-/ready").await
}

/// Creates the `customer` group (`name` required, `email`, integer `age`) in the CRUD fake;
/// call it before the service starts (the service loads the groups at startup).
pub async fn seed_group(client: &reqwest::Client, crud: &Proc) {
    let group = json!({
        "userGroup": "customer", "label": "Customer", "authUserCreationDisabled": false, "__STATE__": "PUBLIC",
        "crudSchema": {"type": "object", "properties": {
            "name": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "age": {"type": "integer"}
        }, "required": ["name"]}
    });
    let response = client
        .post(format!("{}/ums-config/", crud.url))
        .json(&group)
        .send()
        .await;
    check(response, "seed the customer group").await;
}

/// Inserts `users` into the CRUD fake's `/users` with `POST /users/bulk`, `batch` at a time;
/// returns their `_id`s in order.
pub async fn seed_users(client: &reqwest::Client, crud: &Proc, users: &[Value], batch: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(users.len());
    for chunk in users.chunks(batch.max(1)) {
        let response = client
            .post(format!("{}/users/bulk", crud.url))
            .json(chunk)
            .send()
            .await;
        let body = check(response, "seed users").await;
        let created = body.as_array().cloned().unwrap_or_default();
        ids.extend(
            created
                .iter()
                .filter_map(|c| c.get("_id").and_then(Value::as_str).map(str::to_owned)),
        );
    }
    ids
}

/// The JSON body of a 2xx answer; panics (the benchmark cannot go on) otherwise.
pub async fn check(response: reqwest::Result<reqwest::Response>, what: &str) -> Value {
    let response = response.unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "{what}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// MiB from KiB, for reports.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
