//! The local auth provider (`AUTH_MODULE=local`, SPEC §9): credentials kept by this service in
//! its own collections, apart from the user documents.
//!
//! - `credentials`: one document per auth user `{authId, email, username, passwordHash, blocked}`;
//!   `authId` is the store `_id` of the user (the CRUD contract never accepts a client `_id`, so
//!   the auth id is a field of its own). Emails are kept lower case. The hash never leaves this
//!   module.
//! - `tokens`: refresh tokens `{kind: "refresh", tokenHash, family, userId, expiresAt, used,
//!   revoked}`, reset tokens `{kind: "reset", tokenHash, userId, expiresAt, used}` and import jobs
//!   `{kind: "import", status, summary, failures}`. Only SHA-256 hashes of tokens are stored.
//!
//! Access tokens are EdDSA JWTs (`sub` = the auth id) signed by a key kept under `DATA_DIR`;
//! [`LocalAuth::jwks`] publishes its public half. Errors follow the Auth0 Client adapter:
//! `Conflict` for a taken email or username, `NotFound` for an unknown user, `Rejected` 401/403
//! for refused credentials and 400 for invalid input.
//!
//! Every expiry decision (access token `iat`/`exp` when issued and when checked, refresh and reset
//! token `expiresAt`) reads [`LocalAuthConfig::clock`], never the system time directly.

mod bulk_import;
mod credentials;
mod keys;
mod lockout;
mod own_password;
mod password;
pub mod password_policy;
mod reset;
mod sessions;
mod throttle;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use rand::rngs::OsRng;
use rand::RngCore;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{
    AuthProvider, AuthResult, AuthUser, AuthUserPatch, Capabilities, ImportFailure, ImportJob, NewAuthUser,
    SessionGrant,
};
use crate::auth::AuthError;
use crate::clock::Clock;
use crate::config::{LoginLockout, PasswordPolicy};
use crate::context::CallContext;
use crate::failure::{CallName, Cause, Failure};
use crate::secret::Secret;
use crate::store::Collection;

pub use keys::{Claims, SigningKey, TokenError};
pub use reset::INVALID_RESET_TOKEN;

/// Service name in errors, logs and metrics.
const SERVICE: &str = "local auth";

/// Everything the local provider needs; built by startup from the configuration.
#[derive(Clone)]
pub struct LocalAuthConfig {
    /// One document per auth user (should have unique indexes on `authId`, `email`, `username`).
    pub credentials: Arc<dyn Collection>,
    /// Refresh tokens, reset tokens and import jobs (`kind` tells them apart).
    pub tokens: Arc<dyn Collection>,
    /// The signing key file: created with mode 0600 when missing, reused on restart.
    pub key_path: PathBuf,
    /// `iss` of the access tokens, e.g. `user-manager-service`.
    pub issuer: String,
    /// Lifetime of an access token (15 minutes by default).
    pub access_ttl: Duration,
    /// Lifetime of a refresh token (30 days by default).
    pub refresh_ttl: Duration,
    /// Lifetime of a password-reset token (1 hour by default).
    pub reset_ttl: Duration,
    /// `PASSWORD_RESET_WEBHOOK_URL`: where reset tokens are POSTed; unset = logged (development).
    pub reset_webhook_url: Option<String>,
    /// The process HTTP client (with timeouts), for the webhook.
    pub http: reqwest::Client,
    /// What "now" is for every expiry decision: [`crate::clock::SystemClock`] in production, a
    /// [`crate::clock::ManualClock`] in tests.
    pub clock: Arc<dyn Clock>,
    /// `LOGIN_*`: when failed logins lock an account or a client address.
    pub lockout: LoginLockout,
    /// `PASSWORD_*`: what a new password must be.
    pub password_policy: PasswordPolicy,
}

/// Why the local provider could not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalAuthError {
    /// The signing key file could not be read, parsed or created.
    #[error("signing key {}: {message}", path.display())]
    Key {
        /// The key file (or its directory).
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// The built-in `AuthProvider`.
pub struct LocalAuth {
    config: LocalAuthConfig,
    key: keys::SigningKey,
    hasher: password::Hasher,
    /// Failed logins per client address and unknown login name (this replica's).
    throttle: throttle::Throttle,
}

impl std::fmt::Debug for LocalAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAuth")
            .field("credentials", &self.config.credentials.path())
            .field("tokens", &self.config.tokens.path())
            .field("key_path", &self.config.key_path)
            .field("issuer", &self.config.issuer)
            .field("webhook", &self.config.reset_webhook_url.is_some())
            .finish()
    }
}

