//! JSON and NDJSON rows: objects keep their JSON types, a bad row is reported alone, a file
//! that is not an array is refused, and (property) arbitrary bytes never panic the reader nor
//! make it hold more than one row.

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::users::import::json::{rows_of, Item, JsonRows};
use crate::users::import::FileKind;

fn doc(item: &Item) -> Value {
    match item {
        Item::Doc(doc) => Value::Object(doc.clone()),
        Item::Bad(error) => panic!("not a document: {error}"),
    }
}

fn bad(item: &Item) -> &str {
    match item {
        Item::Bad(error) => error,
        Item::Doc(doc) => panic!("not a bad row: {doc:?}"),
    }
}

#[test]
fn an_array_gives_one_row_per_element_with_json_types() {
    let text = br#" [ {"userGroup": "c", "age": 3, "ok": true, "tags": ["a,b", "]"]},
        {"name": "say \"hi\", {x}"} ] "#;
    let (items, refusal) = rows_of(text, FileKind::Json, 1024);
    assert_eq!(refusal, None);
    assert_eq!(items.len(), 2);
    assert_eq!(
        doc(&items[0]),
        json!({"userGroup": "c", "age": 3, "ok": true, "tags": ["a,b", "]"]})
    );
    assert_eq!(doc(&items[1]), json!({"name": "say \"hi\", {x}"}));
}

#[test]
fn the_rest_of_the_file_is_read_and_text_after_the_array_is_seen() {
    let mut rows = JsonRows::new(&b"[{\"a\": 1}] \n x"[..], FileKind::Json, 64);
    assert!(matches!(rows.next_item(), Ok(Some(Item::Doc(_)))));
    assert!(matches!(rows.next_item(), Ok(None)));
    assert!(matches!(rows.drain(), Ok(true)));
    let mut rows = JsonRows::new(&b"[] \n"[..], FileKind::Json, 64);
    assert!(matches!(rows.next_item(), Ok(None)));
    assert!(matches!(rows.drain(), Ok(false)));
}

#[test]
fn an_empty_array_has_no_rows() {
    let (items, refusal) = rows_of(b"[ ]", FileKind::Json, 64);
    assert!(items.is_empty());
    assert_eq!(refusal, None);
}

#[test]
fn a_bad_element_is_reported_alone() {
    let (items, _) = rows_of(br#"[{"a":1}, 42, {"b":}, {"c":3}]"#, FileKind::Json, 64);
    assert_eq!(items.len(), 4);
    assert_eq!(doc(&items[0]), json!({"a": 1}));
    assert_eq!(bad(&items[1]), "a row must be a JSON object, not a number");
    assert!(
        bad(&items[2]).starts_with("the row is not valid JSON"),
        "{:?}",
        items[2]
    );
    assert_eq!(doc(&items[3]), json!({"c": 3}));
}

#[test]
fn a_file_that_is_not_an_array_is_refused() {
    let (items, refusal) = rows_of(br#"{"a": 1}"#, FileKind::Json, 64);
    assert!(items.is_empty());
    assert!(refusal
        .unwrap_or_default()
        .starts_with("a JSON file must be an array of objects"));
    let (_, refusal) = rows_of(b"  ", FileKind::Json, 64);
    assert!(refusal.unwrap_or_default().starts_with("the file is empty"));
}

#[test]
fn an_array_left_open_ends_with_a_bad_row() {
    let (items, _) = rows_of(br#"[{"a": 1}, {"b": 2"#, FileKind::Json, 64);
    assert_eq!(doc(&items[0]), json!({"a": 1}));
    assert!(bad(&items[1]).contains("not closed"));
}

#[test]
fn a_row_over_the_limit_is_reported_and_the_next_one_read() {
    let long = format!(r#"[{{"a": "{}"}}, {{"b": 1}}]"#, "x".repeat(100));
    let (items, _) = rows_of(long.as_bytes(), FileKind::Json, 32);
    assert!(bad(&items[0]).contains("REQUEST_BODY_LIMIT_BYTES (32 bytes)"));
    assert_eq!(doc(&items[1]), json!({"b": 1}));
    let ndjson = format!("{{\"a\": \"{}\"}}\n{{\"b\": 1}}\n", "x".repeat(100));
    let (items, _) = rows_of(ndjson.as_bytes(), FileKind::Ndjson, 32);
    assert!(bad(&items[0]).contains("REQUEST_BODY_LIMIT_BYTES"));
    assert_eq!(doc(&items[1]), json!({"b": 1}));
}

#[test]
fn ndjson_gives_one_row_per_non_blank_line() {
    let text = b"{\"a\": 1}\r\n\n  \n[1]\n{\"b\": \"x\"}";
    let (items, refusal) = rows_of(text, FileKind::Ndjson, 64);
    assert_eq!(refusal, None);
    assert_eq!(items.len(), 3);
    assert_eq!(doc(&items[0]), json!({"a": 1}));
    assert_eq!(bad(&items[1]), "a row must be a JSON object, not an array");
    assert_eq!(doc(&items[2]), json!({"b": "x"}));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_rows_stay_bounded(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        max in 1usize..256,
        ndjson in any::<bool>(),
    ) {
        let kind = if ndjson { FileKind::Ndjson } else { FileKind::Json };
        let mut rows = JsonRows::new(bytes.as_slice(), kind, max);
        let mut count = 0usize;
        while let Ok(Some(item)) = rows.next_item() {
            prop_assert!(rows.held() <= max);
            if let Item::Bad(error) = &item {
                prop_assert!(!error.is_empty());
            }
            count += 1;
            prop_assert!(count <= bytes.len() + 1);
        }
    }

    #[test]
    fn elements_of_arbitrary_objects_come_back_whole(
        values in proptest::collection::vec(
            proptest::collection::btree_map("[a-z\"\\\\,\\[\\]{}]{0,6}", "[ -~]{0,12}", 0..4), 0..8),
    ) {
        let docs: Vec<Value> = values.iter().map(|m| json!(m)).collect();
        let text = serde_json::to_vec(&docs).unwrap_or_default();
        let (items, refusal) = rows_of(&text, FileKind::Json, 4096);
        prop_assert_eq!(refusal, None);
        let read: Vec<Value> = items.iter().map(doc).collect();
        prop_assert_eq!(read, docs);
    }
}
