//! The `AuthProvider` port: the service that holds credentials (the Mia Auth0 Client, or the
//! built-in local provider), and the types that cross it.

pub mod auth0_client;
pub mod error;
pub mod local;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::CallContext;
use crate::secret::Secret;

pub use error::{AuthError, AuthResult};

/// What an adapter can do; the orchestration answers 501 for a missing capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// `login`, `refresh`, `userinfo`.
    pub sessions: bool,
    /// `change_password`.
    pub change_password: bool,
    /// `start_import`, `import_status`, `import_errors`.
    pub bulk_import: bool,
}

/// A user to create in the auth provider.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAuthUser {
    /// The store `_id` of the user: the local provider uses it as the auth id (`sub`); the Auth0
    /// Client adapter ignores it.
    pub user_id: Option<String>,
    /// Login email.
    pub email: Option<String>,
    /// Login username (Auth0: also `nickname`/`name`).
    pub username: Option<String>,
    /// Initial password.
    pub password: Secret,
    /// Created blocked.
    pub blocked: bool,
    /// Whether the provider should send a verification / reset email.
    pub send_email: bool,
}

/// A user as the auth provider knows it.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthUser {
    /// The provider's id (`auth0|...`): the store's `authUserId`.
    pub id: String,
    /// Email, when the provider has one.
    pub email: Option<String>,
    /// Username, when the provider has one.
    pub username: Option<String>,
    /// Blocked flag.
    pub blocked: bool,
    /// The provider's whole user object (for `CONFIGURATION_PATH` enrichment).
    pub raw: Value,
}

/// A change to an auth user; `None` fields are left alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthUserPatch {
    /// New email.
    pub email: Option<String>,
    /// New username.
    pub username: Option<String>,
    /// Block or unblock.
    pub blocked: Option<bool>,
}

/// Login (or refresh) result, passed back to our caller as the provider gave it.
#[derive(Clone, Debug, Default)]
pub struct SessionGrant {
    /// JSON body (`{accessToken, refreshToken, expireAt}`) when the provider answered with one.
    pub body: Option<Value>,
    /// `set-cookie` values (website scope: `sid=...`) to pass back verbatim.
    pub set_cookie: Vec<Secret>,
}

/// Status of a provider bulk-import job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportJobState {
    /// Queued.
    Pending,
    /// Running.
    Processing,
    /// Done; `summary` is set.
    Completed,
    /// Failed as a whole.
    Failed,
    /// Completed more than 2 hours ago; results gone.
    Expired,
}

/// Counters of a completed import job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// Users that failed.
    pub failed: u64,
    /// Users updated (upsert).
    pub updated: u64,
    /// Users inserted.
    pub inserted: u64,
    /// All users of the file.
    pub total: u64,
}

/// A provider bulk-import job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportJob {
    /// Provider job id (`job_...`).
    pub id: String,
    /// Where it is.
    pub state: ImportJobState,
    /// Set once completed.
    pub summary: Option<ImportSummary>,
}

/// One user the provider failed to import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFailure {
    /// The user's id in the import file (without `auth0|`), when the provider echoes it.
    pub user_id: Option<String>,
    /// The user's email, when echoed.
    pub email: Option<String>,
    /// What went wrong.
    pub errors: Vec<ImportErrorDetail>,
}

/// One error of an import failure (`CONFLICT_EMAIL`, `FORMAT`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportErrorDetail {
    /// Provider error code.
    pub code: String,
    /// Provider message.
    pub message: String,
}

/// What `change_own_password` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnPasswordChange {
    /// The password is set; every session of the user has ended.
    Changed,
    /// The provider sent its change-password email (it keeps no password here).
    EmailSent,
}

/// The authentication provider.
#[async_trait]
pub trait AuthProvider: Send + Sync {
    /// What this adapter supports.
    fn capabilities(&self) -> Capabilities;

    /// Creates a user; 409 when email/username is taken.
    async fn create_user(&self, ctx: &CallContext, user: &NewAuthUser) -> AuthResult<AuthUser>;