impl LocalAuth {
    /// The provider, with the signing key loaded from `config.key_path` or generated there.
    pub fn new(config: LocalAuthConfig) -> Result<Self, LocalAuthError> {
        let key = keys::SigningKey::load_or_generate(&config.key_path)?;
        Ok(Self {
            config,
            key,
            hasher: password::Hasher::new(),
            throttle: throttle::Throttle::default(),
        })
    }

    /// The JWKS document of `GET /.well-known/jwks.json`: `{"keys": [{kty, crv, x, kid, alg, use}]}`.
    pub fn jwks(&self) -> Value {
        self.key.jwks()
    }

    /// The claims of an access token issued by this provider and still good: valid signature,
    /// issuer and expiry (on the provider's clock), and not revoked: its user's credential
    /// exists, is not blocked, and has not been revoked since (the token's `gen` claim is the
    /// credential's `tokenGeneration`). One indexed read of the credential by `authId`.
    ///
    /// A refused token is `NoSession` with the reason (401); a store failure stays itself.
    pub async fn verify_access_token(&self, ctx: &CallContext, token: &str) -> AuthResult<Claims> {
        self.verified_user(ctx, token).await.map(|(claims, _)| claims)
    }

    /// [`Self::verify_access_token`], with the credential it read.
    async fn verified_user(
        &self,
        ctx: &CallContext,
        token: &str,
    ) -> AuthResult<(Claims, credentials::Credential)> {
        let claims = self
            .key
            .verify(&self.config.issuer, token, self.now())
            .map_err(|e| no_session(e.to_string()))?;
        match self.credential(ctx, &claims.sub).await? {
            Some(user) if !user.blocked && user.token_generation == claims.generation => Ok((claims, user)),
            _ => Err(no_session(TokenError::Revoked.to_string())),
        }
    }

    /// Checks `password` against the password policy (`PASSWORD_*`) for a user with these
    /// `user_inputs` (email, username); `Invalid` with what to fix.
    pub fn check_password(&self, password: &Secret, user_inputs: &[&str]) -> AuthResult<()> {
        password_policy::check(&self.config.password_policy, password.expose(), user_inputs).map_err(invalid)
    }

    /// Now on the configured clock, to the second (so stored timestamps have one fixed width and
    /// sort as text).
    fn now(&self) -> OffsetDateTime {
        let now = self.config.clock.now();
        now.replace_nanosecond(0).unwrap_or(now)
    }

    /// Redeems a password-reset token (`POST /users/reset-password`): sets the new password,
    /// consumes the token and ends the user's sessions. An unknown, used or expired token is
    /// `Rejected` 400 "reset token is invalid or expired"; a password the policy refuses is
    /// `Rejected` 400 (and leaves the token usable).
    pub async fn reset_password(
        &self,
        ctx: &CallContext,
        token: &Secret,
        new_password: &Secret,
    ) -> AuthResult<()> {
        self.redeem_reset_token(ctx, token, new_password).await
    }
}

