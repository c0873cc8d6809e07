//! `PATCH /users/` and `PATCH /users/bulk` (the CRUD's update-many and bulk update): the update of
//! every matched user is computed and validated against its group before anything is written;
//! then each user is written with compare-and-set and synced as `PATCH /users/:id` does, a few
//! at a time. The first user that fails stops the operation once the users in flight are done.

use futures::StreamExt;
use serde_json::{Map, Value};

use super::{apply, check_update, prepare, Prepared};
use crate::context::CallContext;
use crate::groups::GroupError;
use crate::store::{Filter, FindQuery};
use crate::users::{doc_id, UserError, UserResult, UserService};

/// The most users one call may update: above it the call is refused before anything is written
/// (the plan of every user is held in memory until the writes begin).
pub const MAX_USERS: usize = 10_000;

/// Users read per page while matching.
const PAGE: u32 = 200;

/// Users read, validated or written at the same time.
const CONCURRENCY: usize = 4;

/// One item of `PATCH /users/bulk`: the first user matching `filter` (by `_id`) gets `update`.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkItem {
    /// `_id`, `_st` (PUBLIC by default), `_q` and field equality entries.
    pub filter: Filter,
    /// CRUD update operators.
    pub update: Value,
}

impl BulkItem {
    /// An item as the CRUD Service takes it: `filter` holds `_id`, `_st`, `_q` (a JSON string,
    /// or an object) and `field: value` entries (strings, numbers, booleans). The error says
    /// what to fix.
    pub fn from_wire(filter: Map<String, Value>, update: Value) -> Result<Self, String> {
        let mut pairs = Vec::with_capacity(filter.len());
        for (key, value) in filter {
            let text = match value {
                Value::String(text) => text,
                Value::Object(_) if key == "_q" => value.to_string(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ if key == "_q" => return Err("filter._q must be a JSON string or an object".to_owned()),
                _ => return Err(format!("filter.{key} must be a string, a number or a boolean")),
            };
            pairs.push((key, text));
        }
        let filter = Filter::from_query_pairs(&pairs).map_err(|e| format!("filter: {e}"))?;
        Ok(Self { filter, update })
    }
}

/// Updates every user matching `filter` (`_q`, `_st` — PUBLIC by default —, `_id`, field
/// filters, and the caller's `acl_rows`) with `update`; returns how many were updated.
///
/// 400 (nothing written): an invalid update, more than [`MAX_USERS`] matches, or any user whose
/// document after the update would violate its group's schema — every violation listed by user.
/// A failure while writing is `Stopped`: the users before it stay updated, that user is reverted
/// as a failed `PATCH /users/:id` is, and the rest are not touched.
pub async fn update_many(
    svc: &UserService,
    ctx: &CallContext,
    filter: &Filter,
    update: Value,
) -> UserResult<u64> {
    check_update(svc, ctx, &update)?;
    let ids = matching_ids(svc, ctx, filter).await?;
    let mut per_user = filter.clone();
    per_user.id = None;
    let plans = ids
        .into_iter()
        .map(|id| (format!("user \"{id}\""), id, per_user.clone(), update.clone()));
    let prepared = prepare_all(svc, ctx, plans).await?;
    apply_all(svc, ctx, &prepared).await
}

/// Updates, for each item, the first user (by `_id`) matching its filter; returns how many users
/// were updated. An item that matches no user updates nothing. Validation, the 400 and the
/// failure while writing are as in [`update_many`]; two items that reach the same user are
/// refused (merge their updates into one).
pub async fn update_bulk(svc: &UserService, ctx: &CallContext, items: Vec<BulkItem>) -> UserResult<u64> {
    if items.len() > MAX_USERS {
        return Err(UserError::Invalid(format!(
            "the body has {} items: at most {MAX_USERS} per call",
            items.len()
        )));
    }
    for (i, item) in items.iter().enumerate() {
        check_update(svc, ctx, &item.update).map_err(|e| at_item(i, e))?;
    }
    let mut plans = Vec::with_capacity(items.len());
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, item) in items.into_iter().enumerate() {
        let query = FindQuery {
            filter: item.filter.clone(),
            projection: Some(vec!["_id".to_owned()]),
            sort: Some("_id".to_owned()),
            limit: Some(1),
            ..FindQuery::default()
        };
        let found = svc.store.find(&ctx.internal(), &query).await?;
        let Some(id) = found.first().and_then(doc_id).map(str::to_owned) else {
            continue;
        };
        if let Some(first) = seen.insert(id.clone(), i) {
            return Err(UserError::Invalid(format!(
                "items {first} and {i} both update user \"{id}\": merge their updates into one item"
            )));
        }
        let mut per_user = item.filter;
        per_user.id = None;
        plans.push((format!("item {i}, user \"{id}\""), id, per_user, item.update));
    }
    let prepared = prepare_all(svc, ctx, plans).await?;
    apply_all(svc, ctx, &prepared).await
}

