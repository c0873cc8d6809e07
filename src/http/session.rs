//! Session and self-service routes backed by the auth provider (SPEC §5 "Authentication and
//! self-service"; contracts/peers.md §1.4, §1.5): `POST /oauth/token`, `POST /refreshtoken`,
//! `GET /userinfo` and `POST /users/change-password`.
//!
//! Login and refresh answers pass through as the provider gives them: its JSON body untouched,
//! or an empty body with every `set-cookie` (website scope). The session headers of the caller
//! (`authorization`, `cookie`, `client-key`) reach the provider only on refresh and userinfo;
//! passwords and tokens never appear in a log line or an error message.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthError, SessionGrant};
use crate::http::authz::token::{self, ClientToken};
use crate::http::doc::{DownstreamFailures, JsonBodyRefusals, NonBlank};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{body_bytes, required_string, ApiJson, Ctx};
use crate::secret::Secret;
use crate::state::AppState;
use crate::users::{session, userinfo};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(user_info))
        .routes(routes!(change_password))
}

/// Body of `POST /oauth/token`; other properties are ignored.
#[derive(Debug, ToSchema)]
pub struct LoginBody {
    /// The user's email or username.
    pub username: String,
    /// The user's password; never logged.
    #[schema(value_type = String, format = Password)]
    pub password: Secret,
}

/// Body of `POST /refreshtoken`; other properties are ignored.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshBody {
    /// The refresh token of the last login or refresh.
    #[schema(value_type = String, format = Password)]
    pub refresh_token: Secret,
}

/// The tokens of a login or refresh, as the auth provider answers them (documentation only:
/// the provider's body is passed back untouched).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(
    dead_code,
    reason = "OpenAPI documentation of a body passed through as it comes"
)]
struct SessionTokens {
    /// Bearer token of the session.
    access_token: String,
    /// Token for `POST /refreshtoken`.
    refresh_token: String,
    /// OpenID id token, when the provider issues one.
    #[schema(required = false)]
    id_token: String,
    /// When the access token expires (RFC 3339).
    #[schema(format = DateTime)]
    expire_at: String,
}

/// Body of `POST /users/change-password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePasswordBody {
    /// The auth-provider id of the user (not blank).
    #[schema(value_type = NonBlank)]
    pub auth_user_id: String,
}

/// A token request: a person's login (Mia body), or OAuth2 client credentials.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "OpenAPI documentation of a body read as a JSON object or a form"
)]
#[serde(untagged)]
enum TokenRequest {
    /// A person logs in.
    Login(LoginBody),
    /// A client asks for a token (`AUTHZ_MODE=scopes`).
    Client(ClientCredentials),
}

/// The client-credentials grant (RFC 6749 §4.4); `client_id`/`client_secret` may come as HTTP
/// Basic credentials instead.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "OpenAPI documentation of a body read as a JSON object or a form"
)]
struct ClientCredentials {
    /// `client_credentials`.
    #[schema(pattern = "^client_credentials$")]
    grant_type: String,
    /// The client's id.
    client_id: String,
    /// The client's secret.
    #[schema(format = Password)]
    client_secret: String,
    /// Space-separated scopes to narrow the token to (default: all the client's).
    #[schema(required = false)]
    scope: String,
}

/// The answer of a login or of a client-credentials grant.
#[derive(ToSchema)]
#[expect(dead_code, reason = "OpenAPI documentation of a body passed through or built")]
#[serde(untagged)]
enum TokenAnswer {
    /// A person's session.
    Session(SessionTokens),
    /// A client's token.
    Client(ClientToken),
}

/// Logs a user in through the auth provider (its tokens, or its `sid` cookie in website scope);
/// with `grant_type=client_credentials` (form or JSON, `AUTHZ_MODE=scopes`), issues a client's
/// access token instead.
#[utoipa::path(post, path = "/oauth/token", tag = "self-service",
    request_body(content(
        (TokenRequest = "application/json"),
        (ClientCredentials = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Logged in: the provider's tokens, or an empty body with its `set-cookie`; \
            or a client's token",
            body = TokenAnswer,
            headers(("set-cookie" = String, description = "`sid` session cookie (website scope)"))),
        (status = 400, description = "Malformed JSON or form, username/password missing or not strings, \
            client credentials missing, a scope the client does not have, or client credentials without AUTHZ_MODE=scopes",
            body = ErrorBody),
        (status = 401, description = "The auth provider refused the login (local provider: an unknown user, a wrong \
            password and a blocked user all get the same answer), or wrong client credentials", body = ErrorBody),
        (status = 403, description = "Wrong username or password, or blocked user (Auth0 Client)", body = ErrorBody),
        (status = 429, description = "Too many failed logins (local provider): the account, the client address or the \
            login name is locked for `LOGIN_LOCKOUT_SECONDS`, even for the right password", body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds until the lock ends"))),
        JsonBodyRefusals,
        DownstreamFailures))]