#[async_trait]
impl AuthProvider for LocalAuth {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            sessions: true,
            change_password: true,
            bulk_import: true,
        }
    }

    async fn create_user(&self, ctx: &CallContext, user: &NewAuthUser) -> AuthResult<AuthUser> {
        self.create_credential(ctx, user).await
    }

    /// The local provider gives an auth user the store `_id` as its id.
    async fn find_created_for(&self, ctx: &CallContext, store_id: &str) -> AuthResult<Option<AuthUser>> {
        self.get_user(ctx, store_id).await
    }

    async fn get_user(&self, ctx: &CallContext, id: &str) -> AuthResult<Option<AuthUser>> {
        Ok(self.credential(ctx, id).await?.map(|c| c.auth_user()))
    }

    async fn list_users(&self, ctx: &CallContext, page: u32, per_page: u32) -> AuthResult<Vec<AuthUser>> {
        self.credentials_page(ctx, page, per_page).await
    }

    /// Every local user was created by this service for the store user of the same id.
    fn created_for(&self, user: &AuthUser) -> Option<String> {
        Some(user.id.clone())
    }

    async fn get_users(&self, ctx: &CallContext, ids: &[String]) -> AuthResult<Vec<AuthUser>> {
        self.credentials_of(ctx, ids).await
    }

    async fn update_user(&self, ctx: &CallContext, id: &str, patch: &AuthUserPatch) -> AuthResult<()> {
        self.update_credential(ctx, id, patch).await
    }

    async fn delete_user(&self, ctx: &CallContext, id: &str) -> AuthResult<()> {
        self.delete_credential(ctx, id).await
    }

    async fn change_password(&self, ctx: &CallContext, id: &str) -> AuthResult<()> {
        self.send_reset_token(ctx, id).await
    }

    async fn login(&self, ctx: &CallContext, username: &str, password: &Secret) -> AuthResult<SessionGrant> {
        self.log_in(ctx, username, password).await
    }

    async fn change_own_password(
        &self,
        ctx: &CallContext,
        id: &str,
        current: &Secret,
        new: &Secret,
    ) -> AuthResult<super::OwnPasswordChange> {
        self.set_own_password(ctx, id, current, new).await?;
        Ok(super::OwnPasswordChange::Changed)
    }

    /// The (expired) bearer access token of `ctx.session` must be signed by this provider and
    /// belong to the refresh token's user.
    async fn refresh(&self, ctx: &CallContext, refresh_token: &Secret) -> AuthResult<SessionGrant> {
        self.rotate(ctx, refresh_token).await
    }

    async fn userinfo(&self, ctx: &CallContext) -> AuthResult<Value> {
        self.session_user(ctx).await
    }

    /// Creates the credentials at once; the returned job is already `completed`.
    async fn start_import(
        &self,
        ctx: &CallContext,
        users_json: Bytes,
        upsert: bool,
    ) -> AuthResult<ImportJob> {
        self.import(ctx, &users_json, upsert).await
    }

    async fn import_status(&self, ctx: &CallContext, job_id: &str) -> AuthResult<ImportJob> {
        self.import_job(ctx, job_id).await
    }

    async fn import_errors(&self, ctx: &CallContext, job_id: &str) -> AuthResult<Vec<ImportFailure>> {
        self.import_failures(ctx, job_id).await
    }

    async fn check(&self, ctx: &CallContext) -> AuthResult<()> {
        self.config.credentials.check(ctx).await?;
        Ok(self.config.tokens.check(ctx).await?)
    }

    /// Imported users keep the store id as their auth id (it is the `sub` of their tokens).
    fn imported_user_id(&self, store_id: &str) -> String {
        store_id.to_owned()
    }
}

/// Names an operation of this provider, as an HTTP adapter would name its call.
fn call(method: &'static str, route: &str) -> CallName {
    CallName::new(SERVICE, method, route)
}

/// A request the provider refuses as invalid.
fn invalid(message: impl Into<String>) -> AuthError {
    AuthError::Invalid(message.into())
}

/// A missing, invalid or expired session or token.
fn no_session(message: impl Into<String>) -> AuthError {
    AuthError::NoSession(message.into())
}

/// A taken email or username.
fn conflict(message: impl Into<String>) -> AuthError {
    AuthError::Conflict(message.into())
}

/// An unknown user or job.
fn not_found(message: String) -> AuthError {
    AuthError::NotFound(message)
}

/// An unexpected failure inside the provider (hashing, signing): logged, answered as a 500.
fn internal(call: &CallName, detail: impl std::fmt::Display) -> AuthError {
    tracing::error!(error.message = %detail, call = %call, "local auth provider failure");
    Failure::new(call.clone(), Cause::Failed { status: Some(500) }).into()
}

/// A random 256-bit token, base64url without padding.
fn random_token() -> Secret {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    Secret::new(URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a token: SHA-256, base64url without padding.
fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()))
}

/// A new auth id: 24 random hex digits, like an ObjectId.
fn new_auth_id() -> String {
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `at` + `ttl`, saturating.
fn after(at: OffsetDateTime, ttl: Duration) -> OffsetDateTime {
    let ttl = time::Duration::try_from(ttl).unwrap_or(time::Duration::MAX);
    at.checked_add(ttl).unwrap_or(at)
}

/// RFC 3339 text of `at` (`2024-05-01T10:00:00Z`).
fn timestamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Whether the RFC 3339 `expires_at` of a stored document is past at `now` (reached counts as
/// past; unreadable = expired).
fn is_past(expires_at: Option<&Value>, now: OffsetDateTime) -> bool {
    expires_at
        .and_then(Value::as_str)
        .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
        .is_none_or(|at| at <= now)
}

#[cfg(test)]
mod tests;
