//! In-memory fakes of the four ports, all writing to one call journal: a recording decorator
//! around a real (embedded) `Collection`, a fake `AuthProvider`, a fake `PolicyClient` (Rönd) and
//! a fake `TimerClient`. Each can be scripted to fail its Nth call of an operation.

mod auth;
mod peers;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::future::BoxFuture;
use serde_json::Value;

use crate::context::CallContext;
use crate::failure::{CallName, Cause, Failure};
use crate::store::{
    BulkPatch, Collection, DocState, ExportStream, Filter, FindQuery, StateChange, StoreError, StoreResult,
};

pub(super) use auth::FakeAuth;
pub(super) use peers::{FakePolicy, FakeTimer};

/// The calls made to every fake, in order: `"store insert"`, `"auth create (failed)"`,
/// `"auth delete (not found)"`, `"rond grant"`, `"timer schedule"`, ...
#[derive(Clone, Default)]
pub(super) struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    fn record(&self, entry: String) {
        self.0.lock().unwrap().push(entry);
    }

    /// Every entry so far.
    pub(super) fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    /// Every entry so far, and forgets them (to look at a retry alone).
    pub(super) fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// A failure of `service` (as an adapter would name it) with `cause`.
pub(super) fn failure(service: &'static str, cause: Cause) -> Failure {
    Failure::new(CallName::new(service, "FAKE", "/fake"), cause)
}

/// What a scripted call does instead of (or before) its normal work.
enum Fault<E> {
    /// Fails without doing anything.
    Fail(E),
    /// Does its work, then fails (a timeout after the callee applied the call).
    FailAfterApplying(E),
    /// Runs the hook (e.g. a concurrent write), then does its work.
    Before(BoxFuture<'static, ()>),
}

struct Plan<E> {
    calls: HashMap<&'static str, usize>,
    planned: Vec<(&'static str, usize, Fault<E>)>,
}

/// The scripted faults of one fake, by operation (`"patch"`, `"create"`, `"grant"`, ...).
/// `nth` counts the calls of that operation from the moment the fault is planned (1 = the next).
pub(super) struct Faults<E> {
    plan: Mutex<Plan<E>>,
}

impl<E> Default for Faults<E> {
    fn default() -> Self {
        Self {
            plan: Mutex::new(Plan {
                calls: HashMap::new(),
                planned: Vec::new(),
            }),
        }
    }
}

impl<E> Faults<E> {
    /// The `nth` next call of `op` fails with `error`, having done nothing.
    pub(super) fn fail(&self, op: &'static str, nth: usize, error: E) {
        self.plan(op, nth, Fault::Fail(error));
    }

    /// The `nth` next call of `op` does its work, then fails with `error`.
    pub(super) fn fail_after_applying(&self, op: &'static str, nth: usize, error: E) {
        self.plan(op, nth, Fault::FailAfterApplying(error));
    }

    /// `hook` runs just before the `nth` next call of `op` (which then runs normally).
    pub(super) fn before(
        &self,
        op: &'static str,
        nth: usize,
        hook: impl Future<Output = ()> + Send + 'static,
    ) {
        self.plan(op, nth, Fault::Before(Box::pin(hook)));
    }

    fn plan(&self, op: &'static str, nth: usize, fault: Fault<E>) {
        let mut plan = self.plan.lock().unwrap();
        let at = plan.calls.get(op).copied().unwrap_or(0) + nth;
        plan.planned.push((op, at, fault));
    }

    /// Counts a call of `op` and takes its fault, if one is planned.
    fn next(&self, op: &'static str) -> Option<Fault<E>> {
        let mut plan = self.plan.lock().unwrap();
        let count = plan.calls.entry(op).or_insert(0);
        *count += 1;
        let count = *count;
        let index = plan
            .planned
            .iter()
            .position(|(o, at, _)| *o == op && *at == count)?;
        Some(plan.planned.remove(index).2)
    }

