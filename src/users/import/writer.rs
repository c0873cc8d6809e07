//! Batches to the store. Per batch: drop the rows whose email or username is already used (by
//! another row of the batch, or in the store: one lookup per field), then `POST /bulk` the inserts and
//! `PATCH /bulk` the updates. A bulk the store refuses (409 from a race, 400) is retried row by
//! row so that one bad row never fails the others; any other store failure stops the import.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::lookup::{self, UNIQUE_FIELDS};
use super::rows::Write;
use super::{ImportReport, InvalidRow};
use crate::context::{Acl, CallContext};
use crate::failure::Cause;
use crate::store::StoreError;
use crate::store::{BulkPatch, Collection, Filter};

/// The store failed while writing `row` (the first row of the failing call).
#[derive(Debug)]
pub struct Stop {
    /// Row number.
    pub row: u64,
    /// The failed call.
    pub error: StoreError,
}

/// Writes rows in batches and keeps the report.
pub struct Writer<'a> {
    users: &'a dyn Collection,
    ctx: &'a CallContext,
    /// Lookups see every user: `acl_rows` would hide duplicates.
    lookup_ctx: CallContext,
    batch: Vec<Write>,
    batch_size: usize,
    /// What happened so far.
    pub report: ImportReport,
}

impl<'a> Writer<'a> {
    /// A writer of batches of `batch_size` rows into `users`.
    pub fn new(users: &'a dyn Collection, ctx: &'a CallContext, batch_size: usize) -> Self {
        Self {
            users,
            ctx,
            lookup_ctx: CallContext {
                acl: Acl::default(),
                ..ctx.clone()
            },
            batch: Vec::with_capacity(batch_size),
            batch_size: batch_size.max(1),
            report: ImportReport::default(),
        }
    }

    /// How many rows the store holds from this import so far.
    pub fn written(&self) -> usize {
        self.report.inserted.len() + self.report.updated.len()
    }

    /// Reports `row` as invalid.
    pub fn invalid(&mut self, row: u64, error: String) {
        self.report.invalid.push(InvalidRow { row, error });
    }

