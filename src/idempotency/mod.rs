//! Idempotency keys: a request sent with a key is recorded in the saga collection, and a
//! replay of it (same key, same request) within [`RETENTION`] gets the first answer instead of
//! running again.
//!
//! A record is a document `{kind: "idempotency", key, requestHash, state, recordedAt,
//! responseStatus?, responseBody?, __STATE__: "PUBLIC"}`: `requestHash` is the request's
//! [`Fingerprint`] (never the body), `state` is `inProgress` then `done` with the answer, and
//! `recordedAt` is epoch milliseconds (`createdAt` is the store's own field, which clients may not
//! write). The collection has no unique index on the key: [`Idempotency::begin`] inserts, reads
//! every record of the key back and goes on only when its own is the oldest ([`winner`]).

mod fingerprint;
mod record;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::clock::Clock;
use crate::context::CallContext;
use crate::store::{Collection, DocState, Filter, FindQuery, StateFilter, StoreResult};

pub use fingerprint::Fingerprint;
pub use record::{winner, InvalidKey, Key, Record, RecordState, MAX_KEY_LENGTH};

/// The `kind` of idempotency records, which keeps them apart from jobs and saga records.
pub const KIND: &str = "idempotency";

/// How long a key is remembered: older records are ignored and deleted.
pub const RETENTION: Duration = Duration::from_secs(24 * 3600);

/// How long a record may stay in progress: older, its replica died (or could not record the
/// answer), and the key is free again. Far above what one request can take (each downstream call
/// is bounded by `DOWNSTREAM_TIMEOUT_MS`, 10 s by default).
pub const IN_PROGRESS_EXPIRY: Duration = Duration::from_secs(10 * 60);

/// How often a replica deletes the expired records of every key (keys never sent again are
/// otherwise never met).
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(3600);

/// The most records of one key read back (their order puts the oldest first).
const RECORDS_READ: u32 = 200;

/// The idempotency records, on the saga collection.
pub struct Idempotency {
    collection: Arc<dyn Collection>,
    clock: Arc<dyn Clock>,
    /// When this replica last swept the expired records (epoch ms).
    last_sweep: AtomicI64,
}

/// What [`Idempotency::begin`] found.
#[derive(Debug)]
pub enum Begin {
    /// The key is new (or expired, or released): run the request, then finish or abandon.
    Fresh(Ticket),
    /// The same request already answered: send this answer again.
    Replay(Recorded),
    /// The key was used for another request.
    Mismatch,
    /// The same request is running now.
    InProgress,
}

/// An answer as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// Its status code.
    pub status: u16,
    /// Its JSON body as text, empty for none.
    pub body: String,
}

/// The right to run the request of a fresh key: [`Ticket::finish`] records its answer,
/// [`Ticket::abandon`] frees the key for a retry.
pub struct Ticket {
    collection: Arc<dyn Collection>,
    id: String,
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket").field("id", &self.id).finish()
    }
}

