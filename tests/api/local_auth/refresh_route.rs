//! `POST /refreshtoken` of the embedded mode (local provider), over HTTP: the access token sent
//! with the refresh token must be signed by the service (expired is expected) and belong to the
//! refresh token's user; a refused attempt leaves the refresh token usable.

use std::path::{Path, PathBuf};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use user_manager_service::auth::local::Claims;

use crate::helpers::{temp_data_dir, TestApp, TextField};

/// A logged-in user of the embedded service.
struct Session {
    id: String,
    access: String,
    refresh: String,
}

struct Running {
    app: TestApp,
    dir: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.app.shutdown.cancel();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn start() -> Running {
    let dir = temp_data_dir();
    let app = TestApp::embedded(&dir).start().await;
    Running { app, dir }
}

/// Creates a `customer` user named `name` and logs it in.
async fn user(app: &TestApp, name: &str) -> Session {
    let email = format!("{name}@example.com");
    let body = json!({"userGroup": "customer", "name": name, "email": email, "password": "Kettle-Lamp-42!"});
    let created = app.post_json("/users/", &body).await;
    assert_eq!(created.status(), 200);
    let id = created.text_field("_id").await;
    let login = json!({"username": email, "password": "Kettle-Lamp-42!"});
    let tokens: Value = app.post_json("/oauth/token", &login).await.json().await.unwrap();
    Session {
        id,
        access: tokens["accessToken"].as_str().unwrap().to_owned(),
        refresh: tokens["refreshToken"].as_str().unwrap().to_owned(),
    }
}

/// `POST /refreshtoken` with `refresh` and, when given, `authorization: Bearer <access>`.
async fn refresh(app: &TestApp, access: Option<&str>, refresh: &str) -> (u16, Value) {
    let mut request = app
        .client
        .post(app.url("/refreshtoken"))
        .json(&json!({"refreshToken": refresh}));
    if let Some(access) = access {
        request = request.bearer_auth(access);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// An access token for `sub`, expired a minute ago, signed by `key`.
fn expired_token(key: &EncodingKey, sub: &str) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        iss: "user-manager-service".into(),
        sub: sub.into(),
        iat: now - 960,
        exp: now - 60,
        jti: uuid::Uuid::new_v4().to_string(),
        generation: 0,
    };
    jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, key).unwrap()
}

/// The service's own signing key, read from `DATA_DIR`.
fn service_key(dir: &Path) -> EncodingKey {
    use base64::Engine;
    let pem = std::fs::read_to_string(dir.join("signing-key.pem")).unwrap();
    let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
    EncodingKey::from_ed_der(&der)
}

/// A freshly generated Ed25519 key the service does not know.
fn foreign_key() -> EncodingKey {
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    EncodingKey::from_ed_der(pkcs8.as_ref())
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_garbage_a_missing_or_a_foreign_access_token_is_refused_and_consumes_nothing() {
    let running = start().await;
    let app = &running.app;
    let ann = user(app, "ann").await;

    let (status, body) = refresh(app, Some("garbage"), &ann.refresh).await;
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).contains("access token is invalid"), "{body}");

    let (status, body) = refresh(app, None, &ann.refresh).await;
    assert_eq!(status, 401, "{body}");

    let forged = expired_token(&foreign_key(), &ann.id);
    let (status, body) = refresh(app, Some(&forged), &ann.refresh).await;
    assert_eq!(
        status, 401,
        "a token of the right user signed by another key: {body}"
    );
    assert!(message(&body).contains("access token is invalid"), "{body}");

    let (status, body) = refresh(app, Some(&ann.access), &ann.refresh).await;
    assert_eq!(
        status, 200,
        "the refused attempts did not consume the token: {body}"
    );
    assert!(
        body["accessToken"].is_string() && body["refreshToken"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn an_expired_access_token_of_the_same_user_refreshes() {
    let running = start().await;
    let app = &running.app;
    let ann = user(app, "ann").await;
    let expired = expired_token(&service_key(&running.dir), &ann.id);
    let userinfo = app
        .client
        .get(app.url("/userinfo"))
        .bearer_auth(&expired)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401, "the forged token is expired indeed");

    let (status, body) = refresh(app, Some(&expired), &ann.refresh).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = refresh(app, Some(&expired), &ann.refresh).await;
    assert_eq!(status, 401, "the refresh token was rotated");
}

#[tokio::test]
async fn another_users_access_token_is_refused_and_the_refresh_token_still_works() {
    let running = start().await;
    let app = &running.app;
    let ann = user(app, "ann").await;
    let bob = user(app, "bob").await;

    let (status, body) = refresh(app, Some(&bob.access), &ann.refresh).await;
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).contains("belong to different users"), "{body}");
    let bobs_expired = expired_token(&service_key(&running.dir), &bob.id);
    let (status, _) = refresh(app, Some(&bobs_expired), &ann.refresh).await;
    assert_eq!(status, 401);

    let (status, body) = refresh(app, Some(&ann.access), &ann.refresh).await;
    assert_eq!(
        status, 200,
        "the refused attempts did not consume the token: {body}"
    );
    let (status, body) = refresh(app, Some(&bob.access), &bob.refresh).await;
    assert_eq!(status, 200, "bob's own session is untouched: {body}");
}
