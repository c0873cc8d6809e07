//! Lifecycle routes of `/users`: delete, bulk state change, soft delete and the Timer Service's
//! expiry callback (SPEC §5). Thin handlers over `crate::users::lifecycle`.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::doc::{self, AclHeaders, DownstreamFailures, FilterQuery, JsonBodyRefusals};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{query_pairs, ApiJson, ApiPath, Ctx, IfMatch, NoQuery};
use crate::state::AppState;
use crate::store::query::QueryParseError;
use crate::store::DocState;
use crate::store::Filter;
use crate::users::lifecycle;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(delete_user))
        .routes(routes!(delete_users))
        .routes(routes!(change_state))
        .routes(routes!(change_states))
        .routes(routes!(soft_delete_user))
        .routes(routes!(expire_user))
}

/// One item of `POST /users/state`, as the CRUD Service takes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StateItem {
    /// `_id` and/or field equality entries (`{"_id": "..."}`, `{"email": "..."}`); no `_q`, no `_st`.
    #[schema(schema_with = doc::state_filter, example = json!({"_id": "665f00000000000000000001"}))]
    filter: Map<String, Value>,
    /// The state the matched users move to.
    #[schema(schema_with = doc::state_name)]
    state_to: DocState,
}

/// The body of `POST /users/state`: a non-empty array of [`StateItem`] (documentation only).
struct StateItems;

impl PartialSchema for StateItems {
    fn schema() -> RefOr<Schema> {
        doc::array_of::<StateItem>(1, None)
    }
}

impl ToSchema for StateItems {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((StateItem::name().into_owned(), StateItem::schema()));
        StateItem::schemas(schemas);
    }
}

/// Deletes a user: deletes its auth user (blocks it with `AUTH_HARD_DELETE=false`), revokes its
/// Rönd bindings, deletes the store document, aborts its expiry timer (Timer errors are logged,
/// not returned). As the CRUD `DELETE /:id`, the user must match `_q`, `_st` (default PUBLIC:
/// `_st=TRASH` for a definitive delete from the trash) and the field filters, and the
/// `acl_rows` header. After a failure a retry completes the job; once the user is deleted, a
/// second call answers 404, as the CRUD Service does for a missing id.
///
/// On a 502 or 504, retry to complete.
#[utoipa::path(delete, path = "/users/{id}", tag = "users",
    params(
        ("id" = String, Path, description = "The user's `_id`"),
        ("if-match" = Option<String>, Header, description = "Delete only if the user is at this version \
            (the `ETag` of `GET /users/{id}`), or `*`"),
        FilterQuery,
        AclHeaders),
    responses(
        (status = 204, description = "The user is deleted"),
        (status = 400, description = "Invalid query: unknown or repeated parameter, `_q` or `acl_rows` \
            not a valid filter, `_st` out of its form", body = ErrorBody),
        (status = 404, description = "No user matches the id, filter and state (a user already deleted \
            included: a second `DELETE` answers 404)", body = ErrorBody),
        (status = 412, description = "The user is not at the version of `If-Match`: nothing was changed", body = ErrorBody),
        DownstreamFailures))]
async fn delete_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
    RawQuery(raw): RawQuery,
    IfMatch(if_match): IfMatch,
) -> ApiResult<StatusCode> {
    let filter = one_user_filter(raw.as_deref())?;
    lifecycle::delete_if_match(&state.users, &ctx, &id, &filter, if_match.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes every user matching the query, as the CRUD `DELETE /` (`_q`, `_st` — default PUBLIC —,
/// field filters, `acl_rows`), each as `DELETE /users/{id}` deletes one (auth user, Rönd
/// bindings, document, expiry timer), a few at a time. 200 with how many were deleted. The first
/// user that fails stops the operation: the users already deleted stay deleted, and the 502/504
/// (or the failed user's 4xx) says how many were deleted and which user failed on what; retry to
/// complete.
#[utoipa::path(delete, path = "/users/", tag = "users",
    params(FilterQuery, AclHeaders),
    responses(
        (status = 200, description = "How many users were deleted: a bare JSON integer", body = u64,
            content_type = "application/json"),
        (status = 400, description = "Invalid query: unknown or repeated parameter, `_q` or `acl_rows` \
            not a valid filter, `_st` out of its form", body = ErrorBody),
        DownstreamFailures))]
async fn delete_users(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    RawQuery(raw): RawQuery,
) -> ApiResult<ApiJson<u64>> {
    let bad = |e: QueryParseError| ApiError::BadRequest(e.to_string());
    let filter = Filter::from_query_pairs(&query_pairs(raw.as_deref())?).map_err(bad)?;
    Ok(ApiJson(
        lifecycle::delete_many(&state.users, &ctx, &filter).await?,
    ))
}

/// The filter of a route on one user (`_q`, `_st`, field filters; the id is the path's).
fn one_user_filter(raw: Option<&str>) -> ApiResult<Filter> {
    let bad = |e: QueryParseError| ApiError::BadRequest(e.to_string());
    let filter = Filter::from_query_pairs(&query_pairs(raw)?).map_err(bad)?;
    if filter.id.is_some() {
        return Err(bad(QueryParseError::UnknownParameter {
            name: "_id".into(),
            allowed: "_q, _st",
        }));
    }
    Ok(filter)
}

/// Body of `POST /users/{id}/state`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StateTo {
    /// The state the user moves to.
    #[schema(schema_with = doc::state_name)]
    state_to: DocState,
}

