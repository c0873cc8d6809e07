//! `AuthError`: how an `AuthProvider` call failed, in the port's own words. The HTTP adapter
//! classifies the Auth0 Client's answers into it; the local provider produces it directly.

use std::time::Duration;

use crate::failure::{Failure, Outcome};
use crate::store::StoreError;

/// Result of an auth-provider call.
pub type AuthResult<T> = Result<T, AuthError>;

/// How an auth-provider call failed. Each message is what our caller reads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Wrong credentials, a blocked user, or a session the provider refuses.
    #[error("{0}")]
    Denied(String),
    /// No valid session, or an invalid or expired token.
    #[error("{0}")]
    NoSession(String),
    /// The provider does not know the user (or import job).
    #[error("{0}")]
    NotFound(String),
    /// The email or username is taken.
    #[error("{0}")]
    Conflict(String),
    /// The provider refused the request as invalid (e.g. a password under its policy).
    #[error("{0}")]
    Invalid(String),
    /// The provider asks us to slow down.
    #[error("{message}")]
    RateLimited {
        /// How long it asked us to wait, when it said.
        retry_after: Option<Duration>,
        /// What our caller reads.
        message: String,
    },
    /// The call failed otherwise.
    #[error(transparent)]
    Failed(#[from] Failure),
}

impl AuthError {
    /// Whether the call may have been applied.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Failed(failure) => failure.outcome(),
            _ => Outcome::NotApplied,
        }
    }

    /// True when the provider does not know the user.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }
}

/// The local provider keeps its credentials and tokens in collections: a taken unique field is a
/// conflict, anything else a failure of its store.
impl From<StoreError> for AuthError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { message, .. } => Self::Conflict(message),
            StoreError::Invalid(message) => Self::Invalid(message),
            StoreError::Failed(failure) => Self::Failed(failure),
        }
    }
}
