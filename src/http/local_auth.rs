//! The local provider's own routes, documented with the others: `GET /.well-known/jwks.json`
//! (the public key that verifies its access tokens, cacheable for 5 minutes) and
//! `POST /users/reset-password` `{token, newPassword}` (501 unless `AUTH_MODULE=local`).

use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::local::LocalAuth;
use crate::auth::AuthError;
use crate::context::CallContext;
use crate::http::doc::JsonBodyRefusals;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{required_string, ApiJson};
use crate::secret::Secret;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(jwks))
        .routes(routes!(reset_password))
}

/// The body of `POST /users/reset-password` (documentation only: the local provider reads it).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(dead_code, reason = "OpenAPI documentation of a body read as JSON")]
struct ResetBody {
    /// The token of the reset email; unknown, used or expired tokens are a 400.
    #[schema(min_length = 1, format = Password)]
    token: String,
    /// The new password: the password policy applies (`PASSWORD_MIN_LENGTH`, 8 by default,
    /// `PASSWORD_MAX_LENGTH` and the strength check).
    #[schema(min_length = 8, format = Password)]
    new_password: String,
}

fn local(state: &AppState) -> ApiResult<&LocalAuth> {
    state
        .local_auth
        .as_deref()
        .ok_or_else(|| ApiError::NotImplemented("this route exists only with AUTH_MODULE=local".into()))
}

/// The public key (JWKS) that verifies the local provider's access tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "self-service",
    responses(
        (status = 200, description = "`{\"keys\": [{kty, crv, x, kid, alg, use}]}`", body = Object),
        (status = 501, description = "Not the local provider", body = ErrorBody)))]
async fn jwks(State(state): State<AppState>) -> ApiResult<Response> {
    let mut response = Json(local(&state)?.jwks()).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(response)
}

/// Redeems a reset token sent by `POST /users/change-password` and sets the new password.
#[utoipa::path(post, path = "/users/reset-password", tag = "self-service",
    request_body(content = ResetBody),
    responses(
        (status = 204, description = "Password changed; the user's sessions are revoked"),
        (status = 400, description = "Malformed JSON, missing or empty field, weak password, or an \
            unknown, used or expired token", body = ErrorBody),
        JsonBodyRefusals,
        (status = 501, description = "Not the local provider", body = ErrorBody)))]
async fn reset_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<StatusCode> {
    let local = local(&state)?;
    let token = Secret::new(non_empty(&body, "token")?);
    let new_password = Secret::new(non_empty(&body, "newPassword")?);
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let ctx = CallContext::background(request_id);
    match local.reset_password(&ctx, &token, &new_password).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(AuthError::Invalid(message)) => Err(ApiError::BadRequest(message)),
        Err(e) => Err(e.into()),
    }
}

/// The non-empty string `field` of the body; the messages never echo a value.
fn non_empty(body: &Value, field: &str) -> ApiResult<String> {
    let text = required_string(body, field)?;
    if text.is_empty() {
        return Err(ApiError::BadRequest(format!("body.{field} must not be empty")));
    }
    Ok(text)
}
