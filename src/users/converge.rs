//! Converging one user: the auth provider brought in line with the user store, which is the
//! source of truth — what the recovery worker does for an intent left open, what a retried
//! operation does first for the intents still open on its user, and what the reconciler repairs.
//!
//! Every step is idempotent; what cannot be done safely is left for a person and logged.

use serde_json::{json, Value};

use super::create::input::{starts_blocked, stored_state};
use super::effects::{apply_auth_effect, auth_effect, revoke_roles, AuthEffect};
use super::{auth_user_id, store_time_millis, str_field, UserResult, UserService};
use crate::auth::{AuthUser, AuthUserPatch};
use crate::context::CallContext;
use crate::journal::{Intent, LoginKey, Operation};
use crate::store::{DocState, Filter, FindQuery};

/// Whether a step that undoes a half-done create may run: only the recovery worker, once the
/// request that began it is presumed dead, rolls back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Finish what is owed, never delete a store user (a retried request: the intent may belong
    /// to a request still running).
    FinishOnly,
    /// Finish, or roll back a create that cannot be finished (the recovery worker).
    FinishOrRollBack,
}

/// Brings every user of `intent` to a consistent state (see the module doc).
pub async fn converge_intent(
    svc: &UserService,
    ctx: &CallContext,
    intent: &Intent,
    mode: Mode,
) -> UserResult<()> {
    let mut ids = intent.user_ids.clone();
    if ids.is_empty() && intent.operation == Operation::Create {
        ids.extend(created_by_key(svc, ctx, &intent.key, intent.started_at).await?);
    }
    for id in &ids {
        converge_user(svc, ctx, id, intent, mode).await?;
    }
    Ok(())
}

/// The unlinked store user a create with `key` inserted, when its insert's answer was lost:
/// the user with that email (or username) created since the intent began.
pub(crate) async fn created_by_key(
    svc: &UserService,
    ctx: &CallContext,
    key: &LoginKey,
    since: i64,
) -> UserResult<Option<String>> {
    let q = match (&key.email, &key.username) {
        (Some(email), _) => json!({"email": email}),
        (None, Some(username)) => json!({"username": username}),
        (None, None) => return Ok(None),
    };
    let query = FindQuery {
        filter: Filter {
            q: Some(q),
            ..Filter::any_state()
        },
        limit: Some(1),
        ..FindQuery::default()
    };
    let found = svc.store.find(&ctx.internal(), &query).await?;
    Ok(found
        .first()
        .filter(|doc| auth_user_id(doc).is_none() && created_since(doc, since))
        .and_then(|doc| str_field(doc, "_id"))
        .map(str::to_owned))
}

/// Whether the store says `doc` was created at or after `since` (epoch ms, one second of clock
/// skew allowed); a document without a readable `createdAt` is not claimed.
fn created_since(doc: &Value, since: i64) -> bool {
    store_time_millis(doc, "createdAt").is_some_and(|created| created >= since - 1_000)
}

/// Converges the store user `id` and the auth users the intent may have left for it.
async fn converge_user(
    svc: &UserService,
    ctx: &CallContext,
    id: &str,
    intent: &Intent,
    mode: Mode,
) -> UserResult<()> {
    let Some(doc) = svc.store.get(&ctx.internal(), id, &Filter::any_state()).await? else {
        // No store user: an auth user made for it (recorded, or carrying its marker) gets what a
        // DELETE gives it — deleted, or blocked with `AUTH_HARD_DELETE=false`; the one a create
        // or register made for a user that is gone was never handed out, and is deleted.
        let created = matches!(intent.operation, Operation::Create | Operation::Register);
        let effect = match created {
            true => AuthEffect::Delete,
            false => auth_effect(DocState::Deleted, svc.policy.hard_delete),
        };
        if let Some(auth_id) = &intent.auth_user_id {
            apply_auth_effect(svc, ctx, auth_id, effect).await?;
        }
        if let Some(made) = svc.auth.find_created_for(ctx, id).await? {
            apply_auth_effect(svc, ctx, &made.id, effect).await?;
        }
        return Ok(());
    };
    match auth_user_id(&doc) {
        Some(auth_id) => sync_linked(svc, ctx, &doc, auth_id, intent, mode).await,
        None if matches!(intent.operation, Operation::Create | Operation::Register) => {
            finish_create(svc, ctx, &doc, intent.operation, mode).await
        }
        None => Ok(()),
    }
}

