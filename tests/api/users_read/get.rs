//! `GET /users/{id}`: a proxy of the CRUD `GET /:id`.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use super::*;
use crate::helpers::{ok_json, TestApp};

const ID: &str = "665f00000000000000000001";

fn user() -> Value {
    json!({"_id": ID, "name": "Alex", "__STATE__": "DRAFT"})
}

#[tokio::test]
async fn one_user_is_fetched_with_its_filter_and_passed_back() {
    let app = TestApp::on_wiremock().start().await;
    let route = format!("/users/{ID}");
    mount(app.crud(), "GET", &route, ok_json(user())).await;
    let query = [
        ("_q", r#"{"name":"Alex"}"#),
        ("_st", "PUBLIC,DRAFT"),
        ("blocked", "false"),
    ];
    let response = get_query(&app, &route, &query).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), user());
    let request = assert_crud_query(&app, &query).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), route);
}

#[tokio::test]
async fn one_user_is_read_with_the_acl_headers_forwarded() {
    let app = TestApp::on_wiremock().start().await;
    let route = format!("/users/{ID}");
    mount(app.crud(), "GET", &route, ok_json(user())).await;
    assert_eq!(get_with_acl(&app, &route).await.status(), 200);
    assert_acl_forwarded(&only_request(app.crud()).await);
}

#[tokio::test]
async fn a_user_the_crud_does_not_find_is_our_404_naming_the_id() {
    let app = TestApp::on_wiremock().start().await;
    let route = format!("/users/{ID}");
    let missing = ResponseTemplate::new(404).set_body_json(json!({"error": "not found"}));
    mount(app.crud(), "GET", &route, missing).await;
    let response = app.get(&route).await;
    assert_error(response, 404, &format!("user \"{ID}\" not found")).await;
}

#[tokio::test]
async fn one_user_with_a_list_parameter_is_400_without_any_crud_call() {
    let app = TestApp::on_wiremock().start().await;
    let response = get_query(&app, &format!("/users/{ID}"), &[("_l", "5")]).await;
    assert_error(response, 400, "unknown query parameter _l").await;
    assert!(received(app.crud()).await.is_empty());
}

#[tokio::test]
async fn one_user_with_an_id_parameter_is_400_without_any_crud_call() {
    let app = TestApp::on_wiremock().start().await;
    let response = get_query(&app, &format!("/users/{ID}"), &[("_id", "other")]).await;
    assert_error(response, 400, "unknown query parameter _id").await;
    assert!(received(app.crud()).await.is_empty());
}

#[tokio::test]
async fn a_crud_500_on_one_user_is_502_naming_the_call() {
    let app = TestApp::on_wiremock().start().await;
    mount(
        app.crud(),
        "GET",
        &format!("/users/{ID}"),
        ResponseTemplate::new(500),
    )
    .await;
    let response = app.get(&format!("/users/{ID}")).await;
    assert_error(response, 502, "CRUD GET /users/:id responded 500").await;
}

#[tokio::test]
async fn a_slow_crud_on_one_user_is_504() {
    let app = TestApp::on_wiremock().start().await;
    let slow = ResponseTemplate::new(200)
        .set_body_json(user())
        .set_delay(Duration::from_millis(1_500));
    mount(app.crud(), "GET", &format!("/users/{ID}"), slow).await;
    let response = app.get(&format!("/users/{ID}")).await;
    assert_error(response, 504, "CRUD GET /users/:id timed out").await;
}
