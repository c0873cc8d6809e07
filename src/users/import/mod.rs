//! Import of users (`POST|PATCH /users/import`, SPEC §5) from CSV, JSON or NDJSON files: the
//! uploaded file is streamed through a bounded channel into a blocking CSV or JSON reader, whose rows come back through another bounded
//! channel to be typed by their group schema, validated, and written in batches of
//! `USER_IMPORT_BATCH_SIZE` (inserts with `POST /users/bulk`, updates with `PATCH /users/bulk`,
//! except the updates that change what the auth user, Rönd or the Timer Service hold: those are
//! written and synced one user at a time as `PATCH /users/{id}` does, see `synced`).
//! Memory is bounded by the batch size and the channel capacities, never by the file size.
//!
//! Rows are numbered from 1 for the first data row (the header row is not counted). A bad row
//! (one the store, or the update of a synced row, refuses) is reported in `invalid` and never
//! stops the others; a failure of a downstream service (the store; for a synced row also the
//! auth provider, Rönd or the Timer Service, after that user is reverted) stops the import.

mod decode;
mod header;
mod json;
mod kind;
mod lines;
mod lookup;
mod options;
mod quoting;
mod reader;
mod records;
mod rows;
mod synced;
mod typing;
mod writer;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::config::InputLimits;
use crate::context::CallContext;
use crate::users::{UserError, UserService};

pub use kind::FileKind;
pub use options::{Encoding, ImportOptions, OPTION_FIELDS};
pub use rows::ImportMode;

use reader::{Chunk, ReadEvent};
use rows::{Prepared, Preparer};
use writer::{Stop, Writer};

/// Upload chunks waiting for the CSV reader.
const CHUNKS_IN_FLIGHT: usize = 8;
/// Parsed rows waiting for the writer.
const ROWS_IN_FLIGHT: usize = 512;

/// The most physical lines one record may span (a quoted value with line breaks): past it, the
/// quote is taken for one left open. Bounds the lines read ahead, whose bookkeeping costs more
/// than their bytes.
pub const MAX_RECORD_LINES: u64 = 10_000;

/// The bounds of an import (SPEC §10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvLimits {
    /// `LIMIT_CSV_COLUMNS`: the most columns of the header.
    pub columns: usize,
    /// `REQUEST_BODY_LIMIT_BYTES`: the longest row (line breaks inside quoted values included),
    /// as a user is never larger as a JSON body. Also bounds the header row.
    pub record_bytes: usize,
    /// The most physical lines of a row ([`MAX_RECORD_LINES`]).
    pub record_lines: u64,
    /// `LIMIT_DOCUMENT_DEPTH` (also the most dotted segments of a column name),
    /// `LIMIT_FIELD_PATH_BYTES` and `LIMIT_ARRAY_LENGTH`, for the header and each row built.
    pub document: docquery::Limits,
}

impl CsvLimits {
    /// The limits of `limits` (`LIMIT_*`), rows of at most `record_bytes`.
    pub fn of(limits: &InputLimits, record_bytes: usize) -> Self {
        Self {
            columns: limits.csv_columns,
            record_bytes,
            record_lines: MAX_RECORD_LINES,
            document: limits.document,
        }
    }
}

/// How much one import may take, from the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportSettings {
    /// `IMPORT_MAX_FILE_BYTES`: the largest upload.
    pub max_file_bytes: usize,
    /// Rows written per store call.
    pub batch_size: usize,
    /// `REQUEST_BODY_LIMIT_BYTES`: the longest row.
    pub record_bytes: usize,
}

impl Default for CsvLimits {
    /// The service defaults.
    fn default() -> Self {
        let limits = crate::config::InputLimits::default();
        Self {
            columns: limits.csv_columns,
            record_bytes: 1_048_576,
            record_lines: MAX_RECORD_LINES,
            document: limits.document,
        }
    }
}

