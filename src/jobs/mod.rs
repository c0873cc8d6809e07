//! Bulk jobs that survive restarts: job documents on a `Collection`, leases taken by
//! compare-and-set so exactly one replica works a job at a time, and the runner that claims due
//! jobs and hands them to their kind's handler.

pub mod kinds;
pub mod pacer;
pub mod runner;
pub mod store;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::CallContext;

pub use runner::{JobHandler, JobRunner};
pub use store::{JobStore, Lease};

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Created, not yet claimed.
    Pending,
    /// A replica works it (or worked it until its lease expired: another one resumes it).
    Running,
    /// Done; its result is final.
    Completed,
    /// Could not be done as a whole (e.g. its input vanished).
    Failed,
}

impl JobStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }
}

/// `processed` / `total` of a running job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Progress {
    /// Items done (succeeded or failed).
    pub processed: u64,
    /// All items.
    pub total: u64,
}

/// A job document as stored: `kind`, `status`, `jobCreatedAt`, `input` and `result` (shapes owned
/// by the kind), `progress`, and the lease (`leaseOwner`, `leaseUntil` in epoch milliseconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// Store id: the `jobId` of the API.
    #[serde(rename = "_id")]
    pub id: String,
    /// Which handler works it (`change-password`, `bulk-activation`).
    pub kind: String,
    /// Where it is.
    pub status: JobStatus,
    /// ISO-8601 creation time.
    pub job_created_at: String,
    /// The request, as the kind stored it.
    #[serde(default)]
    pub input: Value,
    /// What is done so far (resumable), as the kind stores it.
    #[serde(default)]
    pub result: Value,
    /// Items processed / total.
    #[serde(default)]
    pub progress: Progress,
    /// The replica holding the lease, if any.
    #[serde(default)]
    pub lease_owner: Option<String>,
    /// Lease expiry, epoch milliseconds (0: free).
    #[serde(default)]
    pub lease_until: i64,
}

/// Bulk jobs of this replica: the jobs collection and the runner that works them.
#[derive(Clone)]
pub struct Jobs {
    /// The jobs collection.
    pub store: JobStore,
    /// This replica's runner (woken when a job is created here).
    pub runner: JobRunner,
}

impl Jobs {
    /// Creates a pending job of `kind` over `total` items and wakes this replica's runner.
    pub async fn start(
        &self,
        ctx: &CallContext,
        kind: &str,
        input: Value,
        total: u64,
    ) -> Result<Job, JobError> {
        let job = self.store.create(ctx, kind, input, total).await?;
        self.runner.wake();
        Ok(job)
    }

    /// The job `id` of `kind`, or `NotFound`.
    pub async fn get(&self, ctx: &CallContext, kind: &str, id: &str) -> Result<Job, JobError> {
        let job = self.store.get(ctx, kind, id).await?;
        job.ok_or_else(|| JobError::NotFound(format!("job \"{id}\" not found")))
    }

    /// The job `id` of `kind` without its `input`, or `NotFound`.
    pub async fn get_without_input(&self, ctx: &CallContext, kind: &str, id: &str) -> Result<Job, JobError> {
        let job = self.store.get_without_input(ctx, kind, id).await?;
        job.ok_or_else(|| JobError::NotFound(format!("job \"{id}\" not found")))
    }
}

/// How a request names the ids a job works on, for its messages.
#[derive(Clone, Copy, Debug)]
pub struct IdList {
    /// The list: `authUsersIds`.
    pub name: &'static str,
    /// The id at an index: `authUsersIds/3`.
    pub item: fn(usize) -> String,
    /// The most ids one job takes.
    pub max: usize,
}

/// The ids a job works on: at least one, at most `list.max`, none blank; duplicates dropped,
/// keeping the first.
pub fn distinct_ids(ids: Vec<String>, list: &IdList) -> Result<Vec<String>, JobError> {
    let IdList { name, item, max } = *list;
    if ids.is_empty() {
        return Err(JobError::Invalid(format!("{name} must list at least one user")));
    }
    if ids.len() > max {
        let n = ids.len();
        return Err(JobError::Invalid(format!("{name} has {n} ids: at most {max}")));
    }
    if let Some(i) = ids.iter().position(|id| id.trim().is_empty()) {
        return Err(JobError::Invalid(format!("{} must not be empty", item(i))));
    }
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    Ok(ids.into_iter().filter(|id| seen.insert(id.clone())).collect())
}

/// Why a job request failed or a job run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The request is invalid; the message says what to fix.
    #[error("{0}")]
    Invalid(String),
    /// No job of this kind has this id.
    #[error("{0}")]
    NotFound(String),
    /// Another replica holds the job now: stop without writing.
    #[error("the lease of job {0} was lost")]
    LeaseLost(String),
    /// The service is shutting down: the lease is released, another replica resumes.
    #[error("shutting down")]
    ShuttingDown,
    /// A store call failed: the job stays running and is retried when its lease expires.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Milliseconds since the epoch, now.
pub fn now_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Now as ISO-8601 UTC with milliseconds.
pub fn now_iso() -> String {
    iso_of_millis(now_millis())
}

/// `millis` since the epoch as ISO-8601 UTC with milliseconds (as `jobCreatedAt` is written).
pub fn iso_of_millis(millis: i64) -> String {
    let nanos = i128::from(millis) * 1_000_000;
    let at =
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    at.format(&format).unwrap_or_default()
}
