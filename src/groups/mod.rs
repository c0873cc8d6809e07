//! User groups: the group-config collection (`userGroup`, `label`, `authUserCreationDisabled`,
//! `crudSchema`), compiled and cached by [`GroupRegistry`], and the validation of user documents
//! against their group schema ([`validate_user`]).

pub mod admin;
mod entries;
mod group;
mod indexing;
mod registry;
mod safety;
pub mod seed;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde_json::Value;

use crate::config::{describe_limit, InputLimits};
use crate::context::CallContext;
use crate::store::StoreError;

pub use group::{collection_schema, Group, GroupAccess};
pub use indexing::FieldIndexer;
pub use registry::GroupRegistry;

/// Why a group cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// No group config has this `userGroup`.
    #[error("userGroup \"{0}\" does not exist")]
    Unknown(String),
    /// The group exists but its `crudSchema` is missing or does not compile.
    #[error("userGroup \"{name}\" has an invalid crudSchema: {reason}")]
    Invalid {
        /// The `userGroup`.
        name: String,
        /// Why the schema is unusable.
        reason: String,
    },
    /// A user or group document is refused (limits, schema, fields); the message says why.
    #[error("{0}")]
    Refused(String),
    /// No group config has this id.
    #[error("{0}")]
    NotFound(String),
    /// A group with this `userGroup` already exists.
    #[error("{0}")]
    Conflict(String),
    /// The group-config collection failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Validates a whole user document: within the input limits (depth, arrays, field names, see
/// `LIMIT_*`), `userGroup` a string naming a usable group; returns the group, or a 400 listing the
/// violations (the first `LIMIT_VIOLATIONS_REPORTED`, then how many more):
/// `user does not match the schema of group "customer": /email: ...; /age: ...`.
pub async fn validate_user(
    registry: &GroupRegistry,
    limits: &InputLimits,
    ctx: &CallContext,
    doc: &Value,
) -> Result<Arc<Group>, GroupError> {
    if !doc.is_object() {
        return Err(GroupError::Refused("user must be a JSON object".to_owned()));
    }
    limits
        .document
        .check_document(doc)
        .map_err(|e| GroupError::Refused(describe_limit(&e)))?;
    let name = match doc.get("userGroup") {
        None | Some(Value::Null) => return Err(GroupError::Refused("userGroup is required".to_owned())),
        Some(Value::String(name)) => name,
        Some(_) => return Err(GroupError::Refused("userGroup must be a string".to_owned())),
    };
    let group = registry.get(ctx, name).await?;
    let violations = group.violations(doc);
    if violations.is_empty() {
        return Ok(group);
    }
    Err(GroupError::Refused(format!(
        "user does not match the schema of group \"{}\": {}",
        group.name,
        summarize(violations, limits.violations_reported)
    )))
}

/// The first `max` violations joined with `; `, then `; and N more`.
pub fn summarize(mut violations: Vec<String>, max: usize) -> String {
    let more = violations.len().saturating_sub(max);
    violations.truncate(max);
    let mut text = violations.join("; ");
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    text
}
