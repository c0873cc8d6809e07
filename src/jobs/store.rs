//! `JobStore`: job documents on a `Collection` (the CRUD collection at `JOBS_CRUD_ENDPOINT`),
//! and `Lease`: the right to work one job, taken and renewed with compare-and-set PATCHes
//! (`PATCH /jobs/:id?_q={"leaseUntil": <seen>}`), which the CRUD Service makes atomic.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::{now_iso, now_millis, Job, JobError, JobStatus, Progress};
use crate::context::CallContext;
use crate::failure::{CallName, Cause, Failure};
use crate::store::{Collection, DocState, Filter, FindQuery, StateFilter, StoreError};

/// How many due jobs one look at the store considers.
const CLAIM_CANDIDATES: u32 = 10;

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

    fn mine(&self) -> Filter {
        filter_q(json!({"leaseOwner": self.owner}))
    }

    async fn write(&self, ctx: &CallContext, set: Map<String, Value>) -> Result<Job, JobError> {
        let update = json!({ "$set": set });
        match self
            .collection
            .patch(ctx, &self.id, &self.mine(), &update)
            .await?
        {
            Some(doc) => serde_json::from_value(doc).map_err(|_| JobError::Store(unreadable(&self.id))),
            None => Err(JobError::LeaseLost(self.id.clone())),
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
        self.write(ctx, set).await.map(drop)
    }

    /// Renews the lease only.
    pub async fn renew(&self, ctx: &CallContext) -> Result<(), JobError> {
        let mut set = Map::new();
        set.insert(
            "leaseUntil".into(),
            json!(now_millis() + self.ttl.as_millis() as i64),
        );
        self.write(ctx, set).await.map(drop)
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
        self.write(ctx, set).await.map(drop)
    }

    /// Frees the lease without finishing (shutdown): another replica resumes at once.
    pub async fn release(self, ctx: &CallContext) -> Result<(), JobError> {
        let mut set = Map::new();
        set.insert("leaseOwner".into(), Value::Null);
        set.insert("leaseUntil".into(), json!(0));
        self.write(ctx, set).await.map(drop)
    }
}
