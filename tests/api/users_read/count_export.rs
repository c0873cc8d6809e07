//! `GET /users/count` (bare integer) and `GET /users/export` (NDJSON stream), and that neither
//! is captured by `GET /users/{id}`.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use super::*;
use crate::helpers::{ok_json, TestApp};

const LINES: &str = "{\"_id\":\"u1\",\"name\":\"Alex\"}\n{\"_id\":\"u2\",\"name\":\"Bo\"}\n";

fn ndjson() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(LINES, "application/x-ndjson")
}

#[tokio::test]
async fn count_forwards_the_filter_and_answers_a_bare_integer() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/count", ok_json(json!(42))).await;
    let query = [
        ("_q", r#"{"name":{"$regex":"^A"}}"#),
        ("_st", "PUBLIC,TRASH"),
        ("blocked", "true"),
    ];
    let response = get_query(&app, "/users/count", &query).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "42");
    let request = assert_crud_query(&app, &query).await;
    assert_eq!(request.url.path(), "/users/count");
}

#[tokio::test]
async fn count_forwards_the_estimate_flag_and_the_acl_headers() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/count", ok_json(json!(7))).await;
    let response = app
        .client
        .get(app.url("/users/count?_useEstimate=true"))
        .header("acl_rows", ACL_ROWS)
        .header("acl_read_columns", ACL_READ_COLUMNS)
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().await.unwrap(), json!(7));
    let request = assert_crud_query(&app, &[("_useEstimate", "true")]).await;
    assert_acl_forwarded(&request);
}

#[tokio::test]
async fn count_with_a_list_parameter_is_400_without_any_crud_call() {
    let app = TestApp::on_wiremock().start().await;
    assert_refused_before_the_crud(
        &app,
        "/users/count",
        &[("_l", "10")],
        "unknown query parameter _l",
    )
    .await;
}

#[tokio::test]
async fn a_crud_500_on_count_is_502_naming_the_call() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/count", ResponseTemplate::new(500)).await;
    assert_error(
        app.get("/users/count").await,
        502,
        "CRUD GET /users/count responded 500",
    )
    .await;
}

#[tokio::test]
async fn export_streams_the_crud_ndjson_through_with_the_ndjson_content_type() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/export", ndjson()).await;
    let query = [
        ("_q", r#"{"name":"Alex"}"#),
        ("_st", "PUBLIC,DRAFT"),
        ("_s", "name"),
        ("_p", "name"),
    ];
    let response = get_query(&app, "/users/export", &query).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/x-ndjson");
    assert_eq!(response.text().await.unwrap(), LINES);
    let request = only_request(app.crud()).await;
    assert_eq!(header_of(&request, "accept"), Some("application/x-ndjson"));
    assert_eq!(sorted_query(&request), sorted_pairs(&query));
}

#[tokio::test]
async fn export_accepts_a_limit_above_the_list_maximum() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/export", ndjson()).await;
    let response = get_query(&app, "/users/export", &[("_l", "100000"), ("_sk", "5")]).await;
    assert_eq!(response.status(), 200);
    let request = only_request(app.crud()).await;
    assert_eq!(
        sorted_query(&request),
        sorted_pairs(&[("_l", "100000"), ("_sk", "5")])
    );
}

#[tokio::test]
async fn export_with_a_zero_limit_is_400_without_any_crud_call() {
    let app = TestApp::on_wiremock().start().await;
    assert_refused_before_the_crud(
        &app,
        "/users/export",
        &[("_l", "0")],
        "_l must be an integer greater than 0",
    )
    .await;
}

#[tokio::test]
async fn export_keeps_the_csv_options_for_itself_and_never_forwards_them() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/export", ndjson()).await;
    let query = [("_exportOpts", r#"{"delimiter":";"}"#), ("_st", "PUBLIC")];
    assert_eq!(get_query(&app, "/users/export", &query).await.status(), 200);
    assert_crud_query(&app, &[("_st", "PUBLIC")]).await;
}

#[tokio::test]
async fn export_forwards_the_acl_headers_to_the_crud() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/export", ndjson()).await;
    assert_eq!(get_with_acl(&app, "/users/export").await.status(), 200);
    assert_acl_forwarded(&only_request(app.crud()).await);
}

#[tokio::test]
async fn a_crud_500_on_export_is_502_naming_the_call() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/export", ResponseTemplate::new(500)).await;
    assert_error(
        app.get("/users/export").await,
        502,
        "CRUD GET /users/export responded 500",
    )
    .await;
}

#[tokio::test]
async fn a_slow_crud_on_export_is_504() {
    let app = TestApp::on_wiremock().start().await;
    mount(
        app.crud(),
        "GET",
        "/users/export",
        ndjson().set_delay(Duration::from_millis(1_500)),
    )
    .await;
    assert_error(
        app.get("/users/export").await,
        504,
        "CRUD GET /users/export timed out",
    )
    .await;
}

/// The id route refuses `_useEstimate` and `_l`, so a 200 proves the static routes answered.
#[tokio::test]
async fn count_and_export_are_not_captured_by_the_id_route() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/count", ok_json(json!(3))).await;
    mount(app.crud(), "GET", "/users/export", ndjson()).await;
    let count = app.get("/users/count?_useEstimate=true").await;
    assert_eq!(count.status(), 200);
    assert_eq!(count.text().await.unwrap(), "3");
    let export = app.get("/users/export?_l=1000").await;
    assert_eq!(export.status(), 200);
    assert_eq!(export.headers()["content-type"], "application/x-ndjson");
}
