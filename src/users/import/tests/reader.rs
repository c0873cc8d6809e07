//! Reading CSV: options, encodings, quoting, row numbers, and the channel-fed blocking reader.

use tokio::sync::mpsc;

use crate::users::import::options::{Encoding, ImportOptions};
use crate::users::import::reader::{open, read_into, Chunk, ReadEvent};
use crate::users::import::{CsvLimits, ImportError};

/// A row as the reader saw it: its cells, or why it is invalid.
type Seen = (u64, Result<Vec<String>, String>);

fn read_with(bytes: &[u8], options: ImportOptions) -> (Vec<String>, Vec<Seen>) {
    let (header, mut rows) = open(bytes, &options, &CsvLimits::default()).expect("the header is read");
    let names = header.columns.iter().map(|c| c.name.clone()).collect();
    let mut seen = Vec::new();
    while let Some(event) = rows.next_event() {
        seen.push(describe(event.expect("the source does not fail")));
    }
    (names, seen)
}

fn describe(event: ReadEvent) -> Seen {
    match event {
        ReadEvent::Row { row, record } => (row, Ok(record.iter().map(str::to_owned).collect())),
        ReadEvent::Invalid { row, error } => (row, Err(error)),
        other => panic!("unexpected event {other:?}"),
    }
}

fn read(bytes: &[u8]) -> (Vec<String>, Vec<Seen>) {
    read_with(bytes, ImportOptions::default())
}

fn cells(row: u64, values: &[&str]) -> Seen {
    (row, Ok(values.iter().map(|v| (*v).to_owned()).collect()))
}

fn open_error(bytes: &[u8]) -> String {
    match open(bytes, &ImportOptions::default(), &CsvLimits::default()) {
        Err(ImportError::BadRequest(message)) => message,
        Err(other) => panic!("expected a 400, got {other:?}"),
        Ok(_) => panic!("expected a 400"),
    }
}

#[test]
fn rows_are_numbered_from_one_after_the_header_and_blank_lines_are_skipped() {
    let (names, rows) = read(b"userGroup,name\r\nc,Ann\r\n\r\nc,Bob\n");
    assert_eq!(names, ["userGroup", "name"]);
    assert_eq!(rows, [cells(1, &["c", "Ann"]), cells(2, &["c", "Bob"])]);
}

#[test]
fn quoted_fields_keep_delimiters_quotes_and_line_breaks() {
    let file = b"userGroup,name,tags\nc,\"Smith, Ann\",\"[a, b]\"\nc,\"say \"\"hi\"\"\nbye\",x\n";
    let (_, rows) = read(file);
    assert_eq!(
        rows,
        [
            cells(1, &["c", "Smith, Ann", "[a, b]"]),
            cells(2, &["c", "say \"hi\"\nbye", "x"])
        ]
    );
}

#[test]
fn empty_cells_are_read_as_empty_strings() {
    let (_, rows) = read(b"userGroup,name,age\nc,,\n");
    assert_eq!(rows, [cells(1, &["c", "", ""])]);
}

#[test]
fn a_semicolon_delimiter_splits_on_semicolons_only() {
    let options = ImportOptions {
        delimiter: b';',
        ..ImportOptions::default()
    };
    let (names, rows) = read_with(b"userGroup;tags\nc;[a, b]\n", options);
    assert_eq!(names, ["userGroup", "tags"]);
    assert_eq!(rows, [cells(1, &["c", "[a, b]"])]);
}

#[test]
fn another_escape_character_escapes_quotes_inside_quoted_fields() {
    let options = ImportOptions {
        escape: b'\'',
        ..ImportOptions::default()
    };
    let (_, rows) = read_with(b"userGroup,name\nc,\"say '\"hi'\"\"\n", options);
    assert_eq!(rows, [cells(1, &["c", "say \"hi\""])]);
    let backslash = ImportOptions {
        escape: b'\\',
        ..ImportOptions::default()
    };
    let (_, rows) = read_with(b"userGroup,name\nc,\"a \\\"b\\\" c\"\n", backslash);
    assert_eq!(rows, [cells(1, &["c", "a \"b\" c"])]);
}

#[test]
fn latin1_bytes_are_decoded() {
    for encoding in [Encoding::Latin1, Encoding::Ascii] {
        let options = ImportOptions {
            encoding,
            ..ImportOptions::default()
        };
        // ascii reads a byte over 0x7F as latin1, as the WHATWG label does: never an error.
        let (_, rows) = read_with(b"userGroup,name\nc,Ren\xE9e\n", options);
        assert_eq!(rows, [cells(1, &["c", "Renée"])], "{encoding:?}");
    }
}

