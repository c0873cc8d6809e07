//! `Application`: builds the ports from the configuration, binds the listener (port 0 in tests)
//! and serves until its shutdown token is cancelled, letting in-flight requests finish.

mod ports;

pub use ports::build_state;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::context::CallContext;
use crate::state::AppState;

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
    /// The embedded store (SQLite under `DATA_DIR`) could not be opened.
    #[error("DATA_DIR: cannot open the embedded store at {path}: {message}")]
    Embedded {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The local auth provider could not start (its signing key under `DATA_DIR`).
    #[error("DATA_DIR: {0}")]
    LocalAuth(String),
}

/// The running service: a bound listener and its router.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    port: u16,
    shutdown: CancellationToken,
}

impl Application {
    /// Binds `HTTP_HOST:HTTP_PORT` (port 0 picks a free port), then builds the ports the
    /// configuration names: a second instance on a taken port stops before it opens (or
    /// creates) `DATA_DIR` or writes anything.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let listener = bind(&config).await?;
        let groups_dir = match &config.store {
            crate::config::StoreConfig::Embedded { groups_dir, .. } => Some(groups_dir.clone()),
            crate::config::StoreConfig::Crud(_) => None,
        };
        let state = build_state(config)?;
        if let Some(dir) = &groups_dir {
            seed_groups(&state, dir).await;
        }
        if let Some(authz) = &state.authz {
            let config = &state.config;
            authz
                .bootstrap(&config.authz, &config.data_dir, groups_dir.is_some())
                .await
                .map_err(|e| StartupError::LocalAuth(format!("bootstrap client: {e}")))?;
        }
        Self::serve_on(state, listener)
    }

    /// Binds and wires an `AppState` built elsewhere (tests with hand-made ports).
    pub async fn with_state(state: AppState) -> Result<Self, StartupError> {
        let listener = bind(&state.config).await?;
        Self::serve_on(state, listener)
    }

    fn serve_on(state: AppState, listener: TcpListener) -> Result<Self, StartupError> {
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                port: state.config.http_port,
                source,
            })?
            .port();
        let shutdown = state.shutdown.clone();
        start_group_refresh(&state);
        start_depth_audit(&state);
        if let Some(jobs) = state.jobs.clone() {
            tokio::spawn(jobs.runner.clone().run_until_stopped(state.shutdown.clone()));
            let consistency = &state.config.consistency;
            if let Some(every) = consistency.reconcile_interval {
                let (mode, stop) = (consistency.reconcile_mode, state.shutdown.clone());
                tokio::spawn(crate::jobs::kinds::reconcile::schedule(jobs, every, mode, stop));
            }
        }
        if let Some(journal) = state.users.journal.clone() {
            let grace = state.config.consistency.recovery_grace;
            let recovery = crate::journal::recovery::Recovery::new(journal, state.users.clone(), grace);
            tokio::spawn(recovery.run_until_stopped(state.shutdown.clone()));
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
        // The peer address reaches handlers as `ConnectInfo` (the client address of logins).
        let service = self
            .router
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await
    }
}

/// Loads the group schemas in the background (a store that is down at startup does not stop the
/// service: groups load on first use) and keeps them fresh until shutdown.
fn start_group_refresh(state: &AppState) {
    let registry = state.users.groups.clone();
    tokio::spawn(async move {
        if let Err(e) = registry.refresh(&CallContext::background("startup-groups")).await {
            tracing::warn!(error.message = %e, "group schemas not loaded at startup; they load on first use");
        }
    });
    state
        .users
        .groups
        .spawn_refresher(ports::GROUPS_REFRESH_INTERVAL, state.shutdown.clone());
}

/// Looks for stored users nested beyond `LIMIT_DOCUMENT_DEPTH` in the background, so that
/// `/-/check-up` reports them (the embedded store scans; the CRUD adapter finds none).
fn start_depth_audit(state: &AppState) {
    let (users, max_depth) = (state.users.store.clone(), state.config.limits.document.max_depth);
    tokio::spawn(async move {
        match users.audit_depth(max_depth).await {
            Ok(0) => {}
            Ok(found) => tracing::warn!(found, "stored users beyond LIMIT_DOCUMENT_DEPTH: see /-/check-up"),
            Err(e) => tracing::warn!(error.message = %e, "depth audit of the stored users failed"),
        }
    });
}

/// `HTTP_HOST:HTTP_PORT`, bound.
async fn bind(config: &Config) -> Result<TcpListener, StartupError> {
    let port = config.http_port;
    TcpListener::bind((config.http_host, port))
        .await
        .map_err(|source| StartupError::Bind { port, source })
}

/// Embedded mode: inserts the groups of `GROUPS_CONFIG_DIR` missing from the store before the
/// port serves (a stored group is never overwritten: see `groups::seed`); an empty path: none.
async fn seed_groups(state: &AppState, dir: &std::path::Path) {
    if dir.as_os_str().is_empty() {
        tracing::info!("GROUPS_CONFIG_DIR is empty: no group file loaded");
        return;
    }
    let ctx = CallContext::background("startup-group-files");
    match crate::groups::seed::seed_from_dir(state.groups.groups.as_ref(), &ctx, dir, &state.config.limits)
        .await
    {
        Ok(report) => tracing::info!(
            dir = %dir.display(),
            inserted = ?crate::telemetry::json_field(&report.inserted),
            unchanged = ?crate::telemetry::json_field(&report.unchanged),
            kept = ?crate::telemetry::json_field(&report.kept),
            skipped = report.skipped.len(),
            "group files loaded"
        ),
        Err(e) => tracing::error!(dir = %dir.display(), error.message = %e, "group files not loaded"),
    }
}
