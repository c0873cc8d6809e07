//! Password hashes of the local provider: argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane)
//! in PHC strings, computed off the async runtime. A stored hash that is not a PHC string (an
//! imported user's `!`) never verifies.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use rand::RngCore;
use std::sync::Arc;
use tokio::sync::Semaphore;

use crate::secret::Secret;

/// Memory cost in KiB (OWASP: 19 MiB).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over the memory.
pub const ITERATIONS: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;
/// The stored hash of a user that has no password yet (bulk activation): never verifies.
pub const UNUSABLE_HASH: &str = "!";

/// Why a password could not be hashed (never its value).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

fn argon2() -> Result<Argon2<'static>, HashError> {
    let params =
        Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).map_err(|e| HashError(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The argon2id PHC string of `password` with a fresh random salt (blocking: CPU-bound).
pub fn hash_blocking(password: &Secret) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
    argon2()?
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the PHC string `stored` (blocking). `None` (unknown user) or an
/// unusable hash still costs one hash with the current parameters, so that the answer takes
/// about as long as for a known user.
pub fn verify_blocking(password: &Secret, stored: Option<&str>) -> bool {
    let parsed = stored.and_then(|s| PasswordHash::new(s).ok());
    match (parsed, argon2()) {
        (Some(hash), Ok(argon)) => argon.verify_password(password.expose().as_bytes(), &hash).is_ok(),
        (None, _) => {
            let _ = hash_blocking(password);
            false
        }
        (_, Err(_)) => false,
    }
}

/// Runs argon2 on the blocking pool, a few at a time: each hash holds 19 MiB, so a flood of
/// logins queues here (waiting for a permit costs no thread) instead of exhausting memory or CPU.
///
/// One permit per core: argon2 here is one lane of pure CPU work, so more hashes than cores add
/// no throughput, only memory and more runnable threads competing with the async workers that
/// answer reads and health checks (a worker woken by a request is scheduled promptly next to
/// `cores` busy threads; next to `2 × cores` it waits longer). Locked accounts and addresses are
/// refused before any hash (see `lockout.rs`).
#[derive(Clone, Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    /// At most as many hashes at once as there are cores (as the process sees them: cgroup
    /// quotas included).
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self {
            permits: Arc::new(Semaphore::new(cores)),
        }
    }

    /// [`hash_blocking`], off the async runtime.
    pub async fn hash(&self, password: Secret) -> Result<String, HashError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| HashError(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            hash_blocking(&password)
        })
        .await
        .map_err(|e| HashError(e.to_string()))?
    }

    /// [`verify_blocking`], off the async runtime; a failed task is a mismatch.
    pub async fn verify(&self, password: Secret, stored: Option<String>) -> bool {
        let Ok(permit) = Arc::clone(&self.permits).acquire_owned().await else {
            return false;
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            verify_blocking(&password, stored.as_deref())
        })
        .await
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_owasp_parameters_and_a_fresh_salt() {
        let password = Secret::new("correct horse");
        let first = hash_blocking(&password).unwrap();
        let second = hash_blocking(&password).unwrap();
        assert!(first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{first}");
        assert_ne!(first, second, "every hash has its own salt");
        assert!(!first.contains("correct horse"));
        let parsed = PasswordHash::new(&first).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
    }

    #[test]
    fn only_the_right_password_verifies() {
        let stored = hash_blocking(&Secret::new("correct horse")).unwrap();
        assert!(verify_blocking(&Secret::new("correct horse"), Some(&stored)));
        assert!(!verify_blocking(&Secret::new("wrong horse"), Some(&stored)));
    }

    #[test]
    fn unknown_users_and_unusable_hashes_never_verify() {
        assert!(!verify_blocking(&Secret::new("anything"), None));
        assert!(!verify_blocking(&Secret::new("anything"), Some(UNUSABLE_HASH)));
        assert!(!verify_blocking(&Secret::new(""), Some("")));
    }
}
