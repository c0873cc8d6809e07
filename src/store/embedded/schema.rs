//! The SQLite layout of one collection: its table (`seq`, `id`, `state`, `doc` and one column per
//! unique or indexed field), the index key stored for a field's value, and the creation or
//! migration of the table and its indexes when a collection is opened.

use std::sync::atomic::AtomicU64;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, TransactionBehavior};
use serde_json::Value;

/// A text value or SQL NULL, as a statement parameter.
pub(super) fn sql_text(value: Option<String>) -> SqlValue {
    value.map_or(SqlValue::Null, SqlValue::Text)
}

/// One unique or indexed field and its column.
#[derive(Clone, Debug)]
pub(super) struct Column {
    /// Dotted field path (`email`).
    pub field: String,
    /// Column name (`f_email`), safe inside double quotes.
    pub name: String,
    /// Whether two documents may not share a value.
    pub unique: bool,
}

/// One collection's table and its fixed configuration.
#[derive(Debug)]
pub(super) struct Table {
    /// Collection path, for messages: `/users`.
    pub path: String,
    /// Table name (`docs_users`), safe inside double quotes.
    pub name: String,
    /// The unique and indexed fields.
    pub columns: Vec<Column>,
    /// Rows read from SQLite so far (tests check that lookups do not scan).
    pub rows_read: AtomicU64,
    /// Stored documents that cannot be read whole (reported by `/-/check-up`).
    pub damaged: crate::store::unreadable::DamagedDocs,
}

impl Table {
    /// The column of `field`, when it is unique or indexed.
    pub fn column(&self, field: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.field == field)
    }

    /// The conflict message of a duplicate `field`, in words (`a user with this email already
    /// exists`), as the CRUD adapter words the CRUD Service's E11000 text.
    pub fn duplicate_message(&self, field: &str) -> String {
        crate::store::duplicate::in_words(
            &crate::store::duplicate::item_name(&self.path),
            &[field.to_owned()],
        )
    }
}

/// `name` with every character other than ASCII letters and digits escaped as `_xx` (hex), so
/// different names never map to the same identifier.
fn sanitise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("_{byte:02x}"));
        }
    }
    out
}

/// The table of the collection at `path` (`/users` → `docs_users`).
pub(super) fn table_name(path: &str) -> String {
    format!("docs_{}", sanitise(path.trim_matches('/')))
}

/// Keys ([`docquery::index_key`]) of composite values (arrays, objects) start with `j`: an equality on the field may match
/// them ("array contains"), so index lookups always add the rows in this key range.
pub(super) const COMPOSITE_RANGE: (&str, &str) = ("j", "k");

/// The index key of `field` in `doc` (`None` when missing or null). A path through an array
/// (`a.b` with `a` an array) gets a composite key unique to the document, so lookups still find
/// it and it never collides.
pub(super) fn field_key(doc: &Value, field: &str, id: &str) -> Option<String> {
    let mut current = doc;
    let mut segments = field.split('.').peekable();
    while let Some(segment) = segments.next() {
        current = match current {
            Value::Object(map) => map.get(segment)?,
            Value::Array(_) => return Some(format!("j#{id}")),
            _ => return None,
        };
        if segments.peek().is_some() && current.is_array() {
            return Some(format!("j#{id}"));
        }
    }
    docquery::index_key(current)
}

/// Creates the table of `path` with its columns and indexes, or brings an existing one up to
/// date: new columns are added and filled from the stored documents, columns of fields no longer
/// configured are dropped. Fails if existing documents break a new unique index.
pub(super) fn prepare(
    conn: &mut Connection,
    path: &str,
    unique: &[&str],
    indexed: &[&str],
) -> rusqlite::Result<Table> {
    let mut columns: Vec<Column> = Vec::new();
    for (fields, is_unique) in [(unique, true), (indexed, false)] {
        for field in fields.iter().filter(|f| **f != "_id") {
            if !columns.iter().any(|c| c.field == *field) {
                columns.push(Column {
                    field: (*field).to_owned(),
                    name: format!("f_{}", sanitise(field)),
                    unique: is_unique,
                });
            }
        }
    }
    let table = Table {
        path: format!("/{}", path.trim_matches('/')),
        name: table_name(path),
        columns,
        rows_read: AtomicU64::new(0),
        damaged: Default::default(),
    };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let t = &table.name;
    tx.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS \"{t}\" (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, \
         state TEXT, doc TEXT NOT NULL);
         CREATE INDEX IF NOT EXISTS \"{t}__state\" ON \"{t}\"(state);"
    ))?;
    let existing = existing_columns(&tx, t)?;
    for stale in existing
        .iter()
        .filter(|n| !table.columns.iter().any(|c| &c.name == *n))
    {
        tx.execute_batch(&format!(
            "DROP INDEX IF EXISTS \"{t}__u_{stale}\"; DROP INDEX IF EXISTS \"{t}__i_{stale}\";
             ALTER TABLE \"{t}\" DROP COLUMN \"{stale}\";"
        ))?;
    }
    let added: Vec<&Column> = table
        .columns
        .iter()
        .filter(|c| !existing.contains(&c.name))
        .collect();
    for column in &added {
        tx.execute_batch(&format!(
            "ALTER TABLE \"{t}\" ADD COLUMN \"{}\" TEXT",
            column.name
        ))?;
    }
    if !added.is_empty() {
        backfill(&tx, &table, &added)?;
    }
    for column in &table.columns {
        let n = &column.name;
        let (keep, drop, kind) = if column.unique {
            ("u", "i", "UNIQUE INDEX")
        } else {
            ("i", "u", "INDEX")
        };
        tx.execute_batch(&format!(
            "DROP INDEX IF EXISTS \"{t}__{drop}_{n}\";
             CREATE {kind} IF NOT EXISTS \"{t}__{keep}_{n}\" ON \"{t}\"(\"{n}\");"
        ))?;
    }
    tx.commit()?;
    Ok(table)
}

/// The `f_*` columns the table has now.
fn existing_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info(\"{table}\")"))?;
    let names = stmt.query_map([], |row| row.get::<_, String>(1))?;
    let mut out = Vec::new();
    for name in names {
        let name = name?;
        if name.starts_with("f_") {
            out.push(name);
        }
    }
    Ok(out)
}

/// Fills newly added columns from the stored documents.
fn backfill(conn: &Connection, table: &Table, columns: &[&Column]) -> rusqlite::Result<()> {
    let t = &table.name;
    let sets: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("\"{}\" = ?{}", c.name, i + 2))
        .collect();
    let update = format!("UPDATE \"{t}\" SET {} WHERE seq = ?1", sets.join(", "));
    let mut after = i64::MIN;
    loop {
        let rows: Vec<(i64, String, String)> = conn
            .prepare(&format!(
                "SELECT seq, id, doc FROM \"{t}\" WHERE seq > ?1 ORDER BY seq LIMIT 500"
            ))?
            .query_map([after], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let Some(last) = rows.last().map(|r| r.0) else {
            return Ok(());
        };
        for (seq, id, text) in rows {
            let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let mut values = vec![SqlValue::Integer(seq)];
            values.extend(columns.iter().map(|c| sql_text(field_key(&doc, &c.field, &id))));
            conn.execute(&update, rusqlite::params_from_iter(values))?;
        }
        after = last;
    }
}
