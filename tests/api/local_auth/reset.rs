//! Change-password: reset tokens delivered to the webhook (or logged in development), single
//! use, expiring, and redeemed with a new password.

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use user_manager_service::auth::{AuthError, AuthProvider, AuthResult};
use user_manager_service::clock::Clock;
use user_manager_service::downstream::Cause;
use user_manager_service::secret::Secret;

use wiremock::{MockServer, ResponseTemplate};

use super::{
    create, ctx, local, login, refusal, session_of, set_on_tokens, Local, PASSWORD, RESET_TTL, SECOND,
};
use crate::helpers::{captured_log_text, mount};

const INVALID: &str = "reset token is invalid or expired";

pub(super) async fn webhook(status: u16) -> MockServer {
    let server = MockServer::start().await;
    mount(&server, "POST", "/password-reset", ResponseTemplate::new(status)).await;
    server
}

pub(super) async fn with_webhook(server: &MockServer) -> Local {
    local(Some(format!("{}/password-reset", server.uri()))).await
}

/// The body of the last webhook call.
async fn delivered(server: &MockServer) -> Value {
    let requests = server.received_requests().await.unwrap();
    serde_json::from_slice(&requests.last().unwrap().body).unwrap()
}

pub(super) async fn reset_token(local: &Local, server: &MockServer, id: &str) -> Secret {
    local.auth.change_password(&ctx(), id).await.unwrap();
    Secret::new(delivered(server).await["token"].as_str().unwrap())
}

/// A provider with a webhook, user `ann` and a reset token of hers (keep the webhook server).
async fn ann_with_a_reset_token() -> (Local, Secret, MockServer) {
    let server = webhook(200).await;
    let local = with_webhook(&server).await;
    create(&local, "ann", false).await;
    let token = reset_token(&local, &server, "ann").await;
    (local, token, server)
}

/// Redeems reset `token` with the new password `password`.
pub(super) async fn reset(local: &Local, token: &Secret, password: &str) -> AuthResult<()> {
    local
        .auth
        .reset_password(&ctx(), token, &Secret::new(password))
        .await
}

#[tokio::test]
async fn the_webhook_receives_the_token_and_the_log_never_shows_it() {
    let server = webhook(204).await;
    let local = with_webhook(&server).await;
    create(&local, "ann", false).await;
    captured_log_text();
    local.auth.change_password(&ctx(), "ann").await.unwrap();
    let body = delivered(&server).await;
    assert_eq!(body["userId"], "ann");
    assert_eq!(body["email"], "ann@example.com");
    assert!(body["expiresAt"].as_str().unwrap().ends_with('Z'));
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 43);
    assert!(!captured_log_text().contains(token));
    let stored =
        serde_json::to_string(&local.tokens.find(&ctx(), &Default::default()).await.unwrap()).unwrap();
    assert!(!stored.contains(token), "only the hash is stored");
}

#[tokio::test]
async fn without_a_webhook_the_token_is_logged_for_development() {
    let local = local(None).await;
    create(&local, "dev", false).await;
    captured_log_text();
    local.auth.change_password(&ctx(), "dev").await.unwrap();
    let line = captured_log_text()
        .lines()
        .find(|l| l.contains("PASSWORD_RESET_WEBHOOK_URL is not set") && l.contains("\"dev\""))
        .map(str::to_owned)
        .expect("the development log line");
    assert!(line.contains("secret"), "{line}");
}

#[tokio::test]
async fn a_failing_webhook_is_an_error() {
    let server = webhook(500).await;
    let local = with_webhook(&server).await;
    create(&local, "ann", false).await;
    let error = local.auth.change_password(&ctx(), "ann").await.unwrap_err();
    assert!(
        matches!(&error, AuthError::Failed(f) if f.cause == Cause::Failed { status: Some(500) }),
        "{error:?}"
    );
    assert!(error.to_string().contains("password reset webhook"), "{error}");
    let token = Secret::new(delivered(&server).await["token"].as_str().unwrap());
    let refused = refusal(reset(&local, &token, "new-password-1").await);
    assert_eq!(
        refused,
        (400, INVALID.to_owned()),
        "an undelivered token is dropped"
    );
}

