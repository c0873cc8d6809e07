//! Read routes of `/users`: list, count, export and one user (`users::read`), with the CRUD
//! query parameters parsed and checked here.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::doc::{
    AclHeaders, DownstreamFailures, ExportQuery, FilterQuery, PageQuery, ProjectionQuery,
};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{query_pairs, with_etag, ApiJson, ApiPath, Ctx};
use crate::state::AppState;
use crate::store::query::{CountQuery, QueryParseError};
use crate::store::{Filter, FindQuery};
use crate::users::read::{self, Listing};

const NDJSON: &str = "application/x-ndjson";

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        // The Composer keeps the trailing slash (`/users/`); plain clients call `/users`.
        .route("/users", get(list_users))
        .routes(routes!(count_users))
        .routes(routes!(export_users))
        .routes(routes!(get_user))
}

/// Lists the users matching the query (a proxy of the store list), enriched with the
/// auth-provider fields of `CONFIGURATION_PATH` when it is set.
#[utoipa::path(get, path = "/users/", tag = "users",
    params(FilterQuery, PageQuery, AclHeaders),
    responses(
        (status = 200, description = "The matching users", body = Vec<Object>),
        (status = 400, description = "Invalid query: unknown or repeated parameter, `_q` or `acl_rows` \
            not a valid filter, `_st`, `_s`, `_l` or `_sk` out of its form", body = ErrorBody),
        (status = 404, description = "The user store answered 404", body = ErrorBody),
        DownstreamFailures))]
async fn list_users(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let pairs = query_pairs(raw.as_deref())?;
    let query = FindQuery::from_query_pairs(&pairs).map_err(bad_query)?;
    match read::list(&state.users, &ctx, &query).await? {
        // Nothing added: the store's array goes back as it came, without a parse.
        Listing::Raw(body) => Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response()),
        Listing::Enriched(users) => Ok(ApiJson(users).into_response()),
    }
}

/// Counts the users matching the filter (a proxy of the store count): a bare integer.
#[utoipa::path(get, path = "/users/count", tag = "users",
    params(
        FilterQuery,
        ("_useEstimate" = Option<bool>, Query, description = "`true`: count the whole collection, fast, ignoring every filter"),
        AclHeaders),
    responses(
        (status = 200, description = "How many users match: a bare JSON integer", body = u64,
            content_type = "application/json"),
        (status = 400, description = "Invalid query: unknown or repeated parameter, `_q` or `acl_rows` \
            not a valid filter, `_st` or `_useEstimate` out of its form", body = ErrorBody),
        (status = 404, description = "The user store answered 404", body = ErrorBody),
        DownstreamFailures))]
async fn count_users(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    RawQuery(raw): RawQuery,
) -> ApiResult<ApiJson<u64>> {
    let pairs = query_pairs(raw.as_deref())?;
    let query = CountQuery::from_query_pairs(&pairs).map_err(bad_query)?;
    let count = read::count(&state.users, &ctx, &query.filter, query.estimate).await?;
    Ok(ApiJson(count))
}

/// Streams every matching user as NDJSON (a proxy of the store export), never buffered whole.
#[utoipa::path(get, path = "/users/export", tag = "users",
    params(FilterQuery, ExportQuery, AclHeaders),
    responses(
        (status = 200, description = "One JSON user a line", body = String, content_type = "application/x-ndjson"),
        (status = 400, description = "Invalid query: unknown or repeated parameter, `_q` or `acl_rows` \
            not a valid filter, `_st`, `_s`, `_l` or `_sk` out of its form", body = ErrorBody),
        (status = 404, description = "The user store answered 404", body = ErrorBody),
        DownstreamFailures))]
async fn export_users(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let pairs = query_pairs(raw.as_deref())?;
    let query = export_query(pairs)?;
    let stream = read::export(&state.users, &ctx, &query).await?;
    Ok(([(header::CONTENT_TYPE, NDJSON)], Body::from_stream(stream)).into_response())
}

/// One user by `_id` (a proxy of the store), or 404.
#[utoipa::path(get, path = "/users/{id}", tag = "users",
    params(
        ("id" = String, Path, description = "The user's `_id`"),
        FilterQuery,
        ProjectionQuery,
        AclHeaders),
    responses(
        (status = 200, description = "The user", body = Object,
            headers(("etag" = String, description = "The user's version (its `updatedAt`, quoted), for `If-Match`; \
                absent when `acl_read_columns` hides `updatedAt`"))),
        (status = 400, description = "Invalid query: unknown or repeated parameter, `_q` or `acl_rows` \
            not a valid filter, `_st` out of its form", body = ErrorBody),
        (status = 404, description = "No user matches the id, filter and state", body = ErrorBody),
        DownstreamFailures))]
async fn get_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiPath(id): ApiPath<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let pairs = query_pairs(raw.as_deref())?;
    let projected = pairs.iter().any(|(name, _)| name == "_p" || name == "_rawp");
    let refused = ["_id", "_s", "_l", "_sk"];
    if let Some((name, _)) = pairs.iter().find(|(name, _)| refused.contains(&name.as_str())) {
        // The id is in the path (the store adapter would silently drop a second one); one user
        // has no sort or page.
        return Err(bad_query(QueryParseError::UnknownParameter {
            name: name.clone(),
            allowed: "_q, _st, _p, _rawp",
        }));
    }
    let user = match projected {
        false => {
            let filter = Filter::from_query_pairs(&pairs).map_err(bad_query)?;
            read::get(&state.users, &ctx, &id, &filter).await?
        }
        true => {
            let query = FindQuery::from_query_pairs(&pairs).map_err(bad_query)?;
            read::get_projected(&state.users, &ctx, &id, query).await?
        }
    };
    Ok(with_etag(&user, ApiJson(&user).into_response()))
}

/// The decoded `name=value` pairs of a query string, in order, repeats kept.
fn bad_query(error: QueryParseError) -> ApiError {
    ApiError::BadRequest(error.to_string())
}

/// Parses an export query. `FindQuery::from_query_pairs` applies the list rules, where `_l` is at
/// most 200; the CRUD export has no default and no maximum for `_l`. So `_l` is taken out here,
/// checked to be an integer ≥ 1 (once), and set after parsing the rest with the list rules.
/// `_exportOpts` (CSV/Excel options in the CRUD) is accepted and dropped: this export is NDJSON only.
fn export_query(pairs: Vec<(String, String)>) -> ApiResult<FindQuery> {
    let (limits, rest): (Vec<_>, Vec<_>) = pairs
        .into_iter()
        .filter(|(name, _)| name != "_exportOpts")
        .partition(|(name, _)| name == "_l");
    let mut query = FindQuery::from_query_pairs(&rest).map_err(bad_query)?;
    query.limit = match limits.as_slice() {
        [] => None,
        [(_, value)] => match value.trim().parse::<u32>() {
            Ok(limit) if limit >= 1 => Some(limit),
            _ => {
                return Err(ApiError::BadRequest(
                    "_l must be an integer greater than 0".into(),
                ))
            }
        },
        _ => return Err(bad_query(QueryParseError::Repeated("_l".into()))),
    };
    Ok(query)
}
