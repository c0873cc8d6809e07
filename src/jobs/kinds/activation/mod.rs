//! The `bulk-activation` job kind: creates auth-provider users for existing store users through
//! the provider's bulk import, then links each store user to its auth user (`authUserId`).
//!
//! A run plans the import files (users read in pages, records packed by serialized bytes under
//! [`MAX_IMPORT_FILE_BYTES`]) and saves the plan at once: one document per file in the jobs
//! collection (`files`), then the job's small `result` names the plan. It then starts at most
//! two provider jobs at a time, polls them every `AUTH0_JOB_POLLING_INTERVAL` (an interval or a
//! cron expression) and settles each completed file. Each step writes the file it changed; the
//! job document (counters, settled files) is written when they change, at most once a second
//! or before a longer wait. Another replica resumes from the file documents where the run stopped.

mod bulk_import;
pub mod files;
mod plan;
pub mod records;
pub mod report;
mod start;
pub mod state;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use report::{read_report, ActivationReport, ActivationSummary};
pub use start::{start, start_for};
pub use state::{ActivationInput, FileState, ImportFile, JobSummary, UserFailure};

use crate::auth::AuthProvider;
use crate::clock::SystemClock;
use crate::config::PollSchedule;
use crate::context::CallContext;
use crate::jobs::runner::Outcome;
use crate::jobs::{Job, JobError, JobHandler, JobStatus, Lease, Progress};
use crate::store::Collection;
use files::FileDocs;
use state::{Phase, Stored};

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
const FIRST_POLL: Duration = Duration::from_secs(2);

/// Store page size (reads and bulk patches).
const PAGE_SIZE: usize = 200;

/// The shortest time between two writes of the job document while files are being worked (it
/// holds the input, which a store rewrites whole): its counters lag about that much at most,
/// and are written before any longer wait for the provider.
const SUMMARY_EVERY: Duration = Duration::from_secs(1);

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
        let docs = FileDocs::new(lease.collection().clone(), &job.id, lease.owner());
        let mut run = Run::new(self, ctx, lease, stop, input, docs);
        run.resume(Stored::of(job.result)).await?;
        run.plan().await?;
        run.import().await?;
        if let Some(plan) = &run.summary.plan_id {
            if let Err(e) = run.docs.delete_others(ctx, plan).await {
                tracing::warn!(job.id = %job.id, error.message = %e, "file documents of an abandoned plan left");
            }
        }
        Ok(run.outcome())
    }
}

/// One run of one job: its dependencies, its files and the summary it last wrote.
pub(crate) struct Run<'a> {
    deps: &'a ActivationHandler,
    ctx: &'a CallContext,
    lease: &'a Lease,
    stop: &'a CancellationToken,
    input: ActivationInput,
    /// The job's `result` as last written, and when.
    summary: JobSummary,
    reported: Option<Instant>,
    files: Vec<ImportFile>,
    docs: FileDocs,
    limit: usize,
}

impl<'a> Run<'a> {
    fn new(
        deps: &'a ActivationHandler,
        ctx: &'a CallContext,
        lease: &'a Lease,
        stop: &'a CancellationToken,
        input: ActivationInput,
        docs: FileDocs,
    ) -> Self {
        Self {
            deps,
            ctx,
            lease,
            stop,
            input,
            summary: JobSummary::default(),
            reported: None,
            files: Vec::new(),
            docs,
            limit: MAX_IMPORT_FILE_BYTES,
        }
    }

    fn progress(&self, summary: &JobSummary) -> Progress {
        Progress {
            processed: summary.activated + summary.failed,
            total: self.input.user_ids.len() as u64,
        }
    }

    /// Saves file `index` (the fields that changed), then the job's summary if it is due.
    async fn save(&mut self, index: usize) -> Result<(), JobError> {
        self.docs.save(self.ctx, index, &self.files[index]).await?;
        self.report(false).await
    }

    /// Writes the job's summary if what it shows changed (a file settled, counters moved) and,
    /// unless `now`, [`SUMMARY_EVERY`] has passed since it was last written.
    async fn report(&mut self, now: bool) -> Result<(), JobError> {
        let summary = self.summary.of(&self.files);
        let due = now || self.reported.is_none_or(|at| at.elapsed() >= SUMMARY_EVERY);
        if due && summary.differs_from(&self.summary) {
            self.checkpoint(summary).await?;
        }
        Ok(())
    }

    /// Writes `summary` as the job's result, with the progress it gives (and renews the lease).
    async fn checkpoint(&mut self, summary: JobSummary) -> Result<(), JobError> {
        let result = serde_json::to_value(&summary).unwrap_or(Value::Null);
        self.lease
            .checkpoint(self.ctx, &result, self.progress(&summary))
            .await?;
        self.summary = summary;
        self.reported = Some(Instant::now());
        Ok(())
    }

    /// `ShuttingDown` once `stop` is cancelled.
    fn check_stop(&self) -> Result<(), JobError> {
        if self.stop.is_cancelled() {
            return Err(JobError::ShuttingDown);
        }
        Ok(())
    }

    /// The wait until the next poll: one interval, or the cron expression's next occurrence; at
    /// most [`FIRST_POLL`] right after a file was started.
    fn next_poll(&self, just_started: bool) -> Duration {
        let scheduled = self.deps.poll.next_delay(&SystemClock);
        match just_started {
            true => scheduled.min(FIRST_POLL),
            false => scheduled,
        }
    }

    /// Waits `delay` (the job's summary written first when it lags and the wait is long), or stops.
    async fn pause(&mut self, delay: Duration) -> Result<(), JobError> {
        self.report(delay >= SUMMARY_EVERY).await?;
        tokio::select! {
            () = self.stop.cancelled() => Err(JobError::ShuttingDown),
            () = tokio::time::sleep(delay) => Ok(()),
        }
    }

    /// Completed, unless the provider refused files and started none.
    fn outcome(self) -> Outcome {
        let files = &self.files;
        let refused =
            files.iter().any(|f| f.state == FileState::Rejected) && files.iter().all(|f| f.starts == 0);
        let status = if refused {
            JobStatus::Failed
        } else {
            JobStatus::Completed
        };
        let summary = JobSummary {
            phase: Phase::Done,
            ..self.summary.of(files)
        };
        let progress = self.progress(&summary);
        let result = serde_json::to_value(&summary).unwrap_or(Value::Null);
        (status, result, progress)
    }
}

#[cfg(test)]
mod tests;
