//! Login, refresh-token rotation and userinfo of the local provider.
//!
//! A login starts a token *family*; each refresh marks the presented refresh token used (a
//! compare-and-set on `used: false`) and issues a new pair in the same family. A used token
//! presented again means it leaked: the whole family is revoked, so the thief's and the user's
//! newer tokens stop working together.

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::credentials::Credential;
use super::{call, internal, is_past, no_session, random_token, timestamp, token_hash, LocalAuth};
use crate::auth::{AuthResult, SessionGrant};
use crate::context::CallContext;
use crate::downstream::CallName;
use crate::secret::Secret;
use crate::store::{DocState, Filter, FindQuery, StoreResult};

/// The 401 of a wrong password and of an unknown user alike.
pub(super) const WRONG_CREDENTIALS: &str = "wrong username or password";
/// The 401 of a refresh token that is unknown, expired, used or revoked, or whose user is
/// blocked or gone (a blocked user learns nothing more than from an invalid token).
pub(super) const BAD_REFRESH: &str = "refresh token is invalid or expired";
/// The 401 of a refresh without a bearer access token.
pub(super) const MISSING_ACCESS: &str =
    "missing access token: send the expired access token as \"authorization: Bearer <token>\"";
/// The 401 of a refresh whose access token this provider did not sign.
pub(super) const BAD_ACCESS: &str = "the access token is invalid: malformed or not signed by this service";
/// The 401 of a refresh whose access token is another user's.
pub(super) const OTHER_USER: &str = "the access token and the refresh token belong to different users";

/// A stored refresh token.
struct RefreshDoc {
    doc_id: String,
    family: String,
    user_id: String,
    used: bool,
    revoked: bool,
    expired: bool,
    /// The token generation of the user when it was issued (0 when not recorded).
    generation: u64,
}

impl RefreshDoc {
    /// The stored token `doc`, its expiry judged at `now`.
    fn from_doc(doc: &Value, now: OffsetDateTime) -> Option<Self> {
        let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_owned);
        let flag = |key: &str| doc.get(key).and_then(Value::as_bool).unwrap_or(false);
        Some(Self {
            doc_id: text("_id")?,
            family: text("family")?,
            user_id: text("userId")?,
            used: flag("used"),
            revoked: flag("revoked"),
            expired: is_past(doc.get("expiresAt"), now),
            generation: doc.get("generation").and_then(Value::as_u64).unwrap_or(0),
        })
    }
}

