//! `JobStore`: job documents on a `Collection` (the CRUD collection at `JOBS_CRUD_ENDPOINT`),
//! and `Lease`: the right to work one job, taken and renewed with compare-and-set PATCHes
//! (`PATCH /jobs/:id?_q={"leaseUntil": <seen>}` to claim, `PATCH /jobs/?_id=…&_q={"leaseOwner":
//! <owner>}` to write, which answers a count rather than the whole document), which the CRUD
//! Service makes atomic.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::{now_iso, now_millis, Job, JobError, JobStatus, Progress};
use crate::context::CallContext;
use crate::failure::{CallName, Cause, Failure};
use crate::store::{Collection, DocState, Filter, FindQuery, StateFilter, StoreError};

/// How many due jobs one look at the store considers.
const CLAIM_CANDIDATES: u32 = 10;

/// The fields of a job document but its `input`, which a bulk job's claim candidates and reports
/// do not need (it may list 100,000 ids).
const ALL_BUT_INPUT: [&str; 7] = [
    "kind",
    "status",
    "jobCreatedAt",
    "result",
    "progress",
    "leaseOwner",
    "leaseUntil",
];

/// Job documents.
#[derive(Clone)]
pub struct JobStore {
    collection: Arc<dyn Collection>,
}

fn public() -> Filter {
    Filter {
        state: Some(StateFilter(vec![DocState::Public])),
        ..Filter::default()
    }
}

fn filter_q(q: Value) -> Filter {
    Filter {
        q: Some(q),
        ..public()
    }
}

fn unreadable(id: &str) -> StoreError {
    StoreError::Failed(Failure::new(
        CallName::new("jobs", "READ", format!("/jobs/{id}")),
        Cause::Failed { status: None },
    ))
}

impl JobStore {
    /// Jobs kept in `collection`.
    pub fn new(collection: Arc<dyn Collection>) -> Self {
        Self { collection }
    }

    /// Creates a pending job of `kind`; returns it as stored.
    pub async fn create(
        &self,
        ctx: &CallContext,
        kind: &str,
        input: Value,
        total: u64,
    ) -> Result<Job, StoreError> {
        let created = now_iso();
        let doc = json!({
            "kind": kind,
            "status": JobStatus::Pending,
            "jobCreatedAt": created,
            "input": input,
            "result": {},
            "progress": Progress { processed: 0, total },
            "leaseOwner": null,
            "leaseUntil": 0,
            "__STATE__": "PUBLIC",
        });
        let id = self.collection.insert(ctx, &doc).await?;
        let mut doc = doc;
        doc["_id"] = Value::String(id.clone());
        serde_json::from_value(doc).map_err(|_| unreadable(&id))
    }

    /// The job `id` of `kind`, if any.
    pub async fn get(&self, ctx: &CallContext, kind: &str, id: &str) -> Result<Option<Job>, StoreError> {
        let Some(doc) = self.collection.get(ctx, id, &public()).await? else {
            return Ok(None);
        };
        // The collection may hold saga and idempotency records too: not jobs.
        if doc.get("kind").and_then(Value::as_str) != Some(kind) {
            return Ok(None);
        }
        let job: Job = serde_json::from_value(doc).map_err(|_| unreadable(id))?;
        Ok((job.kind == kind).then_some(job))
    }

    /// The job `id` of `kind`, if any, without its `input` (a bulk job's input may list 100,000
    /// ids: a report does not need them).
    pub async fn get_without_input(
        &self,
        ctx: &CallContext,
        kind: &str,
        id: &str,
    ) -> Result<Option<Job>, StoreError> {
        let query = FindQuery {
            filter: filter_q(json!({"_id": id, "kind": kind})),
            projection: Some(ALL_BUT_INPUT.map(str::to_owned).to_vec()),
            limit: Some(1),
            ..FindQuery::default()
        };
        let Some(doc) = self.collection.find(ctx, &query).await?.into_iter().next() else {
            return Ok(None);
        };
        let job: Job = serde_json::from_value(doc).map_err(|_| unreadable(id))?;
        Ok((job.kind == kind).then_some(job))
    }

    /// The jobs collection, for the documents a job kind keeps beside its jobs.
    pub fn collection(&self) -> &Arc<dyn Collection> {
        &self.collection
    }

    /// Whether a job of `kind` was created at or after `since` (epoch ms).
    pub async fn created_since(&self, ctx: &CallContext, kind: &str, since: i64) -> Result<bool, StoreError> {
        let since = super::iso_of_millis(since);
        let filter = filter_q(json!({"kind": kind, "jobCreatedAt": {"$gte": since}}));
        Ok(self.collection.count(ctx, &filter, false).await? > 0)
    }

