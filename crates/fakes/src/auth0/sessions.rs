//! Login routes (`/oauth/token`, `/refreshtoken`, `/userinfo`, `/logout`) and
//! `/change-password`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::state::{Shared, State as FakeState};
use super::users::{json_object, opt_string};
use super::util::{cookie_value, iso, random_alnum, ApiError};

const WRONG_CREDENTIALS: &str = "Wrong email or password.";

/// Issues an access/refresh/id token triple for `user_id` and stores the session.
fn issue_tokens(state: &mut FakeState, user_id: &str, session_seconds: u64) -> Value {
    let access = random_alnum(40);
    let refresh = random_alnum(40);
    state.sessions.insert(access.clone(), user_id.to_string());
    state.refresh_tokens.insert(refresh.clone(), user_id.to_string());
    let seconds = i64::try_from(session_seconds).unwrap_or(i64::MAX);
    let expire_at = OffsetDateTime::now_utc().saturating_add(time::Duration::seconds(seconds));
    json!({
        "accessToken": access,
        "refreshToken": refresh,
        "idToken": format!("id.{}", random_alnum(40)),
        "expireAt": iso(expire_at),
    })
}

/// The bearer token of `authorization`, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// The session token: bearer first, then the `sid` cookie.
fn session_token(headers: &HeaderMap) -> Option<String> {
    if let Some(token) = bearer(headers) {
        return Some(token.to_string());
    }
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| cookie_value(value, "sid"))
        .map(str::to_string)
}

/// `POST /oauth/token` (form body, `grant_type=password`): tokens, or a `sid` cookie for the
/// website client type; 403 on wrong credentials or a blocked user.
pub(crate) async fn login(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(ApiError::bad_request(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body)
        .map_err(|err| ApiError::bad_request(format!("Invalid form body: {err}")))?;
    let field = |key: &str| form.get(key).map(String::as_str).filter(|v| !v.is_empty());
    if field("grant_type") != Some("password") {
        return Err(ApiError::bad_request(
            "Unsupported grant_type: only 'password' is supported",
        ));
    }
    let (Some(login), Some(password)) = (field("username"), field("password")) else {
        return Err(ApiError::bad_request("username and password are required"));
    };
    let config = &shared.config;
    let website = headers
        .get("client-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|client_type| client_type == config.website_client_type);
    let tokens = {
        let mut state = shared.lock();
        let user_id = state
            .id_by_login(login)
            .ok_or_else(|| ApiError::forbidden(WRONG_CREDENTIALS))?;
        let user = state
            .users
            .get(&user_id)
            .ok_or_else(|| ApiError::forbidden(WRONG_CREDENTIALS))?;
        if user.password.as_deref() != Some(password) {
            return Err(ApiError::forbidden(WRONG_CREDENTIALS));
        }
        if user.blocked() {
            return Err(ApiError::forbidden("user is blocked"));
        }
        issue_tokens(&mut state, &user_id, config.session_seconds)
    };
    if !website {
        return Ok(Json(tokens).into_response());
    }
    let sid = tokens
        .get("accessToken")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let cookie = format!(
        "sid={sid}; HttpOnly; Secure; Path=/; Max-Age={}; SameSite=Lax",
        config.session_seconds
    );
    let mut response = StatusCode::OK.into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    Ok(response)
}

/// `POST /refreshtoken` (`{"refresh_token"}` + `authorization: Bearer <issued access token>`):
/// new tokens; the used refresh token stops working. 401 for unknown tokens.
pub(crate) async fn refresh(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = json_object(&body)?;
    let refresh_token = opt_string(&body, "refresh_token")?.ok_or_else(|| {
        ApiError::bad_request("Payload validation error: 'Missing required property: refresh_token'")
    })?;
    let access = session_token(&headers).ok_or_else(|| ApiError::unauthorized("Missing access token"))?;
    let mut state = shared.lock();
    let access_owner = state.sessions.get(&access).cloned();
    let refresh_owner = state.refresh_tokens.get(&refresh_token).cloned();
    match (access_owner, refresh_owner) {
        (Some(a), Some(r)) if a == r && state.users.contains_key(&r) => {
            state.refresh_tokens.remove(&refresh_token);
            Ok(Json(issue_tokens(&mut state, &r, shared.config.session_seconds)))
        }
        (None, _) => Err(ApiError::unauthorized("Invalid access token")),
        _ => Err(ApiError::unauthorized("Invalid refresh token")),
    }
}

/// `GET /userinfo` (bearer or `sid` cookie): `{sub, email, name, nickname, username, groups}`.
pub(crate) async fn userinfo(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = session_token(&headers).ok_or_else(|| ApiError::unauthorized("Missing session"))?;
    let state = shared.lock();
    let user = state
        .sessions
        .get(&token)
        .and_then(|id| state.users.get(id))
        .ok_or_else(|| ApiError::unauthorized("Invalid or expired session"))?;
    let groups = user
        .value
        .get("app_metadata")
        .and_then(|m| m.get("groups"))
        .filter(|g| g.is_array())
        .cloned()
        .unwrap_or_else(|| json!([]));
    let field = |key: &str| user.value.get(key).cloned().unwrap_or(Value::Null);
    Ok(Json(json!({
        "sub": field("user_id"),
        "email": field("email"),
        "name": field("name"),
        "nickname": field("nickname"),
        "username": field("username"),
        "groups": groups,
    })))
}

/// `GET /logout`: forgets the session and clears the `sid` cookie.
pub(crate) async fn logout(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        shared.lock().sessions.remove(&token);
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_static("sid=; HttpOnly; Secure; Path=/; SameSite=Lax"),
    );
    response
}

/// `POST /change-password` (`{"userId"}` or `{"email"}`, optional `connection`): 204 and the
/// delivery is recorded; 404 for an unknown user.
pub(crate) async fn change_password(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let body = json_object(&body)?;
    let user_id = opt_string(&body, "userId")?;
    let email = opt_string(&body, "email")?;
    let mut state = shared.lock();
    let id = match (user_id, email) {
        (Some(id), _) => state.users.contains_key(&id).then_some(id),
        (None, Some(email)) => state.id_by_email(&email).cloned(),
        (None, None) => {
            return Err(ApiError::bad_request(
                "Payload validation error: 'Missing required property: userId'",
            ))
        }
    };
    let id = id.ok_or_else(ApiError::user_not_found)?;
    state.change_password.push((id, Instant::now()));
    Ok(StatusCode::NO_CONTENT)
}
