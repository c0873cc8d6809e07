//! The status routes: `/-/healthz`, `/-/ready` and `/-/check-up` with the Mia body, and the
//! check-up's answer when a dependency fails, is down or times out.

use std::time::Duration;

use serde_json::Value;
use wiremock::ResponseTemplate;

use crate::helpers::{mount, mount_any, TestApp};

async fn mount_health(app: &TestApp, crud_status: u16) {
    mount(
        app.crud(),
        "GET",
        "/-/healthz",
        ResponseTemplate::new(crud_status),
    )
    .await;
    mount(app.auth(), "GET", "/-/healthz", ResponseTemplate::new(200)).await;
    mount(app.rond(), "GET", "/-/rbac-healthz", ResponseTemplate::new(200)).await;
    mount(app.timer(), "GET", "/-/healthz", ResponseTemplate::new(200)).await;
}

/// `GET /-/check-up` of a service whose dependencies answer their health routes, the CRUD
/// Service with `crud_status`.
async fn check_up_with_crud(crud_status: u16) -> (TestApp, reqwest::Response) {
    let app = TestApp::on_wiremock().start().await;
    mount_health(&app, crud_status).await;
    let response = app.get("/-/check-up").await;
    (app, response)
}

fn assert_mia_status(body: &Value, status: &str) {
    assert_eq!(body["status"], status);
    assert_eq!(body["name"], "user-manager-service");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn healthz_and_ready_answer_ok_with_the_mia_body() {
    let app = TestApp::on_wiremock().start().await;
    for route in ["/-/healthz", "/-/ready"] {
        let response = app.get(route).await;
        assert_eq!(response.status(), 200, "{route}");
        assert_mia_status(&response.json().await.unwrap(), "OK");
    }
}

#[tokio::test]
async fn check_up_is_ok_when_every_dependency_answers() {
    let (_app, response) = check_up_with_crud(200).await;
    assert_eq!(response.status(), 200);
    assert_mia_status(&response.json().await.unwrap(), "OK");
}

#[tokio::test]
async fn check_up_is_503_naming_the_store_when_the_crud_service_fails() {
    let (_app, response) = check_up_with_crud(500).await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_mia_status(&body, "KO");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("user store KO (CRUD GET /-/healthz responded 500)"),
        "{message}"
    );
    assert!(!message.contains("auth provider"), "{message}");
}

#[tokio::test]
async fn check_up_is_503_when_a_dependency_is_down_or_times_out() {
    let app = TestApp::on_wiremock().start().await;
    mount_any(app.crud(), "GET", ResponseTemplate::new(200)).await;
    mount_any(
        app.auth(),
        "GET",
        ResponseTemplate::new(200).set_delay(Duration::from_secs(2)),
    )
    .await;
    mount_any(app.timer(), "GET", ResponseTemplate::new(200)).await;
    // Nothing mounted on Rönd: it answers 404 to its health route.
    let response = app.get("/-/check-up").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("auth provider KO (Auth0 Client GET /-/healthz timed out)"),
        "{message}"
    );
    assert!(
        message.contains("Rönd KO (Rönd GET /-/rbac-healthz responded 404)"),
        "{message}"
    );
    assert!(!message.contains("user store"), "{message}");
}
