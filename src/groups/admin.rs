//! Management of the group-config collection (`/groups`): every written group has a
//! `crudSchema` that compiles, a unique `userGroup`, and the registry reloads at once so the
//! change applies to the next request.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::{Group, GroupError, GroupRegistry};
use crate::config::InputLimits;
use crate::context::CallContext;
use crate::store::{Collection, Filter, FindQuery};

/// Fields a group document may carry (besides the store's standard fields).
const GROUP_FIELDS: [&str; 6] = [
    "userGroup",
    "label",
    "authUserCreationDisabled",
    "crudSchema",
    "scopes",
    "selfEditable",
];

/// Fields a user never changes on itself, whatever its group says: its identity and what it may
/// do (a user moving itself to another group would take that group's scopes).
pub const NEVER_SELF_EDITABLE: [&str; 13] = [
    "_id",
    "userGroup",
    "authUserId",
    "roles",
    "blocked",
    "expirationDate",
    "expirationId",
    "__STATE__",
    "createdAt",
    "updatedAt",
    "creatorId",
    "updaterId",
    "password",
];
/// The fields the store adds to every document (a group file never needs them).
pub(super) const STANDARD_FIELDS: [&str; 6] = [
    "_id",
    "__STATE__",
    "createdAt",
    "updatedAt",
    "creatorId",
    "updaterId",
];

/// Checks a whole group document: known fields, `userGroup` a non-empty string, `label` a
/// string, `authUserCreationDisabled` a boolean, `crudSchema` a schema that compiles under
/// `limits`.
pub fn check_group(doc: &Map<String, Value>, limits: &InputLimits) -> Result<(), GroupError> {
    if let Some(unknown) = doc
        .keys()
        .find(|k| !GROUP_FIELDS.contains(&k.as_str()) && !STANDARD_FIELDS.contains(&k.as_str()))
    {
        return Err(GroupError::Refused(format!(
            "unknown group field \"{unknown}\": a group has userGroup, label, authUserCreationDisabled, crudSchema, scopes and selfEditable"
        )));
    }
    let name = doc
        .get("userGroup")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| GroupError::Refused("userGroup is required and must be a non-empty string".into()))?;
    if doc.get("label").is_some_and(|l| !l.is_string()) {
        return Err(GroupError::Refused("label must be a string".into()));
    }
    if doc
        .get("authUserCreationDisabled")
        .is_some_and(|d| !d.is_boolean())
    {
        return Err(GroupError::Refused(
            "authUserCreationDisabled must be a boolean".into(),
        ));
    }
    check_scopes(doc.get("scopes"))?;
    check_self_editable(doc.get("selfEditable"))?;
    let schema = doc
        .get("crudSchema")
        .ok_or_else(|| GroupError::Refused("crudSchema is required".into()))?;
    Group::compile(name, None, false, schema, limits).map_err(|reason| {
        GroupError::Refused(format!(
            "crudSchema of group \"{name}\" does not compile: {reason}"
        ))
    })?;
    Ok(())
}

/// `scopes`, when present: an array of the administrative scope names of this service.
fn check_scopes(scopes: Option<&Value>) -> Result<(), GroupError> {
    let Some(scopes) = scopes else {
        return Ok(());
    };
    let names = scopes
        .as_array()
        .ok_or_else(|| GroupError::Refused("scopes must be an array of scope names".into()))?;
    for name in names {
        let known = name.as_str().and_then(crate::authz::Scope::parse);
        if known.is_none() {
            let all: Vec<&str> = crate::authz::Scope::ALL.iter().map(|s| s.as_str()).collect();
            return Err(GroupError::Refused(format!(
                "scopes: {name} is not a scope of this service (known: {})",
                all.join(", ")
            )));
        }
    }
    Ok(())
}

/// `selfEditable`, when present: an array of top-level field names, none of them one a user may
/// never change on itself.
fn check_self_editable(fields: Option<&Value>) -> Result<(), GroupError> {
    let Some(fields) = fields else {
        return Ok(());
    };
    let refused = |what: String| GroupError::Refused(format!("selfEditable: {what}"));
    let names = fields
        .as_array()
        .ok_or_else(|| refused("must be an array of top-level field names".into()))?;
    for name in names {
        let Some(name) = name.as_str().filter(|n| !n.is_empty() && !n.contains(['.', '$'])) else {
            return Err(refused(format!("{name} is not a top-level field name")));
        };
        if NEVER_SELF_EDITABLE.contains(&name) {
            return Err(refused(format!("a user may never change its own \"{name}\"")));
        }
    }
    Ok(())
}

/// The use cases of `/groups`: the group-config collection, the registry to reload after a
/// change, and the limits a schema must respect.
#[derive(Clone)]
pub struct GroupAdmin {
    /// The group-config collection.
    pub groups: Arc<dyn Collection>,
    /// The users collection: a group that still has users is not deleted.
    pub users: Arc<dyn Collection>,
    /// The compiled groups, reloaded after each change.
    pub registry: Arc<GroupRegistry>,
    /// The input limits (`LIMIT_*`).
    pub limits: InputLimits,
}

