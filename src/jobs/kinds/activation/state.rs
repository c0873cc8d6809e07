//! What a bulk-activation job stores: its input, the small summary it keeps as the job's
//! `result` (phase, plan id, file count, counters), each import file as it is kept in a document
//! of its own (its users, state, provider job and failures), and the `result` earlier versions
//! wrote (the whole plan in the job document), still read to resume or report their jobs.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

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
    /// Nothing to send: every user of the file failed before the start.
    Empty,
}

impl FileState {
    /// True once the file's users are all settled.
    pub fn is_settled(self) -> bool {
        !matches!(self, Self::Planned | Self::Sending | Self::Started)
    }
}

/// One provider import file and what became of its users: the same ids rebuild the same file
/// on a resume. Kept in a document of its own (see `files`), so a step writes only the file it
/// changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ImportFile {
    /// Store ids of the users of the part being sent (the whole file unless it was cut), in order.
    pub user_ids: Vec<String>,
    /// Users of the file to send after this part: the file grew past the limit since the plan
    /// and was cut; the next part starts when this one is settled.
    pub rest: Vec<String>,
    /// Size of the serialized part (a JSON array), in bytes, when planned or last built.
    pub bytes: usize,
    /// Where it is.
    pub state: FileState,
    /// The provider's job id, once started.
    pub provider_job_id: Option<String>,
    /// Failed start attempts (timeouts, 5xx), for the retry budget.
    pub start_attempts: u32,
    /// Provider jobs started for this file (one per part).
    pub starts: u32,
    /// Users of the file linked to their provider user.
    pub activated: u64,
    /// Users the provider inserted (sum of the completed jobs' summaries).
    pub inserted: u64,
    /// Users the provider updated (upsert).
    pub updated: u64,
    /// Users of the file (or, while planning, of the input read into it) not activated.
    pub failures: Vec<UserFailure>,
}

impl ImportFile {
    /// Ends the part being sent in `state`; the users kept for later become the next part.
    pub fn finish_part(&mut self, state: FileState) {
        if self.rest.is_empty() {
            self.state = state;
            return;
        }
        self.user_ids = std::mem::take(&mut self.rest);
        self.state = FileState::Planned;
        self.provider_job_id = None;
        self.start_attempts = 0;
    }
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

/// Where a run is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Reading the users and packing the files (nothing saved yet but the job).
    #[default]
    Plan,
    /// The plan is saved (`planId`): files are sent, polled and settled.
    Import,
    /// Every file is settled.
    Done,
}

/// The job's `result`: small and bounded whatever the number of users. The files (with their
/// users, provider jobs and failures) are documents of their own; these counters sum them, and
/// are written when a file settles, so that `GET` and `progress` need no other read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct JobSummary {
    /// Where the run is.
    pub phase: Phase,
    /// The saved plan: its file documents carry this id (none before the plan is saved; the
    /// documents of a plan interrupted before it was saved carry another one and are ignored).
    pub plan_id: Option<String>,
    /// Input ids the plan consumed (all of them once it is saved).
    pub planned: usize,
    /// File documents of the plan (`index` 0 to `fileCount - 1`).
    pub file_count: usize,
    /// Files sent to the provider at least once.
    pub started: usize,
    /// Files whose users are all settled.
    pub settled: usize,
    /// Users linked to their provider user.
    pub activated: u64,
    /// Users the provider inserted.
    pub inserted: u64,
    /// Users the provider updated (upsert).
    pub updated: u64,
    /// Users not activated (the failures of the file documents).
    pub failed: u64,
}

impl JobSummary {
    /// The counters of `files` under this summary's phase and plan.
    pub fn of(&self, files: &[ImportFile]) -> Self {
        let sum = |f: fn(&ImportFile) -> u64| files.iter().map(f).sum::<u64>();
        Self {
            phase: self.phase,
            plan_id: self.plan_id.clone(),
            planned: self.planned,
            file_count: files.len(),
            started: files.iter().filter(|f| f.starts > 0).count(),
            settled: files.iter().filter(|f| f.state.is_settled()).count(),
            activated: sum(|f| f.activated),
            inserted: sum(|f| f.inserted),
            updated: sum(|f| f.updated),
            failed: sum(|f| f.failures.len() as u64),
        }
    }

    /// Whether the job document must be written to show `self` instead of `saved`: anything
    /// the report or `progress` shows changed (a file started only is not worth a write).
    pub fn differs_from(&self, saved: &Self) -> bool {
        let shown = |s: &Self| Self {
            started: 0,
            ..s.clone()
        };
        shown(self) != shown(saved)
    }
}

/// The `result` of a job saved by an earlier version: the whole plan and every failure in the
/// job document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LegacyResult {
    /// How many input ids the plan has consumed.
    pub planned: usize,
    /// The import files, in order.
    pub files: Vec<ImportFile>,
    /// Users not activated.
    pub failures: Vec<UserFailure>,
    /// Users linked to their provider user.
    pub activated: u64,
    /// Users the provider inserted.
    pub inserted: u64,
    /// Users the provider updated (upsert).
    pub updated: u64,
}

impl LegacyResult {
    /// The files as documents hold them: a first file carries the failures and counters of the
    /// job (they belong to no file here); files sent to the provider count as started.
    pub fn into_files(self) -> Vec<ImportFile> {
        let carried = ImportFile {
            bytes: 2,
            state: FileState::Empty,
            activated: self.activated,
            inserted: self.inserted,
            updated: self.updated,
            failures: self.failures,
            ..ImportFile::default()
        };
        let sent = |s: FileState| matches!(s, FileState::Started | FileState::Completed | FileState::Failed);
        let files = self.files.into_iter().map(|mut file| {
            file.starts = u32::from(sent(file.state));
            file
        });
        std::iter::once(carried).chain(files).collect()
    }
}

/// A job's `result` as stored: this version's summary, or an earlier version's whole plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    /// Written by this version (or nothing yet: a new job).
    Current(JobSummary),
    /// Written by an earlier version.
    Legacy(LegacyResult),
}

impl Stored {
    /// Reads a job's `result`: an earlier version's has a `files` or `failures` array. An
    /// unreadable one is a new job's.
    pub fn of(result: Value) -> Self {
        let listed = |key: &str| result.get(key).is_some_and(Value::is_array);
        if listed("files") || listed("failures") {
            return Self::Legacy(serde_json::from_value(result).unwrap_or_default());
        }
        Self::Current(serde_json::from_value(result).unwrap_or_default())
    }
}
