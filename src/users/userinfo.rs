//! `GET /userinfo` (SPEC §5 "Authentication and self-service"): the auth provider's userinfo of
//! the caller's session, merged with the store user linked to it and the permissions of its roles.
//!
//! Merge rules:
//! - every property of the provider's userinfo is returned;
//! - the store user's properties are added, filtered by `USERINFO_ADDITIONAL_PROPERTIES` (unset:
//!   every field; empty: none; else the listed ones). A store value replaces a provider value of
//!   the same key, except under `CUSTOM_USER_ID_KEY`, which stays the provider's;
//! - the CRUD bookkeeping fields `__STATE__`, `createdAt`, `updatedAt`, `creatorId` and
//!   `updaterId` are never returned, even when listed; `_id` and `userGroup` are ordinary fields;
//! - with `ROLES_CRUD_ENDPOINT` set and the list unset or naming `permissions`, `permissions` is
//!   the sorted, de-duplicated union of the `permissions` of the user's `roles` (PUBLIC roles only).

use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

use crate::context::{Acl, CallContext};
use crate::store::query::MAX_LIMIT;
use crate::store::{Collection, DocState, Filter, FindQuery, StateFilter};
use crate::users::UserService;
use crate::users::{UserError, UserResult};

/// Store fields never returned by `/userinfo`: the CRUD's state and audit fields.
pub const HIDDEN_FIELDS: [&str; 5] = ["__STATE__", "createdAt", "updatedAt", "creatorId", "updaterId"];

/// The property holding the union of the role permissions.
pub const PERMISSIONS: &str = "permissions";

/// The 401 of a userinfo without the `CUSTOM_USER_ID_KEY` value.
const NOT_LOGGED: &str = "Missing authUserId, user not logged";

/// The merged userinfo of the caller's session.
///
/// 401 without a session (no call is made), when the provider refuses the session, or when its
/// userinfo lacks the `CUSTOM_USER_ID_KEY` value; 404 when no PUBLIC store user is linked.
pub async fn userinfo(svc: &UserService, ctx: &CallContext) -> UserResult<Value> {
    require_session(ctx)?;
    let provider = svc.auth.userinfo(ctx).await?;
    let Value::Object(provider) = provider else {
        return Err(UserError::NotLoggedIn(NOT_LOGGED.into()));
    };
    let key = svc.policy.custom_user_id_key.as_str();
    let auth_id = provider
        .get(key)
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| UserError::NotLoggedIn(NOT_LOGGED.into()))?
        .to_owned();
    let user = linked_user(svc, ctx, &auth_id).await?;
    let listed = svc.policy.userinfo_properties.as_deref();
    let mut merged = merge(provider, &user, listed, key);
    if let Some(roles) = svc
        .role_permissions
        .as_ref()
        .filter(|_| wants_permissions(listed))
    {
        let permissions = role_permissions(roles.as_ref(), ctx, &crate::users::roles(&user)).await?;
        merged.insert(PERMISSIONS.into(), json!(permissions));
    }
    Ok(Value::Object(merged))
}

/// 401 when the request carries neither an `authorization` header nor a `cookie`.
pub fn require_session(ctx: &CallContext) -> UserResult<()> {
    if ctx.session.authorization.is_none() && ctx.session.cookie.is_none() {
        return Err(UserError::NotLoggedIn(
            "no session: send an authorization header or the sid cookie".into(),
        ));
    }
    Ok(())
}

/// The PUBLIC store user whose `authUserId` is `auth_id`; 404 when there is none.
async fn linked_user(svc: &UserService, ctx: &CallContext, auth_id: &str) -> UserResult<Value> {
    let query = FindQuery {
        filter: Filter {
            q: Some(json!({ "authUserId": auth_id })),
            state: Some(StateFilter(vec![DocState::Public])),
            ..Filter::default()
        },
        limit: Some(1),
        ..FindQuery::default()
    };
    let found = svc.store.find(ctx, &query).await?;
    found
        .into_iter()
        .next()
        .ok_or_else(|| UserError::NotFound(format!("no user is linked to auth user \"{auth_id}\"")))
}

