//! The saga journal: the intent of every operation that writes both the user store and the auth
//! provider, recorded before its first side effect, marked as its steps complete and closed
//! (deleted) at its end, so that a crash, a lost answer or a failed compensation leaves a record
//! that the recovery worker ([`recovery`]) finishes or rolls back.

pub mod recovery;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::context::CallContext;
use crate::failure::{CallName, Cause, Failure};
use crate::jobs::now_millis;
use crate::store::{Collection, DocState, Filter, FindQuery, StateFilter, StoreError};

/// The `kind` of journal records in their collection (shared with jobs and idempotency records).
pub const KIND: &str = "saga";

/// How many due intents one look at the journal considers.
const DUE_BATCH: u32 = 20;

/// The operation an intent belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Operation {
    /// `POST /users/`: store insert, auth create, link.
    Create,
    /// `POST /users/register`: auth create, link.
    Register,
    /// `PATCH /users/:id` changing what the auth user holds (email, username, blocked).
    Update,
    /// `POST /users/state`, `POST /users/:id/soft-delete`, the expiry callback.
    State,
    /// `DELETE /users/:id`.
    Delete,
}

/// Who a create is for, before the store gives the user its `_id`: its unique login fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginKey {
    /// `email`, when the user has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `username`, when the user has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// What an operation is about to do, recorded before its first side effect.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The operation (none: nothing is recorded).
    pub operation: Option<Operation>,
    /// The store users it touches (none yet for a create).
    pub user_ids: Vec<String>,
    /// A create's login fields.
    pub key: LoginKey,
    /// The auth user it touches, when known.
    pub auth_user_id: Option<String>,
    /// The state a state change moves its users to.
    pub state_to: Option<DocState>,
}

impl Plan {
    /// A plan of `operation` on `user_ids`.
    pub fn new(operation: Operation, user_ids: &[&str]) -> Self {
        Self {
            operation: Some(operation),
            user_ids: user_ids.iter().map(|id| (*id).to_owned()).collect(),
            ..Self::default()
        }
    }

    /// With the auth user it touches.
    pub fn auth_user(mut self, auth_user_id: Option<&str>) -> Self {
        self.auth_user_id = auth_user_id.map(str::to_owned);
        self
    }

    /// With a create's login fields.
    pub fn key(mut self, key: LoginKey) -> Self {
        self.key = key;
        self
    }

    /// With the target state of a state change.
    pub fn state_to(mut self, state: DocState) -> Self {
        self.state_to = Some(state);
        self
    }
}

/// One intent as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Intent {
    /// Store id of the record.
    #[serde(rename = "_id")]
    pub id: String,
    /// What is being done.
    pub operation: Operation,
    /// The store users it touches (empty for a create until the insert answered).
    #[serde(default)]
    pub user_ids: Vec<String>,
    /// A create's login fields (to find the user when the insert's answer was lost).
    #[serde(default)]
    pub key: LoginKey,
    /// The auth user it created or touches, once known.
    #[serde(default)]
    pub auth_user_id: Option<String>,
    /// The state a state change moves its users to.
    #[serde(default)]
    pub state_to: Option<DocState>,
    /// Completed steps, in order (`inserted`, `authCreated`, `linked`, ...).
    #[serde(default)]
    pub steps: Vec<String>,
    /// When it began, epoch milliseconds.
    pub started_at: i64,
    /// The recovery worker holding it, if any.
    #[serde(default)]
    pub lease_owner: Option<String>,
    /// Its lease expiry, epoch milliseconds (0: free).
    #[serde(default)]
    pub lease_until: i64,
}

/// The journal: intents on a `Collection` (`SAGA_CRUD_ENDPOINT`, the jobs collection, or the
/// embedded `/sagas` table).
#[derive(Clone)]
pub struct Journal {
    collection: Arc<dyn Collection>,
}

fn public_q(q: Value) -> Filter {
    Filter {
        q: Some(q),
        state: Some(StateFilter(vec![DocState::Public])),
        ..Filter::default()
    }
}

fn unreadable(id: &str) -> StoreError {
    StoreError::Failed(Failure::new(
        CallName::new("saga journal", "READ", format!("/sagas/{id}")),
        Cause::Failed { status: None },
    ))
}

impl Journal {
    /// A journal kept in `collection`.
    pub fn new(collection: Arc<dyn Collection>) -> Self {
        Self { collection }
    }

    /// Records the intent of `operation` as `plan` says (its users or, for a create, the login
    /// fields of the user) before its first side effect. An error means nothing was started: the operation must
    /// not go on.
    pub async fn begin(
        &self,
        ctx: &CallContext,
        operation: Operation,
        plan: Plan,
    ) -> Result<OpenIntent, StoreError> {
        let doc = json!({
            "kind": KIND,
            "operation": operation,
            "userIds": plan.user_ids,
            "key": plan.key,
            "authUserId": plan.auth_user_id,
            "stateTo": plan.state_to,
            "steps": [],
            "startedAt": now_millis(),
            "leaseOwner": null,
            "leaseUntil": 0,
            "__STATE__": "PUBLIC",
        });
        let id = self.collection.insert(&ctx.internal(), &doc).await?;
        Ok(OpenIntent {
            journal: self.clone(),
            id,
        })
    }

