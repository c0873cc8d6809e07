//! In-memory state of the Auth0 fake: configuration, users (with email/username indexes),
//! sessions, import jobs, recorded requests and the fault / rate-limit bookkeeping.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::chaos::{Chaos, RandomFaults};

use super::gate::{Faults, Limiter};
use super::import::ImportJob;
use super::util::{now_iso, random_hex24, ApiError};

/// Connection of users created without one.
pub(crate) const DEFAULT_CONNECTION: &str = "Username-Password-Authentication";

/// One request as the fake received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method (`GET`, `POST`, ...).
    pub method: String,
    /// Path, without the query string (`/users/auth0|abc`, percent-encoding kept).
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Header names (lowercase) and values, in arrival order; non-UTF-8 values are lossy.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Whether header `name` (case-insensitive) arrived.
    pub fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }
}

/// Which requests the rate limit applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RateScope {
    /// Every route except the `/-/` probes.
    All,
    /// These `(METHOD, exact path)` pairs.
    Routes(Vec<(String, String)>),
}

/// Options fixed when the fake is built.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// `client-type` value that gets a `sid` cookie instead of a token body.
    pub website_client_type: String,
    /// Time an import job takes from creation to completion.
    pub import_delay: Duration,
    /// Requests accepted per 1-second window on the limited routes; `None` = no limit.
    pub requests_per_second: Option<u32>,
    /// Routes the rate limit applies to.
    pub rate_scope: RateScope,
    /// `Max-Age` of the `sid` cookie.
    pub session_seconds: u64,
    /// Random faults from the start.
    pub random_faults: RandomFaults,
}

/// A user plus what the API never shows (password, insertion order).
#[derive(Debug, Clone)]
pub(crate) struct StoredUser {
    /// Insertion order, for stable listings.
    pub seq: u64,
    /// Login password; imported users have none.
    pub password: Option<String>,
    /// The Auth0 user object served by the API.
    pub value: Value,
}

impl StoredUser {
    /// A string field of the user object.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.value.get(key).and_then(Value::as_str)
    }

    /// Whether the user is blocked.
    pub fn blocked(&self) -> bool {
        self.value
            .get("blocked")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// A user to create.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewUser {
    /// The id part after `auth0|`; random when `None`.
    pub id_part: Option<String>,
    pub email: String,
    pub username: Option<String>,
    pub nickname: Option<String>,
    pub name: Option<String>,
    pub password: Option<String>,
    pub blocked: bool,
    pub email_verified: bool,
    pub connection: Option<String>,
    pub app_metadata: Map<String, Value>,
    pub user_metadata: Map<String, Value>,
}

/// A change to a user; `None` leaves the field alone, metadata is merged at first level.
#[derive(Debug, Clone, Default)]
pub(crate) struct UserPatch {
    pub email: Option<String>,
    pub username: Option<String>,
    pub nickname: Option<String>,
    pub name: Option<String>,
    pub blocked: Option<bool>,
    pub email_verified: Option<bool>,
    pub password: Option<String>,
    pub app_metadata: Option<Map<String, Value>>,
    pub user_metadata: Option<Map<String, Value>>,
}

/// Everything mutable, behind one mutex.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub users: HashMap<String, StoredUser>,
    by_email: HashMap<String, String>,
    by_username: HashMap<String, String>,
    next_seq: u64,
    /// Access token (also the `sid` cookie value) → user id.
    pub sessions: HashMap<String, String>,
    /// Refresh token → user id.
    pub refresh_tokens: HashMap<String, String>,
    pub change_password: Vec<(String, Instant)>,
    pub jobs: HashMap<String, ImportJob>,
    pub requests: Vec<RecordedRequest>,
    pub faults: Faults,
    pub limiter: Limiter,
}

impl State {
    /// Id of the user with this email (case-insensitive).
    pub fn id_by_email(&self, email: &str) -> Option<&String> {
        self.by_email.get(&email.to_lowercase())
    }

    /// Id of the user with this username.
    pub fn id_by_username(&self, username: &str) -> Option<&String> {
        self.by_username.get(username)
    }

    /// Id of the user that logs in as `login` (username first, then email).
    pub fn id_by_login(&self, login: &str) -> Option<String> {
        self.id_by_username(login)
            .or_else(|| self.id_by_email(login))
            .cloned()
    }

    /// Users in insertion order.
    pub fn users_in_order(&self) -> Vec<&StoredUser> {
        let mut users: Vec<&StoredUser> = self.users.values().collect();
        users.sort_by_key(|user| user.seq);
        users
    }

