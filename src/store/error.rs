//! `StoreError`: how a `Collection` call failed, in the port's own words. A missing document is
//! not an error (`Ok(None)`, `Ok(false)`); a refusal the caller can fix is `Conflict` or
//! `Invalid`; everything else is a [`Failure`] that says whether the call may have applied.

use crate::failure::{Cause, Failure, Outcome};

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// How a store call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A unique index refused the write; nothing was written. `message` says which field is
    /// taken, in words (never the store's own text, which quotes collection, index and value).
    #[error("{message}")]
    Conflict {
        /// The field that is taken, when known.
        field: Option<String>,
        /// What the caller reads.
        message: String,
    },
    /// The store refused the request as invalid (a field its schema does not know, a malformed
    /// query); nothing was written. The message is the store's own, naming the call.
    #[error("{0}")]
    Invalid(String),
    /// The call failed otherwise.
    #[error(transparent)]
    Failed(#[from] Failure),
}

impl StoreError {
    /// Whether the call may have been applied.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Conflict { .. } | Self::Invalid(_) => Outcome::NotApplied,
            Self::Failed(failure) => failure.outcome(),
        }
    }

    /// True for a store route that answered "not found" (not a missing document, which is
    /// `Ok(None)`).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Failed(failure) if failure.cause == Cause::NotFound)
    }
}
