//! An in-memory group-config collection: `find` pages with `_sk`/`_l` and records every query;
//! it can be switched to fail like a CRUD Service answering 500.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::context::CallContext;
use crate::downstream::{CallName, Cause, Failure};
use crate::store::{
    BulkPatch, Collection, DocState, ExportStream, Filter, FindQuery, StateChange, StoreResult,
};

/// A group-config collection in memory: `find` pages with `_sk`/`_l` and records every query.
#[derive(Default)]
pub(super) struct FakeConfig {
    pub(super) docs: Mutex<Vec<Value>>,
    pub(super) queries: Mutex<Vec<FindQuery>>,
    pub(super) failing: AtomicBool,
    /// How long each `find` takes, to let concurrent callers overlap.
    pub(super) latency: Mutex<Duration>,
    /// The field sets `index_fields` was asked for (used as a user store).
    pub(super) indexed: Mutex<Vec<Vec<String>>>,
}

impl FakeConfig {
    pub(super) fn with(docs: Vec<Value>) -> Arc<Self> {
        let fake = Self::default();
        *fake.docs.lock().unwrap() = docs;
        Arc::new(fake)
    }
    pub(super) fn add(&self, doc: Value) {
        self.docs.lock().unwrap().push(doc);
    }
    pub(super) fn finds(&self) -> usize {
        self.queries.lock().unwrap().len()
    }
}

#[async_trait]
impl Collection for FakeConfig {
    fn path(&self) -> &str {
        "/user-groups"
    }
    async fn find(&self, _ctx: &CallContext, query: &FindQuery) -> StoreResult<Vec<Value>> {
        self.queries.lock().unwrap().push(query.clone());
        let latency = *self.latency.lock().unwrap();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if self.failing.load(Ordering::SeqCst) {
            let call = CallName::new("CRUD", "GET", "/user-groups/");
            return Err(Failure::new(call, Cause::Failed { status: Some(500) }).into());
        }
        let docs = self.docs.lock().unwrap();
        let skip = query.skip.unwrap_or(0) as usize;
        let limit = query.limit.unwrap_or(25) as usize;
        Ok(docs.iter().skip(skip).take(limit).cloned().collect())
    }
    async fn count(&self, _: &CallContext, _: &Filter, _: bool) -> StoreResult<u64> {
        Ok(0)
    }
    async fn get(&self, _: &CallContext, _: &str, _: &Filter) -> StoreResult<Option<Value>> {
        Ok(None)
    }
    async fn insert(&self, _: &CallContext, _: &Value) -> StoreResult<String> {
        Ok(String::new())
    }
    async fn insert_many(&self, _: &CallContext, _: &[Value]) -> StoreResult<Vec<String>> {
        Ok(Vec::new())
    }
    async fn insert_with_ids(&self, _: &CallContext, _: &[Value]) -> StoreResult<()> {
        Ok(())
    }
    async fn patch(&self, _: &CallContext, _: &str, _: &Filter, _: &Value) -> StoreResult<Option<Value>> {
        Ok(None)
    }
    async fn patch_many(&self, _: &CallContext, _: &Filter, _: &Value) -> StoreResult<u64> {
        Ok(0)
    }
    async fn patch_bulk(&self, _: &CallContext, _: &[BulkPatch]) -> StoreResult<u64> {
        Ok(0)
    }
    async fn delete(&self, _: &CallContext, _: &str, _: &Filter) -> StoreResult<bool> {
        Ok(false)
    }
    async fn delete_many(&self, _: &CallContext, _: &Filter) -> StoreResult<u64> {
        Ok(0)
    }
    async fn set_state(&self, _: &CallContext, _: &str, _: &Filter, _: DocState) -> StoreResult<bool> {
        Ok(false)
    }
    async fn set_state_many(&self, _: &CallContext, _: &[StateChange]) -> StoreResult<u64> {
        Ok(0)
    }
    async fn export(&self, _: &CallContext, _: &FindQuery) -> StoreResult<ExportStream> {
        Ok(Box::pin(futures::stream::empty()))
    }
    async fn index_fields(&self, fields: &[String]) -> StoreResult<()> {
        self.indexed.lock().unwrap().push(fields.to_vec());
        Ok(())
    }

    async fn check(&self, _: &CallContext) -> StoreResult<()> {
        Ok(())
    }
}
