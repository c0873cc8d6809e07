//! `AppState`: every dependency of the handlers, cheap to clone (one `Arc` per port).

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::AuthProvider;
use crate::config::Config;
use crate::groups::GroupRegistry;
use crate::jobs::JobRunner;
use crate::policy::PolicyClient;
use crate::store::Collection;
use crate::timer::TimerClient;

/// Shared state of the HTTP handlers and background jobs.
#[derive(Clone)]
pub struct AppState {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The users collection.
    pub users: Arc<dyn Collection>,
    /// The group-config collection (`userGroup`, `crudSchema`, ...).
    pub groups: Arc<dyn Collection>,
    /// The compiled group schemas, read from `groups` and refreshed.
    pub group_registry: Arc<GroupRegistry>,
    /// The Rönd roles collection, when `ROLES_CRUD_ENDPOINT` is set.
    pub roles: Option<Arc<dyn Collection>>,
    /// The jobs collection, when configured.
    pub jobs: Option<Arc<dyn Collection>>,
    /// The bulk-job runner of this replica (job store + wake-up), when a jobs collection exists.
    pub job_runner: Option<JobRunner>,
    /// The authentication provider.
    pub auth: Arc<dyn AuthProvider>,
    /// The local provider itself (its JWKS and reset-password routes), when `AUTH_MODULE=local`.
    pub local_auth: Option<Arc<crate::auth::local::LocalAuth>>,
    /// Rönd, when `ROND_ENABLED`.
    pub policy: Option<Arc<dyn PolicyClient>>,
    /// The Timer Service, when `TIMER_SERVICE` is set.
    pub timer: Option<Arc<dyn TimerClient>>,
    /// Prometheus rendering of the process metrics.
    pub metrics: PrometheusHandle,
    /// Cancelled when the service starts shutting down (readiness turns KO, jobs stop claiming).
    pub shutdown: CancellationToken,
}
