//! `FakeAuth`: the `AuthProvider` port in memory, journaled as `auth <op>` and scriptable.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::{json, Value};

use super::{Faults, Journal};
use crate::auth::{
    AuthError, AuthProvider, AuthResult, AuthUser, AuthUserPatch, Capabilities, ImportFailure, ImportJob,
    NewAuthUser, SessionGrant,
};
use crate::context::CallContext;
use crate::secret::Secret;

/// An auth provider keeping its users in memory; ids are `auth0|1`, `auth0|2`, ... A taken email
/// or username is a `Conflict`, an unknown id `NotFound`. Calls are journaled as `auth <op>`.
#[derive(Default)]
pub(in crate::users::tests) struct FakeAuth {
    journal: Journal,
    users: Mutex<BTreeMap<String, AuthUser>>,
    next_id: AtomicU64,
    pub(in crate::users::tests) faults: Faults<AuthError>,
}

impl FakeAuth {
    pub(in crate::users::tests) fn new(journal: Journal) -> Self {
        Self {
            journal,
            ..Self::default()
        }
    }

    /// Adds a user directly (not journaled); returns its id.
    pub(in crate::users::tests) fn add(&self, email: &str) -> String {
        let new = NewAuthUser {
            user_id: None,
            email: Some(email.to_owned()),
            username: None,
            password: Secret::new("seeded"),
            blocked: false,
            send_email: false,
        };
        self.insert(&new).map(|user| user.id).unwrap()
    }

    /// Adds a user directly (not journaled) carrying the marker of the store user `store_id`, as
    /// a create whose answer was lost leaves it; returns its id.
    pub(in crate::users::tests) fn add_for(&self, email: &str, store_id: &str) -> String {
        let new = NewAuthUser {
            user_id: Some(store_id.to_owned()),
            email: Some(email.to_owned()),
            username: None,
            password: Secret::new("seeded"),
            blocked: false,
            send_email: false,
        };
        self.insert(&new).map(|user| user.id).unwrap()
    }

    /// Removes a user directly (not journaled), as if deleted by someone else.
    pub(in crate::users::tests) fn forget(&self, id: &str) {
        self.users.lock().unwrap().remove(id);
    }

    /// The user `id`, if it exists.
    pub(in crate::users::tests) fn user(&self, id: &str) -> Option<AuthUser> {
        self.users.lock().unwrap().get(id).cloned()
    }

    /// The ids of every user.
    pub(in crate::users::tests) fn ids(&self) -> Vec<String> {
        self.users.lock().unwrap().keys().cloned().collect()
    }

    fn taken(
        users: &BTreeMap<String, AuthUser>,
        except: &str,
        email: Option<&str>,
        username: Option<&str>,
    ) -> bool {
        users.values().filter(|u| u.id != except).any(|u| {
            (email.is_some() && u.email.as_deref() == email)
                || (username.is_some() && u.username.as_deref() == username)
        })
    }

    fn insert(&self, new: &NewAuthUser) -> AuthResult<AuthUser> {
        let mut users = self.users.lock().unwrap();
        if Self::taken(&users, "", new.email.as_deref(), new.username.as_deref()) {
            return Err(AuthError::Conflict("the email or username is taken".to_owned()));
        }
        let id = format!("auth0|{}", self.next_id.fetch_add(1, Ordering::SeqCst) + 1);
        let user = AuthUser {
            id: id.clone(),
            email: new.email.clone(),
            username: new.username.clone(),
            blocked: new.blocked,
            raw: json!({"user_id": id, "send_email": new.send_email, "umsUserId": new.user_id}),
        };
        users.insert(id, user.clone());
        Ok(user)
    }

    fn update(&self, id: &str, patch: &AuthUserPatch) -> AuthResult<()> {
        let mut users = self.users.lock().unwrap();
        if Self::taken(&users, id, patch.email.as_deref(), patch.username.as_deref()) {
            return Err(AuthError::Conflict("the email or username is taken".to_owned()));
        }
        let user = users.get_mut(id).ok_or_else(|| unknown(id))?;
        if let Some(email) = &patch.email {
            user.email = Some(email.clone());
        }
        if let Some(username) = &patch.username {
            user.username = Some(username.clone());
        }
        if let Some(blocked) = patch.blocked {
            user.blocked = blocked;
        }
        Ok(())
    }

