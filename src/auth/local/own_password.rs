//! A person's own password change (`POST /users/me/password`): the current password proves the
//! request, the policy checks the new one, and every session of the user ends with it.

use serde_json::json;

use super::{call, internal, no_session, LocalAuth};
use crate::auth::{AuthError, AuthResult};
use crate::context::CallContext;
use crate::secret::Secret;
use crate::store::Filter;

/// The 403 of a wrong current password.
const WRONG_CURRENT: &str = "currentPassword is not the user's password";

impl LocalAuth {
    /// Sets the password of the user `id` to `new` when `current` is its password and `new`
    /// passes the password policy; raises the token generation (its access tokens stop working)
    /// and revokes its refresh tokens. A blocked or unknown user is refused as a session.
    pub(super) async fn set_own_password(
        &self,
        ctx: &CallContext,
        id: &str,
        current: &Secret,
        new: &Secret,
    ) -> AuthResult<()> {
        let call = call("POST", "/users/me/password");
        let user = match self.credential(ctx, id).await? {
            Some(user) if !user.blocked => user,
            _ => return Err(no_session("the access token's user cannot change its password")),
        };
        if !self
            .hasher
            .verify(current.clone(), user.password_hash.clone())
            .await
        {
            return Err(AuthError::Denied(WRONG_CURRENT.to_owned()));
        }
        let inputs: Vec<&str> = [user.email.as_deref(), user.username.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        self.check_password(new, &inputs)?;
        let hash = self
            .hasher
            .hash(new.clone())
            .await
            .map_err(|e| internal(&call, e))?;
        let set = json!({
            "$set": { "passwordHash": hash },
            "$inc": { "tokenGeneration": 1 },
        });
        self.config
            .credentials
            .patch(ctx, &user.doc_id, &Filter::default(), &set)
            .await?;
        self.revoke_sessions(ctx, &user.id).await?;
        tracing::info!(user.id = %user.id, "password changed by its user");
        Ok(())
    }
}
