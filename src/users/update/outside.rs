//! What of an update reaches beyond the store: the changes [`super::apply`] syncs to the auth
//! user, Rönd and the Timer Service. A caller that writes many users with one store call (the
//! import) asks [`syncs_outside_store`] which of them must go through [`super::apply`] instead.

use serde_json::Value;

use super::changes::{self, ExpiryChange};
use crate::users::effects::rond_subject;
use crate::users::{auth_user_id, roles, UserService};

/// Whether turning user `before` into `after` changes anything [`super::apply`] syncs: the
/// email, username or blocked of a linked auth user; the roles, with Rönd and a subject; the
/// expiration date (or an invalid one), with the Timer Service. When false, writing `after` to
/// the store alone leaves the other systems consistent with it.
pub(crate) fn syncs_outside_store(svc: &UserService, before: &Value, after: &Value) -> bool {
    touches_auth(before, after) || touches_roles(svc, before, after) || touches_expiry(svc, before, after)
}

/// The user is linked and its email, username or blocked changes.
pub(super) fn touches_auth(before: &Value, after: &Value) -> bool {
    auth_user_id(before).is_some() && changes::auth_patches(before, after).0 != Default::default()
}

fn touches_roles(svc: &UserService, before: &Value, after: &Value) -> bool {
    svc.roles.is_some()
        && changes::roles_changed(&roles(before), &roles(after))
        && rond_subject(svc, after).is_some()
}

fn touches_expiry(svc: &UserService, before: &Value, after: &Value) -> bool {
    svc.expiry.is_some() && !matches!(changes::expiry_change(before, after), Ok(ExpiryChange::Unchanged))
}