    /// Creates a user; 409 when the id, email or username is taken.
    pub fn create_user(&mut self, new: NewUser) -> Result<Value, ApiError> {
        let id_part = new.id_part.unwrap_or_else(random_hex24);
        let id = format!("auth0|{id_part}");
        let taken = self.users.contains_key(&id)
            || self.id_by_email(&new.email).is_some()
            || new
                .username
                .as_deref()
                .is_some_and(|u| self.id_by_username(u).is_some());
        if taken {
            return Err(ApiError::conflict("The user already exists."));
        }
        let now = now_iso();
        let local_part = new.email.split('@').next().unwrap_or_default().to_string();
        let value = json!({
            "user_id": id,
            "email": new.email,
            "email_verified": new.email_verified,
            "username": new.username,
            "nickname": new.nickname.unwrap_or(local_part),
            "name": new.name.unwrap_or_else(|| new.email.clone()),
            "blocked": new.blocked,
            "created_at": now,
            "updated_at": now,
            "identities": [{
                "connection": new.connection.unwrap_or_else(|| DEFAULT_CONNECTION.to_string()),
                "provider": "auth0",
                "user_id": id_part,
                "isSocial": false,
            }],
            "app_metadata": new.app_metadata,
            "user_metadata": new.user_metadata,
        });
        self.by_email.insert(new.email.to_lowercase(), id.clone());
        if let Some(username) = new.username {
            self.by_username.insert(username, id.clone());
        }
        self.next_seq += 1;
        let stored = StoredUser {
            seq: self.next_seq,
            password: new.password,
            value: value.clone(),
        };
        self.users.insert(id, stored);
        Ok(value)
    }

    /// Applies `patch` to user `id`; 404 when unknown, 409 when the new email/username is taken.
    pub fn patch_user(&mut self, id: &str, patch: UserPatch) -> Result<Value, ApiError> {
        let Some(old) = self.users.get(id) else {
            return Err(ApiError::user_not_found());
        };
        let old_email = old.field("email").map(str::to_lowercase);
        let old_username = old.field("username").map(str::to_string);
        if let Some(email) = &patch.email {
            if self.id_by_email(email).is_some_and(|owner| owner != id) {
                return Err(ApiError::conflict("The specified new email already exists"));
            }
        }
        if let Some(username) = &patch.username {
            if self.id_by_username(username).is_some_and(|owner| owner != id) {
                return Err(ApiError::conflict("The specified new username already exists"));
            }
        }
        if let Some(email) = &patch.email {
            if let Some(old_email) = &old_email {
                self.by_email.remove(old_email);
            }
            self.by_email.insert(email.to_lowercase(), id.to_string());
        }
        if let Some(username) = &patch.username {
            if let Some(old_username) = &old_username {
                self.by_username.remove(old_username);
            }
            self.by_username.insert(username.clone(), id.to_string());
        }
        let Some(user) = self.users.get_mut(id) else {
            return Err(ApiError::user_not_found());
        };
        apply_patch(user, patch);
        Ok(user.value.clone())
    }

    /// Deletes user `id` and its sessions; `false` when unknown.
    pub fn delete_user(&mut self, id: &str) -> bool {
        let Some(user) = self.users.remove(id) else {
            return false;
        };
        if let Some(email) = user.field("email") {
            self.by_email.remove(&email.to_lowercase());
        }
        if let Some(username) = user.field("username") {
            self.by_username.remove(username);
        }
        self.sessions.retain(|_, owner| owner != id);
        self.refresh_tokens.retain(|_, owner| owner != id);
        true
    }
}

/// Writes the fields of `patch` into the user object (indexes are the caller's job).
fn apply_patch(user: &mut StoredUser, patch: UserPatch) {
    if let Some(password) = patch.password {
        user.password = Some(password);
    }
    let Some(object) = user.value.as_object_mut() else {
        return;
    };
    let strings = [
        ("email", patch.email),
        ("username", patch.username),
        ("nickname", patch.nickname),
        ("name", patch.name),
    ];
    for (key, value) in strings {
        if let Some(value) = value {
            object.insert(key.to_string(), Value::String(value));
        }
    }
    if let Some(blocked) = patch.blocked {
        object.insert("blocked".to_string(), Value::Bool(blocked));
    }
    if let Some(verified) = patch.email_verified {
        object.insert("email_verified".to_string(), Value::Bool(verified));
    }
    for (key, changes) in [
        ("app_metadata", patch.app_metadata),
        ("user_metadata", patch.user_metadata),
    ] {
        let Some(changes) = changes else { continue };
        let slot = object.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        if let Some(metadata) = slot.as_object_mut() {
            for (name, value) in changes {
                if value.is_null() {
                    metadata.remove(&name);
                } else {
                    metadata.insert(name, value);
                }
            }
        }
    }
    object.insert("updated_at".to_string(), Value::String(now_iso()));
}

/// The fake's configuration and state, shared by the handlers and the test helpers.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: Config,
    state: Mutex<State>,
    /// Random faults (`/-/faults`).
    pub chaos: Arc<Chaos>,
}

impl Shared {
    /// Wraps a fresh state.
    pub fn new(config: Config) -> Self {
        Self {
            chaos: Arc::new(Chaos::new("auth0-fake", &config.random_faults)),
            config,
            state: Mutex::new(State::default()),
        }
    }

    /// Locks the state; a poisoned lock is recovered (the fake never leaves it half-written).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
