//! `AUTHZ_MODE=scopes`: every operation of the OpenAPI document refuses a caller without a
//! token (401) and one without its scope (403 naming it); tokens that are forged, expired or
//! not access tokens are refused; clients and their credentials; the bootstrap admin client.

mod clients;
mod external;
mod operations;
mod self_service;
mod tokens;

use std::path::Path;

use serde_json::{json, Value};

use crate::helpers::TestApp;

/// An embedded service with access control on (its default), under `dir`.
pub async fn scoped_app(dir: &Path) -> TestApp {
    TestApp::embedded(dir)
        .with_env(&[("AUTHZ_MODE", "scopes")])
        .start()
        .await
}

/// The body `DATA_DIR/admin-client.json` holds, as written at first start.
pub fn admin_client(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("admin-client.json")).expect("admin-client.json");
    serde_json::from_str(&text).expect("admin-client.json is JSON")
}

/// `POST /oauth/token` with `body` as JSON; the access token of a 200.
pub async fn token_for(app: &TestApp, body: &Value) -> String {
    let response = app.post_json("/oauth/token", body).await;
    let status = response.status();
    let answer: Value = response.json().await.expect("JSON answer");
    assert_eq!(status, 200, "{answer}");
    answer["access_token"].as_str().expect("access_token").to_owned()
}

/// The admin client's token (every scope).
pub async fn admin_token(app: &TestApp, dir: &Path) -> String {
    token_for(app, &admin_client(dir)).await
}

/// Creates a client with `scopes` using `admin`; its id and secret.
pub async fn new_client(app: &TestApp, admin: &str, scopes: &[&str]) -> (String, String) {
    let body = json!({"name": "test client", "scopes": scopes});
    let response = post_as(app, admin, "/clients", &body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.expect("JSON");
    let text = |key: &str| created[key].as_str().expect(key).to_owned();
    (text("clientId"), text("clientSecret"))
}

/// A token of a new client with `scopes`.
pub async fn client_token(app: &TestApp, admin: &str, scopes: &[&str]) -> String {
    let (id, secret) = new_client(app, admin, scopes).await;
    let body = json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret});
    token_for(app, &body).await
}

/// Creates the `customer` user `email` (password `Passw0rd!long`) with `admin` and logs it in:
/// its `_id` and the login answer.
pub async fn person(app: &TestApp, admin: &str, email: &str) -> (String, Value) {
    let user = json!({"userGroup": "customer", "name": "Ann", "email": email, "password": "Passw0rd!long"});
    let created = post_as(app, admin, "/users/", &user).await;
    assert_eq!(created.status(), 200);
    let id = created.json::<Value>().await.expect("JSON")["_id"]
        .as_str()
        .expect("_id")
        .to_owned();
    let login = app
        .post_json(
            "/oauth/token",
            &json!({"username": email, "password": "Passw0rd!long"}),
        )
        .await;
    assert_eq!(login.status(), 200);
    (id, login.json().await.expect("JSON"))
}

/// `method path` with the bearer `token` and, when given, a JSON `body`.
pub async fn call_as(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("the request is sent")
}

/// `GET path` with the bearer `token`.
pub async fn get_as(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    call_as(app, token, reqwest::Method::GET, path, None).await
}

/// `POST path` with the bearer `token` and a JSON `body`.
pub async fn post_as(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    call_as(app, token, reqwest::Method::POST, path, Some(body)).await
}
