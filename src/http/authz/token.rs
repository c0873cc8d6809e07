//! The client-credentials grant of `POST /oauth/token` (RFC 6749 §4.4): `grant_type`,
//! `client_id`, `client_secret` and an optional `scope`, as a form or a JSON body, the
//! credentials also accepted as HTTP Basic. The same route logs people in (the Mia body).

use axum::body::Bytes;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::context::CallContext;
use crate::http::error::ApiError;
use crate::secret::Secret;
use crate::state::AppState;

/// The grant this module answers.
pub const CLIENT_CREDENTIALS: &str = "client_credentials";

/// The answer of a client-credentials grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientToken {
    /// The access token (a JWT signed by this service; its keys at `/.well-known/jwks.json`).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// The scopes it carries, space-separated.
    pub scope: String,
}

/// The body of `POST /oauth/token` as a JSON object: a JSON body, or a form
/// (`application/x-www-form-urlencoded`). Anything else is a 415.
pub fn token_body(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|e| ApiError::BadRequest(format!("malformed form body: {e}")))?;
        return Ok(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect());
    }
    let json = content_type.starts_with("application/json")
        || (content_type.starts_with("application/") && content_type.contains("+json"));
    if !json {
        return Err(ApiError::UnsupportedMediaType(
            "expected a body with content-type: application/json (or a form, for client credentials)".into(),
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest("body must be object".into())),
        Err(e) => Err(ApiError::BadRequest(format!("body is not valid JSON: {e}"))),
    }
}

/// Whether the body asks for the client-credentials grant.
pub fn is_client_grant(body: &Map<String, Value>) -> bool {
    body.get("grant_type").and_then(Value::as_str) == Some(CLIENT_CREDENTIALS)
}

/// The client-credentials grant: 200 with the token, 401 for wrong credentials, 400 for a
/// malformed request; without access control (`AUTHZ_MODE=gateway`) a 400 saying so.
pub async fn client_grant(
    state: &AppState,
    ctx: &CallContext,
    headers: &HeaderMap,
    body: &Map<String, Value>,
) -> Result<Response, ApiError> {
    let Some(authz) = state.authz.as_ref() else {
        return Err(ApiError::BadRequest(
            "grant_type client_credentials needs AUTHZ_MODE=scopes: this service trusts its gateway".into(),
        ));
    };
    let (client_id, secret) = credentials(headers, body)?;
    let scope = body.get("scope").and_then(Value::as_str);
    let issued = authz.client_token(ctx, &client_id, &secret, scope).await?;
    let answer = ClientToken {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        scope: issued.scope,
    };
    let mut response = axum::Json(answer).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `client_id` and `client_secret` from HTTP Basic, or else from the body.
fn credentials(headers: &HeaderMap, body: &Map<String, Value>) -> Result<(String, Secret), ApiError> {
    if let Some(basic) = basic(headers)? {
        return Ok(basic);
    }
    let text = |key: &str| body.get(key).and_then(Value::as_str).filter(|v| !v.is_empty());
    match (text("client_id"), text("client_secret")) {
        (Some(id), Some(secret)) => Ok((id.to_owned(), Secret::new(secret.to_owned()))),
        _ => Err(ApiError::BadRequest(
            "client_id and client_secret are required (in the body, or as HTTP Basic credentials)".into(),
        )),
    }
}

/// `authorization: Basic base64(id:secret)` (RFC 6749 §2.3.1: each part form-url-encoded).
fn basic(headers: &HeaderMap) -> Result<Option<(String, Secret)>, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let malformed = || {
        ApiError::BadRequest("malformed Basic credentials: expected base64(client_id:client_secret)".into())
    };
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let unescape = |part: &str| -> Result<String, ApiError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("v={part}")).map_err(|_| malformed())?;
        Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
    };
    Ok(Some((unescape(id)?, Secret::new(unescape(secret)?))))
}
