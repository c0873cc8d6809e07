//! `POST` and `PATCH /users/import` on the CRUD Service fake: POST inserts (201) and reports a
//! row whose `_id` is taken, PATCH updates by `_id`; JSON and NDJSON files chosen by content type or by
//! extension keep their JSON types; every encoding; an option after the file; 415 for a type
//! the import does not read.

use reqwest::multipart::Part;
use serde_json::{json, Value};

use crate::helpers::{group_doc, status_and_body, TestApp};

pub(super) const OLD_ID: &str = "665f00000000000000000001";

pub(super) fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "vip": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "address": {"type": "object", "properties": {"city": {"type": "string"}}}
        },
        "required": ["name"],
        "additionalProperties": false
    })
}

async fn app() -> TestApp {
    let old = json!({"_id": OLD_ID, "userGroup": "customer", "name": "Old", "__STATE__": "PUBLIC"});
    TestApp::on_fakes()
        .with_groups(vec![group_doc("customer", schema(), true)])
        .with_users(vec![old])
        .start()
        .await
}

/// A file part named `name`, of type `mime` when given.
pub(super) fn part(bytes: impl Into<Vec<u8>>, name: &str, mime: Option<&str>) -> Part {
    let part = Part::bytes(bytes.into()).file_name(name.to_owned());
    match mime {
        Some(mime) => part.mime_str(mime).expect("a valid MIME type"),
        None => part,
    }
}

/// The stored users without the store's metadata, sorted by name.
fn stored(app: &TestApp) -> Vec<Value> {
    let mut users: Vec<Value> = app
        .crud_fake()
        .state()
        .documents("/users")
        .into_iter()
        .map(|mut user| {
            let doc = user.as_object_mut().unwrap();
            for field in ["createdAt", "updatedAt", "creatorId", "updaterId"] {
                doc.remove(field);
            }
            if doc.get("_id").and_then(Value::as_str) != Some(OLD_ID) {
                doc.remove("_id");
            }
            user
        })
        .collect();
    users.sort_by_key(|u| u["name"].as_str().unwrap_or_default().to_owned());
    users
}

