//! Access control of `AUTHZ_MODE=scopes`: the scopes, the access tokens this service signs, the
//! OAuth2 clients and the client-credentials grant. Which route needs which scope is the HTTP
//! layer's table (`src/http/authz`); this module knows no routes.

pub mod clients;
pub mod external;
pub mod scope;
pub mod tokens;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use clients::{Client, Clients};
pub use scope::{Scope, ScopeNames};
pub use tokens::{IssuedToken, Principal, PrincipalKind, Tokens};

use crate::auth::local::TokenError;
use crate::config::{AuthzConfig, AuthzMode};
use crate::context::CallContext;
use crate::secret::Secret;
use crate::store::StoreError;

/// The file an embedded service writes its first admin client's credentials to, under `DATA_DIR`.
pub const ADMIN_CLIENT_FILE: &str = "admin-client.json";

/// Why a caller is not let in, or a client request is refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    /// No token, or one this service cannot accept.
    #[error("{0}")]
    Unauthenticated(String),
    /// A valid token without the scope the operation needs.
    #[error("{0}")]
    MissingScope(String),
    /// Client credentials that match no client.
    #[error("client authentication failed: unknown client_id or wrong client_secret")]
    InvalidClient,
    /// A malformed request (the message says what to fix).
    #[error("{0}")]
    Invalid(String),
    /// Clients cannot be managed: no clients collection.
    #[error("clients are not managed here: set CLIENTS_CRUD_ENDPOINT (CRUD mode) to keep them")]
    NotManaged,
    /// The clients collection failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The token could not be signed.
    #[error("the access token could not be signed")]
    Signing,
}

impl From<TokenError> for AuthzError {
    fn from(error: TokenError) -> Self {
        Self::Unauthenticated(error.to_string())
    }
}

/// The access-control service: mode, tokens and clients.
#[derive(Clone)]
pub struct Authz {
    mode: AuthzMode,
    tokens: Tokens,
    clients: Clients,
    external: Option<std::sync::Arc<external::ExternalTokens>>,
}

impl Authz {
    /// Access control in `mode` with these tokens and clients.
    pub fn new(mode: AuthzMode, tokens: Tokens, clients: Clients) -> Self {
        Self {
            mode,
            tokens,
            clients,
            external: None,
        }
    }

    /// Also accepts the tokens `external` verifies.
    pub fn with_external(mut self, external: external::ExternalTokens) -> Self {
        self.external = Some(std::sync::Arc::new(external));
        self
    }

    /// `gateway` or `scopes`.
    pub fn mode(&self) -> AuthzMode {
        self.mode
    }

    /// How scopes are spelt on the wire.
    pub fn names(&self) -> &ScopeNames {
        self.tokens.names()
    }

    /// The tokens it signs and verifies.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// The clients.
    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// The principal of a bearer token: one this service signed, else (with `AUTHZ_JWKS_URL`)
    /// one of the external issuer.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, AuthzError> {
        match (self.tokens.verify(token), &self.external) {
            (Ok(principal), _) => Ok(principal),
            (Err(TokenError::Invalid), Some(external)) => Ok(external.verify(token).await?),
            (Err(error), _) => Err(error.into()),
        }
    }

    /// The caller may do what `scope` allows, or a 403 naming the scope.
    pub fn require(&self, principal: &Principal, scope: Scope) -> Result<(), AuthzError> {
        match principal.scopes.contains(&scope) {
            true => Ok(()),
            false => Err(AuthzError::MissingScope(format!(
                "this operation needs the scope \"{}\", which the access token does not carry",
                self.names().name(scope)
            ))),
        }
    }

    /// The client-credentials grant: a token carrying the client's scopes, or, when `requested`
    /// (a space-separated `scope` parameter), those of them the client has.
    pub async fn client_token(
        &self,
        ctx: &CallContext,
        client_id: &str,
        secret: &Secret,
        requested: Option<&str>,
    ) -> Result<IssuedToken, AuthzError> {
        let client = self
            .clients
            .authenticate(ctx, client_id, secret)
            .await?
            .ok_or(AuthzError::InvalidClient)?;
        let scopes = match requested.map(str::trim).filter(|r| !r.is_empty()) {
            None => client.scopes,
            Some(requested) => {
                let wanted = self.names().parse_claim(requested);
                let refused: Vec<&str> = requested
                    .split_ascii_whitespace()
                    .filter(|name| {
                        self.names()
                            .parse_names([*name])
                            .iter()
                            .all(|scope| !client.scopes.contains(scope))
                    })
                    .collect();
                if !refused.is_empty() {
                    return Err(AuthzError::Invalid(format!(
                        "scope: the client may not have {}",
                        refused.join(", ")
                    )));
                }
                wanted
            }
        };
        self.tokens
            .issue_for_client(&client.id, &scopes)
            .map_err(|_| AuthzError::Signing)
    }

    /// At startup: the client of `BOOTSTRAP_CLIENT_ID`/`BOOTSTRAP_CLIENT_SECRET` is created when
    /// missing; an embedded service without any client creates an admin client with every scope
    /// and writes its credentials to `DATA_DIR/admin-client.json` (mode 0600), in the shape
    /// `POST /oauth/token` takes. Returns the file written, if any.
    pub async fn bootstrap(
        &self,
        config: &AuthzConfig,
        data_dir: &Path,
        embedded: bool,
    ) -> Result<Option<PathBuf>, AuthzError> {
        let ctx = CallContext::background("bootstrap");
        let every: BTreeSet<Scope> = Scope::ALL.into_iter().collect();
        if let Some((id, secret)) = &config.bootstrap {
            if self.clients.managed() && self.clients.get(&ctx, id).await?.is_none() {
                self.clients.insert(&ctx, id, "bootstrap", &every, secret).await?;
                tracing::info!(client.id = %id, "created the bootstrap client of BOOTSTRAP_CLIENT_ID");
            }
            return Ok(None);
        }
        if !embedded || self.mode != AuthzMode::Scopes || self.clients.any(&ctx).await? {
            return Ok(None);
        }
        let Some((client, secret)) = self.clients.create(&ctx, "admin", every).await? else {
            return Ok(None);
        };
        let path = data_dir.join(ADMIN_CLIENT_FILE);
        let body = serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": client.id,
            "client_secret": secret.expose(),
        });
        let bytes = serde_json::to_vec_pretty(&body).unwrap_or_default();
        crate::private_fs::write_private(&path, &bytes)
            .map_err(|e| AuthzError::Invalid(format!("cannot write {}: {e}", path.display())))?;
        tracing::warn!(
            path = %path.display(),
            client.id = %client.id,
            "created an admin client with every scope: its credentials are in this file (post it to /oauth/token)"
        );
        Ok(Some(path))
    }
}
