//! The signing key of the local provider and the access tokens it signs: an Ed25519 key in a
//! PKCS#8 PEM file (generated with mode 0600 on first start, reused afterwards), EdDSA JWTs
//! (`iss`, `sub`, `iat`, `exp`, `jti`) and the JWKS that publishes the public half.

use std::fs;
use std::io::{ErrorKind as IoErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::LocalAuthError;

const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const PEM_END: &str = "-----END PRIVATE KEY-----";

/// The claims of an access token issued by the local provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer (`LocalAuthConfig::issuer`).
    pub iss: String,
    /// The user: its auth id, which is the store `_id`.
    pub sub: String,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Expires at (seconds since the epoch).
    pub exp: u64,
    /// Unique id of the token.
    pub jti: String,
    /// `gen`, a private claim: the `tokenGeneration` of the user's credential when the token was
    /// issued. A revocation (block, password change) raises the credential's, and tokens of an
    /// older generation are refused: exact where a time would tie within its resolution. Tokens
    /// without it are generation 0.
    #[serde(default, rename = "gen")]
    pub generation: u64,
}

/// Why an access token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Its `exp` is past.
    #[error("the access token has expired")]
    Expired,
    /// Malformed, wrongly signed, from another issuer, or missing a claim.
    #[error("the access token is invalid")]
    Invalid,
    /// Its user was deleted or blocked, or its password changed, after it was issued.
    #[error("the access token has been revoked")]
    Revoked,
}

/// The loaded key: what signs, what verifies, and its JWK identity.
pub struct SigningKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Public key, base64url (the JWK `x`).
    x: String,
    /// RFC 7638 thumbprint of the JWK.
    kid: String,
}

impl SigningKey {
    /// Loads the key at `path`, or generates and stores one (mode 0600) when the file is missing.
    pub fn load_or_generate(path: &Path) -> Result<Self, LocalAuthError> {
        match fs::read(path) {
            Ok(bytes) => Self::parse(path, &bytes),
            Err(e) if e.kind() == IoErrorKind::NotFound => Self::generate(path),
            Err(e) => Err(io_error(path, &e)),
        }
    }

    fn generate(path: &Path) -> Result<Self, LocalAuthError> {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| LocalAuthError::Key {
            path: path.to_owned(),
            message: "the system random generator failed".into(),
        })?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_fs::create_dir(dir).map_err(|e| io_error(dir, &e))?;
        }
        let pem = to_pem(pkcs8.as_ref());
        // Written to a private temporary file, then linked into place: another process starting
        // at the same moment either sees no key or a whole one, and never has it overwritten.
        let tmp = PathBuf::from(format!(
            "{}.{}.tmp",
            path.display(),
            uuid::Uuid::new_v4().simple()
        ));
        write_private(&tmp, pem.as_bytes()).map_err(|e| io_error(&tmp, &e))?;
        let linked = fs::hard_link(&tmp, path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                tracing::info!(key.path = %path.display(), "generated the signing key of the local auth provider");
                Self::from_pkcs8(path, pkcs8.as_ref())
            }
            Err(e) if e.kind() == IoErrorKind::AlreadyExists => {
                let bytes = fs::read(path).map_err(|e| io_error(path, &e))?;
                Self::parse(path, &bytes)
            }
            Err(e) => Err(io_error(path, &e)),
        }
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<Self, LocalAuthError> {
        crate::private_fs::warn_if_open_to_others(path, "signing key file");
        let invalid = |message: &str| LocalAuthError::Key {
            path: path.to_owned(),
            message: message.to_owned(),
        };
        let text = std::str::from_utf8(bytes).map_err(|_| invalid("not a PEM file"))?;
        let start = text
            .find(PEM_BEGIN)
            .ok_or_else(|| invalid("no \"BEGIN PRIVATE KEY\" block"))?;
        let body = &text[start + PEM_BEGIN.len()..];
        let end = body
            .find(PEM_END)
            .ok_or_else(|| invalid("no \"END PRIVATE KEY\" line"))?;
        let base64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
        let der = STANDARD
            .decode(base64)
            .map_err(|_| invalid("the PEM block is not base64"))?;
        Self::from_pkcs8(path, &der)
    }

    fn from_pkcs8(path: &Path, der: &[u8]) -> Result<Self, LocalAuthError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|e| LocalAuthError::Key {
            path: path.to_owned(),
            message: format!("not an Ed25519 PKCS#8 private key ({e})"),
        })?;
        let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
        // RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()));
        Ok(Self {
            encoding: EncodingKey::from_ed_der(der),
            decoding: DecodingKey::from_ed_der(pair.public_key().as_ref()),
            x,
            kid,
        })
    }

    /// `{"keys": [the public JWK]}`.
    pub(super) fn jwks(&self) -> Value {
        json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "x": self.x,
                "kid": self.kid,
                "alg": "EdDSA",
                "use": "sig",
            }]
        })
    }

    /// A signed access token for `sub` of token generation `generation`, issued at `now` and
    /// valid `ttl` from then; also returns its claims.
    pub(super) fn issue(
        &self,
        issuer: &str,
        sub: &str,
        generation: u64,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<(String, Claims), jsonwebtoken::errors::Error> {
        let iat = seconds(now);
        let claims = Claims {
            iss: issuer.to_owned(),
            sub: sub.to_owned(),
            iat,
            exp: iat.saturating_add(ttl.as_secs().max(1)),
            jti: uuid::Uuid::new_v4().to_string(),
            generation,
        };
        Ok((self.sign(&claims)?, claims))
    }

    /// The claims of `token` when it is signed by this key, issued by `issuer` and not expired
    /// at `now` (no leeway: the same clock issues and verifies). A token expires at its `exp`
    /// second: valid the second before, refused from then on (RFC 7519 §4.1.4).
    pub(super) fn verify(
        &self,
        issuer: &str,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<Claims, TokenError> {
        let claims = self.decode(issuer, token)?;
        if claims.exp <= seconds(now) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// The claims of `token` when it is signed by this key and issued by `issuer`, expired or
    /// not (the expired access token presented with a refresh token).
    pub(super) fn verify_ignoring_expiry(&self, issuer: &str, token: &str) -> Result<Claims, TokenError> {
        self.decode(issuer, token)
    }

    /// [`Self::decode_as`] of the provider's own claims.
    fn decode(&self, issuer: &str, token: &str) -> Result<Claims, TokenError> {
        self.decode_as(issuer, token)
    }

    /// Signs `claims` (any JSON object) with this key: EdDSA, `kid` in the header.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }

    /// The claims of `token` when it is an EdDSA token signed by this key and issued by `issuer`,
    /// with `exp`, `iss` and `sub`. The expiry itself is left to the caller, which judges it on
    /// its clock rather than on the system time `jsonwebtoken` would read.
    pub fn decode_as<T: serde::de::DeserializeOwned>(
        &self,
        issuer: &str,
        token: &str,
    ) -> Result<T, TokenError> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        jsonwebtoken::decode::<T>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|_| TokenError::Invalid)
    }
}

