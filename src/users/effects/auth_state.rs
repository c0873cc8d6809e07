//! The auth user's side of a state change: blocked, unblocked or deleted (SPEC §5
//! `POST /users/state`).

use crate::auth::{AuthError, AuthUserPatch};
use crate::context::CallContext;
use crate::store::DocState;
use crate::users::UserService;

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
}
