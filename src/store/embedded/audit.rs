//! The depth audit of a collection: stored documents nested deeper than the configured limit,
//! found from their text (no parse) a page at a time, and recorded in the table's damaged register.

use rusqlite::Connection;

use super::schema::Table;
use super::OpError;

/// One page of a depth audit: what it found and the last row read (`None` at the end).
pub(super) struct AuditPage {
    pub found: u64,
    pub last: Option<i64>,
}

/// Scans 500 rows after `after`, recording every document nested deeper than `max_depth` in the
/// table's damaged register (its depth is read from the text: no parse).
pub(super) fn depth_page(
    conn: &mut Connection,
    table: &Table,
    after: i64,
    max_depth: usize,
) -> Result<AuditPage, OpError> {
    let sql = format!(
        "SELECT seq, id, doc FROM \"{}\" WHERE seq > ?1 ORDER BY seq LIMIT 500",
        table.name
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([after], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
        ))
    })?;
    let (mut found, mut last) = (0, None);
    for row in rows {
        let (seq, id, doc) = row?;
        last = Some(seq);
        let depth = crate::store::unreadable::json_depth(doc.as_bytes());
        if depth > max_depth {
            found += 1;
            let reason = format!(
                "nested {depth} levels deep, beyond LIMIT_DOCUMENT_DEPTH ({max_depth}): PATCH refuses it until \
                 the deep part is removed ($unset)"
            );
            table.damaged.record(&table.path, &id, &reason);
        }
    }
    Ok(AuditPage { found, last })
}
