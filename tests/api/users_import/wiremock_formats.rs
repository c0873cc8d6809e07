//! The exact store calls of a JSON or NDJSON import against wiremock: the same lookups and bulk
//! calls as a CSV import, with the values as the file typed them; `POST` rows with `_id` go to
//! the CRUD Service's own `POST /users/import` as an NDJSON file; a 4xx, a 5xx and a timeout of
//! the store on a POST of an NDJSON file.

use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use serde_json::{json, Value};

use super::formats::part;
use super::wiremock_calls::{app_with, line, store_calls, NewIds};
use super::ALL_STATES;
use crate::helpers::{given, json_body, mount, ok_json, query_param, status_and_body};
use wiremock::ResponseTemplate;

const TWO_ROWS: &str =
    "{\"userGroup\": \"customer\", \"name\": \"Ann\"}\n{\"userGroup\": \"customer\", \"name\": \"Bob\"}\n";

#[tokio::test]
async fn a_patch_of_an_ndjson_file_looks_up_inserts_and_patches_with_the_json_values() {
    let app = app_with(&[]).await;
    mount(app.crud(), "GET", "/users/", ok_json(json!([]))).await;
    mount(app.crud(), "POST", "/users/bulk", NewIds(AtomicUsize::new(0))).await;
    mount(app.crud(), "PATCH", "/users/bulk", ok_json(json!(1))).await;
    let ndjson = "{\"userGroup\": \"customer\", \"name\": \"Ann\", \"email\": \"ann@example.com\", \"age\": 31, \"roles\": [\"x\"]}\n\
                  {\"_id\": \"u1\", \"userGroup\": \"customer\", \"age\": 32}\n";

    let response = app
        .import_part(false, part(ndjson, "u.ndjson", None), &[], &[])
        .await;
    let (status, report) = status_and_body(response).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report,
        json!({"inserted": ["id-1"], "updated": ["u1"], "invalid": []})
    );
    let calls = store_calls(&app).await;
    let lines: Vec<String> = calls.iter().map(line).collect();
    assert_eq!(lines, ["GET /users/", "POST /users/bulk", "PATCH /users/bulk"]);
    let q: Value = serde_json::from_str(&query_param(&calls[0], "_q").unwrap()).unwrap();
    assert_eq!(q, json!({"email": {"$in": ["ann@example.com"]}}));
    assert_eq!(
        json_body(&calls[1]),
        json!([{"userGroup": "customer", "name": "Ann", "email": "ann@example.com", "age": 31,
                "roles": ["x"], "__STATE__": "PUBLIC"}])
    );
    assert_eq!(
        json_body(&calls[2]),
        json!([{"filter": {"_id": "u1", "_st": ALL_STATES}, "update": {"$set": {"userGroup": "customer", "age": 32}}}])
    );
}

