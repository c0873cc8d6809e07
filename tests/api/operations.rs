//! Operations routes, error bodies, request ids, header forwarding, logs and graceful shutdown.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{body_json, header, method};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{captured_log_text, captured_logs, given, mount, mount_any, TestApp};

/// `POST /users/change-password` for auth user `id`.
async fn change_password(app: &TestApp, id: &str) -> reqwest::Response {
    app.post_json("/users/change-password", &json!({ "authUserId": id }))
        .await
}

#[tokio::test]
async fn documentation_is_an_openapi_3_document_of_every_route() {
    let app = TestApp::on_wiremock().start().await;
    let response = app.get("/documentation/json").await;
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["title"], "user-manager-service");
    for route in [
        "/-/healthz",
        "/-/ready",
        "/-/check-up",
        "/-/metrics",
        "/users/change-password",
    ] {
        assert!(
            doc["paths"].get(route).is_some(),
            "{route} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"].get("ErrorBody").is_some());
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::on_wiremock().start().await;
    app.get("/-/healthz").await;
    let text = app.get("/-/metrics").await.text().await.unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("ums_http_requests_total{")
            && l.contains("route=\"/-/healthz\"")
            && l.contains("status=\"200\"")),
        "{text}"
    );
    assert!(
        text.contains("ums_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_routes_get_a_mia_404_body() {
    let app = TestApp::on_wiremock().start().await;
    let response = app.get("/nope").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"statusCode": 404, "error": "Not Found", "message": "Route GET /nope not found"})
    );
}

#[tokio::test]
async fn a_wrong_method_gets_a_mia_405_body() {
    let app = TestApp::on_wiremock().start().await;
    let response = app.delete("/-/healthz").await;
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["statusCode"], 405);
    assert_eq!(body["error"], "Method Not Allowed");
}

#[tokio::test]
async fn malformed_json_gets_a_400_that_says_what_is_wrong() {
    let app = TestApp::on_wiremock().start().await;
    let response = app
        .client
        .post(app.url("/users/change-password"))
        .header("content-type", "application/json")
        .body("{\"authUserId\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "Bad Request");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("body is not valid JSON"),
        "{body}"
    );
}

#[tokio::test]
async fn a_body_of_the_wrong_shape_gets_a_400_naming_the_field() {
    let app = TestApp::on_wiremock().start().await;
    let response = app
        .post_json("/users/change-password", &json!({"authUserId": 42}))
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("authUserId"), "{body}");
}

#[tokio::test]
async fn a_body_without_json_content_type_gets_a_415() {
    let app = TestApp::on_wiremock().start().await;
    let response = app
        .client
        .post(app.url("/users/change-password"))
        .body("authUserId=x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    assert_eq!(response.json::<Value>().await.unwrap()["statusCode"], 415);
}

#[tokio::test]
async fn a_body_over_the_limit_gets_a_413() {
    let app = TestApp::on_wiremock().start().await;
    let big = "x".repeat(70_000);
    let response = app
        .post_json("/users/change-password", &json!({"authUserId": big}))
        .await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "Payload Too Large");
}

#[tokio::test]
async fn the_callers_request_id_is_returned_and_forwarded_downstream() {
    let app = TestApp::on_wiremock().start().await;
    given("POST", "/change-password")
        .and(header("x-request-id", "req-123"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(app.auth())
        .await;
    let body = json!({"authUserId": "auth0|1"});
    let response = app
        .post_with("/users/change-password", &body, &[("x-request-id", "req-123")])
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(response.headers()["x-request-id"], "req-123");
    let logged = captured_logs().into_iter().any(|l| {
        l["reqId"] == "req-123"
            && l["msg"] == "request completed"
            && l["http"]["response"]["statusCode"] == 204
    });
    assert!(logged, "no request completed line for req-123");
}

#[tokio::test]
async fn a_request_id_is_generated_when_the_caller_sends_none() {
    let app = TestApp::on_wiremock().start().await;
    let response = app.get("/-/healthz").await;
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).map(|u| u.get_version_num()), Ok(4));
}

