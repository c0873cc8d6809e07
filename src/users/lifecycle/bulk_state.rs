//! `POST /users/state`: the CRUD bulk state change (`[{filter, stateTo}]`) with the auth side
//! effect of the target state applied to every matched user first (DRAFT/TRASH block, PUBLIC
//! unblocks, DELETED deletes or blocks).

use serde_json::{json, Map, Value};

use super::unlink_deleted_auth_user;
use crate::auth::AuthError;
use crate::context::CallContext;
use crate::failure::Cause;
use crate::journal::{LoginKey, Operation};
use crate::store::query::MAX_LIMIT;
use crate::store::{DocState, Filter, FindQuery, StateChange, StateFilter};
use crate::users::effects::{apply_auth_effect, auth_effect, AuthEffect};
use crate::users::intent::{self, Tracked};
use crate::users::UserService;
use crate::users::{auth_user_id, doc_id};
use crate::users::{UserError, UserResult};

/// Most items in one store `POST /state` call.
const STATE_BATCH: usize = 200;

/// One validated item of `POST /users/state`: users matching `filter` (equality on `_id` and
/// fields) move to `state_to`, if their current state is an allowed source of it.
#[derive(Clone, Debug, PartialEq)]
pub struct StateRequest {
    filter: Map<String, Value>,
    state_to: DocState,
}

impl StateRequest {
    /// Checks a CRUD `POST /state` item: `filter` is non-empty, `_id` is a string, every other
    /// key is a field name (no `_q`, `_st`, `__STATE__`, operators) with a string, number or
    /// boolean value. The error says what to fix.
    pub fn new(filter: Map<String, Value>, state_to: DocState) -> Result<Self, String> {
        if filter.is_empty() {
            return Err(r#"filter must name at least one field, e.g. {"_id": "<user id>"}"#.to_owned());
        }
        for (key, value) in &filter {
            check_entry(key, value).map_err(|problem| format!("filter.{key} {problem}"))?;
        }
        Ok(Self { filter, state_to })
    }

    /// The target state.
    pub fn state_to(&self) -> DocState {
        self.state_to
    }

    /// One page of the users this item changes: the filter as `_id` + `_q` equality, `_st` = the
    /// allowed source states of `state_to`, sorted by `_id` so that `_sk` pages are stable.
    fn find_query(&self, skip: u64) -> FindQuery {
        let sources = docquery::bulk_sources(self.state_to).to_vec();
        self.query(sources, None, skip)
    }

    /// The matched users already in `stateTo` that are still linked: left so by an earlier call
    /// that failed after their store write (DELETED with hard delete owes an unlink).
    fn still_linked_query(&self, skip: u64) -> FindQuery {
        let linked = json!({"authUserId": {"$exists": true}});
        self.query(vec![self.state_to], Some(linked), skip)
    }

    /// The item's filter in `states`, and `extra` when given, read page by page.
    fn query(&self, states: Vec<DocState>, extra: Option<Value>, skip: u64) -> FindQuery {
        let mut fields = self.filter.clone();
        let id = fields.remove("_id").and_then(|v| v.as_str().map(str::to_owned));
        let fields = (!fields.is_empty()).then_some(Value::Object(fields));
        let q = match (fields, extra) {
            (Some(fields), Some(extra)) => Some(json!({"$and": [fields, extra]})),
            (fields, extra) => fields.or(extra),
        };
        FindQuery {
            filter: Filter {
                q,
                state: Some(StateFilter(states)),
                fields: Vec::new(),
                id,
            },
            projection: Some(vec!["_id".to_owned(), "authUserId".to_owned()]),
            raw_projection: None,
            sort: Some("_id".to_owned()),
            limit: Some(MAX_LIMIT),
            skip: Some(skip),
        }
    }

    /// The store state change of one matched user: the item's filter narrowed to its `_id`.
    fn change_for(&self, id: &str) -> StateChange {
        let mut filter = self.filter.clone();
        filter.insert("_id".to_owned(), Value::String(id.to_owned()));
        StateChange {
            filter,
            state_to: self.state_to,
        }
    }
}

/// Why one filter entry is refused (the key is prefixed by the caller).
fn check_entry(key: &str, value: &Value) -> Result<(), &'static str> {
    if key == "_id" {
        return match value {
            Value::String(id) if !id.is_empty() => Ok(()),
            _ => Err("must be a non-empty string"),
        };
    }
    if key.is_empty() || key.starts_with('_') || key.contains('$') {
        return Err("is not accepted: filter takes _id and field equality entries only");
    }
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(()),
        _ => Err("must be a string, a number or a boolean"),
    }
}

