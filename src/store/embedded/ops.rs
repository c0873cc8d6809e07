//! The operations of a collection on its SQLite table, each run under the connection lock: reads
//! in one read transaction, every write (checks included) in one `IMMEDIATE` transaction, so a
//! compare-and-set PATCH or a state change is atomic.

use docquery::{is_noop, IdGen, State};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde_json::Value;

use super::cursor::Cursor;
use super::request::Page;
use super::schema::{field_key, sql_text, Table};
use super::select::Selection;
use super::OpError;
use crate::store::unreadable::is_stub;

/// Who writes, and when: `updaterId`/`updatedAt` (and `creatorId`/`createdAt` on insert).
pub(super) struct Author {
    /// The user id header's value, or `"public"`.
    pub user: String,
    /// ISO-8601 UTC with milliseconds.
    pub now: String,
}

pub(super) fn write_tx(conn: &mut Connection) -> Result<Transaction<'_>, OpError> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

/// `GET /`: the page of matches, projected.
pub(super) fn find(conn: &mut Connection, table: &Table, page: &Page) -> Result<Vec<Value>, OpError> {
    let tx = conn.transaction()?;
    let mut out = Vec::new();
    if page.sort.is_empty() {
        let mut skipped = 0;
        page.selection.for_each(&tx, table, |_, doc| {
            if skipped < page.skip {
                skipped += 1;
                return Ok(true);
            }
            if is_stub(&doc) {
                return Ok(true);
            }
            out.push(page.projection.apply(doc));
            Ok(page.limit.is_none_or(|limit| out.len() < limit))
        })?;
    } else {
        let seqs = page
            .selection
            .sorted_window(&tx, table, &page.sort, page.skip, page.limit)?;
        let mut cursor = Cursor::over(page.selection.states(), seqs);
        while let Some(rows) = cursor.next_page(&tx, table)? {
            let readable = rows.into_iter().filter(|(_, doc)| !is_stub(doc));
            out.extend(readable.map(|(_, doc)| page.projection.apply(doc)));
        }
    }
    Ok(out)
}

