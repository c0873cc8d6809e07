//! The credentials collection: one document per auth user, created, read, updated and deleted
//! on behalf of the `AuthProvider` user methods. `passwordHash` is read only by the login and
//! never put in an [`AuthUser`].

use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{call, conflict, internal, new_auth_id, not_found, LocalAuth};
use crate::auth::{AuthResult, AuthUser, AuthUserPatch, NewAuthUser};
use crate::context::CallContext;
use crate::store::query::MAX_LIMIT;
use crate::store::StoreError;
use crate::store::{DocState, Filter, FindQuery, StoreResult};

/// The `Conflict` message of a taken email.
pub(super) const EMAIL_TAKEN: &str = "email is already used by another user";
/// The `Conflict` message of a taken username.
pub(super) const USERNAME_TAKEN: &str = "username is already used by another user";

/// One credentials document.
#[derive(Clone, Debug)]
pub(super) struct Credential {
    /// The store `_id` of the credentials document.
    pub doc_id: String,
    /// The auth id (`authId`): the store `_id` of the user.
    pub id: String,
    pub email: Option<String>,
    pub username: Option<String>,
    /// PHC string, or `!` (no password yet).
    pub password_hash: Option<String>,
    pub blocked: bool,
    /// `failedLogins`: consecutive failed logins since the last success or lock.
    pub failed_logins: u64,
    /// `lockedUntil`: the end of the current (or last) lockout.
    pub locked_until: Option<OffsetDateTime>,
    /// `tokenGeneration`: raised by every revocation (block, password change); the tokens of an
    /// older generation are refused.
    pub token_generation: u64,
}

impl Credential {
    /// A credential not yet stored (no lockout, generation 0).
    pub fn new(id: String, email: Option<String>, username: Option<String>, blocked: bool) -> Self {
        Self {
            doc_id: String::new(),
            id,
            email,
            username,
            password_hash: None,
            blocked,
            failed_logins: 0,
            locked_until: None,
            token_generation: 0,
        }
    }

    fn from_doc(doc: &Value) -> Option<Self> {
        let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_owned);
        let number = |key: &str| doc.get(key).and_then(Value::as_u64).unwrap_or(0);
        Some(Self {
            doc_id: text("_id")?,
            id: text("authId")?,
            email: text("email"),
            username: text("username"),
            password_hash: text("passwordHash"),
            blocked: doc.get("blocked").and_then(Value::as_bool).unwrap_or(false),
            failed_logins: number("failedLogins"),
            locked_until: doc
                .get("lockedUntil")
                .and_then(Value::as_str)
                .and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok()),
            token_generation: number("tokenGeneration"),
        })
    }

    /// The user as the port shows it: `raw` is `{user_id, email, username, blocked}`, no hash.
    pub fn auth_user(&self) -> AuthUser {
        let mut raw = Map::new();
        raw.insert("user_id".into(), self.id.clone().into());
        if let Some(email) = &self.email {
            raw.insert("email".into(), email.clone().into());
        }
        if let Some(username) = &self.username {
            raw.insert("username".into(), username.clone().into());
        }
        raw.insert("blocked".into(), self.blocked.into());
        AuthUser {
            id: self.id.clone(),
            email: self.email.clone(),
            username: self.username.clone(),
            blocked: self.blocked,
            raw: Value::Object(raw),
        }
    }
}

/// Emails are compared and stored lower case (as Auth0 does).
pub(super) fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn find_query(q: Value, limit: u32) -> FindQuery {
    FindQuery {
        filter: Filter {
            q: Some(q),
            ..Filter::default()
        },
        limit: Some(limit),
        ..FindQuery::default()
    }
}

impl LocalAuth {
    /// The credentials of auth user `id`.
    pub(super) async fn credential(&self, ctx: &CallContext, id: &str) -> StoreResult<Option<Credential>> {
        let docs = self
            .config
            .credentials
            .find(ctx, &find_query(json!({ "authId": id }), 1))
            .await?;
        Ok(docs.first().and_then(Credential::from_doc))
    }

    /// The credentials whose email (any case) or username is `login`.
    pub(super) async fn credential_by_login(
        &self,
        ctx: &CallContext,
        login: &str,
    ) -> StoreResult<Option<Credential>> {
        let q = json!({ "$or": [{ "email": normalize_email(login) }, { "username": login }] });
        let docs = self.config.credentials.find(ctx, &find_query(q, 2)).await?;
        let found: Vec<Credential> = docs.iter().filter_map(Credential::from_doc).collect();
        // One user's username may be another's email: the username wins, as typed.
        Ok(found
            .iter()
            .find(|c| c.username.as_deref() == Some(login))
            .or_else(|| found.first())
            .cloned())
    }

