//! Splits the store's NDJSON byte stream into whole lines, and rewrites it line by line as a
//! JSON array or as CSV: memory holds one incoming chunk and one partial line, never the export.

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use serde_json::{Map, Value};

use super::{cell_text, Columns, CsvOptions};
use crate::store::{ExportStream, StoreError};

/// The complete, non-blank lines of each chunk of `source` (a line cut between two chunks is
/// kept until its end arrives; the last line may lack its newline).
pub fn lines(source: ExportStream) -> impl Stream<Item = Result<Vec<Bytes>, StoreError>> + Send {
    futures::stream::unfold(Some((source, BytesMut::new())), |state| async move {
        let (mut source, mut partial) = state?;
        loop {
            match source.next().await {
                Some(Ok(chunk)) => {
                    partial.extend_from_slice(&chunk);
                    let Some(end) = partial.iter().rposition(|b| *b == b'\n') else {
                        continue;
                    };
                    let whole = partial.split_to(end + 1).freeze();
                    let found = split(&whole);
                    if !found.is_empty() {
                        return Some((Ok(found), Some((source, partial))));
                    }
                }
                Some(Err(error)) => return Some((Err(error), None)),
                None => {
                    let rest = split(&partial.split().freeze());
                    return (!rest.is_empty()).then_some((Ok(rest), None));
                }
            }
        }
    })
}

/// The non-blank lines of `text`, without their line ends.
fn split(text: &Bytes) -> Vec<Bytes> {
    let mut found = Vec::new();
    let mut start = 0;
    for (at, byte) in text.iter().enumerate() {
        if *byte == b'\n' {
            push_line(&mut found, text.slice(start..at));
            start = at + 1;
        }
    }
    push_line(&mut found, text.slice(start..));
    found
}

fn push_line(found: &mut Vec<Bytes>, line: Bytes) {
    if !line.iter().all(u8::is_ascii_whitespace) {
        found.push(line);
    }
}

/// One user of a line, or an error naming what the store sent.
pub fn parse_user(line: &[u8]) -> Result<Map<String, Value>, StoreError> {
    serde_json::from_slice(line).map_err(|e| {
        StoreError::Invalid(format!(
            "the user store sent an export line that is not a JSON object: {e}"
        ))
    })
}

/// A batch of lines, then `None` once the source has ended.
fn batches(source: ExportStream) -> impl Stream<Item = Option<Result<Vec<Bytes>, StoreError>>> + Send {
    lines(source)
        .map(Some)
        .chain(futures::stream::once(async { None }))
}

/// `source` as one JSON array: `[`, the users separated by commas, `]`.
pub fn json_array(source: ExportStream) -> ExportStream {
    let mut first = true;
    Box::pin(batches(source).map(move |batch| {
        let Some(batch) = batch else {
            return Ok(Bytes::from_static(if first { b"[]" } else { b"]" }));
        };
        let mut out = Vec::new();
        for line in batch? {
            serde_json::from_slice::<serde::de::IgnoredAny>(&line).map_err(|e| {
                StoreError::Invalid(format!(
                    "the user store sent an export line that is not JSON: {e}"
                ))
            })?;
            out.push(if std::mem::take(&mut first) { b'[' } else { b',' });
            out.extend_from_slice(&line);
        }
        Ok(Bytes::from(out))
    }))
}

/// `source` as CSV: a header row of `columns` (the first user's keys when `None`), then a row
/// a user. An export without users and without columns is an empty body.
pub fn csv(source: ExportStream, columns: Option<Columns>, options: CsvOptions) -> ExportStream {
    let mut columns = columns;
    let mut header_written = false;
    Box::pin(batches(source).map(move |batch| {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(options.delimiter)
            .from_writer(Vec::new());
        let users = match batch {
            Some(batch) => batch?,
            None => Vec::new(),
        };
        if users.is_empty() && !header_written {
            // The end of an export without users: the header alone, when the columns are known.
            if let Some(cols) = &columns {
                writer.write_record(cols.names()).map_err(csv_error)?;
            }
        }
        for line in users {
            let user = parse_user(&line)?;
            let cols = columns.get_or_insert_with(|| Columns::of(&user));
            if !std::mem::replace(&mut header_written, true) {
                writer.write_record(cols.names()).map_err(csv_error)?;
            }
            writer
                .write_record(
                    cols.names()
                        .iter()
                        .map(|name| cell_text(Columns::value(&user, name)).into_owned()),
                )
                .map_err(csv_error)?;
        }
        writer
            .into_inner()
            .map(Bytes::from)
            .map_err(|e| csv_error(e.into_error().into()))
    }))
}

fn csv_error(error: csv::Error) -> StoreError {
    StoreError::Invalid(format!("cannot write the CSV export: {error}"))
}
