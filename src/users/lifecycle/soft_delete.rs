//! `POST /users/:id/soft-delete`: walks a user through the allowed state transitions to DELETED
//! (PUBLIC → TRASH → DELETED), applying the auth side effect of each state before the store
//! transition. Resumable: a second call continues from the state the first one reached, and
//! finishes what is owed at DELETED (the auth user deleted and unlinked) even when the store
//! already shows DELETED.

use docquery::transition_allowed;

use super::{find_user, not_found, unlink_deleted_auth_user};
use crate::context::CallContext;
use crate::journal::{Operation, Plan};
use crate::store::{DocState, Filter};
use crate::users::auth_user_id;
use crate::users::effects::{apply_auth_effect, auth_effect, AuthEffect};
use crate::users::intent;
use crate::users::UserResult;
use crate::users::UserService;

/// Moves the user `id` to DELETED one allowed transition at a time: before each store transition
/// the auth user gets that state's effect (TRASH blocks; DELETED deletes it, or blocks it with
/// `AUTH_HARD_DELETE=false`). A user already DELETED is left alone, unless it is still linked with
/// hard delete: then its auth user is deleted (one already gone counts) and unlinked. Unknown
/// user: 404.
pub async fn soft_delete(svc: &UserService, ctx: &CallContext, id: &str) -> UserResult<()> {
    let user = find_user(svc, ctx, id).await?;
    let work = walk_to_deleted(svc, ctx, id, &user);
    let plan = Plan::new(Operation::State, &[id])
        .auth_user(auth_user_id(&user))
        .state_to(DocState::Deleted);
    intent::run(svc, ctx, plan, work).await
}

/// The steps of [`soft_delete`] on the user as read.
async fn walk_to_deleted(
    svc: &UserService,
    ctx: &CallContext,
    id: &str,
    user: &serde_json::Value,
) -> UserResult<()> {
    let from = user
        .get("__STATE__")
        .and_then(|s| s.as_str())
        .and_then(DocState::parse);
    let steps = steps_to_deleted(from);
    let mut at = from;
    for &to in &steps {
        if let Some(auth_id) = auth_user_id(user) {
            apply_auth_effect(svc, ctx, auth_id, auth_effect(to, svc.policy.hard_delete)).await?;
        }
        if !svc.store.set_state(ctx, id, &from_state(at), to).await? {
            return Err(moved(svc, ctx, id).await);
        }
        at = Some(to);
    }
    // Owed at DELETED with hard delete, whether reached now or by an earlier call that failed
    // before its last steps: no auth user, no bindings, no link.
    let Some(auth_id) = auth_user_id(user) else {
        return Ok(());
    };
    if auth_effect(DocState::Deleted, svc.policy.hard_delete) != AuthEffect::Delete {
        return Ok(());
    }
    if steps.is_empty() {
        apply_auth_effect(svc, ctx, auth_id, AuthEffect::Delete).await?;
    }
    unlink_deleted_auth_user(svc, ctx, id, auth_id).await
}

/// Each transition applies only from the state the walk left the user in (`_q` on
/// `__STATE__`): a transition of an earlier attempt that reaches the store late (its caller timed
/// out) finds the user moved on and changes nothing, instead of taking a DELETED user back.
fn from_state(at: Option<DocState>) -> Filter {
    Filter {
        q: at.map(|state| serde_json::json!({"__STATE__": state.as_str()})),
        ..Filter::default()
    }
}

/// Why a transition matched nothing: the user is gone (404), or its state changed meanwhile (409).
async fn moved(svc: &UserService, ctx: &CallContext, id: &str) -> crate::users::UserError {
    match find_user(svc, ctx, id).await {
        Ok(_) => crate::users::UserError::Conflict(format!("user \"{id}\" changed state meanwhile, retry")),
        Err(_) => not_found(id),
    }
}

/// The states to go through, in order, to reach DELETED from `from` (`None`: a document without
/// `__STATE__`, which may go anywhere). PUBLIC and DRAFT cannot go straight to DELETED, so they
/// pass through TRASH (contracts/crud-service.md §4).
fn steps_to_deleted(from: Option<DocState>) -> Vec<DocState> {
    let deleted = DocState::Deleted;
    if from == Some(deleted) {
        return Vec::new();
    }
    if transition_allowed(from, deleted) {
        return vec![deleted];
    }
    vec![DocState::Trash, DocState::Deleted]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_draft_users_pass_through_trash() {
        let expected = vec![DocState::Trash, DocState::Deleted];
        assert_eq!(steps_to_deleted(Some(DocState::Public)), expected);
        assert_eq!(steps_to_deleted(Some(DocState::Draft)), expected);
    }

    #[test]
    fn trashed_and_stateless_users_go_straight_to_deleted() {
        assert_eq!(steps_to_deleted(Some(DocState::Trash)), vec![DocState::Deleted]);
        assert_eq!(steps_to_deleted(None), vec![DocState::Deleted]);
    }

    #[test]
    fn deleted_users_need_no_step() {
        assert!(steps_to_deleted(Some(DocState::Deleted)).is_empty());
    }

    #[test]
    fn every_step_is_a_transition_the_state_machine_allows() {
        for from in [DocState::Public, DocState::Draft, DocState::Trash] {
            let mut at = Some(from);
            for step in steps_to_deleted(Some(from)) {
                assert!(transition_allowed(at, step), "{at:?} -> {step}");
                at = Some(step);
            }
            assert_eq!(at, Some(DocState::Deleted));
        }
    }
}
