//! `POST /oauth/token`: the form the Auth0 Client receives, the pass-through of its answer (token
//! body or `set-cookie`), the mapping of its refusals and failures, and a password kept out of the
//! logs and error messages.

use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use super::{error_of, header_of, mount, only_request, received, tokens, CATALOG_PROXY, SLOW};
use crate::helpers::{captured_log_text, ok_json, TestApp};

const PASSWORD: &str = "p@ss word&=";

fn credentials() -> Value {
    json!({"username": "ada@example.com", "password": PASSWORD})
}

/// A login with `credentials()` on a service whose Auth0 Client answers `answer`.
async fn login_answered(answer: ResponseTemplate) -> (TestApp, reqwest::Response) {
    let app = TestApp::on_wiremock().start().await;
    mount(app.auth(), "POST", "/oauth/token", answer).await;
    let response = app.post_json("/oauth/token", &credentials()).await;
    (app, response)
}

#[tokio::test]
async fn login_posts_the_credentials_as_a_form_and_passes_the_token_body_back_untouched() {
    let (app, response) = login_answered(ok_json(tokens())).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("set-cookie").is_none());
    assert_eq!(response.json::<Value>().await.unwrap(), tokens());

    let request = only_request(app.auth()).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/oauth/token");
    assert_eq!(
        header_of(&request, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&request.body).into_owned().collect();
    let expected = [
        ("grant_type", "password"),
        ("username", "ada@example.com"),
        ("password", PASSWORD),
    ];
    assert_eq!(form, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
}

#[tokio::test]
async fn login_with_the_website_scope_passes_every_set_cookie_back_with_an_empty_body() {
    let answer = ResponseTemplate::new(200)
        .append_header("set-cookie", "sid=abc; HttpOnly; Secure; Path=/; Max-Age=86400")
        .append_header("set-cookie", "other=1; Path=/");
    let (_app, response) = login_answered(answer).await;
    assert_eq!(response.status(), 200);
    let cookies: Vec<&str> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        cookies,
        [
            "sid=abc; HttpOnly; Secure; Path=/; Max-Age=86400",
            "other=1; Path=/"
        ]
    );
    assert!(response.headers().get("content-type").is_none());
    assert_eq!(response.bytes().await.unwrap().len(), 0);
}

#[tokio::test]
async fn login_sends_no_session_header_nor_acl_rows_even_when_configured_to_proxy_them() {
    let app = TestApp::on_wiremock()
        .with_env(&[("ADDITIONAL_HEADERS_TO_PROXY", CATALOG_PROXY)])
        .start()
        .await;
    mount(app.auth(), "POST", "/oauth/token", ok_json(tokens())).await;
    let headers = [
        ("authorization", "Bearer old"),
        ("cookie", "sid=old"),
        ("client-key", "key-1"),
        ("acl_rows", r#"{"tenant":"a"}"#),
        ("client-type", "backoffice"),
    ];
    let response = app.post_with("/oauth/token", &credentials(), &headers).await;
    assert_eq!(response.status(), 200);
    let request = only_request(app.auth()).await;
    for name in ["authorization", "cookie", "client-key", "acl_rows"] {
        assert_eq!(header_of(&request, name), None, "{name} must not reach the login");
    }
    assert_eq!(header_of(&request, "client-type"), Some("backoffice"));
}

#[tokio::test]
async fn wrong_credentials_get_the_providers_403_with_a_clear_message() {
    let refusal = json!({"statusCode": 403, "error": "Forbidden", "message": "Wrong email or password."});
    let (_app, response) = login_answered(ResponseTemplate::new(403).set_body_json(refusal)).await;
    let body = error_of(response, 403).await;
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("wrong username or password"), "{message}");
    assert!(
        message.contains("POST /oauth/token responded 403: Wrong email or password."),
        "{message}"
    );
    assert!(!message.contains(PASSWORD));
}

#[tokio::test]
async fn a_login_the_provider_refuses_with_401_gets_a_401() {
    let refusal = json!({"message": "unknown client type"});
    let (_app, response) = login_answered(ResponseTemplate::new(401).set_body_json(refusal)).await;
    let body = error_of(response, 401).await;
    assert!(
        body["message"].as_str().unwrap().contains("unknown client type"),
        "{body}"
    );
}

