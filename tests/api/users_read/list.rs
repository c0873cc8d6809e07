//! `GET /users/` and `GET /users`: a proxy of the CRUD list.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use super::*;
use crate::helpers::{ok_json, TestApp};

const COMPOSER_QUERY: [(&str, &str); 6] = [
    ("_q", r#"{"name":{"$eq":"Alex"}}"#),
    ("_p", "_id,name"),
    ("_l", "25"),
    ("_sk", "25"),
    ("_s", "-createdAt"),
    ("_st", "PUBLIC,DRAFT"),
];

fn two_users() -> Value {
    json!([{"_id": "u1", "name": "Alex"}, {"_id": "u2", "name": "Alex"}])
}

#[tokio::test]
async fn the_list_passes_a_composer_query_through_exactly_and_answers_the_crud_array() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/", ok_json(two_users())).await;
    let response = get_query(&app, "/users/", &COMPOSER_QUERY).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), two_users());
    let request = assert_crud_query(&app, &COMPOSER_QUERY).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/users/");
}

#[tokio::test]
async fn the_list_also_answers_without_the_trailing_slash() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/", ok_json(two_users())).await;
    let response = get_query(&app, "/users", &[("_l", "2")]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), two_users());
    assert_crud_query(&app, &[("_l", "2")]).await;
}

#[tokio::test]
async fn the_list_passes_field_filters_through() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/", ok_json(json!([]))).await;
    let query = [
        ("blocked", "false"),
        ("userGroup", "admin"),
        ("_id", "665f00000000000000000001"),
    ];
    let response = get_query(&app, "/users/", &query).await;
    assert_eq!(response.status(), 200);
    assert_crud_query(&app, &query).await;
}

#[tokio::test]
async fn the_list_forwards_the_acl_headers_to_the_crud() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/", ok_json(json!([]))).await;
    assert_eq!(get_with_acl(&app, "/users/").await.status(), 200);
    assert_acl_forwarded(&only_request(app.crud()).await);
}

#[tokio::test]
async fn a_list_with_an_invalid_q_is_400_without_any_crud_call() {
    let app = TestApp::on_wiremock().start().await;
    assert_refused_before_the_crud(
        &app,
        "/users/",
        &[("_q", "{not json")],
        "_q must be a JSON object",
    )
    .await;
}

#[tokio::test]
async fn a_list_limit_above_200_is_400_without_any_crud_call() {
    let app = TestApp::on_wiremock().start().await;
    assert_refused_before_the_crud(
        &app,
        "/users/",
        &[("_l", "500")],
        "_l must be an integer between 1 and 200",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_reserved_parameter_is_400_without_any_crud_call() {
    let app = TestApp::on_wiremock().start().await;
    assert_refused_before_the_crud(&app, "/users/", &[("_foo", "1")], "unknown query parameter _foo").await;
}

#[tokio::test]
async fn a_crud_400_comes_back_as_400_with_the_crud_message() {
    let app = TestApp::on_wiremock().start().await;
    let refusal = json!({"statusCode": 400, "error": "Bad Request", "message": "Unknown field: x"});
    mount(
        app.crud(),
        "GET",
        "/users/",
        ResponseTemplate::new(400).set_body_json(refusal),
    )
    .await;
    let response = get_query(&app, "/users/", &[("_q", r#"{"x":1}"#)]).await;
    assert_error(response, 400, "CRUD GET /users/ responded 400: Unknown field: x").await;
}

#[tokio::test]
async fn a_crud_500_on_the_list_is_502_naming_the_call() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.crud(), "GET", "/users/", ResponseTemplate::new(500)).await;
    let response = app.get("/users/").await;
    assert_error(response, 502, "CRUD GET /users/ responded 500").await;
}

#[tokio::test]
async fn a_crud_slower_than_the_downstream_timeout_is_504() {
    let app = TestApp::on_wiremock().start().await;
    let slow = ResponseTemplate::new(200)
        .set_body_json(json!([]))
        .set_delay(Duration::from_millis(1_500));
    mount(app.crud(), "GET", "/users/", slow).await;
    let response = app.get("/users/").await;
    assert_error(response, 504, "CRUD GET /users/ timed out").await;
}

#[tokio::test]
async fn the_openapi_document_lists_every_read_route_with_its_parameters() {
    let app = TestApp::on_wiremock().start().await;
    let doc: Value = app.get("/documentation/json").await.json().await.unwrap();
    for route in ["/users/", "/users/count", "/users/export", "/users/{id}"] {
        let params = doc["paths"][route]["get"]["parameters"].as_array();
        let names: Vec<&str> = params
            .unwrap_or_else(|| panic!("{route} is documented"))
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        for name in ["_q", "_st", "acl_rows", "acl_read_columns"] {
            assert!(names.contains(&name), "{route} documents {name}: {names:?}");
        }
        let responses = &doc["paths"][route]["get"]["responses"];
        for status in ["200", "400", "404", "502", "504"] {
            assert!(responses.get(status).is_some(), "{route} documents {status}");
        }
    }
}
