//! How a test starts the real service on 127.0.0.1:0: `TestApp::on_wiremock()`,
//! `TestApp::on_fakes()`, `TestApp::embedded(dir)` or `TestApp::replica_of(&app)`, then chained
//! options (`with_env`, `without_jobs`, `with_groups`, `with_users`, `seeded`, `with_auth0_fake`),
//! then `start()`.

use std::path::{Path, PathBuf};

use serde_json::Value;
use ums_fakes::auth0::Auth0Fake;
use ums_fakes::crud::{CrudFake, CrudFakeState};
use user_manager_service::config::Config;
use user_manager_service::startup::Application;

use super::app::{Downstream, Mocks, TestApp};
use super::groups::{customer_group, mount_groups, seed_groups};
use super::logs;

/// Where the service under test keeps its users and its credentials.
enum Mode {
    /// Every downstream service a wiremock server.
    Wiremock,
    /// The stateful CRUD Service and Auth0 Client fakes, in-process.
    Fakes,
    /// No downstream service: SQLite and the local provider under this data directory.
    Embedded(PathBuf),
    /// Fakes that another app started (at these URIs), shared with it.
    Replica { crud: String, auth: String },
}

/// A step filling the CRUD fake before the service starts.
type Seed<'a> = Box<dyn FnOnce(&CrudFakeState) + 'a>;

/// The options of a [`TestApp`] not yet started; see the constructors on [`TestApp`].
pub struct TestAppBuilder<'a> {
    mode: Mode,
    env: Vec<(String, String)>,
    groups: Vec<Value>,
    users: Vec<Value>,
    seeds: Vec<Seed<'a>>,
    auth0: Option<Auth0Fake>,
}

impl TestApp {
    /// The service with every downstream (CRUD, Auth0 Client, Rönd, Timer) a wiremock server.
    /// No jobs collection is configured (its runner would poll the wiremock CRUD and blur
    /// exact-call asserts); `with_env(&[("JOBS_CRUD_ENDPOINT", "/jobs")])` gets one.
    pub fn on_wiremock<'a>() -> TestAppBuilder<'a> {
        TestAppBuilder::new(Mode::Wiremock)
    }

    /// The service on a standard CRUD fake and a default Auth0 Client fake (multi-step flows),
    /// with a jobs collection; no Rönd, no Timer Service.
    pub fn on_fakes<'a>() -> TestAppBuilder<'a> {
        TestAppBuilder::new(Mode::Fakes)
    }

    /// The service in embedded mode (no CRUD, no Auth0): SQLite and the local provider under
    /// `data_dir`, the repository's `config/groups` loaded at startup.
    pub fn embedded<'a>(data_dir: &Path) -> TestAppBuilder<'a> {
        TestAppBuilder::new(Mode::Embedded(data_dir.to_owned()))
    }

    /// One more replica of the service on the fakes `app` runs (started with [`TestApp::on_fakes`]):
    /// cancel its `shutdown` (or drop it) to stop it, its job runner releasing the leases it holds.
    pub fn replica_of<'a>(app: &TestApp) -> TestAppBuilder<'a> {
        TestAppBuilder::new(Mode::Replica {
            crud: app.crud_fake().uri(),
            auth: app.auth_fake().uri(),
        })
    }
}

impl<'a> TestAppBuilder<'a> {
    fn new(mode: Mode) -> Self {
        // The suite predates access control and runs as the Mia service does, behind a gateway;
        // `with_env(&[("AUTHZ_MODE", "scopes")])` turns it on (tests/api/access_control).
        Self {
            mode,
            env: vec![("AUTHZ_MODE".to_owned(), "gateway".to_owned())],
            groups: Vec::new(),
            users: Vec::new(),
            seeds: Vec::new(),
            auth0: None,
        }
    }

    /// Extra (or overriding) environment variables; a later one wins.
    pub fn with_env(mut self, vars: &[(&str, &str)]) -> Self {
        let owned = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        self.env.extend(owned);
        self
    }

    /// No jobs collection (`JOBS_CRUD_ENDPOINT` empty): the job routes answer 501.
    pub fn without_jobs(self) -> Self {
        self.with_env(&[("JOBS_CRUD_ENDPOINT", "")])
    }

    /// Group-config documents the service finds at startup: seeded into the CRUD fake, or
    /// answered by the wiremock CRUD (mounted before the service starts).
    pub fn with_groups(mut self, groups: Vec<Value>) -> Self {
        self.groups.extend(groups);
        self
    }

    /// [`with_groups`](Self::with_groups) with the `customer` group alone.
    pub fn with_customer_group(self) -> Self {
        self.with_groups(customer_group())
    }

    /// Store users (`/users` documents) seeded into the CRUD fake after the groups; fakes only.
    pub fn with_users(mut self, users: Vec<Value>) -> Self {
        self.users.extend(users);
        self
    }

    /// Fills the CRUD fake before the service starts (after the groups and users); fakes only.
    pub fn seeded(mut self, seed: impl FnOnce(&CrudFakeState) + 'a) -> Self {
        self.seeds.push(Box::new(seed));
        self
    }

