//! Reading candidate rows page by page: a scan of the collection in insertion order, or the rows
//! an index lookup (`id`, unique and indexed fields) found; plus those lookups and their SQL.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering as AtomicOrdering;

use docquery::State;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection};
use serde_json::Value;

use super::schema::{Table, COMPOSITE_RANGE};
use super::OpError;
use crate::store::unreadable;

/// Rows read from SQLite at a time.
pub(super) const PAGE_SIZE: usize = 500;

/// The first page of a scan or of index candidates: a list of 25 usually fills from it, without
/// parsing 500 documents; later pages double up to [`PAGE_SIZE`].
const FIRST_SCAN_PAGE: usize = 32;

/// Where a cursor reads its candidates.
#[derive(Debug)]
enum Source {
    /// The whole collection, by `seq` after `after`, `page` rows at a time.
    Scan { after: i64, done: bool, page: usize },
    /// These rows, in this order, from `pos` on, `page` at a time.
    Seqs { seqs: Vec<i64>, pos: usize, page: usize },
}

impl Source {
    fn seqs(seqs: Vec<i64>) -> Self {
        Self::Seqs {
            seqs,
            pos: 0,
            page: FIRST_SCAN_PAGE,
        }
    }
}

/// Reads candidate rows (in an accepted state) page by page; owns its position, so an export can
/// take one page per lock of the connection.
#[derive(Debug)]
pub(super) struct Cursor {
    states: Option<Vec<State>>,
    source: Source,
}

impl Cursor {
    /// A cursor over the whole collection, in insertion order, in one of `states`.
    pub fn scan(states: Option<Vec<State>>) -> Self {
        Self {
            states,
            source: Source::Scan {
                after: i64::MIN,
                done: false,
                page: FIRST_SCAN_PAGE,
            },
        }
    }

    /// A cursor over the rows `seqs`, in that order, in one of `states`.
    pub fn over(states: Option<Vec<State>>, seqs: Vec<i64>) -> Self {
        Self {
            states,
            source: Source::seqs(seqs),
        }
    }

    /// Reads [`PAGE_SIZE`] rows a page from the start (a reader that wants every match).
    pub fn full_pages(mut self) -> Self {
        match &mut self.source {
            Source::Scan { page, .. } | Source::Seqs { page, .. } => *page = PAGE_SIZE,
        }
        self
    }

    /// The next page of candidates (`None` when done); a page may be empty.
    pub fn next_page(
        &mut self,
        conn: &Connection,
        table: &Table,
    ) -> Result<Option<Vec<(i64, Value)>>, OpError> {
        let states = self.state_params();
        let state_count = self.states.as_ref().map(|_| states.len());
        let rows = match &mut self.source {
            Source::Scan { done: true, .. } => return Ok(None),
            Source::Scan { after, done, page } => {
                let mut params = vec![SqlValue::Integer(*after)];
                params.extend(states);
                let rows = fetch(conn, table, &scan_sql(table, state_count, *page), params)?;
                match rows.last() {
                    Some((last, _)) if rows.len() == *page => *after = *last,
                    _ => *done = true,
                }
                *page = (*page * 2).min(PAGE_SIZE);
                rows
            }
            Source::Seqs { seqs, pos, page } => {
                if *pos >= seqs.len() {
                    return Ok(None);
                }
                let chunk = &seqs[*pos..(*pos + *page).min(seqs.len())];
                *pos += chunk.len();
                *page = (*page * 2).min(PAGE_SIZE);
                let mut params: Vec<SqlValue> = chunk.iter().map(|s| SqlValue::Integer(*s)).collect();
                params.extend(states);
                let mut rows = fetch(conn, table, &rows_sql(table, chunk.len(), state_count), params)?;
                let order: HashMap<i64, usize> = chunk.iter().enumerate().map(|(i, s)| (*s, i)).collect();
                rows.sort_by_key(|(seq, _)| order.get(seq).copied().unwrap_or(usize::MAX));
                rows
            }
        };
        table
            .rows_read
            .fetch_add(rows.len() as u64, AtomicOrdering::Relaxed);
        Ok(Some(rows))
    }

