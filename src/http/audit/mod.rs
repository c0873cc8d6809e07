//! The audit trail at the HTTP boundary: one middleware over the whole router records every
//! operation of [`table::AUDITED`] after its answer (so no route can be forgotten: a new write
//! route fails the table's coverage test until it is listed), and `GET /audit` reads the records.
//!
//! For an audited operation the middleware reads the names of the request body's fields (a JSON
//! or form body, bounded by `REQUEST_BODY_LIMIT_BYTES`; a multipart CSV is never read) and the
//! target its table entry names (the `id` path parameter, a body field such as `username`, or a
//! field of the JSON answer such as `_id` or `jobId`). The route runs in its own task, so a
//! client that hangs up stops neither the write nor its record.
//!
//! The append is **awaited** before the answer goes out, in a task of its own: a client that saw
//! the answer can read its record (`GET /audit` right after), graceful shutdown loses none (in-flight
//! requests finish), and a client that hangs up does not cancel it. The price is one store insert
//! on each audited request, bounded by `DOWNSTREAM_TIMEOUT_MS`. A failed append never fails the
//! request: it is logged at error level and counted in `ums_audit_append_failures_total`.

mod read;
mod table;

use std::any::Any;
use std::sync::Arc;

use axum::body::{Body, HttpBody};
use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::{header, request, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tracing::Instrument;

use crate::audit::{fields, AuditLog, AuditRecord, Outcome};
use crate::http::error::ApiError;
use crate::http::extract::call_context;
use crate::state::AppState;
use table::{Audited, Source};

pub(super) use read::router;

/// The largest answer read for a target (created ids and job ids come in small bodies).
const ANSWER_LIMIT: u64 = 64 * 1024;

/// An operation as the router matches it: `(method, route)`.
pub type Operation = (&'static str, &'static str);

/// The operations the audit trail records, and those it leaves out on purpose: for the test that
/// every write operation of the OpenAPI document is one or the other.
pub fn coverage() -> (Vec<Operation>, Vec<Operation>) {
    let audited = table::AUDITED.iter().map(|a| (a.method, a.route)).collect();
    let left_out = table::NOT_AUDITED.iter().map(|(m, r, _)| (*m, *r)).collect();
    (audited, left_out)
}

/// The middleware (a layer of the whole router: it acts on [`table::AUDITED`] only).
pub(super) async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let entry = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|route| table::lookup(request.method().as_str(), route.as_str()));
    match entry {
        Some(entry) => audited(state, entry, request, next).await,
        None => next.run(request).await,
    }
}

/// What the request said, by name.
#[derive(Default)]
struct Seen {
    /// The field names of its body.
    fields: Vec<String>,
    /// The string values of the body fields the entry's target names (never a secret field).
    targets: Vec<(&'static str, String)>,
    /// The `id` path parameter.
    path_id: Option<String>,
}

async fn audited(state: AppState, entry: &'static Audited, request: Request, next: Next) -> Response {
    let ctx = call_context(request.headers(), &state);
    let (mut parts, body) = request.into_parts();
    let path_id = path_id(&mut parts).await;
    let (seen, outcome) = match read_request(&parts, body, entry).await {
        Ok((seen, body)) => (seen, run(Request::from_parts(parts, body), next).await),
        Err(error) => (Seen::default(), Ok(error.into_response())),
    };
    let seen = Seen { path_id, ..seen };
    let status = outcome
        .as_ref()
        .map_or(500, |response| response.status().as_u16());
    let Some(action) = entry.action.for_status(status) else {
        return resume(outcome);
    };
    // With access control the actor is the caller the guard verified (none: it was refused),
    // never a user id header the caller sent.
    let actor = match (&state.authz, &outcome) {
        (None, _) => ctx.actor,
        (Some(_), Ok(response)) => response
            .extensions()
            .get::<crate::http::authz::VerifiedActor>()
            .map(|verified| verified.0.clone()),
        (Some(_), Err(_)) => None,
    };
    let (outcome, answer) = match outcome {
        Ok(response) if entry.reads_answer() => {
            let (response, answer) = read_answer(response).await;
            (Ok(response), answer)
        }
        other => (other, None),
    };
    let record = AuditRecord {
        at: crate::audit::now(),
        actor,
        action: action.to_owned(),
        target: target(entry, &seen, answer.as_ref()),
        request_id: ctx.request_id,
        outcome: Outcome::of_status(status),
        status,
        fields: seen.fields,
    };
    append(state.audit.clone(), record).await;
    resume(outcome)
}

/// The answer, or the route's panic resumed (recorded as a 500, answered by the panic layer).
fn resume(outcome: Result<Response, Box<dyn Any + Send + 'static>>) -> Response {
    match outcome {
        Ok(response) => response,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// The `id` path parameter of the matched route, decoded.
async fn path_id(parts: &mut request::Parts) -> Option<String> {
    let params = RawPathParams::from_request_parts(parts, &()).await.ok()?;
    let id = params
        .iter()
        .find(|(name, _)| *name == "id")
        .map(|(_, value)| value.to_owned());
    id.map(|id| fields::bounded(&id))
}

/// The kind of body whose field names are read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Json,
    Form,
}

fn body_kind(headers: &HeaderMap) -> Option<Kind> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let content_type = content_type.trim_start().to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        Some(Kind::Json)
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        Some(Kind::Form)
    } else {
        None
    }
}

