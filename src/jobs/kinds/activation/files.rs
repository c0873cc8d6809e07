//! The import files of a bulk-activation job as documents of their own in the jobs collection:
//! `kind: "bulk-activation-file"`, keyed by `jobId`, `planId` and `index`, holding the file's
//! users, state, provider job, counters and failures (and `failed`, their count). The whole plan
//! is inserted at once when it is saved; then a step writes the one file it changed, and only
//! the fields that changed, with `PATCH /?_id=…&_q={"leaseOwner": …}`: a resumed run first makes
//! the documents its own, so a replica that lost the job cannot write them any more.

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::state::{ImportFile, UserFailure};
use crate::context::CallContext;
use crate::failure::{CallName, Cause, Failure};
use crate::jobs::JobError;
use crate::store::{Collection, DocState, Filter, FindQuery, StateFilter, StoreError};

/// The `kind` of a file document.
pub const FILE_KIND: &str = "bulk-activation-file";

/// File documents one read or one insert carries (each up to about a megabyte).
const PAGE: usize = 16;

/// About the most bytes one insert of file documents carries (estimated from their ids and failures).
const INSERT_BYTES: usize = 1 << 20;

/// The fields of a file, as its document holds them, with a fingerprint each.
pub type Fingerprints = BTreeMap<String, u64>;

/// The file documents of one job, as this run wrote or read them.
pub(super) struct FileDocs {
    collection: Arc<dyn Collection>,
    job_id: String,
    owner: String,
    /// Per file index: the document `_id` and the fingerprints of its fields as last written.
    saved: Vec<(String, Fingerprints)>,
}

fn public_q(q: Value) -> Filter {
    Filter {
        q: Some(q),
        state: Some(StateFilter(vec![DocState::Public])),
        ..Filter::default()
    }
}

fn unreadable(job_id: &str, why: &str) -> StoreError {
    tracing::warn!(job.id = %job_id, "bulk-activation file documents: {why}");
    StoreError::Failed(Failure::new(
        CallName::new("jobs", "READ", format!("/jobs (files of {job_id})")),
        Cause::Failed { status: None },
    ))
}

/// The fields a file document stores for `file`: the file and `failed`, its failures' count.
pub fn fields(file: &ImportFile) -> Map<String, Value> {
    let mut fields = match serde_json::to_value(file) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    fields.insert("failed".into(), json!(file.failures.len()));
    fields
}

/// A fingerprint of one field's value (its JSON text hashed).
pub fn fingerprint(value: &Value) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.to_string().hash(&mut hasher);
    hasher.finish()
}

fn fingerprints(fields: &Map<String, Value>) -> Fingerprints {
    fields
        .iter()
        .map(|(key, value)| (key.clone(), fingerprint(value)))
        .collect()
}

