//! Request dispatch (collection lookup, fault injection) and the read routes: list, count,
//! export, get by id, health.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::query::{self, Query};
use super::respond::{bytes_response, error_response, ok_json, ApiError, ApiResult};
use super::store::{Collection, CollectionCell};
use super::{import, read, states, update, writes, CrudFakeState};

/// One request, as the handlers see it.
pub(crate) struct Req<'a> {
    /// The fake.
    pub fake: &'a CrudFakeState,
    /// The addressed collection.
    pub cell: &'a CollectionCell,
    /// The raw query string.
    pub query: Option<&'a str>,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The request body.
    pub body: &'a Bytes,
}

/// The single handler behind every route: counts the request, applies the injected faults, then
/// routes it.
pub(crate) async fn dispatch(
    State(fake): State<CrudFakeState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let injected = fake.inner.faults.on_request(&method, path);
    if let Some(delay) = injected.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = injected.fail {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return error_response(status, "fault injected by crud-fake");
    }
    let body = if method == Method::POST && path.ends_with("/import") {
        match import::read_file(&headers, body).await {
            Ok(rows) => rows,
            Err(error) => return error.into_response(),
        }
    } else {
        body
    };
    route(&fake, &method, path, uri.query(), &headers, &body).unwrap_or_else(IntoResponse::into_response)
}

fn route(
    fake: &CrudFakeState,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResult {
    if matches!(path, "/-/healthz" | "/-/ready" | "/-/check-up") && *method == Method::GET {
        return ok_json(&json!({"status": "OK", "name": "crud-fake", "version": "0.1.0"}));
    }
    let (cell, rest) = fake.find(path).ok_or(ApiError::NotFound)?;
    let req = Req {
        fake,
        cell,
        query,
        headers,
        body,
    };
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let segments: Vec<&str> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split('/').collect()
    };
    let m = method.as_str();
    match (m, segments.as_slice()) {
        ("GET", []) => list(&req),
        ("POST", []) => writes::insert_one(&req),
        ("PATCH", []) => update::patch_many(&req),
        ("DELETE", []) => writes::delete_many(&req),
        ("GET", ["count"]) => count(&req),
        ("GET", ["export"]) => export(&req),
        ("GET", ["schema"]) => ok_json(&json!({"type": "object", "properties": {}, "required": []})),
        ("POST", ["bulk"]) => writes::insert_bulk(&req),
        ("PATCH", ["bulk"]) => update::patch_bulk(&req),
        ("POST", ["state"]) => states::state_bulk(&req),
        ("POST", ["validate"]) => writes::validate(&req),
        ("POST", ["upsert-one"]) => update::upsert_one(&req),
        ("POST", ["import"]) => import::insert(&req),
        ("GET", [id]) if !id.is_empty() => get_one(&req, &decode(id)),
        ("PATCH", [id]) if !id.is_empty() => update::patch_one(&req, &decode(id)),
        ("DELETE", [id]) if !id.is_empty() => writes::delete_one(&req, &decode(id)),
        ("POST", [id, "state"]) if !id.is_empty() => states::state_one(&req, &decode(id)),
        _ => Err(ApiError::NotFound),
    }
}

/// Percent-decodes a path segment (an id); left as is when it does not decode to UTF-8.
fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .map_or_else(|_| segment.to_owned(), |decoded| decoded.into_owned())
}

/// The page of documents selected by `q`: filter, then sort, skip and limit.
pub(crate) fn select_page<'a>(q: &Query, coll: &'a Collection) -> Result<Vec<&'a Value>, ApiError> {
    if q.sort.is_empty() {
        let max = q.limit.map(|l| l.saturating_add(q.skip));
        let mut docs = q.matcher.select(coll, max)?;
        docs.drain(..q.skip.min(docs.len()));
        return Ok(docs);
    }
    let mut docs = q.matcher.select(coll, None)?;
    docs.sort_by(|a, b| docquery::compare(a, b, &q.sort));
    Ok(docs
        .into_iter()
        .skip(q.skip)
        .take(q.limit.unwrap_or(usize::MAX))
        .collect())
}

fn write_doc(buf: &mut Vec<u8>, doc: &Value, q: &Query) -> Result<(), ApiError> {
    let result = match q.projection {
        query::Projection::All => serde_json::to_writer(&mut *buf, doc),
        ref projection => serde_json::to_writer(&mut *buf, &projection.apply(doc)),
    };
    result.map_err(|e| ApiError::internal(e.to_string()))
}

fn json_array(docs: &[&Value], q: &Query) -> Result<Vec<u8>, ApiError> {
    let mut buf = Vec::with_capacity(docs.len() * 256 + 2);
    buf.push(b'[');
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        write_doc(&mut buf, doc, q)?;
    }
    buf.push(b']');
    Ok(buf)
}

/// `GET /`.
fn list(req: &Req) -> ApiResult {
    let q = query::parse(req.query, req.headers, query::LIST, None)?;
    let coll = read(&req.cell.data);
    let docs = select_page(&q, &coll)?;
    let body = json_array(&docs, &q)?;
    drop(coll);
    Ok(bytes_response(
        StatusCode::OK,
        "application/json; charset=utf-8",
        body,
    ))
}

/// `GET /count`.
fn count(req: &Req) -> ApiResult {
    let q = query::parse(req.query, req.headers, query::COUNT, None)?;
    let coll = read(&req.cell.data);
    let n = if q.use_estimate {
        coll.len()
    } else {
        q.matcher.count(&coll)?
    };
    ok_json(&n)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ExportFormat {
    Ndjson,
    Json,
}

fn export_format(headers: &HeaderMap) -> Result<ExportFormat, ApiError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    if accept.is_empty() {
        return Ok(ExportFormat::Ndjson);
    }
    for media in accept.split(',') {
        let media = media.split(';').next().unwrap_or("").trim();
        match media {
            "*/*" | "application/*" | "application/x-ndjson" => return Ok(ExportFormat::Ndjson),
            "application/json" => return Ok(ExportFormat::Json),
            _ => {}
        }
    }
    Err(ApiError::Status(
        StatusCode::NOT_ACCEPTABLE,
        format!("crud-fake cannot export as {accept} (only application/x-ndjson and application/json)"),
    ))
}

/// `GET /export`: NDJSON (default) or a JSON array, with no default limit.
fn export(req: &Req) -> ApiResult {
    let format = export_format(req.headers)?;
    let q = query::parse(req.query, req.headers, query::EXPORT, None)?;
    let coll = read(&req.cell.data);
    let docs = select_page(&q, &coll)?;
    if format == ExportFormat::Json {
        let body = json_array(&docs, &q)?;
        return Ok(bytes_response(
            StatusCode::OK,
            "application/json; charset=utf-8",
            body,
        ));
    }
    let mut buf = Vec::with_capacity(docs.len() * 256);
    for doc in &docs {
        write_doc(&mut buf, doc, &q)?;
        buf.push(b'\n');
    }
    drop(coll);
    Ok(bytes_response(StatusCode::OK, "application/x-ndjson", buf))
}

/// `GET /:id`.
fn get_one(req: &Req, id: &str) -> ApiResult {
    let q = query::parse(req.query, req.headers, query::GET_ONE, Some(id.to_owned()))?;
    let coll = read(&req.cell.data);
    let docs = q.matcher.select(&coll, Some(1))?;
    let doc = docs.first().ok_or(ApiError::NotFound)?;
    ok_json(&q.projection.apply(doc))
}
