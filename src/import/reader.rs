//! CSV rows: a blocking reader over the uploaded chunks (fed through a bounded channel),
//! decoded to UTF-8, parsed with the `csv` crate, and sent row by row through another bounded
//! channel. Rows are numbered from 1 for the first data row (the header is not counted; blank
//! lines are skipped and not counted).

use std::io::{self, Read};

use bytes::{Buf, Bytes};
use csv::StringRecord;
use tokio::sync::mpsc;

use super::decode::utf8_reader;
use super::header::Header;
use super::options::ImportOptions;
use super::ImportError;

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
    csv: csv::Reader<encoding_rs_io::DecodeReaderBytes<R, Vec<u8>>>,
    width: usize,
    row: u64,
}

/// Opens `source` with `options` and reads its header row (400 when missing or malformed).
pub fn open<R: Read>(source: R, options: &ImportOptions) -> Result<(Header, Rows<R>), ImportError> {
    let mut builder = csv::ReaderBuilder::new();
    builder
        .has_headers(false)
        .flexible(true)
        .delimiter(options.delimiter)
        .quote(b'"');
    if options.escape == b'"' {
        builder.double_quote(true).escape(None);
    } else {
        builder.double_quote(false).escape(Some(options.escape));
    }
    let mut csv = builder.from_reader(utf8_reader(source, options.encoding));
    let mut record = StringRecord::new();
    let header = match csv.read_record(&mut record) {
        Ok(true) => Header::parse(record.iter())?,
        Ok(false) => {
            return Err(ImportError::BadRequest(
                "the file is empty: its first row must name the columns".to_owned(),
            ))
        }
        Err(error) => return Err(header_error(error)),
    };
    let width = header.columns.len();
    Ok((header, Rows { csv, width, row: 0 }))
}

fn header_error(error: csv::Error) -> ImportError {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => ImportError::BadRequest(
            "the header row is not valid text in the given encoding (utf8 unless the encoding field says otherwise)"
                .to_owned(),
        ),
        csv::ErrorKind::Io(_) => ImportError::Aborted,
        _ => ImportError::BadRequest(format!("the header row cannot be read: {error}")),
    }
}

impl<R: Read> Rows<R> {
    /// The next row event (`Row` or `Invalid`); `None` at the end; `Err` when the source fails.
    pub fn next_event(&mut self) -> Option<Result<ReadEvent, ImportError>> {
        let mut record = StringRecord::new();
        let result = self.csv.read_record(&mut record);
        match result {
            Ok(false) => None,
            Ok(true) => {
                self.row += 1;
                let row = self.row;
                if record.len() != self.width {
                    let error = format!(
                        "row has {} values but the header has {} columns",
                        record.len(),
                        self.width
                    );
                    return Some(Ok(ReadEvent::Invalid { row, error }));
                }
                Some(Ok(ReadEvent::Row { row, record }))
            }
            Err(error) => Some(self.row_error(error)),
        }
    }

    fn row_error(&mut self, error: csv::Error) -> Result<ReadEvent, ImportError> {
        match error.kind() {
            csv::ErrorKind::Utf8 { .. } => {
                self.row += 1;
                Ok(ReadEvent::Invalid {
                    row: self.row,
                    error: "row is not valid UTF-8: check the encoding field (utf8, latin1 or utf16le)"
                        .to_owned(),
                })
            }
            csv::ErrorKind::Io(_) => Err(ImportError::Aborted),
            _ => Err(ImportError::BadRequest(format!(
                "the file cannot be read after row {}: {error}",
                self.row
            ))),
        }
    }
}

/// The blocking side of an import: reads the chunks, sends the header, the rows and `End` to
/// `events`. Stops early (Ok) when the writer is gone; `Err` for a header error or an abort.
pub fn read_into(
    chunks: mpsc::Receiver<Chunk>,
    options: ImportOptions,
    events: &mpsc::Sender<ReadEvent>,
) -> Result<(), ImportError> {
    let (header, mut rows) = open(ChunkReader::new(chunks), &options)?;
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
