//! `/users/me`: self-service for the person a request speaks for — in `AUTHZ_MODE=scopes` the
//! user of its access token, in `gateway` mode the auth user the user id header names.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::OwnPasswordChange;
use crate::authz::{Principal, PrincipalKind};
use crate::context::CallContext;
use crate::http::doc::{DownstreamFailures, JsonBodyRefusals, UpdateOperators};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, Ctx};
use crate::secret::Secret;
use crate::state::AppState;
use crate::users::me;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me, patch_me, delete_me))
        .routes(routes!(change_my_password))
}

/// Body of `POST /users/me/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OwnPasswordBody {
    /// The password the user has now.
    #[schema(value_type = String, format = Password)]
    pub current_password: Secret,
    /// The password it wants (the password policy applies).
    #[schema(value_type = String, format = Password)]
    pub new_password: Secret,
}

/// The auth id of the person the request speaks for: its token's subject, or (gateway mode) the
/// user id header. A client's token has no own user (403); no caller at all is a 401.
fn caller(principal: Option<Extension<Principal>>, ctx: &CallContext) -> Result<String, ApiError> {
    match principal {
        Some(Extension(p)) if p.kind == PrincipalKind::User => Ok(p.subject),
        Some(_) => Err(ApiError::Forbidden(
            "a client has no user of its own: /users/me is for a person's access token".into(),
        )),
        None => ctx
            .actor
            .clone()
            .ok_or_else(|| ApiError::Unauthorized("no logged user: the user id header is missing".into())),
    }
}

/// The caller's own user.
#[utoipa::path(get, path = "/users/me", tag = "self-service",
    responses(
        (status = 200, description = "The caller's user", body = Object),
        (status = 401, description = "No logged user", body = ErrorBody),
        (status = 403, description = "A client's token: it has no user", body = ErrorBody),
        (status = 404, description = "No active user is linked to the caller", body = ErrorBody),
        DownstreamFailures))]
async fn get_me(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    principal: Option<Extension<Principal>>,
) -> ApiResult<ApiJson<Value>> {
    let me = caller(principal, &ctx)?;
    Ok(ApiJson(me::find_me(&state.users, &ctx, &me).await?))
}

/// Changes the caller's own user with CRUD update operators, limited to the fields its group
/// config lists in `selfEditable`; validated against the group schema, email and username sent
/// to the auth provider.
#[utoipa::path(patch, path = "/users/me", tag = "self-service",
    request_body(content = UpdateOperators, description = "CRUD update operators on self-editable fields",
        example = json!({"$set": {"phone": "+39 06 1234"}})),
    responses(
        (status = 200, description = "The updated user", body = Object),
        (status = 400, description = "A field its group does not let a user change on itself, an invalid \
            update, or a document the group schema refuses", body = ErrorBody),
        (status = 401, description = "No logged user", body = ErrorBody),
        (status = 403, description = "A client's token: it has no user", body = ErrorBody),
        (status = 404, description = "No active user is linked to the caller", body = ErrorBody),
        (status = 409, description = "Modified concurrently (retry), or email/username taken", body = ErrorBody),
        JsonBodyRefusals,
        DownstreamFailures))]
async fn patch_me(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    principal: Option<Extension<Principal>>,
    ApiJson(update): ApiJson<Value>,
) -> ApiResult<ApiJson<Value>> {
    let me = caller(principal, &ctx)?;
    Ok(ApiJson(me::update_me(&state.users, &ctx, &me, update).await?))
}

/// Deletes the caller's own account: its user moves to TRASH and its auth user is blocked, which
/// ends its sessions.
#[utoipa::path(delete, path = "/users/me", tag = "self-service",
    responses(
        (status = 204, description = "Moved to TRASH"),
        (status = 401, description = "No logged user", body = ErrorBody),
        (status = 403, description = "A client's token: it has no user", body = ErrorBody),
        (status = 404, description = "No active user is linked to the caller", body = ErrorBody),
        DownstreamFailures))]
async fn delete_me(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    principal: Option<Extension<Principal>>,
) -> ApiResult<StatusCode> {
    let me = caller(principal, &ctx)?;
    me::delete_me(&state.users, &ctx, &me).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the caller's own password. Local provider: `currentPassword` must be right and
/// `newPassword` pass the password policy; every session of the user ends (log in again): 204.
/// Auth0 Client: its change-password email is sent instead: 202.
#[utoipa::path(post, path = "/users/me/password", tag = "self-service",
    request_body = OwnPasswordBody,
    responses(
        (status = 202, description = "Auth0 Client: the change-password email was sent"),
        (status = 204, description = "Local provider: the password is changed, every session ended"),
        (status = 400, description = "Malformed body, or a new password the policy refuses", body = ErrorBody),
        (status = 401, description = "No logged user", body = ErrorBody),
        (status = 403, description = "A wrong current password, or a client's token", body = ErrorBody),
        (status = 404, description = "No active user is linked to the caller", body = ErrorBody),
        JsonBodyRefusals,
        DownstreamFailures))]
async fn change_my_password(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    principal: Option<Extension<Principal>>,
    ApiJson(body): ApiJson<OwnPasswordBody>,
) -> ApiResult<StatusCode> {
    let me = caller(principal, &ctx)?;
    let changed = me::change_my_password(
        &state.users,
        &ctx,
        &me,
        &body.current_password,
        &body.new_password,
    )
    .await?;
    Ok(match changed {
        OwnPasswordChange::Changed => StatusCode::NO_CONTENT,
        OwnPasswordChange::EmailSent => StatusCode::ACCEPTED,
    })
}
