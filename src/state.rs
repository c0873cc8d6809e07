//! `AppState`: what the HTTP handlers hold — the use-case services built at the composition
//! root (`src/startup`), behind one `Arc`: axum clones the state for every extractor and
//! middleware of every request, so a clone is one reference count, not one per service.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

use crate::audit::AuditLog;
use crate::auth::local::LocalAuth;
use crate::authz::Authz;
use crate::config::Config;
use crate::groups::admin::GroupAdmin;
use crate::idempotency::Idempotency;
use crate::jobs::Jobs;
use crate::policy::PolicyClient;
use crate::timer::TimerClient;
use crate::users::UserService;

/// Shared state of the HTTP handlers: [`Services`] behind one `Arc` (fields read through `Deref`).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    /// The state holding `services`.
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services and ports of the HTTP handlers.
pub struct Services {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The user use cases and their ports (user store, auth provider, group schemas, Rönd, timers).
    pub users: Arc<UserService>,
    /// The `/groups` use cases (the group-config collection and the registry).
    pub groups: Arc<GroupAdmin>,
    /// Bulk jobs (their collection and this replica's runner), when a jobs collection exists.
    pub jobs: Option<Jobs>,
    /// `Idempotency-Key` records, on the saga collection, when one exists.
    pub idempotency: Option<Arc<Idempotency>>,
    /// Access control, when `AUTHZ_MODE=scopes`: tokens, clients, the guard's decisions.
    pub authz: Option<Arc<Authz>>,
    /// The audit trail: a collection (embedded `/audit`, `AUDIT_CRUD_ENDPOINT`) or log lines.
    pub audit: Arc<dyn AuditLog>,
    /// The local provider itself (its JWKS and reset-password routes), when `AUTH_MODULE=local`.
    pub local_auth: Option<Arc<LocalAuth>>,
    /// Rönd, when `ROND_ENABLED` (for `/-/check-up`).
    pub policy: Option<Arc<dyn PolicyClient>>,
    /// The Timer Service, when `TIMER_SERVICE` is set (for `/-/check-up`).
    pub timer: Option<Arc<dyn TimerClient>>,
    /// Prometheus rendering of the process metrics.
    pub metrics: PrometheusHandle,
    /// Cancelled when the service starts shutting down (readiness turns KO, jobs stop claiming).
    pub shutdown: CancellationToken,
}
