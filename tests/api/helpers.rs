//! `spawn_app()`: the real service on 127.0.0.1:0 against one wiremock server per downstream
//! service, plus the captured log lines of the whole test binary.

use std::io::Write;
use std::sync::{Arc, LazyLock, Mutex};

use tokio_util::sync::CancellationToken;
use tracing_subscriber::fmt::MakeWriter;
use user_manager_service::config::Config;
use user_manager_service::startup::Application;
use wiremock::MockServer;

/// Every log line the services of this test binary wrote (and stdout too with `TEST_LOG=1`).
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stdout().write_all(buf)?;
        }
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

static LOGS: LazyLock<LogBuffer> = LazyLock::new(|| {
    let buffer = LogBuffer::default();
    user_manager_service::telemetry::init(tracing::Level::TRACE, buffer.clone());
    buffer
});

/// The log lines written so far, parsed.
pub fn captured_logs() -> Vec<serde_json::Value> {
    let bytes = LOGS.0.lock().unwrap().clone();
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The raw log text written so far.
pub fn captured_log_text() -> String {
    String::from_utf8_lossy(&LOGS.0.lock().unwrap()).into_owned()
}

/// A running service and its fake downstream services.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub crud: MockServer,
    pub auth: MockServer,
    pub rond: MockServer,
    pub timer: MockServer,
    pub shutdown: CancellationToken,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request failed")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request failed")
    }
}

/// Starts the service with every downstream configured, each one a wiremock server.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Like [`spawn_app`], with extra (or overriding) environment variables. No jobs collection is
/// configured by default (its runner would poll the wiremock CRUD and blur exact-call asserts);
/// pass `JOBS_CRUD_ENDPOINT` to get one.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let (crud, auth, rond, timer) = tokio::join!(
        MockServer::start(),
        MockServer::start(),
        MockServer::start(),
        MockServer::start()
    );
    let (crud_uri, auth_uri, rond_uri, timer_uri) = (crud.uri(), auth.uri(), rond.uri(), timer.uri());
    let base = [
        ("USERS_CRUD_ENDPOINT", "/users"),
        ("UMS_CONFIG_CRUD_ENDPOINT", "/ums-config"),
        ("ROLES_CRUD_ENDPOINT", "/roles"),
        ("ROND_ENABLED", "true"),
        ("DOWNSTREAM_TIMEOUT_MS", "500"),
        ("ADDITIONAL_HEADERS_TO_PROXY", "x-custom"),
        ("REQUEST_BODY_LIMIT_BYTES", "65536"),
        ("CRUD_SERVICE", crud_uri.as_str()),
        ("AUTH_SERVICE", auth_uri.as_str()),
        ("ROND_SERVICE", rond_uri.as_str()),
        ("TIMER_SERVICE", timer_uri.as_str()),
    ];
    let (address, shutdown, server) = serve(&base, extra).await;
    TestApp {
        address,
        client: reqwest::Client::new(),
        crud,
        auth,
        rond,
        timer,
        shutdown,
        server,
    }
}

/// A started service: its address, its shutdown token and its server task.
type Served = (
    String,
    CancellationToken,
    tokio::task::JoinHandle<std::io::Result<()>>,
);

/// Starts the service on 127.0.0.1:0 with `base` variables overridden by `extra`.
async fn serve(base: &[(&str, &str)], extra: &[(&str, &str)]) -> Served {
    LazyLock::force(&LOGS);
    let mut vars: Vec<(String, String)> = vec![
        ("HTTP_HOST".into(), "127.0.0.1".into()),
        ("HTTP_PORT".into(), "0".into()),
    ];
    for (k, v) in base.iter().chain(extra) {
        vars.retain(|(name, _)| name != k);
        vars.push(((*k).to_owned(), (*v).to_owned()));
    }
    let config = Config::from_pairs(vars).expect("test configuration is valid");
    let app = Application::build(config).await.expect("the service starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let shutdown = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped());
    (address, shutdown, server)
}

/// A running service on the stateful CRUD Service and Auth0 Client fakes (multi-step flows).
pub struct FakeApp {
    pub address: String,
    pub client: reqwest::Client,
    pub crud: ums_fakes::crud::RunningCrudFake,
    pub auth: ums_fakes::auth0::RunningAuth0Fake,
    pub shutdown: CancellationToken,
}

impl FakeApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request failed")
    }
}

impl Drop for FakeApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Starts the fakes in-process and the service on them (no Rönd, no Timer Service).
pub async fn spawn_app_on_fakes() -> FakeApp {
    spawn_app_on_fakes_seeded(|_| {}).await
}

/// Like [`spawn_app_on_fakes`], with the CRUD fake seeded before the service starts.
pub async fn spawn_app_on_fakes_seeded(seed: impl FnOnce(&ums_fakes::crud::CrudFakeState)) -> FakeApp {
    spawn_app_on_fakes_with(&[], seed).await
}

