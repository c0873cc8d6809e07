//! Stateful in-memory fake of the Mia-Platform CRUD Service, following
//! `shared/contracts/crud-service.md`: the collection routes, `_q`/`_st`/`_p`/`_s`/`_l`/`_sk`
//! queries, `acl_rows`/`acl_read_columns`, unique indexes (409), compare-and-set PATCH, the state
//! machine, plus fault injection (targeted, and random: [`crate::chaos`]) and request counting
//! for tests.
//!
//! ```no_run
//! # async fn demo() {
//! use ums_fakes::crud::{CrudFake, Method};
//!
//! let fake = CrudFake::builder()
//!     .collection("/users", &["email", "username"])
//!     .collection("/jobs", &[])
//!     .build()
//!     .spawn()
//!     .await;
//! let users_url = format!("{}/users/", fake.uri());
//! fake.fail_next(Method::GET, "/users", 503, 1);
//! # let _ = users_url;
//! fake.shutdown().await;
//! # }
//! ```

mod faults;
mod import;
mod index;
mod matcher;
mod query;
mod respond;
mod routes;
mod running;
mod state;
mod states;
mod store;
mod update;
mod writes;

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::{middleware, Router};

use crate::chaos::RandomFaults;

pub use axum::http::Method;
pub use docquery::State;
pub use running::RunningCrudFake;
pub use state::{CrudFakeError, CrudFakeState};

/// Largest request body accepted (bulk inserts of many documents).
const BODY_LIMIT: usize = 256 * 1024 * 1024;

/// One collection of the fake: endpoint path, unique fields and default state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectionConfig {
    path: String,
    unique: Vec<String>,
    indexed: Vec<String>,
    default_state: Option<State>,
}

impl CollectionConfig {
    /// A collection served under `path` (e.g. `/users`), without unique fields.
    pub fn new(path: &str) -> Self {
        Self {
            path: normalize_path(path),
            unique: Vec::new(),
            indexed: Vec::new(),
            default_state: None,
        }
    }

    /// Adds unique indexes on `fields` (documents missing the field or holding `null` never collide).
    pub fn unique(mut self, fields: &[&str]) -> Self {
        self.unique.extend(fields.iter().map(|f| (*f).to_owned()));
        self
    }

    /// Adds plain (non-unique) hash indexes on `fields`: they change no behaviour, they only turn
    /// equality and `$in` filters on those fields into lookups instead of scans.
    pub fn index(mut self, fields: &[&str]) -> Self {
        self.indexed.extend(fields.iter().map(|f| (*f).to_owned()));
        self
    }

    /// The state of documents inserted without `__STATE__` (default: the fake's, DRAFT unless set).
    pub fn default_state(mut self, state: State) -> Self {
        self.default_state = Some(state);
        self
    }
}

/// `users`, `/users/` → `/users`.
pub(crate) fn normalize_path(path: &str) -> String {
    format!("/{}", path.trim_matches('/'))
}

/// The configuration of a CRUD fake; build it with [`CrudFake::builder`], then [`CrudFake::spawn`]
/// it or turn it into a router with [`CrudFake::into_state`] and [`router`].
#[derive(Clone, Debug)]
pub struct CrudFake {
    collections: Vec<CollectionConfig>,
    default_state: State,
    user_id_header: String,
    random_faults: RandomFaults,
}

/// Builder of [`CrudFake`].
#[derive(Clone, Debug)]
pub struct CrudFakeBuilder {
    fake: CrudFake,
}

impl CrudFakeBuilder {
    /// Adds a collection under `path` with unique indexes on `unique` (may be empty).
    pub fn collection(self, path: &str, unique: &[&str]) -> Self {
        self.collection_config(CollectionConfig::new(path).unique(unique))
    }

    /// Adds a fully configured collection (replacing one with the same path).
    pub fn collection_config(mut self, config: CollectionConfig) -> Self {
        self.fake.collections.retain(|c| c.path != config.path);
        self.fake.collections.push(config);
        self
    }