/// A create or register that did not link: links the auth user carrying the user's marker, or
/// (create, recovery worker) deletes the store user that never got one.
async fn finish_create(
    svc: &UserService,
    ctx: &CallContext,
    doc: &Value,
    operation: Operation,
    mode: Mode,
) -> UserResult<()> {
    let id = str_field(doc, "_id").unwrap_or_default();
    if let Some(created) = svc.auth.find_created_for(ctx, id).await? {
        return link(svc, ctx, doc, &created).await;
    }
    if operation == Operation::Create && mode == Mode::FinishOrRollBack {
        let unlinked = Filter {
            q: Some(json!({"authUserId": {"$exists": false}})),
            ..Filter::any_state()
        };
        svc.store.delete(ctx, id, &unlinked).await?;
        tracing::warn!(
            user.id = id,
            "half-created user rolled back: no auth user was created for it"
        );
    }
    Ok(())
}

/// Links `auth` to the unlinked store user `doc` (compare-and-set), then syncs it. A DELETED
/// user with `AUTH_HARD_DELETE` has no auth user by definition (its soft delete deleted the one
/// it had, maybe while this create was being finished): the marked auth user is deleted
/// instead, and the link is conditional on the user not being DELETED by then.
pub(crate) async fn link(
    svc: &UserService,
    ctx: &CallContext,
    doc: &Value,
    auth: &AuthUser,
) -> UserResult<()> {
    let id = str_field(doc, "_id").unwrap_or_default();
    let never_deleted = svc.policy.hard_delete;
    if never_deleted && stored_state(doc) == DocState::Deleted {
        tracing::warn!(user.id = id, auth_user.id = %auth.id, "auth user made for a user deleted meanwhile: deleted");
        return delete_auth_user(svc, ctx, &auth.id).await;
    }
    let q = match never_deleted {
        true => json!({"authUserId": {"$exists": false}, "__STATE__": {"$ne": "DELETED"}}),
        false => json!({"authUserId": {"$exists": false}}),
    };
    let unlinked = Filter {
        q: Some(q),
        ..Filter::any_state()
    };
    let update = json!({"$set": {"authUserId": auth.id}});
    if svc.store.patch(ctx, id, &unlinked, &update).await?.is_none() {
        let now = svc.store.get(&ctx.internal(), id, &Filter::any_state()).await?;
        if never_deleted
            && now
                .as_ref()
                .is_some_and(|doc| stored_state(doc) == DocState::Deleted)
        {
            tracing::warn!(user.id = id, auth_user.id = %auth.id, "auth user made for a user deleted meanwhile: deleted");
            return delete_auth_user(svc, ctx, &auth.id).await;
        }
        return Ok(());
    }
    tracing::warn!(user.id = id, auth_user.id = %auth.id, "auth user linked by recovery");
    sync_auth(svc, ctx, doc, auth).await
}

/// A linked user: the auth user gets the store's email, username and blocked flag; at DELETED
/// with hard delete it is deleted and unlinked; a hard delete, or a move to DELETED, that
/// deleted the auth user but did not finish in the store is finished.
async fn sync_linked(
    svc: &UserService,
    ctx: &CallContext,
    doc: &Value,
    auth_id: &str,
    intent: &Intent,
    mode: Mode,
) -> UserResult<()> {
    let id = str_field(doc, "_id").unwrap_or_default();
    let operation = intent.operation;
    let state = stored_state(doc);
    if state == DocState::Deleted && svc.policy.hard_delete {
        delete_auth_user(svc, ctx, auth_id).await?;
        return unlink(svc, ctx, doc, auth_id).await;
    }
    match svc.auth.get_user(ctx, auth_id).await? {
        Some(auth) => sync_auth(svc, ctx, doc, &auth).await,
        None if operation == Operation::Delete => {
            // The delete removed the auth user but not the store user: finish it.
            svc.store.delete(ctx, id, &Filter::any_state()).await?;
            Ok(())
        }
        None if operation == Operation::Create && mode == Mode::FinishOrRollBack => {
            // A create that failed after linking: its compensation deleted the auth user but not
            // the store user (the client never got a 200 with the auth user gone). Roll it back.
            let linked = Filter {
                q: Some(json!({"authUserId": auth_id})),
                ..Filter::any_state()
            };
            svc.store.delete(ctx, id, &linked).await?;
            tracing::warn!(
                user.id = id,
                "half-created user rolled back: its auth user was deleted by a compensation"
            );
            Ok(())
        }
        None if state == DocState::Deleted => unlink(svc, ctx, doc, auth_id).await,
        None if intent.state_to == Some(DocState::Deleted) && svc.policy.hard_delete => {
            // A move to DELETED deleted the auth user but not yet moved the store user: finish it.
            finish_deleting(svc, ctx, id, state).await?;
            unlink(svc, ctx, doc, auth_id).await
        }
        None => {
            tracing::error!(
                user.id = id,
                auth_user.id = auth_id,
                "store user linked to a missing auth user: repair by hand (unlink, then register)"
            );
            Ok(())
        }
    }
}