    /// The open intents touching the store user `user_id`.
    pub async fn open_for(&self, ctx: &CallContext, user_id: &str) -> Result<Vec<Intent>, StoreError> {
        let query = FindQuery {
            filter: public_q(json!({"kind": KIND, "userIds": user_id})),
            limit: Some(DUE_BATCH),
            ..FindQuery::default()
        };
        self.read_all(ctx, &query).await
    }

    /// The open intents that began before `started_before` (epoch ms) and that no worker holds,
    /// oldest first.
    pub async fn due(&self, ctx: &CallContext, started_before: i64) -> Result<Vec<Intent>, StoreError> {
        let query = FindQuery {
            filter: public_q(json!({
                "kind": KIND,
                "startedAt": {"$lt": started_before},
                "leaseUntil": {"$lt": now_millis()},
            })),
            sort: Some("startedAt".into()),
            limit: Some(DUE_BATCH),
            ..FindQuery::default()
        };
        self.read_all(ctx, &query).await
    }

    /// Every open intent (for the reconciler, which leaves their users alone), at most `limit`.
    pub async fn all_open(&self, ctx: &CallContext, limit: u32) -> Result<Vec<Intent>, StoreError> {
        let query = FindQuery {
            filter: public_q(json!({"kind": KIND})),
            limit: Some(limit),
            ..FindQuery::default()
        };
        self.read_all(ctx, &query).await
    }

    async fn read_all(&self, ctx: &CallContext, query: &FindQuery) -> Result<Vec<Intent>, StoreError> {
        let docs = self.collection.find(&ctx.internal(), query).await?;
        Ok(docs
            .into_iter()
            .filter_map(|doc| serde_json::from_value(doc).ok())
            .collect())
    }

    /// Takes `intent` for `owner` until `ttl` from now, if no one took it since it was read.
    pub async fn claim(
        &self,
        ctx: &CallContext,
        intent: &Intent,
        owner: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let seen = public_q(json!({"leaseUntil": intent.lease_until}));
        let take = json!({"$set": {
            "leaseOwner": owner,
            "leaseUntil": now_millis() + ttl.as_millis() as i64,
        }});
        let taken = self
            .collection
            .patch(&ctx.internal(), &intent.id, &seen, &take)
            .await?;
        Ok(taken.is_some())
    }

    /// Deletes the record `id`: the operation is over (done, or undone).
    pub async fn close(&self, ctx: &CallContext, id: &str) -> Result<(), StoreError> {
        self.collection
            .delete(&ctx.internal(), id, &public_q(json!({"kind": KIND})))
            .await
            .map(drop)
    }

    async fn mark(
        &self,
        ctx: &CallContext,
        id: &str,
        step: &str,
        set: Map<String, Value>,
    ) -> Result<(), StoreError> {
        let mut update = json!({"$push": {"steps": step}});
        if !set.is_empty() {
            update["$set"] = Value::Object(set);
        }
        let marked = self
            .collection
            .patch(&ctx.internal(), id, &public_q(json!({"kind": KIND})), &update)
            .await?;
        marked.map(drop).ok_or_else(|| unreadable(id))
    }
}

/// An intent this request began: marked as its steps complete, closed at its end.
pub struct OpenIntent {
    journal: Journal,
    id: String,
}

impl OpenIntent {
    /// The record id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Records that `step` completed, with what it learnt (`userIds`, `authUserId`). A failed
    /// mark is only logged: the recovery worker reads the systems themselves, the marks only
    /// spare it lookups.
    pub async fn step(&self, ctx: &CallContext, step: &str, learnt: &[(&str, Value)]) {
        let set: Map<String, Value> = learnt.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        if let Err(e) = self.journal.mark(ctx, &self.id, step, set).await {
            tracing::warn!(saga.id = %self.id, step, error.message = %e, "saga step not recorded");
        }
    }

    /// The operation ended (done, or fully undone): deletes the record. A failed close is only
    /// logged: the recovery worker finds the systems consistent and closes it.
    pub async fn close(self, ctx: &CallContext) {
        if let Err(e) = self.journal.close(ctx, &self.id).await {
            tracing::warn!(saga.id = %self.id, error.message = %e, "saga record not closed: the recovery worker will");
        }
    }

    /// The operation stopped part-way and its compensations did not all succeed: the record
    /// stays open for the recovery worker, which finishes or rolls it back after the grace.
    pub fn leave_open(self, reason: &str) {
        tracing::warn!(saga.id = %self.id, reason, "saga left open for the recovery worker");
        metrics::counter!("ums_saga_left_open_total").increment(1);
    }
}

/// A grace period as milliseconds, for `due`.
pub fn started_before(grace: Duration) -> i64 {
    now_millis() - grace.as_millis() as i64
}
