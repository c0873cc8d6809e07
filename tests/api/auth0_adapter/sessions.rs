//! Tests: the session calls (`/oauth/token`, `/refreshtoken`, `/userinfo`).

use std::time::Duration;

use serde_json::json;
use user_manager_service::auth::AuthError;
use user_manager_service::auth::AuthProvider;
use user_manager_service::downstream::Cause;
use user_manager_service::secret::Secret;
use wiremock::matchers::{body_json, header};
use wiremock::ResponseTemplate;

use super::support::{assert_forwarded, ctx, failure_cases, session_ctx, AsFailure};
use super::{adapter, default_setup, setup};
use crate::helpers::{given, header_of, mount, ok_json, only_request};

/// The error of the calls `failure_cases!` checks.
type CallError = AuthError;

fn tokens() -> serde_json::Value {
    json!({ "accessToken": "at", "refreshToken": "rt", "idToken": "it", "expireAt": "2021-07-16T08:28:24.568Z" })
}

fn password() -> Secret {
    Secret::new("p@ss word&=")
}

#[tokio::test]
async fn login_posts_a_form_with_the_connection_and_returns_the_token_body() {
    let (server, auth) = setup(|c| c.connection = Some("db".into())).await;
    given("POST", "/oauth/token")
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ok_json(tokens()))
        .expect(1)
        .mount(&server)
        .await;
    let grant = auth.login(&ctx(), "ada", &password()).await.expect("logged in");
    assert_eq!(grant.body, Some(tokens()));
    assert!(grant.set_cookie.is_empty());
    let request = only_request(&server).await;
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&request.body).into_owned().collect();
    let expected = [
        ("grant_type", "password"),
        ("username", "ada"),
        ("password", "p@ss word&="),
        ("connection", "db"),
    ];
    assert_eq!(form, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
    assert_forwarded(&request);
}

#[tokio::test]
async fn login_without_a_connection_sends_no_connection_field() {
    let (server, auth) = default_setup().await;
    mount(&server, "POST", "/oauth/token", ok_json(tokens())).await;
    auth.login(&ctx(), "ada", &password()).await.expect("logged in");
    let body = String::from_utf8(only_request(&server).await.body).expect("text");
    assert_eq!(
        body,
        "grant_type=password&username=ada&password=p%40ss+word%26%3D"
    );
}

#[tokio::test]
async fn login_with_the_website_scope_returns_every_set_cookie_and_no_body() {
    let (server, auth) = default_setup().await;
    let answer = ResponseTemplate::new(200)
        .append_header("set-cookie", "sid=abc; HttpOnly; Secure; Path=/; Max-Age=86400")
        .append_header("set-cookie", "other=1; Path=/");
    mount(&server, "POST", "/oauth/token", answer).await;
    let grant = auth.login(&ctx(), "ada", &password()).await.expect("logged in");
    assert_eq!(grant.body, None);
    let cookies: Vec<&str> = grant.set_cookie.iter().map(Secret::expose).collect();
    assert_eq!(
        cookies,
        [
            "sid=abc; HttpOnly; Secure; Path=/; Max-Age=86400",
            "other=1; Path=/"
        ]
    );
}

#[tokio::test]
async fn a_refused_login_keeps_the_status_and_never_shows_the_password() {
    let (server, auth) = default_setup().await;
    let refusal = json!({ "statusCode": 403, "error": "Forbidden", "message": "Wrong email or password." });
    mount(
        &server,
        "POST",
        "/oauth/token",
        ResponseTemplate::new(403).set_body_json(refusal),
    )
    .await;
    let error = auth.login(&ctx(), "ada", &password()).await.expect_err("refused");
    let message = "Auth0 Client POST /oauth/token responded 403: Wrong email or password.";
    assert_eq!(error, AuthError::Denied(message.to_owned()));
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("p@ss"), "{shown}");
}

#[tokio::test]
async fn a_rate_limited_login_says_when_to_retry() {
    let (server, auth) = default_setup().await;
    let answer = ResponseTemplate::new(429).insert_header("retry-after", "3");
    mount(&server, "POST", "/oauth/token", answer).await;
    let error = auth.login(&ctx(), "ada", &password()).await.expect_err("limited");
    assert!(
        matches!(error, AuthError::RateLimited { retry_after: Some(wait), .. } if wait == Duration::from_secs(3)),
        "{error:?}"
    );
}

#[tokio::test]
async fn refresh_posts_the_refresh_token_with_the_session_authorization_and_cookie() {
    let (server, auth) = default_setup().await;
    given("POST", "/refreshtoken")
        .and(body_json(json!({ "refresh_token": "rt-1" })))
        .and(header("authorization", "Bearer expired-token"))
        .and(header("cookie", "sid=session-1"))
        .respond_with(ok_json(tokens()))
        .expect(1)
        .mount(&server)
        .await;
    let grant = auth
        .refresh(&session_ctx(), &Secret::new("rt-1"))
        .await
        .expect("refreshed");
    assert_eq!(grant.body, Some(tokens()));
    let request = only_request(&server).await;
    assert_forwarded(&request);
    assert_eq!(header_of(&request, "client-key"), None);
    assert_eq!(header_of(&request, "acl_rows"), None);
}

#[tokio::test]
async fn userinfo_sends_the_session_headers_and_returns_the_body() {
    let (server, auth) = default_setup().await;
    let info = json!({ "sub": "auth0|1", "email": "ada@example.com", "groups": ["admin"] });
    given("GET", "/userinfo")
        .and(header("authorization", "Bearer expired-token"))
        .and(header("cookie", "sid=session-1"))
        .and(header("client-key", "key-1"))
        .and(header("client-type", "backoffice"))
        .respond_with(ok_json(&info))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(auth.userinfo(&session_ctx()).await.expect("answered"), info);
    let request = only_request(&server).await;
    assert_forwarded(&request);
    assert_eq!(header_of(&request, "acl_rows"), None);
}

#[tokio::test]
async fn userinfo_answered_with_something_else_than_an_object_is_unreadable() {
    let (server, auth) = default_setup().await;
    mount(
        &server,
        "GET",
        "/userinfo",
        ok_json(json!(["not", "an", "object"])),
    )
    .await;
    let error = auth.userinfo(&session_ctx()).await.expect_err("unreadable");
    assert_eq!(
        error.failure().map(|f| &f.cause),
        Some(&Cause::Failed { status: None })
    );
}

failure_cases!(login, adapter, "POST" "/oauth/token", "Auth0 Client POST /oauth/token",
    403 => AuthError::Denied(_), |a, c| a.login(&c, "ada", &Secret::new("pw")));
failure_cases!(refresh, adapter, "POST" "/refreshtoken", "Auth0 Client POST /refreshtoken",
    401 => AuthError::NoSession(_), |a, c| a.refresh(&c, &Secret::new("rt")));
failure_cases!(userinfo, adapter, "GET" "/userinfo", "Auth0 Client GET /userinfo",
    401 => AuthError::NoSession(_), |a, c| a.userinfo(&c));
