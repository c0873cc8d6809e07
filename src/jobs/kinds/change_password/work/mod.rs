//! The loop of a change-password job: one call per user, in input order, paced, with a
//! resumable `Ledger` saved as the job's `result`.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::auth::{AuthError, AuthResult};
use crate::failure::Cause;
use crate::jobs::pacer::Pacer;
use crate::jobs::{JobError, Progress};

/// Checkpoint after this many users since the last one...
const CHECKPOINT_EVERY_USERS: usize = 50;
/// ...or after this long, whichever comes first.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// Retries of a user whose call timed out or found the provider unreachable.
const TRANSIENT_RETRIES: u32 = 3;
/// Wait after a 429 that did not say how long.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);
/// Longest wait honoured after a 429 (a far `X-RateLimit-Reset` is a clock skew).
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// Wait before retrying an unreachable provider.
const UNREACHABLE_WAIT: Duration = Duration::from_secs(1);
/// The failure message of an id the provider does not know.
pub const NOT_FOUND: &str = "auth user not found";

/// A user whose change-password could not be sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailedUser {
    /// The auth-provider id.
    pub auth_user_id: String,
    /// Why.
    pub error: String,
}

/// What a job has done, saved as its `result`: every id before `next` is in `completed` or in
/// `failures`, and a resumed job starts at `next`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ledger {
    /// Ids whose change-password email was requested.
    pub completed: Vec<String>,
    /// Ids that failed for a reason other than rate limiting.
    pub failures: Vec<FailedUser>,
    /// Index in the input of the first id not yet worked.
    pub next: usize,
}

impl Ledger {
    /// Ids worked so far / all ids.
    pub fn progress(&self, total: usize) -> Progress {
        Progress {
            processed: (self.completed.len() + self.failures.len()) as u64,
            total: total as u64,
        }
    }
}

/// What the loop needs from the outside: the provider call and the checkpoint.
#[async_trait]
pub trait Port: Send + Sync {
    /// Asks the provider to send the change-password email to `id`.
    async fn send(&self, id: &str) -> AuthResult<()>;
    /// Saves the ledger and renews the lease.
    async fn save(&self, ledger: &Ledger, progress: Progress) -> Result<(), JobError>;
}

/// How one user ended.
enum Outcome {
    Sent,
    Failed(String),
    Stopped,
}

/// Works `ids` from `ledger.next` to the end; on `stop` saves what is done and returns
/// `ShuttingDown` (an in-flight call is let finish, so a resumed job never re-sends it).
pub async fn work<P: Port>(
    port: &P,
    ids: &[String],
    mut ledger: Ledger,
    pacer: &Pacer,
    stop: &CancellationToken,
) -> Result<Ledger, JobError> {
    let mut settled: HashSet<String> = ledger.completed.iter().cloned().collect();
    settled.extend(ledger.failures.iter().map(|f| f.auth_user_id.clone()));
    let (mut saved_at, mut unsaved) = (Instant::now(), 0);
    while let Some(id) = ids.get(ledger.next) {
        if !settled.contains(id) {
            match deliver(port, id, pacer, stop).await {
                Outcome::Sent => ledger.completed.push(id.clone()),
                Outcome::Failed(error) => ledger.failures.push(FailedUser {
                    auth_user_id: id.clone(),
                    error,
                }),
                Outcome::Stopped => return stopped(port, &ledger, ids.len()).await,
            }
            settled.insert(id.clone());
        }
        ledger.next += 1;
        unsaved += 1;
        if stop.is_cancelled() {
            return stopped(port, &ledger, ids.len()).await;
        }
        if unsaved >= CHECKPOINT_EVERY_USERS || saved_at.elapsed() >= CHECKPOINT_EVERY {
            port.save(&ledger, ledger.progress(ids.len())).await?;
            (saved_at, unsaved) = (Instant::now(), 0);
        }
    }
    Ok(ledger)
}

async fn stopped<P: Port>(port: &P, ledger: &Ledger, total: usize) -> Result<Ledger, JobError> {
    port.save(ledger, ledger.progress(total)).await?;
    Err(JobError::ShuttingDown)
}

/// Sends to one user until it is delivered or fails for a reason other than rate limiting; a
/// 429 holds the pacer (every job of the replica) for as long as the provider asked.
async fn deliver<P: Port>(port: &P, id: &str, pacer: &Pacer, stop: &CancellationToken) -> Outcome {
    let mut transient = 0;
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => return Outcome::Stopped,
            () = pacer.ready() => {}
        }
        let error = match port.send(id).await {
            Ok(()) => return record(Outcome::Sent),
            Err(error) => error,
        };
        let cause = match &error {
            AuthError::RateLimited { retry_after, .. } => {
                let wait = retry_after.unwrap_or(DEFAULT_RATE_LIMIT_WAIT);
                pacer.hold(Instant::now() + wait.clamp(pacer.period(), MAX_RATE_LIMIT_WAIT));
                continue;
            }
            AuthError::NotFound(_) => return record(Outcome::Failed(NOT_FOUND.to_owned())),
            AuthError::Failed(failure) if transient < TRANSIENT_RETRIES => &failure.cause,
            _ => return record(Outcome::Failed(error.to_string())),
        };
        let wait = match cause {
            Cause::Timeout => Duration::ZERO,
            Cause::Unreachable | Cause::Dropped => UNREACHABLE_WAIT,
            _ => return record(Outcome::Failed(error.to_string())),
        };
        transient += 1;
        tracing::debug!(error.message = %error, "change-password retried");
        tokio::select! {
            () = stop.cancelled() => return Outcome::Stopped,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Counts a settled user in `ums_job_items_processed_total`.
fn record(outcome: Outcome) -> Outcome {
    let label = if matches!(outcome, Outcome::Sent) {
        "completed"
    } else {
        "failed"
    };
    metrics::counter!("ums_job_items_processed_total", "kind" => super::KIND, "outcome" => label)
        .increment(1);
    outcome
}

#[cfg(test)]
mod tests;