/// The provider's userinfo plus the store fields `listed` allows (all when `None`), without the
/// hidden fields; the store value wins on a shared key, except `id_key`.
pub fn merge(
    mut provider: Map<String, Value>,
    user: &Value,
    listed: Option<&[String]>,
    id_key: &str,
) -> Map<String, Value> {
    let Some(fields) = user.as_object() else {
        return provider;
    };
    let allowed = |name: &str| listed.is_none_or(|names| names.iter().any(|n| n == name));
    for (name, value) in fields {
        if name == id_key || HIDDEN_FIELDS.contains(&name.as_str()) || !allowed(name) {
            continue;
        }
        provider.insert(name.clone(), value.clone());
    }
    provider
}

/// Whether `permissions` belongs in the answer: the list is unset or names it.
pub fn wants_permissions(listed: Option<&[String]>) -> bool {
    listed.is_none_or(|names| names.iter().any(|n| n == PERMISSIONS))
}

/// The sorted union of the permissions of the PUBLIC roles among `roles`, read in pages of at
/// most `MAX_LIMIT` role ids. The caller's ACL headers are for the users collection: not sent.
async fn role_permissions(
    roles: &dyn Collection,
    ctx: &CallContext,
    role_ids: &[String],
) -> UserResult<Vec<String>> {
    let mut ids: Vec<&str> = Vec::with_capacity(role_ids.len());
    for id in role_ids {
        if !ids.contains(&id.as_str()) {
            ids.push(id);
        }
    }
    let ctx = CallContext {
        acl: Acl::default(),
        ..ctx.clone()
    };
    let mut docs = Vec::new();
    for chunk in ids.chunks(MAX_LIMIT as usize) {
        let query = FindQuery {
            filter: Filter {
                q: Some(json!({ "roleId": { "$in": chunk } })),
                state: Some(StateFilter(vec![DocState::Public])),
                ..Filter::default()
            },
            limit: Some(u32::try_from(chunk.len()).unwrap_or(MAX_LIMIT)),
            ..FindQuery::default()
        };
        docs.extend(roles.find(&ctx, &query).await?);
    }
    Ok(union_permissions(&docs))
}

/// The sorted, de-duplicated string `permissions` of `roles`.
pub fn union_permissions(roles: &[Value]) -> Vec<String> {
    let set: BTreeSet<&str> = roles
        .iter()
        .filter_map(|role| role.get(PERMISSIONS).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    set.into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn provider() -> Map<String, Value> {
        let value = json!({"sub": "auth0|1", "email": "a@b.c", "name": "provider name"});
        value.as_object().cloned().unwrap_or_default()
    }

    fn store_user() -> Value {
        json!({
            "_id": "u1", "userGroup": "customer", "name": "Ann", "sub": "spoof", "age": 3,
            "__STATE__": "PUBLIC", "createdAt": "x", "updatedAt": "x", "creatorId": "x", "updaterId": "x"
        })
    }

    #[test]
    fn unset_properties_add_every_store_field_but_the_hidden_ones() {
        let merged = merge(provider(), &store_user(), None, "sub");
        assert_eq!(
            Value::Object(merged),
            json!({"sub": "auth0|1", "email": "a@b.c", "name": "Ann", "_id": "u1",
                "userGroup": "customer", "age": 3})
        );
    }

    #[test]
    fn listed_properties_add_only_those_store_fields_and_never_the_hidden_ones() {
        let listed = names(&["name", "createdAt", "missing"]);
        let merged = merge(provider(), &store_user(), Some(&listed), "sub");
        assert_eq!(
            Value::Object(merged),
            json!({"sub": "auth0|1", "email": "a@b.c", "name": "Ann"})
        );
    }

    #[test]
    fn an_empty_list_keeps_the_provider_userinfo_alone() {
        let merged = merge(provider(), &store_user(), Some(&[]), "sub");
        assert_eq!(merged, provider());
        assert!(!wants_permissions(Some(&[])));
    }

    #[test]
    fn permissions_are_wanted_when_unset_or_listed() {
        assert!(wants_permissions(None));
        assert!(wants_permissions(Some(&names(&["name", "permissions"]))));
        assert!(!wants_permissions(Some(&names(&["name"]))));
    }

    #[test]
    fn the_permission_union_is_sorted_and_unique() {
        let roles = [
            json!({"roleId": "a", "permissions": ["z", "b", 3]}),
            json!({"roleId": "b", "permissions": ["b", "a"]}),
            json!({"roleId": "c"}),
        ];
        assert_eq!(union_permissions(&roles), names(&["a", "b", "z"]));
    }
}
