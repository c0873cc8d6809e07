//! `GET /jobs/bulk-activation/{id}`: the counters of the job document and the failures of its
//! file documents (or, for a job saved by an earlier version, of its `result`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::files;
use super::state::{Stored, UserFailure};
use crate::context::CallContext;
use crate::jobs::{Job, Progress};
use crate::store::{Collection, StoreError};

/// Counters of the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActivationSummary {
    /// Users the provider inserted.
    pub inserted: u64,
    /// Users the provider updated.
    pub updated: u64,
    /// Users not activated (`failures`).
    pub failed: u64,
    /// Users requested.
    pub total: u64,
}

/// `GET /jobs/bulk-activation/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivationReport {
    /// The job id.
    pub job_id: String,
    /// `pending`, `running`, `completed` or `failed`.
    pub status: String,
    /// When the job was created (ISO-8601).
    pub job_created_at: String,
    /// Counters.
    pub summary: ActivationSummary,
    /// Users not activated, with why.
    pub failures: Vec<UserFailure>,
    /// Users settled (activated or failed) / requested.
    pub progress: Progress,
}

impl ActivationReport {
    /// The report of `job`, whose file documents list `failures` (ignored for a job saved by an
    /// earlier version: its failures are in its `result`). A job not yet started reports zero
    /// counters and no failures.
    pub fn assemble(job: Job, failures: Vec<UserFailure>) -> Self {
        let (inserted, updated, failures) = match Stored::of(job.result) {
            Stored::Current(summary) => (summary.inserted, summary.updated, failures),
            Stored::Legacy(legacy) => (legacy.inserted, legacy.updated, legacy.failures),
        };
        Self {
            job_id: job.id,
            status: job.status.as_str().to_owned(),
            job_created_at: job.job_created_at,
            summary: ActivationSummary {
                inserted,
                updated,
                failed: failures.len() as u64,
                total: job.progress.total,
            },
            failures,
            progress: job.progress,
        }
    }
}

/// The report of `job` (read without its input), its failures read from its file documents in
/// `jobs` when its summary counts some.
pub async fn read_report(
    jobs: &dyn Collection,
    ctx: &CallContext,
    job: Job,
) -> Result<ActivationReport, StoreError> {
    let failures = match Stored::of(job.result.clone()) {
        Stored::Current(summary) if summary.failed > 0 => match &summary.plan_id {
            Some(plan) => files::failures(jobs, ctx, &job.id, plan).await?,
            None => Vec::new(),
        },
        _ => Vec::new(),
    };
    Ok(ActivationReport::assemble(job, failures))
}
