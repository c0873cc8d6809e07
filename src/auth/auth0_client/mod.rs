//! The Auth0 Client adapter of the `AuthProvider` port (contracts/peers.md §1): the Mia Auth0
//! Client's `/users` Management facade, its login routes and its bulk-import job routes.
//!
//! Headers: `ctx.forward` goes on every call, minus `acl_rows`/`acl_read_columns` (never sent to
//! the auth provider, UMS 1.4.3) and minus `authorization`/`cookie`/`client-key`, which only the
//! session routes (`/userinfo`, `/refreshtoken`) send, taken from `ctx.session`.

mod bulk_import;
mod sessions;
mod wire;

use async_trait::async_trait;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use super::{
    AuthProvider, AuthResult, AuthUser, AuthUserPatch, Capabilities, ImportFailure, ImportJob, NewAuthUser,
    SessionGrant,
};
use crate::auth::AuthError;
use crate::context::CallContext;
use crate::downstream::read_json as read_json_body;
use crate::downstream::{forward_headers, CallName, Cause, Failure};
use crate::secret::Secret;

/// Service name in errors, logs and metrics.
const SERVICE: &str = "Auth0 Client";
/// Most ids asked in one `GET /users` call.
const MAX_IDS_PER_CALL: usize = 100;
/// Headers of `ctx.forward` never sent to the auth provider.
const NEVER_FORWARDED: [&str; 2] = ["acl_rows", "acl_read_columns"];
/// Session headers: sent only by the session routes, from `ctx.session`.
const SESSION_HEADERS: [&str; 3] = ["authorization", "cookie", "client-key"];

/// Where and how to reach the Auth0 Client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth0ClientConfig {
    /// Base URL, e.g. `http://auth0-client` (a trailing slash is ignored).
    pub base_url: String,
    /// `AUTH_CONNECTION`: the Auth0 connection used to create, log in and import users;
    /// `None` lets the Auth0 Client pick its default connection.
    pub connection: Option<String>,
    /// Path of the change-password route (default `/change-password`).
    pub change_password_path: String,
    /// Path of one user, `{id}` standing for the percent-encoded id (default `/users/{id}`).
    pub user_path_template: String,
}

impl Auth0ClientConfig {
    /// The default configuration for the Auth0 Client at `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            connection: None,
            change_password_path: "/change-password".to_owned(),
            user_path_template: "/users/{id}".to_owned(),
        }
    }
}

/// The `AuthProvider` backed by the Mia-Platform Auth0 Client.
#[derive(Clone, Debug)]
pub struct Auth0Client {
    client: reqwest::Client,
    base: String,
    config: Auth0ClientConfig,
}

impl Auth0Client {
    /// An adapter sending its calls through `client` (built with `build_http_client`).
    pub fn new(client: reqwest::Client, config: Auth0ClientConfig) -> Self {
        let base = config.base_url.trim_end_matches('/').to_owned();
        Self { client, base, config }
    }

    /// Names a call of this service.
    fn call(&self, method: &'static str, route: impl Into<String>) -> CallName {
        CallName::new(SERVICE, method, route)
    }

    /// A request to `path` carrying the forwarded headers, without any session header.
    fn request(&self, ctx: &CallContext, method: Method, path: &str) -> RequestBuilder {
        let builder = self.client.request(method, format!("{}{}", self.base, path));
        let mut forward = ctx.forward.clone();
        for name in NEVER_FORWARDED.iter().chain(SESSION_HEADERS.iter()) {
            forward.remove(*name);
        }
        let provider_ctx = CallContext {
            forward,
            ..CallContext::default()
        };
        forward_headers(builder, &provider_ctx)
    }

