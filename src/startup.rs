//! `Application`: builds the ports from the configuration, binds the listener (port 0 in tests)
//! and serves until its shutdown token is cancelled, letting in-flight requests finish.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::auth0_client::{Auth0Client, Auth0ClientConfig};
use crate::auth::AuthProvider;
use crate::config::{AuthConfig, Config, StoreConfig};
use crate::context::CallContext;
use crate::downstream::build_http_client;
use crate::groups::GroupRegistry;
use crate::jobs::{JobRunner, JobStore};
use crate::policy::{PolicyClient, RondClient};
use crate::state::AppState;
use crate::store::crud_http::CrudCollection;
use crate::store::Collection;
use crate::telemetry;
use crate::timer::{TimerClient, TimerServiceClient};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
    /// The port could not be bound.
    #[error("cannot listen on port {port}: {source}")]
    Bind {
        /// The port.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration asks for something this build cannot do yet.
    #[error("{0}")]
    Unsupported(String),
}

/// The running service: a bound listener and its router.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    port: u16,
    shutdown: CancellationToken,
}

impl Application {
    /// Builds the ports the configuration names and binds `HTTP_HOST:HTTP_PORT` (port 0 picks a
    /// free port).
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let state = build_state(config)?;
        Self::with_state(state).await
    }

    /// Binds and wires an `AppState` built elsewhere (tests with hand-made ports).
    pub async fn with_state(state: AppState) -> Result<Self, StartupError> {
        let port = state.config.http_port;
        let listener = TcpListener::bind((state.config.http_host, port))
            .await
            .map_err(|source| StartupError::Bind { port, source })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { port, source })?
            .port();
        let shutdown = state.shutdown.clone();
        start_group_refresh(&state);
        if let Some(runner) = state.job_runner.clone() {
            tokio::spawn(runner.run_until_stopped(state.clone(), state.shutdown.clone()));
        }
        Ok(Self {
            router: crate::http::router(state),
            listener,
            port,
            shutdown,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cancel it to stop: readiness turns KO, no new connection is accepted, in-flight
    /// requests finish, then `run_until_stopped` returns.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let token = self.shutdown.clone();
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await
    }
}

/// How often the group schemas are re-read (a group added in the back-office works within this).
const GROUPS_REFRESH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// Loads the group schemas in the background (a store that is down at startup does not stop the
/// service: groups load on first use) and keeps them fresh until shutdown.
fn start_group_refresh(state: &AppState) {
    let registry = state.group_registry.clone();
    tokio::spawn(async move {
        if let Err(e) = registry.refresh(&CallContext::background("startup-groups")).await {
            tracing::warn!(error.message = %e, "group schemas not loaded at startup; they load on first use");
        }
    });
    state
        .group_registry
        .spawn_refresher(GROUPS_REFRESH_INTERVAL, state.shutdown.clone());
}

/// Builds every port from the configuration.
pub fn build_state(config: Config) -> Result<AppState, StartupError> {
    let http = build_http_client(config.downstream_timeout)?;
    let StoreConfig::Crud(crud) = &config.store else {
        return Err(StartupError::Unsupported(
            "embedded mode (no USERS_CRUD_ENDPOINT, UMS_CONFIG_CRUD_ENDPOINT or AUTH_SERVICE set) is not available in this build yet: \
             set them to run against a CRUD Service and an Auth0 Client, or run the demo (see README)"
                .into(),
        ));
    };
    let collection = |path: &str| -> Arc<dyn Collection> {
        Arc::new(
            CrudCollection::new(http.clone(), &crud.base_url, path)
                .with_response_timeout(config.downstream_timeout),
        )
    };
    let auth: Arc<dyn AuthProvider> = match &config.auth {
        AuthConfig::Auth0Client(settings) => {
            let mut adapter_config = Auth0ClientConfig::new(settings.base_url.clone());
            adapter_config.connection = settings.connection.clone();
            adapter_config.change_password_path = settings.change_password_path.clone();
            adapter_config.user_path_template = settings.user_path_template.clone();
            Arc::new(Auth0Client::new(http.clone(), adapter_config))
        }
        AuthConfig::Local { .. } => {
            return Err(StartupError::Unsupported(
                "AUTH_MODULE=local is not available in this build yet: use auth0Client".into(),
            ))
        }
    };
    let policy = config
        .rond
        .as_ref()
        .map(|rond| -> Arc<dyn PolicyClient> { Arc::new(RondClient::new(http.clone(), &rond.base_url)) });
    let timer = config.timer.as_ref().map(|timer| -> Arc<dyn TimerClient> {
        Arc::new(TimerServiceClient::new(http.clone(), &timer.base_url))
    });
    let groups = collection(&crud.groups_path);
    let jobs = crud.jobs_path.as_deref().map(collection);
    let job_runner = jobs.as_ref().map(|jobs| {
        JobRunner::new(
            JobStore::new(jobs.clone()),
            crate::jobs::kinds::all(),
            config.bulk.job_lease,
            config.bulk.job_poll_interval,
        )
    });
    Ok(AppState {
        users: collection(&crud.users_path),
        group_registry: Arc::new(GroupRegistry::new(groups.clone(), GROUPS_REFRESH_INTERVAL)),
        groups,
        roles: crud.roles_path.as_deref().map(collection),
        jobs,
        job_runner,
        auth,
        policy,
        timer,
        metrics: telemetry::metrics_handle(),
        shutdown: CancellationToken::new(),
        config: Arc::new(config),
    })
}