/// Moves the store user `id` from `state` to DELETED through the transitions the CRUD allows.
async fn finish_deleting(svc: &UserService, ctx: &CallContext, id: &str, state: DocState) -> UserResult<()> {
    if !docquery::transition_allowed(Some(state), DocState::Deleted) {
        svc.store
            .set_state(ctx, id, &Filter::any_state(), DocState::Trash)
            .await?;
    }
    svc.store
        .set_state(ctx, id, &Filter::any_state(), DocState::Deleted)
        .await?;
    tracing::warn!(
        user.id = id,
        "a move to DELETED whose auth user was already deleted finished by recovery"
    );
    Ok(())
}

/// Sends the store's email, username and blocked flag to `auth` where they differ.
pub(crate) async fn sync_auth(
    svc: &UserService,
    ctx: &CallContext,
    doc: &Value,
    auth: &AuthUser,
) -> UserResult<()> {
    let patch = owed_patch(doc, auth);
    if patch != AuthUserPatch::default() {
        svc.auth.update_user(ctx, &auth.id, &patch).await?;
    }
    Ok(())
}

/// What `auth` lacks of `doc`: email and username the store has and the provider differs on,
/// and the blocked flag of the user's state.
pub(crate) fn owed_patch(doc: &Value, auth: &AuthUser) -> AuthUserPatch {
    let differs = |field: &str, held: &Option<String>| {
        str_field(doc, field)
            .filter(|value| held.as_deref() != Some(*value))
            .map(str::to_owned)
    };
    let blocked = starts_blocked(doc, stored_state(doc));
    AuthUserPatch {
        email: differs("email", &auth.email),
        username: differs("username", &auth.username),
        blocked: (auth.blocked != blocked).then_some(blocked),
    }
}

/// Deletes an auth user; one already gone counts as deleted.
pub(crate) async fn delete_auth_user(svc: &UserService, ctx: &CallContext, auth_id: &str) -> UserResult<()> {
    Ok(apply_auth_effect(svc, ctx, auth_id, AuthEffect::Delete).await?)
}

/// Revokes the bindings of, and unlinks, a store user whose auth user is gone (only if still
/// linked to that one).
async fn unlink(svc: &UserService, ctx: &CallContext, doc: &Value, auth_id: &str) -> UserResult<()> {
    let id = str_field(doc, "_id").unwrap_or_default();
    revoke_roles(svc, ctx, doc).await?;
    let linked = Filter {
        q: Some(json!({"authUserId": auth_id})),
        ..Filter::any_state()
    };
    svc.store
        .patch(ctx, id, &linked, &json!({"$unset": {"authUserId": true}}))
        .await?;
    Ok(())
}

/// The reconciler's repair of the store user `id`: read afresh, then the auth provider brought
/// in line with it (a linked user synced, a deleted one unlinked); never rolls anything back.
pub(crate) async fn repair_user(svc: &UserService, ctx: &CallContext, id: &str) -> UserResult<()> {
    converge_one(svc, ctx, id, Operation::Update, None).await
}

/// A state change to `state_to` that applied its auth effect to user `id` but whose store write
/// matched nothing (the user was written meanwhile): the user read afresh and the provider
/// brought in line with it; a move to DELETED whose auth user is gone is finished.
pub(crate) async fn settle_state_change(
    svc: &UserService,
    ctx: &CallContext,
    id: &str,
    state_to: DocState,
) -> UserResult<()> {
    converge_one(svc, ctx, id, Operation::State, Some(state_to)).await
}

/// Converges user `id` as if an intent of `operation` were left open on it, without rollback.
async fn converge_one(
    svc: &UserService,
    ctx: &CallContext,
    id: &str,
    operation: Operation,
    state_to: Option<DocState>,
) -> UserResult<()> {
    let intent = Intent {
        id: String::new(),
        operation,
        user_ids: vec![id.to_owned()],
        key: LoginKey::default(),
        auth_user_id: None,
        state_to,
        steps: Vec::new(),
        started_at: 0,
        lease_owner: None,
        lease_until: 0,
    };
    converge_user(svc, ctx, id, &intent, Mode::FinishOnly).await
}

/// A retried operation on user `id` first finishes what earlier attempts still owe: every
/// intent open on the user is converged without rollback (the recovery worker closes them).
pub async fn finish_owed(svc: &UserService, ctx: &CallContext, id: &str) -> UserResult<()> {
    let Some(journal) = &svc.journal else {
        return Ok(());
    };
    for intent in journal.open_for(ctx, id).await? {
        converge_intent(svc, ctx, &intent, Mode::FinishOnly).await?;
    }
    Ok(())
}
