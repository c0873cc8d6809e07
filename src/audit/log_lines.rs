//! [`LogLines`]: audit records as structured log lines (target `audit`), for CRUD mode without
//! `AUDIT_CRUD_ENDPOINT`; they cannot be read back through the service.

use async_trait::async_trait;

use super::{AuditError, AuditLog, AuditQuery, AuditRecord};
use crate::context::CallContext;

/// Writes each record as one `info` line of target `audit`, the record's parts as fields.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogLines;

#[async_trait]
impl AuditLog for LogLines {
    async fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        tracing::info!(
            target: "audit",
            at = %record.at,
            actor = record.actor.as_deref().unwrap_or_default(),
            action = %record.action,
            "target" = record.target.as_deref().unwrap_or_default(),
            requestId = %record.request_id,
            outcome = record.outcome.as_str(),
            status = record.status,
            fields = %record.fields.join(","),
            "audit record"
        );
        Ok(())
    }

    fn readable(&self) -> bool {
        false
    }

    async fn find(&self, _ctx: &CallContext, _query: &AuditQuery) -> Result<Vec<AuditRecord>, AuditError> {
        Err(AuditError::NotStored)
    }
}
