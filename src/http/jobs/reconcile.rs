//! Reconcile routes: `POST /jobs/reconcile` starts a pass over both systems (report, or repair
//! too); `GET /jobs/reconcile/{id}` reports its progress and findings by kind.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{jobs, JobCreated};
use crate::config::ReconcileMode;
use crate::http::doc::{DownstreamFailures, IdempotencyKey, IdempotencyRefusals, JsonBodyRefusals};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, Ctx, NoQuery};
use crate::jobs::kinds::reconcile::{self, ReconcileReport};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_reconcile))
        .routes(routes!(get_reconcile))
}

/// The optional body of `POST /jobs/reconcile`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReconcileRequest {
    /// `report` (count only) or `repair` (also repair what is safe); `RECONCILE_MODE` when absent.
    mode: Option<ReconcileMode>,
}

/// Starts a reconcile pass: every store user checked against its auth user and every auth user
/// this service created against its store user; the findings by kind, and in repair mode what
/// was repaired, are in `GET /jobs/reconcile/{id}`. No body, or `{}`: `RECONCILE_MODE`.
#[utoipa::path(post, path = "/jobs/reconcile", tag = "jobs",
    params(IdempotencyKey),
    request_body(content = Option<ReconcileRequest>, description = "Optional: the mode of this pass", content_type = "application/json"),
    responses(
        (status = 202, description = "The job is created", body = JobCreated),
        (status = 400, description = "Malformed JSON, an unknown mode or field, a query string, or an invalid `Idempotency-Key`", body = ErrorBody),
        (status = 409, description = "A request with the same `Idempotency-Key` is in progress", body = ErrorBody),
        IdempotencyRefusals,
        JsonBodyRefusals,
        (status = 501, description = "No jobs collection", body = ErrorBody),
        DownstreamFailures))]
async fn start_reconcile(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    _: NoQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, ApiJson<JobCreated>)> {
    let jobs = jobs(&state)?;
    let request = optional_body(&headers, body)?;
    let mode = request.mode.unwrap_or(state.config.consistency.reconcile_mode);
    let job = reconcile::start(jobs, &ctx, mode).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(job.into())))
}

/// The optional JSON body: none (no bytes, or `null`) is the default; otherwise 413 over the body
/// limit, 415 without `content-type: application/json`, 400 when it is not such an object.
fn optional_body(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> ApiResult<ReconcileRequest> {
    let body = crate::http::extract::body_bytes(body)?;
    if body.is_empty() {
        return Ok(ReconcileRequest::default());
    }
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json {
        return Err(ApiError::UnsupportedMediaType(
            "expected a body with content-type: application/json".into(),
        ));
    }
    let expected = "expected {\"mode\": \"report\" | \"repair\"}";
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("body is not valid JSON: {e}: {expected}")))?;
    match value {
        serde_json::Value::Null => Ok(ReconcileRequest::default()),
        object @ serde_json::Value::Object(_) => {
            serde_json::from_value(object).map_err(|e| ApiError::BadRequest(format!("body: {e}: {expected}")))
        }
        _ => Err(ApiError::BadRequest(format!(
            "body must be an object: {expected}"
        ))),
    }
}

/// A reconcile pass: status, phase, progress and the findings by kind.
#[utoipa::path(get, path = "/jobs/reconcile/{id}", tag = "jobs",
    params(("id" = String, Path, description = "The `jobId` returned at creation")),
    responses(
        (status = 200, description = "The job", body = ReconcileReport),
        (status = 400, description = "Malformed `acl_rows` header", body = ErrorBody),
        (status = 404, description = "No reconcile job has this id", body = ErrorBody),
        (status = 501, description = "No jobs collection", body = ErrorBody),
        DownstreamFailures))]
async fn get_reconcile(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ReconcileReport>> {
    let job = jobs(&state)?.get(&ctx, reconcile::KIND, &id).await?;
    Ok(ApiJson(ReconcileReport::of(job)))
}
