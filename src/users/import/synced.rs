//! Update rows whose change reaches beyond the store: the email, username or blocked of a user
//! linked to an auth user, its roles (with Rönd), its expiration date (with the Timer Service).
//! A store-only bulk patch would leave the other systems with the old values, so these rows are
//! written as `PATCH /users/{id}` writes a user (`users::update::prepare` and `apply`): a
//! compare-and-set store write of a `$set` of the row's fields, then the auth user, the Rönd
//! roles and the expiry timer, every completed step reverted when a later one fails, under a
//! saga intent. The other update rows keep the bulk patch.
//!
//! Which rows: one lookup per batch (`GET /users/` by `_id`) of the users named by the update
//! rows that set one of those fields; the row's fields are set on what the user holds now, and
//! `users::update::syncs_outside_store` decides. Rows of the same user in one batch are chained
//! (each starts from the previous one) and all written alone when one must be, in row order.
//! A row whose `_id` no user has stays with the bulk patch, which inserts it. A found user's row
//! that needs no sync is patched in bulk only if the user still has the `updatedAt` the lookup
//! read: linked or changed in between, it may need one now, and the row is written alone.
//!
//! Failures follow the import's rule: a row the update refuses (its result violates the group
//! schema, the auth provider says the email is taken or does not know the auth user, the user
//! changed in between) is reported in `invalid` with why, its user reverted; a failing or silent
//! downstream service (store, auth provider, Rönd, Timer Service) stops the import, as a store
//! outage does, once that user is reverted.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use super::lookup;
use crate::auth::AuthError;
use crate::context::CallContext;
use crate::failure::{Cause, Failure};
use crate::groups::GroupError;
use crate::store::{Filter, StoreError, StoreResult};
use crate::users::update::{self, syncs_outside_store};
use crate::users::{UserError, UserService};

/// Users written alone at the same time.
pub const CONCURRENCY: usize = 4;

/// What the lookup reads of each user: what `syncs_outside_store` compares, and the
/// `updatedAt` a guarded write is conditional on.
const CURRENT: [&str; 7] = [
    "authUserId",
    "email",
    "username",
    "blocked",
    "roles",
    "expirationDate",
    "updatedAt",
];

/// An update row: row number, `_id`, the fields to set, and the user to insert under that `_id`
/// when no user has it (or why the row cannot create it).
pub type Update = (u64, String, Value, Result<Value, String>);

/// What became of a row written alone.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    /// The user was updated and synced.
    Updated,
    /// No user has the row's `_id` (any more).
    NoUser,
    /// The update was refused, and nothing of it is left: why.
    Refused(String),
}

/// The fields a row must set for its change to possibly reach another system.
fn watched(svc: &UserService) -> Vec<&'static str> {
    let mut fields = vec!["email", "username", "blocked"];
    if svc.roles.is_some() {
        fields.push("roles");
    }
    if svc.expiry.is_some() {
        fields.push("expirationDate");
    }
    fields
}

/// Update rows sorted by how they are written, each list in row order.
#[derive(Debug, Default)]
pub struct Split {
    /// Rows that set no watched field, or whose user the lookup did not find: the bulk patch.
    pub bulk: Vec<Update>,
    /// The one row of a found user that sets a watched field and needs no sync as the user was
    /// read, with that read: a bulk patch conditional on its `updatedAt`, because a user changed
    /// since (linked, its email changed) may need a sync now.
    pub guarded: Vec<(Update, Value)>,
    /// Rows written alone, synced: those that need a sync, and every row of a found user that has
    /// several rows in the batch (a second conditional write would fail on the first one's).
    pub alone: Vec<Update>,
}

