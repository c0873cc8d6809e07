//! The OAuth2 clients of `AUTHZ_MODE=scopes`: `{clientId, name, secretHash, scopes, createdAt}`
//! documents in the clients collection (`/clients` in embedded mode, `CLIENTS_CRUD_ENDPOINT` in
//! CRUD mode), plus the bootstrap client of `BOOTSTRAP_CLIENT_ID`/`BOOTSTRAP_CLIENT_SECRET`.
//!
//! A secret is 32 random bytes shown once, at creation; only its SHA-256 digest is stored (a
//! random key needs no slow hash, and checking one stays cheap for every token request).

use std::collections::BTreeSet;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use serde_json::{json, Value};

use super::scope::Scope;
use crate::context::CallContext;
use crate::secret::Secret;
use crate::store::{Collection, Filter, FindQuery, StoreResult};

/// Most clients listed by `GET /clients`.
pub const MAX_CLIENTS_LISTED: u32 = 200;

/// A client as the API shows it (never its secret or digest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// Its `client_id`.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// What its tokens may do.
    pub scopes: BTreeSet<Scope>,
    /// When it was created (the store's `createdAt`), when known.
    pub created_at: Option<String>,
}

/// The registry of clients.
#[derive(Clone)]
pub struct Clients {
    collection: Option<Arc<dyn Collection>>,
    /// The bootstrap client when there is no collection to keep it in (CRUD mode without
    /// `CLIENTS_CRUD_ENDPOINT`): its id and secret digest, from the environment.
    env_client: Option<(String, String)>,
}

impl Clients {
    /// Clients kept in `collection`; without one, only the bootstrap client of the environment
    /// (`env_client`: id and secret) exists.
    pub fn new(collection: Option<Arc<dyn Collection>>, env_client: Option<(String, &Secret)>) -> Self {
        let env_client = match &collection {
            Some(_) => None,
            None => env_client.map(|(id, secret)| (id, digest(secret.expose()))),
        };
        Self {
            collection,
            env_client,
        }
    }

    /// Whether clients can be created and listed (there is a collection).
    pub fn managed(&self) -> bool {
        self.collection.is_some()
    }

    /// Creates a client; returns it and its secret, which is never readable again.
    pub async fn create(
        &self,
        ctx: &CallContext,
        name: &str,
        scopes: BTreeSet<Scope>,
    ) -> StoreResult<Option<(Client, Secret)>> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let secret = new_secret();
        self.insert(ctx, &id, name, &scopes, &secret).await?;
        Ok(self.get(ctx, &id).await?.map(|client| (client, secret)))
    }

    /// Stores the client `id` with `secret`; false without a collection.
    pub async fn insert(
        &self,
        ctx: &CallContext,
        id: &str,
        name: &str,
        scopes: &BTreeSet<Scope>,
        secret: &Secret,
    ) -> StoreResult<bool> {
        let Some(collection) = &self.collection else {
            return Ok(false);
        };
        let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        let doc = json!({
            "clientId": id,
            "name": name,
            "secretHash": digest(secret.expose()),
            "scopes": names,
            "__STATE__": "PUBLIC",
        });
        collection.insert(ctx, &doc).await?;
        Ok(true)
    }

    /// The client `id`, if it exists.
    pub async fn get(&self, ctx: &CallContext, id: &str) -> StoreResult<Option<Client>> {
        Ok(self.find_doc(ctx, id).await?.as_ref().and_then(client_of))
    }

    /// The clients, oldest first (at most [`MAX_CLIENTS_LISTED`]).
    pub async fn list(&self, ctx: &CallContext) -> StoreResult<Vec<Client>> {
        let Some(collection) = &self.collection else {
            return Ok(Vec::new());
        };
        let query = FindQuery {
            sort: Some("createdAt".to_owned()),
            limit: Some(MAX_CLIENTS_LISTED),
            ..FindQuery::default()
        };
        let docs = collection.find(ctx, &query).await?;
        Ok(docs.iter().filter_map(client_of).collect())
    }

    /// Deletes the client `id`; false when there was none.
    pub async fn delete(&self, ctx: &CallContext, id: &str) -> StoreResult<bool> {
        let Some(collection) = &self.collection else {
            return Ok(false);
        };
        let filter = Filter {
            q: Some(json!({"clientId": id})),
            ..Filter::default()
        };
        Ok(collection.delete_many(ctx, &filter).await? > 0)
    }

    /// Whether any client exists.
    pub async fn any(&self, ctx: &CallContext) -> StoreResult<bool> {
        let Some(collection) = &self.collection else {
            return Ok(self.env_client.is_some());
        };
        let query = FindQuery {
            limit: Some(1),
            ..FindQuery::default()
        };
        Ok(!collection.find(ctx, &query).await?.is_empty())
    }

    /// The client `id` when `secret` is its secret. The bootstrap client of the environment
    /// (no collection) has every scope.
    pub async fn authenticate(
        &self,
        ctx: &CallContext,
        id: &str,
        secret: &Secret,
    ) -> StoreResult<Option<Client>> {
        let presented = digest(secret.expose());
        if let Some((env_id, env_digest)) = &self.env_client {
            let matches = env_id == id && *env_digest == presented;
            return Ok(matches.then(|| Client {
                id: id.to_owned(),
                name: "bootstrap".to_owned(),
                scopes: Scope::ALL.into_iter().collect(),
                created_at: None,
            }));
        }
        let Some(doc) = self.find_doc(ctx, id).await? else {
            return Ok(None);
        };
        let stored = doc.get("secretHash").and_then(Value::as_str);
        Ok((stored == Some(presented.as_str()))
            .then(|| client_of(&doc))
            .flatten())
    }

    async fn find_doc(&self, ctx: &CallContext, id: &str) -> StoreResult<Option<Value>> {
        let Some(collection) = &self.collection else {
            return Ok(None);
        };
        let query = FindQuery {
            filter: Filter {
                q: Some(json!({"clientId": id})),
                ..Filter::default()
            },
            limit: Some(1),
            ..FindQuery::default()
        };
        Ok(collection.find(ctx, &query).await?.into_iter().next())
    }
}

/// A client document as the API shows it; scopes the service no longer knows are dropped.
fn client_of(doc: &Value) -> Option<Client> {
    let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_owned);
    let scopes = doc
        .get("scopes")
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(Value::as_str)
                .filter_map(Scope::parse)
                .collect()
        })
        .unwrap_or_default();
    Some(Client {
        id: text("clientId")?,
        name: text("name").unwrap_or_default(),
        scopes,
        created_at: text("createdAt"),
    })
}

/// SHA-256 of a secret, base64url.
fn digest(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, secret.as_bytes()))
}

/// 32 random bytes, base64url (43 characters).
fn new_secret() -> Secret {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    Secret::new(URL_SAFE_NO_PAD.encode(bytes))
}
