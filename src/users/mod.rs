//! Orchestration of the user lifecycle across the user store, the auth provider, Rönd and the
//! Timer Service: create, update, delete, state changes, expiry (SPEC §5 "User management").

pub mod converge;
pub mod create;
pub mod effects;
mod error;
pub mod export;
pub mod import;
pub mod intent;
pub mod lifecycle;
pub mod me;
pub mod password;
pub mod read;
pub mod reconcile;
pub mod saga;
pub mod scopes;
mod service;
pub mod session;
#[cfg(test)]
mod tests;
pub mod update;
pub mod userinfo;
pub mod version;

use serde_json::Value;

pub use error::{UserError, UserResult};
pub use service::{CallbackSigner, Expiry, Roles, UserService, CALLBACK_TOKEN_HEADER};

/// Fields the service owns: a client can never set them (400).
pub const SERVICE_ONLY_FIELDS: [&str; 2] = ["authUserId", "expirationId"];

/// The `_id` of a store document, when it has one.
pub fn doc_id(doc: &Value) -> Option<&str> {
    doc.get("_id").and_then(Value::as_str)
}

/// The `authUserId` of a store user, when linked.
pub fn auth_user_id(doc: &Value) -> Option<&str> {
    doc.get("authUserId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A string field of a document.
pub fn str_field<'a>(doc: &'a Value, field: &str) -> Option<&'a str> {
    doc.get(field).and_then(Value::as_str)
}

/// A date field the store writes (`createdAt`, `updatedAt`: RFC 3339) as epoch milliseconds, when
/// the document has a readable one.
pub fn store_time_millis(doc: &Value, field: &str) -> Option<i64> {
    let format = time::format_description::well_known::Rfc3339;
    let at = time::OffsetDateTime::parse(str_field(doc, field)?, &format).ok()?;
    Some((at.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The `roles` of a user (empty when absent).
pub fn roles(doc: &Value) -> Vec<String> {
    doc.get("roles")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}
