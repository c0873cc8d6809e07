//! The local provider's own routes as production serves them (embedded mode, `AUTH_MODULE=local`):
//! `GET /.well-known/jwks.json` and `POST /users/reset-password`.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use user_manager_service::auth::local::Claims;

use crate::helpers::{reset_hook, temp_data_dir, TestApp};

const PASSWORD: &str = "Kettle-Lamp-42!";

async fn post(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    app.client.post(app.url(path)).json(body).send().await.unwrap()
}

/// Creates Ann (group `customer`) and returns her `_id`.
async fn create_ann(app: &TestApp) -> String {
    let ann =
        json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com", "password": PASSWORD});
    let response = post(app, "/users/", &ann).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.json::<Value>().await.unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn login(app: &TestApp, password: &str) -> reqwest::Response {
    post(
        app,
        "/oauth/token",
        &json!({"username": "ann@example.com", "password": password}),
    )
    .await
}

#[tokio::test]
async fn the_jwks_route_serves_the_key_that_verifies_access_tokens() {
    let app = TestApp::embedded(&temp_data_dir()).start().await;
    let id = create_ann(&app).await;
    let response = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let jwks: JwkSet = response.json().await.unwrap();
    assert_eq!(jwks.keys.len(), 1);

    let tokens: Value = login(&app, PASSWORD).await.json().await.unwrap();
    let access = tokens["accessToken"].as_str().unwrap();
    let kid = jsonwebtoken::decode_header(access).unwrap().kid.unwrap();
    let key = DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["user-manager-service"]);
    let claims = jsonwebtoken::decode::<Claims>(access, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims.sub, id);
}

#[tokio::test]
async fn the_reset_password_route_redeems_a_token_once() {
    let (hook, url) = reset_hook().await;
    let app = TestApp::embedded(&temp_data_dir())
        .with_env(&[("PASSWORD_RESET_WEBHOOK_URL", url.as_str())])
        .start()
        .await;
    let id = create_ann(&app).await;
    let requested = post(&app, "/users/change-password", &json!({"authUserId": id})).await;
    assert_eq!(requested.status(), 204, "{}", requested.text().await.unwrap());
    let requests = hook.received_requests().await.unwrap();
    let delivered: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let token = delivered["token"].as_str().unwrap();

    let body = json!({"token": token, "newPassword": "via-the-route-1"});
    assert_eq!(post(&app, "/users/reset-password", &body).await.status(), 204);
    assert_eq!(login(&app, "via-the-route-1").await.status(), 200);
    assert_eq!(login(&app, PASSWORD).await.status(), 401);

    let again = post(&app, "/users/reset-password", &body).await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"statusCode": 400, "error": "Bad Request", "message": "reset token is invalid or expired"})
    );
}

#[tokio::test]
async fn the_reset_password_route_refuses_malformed_bodies_with_mia_errors() {
    let app = TestApp::embedded(&temp_data_dir()).start().await;
    let message = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        (status, body["message"].as_str().unwrap_or_default().to_owned())
    };
    let missing = message(post(&app, "/users/reset-password", &json!({"token": "t"})).await).await;
    assert_eq!(
        missing,
        (400, "body must have required property 'newPassword'".to_owned())
    );
    let typed = message(
        post(
            &app,
            "/users/reset-password",
            &json!({"token": 1, "newPassword": "x"}),
        )
        .await,
    )
    .await;
    assert_eq!(typed, (400, "body.token must be string".to_owned()));
    let empty = message(
        post(
            &app,
            "/users/reset-password",
            &json!({"token": "", "newPassword": "x"}),
        )
        .await,
    )
    .await;
    assert_eq!(empty, (400, "body.token must not be empty".to_owned()));
    let short = message(
        post(
            &app,
            "/users/reset-password",
            &json!({"token": "t", "newPassword": "short"}),
        )
        .await,
    )
    .await;
    assert_eq!(short.0, 400);
    assert!(short.1.contains("at least 8"), "{short:?}");
    let no_json = app
        .client
        .post(app.url("/users/reset-password"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(no_json.status(), 415);
}
