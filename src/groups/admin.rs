//! Management of the group-config collection (`/groups`): every written group has a
//! `crudSchema` that compiles, a unique `userGroup`, and the registry reloads at once so the
//! change applies to the next request.

use serde_json::{json, Map, Value};

use super::Group;
use crate::config::InputLimits;
use crate::context::CallContext;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Filter, FindQuery};

/// Fields a group document may carry (besides the store's standard fields).
const GROUP_FIELDS: [&str; 4] = ["userGroup", "label", "authUserCreationDisabled", "crudSchema"];
const STANDARD_FIELDS: [&str; 6] = [
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
pub fn check_group(doc: &Map<String, Value>, limits: &InputLimits) -> Result<(), ApiError> {
    if let Some(unknown) = doc
        .keys()
        .find(|k| !GROUP_FIELDS.contains(&k.as_str()) && !STANDARD_FIELDS.contains(&k.as_str()))
    {
        return Err(ApiError::BadRequest(format!(
            "unknown group field \"{unknown}\": a group has userGroup, label, authUserCreationDisabled and crudSchema"
        )));
    }
    let name = doc
        .get("userGroup")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::BadRequest("userGroup is required and must be a non-empty string".into()))?;
    if doc.get("label").is_some_and(|l| !l.is_string()) {
        return Err(ApiError::BadRequest("label must be a string".into()));
    }
    if doc
        .get("authUserCreationDisabled")
        .is_some_and(|d| !d.is_boolean())
    {
        return Err(ApiError::BadRequest(
            "authUserCreationDisabled must be a boolean".into(),
        ));
    }
    let schema = doc
        .get("crudSchema")
        .ok_or_else(|| ApiError::BadRequest("crudSchema is required".into()))?;
    Group::compile(name, None, false, schema, limits).map_err(|reason| {
        ApiError::BadRequest(format!(
            "crudSchema of group \"{name}\" does not compile: {reason}"
        ))
    })?;
    Ok(())
}

async fn ensure_unique(
    state: &AppState,
    ctx: &CallContext,
    name: &str,
    except: Option<&str>,
) -> Result<(), ApiError> {
    let query = FindQuery {
        filter: Filter {
            q: Some(json!({"userGroup": name})),
            ..Filter::any_state()
        },
        limit: Some(2),
        ..FindQuery::default()
    };
    let taken = state
        .groups
        .find(ctx, &query)
        .await?
        .iter()
        .any(|g| g.get("_id").and_then(Value::as_str) != except);
    if taken {
        return Err(ApiError::Conflict(format!("userGroup \"{name}\" already exists")));
    }
    Ok(())
}

async fn reload(state: &AppState, ctx: &CallContext) {
    if let Err(e) = state.group_registry.refresh(ctx).await {
        tracing::warn!(error.message = %e, "group schemas not reloaded after a change; they reload on the next miss");
    }
}

/// Inserts a group (PUBLIC unless `__STATE__` says otherwise); returns its `_id`.
pub async fn create_group(
    state: &AppState,
    ctx: &CallContext,
    mut doc: Map<String, Value>,
) -> Result<String, ApiError> {
    for field in ["_id", "createdAt", "updatedAt", "creatorId", "updaterId"] {
        if doc.contains_key(field) {
            return Err(ApiError::BadRequest(format!("{field} cannot be set")));
        }
    }
    check_group(&doc, &state.config.limits)?;
    let name = doc
        .get("userGroup")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    ensure_unique(state, ctx, &name, None).await?;
    doc.entry("__STATE__").or_insert_with(|| json!("PUBLIC"));
    let id = state.groups.insert(ctx, &Value::Object(doc)).await?;
    reload(state, ctx).await;
    Ok(id)
}

/// Applies CRUD update operators to a group; the group after the update must be valid.
pub async fn update_group(
    state: &AppState,
    ctx: &CallContext,
    id: &str,
    update: &Value,
) -> Result<Value, ApiError> {
    let current = state
        .groups
        .get(ctx, id, &Filter::any_state())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("group \"{id}\" not found")))?;
    let mut after = current.clone();
    docquery::apply_update(&mut after, update, "1970-01-01T00:00:00.000Z")
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let Value::Object(after_doc) = &after else {
        return Err(ApiError::BadRequest("a group must be an object".into()));
    };
    check_group(after_doc, &state.config.limits)?;
    if after.get("userGroup") != current.get("userGroup") {
        let name = after.get("userGroup").and_then(Value::as_str).unwrap_or_default();
        ensure_unique(state, ctx, name, Some(id)).await?;
    }
    let written = state
        .groups
        .patch(ctx, id, &Filter::any_state(), update)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("group \"{id}\" not found")))?;
    reload(state, ctx).await;
    Ok(written)
}

/// Deletes a group document; 404 when unknown.
pub async fn delete_group(state: &AppState, ctx: &CallContext, id: &str) -> Result<(), ApiError> {
    if !state.groups.delete(ctx, id, &Filter::any_state()).await? {
        return Err(ApiError::NotFound(format!("group \"{id}\" not found")));
    }
    reload(state, ctx).await;
    Ok(())
}
