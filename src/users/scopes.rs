//! The administrative scopes a person gets from its group (`scopes` of the group config), for
//! `AUTHZ_MODE=scopes`: read when the person's token lacks the scope a route needs, so a change
//! of group or of group config applies at once.

use crate::context::CallContext;
use crate::users::{str_field, UserResult, UserService};

/// The scope names (unprefixed, as the group config lists them) the PUBLIC store user linked to
/// the auth user `auth_id` gets from its group; none for a user that is not PUBLIC, unknown, or
/// in an unknown group.
pub async fn granted(svc: &UserService, ctx: &CallContext, auth_id: &str) -> UserResult<Vec<String>> {
    let projection = Some(vec!["_id".to_owned(), "userGroup".to_owned()]);
    let found = crate::users::me::linked_public_user(svc, &ctx.internal(), auth_id, projection).await?;
    let Some(group) = found.as_ref().and_then(|user| str_field(user, "userGroup")) else {
        return Ok(Vec::new());
    };
    match svc.groups.get(ctx, group).await {
        Ok(group) => Ok(group.scopes.clone()),
        Err(_) => Ok(Vec::new()),
    }
}
