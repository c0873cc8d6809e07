//! What a bulk-activation job stores: its input, its resumable `result` (the file plan, each
//! file's provider job, the failures, the counters) and the report `GET` answers with.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::jobs::{Job, Progress};

/// The job input: the store ids to activate (deduplicated, in request order) and `upsert`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivationInput {
    /// Store `_id`s of the users to activate.
    pub user_ids: Vec<String>,
    /// Whether the provider updates users that already exist.
    pub upsert: bool,
}

/// Where one import file is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FileState {
    /// Planned, not yet sent to the provider.
    #[default]
    Planned,
    /// Being sent: recorded before the provider is called, so that a run resumed after a crash,
    /// or after an answer that was lost, knows the provider may hold some of its users already.
    Sending,
    /// Sent: the provider job `providerJobId` runs; a resume polls it.
    Started,
    /// The provider job completed; its users are linked or in `failures`.
    Completed,
    /// The provider job failed or expired; its users are in `failures`.
    Failed,
    /// The provider refused the file (not a rate limit); its users are in `failures`.
    Rejected,
    /// Nothing to send: every user of the file failed before the start, or the users grew since
    /// the plan and the file was replaced by the files after it.
    Empty,
}

impl FileState {
    /// True once the file's users are all settled.
    pub fn is_settled(self) -> bool {
        !matches!(self, Self::Planned | Self::Sending | Self::Started)
    }
}

/// One provider import file: its users (the same ids rebuild the same file on a resume).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportFile {
    /// Store ids of the users of the file, in order.
    pub user_ids: Vec<String>,
    /// Size of the serialized file (a JSON array), in bytes, when planned or last built.
    pub bytes: usize,
    /// Where it is.
    #[serde(default)]
    pub state: FileState,
    /// The provider's job id, once started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_job_id: Option<String>,
    /// Failed start attempts (timeouts, 5xx), for the retry budget.
    #[serde(default)]
    pub start_attempts: u32,
}

/// One error of a failed user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// `USER_NOT_FOUND`, `ALREADY_ACTIVE`, `EMAIL_REQUIRED`, `IMPORT_JOB_FAILED`, or the provider's
    /// own code (`CONFLICT_EMAIL`, `DUPLICATED_USER`, ...).
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// A user that was not activated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserFailure {
    /// The user's store `_id`.
    pub user_id: String,
    /// Why.
    pub errors: Vec<ErrorDetail>,
}

impl UserFailure {
    /// A failure with one error.
    pub fn new(user_id: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            errors: vec![ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
            }],
        }
    }
}

/// The resumable state of a run, saved as the job's `result` after every step.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ActivationResult {
    /// How many input ids the plan has consumed (read and put in a file or in `failures`).
    pub planned: usize,
    /// The import files, in order; while planning, the last one may still grow.
    pub files: Vec<ImportFile>,
    /// Users not activated.
    pub failures: Vec<UserFailure>,
    /// Users linked to their provider user.
    pub activated: u64,
    /// Users the provider inserted (sum of the completed jobs' summaries).
    pub inserted: u64,
    /// Users the provider updated (upsert).
    pub updated: u64,
}

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
    /// The report of `job` (a job not yet started reports zero counters and no failures).
    pub fn of(job: Job) -> Self {
        let result: ActivationResult = serde_json::from_value(job.result).unwrap_or_default();
        Self {
            job_id: job.id,
            status: job.status.as_str().to_owned(),
            job_created_at: job.job_created_at,
            summary: ActivationSummary {
                inserted: result.inserted,
                updated: result.updated,
                failed: result.failures.len() as u64,
                total: job.progress.total,
            },
            failures: result.failures,
            progress: job.progress,
        }
    }
}