async fn login(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let fields = token::token_body(&headers, &body_bytes(body)?)?;
    if token::is_client_grant(&fields) {
        return token::client_grant(&state, &ctx, &headers, &fields).await;
    }
    session::ensure_sessions(&state.users)?;
    let fields = Value::Object(fields);
    let body = LoginBody {
        username: required_string(&fields, "username")?,
        password: Secret::new(required_string(&fields, "password")?),
    };
    let grant = session::login(&state.users, &ctx, &body.username, &body.password).await?;
    Ok(grant_response(grant.map_err(login_refused)?))
}

/// New tokens from a refresh token and the expired access token (`authorization`, or the `sid`
/// cookie), in the same shape as the login.
#[utoipa::path(post, path = "/refreshtoken", tag = "self-service",
    request_body = RefreshBody,
    params(
        ("authorization" = Option<String>, Header,
            description = "`Bearer <expired access token>`; the local provider checks it is its own and the refresh token's user's"),
        ("cookie" = Option<String>, Header, description = "`sid=<session>` (website scope)")),
    responses(
        (status = 200, description = "New tokens, or an empty body with the provider's `set-cookie`",
            body = SessionTokens,
            headers(("set-cookie" = String, description = "`sid` session cookie (website scope)"))),
        (status = 400, description = "Malformed JSON, or refreshToken missing or not a string", body = ErrorBody),
        (status = 401, description = "No session, an invalid refresh token, or the provider refused the tokens \
            (local provider: an access token not its own, or another user's; a blocked user's refresh token \
            is answered as an invalid one)", body = ErrorBody),
        (status = 403, description = "The provider refused the refresh", body = ErrorBody),
        JsonBodyRefusals,
        DownstreamFailures))]
async fn refresh(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    session::ensure_sessions(&state.users)?;
    let body = RefreshBody {
        refresh_token: Secret::new(required_string(&body, "refreshToken")?),
    };
    let grant = session::refresh(&state.users, &ctx, &body.refresh_token).await?;
    Ok(grant_response(grant))
}

/// The logged user: the auth provider's userinfo merged with the linked store user (fields
/// filtered by `USERINFO_ADDITIONAL_PROPERTIES`; `__STATE__` and the audit fields `createdAt`,
/// `updatedAt`, `creatorId`, `updaterId` never returned) and, with `ROLES_CRUD_ENDPOINT`, the
/// `permissions` of the user's roles.
#[utoipa::path(get, path = "/userinfo", tag = "self-service",
    params(
        ("authorization" = Option<String>, Header, description = "`Bearer <access token>`"),
        ("cookie" = Option<String>, Header, description = "`sid=<session>` (website scope)"),
        ("client-key" = Option<String>, Header, description = "Mia API key, forwarded to the auth provider")),
    responses(
        (status = 200, description = "The merged user", body = Object),
        (status = 400, description = "Malformed `acl_rows` header", body = ErrorBody),
        (status = 401, description = "No session, session refused, or no `CUSTOM_USER_ID_KEY` in the userinfo",
            body = ErrorBody),
        (status = 403, description = "The auth provider refused the session", body = ErrorBody),
        (status = 404, description = "No store user is linked to the auth user", body = ErrorBody),
        DownstreamFailures))]
async fn user_info(State(state): State<AppState>, Ctx(ctx): Ctx) -> ApiResult<ApiJson<Value>> {
    session::ensure_sessions(&state.users)?;
    Ok(ApiJson(userinfo::userinfo(&state.users, &ctx).await?))
}

/// Asks the auth provider to send the change-password email to a user.
#[utoipa::path(post, path = "/users/change-password", tag = "self-service",
    request_body = ChangePasswordBody,
    responses(
        (status = 204, description = "Email requested"),
        (status = 400, description = "Malformed JSON or body, or a blank authUserId", body = ErrorBody),
        JsonBodyRefusals,
        (status = 401, description = "The auth provider refused the call", body = ErrorBody),
        (status = 403, description = "The auth provider refused the call", body = ErrorBody),
        (status = 404, description = "The auth provider does not know the user", body = ErrorBody),
        DownstreamFailures))]
async fn change_password(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> ApiResult<StatusCode> {
    session::change_password(&state.users, &ctx, &body.auth_user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A login refused by the provider, with a message that says why.
fn login_refused(error: AuthError) -> ApiError {
    match error {
        AuthError::Denied(message) => {
            ApiError::Forbidden(format!("wrong username or password, or blocked user ({message})"))
        }
        AuthError::NoSession(message) => {
            ApiError::Unauthorized(format!("the auth provider refused the login ({message})"))
        }
        other => other.into(),
    }
}

/// 200 with the provider's body (none when it sent none) and every `set-cookie` it sent.
fn grant_response(grant: SessionGrant) -> Response {
    let mut response = match grant.body {
        Some(body) => ApiJson(body).into_response(),
        None => StatusCode::OK.into_response(),
    };
    for cookie in &grant.set_cookie {
        if let Ok(mut value) = HeaderValue::from_str(cookie.expose()) {
            value.set_sensitive(true);
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}
