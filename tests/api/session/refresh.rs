//! `POST /refreshtoken`: the JSON body and session headers the Auth0 Client receives, the
//! pass-through of its answer, the 400/401 the service answers on its own, and the error mapping.

use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use super::{error_of, header_of, mount, only_request, received, tokens, CATALOG_PROXY, SLOW};
use crate::helpers::{captured_log_text, ok_json, TestApp};

const EXPIRED: &str = "Bearer expired-access-token";

fn refresh_body() -> Value {
    json!({"refreshToken": "rt-1"})
}

/// A refresh with a bearer token on a service whose Auth0 Client answers `answer`.
async fn refresh_answered(answer: ResponseTemplate) -> (TestApp, reqwest::Response) {
    let app = TestApp::on_wiremock().start().await;
    mount(app.auth(), "POST", "/refreshtoken", answer).await;
    let response = app
        .post_with("/refreshtoken", &refresh_body(), &[("authorization", EXPIRED)])
        .await;
    (app, response)
}

#[tokio::test]
async fn refresh_sends_the_refresh_token_and_the_expired_access_token_and_passes_new_tokens_back() {
    let (app, response) = refresh_answered(ok_json(tokens())).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), tokens());

    let request = only_request(app.auth()).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/refreshtoken");
    assert_eq!(header_of(&request, "authorization"), Some(EXPIRED));
    assert_eq!(header_of(&request, "cookie"), None);
    assert!(header_of(&request, "content-type")
        .unwrap()
        .starts_with("application/json"));
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body, json!({"refresh_token": "rt-1"}));
}

#[tokio::test]
async fn refresh_with_a_sid_cookie_forwards_the_cookie_and_passes_the_new_cookie_back() {
    let app = TestApp::on_wiremock().start().await;
    let answer = ResponseTemplate::new(200).append_header("set-cookie", "sid=new; HttpOnly; Path=/");
    mount(app.auth(), "POST", "/refreshtoken", answer).await;
    let response = app
        .post_with("/refreshtoken", &refresh_body(), &[("cookie", "sid=old")])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["set-cookie"], "sid=new; HttpOnly; Path=/");
    assert_eq!(response.bytes().await.unwrap().len(), 0);
    let request = only_request(app.auth()).await;
    assert_eq!(header_of(&request, "cookie"), Some("sid=old"));
    assert_eq!(header_of(&request, "authorization"), None);
}

#[tokio::test]
async fn refresh_forwards_client_type_but_never_acl_rows_nor_the_client_key() {
    let app = TestApp::on_wiremock()
        .with_env(&[("ADDITIONAL_HEADERS_TO_PROXY", CATALOG_PROXY)])
        .start()
        .await;
    mount(app.auth(), "POST", "/refreshtoken", ok_json(tokens())).await;
    let headers = [
        ("authorization", EXPIRED),
        ("client-type", "backoffice"),
        ("client-key", "key-1"),
        ("acl_rows", r#"{"tenant":"a"}"#),
    ];
    let response = app.post_with("/refreshtoken", &refresh_body(), &headers).await;
    assert_eq!(response.status(), 200);
    let request = only_request(app.auth()).await;
    assert_eq!(header_of(&request, "client-type"), Some("backoffice"));
    assert_eq!(header_of(&request, "authorization"), Some(EXPIRED));
    assert_eq!(header_of(&request, "acl_rows"), None);
    assert_eq!(header_of(&request, "client-key"), None);
}

#[tokio::test]
async fn a_refresh_body_without_a_refresh_token_is_a_400_and_calls_nobody() {
    let app = TestApp::on_wiremock().start().await;
    let auth = [("authorization", EXPIRED)];
    let response = app
        .post_with("/refreshtoken", &json!({"refresh_token": "rt"}), &auth)
        .await;
    let body = error_of(response, 400).await;
    assert_eq!(body["message"], "body must have required property 'refreshToken'");
    let response = app
        .post_with("/refreshtoken", &json!({"refreshToken": 7}), &auth)
        .await;
    error_of(response, 400).await;
    assert!(received(app.auth()).await.is_empty());
}

#[tokio::test]
async fn a_refresh_without_authorization_nor_cookie_is_a_401_and_calls_nobody() {
    let app = TestApp::on_wiremock().start().await;
    let response = app.post_json("/refreshtoken", &refresh_body()).await;
    let body = error_of(response, 401).await;
    assert_eq!(body["error"], "Unauthorized");
    assert!(received(app.auth()).await.is_empty());
}

#[tokio::test]
async fn a_refresh_the_provider_refuses_with_401_gets_a_401() {
    let refusal = json!({"message": "Invalid refresh token"});
    let (_app, response) = refresh_answered(ResponseTemplate::new(401).set_body_json(refusal)).await;
    let body = error_of(response, 401).await;
    assert_eq!(
        body["message"],
        "Auth0 Client POST /refreshtoken responded 401: Invalid refresh token"
    );
}

#[tokio::test]
async fn a_refresh_the_provider_refuses_with_403_gets_a_403() {
    let (_app, response) = refresh_answered(ResponseTemplate::new(403)).await;
    error_of(response, 403).await;
}

#[tokio::test]
async fn a_provider_500_on_refresh_is_a_502_naming_the_call() {
    let (_app, response) = refresh_answered(ResponseTemplate::new(500)).await;
    let body = error_of(response, 502).await;
    assert_eq!(body["message"], "Auth0 Client POST /refreshtoken responded 500");
}

#[tokio::test]
async fn a_provider_timeout_on_refresh_is_a_504() {
    let (_app, response) = refresh_answered(ResponseTemplate::new(200).set_delay(SLOW)).await;
    error_of(response, 504).await;
}

#[tokio::test]
async fn the_tokens_never_reach_the_logs() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.auth(), "POST", "/refreshtoken", ResponseTemplate::new(500)).await;
    let secret = format!("tok-{}", uuid::Uuid::new_v4());
    let headers = [
        ("authorization", format!("Bearer {secret}")),
        ("x-request-id", "refresh-redaction".to_owned()),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let body = json!({"refreshToken": secret});
    let response = app.post_with("/refreshtoken", &body, &headers).await;
    assert!(!response.text().await.unwrap().contains(&secret));
    let logs = captured_log_text();
    assert!(logs.contains("refresh-redaction"), "the request was logged");
    assert!(!logs.contains(&secret), "a token reached the logs");
}