    /// Runs `call` as op `op` of `service` with its scripted fault, and journals the outcome.
    async fn run<T>(
        &self,
        journal: &Journal,
        service: &str,
        op: &'static str,
        call: impl Future<Output = Result<T, E>>,
        not_found: fn(&E) -> bool,
    ) -> Result<T, E> {
        let result = match self.next(op) {
            None => call.await,
            Some(Fault::Fail(error)) => Err(error),
            Some(Fault::FailAfterApplying(error)) => {
                drop(call.await);
                Err(error)
            }
            Some(Fault::Before(hook)) => {
                hook.await;
                call.await
            }
        };
        let outcome = match &result {
            Ok(_) => "",
            Err(e) if not_found(e) => " (not found)",
            Err(_) => " (failed)",
        };
        journal.record(format!("{service} {op}{outcome}"));
        result
    }
}

/// A real collection whose every call is journaled as `store <op>` and can be scripted to fail.
pub(super) struct RecordingStore {
    inner: Arc<dyn Collection>,
    journal: Journal,
    pub(super) faults: Faults<StoreError>,
}

impl RecordingStore {
    pub(super) fn new(inner: Arc<dyn Collection>, journal: Journal) -> Self {
        Self {
            inner,
            journal,
            faults: Faults::default(),
        }
    }

    /// The decorated collection: reads and writes through it are neither journaled nor scripted.
    pub(super) fn inner(&self) -> Arc<dyn Collection> {
        self.inner.clone()
    }

    async fn run<T>(&self, op: &'static str, call: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        self.faults
            .run(&self.journal, "store", op, call, StoreError::is_not_found)
            .await
    }
}

#[async_trait]
impl Collection for RecordingStore {
    fn path(&self) -> &str {
        self.inner.path()
    }
    async fn find(&self, ctx: &CallContext, query: &FindQuery) -> StoreResult<Vec<Value>> {
        self.run("find", self.inner.find(ctx, query)).await
    }
    async fn count(&self, ctx: &CallContext, filter: &Filter, estimate: bool) -> StoreResult<u64> {
        self.run("count", self.inner.count(ctx, filter, estimate)).await
    }
    async fn get(&self, ctx: &CallContext, id: &str, filter: &Filter) -> StoreResult<Option<Value>> {
        self.run("get", self.inner.get(ctx, id, filter)).await
    }
    async fn insert(&self, ctx: &CallContext, doc: &Value) -> StoreResult<String> {
        self.run("insert", self.inner.insert(ctx, doc)).await
    }
    async fn insert_many(&self, ctx: &CallContext, docs: &[Value]) -> StoreResult<Vec<String>> {
        self.run("insert_many", self.inner.insert_many(ctx, docs)).await
    }
    async fn insert_with_ids(&self, ctx: &CallContext, docs: &[Value]) -> StoreResult<()> {
        self.run("insert_with_ids", self.inner.insert_with_ids(ctx, docs))
            .await
    }
    async fn patch(
        &self,
        ctx: &CallContext,
        id: &str,
        filter: &Filter,
        update: &Value,
    ) -> StoreResult<Option<Value>> {
        self.run("patch", self.inner.patch(ctx, id, filter, update)).await
    }
    async fn patch_many(&self, ctx: &CallContext, filter: &Filter, update: &Value) -> StoreResult<u64> {
        self.run("patch_many", self.inner.patch_many(ctx, filter, update))
            .await
    }
    async fn patch_bulk(&self, ctx: &CallContext, items: &[BulkPatch]) -> StoreResult<u64> {
        self.run("patch_bulk", self.inner.patch_bulk(ctx, items)).await
    }
    async fn delete(&self, ctx: &CallContext, id: &str, filter: &Filter) -> StoreResult<bool> {
        self.run("delete", self.inner.delete(ctx, id, filter)).await
    }
    async fn delete_many(&self, ctx: &CallContext, filter: &Filter) -> StoreResult<u64> {
        self.run("delete_many", self.inner.delete_many(ctx, filter)).await
    }
    async fn set_state(
        &self,
        ctx: &CallContext,
        id: &str,
        filter: &Filter,
        state_to: DocState,
    ) -> StoreResult<bool> {
        self.run("set_state", self.inner.set_state(ctx, id, filter, state_to))
            .await
    }
    async fn set_state_many(&self, ctx: &CallContext, items: &[StateChange]) -> StoreResult<u64> {
        self.run("set_state_many", self.inner.set_state_many(ctx, items))
            .await
    }
    async fn export(&self, ctx: &CallContext, query: &FindQuery) -> StoreResult<ExportStream> {
        self.run("export", self.inner.export(ctx, query)).await
    }
    async fn check(&self, ctx: &CallContext) -> StoreResult<()> {
        self.run("check", self.inner.check(ctx)).await
    }
}
