//! Shared helpers of the Auth0 fake: the Auth0-style error body, timestamps and random ids.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::json;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

/// `2021-07-16T08:28:24.568Z`, the format of Auth0 dates.
const ISO_MILLIS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// An error answered with Auth0's body `{"statusCode","error","message"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Human-readable message.
    pub message: String,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401 Unauthorized.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404 for an unknown user.
    pub fn user_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "The user does not exist.")
    }

    /// 409 Conflict.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(error_body(self.status, &self.message))).into_response()
    }
}

/// Auth0's error body for `status`.
pub(crate) fn error_body(status: StatusCode, message: &str) -> serde_json::Value {
    json!({
        "statusCode": status.as_u16(),
        "error": status.canonical_reason().unwrap_or("Error"),
        "message": message,
    })
}

/// Formats a date like Auth0 does.
pub(crate) fn iso(at: OffsetDateTime) -> String {
    at.format(ISO_MILLIS)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// The current date, formatted like Auth0 does.
pub(crate) fn now_iso() -> String {
    iso(OffsetDateTime::now_utc())
}

/// `len` random ASCII letters and digits.
pub(crate) fn random_alnum(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// 24 random lowercase hex digits (the id part of `auth0|<id>`).
pub(crate) fn random_hex24() -> String {
    let bytes: [u8; 12] = rand::thread_rng().gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads the value of cookie `name` from a `cookie` header value.
pub(crate) fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_auth0_shape() {
        let hex = random_hex24();
        assert_eq!(hex.len(), 24);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(random_alnum(16).len(), 16);
    }

    #[test]
    fn dates_have_milliseconds_and_z() {
        let at = OffsetDateTime::from_unix_timestamp(1_626_424_104).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(iso(at), "2021-07-16T08:28:24.000Z");
    }

    #[test]
    fn cookie_value_finds_sid_among_others() {
        assert_eq!(cookie_value("a=1; sid=abc; b=2", "sid"), Some("abc"));
        assert_eq!(cookie_value("a=1", "sid"), None);
    }
}
