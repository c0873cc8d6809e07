//! `GET /export` on the embedded store: an NDJSON stream that reads one page of rows per lock of
//! the connection, so an export never holds the whole collection nor blocks other requests long.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use rusqlite::Connection;

use super::cursor::Cursor;
use super::request::Page;
use super::schema::Table;
use super::{lock, OpError};
use crate::failure::{CallName, Cause, Failure};
use crate::store::{ExportStream, StoreResult};

/// The export stream of `page`.
pub(super) fn stream(
    conn: Arc<Mutex<Connection>>,
    table: Arc<Table>,
    page: Page,
    call: CallName,
) -> ExportStream {
    let export = Export {
        conn,
        table,
        page: Arc::new(page),
        cursor: None,
        skipped: 0,
        emitted: 0,
        done: false,
        call,
    };
    let stream = futures::stream::try_unfold(export, |mut export| async move {
        while !export.done {
            let chunk = export.step().await?;
            if !chunk.is_empty() {
                return Ok(Some((chunk, export)));
            }
        }
        Ok(None)
    });
    Box::pin(stream)
}

/// An export in progress: one page of rows per lock of the connection.
struct Export {
    conn: Arc<Mutex<Connection>>,
    table: Arc<Table>,
    page: Arc<Page>,
    /// `None` before the first page.
    cursor: Option<Cursor>,
    skipped: usize,
    emitted: usize,
    done: bool,
    call: CallName,
}

impl Export {
    /// Reads one page and returns its matches as NDJSON (possibly empty).
    async fn step(&mut self) -> StoreResult<Bytes> {
        let (conn, table, page) = (self.conn.clone(), self.table.clone(), self.page.clone());
        let (cursor, skipped, emitted) = (self.cursor.take(), self.skipped, self.emitted);
        let joined = tokio::task::spawn_blocking(move || {
            let conn = lock(&conn);
            export_page(&conn, &table, &page, cursor, skipped, emitted)
        })
        .await;
        let result = match joined {
            Ok(result) => result.map_err(|failure| failure.into_error(self.call.clone())),
            Err(error) => {
                tracing::error!(call = %self.call, %error, "embedded store: blocking task failed");
                Err(Failure::new(self.call.clone(), Cause::Failed { status: None }).into())
            }
        };
        self.done = true;
        let (chunk, cursor, skipped, emitted) = result?;
        self.done = cursor.is_none() || self.page.limit.is_some_and(|l| emitted >= l);
        (self.cursor, self.skipped, self.emitted) = (cursor, skipped, emitted);
        Ok(chunk)
    }
}

/// One export page: the cursor is created on the first call (a sorted export orders every match
/// first, then reads the window in order); `None` comes back when the cursor is exhausted.
fn export_page(
    conn: &Connection,
    table: &Table,
    page: &Page,
    cursor: Option<Cursor>,
    mut skipped: usize,
    mut emitted: usize,
) -> Result<(Bytes, Option<Cursor>, usize, usize), OpError> {
    let sorted = !page.sort.is_empty();
    let mut cursor = match cursor {
        Some(cursor) => cursor,
        None if sorted => {
            let seqs = page
                .selection
                .sorted_window(conn, table, &page.sort, page.skip, page.limit)?;
            Cursor::over(page.selection.states(), seqs)
        }
        // An export reads everything: full pages from the start.
        None => page.selection.cursor(conn, table)?.full_pages(),
    };
    let Some(rows) = cursor.next_page(conn, table)? else {
        return Ok((Bytes::new(), None, skipped, emitted));
    };
    let mut buf = Vec::new();
    for (_, doc) in rows {
        if page.limit.is_some_and(|l| emitted >= l) {
            break;
        }
        if crate::store::unreadable::is_stub(&doc) || !page.selection.matches(&doc)? {
            continue;
        }
        if !sorted && skipped < page.skip {
            skipped += 1;
            continue;
        }
        serde_json::to_writer(&mut buf, &page.projection.apply(doc))
            .map_err(|e| OpError::Internal(e.to_string()))?;
        buf.push(b'\n');
        emitted += 1;
    }
    Ok((Bytes::from(buf), Some(cursor), skipped, emitted))
}
