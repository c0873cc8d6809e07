//! Linking users to auth users: `POST /users/with-id` (a new store user for an existing auth
//! user) and `POST /users/register` (a new auth user for an existing store-only user).

use serde_json::{json, Map, Value};

use super::{compensate_insert, create_auth_user, input, new_auth_user, sync_expiry, sync_roles, with_field};
use crate::context::CallContext;
use crate::groups;
use crate::journal::{Operation, Plan};
use crate::secret::Secret;
use crate::store::{Filter, FindQuery};
use crate::users::intent;
use crate::users::saga::Saga;
use crate::users::UserError;
use crate::users::UserService;
use crate::users::{auth_user_id, doc_id, str_field};

/// The body of `POST /users/register`.
#[derive(Clone, Debug)]
pub struct Registration {
    /// `_id` of the store user.
    pub id: String,
    /// The auth user's initial password; random when absent (with `RANDOM_PWD_GEN`).
    pub password: Option<Secret>,
}

/// `POST /users/with-id`: a store user for the existing auth user `authUserId` of the body.
/// 409 when a store user (any state) is already linked to it, 404 when the auth provider does not
/// know it; otherwise the same validation, roles and expiry as `create_user`. The auth user is
/// never deleted by a compensation. Returns the new `_id`.
pub async fn create_with_id(
    svc: &UserService,
    ctx: &CallContext,
    body: Map<String, Value>,
) -> Result<String, UserError> {
    let input::NewUserDoc { doc, .. } = input::prepare(body, input::Route::WithId)?;
    let group = groups::validate_user(&svc.groups, &svc.limits, ctx, &doc).await?;
    input::check_expiration(&doc)?;
    if group.auth_user_creation_disabled {
        return Err(no_auth_users(&group.name));
    }
    let auth_id = auth_user_id(&doc).unwrap_or_default().to_owned();
    ensure_unlinked(svc, ctx, &auth_id).await?;
    if svc.auth.get_user(ctx, &auth_id).await?.is_none() {
        return Err(UserError::NotFound(format!(
            "auth user \"{auth_id}\" does not exist"
        )));
    }
    let id = svc.store.insert(ctx, &doc).await?;
    let mut saga = Saga::new("create user with id");
    compensate_insert(&mut saga, svc, ctx, &id);
    let doc = with_field(doc, "_id", &id);
    let synced = match sync_roles(svc, ctx, &mut saga, &doc).await {
        Ok(()) => sync_expiry(svc, ctx, &mut saga, &id, &doc).await,
        Err(error) => Err(error),
    };
    match synced {
        Ok(()) => {
            tracing::info!(user.id = %id, auth_user.id = %auth_id, "user created for an existing auth user");
            Ok(id)
        }
        Err(error) => Err(saga.fail(error).await),
    }
}

/// `POST /users/register`: creates the auth user of a store-only user (any state) from its
/// email and username, links it and grants its roles. 404 for an unknown user, 409 when it is
/// already linked, 400 when its group does not allow auth users. On failure the auth user is
/// deleted and the link removed.
pub async fn register(
    svc: &UserService,
    ctx: &CallContext,
    registration: Registration,
    send_reset_password_email: bool,
) -> Result<(), UserError> {
    let Registration { id, password } = registration;
    let user = svc.store.get(&ctx.internal(), &id, &Filter::any_state()).await?;
    let user = user.ok_or_else(|| UserError::NotFound(format!("user \"{id}\" not found")))?;
    if let Some(linked) = auth_user_id(&user) {
        return Err(UserError::Conflict(format!(
            "user \"{id}\" is already linked to auth user \"{linked}\""
        )));
    }
    let group_name = str_field(&user, "userGroup")
        .ok_or_else(|| UserError::Invalid(format!("user \"{id}\" has no userGroup")))?;
    let group = svc.groups.get(ctx, group_name).await?;
    if group.auth_user_creation_disabled {
        return Err(no_auth_users(&group.name));
    }
    let blocked = input::starts_blocked(&user, input::stored_state(&user));
    let new_auth = new_auth_user(svc, &user, blocked, password, send_reset_password_email)?;
    let tracked = intent::begin(svc, ctx, Plan::new(Operation::Register, &[&id])).await?;
    let mut saga = Saga::new("register user");
    let auth_id = match create_auth_user(svc, ctx, &mut saga, &new_auth).await {
        Ok(auth_id) => auth_id,
        Err(error) => return Err(tracked.settle(ctx, saga.undo(error).await).await),
    };
    let linked = match link(svc, ctx, &mut saga, &id, &user, &auth_id).await {
        Ok(()) => sync_roles(svc, ctx, &mut saga, &with_field(user, "authUserId", &auth_id)).await,
        Err(error) => Err(error),
    };
    match linked {
        Ok(()) => {
            tracked.close(ctx).await;
            tracing::info!(user.id = %id, auth_user.id = %auth_id, "auth user registered");
            Ok(())
        }
        Err(error) => Err(tracked.settle(ctx, saga.undo(error).await).await),
    }
}

/// Sets `authUserId` on the store user, only if it is still unlinked as it was read
/// (compare-and-set: two concurrent registrations cannot both link); the compensation removes
/// the link again, only if it is still this one.
async fn link<'a>(
    svc: &'a UserService,
    ctx: &'a CallContext,
    saga: &mut Saga<'a>,
    id: &str,
    user: &Value,
    auth_id: &str,
) -> Result<(), UserError> {
    let as_read = user
        .get("authUserId")
        .cloned()
        .unwrap_or(json!({"$exists": false}));
    let unlinked = Filter {
        q: Some(json!({ "authUserId": as_read })),
        ..Filter::any_state()
    };
    let update = json!({"$set": {"authUserId": auth_id}});
    if svc.store.patch(ctx, id, &unlinked, &update).await?.is_none() {
        return Err(UserError::Conflict(format!(
            "user \"{id}\" was deleted or linked to another auth user meanwhile"
        )));
    }
    let linked = Filter {
        q: Some(json!({ "authUserId": auth_id })),
        ..Filter::any_state()
    };
    let undo_id = id.to_owned();
    let unset = json!({"$unset": {"authUserId": true}});
    saga.compensate_with(
        "link auth user",
        format!("unset authUserId of store user {id}"),
        async move { svc.store.patch(ctx, &undo_id, &linked, &unset).await.map(drop) },
    );
    Ok(())
}

/// 409 when a store user, in any state, is already linked to `auth_id`.
async fn ensure_unlinked(svc: &UserService, ctx: &CallContext, auth_id: &str) -> Result<(), UserError> {
    let query = FindQuery {
        filter: Filter {
            q: Some(json!({ "authUserId": auth_id })),
            ..Filter::any_state()
        },
        limit: Some(1),
        ..FindQuery::default()
    };
    let found = svc.store.find(&ctx.internal(), &query).await?;
    match found.first() {
        Some(user) => Err(UserError::Conflict(format!(
            "authUserId \"{auth_id}\" is already linked to user \"{}\"",
            doc_id(user).unwrap_or_default()
        ))),
        None => Ok(()),
    }
}

/// The 400 of a group with `authUserCreationDisabled`.
fn no_auth_users(group: &str) -> UserError {
    UserError::Invalid(format!("userGroup \"{group}\" does not allow auth users"))
}
