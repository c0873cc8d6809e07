//! The `bulk-activation` job kind: creates auth-provider users for existing store users through
//! the provider's bulk import, then links each store user to its auth user (`authUserId`).
//!
//! A run plans the import files (users read in pages, records packed by serialized bytes under
//! [`MAX_IMPORT_FILE_BYTES`]), starts at most two provider jobs at a time, polls them every
//! `AUTH0_JOB_POLLING_INTERVAL` and settles each completed file. Everything it knows is in the
//! job's `result`, checkpointed after every step, so another replica resumes where it stopped.

mod import;
mod plan;
pub mod records;
pub mod state;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

pub use state::{ActivationInput, ActivationReport, ActivationResult, FileState, UserFailure};

use crate::context::CallContext;
use crate::downstream::DownstreamError;
use crate::jobs::runner::Outcome;
use crate::jobs::{Job, JobError, JobHandler, JobStatus, JobStore, Lease, Progress};
use crate::state::AppState;
use crate::store::Collection;

/// The job kind.
pub const KIND: &str = "bulk-activation";

/// The largest import file, in bytes (Auth0 accepts files up to 500 KB).
pub const MAX_IMPORT_FILE_BYTES: usize = 500_000;

/// The most users one job takes.
pub const MAX_USERS: usize = 100_000;

/// Provider import jobs one run keeps active at once (Auth0 allows 2 per tenant).
const MAX_ACTIVE_IMPORTS: usize = 2;

/// Store page size (reads and bulk patches).
const PAGE_SIZE: usize = 200;

/// The handler of this kind.
pub fn handler() -> Option<Arc<dyn JobHandler>> {
    Some(Arc::new(ActivationHandler))
}

/// Creates a pending activation job of `user_ids` in `jobs` (the caller wakes the runner).
pub async fn create(
    jobs: Arc<dyn Collection>,
    ctx: &CallContext,
    user_ids: Vec<String>,
    upsert: bool,
) -> Result<Job, DownstreamError> {
    let total = user_ids.len() as u64;
    let input = json!(ActivationInput { user_ids, upsert });
    JobStore::new(jobs).create(ctx, KIND, input, total).await
}

struct ActivationHandler;

#[async_trait]
impl JobHandler for ActivationHandler {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(
        &self,
        state: &AppState,
        ctx: &CallContext,
        job: Job,
        lease: &Lease,
        stop: &CancellationToken,
    ) -> Result<Outcome, JobError> {
        let Ok(input) = serde_json::from_value::<ActivationInput>(job.input) else {
            tracing::warn!(job.id = %job.id, "bulk-activation job with an unreadable input");
            return Ok((JobStatus::Failed, job.result, job.progress));
        };
        let result = serde_json::from_value(job.result).unwrap_or_default();
        let poll = state.config.bulk.job_polling_interval;
        let mut run = Run::new(state, ctx, lease, stop, input, result, poll);
        run.plan().await?;
        run.import().await?;
        Ok(run.outcome())
    }
}

/// One run of one job: its dependencies and the state it checkpoints.
pub(crate) struct Run<'a> {
    state: &'a AppState,
    ctx: &'a CallContext,
    lease: &'a Lease,
    stop: &'a CancellationToken,
    input: ActivationInput,
    result: ActivationResult,
    poll: Duration,
    limit: usize,
}

impl<'a> Run<'a> {
    fn new(
        state: &'a AppState,
        ctx: &'a CallContext,
        lease: &'a Lease,
        stop: &'a CancellationToken,
        input: ActivationInput,
        result: ActivationResult,
        poll: Duration,
    ) -> Self {
        Self {
            state,
            ctx,
            lease,
            stop,
            input,
            result,
            poll,
            limit: MAX_IMPORT_FILE_BYTES,
        }
    }

    fn progress(&self) -> Progress {
        Progress {
            processed: self.result.activated + self.result.failures.len() as u64,
            total: self.input.user_ids.len() as u64,
        }
    }

    /// Saves the result and progress (and renews the lease).
    async fn checkpoint(&self) -> Result<(), JobError> {
        let result = serde_json::to_value(&self.result).unwrap_or(Value::Null);
        self.lease.checkpoint(self.ctx, &result, self.progress()).await
    }

    /// `ShuttingDown` once `stop` is cancelled.
    fn check_stop(&self) -> Result<(), JobError> {
        if self.stop.is_cancelled() {
            return Err(JobError::ShuttingDown);
        }
        Ok(())
    }

    /// Waits one polling interval, or stops.
    async fn pause(&self) -> Result<(), JobError> {
        tokio::select! {
            () = self.stop.cancelled() => Err(JobError::ShuttingDown),
            () = tokio::time::sleep(self.poll) => Ok(()),
        }
    }

    /// Completed, unless the provider refused files and started none.
    fn outcome(self) -> Outcome {
        let files = &self.result.files;
        let started =
            |s: FileState| matches!(s, FileState::Started | FileState::Completed | FileState::Failed);
        let refused =
            files.iter().any(|f| f.state == FileState::Rejected) && !files.iter().any(|f| started(f.state));
        let status = if refused {
            JobStatus::Failed
        } else {
            JobStatus::Completed
        };
        let progress = self.progress();
        let result = serde_json::to_value(&self.result).unwrap_or(Value::Null);
        (status, result, progress)
    }
}

#[cfg(test)]
mod tests;
