//! `PATCH /users/:id` (SPEC §5): a user updated with CRUD update operators. The document after
//! the update is computed and validated against the schema of its (possibly new) group, written
//! to the store with compare-and-set on `updatedAt`, then synced, in order, to the auth provider
//! (email, username, blocked), Rönd (roles) and the Timer Service (expiry). A failure after the
//! store write reverts every completed step, the store last.

mod changes;
mod many;
mod outside;

pub(crate) use changes::cas_filter;
pub use many::{update_bulk, update_many, BulkItem};
pub(crate) use outside::syncs_outside_store;

use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::context::CallContext;
use crate::failure::Outcome;
use crate::groups;
use crate::journal::{Operation, Plan};
use crate::store::unreadable;
use crate::store::{Filter, StoreError};
use crate::users::effects::{abort_expiry, replace_roles, rond_subject, schedule_expiry};
use crate::users::intent::{self, Tracked};
use crate::users::saga::Saga;
use crate::users::UserService;
use crate::users::{auth_user_id, roles, str_field};
use crate::users::{UserError, UserResult};

use changes::ExpiryChange;

/// Updates user `id` with `update` (CRUD operators) if it matches `filter` (`_q`, `_st`, field
/// filters of the request; `_st` defaults to PUBLIC) and returns the updated user as the store
/// answered it.
///
/// 400: a body that is not an object of operators, an operator on `authUserId`, `expirationId`
/// or a standard field, an update the store would refuse, a document that violates the schema of
/// its group after the update, an unknown group. 404: no user matches. 409: the user changed
/// between the read and the write (retry), or the auth provider refused a taken email/username.
pub async fn update_user(
    svc: &UserService,
    ctx: &CallContext,
    id: &str,
    filter: Filter,
    update: Value,
) -> UserResult<Value> {
    update_user_if_match(svc, ctx, id, filter, update, None).await
}

/// [`update_user`] on the condition that the user is at the version `if_match` names (an
/// `If-Match` header): `PreconditionFailed` (412) otherwise, with nothing written.
pub async fn update_user_if_match(
    svc: &UserService,
    ctx: &CallContext,
    id: &str,
    filter: Filter,
    update: Value,
    if_match: Option<&str>,
) -> UserResult<Value> {
    check_update(svc, ctx, &update)?;
    let prepared = prepare(svc, ctx, id, filter, update, if_match).await?;
    apply(svc, ctx, &prepared).await
}

/// Checks the shape of an update body and its bounds, before anything is read: the operators,
/// the service and standard fields, the caller's `acl_write_columns`, the path limits.
pub(crate) fn check_update(svc: &UserService, ctx: &CallContext, update: &Value) -> UserResult<()> {
    changes::check_update(update)?;
    changes::check_write_columns(update, ctx.acl.write_columns.as_deref())?;
    // Paths are bounded before anything is read or computed.
    svc.limits
        .document
        .check_update(update)
        .map_err(|e| UserError::Invalid(crate::config::describe_limit(&e)))
}

/// A validated update of one user, not yet written: the user as read and as it will be.
pub(crate) struct Prepared {
    id: String,
    filter: Filter,
    update: Value,
    before: Value,
    after: Value,
    expiry: ExpiryChange,
}

impl Prepared {
    /// The user's `_id`.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }
}

/// Finishes what earlier attempts owe user `id`, reads it under `filter` and computes and
/// validates the document after `update` (already checked with [`check_update`]). Nothing is
/// written. 404 when no user matches; 400 when the result violates its group's schema.
pub(crate) async fn prepare(
    svc: &UserService,
    ctx: &CallContext,
    id: &str,
    filter: Filter,
    update: Value,
    if_match: Option<&str>,
) -> UserResult<Prepared> {
    if let Err(e) = crate::users::converge::finish_owed(svc, ctx, id).await {
        // The recovery worker finishes it later; the update itself does not depend on it.
        tracing::warn!(user.id = id, error.message = %e, "what earlier attempts owe this user was not finished first");
    }
    let before = read_user(svc, ctx, id, &filter).await?;
    crate::users::version::check_if_match(if_match, id, &before)?;
    if let Some(refusal) = unreadable::stub_refusal(&before, &format!("user \"{id}\"")) {
        return Err(UserError::Invalid(refusal));
    }
    let mut after = before.clone();
    // Positional paths (`roles.$.replace`) resolve against the caller's `_q`, as in the CRUD.
    let applied = match &filter.q {
        Some(q) => docquery::apply_update_with_filter(&mut after, &update, &now_iso(), q),
        None => docquery::apply_update(&mut after, &update, &now_iso()),
    };
    applied.map_err(|e| UserError::Invalid(e.to_string()))?;
    groups::validate_user(&svc.groups, &svc.limits, ctx, &after).await?;
    let expiry = changes::expiry_change(&before, &after)?;
    Ok(Prepared {
        id: id.to_owned(),
        filter,
        update,
        before,
        after,
        expiry,
    })
}