    /// Adds a row; writes the batch when it is full.
    pub async fn push(&mut self, write: Write) -> Result<(), Stop> {
        self.batch.push(write);
        if self.batch.len() >= self.batch_size {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes the rows not written yet.
    pub async fn flush(&mut self) -> Result<(), Stop> {
        let batch = std::mem::take(&mut self.batch);
        if batch.is_empty() {
            return Ok(());
        }
        let batch = self.without_duplicates(batch, false).await?;
        let (mut inserts, mut updates) = (Vec::new(), Vec::new());
        for write in batch {
            match write {
                Write::Insert { row, doc } => inserts.push((row, doc)),
                Write::Update { row, id, set } => updates.push((row, id, set)),
            }
        }
        self.insert(inserts).await?;
        self.update(updates).await
    }

    /// Keeps the rows whose unique values no earlier row of the batch and no other user holds.
    /// `again`: the lookup after a refused bulk, where the batch itself is already checked.
    async fn without_duplicates(&mut self, batch: Vec<Write>, again: bool) -> Result<Vec<Write>, Stop> {
        let mut kept = Vec::with_capacity(batch.len());
        let mut claimed: HashMap<(&'static str, String), u64> = HashMap::new();
        // In row order, so that the lookup is the same call for the same file.
        let mut values = Vec::new();
        for write in batch {
            let unique = unique_values(&write);
            let taken = unique.iter().find_map(|v| Some((v, *claimed.get(v)?)));
            match taken {
                Some(((field, value), by)) if !again => {
                    let error = format!("{field} \"{value}\" is already used by row {by}");
                    self.invalid(write.row(), error);
                }
                _ => {
                    for value in unique {
                        if claimed.insert(value.clone(), write.row()).is_none() {
                            values.push(value);
                        }
                    }
                    kept.push(write);
                }
            }
        }
        let Some(first) = kept.first().map(Write::row) else {
            return Ok(kept);
        };
        let owners = lookup::unique_owners(self.users, &self.lookup_ctx, &values)
            .await
            .map_err(|error| Stop { row: first, error })?;
        let mut free = Vec::with_capacity(kept.len());
        for write in kept {
            let id = match &write {
                Write::Insert { .. } => None,
                Write::Update { id, .. } => Some(id.as_str()),
            };
            let used = unique_values(&write)
                .into_iter()
                .find(|v| owners.get(v).is_some_and(|owner| Some(owner.as_str()) != id));
            match used {
                Some((field, value)) => {
                    self.invalid(write.row(), format!("{field} \"{value}\" is already used"))
                }
                None => free.push(write),
            }
        }
        Ok(free)
    }

    async fn insert(&mut self, inserts: Vec<(u64, Value)>) -> Result<(), Stop> {
        let Some(first) = inserts.first().map(|(row, _)| *row) else {
            return Ok(());
        };
        let (rows, docs): (Vec<u64>, Vec<Value>) = inserts.into_iter().unzip();
        match self.users.insert_many(self.ctx, &docs).await {
            Ok(ids) => {
                self.report.inserted.extend(ids);
                Ok(())
            }
            Err(error) if refused(&error) => {
                let mut remaining: Vec<Write> = rows
                    .into_iter()
                    .zip(docs)
                    .map(|(row, doc)| Write::Insert { row, doc })
                    .collect();
                if matches!(error, StoreError::Conflict { .. }) {
                    // The ordered bulk may have written the rows before the duplicate: look again.
                    remaining = self.without_duplicates(remaining, true).await?;
                }
                self.insert_one_by_one(remaining).await
            }
            Err(error) => Err(Stop { row: first, error }),
        }
    }

    async fn insert_one_by_one(&mut self, remaining: Vec<Write>) -> Result<(), Stop> {
        for write in remaining {
            let row = write.row();
            match self.users.insert(self.ctx, write.fields()).await {
                Ok(id) => self.report.inserted.push(id),
                Err(error) if refused(&error) => self.invalid(row, refusal(&error)),
                Err(error) => return Err(Stop { row, error }),
            }
        }
        Ok(())
    }

    async fn update(&mut self, updates: Vec<(u64, String, Value)>) -> Result<(), Stop> {
        let Some(first) = updates.first().map(|(row, ..)| *row) else {
            return Ok(());
        };
        let items: Vec<BulkPatch> = updates
            .iter()
            .map(|(_, id, set)| BulkPatch {
                filter: by_id(id),
                update: json!({ "$set": set }),
            })
            .collect();
        match self.users.patch_bulk(self.ctx, &items).await {
            Ok(count) if count >= items.len() as u64 => {
                self.report
                    .updated
                    .extend(updates.into_iter().map(|(_, id, _)| id));
                Ok(())
            }
            Ok(_) => self.sort_missing(updates).await,
            Err(error) if refused(&error) => self.update_one_by_one(updates, items).await,
            Err(error) => Err(Stop { row: first, error }),
        }
    }

    /// After a bulk patch that matched fewer users than rows: which `_id`s exist.
    async fn sort_missing(&mut self, updates: Vec<(u64, String, Value)>) -> Result<(), Stop> {
        let first = updates.first().map_or(0, |(row, ..)| *row);
        let ids: Vec<String> = updates.iter().map(|(_, id, _)| id.clone()).collect();
        let existing = lookup::existing_ids(self.users, &self.lookup_ctx, &ids)
            .await
            .map_err(|error| Stop { row: first, error })?;
        for (row, id, _) in updates {
            if existing.contains(&id) {
                self.report.updated.push(id);
            } else {
                self.invalid(row, format!("no user with _id \"{id}\""));
            }
        }
        Ok(())
    }

    async fn update_one_by_one(
        &mut self,
        updates: Vec<(u64, String, Value)>,
        items: Vec<BulkPatch>,
    ) -> Result<(), Stop> {
        for ((row, id, _), item) in updates.into_iter().zip(items) {
            match self.users.patch(self.ctx, &id, &item.filter, &item.update).await {
                Ok(Some(_)) => self.report.updated.push(id),
                Ok(None) => self.invalid(row, format!("no user with _id \"{id}\"")),
                Err(error) if refused(&error) => self.invalid(row, refusal(&error)),
                Err(error) => return Err(Stop { row, error }),
            }
        }
        Ok(())
    }
}

/// Matches one user by `_id`, whatever its state.
fn by_id(id: &str) -> Filter {
    Filter {
        id: Some(id.to_owned()),
        state: Some(lookup::all_states()),
        ..Filter::default()
    }
}

/// The non-empty `email` / `username` strings a row writes.
fn unique_values(write: &Write) -> Vec<(&'static str, String)> {
    UNIQUE_FIELDS
        .iter()
        .filter_map(|field| {
            let value = write.fields().get(*field)?.as_str()?;
            Some((*field, value.to_owned()))
        })
        .collect()
}

/// The store refused the documents themselves (a duplicate, a validation error): a row fault.
fn refused(error: &StoreError) -> bool {
    match error {
        StoreError::Conflict { .. } | StoreError::Invalid(_) => true,
        StoreError::Failed(failure) => matches!(failure.cause, Cause::Rejected { .. }),
    }
}

fn refusal(error: &StoreError) -> String {
    match error {
        StoreError::Conflict { message, .. } => message.clone(),
        _ => format!("the store refused the row: {error}"),
    }
}
