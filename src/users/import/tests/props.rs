//! Property tests: the header parser and the typing by schema never panic or overflow, whatever
//! the sizes and depths (beyond the limits too), and fail with clean messages; arbitrary bytes
//! (quotes, delimiters, line breaks) never make a line disappear or merge rows.

use csv::StringRecord;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::records::records_with;
use crate::users::import::header::{ColumnKind, Header};
use crate::users::import::options::ImportOptions;
use crate::users::import::quoting::Dialect;
use crate::users::import::reader::{open, ReadEvent};
use crate::users::import::records::RecordLimits;
use crate::users::import::typing::type_row;
use crate::users::import::{CsvLimits, ImportError};

/// Limits small enough for generated headers to cross them.
fn small_limits(columns: usize, bytes: usize, depth: usize) -> CsvLimits {
    CsvLimits {
        columns,
        document: docquery::Limits {
            max_depth: depth,
            max_path_bytes: bytes,
            ..docquery::Limits::default()
        },
        ..CsvLimits::default()
    }
}

/// The variable naming the first limit `names` cross, in the order the parser checks them.
fn first_crossed(names: &[String], limits: &CsvLimits) -> Option<&'static str> {
    names.iter().enumerate().find_map(|(index, name)| {
        if index >= limits.columns {
            Some("LIMIT_CSV_COLUMNS")
        } else if name.len() > limits.document.max_path_bytes {
            Some("LIMIT_FIELD_PATH_BYTES")
        } else if name.split('.').count() > limits.document.max_depth {
            Some("LIMIT_DOCUMENT_DEPTH")
        } else {
            None
        }
    })
}

/// Well-formed, distinct, non-overlapping column names (each starts with its own segment).
fn column_names() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec((1usize..12, 1usize..6), 0..24).prop_map(|shapes| {
        let mut names = vec!["userGroup".to_owned()];
        for (index, (segments, width)) in shapes.into_iter().enumerate() {
            let mut path = vec![format!("c{index}")];
            path.extend((1..segments).map(|s| "s".repeat(width) + &s.to_string()));
            names.push(path.join("."));
        }
        names
    })
}

proptest! {
    #[test]
    fn the_header_parser_refuses_exactly_the_names_over_a_limit_and_names_it(
        names in column_names(),
        columns in 1usize..30,
        bytes in 4usize..48,
        depth in 1usize..10,
    ) {
        let limits = small_limits(columns, bytes, depth);
        let parsed = Header::parse_within(names.iter().map(String::as_str), &limits);
        match (first_crossed(&names, &limits), parsed) {
            (None, Ok(header)) => prop_assert_eq!(header.columns.len(), names.len()),
            (Some(variable), Err(ImportError::BadRequest(message))) => {
                prop_assert!(message.contains(variable), "{} not in {}", variable, message);
            }
            (expected, other) => prop_assert!(false, "expected {:?}, got {:?}", expected, other),
        }
    }

    #[test]
    fn the_header_parser_never_panics_on_any_names_and_what_it_accepts_is_within_the_limits(
        names in prop::collection::vec("[a-z. ]{0,40}|[.a]{0,600}", 0..40),
        user_group_at in 0usize..40,
    ) {
        let mut names = names;
        names.insert(user_group_at.min(names.len()), "userGroup".to_owned());
        let limits = small_limits(32, 64, 8);
        match Header::parse_within(names.iter().map(String::as_str), &limits) {
            Ok(header) => {
                prop_assert!(header.columns.len() <= 32);
                for column in &header.columns {
                    prop_assert!(column.name.len() <= 64);
                    if let ColumnKind::Field(path) = &column.kind {
                        prop_assert!(path.len() <= 8);
                        prop_assert!(path.iter().all(|segment| !segment.is_empty()));
                    }
                }
            }
            Err(ImportError::BadRequest(message)) => prop_assert!(!message.is_empty()),
            Err(other) => prop_assert!(false, "not a 400: {:?}", other),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Far beyond the limits: tens of thousands of segments or columns, with the defaults.
    #[test]
    fn a_huge_header_is_refused_cleanly_before_any_row_is_read(
        segments in 33usize..60_000,
        columns in 1usize..2_000,
    ) {
        let deep = vec!["a"; segments].join(".");
        let wide: Vec<String> = (0..columns).map(|i| format!("c{i}")).collect();
        let file = format!("userGroup,{},{deep}\nc\n", wide.join(","));
        let read = open(file.as_bytes(), &ImportOptions::default(), &CsvLimits::default());
        match read {
            Err(ImportError::BadRequest(message)) => {
                let named = ["LIMIT_CSV_COLUMNS", "LIMIT_FIELD_PATH_BYTES", "LIMIT_DOCUMENT_DEPTH"]
                    .iter()
                    .any(|variable| message.contains(variable));
                prop_assert!(named, "{}", message);
            }
            other => prop_assert!(false, "expected a 400, got {:?}", other.err()),
        }
    }
}

/// A schema declaration of any of the types the typing knows, nested objects included.
fn declaration() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(json!({"type": "integer"})),
        Just(json!({"type": "number"})),
        Just(json!({"type": "boolean"})),
        Just(json!({"type": ["null", "string"]})),
        Just(json!({"type": "array", "items": {"type": "integer"}})),
        Just(json!({"type": "array", "items": {"type": "string"}})),
        Just(json!({"type": "object"})),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop::collection::btree_map("[pq]", inner, 1..3).prop_map(|properties| {
            json!({"type": "object", "properties": properties.into_iter().collect::<Map<_, _>>()})
        })
    })
}

