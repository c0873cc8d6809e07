//! Side effects of a user change outside the store: the auth user's blocked flag or deletion,
//! Rönd role bindings, and the expiry timer. Shared by every lifecycle operation.

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::auth::{AuthError, AuthUserPatch};
use crate::config::SubjectKey;
use crate::context::CallContext;
use crate::failure::Failure;
use crate::store::DocState;
use crate::timer::{Callback, Schedule};
use crate::users::{UserError, UserService};

/// What a state change does to the auth user (SPEC §5 `POST /users/state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthEffect {
    /// DRAFT, TRASH, and DELETED without hard delete.
    Block,
    /// PUBLIC.
    Unblock,
    /// DELETED with `AUTH_HARD_DELETE=true`.
    Delete,
}

/// The auth effect of moving a user to `state`.
pub fn auth_effect(state: DocState, hard_delete: bool) -> AuthEffect {
    match state {
        DocState::Public => AuthEffect::Unblock,
        DocState::Draft | DocState::Trash => AuthEffect::Block,
        DocState::Deleted if hard_delete => AuthEffect::Delete,
        DocState::Deleted => AuthEffect::Block,
    }
}

/// Applies `effect` to the auth user `auth_id`. An auth user that is already gone counts as
/// blocked and as deleted (so a retry after a partial failure completes).
pub async fn apply_auth_effect(
    svc: &UserService,
    ctx: &CallContext,
    auth_id: &str,
    effect: AuthEffect,
) -> Result<(), AuthError> {
    let result = match effect {
        AuthEffect::Delete => svc.auth.delete_user(ctx, auth_id).await,
        AuthEffect::Block | AuthEffect::Unblock => {
            let patch = AuthUserPatch {
                blocked: Some(effect == AuthEffect::Block),
                ..AuthUserPatch::default()
            };
            svc.auth.update_user(ctx, auth_id, &patch).await
        }
    };
    match result {
        Err(e) if e.is_not_found() && effect != AuthEffect::Unblock => Ok(()),
        other => other,
    }
}

/// The Rönd binding subject of a user (`ROND_SUBJECT_KEY`), when Rönd is enabled and the user has one.
pub fn rond_subject(svc: &UserService, doc: &Value) -> Option<String> {
    let roles = svc.roles.as_ref()?;
    let field = match roles.subject_key {
        SubjectKey::AuthUserId => "authUserId",
        SubjectKey::Id => "_id",
    };
    doc.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Grants `granted` to the user's subject; does nothing without Rönd, roles or subject.
/// Returns true when a binding was created.
pub async fn grant_roles(
    svc: &UserService,
    ctx: &CallContext,
    doc: &Value,
    granted: &[String],
) -> Result<bool, Failure> {
    let (Some(roles), Some(subject)) = (&svc.roles, rond_subject(svc, doc)) else {
        return Ok(false);
    };
    if granted.is_empty() {
        return Ok(false);
    }
    roles.policy.grant(ctx, &subject, granted).await?;
    Ok(true)
}

/// Removes the user's subject from all its bindings; does nothing without Rönd or subject.
pub async fn revoke_roles(svc: &UserService, ctx: &CallContext, doc: &Value) -> Result<(), Failure> {
    if let (Some(roles), Some(subject)) = (&svc.roles, rond_subject(svc, doc)) {
        roles.policy.revoke(ctx, &subject).await?;
    }
    Ok(())
}

/// Replaces the user's roles: Rönd's revoke removes the subject from every binding, so revoke,
/// grant `new`, and if that grant fails re-grant `old` so the user never ends with no roles.
pub async fn replace_roles(
    svc: &UserService,
    ctx: &CallContext,
    doc: &Value,
    old: &[String],
    new: &[String],
) -> Result<(), Failure> {
    revoke_roles(svc, ctx, doc).await?;
    if let Err(e) = grant_roles(svc, ctx, doc, new).await {
        if let Err(restore) = grant_roles(svc, ctx, doc, old).await {
            tracing::error!(
                subject = rond_subject(svc, doc).unwrap_or_default(),
                roles = ?old,
                error.message = %restore,
                "re-granting the previous roles failed: grant them by hand"
            );
        }
        return Err(e);
    }
    Ok(())
}

/// Parses an `expirationDate` (RFC 3339).
pub fn parse_expiration(date: &str) -> Result<OffsetDateTime, UserError> {
    OffsetDateTime::parse(date, &Rfc3339).map_err(|_| {
        UserError::Invalid(format!(
            "expirationDate \"{date}\" is not an RFC 3339 date-time (e.g. 2030-01-31T10:00:00Z)"
        ))
    })
}

/// Schedules the expiry callback `POST /users/<id>/expire` at `date`; returns its
/// `expirationId`, or `None` without `TIMER_SERVICE` (a warning is logged once per process).
pub async fn schedule_expiry(
    svc: &UserService,
    ctx: &CallContext,
    user_id: &str,
    date: &str,
) -> Result<Option<String>, UserError> {
    let fire_at = parse_expiration(date)?;
    let Some(expiry) = &svc.expiry else {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            tracing::warn!("expirationDate is stored but not enforced: TIMER_SERVICE is not set");
        });
        return Ok(None);
    };
    let callback = callback(&expiry.callback_base_url, user_id, ctx)?;
    let schedule = Schedule {
        payload: json!({ "userId": user_id }),
        fire_at,
        callback,
    };
    Ok(Some(expiry.timer.schedule(ctx, &schedule).await?))
}