fn utf16le(text: &str, bom: bool) -> Vec<u8> {
    let mut bytes = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

#[test]
fn utf16le_is_decoded_with_or_without_its_bom() {
    let options = ImportOptions {
        encoding: Encoding::Utf16Le,
        ..ImportOptions::default()
    };
    for bom in [true, false] {
        let (names, rows) = read_with(&utf16le("userGroup,name\nc,Zoë\n", bom), options);
        assert_eq!(names, ["userGroup", "name"]);
        assert_eq!(rows, [cells(1, &["c", "Zoë"])]);
    }
}

#[test]
fn a_utf16_file_with_its_bom_reads_right_even_when_sent_as_utf8() {
    let (names, _) = read(&utf16le("userGroup,name\n", true));
    assert_eq!(names, ["userGroup", "name"]);
}

#[test]
fn a_utf8_bom_is_skipped() {
    let (names, rows) = read(b"\xEF\xBB\xBFuserGroup,name\nc,Ann\n");
    assert_eq!(names, ["userGroup", "name"]);
    assert_eq!(rows, [cells(1, &["c", "Ann"])]);
}

#[test]
fn a_row_with_invalid_utf8_is_reported_and_the_next_rows_are_read() {
    let (_, rows) = read(b"userGroup,name\nc,Ren\xE9e\nc,Bob\n");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, 1);
    assert!(rows[0].1.as_ref().unwrap_err().contains("not valid UTF-8"));
    assert_eq!(rows[1], cells(2, &["c", "Bob"]));
}

#[test]
fn a_row_with_a_different_number_of_values_is_reported() {
    let (_, rows) = read(b"userGroup,name\nc\nc,Ann,extra\nc,Bob\n");
    assert_eq!(
        rows[0],
        (1, Err("row has 1 values but the header has 2 columns".to_owned()))
    );
    assert_eq!(
        rows[1],
        (2, Err("row has 3 values but the header has 2 columns".to_owned()))
    );
    assert_eq!(rows[2], cells(3, &["c", "Bob"]));
}

#[test]
fn a_header_without_user_group_or_an_empty_file_is_refused() {
    assert!(open_error(b"name,email\nAnn,a@x.io\n").contains("no userGroup column"));
    assert!(open_error(b"").contains("the file is empty"));
    assert!(open_error(b"\xEF\xBB\xBF").contains("the file is empty"));
}

fn run_channel(chunks: Vec<Chunk>) -> (Result<(), ImportError>, Vec<ReadEvent>) {
    let (chunk_tx, chunk_rx) = mpsc::channel(chunks.len() + 1);
    for chunk in chunks {
        chunk_tx.blocking_send(chunk).unwrap();
    }
    drop(chunk_tx);
    let (event_tx, mut event_rx) = mpsc::channel(64);
    let result = read_into(
        chunk_rx,
        ImportOptions::default(),
        &CsvLimits::default(),
        &event_tx,
    );
    drop(event_tx);
    let mut events = Vec::new();
    while let Some(event) = event_rx.blocking_recv() {
        events.push(event);
    }
    (result, events)
}

#[test]
fn the_channel_reader_reassembles_rows_split_across_chunks_and_ends_with_end() {
    let file = "userGroup,name\nc,Zoë\nc,Ann\n".as_bytes();
    // One byte a chunk: rows and even characters are split.
    let chunks = file
        .iter()
        .map(|b| Chunk::Data(bytes::Bytes::copy_from_slice(&[*b])))
        .collect();
    let (result, events) = run_channel(chunks);
    assert!(result.is_ok());
    assert!(matches!(events.first(), Some(ReadEvent::Header(_))));
    assert!(matches!(events.last(), Some(ReadEvent::End)));
    let rows: Vec<Seen> = events[1..events.len() - 1]
        .iter()
        .map(|e| match e {
            ReadEvent::Row { row, record } => (*row, Ok(record.iter().map(str::to_owned).collect())),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(rows, [cells(1, &["c", "Zoë"]), cells(2, &["c", "Ann"])]);
}

#[test]
fn an_aborted_upload_never_passes_a_cut_off_last_row() {
    let chunks = vec![
        Chunk::Data(bytes::Bytes::from_static(b"userGroup,name\nc,Ann\nc,Bo")),
        Chunk::Abort,
    ];
    let (result, events) = run_channel(chunks);
    assert!(matches!(result, Err(ImportError::Aborted)));
    assert!(!events.iter().any(|e| matches!(e, ReadEvent::End)));
    assert!(!events.iter().any(|e| matches!(e, ReadEvent::Row { row: 2, .. })));
}
