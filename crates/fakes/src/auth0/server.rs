//! Builder, router and running handle of the Auth0 fake, with the test helpers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::chaos::{Chaos, RandomFaults};

use super::gate::gate;
use super::state::{Config, NewUser, RateScope, RecordedRequest, Shared};
use super::util::ApiError;
use super::{import, sessions, users};

/// Configuration of an [`Auth0Fake`]; start from [`Auth0Fake::builder`].
#[derive(Debug, Clone)]
pub struct Auth0FakeBuilder {
    config: Config,
    routes: Vec<(String, String)>,
    all_routes: bool,
}

impl Auth0FakeBuilder {
    /// Rate limit: at most `n` accepted requests in any 1-second window on the limited routes
    /// (default: no limit).
    pub fn requests_per_second(mut self, n: u32) -> Self {
        self.config.requests_per_second = Some(n);
        self
    }

    /// Sets or clears the rate limit.
    pub fn rate_limit(mut self, requests_per_second: Option<u32>) -> Self {
        self.config.requests_per_second = requests_per_second;
        self
    }

    /// Applies the rate limit to every route except the `/-/` probes (default: only the
    /// routes of [`Self::rate_limit_routes`], i.e. `POST /change-password`).
    pub fn rate_limit_all_routes(mut self, all: bool) -> Self {
        self.all_routes = all;
        self
    }

    /// Replaces the rate-limited routes with these `(METHOD, exact path)` pairs.
    pub fn rate_limit_routes<M: Into<String>, P: Into<String>>(
        mut self,
        routes: impl IntoIterator<Item = (M, P)>,
    ) -> Self {
        self.routes = routes.into_iter().map(|(m, p)| (m.into(), p.into())).collect();
        self
    }

    /// Time from the creation of an import job to its completion (default 200 ms): pending for
    /// the first half, processing for the second.
    pub fn import_delay(mut self, delay: Duration) -> Self {
        self.config.import_delay = delay;
        self
    }

    /// `client-type` header value that gets a `sid` cookie at login (default `website`).
    pub fn website_client_type(mut self, client_type: impl Into<String>) -> Self {
        self.config.website_client_type = client_type.into();
        self
    }

    /// `Max-Age` of the `sid` cookie and lifetime behind `expireAt` (default 86400).
    pub fn session_seconds(mut self, seconds: u64) -> Self {
        self.config.session_seconds = seconds;
        self
    }

    /// Random faults from the start (default: off); changeable later through
    /// [`RunningAuth0Fake::random_faults`] or `PUT /-/faults`.
    pub fn random_faults(mut self, settings: RandomFaults) -> Self {
        self.config.random_faults = settings;
        self
    }

    /// The configured fake, ready to [`Auth0Fake::spawn`].
    pub fn build(self) -> Auth0Fake {
        let mut config = self.config;
        config.rate_scope = if self.all_routes {
            RateScope::All
        } else {
            RateScope::Routes(self.routes)
        };
        Auth0Fake { config }
    }
}

/// A stateful in-memory fake of the Mia-Platform Auth0 Client, not yet listening.
#[derive(Debug, Clone)]
pub struct Auth0Fake {
    config: Config,
}

impl Default for Auth0Fake {
    fn default() -> Self {
        Self::builder().build()
    }
}

impl Auth0Fake {
    /// A builder with the defaults: no rate limit (limited route `POST /change-password`),
    /// 200 ms imports, website client type `website`, 86400 s sessions.
    pub fn builder() -> Auth0FakeBuilder {
        Auth0FakeBuilder {
            config: Config {
                website_client_type: "website".to_string(),
                import_delay: Duration::from_millis(200),
                requests_per_second: None,
                rate_scope: RateScope::Routes(Vec::new()),
                session_seconds: 86_400,
                random_faults: RandomFaults::default(),
            },
            routes: vec![("POST".to_string(), "/change-password".to_string())],
            all_routes: false,
        }
    }

    /// Serves on `127.0.0.1` at a free port.
    ///
    /// # Panics
    /// When no local port can be bound (test-support code).
    pub async fn spawn(self) -> RunningAuth0Fake {
        match self.try_spawn_on(SocketAddr::from(([127, 0, 0, 1], 0))).await {
            Ok(running) => running,
            Err(err) => panic!("auth0-fake: cannot bind 127.0.0.1:0: {err}"),
        }
    }

    /// Serves on `addr` (port 0 = any free port).
    pub async fn try_spawn_on(self, addr: SocketAddr) -> std::io::Result<RunningAuth0Fake> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(self.config));
        let app = router(Arc::clone(&shared));
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stop = async {
                let _ = shutdown_rx.await;
            };
            crate::chaos::serve(listener, app, stop).await;
        });
        Ok(RunningAuth0Fake {
            addr,
            shared,
            shutdown: Some(shutdown_tx),
            task: Some(task),
        })
    }
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "OK", "name": "auth0-fake", "version": "0.1.0" }))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Route not found")
}

