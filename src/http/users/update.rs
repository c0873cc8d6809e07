//! `PATCH /users/{id}`: a user updated with CRUD update operators, as the Microfrontend Composer
//! sends them (`?_st=<state>` with `{"$set": {...}, "$unset": {...}}`), then synced to the auth
//! provider, Rönd and the Timer Service (SPEC §5; contracts/crud-service.md §1, §3, §8).

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::doc::{AclHeaders, DownstreamFailures, FilterQuery, JsonBodyRefusals, UpdateOperators};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{query_pairs, with_etag, ApiJson, ApiPath, Ctx, IfMatch};
use crate::state::AppState;
use crate::store::query::QueryParseError;
use crate::store::Filter;
use crate::users;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(patch_user))
}

/// Updates one user with CRUD update operators (`$set`, `$unset`, `$inc`, `$mul`,
/// `$currentDate`, `$push`, `$addToSet`, `$pull`) and returns the updated user. The document after
/// the update must match the schema of its group (the new one when `userGroup` changes);
/// `authUserId`, `expirationId` and the standard fields cannot be updated. Email, username and
/// blocked reach the auth provider, roles Rönd, `expirationDate` the Timer Service; if one of
/// them fails, the change is reverted.
///
/// On a 502 or 504, the change was reverted.
#[utoipa::path(patch, path = "/users/{id}", tag = "users",
    params(
        ("id" = String, Path, description = "The user's `_id`"),
        ("if-match" = Option<String>, Header, description = "Update only if the user is at this version \
            (the `ETag` of `GET /users/{id}`), or `*`"),
        FilterQuery,
        AclHeaders),
    request_body(content = UpdateOperators, description = "CRUD update operators, e.g. \
        `{\"$set\": {\"name\": \"Ada\"}, \"$unset\": {\"age\": true}}`",
        example = json!({"$set": {"surname": "Lee"}})),
    responses(
        (status = 200, description = "The updated user", body = Object,
            headers(("etag" = String, description = "The user's new version"))),
        (status = 400, description = "Malformed JSON; invalid query (`_q`, `acl_rows`, `_st`); invalid \
            update; the updated document does not match the schema of its group", body = ErrorBody),
        (status = 404, description = "No user matches the id, filter and state", body = ErrorBody),
        (status = 409, description = "Modified concurrently (retry), or email/username taken", body = ErrorBody),
        (status = 412, description = "The user is not at the version of `If-Match`: nothing was written", body = ErrorBody),
        JsonBodyRefusals,
        DownstreamFailures))]
async fn patch_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
    RawQuery(raw): RawQuery,
    IfMatch(if_match): IfMatch,
    ApiJson(update): ApiJson<Value>,
) -> ApiResult<Response> {
    let filter = patch_filter(raw.as_deref())?;
    let user =
        users::update::update_user_if_match(&state.users, &ctx, &id, filter, update, if_match.as_deref())
            .await?;
    Ok(with_etag(&user, ApiJson(&user).into_response()))
}

/// The filter of the query string: `_q`, `_st` and field filters (the id is in the path).
fn patch_filter(raw: Option<&str>) -> ApiResult<Filter> {
    let pairs = query_pairs(raw)?;
    let filter = Filter::from_query_pairs(&pairs).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if filter.id.is_some() {
        let error = QueryParseError::UnknownParameter {
            name: "_id".into(),
            allowed: "_q, _st",
        };
        return Err(ApiError::BadRequest(error.to_string()));
    }
    Ok(filter)
}
