//! CSV rows: a blocking reader over the uploaded chunks (fed through a bounded channel),
//! decoded to UTF-8, split into records by [`super::records`] (broken quoting is reported on
//! its line and never merges rows), and sent row by row through another bounded channel. Rows
//! are numbered from 1 for the first data row (the header is not counted; blank lines are
//! skipped and not counted; a record whose quoted value spans lines is one row).

use std::io::{self, BufReader, Read};

use bytes::{Buf, Bytes};
use csv::StringRecord;
use encoding_rs_io::DecodeReaderBytes;
use tokio::sync::mpsc;

use super::decode::utf8_reader;
use super::header::Header;
use super::options::ImportOptions;
use super::quoting::Dialect;
use super::records::{Problem, RecordLimits, Records, Width};
use super::{CsvLimits, ImportError};

/// Bytes of decoded text read at a time.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// What the upload pump sends to the reader.
#[derive(Debug)]
pub enum Chunk {
    /// The next bytes of the file.
    Data(Bytes),
    /// The upload failed (too large, broken off): stop without reading a partial last row.
    Abort,
}

/// What the reader sends to the writer, in file order.
#[derive(Debug)]
pub enum ReadEvent {
    /// The header row, always first.
    Header(Header),
    /// A data row.
    Row {
        /// Row number (1 = first data row).
        row: u64,
        /// Its cells, as many as the header's columns.
        record: StringRecord,
    },
    /// A row of a JSON or NDJSON file: an object, its values keeping their JSON types.
    Doc {
        /// Row number (1 = first element or line).
        row: u64,
        /// The object.
        doc: serde_json::Map<String, serde_json::Value>,
    },
    /// A data row that cannot be read (bad UTF-8, wrong number of cells).
    Invalid {
        /// Row number.
        row: u64,
        /// Why.
        error: String,
    },
    /// The whole file was read.
    End,
}

/// A `Read` over the chunks of a channel; `Abort` is an I/O error, a closed channel the end.
pub struct ChunkReader {
    chunks: mpsc::Receiver<Chunk>,
    current: Bytes,
}

