//! The HTTP routes only the local provider has: `GET /.well-known/jwks.json` (the public key
//! that verifies its access tokens) and `POST /users/reset-password` `{token, newPassword}`
//! (redeems a reset token). Errors use the Mia body of [`ApiError`].

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use super::LocalAuth;
use crate::context::CallContext;
use crate::downstream::{DownstreamError, ErrorKind};
use crate::error::ApiError;
use crate::secret::Secret;

/// Path of the JWKS document.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// Path of the reset-token redemption.
pub const RESET_PASSWORD_PATH: &str = "/users/reset-password";

/// The local provider's routes, carrying their own state: merge them into the service router
/// (`Router<S>` for any `S`, so it merges before or after the application state is applied).
pub fn router<S: Clone + Send + Sync + 'static>(local: Arc<LocalAuth>) -> Router<S> {
    Router::new()
        .route(JWKS_PATH, get(jwks))
        .route(RESET_PASSWORD_PATH, post(reset_password))
        .with_state(local)
}

async fn jwks(State(local): State<Arc<LocalAuth>>) -> Response {
    jwks_response(&local)
}

/// `GET /.well-known/jwks.json`: 200 with the JWKS, cacheable for 5 minutes.
pub fn jwks_response(local: &LocalAuth) -> Response {
    let mut response = Json(local.jwks()).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

/// `POST /users/reset-password`: 204 once the new password is set; 400 for a missing field, a
/// weak password, or an unknown, used or expired token.
async fn reset_password(
    State(local): State<Arc<LocalAuth>>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(body) = body.map_err(ApiError::from)?;
    redeem(&local, &headers, &body).await
}

/// Redeems a reset token from a `{token, newPassword}` body: 204, or a 400 that never echoes a value.
pub async fn redeem(local: &LocalAuth, headers: &HeaderMap, body: &Value) -> Result<StatusCode, ApiError> {
    let token = Secret::new(required_string(body, "token")?);
    let new_password = Secret::new(required_string(body, "newPassword")?);
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let ctx = CallContext::background(request_id);
    match local.reset_password(&ctx, &token, &new_password).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(DownstreamError {
            kind: ErrorKind::Rejected { status: 400, message },
            ..
        }) => Err(ApiError::BadRequest(message)),
        Err(e) => Err(ApiError::Downstream(e)),
    }
}

/// The non-empty string `field` of a JSON object body; messages never echo a value.
fn required_string(body: &Value, field: &str) -> Result<String, ApiError> {
    let object = body
        .as_object()
        .ok_or_else(|| ApiError::BadRequest("body must be object".into()))?;
    match object.get(field) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(Value::String(_)) => Err(ApiError::BadRequest(format!("body.{field} must not be empty"))),
        Some(_) => Err(ApiError::BadRequest(format!("body.{field} must be string"))),
        None => Err(ApiError::BadRequest(format!(
            "body must have required property '{field}'"
        ))),
    }
}
