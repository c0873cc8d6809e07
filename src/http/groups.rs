//! `/groups`: the group-config collection managed like a CRUD collection (list, read, create,
//! update with CRUD operators, delete); a `crudSchema` that does not compile is a 400.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::doc::{
    DownstreamFailures, FilterQuery, JsonBodyRefusals, NonBlank, PageQuery, StateName, UpdateOperators,
};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{query_pairs, ApiJson, ApiPath, Ctx};
use crate::state::AppState;
use crate::store::FindQuery;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group, patch_group, delete_group))
}

/// A group to create (documentation only: the body is read as a JSON object and checked by
/// `crate::groups::admin`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"userGroup": "partner", "label": "Partner",
    "crudSchema": {"type": "object", "properties": {"name": {"type": "string"}}}}))]
#[expect(dead_code, reason = "OpenAPI documentation of a body read as a JSON object")]
struct GroupBody {
    /// The group's name, unique among groups, not blank.
    #[schema(value_type = NonBlank)]
    user_group: String,
    /// A JSON Schema that compiles: it validates the users of the group.
    #[schema(value_type = Object)]
    crud_schema: (),
    /// A display name.
    #[schema(required = false)]
    label: String,
    /// `true`: the users of the group get no auth user.
    #[schema(required = false)]
    auth_user_creation_disabled: bool,
    /// The group's state (default PUBLIC).
    #[serde(rename = "__STATE__")]
    #[schema(required = false, value_type = StateName)]
    state: (),
}

/// The `_id` of a created group.
#[derive(ToSchema)]
#[expect(dead_code, reason = "OpenAPI documentation of a body built as JSON")]
struct CreatedGroup {
    /// The new group document's `_id`.
    #[serde(rename = "_id")]
    id: String,
}

/// Lists the groups (CRUD query parameters `_q`, `_st`, `_p`, `_s`, `_l`, `_sk`).
#[utoipa::path(get, path = "/groups/", tag = "groups",
    params(FilterQuery, PageQuery),
    responses(
        (status = 200, description = "The groups", body = Vec<Object>),
        (status = 400, description = "Invalid query: unknown or repeated parameter, `_q` not a valid \
            filter, `_st`, `_s`, `_l` or `_sk` out of its form", body = ErrorBody),
        DownstreamFailures))]
async fn list_groups(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    RawQuery(raw): RawQuery,
) -> ApiResult<ApiJson<Vec<Value>>> {
    let query = FindQuery::from_query_pairs(&query_pairs(raw.as_deref())?)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(ApiJson(state.groups.list(&ctx, &query).await?))
}

/// One group, or 404.
#[utoipa::path(get, path = "/groups/{id}", tag = "groups",
    params(("id" = String, Path, description = "The group document's `_id`")),
    responses(
        (status = 200, description = "The group", body = Object),
        (status = 400, description = "Malformed `acl_rows` header", body = ErrorBody),
        (status = 404, description = "Unknown group", body = ErrorBody),
        DownstreamFailures))]
async fn get_group(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(state.groups.get(&ctx, &id).await?))
}

/// Creates a group: `userGroup` (unique), `crudSchema` (must compile), `label`,
/// `authUserCreationDisabled`. It is usable at once.
#[utoipa::path(post, path = "/groups/", tag = "groups",
    request_body(content = GroupBody),
    responses(
        (status = 200, description = "Created", body = CreatedGroup),
        (status = 400, description = "Malformed JSON, unknown or invalid field, blank userGroup, \
            a crudSchema that does not compile", body = ErrorBody),
        (status = 409, description = "userGroup already exists", body = ErrorBody),
        JsonBodyRefusals,
        DownstreamFailures))]
async fn create_group(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<ApiJson<Value>> {
    let id = state.groups.create_group(&ctx, body).await?;
    Ok(ApiJson(json!({ "_id": id })))
}

/// Updates a group with CRUD update operators; the group after the update must be valid.
#[utoipa::path(patch, path = "/groups/{id}", tag = "groups",
    params(("id" = String, Path, description = "The group document's `_id`")),
    request_body(content = UpdateOperators, description = "CRUD update operators, e.g. `{\"$set\": {\"crudSchema\": {...}}}`",
        example = json!({"$set": {"label": "Renamed"}})),
    responses(
        (status = 200, description = "The updated group", body = Object),
        (status = 400, description = "Malformed JSON, invalid update, or the group after the update is \
            invalid (as for a new group)", body = ErrorBody),
        (status = 404, description = "Unknown group", body = ErrorBody),
        (status = 409, description = "userGroup already exists", body = ErrorBody),
        JsonBodyRefusals,
        DownstreamFailures))]
async fn patch_group(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(update): ApiJson<Value>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(state.groups.update_group(&ctx, &id, &update).await?))
}

/// Deletes a group that no user has (in any state): with users, 409 saying how many, and
/// nothing deleted.
#[utoipa::path(delete, path = "/groups/{id}", tag = "groups",
    params(("id" = String, Path, description = "The group document's `_id`")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed `acl_rows` header", body = ErrorBody),
        (status = 404, description = "Unknown group", body = ErrorBody),
        (status = 409, description = "Users (in any state) still have this `userGroup`: the message \
            says how many; nothing is deleted", body = ErrorBody),
        DownstreamFailures))]
async fn delete_group(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.groups.delete_group(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