#[tokio::test]
async fn a_post_of_a_json_file_inserts_new_rows_by_bulk_and_rows_with_an_id_by_one_crud_import() {
    let app = app_with(&[]).await;
    mount(app.crud(), "GET", "/users/", ok_json(json!([]))).await;
    mount(app.crud(), "POST", "/users/bulk", NewIds(AtomicUsize::new(0))).await;
    let uploaded = ResponseTemplate::new(201).set_body_json(json!({"message": "File uploaded successfully"}));
    mount(app.crud(), "POST", "/users/import", uploaded).await;
    let file = json!([
        {"userGroup": "customer", "name": "Ann", "age": 31},
        {"_id": "u1", "userGroup": "customer", "name": "Bob"},
        {"userGroup": "customer", "name": "Cid", "age": "31"}
    ]);

    let response = app
        .import_part(
            true,
            part(file.to_string(), "u", Some("application/json")),
            &[],
            &[],
        )
        .await;
    let (status, report) = status_and_body(response).await;

    assert_eq!(status, 201, "{report}");
    assert_eq!(report["inserted"], json!(["id-1", "u1"]));
    let rows: Vec<&Value> = report["invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["row"])
        .collect();
    assert_eq!(rows, [&json!(3)], "{report}");
    let calls = store_calls(&app).await;
    assert_eq!(
        calls.iter().map(line).collect::<Vec<_>>(),
        ["GET /users/", "POST /users/bulk", "POST /users/import"]
    );
    // Whether some user already has the _id: one lookup, in every state.
    let q: Value = serde_json::from_str(&query_param(&calls[0], "_q").unwrap()).unwrap();
    assert_eq!(q, json!({"_id": {"$in": ["u1"]}}));
    assert_eq!(query_param(&calls[0], "_st").as_deref(), Some(ALL_STATES));
    assert_eq!(
        json_body(&calls[1]),
        json!([{"userGroup": "customer", "name": "Ann", "age": 31, "__STATE__": "PUBLIC"}])
    );
    let form = String::from_utf8_lossy(&calls[2].body);
    let content_type = calls[2].headers.get("content-type").unwrap().to_str().unwrap();
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    assert!(
        form.to_lowercase()
            .contains("name=\"file\"; filename=\"users.ndjson\"\r\ncontent-type: application/x-ndjson\r\n"),
        "{form}"
    );
    let line = r#"{"_id":"u1","userGroup":"customer","name":"Bob","__STATE__":"PUBLIC"}"#;
    assert!(form.contains(&format!("\r\n\r\n{line}\n\r\n--")), "{form}");
}

#[tokio::test]
async fn a_refused_file_type_or_a_late_option_makes_no_store_call() {
    let app = app_with(&[]).await;
    let excel = part("x", "u.xlsx", Some("application/vnd.ms-excel"));
    let (status, _) = status_and_body(app.import_part(true, excel, &[], &[]).await).await;
    assert_eq!(status, 415);
    let late = part("userGroup;name\ncustomer;Ann\n", "u.csv", None);
    let (status, _) = status_and_body(app.import_part(false, late, &[], &[("delimiter", ";")]).await).await;
    assert_eq!(status, 400);
    assert!(store_calls(&app).await.is_empty());
}

#[tokio::test]
async fn a_post_of_ndjson_stops_with_502_on_a_store_5xx_saying_how_many_rows_were_written() {
    let app = app_with(&[("USER_IMPORT_BATCH_SIZE", "1")]).await;
    given("POST", "/users/bulk")
        .respond_with(NewIds(AtomicUsize::new(0)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(app.crud())
        .await;
    mount(app.crud(), "POST", "/users/bulk", ResponseTemplate::new(500)).await;

    let (status, error) = status_and_body(
        app.import_part(true, part(TWO_ROWS, "u.ndjson", None), &[], &[])
            .await,
    )
    .await;

    assert_eq!(status, 502, "{error}");
    assert_eq!(
        error["message"],
        "import stopped at row 2: CRUD POST /users/bulk responded 500; 1 rows were written"
    );
}

#[tokio::test]
async fn a_post_of_ndjson_reports_rows_the_store_refuses_with_4xx_and_stops_with_504_on_a_timeout() {
    let app = app_with(&[]).await;
    let refused = ResponseTemplate::new(400)
        .set_body_json(json!({"statusCode": 400, "error": "Bad Request", "message": "no"}));
    mount(app.crud(), "POST", "/users/bulk", refused.clone()).await;
    mount(app.crud(), "POST", "/users/", refused).await;

    let (status, report) = status_and_body(
        app.import_part(true, part(TWO_ROWS, "u.ndjson", None), &[], &[])
            .await,
    )
    .await;

    assert_eq!(status, 201, "{report}");
    assert_eq!(report["inserted"], json!([]));
    assert_eq!(report["invalid"].as_array().map(Vec::len), Some(2), "{report}");

    let slow = app_with(&[]).await;
    let delayed = ResponseTemplate::new(200)
        .set_body_json(json!([]))
        .set_delay(Duration::from_secs(2));
    mount(slow.crud(), "POST", "/users/bulk", delayed).await;
    let (status, error) = status_and_body(
        slow.import_part(true, part(TWO_ROWS, "u.ndjson", None), &[], &[])
            .await,
    )
    .await;
    assert_eq!(status, 504, "{error}");
    assert_eq!(
        error["message"],
        "import stopped at row 1: CRUD POST /users/bulk timed out; 0 rows were written"
    );
}
