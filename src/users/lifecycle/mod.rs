//! The end of a user's life and its state changes: delete (`DELETE /users/:id`), bulk state change
//! (`POST /users/state`), soft delete (`POST /users/:id/soft-delete`) and the expiry callback
//! (`POST /users/:id/expire`), each keeping the auth provider, Rönd and the Timer Service in step
//! with the user store (SPEC §5).
//!
//! Every operation is ordered so that the store document goes last: when a step fails its error
//! is returned and a retry of the same request completes the job (a delete that completed leaves
//! no user, so a second `DELETE /users/:id` is a 404, as the CRUD Service answers).

mod bulk_state;
mod delete_many;
mod soft_delete;
mod state_one;
mod state_request;

pub use bulk_state::change_states;
pub use delete_many::delete_many;
pub use soft_delete::soft_delete;
pub use state_one::change_state;
pub use state_request::{state_requests, StateRequest};

use serde_json::{json, Value};

use super::effects::{abort_expiry, apply_auth_effect, auth_effect, revoke_roles, AuthEffect};
use super::{auth_user_id, str_field};
use crate::context::CallContext;
use crate::journal::{Operation, Plan};
use crate::store::{DocState, Filter};
use crate::users::intent;
use crate::users::UserService;
use crate::users::{UserError, UserResult};

/// After the auth user of `user` was deleted by a state change (DELETED with
/// `AUTH_HARD_DELETE=true`): revoke its Rönd bindings and unlink it, so no store user stays
/// linked to a missing auth user. Restored later, the user is a store-only user that
/// `POST /users/register` can give a new auth user.
async fn unlink_deleted_auth_user(
    svc: &UserService,
    ctx: &CallContext,
    id: &str,
    auth_id: &str,
) -> UserResult<()> {
    revoke_roles(svc, ctx, &json!({"_id": id, "authUserId": auth_id})).await?;
    let unset = json!({"$unset": {"authUserId": true}});
    svc.store.patch(ctx, id, &Filter::any_state(), &unset).await?;
    Ok(())
}

/// The 404 of an unknown user.
fn not_found(id: &str) -> UserError {
    UserError::NotFound(format!("user \"{id}\" not found"))
}

/// The user `id` in any state, or 404.
async fn find_user(svc: &UserService, ctx: &CallContext, id: &str) -> UserResult<Value> {
    find_matching(svc, ctx, id, &Filter::any_state()).await
}

/// The user `id` when it matches `filter` (the caller's `_q`, `_st`, field filters), else 404.
async fn find_matching(svc: &UserService, ctx: &CallContext, id: &str, filter: &Filter) -> UserResult<Value> {
    let user = svc.store.get(&ctx.internal(), id, filter).await?;
    user.ok_or_else(|| not_found(id))
}

/// `DELETE /users/:id`: deletes the auth user (or blocks it with `AUTH_HARD_DELETE=false`),
/// revokes the Rönd bindings, deletes the store document (any state), then aborts the expiry
/// timer. A failed step returns its error with the store document still there, so a retry
/// completes the job (an auth user already gone counts as deleted). Timer errors are only logged.
pub async fn delete(svc: &UserService, ctx: &CallContext, id: &str) -> UserResult<()> {
    delete_if_match(svc, ctx, id, &Filter::any_state(), None).await
}

/// [`delete`] of the user `id` when it matches `filter` (the CRUD `DELETE /:id` filters: `_q`,
/// `_st` — PUBLIC by default —, field filters; 404 otherwise) and, as read before anything
/// changes, is at the version `if_match` names (an `If-Match` header): `PreconditionFailed` (412)
/// otherwise.
pub async fn delete_if_match(
    svc: &UserService,
    ctx: &CallContext,
    id: &str,
    filter: &Filter,
    if_match: Option<&str>,
) -> UserResult<()> {
    let user = find_matching(svc, ctx, id, filter).await?;
    crate::users::version::check_if_match(if_match, id, &user)?;
    delete_read(svc, ctx, id, &user).await
}

/// The delete of user `id` as read (`user`), under its intent.
async fn delete_read(svc: &UserService, ctx: &CallContext, id: &str, user: &Value) -> UserResult<()> {
    let work = delete_user(svc, ctx, id, user);
    let plan = Plan::new(Operation::Delete, &[id]).auth_user(auth_user_id(user));
    intent::run(svc, ctx, plan, work).await
}

/// The steps of [`delete`] on the user as read.
async fn delete_user(svc: &UserService, ctx: &CallContext, id: &str, user: &Value) -> UserResult<()> {
    if let Some(auth_id) = auth_user_id(user) {
        let effect = auth_effect(DocState::Deleted, svc.policy.hard_delete);
        apply_auth_effect(svc, ctx, auth_id, effect).await?;
    }
    revoke_roles(svc, ctx, user).await?;
    // `false`: a concurrent delete got there first, which is the outcome asked for.
    svc.store.delete(ctx, id, &Filter::any_state()).await?;
    if let Some(expiration_id) = str_field(user, "expirationId").filter(|s| !s.is_empty()) {
        if let Err(e) = abort_expiry(svc, ctx, expiration_id).await {
            tracing::warn!(
                user_id = id,
                expiration_id,
                error.message = %e,
                "user deleted but its expiry timer was not aborted: the callback will find no user"
            );
        }
    }
    Ok(())
}

/// `POST /users/:id/expire` (the Timer Service at `expirationDate`): blocks the auth user (one
/// already gone counts as blocked) and sets `blocked: true` on the store user, in any state.
/// Idempotent. `scheduled_for` is the `expirationDate` the timer was scheduled for (its payload):
/// when the user's `expirationDate` has changed or gone since, the callback is stale and ignored.
/// A callback without it (a timer scheduled by an older version) always applies.
pub async fn expire(
    svc: &UserService,
    ctx: &CallContext,
    id: &str,
    scheduled_for: Option<&str>,
) -> UserResult<()> {
    let user = find_user(svc, ctx, id).await?;
    if let Some(scheduled_for) = scheduled_for {
        if str_field(&user, "expirationDate") != Some(scheduled_for) {
            tracing::info!(
                user.id = id,
                scheduled_for,
                "stale expiry callback ignored: the user's expirationDate changed since it was scheduled"
            );
            return Ok(());
        }
    }
    let work = async {
        if let Some(auth_id) = auth_user_id(&user) {
            apply_auth_effect(svc, ctx, auth_id, AuthEffect::Block).await?;
        }
        let update = json!({"$set": {"blocked": true}});
        match svc.store.patch(ctx, id, &Filter::any_state(), &update).await? {
            Some(_) => Ok(()),
            None => Err(not_found(id)),
        }
    };
    let plan = Plan::new(Operation::State, &[id]).auth_user(auth_user_id(&user));
    intent::run(svc, ctx, plan, work).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Acl;

    #[test]
    fn lifecycle_reads_match_every_state() {
        let pairs = Filter::any_state().to_query_pairs();
        assert_eq!(
            pairs,
            vec![("_st".to_owned(), "PUBLIC,DRAFT,TRASH,DELETED".to_owned())]
        );
    }

    #[test]
    fn internal_reads_keep_the_row_acl_and_drop_the_column_acl() {
        let ctx = CallContext {
            acl: Acl {
                rows: Some(r#"{"tenantId":"t1"}"#.into()),
                read_columns: Some("_id,name".into()),
                write_columns: None,
            },
            ..CallContext::default()
        };
        let read = ctx.internal();
        assert_eq!(read.acl.rows.as_deref(), Some(r#"{"tenantId":"t1"}"#));
        assert_eq!(read.acl.read_columns, None);
    }
}
