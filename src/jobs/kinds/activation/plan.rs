//! The planning step of a run: the requested users are read from the store in pages, checked,
//! and packed into import files by serialized bytes; the plan is checkpointed every few pages
//! (the whole plan is written each time: one write per page would be quadratic in the users).

use std::collections::HashMap;

use serde_json::{json, Value};

use super::records::{import_record, place};
use super::{Run, PAGE_SIZE};

/// Pages read between two checkpoints of the plan.
const PAGES_PER_CHECKPOINT: usize = 10;
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
    /// Plans the files of every input id not yet planned (a resume continues the last file).
    pub(super) async fn plan(&mut self) -> Result<(), JobError> {
        let mut pages = 0;
        while self.result.planned < self.input.user_ids.len() {
            self.check_stop()?;
            let start = self.result.planned;
            let end = (start + PAGE_SIZE).min(self.input.user_ids.len());
            let ids = &self.input.user_ids[start..end];
            let docs = read_users(self.deps.users.as_ref(), self.ctx, ids).await?;
            for id in ids {
                match import_record(id, docs.get(id), self.limit) {
                    Ok(record) => place(&mut self.result.files, id.clone(), record.len(), self.limit),
                    Err(failure) => self.result.failures.push(failure),
                }
            }
            self.result.planned = end;
            pages += 1;
            if pages % PAGES_PER_CHECKPOINT == 0 || end == self.input.user_ids.len() {
                self.checkpoint().await?;
            }
        }
        Ok(())
    }
}