/// What an import did: `_id`s inserted and updated, and the rows not written, with why.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// `_id`s of the users inserted, batch by batch; in a batch, in row order the rows the store
    /// gave an id, then the rows with their own `_id`, then the `PATCH` rows no user had.
    pub inserted: Vec<String>,
    /// `_id`s of the users updated, in row order.
    pub updated: Vec<String>,
    /// The rows not written, by row number.
    pub invalid: Vec<InvalidRow>,
    /// With `activate`: the bulk-activation jobs started for the users inserted (one per
    /// 100,000), read with `GET /jobs/bulk-activation/{id}`; absent when nothing was inserted
    /// or without `activate`.
    #[serde(rename = "activationJobIds", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub activation_job_ids: Option<Vec<String>>,
    /// With `activate`: why the bulk activation of the inserted users could not be started (the
    /// import itself is written; `POST /jobs/bulk-activation` can start it); absent otherwise.
    #[serde(rename = "activationError", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub activation_error: Option<String>,
}

/// A row not written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InvalidRow {
    /// Row number: 1 is the first row after the header.
    pub row: u64,
    /// Why the row was not written.
    pub error: String,
}

/// Why the upload stream failed.
#[derive(Debug, PartialEq, Eq)]
pub enum UploadError {
    /// The file (or the request body) is larger than allowed.
    TooLarge,
    /// The multipart body broke off or is malformed.
    Broken(String),
    /// The form is refused (a second file part): this message says why.
    Refused(String),
}

/// Why an import failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Bad options, no file, or a header the import cannot use: nothing was written.
    #[error("{0}")]
    BadRequest(String),
    /// The request is not a multipart form.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The file is over `IMPORT_MAX_FILE_BYTES`.
    #[error("the file is larger than IMPORT_MAX_FILE_BYTES ({limit} bytes): import stopped; {written} rows were written")]
    TooLarge {
        /// The limit.
        limit: usize,
        /// Rows already in the store.
        written: usize,
    },
    /// The upload broke off or is not a readable multipart body.
    #[error("the upload cannot be read: {message}; {written} rows were written")]
    Upload {
        /// What went wrong.
        message: String,
        /// Rows already in the store.
        written: usize,
    },
    /// The form around the file is refused (a second file part), seen once the file was read.
    #[error("{message}: the import stopped; {written} rows were written")]
    Form {
        /// Why.
        message: String,
        /// Rows already in the store.
        written: usize,
    },
    /// A downstream service failed: the import stopped at `row`.
    #[error("import stopped at row {row}: {error}; {written} rows were written")]
    Stopped {
        /// The first row of the failing store call, or the synced row whose update failed.
        row: u64,
        /// The failure: a store call's, or the update's of a synced row (that user reverted).
        error: UserError,
        /// Rows already in the store.
        written: usize,
    },
    /// The reader saw the upload abort (the upload's own error says why).
    #[error("the upload was aborted")]
    Aborted,
    /// A bug: the reader thread failed.
    #[error("internal error: {0}")]
    Internal(String),
}

/// What to import: the file's kind, how to read it, and what the route asks of its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportFile {
    /// CSV, JSON or NDJSON.
    pub kind: FileKind,
    /// The options (`delimiter` and `escape` apply to CSV only, `encoding` to every kind).
    pub options: ImportOptions,
    /// `POST` (insert) or `PATCH` (update by `_id`, insert otherwise).
    pub mode: ImportMode,
}

