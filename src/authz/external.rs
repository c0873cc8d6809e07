//! Access tokens of an external issuer (`AUTHZ_JWKS_URL`, `AUTHZ_ISSUER`, `AUTHZ_AUDIENCE`): JWTs
//! signed by a key of the issuer's JWKS, with its issuer and this service's audience, carrying
//! scopes in `scope` (space-separated) or `permissions` (Auth0 RBAC). The JWKS is cached and
//! fetched again when a token names a key it does not hold (at most once every
//! [`MIN_REFRESH`]), so a key rotation needs no restart and unknown `kid`s cannot flood the
//! issuer.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::RwLock;

use super::scope::{Scope, ScopeNames};
use super::tokens::{Principal, PrincipalKind, CLIENT_CREDENTIALS};
use crate::auth::local::TokenError;

/// The shortest time between two fetches of the JWKS.
pub const MIN_REFRESH: Duration = Duration::from_secs(1);

/// Asymmetric algorithms only: `none` and the HMAC family are never accepted.
const ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// Where external tokens come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalIssuer {
    /// `AUTHZ_JWKS_URL`.
    pub jwks_url: String,
    /// `AUTHZ_ISSUER`: the `iss` tokens must carry.
    pub issuer: String,
    /// `AUTHZ_AUDIENCE`: an `aud` tokens must carry.
    pub audience: String,
}

/// The claims read from an external token.
#[derive(Debug, Deserialize)]
struct ExternalClaims {
    sub: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    permissions: Option<Vec<String>>,
    #[serde(default)]
    gty: Option<String>,
}

/// The verifier of an external issuer's tokens.
pub struct ExternalTokens {
    issuer: ExternalIssuer,
    http: reqwest::Client,
    names: ScopeNames,
    keys: RwLock<Cached>,
}

#[derive(Default)]
struct Cached {
    set: Option<JwkSet>,
    fetched: Option<Instant>,
}

impl ExternalTokens {
    /// A verifier fetching keys with `http` (the process client, with its timeouts).
    pub fn new(issuer: ExternalIssuer, http: reqwest::Client, names: ScopeNames) -> Self {
        Self {
            issuer,
            http,
            names,
            keys: RwLock::new(Cached::default()),
        }
    }

    /// The principal of `token`: an asymmetric signature by a key of the JWKS (by `kid`), the
    /// configured issuer and audience, an unexpired `exp` (60 s of leeway for clock skew).
    pub async fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        let key = self.key(&kid).await.ok_or(TokenError::Invalid)?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer.issuer]);
        validation.set_audience(&[&self.issuer.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<ExternalClaims>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?
            .claims;
        let mut scopes: BTreeSet<Scope> = claims
            .scope
            .as_deref()
            .map(|claim| self.names.parse_claim(claim))
            .unwrap_or_default();
        if let Some(permissions) = &claims.permissions {
            scopes.extend(self.names.parse_names(permissions.iter().map(String::as_str)));
        }
        let kind = match claims.gty.as_deref() == Some(CLIENT_CREDENTIALS) {
            true => PrincipalKind::Client,
            false => PrincipalKind::User,
        };
        Ok(Principal {
            subject: claims.sub,
            kind,
            scopes,
            external: true,
        })
    }

    /// The decoding key `kid` names: from the cached JWKS, or from a fresh one when the cache
    /// lacks it and was not fetched within [`MIN_REFRESH`]. Symmetric (`oct`) keys are ignored.
    async fn key(&self, kid: &str) -> Option<DecodingKey> {
        if let Some(key) = find(self.keys.read().await.set.as_ref(), kid) {
            return Some(key);
        }
        let mut cached = self.keys.write().await;
        if let Some(key) = find(cached.set.as_ref(), kid) {
            return Some(key);
        }
        if cached.fetched.is_some_and(|at| at.elapsed() < MIN_REFRESH) {
            return None;
        }
        cached.fetched = Some(Instant::now());
        match self.fetch().await {
            Ok(set) => cached.set = Some(set),
            Err(error) => {
                tracing::warn!(url = %self.issuer.jwks_url, error.message = %error, "AUTHZ_JWKS_URL could not be read");
            }
        }
        find(cached.set.as_ref(), kid)
    }

    /// The key set, read up to [`MAX_JWKS_BYTES`]: a larger answer is refused, never buffered.
    async fn fetch(&self) -> Result<JwkSet, String> {
        let mut response = self
            .http
            .get(&self.issuer.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(format!("the key set is larger than {MAX_JWKS_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| format!("the key set is not a JWK set: {e}"))
    }
}

/// The largest key set read from `AUTHZ_JWKS_URL` (a real one is a few kilobytes).
const MAX_JWKS_BYTES: usize = 1 << 20;

fn find(set: Option<&JwkSet>, kid: &str) -> Option<DecodingKey> {
    let jwk = set?.find(kid)?;
    if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
        return None;
    }
    DecodingKey::from_jwk(jwk).ok()
}
