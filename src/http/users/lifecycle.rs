//! Lifecycle routes of `/users`: delete, bulk state change, soft delete and the Timer Service's
//! expiry callback (SPEC §5). Thin handlers over `crate::users::lifecycle`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::doc::{self, DownstreamFailures, JsonBodyRefusals};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, Ctx, IfMatch, NoQuery};
use crate::state::AppState;
use crate::store::DocState;
use crate::users::lifecycle;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(delete_user))
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

/// Deletes a user in any state: deletes its auth user (blocks it with `AUTH_HARD_DELETE=false`),
/// revokes its Rönd bindings, deletes the store document, aborts its expiry timer (Timer errors
/// are logged, not returned). Idempotent: after a failure a retry completes the job. An
/// `acl_rows` header (set by the platform) limits the users it finds, as on the read routes.
///
/// On a 502 or 504, retry to complete.
#[utoipa::path(delete, path = "/users/{id}", tag = "users",
    params(
        ("id" = String, Path, description = "The user's `_id`"),
        ("if-match" = Option<String>, Header, description = "Delete only if the user is at this version \
            (the `ETag` of `GET /users/{id}`), or `*`")),
    responses(
        (status = 204, description = "The user is deleted"),
        (status = 400, description = "A query parameter was sent (this route takes none)", body = ErrorBody),
        (status = 404, description = "No user has this id", body = ErrorBody),
        (status = 412, description = "The user is not at the version of `If-Match`: nothing was changed", body = ErrorBody),
        DownstreamFailures))]
async fn delete_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
    _: NoQuery,
    IfMatch(if_match): IfMatch,
) -> ApiResult<StatusCode> {
    lifecycle::delete_if_match(&state.users, &ctx, &id, if_match.as_deref()).await?;
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
