//! Unit tests of the local provider over collections of an in-process CRUD fake.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use super::*;
use crate::clock::ManualClock;
use crate::context::SessionHeaders;
use crate::downstream::build_http_client;
use crate::store::crud_http::CrudCollection;
use crate::store::FindQuery;

struct Fixture {
    _crud: ums_fakes::crud::RunningCrudFake,
    auth: LocalAuth,
    credentials: Arc<dyn Collection>,
    /// The provider's clock: tests age tokens by advancing it.
    clock: Arc<ManualClock>,
    dir: PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn fixture(access_ttl: Duration) -> Fixture {
    let crud = ums_fakes::crud::CrudFake::builder()
        .collection("/credentials", &["authId", "email", "username"])
        .collection("/auth-tokens", &["tokenHash"])
        .default_state(ums_fakes::crud::State::Public)
        .build()
        .spawn()
        .await;
    let http = build_http_client(Duration::from_secs(5)).unwrap();
    let credentials: Arc<dyn Collection> =
        Arc::new(CrudCollection::new(http.clone(), &crud.uri(), "/credentials"));
    let tokens: Arc<dyn Collection> =
        Arc::new(CrudCollection::new(http.clone(), &crud.uri(), "/auth-tokens"));
    let dir = std::env::temp_dir().join(format!("ums-local-unit-{}", uuid::Uuid::new_v4().simple()));
    let clock = Arc::new(ManualClock::at_system_time());
    let auth = LocalAuth::new(LocalAuthConfig {
        credentials: credentials.clone(),
        tokens,
        key_path: dir.join("signing-key.pem"),
        issuer: "user-manager-service".into(),
        access_ttl,
        refresh_ttl: Duration::from_secs(3600),
        reset_ttl: Duration::from_secs(3600),
        reset_webhook_url: None,
        http,
        clock: clock.clone(),
        lockout: crate::config::LoginLockout::default(),
        password_policy: crate::config::PasswordPolicy::default(),
    })
    .unwrap();
    Fixture {
        _crud: crud,
        auth,
        credentials,
        clock,
        dir,
    }
}

fn ctx() -> CallContext {
    CallContext::background("local-auth-unit")
}

fn new_user(id: &str, email: &str) -> NewAuthUser {
    NewAuthUser {
        user_id: Some(id.into()),
        email: Some(email.into()),
        username: Some(format!("user-{id}")),
        password: Secret::new("s3cret-password"),
        blocked: false,
        send_email: false,
    }
}

fn with_bearer(token: &str) -> CallContext {
    CallContext {
        session: SessionHeaders {
            authorization: Some(Secret::new(format!("Bearer {token}"))),
            ..SessionHeaders::default()
        },
        ..ctx()
    }
}

impl Fixture {
    /// Creates Ann (`u1`) and logs her in: the login's body.
    async fn ann_logged_in(&self) -> Value {
        self.auth
            .create_user(&ctx(), &new_user("u1", "ann@example.com"))
            .await
            .unwrap();
        login_tokens(&self.auth, "ann@example.com").await
    }
}

async fn login_tokens(auth: &LocalAuth, login: &str) -> Value {
    let grant = auth
        .login(&ctx(), login, &Secret::new("s3cret-password"))
        .await
        .unwrap();
    grant.body.unwrap()
}

#[tokio::test]
async fn the_password_hash_is_stored_apart_and_never_returned() {
    let f = fixture(Duration::from_secs(900)).await;
    let created = f
        .auth
        .create_user(&ctx(), &new_user("u1", "Ann@Example.com"))
        .await
        .unwrap();
    assert_eq!(created.id, "u1");
    assert_eq!(created.email.as_deref(), Some("ann@example.com"));
    let read = f.auth.get_user(&ctx(), "u1").await.unwrap().unwrap();
    let listed = f
        .auth
        .get_users(&ctx(), &["u1".into(), "nobody".into()])
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    for user in [&created, &read, &listed[0]] {
        assert_eq!(
            user.raw,
            json!({"user_id": "u1", "email": "ann@example.com", "username": "user-u1", "blocked": false})
        );
    }
    let stored = f.credentials.find(&ctx(), &FindQuery::default()).await.unwrap();
    let hash = stored[0]["passwordHash"].as_str().unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(!stored[0].to_string().contains("s3cret-password"));
}

#[tokio::test]
async fn emails_are_unique_whatever_their_case_and_usernames_are_unique() {
    let f = fixture(Duration::from_secs(900)).await;
    f.auth
        .create_user(&ctx(), &new_user("u1", "ann@example.com"))
        .await
        .unwrap();
    let same_email = f
        .auth
        .create_user(&ctx(), &new_user("u2", "ANN@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(same_email, AuthError::Conflict(_)), "{same_email}");
    let mut same_username = new_user("u3", "bob@example.com");
    same_username.username = Some("user-u1".into());
    let error = f.auth.create_user(&ctx(), &same_username).await.unwrap_err();
    assert!(matches!(error, AuthError::Conflict(_)), "{error}");
    let patch = AuthUserPatch {
        email: Some("Ann@Example.com".into()),
        ..AuthUserPatch::default()
    };
    f.auth
        .create_user(&ctx(), &new_user("u4", "cy@example.com"))
        .await
        .unwrap();
    let error = f.auth.update_user(&ctx(), "u4", &patch).await.unwrap_err();
    assert!(matches!(error, AuthError::Conflict(_)), "{error}");
    f.auth.update_user(&ctx(), "u1", &patch).await.unwrap();
}

#[tokio::test]
async fn a_user_without_an_id_gets_a_24_hex_id_and_short_passwords_are_refused() {
    let f = fixture(Duration::from_secs(900)).await;
    let mut user = new_user("x", "dee@example.com");
    user.user_id = None;
    let created = f.auth.create_user(&ctx(), &user).await.unwrap();
    assert_eq!(created.id.len(), 24);
    assert!(created.id.bytes().all(|b| b.is_ascii_hexdigit()));
    let mut weak = new_user("w", "weak@example.com");
    weak.password = Secret::new("short");
    let error = f.auth.create_user(&ctx(), &weak).await.unwrap_err();
    assert!(matches!(error, AuthError::Invalid(_)), "{error}");
}

#[tokio::test]
async fn the_jwks_verifies_the_issued_access_tokens() {
    let f = fixture(Duration::from_secs(900)).await;
    let tokens = f.ann_logged_in().await;
    let access = tokens["accessToken"].as_str().unwrap();

    let jwks: JwkSet = serde_json::from_value(f.auth.jwks()).unwrap();
    let header = jsonwebtoken::decode_header(access).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["user-manager-service"]);
    let data = jsonwebtoken::decode::<Claims>(access, &key, &validation).unwrap();
    assert_eq!(data.claims.sub, "u1");
    assert_eq!(data.claims.exp - data.claims.iat, 900);
    assert_eq!(f.auth.jwks()["keys"][0]["use"], "sig");
    assert!(tokens["expireAt"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn userinfo_answers_the_user_of_a_valid_bearer_token() {
    let f = fixture(Duration::from_secs(900)).await;
    f.auth
        .create_user(&ctx(), &new_user("u1", "ann@example.com"))
        .await
        .unwrap();
    let tokens = login_tokens(&f.auth, "user-u1").await;
    let info = f
        .auth
        .userinfo(&with_bearer(tokens["accessToken"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(
        info,
        json!({"sub": "u1", "email": "ann@example.com", "username": "user-u1"})
    );

    for session in [ctx(), with_bearer("not-a-jwt")] {
        let error = f.auth.userinfo(&session).await.unwrap_err();
        assert!(matches!(error, AuthError::NoSession(_)), "{error}");
    }
}

#[tokio::test]
async fn an_expired_access_token_is_refused_with_401() {
    let f = fixture(Duration::from_secs(1)).await;
    let tokens = f.ann_logged_in().await;
    let access = tokens["accessToken"].as_str().unwrap().to_owned();
    assert!(f.auth.verify_access_token(&ctx(), &access).await.is_ok());
    f.clock.advance(Duration::from_millis(2100));
    assert_eq!(
        f.auth.verify_access_token(&ctx(), &access).await,
        Err(AuthError::NoSession(TokenError::Expired.to_string()))
    );
    let error = f.auth.userinfo(&with_bearer(&access)).await.unwrap_err();
    assert_eq!(error, AuthError::NoSession("the access token has expired".into()));
}

#[tokio::test]
async fn an_access_token_is_valid_until_the_second_before_its_expiry_and_refused_at_it() {
    let f = fixture(Duration::from_secs(900)).await;
    let tokens = f.ann_logged_in().await;
    let access = tokens["accessToken"].as_str().unwrap().to_owned();
    let claims = f.auth.verify_access_token(&ctx(), &access).await.unwrap();
    let issued_at = f.clock.now();
    assert_eq!(
        claims.iat,
        issued_at.unix_timestamp() as u64,
        "iat is the clock's"
    );
    let expire_at = timestamp(after(issued_at, Duration::from_secs(900)));
    assert_eq!(tokens["expireAt"], json!(expire_at));

    f.clock.advance(Duration::from_secs(899));
    assert_eq!(f.auth.verify_access_token(&ctx(), &access).await, Ok(claims));
    let info = f.auth.userinfo(&with_bearer(&access)).await.unwrap();
    assert_eq!(info["sub"], "u1");

    f.clock.advance(Duration::from_secs(1));
    assert_eq!(
        f.auth.verify_access_token(&ctx(), &access).await,
        Err(AuthError::NoSession(TokenError::Expired.to_string()))
    );
    let error = f.auth.userinfo(&with_bearer(&access)).await.unwrap_err();
    assert_eq!(error, AuthError::NoSession("the access token has expired".into()));
}

#[tokio::test]
async fn deleting_a_user_removes_its_credentials_and_unknown_ids_are_not_found() {
    let f = fixture(Duration::from_secs(900)).await;
    let tokens = f.ann_logged_in().await;
    f.auth.delete_user(&ctx(), "u1").await.unwrap();
    assert!(f.auth.get_user(&ctx(), "u1").await.unwrap().is_none());
    assert!(f.auth.delete_user(&ctx(), "u1").await.unwrap_err().is_not_found());
    let refresh = Secret::new(tokens["refreshToken"].as_str().unwrap());
    let session = with_bearer(tokens["accessToken"].as_str().unwrap());
    let error = f.auth.refresh(&session, &refresh).await.unwrap_err();
    assert!(
        matches!(&error, AuthError::NoSession(message) if message == sessions::BAD_REFRESH),
        "{error}"
    );
    let patch = AuthUserPatch {
        blocked: Some(true),
        ..AuthUserPatch::default()
    };
    assert!(f
        .auth
        .update_user(&ctx(), "u1", &patch)
        .await
        .unwrap_err()
        .is_not_found());
    assert!(f
        .auth
        .change_password(&ctx(), "u1")
        .await
        .unwrap_err()
        .is_not_found());
}

#[test]
fn helpers_make_distinct_random_tokens_and_stable_hashes() {
    assert_ne!(random_token().expose(), random_token().expose());
    assert_eq!(random_token().expose().len(), 43);
    assert_eq!(token_hash("abc"), token_hash("abc"));
    assert_ne!(token_hash("abc"), token_hash("abd"));
    let now = time::macros::datetime!(2024-05-01 10:00:00 UTC);
    assert!(is_past(Some(&json!("2000-01-01T00:00:00Z")), now));
    let in_a_minute = json!(timestamp(after(now, Duration::from_secs(60))));
    assert!(!is_past(Some(&in_a_minute), now));
    assert!(!is_past(Some(&in_a_minute), after(now, Duration::from_secs(59))));
    assert!(is_past(Some(&in_a_minute), after(now, Duration::from_secs(60))));
    assert!(is_past(Some(&json!("not a date")), now));
    assert!(is_past(None, now));
}
