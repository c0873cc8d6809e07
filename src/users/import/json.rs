//! JSON and NDJSON files: a blocking reader that splits the decoded text into one JSON value
//! per row (an element of the top-level array, or a non-blank line) without ever holding more
//! than one row of at most `REQUEST_BODY_LIMIT_BYTES`, then parses each row alone. Values keep
//! their JSON types (no CSV typing). A row that is not an object, not JSON or too long is
//! reported on its own; only a file that is not an array at all is refused as a whole.

use std::io::{self, BufRead, BufReader};

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::decode::utf8_reader;
use super::kind::FileKind;
use super::options::ImportOptions;
use super::reader::{Chunk, ChunkReader, ReadEvent};
use super::ImportError;

/// Bytes of decoded text read at a time.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// One row of a JSON or NDJSON file.
#[derive(Debug, PartialEq)]
pub enum Item {
    /// An object.
    Doc(Map<String, Value>),
    /// A row that cannot be imported, with why.
    Bad(String),
}

/// Reads the JSON or NDJSON file of `chunks` and sends its rows on `events`, numbered from 1.
pub fn read_into(
    chunks: mpsc::Receiver<Chunk>,
    kind: FileKind,
    options: ImportOptions,
    max_bytes: usize,
    events: &mpsc::Sender<ReadEvent>,
) -> Result<(), ImportError> {
    let source = utf8_reader(ChunkReader::new(chunks), options.encoding);
    let mut rows = JsonRows::new(
        BufReader::with_capacity(READ_BUFFER_BYTES, source),
        kind,
        max_bytes,
    );
    let mut row = 0u64;
    while let Some(item) = rows.next_item().map_err(|_| ImportError::Aborted)? {
        row += 1;
        let event = match item {
            Item::Doc(doc) => ReadEvent::Doc { row, doc },
            Item::Bad(error) => ReadEvent::Invalid { row, error },
        };
        if events.blocking_send(event).is_err() {
            return Ok(());
        }
    }
    if let Some(refusal) = rows.refusal.take() {
        return Err(ImportError::BadRequest(refusal));
    }
    // To its end: the parts of the form after the file are checked only once it is read.
    if rows.drain().map_err(|_| ImportError::Aborted)? {
        let error = "text after the closing ] of the array is not read".to_owned();
        if events
            .blocking_send(ReadEvent::Invalid { row: row + 1, error })
            .is_err()
        {
            return Ok(());
        }
    }
    let _ = events.blocking_send(ReadEvent::End);
    Ok(())
}

/// Where the reader of an array stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Before the opening `[`.
    Start,
    /// Inside the array.
    Inside,
    /// After the last row.
    Done,
}

/// The rows of a JSON array or NDJSON source.
pub struct JsonRows<R: BufRead> {
    source: R,
    kind: FileKind,
    max_bytes: usize,
    stage: Stage,
    /// Why the file as a whole is refused (not an array), once seen.
    pub refusal: Option<String>,
    buffer: Vec<u8>,
}

impl<R: BufRead> JsonRows<R> {
    /// Rows of `source`, each of at most `max_bytes`.
    pub fn new(source: R, kind: FileKind, max_bytes: usize) -> Self {
        Self {
            source,
            kind,
            max_bytes,
            stage: Stage::Start,
            refusal: None,
            buffer: Vec::new(),
        }
    }

    /// The next row; `None` at the end (or once the file is refused: see `refusal`).
    pub fn next_item(&mut self) -> io::Result<Option<Item>> {
        match self.kind {
            FileKind::Ndjson => self.next_line(),
            _ => self.next_element(),
        }
    }

    /// Reads the source to its end; `true` when what is left holds more than white space.
    pub fn drain(&mut self) -> io::Result<bool> {
        let mut extra = false;
        loop {
            let available = self.source.fill_buf()?;
            if available.is_empty() {
                return Ok(extra);
            }
            extra |= available.iter().any(|byte| !byte.is_ascii_whitespace());
            let read = available.len();
            self.source.consume(read);
        }
    }

    fn next_byte(&mut self) -> io::Result<Option<u8>> {
        let available = self.source.fill_buf()?;
        let Some(&byte) = available.first() else {
            return Ok(None);
        };
        self.source.consume(1);
        Ok(Some(byte))
    }