/// A group-config document: `userGroup`, `crudSchema`, `authUserCreationDisabled`.
pub fn group_doc(name: &str, schema: serde_json::Value, auth_disabled: bool) -> serde_json::Value {
    serde_json::json!({
        "_id": format!("{:0>24}", name.len()),
        "userGroup": name,
        "label": name,
        "authUserCreationDisabled": auth_disabled,
        "crudSchema": schema,
        "__STATE__": "PUBLIC",
    })
}

/// The `customer` schema used by the tests: name (required), email (format), age, roles.
pub fn customer_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "age": {"type": "integer", "minimum": 0},
            "roles": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["name"],
        "additionalProperties": false
    })
}

/// Answers the group-config list of the wiremock CRUD with `groups` (any query).
pub async fn mount_groups(crud: &MockServer, groups: Vec<serde_json::Value>) {
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/ums-config/"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(groups))
        .mount(crud)
        .await;
}

/// Seeds group-config documents into a CRUD fake (before the service starts).
pub fn seed_groups(crud: &ums_fakes::crud::CrudFakeState, groups: Vec<serde_json::Value>) {
    for group in groups {
        let mut group = group;
        if let Some(doc) = group.as_object_mut() {
            doc.remove("_id");
        }
        crud.insert_raw("/ums-config", group).expect("group seeded");
    }
}

/// Like [`spawn_app_on_fakes_seeded`], with extra (or overriding) environment variables.
pub async fn spawn_app_on_fakes_with(
    extra: &[(&str, &str)],
    seed: impl FnOnce(&ums_fakes::crud::CrudFakeState),
) -> FakeApp {
    let crud = ums_fakes::crud::CrudFake::standard().spawn().await;
    seed(crud.state());
    let auth = ums_fakes::auth0::Auth0Fake::builder().build().spawn().await;
    let (address, shutdown) = spawn_service_on(&crud.uri(), &auth.uri(), extra).await;
    FakeApp {
        address,
        client: reqwest::Client::new(),
        crud,
        auth,
        shutdown,
    }
}

/// Starts one more replica of the service on fakes that already run (at `crud_uri` and
/// `auth_uri`), with extra (or overriding) environment variables; returns its address and its
/// shutdown token (cancel it to stop the replica: its job runner releases the leases it holds).
pub async fn spawn_service_on(
    crud_uri: &str,
    auth_uri: &str,
    extra: &[(&str, &str)],
) -> (String, CancellationToken) {
    let base = [
        ("USERS_CRUD_ENDPOINT", "/users"),
        ("UMS_CONFIG_CRUD_ENDPOINT", "/ums-config"),
        ("ROLES_CRUD_ENDPOINT", "/roles"),
        ("JOBS_CRUD_ENDPOINT", "/jobs"),
        ("DOWNSTREAM_TIMEOUT_MS", "2000"),
        ("CRUD_SERVICE", crud_uri),
        ("AUTH_SERVICE", auth_uri),
    ];
    let (address, shutdown, _) = serve(&base, extra).await;
    (address, shutdown)
}

/// Starts a CRUD fake, the given Auth0 fake (e.g. `Auth0Fake::builder().requests_per_second(10)`)
/// and the service on them, with extra (or overriding) environment variables.
pub async fn spawn_app_on_auth0_fake(auth0: ums_fakes::auth0::Auth0Fake, extra: &[(&str, &str)]) -> FakeApp {
    let crud = ums_fakes::crud::CrudFake::standard().spawn().await;
    let auth = auth0.spawn().await;
    let (address, shutdown) = spawn_service_on(&crud.uri(), &auth.uri(), extra).await;
    FakeApp {
        address,
        client: reqwest::Client::new(),
        crud,
        auth,
        shutdown,
    }
}

/// A running service in embedded mode (no CRUD, no Auth0): SQLite and the local provider under
/// `data_dir`, the repository's `config/groups` loaded at startup.
pub struct EmbeddedApp {
    pub address: String,
    pub client: reqwest::Client,
    pub shutdown: CancellationToken,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl EmbeddedApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }
}

/// A fresh, empty data directory for an embedded-mode test.
pub fn temp_data_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ums-embedded-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Starts the service in embedded mode on `data_dir`.
pub async fn spawn_embedded(data_dir: &std::path::Path, extra: &[(&str, &str)]) -> EmbeddedApp {
    let groups_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups");
    let (data_dir, groups_dir) = (data_dir.display().to_string(), groups_dir.display().to_string());
    let base = [
        ("DATA_DIR", data_dir.as_str()),
        ("GROUPS_CONFIG_DIR", groups_dir.as_str()),
        ("JOBS_POLL_INTERVAL_MS", "100"),
    ];
    let (address, shutdown, server) = serve(&base, extra).await;
    EmbeddedApp {
        address,
        client: reqwest::Client::new(),
        shutdown,
        server,
    }
}
