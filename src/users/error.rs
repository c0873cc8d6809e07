//! `UserError`: why a user use case (create, update, delete, state change, userinfo) did not
//! complete, in the words of the domain; `src/http/error.rs` gives each a status.

use crate::auth::AuthError;
use crate::failure::Failure;
use crate::groups::GroupError;
use crate::store::StoreError;

/// Result of a user use case.
pub type UserResult<T> = Result<T, UserError>;

/// Why a user use case did not complete. Each message is what the caller reads.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The request is invalid; the message says what to fix.
    #[error("{0}")]
    Invalid(String),
    /// The user (or the auth user it names) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (already linked, modified concurrently).
    #[error("{0}")]
    Conflict(String),
    /// The user is not at the version the caller's `If-Match` names.
    #[error("{0}")]
    PreconditionFailed(String),
    /// No logged user (userinfo without a usable session).
    #[error("{0}")]
    NotLoggedIn(String),
    /// The configured auth provider cannot do this.
    #[error("{0}")]
    Unsupported(String),
    /// The user's group refuses the document, or cannot be used.
    #[error(transparent)]
    Group(#[from] GroupError),
    /// The user store failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The auth provider failed or refused.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Rönd or the Timer Service failed.
    #[error(transparent)]
    Failed(#[from] Failure),
    /// A bulk operation stopped on one user after `done` others were done; `source` is that
    /// user's error (it decides the status).
    #[error("{done} users {verb} before user \"{user}\" failed: {source}")]
    Stopped {
        /// How many users the operation had done.
        done: u64,
        /// What it did to them, e.g. `deleted`.
        verb: &'static str,
        /// The user it stopped on.
        user: String,
        /// That user's error.
        source: Box<UserError>,
    },
    /// A bug or an impossible state; logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}
