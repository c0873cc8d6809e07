//! Black-box tests of the Auth0 Client fake: spawn it, call it with reqwest.

#![allow(clippy::unwrap_used)]

#[path = "auth0_fake/import.rs"]
mod import;
#[path = "auth0_fake/limits.rs"]
mod limits;
#[path = "auth0_fake/sessions.rs"]
mod sessions;
#[path = "auth0_fake/users.rs"]
mod users;

use reqwest::Client;
use serde_json::Value;
use ums_fakes::auth0::{Auth0Fake, RunningAuth0Fake};

pub(crate) async fn spawn() -> RunningAuth0Fake {
    Auth0Fake::builder().build().spawn().await
}

pub(crate) fn is_hex24(s: &str) -> bool {
    s.len() == 24 && s.chars().all(|c| c.is_ascii_hexdigit())
}

pub(crate) async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

pub(crate) fn field(values: &Value, key: &str) -> Vec<Value> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].clone())
        .collect()
}

pub(crate) async fn login(
    client: &Client,
    fake: &RunningAuth0Fake,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let form = [
        ("grant_type", "password"),
        ("username", username),
        ("password", password),
    ];
    client
        .post(format!("{}/oauth/token", fake.uri()))
        .form(&form)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn create(client: &Client, fake: &RunningAuth0Fake, body: Value) -> reqwest::Response {
    client
        .post(format!("{}/users", fake.uri()))
        .json(&body)
        .send()
        .await
        .unwrap()
}