    /// The accepted states as parameters.
    fn state_params(&self) -> Vec<SqlValue> {
        state_params(self.states.as_deref())
    }
}

/// `states` as parameters (`NULL`, which matches nothing, for an empty set; none for any).
fn state_params(states: Option<&[State]>) -> Vec<SqlValue> {
    let Some(states) = states else {
        return Vec::new();
    };
    if states.is_empty() {
        return vec![SqlValue::Null];
    }
    states
        .iter()
        .map(|s| SqlValue::Text(s.as_str().to_owned()))
        .collect()
}

/// The rows in `states`, sorted by `order` (an `ORDER BY` over indexed expressions): after
/// `skip`, at most `limit` of them; only their `seq`.
pub(super) fn ordered_seqs(
    conn: &Connection,
    table: &Table,
    states: Option<&[State]>,
    order: &str,
    skip: usize,
    limit: Option<usize>,
) -> Result<Vec<i64>, OpError> {
    let params = state_params(states);
    let limit = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let sql = ordered_sql(table, states.map(|_| params.len()), order, "seq", limit, skip);
    let mut seqs = Vec::new();
    let mut stmt = conn.prepare_cached(&sql)?;
    for seq in stmt.query_map(params_from_iter(params), |row| row.get::<_, i64>(0))? {
        seqs.push(seq?);
    }
    table
        .rows_read
        .fetch_add(seqs.len() as u64, AtomicOrdering::Relaxed);
    Ok(seqs)
}

/// Calls `visit` with every row in `states` and its document, sorted by `order`, until it
/// returns `false`: one statement stepped row by row (no `OFFSET` pages, which would walk the
/// index again from the start for each page).
pub(super) fn walk_ordered(
    conn: &Connection,
    table: &Table,
    states: Option<&[State]>,
    order: &str,
    mut visit: impl FnMut(i64, Value) -> Result<bool, OpError>,
) -> Result<(), OpError> {
    let params = state_params(states);
    let sql = ordered_sql(table, states.map(|_| params.len()), order, "seq, doc", -1, 0);
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    while let Some(row) = rows.next()? {
        let (seq, text) = (row.get::<_, i64>(0)?, row.get::<_, String>(1)?);
        table.rows_read.fetch_add(1, AtomicOrdering::Relaxed);
        if !visit(seq, parse_row(table, seq, &text)?)? {
            break;
        }
    }
    Ok(())
}

/// `select` of the rows in one of `states` states (`?1`, ...), sorted by `order`, `limit` of them
/// (`-1`: all) after `offset`.
pub(super) fn ordered_sql(
    table: &Table,
    states: Option<usize>,
    order: &str,
    select: &str,
    limit: i64,
    offset: usize,
) -> String {
    let state = state_sql(1, states);
    format!(
        "SELECT {select} FROM \"{}\" WHERE 1{state} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
        table.name
    )
}

/// A page of `limit` rows of the scan: rows after `?1`, in one of `states` states (`?2`, ...),
/// in insertion order.
pub(super) fn scan_sql(table: &Table, states: Option<usize>, limit: usize) -> String {
    let state = state_sql(2, states);
    format!(
        "SELECT seq, doc FROM \"{}\" WHERE seq > ?1{state} ORDER BY seq LIMIT {limit}",
        table.name
    )
}

/// The rows `?1`..`?count`, in one of `states` states (the following parameters).
pub(super) fn rows_sql(table: &Table, count: usize, states: Option<usize>) -> String {
    let (marks, state) = (placeholders(1, count), state_sql(count + 1, states));
    format!(
        "SELECT seq, doc FROM \"{}\" WHERE seq IN ({marks}){state}",
        table.name
    )
}

/// ` AND +state IN (?first, ...)`: the unary `+` keeps SQLite from reading through the state
/// index, which would sort every page of a scan over several states.
fn state_sql(first: usize, states: Option<usize>) -> String {
    match states {
        None => String::new(),
        Some(n) => format!(" AND +state IN ({})", placeholders(first, n.max(1))),
    }
}