/// `GET /count`: the matches of `selection`, or every document (`None`, `_useEstimate`). When
/// only the state filters, the state index counts.
pub(super) fn count(
    conn: &mut Connection,
    table: &Table,
    selection: Option<&Selection>,
) -> Result<u64, OpError> {
    let t = &table.name;
    let by_state = match selection {
        None => Some(None),
        Some(selection) => selection.only_states(),
    };
    let Some(states) = by_state else {
        let tx = conn.transaction()?;
        let mut n = 0u64;
        if let Some(selection) = selection {
            selection.for_each(&tx, table, |_, _| {
                n += 1;
                Ok(true)
            })?;
        }
        return Ok(n);
    };
    let (sql, params) = match states {
        None => (format!("SELECT COUNT(*) FROM \"{t}\""), Vec::new()),
        Some(states) => {
            let marks: Vec<String> = (1..=states.len().max(1)).map(|i| format!("?{i}")).collect();
            let sql = format!(
                "SELECT COUNT(*) FROM \"{t}\" WHERE state IN ({})",
                marks.join(", ")
            );
            let mut params: Vec<Option<&str>> = states.iter().map(|s| Some(s.as_str())).collect();
            if params.is_empty() {
                params.push(None);
            }
            (sql, params)
        }
    };
    let n: i64 = conn
        .prepare_cached(&sql)?
        .query_row(params_from_iter(params), |row| row.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// `GET /:id`: the first match.
pub(super) fn get(
    conn: &mut Connection,
    table: &Table,
    selection: &Selection,
) -> Result<Option<Value>, OpError> {
    let tx = conn.transaction()?;
    Ok(selection.first(&tx, table)?.map(|(_, doc)| doc))
}

/// `POST /`, `POST /bulk`: inserts every document (built by `request::new_document`) with a
/// fresh `_id`, all or nothing.
pub(super) fn insert(
    conn: &mut Connection,
    table: &Table,
    ids: &IdGen,
    docs: Vec<Value>,
) -> Result<Vec<String>, OpError> {
    let tx = write_tx(conn)?;
    let mut out = Vec::with_capacity(docs.len());
    for mut doc in docs {
        let id = fresh_id(&tx, table, ids)?;
        if let Some(obj) = doc.as_object_mut() {
            obj.insert("_id".to_owned(), Value::String(id.clone()));
        }
        store(&tx, table, None, &id, &doc)?;
        out.push(id);
    }
    tx.commit()?;
    Ok(out)
}

/// `POST /import`: inserts every document (built by `bodies::imported_document`) with the
/// `_id` it carries, all or nothing; a taken `_id` is a conflict on `_id`.
pub(super) fn insert_with_ids(conn: &mut Connection, table: &Table, docs: Vec<Value>) -> Result<(), OpError> {
    let tx = write_tx(conn)?;
    for doc in docs {
        let id = doc
            .get("_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if id_taken(&tx, table, &id)? {
            return Err(OpError::Conflict {
                field: "_id".to_owned(),
                message: table.duplicate_message("_id"),
            });
        }
        store(&tx, table, None, &id, &doc)?;
    }
    tx.commit()?;
    Ok(())
}

/// An id no stored document has.
fn fresh_id(conn: &Connection, table: &Table, ids: &IdGen) -> Result<String, OpError> {
    loop {
        let id = ids.next();
        if !id_taken(conn, table, &id)? {
            return Ok(id);
        }
    }
}

/// Whether a stored document has `_id` = `id`.
fn id_taken(conn: &Connection, table: &Table, id: &str) -> Result<bool, OpError> {
    let sql = format!("SELECT 1 FROM \"{}\" WHERE id = ?1", table.name);
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Writes `doc` as a new row (`seq` `None`) or over row `seq`, after checking the unique columns.
fn store(conn: &Connection, table: &Table, seq: Option<i64>, id: &str, doc: &Value) -> Result<(), OpError> {
    super::bodies::check_writable(doc, id)?;
    table.damaged.forget(id);
    let t = &table.name;
    let columns = table.columns();
    let keys: Vec<Option<String>> = columns.iter().map(|c| field_key(doc, &c.field, id)).collect();
    for (column, key) in columns.iter().zip(&keys) {
        let Some(key) = key.as_ref().filter(|_| column.unique) else {
            continue;
        };
        let sql = format!(
            "SELECT 1 FROM \"{t}\" WHERE \"{}\" = ?1 AND seq IS NOT ?2 LIMIT 1",
            column.name
        );
        let taken = conn
            .prepare_cached(&sql)?
            .query_row(rusqlite::params![key, seq], |_| Ok(()))
            .optional()?
            .is_some();
        if taken {
            return Err(OpError::Conflict {
                field: column.field.clone(),
                message: table.duplicate_message(&column.field),
            });
        }
    }
    let state = doc
        .get("__STATE__")
        .and_then(Value::as_str)
        .and_then(State::parse)
        .map(|s| s.as_str().to_owned());
    let text = serde_json::to_string(doc).map_err(|e| OpError::Internal(e.to_string()))?;
    let mut params = vec![
        sql_text(Some(id.to_owned())),
        sql_text(state),
        SqlValue::Text(text),
    ];
    params.extend(keys.into_iter().map(sql_text));
    let names: Vec<String> = columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
    let sql = match seq {
        None => {
            let marks: Vec<String> = (1..=params.len()).map(|i| format!("?{i}")).collect();
            let mut cols = vec!["id".to_owned(), "state".to_owned(), "doc".to_owned()];
            cols.extend(names);
            format!(
                "INSERT INTO \"{t}\" ({}) VALUES ({})",
                cols.join(", "),
                marks.join(", ")
            )
        }
        Some(seq) => {
            params.push(SqlValue::Integer(seq));
            let mut sets = vec![
                "id = ?1".to_owned(),
                "state = ?2".to_owned(),
                "doc = ?3".to_owned(),
            ];
            sets.extend(names.iter().enumerate().map(|(i, n)| format!("{n} = ?{}", i + 4)));
            format!(
                "UPDATE \"{t}\" SET {} WHERE seq = ?{}",
                sets.join(", "),
                params.len()
            )
        }
    };
    conn.prepare_cached(&sql)?.execute(params_from_iter(params))?;
    Ok(())
}

/// Replaces row `seq` with `doc` (same `_id`).
pub(super) fn replace(conn: &Connection, table: &Table, seq: i64, doc: &Value) -> Result<(), OpError> {
    let id = doc
        .get("_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    store(conn, table, Some(seq), &id, doc)
}

/// `doc` after `update`, with `updaterId`/`updatedAt` set. Positional operators resolve against
/// the selection's filter. An operator failing on this document fails the call, as MongoDB does.
fn updated(doc: &Value, update: &Value, author: &Author, filter: Option<&Value>) -> Result<Value, OpError> {
    let mut doc = doc.clone();
    if !is_noop(update) {
        let result = match filter {
            Some(filter) => docquery::apply_update_with_filter(&mut doc, update, &author.now, filter),
            None => docquery::apply_update(&mut doc, update, &author.now),
        };
        result.map_err(|e| OpError::Rejected(e.0))?;
    }
    touch(&mut doc, author);
    Ok(doc)
}

pub(super) fn touch(doc: &mut Value, author: &Author) {
    docquery::touch(doc, &author.user, &author.now);
}

/// `PATCH /:id`: compare-and-set; the updated document, or `None` with nothing written.
pub(super) fn patch_one(
    conn: &mut Connection,
    table: &Table,
    selection: &Selection,
    update: &Value,
    author: &Author,
) -> Result<Option<Value>, OpError> {
    let tx = write_tx(conn)?;
    let Some((seq, doc)) = selection.first(&tx, table)? else {
        return Ok(None);
    };
    let new = updated(&doc, update, author, selection.filter())?;
    replace(&tx, table, seq, &new)?;
    tx.commit()?;
    Ok(Some(new))
}

/// `PATCH /`: every match updated, all or nothing; the count.
pub(super) fn patch_many(
    conn: &mut Connection,
    table: &Table,
    selection: &Selection,
    update: &Value,
    author: &Author,
) -> Result<u64, OpError> {
    let tx = write_tx(conn)?;
    let mut n = 0;
    selection.for_each(&tx, table, |seq, doc| {
        let new = updated(&doc, update, author, selection.filter())?;
        replace(&tx, table, seq, &new)?;
        n += 1;
        Ok(true)
    })?;
    tx.commit()?;
    Ok(n)
}

/// `PATCH /bulk`: each item updates its first match; like an unordered bulk write every item
/// runs and the first refusal is returned after the others are written.
pub(super) fn patch_bulk(
    conn: &mut Connection,
    table: &Table,
    items: &[(Selection, Value)],
    author: &Author,
) -> Result<u64, OpError> {
    let tx = write_tx(conn)?;
    let (mut n, mut first_error) = (0, None);
    for (selection, update) in items {
        let result = match selection.first(&tx, table)? {
            None => Ok(0),
            Some((seq, doc)) => updated(&doc, update, author, selection.filter())
                .and_then(|new| replace(&tx, table, seq, &new))
                .map(|()| 1),
        };
        match result {
            Ok(k) => n += k,
            Err(OpError::Sqlite(e)) => return Err(OpError::Sqlite(e)),
            Err(refusal) => {
                first_error.get_or_insert(refusal);
            }
        }
    }
    tx.commit()?;
    first_error.map_or(Ok(n), Err)
}

/// `DELETE /:id` (`limit` 1) and `DELETE /`: the number deleted.
pub(super) fn delete(
    conn: &mut Connection,
    table: &Table,
    selection: &Selection,
    limit: Option<u64>,
) -> Result<u64, OpError> {
    let tx = write_tx(conn)?;
    let sql = format!("DELETE FROM \"{}\" WHERE seq = ?1", table.name);
    let mut n = 0;
    selection.for_each(&tx, table, |seq, doc| {
        tx.prepare_cached(&sql)?.execute([seq])?;
        // A deleted document is no longer damaged (stub or beyond the depth limit).
        table
            .damaged
            .forget(doc.get("_id").and_then(Value::as_str).unwrap_or_default());
        n += 1;
        Ok(limit.is_none_or(|l| n < l))
    })?;
    tx.commit()?;
    Ok(n)
}