    /// Adds plain indexes on `fields` to the collection at `path` (no-op if there is none); see
    /// [`CollectionConfig::index`].
    pub fn index(mut self, path: &str, fields: &[&str]) -> Self {
        let path = normalize_path(path);
        if let Some(config) = self.fake.collections.iter_mut().find(|c| c.path == path) {
            config.indexed.extend(fields.iter().map(|f| (*f).to_owned()));
        }
        self
    }

    /// Default state of the collections that do not set their own (DRAFT unless called).
    pub fn default_state(mut self, state: State) -> Self {
        self.fake.default_state = state;
        self
    }

    /// Header holding the caller's user id, stored as `creatorId`/`updaterId` (default `miauserid`).
    pub fn user_id_header(mut self, name: &str) -> Self {
        self.fake.user_id_header = name.to_ascii_lowercase();
        self
    }

    /// Random faults from the start (default: off); changeable later through
    /// [`CrudFakeState::random_faults`] or `PUT /-/faults`.
    pub fn random_faults(mut self, settings: RandomFaults) -> Self {
        self.fake.random_faults = settings;
        self
    }

    /// The configured fake.
    pub fn build(self) -> CrudFake {
        self.fake
    }
}

impl Default for CrudFake {
    fn default() -> Self {
        Self::standard()
    }
}

impl CrudFake {
    /// A builder with no collection, default state DRAFT and user id header `miauserid`.
    pub fn builder() -> CrudFakeBuilder {
        CrudFakeBuilder {
            fake: CrudFake {
                collections: Vec::new(),
                default_state: State::Draft,
                user_id_header: "miauserid".to_owned(),
                random_faults: RandomFaults::default(),
            },
        }
    }

    /// The collections of a User Manager deployment: `/users` (unique `email`, `username`; plain
    /// index on `authUserId`), `/ums-config` (unique `userGroup`), `/roles` (unique `roleId`),
    /// `/jobs`, `/clients` (unique `clientId`: the OAuth2 clients of `CLIENTS_CRUD_ENDPOINT`) and
    /// `/audit` (the audit trail of `AUDIT_CRUD_ENDPOINT`).
    pub fn standard() -> Self {
        Self::builder()
            .collection_config(
                CollectionConfig::new("/users")
                    .unique(&["email", "username"])
                    .index(&["authUserId"]),
            )
            .collection("/ums-config", &["userGroup"])
            .collection("/roles", &["roleId"])
            .collection("/jobs", &[])
            .collection("/clients", &["clientId"])
            .collection("/audit", &[])
            .build()
    }

    /// The configured collections.
    pub fn collections(&self) -> &[CollectionConfig] {
        &self.collections
    }

    /// The shared state (empty collections) to serve with [`router`].
    pub fn into_state(self) -> CrudFakeState {
        CrudFakeState::new(
            self.collections,
            self.default_state,
            self.user_id_header,
            &self.random_faults,
        )
    }

    /// Serves the fake on `127.0.0.1:0` in a background task.
    ///
    /// # Panics
    /// If no local port can be bound (test support: there is nothing sensible to do then).
    pub async fn spawn(self) -> RunningCrudFake {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        match self.spawn_on(addr).await {
            Ok(running) => running,
            Err(err) => panic!("crud-fake: cannot bind 127.0.0.1:0: {err}"),
        }
    }

    /// Serves the fake on `addr` in a background task.
    pub async fn spawn_on(self, addr: std::net::SocketAddr) -> std::io::Result<RunningCrudFake> {
        RunningCrudFake::start(self.into_state(), addr).await
    }
}

/// The axum router of a fake: every request goes through one dispatcher, so unknown routes get
/// the CRUD Service's 404 `{"error":"not found"}`; the random faults and `/-/faults` in front.
/// Served by another server than [`CrudFake::spawn`]'s, the `drop*` faults answer 500 instead.
pub fn router(state: CrudFakeState) -> Router {
    let chaos = Arc::clone(&state.inner.chaos);
    Router::new()
        .fallback(routes::dispatch)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(chaos, crate::chaos::layer))
        .with_state(state)
}

/// Locks a mutex, recovering from poisoning (the data stay consistent between statements).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Read-locks a collection.
pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Write-locks a collection.
pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}