#[tokio::test]
async fn a_provider_500_on_login_is_a_502_naming_the_call() {
    let (_app, response) = login_answered(ResponseTemplate::new(500)).await;
    let body = error_of(response, 502).await;
    assert_eq!(body["message"], "Auth0 Client POST /oauth/token responded 500");
}

#[tokio::test]
async fn a_provider_timeout_on_login_is_a_504() {
    let (_app, response) = login_answered(ResponseTemplate::new(200).set_delay(SLOW)).await;
    let body = error_of(response, 504).await;
    assert_eq!(body["message"], "Auth0 Client POST /oauth/token timed out");
}

#[tokio::test]
async fn a_login_body_without_string_credentials_is_a_400_and_calls_nobody() {
    let app = TestApp::on_wiremock().start().await;
    let cases = [
        (
            json!({"password": "x"}),
            "body must have required property 'username'",
        ),
        (
            json!({"username": "a"}),
            "body must have required property 'password'",
        ),
        (
            json!({"username": 1, "password": "x"}),
            "body.username must be string",
        ),
        (
            json!({"username": "a", "password": null}),
            "body.password must be string",
        ),
        (json!(["a", "b"]), "body must be object"),
    ];
    for (body, expected) in cases {
        let response = app.post_json("/oauth/token", &body).await;
        assert_eq!(error_of(response, 400).await["message"], expected, "{body}");
    }
    assert!(received(app.auth()).await.is_empty());
}

#[tokio::test]
async fn a_password_of_the_wrong_type_is_never_echoed() {
    let app = TestApp::on_wiremock().start().await;
    let body = json!({"username": "a", "password": 918273645});
    let response = app.post_json("/oauth/token", &body).await;
    let text = response.text().await.unwrap();
    assert!(!text.contains("918273645"), "{text}");
}

#[tokio::test]
async fn the_password_never_reaches_the_logs_whatever_the_provider_answers() {
    let app = TestApp::on_wiremock().start().await;
    let password = format!("pw-{}", uuid::Uuid::new_v4());
    let body = json!({"username": "ada@example.com", "password": password});
    for answer in [
        ok_json(tokens()),
        ResponseTemplate::new(403).set_body_json(json!({"message": "Wrong email or password."})),
        ResponseTemplate::new(500),
    ] {
        app.auth().reset().await;
        mount(app.auth(), "POST", "/oauth/token", answer).await;
        let response = app
            .post_with("/oauth/token", &body, &[("x-request-id", "login-redaction")])
            .await;
        assert!(!response.text().await.unwrap().contains(&password));
    }
    let logs = captured_log_text();
    assert!(logs.contains("login-redaction"), "the requests were logged");
    assert!(!logs.contains(&password), "the password reached the logs");
}

#[tokio::test]
async fn the_openapi_document_describes_the_four_session_routes() {
    let app = TestApp::on_wiremock().start().await;
    let doc: Value = app.get("/documentation/json").await.json().await.unwrap();
    let routes = [
        ("/oauth/token", "post", ["401", "403", "502", "504"].as_slice()),
        ("/refreshtoken", "post", &["400", "401", "403", "502", "504"]),
        ("/userinfo", "get", &["401", "403", "404", "502", "504"]),
        ("/users/change-password", "post", &["404", "502", "504"]),
    ];
    for (route, verb, statuses) in routes {
        let operation = &doc["paths"][route][verb];
        assert!(operation.is_object(), "{verb} {route} missing");
        for status in statuses {
            let schema = &operation["responses"][status]["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(
                schema, "#/components/schemas/ErrorBody",
                "{verb} {route} {status}"
            );
        }
    }
    let login = &doc["paths"]["/oauth/token"]["post"];
    assert!(login["responses"]["200"]["headers"].get("set-cookie").is_some());
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["LoginBody"]["required"], json!(["username", "password"]));
    assert_eq!(schemas["RefreshBody"]["required"], json!(["refreshToken"]));
}
