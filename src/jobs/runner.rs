//! `JobRunner`: in every replica, claims due jobs (woken at once when this replica creates one,
//! else every `JOBS_POLL_INTERVAL_MS`), runs each on its own task with its kind's handler, keeps
//! the lease renewed while it works, and on shutdown stops claiming and releases held leases.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use super::{Job, JobError, JobStatus, JobStore, Lease, Progress};
use crate::context::CallContext;
use crate::store::StoreError;

/// Jobs one replica works at the same time.
const MAX_CONCURRENT_JOBS: usize = 4;

/// What a finished run leaves: final status, result and progress.
pub type Outcome = (JobStatus, Value, Progress);

/// The work of one job kind.
#[async_trait]
pub trait JobHandler: Send + Sync {
    /// The `kind` of the jobs it works.
    fn kind(&self) -> &'static str;

    /// Works `job` from its saved `result` (a resumed job continues where it stopped), saving
    /// progress with `lease.checkpoint`. Stops with `JobError::ShuttingDown` when `stop` is
    /// cancelled (shutdown, or the lease was lost).
    async fn run(
        &self,
        ctx: &CallContext,
        job: Job,
        lease: &Lease,
        stop: &CancellationToken,
    ) -> Result<Outcome, JobError>;
}

/// Claims and works jobs for one replica.
#[derive(Clone)]
pub struct JobRunner {
    store: JobStore,
    handlers: Arc<Vec<Arc<dyn JobHandler>>>,
    owner: String,
    lease: Duration,
    poll: Duration,
    wake: Arc<Notify>,
    slots: Arc<Semaphore>,
}

impl JobRunner {
    /// A runner for `handlers`, identified by a fresh replica id.
    pub fn new(store: JobStore, handlers: Vec<Arc<dyn JobHandler>>, lease: Duration, poll: Duration) -> Self {
        Self {
            store,
            handlers: Arc::new(handlers),
            owner: format!("ums-{}", uuid::Uuid::new_v4()),
            lease,
            poll,
            wake: Arc::new(Notify::new()),
            slots: Arc::new(Semaphore::new(MAX_CONCURRENT_JOBS)),
        }
    }

    /// Wakes the loop now (a job was just created by this replica).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// This replica's lease owner id.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Claims at most one due job and starts it on its own task; true if one was claimed.
    pub async fn run_once(&self, shutdown: &CancellationToken) -> Result<bool, StoreError> {
        let Ok(permit) = self.slots.clone().try_acquire_owned() else {
            return Ok(false);
        };
        let ctx = CallContext::background(format!("job-runner-{}", uuid::Uuid::new_v4()));
        let kinds: Vec<&str> = self.handlers.iter().map(|h| h.kind()).collect();
        let Some((job, lease)) = self.store.claim(&ctx, &self.owner, self.lease, &kinds).await? else {
            return Ok(false);
        };
        let Some(handler) = self.handlers.iter().find(|h| h.kind() == job.kind).cloned() else {
            return Ok(false);
        };
        let (stop, ttl) = (shutdown.child_token(), self.lease);
        tokio::spawn(async move {
            work(handler, ctx, job, lease, stop, ttl).await;
            drop(permit);
        });
        Ok(true)
    }

    /// Loops until `shutdown`: claims due jobs whenever woken or every poll interval.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) {
        loop {
            loop {
                match self.run_once(&shutdown).await {
                    Ok(true) if !shutdown.is_cancelled() => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error.message = %e, "job runner cannot read the jobs collection");
                        break;
                    }
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.poll) => {}
            }
        }
    }
}

/// Runs one claimed job, renewing its lease every third of its length, then finishes it (or
/// releases it on shutdown; on a lost lease or a store failure it just stops: the lease expires
/// and another replica resumes from the last checkpoint).
async fn work(
    handler: Arc<dyn JobHandler>,
    ctx: CallContext,
    job: Job,
    lease: Lease,
    stop: CancellationToken,
    ttl: Duration,
) {
    let id = job.id.clone();
    let renewal = async {
        let mut tick = tokio::time::interval(ttl / 3);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(JobError::LeaseLost(_)) = lease.renew(&ctx).await {
                return;
            }
        }
    };
    let outcome = tokio::select! {
        outcome = handler.run(&ctx, job, &lease, &stop) => outcome,
        () = renewal => {
            stop.cancel();
            Err(JobError::LeaseLost(id.clone()))
        }
    };
    let ended = match outcome {
        Ok((status, result, progress)) => lease.finish(&ctx, status, &result, progress).await,
        Err(JobError::ShuttingDown) => lease.release(&ctx).await,
        Err(e) => Err(e),
    };
    match ended {
        Ok(()) => tracing::info!(job.id = %id, "job finished or released"),
        Err(e) => {
            tracing::warn!(job.id = %id, error.message = %e, "job stopped; it resumes when its lease expires")
        }
    }
}