/// All routes, behind the recording / rate-limit / fault middleware, itself behind the random
/// faults (and `/-/faults`).
fn router(shared: Arc<Shared>) -> Router {
    let chaos = Arc::clone(&shared.chaos);
    Router::new()
        .route("/-/healthz", get(health))
        .route("/-/ready", get(health))
        .route("/-/check-up", get(health))
        .route("/users", get(users::list).post(users::create))
        .route("/users/active", get(users::active))
        .route("/users/import", post(import::start))
        .route("/users/import/status/{job_id}", get(import::status))
        .route("/users/import/status/{job_id}/errors", get(import::errors))
        .route(
            "/users/{id}",
            get(users::get_one).patch(users::patch).delete(users::delete),
        )
        .route("/change-password", post(sessions::change_password))
        .route("/oauth/token", post(sessions::login))
        .route("/refreshtoken", post(sessions::refresh))
        .route("/userinfo", get(sessions::userinfo))
        .route("/logout", get(sessions::logout))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(8 * 1024 * 1024))
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), gate))
        .layer(middleware::from_fn_with_state(chaos, crate::chaos::layer))
        .with_state(shared)
}

/// A listening Auth0 fake; dropping it stops the server.
#[derive(Debug)]
pub struct RunningAuth0Fake {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningAuth0Fake {
    /// Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting requests and waits for in-flight ones.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// The random fault controller (settings, counters), also reachable at `/-/faults`.
    pub fn random_faults(&self) -> &Chaos {
        &self.shared.chaos
    }

    /// All users, in creation order.
    pub fn users(&self) -> Vec<Value> {
        self.shared
            .lock()
            .users_in_order()
            .into_iter()
            .map(|u| u.value.clone())
            .collect()
    }

    /// One user by id (`auth0|...`).
    pub fn user(&self, id: &str) -> Option<Value> {
        self.shared.lock().users.get(id).map(|u| u.value.clone())
    }

    /// Creates a user able to log in; returns its id, or the 409 message when taken.
    pub fn try_insert_user(
        &self,
        email: &str,
        username: Option<&str>,
        password: &str,
    ) -> Result<String, String> {
        let new = NewUser {
            email: email.to_string(),
            username: username.map(str::to_string),
            password: Some(password.to_string()),
            ..NewUser::default()
        };
        let user = self.shared.lock().create_user(new).map_err(|err| err.message)?;
        Ok(user
            .get("user_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string())
    }

    /// Creates a user able to log in and returns its id (`auth0|<24 hex>`).
    ///
    /// # Panics
    /// When the email or username is taken (test-support code).
    pub fn insert_user(&self, email: &str, username: Option<&str>, password: &str) -> String {
        match self.try_insert_user(email, username, password) {
            Ok(id) => id,
            Err(message) => panic!("auth0-fake: cannot insert {email}: {message}"),
        }
    }

    /// Blocks or unblocks a user; `false` when unknown.
    pub fn set_blocked(&self, id: &str, blocked: bool) -> bool {
        let patch = super::state::UserPatch {
            blocked: Some(blocked),
            ..Default::default()
        };
        self.shared.lock().patch_user(id, patch).is_ok()
    }

    /// Every delivered change-password request: user id and arrival time.
    pub fn change_password_requests(&self) -> Vec<(String, Instant)> {
        self.shared.lock().change_password.clone()
    }

    /// Requests answered 429 by the rate limit.
    pub fn rate_limited_count(&self) -> u64 {
        self.shared.lock().limiter.rejected
    }

    /// Requests let through by the rate limit (on limited routes).
    pub fn rate_limit_accepted_count(&self) -> u64 {
        self.shared.lock().limiter.accepted
    }

    /// Every request received, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// The next `count` requests with `method` (`*` = any) whose path starts with
    /// `path_prefix` are answered `status` with an Auth0 error body (after rate limiting).
    pub fn fail_next(&self, method: &str, path_prefix: &str, status: u16, count: usize) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.shared
            .lock()
            .faults
            .add_failure(method, path_prefix, status, count);
    }

    /// The next `count` matching requests wait `delay` before being served.
    pub fn delay_next(&self, method: &str, path_prefix: &str, delay: Duration, count: usize) {
        self.shared
            .lock()
            .faults
            .add_delay(method, path_prefix, delay, count);
    }
}

impl Drop for RunningAuth0Fake {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
