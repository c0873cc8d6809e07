//! `GET /userinfo`: the provider call, the store and roles reads, the merge filtered by
//! `USERINFO_ADDITIONAL_PROPERTIES`, `CUSTOM_USER_ID_KEY`, and every refusal and failure.

use serde_json::{json, Value};

use wiremock::ResponseTemplate;

use super::{error_of, mount, only_request, pairs, query_pairs, received, SLOW};
use crate::helpers::{ok_json, TestApp};

const BEARER: &str = "Bearer access-1";

fn provider_info() -> Value {
    json!({"sub": "auth0|1", "email": "ann@provider.io", "name": "provider name", "groups": ["g"]})
}

fn store_user() -> Value {
    json!({
        "_id": "665f00000000000000000001", "userGroup": "customer", "authUserId": "auth0|1",
        "name": "Ann", "age": 30, "roles": ["editor", "viewer", "editor"],
        "__STATE__": "PUBLIC", "createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-01-02T00:00:00.000Z",
        "creatorId": "creator", "updaterId": "updater"
    })
}

fn roles() -> Value {
    json!([
        {"roleId": "editor", "permissions": ["write", "read"]},
        {"roleId": "viewer", "permissions": ["read", "list"]}
    ])
}

/// A service with `env` whose Auth0 Client answers `info`, and whose CRUD holds `users` and the
/// two roles.
async fn app_answering(env: &[(&str, &str)], info: ResponseTemplate, users: Value) -> TestApp {
    let app = TestApp::on_wiremock().with_env(env).start().await;
    mount(app.auth(), "GET", "/userinfo", info).await;
    mount(app.crud(), "GET", "/users/", ok_json(users)).await;
    mount(app.crud(), "GET", "/roles/", ok_json(roles())).await;
    app
}

/// The usual service: the provider knows `auth0|1`, the store links it to [`store_user`].
async fn app_with(env: &[(&str, &str)]) -> TestApp {
    let info = ok_json(provider_info());
    app_answering(env, info, json!([store_user()])).await
}

async fn userinfo(app: &TestApp) -> reqwest::Response {
    app.get_with("/userinfo", &[("authorization", BEARER)]).await
}