#[tokio::test]
async fn post_inserts_every_row_with_201_and_reports_a_row_whose_id_is_taken() {
    let app = app().await;
    let csv = format!("_id,userGroup,name\n,customer,Ann\n{OLD_ID},customer,Renamed\n");

    let response = app
        .import_part(true, part(csv, "users.csv", Some("text/csv")), &[], &[])
        .await;
    let (status, report) = status_and_body(response).await;

    assert_eq!(status, 201, "{report}");
    assert_eq!(report["inserted"].as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(report["updated"], json!([]));
    assert_eq!(
        report["invalid"],
        json!([{"row": 2, "error": format!("_id \"{OLD_ID}\" is already used")}])
    );
    assert_eq!(
        stored(&app),
        [
            json!({"userGroup": "customer", "name": "Ann", "__STATE__": "PUBLIC"}),
            json!({"_id": OLD_ID, "userGroup": "customer", "name": "Old", "__STATE__": "PUBLIC"}),
        ]
    );
}

#[tokio::test]
async fn patch_of_a_json_file_updates_by_id_inserts_the_rest_and_keeps_json_types() {
    let app = app().await;
    let file = json!([
        {"_id": OLD_ID, "userGroup": "customer", "name": "Older", "age": 70},
        {"userGroup": "customer", "name": "Ann", "age": 31, "vip": true, "tags": ["a", "b"],
         "address": {"city": "Rome"}},
        {"userGroup": "customer", "name": "Bob", "age": "31"},
        "not an object"
    ]);

    let response = app
        .import_part(
            false,
            part(file.to_string(), "users.txt", Some("application/json")),
            &[],
            &[],
        )
        .await;
    let (status, report) = status_and_body(response).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(report["updated"], json!([OLD_ID]));
    assert_eq!(report["inserted"].as_array().map(Vec::len), Some(1));
    let rows: Vec<&Value> = report["invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["row"])
        .collect();
    assert_eq!(rows, [&json!(3), &json!(4)], "{report}");
    assert_eq!(
        stored(&app),
        [
            json!({"userGroup": "customer", "name": "Ann", "age": 31, "vip": true, "tags": ["a", "b"],
                   "address": {"city": "Rome"}, "__STATE__": "PUBLIC"}),
            json!({"_id": OLD_ID, "userGroup": "customer", "name": "Older", "age": 70, "__STATE__": "PUBLIC"}),
        ]
    );
}

#[tokio::test]
async fn ndjson_and_json_files_are_recognised_by_their_extension() {
    let app = app().await;
    let ndjson = "{\"userGroup\": \"customer\", \"name\": \"Nd\", \"age\": 1}\n\n{\"userGroup\": \"customer\", \"name\": \"Jl\"}\n";
    for (name, mime) in [
        ("users.ndjson", None),
        ("users.JSONL", Some("application/octet-stream")),
    ] {
        let response = app.import_part(false, part(ndjson, name, mime), &[], &[]).await;
        let (status, report) = status_and_body(response).await;
        assert_eq!(status, 200, "{name}: {report}");
        assert_eq!(
            report["inserted"].as_array().map(Vec::len),
            Some(2),
            "{name}: {report}"
        );
    }
    let ndjson_typed = part(
        r#"{"userGroup": "customer", "name": "Typed"}"#,
        "x",
        Some("application/x-ndjson"),
    );
    let (status, report) = status_and_body(app.import_part(true, ndjson_typed, &[], &[]).await).await;
    assert_eq!(
        (status, report["inserted"].as_array().map(Vec::len)),
        (201, Some(1))
    );
    let json = part(r#"[{"userGroup": "customer", "name": "Js"}]"#, "users.json", None);
    let (status, report) = status_and_body(app.import_part(true, json, &[], &[]).await).await;
    assert_eq!(
        (status, report["inserted"].as_array().map(Vec::len)),
        (201, Some(1))
    );
    let names: Vec<Value> = stored(&app).iter().map(|u| u["name"].clone()).collect();
    assert_eq!(
        names,
        [
            json!("Jl"),
            json!("Jl"),
            json!("Js"),
            json!("Nd"),
            json!("Nd"),
            json!("Old"),
            json!("Typed")
        ]
    );
}

#[tokio::test]
async fn a_json_file_that_is_not_an_array_is_refused_with_400() {
    let app = app().await;
    let file = part(r#"{"userGroup": "customer", "name": "Ann"}"#, "u.json", None);
    let (status, body) = status_and_body(app.import_part(false, file, &[], &[]).await).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("a JSON file must be an array of objects"));
    assert_eq!(stored(&app).len(), 1);
}

/// `text` in `encoding`, as the Node.js encodings of the CRUD Service write it.
pub(super) fn encoded(text: &str, encoding: &str) -> Vec<u8> {
    match encoding {
        "ucs2" | "utf16le" => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        "latin1" | "ascii" => text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap())
            .collect(),
        _ => text.as_bytes().to_vec(),
    }
}

#[tokio::test]
async fn each_encoding_reads_its_file_in_csv_and_ndjson() {
    let app = app().await;
    for encoding in ["utf8", "ucs2", "utf16le", "latin1", "ascii"] {
        let csv = encoded(&format!("userGroup,name\ncustomer,Renée {encoding}\n"), encoding);
        let file = part(csv, "u.csv", Some("text/csv"));
        let (status, report) =
            status_and_body(app.import_part(false, file, &[("encoding", encoding)], &[]).await).await;
        assert_eq!(
            (status, report["invalid"].clone()),
            (200, json!([])),
            "{encoding}"
        );
        let line = format!("{{\"userGroup\": \"customer\", \"name\": \"Zoë {encoding}\"}}\n");
        let file = part(encoded(&line, encoding), "u.ndjson", None);
        let (status, report) =
            status_and_body(app.import_part(true, file, &[("encoding", encoding)], &[]).await).await;
        assert_eq!(
            (status, report["invalid"].clone()),
            (201, json!([])),
            "{encoding}"
        );
    }
    let names: Vec<String> = stored(&app)
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_owned())
        .collect();
    for encoding in ["utf8", "ucs2", "utf16le", "latin1", "ascii"] {
        assert!(
            names.contains(&format!("Renée {encoding}")),
            "{encoding}: {names:?}"
        );
        assert!(
            names.contains(&format!("Zoë {encoding}")),
            "{encoding}: {names:?}"
        );
    }
}

#[tokio::test]
async fn an_option_after_the_file_is_a_400_saying_so_not_the_files_own_error() {
    let app = app().await;
    let file = part("userGroup;name\ncustomer;Ann\n", "u.csv", Some("text/csv"));

    let (status, body) =
        status_and_body(app.import_part(false, file, &[], &[("delimiter", ";")]).await).await;

    assert_eq!(status, 400, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("the option delimiter comes after the file part"),
        "{message}"
    );
    assert!(!message.contains("userGroup"), "{message}");
    assert_eq!(stored(&app).len(), 1);
    // The same options before the file are applied.
    let file = part("userGroup;name\ncustomer;Ann\n", "u.csv", Some("text/csv"));
    let (status, _) = status_and_body(app.import_part(false, file, &[("delimiter", ";")], &[]).await).await;
    assert_eq!(status, 200);
    // A CSV option never reads a JSON file: after it, it changes nothing; a late encoding does.
    let json = || part(r#"[{"userGroup": "customer", "name": "Jo"}]"#, "u.json", None);
    let (status, _) = status_and_body(app.import_part(true, json(), &[], &[("delimiter", ";")]).await).await;
    assert_eq!(status, 201);
    let (status, body) =
        status_and_body(app.import_part(true, json(), &[], &[("encoding", "ucs2")]).await).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("the option encoding comes after the file part"));
}

#[tokio::test]
async fn a_file_of_another_type_is_refused_with_415_and_nothing_written() {
    let app = app().await;
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    for (name, mime) in [
        ("u.xlsx", Some(xlsx)),
        ("u.xls", None),
        ("u.png", Some("image/png")),
    ] {
        for post in [true, false] {
            let file = part("userGroup,name\ncustomer,Ann\n", name, mime);
            let (status, body) = status_and_body(app.import_part(post, file, &[], &[]).await).await;
            assert_eq!(status, 415, "{name}: {body}");
            assert!(body["message"]
                .as_str()
                .unwrap()
                .contains("is not one the import reads"));
        }
    }
    assert_eq!(stored(&app).len(), 1);
}
