//! `POST /users/state`: the CRUD bulk state change (`[{filter, stateTo}]`) with the auth side
//! effect of the target state applied to every matched user first (DRAFT/TRASH block, PUBLIC
//! unblocks, DELETED deletes or blocks).

use std::collections::HashSet;

use serde_json::Value;

use super::state_request::StateRequest;
use super::unlink_deleted_auth_user;
use crate::auth::AuthError;
use crate::context::CallContext;
use crate::failure::Cause;
use crate::journal::{Operation, Plan};
use crate::store::query::MAX_LIMIT;
use crate::store::{FindQuery, StateChange};
use crate::users::converge::settle_state_change;
use crate::users::effects::{apply_auth_effect, auth_effect, AuthEffect};
use crate::users::intent::{self, Tracked};
use crate::users::UserService;
use crate::users::{auth_user_id, doc_id};
use crate::users::{UserError, UserResult};

/// Most items in one store `POST /state` call.
const STATE_BATCH: usize = 200;

/// A matched user: its `_id`, when linked its auth user, and its `updatedAt` as read.
struct Target {
    id: String,
    auth_id: Option<String>,
    updated_at: Option<Value>,
}

/// The side effects that failed in one `POST /users/state`.
#[derive(Default)]
struct EffectFailures {
    /// The first failure: what the caller gets.
    first: Option<UserError>,
    /// How many auth calls failed.
    failed: usize,
    /// Linked users not attempted because the provider timed out or was unreachable.
    skipped: usize,
}

impl EffectFailures {
    fn record(&mut self, error: impl Into<UserError>) {
        self.failed += 1;
        self.first.get_or_insert(error.into());
    }

    /// After a timeout or an unreachable provider, the remaining linked users are not tried
    /// (each would wait for the timeout too); they keep their state and a retry picks them up.
    fn provider_down(&self) -> bool {
        self.first.as_ref().is_some_and(
            |e| matches!(e, UserError::Auth(AuthError::Failed(f)) if matches!(f.cause, Cause::Timeout | Cause::Unreachable)),
        )
    }
}

/// `POST /users/state`: for each item, finds the matching users whose state is an allowed source
/// of `stateTo` (paging by 200), applies the auth side effect of `stateTo` to each linked user
/// (an auth user already gone counts as blocked or deleted), then changes the store state of
/// exactly the users whose auth effect succeeded (and of the unlinked ones). Returns the number
/// of users whose state changed.
///
/// Partial failure: when some auth calls fail, the other users still change state (the failed
/// ones keep theirs, so auth user and store user stay consistent) and the first error is
/// returned (502/504) instead of the count; retrying the same body completes the job: the users
/// already changed are no longer matched, and those left linked at DELETED (hard delete) by a
/// failure after their store write get their auth user deleted and unlinked.
///
/// Each store change matches the user's `updatedAt` as read: a user written meanwhile (a soft
/// delete that reached DELETED, a patch) is not moved, and its auth user follows the state it is
/// in instead (see `settle_missed`).
pub async fn change_states(
    svc: &UserService,
    ctx: &CallContext,
    requests: &[StateRequest],
) -> UserResult<u64> {
    let mut failures = EffectFailures::default();
    let mut modified = 0;
    for request in requests {
        let deletes = auth_effect(request.state_to(), svc.policy.hard_delete) == AuthEffect::Delete;
        if deletes {
            let owed = matching_users(svc, ctx, |skip| request.still_linked_query(skip)).await?;
            finish_deletes(svc, ctx, &owed, true, &mut failures).await;
        }
        let targets = matching_users(svc, ctx, |skip| request.find_query(skip)).await?;
        let linked: Vec<&str> = targets
            .iter()
            .filter(|t| t.auth_id.is_some())
            .map(|t| t.id.as_str())
            .collect();
        let tracked = match linked.is_empty() {
            true => Tracked::none(),
            false => {
                let plan = Plan::new(Operation::State, &linked).state_to(request.state_to());
                intent::begin(svc, ctx, plan).await?
            }
        };
        let failed_before = failures.failed;
        match change_targets(svc, ctx, request, &targets, &mut failures).await {
            Ok(count) if failures.failed == failed_before => {
                tracked.close(ctx).await;
                modified += count;
            }
            Ok(count) => {
                tracked.leave_open("auth side effects failed");
                modified += count;
            }
            Err(error) => {
                tracked.leave_open("a store state change failed");
                return Err(error);
            }
        }
    }
    match failures.first {
        None => Ok(modified),
        Some(error) => {
            tracing::warn!(
                modified,
                auth_failed = failures.failed,
                auth_skipped = failures.skipped,
                error.message = %error,
                "state changed only for the users whose auth side effect succeeded"
            );
            Err(error)
        }
    }
}

