//! `Idempotency-Key` on the routes that create something ([`ROUTES`]): a request with the
//! header is recorded (`crate::idempotency`), and a replay within 24 h gets the first answer
//! with `Idempotent-Replayed: true` instead of running again. Without the header nothing changes.
//!
//! The middleware checks the key (400), buffers the body (bounded by `REQUEST_BODY_LIMIT_BYTES`)
//! to fingerprint it, begins a record (a replay, 422 for another request with the key, 409 while
//! it runs), then runs the route in its own task, so that a client that hangs up does not cancel
//! it half-way, and records its answer when it is final: 2xx and 4xx but 422 and 429. Any other
//! answer (5xx) releases the key: a retry runs again.

use std::panic::AssertUnwindSafe;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, MatchedPath, Request, State};
use axum::http::{header, request, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use tracing::Instrument;

use crate::context::{Acl, CallContext, SessionHeaders};
use crate::http::error::ApiError;
use crate::http::extract::call_context;
use crate::idempotency::{Begin, Fingerprint, Key, Recorded, Ticket};
use crate::state::AppState;
use crate::store::StoreError;

/// The request header.
pub const HEADER: &str = "idempotency-key";

/// The response header of a replayed answer (`true`).
pub const REPLAYED: &str = "idempotent-replayed";

/// The routes (all `POST`) that take the header, as the router matches them.
pub const ROUTES: [&str; 7] = [
    "/users/",
    "/users",
    "/users/with-id",
    "/users/register",
    "/jobs/bulk-activation",
    "/jobs/change-password/bulk",
    "/jobs/reconcile",
];

/// The answer to a concurrent request with the key of one still running.
pub const IN_PROGRESS: &str = "a request with this Idempotency-Key is in progress; retry later";

/// The answer to a key sent again with another request.
pub const REUSED: &str =
    "this Idempotency-Key was already used for another request (another body, query or route)";

/// The largest answer recorded: the routes of [`ROUTES`] answer small JSON bodies.
const ANSWER_LIMIT: usize = 1 << 20;

/// The middleware (a layer of the whole router: it acts on [`ROUTES`] only).
pub(super) async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !applies(&request) || !request.headers().contains_key(HEADER) {
        return next.run(request).await;
    }
    guarded(state, request, next)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

fn applies(request: &Request) -> bool {
    request.method() == Method::POST
        && request
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|path| ROUTES.contains(&path.as_str()))
}

async fn guarded(state: AppState, request: Request, next: Next) -> Result<Response, ApiError> {
    let key = key_of(request.headers())?;
    let service = state.idempotency.clone().ok_or_else(|| {
        ApiError::NotImplemented(
            "Idempotency-Key needs a saga collection: set SAGA_CRUD_ENDPOINT (or JOBS_CRUD_ENDPOINT)".into(),
        )
    })?;
    let (parts, body) = request.into_parts();
    let body = read_body(&parts, body).await?;
    let uri = &parts.uri;
    let fingerprint = Fingerprint::of(parts.method.as_str(), uri.path(), uri.query(), &body);
    let ctx = records_context(&parts.headers, &state);
    match service
        .begin(&ctx, &key, &fingerprint)
        .await
        .map_err(store_failure)?
    {
        Begin::Replay(recorded) => replayed(recorded),
        Begin::Mismatch => Err(ApiError::UnprocessableEntity(REUSED.into())),
        Begin::InProgress => Err(ApiError::Conflict(IN_PROGRESS.into())),
        Begin::Fresh(ticket) => {
            Ok(run_and_record(ticket, ctx, Request::from_parts(parts, Body::from(body)), next).await)
        }
    }
}

/// The one `Idempotency-Key` of the request, checked.
fn key_of(headers: &HeaderMap) -> Result<Key, ApiError> {
    let mut values = headers.get_all(HEADER).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ApiError::BadRequest(
            "the Idempotency-Key header must appear once".into(),
        ));
    };
    Key::parse(value.as_bytes()).map_err(|e| ApiError::BadRequest(format!("the Idempotency-Key header {e}")))
}

/// The whole body, under the limit the JSON extractor applies (413 above).
pub(super) async fn read_body(parts: &request::Parts, body: Body) -> Result<Bytes, ApiError> {
    let mut probe = Request::new(body);
    // The body limit travels in the request extensions (`DefaultBodyLimit`).
    *probe.extensions_mut() = parts.extensions.clone();
    Bytes::from_request(probe, &()).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge("request body is larger than REQUEST_BODY_LIMIT_BYTES".into())
        } else {
            ApiError::BadRequest(rejection.body_text())
        }
    })
}

