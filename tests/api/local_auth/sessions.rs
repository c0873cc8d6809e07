//! Login, refresh-token rotation with reuse detection, and blocked users.

use serde_json::json;
use user_manager_service::auth::{AuthProvider, AuthResult, AuthUserPatch, SessionGrant};
use user_manager_service::secret::Secret;

use super::{
    create, ctx, local, login, refusal, session_of, set_on_tokens, Local, ACCESS_TTL, PASSWORD, REFRESH_TTL,
    SECOND,
};

fn refresh_token(body: &serde_json::Value) -> Secret {
    Secret::new(body["refreshToken"].as_str().unwrap())
}

/// A refresh with the tokens of a login or refresh `body` (its access token as the bearer).
async fn refresh(local: &Local, body: &serde_json::Value) -> AuthResult<SessionGrant> {
    local.auth.refresh(&session_of(body), &refresh_token(body)).await
}

#[tokio::test]
async fn login_by_email_in_any_case_or_by_username_issues_tokens_for_the_user() {
    let local = local(None).await;
    create(&local, "ann", false).await;
    for name in ["ann@example.com", "ANN@Example.COM", "ann"] {
        let body = login(&local, name, PASSWORD).await;
        let claims = local
            .auth
            .verify_access_token(&ctx(), body["accessToken"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(claims.sub, "ann");
        assert_eq!(claims.iss, "user-manager-service");
        assert_eq!(body["refreshToken"].as_str().unwrap().len(), 43);
        assert!(body["expireAt"].as_str().unwrap().ends_with('Z'));
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_401() {
    let local = local(None).await;
    create(&local, "ann", false).await;
    let wrong = refusal(
        local
            .auth
            .login(&ctx(), "ann", &Secret::new("not-the-password"))
            .await,
    );
    let unknown = refusal(local.auth.login(&ctx(), "nobody", &Secret::new(PASSWORD)).await);
    assert_eq!(wrong, (401, "wrong username or password".to_owned()));
    assert_eq!(unknown, wrong);
}

#[tokio::test]
async fn a_blocked_user_cannot_log_in_nor_refresh() {
    let local = local(None).await;
    create(&local, "bob", true).await;
    // The right password of a blocked user gets the answer of a wrong one: it confirms nothing.
    let refused = refusal(local.auth.login(&ctx(), "bob", &Secret::new(PASSWORD)).await);
    assert_eq!(refused, (401, "wrong username or password".to_owned()));
    let wrong = refusal(
        local
            .auth
            .login(&ctx(), "bob", &Secret::new("nope-nope-nope"))
            .await,
    );
    assert_eq!(wrong, refused);

    create(&local, "cy", false).await;
    let body = login(&local, "cy", PASSWORD).await;
    let block = AuthUserPatch {
        blocked: Some(true),
        ..AuthUserPatch::default()
    };
    local.auth.update_user(&ctx(), "cy", &block).await.unwrap();
    let invalid = (401, "refresh token is invalid or expired".to_owned());
    assert_eq!(
        refusal(refresh(&local, &body).await),
        invalid,
        "as an invalid refresh token"
    );
    let unblock = AuthUserPatch {
        blocked: Some(false),
        ..AuthUserPatch::default()
    };
    local.auth.update_user(&ctx(), "cy", &unblock).await.unwrap();
    assert_eq!(
        refusal(refresh(&local, &body).await),
        invalid,
        "the block revoked the refresh tokens for good"
    );
    assert!(login(&local, "cy", PASSWORD).await["accessToken"].is_string());
}

#[tokio::test]
async fn a_refresh_rotates_the_pair_and_the_old_refresh_token_is_refused() {
    let local = local(None).await;
    create(&local, "ann", false).await;
    let first = login(&local, "ann", PASSWORD).await;
    let second = refresh(&local, &first).await.unwrap().body.unwrap();
    assert_ne!(second["refreshToken"], first["refreshToken"]);
    let claims = local
        .auth
        .verify_access_token(&ctx(), second["accessToken"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims.sub, "ann");
    let third = refresh(&local, &second).await.unwrap().body.unwrap();
    assert_ne!(third["refreshToken"], second["refreshToken"]);

    let reused = refusal(refresh(&local, &first).await);
    assert_eq!(reused, (401, "refresh token is invalid or expired".to_owned()));
}

#[tokio::test]
async fn reusing_a_refresh_token_revokes_the_whole_family_but_not_other_sessions() {
    let local = local(None).await;
    create(&local, "ann", false).await;
    let stolen = login(&local, "ann", PASSWORD).await;
    let other_session = login(&local, "ann", PASSWORD).await;
    let rotated = refresh(&local, &stolen).await.unwrap().body.unwrap();

    assert_eq!(refusal(refresh(&local, &stolen).await).0, 401);
    let newest = refusal(refresh(&local, &rotated).await);
    assert_eq!(newest.0, 401, "the family of the reused token is revoked");
    assert!(refresh(&local, &other_session).await.is_ok());
}

#[tokio::test]
async fn an_expired_or_unknown_refresh_token_is_refused() {
    let local = local(None).await;
    create(&local, "ann", false).await;
    let body = login(&local, "ann", PASSWORD).await;
    set_on_tokens(
        &local,
        json!({"kind": "refresh"}),
        "expiresAt",
        json!("2001-01-01T00:00:00Z"),
    )
    .await;
    assert_eq!(refusal(refresh(&local, &body).await).0, 401);
    assert_eq!(
        refusal(
            local
                .auth
                .refresh(&session_of(&body), &Secret::new("made-up"))
                .await
        )
        .0,
        401
    );
}

#[tokio::test]
async fn an_access_token_is_valid_until_the_second_before_its_expiry_and_refused_at_it() {
    let local = local(None).await;
    create(&local, "ann", false).await;
    let body = login(&local, "ann", PASSWORD).await;
    local.clock.advance(ACCESS_TTL - SECOND);
    let info = local.auth.userinfo(&session_of(&body)).await.unwrap();
    assert_eq!(info["sub"], "ann");
    local.clock.advance(SECOND);
    assert_eq!(
        refusal(local.auth.userinfo(&session_of(&body)).await),
        (401, "the access token has expired".to_owned())
    );
}

#[tokio::test]
async fn a_refresh_token_is_valid_until_the_second_before_its_expiry_and_refused_at_it() {
    let local = local(None).await;
    create(&local, "ann", false).await;
    let older = login(&local, "ann", PASSWORD).await;
    local.clock.advance(SECOND);
    let newer = login(&local, "ann", PASSWORD).await;
    // `older` is now exactly at its expiry, `newer` one second before its own.
    local.clock.advance(REFRESH_TTL - SECOND);
    assert_eq!(
        refusal(
            local
                .auth
                .refresh(&session_of(&older), &refresh_token(&older))
                .await
        ),
        (401, "refresh token is invalid or expired".to_owned())
    );
    let rotated = local
        .auth
        .refresh(&session_of(&newer), &refresh_token(&newer))
        .await
        .unwrap()
        .body
        .unwrap();
    let access = rotated["accessToken"].as_str().unwrap();
    assert!(
        local.auth.verify_access_token(&ctx(), access).await.is_ok(),
        "the new pair is dated by the provider's clock"
    );
}

#[tokio::test]
async fn only_hashes_of_refresh_tokens_are_stored() {
    let local = local(None).await;
    create(&local, "ann", false).await;
    let body = login(&local, "ann", PASSWORD).await;
    let stored = local.tokens.find(&ctx(), &Default::default()).await.unwrap();
    let text = serde_json::to_string(&stored).unwrap();
    assert!(!text.contains(body["refreshToken"].as_str().unwrap()));
    assert_eq!(stored[0]["kind"], "refresh");
    assert_eq!(stored[0]["userId"], "ann");
    assert_eq!(stored[0]["used"], false);
}