/// Reads a JSON or form body (413 over the limit, as the route would answer) for its field names
/// and the body fields the target names; any other body goes on unread.
async fn read_request(parts: &request::Parts, body: Body, entry: &Audited) -> Result<(Seen, Body), ApiError> {
    let Some(kind) = body_kind(&parts.headers) else {
        return Ok((Seen::default(), body));
    };
    let bytes = super::idempotency::read_body(parts, body).await?;
    let wanted = entry.target.iter().filter_map(|source| match source {
        Source::Body(name) => Some(*name),
        _ => None,
    });
    let seen = match kind {
        Kind::Json => {
            // Names and targets are read as the body streams by: no value is built.
            let wanted: Vec<&'static str> = wanted.collect();
            let (fields, targets) = fields::of_json(&bytes, &wanted);
            Seen {
                fields,
                targets,
                path_id: None,
            }
        }
        Kind::Form => {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
            Seen {
                fields: fields::of_form(&bytes),
                targets: wanted
                    .filter_map(|name| {
                        let (_, value) = pairs.iter().find(|(key, _)| key == name)?;
                        Some((name, fields::bounded(value)))
                    })
                    .collect(),
                path_id: None,
            }
        }
    };
    Ok((seen, Body::from(bytes)))
}

/// Runs the route in its own task (in the request's span); a panic comes back to be recorded.
async fn run(request: Request, next: Next) -> Result<Response, Box<dyn Any + Send + 'static>> {
    let task = tokio::spawn(next.run(request).instrument(tracing::Span::current()));
    match task.await {
        Ok(response) => Ok(response),
        Err(error) if error.is_panic() => Err(error.into_panic()),
        Err(error) => Ok(ApiError::Internal(format!("the request task ended: {error}")).into_response()),
    }
}

/// Reads a small JSON answer for its target fields, and puts it back.
async fn read_answer(response: Response) -> (Response, Option<Value>) {
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let small = response
        .body()
        .size_hint()
        .upper()
        .is_some_and(|n| n <= ANSWER_LIMIT);
    if !json || !small {
        return (response, None);
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, ANSWER_LIMIT as usize).await {
        Ok(bytes) => {
            let value = serde_json::from_slice(&bytes).ok();
            (Response::from_parts(parts, Body::from(bytes)), value)
        }
        Err(error) => (
            ApiError::Internal(format!("the answer could not be read: {error}")).into_response(),
            None,
        ),
    }
}

/// The first target the entry's sources find.
fn target(entry: &Audited, seen: &Seen, answer: Option<&Value>) -> Option<String> {
    entry.target.iter().find_map(|source| match source {
        Source::Path => seen.path_id.clone(),
        Source::Body(name) => seen
            .targets
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone()),
        Source::Answer(name) => answer?.get(name)?.as_str().map(fields::bounded),
    })
}

/// Appends `record` in a task of its own, awaited: a failure is logged and counted, never
/// answered.
async fn append(audit: Arc<dyn AuditLog>, record: AuditRecord) {
    let work = async move {
        if let Err(error) = audit.append(&record).await {
            metrics::counter!("ums_audit_append_failures_total").increment(1);
            tracing::error!(audit.action = %record.action, error.message = %error, "audit record not appended");
        }
    };
    if let Err(error) = tokio::spawn(work.instrument(tracing::Span::current())).await {
        metrics::counter!("ums_audit_append_failures_total").increment(1);
        tracing::error!(error.message = %error, "audit record not appended");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry(method: &str, route: &str) -> &'static Audited {
        table::lookup(method, route).unwrap()
    }

    #[test]
    fn the_target_comes_from_the_first_source_that_has_one() {
        let seen = Seen {
            path_id: Some("g-id".into()),
            ..Seen::default()
        };
        let patch = entry("PATCH", "/groups/{id}");
        assert_eq!(
            target(patch, &seen, Some(&json!({"userGroup": "partner"}))).as_deref(),
            Some("partner")
        );
        assert_eq!(target(patch, &seen, None).as_deref(), Some("g-id"));
        let login = entry("POST", "/oauth/token");
        let seen = Seen {
            targets: vec![("client_id", "machine-1".into())],
            ..Seen::default()
        };
        assert_eq!(target(login, &seen, None).as_deref(), Some("machine-1"));
        assert_eq!(target(entry("POST", "/users/state"), &seen, None), None);
    }

    #[test]
    fn only_json_and_form_bodies_are_read() {
        let kind = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static(value));
            body_kind(&headers)
        };
        assert!(kind("application/json; charset=utf-8") == Some(Kind::Json));
        assert!(kind("Application/JSON") == Some(Kind::Json));
        assert!(kind("application/x-www-form-urlencoded") == Some(Kind::Form));
        assert!(kind("multipart/form-data; boundary=x").is_none());
        assert!(kind("text/csv").is_none());
        assert!(body_kind(&HeaderMap::new()).is_none());
    }
}
