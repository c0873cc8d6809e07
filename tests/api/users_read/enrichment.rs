//! `CONFIGURATION_PATH`: the list adds the configured auth-provider fields to each user, with one
//! batched Auth0 Client lookup per page.

use serde_json::{json, Value};
use wiremock::matchers::query_param;
use wiremock::ResponseTemplate;

use super::*;
use crate::helpers::{given, ok_json, TestApp};

const AUTH_IDS: &str = r#"{"$in":["auth0|1","auth0|2"]}"#;

/// Starts the service with an enrichment file for `last_login` and `logins_count`.
async fn spawn_enriching_app() -> TestApp {
    spawn_enriching_app_with(&[]).await
}

/// [`spawn_enriching_app`] with extra environment variables.
async fn spawn_enriching_app_with(env: &[(&str, &str)]) -> TestApp {
    let file = std::env::temp_dir().join(format!("ums-enrichment-{}.json", uuid::Uuid::new_v4()));
    let config = json!({"user_id": "user_id", "additionalProperties": ["last_login", "logins_count"]});
    std::fs::write(&file, config.to_string()).unwrap();
    let app = TestApp::on_wiremock()
        .with_env(&[("CONFIGURATION_PATH", file.to_str().unwrap())])
        .with_env(env)
        .start()
        .await;
    std::fs::remove_file(&file).unwrap();
    app
}

/// Three store users, two of them linked to an auth user.
fn store_users() -> Value {
    json!([
        {"_id": "u1", "name": "Alex", "authUserId": "auth0|2"},
        {"_id": "u2", "name": "Bo"},
        {"_id": "u3", "name": "Cy", "authUserId": "auth0|1"}
    ])
}

fn auth_users() -> Value {
    json!([
        {"user_id": "auth0|1", "email": "cy@x.io", "last_login": "2024-01-01T00:00:00Z", "logins_count": 3},
        {"user_id": "auth0|2", "email": "alex@x.io", "last_login": "2024-02-02T00:00:00Z", "logins_count": 9}
    ])
}

async fn mount_store_users(app: &TestApp, users: Value) {
    mount(app.crud(), "GET", "/users/", ok_json(users)).await;
}

async fn mount_auth_lookup(app: &TestApp, response: ResponseTemplate) {
    given("GET", "/users")
        .and(query_param("user_id", AUTH_IDS))
        .and(query_param("_l", "2"))
        .respond_with(response)
        .mount(app.auth())
        .await;
}

#[tokio::test]
async fn listed_users_get_the_configured_auth_fields_from_one_auth_call() {
    let app = spawn_enriching_app().await;
    mount_store_users(&app, store_users()).await;
    mount_auth_lookup(&app, ok_json(auth_users())).await;
    let response = app.get("/users/").await;
    assert_eq!(response.status(), 200);
    let expected = json!([
        {"_id": "u1", "name": "Alex", "authUserId": "auth0|2",
         "last_login": "2024-02-02T00:00:00Z", "logins_count": 9},
        {"_id": "u2", "name": "Bo"},
        {"_id": "u3", "name": "Cy", "authUserId": "auth0|1",
         "last_login": "2024-01-01T00:00:00Z", "logins_count": 3}
    ]);
    assert_eq!(response.json::<Value>().await.unwrap(), expected);
    let lookup = only_request(app.auth()).await;
    assert_eq!(lookup.url.path(), "/users");
    assert_eq!(
        sorted_query(&lookup),
        sorted_pairs(&[("_l", "2"), ("user_id", AUTH_IDS)])
    );
}

#[tokio::test]
async fn the_auth_lookup_does_not_carry_the_acl_headers() {
    let app = spawn_enriching_app().await;
    mount_store_users(&app, store_users()).await;
    mount_auth_lookup(&app, ok_json(auth_users())).await;
    assert_eq!(get_with_acl(&app, "/users/").await.status(), 200);
    assert_acl_forwarded(&only_request(app.crud()).await);
    let lookup = only_request(app.auth()).await;
    assert_eq!(header_of(&lookup, "acl_rows"), None);
    assert_eq!(header_of(&lookup, "acl_read_columns"), None);
}

#[tokio::test]
async fn an_auth_failure_while_enriching_is_502_naming_the_auth_call() {
    let app = spawn_enriching_app().await;
    mount_store_users(&app, store_users()).await;
    mount_auth_lookup(&app, ResponseTemplate::new(500)).await;
    let response = app.get("/users/").await;
    assert_error(response, 502, "Auth0 Client GET /users responded 500").await;
}

#[tokio::test]
async fn a_page_without_linked_users_makes_no_auth_call() {
    let app = spawn_enriching_app().await;
    let users = json!([{"_id": "u2", "name": "Bo"}]);
    mount_store_users(&app, users.clone()).await;
    let response = app.get("/users/").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), users);
    assert!(received(app.auth()).await.is_empty());
}

#[tokio::test]
async fn acl_headers_never_reach_the_auth_provider_even_when_listed_to_proxy() {
    let listed = [(
        "ADDITIONAL_HEADERS_TO_PROXY",
        "x-custom,acl_rows,acl_read_columns,acl_write_columns",
    )];
    let app = spawn_enriching_app_with(&listed).await;
    mount_store_users(&app, store_users()).await;
    mount_auth_lookup(&app, ok_json(auth_users())).await;
    let headers = [
        ("acl_rows", r#"{"name":"Alex"}"#),
        ("acl_read_columns", "name,authUserId"),
        ("acl_write_columns", "name"),
        ("x-custom", "yes"),
    ];

    let response = app.get_with("/users/", &headers).await;

    assert_eq!(response.status(), 200);
    let store_read = &received(app.crud()).await[0];
    assert!(
        store_read.headers.get("acl_rows").is_some(),
        "the store gets its ACL"
    );
    let lookup = &received(app.auth()).await[0];
    assert_eq!(
        lookup.headers.get("x-custom").map(|v| v.to_str().unwrap()),
        Some("yes")
    );
    for name in ["acl_rows", "acl_read_columns", "acl_write_columns"] {
        assert!(
            lookup.headers.get(name).is_none(),
            "{name} reached the auth provider"
        );
    }
}