/// Cells: numbers, booleans, arrays, JSON (deep ones too), and noise.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| format!(" {n} ")),
        any::<f64>().prop_map(|n| n.to_string()),
        Just("true".to_owned()),
        Just("FALSE".to_owned()),
        Just("1e400".to_owned()),
        prop::collection::vec("[a-z0-9 ]{0,4}", 0..30).prop_map(|items| format!("[{}]", items.join(","))),
        (0usize..300).prop_map(|depth| format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))),
        (0usize..300).prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth))),
        ".{0,20}",
    ]
}

/// The declared type at `path`, following nested `properties`.
fn declared<'a>(schema: &'a Value, path: &[String]) -> Option<&'a str> {
    let node = path
        .iter()
        .try_fold(schema, |node, segment| node.get("properties")?.get(segment))?;
    match node.get("type")? {
        Value::String(name) => Some(name),
        Value::Array(names) => names.iter().filter_map(Value::as_str).find(|n| *n != "null"),
        _ => None,
    }
}

fn at<'a>(fields: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(fields.get(first)?, |node, segment| node.get(segment))
}

proptest! {
    #[test]
    fn typing_by_schema_never_panics_and_gives_each_column_its_declared_type(
        properties in prop::collection::btree_map("[pq]", declaration(), 1..3),
        paths in prop::collection::vec(prop::collection::vec("[pq]", 1..40), 1..6),
        cells in prop::collection::vec(cell(), 6),
        depth in 1usize..48,
    ) {
        let schema = json!({"type": "object", "properties": properties.into_iter().collect::<Map<_, _>>()});
        let mut names = vec!["userGroup".to_owned()];
        // Distinct first segments: no overlaps; the depth of each path is free.
        names.extend(paths.iter().enumerate().map(|(i, path)| format!("x{i}.{}", path.join("."))));
        names.extend(paths.iter().take(1).map(|path| path.join(".")));
        let limits = small_limits(64, 256, depth);
        let Ok(header) = Header::parse_within(names.iter().map(String::as_str), &limits) else {
            // Refused: a path over the depth (checked by the other properties).
            return Ok(());
        };
        let mut record = vec!["c".to_owned()];
        record.extend(cells.iter().take(header.columns.len() - 1).cloned());
        record.resize(header.columns.len(), String::new());
        let typed = type_row(&header, &StringRecord::from(record.clone()), &schema, &limits.document);
        let Ok(typed) = typed else {
            let message = typed.unwrap_err();
            prop_assert!(message.starts_with("column "), "{}", message);
            return Ok(());
        };
        for (column, cell) in header.columns.iter().zip(&record) {
            let ColumnKind::Field(path) = &column.kind else { continue };
            let value = at(&typed.fields, path);
            if cell.trim().is_empty() {
                prop_assert!(value.is_none());
                continue;
            }
            let value = value.expect("a non-empty cell is written at its path");
            let fits = match declared(&schema, path) {
                Some("integer" | "number") => value.is_number(),
                Some("boolean") => value.is_boolean(),
                Some("array") => value.is_array(),
                Some("object") => value.is_object(),
                _ => value.is_string(),
            };
            prop_assert!(fits, "{} typed {} under {}", cell, value, schema);
            if declared(&schema, path) == Some("integer") {
                if let Ok(n) = cell.trim().parse::<i64>() {
                    prop_assert_eq!(value, &json!(n));
                }
            }
        }
        // The whole row is checked iteratively: accepted rows are within the depth.
        let row = Value::Object(typed.fields);
        if limits.document.check_document(&row).is_ok() {
            prop_assert!(docquery::depth(&row) <= depth);
        }
        docquery::drop_iteratively(row);
    }
}

