//! Bulk-activation routes: `POST /jobs/bulk-activation` starts a job that creates auth-provider
//! users for existing store users and links them; `GET /jobs/bulk-activation/{id}` reports it.

use std::collections::HashSet;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::doc::{self, JsonBodyRefusals, NonBlank};
use crate::http::extract::{flags, ApiJson, ApiPath, Ctx};
use crate::jobs::kinds::activation::{self, ActivationReport, MAX_USERS};
use crate::jobs::JobStore;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_activation))
        .routes(routes!(get_activation))
}

/// One user to activate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ActivationItem {
    /// Which user.
    filter: UserFilter,
}

/// A user by store id.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserFilter {
    /// The user's store `_id` (not blank).
    #[schema(value_type = NonBlank, example = "665f00000000000000000001")]
    user_id: String,
}

/// The body of `POST /jobs/bulk-activation`: 1 to [`MAX_USERS`] items (documentation only).
struct ActivationItems;

impl PartialSchema for ActivationItems {
    fn schema() -> RefOr<Schema> {
        doc::array_of::<ActivationItem>(1, Some(MAX_USERS))
    }
}

impl ToSchema for ActivationItems {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ActivationItem::name().into_owned(), ActivationItem::schema()));
        ActivationItem::schemas(schemas);
    }
}

/// A job just created.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct JobCreated {
    /// The id to read the job with.
    job_id: String,
    /// Always `pending`.
    status: String,
    /// When the job was created (ISO-8601).
    job_created_at: String,
}

/// Starts a bulk activation: the users (by store id) get an auth-provider user through the
/// provider's bulk import (files under 500 KB, at most two provider jobs at a time), then their
/// `authUserId`. Users that are unknown, already linked or without email end in `failures`.
#[utoipa::path(post, path = "/jobs/bulk-activation", tag = "jobs",
    params(("upsert" = Option<bool>, Query, description = "Update provider users that already exist (default true)")),
    request_body(content = inline(ActivationItems), description = "The users to activate (at most 100,000)"),
    responses(
        (status = 202, description = "The job is created", body = JobCreated),
        (status = 400, description = "Malformed JSON or body, or an invalid query", body = ErrorBody),
        JsonBodyRefusals,
        (status = 501, description = "No jobs collection, or the auth provider has no bulk import", body = ErrorBody),
        (status = 502, description = "Jobs collection error", body = ErrorBody),
        (status = 504, description = "Jobs collection timeout", body = ErrorBody)))]
async fn start_activation(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    RawQuery(raw): RawQuery,
    body: Result<ApiJson<Vec<ActivationItem>>, ApiError>,
) -> ApiResult<(StatusCode, ApiJson<JobCreated>)> {
    let runner = super::runner(&state)?;
    let jobs = state
        .jobs
        .clone()
        .filter(|_| state.auth.capabilities().bulk_import);
    let jobs = jobs.ok_or_else(|| {
        ApiError::NotImplemented("the configured auth provider does not support bulk import".into())
    })?;
    let upsert = upsert_param(raw.as_deref())?;
    let user_ids = user_ids(body?.0)?;
    let job = activation::create(jobs, &ctx, user_ids, upsert).await?;
    runner.wake();
    let created = JobCreated {
        job_id: job.id,
        status: job.status.as_str().to_owned(),
        job_created_at: job.job_created_at,
    };
    Ok((StatusCode::ACCEPTED, ApiJson(created)))
}

/// A bulk-activation job: status, counters, failed users and progress.
#[utoipa::path(get, path = "/jobs/bulk-activation/{id}", tag = "jobs",
    params(("id" = String, Path, description = "The `jobId` returned at creation")),
    responses(
        (status = 200, description = "The job", body = ActivationReport),
        (status = 400, description = "Malformed `acl_rows` header", body = ErrorBody),
        (status = 404, description = "No bulk-activation job has this id", body = ErrorBody),
        (status = 501, description = "No jobs collection", body = ErrorBody),
        (status = 502, description = "Jobs collection error", body = ErrorBody),
        (status = 504, description = "Jobs collection timeout", body = ErrorBody)))]
async fn get_activation(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ActivationReport>> {
    super::runner(&state)?;
    let jobs = state
        .jobs
        .clone()
        .ok_or_else(|| ApiError::NotFound(not_found(&id)))?;
    let job = JobStore::new(jobs).get(&ctx, activation::KIND, &id).await?;
    let job = job.ok_or_else(|| ApiError::NotFound(not_found(&id)))?;
    Ok(ApiJson(ActivationReport::of(job)))
}

fn not_found(id: &str) -> String {
    format!("job \"{id}\" not found")
}

/// `upsert` (`true` or `false`, default true); any other parameter is refused.
fn upsert_param(raw: Option<&str>) -> ApiResult<bool> {
    let [upsert] = flags(raw, [("upsert", true)])?;
    Ok(upsert)
}

/// The distinct user ids of the body, in order: at least one, at most [`MAX_USERS`], none empty.
fn user_ids(items: Vec<ActivationItem>) -> ApiResult<Vec<String>> {
    if items.is_empty() {
        return Err(ApiError::BadRequest(
            "the body must list at least one user".into(),
        ));
    }
    if items.len() > MAX_USERS {
        return Err(ApiError::BadRequest(format!(
            "the body lists {} users: at most {MAX_USERS} are accepted per job",
            items.len()
        )));
    }
    let mut seen = HashSet::with_capacity(items.len());
    let mut ids = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let id = item.filter.user_id;
        if id.trim().is_empty() {
            return Err(ApiError::BadRequest(format!(
                "[{index}].filter.userId must not be empty"
            )));
        }
        if seen.insert(id.clone()) {
            ids.push(id);
        }
    }
    Ok(ids)
}
