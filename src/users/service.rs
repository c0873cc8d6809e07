//! `UserService`: what the user use cases work with — the user store, the auth provider, the
//! group schemas, and the optional Rönd and Timer Service effects — built once at startup.

use std::sync::Arc;

use crate::auth::{AuthProvider, Capabilities};
use crate::config::{InputLimits, SubjectKey, UserPolicy};
use crate::groups::GroupRegistry;
use crate::journal::Journal;
use crate::policy::PolicyClient;
use crate::store::Collection;
use crate::timer::TimerClient;

/// The dependencies of the user use cases (create, update, delete, state changes, userinfo).
#[derive(Clone)]
pub struct UserService {
    /// The users collection.
    pub store: Arc<dyn Collection>,
    /// The authentication provider.
    pub auth: Arc<dyn AuthProvider>,
    /// The compiled group schemas.
    pub groups: Arc<GroupRegistry>,
    /// Rönd role bindings, when `ROND_ENABLED`.
    pub roles: Option<Roles>,
    /// Expiry timers, when `TIMER_SERVICE` is set.
    pub expiry: Option<Expiry>,
    /// The Rönd roles collection (`ROLES_CRUD_ENDPOINT`): the permissions of `/userinfo`.
    pub role_permissions: Option<Arc<dyn Collection>>,
    /// `HARD_DELETE`, `RANDOM_PWD_GEN`, `CUSTOM_USER_ID_KEY`, ...
    pub policy: UserPolicy,
    /// The input limits (`LIMIT_*`).
    pub limits: InputLimits,
    /// The saga journal, when a collection holds it (`SAGA_CRUD_ENDPOINT`, the jobs collection,
    /// or embedded mode).
    pub journal: Option<Journal>,
}

/// Rönd: where role bindings go, and which user field is the binding subject.
#[derive(Clone)]
pub struct Roles {
    /// The Rönd client.
    pub policy: Arc<dyn PolicyClient>,
    /// `ROND_SUBJECT_KEY`.
    pub subject_key: SubjectKey,
}

/// The Timer Service: expiry callbacks target `callback_base_url` + `/users/:id/expire`.
#[derive(Clone)]
pub struct Expiry {
    /// The Timer Service client.
    pub timer: Arc<dyn TimerClient>,
    /// `TIMER_CALLBACK_BASE_URL`.
    pub callback_base_url: String,
    /// In `AUTHZ_MODE=scopes`: signs the credential each callback carries (the header
    /// [`CALLBACK_TOKEN_HEADER`]), so that the expiry route lets the Timer Service in.
    pub callback_signer: Option<Arc<dyn CallbackSigner>>,
}

/// The header carrying the credential of an expiry callback.
pub const CALLBACK_TOKEN_HEADER: &str = "x-ums-callback-token";

/// Signs the credential of the expiry callback of a user: valid for that user's callback only,
/// until some time after `fire_at`, and for nothing else.
pub trait CallbackSigner: Send + Sync {
    /// The credential, or `None` when it cannot be signed (the callback then needs a token).
    fn sign(&self, user_id: &str, fire_at: time::OffsetDateTime) -> Option<String>;
}

impl UserService {
    /// What the configured auth provider can do (sessions, change-password, bulk import).
    pub fn capabilities(&self) -> Capabilities {
        self.auth.capabilities()
    }
}
