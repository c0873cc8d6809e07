//! Header parsing and values typed by the group schema.

use csv::StringRecord;
use serde_json::{json, Value};

use super::header;
use crate::users::import::header::{ColumnKind, Header};
use crate::users::import::typing::{type_row, TypedRow};
use crate::users::import::ImportError;

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "userGroup": {"type": "string"},
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "score": {"type": "number"},
            "vip": {"type": "boolean"},
            "nick": {"type": ["null", "string"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "lucky": {"type": "array", "items": {"type": "integer"}},
            "expirationDate": {"type": "string", "format": "date-time"},
            "address": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "zip": {"type": "integer"}}
            },
            "meta": {"type": "object"}
        }
    })
}

fn typed(names: &[&str], cells: &[&str]) -> Result<TypedRow, String> {
    type_row(
        &header(names),
        &StringRecord::from(cells.to_vec()),
        &schema(),
        &docquery::Limits::default(),
    )
}

fn fields(names: &[&str], cells: &[&str]) -> Value {
    Value::Object(typed(names, cells).expect("typed row").fields)
}

fn bad_request(result: Result<Header, ImportError>) -> String {
    match result {
        Err(ImportError::BadRequest(message)) => message,
        other => panic!("expected a 400, got {other:?}"),
    }
}

#[test]
fn each_declared_type_turns_a_cell_into_its_json_value() {
    let names = [
        "userGroup",
        "name",
        "age",
        "score",
        "vip",
        "nick",
        "expirationDate",
    ];
    let cells = [
        "customer",
        "Ann",
        "42",
        "4.5",
        "TRUE",
        "annie",
        "2030-01-02T03:04:05Z",
    ];
    assert_eq!(
        fields(&names, &cells),
        json!({
            "userGroup": "customer", "name": "Ann", "age": 42, "score": 4.5, "vip": true,
            "nick": "annie", "expirationDate": "2030-01-02T03:04:05Z"
        })
    );
    assert_eq!(
        fields(&["userGroup", "vip"], &["c", "False"])["vip"],
        json!(false)
    );
    assert_eq!(fields(&["userGroup", "age"], &["c", " 7 "])["age"], json!(7));
}

#[test]
fn a_value_that_is_not_of_its_type_names_the_column_and_the_value() {
    assert_eq!(
        typed(&["userGroup", "age"], &["c", "x"]).unwrap_err(),
        "column age: \"x\" is not a number"
    );
    assert_eq!(
        typed(&["userGroup", "vip"], &["c", "yes"]).unwrap_err(),
        "column vip: \"yes\" is not a boolean (true or false)"
    );
    assert_eq!(
        typed(&["userGroup", "lucky"], &["c", "[1, two]"]).unwrap_err(),
        "column lucky: \"two\" is not a number"
    );
    assert_eq!(
        typed(&["userGroup", "meta"], &["c", "plain"]).unwrap_err(),
        "column meta: \"plain\" is not a JSON object"
    );
}

#[test]
fn a_decimal_in_an_integer_column_is_left_for_the_schema_to_refuse() {
    assert_eq!(fields(&["userGroup", "age"], &["c", "3.5"])["age"], json!(3.5));
}