    /// The users among `ids` that have credentials.
    pub(super) async fn credentials_of(
        &self,
        ctx: &CallContext,
        ids: &[String],
    ) -> AuthResult<Vec<AuthUser>> {
        let mut users = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_LIMIT as usize) {
            let q = json!({ "authId": { "$in": chunk } });
            let docs = self
                .config
                .credentials
                .find(ctx, &find_query(q, MAX_LIMIT))
                .await?;
            users.extend(
                docs.iter()
                    .filter_map(Credential::from_doc)
                    .map(|c| c.auth_user()),
            );
        }
        Ok(users)
    }

    /// One page of the credentials, by `authId`.
    pub(super) async fn credentials_page(
        &self,
        ctx: &CallContext,
        page: u32,
        per_page: u32,
    ) -> AuthResult<Vec<AuthUser>> {
        let query = FindQuery {
            sort: Some("authId".to_owned()),
            skip: Some(u64::from(page) * u64::from(per_page)),
            ..find_query(json!({}), per_page.min(MAX_LIMIT))
        };
        let docs = self.config.credentials.find(ctx, &query).await?;
        Ok(docs
            .iter()
            .filter_map(Credential::from_doc)
            .map(|c| c.auth_user())
            .collect())
    }

    /// `Conflict` when `email` or `username` belongs to a user other than `id`.
    pub(super) async fn ensure_unique(
        &self,
        ctx: &CallContext,
        id: &str,
        email: Option<&str>,
        username: Option<&str>,
    ) -> AuthResult<()> {
        let mut either = Vec::new();
        if let Some(email) = email {
            either.push(json!({ "email": email }));
        }
        if let Some(username) = username {
            either.push(json!({ "username": username }));
        }
        if either.is_empty() {
            return Ok(());
        }
        let q = json!({ "$or": either, "authId": { "$ne": id } });
        let docs = self.config.credentials.find(ctx, &find_query(q, 2)).await?;
        let others: Vec<Credential> = docs.iter().filter_map(Credential::from_doc).collect();
        if others
            .iter()
            .any(|c| email.is_some() && c.email.as_deref() == email)
        {
            return Err(conflict(EMAIL_TAKEN));
        }
        if !others.is_empty() {
            return Err(conflict(USERNAME_TAKEN));
        }
        Ok(())
    }

    /// Inserts a credentials document; a unique-index conflict of the store is our `Conflict`.
    pub(super) async fn insert_credential(
        &self,
        ctx: &CallContext,
        user: &AuthUser,
        password_hash: &str,
    ) -> AuthResult<()> {
        let mut doc = Map::new();
        doc.insert("authId".into(), user.id.clone().into());
        if let Some(email) = &user.email {
            doc.insert("email".into(), email.clone().into());
        }
        if let Some(username) = &user.username {
            doc.insert("username".into(), username.clone().into());
        }
        doc.insert("passwordHash".into(), password_hash.into());
        doc.insert("blocked".into(), user.blocked.into());
        doc.insert("__STATE__".into(), DocState::Public.as_str().into());
        match self.config.credentials.insert(ctx, &Value::Object(doc)).await {
            Ok(_) => Ok(()),
            Err(StoreError::Conflict { .. }) => {
                Err(conflict("email or username is already used by another user"))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `create_user`: argon2id hash of the password; the id is the store `_id` when given.
    pub(super) async fn create_credential(
        &self,
        ctx: &CallContext,
        user: &NewAuthUser,
    ) -> AuthResult<AuthUser> {
        let call = call("POST", "/users");
        let inputs: Vec<&str> = [user.email.as_deref(), user.username.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        self.check_password(&user.password, &inputs)?;
        let id = user
            .user_id
            .clone()
            .filter(|id| !id.is_empty())
            .unwrap_or_else(new_auth_id);
        let email = user.email.as_deref().map(normalize_email);
        let username = user.username.clone();
        if self.credential(ctx, &id).await?.is_some() {
            return Err(conflict(format!("auth user {id} already exists")));
        }
        self.ensure_unique(ctx, &id, email.as_deref(), username.as_deref())
            .await?;
        let hash = self
            .hasher
            .hash(user.password.clone())
            .await
            .map_err(|e| internal(&call, e))?;
        let created = Credential::new(id, email, username, user.blocked).auth_user();
        self.insert_credential(ctx, &created, &hash).await?;
        Ok(created)
    }

    /// `update_user`: email (lower case), username, blocked; an empty patch does nothing.
    /// Blocking revokes the user's tokens: its refresh tokens, and its access tokens through a
    /// new token generation (raised in the same write as the flag).
    pub(super) async fn update_credential(
        &self,
        ctx: &CallContext,
        id: &str,
        patch: &AuthUserPatch,
    ) -> AuthResult<()> {
        let email = patch.email.as_deref().map(normalize_email);
        let mut set = Map::new();
        if let Some(email) = &email {
            set.insert("email".into(), email.clone().into());
        }
        if let Some(username) = &patch.username {
            set.insert("username".into(), username.clone().into());
        }
        if let Some(blocked) = patch.blocked {
            set.insert("blocked".into(), blocked.into());
        }
        if set.is_empty() {
            return Ok(());
        }
        let current = self
            .credential(ctx, id)
            .await?
            .ok_or_else(|| not_found(format!("auth user \"{id}\" does not exist")))?;
        self.ensure_unique(ctx, id, email.as_deref(), patch.username.as_deref())
            .await?;
        let blocks = patch.blocked == Some(true);
        let update = if blocks {
            json!({ "$set": set, "$inc": { "tokenGeneration": 1 } })
        } else {
            json!({ "$set": set })
        };
        match self
            .config
            .credentials
            .patch(ctx, &current.doc_id, &Filter::default(), &update)
            .await
        {
            Ok(Some(_)) if blocks => Ok(self.revoke_sessions(ctx, id).await?),
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(not_found(format!("auth user \"{id}\" does not exist"))),
            Err(StoreError::Conflict { .. }) => {
                Err(conflict("email or username is already used by another user"))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `delete_user`: the credentials and every refresh and reset token of the user.
    pub(super) async fn delete_credential(&self, ctx: &CallContext, id: &str) -> AuthResult<()> {
        let filter = Filter {
            q: Some(json!({ "authId": id })),
            ..Filter::default()
        };
        if self.config.credentials.delete_many(ctx, &filter).await? == 0 {
            return Err(not_found(format!("auth user \"{id}\" does not exist")));
        }
        let tokens = Filter {
            q: Some(json!({ "userId": id, "kind": { "$in": ["refresh", "reset"] } })),
            ..Filter::default()
        };
        self.config.tokens.delete_many(ctx, &tokens).await?;
        Ok(())
    }
}