#[tokio::test]
async fn a_reset_sets_the_new_password_and_ends_the_sessions() {
    let server = webhook(200).await;
    let local = with_webhook(&server).await;
    create(&local, "ann", false).await;
    let session = login(&local, "ann", PASSWORD).await;
    let token = reset_token(&local, &server, "ann").await;
    reset(&local, &token, "brand-new-password").await.unwrap();
    assert_eq!(
        refusal(local.auth.login(&ctx(), "ann", &Secret::new(PASSWORD)).await).0,
        401
    );
    login(&local, "ann", "brand-new-password").await;
    let old_refresh = Secret::new(session["refreshToken"].as_str().unwrap());
    assert_eq!(
        refusal(local.auth.refresh(&session_of(&session), &old_refresh).await).0,
        401
    );
}

#[tokio::test]
async fn a_reset_token_works_only_once() {
    let (local, token, _webhook) = ann_with_a_reset_token().await;
    reset(&local, &token, "first-new-pass").await.unwrap();
    let again = refusal(reset(&local, &token, "second-new-pass").await);
    assert_eq!(again, (400, INVALID.to_owned()));
    login(&local, "ann", "first-new-pass").await;
}

#[tokio::test]
async fn an_expired_or_unknown_reset_token_is_refused() {
    let (local, token, _webhook) = ann_with_a_reset_token().await;
    set_on_tokens(
        &local,
        json!({"kind": "reset"}),
        "expiresAt",
        json!("2001-01-01T00:00:00Z"),
    )
    .await;
    let expired = refusal(reset(&local, &token, "new-password-1").await);
    assert_eq!(expired, (400, INVALID.to_owned()));
    let unknown = refusal(reset(&local, &Secret::new("guess"), "new-password-1").await);
    assert_eq!(unknown, (400, INVALID.to_owned()));
    login(&local, "ann", PASSWORD).await;
}

#[tokio::test]
async fn a_reset_token_is_valid_until_the_second_before_its_expiry_and_refused_at_it() {
    let server = webhook(200).await;
    let local = with_webhook(&server).await;
    create(&local, "ann", false).await;
    let older = reset_token(&local, &server, "ann").await;
    local.clock.advance(SECOND);
    let newer = reset_token(&local, &server, "ann").await;
    let expires_at = (local.clock.now() + RESET_TTL).format(&Rfc3339).unwrap();
    assert_eq!(delivered(&server).await["expiresAt"], json!(expires_at));
    // `older` is now exactly at its expiry, `newer` one second before its own.
    local.clock.advance(RESET_TTL - SECOND);
    let expired = refusal(
        local
            .auth
            .reset_password(&ctx(), &older, &Secret::new("new-password-1"))
            .await,
    );
    assert_eq!(expired, (400, INVALID.to_owned()));
    local
        .auth
        .reset_password(&ctx(), &newer, &Secret::new("new-password-2"))
        .await
        .unwrap();
    login(&local, "ann", "new-password-2").await;
}

#[tokio::test]
async fn a_weak_new_password_is_refused_and_leaves_the_token_usable() {
    let (local, token, _webhook) = ann_with_a_reset_token().await;
    let weak = refusal(reset(&local, &token, "short").await);
    assert_eq!(weak.0, 400);
    assert!(weak.1.contains("at least 8"), "{}", weak.1);
    reset(&local, &token, "long-enough").await.unwrap();
}

#[tokio::test]
async fn a_common_password_or_one_made_of_the_users_own_name_is_refused_with_advice() {
    let (local, token, _webhook) = ann_with_a_reset_token().await;
    for guessable in ["password1", "iloveyou2", "ann@example.com", "annexample"] {
        let (status, message) = refusal(reset(&local, &token, guessable).await);
        assert_eq!(status, 400, "{guessable}");
        assert!(
            message.starts_with("password is too easy to guess"),
            "{guessable}: {message}"
        );
    }
    let long = "x".repeat(129);
    let (status, message) = refusal(reset(&local, &token, &long).await);
    assert_eq!(
        (status, message.as_str()),
        (400, "password must be at most 128 characters long")
    );
    reset(&local, &token, "Kettle-Lamp-42!").await.unwrap();
}
