//! `ApiError`: the one error type of the HTTP boundary, its Mia body
//! `{"statusCode": N, "error": "<reason phrase>", "message": "..."}`, and the one place where the
//! errors of the use cases and ports become status codes. 5xx bodies never carry internal detail
//! (the cause is logged by the request middleware from the response extensions).

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::auth::AuthError;
use crate::failure::{Cause, Failure};
use crate::groups::GroupError;
use crate::jobs::JobError;
use crate::store::{duplicate, StoreError};
use crate::users::import::ImportError;
use crate::users::UserError;

/// Result of a handler.
pub type ApiResult<T, E = ApiError> = Result<T, E>;

/// What went wrong, as our caller sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// `400 Bad Request`: malformed or invalid input; the message says what to fix.
    #[error("{0}")]
    BadRequest(String),
    /// `401 Unauthorized`: no valid session.
    #[error("{0}")]
    Unauthorized(String),
    /// `403 Forbidden`: the session may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// `404 Not Found`: unknown user, job or route.
    #[error("{0}")]
    NotFound(String),
    /// `405 Method Not Allowed`.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// `406 Not Acceptable`: no format the `Accept` header names can be produced.
    #[error("{0}")]
    NotAcceptable(String),
    /// `409 Conflict`: email or username taken, auth user already linked.
    #[error("{0}")]
    Conflict(String),
    /// `412 Precondition Failed`: `If-Match` names another version of the resource.
    #[error("{0}")]
    PreconditionFailed(String),
    /// `413 Payload Too Large`.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// `415 Unsupported Media Type`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// `422 Unprocessable Entity`: an `Idempotency-Key` already used for another request.
    #[error("{0}")]
    UnprocessableEntity(String),
    /// `429 Too Many Requests`: the auth provider asks us to slow down.
    #[error("{message}")]
    TooManyRequests {
        /// What the caller reads.
        message: String,
        /// Sent as `retry-after`, when known.
        retry_after: Option<std::time::Duration>,
    },
    /// `501 Not Implemented`: the configured provider lacks a capability.
    #[error("{0}")]
    NotImplemented(String),
    /// `502 Bad Gateway` with a message that names the downstream: the two systems disagree
    /// (the auth user a store user links to is unknown to the provider).
    #[error("{0}")]
    BadGateway(String),
    /// A downstream call failed: 502 (error or unreachable), 504 (timeout), 429 (rate limited),
    /// 409 (conflict) or the upstream 4xx, with a message naming the call.
    #[error(transparent)]
    Downstream(#[from] Failure),
    /// A bulk operation that stopped part-way: the status of the failure that stopped it, and a
    /// message saying what was done.
    #[error("{message}")]
    Stopped {
        /// The status of the error that stopped it.
        status: StatusCode,
        /// What was done and what failed.
        message: String,
    },
    /// `500 Internal Server Error`: a bug or an unexpected condition; logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The Mia error body.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// HTTP status code.
    pub status_code: u16,
    /// Reason phrase of the status.
    pub error: String,
    /// What went wrong, for a human.
    pub message: String,
}

/// The cause of a 5xx, attached to the response for the request log line.
#[derive(Clone, Debug)]
pub struct ErrorCause(pub Arc<String>);

impl ApiError {
    /// The status this error produces.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::UnprocessableEntity(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Stopped { status, .. } => *status,
            Self::Downstream(e) => match &e.cause {
                Cause::Timeout => StatusCode::GATEWAY_TIMEOUT,
                Cause::Conflict { .. } => StatusCode::CONFLICT,
                Cause::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                Cause::Rejected { status, .. } => {
                    StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
                }
                Cause::NotFound | Cause::Failed { .. } | Cause::Unreachable | Cause::Dropped => {
                    StatusCode::BAD_GATEWAY
                }
            },
        }
    }

    /// The message our caller reads: never internal detail for a 500.
    pub(crate) fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "Something went wrong".to_owned(),
            // The store adapters word duplicates; MongoDB's own text (collection, index, value)
            // never reaches the caller, whichever adapter let it through.
            Self::Downstream(Failure {
                call,
                cause: Cause::Conflict { message },
            }) if duplicate::is_duplicate_key(message) => {
                let item = duplicate::item_name(call.route.split("/:").next().unwrap_or_default());
                format!(
                    "{call} responded 409: {}",
                    duplicate::message_in_words(&item, message)
                )
            }
            Self::Downstream(Failure {
                call,
                cause: Cause::Conflict { message },
            }) => format!("{call} responded 409: {message}"),
            other => other.to_string(),
        }
    }
}

