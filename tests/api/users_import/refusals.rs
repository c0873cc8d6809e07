//! What the import refuses before writing (not multipart, no file, bad options, no userGroup
//! column), the options it applies, and the bulk writes the store refuses (a 409 race, a 400),
//! retried row by row so that the other rows are still written.

use std::sync::atomic::AtomicUsize;

use serde_json::json;

use wiremock::ResponseTemplate;

use super::import_report;
use super::wiremock_calls::{app_with, line, store_calls, NewIds};
use crate::helpers::{given, json_body, mount, ok_json, status_and_body, TestApp};

#[tokio::test]
async fn a_body_that_is_not_multipart_is_refused_with_415() {
    let app = app_with(&[]).await;

    let response = app
        .patch_json("/users/import", &json!({"file": "userGroup\ncustomer\n"}))
        .await;

    let (status, error) = status_and_body(response).await;
    assert_eq!(status, 415);
    assert_eq!(
        error["message"],
        "expected a multipart/form-data body with the file in a part named file"
    );
}

#[tokio::test]
async fn a_form_without_a_file_part_is_refused_with_400() {
    let app = app_with(&[]).await;
    let form = reqwest::multipart::Form::new().text("delimiter", ";");

    let response = app.patch_form("/users/import", form).await;

    let (status, error) = status_and_body(response).await;
    assert_eq!(status, 400);
    assert_eq!(
        error["message"],
        "the form has no file part: send the file in a part named file"
    );
}

#[tokio::test]
async fn a_header_without_user_group_is_refused_before_anything_is_written() {
    let app = app_with(&[]).await;
    let csv = "name,email\nAnn,ann@example.com\n";

    let (status, error) = import_report(&app, csv, &[]).await;

    assert_eq!(status, 400);
    assert_eq!(
        error["message"],
        "the header has no userGroup column: every row needs its userGroup"
    );
    assert!(store_calls(&app).await.is_empty());
}

#[tokio::test]
async fn an_unknown_encoding_or_a_long_delimiter_is_refused_with_400() {
    let app = app_with(&[]).await;

    let (status, error) = import_report(&app, "userGroup\n", &[("encoding", "ebcdic")]).await;
    assert_eq!(status, 400);
    assert_eq!(
        error["message"],
        "encoding must be utf8, ucs2, utf16le, latin1 or ascii, not \"ebcdic\""
    );

    let (status, error) = import_report(&app, "userGroup\n", &[("delimiter", ";;")]).await;
    assert_eq!(status, 400);
    assert_eq!(
        error["message"],
        "delimiter must be exactly one ASCII character, not \";;\""
    );
}

#[tokio::test]
async fn the_options_sent_before_the_file_are_applied() {
    let app = app_with(&[]).await;
    mount(app.crud(), "GET", "/users/", ok_json(json!([]))).await;
    mount(app.crud(), "POST", "/users/bulk", NewIds(AtomicUsize::new(0))).await;
    let csv = b"userGroup;name;roles\ncustomer;Ren\xE9e;[a, b]\n".to_vec();
    let options = [("delimiter", ";"), ("encoding", "latin1")];

    let (status, report) = import_report(&app, csv, &options).await;

    assert_eq!(status, 200, "{report}");
    let calls = store_calls(&app).await;
    assert_eq!(calls.iter().map(line).collect::<Vec<_>>(), ["POST /users/bulk"]);
    assert_eq!(
        json_body(&calls[0]),
        json!([{"userGroup": "customer", "name": "Renée", "roles": ["a", "b"], "__STATE__": "PUBLIC"}])
    );
}