/// The `_id`s of the users matching `filter`, page by page; 400 above [`MAX_USERS`].
async fn matching_ids(svc: &UserService, ctx: &CallContext, filter: &Filter) -> UserResult<Vec<String>> {
    let mut ids = Vec::new();
    loop {
        let query = FindQuery {
            filter: filter.clone(),
            projection: Some(vec!["_id".to_owned()]),
            sort: Some("_id".to_owned()),
            limit: Some(PAGE),
            skip: Some(ids.len() as u64),
            ..FindQuery::default()
        };
        let page = svc.store.find(&ctx.internal(), &query).await?;
        let read = page.len();
        ids.extend(page.iter().filter_map(doc_id).map(str::to_owned));
        if ids.len() > MAX_USERS {
            return Err(UserError::Invalid(format!(
                "the filter matches more than {MAX_USERS} users: narrow it (e.g. with _q on _id $in) and update them in several calls"
            )));
        }
        if read < PAGE as usize {
            return Ok(ids);
        }
    }
}

/// Prepares every plan `(label, id, filter, update)`; a user gone since it was matched is
/// skipped. 400 listing every violation (label first) when any user's update is invalid.
async fn prepare_all(
    svc: &UserService,
    ctx: &CallContext,
    plans: impl IntoIterator<Item = (String, String, Filter, Value)>,
) -> UserResult<Vec<Prepared>> {
    let outcomes: Vec<(String, UserResult<Prepared>)> = futures::stream::iter(plans)
        .map(|(label, id, filter, update)| async move {
            (label, prepare(svc, ctx, &id, filter, update, None).await)
        })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let mut prepared = Vec::with_capacity(outcomes.len());
    let mut violations = Vec::new();
    for (label, outcome) in outcomes {
        match outcome {
            Ok(plan) => prepared.push(plan),
            Err(UserError::NotFound(_)) => {}
            Err(error) if is_violation(&error) => violations.push(format!("{label}: {error}")),
            Err(other) => return Err(other),
        }
    }
    if violations.is_empty() {
        return Ok(prepared);
    }
    let shown = svc.limits.violations_reported.max(1);
    let mut message = format!(
        "nothing was updated: {} of the matched users would be invalid after the update. {}",
        violations.len(),
        violations
            .iter()
            .take(shown)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    );
    if violations.len() > shown {
        message.push_str(&format!("; and {} more", violations.len() - shown));
    }
    Err(UserError::Invalid(message))
}

/// Writes and syncs the prepared users, [`CONCURRENCY`] at a time in `_id` order; stops after
/// the group in which a user failed.
async fn apply_all(svc: &UserService, ctx: &CallContext, prepared: &[Prepared]) -> UserResult<u64> {
    let mut done: u64 = 0;
    for group in prepared.chunks(CONCURRENCY) {
        let outcomes = futures::future::join_all(group.iter().map(|plan| apply(svc, ctx, plan))).await;
        let mut failed = None;
        for (plan, outcome) in group.iter().zip(outcomes) {
            match outcome {
                Ok(_) => done += 1,
                Err(error) => {
                    failed.get_or_insert((plan.id().to_owned(), error));
                }
            }
        }
        if let Some((user, source)) = failed {
            let left = (prepared.len() as u64).saturating_sub(done + 1);
            tracing::warn!(
                user.id = user,
                updated = done,
                not_attempted = left,
                "update of many users stopped"
            );
            return Err(UserError::Stopped {
                done,
                verb: "updated",
                user,
                source: Box::new(source),
            });
        }
    }
    Ok(done)
}

/// Whether a user's update is refused for what it would make of the user (a 400), not because
/// a downstream service failed.
fn is_violation(error: &UserError) -> bool {
    matches!(
        error,
        UserError::Invalid(_)
            | UserError::Group(GroupError::Unknown(_) | GroupError::Invalid { .. } | GroupError::Refused(_))
    )
}

/// Prefixes an item's 400 with its index.
fn at_item(i: usize, error: UserError) -> UserError {
    match error {
        UserError::Invalid(message) => UserError::Invalid(format!("item {i}: {message}")),
        other => other,
    }
}