/// `?first, ?first+1, ...` (`count` of them).
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs a `SELECT seq, doc` and parses the documents. A document that cannot be read whole
/// (nested deeper than `serde_json` reads, from an earlier version) is recorded as damaged and
/// comes back as a stub of its top-level scalar fields (see `store::unreadable`).
fn fetch(
    conn: &Connection,
    table: &Table,
    sql: &str,
    params: Vec<SqlValue>,
) -> Result<Vec<(i64, Value)>, OpError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params_from_iter(params), |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, text) = row?;
        out.push((seq, parse_row(table, seq, &text)?));
    }
    Ok(out)
}

/// A stored document, or the stub of one that cannot be read whole (recorded as damaged).
fn parse_row(table: &Table, seq: i64, text: &str) -> Result<Value, OpError> {
    match serde_json::from_str(text) {
        Ok(doc) => Ok(doc),
        Err(e) => damaged_stub(table, seq, text, &e),
    }
}

fn damaged_stub(table: &Table, seq: i64, text: &str, error: &serde_json::Error) -> Result<Value, OpError> {
    let depth = unreadable::json_depth(text.as_bytes());
    let reason = if depth > docquery::Limits::STORE.max_depth {
        format!(
            "nested {depth} levels deep, more than the service can read; only its top-level fields are shown"
        )
    } else {
        format!("not readable JSON ({error})")
    };
    let stub = unreadable::shallow_stub(text, &reason)
        .ok_or_else(|| OpError::Internal(format!("stored document {seq} is not JSON: {error}")))?;
    let id = stub.get("_id").and_then(Value::as_str).unwrap_or_default();
    table.damaged.record(&table.path, id, &reason);
    Ok(stub)
}

/// Rows whose `id` is one of `ids`, in insertion order (through the `id` index).
pub(super) fn lookup_ids(conn: &Connection, table: &Table, ids: &[String]) -> Result<Vec<i64>, OpError> {
    let mut seqs = BTreeSet::new();
    for chunk in ids.chunks(PAGE_SIZE) {
        let params = chunk.iter().map(|s| SqlValue::Text(s.clone()));
        collect_seqs(conn, &ids_sql(table, chunk.len()), params, &mut seqs)?;
    }
    Ok(seqs.into_iter().collect())
}

/// Rows whose `column` holds one of `keys` or a composite value (which may contain one), in
/// insertion order (through the column's index).
pub(super) fn lookup_keys(
    conn: &Connection,
    table: &Table,
    column: &str,
    keys: &[String],
) -> Result<Vec<i64>, OpError> {
    let mut seqs = BTreeSet::new();
    for chunk in keys.chunks(PAGE_SIZE) {
        let params = chunk.iter().map(|s| SqlValue::Text(s.clone()));
        collect_seqs(conn, &keys_sql(table, column, chunk.len()), params, &mut seqs)?;
    }
    let (low, high) = COMPOSITE_RANGE;
    let range = [SqlValue::Text(low.to_owned()), SqlValue::Text(high.to_owned())];
    collect_seqs(conn, &composite_sql(table, column), range, &mut seqs)?;
    Ok(seqs.into_iter().collect())
}

/// The rows whose `id` is one of `count` parameters.
pub(super) fn ids_sql(table: &Table, count: usize) -> String {
    let marks = placeholders(1, count);
    format!("SELECT seq FROM \"{}\" WHERE id IN ({marks})", table.name)
}

/// The rows whose `column` holds one of `count` parameters.
pub(super) fn keys_sql(table: &Table, column: &str, count: usize) -> String {
    let marks = placeholders(1, count);
    format!(
        "SELECT seq FROM \"{}\" WHERE \"{column}\" IN ({marks})",
        table.name
    )
}

/// The rows whose `column` holds a composite value (a key between `?1` and `?2`).
pub(super) fn composite_sql(table: &Table, column: &str) -> String {
    format!(
        "SELECT seq FROM \"{}\" WHERE \"{column}\" >= ?1 AND \"{column}\" < ?2",
        table.name
    )
}

fn collect_seqs(
    conn: &Connection,
    sql: &str,
    params: impl IntoIterator<Item = SqlValue>,
    into: &mut BTreeSet<i64>,
) -> Result<(), OpError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params_from_iter(params), |row| row.get::<_, i64>(0))?;
    for seq in rows {
        into.insert(seq?);
    }
    Ok(())
}
