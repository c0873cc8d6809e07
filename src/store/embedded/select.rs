//! Which documents a request addresses: the state set (in SQL), the path id and the ANDed filter
//! parts (evaluated with `docquery`); candidates are read through the `id` or a field index when
//! the filter has an equality or `$in` on it, else by a scan.

use std::cmp::Ordering;

use docquery::{SortKey, State};
use rusqlite::Connection;
use serde_json::{json, Value};

use super::cursor::{lookup_ids, lookup_keys, Cursor};
use super::schema::{value_key, Table};
use super::Failure;

/// The documents one request addresses.
#[derive(Clone, Debug)]
pub(super) struct Selection {
    /// Accepted `__STATE__` values; `None` accepts any document.
    states: Option<Vec<State>>,
    /// The path id.
    id: Option<String>,
    /// The ANDed filter parts; `None` when there are none.
    filter: Option<Value>,
    /// `field = scalar` conditions (plain or `$eq`), usable through an index.
    eq_hints: Vec<(String, Value)>,
    /// `field ∈ [scalars]` conditions (`$in`), usable through an index.
    in_hints: Vec<(String, Vec<Value>)>,
}

impl Selection {
    /// The documents in `states` (any if `None`) with `_id = id` (if set) matching every part.
    pub fn new(states: Option<Vec<State>>, id: Option<String>, parts: Vec<Value>) -> Self {
        let (mut eq_hints, mut in_hints) = (Vec::new(), Vec::new());
        for part in &parts {
            collect_hints(part, &mut eq_hints, &mut in_hints);
        }
        let filter = match parts.len() {
            0 => None,
            1 => parts.into_iter().next(),
            _ => Some(json!({ "$and": parts })),
        };
        Self {
            states,
            id,
            filter,
            eq_hints,
            in_hints,
        }
    }

    /// The accepted states (`None`: any).
    pub fn states(&self) -> Option<Vec<State>> {
        self.states.clone()
    }

    /// The ANDed filter parts (positional updates resolve against it).
    pub fn filter(&self) -> Option<&Value> {
        self.filter.as_ref()
    }

    /// The accepted states when nothing else filters (a count can then use the state index).
    pub fn only_states(&self) -> Option<Option<&[State]>> {
        (self.id.is_none() && self.filter.is_none()).then_some(self.states.as_deref())
    }

    /// Whether a candidate (already in an accepted state) passes the id and the filter.
    pub fn matches(&self, doc: &Value) -> Result<bool, Failure> {
        if let Some(id) = &self.id {
            if doc.get("_id").and_then(Value::as_str) != Some(id.as_str()) {
                return Ok(false);
            }
        }
        match &self.filter {
            None => Ok(true),
            Some(filter) => docquery::matches(doc, filter).map_err(|e| Failure::Rejected(e.0)),
        }
    }

    /// A cursor over the candidates, in insertion order: through the `id` or a field index when
    /// the filter allows it, else over the whole collection.
    pub fn cursor(&self, conn: &Connection, table: &Table) -> Result<Cursor, Failure> {
        let states = self.states.clone();
        let seqs = match &self.id {
            Some(id) => Some(lookup_ids(conn, table, std::slice::from_ref(id))?),
            None => self.indexed_lookup(conn, table)?,
        };
        Ok(match seqs {
            Some(seqs) => Cursor::over(states, seqs),
            None => Cursor::scan(states),
        })
    }

    /// The candidates of the first equality, then `$in`, hint on `_id` or an indexed field.
    fn indexed_lookup(&self, conn: &Connection, table: &Table) -> Result<Option<Vec<i64>>, Failure> {
        let eq = self.eq_hints.iter().map(|(f, v)| (f, std::slice::from_ref(v)));
        let within = self.in_hints.iter().map(|(f, vs)| (f, vs.as_slice()));
        for (field, values) in eq.chain(within) {
            if field == "_id" {
                let ids: Vec<String> = values
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                return lookup_ids(conn, table, &ids).map(Some);
            }
            if let Some(column) = table.column(field) {
                let keys: Vec<String> = values.iter().filter_map(value_key).collect();
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
        mut visit: impl FnMut(i64, Value) -> Result<bool, Failure>,
    ) -> Result<(), Failure> {
        let mut cursor = self.cursor(conn, table)?;
        while let Some(rows) = cursor.next_page(conn, table)? {
            for (seq, doc) in rows {
                if self.matches(&doc)? && !visit(seq, doc)? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The first match.
    pub fn first(&self, conn: &Connection, table: &Table) -> Result<Option<(i64, Value)>, Failure> {
        let mut found = None;
        self.for_each(conn, table, |seq, doc| {
            found = Some((seq, doc));
            Ok(false)
        })?;
        Ok(found)
    }

    /// The sequence numbers of the matches ordered by `keys` (ties in insertion order), after
    /// skipping `skip` and keeping at most `limit`.
    pub fn sorted_window(
        &self,
        conn: &Connection,
        table: &Table,
        keys: &[SortKey],
        skip: usize,
        limit: Option<usize>,
    ) -> Result<Vec<i64>, Failure> {
        let mut rows: Vec<(Vec<Option<Value>>, i64)> = Vec::new();
        self.for_each(conn, table, |seq, doc| {
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
}

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

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// Collects the `field = scalar` (plain or `$eq`) and `field ∈ [scalars]` conditions of a filter
/// part, recursing into `$and`.
fn collect_hints(part: &Value, eq: &mut Vec<(String, Value)>, within: &mut Vec<(String, Vec<Value>)>) {
    let Some(obj) = part.as_object() else { return };
    for (key, value) in obj {
        if key == "$and" {
            for sub in value.as_array().into_iter().flatten() {
                collect_hints(sub, eq, within);
            }
        } else if key.starts_with('$') {
            continue;
        } else if is_scalar(value) {
            eq.push((key.clone(), value.clone()));
        } else if let Some(ops) = value.as_object().filter(|o| o.keys().all(|k| k.starts_with('$'))) {
            if let Some(v) = ops.get("$eq").filter(|v| is_scalar(v)) {
                eq.push((key.clone(), v.clone()));
            }
            if let Some(values) = ops.get("$in").and_then(Value::as_array) {
                if values.iter().all(is_scalar) {
                    within.push((key.clone(), values.clone()));
                }
            }
        }
    }
}