/// The entries of `fields` that differ from the `saved` fingerprints (all of them when none was saved).
pub fn changed(saved: &Fingerprints, fields: &Map<String, Value>) -> Map<String, Value> {
    fields
        .iter()
        .filter(|(key, value)| saved.get(*key) != Some(&fingerprint(value)))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

impl FileDocs {
    /// The file documents of job `job_id` in the jobs `collection`, written as `owner`.
    pub fn new(collection: Arc<dyn Collection>, job_id: &str, owner: &str) -> Self {
        Self {
            collection,
            job_id: job_id.to_owned(),
            owner: owner.to_owned(),
            saved: Vec::new(),
        }
    }

    fn of_plan(&self, plan_id: &str) -> Value {
        json!({"kind": FILE_KIND, "jobId": self.job_id, "planId": plan_id})
    }

    /// Inserts one document per file of plan `plan_id`, owned by this run.
    pub async fn insert_plan(
        &mut self,
        ctx: &CallContext,
        plan_id: &str,
        files: &[ImportFile],
    ) -> Result<(), JobError> {
        self.saved.clear();
        let (mut docs, mut written, mut bytes) = (Vec::new(), Vec::new(), 0);
        for (index, file) in files.iter().enumerate() {
            let fields = fields(file);
            let prints = fingerprints(&fields);
            let mut doc = fields;
            doc.insert("kind".into(), json!(FILE_KIND));
            doc.insert("jobId".into(), json!(self.job_id));
            doc.insert("planId".into(), json!(plan_id));
            doc.insert("index".into(), json!(index));
            doc.insert("leaseOwner".into(), json!(self.owner));
            doc.insert("__STATE__".into(), json!("PUBLIC"));
            bytes += file.user_ids.iter().map(|id| id.len() + 3).sum::<usize>() + file.failures.len() * 128;
            docs.push(Value::Object(doc));
            written.push(prints);
            if docs.len() == PAGE || bytes >= INSERT_BYTES || index + 1 == files.len() {
                let ids = self.collection.insert_many(ctx, &docs).await?;
                if ids.len() != docs.len() {
                    return Err(unreadable(&self.job_id, "the store did not insert every file").into());
                }
                self.saved.extend(ids.into_iter().zip(written.drain(..)));
                (docs, bytes) = (Vec::new(), 0);
            }
        }
        Ok(())
    }

    /// Makes the `count` file documents of plan `plan_id` this run's own and reads them, in order.
    pub async fn resume(
        &mut self,
        ctx: &CallContext,
        plan_id: &str,
        count: usize,
    ) -> Result<Vec<ImportFile>, JobError> {
        let of_plan = public_q(self.of_plan(plan_id));
        let own = json!({"$set": {"leaseOwner": self.owner}});
        self.collection.patch_many(ctx, &of_plan, &own).await?;
        self.saved.clear();
        let mut files = Vec::with_capacity(count);
        loop {
            let query = FindQuery {
                filter: of_plan.clone(),
                sort: Some("index".into()),
                limit: Some(PAGE as u32),
                skip: Some(files.len() as u64),
                ..FindQuery::default()
            };
            let docs = self.collection.find(ctx, &query).await?;
            let last = docs.len() < PAGE;
            for doc in docs {
                let index = doc.get("index").and_then(Value::as_u64);
                let id = doc.get("_id").and_then(Value::as_str).map(str::to_owned);
                let (Some(index), Some(id)) = (index, id) else {
                    return Err(unreadable(&self.job_id, "a file without index or _id").into());
                };
                let file: ImportFile = serde_json::from_value(doc)
                    .map_err(|_| unreadable(&self.job_id, "a file that cannot be read"))?;
                if index as usize != files.len() {
                    return Err(unreadable(&self.job_id, "the file indexes are not 0, 1, 2, ...").into());
                }
                self.saved.push((id, fingerprints(&fields(&file))));
                files.push(file);
            }
            if last {
                break;
            }
        }
        if files.len() != count {
            return Err(unreadable(&self.job_id, "fewer or more files than the job counts").into());
        }
        Ok(files)
    }

    /// Writes the fields of file `index` that changed since it was last written; `LeaseLost` when
    /// another run made the document its own.
    pub async fn save(&mut self, ctx: &CallContext, index: usize, file: &ImportFile) -> Result<(), JobError> {
        let Some((id, saved)) = self.saved.get_mut(index) else {
            return Err(unreadable(&self.job_id, "a file that was never saved").into());
        };
        let fields = fields(file);
        let set = changed(saved, &fields);
        if set.is_empty() {
            return Ok(());
        }
        let filter = Filter {
            id: Some(id.clone()),
            ..public_q(json!({"leaseOwner": self.owner}))
        };
        match self
            .collection
            .patch_many(ctx, &filter, &json!({ "$set": set }))
            .await?
        {
            0 => Err(JobError::LeaseLost(self.job_id.clone())),
            _ => {
                *saved = fingerprints(&fields);
                Ok(())
            }
        }
    }

    /// Deletes the documents of plans other than `plan_id` (left by runs interrupted before their
    /// plan was saved).
    pub async fn delete_others(&self, ctx: &CallContext, plan_id: &str) -> Result<u64, StoreError> {
        let q = json!({"kind": FILE_KIND, "jobId": self.job_id, "planId": {"$ne": plan_id}});
        self.collection.delete_many(ctx, &public_q(q)).await
    }
}

/// The failures of the file documents of plan `plan_id` of job `job_id`, file by file.
pub async fn failures(
    jobs: &dyn Collection,
    ctx: &CallContext,
    job_id: &str,
    plan_id: &str,
) -> Result<Vec<UserFailure>, StoreError> {
    let q = json!({"kind": FILE_KIND, "jobId": job_id, "planId": plan_id, "failed": {"$gt": 0}});
    let mut failures = Vec::new();
    let mut skip = 0;
    loop {
        let query = FindQuery {
            filter: public_q(q.clone()),
            projection: Some(vec!["index".into(), "failures".into()]),
            sort: Some("index".into()),
            limit: Some(PAGE as u32),
            skip: Some(skip),
            ..FindQuery::default()
        };
        let docs = jobs.find(ctx, &query).await?;
        skip += docs.len() as u64;
        let last = docs.len() < PAGE;
        for mut doc in docs {
            let listed = doc.get_mut("failures").map(Value::take).unwrap_or_default();
            let listed: Vec<UserFailure> = serde_json::from_value(listed)
                .map_err(|_| unreadable(job_id, "failures that cannot be read"))?;
            failures.extend(listed);
        }
        if last {
            return Ok(failures);
        }
    }
}