    /// A request to a session route: the forwarded headers plus the `names` session headers
    /// of `ctx.session` that are set.
    fn session_request(
        &self,
        ctx: &CallContext,
        method: Method,
        path: &str,
        names: &[&str],
    ) -> RequestBuilder {
        let session = &ctx.session;
        let values = [
            ("authorization", &session.authorization),
            ("cookie", &session.cookie),
            ("client-key", &session.client_key),
        ];
        let mut headers = HeaderMap::new();
        for (name, value) in values {
            let Some(secret) = value.as_ref().filter(|_| names.contains(&name)) else {
                continue;
            };
            if let Ok(mut header) = HeaderValue::from_str(secret.expose()) {
                header.set_sensitive(true);
                headers.insert(HeaderName::from_static(name), header);
            }
        }
        self.request(ctx, method, path).headers(headers)
    }

    /// Path of one user.
    fn user_path(&self, id: &str) -> String {
        self.config
            .user_path_template
            .replace("{id}", &wire::encode_segment(id))
    }

    /// Route template of one user, for `CallName`.
    fn user_route(&self) -> String {
        self.config.user_path_template.replace("{id}", ":id")
    }
}

#[async_trait]
impl AuthProvider for Auth0Client {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            sessions: true,
            change_password: true,
            bulk_import: true,
        }
    }

    async fn create_user(&self, ctx: &CallContext, user: &NewAuthUser) -> AuthResult<AuthUser> {
        let call = self.call("POST", "/users");
        let body = wire::new_user_body(user, self.config.connection.as_deref());
        let response = send(&call, self.request(ctx, Method::POST, "/users").json(&body)).await?;
        let raw: Value = read_json(&call, response).await?;
        wire::auth_user(raw).ok_or_else(|| wire::unreadable(&call))
    }

    async fn get_user(&self, ctx: &CallContext, id: &str) -> AuthResult<Option<AuthUser>> {
        let call = self.call("GET", self.user_route());
        let builder = self.request(ctx, Method::GET, &self.user_path(id));
        let response = match send(&call, builder).await {
            Ok(response) => response,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let raw: Value = read_json(&call, response).await?;
        wire::auth_user(raw)
            .map(Some)
            .ok_or_else(|| wire::unreadable(&call))
    }

    async fn find_created_for(&self, ctx: &CallContext, store_id: &str) -> AuthResult<Option<AuthUser>> {
        let call = self.call("GET", "/users");
        let query = [
            (format!("app_metadata.{}", wire::MARKER), store_id.to_owned()),
            ("_l".to_owned(), "2".to_owned()),
        ];
        let builder = self.request(ctx, Method::GET, "/users").query(&query);
        let response = send(&call, builder).await?;
        let list: Vec<Value> = read_json(&call, response).await?;
        Ok(list.into_iter().find_map(wire::auth_user))
    }

    /// `GET /users?_l=<per_page>&_sk=<page>` (the Auth0 Client maps them to `per_page` and
    /// `page`; Auth0 reaches at most 1,000 users this way).
    async fn list_users(&self, ctx: &CallContext, page: u32, per_page: u32) -> AuthResult<Vec<AuthUser>> {
        let call = self.call("GET", "/users");
        let query = [("_l", per_page.to_string()), ("_sk", page.to_string())];
        let builder = self.request(ctx, Method::GET, "/users").query(&query);
        let response = send(&call, builder).await?;
        let list: Vec<Value> = read_json(&call, response).await?;
        Ok(list.into_iter().filter_map(wire::auth_user).collect())
    }

    fn created_for(&self, user: &AuthUser) -> Option<String> {
        user.raw
            .pointer(&format!("/app_metadata/{}", wire::MARKER))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    async fn get_users(&self, ctx: &CallContext, ids: &[String]) -> AuthResult<Vec<AuthUser>> {
        let call = self.call("GET", "/users");
        let mut users = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_IDS_PER_CALL) {
            let query = [
                ("user_id", json!({ "$in": chunk }).to_string()),
                ("_l", chunk.len().to_string()),
            ];
            let builder = self.request(ctx, Method::GET, "/users").query(&query);
            let response = send(&call, builder).await?;
            let list: Vec<Value> = read_json(&call, response).await?;
            users.extend(list.into_iter().filter_map(wire::auth_user));
        }
        Ok(users)
    }

    /// An empty patch makes no call.
    async fn update_user(&self, ctx: &CallContext, id: &str, patch: &AuthUserPatch) -> AuthResult<()> {
        let body = wire::patch_body(patch);
        if body.is_empty() {
            return Ok(());
        }
        let call = self.call("PATCH", self.user_route());
        let builder = self.request(ctx, Method::PATCH, &self.user_path(id)).json(&body);
        send(&call, builder).await.map(drop)
    }

    async fn delete_user(&self, ctx: &CallContext, id: &str) -> AuthResult<()> {
        let call = self.call("DELETE", self.user_route());
        send(&call, self.request(ctx, Method::DELETE, &self.user_path(id)))
            .await
            .map(drop)
    }

    async fn change_password(&self, ctx: &CallContext, id: &str) -> AuthResult<()> {
        let path = self.config.change_password_path.as_str();
        let call = self.call("POST", path);
        let mut body = serde_json::Map::new();
        body.insert("userId".into(), id.into());
        if let Some(connection) = &self.config.connection {
            body.insert("connection".into(), connection.as_str().into());
        }
        send(&call, self.request(ctx, Method::POST, path).json(&body))
            .await
            .map(drop)
    }

    async fn login(&self, ctx: &CallContext, username: &str, password: &Secret) -> AuthResult<SessionGrant> {
        self.login_call(ctx, username, password).await
    }

    /// The Auth0 Client checks the forwarded access token (or `sid` cookie) against the refresh
    /// token itself; this adapter only passes them on.
    async fn refresh(&self, ctx: &CallContext, refresh_token: &Secret) -> AuthResult<SessionGrant> {
        self.refresh_call(ctx, refresh_token).await
    }

    async fn userinfo(&self, ctx: &CallContext) -> AuthResult<Value> {
        self.userinfo_call(ctx).await
    }

    async fn start_import(
        &self,
        ctx: &CallContext,
        users_json: Bytes,
        upsert: bool,
    ) -> AuthResult<ImportJob> {
        self.start_import_call(ctx, users_json, upsert).await
    }

    async fn import_status(&self, ctx: &CallContext, job_id: &str) -> AuthResult<ImportJob> {
        self.import_status_call(ctx, job_id).await
    }

    async fn import_errors(&self, ctx: &CallContext, job_id: &str) -> AuthResult<Vec<ImportFailure>> {
        self.import_errors_call(ctx, job_id).await
    }

    async fn check(&self, ctx: &CallContext) -> AuthResult<()> {
        let call = self.call("GET", "/-/healthz");
        send(&call, self.request(ctx, Method::GET, "/-/healthz"))
            .await
            .map(drop)
    }
}

