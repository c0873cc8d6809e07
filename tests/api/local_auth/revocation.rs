//! Revocation: blocking, deleting or resetting the password of a user ends its sessions, refresh
//! tokens and access tokens alike, exactly at that moment (the provider's clock stands still, so
//! tokens issued before and after share their second).

use user_manager_service::auth::{AuthError, AuthProvider, AuthUserPatch};
use user_manager_service::secret::Secret;

use super::reset::{reset, reset_token, webhook, with_webhook};
use super::{create, ctx, login, refusal, session_of, PASSWORD};

const REVOKED: &str = "the access token has been revoked";

fn access(body: &serde_json::Value) -> &str {
    body["accessToken"].as_str().unwrap()
}

#[tokio::test]
async fn a_password_reset_revokes_the_access_tokens_issued_before_it_not_after() {
    let server = webhook(200).await;
    let local = with_webhook(&server).await;
    create(&local, "ann", false).await;
    let before = login(&local, "ann", PASSWORD).await;
    assert!(local
        .auth
        .verify_access_token(&ctx(), access(&before))
        .await
        .is_ok());
    let token = reset_token(&local, &server, "ann").await;
    reset(&local, &token, "brand-new-password").await.unwrap();

    let refused = local.auth.verify_access_token(&ctx(), access(&before)).await;
    assert_eq!(refused, Err(AuthError::NoSession(REVOKED.into())));
    assert_eq!(
        refusal(local.auth.userinfo(&session_of(&before)).await),
        (401, REVOKED.into())
    );

    let after = login(&local, "ann", "brand-new-password").await;
    assert!(
        local
            .auth
            .verify_access_token(&ctx(), access(&after))
            .await
            .is_ok(),
        "issued in the same second, after the reset"
    );
    let refresh = Secret::new(after["refreshToken"].as_str().unwrap());
    assert!(local.auth.refresh(&session_of(&after), &refresh).await.is_ok());
}

#[tokio::test]
async fn blocking_revokes_access_and_refresh_tokens_and_unblocking_does_not_revive_them() {
    let local = super::local(None).await;
    create(&local, "ann", false).await;
    let before = login(&local, "ann", PASSWORD).await;
    let block = AuthUserPatch {
        blocked: Some(true),
        ..AuthUserPatch::default()
    };
    local.auth.update_user(&ctx(), "ann", &block).await.unwrap();
    assert_eq!(
        refusal(local.auth.userinfo(&session_of(&before)).await),
        (401, REVOKED.into())
    );

    let unblock = AuthUserPatch {
        blocked: Some(false),
        ..AuthUserPatch::default()
    };
    local.auth.update_user(&ctx(), "ann", &unblock).await.unwrap();
    let still = local.auth.verify_access_token(&ctx(), access(&before)).await;
    assert_eq!(still, Err(AuthError::NoSession(REVOKED.into())));
    let refresh = Secret::new(before["refreshToken"].as_str().unwrap());
    assert_eq!(
        refusal(local.auth.refresh(&session_of(&before), &refresh).await).0,
        401
    );

    let after = login(&local, "ann", PASSWORD).await;
    assert!(local
        .auth
        .verify_access_token(&ctx(), access(&after))
        .await
        .is_ok());
}

#[tokio::test]
async fn other_changes_of_the_user_keep_its_tokens() {
    let local = super::local(None).await;
    create(&local, "ann", false).await;
    let before = login(&local, "ann", PASSWORD).await;
    let rename = AuthUserPatch {
        username: Some("annie".into()),
        blocked: Some(false),
        ..AuthUserPatch::default()
    };
    local.auth.update_user(&ctx(), "ann", &rename).await.unwrap();
    assert!(local
        .auth
        .verify_access_token(&ctx(), access(&before))
        .await
        .is_ok());
}

#[tokio::test]
async fn deleting_a_user_revokes_its_access_tokens() {
    let local = super::local(None).await;
    create(&local, "ann", false).await;
    let before = login(&local, "ann", PASSWORD).await;
    local.auth.delete_user(&ctx(), "ann").await.unwrap();
    let refused = local.auth.verify_access_token(&ctx(), access(&before)).await;
    assert_eq!(refused, Err(AuthError::NoSession(REVOKED.into())));
}