impl ChunkReader {
    /// Reads the chunks sent on `chunks` (blocking: call it from a blocking thread).
    pub fn new(chunks: mpsc::Receiver<Chunk>) -> Self {
        Self {
            chunks,
            current: Bytes::new(),
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(Chunk::Data(bytes)) => self.current = bytes,
                Some(Chunk::Abort) => return Err(io::Error::other("the upload was aborted")),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

/// The rows of a CSV source after its header.
pub struct Rows<R: Read> {
    records: Records<BufReader<DecodeReaderBytes<R, Vec<u8>>>>,
    width: usize,
    row: u64,
    limits: CsvLimits,
}

/// Opens `source` with `options` and reads its header row (400 when missing, malformed or over
/// a limit: nothing of the rows is read before the header is known to be within the limits).
pub fn open<R: Read>(
    source: R,
    options: &ImportOptions,
    limits: &CsvLimits,
) -> Result<(Header, Rows<R>), ImportError> {
    let dialect = Dialect {
        delimiter: options.delimiter,
        escape: (options.escape != b'"').then_some(options.escape),
    };
    let record_limits = RecordLimits {
        max_bytes: limits.record_bytes,
        max_lines: limits.record_lines,
    };
    let decoded = BufReader::with_capacity(READ_BUFFER_BYTES, utf8_reader(source, options.encoding));
    let mut records = Records::new(decoded, dialect, record_limits);
    let first = records
        .next_record(Width::AtMost(limits.columns))
        .map_err(|_| ImportError::Aborted)?;
    let Some(first) = first else {
        return Err(ImportError::BadRequest(
            "the file is empty: its first row must name the columns".to_owned(),
        ));
    };
    let cells = first
        .fields
        .map_err(|problem| ImportError::BadRequest(header_problem(&problem, limits)))?;
    let names = cells
        .into_iter()
        .map(String::from_utf8)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            ImportError::BadRequest(
                "the header row is not valid text in the given encoding (utf8 unless the encoding field says otherwise)"
                    .to_owned(),
            )
        })?;
    let header = Header::parse_within(names.iter().map(String::as_str), limits)?;
    let width = header.columns.len();
    let rows = Rows {
        records,
        width,
        row: 0,
        limits: *limits,
    };
    Ok((header, rows))
}

fn header_problem(problem: &Problem, limits: &CsvLimits) -> String {
    match problem {
        Problem::TooManyFields { found, max } => {
            format!("the header has {found} columns: the limit is {max} (LIMIT_CSV_COLUMNS)")
        }
        other => format!("the header row cannot be read: {}", describe(other, limits)),
    }
}

/// What is wrong with a record, for a message.
fn describe(problem: &Problem, limits: &CsvLimits) -> String {
    match problem {
        Problem::TooLong => format!(
            "the row is longer than {} bytes (REQUEST_BODY_LIMIT_BYTES, the largest user accepted); \
             if a quote is left open, reading resumes at the next line",
            limits.record_bytes
        ),
        Problem::TooManyLines => format!(
            "a quoted value opened on this line would span more than {} lines: is a quote left \
             open? the line is skipped and reading resumes at the next one",
            limits.record_lines
        ),
        Problem::Unclosed => "a quoted value opened on this line is never closed: the line is \
             skipped and reading resumes at the next one"
            .to_owned(),
        Problem::Sloppy => "a quoted value opened on this line goes on over the next lines but \
             does not end with a quote followed by the delimiter or the end of a line: is a quote \
             left open? the line is skipped and reading resumes at the next one"
            .to_owned(),
        Problem::Count {
            found,
            expected,
            lines,
        } if *lines > 1 => format!(
            "a quoted value opened on this line would span {lines} lines and make a row of \
             {found} values where the header has {expected} columns: is a quote left open? the \
             line is skipped and reading resumes at the next one"
        ),
        Problem::Count { found, expected, .. } => {
            format!("row has {found} values but the header has {expected} columns")
        }
        Problem::TooManyFields { found, max } => format!("the row has {found} values: the limit is {max}"),
    }
}

impl<R: Read> Rows<R> {
    /// The next row event (`Row` or `Invalid`); `None` at the end; `Err` when the source fails.
    pub fn next_event(&mut self) -> Option<Result<ReadEvent, ImportError>> {
        let record = match self.records.next_record(Width::Exactly(self.width)) {
            Ok(Some(record)) => record,
            Ok(None) => return None,
            Err(_) => return Some(Err(ImportError::Aborted)),
        };
        self.row += 1;
        let row = self.row;
        let cells = match record.fields {
            Ok(cells) => cells,
            Err(problem) => {
                let error = describe(&problem, &self.limits);
                return Some(Ok(ReadEvent::Invalid { row, error }));
            }
        };
        let Ok(cells) = cells
            .into_iter()
            .map(String::from_utf8)
            .collect::<Result<Vec<_>, _>>()
        else {
            let error =
                "row is not valid UTF-8: check the encoding field (utf8, ucs2, utf16le, latin1 or ascii)"
                    .to_owned();
            return Some(Ok(ReadEvent::Invalid { row, error }));
        };
        Some(Ok(ReadEvent::Row {
            row,
            record: StringRecord::from(cells),
        }))
    }
}

/// The blocking side of an import: reads the chunks, sends the header, the rows and `End` to
/// `events`. Stops early (Ok) when the writer is gone; `Err` for a header error or an abort.
pub fn read_into(
    chunks: mpsc::Receiver<Chunk>,
    options: ImportOptions,
    limits: &CsvLimits,
    events: &mpsc::Sender<ReadEvent>,
) -> Result<(), ImportError> {
    let (header, mut rows) = open(ChunkReader::new(chunks), &options, limits)?;
    if events.blocking_send(ReadEvent::Header(header)).is_err() {
        return Ok(());
    }
    while let Some(event) = rows.next_event() {
        if events.blocking_send(event?).is_err() {
            return Ok(());
        }
    }
    // The writer may be gone already: nothing left to tell it.
    let _ = events.blocking_send(ReadEvent::End);
    Ok(())
}
