//! Creating users (SPEC §5 `POST /users/`, `POST /users/with-id`, `POST /users/register`).
//!
//! The body is checked and validated against its group schema before anything is written; then a
//! [`Saga`] writes the user store, the auth provider, Rönd and the Timer Service in that order,
//! and when a step fails it undoes the completed ones in reverse order and returns the failing
//! step's error (which names the downstream call). Passwords never reach the store, logs or errors.

pub(crate) mod input;
mod link;

pub use link::{create_with_id, register, Registration};

use serde_json::{json, Map, Value};

use super::converge::created_by_key;
use super::effects::{abort_expiry, grant_roles, revoke_roles, rond_subject, schedule_expiry};
use super::intent::{self, Tracked};
use super::password::random_password;
use super::saga::Saga;
use super::{auth_user_id, roles, str_field};
use crate::auth::{AuthError, NewAuthUser};
use crate::context::CallContext;
use crate::failure::Outcome;
use crate::groups;
use crate::jobs::now_millis;
use crate::journal::{LoginKey, Operation, Plan};
use crate::secret::Secret;
use crate::store::Filter;
use crate::users::UserError;
use crate::users::UserService;

/// The query options of `POST /users/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateOptions {
    /// `postponeAuthUserCreation`: store the user only; `POST /users/register` creates the auth
    /// user later.
    pub postpone_auth_user_creation: bool,
    /// `sendResetPwdEmail`: ask the auth provider to email the new user.
    pub send_reset_password_email: bool,
}

impl Default for CreateOptions {
    /// The route defaults: create the auth user now and send the email.
    fn default() -> Self {
        Self {
            postpone_auth_user_creation: false,
            send_reset_password_email: true,
        }
    }
}

/// `POST /users/`: checks and validates `body`, inserts the user (`__STATE__` PUBLIC unless the
/// body sets it), creates its auth user (unless its group has `authUserCreationDisabled` or the
/// creation is postponed) and links it, grants its roles (only to users with an auth user) and
/// schedules its expiry. Returns the new `_id`.
pub async fn create_user(
    svc: &UserService,
    ctx: &CallContext,
    body: Map<String, Value>,
    options: CreateOptions,
) -> Result<String, UserError> {
    let input::NewUserDoc {
        doc,
        state: doc_state,
        password,
    } = input::prepare(body, input::Route::Create)?;
    let group = groups::validate_user(&svc.groups, &svc.limits, ctx, &doc).await?;
    input::check_expiration(&doc)?;
    let new_auth = if group.auth_user_creation_disabled || options.postpone_auth_user_creation {
        None
    } else {
        let blocked = input::starts_blocked(&doc, doc_state);
        Some(new_auth_user(
            svc,
            &doc,
            blocked,
            password,
            options.send_reset_password_email,
        )?)
    };
    let tracked = match &new_auth {
        Some(new_auth) => {
            let key = LoginKey {
                email: new_auth.email.clone(),
                username: new_auth.username.clone(),
            };
            intent::begin(svc, ctx, Plan::new(Operation::Create, &[]).key(key)).await?
        }
        None => Tracked::none(),
    };
    let started = now_millis();
    let id = match insert(svc, ctx, &doc, new_auth.as_ref(), started).await {
        Ok(id) => id,
        Err(error) => return Err(tracked.fail(ctx, error).await),
    };
    tracked.step(ctx, "inserted", &[("userIds", json!([id]))]).await;
    let mut saga = Saga::new("create user");
    compensate_insert(&mut saga, svc, ctx, &id);
    match after_insert(svc, ctx, &mut saga, &id, with_field(doc, "_id", &id), new_auth).await {
        Ok(()) => {
            tracked.close(ctx).await;
            tracing::info!(user.id = %id, "user created");
            Ok(id)
        }
        Err(error) => Err(tracked.settle(ctx, saga.undo(error).await).await),
    }
}

