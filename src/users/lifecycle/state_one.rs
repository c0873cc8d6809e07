//! `POST /users/:id/state` (the CRUD's single-document state change): one user, matched by its
//! `_id` and the caller's filter (`_q`, field filters; any state), moves to `stateTo` when the
//! state machine allows it, its auth user getting the target state's effect first.

use super::{find_matching, unlink_deleted_auth_user};
use crate::context::CallContext;
use crate::journal::{Operation, Plan};
use crate::store::{DocState, Filter};
use crate::users::effects::{apply_auth_effect, auth_effect, AuthEffect};
use crate::users::intent;
use crate::users::{auth_user_id, UserError, UserResult, UserService};

/// Moves user `id` (matched with `filter`, in any state) to `to`: 404 when nothing matches, 400
/// when the transition is not allowed (the CRUD's message), else the auth effect of `to` (DRAFT
/// and TRASH block, PUBLIC unblocks, DELETED deletes or blocks), the store change from the state
/// read (a user written since keeps its state: 409, retry), and at DELETED with hard delete the
/// unlink. A same-state "transition" is allowed, as in the CRUD.
pub async fn change_state(
    svc: &UserService,
    ctx: &CallContext,
    id: &str,
    filter: Filter,
    to: DocState,
) -> UserResult<()> {
    let filter = Filter {
        state: Some(crate::store::StateFilter(DocState::ALL.to_vec())),
        ..filter
    };
    let user = find_matching(svc, ctx, id, &filter).await?;
    let from = crate::users::create::input::stored_state(&user);
    if from != to && !docquery::transition_allowed(Some(from), to) {
        return Err(UserError::Invalid(format!(
            "transition from {} to {} not allowed.",
            from.as_str(),
            to.as_str()
        )));
    }
    let auth_id = auth_user_id(&user).map(str::to_owned);
    let work = async {
        let effect = auth_effect(to, svc.policy.hard_delete);
        if let Some(auth_id) = &auth_id {
            apply_auth_effect(svc, ctx, auth_id, effect).await?;
        }
        // From the state read only (a document without one may go anywhere).
        let read = user.get("__STATE__").and_then(serde_json::Value::as_str);
        let at = Filter {
            q: read.map(|state| serde_json::json!({"__STATE__": state})),
            ..Filter::default()
        };
        if !svc.store.set_state(ctx, id, &at, to).await? {
            return Err(UserError::Conflict(format!(
                "user \"{id}\" changed state meanwhile, retry"
            )));
        }
        match (&auth_id, effect) {
            (Some(auth_id), AuthEffect::Delete) => unlink_deleted_auth_user(svc, ctx, id, auth_id).await,
            _ => Ok(()),
        }
    };
    let plan = Plan::new(Operation::State, &[id])
        .auth_user(auth_id.as_deref())
        .state_to(to);
    intent::run(svc, ctx, plan, work).await
}
