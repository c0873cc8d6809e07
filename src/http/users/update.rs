//! `PATCH /users/{id}`: a user updated with CRUD update operators, as the Microfrontend Composer
//! sends them (`?_st=<state>` with `{"$set": {...}, "$unset": {...}}`), then synced to the auth
//! provider, Rönd and the Timer Service (SPEC §5; contracts/crud-service.md §1, §3, §8); and
//! `PATCH /users/` and `PATCH /users/bulk`, the same for many users.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
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
    OpenApiRouter::new()
        .routes(routes!(patch_user))
        .routes(routes!(patch_users))
        .routes(routes!(patch_bulk))
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

/// Updates every user matching the query (`_q`, `_st` — default PUBLIC —, `_id`, field filters,
/// `acl_rows`) with CRUD update operators, as the CRUD `PATCH /`. Every user's document after the
/// update is validated against its (possibly new) group before anything is written; then each
/// user is written (compare-and-set) and synced as `PATCH /users/{id}` does, a few at a time.
/// 200 with how many users were updated.
///
/// On a 502/504 (or the failed user's 4xx), the message says how many users were updated and
/// which user failed on what: that user was reverted, the users not reached were not touched.
#[utoipa::path(patch, path = "/users/", tag = "users",
    params(FilterQuery, AclHeaders),
    request_body(content = UpdateOperators, description = "CRUD update operators applied to every match",
        example = json!({"$set": {"blocked": true}})),
    responses(
        (status = 200, description = "How many users were updated: a bare JSON integer", body = u64,
            content_type = "application/json"),
        (status = 400, description = "Malformed JSON; invalid query; invalid update; more than 10,000 \
            matches; a user whose document after the update violates its group's schema (every \
            violation listed, nothing written)", body = ErrorBody),
        (status = 409, description = "A user was modified concurrently: the message says how many were \
            updated before (retry)", body = ErrorBody),
        JsonBodyRefusals,
        DownstreamFailures))]
async fn patch_users(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    RawQuery(raw): RawQuery,
    ApiJson(update): ApiJson<Value>,
) -> ApiResult<ApiJson<u64>> {
    let pairs = query_pairs(raw.as_deref())?;
    let filter = Filter::from_query_pairs(&pairs).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(ApiJson(
        users::update::update_many(&state.users, &ctx, &filter, update).await?,
    ))
}

/// One item of `PATCH /users/bulk`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkPatchItem {
    /// Which user: `_id`, `_st` (default PUBLIC), `_q` (a JSON string) and `field: value`
    /// equality entries; the first match by `_id` is updated.
    #[schema(value_type = Object, example = json!({"_id": "665f1c2e8f1b2a0012345678", "_st": "PUBLIC"}))]
    filter: Map<String, Value>,
    /// CRUD update operators.
    #[schema(value_type = UpdateOperators)]
    update: Value,
}

/// Updates, for each item, the first user matching its filter, as the CRUD `PATCH /bulk` (the
/// Composer's bulk actions: block, change group, ...). Validation, writes and failures are as
/// in `PATCH /users/`. 200 with how many users were updated (an item matching nobody counts 0).
#[utoipa::path(patch, path = "/users/bulk", tag = "users",
    params(AclHeaders),
    request_body(content = Vec<BulkPatchItem>, description = "A non-empty array of `{filter, update}`",
        example = json!([{"filter": {"_id": "665f1c2e8f1b2a0012345678"}, "update": {"$set": {"blocked": true}}}])),
    responses(
        (status = 200, description = "How many users were updated: a bare JSON integer", body = u64,
            content_type = "application/json"),
        (status = 400, description = "Malformed JSON; an empty array; an invalid item (its index \
            named); two items reaching one user; a user whose document after the update violates its \
            group's schema (every violation listed by item and user, nothing written)", body = ErrorBody),
        (status = 409, description = "A user was modified concurrently: the message says how many were \
            updated before (retry)", body = ErrorBody),
        JsonBodyRefusals,
        DownstreamFailures))]
async fn patch_bulk(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiJson(items): ApiJson<Vec<BulkPatchItem>>,
) -> ApiResult<ApiJson<u64>> {
    if items.is_empty() {
        return Err(ApiError::BadRequest(
            "the body must be a non-empty array of {\"filter\", \"update\"} items".to_owned(),
        ));
    }
    let items = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            users::update::BulkItem::from_wire(item.filter, item.update)
                .map_err(|problem| ApiError::BadRequest(format!("item {i}: {problem}")))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(ApiJson(
        users::update::update_bulk(&state.users, &ctx, items).await?,
    ))
}