    /// One user by provider id, `None` if unknown.
    async fn get_user(&self, ctx: &CallContext, id: &str) -> AuthResult<Option<AuthUser>>;

    /// The auth user this service created for the store user `store_id`, found by the marker it
    /// carries (the Auth0 Client: `app_metadata.umsUserId`; the local provider: its id is the
    /// store `_id`). Used to verify a create whose outcome is unknown.
    async fn find_created_for(&self, ctx: &CallContext, store_id: &str) -> AuthResult<Option<AuthUser>>;

    /// One page of the provider's users (`page` from 0, `per_page` at most 100), for the
    /// reconciler.
    async fn list_users(&self, ctx: &CallContext, page: u32, per_page: u32) -> AuthResult<Vec<AuthUser>>;

    /// The store `_id` `user` was created for, when this service created it (its marker: the
    /// Auth0 Client's `app_metadata.umsUserId`; the local provider's id is the store `_id`).
    fn created_for(&self, user: &AuthUser) -> Option<String>;

    /// The users among `ids` that exist (one batched call; unknown ids are skipped).
    async fn get_users(&self, ctx: &CallContext, ids: &[String]) -> AuthResult<Vec<AuthUser>>;

    /// Updates email, username or blocked flag.
    async fn update_user(&self, ctx: &CallContext, id: &str, patch: &AuthUserPatch) -> AuthResult<()>;

    /// Deletes a user; an unknown id is `NotFound`.
    async fn delete_user(&self, ctx: &CallContext, id: &str) -> AuthResult<()>;

    /// Asks the provider to send the change-password email to the user.
    async fn change_password(&self, ctx: &CallContext, id: &str) -> AuthResult<()>;

    /// A person changes its own password (`POST /users/me/password`). A provider that keeps
    /// passwords (the local provider) checks `current`, applies its password policy to `new`,
    /// sets it and ends the user's sessions: [`OwnPasswordChange::Changed`]. One that does not
    /// (the Auth0 Client) sends its change-password email instead.
    async fn change_own_password(
        &self,
        ctx: &CallContext,
        id: &str,
        current: &Secret,
        new: &Secret,
    ) -> AuthResult<OwnPasswordChange> {
        let _ = (current, new);
        self.change_password(ctx, id).await?;
        Ok(OwnPasswordChange::EmailSent)
    }

    /// Logs in with username and password.
    async fn login(&self, ctx: &CallContext, username: &str, password: &Secret) -> AuthResult<SessionGrant>;

    /// New tokens from a refresh token; the expired access token travels in `ctx.session`, and
    /// the provider checks it belongs to the refresh token's user (the Auth0 Client does, the
    /// local provider verifies its signature and `sub`).
    async fn refresh(&self, ctx: &CallContext, refresh_token: &Secret) -> AuthResult<SessionGrant>;

    /// The logged user (session from `ctx.session`).
    async fn userinfo(&self, ctx: &CallContext) -> AuthResult<Value>;

    /// Starts a bulk-import job from a JSON array of import records (under the provider's size limit).
    async fn start_import(&self, ctx: &CallContext, users_json: Bytes, upsert: bool)
        -> AuthResult<ImportJob>;

    /// Status of an import job.
    async fn import_status(&self, ctx: &CallContext, job_id: &str) -> AuthResult<ImportJob>;

    /// The failed users of a completed import job (empty when none failed).
    async fn import_errors(&self, ctx: &CallContext, job_id: &str) -> AuthResult<Vec<ImportFailure>>;

    /// Whether the provider answers (for `/-/check-up`).
    async fn check(&self, ctx: &CallContext) -> AuthResult<()>;

    /// The auth id the provider gives a user imported with `user_id = store_id` (Auth0 prefixes
    /// database users with `auth0|`).
    fn imported_user_id(&self, store_id: &str) -> String {
        format!("auth0|{store_id}")
    }
}