/// Validates the items of a `POST /users/state` body (a non-empty array); 400 naming the item.
pub fn state_requests(
    items: impl IntoIterator<Item = (Map<String, Value>, DocState)>,
) -> UserResult<Vec<StateRequest>> {
    let requests = items
        .into_iter()
        .enumerate()
        .map(|(i, (filter, to))| {
            StateRequest::new(filter, to)
                .map_err(|problem| UserError::Invalid(format!("body[{i}].{problem}")))
        })
        .collect::<UserResult<Vec<_>>>()?;
    if requests.is_empty() {
        return Err(UserError::Invalid(
            "body must be a non-empty array of {\"filter\": {...}, \"stateTo\": \"...\"}".to_owned(),
        ));
    }
    Ok(requests)
}

/// A matched user: its `_id` and, when linked, its auth user.
struct Target {
    id: String,
    auth_id: Option<String>,
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
pub async fn change_states(
    svc: &UserService,
    ctx: &CallContext,
    requests: &[StateRequest],
) -> UserResult<u64> {
    let mut failures = EffectFailures::default();
    let mut modified = 0;
    for request in requests {
        let deletes = auth_effect(request.state_to, svc.policy.hard_delete) == AuthEffect::Delete;
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
            false => intent::begin(svc, ctx, Operation::State, &linked, LoginKey::default(), None).await?,
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
    for batch in changes.chunks(STATE_BATCH) {
        modified += svc.store.set_state_many(ctx, batch).await?;
    }
    if auth_effect(request.state_to, svc.policy.hard_delete) == AuthEffect::Delete {
        let changed: std::collections::HashSet<&str> = changes
            .iter()
            .filter_map(|c| c.filter.get("_id").and_then(Value::as_str))
            .collect();
        let deleted: Vec<&Target> = targets
            .iter()
            .filter(|t| changed.contains(t.id.as_str()))
            .collect();
        finish_deletes(svc, ctx, deleted, false, failures).await;
    }
    Ok(modified)
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
    let effect = auth_effect(request.state_to, svc.policy.hard_delete);
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
        changes.push(request.change_for(&target.id));
    }
    changes
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn an_item_is_found_by_id_and_equality_in_the_source_states_of_its_target() {
        let request =
            StateRequest::new(map(json!({"_id": "u1", "email": "a@b.c"})), DocState::Trash).unwrap();
        let query = request.find_query(400);
        let pairs = query.to_query_pairs();
        let expected = [
            ("_q", r#"{"email":"a@b.c"}"#),
            ("_st", "PUBLIC,DRAFT,DELETED"),
            ("_id", "u1"),
            ("_p", "_id,authUserId"),
            ("_s", "_id"),
            ("_l", "200"),
            ("_sk", "400"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(pairs, expected);
    }

    #[test]
    fn an_item_with_only_an_id_sends_no_q() {
        let request = StateRequest::new(map(json!({"_id": "u1"})), DocState::Public).unwrap();
        let query = request.find_query(0);
        assert_eq!(query.filter.q, None);
        assert_eq!(query.filter.state, Some(StateFilter(vec![DocState::Draft])));
    }

    #[test]
    fn each_change_keeps_the_item_filter_and_names_the_user() {
        let request = StateRequest::new(map(json!({"email": "a@b.c"})), DocState::Deleted).unwrap();
        let change = request.change_for("u7");
        assert_eq!(
            Value::Object(change.filter),
            json!({"email": "a@b.c", "_id": "u7"})
        );
        assert_eq!(change.state_to, DocState::Deleted);
    }

    #[test]
    fn filters_take_only_ids_and_scalar_field_equality() {
        let refused = [
            json!({}),
            json!({"_id": 3}),
            json!({"_id": ""}),
            json!({"_q": "{}"}),
            json!({"_st": "PUBLIC"}),
            json!({"__STATE__": "PUBLIC"}),
            json!({"$or": []}),
            json!({"email": {"$ne": "x"}}),
            json!({"roles": ["a"]}),
            json!({"email": null}),
        ];
        for filter in refused {
            assert!(
                StateRequest::new(map(filter.clone()), DocState::Trash).is_err(),
                "{filter}"
            );
        }
        let accepted = json!({"_id": "u1", "age": 3, "blocked": false, "address.city": "Rome"});
        assert!(StateRequest::new(map(accepted), DocState::Trash).is_ok());
    }

    #[test]
    fn a_body_needs_at_least_one_item_and_errors_name_the_item() {
        let empty = state_requests(Vec::new()).unwrap_err();
        assert!(empty.to_string().contains("non-empty array"), "{empty}");
        let items = vec![
            (map(json!({"_id": "u1"})), DocState::Trash),
            (map(json!({"_q": "{}"})), DocState::Trash),
        ];
        let error = state_requests(items).unwrap_err();
        assert!(matches!(error, UserError::Invalid(_)));
        assert!(error.to_string().starts_with("body[1].filter._q "), "{error}");
    }
}