/// The auth effects of `request` on `targets`, then their store state changes in batches, then
/// (DELETED with hard delete) the unlinks; returns how many users changed state.
async fn change_targets(
    svc: &UserService,
    ctx: &CallContext,
    request: &StateRequest,
    targets: &[Target],
    failures: &mut EffectFailures,
) -> UserResult<u64> {
    let mut modified = 0;
    let changes = apply_auth_effects(svc, ctx, request, targets, failures).await;
    let mut in_short_batch = HashSet::new();
    for batch in changes.chunks(STATE_BATCH) {
        let changed = svc.store.set_state_many(ctx, batch).await?;
        if changed < batch.len() as u64 {
            in_short_batch.extend(batch.iter().filter_map(changed_id));
        }
        modified += changed;
    }
    let sent: HashSet<&str> = changes.iter().filter_map(changed_id).collect();
    let (missed, moved): (Vec<&Target>, Vec<&Target>) = targets
        .iter()
        .filter(|t| sent.contains(t.id.as_str()))
        .partition(|t| in_short_batch.contains(t.id.as_str()));
    if auth_effect(request.state_to(), svc.policy.hard_delete) == AuthEffect::Delete {
        finish_deletes(svc, ctx, moved, false, failures).await;
    }
    settle_missed(svc, ctx, request, missed, failures).await;
    Ok(modified)
}

/// The `_id` a state change names.
fn changed_id(change: &StateChange) -> Option<&str> {
    change.filter.get("_id").and_then(Value::as_str)
}

/// A batch changed fewer users than it named: some were written between their read and the
/// store change (which matches only the `updatedAt` read), after their auth effect was applied.
/// Each linked user of the batch is read afresh and its auth user brought in line with the
/// state it is in now (a move to DELETED whose auth user is gone is finished).
async fn settle_missed(
    svc: &UserService,
    ctx: &CallContext,
    request: &StateRequest,
    users: Vec<&Target>,
    failures: &mut EffectFailures,
) {
    for target in users.into_iter().filter(|t| t.auth_id.is_some()) {
        let settled = settle_state_change(svc, ctx, &target.id, request.state_to()).await;
        if let Err(error) = settled {
            failures.record(error);
        }
    }
}

/// Deleted users still linked: their auth user deleted (`again`: it may be there still; one
/// already gone counts as deleted), their bindings revoked and their link removed. A failure is
/// recorded and the next user is tried.
async fn finish_deletes<'a>(
    svc: &UserService,
    ctx: &CallContext,
    users: impl IntoIterator<Item = &'a Target>,
    again: bool,
    failures: &mut EffectFailures,
) {
    for target in users {
        let Some(auth_id) = &target.auth_id else {
            continue;
        };
        if again {
            if let Err(error) = apply_auth_effect(svc, ctx, auth_id, AuthEffect::Delete).await {
                failures.record(error);
                continue;
            }
        }
        if let Err(error) = unlink_deleted_auth_user(svc, ctx, &target.id, auth_id).await {
            failures.record(error);
        }
    }
}

/// Every user `query` matches, read page by page (`_l` 200, `_sk`) before anything changes.
async fn matching_users(
    svc: &UserService,
    ctx: &CallContext,
    query: impl Fn(u64) -> FindQuery,
) -> UserResult<Vec<Target>> {
    let ctx = ctx.internal();
    let mut targets = Vec::new();
    let mut seen: u64 = 0;
    loop {
        let page = svc.store.find(&ctx, &query(seen)).await?;
        seen += page.len() as u64;
        let full = page.len() >= MAX_LIMIT as usize;
        targets.extend(page.iter().filter_map(|user| {
            Some(Target {
                id: doc_id(user)?.to_owned(),
                auth_id: auth_user_id(user).map(str::to_owned),
                updated_at: user.get("updatedAt").cloned(),
            })
        }));
        if !full {
            return Ok(targets);
        }
    }
}

/// Applies the auth effect of `request`'s target state to every linked target; returns the state
/// changes of the targets whose effect succeeded and of the unlinked ones.
async fn apply_auth_effects(
    svc: &UserService,
    ctx: &CallContext,
    request: &StateRequest,
    targets: &[Target],
    failures: &mut EffectFailures,
) -> Vec<StateChange> {
    let effect = auth_effect(request.state_to(), svc.policy.hard_delete);
    let mut changes = Vec::with_capacity(targets.len());
    for target in targets {
        if let Some(auth_id) = &target.auth_id {
            if failures.provider_down() {
                failures.skipped += 1;
                continue;
            }
            if let Err(error) = apply_auth_effect(svc, ctx, auth_id, effect).await {
                failures.record(error);
                continue;
            }
        }
        changes.push(request.change_for(&target.id, target.updated_at.as_ref()));
    }
    changes
}
