//! Development reset tokens: without `PASSWORD_RESET_WEBHOOK_URL`, `POST /users/change-password`
//! logs a token that `POST /users/reset-password` redeems (a user created without a password can
//! then log in); with a webhook, no token reaches the log.

use serde_json::{json, Value};

use crate::helpers::{captured_log_text, captured_logs, reset_hook, temp_data_dir, TestApp};

async fn post(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    app.client.post(app.url(path)).json(body).send().await.unwrap()
}

/// Creates a `customer` user without a password, asks for its reset, and returns its `_id`.
async fn passwordless_user_with_a_reset(app: &TestApp, email: &str) -> String {
    let user = json!({"userGroup": "customer", "name": "Dev", "email": email});
    let created = post(app, "/users/", &user).await;
    assert_eq!(created.status(), 200, "{}", created.text().await.unwrap());
    let id = created.json::<Value>().await.unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let requested = post(app, "/users/change-password", &json!({"authUserId": id})).await;
    assert_eq!(requested.status(), 204, "{}", requested.text().await.unwrap());
    id
}

/// The development log lines of user `id`'s reset tokens.
fn dev_reset_lines(id: &str) -> Vec<Value> {
    captured_logs()
        .into_iter()
        .filter(|line| line["user"]["id"] == id && line["reset"].get("devResetToken").is_some())
        .collect()
}

#[tokio::test]
async fn without_a_webhook_the_logged_token_resets_the_password_of_a_passwordless_user() {
    let app = TestApp::embedded(&temp_data_dir()).start().await;
    let id = passwordless_user_with_a_reset(&app, "dev-reset@example.com").await;
    let lines = dev_reset_lines(&id);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let token = lines[0]["reset"]["devResetToken"].as_str().unwrap();
    assert_eq!(token.len(), 43, "the token itself, not [REDACTED]: {token}");

    let body = json!({"token": token, "newPassword": "Dev-Lantern-77!"});
    let reset = post(&app, "/users/reset-password", &body).await;
    assert_eq!(reset.status(), 204, "{}", reset.text().await.unwrap());
    let login = post(
        &app,
        "/oauth/token",
        &json!({"username": "dev-reset@example.com", "password": "Dev-Lantern-77!"}),
    )
    .await;
    assert_eq!(login.status(), 200, "{}", login.text().await.unwrap());
}

#[tokio::test]
async fn with_a_webhook_no_reset_token_is_logged() {
    let (hook, url) = reset_hook().await;
    let app = TestApp::embedded(&temp_data_dir())
        .with_env(&[("PASSWORD_RESET_WEBHOOK_URL", url.as_str())])
        .start()
        .await;
    let id = passwordless_user_with_a_reset(&app, "hooked-reset@example.com").await;
    let requests = hook.received_requests().await.unwrap();
    let delivered: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let token = delivered["token"].as_str().unwrap();
    assert!(
        !captured_log_text().contains(token),
        "the delivered token is not logged"
    );
    assert!(dev_reset_lines(&id).is_empty());
}
