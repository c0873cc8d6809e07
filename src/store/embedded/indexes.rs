//! Index columns for the fields the group schemas declare, added and dropped while the service
//! runs: a new column is added and written by every write at once, filled from the stored
//! documents a batch per lock (other requests go on between batches), then indexed and only
//! then used by queries.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use super::schema::{backfill, Column, Table, BACKFILL_ROWS};
use super::{lock, OpError};
use crate::failure::CallName;
use crate::store::StoreResult;

/// [`index_fields`] in a blocking task, one run at a time per collection (`one`): a second run
/// waits, then finds the work done.
pub(super) async fn run(
    conn: Arc<Mutex<Connection>>,
    table: Arc<Table>,
    one: Arc<Mutex<()>>,
    fields: Vec<String>,
    call: CallName,
) -> StoreResult<()> {
    let joined = tokio::task::spawn_blocking(move || {
        let _one = one.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        index_fields(&conn, &table, &fields)
    })
    .await;
    match joined {
        Ok(result) => result.map_err(|e| OpError::Sqlite(e).into_error(call)),
        Err(error) => Err(OpError::Internal(error.to_string()).into_error(call)),
    }
}

/// The most fields indexed for the group schemas (each costs every write one key and one index
/// entry); the first ones in name order are kept above it.
pub const MAX_INDEXED_FIELDS: usize = 64;

/// Makes the index columns of `table` the configured ones plus `fields` (at most
/// [`MAX_INDEXED_FIELDS`]): adds, fills and indexes the missing ones, drops the others.
pub(super) fn index_fields(
    conn: &Arc<Mutex<Connection>>,
    table: &Table,
    fields: &[String],
) -> rusqlite::Result<()> {
    let wanted: BTreeSet<&str> = fields
        .iter()
        .map(String::as_str)
        .filter(|f| *f != "_id" && !table.configured.iter().any(|c| c == f))
        .take(MAX_INDEXED_FIELDS)
        .collect();
    let t = table.name.clone();
    let to_fill: Vec<Column> = {
        let mut conn = lock(conn);
        let tx = conn.transaction()?;
        let mut columns: Vec<Column> = table.columns().to_vec();
        let (keep, drop): (Vec<Column>, Vec<Column>) = columns
            .drain(..)
            .partition(|c| table.configured.contains(&c.field) || wanted.contains(c.field.as_str()));
        for column in &drop {
            tx.execute_batch(&format!(
                "DROP INDEX IF EXISTS \"{}\"; ALTER TABLE \"{t}\" DROP COLUMN \"{}\";",
                column.index_name(&t),
                column.name
            ))?;
        }
        let added: Vec<Column> = wanted
            .iter()
            .filter(|f| !keep.iter().any(|c| c.field == **f))
            .map(|f| Column::of(f, false, false))
            .collect();
        for column in &added {
            tx.execute_batch(&format!(
                "ALTER TABLE \"{t}\" ADD COLUMN \"{}\" TEXT",
                column.name
            ))?;
        }
        tx.commit()?;
        table.set_columns(keep.into_iter().chain(added).collect());
        if !drop.is_empty() {
            let names: Vec<&str> = drop.iter().map(|c| c.field.as_str()).collect();
            tracing::info!(collection = %table.path, fields = ?names, "index columns dropped");
        }
        // The new columns, and any an interrupted run left unready.
        table.columns().iter().filter(|c| !c.ready).cloned().collect()
    };
    if to_fill.is_empty() {
        return Ok(());
    }
    let refs: Vec<&Column> = to_fill.iter().collect();
    let mut after = i64::MIN;
    loop {
        let conn = lock(conn);
        match backfill(&conn, &t, &refs, after, BACKFILL_ROWS)? {
            Some(last) => after = last,
            None => break,
        }
    }
    let conn = lock(conn);
    for column in &to_fill {
        conn.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS \"{}\" ON \"{t}\"(\"{}\")",
            column.index_name(&t),
            column.name
        ))?;
    }
    let columns = table
        .columns()
        .iter()
        .map(|c| Column {
            ready: c.ready || to_fill.iter().any(|a| a.name == c.name),
            ..c.clone()
        })
        .collect();
    table.set_columns(columns);
    let names: Vec<&str> = to_fill.iter().map(|c| c.field.as_str()).collect();
    tracing::info!(collection = %table.path, fields = ?names, "index columns added");
    Ok(())
}