    /// Keeps `byte` of the current row unless the row is already over the limit.
    fn keep(&mut self, byte: u8) -> bool {
        if self.buffer.len() < self.max_bytes {
            self.buffer.push(byte);
            return true;
        }
        false
    }

    fn next_line(&mut self) -> io::Result<Option<Item>> {
        loop {
            self.buffer.clear();
            let mut over = false;
            let mut ended = false;
            loop {
                match self.next_byte()? {
                    None => {
                        ended = true;
                        break;
                    }
                    Some(b'\n') => break,
                    Some(byte) => over |= !self.keep(byte),
                }
            }
            if over {
                return Ok(Some(self.too_long()));
            }
            if !self.buffer.trim_ascii().is_empty() {
                return Ok(Some(parse(self.buffer.trim_ascii())));
            }
            if ended {
                return Ok(None);
            }
        }
    }

    fn next_element(&mut self) -> io::Result<Option<Item>> {
        if self.stage == Stage::Start && !self.open()? {
            return Ok(None);
        }
        if self.stage == Stage::Done {
            return Ok(None);
        }
        self.buffer.clear();
        let (mut depth, mut in_string, mut escaped, mut over) = (0usize, false, false, false);
        loop {
            let Some(byte) = self.next_byte()? else {
                self.stage = Stage::Done;
                return Ok(Some(Item::Bad(
                    "the file ends inside this row: the array is not closed with ]".to_owned(),
                )));
            };
            if in_string {
                (in_string, escaped) = match byte {
                    _ if escaped => (true, false),
                    b'\\' => (true, true),
                    b'"' => (false, false),
                    _ => (true, false),
                };
            } else {
                match byte {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b']' if depth == 0 => {
                        self.stage = Stage::Done;
                        break;
                    }
                    b'}' | b']' => depth = depth.saturating_sub(1),
                    b',' if depth == 0 => break,
                    _ => {}
                }
            }
            over |= !self.keep(byte);
        }
        if over {
            return Ok(Some(self.too_long()));
        }
        let element = self.buffer.trim_ascii();
        if element.is_empty() {
            if self.stage == Stage::Done {
                return Ok(None);
            }
            return Ok(Some(Item::Bad("an empty element between two commas".to_owned())));
        }
        Ok(Some(parse(element)))
    }

    /// Reads up to the opening `[`; `false` when the file is empty or not an array.
    fn open(&mut self) -> io::Result<bool> {
        loop {
            match self.next_byte()? {
                Some(byte) if byte.is_ascii_whitespace() => continue,
                Some(b'[') => {
                    self.stage = Stage::Inside;
                    return Ok(true);
                }
                Some(_) => {
                    self.refusal = Some(
                        "a JSON file must be an array of objects, [{...}, ...]: for one object per line, send an NDJSON file"
                            .to_owned(),
                    );
                }
                None => {
                    self.refusal = Some("the file is empty: send an array of objects".to_owned());
                }
            }
            self.stage = Stage::Done;
            return Ok(false);
        }
    }

    /// Bytes of the current row held (at most `max_bytes`).
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.buffer.len()
    }

    fn too_long(&self) -> Item {
        Item::Bad(format!(
            "the row is longer than REQUEST_BODY_LIMIT_BYTES ({} bytes)",
            self.max_bytes
        ))
    }
}

/// One row: a JSON object.
fn parse(text: &[u8]) -> Item {
    match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(doc)) => Item::Doc(doc),
        Ok(other) => Item::Bad(format!("a row must be a JSON object, not {}", kind_of(&other))),
        Err(error) => Item::Bad(format!("the row is not valid JSON: {error}")),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads every row of `bytes` (tests).
#[cfg(test)]
pub fn rows_of(bytes: &[u8], kind: FileKind, max_bytes: usize) -> (Vec<Item>, Option<String>) {
    let mut rows = JsonRows::new(bytes, kind, max_bytes);
    let mut items = Vec::new();
    while let Ok(Some(item)) = rows.next_item() {
        items.push(item);
    }
    (items, rows.refusal)
}
