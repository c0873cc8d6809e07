//! The SQLite layout of one collection: its table (`seq`, `id`, `state`, `doc` and one column per
//! unique or indexed field, holding [`docquery::index_key`]s), the index key stored for a field's
//! value, and the creation or migration of the table and its indexes when a collection is opened.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, PoisonError, RwLock};

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
    /// Whether its index is built and its values filled, so that queries may use it (a column
    /// being added is written by every write before it is ready).
    pub ready: bool,
}

impl Column {
    /// The column of `field` (`k_` + the sanitised field name).
    pub fn of(field: &str, unique: bool, ready: bool) -> Self {
        Self {
            field: field.to_owned(),
            name: format!("{COLUMN_PREFIX}{}", sanitise(field)),
            unique,
            ready,
        }
    }

    /// The name of its index.
    pub fn index_name(&self, table: &str) -> String {
        let kind = if self.unique { "u" } else { "i" };
        format!("{table}__{kind}_{}", self.name)
    }
}

/// The prefix of the index columns (order-preserving keys). Columns named `f_` held the keys of
/// an earlier encoding: they are dropped and rebuilt when a collection is opened.
const COLUMN_PREFIX: &str = "k_";

/// One collection's table and its fixed configuration.
#[derive(Debug)]
pub(super) struct Table {
    /// Collection path, for messages: `/users`.
    pub path: String,
    /// Table name (`docs_users`), safe inside double quotes.
    pub name: String,
    /// The fields the collection was opened with (unique and indexed): never dropped by
    /// [`super::indexes`].
    pub configured: Vec<String>,
    /// Every unique and indexed field, ready or being added.
    columns: RwLock<Arc<Vec<Column>>>,
    /// Rows read from SQLite so far (tests check that lookups do not scan).
    pub rows_read: AtomicU64,
    /// Stored documents that cannot be read whole (reported by `/-/check-up`).
    pub damaged: crate::store::unreadable::DamagedDocs,
}

impl Table {
    /// Every column, ready or being added (every write fills them all).
    pub fn columns(&self) -> Arc<Vec<Column>> {
        Arc::clone(&self.columns.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Replaces the column set (under the connection lock, with the table altered to match).
    pub fn set_columns(&self, columns: Vec<Column>) {
        *self.columns.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(columns);
    }

    /// The ready column of `field`, when it is unique or indexed: queries may use it.
    pub fn column(&self, field: &str) -> Option<Column> {
        self.columns()
            .iter()
            .find(|c| c.field == field && c.ready)
            .cloned()
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

/// The field name of a sanitised one (`address_2ecity` → `address.city`); `None` when `name` is
/// not the output of [`sanitise`].
fn unsanitise(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'_' {
            let hex = name.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
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
/// date: columns of new `unique`/`indexed` fields are added and filled from the stored
/// documents, columns of an earlier key encoding are dropped and rebuilt; index columns that
/// [`super::indexes`] added for group schemas are kept as they are. Fails if existing documents
/// break a new unique index.
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
                columns.push(Column::of(field, is_unique, true));
            }
        }
    }
    let name = table_name(path);
    let t = &name;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS \"{t}\" (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, \
         state TEXT, doc TEXT NOT NULL);
         CREATE INDEX IF NOT EXISTS \"{t}__state\" ON \"{t}\"(state);"
    ))?;
    let existing = existing_columns(&tx, t)?;
    let configured: Vec<String> = columns.iter().map(|c| c.field.clone()).collect();
    let mut extra = Vec::new();
    for stale in &existing {
        let added_later = stale
            .strip_prefix(COLUMN_PREFIX)
            .and_then(unsanitise)
            .filter(|field| !configured.contains(field));
        if let Some(field) = added_later {
            // Kept as a plain index column (for the declared fields): never as a unique one.
            tx.execute_batch(&format!("DROP INDEX IF EXISTS \"{t}__u_{stale}\""))?;
            let column = Column::of(&field, false, false);
            let ready = index_exists(&tx, &column.index_name(t))?;
            extra.push(Column { ready, ..column });
            continue;
        }
        if columns.iter().any(|c| &c.name == stale) {
            continue;
        }
        tx.execute_batch(&format!(
            "DROP INDEX IF EXISTS \"{t}__u_{stale}\"; DROP INDEX IF EXISTS \"{t}__i_{stale}\";
             ALTER TABLE \"{t}\" DROP COLUMN \"{stale}\";"
        ))?;
    }
    let added: Vec<&Column> = columns.iter().filter(|c| !existing.contains(&c.name)).collect();
    for column in &added {
        tx.execute_batch(&format!(
            "ALTER TABLE \"{t}\" ADD COLUMN \"{}\" TEXT",
            column.name
        ))?;
    }
    if !added.is_empty() {
        let mut after = i64::MIN;
        while let Some(last) = backfill(&tx, t, &added, after, BACKFILL_ROWS)? {
            after = last;
        }
    }
    for column in &columns {
        let n = &column.name;
        let other = Column {
            unique: !column.unique,
            ..column.clone()
        };
        let kind = if column.unique { "UNIQUE INDEX" } else { "INDEX" };
        tx.execute_batch(&format!(
            "DROP INDEX IF EXISTS \"{}\";
             CREATE {kind} IF NOT EXISTS \"{}\" ON \"{t}\"(\"{n}\");",
            other.index_name(t),
            column.index_name(t)
        ))?;
    }
    tx.commit()?;
    columns.extend(extra);
    Ok(Table {
        path: format!("/{}", path.trim_matches('/')),
        name,
        configured,
        columns: RwLock::new(Arc::new(columns)),
        rows_read: AtomicU64::new(0),
        damaged: Default::default(),
    })
}

/// Rows filled per statement batch of a backfill.
pub(super) const BACKFILL_ROWS: usize = 2_000;

/// Whether index `name` exists.
pub(super) fn index_exists(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    let found: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?1",
        [name],
        |row| row.get(0),
    )?;
    Ok(found > 0)
}

/// The index columns (`k_*`, and `f_*` of the earlier encoding) the table has now.
fn existing_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info(\"{table}\")"))?;
    let names = stmt.query_map([], |row| row.get::<_, String>(1))?;
    let mut out = Vec::new();
    for name in names {
        let name = name?;
        if name.starts_with(COLUMN_PREFIX) || name.starts_with("f_") {
            out.push(name);
        }
    }
    Ok(out)
}

/// Fills `columns` of at most `rows` rows after `after` (by `seq`) from their documents; the last
/// `seq` filled, `None` when there was none left.
pub(super) fn backfill(
    conn: &Connection,
    t: &str,
    columns: &[&Column],
    after: i64,
    rows: usize,
) -> rusqlite::Result<Option<i64>> {
    let sets: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("\"{}\" = ?{}", c.name, i + 2))
        .collect();
    let update = format!("UPDATE \"{t}\" SET {} WHERE seq = ?1", sets.join(", "));
    let read: Vec<(i64, String, String)> = conn
        .prepare(&format!(
            "SELECT seq, id, doc FROM \"{t}\" WHERE seq > ?1 ORDER BY seq LIMIT {rows}"
        ))?
        .query_map([after], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let last = read.last().map(|r| r.0);
    let mut update = conn.prepare(&update)?;
    for (seq, id, text) in read {
        let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let mut values = vec![SqlValue::Integer(seq)];
        values.extend(columns.iter().map(|c| sql_text(field_key(&doc, &c.field, &id))));
        update.execute(rusqlite::params_from_iter(values))?;
    }
    Ok(last)
}
