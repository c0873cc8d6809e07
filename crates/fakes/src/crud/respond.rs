//! Response helpers and the error type of the CRUD fake, with the CRUD Service's bodies.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

/// An error answered with the CRUD Service's body: `{"error":"not found"}` for 404, otherwise
/// `{"statusCode","error","message"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// 404 `{"error":"not found"}`.
    NotFound,
    /// Any other status with a message.
    Status(StatusCode, String),
}

impl ApiError {
    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::Status(StatusCode::BAD_REQUEST, message.into())
    }

    /// 500 Internal Server Error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Status(StatusCode::INTERNAL_SERVER_ERROR, message.into())
    }

    /// 409 Conflict.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Status(StatusCode::CONFLICT, message.into())
    }
}

/// The error response for `status`, as the CRUD Service shapes it.
pub(crate) fn error_response(status: StatusCode, message: &str) -> Response {
    if status == StatusCode::NOT_FOUND {
        return json_response(StatusCode::NOT_FOUND, &json!({"error": "not found"}));
    }
    let body = json!({
        "statusCode": status.as_u16(),
        "error": status.canonical_reason().unwrap_or("Error"),
        "message": message,
    });
    json_response(status, &body)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::NotFound => error_response(StatusCode::NOT_FOUND, "not found"),
            Self::Status(status, message) => error_response(status, &message),
        }
    }
}

/// Result type of the route handlers.
pub(crate) type ApiResult = Result<Response, ApiError>;

/// A response with a pre-serialized body and a content type.
pub(crate) fn bytes_response(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A JSON response.
pub(crate) fn json_response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => bytes_response(status, "application/json; charset=utf-8", body),
        Err(err) => error_response(StatusCode::INTERNAL_SERVER_ERROR, &err.to_string()),
    }
}

/// 200 with a JSON body.
pub(crate) fn ok_json<T: Serialize + ?Sized>(value: &T) -> ApiResult {
    Ok(json_response(StatusCode::OK, value))
}

/// 204 with an empty body.
pub(crate) fn no_content() -> ApiResult {
    Ok(StatusCode::NO_CONTENT.into_response())
}
