//! Batches to the store. Per batch: drop the rows whose email or username is already used (by
//! another row of the batch, or in the store: one lookup per field), and the new users whose own
//! `_id` is (one more lookup, only for batches with such rows); then `POST /bulk` the inserts,
//! `POST /import` the inserts with their own `_id`, and `PATCH /bulk` the updates, whose `_id`s no
//! user has are then inserted under that `_id` (`PATCH /users/import` upserts). Updates that
//! change what the auth user, Rönd or the Timer Service hold are not in the bulk patch: they are
//! written one user at a time and synced, as `PATCH /users/{id}` does (see `synced`); those that
//! set such a field but change nothing there are patched in bulk on condition that the user is
//! as it was read (its `updatedAt`), else written one at a time too (`updates`). A bulk the
//! store refuses (409 from a race, 400) is retried row by row so that one bad row never fails the
//! others; any other store failure (and a downstream failure of a synced row) stops the import.

use std::collections::HashMap;

use serde_json::Value;

use super::lookup::{self, UNIQUE_FIELDS};
use super::rows::Write;
use super::synced::store_refused as refused;
use super::{ImportReport, InvalidRow};
use crate::context::{Acl, CallContext};
use crate::store::{Collection, Filter};
use crate::store::{StoreError, StoreResult};
use crate::users::{UserError, UserService};

mod updates;

/// A downstream service failed while writing `row` (the first row of the failing call).
#[derive(Debug)]
pub struct Stop {
    /// Row number.
    pub row: u64,
    /// The failed call: a store call, or the update of a synced row.
    pub error: UserError,
}

impl Stop {
    /// The store failed on the call whose first row is `row`.
    fn store(row: u64, error: StoreError) -> Self {
        Self {
            row,
            error: error.into(),
        }
    }
}

/// Writes rows in batches and keeps the report.
pub struct Writer<'a> {
    svc: &'a UserService,
    users: &'a dyn Collection,
    ctx: &'a CallContext,
    /// Lookups see every user: `acl_rows` would hide duplicates.
    lookup_ctx: CallContext,
    batch: Vec<Write>,
    batch_size: usize,
    /// Update rows of the batch whose `_id` no user has, to insert under that `_id`.
    missing: Vec<Write>,
    /// Users of the batch updated so far, with their rows (reported in row order).
    updated: Vec<(u64, String)>,
    /// What happened so far.
    pub report: ImportReport,
}

impl<'a> Writer<'a> {
    /// A writer of batches of `batch_size` rows into the users of `svc`.
    pub fn new(svc: &'a UserService, ctx: &'a CallContext, batch_size: usize) -> Self {
        Self {
            svc,
            users: svc.store.as_ref(),
            ctx,
            lookup_ctx: CallContext {
                acl: Acl::default(),
                ..ctx.clone()
            },
            batch: Vec::with_capacity(batch_size),
            batch_size: batch_size.max(1),
            missing: Vec::new(),
            updated: Vec::new(),
            report: ImportReport::default(),
        }
    }

    /// How many rows the store holds from this import so far.
    pub fn written(&self) -> usize {
        self.report.inserted.len() + self.report.updated.len() + self.updated.len()
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
        let (mut inserts, mut with_ids, mut updates) = (Vec::new(), Vec::new(), Vec::new());
        for write in batch {
            match write {
                Write::Insert { id: None, .. } => inserts.push(write),
                Write::Insert { .. } => with_ids.push(write),
                Write::Update {
                    row,
                    id,
                    set,
                    or_insert,
                } => updates.push((row, id, set, or_insert)),
            }
        }
        self.insert(inserts).await?;
        self.insert(with_ids).await?;
        self.update(updates).await?;
        let mut updated = std::mem::take(&mut self.updated);
        updated.sort_by_key(|(row, _)| *row);
        self.report.updated.extend(updated.into_iter().map(|(_, id)| id));
        let missing = std::mem::take(&mut self.missing);
        self.insert(missing).await
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
            .map_err(|error| Stop::store(first, error))?;
        let new_ids: Vec<String> = values
            .into_iter()
            .filter(|(field, _)| *field == "_id")
            .map(|(_, id)| id)
            .collect();
        let taken_ids = if new_ids.is_empty() {
            Default::default()
        } else {
            lookup::existing_ids(self.users, &self.lookup_ctx, &new_ids)
                .await
                .map_err(|error| Stop::store(first, error))?
        };
        let mut free = Vec::with_capacity(kept.len());
        for write in kept {
            let id = match &write {
                Write::Insert { id, .. } => id.as_deref(),
                Write::Update { id, .. } => Some(id.as_str()),
            };
            let used = unique_values(&write).into_iter().find(|v| match v.0 {
                "_id" => taken_ids.contains(&v.1),
                _ => owners.get(v).is_some_and(|owner| Some(owner.as_str()) != id),
            });
            match used {
                Some((field, value)) => {
                    self.invalid(write.row(), format!("{field} \"{value}\" is already used"))
                }
                None => free.push(write),
            }
        }
        Ok(free)
    }

