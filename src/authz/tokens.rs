//! The access tokens this service signs for `AUTHZ_MODE=scopes`: what they claim, and what a
//! presented one proves (its principal), judged on the service's clock.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::scope::{Scope, ScopeNames};
use crate::auth::local::{SigningKey, TokenError};
use crate::clock::Clock;

/// `gty` of a token issued to a client (Auth0 spells it so).
pub const CLIENT_CREDENTIALS: &str = "client-credentials";

/// The issuer suffix of expiry-callback credentials: another issuer than the access tokens', so
/// that neither verifier ever takes one for the other.
const CALLBACK_ISSUER_SUFFIX: &str = "/timer-callback";

/// How long after its timer fires an expiry-callback credential stays valid (the Timer Service
/// retries late callbacks).
const CALLBACK_GRACE: time::Duration = time::Duration::days(7);

/// The claims of an expiry-callback credential: the user whose callback it is, and until when.
#[derive(Debug, Serialize, Deserialize)]
struct CallbackClaims {
    iss: String,
    sub: String,
    iat: u64,
    exp: u64,
    jti: String,
}

/// The claims of an access token: the local provider's (`iss`, `sub`, `iat`, `exp`, `jti`) plus
/// `scope` and, for a client, `gty` and `client_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: this service.
    pub iss: String,
    /// The user's auth id, or the client id.
    pub sub: String,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Expires at (seconds since the epoch).
    pub exp: u64,
    /// Unique id of the token.
    pub jti: String,
    /// Space-separated scopes; absent in a person's token of the local provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `client-credentials` for a client's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gty: Option<String>,
    /// The client of a client's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// Who a verified token speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The user's auth id (its store `_id` with the local provider), or the client id.
    pub subject: String,
    /// A machine (client credentials) or a person.
    pub kind: PrincipalKind,
    /// What it may do.
    pub scopes: BTreeSet<Scope>,
    /// Whether an external issuer (`AUTHZ_JWKS_URL`) signed the token, not this service.
    pub external: bool,
}

/// The kind of caller behind a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An OAuth2 client (client credentials).
    Client,
    /// A person who logged in.
    User,
}

impl Principal {
    /// The actor of the audit trail and the store's `creatorId`/`updaterId`: `client:<id>` for
    /// a client, the auth id for a person.
    pub fn actor(&self) -> String {
        match self.kind {
            PrincipalKind::Client => format!("client:{}", self.subject),
            PrincipalKind::User => self.subject.clone(),
        }
    }
}

/// A token just issued, as `POST /oauth/token` answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedToken {
    /// The signed JWT.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// The space-separated scopes it carries.
    pub scope: String,
}

/// Signs and verifies the service's access tokens.
#[derive(Clone)]
pub struct Tokens {
    key: Arc<SigningKey>,
    issuer: String,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    names: ScopeNames,
}

impl Tokens {
    /// Tokens signed by `key`, issued by `issuer`, valid `ttl`.
    pub fn new(
        key: Arc<SigningKey>,
        issuer: String,
        ttl: Duration,
        clock: Arc<dyn Clock>,
        names: ScopeNames,
    ) -> Self {
        Self {
            key,
            issuer,
            ttl,
            clock,
            names,
        }
    }

    /// How scopes are spelt.
    pub fn names(&self) -> &ScopeNames {
        &self.names
    }

    fn now_seconds(&self) -> u64 {
        u64::try_from(self.clock.now().unix_timestamp()).unwrap_or(0)
    }

    /// A token for the client `client_id` carrying `scopes`.
    pub fn issue_for_client(
        &self,
        client_id: &str,
        scopes: &BTreeSet<Scope>,
    ) -> Result<IssuedToken, jsonwebtoken::errors::Error> {
        let iat = self.now_seconds();
        let ttl = self.ttl.as_secs().max(1);
        let scope = self.names.claim(scopes);
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: client_id.to_owned(),
            iat,
            exp: iat.saturating_add(ttl),
            jti: uuid::Uuid::new_v4().to_string(),
            scope: Some(scope.clone()),
            gty: Some(CLIENT_CREDENTIALS.to_owned()),
            client_id: Some(client_id.to_owned()),
        };
        Ok(IssuedToken {
            access_token: self.key.sign(&claims)?,
            expires_in: ttl,
            scope,
        })
    }

    /// The credential of the expiry callback of `user_id`, valid until [`CALLBACK_GRACE`] after
    /// `fire_at`.
    pub fn issue_callback(&self, user_id: &str, fire_at: time::OffsetDateTime) -> Option<String> {
        let until = fire_at.saturating_add(CALLBACK_GRACE).unix_timestamp();
        let claims = CallbackClaims {
            iss: format!("{}{CALLBACK_ISSUER_SUFFIX}", self.issuer),
            sub: user_id.to_owned(),
            iat: self.now_seconds(),
            exp: u64::try_from(until).unwrap_or(0),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        self.key.sign(&claims).ok()
    }

    /// Whether `credential` is a valid expiry-callback credential of the user `user_id`.
    pub fn verify_callback(&self, credential: &str, user_id: &str) -> bool {
        let issuer = format!("{}{CALLBACK_ISSUER_SUFFIX}", self.issuer);
        match self.key.decode_as::<CallbackClaims>(&issuer, credential) {
            Ok(claims) => claims.sub == user_id && claims.exp > self.now_seconds(),
            Err(_) => false,
        }
    }

    /// The principal of a token this service signed: signature (EdDSA, this key), issuer and
    /// expiry (on the service's clock, no leeway). A person's token without a `scope` claim gets
    /// the self-service scopes.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let claims: AccessClaims = self.key.decode_as(&self.issuer, token)?;
        if claims.exp <= self.now_seconds() {
            return Err(TokenError::Expired);
        }
        let client = claims.gty.as_deref() == Some(CLIENT_CREDENTIALS);
        let mut scopes = claims
            .scope
            .as_deref()
            .map(|claim| self.names.parse_claim(claim))
            .unwrap_or_default();
        if !client {
            scopes.extend(Scope::SELF_SERVICE);
        }
        Ok(Principal {
            subject: claims.sub,
            kind: match client {
                true => PrincipalKind::Client,
                false => PrincipalKind::User,
            },
            scopes,
            external: false,
        })
    }
}

impl crate::users::CallbackSigner for Tokens {
    fn sign(&self, user_id: &str, fire_at: time::OffsetDateTime) -> Option<String> {
        self.issue_callback(user_id, fire_at)
    }
}
