//! `GET /users/export` in every format `Accept` picks (NDJSON, JSON array, CSV with
//! `_exportOpts`, Excel), in CRUD mode (fakes) and embedded mode, and 406 for any other type.

use serde_json::{json, Value};

use crate::helpers::{received, temp_data_dir, TestApp, TextField};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn with_two_users(app: &TestApp) {
    for (name, email) in [("Ann", "ann@example.com"), ("Lee; \"Bo\", Jr", "bo@example.com")] {
        let body =
            json!({"userGroup": "customer", "name": name, "email": email, "password": "Kettle-Lamp-42!"});
        let response = app.post_json("/users/", &body).await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        response.text_field("_id").await;
    }
}

/// `GET /users/export` with `accept` (none when `None`) and `query`; the content type and body.
async fn export(app: &TestApp, accept: Option<&str>, query: &[(&str, &str)]) -> (u16, String, Vec<u8>) {
    let mut request = app
        .client
        .get(app.url("/users/export"))
        .query(&[("_st", "PUBLIC,DRAFT"), ("_s", "email")])
        .query(query);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    (status, content_type, response.bytes().await.unwrap().to_vec())
}

fn names_of(users: &[Value]) -> Vec<&str> {
    users.iter().map(|u| u["name"].as_str().unwrap()).collect()
}

async fn every_format_answers_as_the_crud_export(app: &TestApp) {
    with_two_users(app).await;
    let expected = ["Ann", "Lee; \"Bo\", Jr"];

    for accept in [None, Some("*/*"), Some("application/x-ndjson")] {
        let (status, content_type, body) = export(app, accept, &[]).await;
        assert_eq!(
            (status, content_type.as_str()),
            (200, "application/x-ndjson"),
            "{accept:?}"
        );
        let users: Vec<Value> = String::from_utf8(body)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(names_of(&users), expected);
    }

    let (status, content_type, body) = export(app, Some("application/json"), &[]).await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let users: Vec<Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(names_of(&users), expected);

    let query = [("_p", "name,email"), ("_exportOpts", r#"{"delimiter":";"}"#)];
    let (status, content_type, body) = export(app, Some("text/csv"), &query).await;
    assert_eq!((status, content_type.as_str()), (200, "text/csv; charset=utf-8"));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(body.as_slice());
    assert_eq!(reader.headers().unwrap(), vec!["_id", "name", "email"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.iter().map(|r| &r[1]).collect::<Vec<_>>(), expected);
    assert_eq!(&rows[1][2], "bo@example.com");

    let (status, content_type, body) = export(app, Some(XLSX), &[]).await;
    assert_eq!((status, content_type.as_str()), (200, XLSX));
    assert!(body.starts_with(b"PK"), "an xlsx workbook is a zip file");
    let (status, _, _) = export(app, Some("application/vnd.ms-excel"), &[]).await;
    assert_eq!(status, 200);

    // As the CRUD's acceptHeaderParser: the highest q wins, whatever the order.
    let (_, content_type, body) = export(app, Some("text/csv;q=0.5, application/json;q=0.9"), &[]).await;
    assert_eq!(content_type, "application/json");
    assert_eq!(serde_json::from_slice::<Vec<Value>>(&body).unwrap().len(), 2);

    let (status, content_type, body) = export(app, Some("text/html, text/csv;q=0.1"), &[]).await;
    assert_eq!((status, content_type.as_str()), (406, "application/json"));
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["statusCode"], 406);
    assert_eq!(body["error"], "Not Acceptable");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("text/html") && message.contains("text/csv"),
        "{message}"
    );
}

#[tokio::test]
async fn every_export_format_answers_as_the_crud_export_in_crud_mode() {
    let app = TestApp::on_fakes().with_customer_group().start().await;
    every_format_answers_as_the_crud_export(&app).await;
}

#[tokio::test]
async fn every_export_format_answers_as_the_crud_export_in_embedded_mode() {
    let dir = temp_data_dir();
    let app = TestApp::embedded(&dir).start().await;
    every_format_answers_as_the_crud_export(&app).await;
}

#[tokio::test]
async fn csv_without_a_projection_has_the_first_users_fields_and_a_comma_by_default() {
    let dir = temp_data_dir();
    let app = TestApp::embedded(&dir).start().await;
    with_two_users(&app).await;
    let (status, _, body) = export(&app, Some("text/csv"), &[]).await;
    assert_eq!(status, 200);
    let mut reader = csv::Reader::from_reader(body.as_slice());
    let header = reader.headers().unwrap().clone();
    for field in ["_id", "name", "email", "userGroup", "__STATE__"] {
        assert!(header.iter().any(|h| h == field), "{field} in {header:?}");
    }
    assert_eq!(reader.records().count(), 2);
}

#[tokio::test]
async fn a_bad_export_option_or_an_unknown_accept_is_refused_before_any_crud_call() {
    let app = TestApp::on_wiremock().start().await;
    let response = app
        .client
        .get(app.url("/users/export"))
        .header("accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 406);
    let response = app
        .client
        .get(app.url("/users/export"))
        .query(&[("_exportOpts", r#"{"delimiter":";;"}"#)])
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("_exportOpts.delimiter"),
        "{body}"
    );
    assert!(received(app.crud()).await.is_empty());
}
