//! Login lockout of the local provider (`LOGIN_MAX_FAILURES`, `LOGIN_MAX_FAILURES_PER_ADDRESS`,
//! `LOGIN_LOCKOUT_SECONDS`).
//!
//! - Per account, persisted on the credential so that every replica sees it: `failedLogins` counts
//!   consecutive failures (`$inc`, so concurrent failures all count); the one reaching the
//!   threshold sets `lockedUntil` and starts the count again from 0. A locked account is answered
//!   429 with the time left, even for the right password, without verifying it. A successful
//!   login clears both fields. A blocked user's right password counts as a failure, so that the
//!   lockout does not tell a blocked account with its right password from a wrong one.
//! - Per client address and per unknown login name, in memory per replica ([`super::throttle`]).
//!
//! Locking an account ends its sessions (issue 12: the password being guessed may be right): its
//! token generation is raised and its refresh tokens revoked. The price: whoever knows a login
//! name can log its owner out, at most once every `LOGIN_LOCKOUT_SECONDS`.

use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;

use super::credentials::Credential;
use super::throttle::{remaining, Key};
use super::{timestamp, LocalAuth};
use crate::auth::{AuthError, AuthResult};
use crate::context::CallContext;
use crate::store::Filter;

/// The message of the 429 of a locked account or address.
pub(super) const LOCKED: &str = "too many failed logins: try again later";

/// The 429 of a lock with `wait` left.
fn locked(wait: Duration) -> AuthError {
    AuthError::RateLimited {
        retry_after: Some(wait),
        message: LOCKED.to_owned(),
    }
}

impl LocalAuth {
    /// `RateLimited` when the client address of `ctx`, the account `found` or (no account) the
    /// login name is locked at `now`.
    pub(super) fn ensure_not_locked(
        &self,
        ctx: &CallContext,
        login: &str,
        found: Option<&Credential>,
        now: OffsetDateTime,
    ) -> AuthResult<()> {
        if let Some(ip) = ctx.client_address {
            if let Some(wait) = self.throttle.locked(&Key::address(ip), now) {
                return Err(locked(wait));
            }
        }
        let wait = match found {
            Some(user) => user.locked_until.and_then(|until| remaining(until, now)),
            None => self.throttle.locked(&Key::unknown_login(login), now),
        };
        wait.map_or(Ok(()), |wait| Err(locked(wait)))
    }

    /// Counts a failed login of `login` (the account `found`, when there is one) from the client
    /// address of `ctx`, locking what reached its threshold.
    pub(super) async fn record_failure(
        &self,
        ctx: &CallContext,
        login: &str,
        found: Option<&Credential>,
        now: OffsetDateTime,
    ) -> AuthResult<()> {
        let policy = &self.config.lockout;
        if let Some(ip) = ctx.client_address {
            let key = Key::address(ip);
            if self
                .throttle
                .fail(key, policy.max_failures_per_address, policy.lockout, now)
            {
                tracing::warn!(client.address = %ip, "too many failed logins from this address: locked");
            }
        }
        let Some(user) = found else {
            let key = Key::unknown_login(login);
            self.throttle.fail(key, policy.max_failures, policy.lockout, now);
            return Ok(());
        };
        let count = json!({ "$inc": { "failedLogins": 1 } });
        let counted = self
            .config
            .credentials
            .patch(ctx, &user.doc_id, &Filter::default(), &count)
            .await?;
        let failures = counted
            .as_ref()
            .and_then(|doc| doc.get("failedLogins"))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        if failures < u64::from(policy.max_failures) {
            return Ok(());
        }
        let until = super::after(now, policy.lockout);
        // A lock ends the user's sessions too (its password may be the one being guessed): a new
        // token generation, and its refresh tokens revoked.
        let lock = json!({
            "$set": { "failedLogins": 0, "lockedUntil": timestamp(until) },
            "$inc": { "tokenGeneration": 1 },
        });
        self.config
            .credentials
            .patch(ctx, &user.doc_id, &Filter::default(), &lock)
            .await?;
        self.revoke_sessions(ctx, &user.id).await?;
        tracing::warn!(user.id = %user.id, locked.until = %timestamp(until), "too many failed logins: account locked, sessions ended");
        Ok(())
    }

    /// A successful login: clears the failure count and an expired lock of `user`, when set.
    pub(super) async fn record_success(&self, ctx: &CallContext, user: &Credential) -> AuthResult<()> {
        if user.failed_logins == 0 && user.locked_until.is_none() {
            return Ok(());
        }
        let clear = json!({ "$set": { "failedLogins": 0 }, "$unset": { "lockedUntil": true } });
        self.config
            .credentials
            .patch(ctx, &user.doc_id, &Filter::default(), &clear)
            .await?;
        Ok(())
    }
}