#[tokio::test]
async fn only_mia_headers_and_configured_ones_are_forwarded() {
    let app = TestApp::on_wiremock().start().await;
    mount(app.auth(), "POST", "/change-password", ResponseTemplate::new(204)).await;
    let headers = [
        ("miauserid", "u1"),
        ("miausergroups", "admin,ops"),
        ("client-type", "backoffice"),
        ("isbackoffice", "true"),
        ("miauserproperties", "{\"a\":1}"),
        ("x-custom", "yes"),
        ("x-forwarded-for", "10.0.0.1"),
        ("x-secret-internal", "no"),
        ("acl_rows", "{\"x\":1}"),
        ("authorization", "Bearer tok"),
    ];
    let body = json!({"authUserId": "auth0|1"});
    app.post_with("/users/change-password", &body, &headers).await;
    let received = &app.auth().received_requests().await.unwrap()[0];
    for (name, value) in [
        ("miauserid", "u1"),
        ("miausergroups", "admin,ops"),
        ("client-type", "backoffice"),
        ("isbackoffice", "true"),
        ("miauserproperties", "{\"a\":1}"),
        ("x-custom", "yes"),
        ("x-forwarded-for", "10.0.0.1"),
    ] {
        assert_eq!(
            received.headers.get(name).map(|v| v.to_str().unwrap()),
            Some(value),
            "{name}"
        );
    }
    for name in ["x-secret-internal", "acl_rows", "authorization"] {
        assert!(
            received.headers.get(name).is_none(),
            "{name} must not be forwarded"
        );
    }
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let app = TestApp::on_wiremock().start().await;
    mount_any(app.auth(), "POST", ResponseTemplate::new(500)).await;
    let secret = format!("s3cr3t-{}", uuid::Uuid::new_v4());
    let (bearer, cookie) = (format!("Bearer {secret}"), format!("sid={secret}"));
    let headers = [
        ("authorization", bearer.as_str()),
        ("cookie", cookie.as_str()),
        ("x-request-id", "redaction-test"),
    ];
    let body = json!({"authUserId": "auth0|1", "password": secret});
    app.post_with("/users/change-password", &body, &headers).await;
    let headers = [
        ("authorization", bearer.as_str()),
        ("x-request-id", "redaction-test-2"),
    ];
    let body = json!({"authUserId": "auth0|1"});
    app.post_with("/users/change-password", &body, &headers).await;
    let text = captured_log_text();
    assert!(text.contains("redaction-test-2"), "the requests were logged");
    assert!(!text.contains(&secret), "a secret reached the logs");
}

#[tokio::test]
async fn change_password_asks_the_auth_provider_and_answers_204() {
    let app = TestApp::on_wiremock().start().await;
    given("POST", "/change-password")
        .and(body_json(json!({"userId": "auth0|abc"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(app.auth())
        .await;
    let response = change_password(&app, "auth0|abc").await;
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn change_password_for_an_unknown_auth_user_is_404() {
    let app = TestApp::on_wiremock().start().await;
    mount_any(app.auth(), "POST", ResponseTemplate::new(404)).await;
    let response = change_password(&app, "auth0|nobody").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "auth user \"auth0|nobody\" does not exist");
}

#[tokio::test]
async fn change_password_maps_provider_failures_to_502_and_504() {
    let app = TestApp::on_wiremock().start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(app.auth())
        .await;
    let response = change_password(&app, "auth0|abc").await;
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["message"],
        "Auth0 Client POST /change-password responded 503"
    );
    app.auth().reset().await;
    mount_any(
        app.auth(),
        "POST",
        ResponseTemplate::new(204).set_delay(Duration::from_secs(2)),
    )
    .await;
    let response = change_password(&app, "auth0|abc").await;
    assert_eq!(response.status(), 504);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Auth0 Client POST /change-password timed out");
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish_and_then_stops_listening() {
    let mut app = TestApp::on_wiremock().start().await;
    mount_any(
        app.auth(),
        "POST",
        ResponseTemplate::new(204).set_delay(Duration::from_millis(300)),
    )
    .await;
    let in_flight = {
        let client = app.client.clone();
        let url = app.url("/users/change-password");
        tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"authUserId": "auth0|1"}))
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.shutdown.cancel();
    let response = in_flight.await.unwrap().expect("the in-flight request completes");
    assert_eq!(response.status(), 204);
    let stopped = app.stopped().await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "the server stops cleanly");
    let after = reqwest::Client::new()
        .get(format!("{}/-/healthz", app.address))
        .send()
        .await;
    assert!(after.is_err(), "no connection is accepted after shutdown");
}

#[tokio::test]
async fn the_local_providers_routes_answer_501_with_the_auth0_client() {
    let app = TestApp::on_wiremock().start().await;
    let response = app.get("/.well-known/jwks.json").await;
    assert_eq!(response.status(), 501);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "this route exists only with AUTH_MODULE=local");
    let response = app
        .post_json(
            "/users/reset-password",
            &json!({"token": "t", "newPassword": "Kettle-Lamp-42!"}),
        )
        .await;
    assert_eq!(response.status(), 501);
}