/// The bearer token of an `authorization` value.
fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl LocalAuth {
    /// `login`: email (any case) or username, and password. An unknown user, a wrong password
    /// and a blocked user with the right password get the same `NoSession` (401), after the same
    /// work (a hash is verified even for an unknown user), and all count as failures; a locked
    /// account, address or login name is `RateLimited` (429) without verifying anything.
    pub(super) async fn log_in(
        &self,
        ctx: &CallContext,
        login: &str,
        password: &Secret,
    ) -> AuthResult<SessionGrant> {
        let call = call("POST", "/oauth/token");
        let found = self.credential_by_login(ctx, login).await?;
        let now = self.now();
        self.ensure_not_locked(ctx, login, found.as_ref(), now)?;
        let stored = found.as_ref().and_then(|c| c.password_hash.clone());
        let matches = self.hasher.verify(password.clone(), stored).await;
        let user = match found {
            Some(user) if matches && !user.blocked => user,
            found => {
                self.record_failure(ctx, login, found.as_ref(), now).await?;
                return Err(no_session(WRONG_CREDENTIALS));
            }
        };
        self.record_success(ctx, &user).await?;
        let family = uuid::Uuid::new_v4().to_string();
        self.grant(ctx, &call, &user, &family).await
    }

    /// `refresh`: rotates the presented refresh token. The access token of the session (bearer,
    /// expired or not) must be signed by this provider and belong to the refresh token's user; a
    /// refused attempt changes nothing (the refresh token stays usable).
    pub(super) async fn rotate(&self, ctx: &CallContext, presented: &Secret) -> AuthResult<SessionGrant> {
        let call = call("POST", "/refreshtoken");
        let session_user = self.expired_session_user(ctx)?;
        let q = json!({ "kind": "refresh", "tokenHash": token_hash(presented.expose()) });
        let query = FindQuery {
            filter: Filter {
                q: Some(q),
                ..Filter::default()
            },
            limit: Some(1),
            ..FindQuery::default()
        };
        let docs = self.config.tokens.find(ctx, &query).await?;
        let now = self.now();
        let Some(token) = docs.first().and_then(|doc| RefreshDoc::from_doc(doc, now)) else {
            return Err(no_session(BAD_REFRESH));
        };
        if token.user_id != session_user {
            return Err(no_session(OTHER_USER));
        }
        if token.used && !token.revoked {
            self.revoke_reused_family(ctx, &token).await?;
        }
        if token.used || token.revoked || token.expired {
            return Err(no_session(BAD_REFRESH));
        }
        let user = match self.credential(ctx, &token.user_id).await? {
            Some(user) if !user.blocked && user.token_generation == token.generation => user,
            _ => return Err(no_session(BAD_REFRESH)),
        };
        let unused = Filter {
            q: Some(json!({ "used": false, "revoked": { "$ne": true } })),
            ..Filter::default()
        };
        let mark = json!({ "$set": { "used": true, "usedAt": timestamp(now) } });
        let marked = self
            .config
            .tokens
            .patch(ctx, &token.doc_id, &unused, &mark)
            .await?;
        if marked.is_none() {
            // Another refresh with the same token won the race: that is a reuse too.
            self.revoke_reused_family(ctx, &token).await?;
            return Err(no_session(BAD_REFRESH));
        }
        self.grant(ctx, &call, &user, &token.family).await
    }

    /// The `sub` of the bearer access token of `ctx.session`, checked for its signature and
    /// issuer but not its expiry.
    fn expired_session_user(&self, ctx: &CallContext) -> AuthResult<String> {
        let authorization = ctx.session.authorization.as_ref();
        let token = authorization
            .and_then(|a| bearer(a.expose()))
            .ok_or_else(|| no_session(MISSING_ACCESS))?;
        self.key
            .verify_ignoring_expiry(&self.config.issuer, token)
            .map(|claims| claims.sub)
            .map_err(|_| no_session(BAD_ACCESS))
    }

    /// `userinfo`: the user of the bearer access token of `ctx.session`.
    pub(super) async fn session_user(&self, ctx: &CallContext) -> AuthResult<Value> {
        let token = ctx
            .session
            .authorization
            .as_ref()
            .and_then(|a| bearer(a.expose()).map(str::to_owned))
            .ok_or_else(|| no_session("missing bearer access token"))?;
        let (_, user) = self.verified_user(ctx, &token).await?;
        let mut info = Map::new();
        info.insert("sub".into(), user.id.into());
        if let Some(email) = user.email {
            info.insert("email".into(), email.into());
        }
        if let Some(username) = user.username {
            info.insert("username".into(), username.into());
        }
        Ok(Value::Object(info))
    }

    /// A new access token and a new refresh token of `family` for `user`:
    /// `{"accessToken", "refreshToken", "expireAt"}`.
    async fn grant(
        &self,
        ctx: &CallContext,
        call: &CallName,
        user: &Credential,
        family: &str,
    ) -> AuthResult<SessionGrant> {
        let issued = self.now();
        let (access, claims) = self
            .key
            .issue(
                &self.config.issuer,
                &user.id,
                user.token_generation,
                issued,
                self.config.access_ttl,
            )
            .map_err(|e| internal(call, e))?;
        let refresh = random_token();
        let doc = json!({
            "kind": "refresh",
            "tokenHash": token_hash(refresh.expose()),
            "family": family,
            "userId": user.id,
            "expiresAt": timestamp(super::after(issued, self.config.refresh_ttl)),
            "used": false,
            "revoked": false,
            "generation": user.token_generation,
            "__STATE__": DocState::Public.as_str(),
        });
        self.config.tokens.insert(ctx, &doc).await?;
        let expire_at = i64::try_from(claims.exp)
            .ok()
            .and_then(|exp| OffsetDateTime::from_unix_timestamp(exp).ok())
            .map(timestamp)
            .unwrap_or_default();
        Ok(SessionGrant {
            body: Some(json!({
                "accessToken": access,
                "refreshToken": refresh.expose(),
                "expireAt": expire_at,
            })),
            set_cookie: Vec::new(),
        })
    }

    /// Revokes every refresh token of the family of a reused token.
    async fn revoke_reused_family(&self, ctx: &CallContext, token: &RefreshDoc) -> StoreResult<()> {
        tracing::warn!(
            user.id = %token.user_id,
            token.family = %token.family,
            "a used refresh token was presented again: revoking its whole family"
        );
        let family = Filter {
            q: Some(json!({ "kind": "refresh", "family": token.family })),
            ..Filter::default()
        };
        let revoke = json!({ "$set": { "revoked": true } });
        self.config
            .tokens
            .patch_many(ctx, &family, &revoke)
            .await
            .map(drop)
    }

    /// Revokes every refresh token of user `id` (after a password reset or a block).
    pub(super) async fn revoke_sessions(&self, ctx: &CallContext, id: &str) -> StoreResult<()> {
        let all = Filter {
            q: Some(json!({ "kind": "refresh", "userId": id, "revoked": { "$ne": true } })),
            ..Filter::default()
        };
        let revoke = json!({ "$set": { "revoked": true } });
        self.config.tokens.patch_many(ctx, &all, &revoke).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_needs_a_token() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("abc"), None);
    }
}