#[tokio::test]
async fn a_bulk_insert_refused_with_409_is_retried_row_by_row_after_a_second_lookup() {
    let app = app_with(&[]).await;
    // The first lookup finds nothing; after the 409 the racing user shows up.
    given("GET", "/users/")
        .respond_with(ok_json(json!([])))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(app.crud())
        .await;
    let racer = json!([{"_id": "racer", "email": "bob@example.com"}]);
    mount(app.crud(), "GET", "/users/", ok_json(racer)).await;
    let conflict = json!({"statusCode": 409, "error": "Conflict", "message": "E11000 duplicate key"});
    mount(
        app.crud(),
        "POST",
        "/users/bulk",
        ResponseTemplate::new(409).set_body_json(conflict),
    )
    .await;
    mount(app.crud(), "POST", "/users/", ok_json(json!({"_id": "ann-id"}))).await;
    let csv = "userGroup,name,email\ncustomer,Ann,ann@example.com\ncustomer,Bob,bob@example.com\n";

    let (status, report) = import_report(&app, csv, &[]).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report,
        json!({
            "inserted": ["ann-id"], "updated": [],
            "invalid": [{"row": 2, "error": "email \"bob@example.com\" is already used"}]
        })
    );
    let calls = store_calls(&app).await;
    let lines: Vec<String> = calls.iter().map(line).collect();
    assert_eq!(
        lines,
        ["GET /users/", "POST /users/bulk", "GET /users/", "POST /users/"]
    );
    assert_eq!(
        json_body(&calls[3]),
        json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com", "__STATE__": "PUBLIC"})
    );
}

#[tokio::test]
async fn a_bulk_insert_refused_with_400_reports_each_refused_row_and_writes_the_others() {
    let app = app_with(&[]).await;
    mount(app.crud(), "GET", "/users/", ok_json(json!([]))).await;
    let refused = json!({"statusCode": 400, "error": "Bad Request", "message": "body/0 must NOT have additional properties"});
    mount(
        app.crud(),
        "POST",
        "/users/bulk",
        ResponseTemplate::new(400).set_body_json(refused.clone()),
    )
    .await;
    given("POST", "/users/")
        .and(wiremock::matchers::body_partial_json(json!({"name": "Ann"})))
        .respond_with(ResponseTemplate::new(400).set_body_json(refused))
        .mount(app.crud())
        .await;
    mount(app.crud(), "POST", "/users/", ok_json(json!({"_id": "bob-id"}))).await;
    let csv = "userGroup,name\ncustomer,Ann\ncustomer,Bob\n";

    let (status, report) = import_report(&app, csv, &[]).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(report["inserted"], json!(["bob-id"]));
    assert_eq!(
        report["invalid"],
        json!([{
            "row": 1,
            "error": "the store refused the row: CRUD POST /users/ responded 400: body/0 must NOT have additional properties"
        }])
    );
}

#[tokio::test]
async fn the_import_route_is_documented_with_its_multipart_form_and_its_answers() {
    let app = TestApp::on_wiremock().start().await;

    let doc: serde_json::Value = app.get("/documentation/json").await.json().await.unwrap();

    let operation = &doc["paths"]["/users/import"]["patch"];
    let form = &operation["requestBody"]["content"]["multipart/form-data"]["schema"];
    assert!(form.is_object(), "{operation}");
    for status in ["200", "400", "413", "415", "502", "504"] {
        assert!(
            operation["responses"].get(status).is_some(),
            "{status} missing: {operation}"
        );
    }
    let description = operation["description"].as_str().unwrap_or_default();
    assert!(description.contains("before"), "{operation}");
    let report = &doc["components"]["schemas"]["ImportReport"]["properties"];
    assert!(report.get("invalid").is_some(), "{doc}");
    let post = &doc["paths"]["/users/import"]["post"];
    assert!(
        post["requestBody"]["content"]["multipart/form-data"]["schema"].is_object(),
        "{post}"
    );
    for status in ["201", "400", "413", "415", "502", "504"] {
        assert!(
            post["responses"].get(status).is_some(),
            "{status} missing: {post}"
        );
    }
    for method in ["patch", "post"] {
        let multipart =
            &doc["paths"]["/users/import"][method]["requestBody"]["content"]["multipart/form-data"];
        assert_eq!(
            multipart["encoding"]["file"]["contentType"], "text/csv, application/json, application/x-ndjson",
            "{multipart}"
        );
    }
    let file = form.to_string() + &doc["components"]["schemas"]["ImportForm"].to_string();
    assert!(
        file.contains("application/x-ndjson") && file.contains("ucs2"),
        "{file}"
    );
}
