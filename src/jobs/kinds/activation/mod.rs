//! The `bulk-activation` job kind: creates auth-provider users for existing store users through
//! the provider's bulk import, then links each store user to its auth user (`authUserId`).
//!
//! A run plans the import files (users read in pages, records packed by serialized bytes under
//! [`MAX_IMPORT_FILE_BYTES`]), starts at most two provider jobs at a time, polls them every
//! `AUTH0_JOB_POLLING_INTERVAL` (an interval or a cron expression) and settles each completed file. Everything it knows is in the
//! job's `result`, checkpointed after every step, so another replica resumes where it stopped.

mod bulk_import;
mod plan;
pub mod records;
pub mod state;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use state::{ActivationInput, ActivationReport, ActivationResult, FileState, UserFailure};

use crate::auth::AuthProvider;
use crate::clock::SystemClock;
use crate::config::PollSchedule;
use crate::context::CallContext;
use crate::jobs::runner::Outcome;
use crate::jobs::{Job, JobError, JobHandler, JobStatus, Lease, Progress};
use crate::store::Collection;

/// The job kind.
pub const KIND: &str = "bulk-activation";

/// The largest import file, in bytes (Auth0 accepts files up to 500 KB).
pub const MAX_IMPORT_FILE_BYTES: usize = 500_000;

/// The most users one job takes.
pub const MAX_USERS: usize = 100_000;

/// Provider import jobs one run keeps active at once (Auth0 allows 2 per tenant).
const MAX_ACTIVE_IMPORTS: usize = 2;

/// The longest wait before the first poll of a file just started: a small import is done in
/// seconds, and the polling interval (2 minutes by default) would keep it waiting.
const FIRST_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// Store page size (reads and bulk patches).
const PAGE_SIZE: usize = 200;

/// The handler of this kind: it reads and links users in `users`, imports them into `auth`, and
/// polls the provider's import jobs as `poll` says (`AUTH0_JOB_POLLING_INTERVAL`).
pub fn handler(
    users: Arc<dyn Collection>,
    auth: Arc<dyn AuthProvider>,
    poll: PollSchedule,
) -> Arc<dyn JobHandler> {
    Arc::new(ActivationHandler { users, auth, poll })
}

/// The dependencies of every run.
pub(crate) struct ActivationHandler {
    users: Arc<dyn Collection>,
    auth: Arc<dyn AuthProvider>,
    poll: PollSchedule,
}

#[async_trait]
impl JobHandler for ActivationHandler {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(
        &self,
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
        let mut run = Run::new(self, ctx, lease, stop, input, result);
        run.plan().await?;
        run.import().await?;
        Ok(run.outcome())
    }
}

/// One run of one job: its dependencies and the state it checkpoints.
pub(crate) struct Run<'a> {
    deps: &'a ActivationHandler,
    ctx: &'a CallContext,
    lease: &'a Lease,
    stop: &'a CancellationToken,
    input: ActivationInput,
    result: ActivationResult,
    limit: usize,
}

impl<'a> Run<'a> {
    fn new(
        deps: &'a ActivationHandler,
        ctx: &'a CallContext,
        lease: &'a Lease,
        stop: &'a CancellationToken,
        input: ActivationInput,
        result: ActivationResult,
    ) -> Self {
        Self {
            deps,
            ctx,
            lease,
            stop,
            input,
            result,
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

    /// Waits until the next poll (one interval, or the cron expression's next occurrence; at
    /// most [`FIRST_POLL`] right after a file was started), or stops.
    async fn pause(&self, just_started: bool) -> Result<(), JobError> {
        let scheduled = self.deps.poll.next_delay(&SystemClock);
        let delay = match just_started {
            true => scheduled.min(FIRST_POLL),
            false => scheduled,
        };
        tokio::select! {
            () = self.stop.cancelled() => Err(JobError::ShuttingDown),
            () = tokio::time::sleep(delay) => Ok(()),
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
