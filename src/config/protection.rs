//! Account protection of the local provider (SPEC §11): login lockout, the password policy and
//! the proxies whose `x-forwarded-for` is believed. Each value is validated here and a bad one
//! names its variable.

use std::time::Duration;

use ipnet::IpNet;

use super::parse::{self, number, positive};
use super::{ConfigError, RawConfig};

/// `LOGIN_*`: when failed logins lock an account or a client address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginLockout {
    /// `LOGIN_MAX_FAILURES` (default 5): consecutive failed logins of one account that lock it.
    pub max_failures: u32,
    /// `LOGIN_MAX_FAILURES_PER_ADDRESS` (default 50): failed logins from one client address
    /// (within `lockout`) that lock the address; higher, so that a shared NAT is not locked out by
    /// one user.
    pub max_failures_per_address: u32,
    /// `LOGIN_LOCKOUT_SECONDS` (default 900): how long a lock lasts.
    pub lockout: Duration,
}

impl Default for LoginLockout {
    fn default() -> Self {
        Self {
            max_failures: 5,
            max_failures_per_address: 50,
            lockout: Duration::from_secs(900),
        }
    }
}

/// `PASSWORD_*`: what a new password must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// `PASSWORD_MIN_LENGTH` (default 8), in characters.
    pub min_length: usize,
    /// `PASSWORD_MAX_LENGTH` (default 128), in characters.
    pub max_length: usize,
    /// `PASSWORD_MIN_SCORE` (default 2): the lowest zxcvbn score (0 to 4) accepted.
    pub min_score: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            max_length: 128,
            min_score: 2,
        }
    }
}

/// The whole section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProtectionConfig {
    /// Login lockout.
    pub lockout: LoginLockout,
    /// Password policy.
    pub password: PasswordPolicy,
    /// `TRUSTED_PROXIES` (default none): addresses and CIDR blocks whose `x-forwarded-for` is
    /// believed.
    pub trusted_proxies: Vec<IpNet>,
}

/// The longest password length accepted as `PASSWORD_MAX_LENGTH` (argon2 hashes any length, but
/// a megabyte password is a denial of service, not a password).
const MAX_PASSWORD_LENGTH_LIMIT: usize = 4096;

pub(super) fn protection_config(raw: &RawConfig) -> Result<ProtectionConfig, ConfigError> {
    let defaults = ProtectionConfig::default();
    let lockout_seconds: u64 = positive(
        &raw.login_lockout_seconds,
        "LOGIN_LOCKOUT_SECONDS",
        defaults.lockout.lockout.as_secs(),
    )?;
    let lockout = LoginLockout {
        max_failures: positive(
            &raw.login_max_failures,
            "LOGIN_MAX_FAILURES",
            defaults.lockout.max_failures,
        )?,
        max_failures_per_address: positive(
            &raw.login_max_failures_per_address,
            "LOGIN_MAX_FAILURES_PER_ADDRESS",
            defaults.lockout.max_failures_per_address,
        )?,
        lockout: Duration::from_secs(lockout_seconds),
    };
    Ok(ProtectionConfig {
        lockout,
        password: password_policy(raw, &defaults.password)?,
        trusted_proxies: trusted_proxies(&raw.trusted_proxies)?,
    })
}

fn password_policy(raw: &RawConfig, defaults: &PasswordPolicy) -> Result<PasswordPolicy, ConfigError> {
    let min_length = positive(
        &raw.password_min_length,
        "PASSWORD_MIN_LENGTH",
        defaults.min_length,
    )?;
    let max_length = positive(
        &raw.password_max_length,
        "PASSWORD_MAX_LENGTH",
        defaults.max_length,
    )?;
    if max_length > MAX_PASSWORD_LENGTH_LIMIT {
        return Err(ConfigError::Invalid {
            var: "PASSWORD_MAX_LENGTH",
            problem: format!("{max_length} is too large: expected at most {MAX_PASSWORD_LENGTH_LIMIT}"),
        });
    }
    if max_length < min_length {
        return Err(ConfigError::Invalid {
            var: "PASSWORD_MAX_LENGTH",
            problem: format!("{max_length} is below PASSWORD_MIN_LENGTH ({min_length})"),
        });
    }
    let min_score: u8 = number(&raw.password_min_score, "PASSWORD_MIN_SCORE", defaults.min_score)?;
    if min_score > 4 {
        return Err(ConfigError::Invalid {
            var: "PASSWORD_MIN_SCORE",
            problem: format!("{min_score} is out of range: expected a zxcvbn score from 0 to 4"),
        });
    }
    Ok(PasswordPolicy {
        min_length,
        max_length,
        min_score,
    })
}

