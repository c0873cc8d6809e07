//! Password reset of the local provider: `change_password` creates a single-use reset token
//! (256 random bits, only its SHA-256 stored, expiring after `reset_ttl`) and delivers it to
//! `PASSWORD_RESET_WEBHOOK_URL`, or to the log when no webhook is set (development);
//! [`LocalAuth::reset_password`] redeems it.

use serde_json::{json, Value};

use super::password_policy;
use super::{call, internal, invalid, is_past, not_found, random_token, timestamp, token_hash, LocalAuth};
use crate::auth::AuthResult;
use crate::context::CallContext;
use crate::downstream::{send, CallName};
use crate::secret::Secret;
use crate::store::{DocState, Filter, FindQuery};

/// The 400 of an unknown, used or expired reset token.
pub const INVALID_RESET_TOKEN: &str = "reset token is invalid or expired";

impl LocalAuth {
    /// `change_password`: a new reset token for user `id`, delivered or logged.
    pub(super) async fn send_reset_token(&self, ctx: &CallContext, id: &str) -> AuthResult<()> {
        let user = self
            .credential(ctx, id)
            .await?
            .ok_or_else(|| not_found(format!("auth user \"{id}\" does not exist")))?;
        let token = random_token();
        let expires_at = timestamp(super::after(self.now(), self.config.reset_ttl));
        let doc = json!({
            "kind": "reset",
            "tokenHash": token_hash(token.expose()),
            "userId": user.id,
            "expiresAt": expires_at,
            "used": false,
            "__STATE__": DocState::Public.as_str(),
        });
        let doc_id = self.config.tokens.insert(ctx, &doc).await?;
        let Some(url) = self.config.reset_webhook_url.as_deref() else {
            // `devResetToken`, not `token`: the redaction hides every `token` field, and this one
            // is meant to be read (POST /users/reset-password) — only ever logged without a webhook.
            tracing::warn!(
                user.id = %user.id,
                reset.expires_at = %expires_at,
                reset.devResetToken = %token.expose(),
                "PASSWORD_RESET_WEBHOOK_URL is not set: password reset token logged for development; \
                 it is a secret that lets anyone set this user's password"
            );
            return Ok(());
        };
        let body = json!({
            "userId": user.id,
            "email": user.email,
            "token": token.expose(),
            "expiresAt": expires_at,
        });
        let webhook = CallName::new("password reset webhook", "POST", "/");
        let builder = self.config.http.post(url).json(&body);
        let builder = match ctx.forward.get("x-request-id") {
            Some(request_id) => builder.header("x-request-id", request_id),
            None => builder,
        };
        if let Err(error) = send(&webhook, builder).await {
            // Nobody received the token: drop it rather than leave a live secret behind.
            if let Err(e) = self.config.tokens.delete(ctx, &doc_id, &Filter::default()).await {
                tracing::warn!(error.message = %e, "undelivered password reset token not deleted");
            }
            return Err(error.into());
        }
        tracing::info!(user.id = %user.id, reset.expires_at = %expires_at, "password reset token delivered to the webhook");
        Ok(())
    }

    /// Redeems a reset token: see [`LocalAuth::reset_password`].
    pub(super) async fn redeem_reset_token(
        &self,
        ctx: &CallContext,
        token: &Secret,
        new_password: &Secret,
    ) -> AuthResult<()> {
        let call = call("POST", "/users/reset-password");
        password_policy::check_length(&self.config.password_policy, new_password.expose())
            .map_err(invalid)?;
        let invalid = || invalid(INVALID_RESET_TOKEN);
        let query = FindQuery {
            filter: Filter {
                q: Some(json!({ "kind": "reset", "tokenHash": token_hash(token.expose()) })),
                ..Filter::default()
            },
            limit: Some(1),
            ..FindQuery::default()
        };
        let docs = self.config.tokens.find(ctx, &query).await?;
        let Some(doc) = docs.first() else {
            return Err(invalid());
        };
        let text = |key: &str| doc.get(key).and_then(Value::as_str);
        let used = doc.get("used").and_then(Value::as_bool).unwrap_or(true);
        let (Some(doc_id), Some(user_id)) = (text("_id"), text("userId")) else {
            return Err(invalid());
        };
        let now = self.now();
        if used || is_past(doc.get("expiresAt"), now) {
            return Err(invalid());
        }
        let user = self.credential(ctx, user_id).await?.ok_or_else(invalid)?;
        let inputs: Vec<&str> = [user.email.as_deref(), user.username.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        self.check_password(new_password, &inputs)?;
        let hash = self
            .hasher
            .hash(new_password.clone())
            .await
            .map_err(|e| internal(&call, e))?;
        let unused = Filter {
            q: Some(json!({ "used": false })),
            ..Filter::default()
        };
        let mark = json!({ "$set": { "used": true, "usedAt": timestamp(now) } });
        if self
            .config
            .tokens
            .patch(ctx, doc_id, &unused, &mark)
            .await?
            .is_none()
        {
            return Err(invalid());
        }
        // A new token generation ends the access tokens issued so far; the lockout ends too (the
        // reset token proves the mailbox).
        let set = json!({
            "$set": { "passwordHash": hash, "failedLogins": 0 },
            "$unset": { "lockedUntil": true },
            "$inc": { "tokenGeneration": 1 },
        });
        let updated = self
            .config
            .credentials
            .patch(ctx, &user.doc_id, &Filter::default(), &set)
            .await?;
        if updated.is_none() {
            return Err(invalid());
        }
        // Older reset tokens of the user die with this one, and so do its sessions.
        let others = Filter {
            q: Some(json!({ "kind": "reset", "userId": user.id, "used": false })),
            ..Filter::default()
        };
        self.config.tokens.patch_many(ctx, &others, &mark).await?;
        self.revoke_sessions(ctx, &user.id).await?;
        tracing::info!(user.id = %user.id, "password reset");
        Ok(())
    }
}
