//! [`StoredAuditLog`]: audit records as documents of a collection — the embedded store's
//! `/audit` table, or the CRUD Service collection of `AUDIT_CRUD_ENDPOINT`.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::{AuditError, AuditLog, AuditQuery, AuditRecord, DEFAULT_LIMIT, MAX_LIMIT};
use crate::context::{Acl, CallContext, SessionHeaders};
use crate::store::{Collection, DocState, Filter, FindQuery, StateFilter};

/// Records kept in a collection: `{at, actor, action, target, requestId, outcome, status,
/// fields}`, PUBLIC, read newest first (`at`, then `_id`, descending).
#[derive(Clone)]
pub struct StoredAuditLog {
    collection: Arc<dyn Collection>,
}

impl StoredAuditLog {
    /// Records kept in `collection`.
    pub fn new(collection: Arc<dyn Collection>) -> Self {
        Self { collection }
    }
}

#[async_trait]
impl AuditLog for StoredAuditLog {
    async fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        let mut doc = serde_json::to_value(record).unwrap_or_else(|_| json!({}));
        doc["__STATE__"] = json!(DocState::Public.as_str());
        let ctx = CallContext::background(record.request_id.clone());
        self.collection.insert(&ctx, &doc).await?;
        Ok(())
    }

    async fn find(&self, ctx: &CallContext, query: &AuditQuery) -> Result<Vec<AuditRecord>, AuditError> {
        // The records are the service's own: the caller's ACL headers (meant for users) do not
        // apply to them, and no session goes to the store.
        let ctx = CallContext {
            acl: Acl::default(),
            session: SessionHeaders::default(),
            ..ctx.clone()
        };
        let docs = self.collection.find(&ctx, &find_query(query)).await?;
        Ok(docs
            .into_iter()
            .filter_map(|doc| serde_json::from_value(doc).ok())
            .collect())
    }
}

/// The store query of `query`: its filters ANDed in `_q`, newest first, one page.
fn find_query(query: &AuditQuery) -> FindQuery {
    let mut q = Map::new();
    for (field, value) in [
        ("actor", &query.actor),
        ("target", &query.target),
        ("action", &query.action),
    ] {
        if let Some(value) = value {
            q.insert(field.to_owned(), json!(value));
        }
    }
    let mut at = Map::new();
    if let Some(from) = &query.from {
        at.insert("$gte".to_owned(), json!(from));
    }
    if let Some(to) = &query.to {
        at.insert("$lte".to_owned(), json!(to));
    }
    if !at.is_empty() {
        q.insert("at".to_owned(), Value::Object(at));
    }
    FindQuery {
        filter: Filter {
            q: (!q.is_empty()).then_some(Value::Object(q)),
            state: Some(StateFilter(vec![DocState::Public])),
            ..Filter::default()
        },
        sort: Some("-at,-_id".to_owned()),
        limit: Some(query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)),
        skip: query.skip,
        ..FindQuery::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_is_anded_and_the_newest_come_first() {
        let query = AuditQuery {
            actor: Some("admin".into()),
            action: Some("user.create".into()),
            from: Some("2026-01-01T00:00:00.000Z".into()),
            to: Some("2026-02-01T00:00:00.000Z".into()),
            limit: Some(10),
            skip: Some(20),
            ..AuditQuery::default()
        };
        let found = find_query(&query);
        assert_eq!(
            found.filter.q,
            Some(json!({"actor": "admin", "action": "user.create",
                "at": {"$gte": "2026-01-01T00:00:00.000Z", "$lte": "2026-02-01T00:00:00.000Z"}}))
        );
        assert_eq!(found.sort.as_deref(), Some("-at,-_id"));
        assert_eq!((found.limit, found.skip), (Some(10), Some(20)));
    }

    #[test]
    fn no_filter_is_no_q_and_the_default_page() {
        let found = find_query(&AuditQuery::default());
        assert_eq!(found.filter.q, None);
        assert_eq!(found.limit, Some(DEFAULT_LIMIT));
    }
}
