//! Account protection of the embedded mode over HTTP (SPEC §11, issue 12 item 5): login lockout
//! per account and per client address (with and without `TRUSTED_PROXIES`), one answer for an
//! unknown user, a wrong password and a blocked user, the password policy on every path that sets
//! a password, and token revocation seen from `/userinfo`.

mod lockout;
mod policy;
mod revocation;

use serde_json::{json, Value};

use crate::helpers::{temp_data_dir, TestApp, TextField};

/// The password of the users of these tests.
const PASSWORD: &str = "Kettle-Lamp-42!";

/// The service in embedded mode with `env`.
async fn embedded(env: &[(&str, &str)]) -> TestApp {
    TestApp::embedded(&temp_data_dir()).with_env(env).start().await
}

/// The service in embedded mode whose reset tokens go to a webhook (the mock, kept alive with it).
async fn with_reset_hook() -> (wiremock::MockServer, TestApp) {
    let (hook, url) = crate::helpers::reset_hook().await;
    let app = embedded(&[("PASSWORD_RESET_WEBHOOK_URL", url.as_str())]).await;
    (hook, app)
}

/// Creates `name` (group `customer`, email `<name>@example.com`, [`PASSWORD`]); its `_id`.
async fn create(app: &TestApp, name: &str) -> String {
    let user = json!({"userGroup": "customer", "name": name, "email": format!("{name}@example.com"), "password": PASSWORD});
    let response = app.post_json("/users/", &user).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.text_field("_id").await
}

/// `POST /oauth/token` as `login` with `password`, with extra `headers`.
async fn login_with(
    app: &TestApp,
    login: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let body = json!({"username": login, "password": password});
    app.post_with("/oauth/token", &body, headers).await
}

/// `POST /oauth/token` as `login` with `password`.
async fn login(app: &TestApp, login: &str, password: &str) -> reqwest::Response {
    login_with(app, login, password, &[]).await
}

/// The access token of a successful login.
async fn access_token(app: &TestApp, name: &str) -> String {
    let response = login(app, &format!("{name}@example.com"), PASSWORD).await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `(status, body)` of a response.
async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