impl GroupAdmin {
    /// The group documents matching `query`.
    pub async fn list(&self, ctx: &CallContext, query: &FindQuery) -> Result<Vec<Value>, GroupError> {
        Ok(self.groups.find(ctx, query).await?)
    }

    /// The group document `id` (PUBLIC), or `NotFound`.
    pub async fn get(&self, ctx: &CallContext, id: &str) -> Result<Value, GroupError> {
        let group = self.groups.get(ctx, id, &Filter::default()).await?;
        group.ok_or_else(|| GroupError::NotFound(format!("group \"{id}\" not found")))
    }

    async fn ensure_unique(
        &self,
        ctx: &CallContext,
        name: &str,
        except: Option<&str>,
    ) -> Result<(), GroupError> {
        let query = FindQuery {
            filter: Filter {
                q: Some(json!({"userGroup": name})),
                ..Filter::any_state()
            },
            limit: Some(2),
            ..FindQuery::default()
        };
        let taken = self
            .groups
            .find(ctx, &query)
            .await?
            .iter()
            .any(|g| g.get("_id").and_then(Value::as_str) != except);
        if taken {
            return Err(GroupError::Conflict(format!(
                "userGroup \"{name}\" already exists"
            )));
        }
        Ok(())
    }

    async fn reload(&self, ctx: &CallContext) {
        if let Err(e) = self.registry.refresh(ctx).await {
            tracing::warn!(error.message = %e, "group schemas not reloaded after a change; they reload on the next miss");
        }
    }

    /// Inserts a group (PUBLIC unless `__STATE__` says otherwise); returns its `_id`.
    pub async fn create_group(
        &self,
        ctx: &CallContext,
        mut doc: Map<String, Value>,
    ) -> Result<String, GroupError> {
        for field in ["_id", "createdAt", "updatedAt", "creatorId", "updaterId"] {
            if doc.contains_key(field) {
                return Err(GroupError::Refused(format!("{field} cannot be set")));
            }
        }
        check_group(&doc, &self.limits)?;
        let name = doc
            .get("userGroup")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        self.ensure_unique(ctx, &name, None).await?;
        doc.entry("__STATE__").or_insert_with(|| json!("PUBLIC"));
        let id = self.groups.insert(ctx, &Value::Object(doc)).await?;
        self.reload(ctx).await;
        Ok(id)
    }

    /// Applies CRUD update operators to a group; the group after the update must be valid.
    pub async fn update_group(
        &self,
        ctx: &CallContext,
        id: &str,
        update: &Value,
    ) -> Result<Value, GroupError> {
        let current = self
            .groups
            .get(ctx, id, &Filter::any_state())
            .await?
            .ok_or_else(|| GroupError::NotFound(format!("group \"{id}\" not found")))?;
        let mut after = current.clone();
        docquery::apply_update(&mut after, update, "1970-01-01T00:00:00.000Z")
            .map_err(|e| GroupError::Refused(e.to_string()))?;
        let Value::Object(after_doc) = &after else {
            return Err(GroupError::Refused("a group must be an object".into()));
        };
        check_group(after_doc, &self.limits)?;
        if after.get("userGroup") != current.get("userGroup") {
            let name = after.get("userGroup").and_then(Value::as_str).unwrap_or_default();
            self.ensure_unique(ctx, name, Some(id)).await?;
        }
        let written = self
            .groups
            .patch(ctx, id, &Filter::any_state(), update)
            .await?
            .ok_or_else(|| GroupError::NotFound(format!("group \"{id}\" not found")))?;
        self.reload(ctx).await;
        Ok(written)
    }

    /// Deletes a group document; 404 when unknown, `Conflict` naming how many users (in any
    /// state) still have its `userGroup`: they could no longer be validated, so never patched.
    pub async fn delete_group(&self, ctx: &CallContext, id: &str) -> Result<(), GroupError> {
        let group = self
            .groups
            .get(ctx, id, &Filter::any_state())
            .await?
            .ok_or_else(|| GroupError::NotFound(format!("group \"{id}\" not found")))?;
        if let Some(name) = group.get("userGroup").and_then(Value::as_str) {
            let members = Filter {
                q: Some(json!({ "userGroup": name })),
                ..Filter::any_state()
            };
            // Counted over every user: `acl_rows` must not hide the users a delete would strand.
            let count = self.users.count(&ctx.unrestricted(), &members, false).await?;
            if count > 0 {
                return Err(GroupError::Conflict(format!(
                    "group \"{name}\" still has {count} user{} (in any state): move them to another group or delete them first",
                    if count == 1 { "" } else { "s" }
                )));
            }
        }
        if !self.groups.delete(ctx, id, &Filter::any_state()).await? {
            return Err(GroupError::NotFound(format!("group \"{id}\" not found")));
        }
        self.reload(ctx).await;
        Ok(())
    }
}
