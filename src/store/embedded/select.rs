//! Which documents a request addresses: the state set (in SQL), the path id and the ANDed filter
//! parts (evaluated with `docquery`); candidates are read through the `id` or a field index when
//! the filter has an equality or `$in` on it, else by a scan.

use std::cmp::Ordering;

use docquery::{SortKey, State};
use rusqlite::Connection;
use serde_json::Value;

use super::cursor::{lookup_ids, lookup_keys, ordered_seqs, walk_ordered, Cursor};
use super::plan;
use super::schema::Table;
use super::OpError;

/// The documents one request addresses: a [`docquery::Selection`] read from SQLite.
#[derive(Clone, Debug)]
pub(super) struct Selection(docquery::Selection);

impl Selection {
    /// The documents in `states` (any if `None`) with `_id = id` (if set) matching every part.
    pub fn new(states: Option<Vec<State>>, id: Option<String>, parts: Vec<Value>) -> Self {
        Self(docquery::Selection::new(states, id, parts))
    }

    /// The accepted states (`None`: any).
    pub fn states(&self) -> Option<Vec<State>> {
        self.0.states().map(<[State]>::to_vec)
    }

    /// The ANDed filter parts (positional updates resolve against it).
    pub fn filter(&self) -> Option<&Value> {
        self.0.filter()
    }

    /// The accepted states when nothing else filters (a count can then use the state index).
    pub fn only_states(&self) -> Option<Option<&[State]>> {
        self.0.only_states()
    }

    /// Whether a candidate (already in an accepted state) passes the id and the filter.
    pub fn matches(&self, doc: &Value) -> Result<bool, OpError> {
        self.0.matches(doc, false).map_err(|e| OpError::Rejected(e.0))
    }

    /// A cursor over the candidates, in insertion order: through the `id` or a field index when
    /// the filter allows it, else over the whole collection.
    pub fn cursor(&self, conn: &Connection, table: &Table) -> Result<Cursor, OpError> {
        let states = self.states();
        let seqs = match self.0.id() {
            Some(id) => Some(lookup_ids(conn, table, &[id.to_owned()])?),
            None => self.indexed_lookup(conn, table)?,
        };
        Ok(match seqs {
            Some(seqs) => Cursor::over(states, seqs),
            None => Cursor::scan(states),
        })
    }

    /// The candidates of the first equality, then `$in`, hint on `_id` or an indexed field, else
    /// of the first key range (comparison, anchored `$regex`) on an indexed field.
    fn indexed_lookup(&self, conn: &Connection, table: &Table) -> Result<Option<Vec<i64>>, OpError> {
        if let Some(seqs) = self.hinted_lookup(conn, table)? {
            return Ok(Some(seqs));
        }
        let Some(filter) = self.0.filter() else {
            return Ok(None);
        };
        for (field, range) in plan::key_ranges(filter) {
            if let Some(column) = table.column(&field) {
                return plan::lookup_range(conn, table, &column.name, &range).map(Some);
            }
        }
        Ok(None)
    }

    /// The candidates of the first equality or `$in` hint on `_id` or an indexed field.
    fn hinted_lookup(&self, conn: &Connection, table: &Table) -> Result<Option<Vec<i64>>, OpError> {
        for (field, values) in self.0.hints() {
            if field == "_id" {
                let ids: Vec<String> = values
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                return lookup_ids(conn, table, &ids).map(Some);
            }
            if let Some(column) = table.column(field) {
                let keys: Vec<String> = values.iter().filter_map(docquery::index_key).collect();
                return lookup_keys(conn, table, &column.name, &keys).map(Some);
            }
        }
        Ok(None)
    }

    /// Calls `visit` with every match in insertion order until it returns `false`.
    pub fn for_each(
        &self,
        conn: &Connection,
        table: &Table,
        visit: impl FnMut(i64, Value) -> Result<bool, OpError>,
    ) -> Result<(), OpError> {
        let cursor = self.cursor(conn, table)?;
        self.visit(conn, table, cursor, visit)
    }

