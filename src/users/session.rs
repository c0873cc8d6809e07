//! Sessions and self-service (SPEC §5 "Authentication and self-service"): login, refresh and the
//! change-password email, through the auth provider.

use crate::auth::{AuthError, SessionGrant};
use crate::context::CallContext;
use crate::secret::Secret;
use crate::users::userinfo::require_session;
use crate::users::{UserError, UserResult, UserService};

/// `Unsupported` when the configured auth provider has no login sessions.
pub fn ensure_sessions(svc: &UserService) -> UserResult<()> {
    if svc.capabilities().sessions {
        Ok(())
    } else {
        Err(UserError::Unsupported(
            "the configured auth provider does not support login sessions".into(),
        ))
    }
}

/// Logs in; the provider's refusal is returned as it is (the caller words it).
pub async fn login(
    svc: &UserService,
    ctx: &CallContext,
    username: &str,
    password: &Secret,
) -> UserResult<Result<SessionGrant, AuthError>> {
    ensure_sessions(svc)?;
    Ok(svc.auth.login(ctx, username, password).await)
}

/// New tokens from `refresh_token` and the session of `ctx` (required).
pub async fn refresh(
    svc: &UserService,
    ctx: &CallContext,
    refresh_token: &Secret,
) -> UserResult<SessionGrant> {
    ensure_sessions(svc)?;
    require_session(ctx)?;
    Ok(svc.auth.refresh(ctx, refresh_token).await?)
}

/// Asks the provider to email the auth user `auth_user_id` a change-password link.
pub async fn change_password(svc: &UserService, ctx: &CallContext, auth_user_id: &str) -> UserResult<()> {
    if auth_user_id.trim().is_empty() {
        return Err(UserError::Invalid("authUserId must not be empty".into()));
    }
    match svc.auth.change_password(ctx, auth_user_id).await {
        Err(e) if e.is_not_found() => Err(UserError::NotFound(format!(
            "auth user \"{auth_user_id}\" does not exist"
        ))),
        other => Ok(other?),
    }
}
