//! Self-service (cidaas `userinfo`, `userupdate`, `deleteuser`): a person reads, changes and
//! deletes its own user — the store user linked to the auth user its token names — and changes
//! its own password.

use serde_json::{json, Map, Value};

use crate::auth::OwnPasswordChange;
use crate::context::CallContext;
use crate::groups::admin::NEVER_SELF_EDITABLE;
use crate::secret::Secret;
use crate::store::{DocState, Filter, FindQuery};
use crate::users::lifecycle::{change_states, StateRequest};
use crate::users::update::update_user;
use crate::users::{doc_id, str_field, UserError, UserResult, UserService};

/// The PUBLIC store user linked to the auth user `auth_id`; 404 when there is none.
pub async fn find_me(svc: &UserService, ctx: &CallContext, auth_id: &str) -> UserResult<Value> {
    linked_public_user(svc, ctx, auth_id, None)
        .await?
        .ok_or_else(|| UserError::NotFound("no active user is linked to this access token".into()))
}

/// The PUBLIC store user linked to the auth user `auth_id`, read with `projection` under the
/// caller's `ctx` (its ACL headers apply).
pub(crate) async fn linked_public_user(
    svc: &UserService,
    ctx: &CallContext,
    auth_id: &str,
    projection: Option<Vec<String>>,
) -> UserResult<Option<Value>> {
    let query = FindQuery {
        filter: Filter {
            q: Some(json!({"authUserId": auth_id})),
            ..Filter::default()
        },
        projection,
        limit: Some(1),
        ..FindQuery::default()
    };
    Ok(svc.store.find(ctx, &query).await?.into_iter().next())
}

/// Applies `update` (CRUD operators) to the caller's own user, when every field it touches is
/// listed in its group's `selfEditable` (and is not one a user may never change on itself); 400
/// naming the first field that is not. Then as `PATCH /users/{id}`: validated against the group
/// schema, email and username sent to the auth provider.
pub async fn update_me(
    svc: &UserService,
    ctx: &CallContext,
    auth_id: &str,
    update: Value,
) -> UserResult<Value> {
    let me = find_me(svc, ctx, auth_id).await?;
    let group = str_field(&me, "userGroup").unwrap_or_default();
    let editable = svc.groups.get(ctx, group).await?.self_editable.clone();
    for field in touched_fields(&update)? {
        let allowed = editable.contains(&field) && !NEVER_SELF_EDITABLE.contains(&field.as_str());
        if !allowed {
            return Err(UserError::Invalid(format!(
                "\"{field}\" is not a field a user of group \"{group}\" may change on itself \
                 (editable: {}; the group config's selfEditable)",
                match editable.is_empty() {
                    true => "none".to_owned(),
                    false => editable.join(", "),
                }
            )));
        }
    }
    let id = doc_id(&me).unwrap_or_default().to_owned();
    update_user(svc, ctx, &id, Filter::default(), update).await
}

/// The top-level fields an update's operators touch (`$set: {"address.city": ..}` touches
/// `address`).
fn touched_fields(update: &Value) -> UserResult<Vec<String>> {
    let Value::Object(operators) = update else {
        return Err(UserError::Invalid(
            "body must be an object of update operators, e.g. {\"$set\": {...}}".into(),
        ));
    };
    let mut fields = Vec::new();
    for (operator, paths) in operators {
        let Some(paths) = paths.as_object() else {
            return Err(UserError::Invalid(format!(
                "{operator} must be an object of fields"
            )));
        };
        fields.extend(paths.keys().map(|path| top_level(path)));
    }
    if fields.is_empty() {
        return Err(UserError::Invalid("the update changes no field".into()));
    }
    Ok(fields)
}

fn top_level(path: &str) -> String {
    path.split('.').next().unwrap_or(path).to_owned()
}

/// Changes the caller's own password (`currentPassword`, `newPassword`): with the local
/// provider it is set and every session ends; with the Auth0 Client its change-password email
/// is sent instead.
pub async fn change_my_password(
    svc: &UserService,
    ctx: &CallContext,
    auth_id: &str,
    current: &Secret,
    new: &Secret,
) -> UserResult<OwnPasswordChange> {
    find_me(svc, ctx, auth_id).await?;
    Ok(svc.auth.change_own_password(ctx, auth_id, current, new).await?)
}

/// Deletes the caller's own account: its user moves to TRASH (its auth user blocked, which ends
/// its sessions), as `POST /users/state` would move it.
pub async fn delete_me(svc: &UserService, ctx: &CallContext, auth_id: &str) -> UserResult<()> {
    let me = find_me(svc, ctx, auth_id).await?;
    let id = doc_id(&me).unwrap_or_default().to_owned();
    let mut filter = Map::new();
    filter.insert("_id".to_owned(), Value::String(id));
    let request = StateRequest::new(filter, DocState::Trash).map_err(UserError::Invalid)?;
    change_states(svc, ctx, &[request]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_touches_the_top_level_fields_of_its_paths() {
        let update = json!({"$set": {"name": "A", "address.city": "Rome"}, "$unset": {"phone": true}});
        let mut fields = touched_fields(&update).unwrap();
        fields.sort();
        assert_eq!(fields, ["address", "name", "phone"]);
        assert!(touched_fields(&json!({})).is_err());
        assert!(touched_fields(&json!({"$set": 3})).is_err());
        assert!(touched_fields(&json!([1])).is_err());
    }
}