    /// The first match.
    pub fn first(&self, conn: &Connection, table: &Table) -> Result<Option<(i64, Value)>, OpError> {
        let mut found = None;
        self.for_each(conn, table, |seq, doc| {
            found = Some((seq, doc));
            Ok(false)
        })?;
        Ok(found)
    }

    /// The sequence numbers of the matches ordered by `keys` (ties in insertion order), after
    /// skipping `skip` and keeping at most `limit`. Read in index order when every key has an
    /// index and no index narrows the candidates to fewer than [`SORT_IN_MEMORY`] rows; else the
    /// candidates are sorted in memory.
    pub fn sorted_window(
        &self,
        conn: &Connection,
        table: &Table,
        keys: &[SortKey],
        skip: usize,
        limit: Option<usize>,
    ) -> Result<Vec<i64>, OpError> {
        let candidates = match self.0.id() {
            Some(id) => Some(lookup_ids(conn, table, &[id.to_owned()])?),
            None => self.indexed_lookup(conn, table)?,
        };
        let narrow = candidates.as_ref().is_some_and(|c| c.len() <= SORT_IN_MEMORY);
        if !narrow {
            if let Some(order) = plan::index_order(conn, table, keys)? {
                return self.walk_in_order(conn, table, &order, skip, limit);
            }
        }
        // Every candidate is read: full pages from the start.
        let cursor = match candidates {
            Some(seqs) => Cursor::over(self.states(), seqs),
            None => Cursor::scan(self.states()),
        }
        .full_pages();
        let mut rows: Vec<(Vec<Option<Value>>, i64)> = Vec::new();
        self.visit(conn, table, cursor, |seq, doc| {
            let values = keys
                .iter()
                .map(|k| docquery::get_path(&doc, &k.path).cloned())
                .collect();
            rows.push((values, seq));
            Ok(true)
        })?;
        rows.sort_by(|(a, _), (b, _)| compare_keys(a, b, keys));
        Ok(rows
            .into_iter()
            .skip(skip)
            .take(limit.unwrap_or(usize::MAX))
            .map(|(_, seq)| seq)
            .collect())
    }

    /// The window of matches read in `order` (an SQL `ORDER BY` over indexes): straight from
    /// SQL when only the state filters, else page by page with every row checked.
    fn walk_in_order(
        &self,
        conn: &Connection,
        table: &Table,
        order: &str,
        skip: usize,
        limit: Option<usize>,
    ) -> Result<Vec<i64>, OpError> {
        let states = self.states();
        if self.0.filter().is_none() && self.0.id().is_none() {
            return ordered_seqs(conn, table, states.as_deref(), order, skip, limit);
        }
        let wanted = limit.map_or(usize::MAX, |l| skip.saturating_add(l));
        let mut out = Vec::new();
        walk_ordered(conn, table, states.as_deref(), order, |seq, doc| {
            if self.matches(&doc)? {
                out.push(seq);
            }
            Ok(out.len() < wanted)
        })?;
        Ok(out.into_iter().skip(skip).collect())
    }

    /// Calls `visit` with every match of `cursor` until it returns `false`.
    fn visit(
        &self,
        conn: &Connection,
        table: &Table,
        mut cursor: Cursor,
        mut visit: impl FnMut(i64, Value) -> Result<bool, OpError>,
    ) -> Result<(), OpError> {
        while let Some(rows) = cursor.next_page(conn, table)? {
            for (seq, doc) in rows {
                if self.matches(&doc)? && !visit(seq, doc)? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// Above this many candidates from an index, a sort with an index of its own reads in that
/// order instead of sorting the candidates in memory.
const SORT_IN_MEMORY: usize = 5_000;

/// `docquery::compare` on extracted sort values.
fn compare_keys(a: &[Option<Value>], b: &[Option<Value>], keys: &[SortKey]) -> Ordering {
    for ((x, y), key) in a.iter().zip(b).zip(keys) {
        let o = docquery::compare_values(x.as_ref(), y.as_ref());
        let o = if key.descending { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}