/// Inserts `doc`. An insert whose outcome is unknown is verified: the user with its email (or
/// username) created since `started`, unlinked, is the one it inserted.
async fn insert(
    svc: &UserService,
    ctx: &CallContext,
    doc: &Value,
    new_auth: Option<&NewAuthUser>,
    started: i64,
) -> Result<String, UserError> {
    let error = match svc.store.insert(ctx, doc).await {
        Ok(id) => return Ok(id),
        Err(error) if error.outcome() == Outcome::Unknown => error,
        Err(error) => return Err(error.into()),
    };
    let key = LoginKey {
        email: new_auth.and_then(|a| a.email.clone()),
        username: new_auth.and_then(|a| a.username.clone()),
    };
    match created_by_key(svc, ctx, &key, started).await {
        Ok(Some(id)) => {
            tracing::warn!(user.id = %id, error.message = %error, "store insert verified as applied");
            Ok(id)
        }
        Ok(None) => Err(error.into()),
        Err(lookup) => {
            tracing::warn!(error.message = %error, verification.error = %lookup,
                "store insert with an unknown outcome could not be verified: the saga stays open");
            Err(error.into())
        }
    }
}

/// The steps of `create_user` after the insert: auth user and link, roles, expiry.
async fn after_insert<'a>(
    svc: &'a UserService,
    ctx: &'a CallContext,
    saga: &mut Saga<'a>,
    id: &str,
    mut doc: Value,
    new_auth: Option<NewAuthUser>,
) -> Result<(), UserError> {
    if let Some(mut new_auth) = new_auth {
        new_auth.user_id = Some(id.to_owned());
        let auth_id = create_auth_user(svc, ctx, saga, &new_auth).await?;
        let update = json!({"$set": {"authUserId": auth_id}});
        patch_user(svc, ctx, id, &Filter::any_state(), &update).await?;
        doc = with_field(doc, "authUserId", &auth_id);
    }
    sync_roles(svc, ctx, saga, &doc).await?;
    sync_expiry(svc, ctx, saga, id, &doc).await
}

/// The auth user to create for `doc`: its email and username, the given password or (with
/// `RANDOM_PWD_GEN`) a random one of `RANDOM_PWD_LENGTH`, else 400.
fn new_auth_user(
    svc: &UserService,
    doc: &Value,
    blocked: bool,
    password: Option<Secret>,
    send_email: bool,
) -> Result<NewAuthUser, UserError> {
    let users = &svc.policy;
    let password = match password {
        Some(password) => password,
        None if users.random_password => random_password(users.random_password_length),
        None => {
            return Err(UserError::Invalid(
                "password is required when RANDOM_PWD_GEN is false".to_owned(),
            ))
        }
    };
    Ok(NewAuthUser {
        user_id: str_field(doc, "_id").map(str::to_owned),
        email: str_field(doc, "email").map(str::to_owned),
        username: str_field(doc, "username").map(str::to_owned),
        password,
        blocked,
        send_email,
    })
}

/// Creates the auth user and registers its deletion as the compensation; returns its id.
async fn create_auth_user<'a>(
    svc: &'a UserService,
    ctx: &'a CallContext,
    saga: &mut Saga<'a>,
    new_auth: &NewAuthUser,
) -> Result<String, UserError> {
    let auth_id = match svc.auth.create_user(ctx, new_auth).await {
        Ok(created) => created.id,
        Err(error) if error.outcome() == Outcome::Unknown => {
            verify_auth_create(svc, ctx, new_auth, error).await?
        }
        Err(error) => return Err(error.into()),
    };
    let undo_id = auth_id.clone();
    saga.compensate_with(
        "create auth user",
        format!("delete auth user {auth_id}"),
        async move {
            match svc.auth.delete_user(ctx, &undo_id).await {
                Err(e) if e.is_not_found() => Ok(()),
                other => other,
            }
        },
    );
    Ok(auth_id)
}

