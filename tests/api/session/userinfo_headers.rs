//! `GET /userinfo`: each header of contracts/peers.md §1.4 the Auth0 Client must receive
//! (`authorization`, `cookie`, `client-key`, `client-type`, `x-request-id`), and `acl_rows`, which
//! it must never receive, even when `ADDITIONAL_HEADERS_TO_PROXY` names it.

use serde_json::json;
use wiremock::Request;

use super::{header_of, mount, only_request, CATALOG_PROXY};
use crate::helpers::{ok_json, TestApp};

/// The request the Auth0 Client received for a `/userinfo` call with `headers`, on a service
/// configured with `env`.
async fn provider_request(env: &[(&str, &str)], headers: &[(&str, &str)]) -> Request {
    let app = TestApp::on_wiremock().with_env(env).start().await;
    let info = json!({"sub": "auth0|1"});
    mount(app.auth(), "GET", "/userinfo", ok_json(info)).await;
    let user = json!([{"_id": "u1", "authUserId": "auth0|1"}]);
    mount(app.crud(), "GET", "/users/", ok_json(user)).await;
    mount(app.crud(), "GET", "/roles/", ok_json(json!([]))).await;
    let response = app.get_with("/userinfo", headers).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    only_request(app.auth()).await
}

#[tokio::test]
async fn the_authorization_header_reaches_the_provider() {
    let request = provider_request(&[], &[("authorization", "Bearer at-1")]).await;
    assert_eq!(header_of(&request, "authorization"), Some("Bearer at-1"));
    assert_eq!(header_of(&request, "cookie"), None);
}

#[tokio::test]
async fn the_cookie_header_reaches_the_provider() {
    let request = provider_request(&[], &[("cookie", "sid=s-1; other=2")]).await;
    assert_eq!(header_of(&request, "cookie"), Some("sid=s-1; other=2"));
    assert_eq!(header_of(&request, "authorization"), None);
}

#[tokio::test]
async fn the_client_key_header_reaches_the_provider() {
    let headers = [("cookie", "sid=s-1"), ("client-key", "key-1")];
    let request = provider_request(&[], &headers).await;
    assert_eq!(header_of(&request, "client-key"), Some("key-1"));
}

#[tokio::test]
async fn the_client_type_header_reaches_the_provider() {
    let headers = [("cookie", "sid=s-1"), ("client-type", "website")];
    let request = provider_request(&[], &headers).await;
    assert_eq!(header_of(&request, "client-type"), Some("website"));
}

#[tokio::test]
async fn a_renamed_client_type_header_reaches_the_provider_under_its_configured_name() {
    let env = [("CLIENTTYPE_HEADER_KEY", "x-client-type")];
    let headers = [("cookie", "sid=s-1"), ("x-client-type", "website")];
    let request = provider_request(&env, &headers).await;
    assert_eq!(header_of(&request, "x-client-type"), Some("website"));
}

#[tokio::test]
async fn the_request_id_reaches_the_provider() {
    let headers = [("cookie", "sid=s-1"), ("x-request-id", "userinfo-req-1")];
    let request = provider_request(&[], &headers).await;
    assert_eq!(header_of(&request, "x-request-id"), Some("userinfo-req-1"));
}

#[tokio::test]
async fn acl_rows_never_reaches_the_provider_even_when_configured_to_proxy() {
    let headers = [
        ("authorization", "Bearer at-1"),
        ("cookie", "sid=s-1"),
        ("acl_rows", r#"{"tenant":"a"}"#),
        ("acl_read_columns", "name"),
    ];
    let request = provider_request(&[("ADDITIONAL_HEADERS_TO_PROXY", CATALOG_PROXY)], &headers).await;
    assert_eq!(header_of(&request, "acl_rows"), None);
    assert_eq!(header_of(&request, "acl_read_columns"), None);
    assert_eq!(header_of(&request, "authorization"), Some("Bearer at-1"));
    assert_eq!(header_of(&request, "cookie"), Some("sid=s-1"));
}
