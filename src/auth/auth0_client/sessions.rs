//! The session routes of the Auth0 Client: `POST /oauth/token` (login), `POST /refreshtoken`
//! and `GET /userinfo`. Only the last two send the caller's session headers.

use reqwest::header::SET_COOKIE;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use super::{read_json, send};
use super::{wire, Auth0Client};
use crate::auth::{AuthResult, SessionGrant};
use crate::context::CallContext;
use crate::downstream::CallName;
use crate::secret::Secret;

impl Auth0Client {
    /// `POST /oauth/token`, form-encoded; only the forwarded headers.
    pub(super) async fn login_call(
        &self,
        ctx: &CallContext,
        username: &str,
        password: &Secret,
    ) -> AuthResult<SessionGrant> {
        let call = self.call("POST", "/oauth/token");
        let mut form = vec![
            ("grant_type", "password"),
            ("username", username),
            ("password", password.expose()),
        ];
        if let Some(connection) = &self.config.connection {
            form.push(("connection", connection.as_str()));
        }
        let builder = self.request(ctx, Method::POST, "/oauth/token").form(&form);
        let response = send(&call, builder).await?;
        read_grant(&call, response).await
    }

    /// `POST /refreshtoken` with the session's `authorization` (and `cookie`).
    pub(super) async fn refresh_call(
        &self,
        ctx: &CallContext,
        refresh_token: &Secret,
    ) -> AuthResult<SessionGrant> {
        let call = self.call("POST", "/refreshtoken");
        let body = json!({ "refresh_token": refresh_token.expose() });
        let builder = self
            .session_request(ctx, Method::POST, "/refreshtoken", &["authorization", "cookie"])
            .json(&body);
        let response = send(&call, builder).await?;
        read_grant(&call, response).await
    }

    /// `GET /userinfo` with the session's `authorization`, `cookie` and `client-key`.
    pub(super) async fn userinfo_call(&self, ctx: &CallContext) -> AuthResult<Value> {
        let call = self.call("GET", "/userinfo");
        let names = ["authorization", "cookie", "client-key"];
        let response = send(&call, self.session_request(ctx, Method::GET, "/userinfo", &names)).await?;
        let body: Value = read_json(&call, response).await?;
        if body.is_object() {
            Ok(body)
        } else {
            Err(wire::unreadable(&call))
        }
    }
}

/// A login or refresh answer: its JSON body if any, and every `set-cookie` value.
async fn read_grant(call: &CallName, response: Response) -> AuthResult<SessionGrant> {
    let set_cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(Secret::new)
        .collect();
    let bytes = wire::read_bytes(call, response).await?;
    let body = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(serde_json::from_slice(&bytes).map_err(|_| wire::unreadable(call))?)
    };
    Ok(SessionGrant { body, set_cookie })
}
