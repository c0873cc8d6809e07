//! Bulk change-password routes: `POST /jobs/change-password/bulk` starts a job that sends the
//! change-password email to many users under the provider's rate limit, and
//! `GET /jobs/change-password/bulk/{id}` reports it (SPEC §5 "Bulk jobs").

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{jobs, JobCreated};
use crate::http::doc::{DownstreamFailures, IdempotencyKey, IdempotencyRefusals, JsonBodyRefusals, NonBlank};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, Ctx};
use crate::jobs::kinds::change_password::{FailedUser, Input, Ledger, KIND, MAX_IDS};
use crate::jobs::{distinct_ids, IdList, Job, Progress};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_job))
        .routes(routes!(get_job))
}

/// Body of `POST /jobs/change-password/bulk`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StartBody {
    /// Auth-provider ids (1 to 100000, not blank; duplicates are sent once).
    #[schema(value_type = Vec<NonBlank>, min_items = 1, max_items = 100_000)]
    auth_users_ids: Vec<String>,
}

/// A user whose email was requested.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CompletedUser {
    /// The auth-provider id.
    auth_user_id: String,
}

/// Counts of a job's users.
#[derive(Debug, Serialize, ToSchema)]
struct Summary {
    /// Emails requested.
    completed: u64,
    /// Users that failed.
    failed: u64,
    /// All users of the job.
    total: u64,
}

/// The state of a bulk change-password job.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct JobReport {
    /// The job id.
    job_id: String,
    /// `pending`, `running`, `completed` or `failed`.
    status: String,
    /// ISO-8601 creation time.
    job_created_at: String,
    /// Counts.
    summary: Summary,
    /// Users whose email was requested, in request order.
    completed: Vec<CompletedUser>,
    /// Users that failed, with the reason.
    failures: Vec<FailedUser>,
    /// Users processed so far / all users.
    progress: Progress,
}

/// How messages name the ids of this kind.
const IDS: IdList = IdList {
    name: "authUsersIds",
    item: |i| format!("authUsersIds/{i}"),
    max: MAX_IDS,
};

/// Starts a job that asks the auth provider to send the change-password email to every listed
/// user, at most `AUTH0_BULK_CHANGE_PASSWORD_RATE_LIMIT_PER_SECOND` calls a second.
#[utoipa::path(post, path = "/jobs/change-password/bulk", tag = "jobs",
    params(IdempotencyKey),
    request_body = StartBody,
    responses(
        (status = 202, description = "Job created", body = JobCreated),
        (status = 400, description = "Malformed JSON or body, an invalid `Idempotency-Key`", body = ErrorBody),
        (status = 409, description = "A request with the same `Idempotency-Key` is in progress", body = ErrorBody),
        IdempotencyRefusals,
        JsonBodyRefusals,
        (status = 501, description = "No jobs collection configured", body = ErrorBody),
        DownstreamFailures))]
async fn start_job(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiJson(body): ApiJson<StartBody>,
) -> ApiResult<(StatusCode, ApiJson<JobCreated>)> {
    let jobs = jobs(&state)?;
    let ids = distinct_ids(body.auth_users_ids, &IDS)?;
    let total = ids.len() as u64;
    let input = serde_json::to_value(Input { auth_users_ids: ids })
        .map_err(|e| ApiError::Internal(format!("job input: {e}")))?;
    let job = jobs.start(&ctx, KIND, input, total).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(job.into())))
}

/// The state of a bulk change-password job: counts, users done and failed, progress.
#[utoipa::path(get, path = "/jobs/change-password/bulk/{id}", tag = "jobs",
    params(("id" = String, Path, description = "The `jobId` returned at creation")),
    responses(
        (status = 200, description = "The job", body = JobReport),
        (status = 400, description = "Malformed `acl_rows` header", body = ErrorBody),
        (status = 404, description = "No change-password job has this id", body = ErrorBody),
        (status = 501, description = "No jobs collection configured", body = ErrorBody),
        DownstreamFailures))]
async fn get_job(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<JobReport>> {
    let job = jobs(&state)?.get(&ctx, KIND, &id).await?;
    Ok(ApiJson(report(job)))
}

fn report(job: Job) -> JobReport {
    let ledger = serde_json::from_value::<Ledger>(job.result).unwrap_or_default();
    let total = job.progress.total;
    JobReport {
        job_id: job.id,
        status: job.status.as_str().to_owned(),
        job_created_at: job.job_created_at,
        summary: Summary {
            completed: ledger.completed.len() as u64,
            failed: ledger.failures.len() as u64,
            total,
        },
        completed: ledger
            .completed
            .into_iter()
            .map(|auth_user_id| CompletedUser { auth_user_id })
            .collect(),
        failures: ledger.failures,
        progress: job.progress,
    }
}