/// The context of the record calls: the forwarded headers, without the caller's ACL (records
/// are the service's own) or session.
fn records_context(headers: &HeaderMap, state: &AppState) -> CallContext {
    CallContext {
        acl: Acl::default(),
        session: SessionHeaders::default(),
        timer_headers: Vec::new(),
        ..call_context(headers, state)
    }
}

/// A store failure while recording the key: the request did not run. A refusal of the record
/// (the collection's schema) is the saga collection's fault, not the caller's.
fn store_failure(error: StoreError) -> ApiError {
    match error {
        StoreError::Failed(failure) => ApiError::Downstream(failure),
        StoreError::Invalid(message) | StoreError::Conflict { message, .. } => ApiError::BadGateway(format!(
            "the saga collection refused an idempotency record: {message}"
        )),
    }
}

fn replayed(recorded: Recorded) -> Result<Response, ApiError> {
    let status = StatusCode::from_u16(recorded.status)
        .map_err(|_| ApiError::Internal(format!("recorded status {} is not a status", recorded.status)))?;
    let mut response = if recorded.body.is_empty() {
        status.into_response()
    } else {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            recorded.body,
        )
            .into_response()
    };
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    Ok(response)
}

/// Whether an answer is the request's final one: recorded and replayed.
fn is_final(status: StatusCode) -> bool {
    status.is_success()
        || (status.is_client_error()
            && status != StatusCode::UNPROCESSABLE_ENTITY
            && status != StatusCode::TOO_MANY_REQUESTS)
}

/// Runs the route in its own task (in the request's span) and records its answer; a panic
/// releases the key and goes on to the panic layer.
async fn run_and_record(ticket: Ticket, ctx: CallContext, request: Request, next: Next) -> Response {
    let work = async move {
        match AssertUnwindSafe(next.run(request)).catch_unwind().await {
            Ok(response) => record(ticket, &ctx, response).await,
            Err(panic) => {
                release(ticket, &ctx).await;
                std::panic::resume_unwind(panic)
            }
        }
    };
    match tokio::spawn(work.instrument(tracing::Span::current())).await {
        Ok(response) => response,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => ApiError::Internal(format!("the request task ended: {error}")).into_response(),
    }
}

async fn record(ticket: Ticket, ctx: &CallContext, response: Response) -> Response {
    let status = response.status();
    if !is_final(status) {
        release(ticket, ctx).await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, ANSWER_LIMIT).await {
        Ok(bytes) => bytes,
        Err(error) => {
            release(ticket, ctx).await;
            return ApiError::Internal(format!("the answer could not be read to record it: {error}"))
                .into_response();
        }
    };
    match std::str::from_utf8(&bytes) {
        Ok(text) => match ticket.finish(ctx, status.as_u16(), text).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("the idempotency record expired while its request ran: answer not recorded")
            }
            // The request ran: its answer goes out; the key stays in progress until it expires.
            Err(error) => {
                tracing::error!(error.message = %error, "the answer of an Idempotency-Key request was not recorded")
            }
        },
        Err(_) => release(ticket, ctx).await,
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Frees the key (a retry runs again); a failure leaves it in progress until it expires.
async fn release(ticket: Ticket, ctx: &CallContext) {
    let id = ticket.id().to_owned();
    if let Err(error) = ticket.abandon(ctx).await {
        tracing::error!(record = %id, error.message = %error, "an idempotency record was not released");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_final_answers_are_recorded() {
        for status in [200, 201, 202, 204, 400, 404, 409, 412, 413, 415] {
            assert!(is_final(StatusCode::from_u16(status).unwrap()), "{status}");
        }
        for status in [422, 429, 500, 501, 502, 503, 504, 302] {
            assert!(!is_final(StatusCode::from_u16(status).unwrap()), "{status}");
        }
    }

    #[test]
    fn the_refusals_have_their_statuses() {
        let status = |error: ApiError| error.status().as_u16();
        assert_eq!(status(ApiError::UnprocessableEntity(REUSED.into())), 422);
        assert_eq!(status(ApiError::Conflict(IN_PROGRESS.into())), 409);
        // The saga collection refusing a record is not the caller's fault.
        assert_eq!(status(store_failure(StoreError::Invalid("schema".into()))), 502);
    }

    #[test]
    fn a_key_is_checked_and_must_appear_once() {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_static("k-1"));
        assert_eq!(key_of(&headers).unwrap().as_str(), "k-1");
        headers.append(HEADER, HeaderValue::from_static("k-2"));
        assert!(matches!(key_of(&headers), Err(ApiError::BadRequest(m)) if m.contains("once")));
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_static("a b"));
        assert!(
            matches!(key_of(&headers), Err(ApiError::BadRequest(m)) if m.starts_with("the Idempotency-Key header "))
        );
    }
}
