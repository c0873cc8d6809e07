//! The local provider's own routes, through its router: `GET /.well-known/jwks.json` and
//! `POST /users/reset-password`.

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use axum::Router;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use tower::ServiceExt;
use user_manager_service::auth::local::{router, Claims};
use user_manager_service::auth::AuthProvider;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{create, ctx, local, login, PASSWORD};

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn reset_request(body: &Value) -> Request<Body> {
    Request::post("/users/reset-password")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn the_jwks_route_serves_the_key_that_verifies_access_tokens() {
    let local = local(None).await;
    create(&local, "ann", false).await;
    let app: Router = router(local.auth.clone());
    let response = app
        .clone()
        .oneshot(
            Request::get("/.well-known/jwks.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let jwks: JwkSet = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(jwks.keys.len(), 1);

    let access = login(&local, "ann", PASSWORD).await["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let kid = jsonwebtoken::decode_header(&access).unwrap().kid.unwrap();
    let key = DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["user-manager-service"]);
    assert_eq!(
        jsonwebtoken::decode::<Claims>(&access, &key, &validation)
            .unwrap()
            .claims
            .sub,
        "ann"
    );
}

#[tokio::test]
async fn the_reset_password_route_redeems_a_token_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let local = local(Some(format!("{}/hook", server.uri()))).await;
    create(&local, "ann", false).await;
    local.auth.change_password(&ctx(), "ann").await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let delivered: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let token = delivered["token"].as_str().unwrap();
    let app: Router = router(local.auth.clone());

    let body = json!({"token": token, "newPassword": "via-the-route-1"});
    assert_eq!(call(&app, reset_request(&body)).await.0, StatusCode::NO_CONTENT);
    login(&local, "ann", "via-the-route-1").await;

    let (status, error) = call(&app, reset_request(&body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error,
        json!({"statusCode": 400, "error": "Bad Request", "message": "reset token is invalid or expired"})
    );
}

#[tokio::test]
async fn the_reset_password_route_refuses_malformed_bodies_with_mia_errors() {
    let local = local(None).await;
    let app: Router = router(local.auth.clone());
    let (status, error) = call(&app, reset_request(&json!({"token": "t"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["message"], "body must have required property 'newPassword'");
    let (status, error) = call(&app, reset_request(&json!({"token": 1, "newPassword": "x"}))).await;
    assert_eq!(
        (status, error["message"].as_str()),
        (StatusCode::BAD_REQUEST, Some("body.token must be string"))
    );
    let (status, error) = call(
        &app,
        reset_request(&json!({"token": "t", "newPassword": "short"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["message"].as_str().unwrap().contains("at least 8"));
    let no_json = Request::post("/users/reset-password")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(call(&app, no_json).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}