    /// The Auth0 Client fake to run instead of the default one (e.g.
    /// `Auth0Fake::builder().requests_per_second(10).build()`); fakes only.
    pub fn with_auth0_fake(mut self, fake: Auth0Fake) -> Self {
        self.auth0 = Some(fake);
        self
    }

    /// Starts the downstream services of the mode, then the service on them.
    pub async fn start(self) -> TestApp {
        let Self {
            mode,
            env,
            groups,
            users,
            seeds,
            auth0,
        } = self;
        let fakes_only = matches!(mode, Mode::Fakes);
        assert!(
            fakes_only || (users.is_empty() && seeds.is_empty() && auth0.is_none()),
            ".with_users(), .seeded() and .with_auth0_fake() need TestApp::on_fakes()"
        );
        let mut base = Vec::new();
        let downstream = match mode {
            Mode::Wiremock => {
                let mocks = Mocks::start().await;
                if !groups.is_empty() {
                    mount_groups(&mocks.crud, groups).await;
                }
                base.extend(wiremock_env(&mocks));
                Downstream::Wiremock(Box::new(mocks))
            }
            Mode::Fakes => {
                let crud = CrudFake::standard().spawn().await;
                seed_groups(crud.state(), groups);
                for user in users {
                    crud.state().insert_raw("/users", user).expect("user seeded");
                }
                for seed in seeds {
                    seed(crud.state());
                }
                let auth = auth0.unwrap_or_default().spawn().await;
                base.extend(fakes_env(&crud.uri(), &auth.uri()));
                Downstream::Fakes { crud, auth }
            }
            Mode::Embedded(data_dir) => {
                assert!(groups.is_empty(), "the embedded mode loads config/groups");
                let groups_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups");
                base.push(pair("DATA_DIR", &data_dir.display().to_string()));
                base.push(pair("GROUPS_CONFIG_DIR", &groups_dir.display().to_string()));
                base.push(pair("JOBS_POLL_INTERVAL_MS", "100"));
                Downstream::None
            }
            Mode::Replica { crud, auth } => {
                assert!(groups.is_empty(), "a replica shares the groups of its fakes");
                base.extend(fakes_env(&crud, &auth));
                Downstream::None
            }
        };
        serve(base.into_iter().chain(env), downstream).await
    }
}

fn pair(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

/// The configuration of the service on wiremock downstreams.
fn wiremock_env(mocks: &Mocks) -> Vec<(String, String)> {
    vec![
        pair("USERS_CRUD_ENDPOINT", "/users"),
        pair("UMS_CONFIG_CRUD_ENDPOINT", "/ums-config"),
        pair("ROLES_CRUD_ENDPOINT", "/roles"),
        pair("ROND_ENABLED", "true"),
        pair("DOWNSTREAM_TIMEOUT_MS", "500"),
        pair("ADDITIONAL_HEADERS_TO_PROXY", "x-custom"),
        pair("REQUEST_BODY_LIMIT_BYTES", "65536"),
        pair("CRUD_SERVICE", &mocks.crud.uri()),
        pair("AUTH_SERVICE", &mocks.auth.uri()),
        pair("ROND_SERVICE", &mocks.rond.uri()),
        pair("TIMER_SERVICE", &mocks.timer.uri()),
    ]
}

/// The configuration of the service on the CRUD and Auth0 fakes at `crud` and `auth`.
fn fakes_env(crud: &str, auth: &str) -> Vec<(String, String)> {
    vec![
        pair("USERS_CRUD_ENDPOINT", "/users"),
        pair("UMS_CONFIG_CRUD_ENDPOINT", "/ums-config"),
        pair("ROLES_CRUD_ENDPOINT", "/roles"),
        pair("JOBS_CRUD_ENDPOINT", "/jobs"),
        pair("DOWNSTREAM_TIMEOUT_MS", "2000"),
        pair("CRUD_SERVICE", crud),
        pair("AUTH_SERVICE", auth),
    ]
}

/// Starts the service on 127.0.0.1:0 with `vars` (a later variable overrides an earlier one).
async fn serve(vars: impl Iterator<Item = (String, String)>, downstream: Downstream) -> TestApp {
    logs::install();
    // A data directory of its own (the signing key of `AUTHZ_MODE=scopes` in CRUD mode), never
    // the working directory's `./data`; embedded mode names its own.
    let data_dir = super::temp_data_dir().display().to_string();
    let mut config: Vec<(String, String)> = vec![
        pair("HTTP_HOST", "127.0.0.1"),
        pair("HTTP_PORT", "0"),
        pair("DATA_DIR", &data_dir),
    ];
    for (name, value) in vars {
        config.retain(|(known, _)| *known != name);
        config.push((name, value));
    }
    let config = Config::from_pairs(config).expect("test configuration is valid");
    let app = Application::build(config).await.expect("the service starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let shutdown = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped());
    TestApp::new(address, shutdown, server, downstream)
}
