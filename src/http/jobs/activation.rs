//! Bulk-activation routes: `POST /jobs/bulk-activation` starts a job that creates auth-provider
//! users for existing store users and links them; `GET /jobs/bulk-activation/{id}` reports it.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{activation_jobs, jobs, JobCreated};
use crate::http::doc::{
    self, DownstreamFailures, IdempotencyKey, IdempotencyRefusals, JsonBodyRefusals, NonBlank,
};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{flags, ApiJson, ApiPath, Ctx};
use crate::jobs::kinds::activation::{self, ActivationReport, MAX_USERS};
use crate::jobs::{distinct_ids, IdList};
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

/// How messages name the ids of this kind.
const IDS: IdList = IdList {
    name: "the body",
    item: |i| format!("[{i}].filter.userId"),
    max: MAX_USERS,
};

/// Starts a bulk activation: the users (by store id) get an auth-provider user through the
/// provider's bulk import (files under 500 KB, at most two provider jobs at a time), then their
/// `authUserId`. Users that are unknown, already linked or without email end in `failures`.
#[utoipa::path(post, path = "/jobs/bulk-activation", tag = "jobs",
    params(IdempotencyKey, ("upsert" = Option<bool>, Query, description = "Update provider users that already exist (default true)")),
    request_body(content = inline(ActivationItems), description = "The users to activate (at most 100,000)"),
    responses(
        (status = 202, description = "The job is created", body = JobCreated),
        (status = 400, description = "Malformed JSON or body, an invalid query or `Idempotency-Key`", body = ErrorBody),
        (status = 409, description = "A request with the same `Idempotency-Key` is in progress", body = ErrorBody),
        IdempotencyRefusals,
        JsonBodyRefusals,
        (status = 501, description = "No jobs collection, or the auth provider has no bulk import", body = ErrorBody),
        DownstreamFailures))]
async fn start_activation(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    RawQuery(raw): RawQuery,
    body: Result<ApiJson<Vec<ActivationItem>>, ApiError>,
) -> ApiResult<(StatusCode, ApiJson<JobCreated>)> {
    let jobs = activation_jobs(&state)?;
    let upsert = upsert_param(raw.as_deref())?;
    let ids = body?.0.into_iter().map(|item| item.filter.user_id).collect();
    let user_ids = distinct_ids(ids, &IDS)?;
    let job = activation::start(jobs, &ctx, user_ids, upsert).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(job.into())))
}

/// A bulk-activation job: status, counters, failed users and progress.
#[utoipa::path(get, path = "/jobs/bulk-activation/{id}", tag = "jobs",
    params(("id" = String, Path, description = "The `jobId` returned at creation")),
    responses(
        (status = 200, description = "The job", body = ActivationReport),
        (status = 400, description = "Malformed `acl_rows` header", body = ErrorBody),
        (status = 404, description = "No bulk-activation job has this id", body = ErrorBody),
        (status = 501, description = "No jobs collection", body = ErrorBody),
        DownstreamFailures))]
async fn get_activation(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ActivationReport>> {
    let jobs = jobs(&state)?;
    let job = jobs.get_without_input(&ctx, activation::KIND, &id).await?;
    let report = activation::read_report(jobs.store.collection().as_ref(), &ctx, job).await?;
    Ok(ApiJson(report))
}

/// `upsert` (`true` or `false`, default true); any other parameter is refused.
fn upsert_param(raw: Option<&str>) -> ApiResult<bool> {
    let [upsert] = flags(raw, [("upsert", true)])?;
    Ok(upsert)
}
