//! Parsers for single configuration values; each error names the variable and what is expected.

use std::str::FromStr;
use std::time::Duration;

use reqwest::header::HeaderName;

use super::{ConfigError, Enrichment};

fn invalid(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        problem: problem.into(),
    }
}

/// A set, non-blank value.
pub(super) fn optional(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A number, or `default` when unset.
pub(super) fn number<T: FromStr>(
    value: &Option<String>,
    var: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match optional(value) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| invalid(var, format!("\"{v}\" is not a valid number"))),
    }
}

/// A number above zero, or `default` when unset.
pub(super) fn positive<T>(value: &Option<String>, var: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + Default + std::fmt::Display,
{
    let n = number(value, var, default)?;
    if n <= T::default() {
        return Err(invalid(
            var,
            format!("{n} is not allowed: expected a number above 0"),
        ));
    }
    Ok(n)
}

/// `true`/`false` (also `1`/`0`, any case), or `default` when unset.
pub(super) fn bool_var(
    value: &Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match optional(value).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(other) => Err(invalid(
            var,
            format!("\"{other}\" is not a boolean: expected true or false"),
        )),
    }
}

/// `LOG_LEVEL`: trace, debug, info, warn, error (Mia also knows fatal and silent: read as error).
pub(super) fn log_level(value: &Option<String>) -> Result<tracing::Level, ConfigError> {
    match optional(value).map(str::to_ascii_lowercase).as_deref() {
        None | Some("info") => Ok(tracing::Level::INFO),
        Some("trace") => Ok(tracing::Level::TRACE),
        Some("debug") => Ok(tracing::Level::DEBUG),
        Some("warn") => Ok(tracing::Level::WARN),
        Some("error" | "fatal" | "silent") => Ok(tracing::Level::ERROR),
        Some(other) => Err(invalid(
            "LOG_LEVEL",
            format!("\"{other}\" is not a level: expected trace, debug, info, warn or error"),
        )),
    }
}

/// A service host or base URL: `crud-service` becomes `http://crud-service`; a trailing `/` is dropped.
pub(super) fn service_url(value: &str, var: &'static str) -> Result<String, ConfigError> {
    let value = value.trim().trim_end_matches('/');
    let url = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    let parsed = url::Url::parse(&url)
        .map_err(|e| invalid(var, format!("\"{value}\" is not a host name or URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(invalid(
            var,
            format!("\"{value}\" must be a host name or an http(s) URL"),
        ));
    }
    Ok(url)
}

/// A collection or route path: must start with `/`; a trailing `/` is dropped.
pub(super) fn endpoint(value: &str, var: &'static str) -> Result<String, ConfigError> {
    let value = value.trim();
    if !value.starts_with('/') || value.len() < 2 || value.contains(['?', '#', ' ']) {
        return Err(invalid(
            var,
            format!("\"{value}\" is not a path: expected something like /users"),
        ));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// `AUTH_USER_PATH`: a path containing `{id}`.
pub(super) fn user_path_template(value: &Option<String>) -> Result<String, ConfigError> {
    let template = endpoint(optional(value).unwrap_or("/users/{id}"), "AUTH_USER_PATH")?;
    if !template.contains("{id}") {
        return Err(invalid(
            "AUTH_USER_PATH",
            format!("\"{template}\" must contain {{id}}, e.g. /users/{{id}}"),
        ));
    }
    Ok(template)
}

/// A header name, lower-cased, or `default` when unset.
pub(super) fn header_name(
    value: &Option<String>,
    var: &'static str,
    default: &str,
) -> Result<HeaderName, ConfigError> {
    let name = optional(value).unwrap_or(default).to_ascii_lowercase();
    HeaderName::from_str(&name).map_err(|_| invalid(var, format!("\"{name}\" is not a valid header name")))
}

/// A comma-separated list of header names (empty when unset).
pub(super) fn header_list(value: &Option<String>, var: &'static str) -> Result<Vec<HeaderName>, ConfigError> {
    comma_list(value.as_deref().unwrap_or_default())
        .into_iter()
        .map(|name| {
            HeaderName::from_str(&name.to_ascii_lowercase())
                .map_err(|_| invalid(var, format!("\"{name}\" is not a valid header name")))
        })
        .collect()
}

/// Splits `a, b,,c` into `["a", "b", "c"]`.
pub(super) fn comma_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A duration written as seconds (`120`) or in words (`2 minutes`, `30 seconds`, `1m 30s`).
pub(super) fn duration(
    value: &Option<String>,
    var: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    let Some(text) = optional(value) else {
        return Ok(default);
    };
    let parsed = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => humantime::parse_duration(text).map_err(|e| {
            invalid(
                var,
                format!("\"{text}\" is not a duration ({e}): expected seconds or e.g. \"2 minutes\""),
            )
        })?,
    };
    if parsed.is_zero() {
        return Err(invalid(var, "a zero interval is not allowed"));
    }
    Ok(parsed)
}

/// Reads the `CONFIGURATION_PATH` JSON file `{ "user_id": "...", "additionalProperties": [..] }`.
pub(super) fn enrichment_file(path: &str) -> Result<Enrichment, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid("CONFIGURATION_PATH", format!("cannot read \"{path}\": {e}")))?;
    serde_json::from_str(&text).map_err(|e| {
        invalid(
            "CONFIGURATION_PATH",
            format!("\"{path}\" is not {{\"user_id\": string, \"additionalProperties\": [string]}}: {e}"),
        )
    })
}

/// `HTTP_PORT`: 0 (any free port) to 65535, or 3000 when unset.
pub(super) fn port(value: &Option<String>) -> Result<u16, ConfigError> {
    let Some(v) = optional(value) else {
        return Ok(3000);
    };
    let n: u64 = v
        .parse()
        .map_err(|_| invalid("HTTP_PORT", format!("\"{v}\" is not a valid number")))?;
    u16::try_from(n).map_err(|_| {
        invalid(
            "HTTP_PORT",
            format!("{n} is out of range: expected a port from 0 to 65535 (0 picks a free port)"),
        )
    })
}

/// `HTTP_HOST`: an IP address, or a host name resolved now (its first IPv4 address preferred).
pub(super) fn listen_address(value: &Option<String>) -> Result<std::net::IpAddr, ConfigError> {
    use std::net::ToSocketAddrs;
    let Some(v) = optional(value) else {
        return Ok(std::net::IpAddr::from([0, 0, 0, 0]));
    };
    if let Ok(ip) = v.parse() {
        return Ok(ip);
    }
    let expected =
        "expected an IP address or a host name, e.g. 0.0.0.0, 127.0.0.1 or localhost (the port is HTTP_PORT)";
    if v.contains([':', '/', ' ', '[']) {
        return Err(invalid(
            "HTTP_HOST",
            format!("\"{v}\" is not allowed: {expected}"),
        ));
    }
    let addresses: Vec<std::net::SocketAddr> = (v, 0)
        .to_socket_addrs()
        .map_err(|e| invalid("HTTP_HOST", format!("cannot resolve \"{v}\" ({e}): {expected}")))?
        .collect();
    addresses
        .iter()
        .find(|a| a.is_ipv4())
        .or(addresses.first())
        .map(std::net::SocketAddr::ip)
        .ok_or_else(|| invalid("HTTP_HOST", format!("\"{v}\" resolves to no address: {expected}")))
}
