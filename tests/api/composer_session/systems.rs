//! The two systems of a session, read behind the service's back: the user store and the auth
//! provider of each mode. On the fakes, the CRUD Service fake's `/users` collection and the Auth0
//! Client fake's users; in embedded mode, the SQLite file under `DATA_DIR`: the store's
//! `docs_users` table and the local provider's `docs_credentials` table (one credential a user,
//! `authId` = the store `_id`).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde_json::{json, Value};

use crate::helpers::{temp_data_dir, TestApp};

/// One auth user as the session checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthUser {
    /// Its id in the provider (the store user's `authUserId`).
    pub id: String,
    pub email: Option<String>,
    pub blocked: bool,
}

/// Where the service under test keeps its users and credentials.
pub enum Systems {
    /// CRUD mode: the CRUD Service and Auth0 Client fakes of the app.
    Fakes,
    /// Embedded mode: the SQLite file of this data directory.
    Embedded(PathBuf),
}

/// The running service and how to read its two systems.
pub struct Session {
    pub app: TestApp,
    pub systems: Systems,
}

impl Session {
    /// The service on the CRUD and Auth0 fakes, with the group configs embedded mode loads
    /// (`config/groups`), so that both modes validate users alike.
    pub async fn on_fakes() -> Self {
        let app = TestApp::on_fakes().with_groups(shipped_groups()).start().await;
        Self {
            app,
            systems: Systems::Fakes,
        }
    }

    /// The service in embedded mode on a fresh data directory.
    pub async fn embedded() -> Self {
        let dir = temp_data_dir();
        let app = TestApp::embedded(&dir).start().await;
        Self {
            app,
            systems: Systems::Embedded(dir),
        }
    }

    /// Every stored user, whatever its state, in insertion order.
    pub fn users(&self) -> Vec<Value> {
        match &self.systems {
            Systems::Fakes => self.app.crud_fake().state().documents("/users"),
            Systems::Embedded(dir) => rows(dir, "SELECT doc FROM docs_users ORDER BY seq"),
        }
    }

    /// The stored user `id`, whatever its state.
    pub fn user(&self, id: &str) -> Option<Value> {
        self.users().into_iter().find(|u| u["_id"] == id)
    }

    /// Every auth user of the provider.
    pub fn auth_users(&self) -> Vec<AuthUser> {
        match &self.systems {
            Systems::Fakes => self
                .app
                .auth_fake()
                .users()
                .iter()
                .map(|u| auth_user(u, "user_id"))
                .collect(),
            Systems::Embedded(dir) => rows(dir, "SELECT doc FROM docs_credentials ORDER BY seq")
                .iter()
                .map(|c| auth_user(c, "authId"))
                .collect(),
        }
    }

    /// The auth user `auth_id`, if the provider has it.
    pub fn auth_user(&self, auth_id: &str) -> Option<AuthUser> {
        self.auth_users().into_iter().find(|u| u.id == auth_id)
    }

    /// The status of `POST /oauth/token` for a blocked user with the right password: the Auth0
    /// Client (fake) refuses with 403, the local provider with one 401 for every refusal.
    pub fn refused_login(&self) -> u16 {
        match self.systems {
            Systems::Fakes => 403,
            Systems::Embedded(_) => 401,
        }
    }

    /// Stops the service and removes the embedded data directory.
    pub async fn finish(self) {
        let _ = self.app.stop().await;
        if let Systems::Embedded(dir) = self.systems {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn auth_user(raw: &Value, id_key: &str) -> AuthUser {
    AuthUser {
        id: raw[id_key].as_str().expect("an auth user id").to_owned(),
        email: raw["email"].as_str().map(str::to_owned),
        blocked: raw["blocked"].as_bool().unwrap_or(false),
    }
}

/// The JSON documents `sql` selects from the embedded store (read-only, beside the service).
fn rows(dir: &Path, sql: &str) -> Vec<Value> {
    let db = Connection::open_with_flags(dir.join("user-manager.sqlite3"), OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("the embedded store opens read-only");
    let mut statement = db.prepare(sql).expect("a valid query");
    let docs = statement
        .query_map([], |row| row.get::<_, String>(0))
        .expect("the query runs");
    docs.map(|doc| serde_json::from_str(&doc.expect("a row")).expect("a JSON document"))
        .collect()
}

/// The group configs of `config/groups` (what embedded mode loads), as CRUD documents.
fn shipped_groups() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("config/groups")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let mut group: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            group["__STATE__"] = json!("PUBLIC");
            group
        })
        .collect()
}