/// `TRUSTED_PROXIES`: comma-separated IP addresses (`10.0.0.1`) and CIDR blocks (`10.0.0.0/8`).
fn trusted_proxies(value: &Option<String>) -> Result<Vec<IpNet>, ConfigError> {
    let Some(text) = parse::optional(value) else {
        return Ok(Vec::new());
    };
    parse::comma_list(text)
        .into_iter()
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| ConfigError::Invalid {
                    var: "TRUSTED_PROXIES",
                    problem: format!(
                        "\"{item}\" is not an IP address or CIDR block: expected e.g. 10.0.0.1,10.1.0.0/16"
                    ),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> Result<ProtectionConfig, ConfigError> {
        let raw: RawConfig = envy::from_iter(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
            .expect("raw config");
        protection_config(&raw)
    }

    #[test]
    fn the_defaults_are_five_failures_fifty_per_address_fifteen_minutes_and_no_proxy() {
        let config = raw(&[]).unwrap();
        assert_eq!(config, ProtectionConfig::default());
        assert_eq!(config.lockout.max_failures, 5);
        assert_eq!(config.lockout.max_failures_per_address, 50);
        assert_eq!(config.lockout.lockout, Duration::from_secs(900));
        assert_eq!((config.password.min_length, config.password.max_length), (8, 128));
        assert!(config.trusted_proxies.is_empty());
    }

    #[test]
    fn proxies_are_addresses_or_cidr_blocks() {
        let config = raw(&[("TRUSTED_PROXIES", " 10.0.0.1, 192.168.0.0/16 ,::1")]).unwrap();
        let expected: Vec<IpNet> = ["10.0.0.1/32", "192.168.0.0/16", "::1/128"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(config.trusted_proxies, expected);
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let cases = [
            ("LOGIN_MAX_FAILURES", "0"),
            ("LOGIN_MAX_FAILURES", "many"),
            ("LOGIN_MAX_FAILURES_PER_ADDRESS", "-1"),
            ("LOGIN_LOCKOUT_SECONDS", "0"),
            ("PASSWORD_MIN_LENGTH", "0"),
            ("PASSWORD_MAX_LENGTH", "5000"),
            ("PASSWORD_MIN_SCORE", "5"),
            ("TRUSTED_PROXIES", "10.0.0.1,proxy.local"),
        ];
        for (var, value) in cases {
            let error = raw(&[(var, value)]).unwrap_err();
            assert!(error.to_string().starts_with(var), "{var}={value}: {error}");
        }
        let error = raw(&[("PASSWORD_MIN_LENGTH", "20"), ("PASSWORD_MAX_LENGTH", "12")]).unwrap_err();
        assert!(error.to_string().starts_with("PASSWORD_MAX_LENGTH"), "{error}");
    }

    #[test]
    fn with_the_local_provider_generated_passwords_must_fit_the_policy() {
        let embedded = |pairs: &[(&str, &str)]| super::super::Config::from_pairs(pairs.iter().copied());
        let error = embedded(&[("RANDOM_PWD_LENGTH", "6")]).unwrap_err();
        assert!(
            error.to_string().starts_with("RANDOM_PWD_LENGTH: 6 is outside"),
            "{error}"
        );
        let error = embedded(&[("PASSWORD_MIN_LENGTH", "12")]).unwrap_err();
        assert!(
            error.to_string().starts_with("RANDOM_PWD_LENGTH: 8 is outside"),
            "{error}"
        );
        assert!(embedded(&[("PASSWORD_MIN_LENGTH", "12"), ("RANDOM_PWD_LENGTH", "16")]).is_ok());
        let auth0 = [
            ("USERS_CRUD_ENDPOINT", "/users"),
            ("UMS_CONFIG_CRUD_ENDPOINT", "/ums-config"),
            ("AUTH_SERVICE", "auth0-client"),
            ("RANDOM_PWD_LENGTH", "6"),
        ];
        assert!(embedded(&auth0).is_ok(), "the Auth0 Client has its own policy");
    }
}