/// Builds a Mia error body for `status` with `message`.
pub fn error_body(status: StatusCode, message: impl Into<String>) -> ErrorBody {
    ErrorBody {
        status_code: status.as_u16(),
        error: status.canonical_reason().unwrap_or("Error").to_owned(),
        message: message.into(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = error_body(status, self.public_message());
        let mut response = (status, Json(body)).into_response();
        if status.is_server_error() {
            response
                .extensions_mut()
                .insert(ErrorCause(Arc::new(self.to_string())));
        }
        let retry_after = match &self {
            Self::TooManyRequests { retry_after, .. } => *retry_after,
            Self::Downstream(Failure {
                cause: Cause::RateLimited { retry_after },
                ..
            }) => *retry_after,
            _ => None,
        };
        if let Some(value) = retry_after.and_then(|wait| wait.as_secs().max(1).to_string().parse().ok()) {
            response.headers_mut().insert("retry-after", value);
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { message, .. } => Self::Conflict(message),
            StoreError::Invalid(message) => Self::BadRequest(message),
            StoreError::Failed(failure) => Self::Downstream(failure),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Denied(message) => Self::Forbidden(message),
            AuthError::NoSession(message) => Self::Unauthorized(message),
            // A store user links to an auth user the provider does not know: the systems disagree.
            AuthError::NotFound(message) => Self::BadGateway(message),
            AuthError::Conflict(message) => Self::Conflict(message),
            AuthError::Invalid(message) => Self::BadRequest(message),
            AuthError::RateLimited { retry_after, message } => Self::TooManyRequests { message, retry_after },
            AuthError::Failed(failure) => Self::Downstream(failure),
        }
    }
}

impl From<GroupError> for ApiError {
    fn from(error: GroupError) -> Self {
        match error {
            GroupError::Store(error) => error.into(),
            GroupError::NotFound(message) => Self::NotFound(message),
            GroupError::Conflict(message) => Self::Conflict(message),
            other @ (GroupError::Unknown(_) | GroupError::Invalid { .. } | GroupError::Refused(_)) => {
                Self::BadRequest(other.to_string())
            }
        }
    }
}

impl From<UserError> for ApiError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::Invalid(message) => Self::BadRequest(message),
            UserError::NotFound(message) => Self::NotFound(message),
            UserError::Conflict(message) => Self::Conflict(message),
            UserError::PreconditionFailed(message) => Self::PreconditionFailed(message),
            UserError::NotLoggedIn(message) => Self::Unauthorized(message),
            UserError::Unsupported(message) => Self::NotImplemented(message),
            UserError::Group(error) => error.into(),
            UserError::Store(error) => error.into(),
            UserError::Auth(error) => error.into(),
            UserError::Failed(failure) => Self::Downstream(failure),
            UserError::Internal(message) => Self::Internal(message),
            UserError::Stopped {
                done,
                verb,
                user,
                source,
            } => {
                let inner = Self::from(*source);
                Self::Stopped {
                    status: inner.status(),
                    message: format!(
                        "{done} users {verb} before user \"{user}\" failed: {}",
                        inner.public_message()
                    ),
                }
            }
        }
    }
}

impl From<ImportError> for ApiError {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::BadRequest(_) | ImportError::Upload { .. } | ImportError::Form { .. } => {
                Self::BadRequest(error.to_string())
            }
            ImportError::UnsupportedMediaType(message) => Self::UnsupportedMediaType(message),
            ImportError::TooLarge { .. } => Self::PayloadTooLarge(error.to_string()),
            ImportError::Stopped { row, error, written } => {
                let inner = Self::from(error);
                Self::Stopped {
                    status: inner.status(),
                    message: format!(
                        "import stopped at row {row}: {}; {written} rows were written",
                        inner.public_message()
                    ),
                }
            }
            ImportError::Aborted | ImportError::Internal(_) => Self::Internal(error.to_string()),
        }
    }
}

impl From<JobError> for ApiError {
    fn from(error: JobError) -> Self {
        match error {
            JobError::Invalid(message) => Self::BadRequest(message),
            JobError::NotFound(message) => Self::NotFound(message),
            JobError::Store(error) => error.into(),
            other => Self::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
