//! Self-service routes backed by the auth provider: `POST /users/change-password`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, Ctx};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(change_password))
}

/// Body of `POST /users/change-password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePasswordBody {
    /// The auth-provider id of the user.
    pub auth_user_id: String,
}

/// Asks the auth provider to send the change-password email to a user.
#[utoipa::path(post, path = "/users/change-password", tag = "self-service",
    request_body = ChangePasswordBody,
    responses(
        (status = 204, description = "Email requested"),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 404, description = "The auth provider does not know the user", body = ErrorBody),
        (status = 502, description = "Auth provider error", body = ErrorBody),
        (status = 504, description = "Auth provider timeout", body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> ApiResult<StatusCode> {
    if body.auth_user_id.trim().is_empty() {
        return Err(ApiError::BadRequest("authUserId must not be empty".into()));
    }
    match state.auth.change_password(&ctx, &body.auth_user_id).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(e) if e.is_not_found() => Err(ApiError::NotFound(format!(
            "auth user \"{}\" does not exist",
            body.auth_user_id
        ))),
        Err(e) => Err(e.into()),
    }
}