/// Imports `file` as `what` says: every row inserted, updated or reported.
pub async fn run<S>(
    users: &UserService,
    settings: ImportSettings,
    ctx: &CallContext,
    what: ImportFile,
    file: S,
) -> Result<ImportReport, ImportError>
where
    S: Stream<Item = Result<Bytes, UploadError>> + Send,
{
    let ImportFile { kind, options, mode } = what;
    if kind == FileKind::Csv {
        options.check()?;
    }
    let limit = settings.max_file_bytes;
    let limits = CsvLimits::of(&users.limits, settings.record_bytes);
    let (chunk_tx, chunk_rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let (event_tx, event_rx) = mpsc::channel(ROWS_IN_FLIGHT);
    let reader = tokio::task::spawn_blocking(move || match kind {
        FileKind::Csv => reader::read_into(chunk_rx, options, &limits, &event_tx),
        _ => json::read_into(chunk_rx, kind, options, limits.record_bytes, &event_tx),
    });
    let mut writer = Writer::new(users, ctx, settings.batch_size);
    let mut preparer = Preparer::new(
        Arc::clone(&users.groups),
        limits.document,
        users.limits.violations_reported,
    );
    preparer.mode = mode;
    let (pumped, consumed) = tokio::join!(
        pump(file, chunk_tx, limit),
        consume(event_rx, preparer, &mut writer, ctx)
    );
    let read = reader
        .await
        .map_err(|e| ImportError::Internal(format!("the file reader failed: {e}")))?;
    let written = writer.written();
    let finished = consumed.map_err(|Stop { row, error }| ImportError::Stopped { row, error, written })?;
    pumped.map_err(|failure| match failure {
        UploadError::TooLarge => ImportError::TooLarge { limit, written },
        UploadError::Broken(message) => ImportError::Upload { message, written },
        UploadError::Refused(message) => ImportError::Form { message, written },
    })?;
    read?;
    if !finished {
        return Err(ImportError::Internal(
            "the file reader stopped before the end".to_owned(),
        ));
    }
    let mut report = writer.report;
    report.invalid.sort_by_key(|invalid| invalid.row);
    Ok(report)
}

/// Feeds the upload to the reader, counting its bytes; stops reading when the reader is gone
/// (the import stopped) and aborts the reader when the upload fails or grows over `limit`.
async fn pump<S>(file: S, chunks: mpsc::Sender<Chunk>, limit: usize) -> Result<(), UploadError>
where
    S: Stream<Item = Result<Bytes, UploadError>>,
{
    let mut file = std::pin::pin!(file);
    let mut seen = 0usize;
    loop {
        let next = tokio::select! {
            next = file.next() => next,
            () = chunks.closed() => return Ok(()),
        };
        let failure = match next {
            None => return Ok(()),
            Some(Ok(bytes)) => {
                seen = seen.saturating_add(bytes.len());
                if seen <= limit {
                    if chunks.send(Chunk::Data(bytes)).await.is_err() {
                        return Ok(());
                    }
                    continue;
                }
                UploadError::TooLarge
            }
            Some(Err(failure)) => failure,
        };
        // Without this, the reader would take the cut-off file for a whole one.
        let _ = chunks.send(Chunk::Abort).await;
        return Err(failure);
    }
}

/// Prepares and writes the rows the reader sends; `Ok(true)` once the whole file is written,
/// `Ok(false)` when the reader stopped early (its own result says why).
async fn consume(
    mut events: mpsc::Receiver<ReadEvent>,
    mut preparer: Preparer,
    writer: &mut Writer<'_>,
    ctx: &CallContext,
) -> Result<bool, Stop> {
    let mut header = None;
    while let Some(event) = events.recv().await {
        match event {
            ReadEvent::Header(read) => header = Some(read),
            ReadEvent::Row { row, record } => {
                let Some(header) = &header else { continue };
                let prepared = preparer
                    .prepare(ctx, header, row, &record)
                    .await
                    .map_err(|error| Stop {
                        row,
                        error: error.into(),
                    })?;
                match prepared {
                    Prepared::Write(write) => writer.push(write).await?,
                    Prepared::Invalid(error) => writer.invalid(row, error),
                }
            }
            ReadEvent::Doc { row, doc } => {
                let prepared = preparer.prepare_doc(ctx, row, doc).await.map_err(|error| Stop {
                    row,
                    error: error.into(),
                })?;
                match prepared {
                    Prepared::Write(write) => writer.push(write).await?,
                    Prepared::Invalid(error) => writer.invalid(row, error),
                }
            }
            ReadEvent::Invalid { row, error } => writer.invalid(row, error),
            ReadEvent::End => {
                writer.flush().await?;
                return Ok(true);
            }
        }
    }
    Ok(false)
}
