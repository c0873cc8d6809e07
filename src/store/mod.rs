//! The `Collection` port: every persistent set of documents (users, group config, roles, jobs),
//! with the operations and semantics of the Mia-Platform CRUD Service contract.

pub mod crud_http;
pub mod duplicate;
pub mod embedded;
pub mod error;
pub mod query;
pub mod unreadable;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use serde_json::Value;

use crate::context::CallContext;

pub use error::{StoreError, StoreResult};
pub use query::{DocState, Filter, FindQuery, StateFilter};

/// A stream of NDJSON bytes (one document a line), as `GET /export` sends it.
pub type ExportStream = BoxStream<'static, Result<Bytes, StoreError>>;

/// One item of a bulk patch: the documents matching `filter` (usually by `_id`) get `update`.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkPatch {
    /// Which documents; `filter.id` names one by `_id`.
    pub filter: Filter,
    /// CRUD update operators (`$set`, `$unset`, ...).
    pub update: Value,
}

/// One item of a bulk state change: equality filter (may include `_id`) and the target state.
#[derive(Clone, Debug, PartialEq)]
pub struct StateChange {
    /// Field equality entries (`_id`, `email`, ...); no `_q`, no `_st` (contract §1 `POST /state`).
    pub filter: serde_json::Map<String, Value>,
    /// Target state.
    pub state_to: DocState,
}

/// A document collection with CRUD Service semantics (contracts/crud-service.md).
///
/// Every read honours `ctx.acl`; every call forwards `ctx.forward`. A missing document is
/// `Ok(None)` / `Ok(false)`, never an error; every other failure is a [`StoreError`].
#[async_trait]
pub trait Collection: Send + Sync {
    /// The collection's path (e.g. `/users`), for messages.
    fn path(&self) -> &str;

    /// `GET /` — the documents matching `query`.
    async fn find(&self, ctx: &CallContext, query: &FindQuery) -> StoreResult<Vec<Value>>;

    /// `GET /` answered as the store's own JSON array, for a proxy that passes it through
    /// untouched (no parse, no re-serialisation). The default serialises [`Collection::find`].
    async fn find_raw(&self, ctx: &CallContext, query: &FindQuery) -> StoreResult<Bytes> {
        let docs = self.find(ctx, query).await?;
        Ok(Bytes::from(
            serde_json::to_vec(&docs).unwrap_or_else(|_| b"[]".to_vec()),
        ))
    }

    /// `GET /count` — how many documents match; `estimate` sends `_useEstimate=true`.
    async fn count(&self, ctx: &CallContext, filter: &Filter, estimate: bool) -> StoreResult<u64>;

    /// `GET /:id` — one document, or `None` when nothing matches id + filter + state.
    async fn get(&self, ctx: &CallContext, id: &str, filter: &Filter) -> StoreResult<Option<Value>>;

    /// `POST /` — inserts one document, returns its `_id`. 409 on a unique index is `Conflict`.
    async fn insert(&self, ctx: &CallContext, doc: &Value) -> StoreResult<String>;

    /// `POST /bulk` — inserts many documents, returns their ids in order.
    async fn insert_many(&self, ctx: &CallContext, docs: &[Value]) -> StoreResult<Vec<String>>;

    /// `POST /import` — inserts documents that carry their own `_id` (a non-empty string): the
    /// one CRUD route that takes a client's `_id` (contracts/crud-service.md §1). A taken `_id`
    /// or unique value is `Conflict`; as with `POST /bulk`, documents before it may be written.
    async fn insert_with_ids(&self, ctx: &CallContext, docs: &[Value]) -> StoreResult<()>;

    /// `PATCH /:id` — applies `update` to the document matching id + filter (compare-and-set);
    /// returns the updated document, or `None` when nothing matched and nothing was written.
    async fn patch(
        &self,
        ctx: &CallContext,
        id: &str,
        filter: &Filter,
        update: &Value,
    ) -> StoreResult<Option<Value>>;

    /// `PATCH /` — applies `update` to every match; returns the modified count.
    async fn patch_many(&self, ctx: &CallContext, filter: &Filter, update: &Value) -> StoreResult<u64>;

    /// `PATCH /bulk` — one update per item; returns the total modified count.
    async fn patch_bulk(&self, ctx: &CallContext, items: &[BulkPatch]) -> StoreResult<u64>;

    /// `DELETE /:id` — true if a document was deleted, false if nothing matched.
    async fn delete(&self, ctx: &CallContext, id: &str, filter: &Filter) -> StoreResult<bool>;

    /// `DELETE /` — deletes every match; returns the deleted count.
    async fn delete_many(&self, ctx: &CallContext, filter: &Filter) -> StoreResult<u64>;

    /// `POST /:id/state` — true on success, false if nothing matched; a transition the state
    /// machine forbids is `Rejected` (400).
    async fn set_state(
        &self,
        ctx: &CallContext,
        id: &str,
        filter: &Filter,
        state_to: DocState,
    ) -> StoreResult<bool>;

    /// `POST /state` — returns the modified count.
    async fn set_state_many(&self, ctx: &CallContext, items: &[StateChange]) -> StoreResult<u64>;

    /// `GET /export` — every match as an NDJSON stream, never buffered whole.
    async fn export(&self, ctx: &CallContext, query: &FindQuery) -> StoreResult<ExportStream>;

    /// Whether the store answers (for `/-/check-up`).
    async fn check(&self, ctx: &CallContext) -> StoreResult<()>;

    /// Stored documents this collection met that cannot be read whole or exceed the input
    /// limits, one line each (for `/-/check-up` warnings); they are skipped by lists and exports.
    fn damaged(&self) -> Vec<String> {
        Vec::new()
    }

    /// Scans the stored documents for ones nested deeper than `max_depth` (written by an earlier
    /// version or another client) and records them for [`Collection::damaged`]; returns how many
    /// it found. Stores that cannot scan cheaply find none.
    async fn audit_depth(&self, _max_depth: usize) -> StoreResult<u64> {
        Ok(0)
    }

    /// Indexes `fields` (dotted paths the group schemas declare) for filters and sorts, and
    /// stops indexing the fields it indexed for earlier calls that are not listed. Stores whose
    /// indexes are managed elsewhere (the CRUD Service's collection indexes) do nothing.
    async fn index_fields(&self, _fields: &[String]) -> StoreResult<()> {
        Ok(())
    }
}