    /// Inserts rows that all carry their own `_id` (`POST /import`) or none does (`POST /bulk`).
    async fn insert(&mut self, inserts: Vec<Write>) -> Result<(), Stop> {
        let Some(first) = inserts.first().map(Write::row) else {
            return Ok(());
        };
        let docs: Vec<Value> = inserts.iter().map(stored).collect();
        let own_ids: Option<Vec<String>> = inserts.iter().map(own_id).collect();
        let inserted = match own_ids {
            Some(ids) => self.users.insert_with_ids(self.ctx, &docs).await.map(|()| ids),
            None => self.users.insert_many(self.ctx, &docs).await,
        };
        match inserted {
            Ok(ids) => {
                self.report.inserted.extend(ids);
                Ok(())
            }
            Err(error) if refused(&error) => {
                let mut remaining = inserts;
                if matches!(error, StoreError::Conflict { .. }) {
                    // The ordered bulk may have written the rows before the duplicate: look again.
                    remaining = self.without_duplicates(remaining, true).await?;
                }
                self.insert_one_by_one(remaining).await
            }
            Err(error) => Err(Stop::store(first, error)),
        }
    }

    async fn insert_one_by_one(&mut self, remaining: Vec<Write>) -> Result<(), Stop> {
        for write in remaining {
            let row = write.row();
            match self.insert_one(&write).await {
                Ok(id) => self.report.inserted.push(id),
                Err(error) if refused(&error) => self.invalid(row, refusal(&error)),
                Err(error) => return Err(Stop::store(row, error)),
            }
        }
        Ok(())
    }

    /// One insert: `POST /import` of a row with its own `_id`, else `POST /`.
    async fn insert_one(&self, write: &Write) -> StoreResult<String> {
        match own_id(write) {
            Some(id) => {
                let doc = stored(write);
                let inserted = self.users.insert_with_ids(self.ctx, std::slice::from_ref(&doc));
                inserted.await.map(|()| id)
            }
            None => self.users.insert(self.ctx, write.fields()).await,
        }
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

/// The non-empty `email` / `username` strings a row writes, and the `_id` it gives a new user.
fn unique_values(write: &Write) -> Vec<(&'static str, String)> {
    let fields = UNIQUE_FIELDS.iter().filter_map(|field| {
        let value = write.fields().get(*field)?.as_str()?;
        Some((*field, value.to_owned()))
    });
    fields.chain(own_id(write).map(|id| ("_id", id))).collect()
}

/// The `_id` an insert row gives its user, if it gives one.
fn own_id(write: &Write) -> Option<String> {
    match write {
        Write::Insert { id, .. } => id.clone(),
        Write::Update { .. } => None,
    }
}

/// The document the store receives for a row: its fields, after its own `_id` if it has one.
fn stored(write: &Write) -> Value {
    let Some(id) = own_id(write) else {
        return write.fields().clone();
    };
    let mut doc = serde_json::Map::from_iter([("_id".to_owned(), Value::String(id))]);
    if let Value::Object(fields) = write.fields() {
        doc.extend(fields.clone());
    }
    Value::Object(doc)
}

fn refusal(error: &StoreError) -> String {
    match error {
        StoreError::Conflict { message, .. } => message.clone(),
        _ => format!("the store refused the row: {error}"),
    }
}