fn callback(base_url: &str, user_id: &str, ctx: &CallContext) -> Result<Callback, UserError> {
    let url = url::Url::parse(base_url)
        .map_err(|e| UserError::Internal(format!("TIMER_CALLBACK_BASE_URL is not a URL: {e}")))?;
    let base_path = url.path().trim_end_matches('/');
    Ok(Callback {
        protocol: url.scheme().to_owned(),
        hostname: url.host_str().unwrap_or_default().to_owned(),
        port: url.port_or_known_default().unwrap_or(80),
        path: format!(
            "{base_path}/users/{}/expire",
            crate::downstream::encode_segment(user_id)
        ),
        headers: ctx.timer_headers.clone(),
    })
}

/// Aborts an expiry timer; does nothing without `TIMER_SERVICE`.
pub async fn abort_expiry(svc: &UserService, ctx: &CallContext, expiration_id: &str) -> Result<(), Failure> {
    match &svc.expiry {
        Some(expiry) => expiry.timer.abort(ctx, expiration_id).await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_effects_follow_the_spec() {
        assert_eq!(auth_effect(DocState::Public, true), AuthEffect::Unblock);
        assert_eq!(auth_effect(DocState::Draft, true), AuthEffect::Block);
        assert_eq!(auth_effect(DocState::Trash, true), AuthEffect::Block);
        assert_eq!(auth_effect(DocState::Deleted, true), AuthEffect::Delete);
        assert_eq!(auth_effect(DocState::Deleted, false), AuthEffect::Block);
    }

    #[test]
    fn the_callback_targets_the_expire_route_with_the_timer_headers() {
        let ctx = CallContext {
            timer_headers: vec![("miauserid".into(), "admin".into())],
            ..CallContext::default()
        };
        let cb = callback("https://ums.example.com:8443/base/", "abc", &ctx).unwrap();
        assert_eq!(cb.protocol, "https");
        assert_eq!(cb.hostname, "ums.example.com");
        assert_eq!(cb.port, 8443);
        assert_eq!(cb.path, "/base/users/abc/expire");
        assert_eq!(cb.headers, vec![("miauserid".to_owned(), "admin".to_owned())]);
        let cb = callback("http://user-manager-service", "abc", &ctx).unwrap();
        assert_eq!((cb.port, cb.path.as_str()), (80, "/users/abc/expire"));
    }

    #[test]
    fn expiration_dates_must_be_rfc3339() {
        assert!(parse_expiration("2030-01-31T10:00:00Z").is_ok());
        assert!(parse_expiration("2030-01-31").is_err());
    }
}