/// After an auth create whose outcome is unknown (timeout, dropped connection, 5xx): the auth
/// user it created, found by the marker of its store user, when there is one; otherwise the
/// create's `error` (nothing was created). When the lookup fails too, the error is returned and
/// the possible leftover is logged for repair.
async fn verify_auth_create(
    svc: &UserService,
    ctx: &CallContext,
    new_auth: &NewAuthUser,
    error: AuthError,
) -> Result<String, UserError> {
    let Some(store_id) = new_auth.user_id.as_deref() else {
        return Err(error.into());
    };
    match svc.auth.find_created_for(ctx, store_id).await {
        Ok(Some(created)) => {
            tracing::warn!(user.id = store_id, auth_user.id = %created.id, error.message = %error,
                "auth user create verified as applied");
            Ok(created.id)
        }
        Ok(None) => Err(error.into()),
        Err(lookup) => {
            tracing::error!(user.id = store_id, error.message = %error, verification.error = %lookup,
                "auth user create with an unknown outcome could not be verified: \
                 an auth user marked with this store id may be left, repair by hand");
            Err(error.into())
        }
    }
}

/// Registers the deletion of the just inserted user `id` (any state) as the compensation.
fn compensate_insert<'a>(saga: &mut Saga<'a>, svc: &'a UserService, ctx: &'a CallContext, id: &str) {
    let undo_id = id.to_owned();
    saga.compensate_with("insert user", format!("delete store user {id}"), async move {
        svc.store
            .delete(ctx, &undo_id, &Filter::any_state())
            .await
            .map(drop)
    });
}

/// Grants the user's `roles` in Rönd, only to a user linked to an auth user (store-only users
/// get no roles); the compensation revokes the subject's bindings.
async fn sync_roles<'a>(
    svc: &'a UserService,
    ctx: &'a CallContext,
    saga: &mut Saga<'a>,
    doc: &Value,
) -> Result<(), UserError> {
    if auth_user_id(doc).is_none() || !grant_roles(svc, ctx, doc, &roles(doc)).await? {
        return Ok(());
    }
    let subject = rond_subject(svc, doc).unwrap_or_default();
    let doc = doc.clone();
    saga.compensate_with(
        "grant roles",
        format!("revoke the Rönd bindings of subject {subject}"),
        async move { revoke_roles(svc, ctx, &doc).await },
    );
    Ok(())
}

/// Schedules the expiry timer of a user with `expirationDate` and stores its `expirationId`;
/// the compensation aborts the timer. Nothing without `expirationDate` or `TIMER_SERVICE`.
async fn sync_expiry<'a>(
    svc: &'a UserService,
    ctx: &'a CallContext,
    saga: &mut Saga<'a>,
    id: &str,
    doc: &Value,
) -> Result<(), UserError> {
    let Some(date) = str_field(doc, "expirationDate") else {
        return Ok(());
    };
    let Some(expiration_id) = schedule_expiry(svc, ctx, id, date).await? else {
        return Ok(());
    };
    let undo_id = expiration_id.clone();
    saga.compensate_with(
        "schedule expiry",
        format!("abort timer {expiration_id}"),
        async move { abort_expiry(svc, ctx, &undo_id).await },
    );
    let update = json!({"$set": {"expirationId": expiration_id}});
    patch_user(svc, ctx, id, &Filter::any_state(), &update)
        .await
        .map(drop)
}

/// Patches the user `id`; a document that vanished meanwhile is an internal error.
async fn patch_user(
    svc: &UserService,
    ctx: &CallContext,
    id: &str,
    filter: &Filter,
    update: &Value,
) -> Result<Value, UserError> {
    svc.store.patch(ctx, id, filter, update).await?.ok_or_else(|| {
        UserError::Internal(format!(
            "user {id} vanished from the user store while it was being created"
        ))
    })
}

/// `doc` with the string `field` set to `value`.
fn with_field(mut doc: Value, field: &str, value: &str) -> Value {
    if let Some(fields) = doc.as_object_mut() {
        fields.insert(field.to_owned(), value.into());
    }
    doc
}
