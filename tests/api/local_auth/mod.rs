//! Tests: the local auth provider over collections of an in-process CRUD fake (login, refresh
//! rotation and reuse detection, password reset and its webhook, bulk import), its two routes, and
//! `POST /refreshtoken` of the embedded mode over HTTP.

mod dev_reset;
mod import;
mod lockout;
mod refresh_route;
mod reset;
mod revocation;
mod routes;
mod sessions;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use user_manager_service::auth::local::{LocalAuth, LocalAuthConfig};
use user_manager_service::auth::{AuthError, AuthProvider, NewAuthUser};
use user_manager_service::clock::ManualClock;
use user_manager_service::config::{LoginLockout, PasswordPolicy};
use user_manager_service::context::CallContext;
use user_manager_service::downstream::build_http_client;
use user_manager_service::secret::Secret;
use user_manager_service::store::crud_http::CrudCollection;
use user_manager_service::store::{Collection, Filter};

/// The password every test user is created with.
pub const PASSWORD: &str = "correct-horse-battery";
/// Lifetime of the access tokens of [`local`].
pub const ACCESS_TTL: Duration = Duration::from_secs(900);
/// Lifetime of the refresh tokens of [`local`].
pub const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// Lifetime of the reset tokens of [`local`].
pub const RESET_TTL: Duration = Duration::from_secs(3600);
/// One second.
pub const SECOND: Duration = Duration::from_secs(1);

/// A local provider, the collection of its tokens and its clock.
pub struct Local {
    _crud: ums_fakes::crud::RunningCrudFake,
    pub auth: Arc<LocalAuth>,
    pub credentials: Arc<dyn Collection>,
    pub tokens: Arc<dyn Collection>,
    /// The provider's clock, standing still at the start of the test: advance it to age tokens.
    pub clock: Arc<ManualClock>,
    dir: PathBuf,
}

impl Drop for Local {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A provider on a fresh CRUD fake, with access tokens for 15 minutes, refresh tokens for 30 days
/// ([`REFRESH_TTL`]) and reset tokens for an hour ([`RESET_TTL`]); reset tokens go to `webhook`
/// when given.
pub async fn local(webhook: Option<String>) -> Local {
    local_with(webhook, LoginLockout::default()).await
}

/// [`local`] with the given lockout policy.
pub async fn local_with(webhook: Option<String>, lockout: LoginLockout) -> Local {
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
    let dir = std::env::temp_dir().join(format!("ums-local-auth-{}", uuid::Uuid::new_v4().simple()));
    let clock = Arc::new(ManualClock::at_system_time());
    let auth = LocalAuth::new(LocalAuthConfig {
        credentials: credentials.clone(),
        tokens: tokens.clone(),
        key_path: dir.join("keys").join("signing-key.pem"),
        issuer: "user-manager-service".into(),
        access_ttl: ACCESS_TTL,
        refresh_ttl: REFRESH_TTL,
        reset_ttl: RESET_TTL,
        reset_webhook_url: webhook,
        http,
        clock: clock.clone(),
        lockout,
        password_policy: PasswordPolicy::default(),
    })
    .unwrap();
    Local {
        _crud: crud,
        auth: Arc::new(auth),
        credentials,
        tokens,
        clock,
        dir,
    }
}

/// A background context.
pub fn ctx() -> CallContext {
    CallContext::background("local-auth-test")
}

/// A context whose session carries the access token of a login or refresh `body` as a bearer
/// token (a refresh needs it).
pub fn session_of(body: &Value) -> CallContext {
    let mut ctx = ctx();
    let access = body["accessToken"].as_str().unwrap();
    ctx.session.authorization = Some(Secret::new(format!("Bearer {access}")));
    ctx
}

/// Creates user `id` with email `<id>@example.com`, username `<id>` and [`PASSWORD`].
pub async fn create(local: &Local, id: &str, blocked: bool) {
    let user = NewAuthUser {
        user_id: Some(id.into()),
        email: Some(format!("{id}@example.com")),
        username: Some(id.into()),
        password: Secret::new(PASSWORD),
        blocked,
        send_email: false,
    };
    local.auth.create_user(&ctx(), &user).await.unwrap();
}

/// Logs in and returns the body `{accessToken, refreshToken, expireAt}`.
pub async fn login(local: &Local, login: &str, password: &str) -> Value {
    let grant = local
        .auth
        .login(&ctx(), login, &Secret::new(password))
        .await
        .unwrap();
    assert!(grant.set_cookie.is_empty());
    grant.body.unwrap()
}

/// The `(status, message)` the HTTP layer gives a refusal (400 invalid, 401 no session, 403
/// denied), panicking on anything else.
pub fn refusal<T: std::fmt::Debug>(result: Result<T, AuthError>) -> (u16, String) {
    match result.unwrap_err() {
        AuthError::Invalid(message) => (400, message),
        AuthError::NoSession(message) => (401, message),
        AuthError::Denied(message) => (403, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Sets `field` of every stored token matching `q` (to age or tamper with tokens).
pub async fn set_on_tokens(local: &Local, q: Value, field: &str, value: Value) {
    let filter = Filter {
        q: Some(q),
        ..Filter::default()
    };
    let update = json!({ "$set": { field: value } });
    local.tokens.patch_many(&ctx(), &filter, &update).await.unwrap();
}