/// Writes a prepared update (compare-and-set on the `updatedAt` read) and syncs it; on a failure
/// every completed step is reverted, the store last. Returns the user as the store answered.
pub(crate) async fn apply(svc: &UserService, ctx: &CallContext, prepared: &Prepared) -> UserResult<Value> {
    let Prepared {
        id,
        filter,
        update,
        before,
        after,
        expiry,
    } = prepared;
    let change = Change {
        id,
        filter,
        update,
        before,
        after,
    };
    let tracked = match outside::touches_auth(before, after) {
        true => {
            intent::begin(
                svc,
                ctx,
                Plan::new(Operation::Update, &[id.as_str()]).auth_user(auth_user_id(before)),
            )
            .await?
        }
        false => Tracked::none(),
    };
    let mut saga = Saga::new("update user");
    match write_and_sync(svc, ctx, &change, expiry.clone(), &mut saga).await {
        Ok(user) => {
            tracked.close(ctx).await;
            Ok(user)
        }
        Err(error) => Err(tracked.settle(ctx, saga.undo(error).await).await),
    }
}

/// The request and the user's documents before and after the update.
struct Change<'c> {
    id: &'c str,
    filter: &'c Filter,
    update: &'c Value,
    before: &'c Value,
    after: &'c Value,
}

/// The store write, then the side effects in order; returns the user as the last store write
/// answered it. Every completed step is registered in `saga`.
async fn write_and_sync<'a>(
    svc: &'a UserService,
    ctx: &'a CallContext,
    change: &Change<'_>,
    expiry: ExpiryChange,
    saga: &mut Saga<'a>,
) -> UserResult<Value> {
    let written = write_store(svc, ctx, change, saga).await?;
    sync_auth(svc, ctx, change, saga).await?;
    sync_roles(svc, ctx, change, saga).await?;
    Ok(sync_expiry(svc, ctx, change, expiry, saga)
        .await?
        .unwrap_or(written))
}

/// The whole current document: the read ignores `acl_read_columns` (a hidden field must still be
/// validated and reverted); the caller's projection applies to the PATCH answer it receives.
async fn read_user(svc: &UserService, ctx: &CallContext, id: &str, filter: &Filter) -> UserResult<Value> {
    svc.store
        .get(&ctx.internal(), id, filter)
        .await?
        .ok_or_else(|| UserError::NotFound(format!("user \"{id}\" not found")))
}

/// The compare-and-set store write; registers the revert of the changed fields, itself a
/// compare-and-set on the written `updatedAt` (a later write by someone else is never undone).
/// A write whose outcome is unknown (timeout, dropped connection, 5xx) is verified by reading
/// the user again: applied, the update goes on as if it had answered; not applied, its error is
/// returned and nothing is undone; unreadable, its error is returned and the repair is logged.
async fn write_store<'a>(
    svc: &'a UserService,
    ctx: &'a CallContext,
    change: &Change<'_>,
    saga: &mut Saga<'a>,
) -> UserResult<Value> {
    let filter = changes::cas_filter(change.filter, change.before);
    let written = match svc.store.patch(ctx, change.id, &filter, change.update).await {
        Ok(Some(written)) => written,
        Ok(None) => {
            return Err(UserError::Conflict(format!(
                "user \"{}\" was modified concurrently, retry",
                change.id
            )))
        }
        Err(error) if error.outcome() == Outcome::Unknown => verify_write(svc, ctx, change, error).await?,
        Err(error) => return Err(error.into()),
    };
    if let Some(revert) = changes::revert_update(change.before, change.after) {
        let id = change.id.to_owned();
        let repair = format!(
            "set {} of store user {id} back to their values before the update",
            changes::field_names(&revert)
        );
        // An answer projected by `acl_read_columns` may hide `updatedAt`: then no condition.
        let unchanged_since = match written.get("updatedAt") {
            Some(_) => changes::cas_filter(&Filter::any_state(), &written),
            None => Filter::any_state(),
        };
        saga.compensate_with("update store user", repair, async move {
            match svc.store.patch(ctx, &id, &unchanged_since, &revert).await {
                Ok(Some(_)) => Ok(()),
                Ok(None) => Err(StoreError::Invalid(format!(
                    "store user {id} changed after the update: its revert was not applied"
                ))),
                Err(error) => Err(error),
            }
        });
    }
    Ok(written)
}