    /// Claims one due job (pending or running, lease expired) for `owner`, or `None`.
    pub async fn claim(
        &self,
        ctx: &CallContext,
        owner: &str,
        ttl: Duration,
        kinds: &[&str],
    ) -> Result<Option<(Job, Lease)>, StoreError> {
        let now = now_millis();
        let query = FindQuery {
            filter: filter_q(json!({
                "kind": {"$in": kinds},
                "status": {"$in": ["pending", "running"]},
                "leaseUntil": {"$lt": now},
            })),
            // The claim's own answer brings the input of the one job taken.
            projection: Some(ALL_BUT_INPUT.map(str::to_owned).to_vec()),
            sort: Some("jobCreatedAt".into()),
            limit: Some(CLAIM_CANDIDATES),
            ..FindQuery::default()
        };
        for candidate in self.collection.find(ctx, &query).await? {
            let Ok(job) = serde_json::from_value::<Job>(candidate) else {
                continue;
            };
            let seen = filter_q(json!({"leaseUntil": job.lease_until}));
            let take = json!({"$set": {
                "leaseOwner": owner,
                "leaseUntil": now + ttl.as_millis() as i64,
                "status": JobStatus::Running,
            }});
            if let Some(doc) = self.collection.patch(ctx, &job.id, &seen, &take).await? {
                let job: Job = serde_json::from_value(doc).map_err(|_| unreadable(&job.id))?;
                let lease = Lease {
                    collection: self.collection.clone(),
                    id: job.id.clone(),
                    owner: owner.to_owned(),
                    ttl,
                };
                return Ok(Some((job, lease)));
            }
        }
        Ok(None)
    }
}

/// The right to work one job until `leaseUntil`; every write goes through it and checks it.
pub struct Lease {
    collection: Arc<dyn Collection>,
    id: String,
    owner: String,
    ttl: Duration,
}

impl Lease {
    /// The job id.
    pub fn job_id(&self) -> &str {
        &self.id
    }

    /// The replica holding the lease (`leaseOwner`).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The jobs collection, for the documents a job kind keeps beside the job.
    pub fn collection(&self) -> &Arc<dyn Collection> {
        &self.collection
    }

    fn mine(&self) -> Filter {
        Filter {
            id: Some(self.id.clone()),
            ..filter_q(json!({"leaseOwner": self.owner}))
        }
    }

    /// Sets `set` on the job if this lease still holds it (a count comes back, not the
    /// document, whose `input` may be large).
    async fn write(&self, ctx: &CallContext, set: Map<String, Value>) -> Result<(), JobError> {
        let update = json!({ "$set": set });
        match self.collection.patch_many(ctx, &self.mine(), &update).await? {
            0 => Err(JobError::LeaseLost(self.id.clone())),
            _ => Ok(()),
        }
    }

    /// Saves `result` and `progress` and renews the lease; `LeaseLost` if another replica
    /// took the job (the caller must stop without further writes).
    pub async fn checkpoint(
        &self,
        ctx: &CallContext,
        result: &Value,
        progress: Progress,
    ) -> Result<(), JobError> {
        let mut set = Map::new();
        set.insert("result".into(), result.clone());
        set.insert("progress".into(), json!(progress));
        set.insert(
            "leaseUntil".into(),
            json!(now_millis() + self.ttl.as_millis() as i64),
        );
        self.write(ctx, set).await
    }

    /// Renews the lease only.
    pub async fn renew(&self, ctx: &CallContext) -> Result<(), JobError> {
        let mut set = Map::new();
        set.insert(
            "leaseUntil".into(),
            json!(now_millis() + self.ttl.as_millis() as i64),
        );
        self.write(ctx, set).await
    }

    /// Ends the job with `status`, its final `result` and `progress`, and frees the lease.
    pub async fn finish(
        self,
        ctx: &CallContext,
        status: JobStatus,
        result: &Value,
        progress: Progress,
    ) -> Result<(), JobError> {
        let mut set = Map::new();
        set.insert("status".into(), json!(status));
        set.insert("result".into(), result.clone());
        set.insert("progress".into(), json!(progress));
        set.insert("leaseOwner".into(), Value::Null);
        set.insert("leaseUntil".into(), json!(0));
        self.write(ctx, set).await
    }

    /// Frees the lease without finishing (shutdown): another replica resumes at once.
    pub async fn release(self, ctx: &CallContext) -> Result<(), JobError> {
        let mut set = Map::new();
        set.insert("leaseOwner".into(), Value::Null);
        set.insert("leaseUntil".into(), json!(0));
        self.write(ctx, set).await
    }
}