/// Splits update rows into [`Split`]. Looks up the users only when a row sets a watched field.
pub async fn split(svc: &UserService, ctx: &CallContext, updates: Vec<Update>) -> StoreResult<Split> {
    let watched = watched(svc);
    let mut seen = HashSet::new();
    let ids: Vec<String> = updates
        .iter()
        .filter(|(_, _, set, _)| watched.iter().any(|field| set.get(*field).is_some()))
        .filter(|(_, id, ..)| seen.insert(id.as_str()))
        .map(|(_, id, ..)| id.clone())
        .collect();
    if ids.is_empty() {
        return Ok(Split {
            bulk: updates,
            ..Split::default()
        });
    }
    let current = lookup::current_users(svc.store.as_ref(), ctx, &ids, &CURRENT).await?;
    let mut alone = needing_sync(svc, &current, &updates);
    let mut rows_of: HashMap<&str, usize> = HashMap::new();
    for (_, id, ..) in &updates {
        *rows_of.entry(id.as_str()).or_default() += 1;
    }
    alone.extend(
        rows_of
            .iter()
            .filter(|(id, rows)| **rows > 1 && current.contains_key(**id))
            .map(|(id, _)| (*id).to_owned()),
    );
    let mut split = Split::default();
    for row in updates {
        match current.get(&row.1) {
            _ if alone.contains(&row.1) => split.alone.push(row),
            Some(before) => {
                let before = before.clone();
                split.guarded.push((row, before));
            }
            None => split.bulk.push(row),
        }
    }
    Ok(split)
}

/// The filter of a guarded row: user `id` in any state, as `before` was read.
pub fn unchanged(id: &str, before: &Value) -> Filter {
    let by_id = Filter {
        id: Some(id.to_owned()),
        state: Some(lookup::all_states()),
        ..Filter::default()
    };
    update::cas_filter(&by_id, before)
}

/// The `_id`s of the users, among `current`, that a row of `updates` changes in a way
/// `syncs_outside_store` reports.
fn needing_sync(svc: &UserService, current: &HashMap<String, Value>, updates: &[Update]) -> HashSet<String> {
    let mut current = current.clone();
    let mut alone = HashSet::new();
    for (_, id, set, _) in updates {
        let Some(before) = current.get_mut(id) else {
            continue;
        };
        let after = with_set(before, set);
        if syncs_outside_store(svc, before, &after) {
            alone.insert(id.clone());
        }
        // A later row of the same user starts from this one.
        *before = after;
    }
    alone
}

