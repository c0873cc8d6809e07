//! The entries of the group registry's cache: each group config compiled into a usable group,
//! or kept as unusable with the reason; a schema unchanged since the previous load is reused.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::{Group, GroupAccess, GroupError};
use crate::config::InputLimits;

/// One cached group: usable, or unusable because its `crudSchema` does not compile.
#[derive(Clone)]
pub(super) enum Entry {
    Usable(Arc<Group>),
    Invalid {
        /// The configured `crudSchema` (None when missing), to recognise it on the next load.
        crud_schema: Option<Value>,
        reason: String,
    },
}

impl Entry {
    pub(super) fn usable(&self) -> Option<&Arc<Group>> {
        match self {
            Self::Usable(group) => Some(group),
            Self::Invalid { .. } => None,
        }
    }
}

pub(super) fn lookup(name: &str, entry: &Entry) -> Result<Arc<Group>, GroupError> {
    match entry {
        Entry::Usable(group) => Ok(Arc::clone(group)),
        Entry::Invalid { reason, .. } => Err(GroupError::Invalid {
            name: name.to_owned(),
            reason: reason.clone(),
        }),
    }
}

/// One entry per `userGroup`; a schema equal to the previous load's is not compiled (or
/// logged) again.
pub(super) fn build_entries(
    docs: Vec<Value>,
    previous: &HashMap<String, Entry>,
    limits: &InputLimits,
) -> HashMap<String, Entry> {
    let mut groups = HashMap::with_capacity(docs.len());
    for doc in docs {
        let Some(name) = doc.get("userGroup").and_then(Value::as_str) else {
            let id = doc.get("_id").map(Value::to_string).unwrap_or_default();
            tracing::warn!(id = %id, "group registry: ignoring a group config without a string userGroup");
            continue;
        };
        if groups.contains_key(name) {
            tracing::warn!(
                user_group = name,
                "group registry: ignoring a duplicate group config"
            );
            continue;
        }
        let label = doc.get("label").and_then(Value::as_str).map(str::to_owned);
        let disabled = doc
            .get("authUserCreationDisabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let access = GroupAccess::of_doc(&doc);
        let crud_schema = doc.get("crudSchema");
        let entry = match (previous.get(name), crud_schema) {
            (Some(Entry::Usable(group)), Some(schema)) if group.crud_schema() == schema => {
                let same = group.label == label && group.auth_user_creation_disabled == disabled;
                match same && group.access() == access {
                    true => Entry::Usable(Arc::clone(group)),
                    false => Entry::Usable(Arc::new(group.relabel(label, disabled).with_access(access))),
                }
            }
            (Some(entry @ Entry::Invalid { crud_schema: old, .. }), new) if old.as_ref() == new => {
                entry.clone()
            }
            (_, new) => compile_entry(name, (label, disabled, access), new, limits),
        };
        groups.insert(name.to_owned(), entry);
    }
    groups
}

/// The group `name` compiled from `crud_schema`, with its settings (label,
/// `authUserCreationDisabled`, scopes and self-editable fields).
fn compile_entry(
    name: &str,
    (label, disabled, access): (Option<String>, bool, GroupAccess),
    crud_schema: Option<&Value>,
    limits: &InputLimits,
) -> Entry {
    let compiled = match crud_schema {
        Some(schema) => Group::compile(name, label, disabled, schema, limits).map(|g| g.with_access(access)),
        None => Err("crudSchema is missing".to_owned()),
    };
    match compiled {
        Ok(group) => Entry::Usable(Arc::new(group)),
        Err(reason) => {
            tracing::warn!(user_group = name, reason = %reason, "group registry: the group's crudSchema is invalid, the group is unusable");
            Entry::Invalid {
                crud_schema: crud_schema.cloned(),
                reason,
            }
        }
    }
}
