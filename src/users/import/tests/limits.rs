//! The limits of an import (SPEC §10): the header is bounded before any row is read, with a 400
//! naming the limit and its variable; a row over a document limit is reported on its own.

use csv::StringRecord;
use serde_json::{json, Value};

use super::header;
use crate::users::import::options::ImportOptions;
use crate::users::import::reader::{open, ReadEvent};
use crate::users::import::rows::over_limit;
use crate::users::import::typing::type_row;
use crate::users::import::{CsvLimits, ImportError};

fn header_error(bytes: &[u8], limits: &CsvLimits) -> String {
    match open(bytes, &ImportOptions::default(), limits) {
        Err(ImportError::BadRequest(message)) => message,
        Err(other) => panic!("expected a 400, got {other:?}"),
        Ok(_) => panic!("expected a 400"),
    }
}

#[test]
fn a_header_with_a_hundred_thousand_dotted_levels_is_refused_without_overflowing() {
    let name = vec!["a"; 100_000].join(".");
    let file = format!("userGroup,{name}\nc,x\n");
    let message = header_error(file.as_bytes(), &CsvLimits::default());
    assert!(
        message.contains("LIMIT_FIELD_PATH_BYTES (256 bytes)"),
        "{message}"
    );
    assert!(message.contains("199999 bytes long"), "{message}");
}

#[test]
fn a_header_name_with_more_segments_than_the_depth_limit_is_refused() {
    let name = vec!["a"; 33].join(".");
    let message = header_error(format!("userGroup,{name}\n").as_bytes(), &CsvLimits::default());
    assert!(message.contains("33 segments"), "{message}");
    assert!(message.contains("LIMIT_DOCUMENT_DEPTH (32)"), "{message}");
    // 32 segments are fine.
    let name = vec!["a"; 32].join(".");
    assert!(open(
        format!("userGroup,{name}\n").as_bytes(),
        &ImportOptions::default(),
        &CsvLimits::default()
    )
    .is_ok());
}

#[test]
fn a_header_name_over_the_path_bytes_limit_is_refused() {
    let name = "n".repeat(257);
    let message = header_error(format!("userGroup,{name}\n").as_bytes(), &CsvLimits::default());
    assert!(message.contains("257 bytes long"), "{message}");
    assert!(message.contains("LIMIT_FIELD_PATH_BYTES"), "{message}");
}

#[test]
fn a_header_with_more_columns_than_the_limit_is_refused_before_any_row_is_read() {
    let names: Vec<String> = (0..501).map(|i| format!("c{i}")).collect();
    let file = format!("userGroup,{}\n", names[..500].join(","));
    let message = header_error(file.as_bytes(), &CsvLimits::default());
    assert_eq!(
        message,
        "the header has 501 columns: the limit is 500 (LIMIT_CSV_COLUMNS)"
    );
    let small = CsvLimits {
        columns: 3,
        ..CsvLimits::default()
    };
    assert!(header_error(b"userGroup,a,b,c\n", &small).contains("LIMIT_CSV_COLUMNS"));
    assert!(open(&b"userGroup,a,b\n"[..], &ImportOptions::default(), &small).is_ok());
}

#[test]
fn a_header_row_longer_than_a_record_is_refused() {
    let small = CsvLimits {
        record_bytes: 64,
        ..CsvLimits::default()
    };
    let file = format!("userGroup,{}\n", "n".repeat(100));
    let message = header_error(file.as_bytes(), &small);
    assert!(message.contains("REQUEST_BODY_LIMIT_BYTES"), "{message}");
}

#[test]
fn a_header_with_a_quote_left_open_is_refused() {
    let message = header_error(b"userGroup,\"name\nc,Ann\n", &CsvLimits::default());
    assert!(
        message.starts_with("the header row cannot be read: a quoted value"),
        "{message}"
    );
}

#[test]
fn a_row_longer_than_the_record_limit_is_reported_and_the_next_row_read() {
    let small = CsvLimits {
        record_bytes: 32,
        ..CsvLimits::default()
    };
    let file = format!("userGroup,name\nc,{}\nc,Bob\n", "x".repeat(64));
    let (_, mut rows) = open(file.as_bytes(), &ImportOptions::default(), &small).unwrap();
    match rows.next_event() {
        Some(Ok(ReadEvent::Invalid { row: 1, error })) => {
            assert!(error.contains("REQUEST_BODY_LIMIT_BYTES"), "{error}");
        }
        other => panic!("expected row 1 invalid, got {other:?}"),
    }
    assert!(matches!(
        rows.next_event(),
        Some(Ok(ReadEvent::Row { row: 2, .. }))
    ));
}

fn schema() -> Value {
    json!({"properties": {"tags": {"type": "array", "items": {"type": "string"}}, "meta": {"type": "object"}}})
}

#[test]
fn an_array_cell_longer_than_the_array_limit_is_refused_before_it_is_built() {
    let limits = docquery::Limits {
        max_array_len: 3,
        ..docquery::Limits::default()
    };
    let names = header(&["userGroup", "tags"]);
    let typed = |cell: &str| type_row(&names, &StringRecord::from(vec!["c", cell]), &schema(), &limits);
    assert_eq!(
        typed("[a, b, c, d]").unwrap_err(),
        "column tags: the array has 4 items: the limit is LIMIT_ARRAY_LENGTH (3)"
    );
    assert!(typed("[a, b, c]").is_ok());
}

#[test]
fn a_row_over_a_document_limit_names_the_limit_variable() {
    let limits = docquery::Limits {
        max_depth: 3,
        max_path_bytes: 8,
        max_array_len: 2,
    };
    let cases = [
        (json!({"a": {"b": {"c": {"d": 1}}}}), "LIMIT_DOCUMENT_DEPTH"),
        (json!({"tags": [1, 2, 3]}), "LIMIT_ARRAY_LENGTH"),
        (json!({"a-very-long-name": 1}), "LIMIT_FIELD_PATH_BYTES"),
    ];
    for (doc, variable) in cases {
        let error = limits.check_document(&doc).expect_err("over a limit");
        let message = over_limit(&error);
        assert!(message.ends_with(&format!("({variable})")), "{message}");
        assert!(message.starts_with("the row is over a limit: "), "{message}");
    }
}

#[test]
fn a_json_cell_nested_deeper_than_serde_reads_is_a_clean_error() {
    let names = header(&["userGroup", "meta"]);
    let deep = format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200));
    let error = type_row(
        &names,
        &StringRecord::from(vec!["c", deep.as_str()]),
        &schema(),
        &docquery::Limits::default(),
    )
    .unwrap_err();
    assert!(error.contains("is not a JSON object"), "{error}");
}