/// `doc` after a `$set` of the top-level fields of `set`.
fn with_set(doc: &Value, set: &Value) -> Value {
    let mut after = doc.clone();
    if let (Some(target), Some(fields)) = (after.as_object_mut(), set.as_object()) {
        target.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    after
}

/// The rows to write alone in groups of at most [`CONCURRENCY`], in row order, no two rows of a
/// group updating the same user.
pub fn groups(rows: Vec<Update>) -> Vec<Vec<Update>> {
    let mut groups: Vec<Vec<Update>> = Vec::new();
    for row in rows {
        match groups.last_mut() {
            Some(group) if group.len() < CONCURRENCY && group.iter().all(|(_, id, ..)| *id != row.1) => {
                group.push(row);
            }
            _ => groups.push(vec![row]),
        }
    }
    groups
}

/// Writes user `id` with a `$set` of `set` as `PATCH /users/{id}` does (any state), synced.
/// `Err`: a downstream failure, after the user was reverted; the import stops on it.
pub async fn write(
    svc: &UserService,
    ctx: &CallContext,
    id: &str,
    set: &Value,
) -> Result<Written, UserError> {
    let update = json!({ "$set": set });
    let prepared = match update::check_update(svc, ctx, &update) {
        Ok(()) => update::prepare(svc, ctx, id, Filter::any_state(), update, None).await,
        Err(error) => Err(error),
    };
    let written = match prepared {
        Ok(prepared) => update::apply(svc, ctx, &prepared).await.map(|_| ()),
        Err(UserError::NotFound(_)) => return Ok(Written::NoUser),
        Err(error) => Err(error),
    };
    match written {
        Ok(()) => Ok(Written::Updated),
        Err(error) if refused(&error) => Ok(Written::Refused(format!(
            "user \"{id}\" was not updated: {error}"
        ))),
        Err(error) => Err(error),
    }
}

/// Whether an update failed for what it asks of this user (a row fault), not because a
/// downstream service failed.
fn refused(error: &UserError) -> bool {
    match error {
        UserError::Invalid(_)
        | UserError::NotFound(_)
        | UserError::Conflict(_)
        | UserError::PreconditionFailed(_) => true,
        UserError::Store(error) | UserError::Group(GroupError::Store(error)) => store_refused(error),
        UserError::Group(_) => true,
        UserError::Auth(AuthError::Conflict(_) | AuthError::Invalid(_) | AuthError::NotFound(_)) => true,
        UserError::Auth(AuthError::Failed(failure)) | UserError::Failed(failure) => rejected(failure),
        UserError::Auth(_)
        | UserError::NotLoggedIn(_)
        | UserError::Unsupported(_)
        | UserError::Stopped { .. }
        | UserError::Internal(_) => false,
    }
}

/// The store refused the document itself (a duplicate, a validation error).
pub fn store_refused(error: &StoreError) -> bool {
    match error {
        StoreError::Conflict { .. } | StoreError::Invalid(_) => true,
        StoreError::Failed(failure) => matches!(failure.cause, Cause::Rejected { .. }),
    }
}

/// The callee refused the request itself (a 4xx other than a missing route or a rate limit).
fn rejected(failure: &Failure) -> bool {
    matches!(failure.cause, Cause::Rejected { .. } | Cause::Conflict { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(row: u64, id: &str) -> Update {
        (row, id.to_owned(), json!({}), Err(String::new()))
    }

    fn rows_of(groups: &[Vec<Update>]) -> Vec<Vec<u64>> {
        groups
            .iter()
            .map(|group| group.iter().map(|(row, ..)| *row).collect())
            .collect()
    }

    #[test]
    fn groups_keep_row_order_and_never_hold_one_user_twice() {
        let rows = vec![
            row(1, "a"),
            row(2, "b"),
            row(3, "a"),
            row(4, "c"),
            row(5, "d"),
            row(6, "e"),
            row(7, "f"),
        ];
        assert_eq!(rows_of(&groups(rows)), [vec![1, 2], vec![3, 4, 5, 6], vec![7]]);
        assert!(groups(Vec::new()).is_empty());
    }

    #[test]
    fn a_set_replaces_top_level_fields_and_keeps_the_others() {
        let before = json!({"_id": "u1", "authUserId": "a1", "email": "a@x.io",
                            "address": {"city": "Rome", "zip": "1"}});
        let after = with_set(&before, &json!({"email": "b@x.io", "address": {"city": "Pisa"}}));
        assert_eq!(
            after,
            json!({"_id": "u1", "authUserId": "a1", "email": "b@x.io", "address": {"city": "Pisa"}})
        );
    }

    #[test]
    fn refusals_are_row_faults_and_outages_are_not() {
        let call = || crate::failure::CallName::new("Auth0 Client", "PATCH", "/users/:id");
        let failed = |cause| Failure::new(call(), cause);
        let faults = [
            UserError::Invalid("bad".into()),
            UserError::Conflict("changed".into()),
            UserError::Auth(AuthError::Conflict("taken".into())),
            UserError::Auth(AuthError::NotFound("gone".into())),
            UserError::Store(StoreError::Invalid("no".into())),
            UserError::Failed(failed(Cause::Rejected {
                status: 400,
                message: "past date".into(),
            })),
        ];
        for error in &faults {
            assert!(refused(error), "{error:?}");
        }
        let outages = [
            UserError::Auth(AuthError::Failed(failed(Cause::Failed { status: Some(500) }))),
            UserError::Auth(AuthError::Failed(failed(Cause::Timeout))),
            UserError::Auth(AuthError::RateLimited {
                retry_after: None,
                message: "slow down".into(),
            }),
            UserError::Store(StoreError::Failed(failed(Cause::Unreachable))),
            UserError::Failed(failed(Cause::Dropped)),
            UserError::Internal("bug".into()),
        ];
        for error in &outages {
            assert!(!refused(error), "{error:?}");
        }
    }
}
