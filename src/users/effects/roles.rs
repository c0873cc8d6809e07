//! Rönd role bindings of a user: granted, revoked and replaced under its subject
//! (`ROND_SUBJECT_KEY`).

use serde_json::Value;

use crate::config::SubjectKey;
use crate::context::CallContext;
use crate::failure::Failure;
use crate::users::UserService;

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