#[test]
fn arrays_are_read_from_brackets_a_single_value_or_json() {
    let tags = |cell: &str| fields(&["userGroup", "tags"], &["c", cell])["tags"].clone();
    assert_eq!(tags("[a, b]"), json!(["a", "b"]));
    assert_eq!(tags("[ a ,b ]"), json!(["a", "b"]));
    assert_eq!(tags("solo"), json!(["solo"]));
    assert_eq!(tags("[]"), json!([]));
    assert_eq!(tags("[ ]"), json!([]));
    assert_eq!(tags(r#"["x, y", "z"]"#), json!(["x, y", "z"]));
    let lucky = fields(&["userGroup", "lucky"], &["c", "[7, 13]"]);
    assert_eq!(lucky["lucky"], json!([7, 13]));
    assert_eq!(fields(&["userGroup", "lucky"], &["c", "9"])["lucky"], json!([9]));
}

#[test]
fn dotted_columns_build_nested_objects_typed_by_the_nested_properties() {
    let names = ["userGroup", "address.city", "address.zip", "extra.deep.note"];
    assert_eq!(
        fields(&names, &["c", "Rome", "00100", "hi"]),
        json!({
            "userGroup": "c",
            "address": {"city": "Rome", "zip": 100},
            "extra": {"deep": {"note": "hi"}}
        })
    );
    assert_eq!(
        typed(&["userGroup", "address.zip"], &["c", "north"]).unwrap_err(),
        "column address.zip: \"north\" is not a number"
    );
}

#[test]
fn an_object_column_takes_a_json_object() {
    let row = fields(&["userGroup", "meta"], &["c", r#"{"a": 1}"#]);
    assert_eq!(row["meta"], json!({"a": 1}));
}

#[test]
fn empty_cells_are_left_out() {
    let row = fields(
        &["userGroup", "name", "age", "address.city"],
        &["c", "", "  ", ""],
    );
    assert_eq!(row, json!({"userGroup": "c"}));
}

#[test]
fn columns_the_schema_does_not_declare_stay_strings() {
    let row = fields(&["userGroup", "shoeSize", "flag"], &["c", "42", "true"]);
    assert_eq!(row, json!({"userGroup": "c", "shoeSize": "42", "flag": "true"}));
}

#[test]
fn an_id_cell_makes_the_row_an_update_and_an_empty_one_an_insert() {
    let update = typed(&["_id", "userGroup", "age"], &[" 665f0c ", "c", "3"]).unwrap();
    assert_eq!(update.id.as_deref(), Some("665f0c"));
    assert_eq!(Value::Object(update.fields), json!({"userGroup": "c", "age": 3}));
    let insert = typed(&["_id", "userGroup"], &["", "c"]).unwrap();
    assert_eq!(insert.id, None);
}

#[test]
fn a_credential_or_service_field_with_a_value_makes_the_row_invalid() {
    for column in ["password", "authUserId", "expirationId", "__STATE__", "createdAt"] {
        let error = typed(&["userGroup", column], &["c", "x"]).unwrap_err();
        assert!(
            error.starts_with(&format!("column {column}: an import never writes {column}")),
            "{error}"
        );
    }
    // An empty cell in such a column is fine.
    assert!(typed(&["userGroup", "password"], &["c", ""]).is_ok());
}

#[test]
fn the_header_names_the_columns_trimmed_and_finds_user_group() {
    let parsed = header(&[" _id", "email ", "userGroup", "address.city"]);
    assert_eq!(parsed.user_group, 2);
    assert_eq!(parsed.columns[0].kind, ColumnKind::Id);
    assert_eq!(parsed.columns[1].name, "email");
    assert_eq!(
        parsed.columns[3].kind,
        ColumnKind::Field(vec!["address".to_owned(), "city".to_owned()])
    );
    assert_eq!(
        header(&["userGroup", "password"]).columns[1].kind,
        ColumnKind::Forbidden
    );
}

#[test]
fn a_header_without_user_group_is_refused() {
    let message = bad_request(Header::parse(["name", "email"]));
    assert_eq!(
        message,
        "the header has no userGroup column: every row needs its userGroup"
    );
}

#[test]
fn a_header_with_empty_repeated_malformed_or_overlapping_names_is_refused() {
    assert!(bad_request(Header::parse(["userGroup", ""])).contains("column 2"));
    assert!(bad_request(Header::parse(["userGroup", "a", "a"])).contains("twice"));
    assert!(bad_request(Header::parse(["userGroup", "a..b"])).contains("dotted"));
    assert_eq!(
        bad_request(Header::parse(["userGroup", "address", "address.city"])),
        "columns address and address.city overlap: use one or the other"
    );
}