/// The physical lines of `text` (`\n`, `\r\n` or `\r`), as (text, line break) pairs.
fn physical_lines(text: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut lines = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let end = text[at..]
            .iter()
            .position(|b| matches!(b, b'\n' | b'\r'))
            .map_or(text.len(), |p| at + p);
        let brk = match (text.get(end), text.get(end + 1)) {
            (Some(b'\r'), Some(b'\n')) => 2,
            (Some(_), _) => 1,
            (None, _) => 0,
        };
        lines.push((text[at..end].to_vec(), text[end..end + brk].to_vec()));
        at = end + brk;
    }
    lines
}

fn csv_fields(text: &[u8], dialect: Dialect) -> Vec<Vec<Vec<u8>>> {
    let mut builder = csv::ReaderBuilder::new();
    builder
        .has_headers(false)
        .flexible(true)
        .delimiter(dialect.delimiter);
    match dialect.escape {
        None => builder.double_quote(true).escape(None),
        Some(escape) => builder.double_quote(false).escape(Some(escape)),
    };
    builder
        .from_reader(text)
        .byte_records()
        .map(|r| {
            r.map(|r| r.iter().map(<[u8]>::to_vec).collect())
                .unwrap_or_default()
        })
        .collect()
}

fn noisy_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop::sample::select(vec![
        b'a', b'b', b' ', b',', b';', b'"', b'"', b'\\', b'\n', b'\r',
    ]);
    prop::collection::vec(byte, 0..160)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_line_ever_disappears_and_only_well_quoted_records_span_lines(
        text in noisy_bytes(),
        semicolon in any::<bool>(),
        width in 1usize..4,
        max_bytes in prop::sample::select(vec![6usize, 24, 4096]),
        max_lines in prop::sample::select(vec![2u64, 3, 1000]),
    ) {
        let dialect = if semicolon {
            Dialect { delimiter: b';', escape: Some(b'\\') }
        } else {
            Dialect { delimiter: b',', escape: None }
        };
        let limits = RecordLimits { max_bytes, max_lines };
        let lines = physical_lines(&text);
        let records = records_with(&text, dialect, limits, width);
        let mut next_line = 1u64;
        for record in &records {
            // Lines skipped between records are blank.
            for skipped in next_line..record.first_line {
                prop_assert!(lines[skipped as usize - 1].0.is_empty(), "line {} vanished", skipped);
            }
            prop_assert!(record.first_line <= record.last_line);
            prop_assert!(!lines[record.first_line as usize - 1].0.is_empty());
            let span = (record.first_line as usize - 1)..(record.last_line as usize);
            match &record.fields {
                Err(_) => prop_assert_eq!(record.first_line, record.last_line),
                Ok(fields) => {
                    prop_assert_eq!(fields.len(), width);
                    prop_assert!(span.len() as u64 <= max_lines);
                    let mut joined = Vec::new();
                    for (index, (line, brk)) in lines[span.clone()].iter().enumerate() {
                        joined.extend_from_slice(line);
                        if index + 1 < span.len() {
                            joined.extend_from_slice(brk);
                        }
                    }
                    prop_assert!(joined.len() <= max_bytes);
                    // The csv crate reads the same text as the same single record.
                    prop_assert_eq!(csv_fields(&joined, dialect), vec![fields.clone()]);
                }
            }
            next_line = record.last_line + 1;
        }
        for skipped in next_line..=lines.len() as u64 {
            prop_assert!(lines[skipped as usize - 1].0.is_empty(), "line {} vanished", skipped);
        }
    }

    #[test]
    fn rows_are_numbered_one_by_one_whatever_the_quoting(text in noisy_bytes()) {
        let mut file = b"userGroup,name\n".to_vec();
        file.extend_from_slice(&text);
        let (_, mut rows) = open(file.as_slice(), &ImportOptions::default(), &CsvLimits::default())
            .expect("the header is fine");
        let mut expected = 1;
        while let Some(event) = rows.next_event() {
            match event.expect("a slice never fails") {
                ReadEvent::Row { row, .. } | ReadEvent::Invalid { row, .. } => prop_assert_eq!(row, expected),
                other => prop_assert!(false, "unexpected {:?}", other),
            }
            expected += 1;
        }
    }
}