/// After a store write whose outcome is unknown: the user as the write left it, when the read
/// shows the update applied (`updatedAt` moved and every changed field holds its new value);
/// otherwise the write's `error`.
async fn verify_write(
    svc: &UserService,
    ctx: &CallContext,
    change: &Change<'_>,
    error: StoreError,
) -> UserResult<Value> {
    let current = match svc
        .store
        .get(&ctx.internal(), change.id, &Filter::any_state())
        .await
    {
        Ok(current) => current,
        Err(read_error) => {
            tracing::error!(
                user.id = change.id,
                error.message = %error,
                verification.error = %read_error,
                "store write with an unknown outcome could not be verified: repair by hand if applied"
            );
            return Err(error.into());
        }
    };
    let applied = current.filter(|current| {
        current.get("updatedAt") != change.before.get("updatedAt")
            && changes::revert_update(current, change.after).is_none()
    });
    match applied {
        Some(current) => {
            tracing::warn!(user.id = change.id, error.message = %error, "store write verified as applied");
            Ok(current)
        }
        None => Err(error.into()),
    }
}

/// Sends the changed `email`, `username` and `blocked` to the auth user, when linked.
async fn sync_auth<'a>(
    svc: &'a UserService,
    ctx: &'a CallContext,
    change: &Change<'_>,
    saga: &mut Saga<'a>,
) -> UserResult<()> {
    let Some(auth_id) = auth_user_id(change.before) else {
        return Ok(());
    };
    let (patch, undo) = changes::auth_patches(change.before, change.after);
    if patch == Default::default() {
        return Ok(());
    }
    svc.auth.update_user(ctx, auth_id, &patch).await?;
    let auth_id = auth_id.to_owned();
    let repair = format!("set the email/username/blocked of auth user {auth_id} back to the store user's");
    saga.compensate_with("update auth user", repair, async move {
        svc.auth.update_user(ctx, &auth_id, &undo).await
    });
    Ok(())
}

/// Replaces the Rönd roles when they changed (revoke, grant new, re-grant old on failure).
async fn sync_roles<'a>(
    svc: &'a UserService,
    ctx: &'a CallContext,
    change: &Change<'_>,
    saga: &mut Saga<'a>,
) -> UserResult<()> {
    let (old, new) = (roles(change.before), roles(change.after));
    if svc.roles.is_none() || !changes::roles_changed(&old, &new) {
        return Ok(());
    }
    let Some(subject) = rond_subject(svc, change.after) else {
        return Ok(());
    };
    replace_roles(svc, ctx, change.after, &old, &new).await?;
    let doc = change.after.clone();
    let repair = format!("revoke the bindings of subject {subject} and grant it {old:?}");
    saga.compensate_with("replace roles", repair, async move {
        replace_roles(svc, ctx, &doc, &new, &old).await
    });
    Ok(())
}

/// Schedules, reschedules or aborts the expiry timer and records its `expirationId`. A new timer
/// is scheduled and recorded before the previous one is aborted: an abort cannot be undone, so
/// it comes last; its failure is logged, never returned.
async fn sync_expiry<'a>(
    svc: &'a UserService,
    ctx: &'a CallContext,
    change: &Change<'_>,
    expiry: ExpiryChange,
    saga: &mut Saga<'a>,
) -> UserResult<Option<Value>> {
    let previous = str_field(change.before, "expirationId").filter(|s| !s.is_empty());
    let scheduled = match expiry {
        ExpiryChange::Unchanged => return Ok(None),
        ExpiryChange::Remove => None,
        ExpiryChange::Schedule(date) => schedule_expiry(svc, ctx, change.id, &date).await?,
    };
    let record = match (&scheduled, previous) {
        (Some(new_id), _) => json!({ "$set": { "expirationId": new_id } }),
        (None, Some(_)) => json!({ "$unset": { "expirationId": true } }),
        (None, None) => return Ok(None),
    };
    if let Some(new_id) = scheduled {
        let repair = format!("abort the expiry timer {new_id}");
        saga.compensate_with("schedule expiry", repair, async move {
            abort_expiry(svc, ctx, &new_id).await
        });
    }
    let written = svc
        .store
        .patch(ctx, change.id, &Filter::any_state(), &record)
        .await?
        .ok_or_else(|| UserError::Conflict(format!("user \"{}\" was deleted concurrently", change.id)))?;
    if let Some(previous) = previous {
        if let Err(error) = abort_expiry(svc, ctx, previous).await {
            tracing::warn!(
                user_id = change.id,
                expiration_id = previous,
                error.message = %error,
                "the previous expiry timer could not be aborted: abort it by hand"
            );
        }
    }
    Ok(Some(written))
}

/// Now as the store writes dates: `2024-01-31T10:00:00.000Z` (for `$currentDate`).
fn now_iso() -> String {
    let now = OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}
