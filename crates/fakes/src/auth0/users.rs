//! The `/users` Management facade: create, read, list (with `$in` filters), patch, delete.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

use super::state::{NewUser, Shared, StoredUser, UserPatch};
use super::util::ApiError;

/// Page size when `_l` is absent.
const DEFAULT_LIMIT: usize = 25;
/// Largest page size (Auth0 `per_page`).
const MAX_LIMIT: usize = 100;

/// Parses a JSON object body.
pub(crate) fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(ApiError::bad_request(
            "Payload validation error: 'Expected type object'",
        )),
        Err(err) => Err(ApiError::bad_request(format!("Invalid JSON body: {err}"))),
    }
}

/// String field `key`; 400 when present with another type.
pub(crate) fn opt_string(body: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(ApiError::bad_request(format!(
            "Payload validation error: 'Expected type string' on property {key}"
        ))),
    }
}

/// Boolean field `key`; 400 when present with another type.
pub(crate) fn opt_bool(body: &Map<String, Value>, key: &str) -> Result<Option<bool>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(value)) => Ok(Some(*value)),
        Some(_) => Err(ApiError::bad_request(format!(
            "Payload validation error: 'Expected type boolean' on property {key}"
        ))),
    }
}

/// Object field `key` (metadata); 400 when present with another type.
pub(crate) fn opt_object(
    body: &Map<String, Value>,
    key: &str,
) -> Result<Option<Map<String, Value>>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(value)) => Ok(Some(value.clone())),
        Some(_) => Err(ApiError::bad_request(format!(
            "Payload validation error: 'Expected type object' on property {key}"
        ))),
    }
}

fn missing(key: &str) -> ApiError {
    ApiError::bad_request(format!(
        "Payload validation error: 'Missing required property: {key}'"
    ))
}

/// `POST /users`: 201 with the new user, 400 without email/password, 409 when taken.
pub(crate) async fn create(State(shared): State<Arc<Shared>>, body: Bytes) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let new = NewUser {
        id_part: opt_string(&body, "user_id")?.map(|id| id.trim_start_matches("auth0|").to_string()),
        email: opt_string(&body, "email")?.ok_or_else(|| missing("email"))?,
        password: Some(opt_string(&body, "password")?.ok_or_else(|| missing("password"))?),
        username: opt_string(&body, "username")?,
        nickname: opt_string(&body, "nickname")?,
        name: opt_string(&body, "name")?,
        blocked: opt_bool(&body, "blocked")?.unwrap_or(false),
        email_verified: opt_bool(&body, "email_verified")?.unwrap_or(false),
        connection: opt_string(&body, "connection")?,
        app_metadata: opt_object(&body, "app_metadata")?.unwrap_or_default(),
        user_metadata: opt_object(&body, "user_metadata")?.unwrap_or_default(),
    };
    let user = shared.lock().create_user(new)?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

/// `GET /users/{id}`: the user or 404.
pub(crate) async fn get_one(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let state = shared.lock();
    let user = state.users.get(&id).ok_or_else(ApiError::user_not_found)?;
    Ok(Json(user.value.clone()))
}

/// `PATCH /users/{id}`: the updated user, 404 when unknown, 409 on a taken email/username.
pub(crate) async fn patch(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = json_object(&body)?;
    let patch = UserPatch {
        email: opt_string(&body, "email")?,
        username: opt_string(&body, "username")?,
        nickname: opt_string(&body, "nickname")?,
        name: opt_string(&body, "name")?,
        blocked: opt_bool(&body, "blocked")?,
        email_verified: opt_bool(&body, "email_verified")?,
        password: opt_string(&body, "password")?,
        app_metadata: opt_object(&body, "app_metadata")?,
        user_metadata: opt_object(&body, "user_metadata")?,
    };
    let user = shared.lock().patch_user(&id, patch)?;
    Ok(Json(user))
}

/// `DELETE /users/{id}`: 204 or 404.
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if shared.lock().delete_user(&id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::user_not_found())
    }
}

/// `GET /users/active`: `[{"userId"}]` of the users with a live session.
pub(crate) async fn active(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let state = shared.lock();
    let mut ids: Vec<&String> = state.sessions.values().collect();
    ids.sort();
    ids.dedup();
    let rows = ids
        .into_iter()
        .map(|id| serde_json::json!({ "userId": id }))
        .collect();
    Json(Value::Array(rows))
}

/// Accepted values of one filter field: a plain value or a JSON `{"$in": [...]}`.
fn filter_values(raw: &str) -> Vec<String> {
    if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(raw) {
        if let Some(Value::Array(values)) = object.get("$in") {
            return values
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect();
        }
    }
    vec![raw.to_string()]
}

/// The user's values for filter key `key` (`connection`, `app_metadata.<k>` or a root field).
fn user_values(user: &StoredUser, key: &str) -> Vec<String> {
    let as_strings = |value: Option<&Value>| -> Vec<String> {
        match value {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(Value::Null) | None => Vec::new(),
            Some(other) => vec![other.to_string()],
        }
    };
    if key == "connection" {
        let identities = user.value.get("identities").and_then(Value::as_array);
        return identities
            .into_iter()
            .flatten()
            .filter_map(|identity| identity.get("connection").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
    }
    if let Some((root @ ("app_metadata" | "user_metadata"), inner)) = key.split_once('.') {
        return as_strings(user.value.get(root).and_then(|m| m.get(inner)));
    }
    as_strings(user.value.get(key))
}

fn parse_limit(raw: Option<&str>, default: usize) -> Result<usize, ApiError> {
    match raw {
        None => Ok(default),
        Some(raw) => raw
            .parse::<usize>()
            .map_err(|_| ApiError::bad_request(format!("Invalid pagination value: {raw}"))),
    }
}

/// `GET /users`: filters `user_id`, `email`, `username`, `nickname`, `name`, `blocked`,
/// `connection`, `app_metadata.<k>`, `user_metadata.<k>` (plain value or JSON `{"$in":[...]}`,
/// repeated keys OR-ed, email case-insensitive), `_l` (default 25, max 100), `_sk` (the page, from 0:
/// the Auth0 Client maps `_l` to Auth0 `per_page` and `_sk` to `page`).
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|err| ApiError::bad_request(format!("Invalid query string: {err}")))?;
    let mut filters: HashMap<String, Vec<String>> = HashMap::new();
    let (mut limit, mut skip) = (None, None);
    for (key, value) in &pairs {
        match key.as_str() {
            "_l" => limit = Some(value.as_str()),
            "_sk" => skip = Some(value.as_str()),
            key if key.starts_with('_') || key == "fields" || key == "q" => {}
            key => filters
                .entry(key.to_string())
                .or_default()
                .extend(filter_values(value)),
        }
    }
    let limit = parse_limit(limit, DEFAULT_LIMIT)?.min(MAX_LIMIT);
    let skip = parse_limit(skip, 0)?.saturating_mul(limit);
    let state = shared.lock();
    let users: Vec<Value> = state
        .users_in_order()
        .into_iter()
        .filter(|user| {
            filters.iter().all(|(key, wanted)| {
                let values = user_values(user, key);
                wanted.iter().any(|w| {
                    values.iter().any(|v| {
                        if key == "email" {
                            v.eq_ignore_ascii_case(w)
                        } else {
                            v == w
                        }
                    })
                })
            })
        })
        .skip(skip)
        .take(limit)
        .map(|user| user.value.clone())
        .collect();
    Ok(Json(Value::Array(users)))
}