/// Moves one user to `stateTo`, as the CRUD `POST /:id/state`: the user must match `_q` and the
/// field filters (in any state; this route takes no `_st`); a transition the state machine does
/// not allow is a 400. Its auth user gets the target state's effect first (DRAFT/TRASH block,
/// PUBLIC unblocks, DELETED deletes it — or blocks it with `AUTH_HARD_DELETE=false` — and unlinks
/// it). On a 502 or 504, retry to complete.
#[utoipa::path(post, path = "/users/{id}/state", tag = "users",
    params(("id" = String, Path, description = "The user's `_id`"), FilterQuery, AclHeaders),
    request_body = StateTo,
    responses(
        (status = 204, description = "The user is in `stateTo`"),
        (status = 400, description = "Malformed body or query, or a transition the state machine does not allow", body = ErrorBody),
        (status = 404, description = "No user matches the id and filter", body = ErrorBody),
        (status = 409, description = "The user changed state meanwhile: retry", body = ErrorBody),
        JsonBodyRefusals,
        DownstreamFailures))]
async fn change_state(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
    RawQuery(raw): RawQuery,
    ApiJson(body): ApiJson<StateTo>,
) -> ApiResult<StatusCode> {
    let filter = one_user_filter(raw.as_deref())?;
    if filter.state.is_some() {
        return Err(ApiError::BadRequest(
            "_st is not accepted here: POST /users/{id}/state matches the user in any state".into(),
        ));
    }
    lifecycle::change_state(&state.users, &ctx, &id, filter, body.state_to).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the state of the users matched by each item, like the CRUD `POST /state` (only users
/// whose state is an allowed source of `stateTo` change), applying the auth side effect first:
/// DRAFT/TRASH block the auth user, PUBLIC unblocks it, DELETED deletes it (blocks it with
/// `AUTH_HARD_DELETE=false`). Returns how many users changed state.
///
/// When some auth calls fail, the other users still change state, the failed ones keep theirs,
/// and the answer is the first auth error (502/504) instead of the count; retrying the same body
/// completes the job.
///
/// On a 502 or 504, some users may have changed state.
#[utoipa::path(post, path = "/users/state", tag = "users",
    request_body(content = inline(StateItems), description = "A non-empty array of `{filter, stateTo}`"),
    responses(
        (status = 200, description = "How many users changed state: a bare JSON integer", body = u64,
            content_type = "application/json"),
        (status = 400, description = "Malformed JSON or body, or a query parameter was sent", body = ErrorBody),
        JsonBodyRefusals,
        DownstreamFailures))]
async fn change_states(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    _: NoQuery,
    ApiJson(items): ApiJson<Vec<StateItem>>,
) -> ApiResult<ApiJson<u64>> {
    let requests = lifecycle::state_requests(items.into_iter().map(|i| (i.filter, i.state_to)))?;
    let modified = lifecycle::change_states(&state.users, &ctx, &requests).await?;
    Ok(ApiJson(modified))
}

/// Walks the user through the allowed transitions to DELETED (PUBLIC → TRASH → DELETED,
/// DRAFT → TRASH → DELETED, TRASH → DELETED), applying the auth side effect of each state before
/// it (TRASH blocks; DELETED deletes, or blocks with `AUTH_HARD_DELETE=false`). Resumable: a
/// second call continues from the state reached; a DELETED user is left alone.
///
/// On a 502 or 504, retry to continue.
#[utoipa::path(post, path = "/users/{id}/soft-delete", tag = "users",
    params(("id" = String, Path, description = "The user's `_id`")),
    responses(
        (status = 204, description = "The user is DELETED"),
        (status = 400, description = "A query parameter was sent, or the store refused a transition", body = ErrorBody),
        (status = 404, description = "No user has this id", body = ErrorBody),
        DownstreamFailures))]
async fn soft_delete_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
    _: NoQuery,
) -> ApiResult<StatusCode> {
    lifecycle::soft_delete(&state.users, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Expiry callback of the Timer Service at the user's `expirationDate`: blocks the auth user and
/// sets `blocked: true` on the store user (any state). The body is the timer's payload
/// `{"userId", "expirationDate"}`: when the user's `expirationDate` is no longer the one the timer
/// was scheduled for, the callback is stale and changes nothing (204). A body without
/// `expirationDate`, or none, always applies. Idempotent.
#[utoipa::path(post, path = "/users/{id}/expire", tag = "users",
    params(("id" = String, Path, description = "The user's `_id`")),
    request_body(content = Option<serde_json::Value>, content_type = "*/*",
        description = "The timer's JSON payload `{\"userId\", \"expirationDate\"}`, read leniently: any body \
            is accepted, and one without a string `expirationDate` applies the expiry"),
    responses(
        (status = 204, description = "The user is blocked"),
        (status = 400, description = "A query parameter was sent (this route takes none)", body = ErrorBody),
        (status = 404, description = "No user has this id", body = ErrorBody),
        DownstreamFailures))]
async fn expire_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
    _: NoQuery,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let payload: Option<Value> = serde_json::from_slice(&body).ok();
    let scheduled_for = payload.as_ref().and_then(|p| p.get("expirationDate")?.as_str());
    lifecycle::expire(&state.users, &ctx, &id, scheduled_for).await?;
    Ok(StatusCode::NO_CONTENT)
}
