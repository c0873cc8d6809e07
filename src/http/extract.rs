//! Extractors that turn request parts into our types, with rejections in the Mia error format:
//! `ApiJson<T>` for bodies and `Ctx` for the downstream `CallContext`.

use axum::extract::rejection::{JsonRejection, PathRejection};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::context::{Acl, CallContext, SessionHeaders};
use crate::http::client_address::client_address;
use crate::http::error::{ApiError, ApiResult};
use crate::secret::Secret;
use crate::state::AppState;

/// A JSON body (or response) whose rejections are `ApiError`s: 400 for bad JSON or a wrong
/// shape, 413 over the size limit, 415 without `content-type: application/json`.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => {
                ApiError::BadRequest(format!("invalid body: {}", e.body_text()))
            }
            JsonRejection::JsonSyntaxError(e) => {
                ApiError::BadRequest(format!("body is not valid JSON: {}", e.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::UnsupportedMediaType("expected a body with content-type: application/json".into())
            }
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge("request body is larger than REQUEST_BODY_LIMIT_BYTES".into())
            }
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

/// A path parameter whose rejection (a segment that does not decode) is a Mia 400.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

/// A route that takes no query parameters: any parameter is a 400 naming it (`flags` with none).
pub struct NoQuery;

impl<S: Send + Sync> FromRequestParts<S> for NoQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let [] = flags(parts.uri.query(), [])?;
        Ok(NoQuery)
    }
}

/// The `If-Match` header of a conditional change (`*` or entity tags), when sent.
pub struct IfMatch(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        match parts.headers.get(axum::http::header::IF_MATCH) {
            None => Ok(IfMatch(None)),
            Some(value) => value
                .to_str()
                .map(|text| IfMatch(Some(text.to_owned())))
                .map_err(|_| ApiError::BadRequest("the if-match header must be ASCII text".into())),
        }
    }
}

/// Adds `ETag` (the user's version, `users::version::etag`) to a response carrying `user`.
pub fn with_etag(user: &serde_json::Value, mut response: Response) -> Response {
    let tag = crate::users::version::etag(user).and_then(|tag| tag.parse().ok());
    if let Some(tag) = tag {
        response.headers_mut().insert(axum::http::header::ETAG, tag);
    }
    response
}

/// The `CallContext` of this request, built from its headers and the configured header names.
pub struct Ctx(pub CallContext);

/// Headers always forwarded when present (custom-plugin-lib behaviour).
const ALWAYS_FORWARDED: [&str; 4] = [
    "x-request-id",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
];

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let mut ctx = call_context(&parts.headers, state);
        check_acl(&parts.headers, &ctx.acl)?;
        ctx.client_address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| {
                let trusted = &state.config.protection.trusted_proxies;
                client_address(peer.ip(), &parts.headers, trusted)
            });
        Ok(Ctx(ctx))
    }
}

/// 400 for ACL headers the store would refuse, before any call and in both modes: an `acl_rows`
/// that is not a filter or an array of filters (`docquery::parse_acl_rows`), or an ACL header
/// that is not UTF-8 text (never dropped: that would lift the restriction).
fn check_acl(headers: &HeaderMap, acl: &Acl) -> Result<(), ApiError> {
    for name in [ACL_ROWS, ACL_READ_COLUMNS] {
        if headers.contains_key(name) && header_text(headers, name).is_none() {
            return Err(ApiError::BadRequest(format!(
                "the {name} header must be UTF-8 text"
            )));
        }
    }
    if let Some(rows) = &acl.rows {
        docquery::parse_acl_rows(rows).map_err(|e| {
            ApiError::BadRequest(match e.0.strip_prefix("acl_rows ") {
                Some(reason) => format!("the acl_rows header {reason}"),
                None if e.0.ends_with("must be an object") => {
                    "the acl_rows header must be a filter object or an array of filter objects".to_owned()
                }
                None => format!("invalid acl_rows header: {}", e.0),
            })
        })?;
    }
    Ok(())
}

const ACL_ROWS: &str = "acl_rows";
const ACL_READ_COLUMNS: &str = "acl_read_columns";
const ACL_WRITE_COLUMNS: &str = "acl_write_columns";
/// Every ACL header the platform sets for the CRUD Service.
const ACL_HEADERS: [&str; 3] = [ACL_ROWS, ACL_READ_COLUMNS, ACL_WRITE_COLUMNS];

/// The first value of header `name` as UTF-8 text.
fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?;
    std::str::from_utf8(value.as_bytes()).ok().map(str::to_owned)
}