    fn remove(&self, id: &str) -> AuthResult<()> {
        self.users
            .lock()
            .unwrap()
            .remove(id)
            .map(drop)
            .ok_or_else(|| unknown(id))
    }

    async fn run<T>(&self, op: &'static str, call: impl Future<Output = AuthResult<T>>) -> AuthResult<T> {
        self.faults
            .run(&self.journal, "auth", op, call, AuthError::is_not_found)
            .await
    }
}

fn unknown(id: &str) -> AuthError {
    AuthError::NotFound(format!("auth user {id} not found"))
}

fn unsupported() -> AuthError {
    AuthError::Invalid("not supported by the fake".to_owned())
}

#[async_trait]
impl AuthProvider for FakeAuth {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            sessions: false,
            change_password: true,
            bulk_import: false,
        }
    }
    async fn create_user(&self, _ctx: &CallContext, user: &NewAuthUser) -> AuthResult<AuthUser> {
        self.run("create", async { self.insert(user) }).await
    }
    async fn get_user(&self, _ctx: &CallContext, id: &str) -> AuthResult<Option<AuthUser>> {
        self.run("get", async { Ok(self.user(id)) }).await
    }
    async fn find_created_for(&self, _ctx: &CallContext, store_id: &str) -> AuthResult<Option<AuthUser>> {
        self.run("find_created_for", async {
            let users = self.users.lock().unwrap();
            Ok(users.values().find(|u| u.raw["umsUserId"] == store_id).cloned())
        })
        .await
    }

    async fn list_users(&self, _ctx: &CallContext, page: u32, per_page: u32) -> AuthResult<Vec<AuthUser>> {
        self.run("list", async {
            let users = self.users.lock().unwrap();
            let skip = (page * per_page) as usize;
            Ok(users
                .values()
                .skip(skip)
                .take(per_page as usize)
                .cloned()
                .collect())
        })
        .await
    }

    fn created_for(&self, user: &AuthUser) -> Option<String> {
        user.raw["umsUserId"].as_str().map(str::to_owned)
    }

    async fn get_users(&self, _ctx: &CallContext, ids: &[String]) -> AuthResult<Vec<AuthUser>> {
        self.run("get_users", async {
            Ok(ids.iter().filter_map(|id| self.user(id)).collect())
        })
        .await
    }
    async fn update_user(&self, _ctx: &CallContext, id: &str, patch: &AuthUserPatch) -> AuthResult<()> {
        self.run("update", async { self.update(id, patch) }).await
    }
    async fn delete_user(&self, _ctx: &CallContext, id: &str) -> AuthResult<()> {
        self.run("delete", async { self.remove(id) }).await
    }
    async fn change_password(&self, _ctx: &CallContext, id: &str) -> AuthResult<()> {
        let known = async { self.user(id).map(drop).ok_or_else(|| unknown(id)) };
        self.run("change_password", known).await
    }
    async fn login(
        &self,
        _ctx: &CallContext,
        _username: &str,
        _password: &Secret,
    ) -> AuthResult<SessionGrant> {
        Err(unsupported())
    }
    async fn refresh(&self, _ctx: &CallContext, _refresh_token: &Secret) -> AuthResult<SessionGrant> {
        Err(unsupported())
    }
    async fn userinfo(&self, _ctx: &CallContext) -> AuthResult<Value> {
        Err(unsupported())
    }
    async fn start_import(
        &self,
        _ctx: &CallContext,
        _users_json: Bytes,
        _upsert: bool,
    ) -> AuthResult<ImportJob> {
        Err(unsupported())
    }
    async fn import_status(&self, _ctx: &CallContext, _job_id: &str) -> AuthResult<ImportJob> {
        Err(unsupported())
    }
    async fn import_errors(&self, _ctx: &CallContext, _job_id: &str) -> AuthResult<Vec<ImportFailure>> {
        Err(unsupported())
    }
    async fn check(&self, _ctx: &CallContext) -> AuthResult<()> {
        Ok(())
    }
}
