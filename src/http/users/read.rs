//! Read routes of `/users`: list, count, export and one user (`users::read`), with the CRUD
//! query parameters parsed and checked here.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
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
use crate::users::export::{self, Columns, CsvOptions, ExportError, ExportFormat, ACCEPTED};
use crate::users::read::{self, Listing};

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

/// Streams every matching user in the format `Accept` picks, as the CRUD Service's export:
/// NDJSON (the default and `*/*`), a JSON array and CSV stream line by line; Excel is written to
/// a temporary file first (constant memory), then streamed, at most 1,048,575 users.
#[utoipa::path(get, path = "/users/export", tag = "users",
    params(
        FilterQuery,
        ExportQuery,
        ("_exportOpts" = Option<String>, Query, description = "CSV options as JSON: `{\"delimiter\":\";\"}` \
            (one ASCII character, `,` by default); other keys are ignored"),
        ("accept" = Option<String>, Header, description = "The format: `application/x-ndjson` (default, also \
            `*/*`), `application/json`, `text/csv`, `application/vnd.ms-excel` or \
            `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`; with several, the highest `q` wins"),
        AclHeaders),
    responses(
        (status = 200, description = "The matching users, in the format `Accept` picks. CSV and Excel: a header \
            row of the `_p` fields (`_id` first), or of the first user's keys without `_p`; nested values as JSON text",
            content(
                (String = "application/x-ndjson"),
                (Vec<Object> = "application/json"),
                (String = "text/csv"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, description = "Invalid query: unknown or repeated parameter, `_q` or `acl_rows` \
            not a valid filter, `_st`, `_s`, `_l`, `_sk` or `_exportOpts` out of its form; for Excel, more \
            users, columns or characters in a cell than a sheet holds (export as CSV)", body = ErrorBody),
        (status = 404, description = "The user store answered 404", body = ErrorBody),
        (status = 406, description = "`Accept` names no format the export produces; the message lists them",
            body = ErrorBody),
        DownstreamFailures))]
async fn export_users(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let accept = match headers.get(header::ACCEPT).map(|v| v.to_str()) {
        None => None,
        Some(Ok(value)) => Some(value),
        Some(Err(_)) => return Err(not_acceptable("a value that is not text")),
    };
    let format = ExportFormat::negotiate(accept).map_err(|asked| not_acceptable(&asked))?;
    let pairs = query_pairs(raw.as_deref())?;
    let (query, options) = export_query(pairs)?;
    let options = CsvOptions::parse(options.as_deref()).map_err(ApiError::BadRequest)?;
    let columns = query
        .projection
        .as_deref()
        .filter(|fields| !fields.is_empty())
        .map(Columns::of_projection);
    let stream = read::export(&state.users, &ctx, &query).await?;
    let body = export::transform(format, stream, columns, options)
        .await
        .map_err(export_failed)?;
    Ok((
        [(header::CONTENT_TYPE, format.content_type())],
        Body::from_stream(body),
    )
        .into_response())
}

/// An export that could not be made: a limit of the format is a 400 that says what to do.
fn export_failed(error: ExportError) -> ApiError {
    match error {
        ExportError::Invalid(message) => ApiError::BadRequest(message),
        ExportError::Store(error) => error.into(),
        ExportError::Internal(message) => ApiError::Internal(message),
    }
}

fn not_acceptable(asked: &str) -> ApiError {
    ApiError::NotAcceptable(format!(
        "cannot export users as {asked}: Accept one of {ACCEPTED}"
    ))
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
/// `_exportOpts` (the CSV options) is taken out too, and returned (once at most).
fn export_query(pairs: Vec<(String, String)>) -> ApiResult<(FindQuery, Option<String>)> {
    let (options, pairs): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(name, _)| name == "_exportOpts");
    let options = match options.as_slice() {
        [] => None,
        [(_, value)] => Some(value.clone()),
        _ => return Err(bad_query(QueryParseError::Repeated("_exportOpts".into()))),
    };
    let (limits, rest): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(name, _)| name == "_l");
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
    Ok((query, options))
}
