//! The planning step of a run: the requested users are read from the store in pages, checked,
//! and packed into import files by serialized bytes, in memory; then the plan is saved at once
//! (one document per file, then the job's summary names it). A run stopped before that plans
//! again; a resumed run reads the saved plan back, or converts the one an earlier version saved
//! in the job document.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::records::{import_record, place, place_failure};
use super::state::{FileState, ImportFile, JobSummary, Phase, Stored};
use super::{Run, PAGE_SIZE};
use crate::context::CallContext;
use crate::jobs::JobError;
use crate::store::StoreError;
use crate::store::{Collection, DocState, Filter, FindQuery, StateFilter};

/// Every `__STATE__`: a user is activated whatever its state (blocked unless PUBLIC).
pub(super) fn all_states() -> StateFilter {
    StateFilter(vec![
        DocState::Public,
        DocState::Draft,
        DocState::Trash,
        DocState::Deleted,
    ])
}

/// The users among `ids`, by `_id`, with the fields an import record needs; read in pages.
pub(super) async fn read_users(
    users: &dyn Collection,
    ctx: &CallContext,
    ids: &[String],
) -> Result<HashMap<String, Value>, StoreError> {
    let mut found = HashMap::with_capacity(ids.len());
    for page in ids.chunks(PAGE_SIZE) {
        let query = FindQuery {
            filter: Filter {
                q: Some(json!({"_id": {"$in": page}})),
                state: Some(all_states()),
                ..Filter::default()
            },
            projection: Some(
                ["_id", "email", "username", "blocked", "authUserId", "__STATE__"]
                    .map(str::to_owned)
                    .to_vec(),
            ),
            limit: Some(page.len() as u32),
            ..FindQuery::default()
        };
        for doc in users.find(ctx, &query).await? {
            if let Some(id) = doc.get("_id").and_then(Value::as_str) {
                found.insert(id.to_owned(), doc);
            }
        }
    }
    Ok(found)
}

impl Run<'_> {
    /// Picks up what an earlier run saved: the files of its saved plan, or the plan an earlier
    /// version kept in the job document once it was complete (saved again as file documents).
    pub(super) async fn resume(&mut self, stored: Stored) -> Result<(), JobError> {
        match stored {
            Stored::Current(summary) => {
                if let Some(plan) = &summary.plan_id {
                    self.files = self.docs.resume(self.ctx, plan, summary.file_count).await?;
                    self.summary = summary;
                }
            }
            Stored::Legacy(legacy) if legacy.planned >= self.input.user_ids.len() => {
                tracing::info!(
                    files = legacy.files.len(),
                    "bulk-activation plan of an earlier version saved as file documents"
                );
                self.save_plan(legacy.into_files()).await?;
            }
            // An earlier version's plan not finished yet: nothing was sent, it is planned again.
            Stored::Legacy(_) => {}
        }
        Ok(())
    }

    /// Plans the files of every input id, unless a plan is saved already.
    pub(super) async fn plan(&mut self) -> Result<(), JobError> {
        if self.summary.plan_id.is_some() {
            return Ok(());
        }
        let mut files: Vec<ImportFile> = Vec::new();
        for ids in self.input.user_ids.chunks(PAGE_SIZE) {
            self.check_stop()?;
            let docs = read_users(self.deps.users.as_ref(), self.ctx, ids).await?;
            for id in ids {
                match import_record(id, docs.get(id), self.limit) {
                    Ok(record) => place(&mut files, id.clone(), record.len(), self.limit),
                    Err(failure) => place_failure(&mut files, failure),
                }
            }
        }
        for file in files.iter_mut().filter(|f| f.user_ids.is_empty()) {
            file.state = FileState::Empty;
        }
        self.save_plan(files).await
    }

    /// Inserts one document per file of a new plan, then names the plan in the job's summary:
    /// from then on a resume reads these documents (those of a plan not named are ignored).
    async fn save_plan(&mut self, files: Vec<ImportFile>) -> Result<(), JobError> {
        let plan_id = uuid::Uuid::new_v4().to_string();
        self.check_stop()?;
        self.docs.insert_plan(self.ctx, &plan_id, &files).await?;
        self.files = files;
        let named = JobSummary {
            phase: Phase::Import,
            plan_id: Some(plan_id),
            planned: self.input.user_ids.len(),
            ..JobSummary::default()
        };
        let summary = named.of(&self.files);
        self.checkpoint(summary).await
    }
}
