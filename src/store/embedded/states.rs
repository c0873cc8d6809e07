//! `__STATE__` changes of a collection on its SQLite table (`POST /:id/state`, `POST /state`), each
//! in one `IMMEDIATE` transaction like the other writes of `ops`.

use docquery::State;
use rusqlite::Connection;
use serde_json::Value;

use super::ops::{replace, touch, write_tx, Author};
use super::schema::Table;
use super::select::Selection;
use super::OpError;

/// `POST /:id/state`: `false` when nothing matches; a forbidden transition is refused.
pub(super) fn set_state(
    conn: &mut Connection,
    table: &Table,
    selection: &Selection,
    to: State,
    author: &Author,
) -> Result<bool, OpError> {
    let tx = write_tx(conn)?;
    let Some((seq, mut doc)) = selection.first(&tx, table)? else {
        return Ok(false);
    };
    let current = doc.get("__STATE__").and_then(Value::as_str).map(str::to_owned);
    if !docquery::transition_allowed(current.as_deref().and_then(State::parse), to) {
        return Err(OpError::Rejected(format!(
            "transition from {} to {} not allowed.",
            current.as_deref().unwrap_or("undefined"),
            to.as_str()
        )));
    }
    move_to(&tx, table, seq, &mut doc, to, author)?;
    tx.commit()?;
    Ok(true)
}

fn move_to(
    conn: &Connection,
    table: &Table,
    seq: i64,
    doc: &mut Value,
    to: State,
    author: &Author,
) -> Result<(), OpError> {
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("__STATE__".into(), Value::String(to.as_str().to_owned()));
    }
    touch(doc, author);
    replace(conn, table, seq, doc)
}

/// `POST /state`: each item moves its matches (already limited to the valid source states).
pub(super) fn set_state_many(
    conn: &mut Connection,
    table: &Table,
    items: &[(Selection, State)],
    author: &Author,
) -> Result<u64, OpError> {
    let tx = write_tx(conn)?;
    let mut n = 0;
    for (selection, to) in items {
        selection.for_each(&tx, table, |seq, mut doc| {
            move_to(&tx, table, seq, &mut doc, *to, author)?;
            n += 1;
            Ok(true)
        })?;
    }
    tx.commit()?;
    Ok(n)
}
