//! Per-request observation: the `request` span carrying `reqId`, the Mia `incoming request` /
//! `request completed` log lines, HTTP metrics, and the 500 answer to a panic.

use std::any::Any;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::http::error::{ApiError, ErrorCause};

/// Wraps one request: span, logs (status routes `/-/` only when they fail) and metrics.
pub async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let status_route = path.starts_with("/-/");
    let span = tracing::info_span!("request", reqId = %request_id);
    if !status_route {
        tracing::trace!(parent: &span, http.request.method = %method, url.path = %path, "incoming request");
    }

    let response = next.run(request).instrument(span.clone()).await;

    let status = response.status();
    let elapsed = started.elapsed();
    let response_time = elapsed.as_secs_f64() * 1000.0;
    let cause = response.extensions().get::<ErrorCause>().map(|c| c.0.clone());
    let _entered = span.enter();
    if let Some(cause) = cause {
        tracing::error!(
            http.request.method = %method, url.path = %path, http.response.statusCode = status.as_u16(),
            responseTime = response_time, error.message = %cause, "request failed"
        );
    } else if !status_route || status.is_server_error() {
        tracing::info!(
            http.request.method = %method, url.path = %path, http.route = %route,
            http.response.statusCode = status.as_u16(), responseTime = response_time, "request completed"
        );
    }
    let labels = [
        ("method", method.to_string()),
        ("route", route),
        ("status", status.as_u16().to_string()),
    ];
    metrics::counter!("ums_http_requests_total", &labels).increment(1);
    metrics::histogram!("ums_http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    response
}

/// The response to a handler panic: a Mia 500, the panic message logged (never sent).
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned());
    let mut response = ApiError::Internal(format!("handler panicked: {detail}")).into_response();
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}