async fn userinfo_json(app: &TestApp) -> Value {
    let response = userinfo(app).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The CRUD requests made to `route`.
async fn crud_calls(app: &TestApp, route: &str) -> Vec<wiremock::Request> {
    let requests = received(app.crud()).await;
    requests.into_iter().filter(|r| r.url.path() == route).collect()
}

/// The reads of the users and roles collections (the jobs runner polls the CRUD on its own).
async fn store_reads(app: &TestApp) -> Vec<wiremock::Request> {
    let requests = received(app.crud()).await;
    let reads = |r: &wiremock::Request| ["/users/", "/roles/"].contains(&r.url.path());
    requests.into_iter().filter(reads).collect()
}

#[tokio::test]
async fn userinfo_reads_the_linked_public_user_with_one_exact_query() {
    let app = app_with(&[("USERINFO_ADDITIONAL_PROPERTIES", "name")]).await;
    userinfo_json(&app).await;
    let users = crud_calls(&app, "/users/").await;
    assert_eq!(users.len(), 1);
    let expected = [
        ("_q", r#"{"authUserId":"auth0|1"}"#),
        ("_st", "PUBLIC"),
        ("_l", "1"),
    ];
    assert_eq!(query_pairs(&users[0]), pairs(&expected));
    let request = only_request(app.auth()).await;
    assert_eq!(
        (request.method.as_str(), request.url.path()),
        ("GET", "/userinfo")
    );
}

#[tokio::test]
async fn by_default_every_store_field_but_the_state_and_audit_fields_joins_the_provider_ones() {
    let app = app_with(&[]).await;
    let info = userinfo_json(&app).await;
    assert_eq!(
        info,
        json!({
            "sub": "auth0|1", "email": "ann@provider.io", "name": "Ann", "groups": ["g"],
            "_id": "665f00000000000000000001", "userGroup": "customer", "authUserId": "auth0|1",
            "age": 30, "roles": ["editor", "viewer", "editor"], "permissions": ["list", "read", "write"]
        })
    );
}

#[tokio::test]
async fn listed_properties_take_only_those_store_fields() {
    let app = app_with(&[("USERINFO_ADDITIONAL_PROPERTIES", "name,createdAt")]).await;
    let info = userinfo_json(&app).await;
    let mut expected = provider_info();
    expected["name"] = json!("Ann");
    assert_eq!(info, expected, "createdAt is never returned, even when listed");
    assert!(crud_calls(&app, "/roles/").await.is_empty());
}

#[tokio::test]
async fn an_empty_list_returns_the_provider_userinfo_alone() {
    let app = app_with(&[("USERINFO_ADDITIONAL_PROPERTIES", "")]).await;
    assert_eq!(userinfo_json(&app).await, provider_info());
    assert!(crud_calls(&app, "/roles/").await.is_empty());
}

#[tokio::test]
async fn listed_permissions_are_the_sorted_union_of_the_public_roles_of_the_user() {
    let app = app_with(&[("USERINFO_ADDITIONAL_PROPERTIES", "name,permissions")]).await;
    let info = userinfo_json(&app).await;
    let mut expected = provider_info();
    expected["name"] = json!("Ann");
    expected["permissions"] = json!(["list", "read", "write"]);
    assert_eq!(info, expected);
    let reads = crud_calls(&app, "/roles/").await;
    assert_eq!(reads.len(), 1);
    let expected = [
        ("_q", r#"{"roleId":{"$in":["editor","viewer"]}}"#),
        ("_st", "PUBLIC"),
        ("_l", "2"),
    ];
    assert_eq!(query_pairs(&reads[0]), pairs(&expected));
}

#[tokio::test]
async fn the_roles_read_carries_no_acl_header_of_the_users_collection() {
    let app = app_with(&[]).await;
    let headers = [("authorization", BEARER), ("acl_rows", r#"{"tenant":"a"}"#)];
    assert_eq!(app.get_with("/userinfo", &headers).await.status(), 200);
    let reads = crud_calls(&app, "/roles/").await;
    assert_eq!(reads[0].headers.get("acl_rows"), None);
    let users = crud_calls(&app, "/users/").await;
    assert_eq!(users[0].headers["acl_rows"], r#"{"tenant":"a"}"#);
}

#[tokio::test]
async fn a_user_without_roles_gets_no_permissions_without_a_roles_read() {
    let mut user = store_user();
    user.as_object_mut().unwrap().remove("roles");
    let info = ok_json(provider_info());
    let app = app_answering(&[], info, json!([user])).await;
    assert_eq!(userinfo_json(&app).await["permissions"], json!([]));
    assert!(crud_calls(&app, "/roles/").await.is_empty());
}

#[tokio::test]
async fn without_a_roles_collection_there_are_no_permissions() {
    let app = app_with(&[
        ("ROLES_CRUD_ENDPOINT", ""),
        ("USERINFO_ADDITIONAL_PROPERTIES", "name,permissions"),
    ])
    .await;
    let info = userinfo_json(&app).await;
    assert!(info.get("permissions").is_none(), "{info}");
    assert!(crud_calls(&app, "/roles/").await.is_empty());
}

#[tokio::test]
async fn custom_user_id_key_names_the_userinfo_property_holding_the_auth_user_id() {
    let body = json!({"user_id": "auth0|1", "sub": "other"});
    let info = ok_json(body);
    let app = app_answering(&[("CUSTOM_USER_ID_KEY", "user_id")], info, json!([store_user()])).await;
    assert_eq!(userinfo_json(&app).await["user_id"], "auth0|1");
    let users = crud_calls(&app, "/users/").await;
    assert_eq!(query_pairs(&users[0])[0].1, r#"{"authUserId":"auth0|1"}"#);
}

#[tokio::test]
async fn a_userinfo_without_the_auth_user_id_is_a_401_and_reads_no_store() {
    let info = ok_json(json!({"email": "a@b.c"}));
    let app = app_answering(&[], info, json!([store_user()])).await;
    let body = error_of(userinfo(&app).await, 401).await;
    assert_eq!(body["message"], "Missing authUserId, user not logged");
    assert!(store_reads(&app).await.is_empty());
}

#[tokio::test]
async fn a_provider_user_with_no_store_user_is_a_404() {
    let info = ok_json(provider_info());
    let app = app_answering(&[], info, json!([])).await;
    let body = error_of(userinfo(&app).await, 404).await;
    assert_eq!(body["message"], r#"no user is linked to auth user "auth0|1""#);
}

#[tokio::test]
async fn no_session_is_a_401_without_calling_the_provider() {
    let app = app_with(&[]).await;
    let response = app.get_with("/userinfo", &[("client-key", "key-1")]).await;
    error_of(response, 401).await;
    assert!(received(app.auth()).await.is_empty());
    assert!(store_reads(&app).await.is_empty());
}

#[tokio::test]
async fn a_session_the_provider_refuses_with_401_is_a_401() {
    let info = ResponseTemplate::new(401).set_body_json(json!({"message": "Invalid or expired session"}));
    let app = app_answering(&[], info, json!([])).await;
    let body = error_of(userinfo(&app).await, 401).await;
    assert_eq!(
        body["message"],
        "Auth0 Client GET /userinfo responded 401: Invalid or expired session"
    );
    assert!(store_reads(&app).await.is_empty());
}

#[tokio::test]
async fn a_session_the_provider_refuses_with_403_is_a_403() {
    let app = app_answering(&[], ResponseTemplate::new(403), json!([])).await;
    error_of(userinfo(&app).await, 403).await;
}

#[tokio::test]
async fn a_provider_500_on_userinfo_is_a_502_naming_the_call() {
    let app = app_answering(&[], ResponseTemplate::new(500), json!([])).await;
    let body = error_of(userinfo(&app).await, 502).await;
    assert_eq!(body["message"], "Auth0 Client GET /userinfo responded 500");
}

#[tokio::test]
async fn a_provider_timeout_on_userinfo_is_a_504() {
    let slow = ResponseTemplate::new(200)
        .set_body_json(provider_info())
        .set_delay(SLOW);
    let app = app_answering(&[], slow, json!([])).await;
    error_of(userinfo(&app).await, 504).await;
}

#[tokio::test]
async fn a_store_failure_on_userinfo_is_a_502() {
    let app = TestApp::on_wiremock().start().await;
    let info = ok_json(provider_info());
    mount(app.auth(), "GET", "/userinfo", info).await;
    mount(app.crud(), "GET", "/users/", ResponseTemplate::new(500)).await;
    error_of(userinfo(&app).await, 502).await;
}
