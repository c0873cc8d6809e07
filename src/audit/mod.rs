//! The audit trail: one [`AuditRecord`] per administrative write and per refused login, appended
//! to an [`AuditLog`] (a collection of the store, or structured log lines) and read back newest
//! first with filters. Records name fields, never their values: no password or token is stored.

pub mod fields;
mod log_lines;
mod stored;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::context::CallContext;
use crate::store::StoreError;

pub use log_lines::LogLines;
pub use stored::StoredAuditLog;

/// The largest page of [`AuditLog::find`] (`_l`), as on the other lists.
pub const MAX_LIMIT: u32 = crate::store::query::MAX_LIMIT;

/// The page size of [`AuditLog::find`] when none is asked for.
pub const DEFAULT_LIMIT: u32 = 25;

/// One audited operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// When it was answered: ISO-8601 UTC with milliseconds (`2026-01-31T12:00:00.000Z`), so
    /// that the text order is the time order.
    pub at: String,
    /// Who called: the user id header (`CallContext::actor`); `None` for an anonymous call.
    pub actor: Option<String>,
    /// What was done, e.g. `user.create`, `group.update`, `login.failure`.
    pub action: String,
    /// What it was done to, when one thing: a user id, a login name, a group, a job id.
    pub target: Option<String>,
    /// The request id (`x-request-id`).
    pub request_id: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The status code of the answer.
    pub status: u16,
    /// The names of the fields the request carried (never their values).
    pub fields: Vec<String>,
}

/// How an audited operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It did what it was asked (a 2xx answer).
    Success,
    /// It was refused or failed (any other answer).
    Failure,
}

impl Outcome {
    /// The wire name: `success` or `failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }

    /// The outcome of an answer with `status`.
    pub fn of_status(status: u16) -> Self {
        if (200..300).contains(&status) {
            Self::Success
        } else {
            Self::Failure
        }
    }
}

/// What [`AuditLog::find`] returns: the records matching every filter given, newest first,
/// `limit` of them after skipping `skip` (`_l`, `_sk`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only the records of this actor.
    pub actor: Option<String>,
    /// Only the records of this target.
    pub target: Option<String>,
    /// Only the records of this action.
    pub action: Option<String>,
    /// Only the records at or after this time (ISO-8601 UTC with milliseconds, as `at`).
    pub from: Option<String>,
    /// Only the records at or before this time (same form).
    pub to: Option<String>,
    /// Page size, 1 to [`MAX_LIMIT`] ([`DEFAULT_LIMIT`] when `None`).
    pub limit: Option<u32>,
    /// Records to skip.
    pub skip: Option<u64>,
}

/// Why the audit trail could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Records are written as log lines only (CRUD mode without `AUDIT_CRUD_ENDPOINT`): there
    /// is nothing to read.
    #[error("the audit trail is written to the log only: set AUDIT_CRUD_ENDPOINT to store and read it")]
    NotStored,
    /// The audit collection failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where audit records go.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends one record. An error is for the caller to log and count, never to fail a request.
    async fn append(&self, record: &AuditRecord) -> Result<(), AuditError>;

    /// Whether [`AuditLog::find`] can read records back (log lines cannot).
    fn readable(&self) -> bool {
        true
    }

    /// The records matching `query`, newest first.
    async fn find(&self, ctx: &CallContext, query: &AuditQuery) -> Result<Vec<AuditRecord>, AuditError>;
}

/// Now as the `at` of a record.
pub fn now() -> String {
    crate::jobs::now_iso()
}
