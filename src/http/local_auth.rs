//! The local provider's own routes, documented with the others: `GET /.well-known/jwks.json`
//! and `POST /users/reset-password` (501 unless `AUTH_MODULE=local`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::local::{self, LocalAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(jwks))
        .routes(routes!(reset_password))
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
    Ok(local::jwks_response(local(&state)?))
}

/// Redeems a reset token sent by `POST /users/change-password` and sets the new password.
#[utoipa::path(post, path = "/users/reset-password", tag = "self-service",
    request_body(content = Object, description = "`{\"token\", \"newPassword\"}` (at least 8 characters)"),
    responses(
        (status = 204, description = "Password changed; the user's sessions are revoked"),
        (status = 400, description = "Missing field, weak password, or an unknown, used or expired token", body = ErrorBody),
        (status = 501, description = "Not the local provider", body = ErrorBody)))]
async fn reset_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<StatusCode> {
    local::redeem(local(&state)?, &headers, &body).await
}
