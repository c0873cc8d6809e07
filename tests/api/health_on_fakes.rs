//! Operations routes against the stateful fakes: dependencies stopping and bad group schemas.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::TestApp;

#[tokio::test]
async fn check_up_turns_503_naming_the_store_when_the_crud_service_stops() {
    let app = TestApp::on_fakes().start().await;
    let response = app.get("/-/check-up").await;
    assert_eq!(response.status(), 200);

    app.crud_fake().shutdown().await;

    let response = app.get("/-/check-up").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "KO");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("user store KO (CRUD GET /-/healthz is unreachable)"),
        "{message}"
    );
    assert!(!message.contains("auth provider"), "{message}");
    assert_eq!(
        app.get("/-/healthz").await.status(),
        200,
        "liveness does not depend on the store"
    );
}

#[tokio::test]
async fn a_group_whose_schema_does_not_compile_is_a_check_up_warning_not_a_failure() {
    let app = TestApp::on_fakes()
        .seeded(|crud| {
            for (group, schema) in [
                ("broken", json!({"type": "objekt"})),
                ("customer", json!({"type": "object"})),
            ] {
                let doc = json!({"userGroup": group, "crudSchema": schema, "__STATE__": "PUBLIC"});
                crud.insert_raw("/ums-config", doc).unwrap();
            }
        })
        .start()
        .await;

    // The service loads the group schemas in the background right after it starts.
    let mut warnings = Vec::new();
    for _ in 0..40 {
        let body: Value = app.get("/-/check-up").await.json().await.unwrap();
        assert_eq!(body["status"], "OK");
        warnings = body["warnings"].as_array().cloned().unwrap_or_default();
        if !warnings.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let warning = warnings[0].as_str().unwrap();
    assert!(
        warning.starts_with("userGroup \"broken\" is unusable: "),
        "{warning}"
    );
}

#[tokio::test]
async fn change_password_reaches_the_auth_fake_for_a_known_user_and_404s_for_an_unknown_one() {
    let app = TestApp::on_fakes().start().await;
    let id = app
        .auth_fake()
        .insert_user("ann@example.com", Some("ann"), "Kettle-Lamp-42!");
    let response = app
        .post_json("/users/change-password", &json!({"authUserId": id}))
        .await;
    assert_eq!(response.status(), 204);
    let delivered: Vec<String> = app
        .auth_fake()
        .change_password_requests()
        .into_iter()
        .map(|(u, _)| u)
        .collect();
    assert_eq!(delivered, vec![id]);

    let response = app
        .post_json(
            "/users/change-password",
            &json!({"authUserId": "auth0|000000000000000000000000"}),
        )
        .await;
    assert_eq!(response.status(), 404);
}
