//! The access-control settings (new): `AUTHZ_MODE`, `AUTHZ_SCOPE_PREFIX`, the bootstrap client
//! (`BOOTSTRAP_CLIENT_ID` / `BOOTSTRAP_CLIENT_SECRET`) and the clients collection
//! (`CLIENTS_CRUD_ENDPOINT`).

use super::{parse, ConfigError, RawConfig};
use crate::authz::external::ExternalIssuer;
use crate::secret::Secret;

/// Shortest bootstrap secret accepted: secrets are stored as SHA-256 digests, which is safe only
/// for secrets with the entropy of a random key.
pub const MIN_CLIENT_SECRET_CHARS: usize = 32;

/// Who decides whether a caller may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthzMode {
    /// The API gateway (and Rönd) did: every caller is trusted, as by the Mia service.
    Gateway,
    /// This service: a bearer access token carrying the route's scope.
    Scopes,
}

/// The access-control configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthzConfig {
    /// `AUTHZ_MODE`: `gateway` (default in CRUD mode) or `scopes` (default in embedded mode).
    pub mode: AuthzMode,
    /// `AUTHZ_SCOPE_PREFIX`: prepended to every scope name on the wire (empty by default).
    pub scope_prefix: String,
    /// `BOOTSTRAP_CLIENT_ID` and `BOOTSTRAP_CLIENT_SECRET`: an admin client with every scope,
    /// created at startup when missing (both or neither).
    pub bootstrap: Option<(String, Secret)>,
    /// `CLIENTS_CRUD_ENDPOINT`: the clients collection in CRUD mode (`/clients` in embedded mode).
    pub clients_endpoint: Option<String>,
    /// `AUTHZ_JWKS_URL`, `AUTHZ_ISSUER`, `AUTHZ_AUDIENCE`: the tokens of an external issuer are
    /// accepted too (all three or none).
    pub external: Option<ExternalIssuer>,
}

pub(super) fn authz_config(raw: &RawConfig, embedded: bool) -> Result<AuthzConfig, ConfigError> {
    let mode = match parse::optional(&raw.authz_mode) {
        None if embedded => AuthzMode::Scopes,
        None => AuthzMode::Gateway,
        Some("gateway") => AuthzMode::Gateway,
        Some("scopes") => AuthzMode::Scopes,
        Some(other) => {
            return Err(ConfigError::Invalid {
                var: "AUTHZ_MODE",
                problem: format!("\"{other}\" is not a mode: expected gateway or scopes"),
            })
        }
    };
    let bootstrap = match (
        parse::optional(&raw.bootstrap_client_id),
        parse::optional(&raw.bootstrap_client_secret),
    ) {
        (None, None) => None,
        (Some(id), Some(secret)) if secret.chars().count() >= MIN_CLIENT_SECRET_CHARS => {
            Some((id.to_owned(), Secret::new(secret.to_owned())))
        }
        (Some(_), Some(_)) => {
            return Err(ConfigError::Invalid {
                var: "BOOTSTRAP_CLIENT_SECRET",
                problem: format!(
                    "must be at least {MIN_CLIENT_SECRET_CHARS} characters long (e.g. `openssl rand -hex 32`)"
                ),
            })
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(ConfigError::Invalid {
                var: "BOOTSTRAP_CLIENT_ID",
                problem: "BOOTSTRAP_CLIENT_ID and BOOTSTRAP_CLIENT_SECRET go together: set both or neither"
                    .to_owned(),
            })
        }
    };
    let clients_endpoint = parse::optional(&raw.clients_crud_endpoint)
        .map(|value| parse::endpoint(value, "CLIENTS_CRUD_ENDPOINT"))
        .transpose()?;
    let external = match (
        parse::optional(&raw.authz_jwks_url),
        parse::optional(&raw.authz_issuer),
        parse::optional(&raw.authz_audience),
    ) {
        (None, None, None) => None,
        (Some(url), Some(issuer), Some(audience)) => Some(ExternalIssuer {
            jwks_url: parse::service_url(url, "AUTHZ_JWKS_URL")?,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        }),
        _ => {
            return Err(ConfigError::Invalid {
                var: "AUTHZ_JWKS_URL",
                problem: "AUTHZ_JWKS_URL, AUTHZ_ISSUER and AUTHZ_AUDIENCE go together: set all three or none"
                    .to_owned(),
            })
        }
    };
    Ok(AuthzConfig {
        mode,
        external,
        scope_prefix: parse::optional(&raw.authz_scope_prefix)
            .unwrap_or_default()
            .to_owned(),
        bootstrap,
        clients_endpoint,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError};
    use super::AuthzMode;

    fn crud(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut pairs = vec![
            ("USERS_CRUD_ENDPOINT", "/users"),
            ("UMS_CONFIG_CRUD_ENDPOINT", "/ums-config"),
            ("AUTH_SERVICE", "auth0-client"),
        ];
        pairs.extend_from_slice(extra);
        Config::from_pairs(pairs)
    }

    fn var_of(result: Result<Config, ConfigError>) -> &'static str {
        match result {
            Err(ConfigError::Invalid { var, .. }) => var,
            other => panic!("expected an invalid variable, got {other:?}"),
        }
    }

    #[test]
    fn gateway_by_default_in_crud_mode_and_scopes_in_embedded_mode() {
        assert_eq!(crud(&[]).unwrap().authz.mode, AuthzMode::Gateway);
        let embedded = Config::from_pairs([("DATA_DIR", "/tmp/x")]).unwrap();
        assert_eq!(embedded.authz.mode, AuthzMode::Scopes);
        let chosen = crud(&[("AUTHZ_MODE", "scopes")]).unwrap();
        assert_eq!(chosen.authz.mode, AuthzMode::Scopes);
        assert_eq!(var_of(crud(&[("AUTHZ_MODE", "open")])), "AUTHZ_MODE");
    }

    #[test]
    fn the_bootstrap_client_needs_both_variables_and_a_long_secret() {
        let long = "0123456789abcdef0123456789abcdef";
        let both = crud(&[("BOOTSTRAP_CLIENT_ID", "ops"), ("BOOTSTRAP_CLIENT_SECRET", long)]);
        assert_eq!(
            both.unwrap().authz.bootstrap.map(|(id, _)| id).as_deref(),
            Some("ops")
        );
        let short = crud(&[
            ("BOOTSTRAP_CLIENT_ID", "ops"),
            ("BOOTSTRAP_CLIENT_SECRET", "short"),
        ]);
        assert_eq!(var_of(short), "BOOTSTRAP_CLIENT_SECRET");
        assert_eq!(
            var_of(crud(&[("BOOTSTRAP_CLIENT_ID", "ops")])),
            "BOOTSTRAP_CLIENT_ID"
        );
    }

    #[test]
    fn an_external_issuer_needs_its_jwks_issuer_and_audience() {
        let all = [
            (
                "AUTHZ_JWKS_URL",
                "https://tenant.example.com/.well-known/jwks.json",
            ),
            ("AUTHZ_ISSUER", "https://tenant.example.com/"),
            ("AUTHZ_AUDIENCE", "ums"),
        ];
        let external = crud(&all).unwrap().authz.external.unwrap();
        assert_eq!(external.audience, "ums");
        assert_eq!(
            external.jwks_url,
            "https://tenant.example.com/.well-known/jwks.json"
        );
        assert_eq!(var_of(crud(&all[..2])), "AUTHZ_JWKS_URL");
    }
}