fn public(q: Value) -> Filter {
    Filter {
        q: Some(q),
        state: Some(StateFilter(vec![DocState::Public])),
        ..Filter::default()
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Idempotency {
    /// Records kept in `collection` (the saga collection), dated by `clock`.
    pub fn new(collection: Arc<dyn Collection>, clock: Arc<dyn Clock>) -> Self {
        Self {
            collection,
            clock,
            last_sweep: AtomicI64::new(i64::MIN),
        }
    }

    fn now_millis(&self) -> i64 {
        i64::try_from(self.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    /// Records the start of the request `fingerprint` under `key`, or says why it must not run.
    ///
    /// Inserts an in-progress record, reads the records of the key, deletes the expired ones
    /// met, and compares with the [`winner`] among the live ones: its own record wins → `Fresh`;
    /// otherwise its record is deleted again and the winner decides (another request →
    /// `Mismatch`, done → `Replay`, else `InProgress`). A store failure is returned after a try
    /// at deleting its record: the request did not run.
    pub async fn begin(&self, ctx: &CallContext, key: &Key, fingerprint: &Fingerprint) -> StoreResult<Begin> {
        let now = self.now_millis();
        self.sweep_if_due(now);
        let doc = json!({
            "kind": KIND,
            "key": key.as_str(),
            "requestHash": fingerprint.as_str(),
            "state": RecordState::InProgress.as_str(),
            "recordedAt": now,
            "__STATE__": "PUBLIC",
        });
        let mine = self.collection.insert(ctx, &doc).await?;
        let records = match self.records(ctx, key).await {
            Ok(records) => records,
            Err(error) => {
                self.delete_quietly(ctx, &mine).await;
                return Err(error);
            }
        };
        let own = Record {
            id: mine.clone(),
            request_hash: fingerprint.as_str().to_owned(),
            state: RecordState::InProgress,
            recorded_at: now,
            response_status: None,
            response_body: None,
        };
        let (retention, expiry) = (millis(RETENTION), millis(IN_PROGRESS_EXPIRY));
        let mut live = Vec::with_capacity(records.len() + 1);
        for record in records {
            if record.id == mine {
                continue;
            }
            if record.is_live(now, retention, expiry) {
                live.push(record);
            } else {
                self.delete_quietly(ctx, &record.id).await;
            }
        }
        live.push(own);
        let Some(first) = winner(&live).filter(|first| first.id != mine) else {
            return Ok(Begin::Fresh(Ticket {
                collection: self.collection.clone(),
                id: mine,
            }));
        };
        let decided = decide(first, fingerprint);
        self.delete_quietly(ctx, &mine).await;
        Ok(decided)
    }

    /// The records of `key`, oldest first; unreadable ones are skipped.
    async fn records(&self, ctx: &CallContext, key: &Key) -> StoreResult<Vec<Record>> {
        let query = FindQuery {
            filter: public(json!({"kind": KIND, "key": key.as_str()})),
            sort: Some("recordedAt".into()),
            limit: Some(RECORDS_READ),
            ..FindQuery::default()
        };
        let docs = self.collection.find(ctx, &query).await?;
        Ok(docs
            .into_iter()
            .filter_map(|doc| match serde_json::from_value::<Record>(doc) {
                Ok(record) => Some(record),
                Err(error) => {
                    tracing::warn!(%error, "an unreadable idempotency record is ignored");
                    None
                }
            })
            .collect())
    }

    async fn delete_quietly(&self, ctx: &CallContext, id: &str) {
        if let Err(error) = self
            .collection
            .delete(ctx, id, &public(json!({"kind": KIND})))
            .await
        {
            tracing::warn!(record = id, error.message = %error, "idempotency record not deleted");
        }
    }

    /// Once per [`SWEEP_INTERVAL`] on this replica, deletes the expired records of every key
    /// in the background.
    fn sweep_if_due(&self, now: i64) {
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now.saturating_sub(last) < millis(SWEEP_INTERVAL)
            || self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let collection = self.collection.clone();
        let filter = public(json!({
            "kind": KIND,
            "recordedAt": {"$lt": now.saturating_sub(millis(RETENTION))},
        }));
        tokio::spawn(async move {
            let ctx = CallContext::background("idempotency-sweep");
            match collection.delete_many(&ctx, &filter).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "expired idempotency records deleted"),
                Err(error) => {
                    tracing::warn!(error.message = %error, "expired idempotency records not deleted")
                }
            }
        });
    }
}

/// What the winning record of another request means for ours.
fn decide(first: &Record, fingerprint: &Fingerprint) -> Begin {
    if first.request_hash != fingerprint.as_str() {
        return Begin::Mismatch;
    }
    match (first.state, first.response_status) {
        (RecordState::Done, Some(status)) => Begin::Replay(Recorded {
            status,
            body: first.response_body.clone().unwrap_or_default(),
        }),
        _ => Begin::InProgress,
    }
}

impl Ticket {
    /// The record's store id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Records the answer (`status` and its JSON `body` as text, empty for none); `Ok(false)`
    /// when the record is gone (it expired while the request ran, and another took the key).
    pub async fn finish(self, ctx: &CallContext, status: u16, body: &str) -> StoreResult<bool> {
        let update = json!({"$set": {
            "state": RecordState::Done.as_str(),
            "responseStatus": status,
            "responseBody": body,
        }});
        let mine = public(json!({"kind": KIND, "state": RecordState::InProgress.as_str()}));
        let patched = self.collection.patch(ctx, &self.id, &mine, &update).await?;
        Ok(patched.is_some())
    }

    /// Deletes the record: the request's answer is not final, a retry with the key runs again.
    pub async fn abandon(self, ctx: &CallContext) -> StoreResult<()> {
        self.collection
            .delete(ctx, &self.id, &public(json!({"kind": KIND})))
            .await
            .map(drop)
    }
}
