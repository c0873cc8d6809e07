//! The import step of a run: planned files are rebuilt from the store and sent to the provider
//! (at most two jobs active, waiting on its "2 active jobs" 429), the started jobs are polled
//! every polling interval, and each completed file is settled: the provider's failures recorded,
//! every other user linked to `auth0|<_id>` with bulk patches. Every change of a file is saved
//! to its document before the next side effect.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use serde_json::json;

use super::plan::{all_states, read_users};
use super::records::{attribute, file_body, import_record, split, PROVIDER_ID_PREFIX};
use super::state::{FileState, UserFailure};
use super::{Run, MAX_ACTIVE_IMPORTS, PAGE_SIZE};
use crate::auth::{AuthError, AuthResult};
use crate::auth::{ImportJobState, ImportSummary};
use crate::failure::{Cause, Outcome};
use crate::jobs::JobError;
use crate::store::{BulkPatch, Filter};

/// Start attempts of one file failing with a timeout, 5xx or unreachable provider.
const MAX_START_ATTEMPTS: u32 = 5;

/// What starting a file led to.
enum Started {
    /// Started, refused or emptied: the next file may be tried now.
    Next,
    /// The provider is busy (429) or failing: try again after a polling interval.
    Later,
}

impl Run<'_> {
    /// Starts, polls and settles files until every file is settled. Files are polled as soon as
    /// they are started (a provider that imports before it answers, like the local one, is done
    /// at once), the first time again `FIRST_POLL` later, then as the polling schedule says; a
    /// poll that settles a file starts the next ones at once.
    pub(super) async fn import(&mut self) -> Result<(), JobError> {
        let mut just_started = false;
        loop {
            let before = self.started_count();
            self.start_ready().await?;
            just_started |= self.started_count() > before;
            if self.all_settled() {
                return Ok(());
            }
            let settled = self.settled_count();
            self.poll_started().await?;
            if self.all_settled() {
                return Ok(());
            }
            if self.settled_count() == settled {
                let delay = self.next_poll(std::mem::take(&mut just_started));
                self.pause(delay).await?;
            }
        }
    }

    fn all_settled(&self) -> bool {
        self.files.iter().all(|f| f.state.is_settled())
    }

    fn settled_count(&self) -> usize {
        self.files.iter().filter(|f| f.state.is_settled()).count()
    }

    /// Provider jobs ever started by the files (one per part sent).
    fn started_count(&self) -> u32 {
        self.files.iter().map(|f| f.starts).sum()
    }

    /// Starts planned files while fewer than two provider jobs are active, after recovering the
    /// files whose sending was interrupted.
    async fn start_ready(&mut self) -> Result<(), JobError> {
        while let Some(index) = self.files.iter().position(|f| f.state == FileState::Sending) {
            if let Started::Later = self.recover_file(index).await? {
                return Ok(());
            }
        }
        loop {
            self.check_stop()?;
            let files = &self.files;
            let active = files.iter().filter(|f| f.state == FileState::Started).count();
            let next = files.iter().position(|f| f.state == FileState::Planned);
            let (Some(index), true) = (next, active < MAX_ACTIVE_IMPORTS) else {
                return Ok(());
            };
            if let Started::Later = self.start_file(index).await? {
                return Ok(());
            }
        }
    }

    /// Rebuilds file `index` from the store (users changed since the plan fail, or are sent in
    /// a next part when the file no longer fits) and sends it to the provider; the intent is
    /// saved before the call, its job id as soon as it is known.
    async fn start_file(&mut self, index: usize) -> Result<Started, JobError> {
        let ids = self.files[index].user_ids.clone();
        let docs = read_users(self.deps.users.as_ref(), self.ctx, &ids).await?;
        let mut records = Vec::with_capacity(ids.len());
        let file = &mut self.files[index];
        for id in ids {
            match import_record(&id, docs.get(&id), self.limit) {
                Ok(record) => records.push((id, record)),
                Err(failure) => file.failures.push(failure),
            }
        }
        if records.is_empty() {
            file.user_ids.clear();
            file.finish_part(FileState::Empty);
            self.save(index).await?;
            return Ok(Started::Next);
        }
        // The users grew since the plan: what fits is sent now, the others after it.
        let fits = split(&records, self.limit)
            .first()
            .map_or(records.len(), |f| f.user_ids.len());
        let later: Vec<String> = records.drain(fits..).map(|(id, _)| id).collect();
        file.rest.splice(0..0, later);
        let body = file_body(&records);
        file.user_ids = records.into_iter().map(|(id, _)| id).collect();
        file.bytes = body.len();
        // The intent, before the side effect: a crash from here on resumes in `recover_file`.
        file.state = FileState::Sending;
        self.save(index).await?;
        let started = self
            .deps
            .auth
            .start_import(self.ctx, Bytes::from(body), self.input.upsert)
            .await;
        let file = &mut self.files[index];
        let next = match started {
            Ok(job) => {
                file.provider_job_id = Some(job.id);
                file.state = FileState::Started;
                file.starts += 1;
                Started::Next
            }
            Err(AuthError::RateLimited { .. }) => {
                file.state = FileState::Planned;
                Started::Later
            }
            Err(e) if transient(&e) && file.start_attempts + 1 < MAX_START_ATTEMPTS => {
                file.start_attempts += 1;
                // A lost answer may hide an accepted file: verify before sending it again.
                file.state = match e.outcome() {
                    Outcome::Unknown => FileState::Sending,
                    Outcome::NotApplied => FileState::Planned,
                };
                tracing::warn!(error.message = %e, "auth provider import not started; retrying");
                Started::Later
            }
            Err(e) => {
                let message = format!("the auth provider refused the import file: {e}");
                self.fail_file(index, FileState::Rejected, "IMPORT_REJECTED", &message);
                Started::Next
            }
        };
        self.save(index).await?;
        Ok(next)
    }

    /// Polls every started file once; settles the completed, fails the failed and expired.
    async fn poll_started(&mut self) -> Result<(), JobError> {
        for index in 0..self.files.len() {
            self.check_stop()?;
            let file = &self.files[index];
            let (FileState::Started, Some(job_id)) = (file.state, file.provider_job_id.clone()) else {
                continue;
            };
            let job = match self.deps.auth.import_status(self.ctx, &job_id).await {
                Ok(job) => job,
                Err(e) if e.is_not_found() => {
                    let message = format!("the auth provider import job {job_id} is gone");
                    self.fail_file(index, FileState::Failed, "IMPORT_JOB_FAILED", &message);
                    self.save(index).await?;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error.message = %e, "auth provider import status unknown; polling again");
                    continue;
                }
            };
            match job.state {
                ImportJobState::Pending | ImportJobState::Processing => {}
                ImportJobState::Completed => self.settle(index, &job_id, job.summary).await?,
                ImportJobState::Failed | ImportJobState::Expired => {
                    let ended = if job.state == ImportJobState::Failed {
                        "failed"
                    } else {
                        "expired"
                    };
                    let message = format!("the auth provider import job {job_id} {ended}");
                    self.fail_file(index, FileState::Failed, "IMPORT_JOB_FAILED", &message);
                    self.save(index).await?;
                }
            }
        }
        Ok(())
    }

    /// Records the provider failures of a completed file and links every other user.
    async fn settle(
        &mut self,
        index: usize,
        job_id: &str,
        summary: Option<ImportSummary>,
    ) -> Result<(), JobError> {
        let failures = match self.deps.auth.import_errors(self.ctx, job_id).await {
            Ok(failures) => failures,
            Err(e) => {
                tracing::warn!(error.message = %e, "auth provider import errors unread; polling again");
                return Ok(());
            }
        };
        let ids = self.files[index].user_ids.clone();
        let known: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let needs_emails = failures.iter().any(|f| {
            let id = f
                .user_id
                .as_deref()
                .map(|id| id.strip_prefix(PROVIDER_ID_PREFIX).unwrap_or(id));
            !id.is_some_and(|id| known.contains(id))
        });
        let emails = if needs_emails {
            self.emails(&ids).await?
        } else {
            HashMap::new()
        };
        let reported = failures.len();
        let (mut failed, unattributed) = attribute(&ids, &emails, failures);
        let summary = summary.unwrap_or_default();
        let failed_ids: HashSet<String> = failed.iter().map(|f| f.user_id.clone()).collect();
        let mut linked: Vec<String> = ids.into_iter().filter(|id| !failed_ids.contains(id)).collect();
        if unattributed > 0 || summary.failed as usize > reported - unattributed {
            match self.confirm(linked).await {
                Ok((present, missing)) => {
                    linked = present;
                    failed.extend(missing);
                }
                Err(e) => {
                    tracing::warn!(error.message = %e, "auth provider users unconfirmed; polling again");
                    return Ok(());
                }
            }
        }
        self.link(&linked).await?;
        let file = &mut self.files[index];
        file.activated += linked.len() as u64;
        file.inserted += summary.inserted;
        file.updated += summary.updated;
        file.failures.extend(failed);
        file.finish_part(FileState::Completed);
        self.save(index).await
    }

    /// Lower-case email → id of the users `ids` (to attribute failures that carry no id).
    async fn emails(&self, ids: &[String]) -> Result<HashMap<String, String>, JobError> {
        let docs = read_users(self.deps.users.as_ref(), self.ctx, ids).await?;
        let email = |doc: &serde_json::Value| doc.get("email")?.as_str().map(str::to_lowercase);
        Ok(docs
            .iter()
            .filter_map(|(id, doc)| Some((email(doc)?, id.clone())))
            .collect())
    }

    /// A file whose sending was interrupted (a crash, or an answer lost): the users the provider
    /// has under the id this job gives them were imported by it and are linked; the others go
    /// back to `Planned` to be sent again. `Later` when the provider cannot be asked now.
    async fn recover_file(&mut self, index: usize) -> Result<Started, JobError> {
        let ids = self.files[index].user_ids.clone();
        let (present, missing) = match self.present(ids).await {
            Ok(split) => split,
            Err(e) => {
                tracing::warn!(error.message = %e, "interrupted import file unverified; trying again later");
                return Ok(Started::Later);
            }
        };
        self.link(&present).await?;
        let file = &mut self.files[index];
        file.activated += present.len() as u64;
        if missing.is_empty() {
            file.finish_part(FileState::Completed);
        } else {
            (file.state, file.user_ids) = (FileState::Planned, missing);
        }
        tracing::info!(linked = present.len(), "interrupted import file recovered");
        self.save(index).await?;
        Ok(Started::Next)
    }

    /// Splits `ids` into the users the provider has (under their imported id) and the others.
    async fn present(&self, ids: Vec<String>) -> AuthResult<(Vec<String>, Vec<String>)> {
        let auth_ids: Vec<String> = ids.iter().map(|id| self.deps.auth.imported_user_id(id)).collect();
        let users = self.deps.auth.get_users(self.ctx, &auth_ids).await?;
        let found: HashSet<String> = users.into_iter().map(|u| u.id).collect();
        Ok(ids
            .into_iter()
            .partition(|id| found.contains(&self.deps.auth.imported_user_id(id))))
    }

    /// Splits `ids` into users the provider has and failures for the others: used when the
    /// provider reported failures that name no user of the file, so none is linked blindly.
    async fn confirm(&self, ids: Vec<String>) -> AuthResult<(Vec<String>, Vec<UserFailure>)> {
        let (linked, missing) = self.present(ids).await?;
        let message = "the auth provider reported a failure for this import and does not have this user";
        let failures = missing
            .into_iter()
            .map(|id| UserFailure::new(id, "IMPORT_FAILED", message))
            .collect();
        Ok((linked, failures))
    }

    /// Writes `authUserId` (`auth0|<_id>` with Auth0) on the users `ids`, in bulk patches of a page each.
    async fn link(&self, ids: &[String]) -> Result<(), JobError> {
        for page in ids.chunks(PAGE_SIZE) {
            let items: Vec<BulkPatch> = page
                .iter()
                .map(|id| BulkPatch {
                    filter: Filter {
                        id: Some(id.clone()),
                        state: Some(all_states()),
                        ..Filter::default()
                    },
                    update: json!({"$set": {"authUserId": self.deps.auth.imported_user_id(id)}}),
                })
                .collect();
            self.deps.users.patch_bulk(self.ctx, &items).await?;
        }
        Ok(())
    }

    /// Every user of the part of file `index` being sent fails with `code`; the part ends in `state`.
    fn fail_file(&mut self, index: usize, state: FileState, code: &str, message: &str) {
        let file = &mut self.files[index];
        let failures: Vec<UserFailure> = file
            .user_ids
            .iter()
            .map(|id| UserFailure::new(id.clone(), code, message))
            .collect();
        file.failures.extend(failures);
        file.finish_part(state);
    }
}

/// A failure worth retrying: timeout, 5xx, unreachable, dropped connection.
fn transient(error: &AuthError) -> bool {
    matches!(
        error,
        AuthError::Failed(failure)
            if matches!(failure.cause, Cause::Timeout | Cause::Unreachable | Cause::Dropped | Cause::Failed { .. })
    )
}