/// Seconds since the epoch of `at` (0 before the epoch).
fn seconds(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp()).unwrap_or(0)
}

fn io_error(path: &Path, error: &std::io::Error) -> LocalAuthError {
    LocalAuthError::Key {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

fn to_pem(der: &[u8]) -> String {
    let base64 = STANDARD.encode(der);
    let mut pem = String::with_capacity(base64.len() + 80);
    pem.push_str(PEM_BEGIN);
    pem.push('\n');
    for line in base64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(PEM_END);
    pem.push('\n');
    pem
}

/// Creates `path` (which must not exist) readable and writable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2024-05-01 10:00:00 UTC);

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ums-local-keys-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_key_is_generated_once_with_owner_only_permissions_and_reused() {
        let dir = temp_dir();
        let path = dir.join("nested").join("signing-key.pem");
        let first = SigningKey::load_or_generate(&path).unwrap();
        let pem = fs::read_to_string(&path).unwrap();
        assert!(pem.starts_with(PEM_BEGIN));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let second = SigningKey::load_or_generate(&path).unwrap();
        assert_eq!(first.kid, second.kid);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            pem,
            "the file is not rewritten"
        );
        let (token, _) = first.issue("iss", "u1", 0, NOW, Duration::from_secs(60)).unwrap();
        assert_eq!(second.verify("iss", &token, NOW).unwrap().sub, "u1");
        let leftovers = fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_corrupt_key_file_is_an_error_naming_the_file() {
        let dir = temp_dir();
        let path = dir.join("key.pem");
        fs::write(&path, "not a key").unwrap();
        let error = SigningKey::load_or_generate(&path).err().unwrap();
        assert!(error.to_string().contains("key.pem"), "{error}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn tokens_of_another_key_or_issuer_or_past_their_expiry_are_refused() {
        let dir = temp_dir();
        let key = SigningKey::load_or_generate(&dir.join("a.pem")).unwrap();
        let other = SigningKey::load_or_generate(&dir.join("b.pem")).unwrap();
        let (token, claims) = key.issue("iss", "u1", 0, NOW, Duration::from_secs(60)).unwrap();
        assert_eq!(key.verify("iss", &token, NOW), Ok(claims));
        assert_eq!(other.verify("iss", &token, NOW), Err(TokenError::Invalid));
        assert_eq!(key.verify("another", &token, NOW), Err(TokenError::Invalid));
        assert_eq!(key.verify("iss", "not.a.token", NOW), Err(TokenError::Invalid));

        let now = seconds(NOW);
        let expired = Claims {
            iss: "iss".into(),
            sub: "u1".into(),
            iat: now - 120,
            exp: now - 60,
            jti: "j".into(),
            generation: 0,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        let token = jsonwebtoken::encode(&header, &expired, &key.encoding).unwrap();
        assert_eq!(key.verify("iss", &token, NOW), Err(TokenError::Expired));
        assert_eq!(key.verify_ignoring_expiry("iss", &token), Ok(expired));
        let (fresh, _) = key.issue("iss", "u1", 0, NOW, Duration::from_secs(60)).unwrap();
        assert_eq!(
            other.verify_ignoring_expiry("iss", &fresh),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            key.verify_ignoring_expiry("another", &fresh),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            key.verify_ignoring_expiry("iss", "not.a.token"),
            Err(TokenError::Invalid)
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_token_expires_at_its_exp_second_on_the_given_clock_not_the_system_one() {
        let dir = temp_dir();
        let key = SigningKey::load_or_generate(&dir.join("a.pem")).unwrap();
        let (token, claims) = key.issue("iss", "u1", 0, NOW, Duration::from_secs(60)).unwrap();
        assert_eq!((claims.iat, claims.exp), (seconds(NOW), seconds(NOW) + 60));
        assert!(
            claims.exp < jsonwebtoken::get_current_timestamp(),
            "long expired on the system clock"
        );
        let at = |secs: i64| NOW + time::Duration::seconds(secs);
        assert_eq!(key.verify("iss", &token, at(59)), Ok(claims));
        assert_eq!(key.verify("iss", &token, at(60)), Err(TokenError::Expired));
        assert!(key.verify_ignoring_expiry("iss", &token).is_ok());
        fs::remove_dir_all(dir).unwrap();
    }
}