/// Sends a call to the Auth0 Client and reads its refusals as the port's errors: 400 invalid,
/// 401 no session, 403 denied, 404 unknown user, 409 taken, 429 slow down; the message names
/// the call and quotes the Auth0 Client.
pub(super) async fn send(call: &CallName, builder: reqwest::RequestBuilder) -> AuthResult<reqwest::Response> {
    crate::downstream::send(call, builder).await.map_err(classify)
}

/// Reads a 2xx JSON body; an unreadable one is a failure whose outcome is unknown.
pub(super) async fn read_json<T: serde::de::DeserializeOwned>(
    call: &CallName,
    response: reqwest::Response,
) -> AuthResult<T> {
    Ok(read_json_body(call, response).await?)
}

fn classify(failure: Failure) -> AuthError {
    let text = failure.to_string();
    match failure.cause {
        Cause::NotFound => AuthError::NotFound(text),
        Cause::Conflict { message } => {
            AuthError::Conflict(format!("{} responded 409: {message}", failure.call))
        }
        Cause::RateLimited { retry_after } => AuthError::RateLimited {
            retry_after,
            message: text,
        },
        Cause::Rejected { status: 400, .. } => AuthError::Invalid(text),
        Cause::Rejected { status: 401, .. } => AuthError::NoSession(text),
        Cause::Rejected { status: 403, .. } => AuthError::Denied(text),
        _ => AuthError::Failed(failure),
    }
}
