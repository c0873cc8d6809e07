//! Operations routes (Mia conventions): `/-/healthz`, `/-/ready`, `/-/check-up`, `/-/metrics`
//! and `/documentation/json`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::context::CallContext;
use crate::state::AppState;

/// Body of the status routes.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct StatusBody {
    /// `OK` or `KO`.
    pub status: String,
    /// Service name.
    pub name: String,
    /// Service version.
    pub version: String,
    /// What is failing, when `KO`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Problems that do not stop the service (e.g. a group whose `crudSchema` does not compile).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn status(ok: bool, message: Option<String>) -> (StatusCode, Json<StatusBody>) {
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = StatusBody {
        status: if ok { "OK" } else { "KO" }.to_owned(),
        name: env!("CARGO_PKG_NAME").to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        message,
        warnings: Vec::new(),
    };
    (code, Json(body))
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(ready))
        .routes(routes!(check_up))
        .routes(routes!(prometheus_metrics))
}

/// `GET /documentation/json`: the OpenAPI document (not itself part of the document).
pub(super) fn documentation_router(doc: Arc<serde_json::Value>) -> Router<AppState> {
    Router::new().route(
        "/documentation/json",
        get(move || async move { Json(doc.as_ref().clone()) }),
    )
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/-/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = StatusBody)))]
async fn healthz() -> impl IntoResponse {
    status(true, None)
}

/// Readiness: ready to serve; `KO` once shutdown has begun.
#[utoipa::path(get, path = "/-/ready", tag = "operations",
    responses((status = 200, description = "Ready", body = StatusBody),
              (status = 503, description = "Shutting down", body = StatusBody)))]
async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    if state.shutdown.is_cancelled() {
        status(false, Some("shutting down".into()))
    } else {
        status(true, None)
    }
}

/// Dependencies: pings the store, the auth provider, and Rönd and the Timer Service when
/// configured; 503 naming each one that fails.
#[utoipa::path(get, path = "/-/check-up", tag = "operations",
    responses((status = 200, description = "Every dependency answers", body = StatusBody),
              (status = 503, description = "A dependency fails; `message` names it", body = StatusBody)))]
async fn check_up(State(state): State<AppState>) -> impl IntoResponse {
    let failures = failing_dependencies(&state).await;
    let (code, Json(mut body)) = if failures.is_empty() {
        status(true, None)
    } else {
        status(false, Some(failures.join("; ")))
    };
    body.warnings = state
        .users
        .groups
        .invalid_groups()
        .into_iter()
        .map(|(group, reason)| format!("userGroup \"{group}\" is unusable: {reason}"))
        .chain(state.users.store.damaged())
        .collect();
    (code, Json(body))
}

async fn failing_dependencies(state: &AppState) -> Vec<String> {
    let ctx = CallContext::background(uuid::Uuid::new_v4().to_string());
    let failed = |name: &str, error: &dyn std::fmt::Display| format!("{name} KO ({error})");
    let store = async {
        state
            .users
            .store
            .check(&ctx)
            .await
            .err()
            .map(|e| failed("user store", &e))
    };
    let auth = async {
        state
            .users
            .auth
            .check(&ctx)
            .await
            .err()
            .map(|e| failed("auth provider", &e))
    };
    let rond = async {
        let policy = state.policy.as_ref()?;
        policy.check(&ctx).await.err().map(|e| failed("Rönd", &e))
    };
    let timer = async {
        let timer = state.timer.as_ref()?;
        timer.check(&ctx).await.err().map(|e| failed("Timer Service", &e))
    };
    let (a, b, c, d) = tokio::join!(store, auth, rond, timer);
    [a, b, c, d].into_iter().flatten().collect()
}

/// Prometheus metrics: requests by route and status, latencies, downstream calls.
#[utoipa::path(get, path = "/-/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
async fn prometheus_metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
