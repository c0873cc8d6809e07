//! The update rows of a batch: the plain bulk patch, the bulk patch conditional on what the
//! lookup read, the rows written alone and synced, and the rows whose `_id` no user has.

use serde_json::{json, Value};

use super::{by_id, refusal, refused, Stop, Writer};
use crate::store::BulkPatch;
use crate::users::import::lookup;
use crate::users::import::rows::Write;
use crate::users::import::synced::{self, Update, Written};

impl Writer<'_> {
    /// The update rows: the bulk patch of those that change nothing outside the store, then the
    /// others one user at a time.
    pub(super) async fn update(&mut self, updates: Vec<Update>) -> Result<(), Stop> {
        let Some(first) = updates.first().map(|(row, ..)| *row) else {
            return Ok(());
        };
        let split = synced::split(self.svc, &self.lookup_ctx, updates)
            .await
            .map_err(|error| Stop::store(first, error))?;
        self.update_bulk(split.bulk).await?;
        self.update_guarded(split.guarded).await?;
        self.update_alone(split.alone).await
    }

    /// The bulk patch of rows conditional on the `updatedAt` read. When it updates fewer users
    /// (one changed or went meanwhile) or refuses a row, every row is written alone: that reads
    /// the user again and syncs what it must, and a `$set` the patch applied is applied again.
    async fn update_guarded(&mut self, guarded: Vec<(Update, Value)>) -> Result<(), Stop> {
        let Some(first) = guarded.first().map(|((row, ..), _)| *row) else {
            return Ok(());
        };
        let items: Vec<BulkPatch> = guarded
            .iter()
            .map(|((_, id, set, _), before)| BulkPatch {
                filter: synced::unchanged(id, before),
                update: json!({ "$set": set }),
            })
            .collect();
        let rows: Vec<Update> = guarded.into_iter().map(|(row, _)| row).collect();
        match self.users.patch_bulk(self.ctx, &items).await {
            Ok(count) if count >= items.len() as u64 => {
                self.updated
                    .extend(rows.into_iter().map(|(row, id, ..)| (row, id)));
                Ok(())
            }
            Ok(_) => self.update_alone(rows).await,
            Err(error) if refused(&error) => self.update_alone(rows).await,
            Err(error) => Err(Stop::store(first, error)),
        }
    }

    async fn update_bulk(&mut self, updates: Vec<Update>) -> Result<(), Stop> {
        let Some(first) = updates.first().map(|(row, ..)| *row) else {
            return Ok(());
        };
        let items: Vec<BulkPatch> = updates
            .iter()
            .map(|(_, id, set, _)| BulkPatch {
                filter: by_id(id),
                update: json!({ "$set": set }),
            })
            .collect();
        match self.users.patch_bulk(self.ctx, &items).await {
            Ok(count) if count >= items.len() as u64 => {
                let rows = updates.into_iter().map(|(row, id, ..)| (row, id));
                self.updated.extend(rows);
                Ok(())
            }
            Ok(_) => self.sort_missing(updates).await,
            Err(error) if refused(&error) => self.update_one_by_one(updates, items).await,
            Err(error) => Err(Stop::store(first, error)),
        }
    }

    /// Writes and syncs each row as `PATCH /users/{id}` does, a few users at a time; stops after
    /// the group in which a downstream service failed, at the first such row.
    async fn update_alone(&mut self, updates: Vec<Update>) -> Result<(), Stop> {
        let (svc, ctx) = (self.svc, self.ctx);
        for group in synced::groups(updates) {
            let writes = group
                .iter()
                .map(|(_, id, set, _)| synced::write(svc, ctx, id, set));
            let outcomes = futures::future::join_all(writes).await;
            let mut stop = None;
            for ((row, id, _, or_insert), outcome) in group.into_iter().zip(outcomes) {
                match outcome {
                    Ok(Written::Updated) => self.updated.push((row, id)),
                    Ok(Written::NoUser) => self.no_user(row, id, or_insert),
                    Ok(Written::Refused(why)) => self.invalid(row, why),
                    Err(error) => {
                        stop.get_or_insert(Stop { row, error });
                    }
                }
            }
            if let Some(stop) = stop {
                return Err(stop);
            }
        }
        Ok(())
    }

    /// After a bulk patch that matched fewer users than rows: which `_id`s exist.
    async fn sort_missing(&mut self, updates: Vec<Update>) -> Result<(), Stop> {
        let first = updates.first().map_or(0, |(row, ..)| *row);
        let ids: Vec<String> = updates.iter().map(|(_, id, ..)| id.clone()).collect();
        let existing = lookup::existing_ids(self.users, &self.lookup_ctx, &ids)
            .await
            .map_err(|error| Stop::store(first, error))?;
        for (row, id, _, or_insert) in updates {
            if existing.contains(&id) {
                self.updated.push((row, id));
            } else {
                self.no_user(row, id, or_insert);
            }
        }
        Ok(())
    }

    /// No user has `id`: the row's user is inserted under it after the updates, or the row is
    /// reported with why it cannot create one.
    fn no_user(&mut self, row: u64, id: String, or_insert: Result<Value, String>) {
        match or_insert {
            Ok(doc) => self.missing.push(Write::Insert {
                row,
                id: Some(id),
                doc,
            }),
            Err(why) => self.invalid(
                row,
                format!("no user with _id \"{id}\", and the row cannot create one: {why}"),
            ),
        }
    }

    async fn update_one_by_one(&mut self, updates: Vec<Update>, items: Vec<BulkPatch>) -> Result<(), Stop> {
        for ((row, id, _, or_insert), item) in updates.into_iter().zip(items) {
            match self.users.patch(self.ctx, &id, &item.filter, &item.update).await {
                Ok(Some(_)) => self.updated.push((row, id)),
                Ok(None) => self.no_user(row, id, or_insert),
                Err(error) if refused(&error) => self.invalid(row, refusal(&error)),
                Err(error) => return Err(Stop::store(row, error)),
            }
        }
        Ok(())
    }
}
