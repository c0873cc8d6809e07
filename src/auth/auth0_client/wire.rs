//! Auth0 Client wire formats: request bodies built from our types, user objects read back, and
//! the small reading helpers the calls share.

use serde_json::{json, Map, Value};

use crate::auth::AuthError;
use crate::auth::{AuthUser, AuthUserPatch, NewAuthUser};
pub(super) use crate::downstream::{encode_segment, read_bytes};
use crate::downstream::{CallName, Cause, Failure};

/// The error of a 2xx answer whose body is not what the route returns.
pub(super) fn unreadable(call: &CallName) -> AuthError {
    Failure::new(call.clone(), Cause::Failed { status: None }).into()
}

/// Body of `POST /users`; absent fields are omitted; `username` is also `nickname` and `name`.
pub(super) fn new_user_body(user: &NewAuthUser, connection: Option<&str>) -> Map<String, Value> {
    let mut body = Map::new();
    if let Some(email) = &user.email {
        body.insert("email".into(), email.as_str().into());
    }
    if let Some(username) = &user.username {
        for key in ["username", "nickname", "name"] {
            body.insert(key.into(), username.as_str().into());
        }
    }
    body.insert("password".into(), user.password.expose().into());
    body.insert("blocked".into(), user.blocked.into());
    if let Some(connection) = connection {
        body.insert("connection".into(), connection.into());
    }
    body.insert("verify_email".into(), user.send_email.into());
    if let Some(store_id) = &user.user_id {
        body.insert("app_metadata".into(), json!({ MARKER: store_id }));
    }
    body
}

/// The `app_metadata` key that marks an auth user as created by this service for a store user
/// (its value is the store `_id`): how a create with a lost answer, or an orphan, is recognised.
pub(super) const MARKER: &str = "umsUserId";

/// Body of `PATCH /users/{id}` with only the fields set in `patch` (empty if none).
pub(super) fn patch_body(patch: &AuthUserPatch) -> Map<String, Value> {
    let mut body = Map::new();
    if let Some(email) = &patch.email {
        body.insert("email".into(), email.as_str().into());
    }
    if let Some(username) = &patch.username {
        for key in ["username", "nickname", "name"] {
            body.insert(key.into(), username.as_str().into());
        }
    }
    if let Some(blocked) = patch.blocked {
        body.insert("blocked".into(), blocked.into());
    }
    body
}

/// An Auth0 user object as an `AuthUser`; `None` without a string `user_id`.
pub(super) fn auth_user(raw: Value) -> Option<AuthUser> {
    let text = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_owned);
    Some(AuthUser {
        id: text("user_id")?,
        email: text("email"),
        username: text("username"),
        blocked: raw.get("blocked").and_then(Value::as_bool).unwrap_or(false),
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_keep_unreserved_characters_and_encode_the_rest() {
        assert_eq!(encode_segment("auth0|abc-1._~"), "auth0%7Cabc-1._~");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
        assert_eq!(encode_segment("é"), "%C3%A9");
    }

    #[test]
    fn a_user_without_an_id_is_not_a_user() {
        assert!(auth_user(serde_json::json!({ "email": "a@b.c" })).is_none());
        let user = auth_user(serde_json::json!({ "user_id": "auth0|1" }));
        assert_eq!(
            user.map(|u| (u.id, u.blocked)),
            Some(("auth0|1".to_owned(), false))
        );
    }
}