/// Builds the context: forwarded headers are exactly the Mia headers, `x-request-id`,
/// `x-forwarded-*` and `ADDITIONAL_HEADERS_TO_PROXY`.
pub fn call_context(headers: &HeaderMap, state: &AppState) -> CallContext {
    let names = &state.config.headers;
    let mia = [
        &names.user_id,
        &names.user_properties,
        &names.groups,
        &names.client_type,
        &names.backoffice,
    ];
    let mut forward = HeaderMap::new();
    let always = ALWAYS_FORWARDED.iter().map(|n| HeaderName::from_static(n));
    // The ACL headers travel to the store through `ctx.acl` only: never forwarded, even when
    // `ADDITIONAL_HEADERS_TO_PROXY` lists them (they would reach the auth provider).
    let not_acl = |name: &HeaderName| !ACL_HEADERS.contains(&name.as_str());
    for name in mia
        .into_iter()
        .cloned()
        .chain(always)
        .chain(names.additional.iter().cloned())
        .filter(not_acl)
    {
        for value in headers.get_all(&name) {
            forward.append(name.clone(), value.clone());
        }
    }
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let timer_headers = state
        .config
        .timer
        .as_ref()
        .map(|t| {
            t.headers
                .iter()
                .filter_map(|h| Some((h.to_string(), text(h.as_str())?)))
                .collect()
        })
        .unwrap_or_default();
    CallContext {
        timer_headers,
        actor: header_text(headers, names.user_id.as_str()).filter(|id| !id.is_empty()),
        request_id: text("x-request-id").unwrap_or_default(),
        forward,
        acl: Acl {
            // An empty header is no row filter, as in the CRUD Service.
            rows: header_text(headers, ACL_ROWS).filter(|rows| !rows.is_empty()),
            read_columns: header_text(headers, ACL_READ_COLUMNS),
            write_columns: header_text(headers, ACL_WRITE_COLUMNS),
        },
        session: SessionHeaders {
            authorization: text("authorization").map(Secret::new),
            cookie: text("cookie").map(Secret::new),
            client_key: text("client-key").map(Secret::new),
        },
        // Set by the `Ctx` extractor, which sees the connection.
        client_address: None,
    }
}

/// The decoded `name=value` pairs of a raw query string; a malformed one is a 400.
pub fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|e| ApiError::BadRequest(format!("malformed query string: {e}")))
}

/// Parses a query string made only of the boolean parameters `names` (each `true` or `false`, at
/// most once), with their defaults; anything else is a 400 naming the parameter.
pub fn flags<const N: usize>(raw: Option<&str>, names: [(&str, bool); N]) -> Result<[bool; N], ApiError> {
    let pairs = query_pairs(raw)?;
    let mut values = names.map(|(_, default)| default);
    let mut seen = [false; N];
    for (name, value) in pairs {
        let Some(index) = names.iter().position(|(known, _)| *known == name) else {
            let accepted: Vec<&str> = names.iter().map(|(known, _)| *known).collect();
            let accepted = if accepted.is_empty() {
                "takes no query parameters".to_owned()
            } else {
                format!("accepts {}", accepted.join(", "))
            };
            return Err(ApiError::BadRequest(format!(
                "unknown query parameter \"{name}\": this route {accepted}"
            )));
        };
        if std::mem::replace(&mut seen[index], true) {
            return Err(ApiError::BadRequest(format!(
                "query parameter {name} must appear only once"
            )));
        }
        values[index] = match value.as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(ApiError::BadRequest(format!("{name} must be true or false"))),
        };
    }
    Ok(values)
}

/// The string `field` of a JSON object body. The messages never echo a value (it may be a
/// password or a token).
pub fn required_string(body: &serde_json::Value, field: &str) -> ApiResult<String> {
    let object = body
        .as_object()
        .ok_or_else(|| ApiError::BadRequest("body must be object".into()))?;
    match object.get(field) {
        Some(serde_json::Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(ApiError::BadRequest(format!("body.{field} must be string"))),
        None => Err(ApiError::BadRequest(format!(
            "body must have required property '{field}'"
        ))),
    }
}

/// A raw body read as bytes: 413 over `REQUEST_BODY_LIMIT_BYTES`, 400 when it cannot be read.
pub fn body_bytes(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<axum::body::Bytes> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge("request body is larger than REQUEST_BODY_LIMIT_BYTES".into())
        }
        _ => ApiError::BadRequest(rejection.body_text()),
    })
}
