//! `EmbeddedCollection`: the `Collection` port on one table of the embedded database. Inputs are
//! checked on the caller's task; SQLite work runs in `spawn_blocking` under the connection lock.
//! ACL headers apply as the CRUD adapter sends them: `acl_rows` on reads, `acl_read_columns` on
//! reads and `PATCH /:id`.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::Connection;
use serde_json::Value;

use super::ops::{self, Author};
use super::request::{self, Projection, Scope};
use super::schema::Table;
use super::{audit, bodies, export, states};
use super::{lock, OpError, SERVICE};
use crate::context::CallContext;
use crate::failure::{CallName, Cause, Failure};
use crate::store::{
    BulkPatch, Collection, DocState, ExportStream, Filter, FindQuery, StateChange, StoreResult,
};

/// One collection of an [`super::EmbeddedDb`].
#[derive(Debug)]
pub(crate) struct EmbeddedCollection {
    conn: Arc<Mutex<Connection>>,
    table: Arc<Table>,
    default_state: DocState,
    user_id_header: String,
    ids: Arc<docquery::IdGen>,
    /// Held while index columns are added or dropped.
    indexing: Arc<Mutex<()>>,
}

impl EmbeddedCollection {
    pub(super) fn new(
        conn: Arc<Mutex<Connection>>,
        table: Table,
        default_state: DocState,
        user_id_header: String,
    ) -> Self {
        Self {
            conn,
            table: Arc::new(table),
            default_state,
            user_id_header,
            ids: Arc::new(docquery::IdGen::new()),
            indexing: Arc::new(Mutex::new(())),
        }
    }

    /// Rows read from SQLite so far (tests check that lookups use indexes).
    #[cfg(test)]
    pub(super) fn rows_read(&self) -> u64 {
        self.table.rows_read.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The table (tests inspect its query plans).
    #[cfg(test)]
    pub(super) fn table(&self) -> &Table {
        &self.table
    }

    /// Names a call like the CRUD route it stands for: `embedded store PATCH /users/:id`.
    fn call(&self, method: &'static str, route: &str) -> CallName {
        CallName::new(SERVICE, method, format!("{}{route}", self.table.path))
    }

    /// The writer of a request: the user id header's value (or `"public"`) and now.
    fn author(&self, ctx: &CallContext) -> Author {
        let value = ctx
            .forward
            .get(self.user_id_header.as_str())
            .and_then(|v| v.to_str().ok());
        Author {
            user: docquery::writer_id(value).to_owned(),
            now: docquery::now_iso(),
        }
    }

    /// Runs `work` on the connection in a blocking task.
    async fn run<T, F>(&self, call: CallName, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Table) -> Result<T, OpError> + Send + 'static,
    {
        let (conn, table) = (self.conn.clone(), self.table.clone());
        let joined = tokio::task::spawn_blocking(move || work(&mut lock(&conn), &table)).await;
        match joined {
            Ok(result) => result.map_err(|failure| failure.into_error(call)),
            Err(error) => {
                tracing::error!(call = %call, %error, "embedded store: blocking task failed");
                Err(Failure::new(call, Cause::Failed { status: None }).into())
            }
        }
    }
}

/// Checks an input on the caller's task: a refusal becomes the error of `call`.
fn checked<T>(call: &CallName, result: Result<T, OpError>) -> StoreResult<T> {
    result.map_err(|failure| failure.into_error(call.clone()))
}

#[async_trait]
impl Collection for EmbeddedCollection {
    fn path(&self) -> &str {
        &self.table.path
    }

    async fn find(&self, ctx: &CallContext, query: &FindQuery) -> StoreResult<Vec<Value>> {
        let call = self.call("GET", "/");
        let acl = &ctx.acl;
        let page = checked(
            &call,
            request::page(query, acl.rows.as_deref(), acl.read_columns.as_deref(), true),
        )?;
        self.run(call, move |conn, table| ops::find(conn, table, &page))
            .await
    }

    async fn count(&self, ctx: &CallContext, filter: &Filter, estimate: bool) -> StoreResult<u64> {
        let call = self.call("GET", "/count");
        let scope = Scope {
            id_param: true,
            acl_rows: ctx.acl.rows.as_deref(),
            ..Scope::default()
        };
        let selection = checked(&call, request::selection(filter, scope))?;
        let selection = (!estimate).then_some(selection);
        self.run(call, move |conn, table| {
            ops::count(conn, table, selection.as_ref())
        })
        .await
    }

    async fn get(&self, ctx: &CallContext, id: &str, filter: &Filter) -> StoreResult<Option<Value>> {
        let call = self.call("GET", "/:id");
        let scope = Scope {
            path_id: Some(id),
            acl_rows: ctx.acl.rows.as_deref(),
            ..Scope::default()
        };
        let selection = checked(&call, request::selection(filter, scope))?;
        let projection = Projection::All.restrict(ctx.acl.read_columns.as_deref());
        let found = self
            .run(call, move |conn, table| ops::get(conn, table, &selection))
            .await?;
        Ok(found.map(|doc| projection.apply(doc)))
    }

    async fn insert(&self, ctx: &CallContext, doc: &Value) -> StoreResult<String> {
        let ids = self
            .insert_docs(ctx, "POST", "/", std::slice::from_ref(doc))
            .await?;
        let call = self.call("POST", "/");
        ids.into_iter()
            .next()
            .ok_or_else(|| OpError::Internal("insert returned no id".to_owned()).into_error(call))
    }

    async fn insert_many(&self, ctx: &CallContext, docs: &[Value]) -> StoreResult<Vec<String>> {
        if docs.is_empty() {
            return Ok(Vec::new());
        }
        self.insert_docs(ctx, "POST", "/bulk", docs).await
    }

    /// All or nothing (one transaction), where the CRUD Service may write the rows before a
    /// conflict.
    async fn insert_with_ids(&self, ctx: &CallContext, docs: &[Value]) -> StoreResult<()> {
        if docs.is_empty() {
            return Ok(());
        }
        let call = self.call("POST", "/import");
        let author = self.author(ctx);
        let (user, now) = (&author.user, &author.now);
        let docs: Result<Vec<Value>, OpError> = docs
            .iter()
            .enumerate()
            .map(|(i, row)| {
                bodies::imported_document(row, &format!("file/{i}"), self.default_state, user, now)
            })
            .collect();
        let docs = checked(&call, docs)?;
        self.run(call, move |conn, table| ops::insert_with_ids(conn, table, docs))
            .await
    }

    async fn patch(
        &self,
        ctx: &CallContext,
        id: &str,
        filter: &Filter,
        update: &Value,
    ) -> StoreResult<Option<Value>> {
        let call = self.call("PATCH", "/:id");
        let author = self.author(ctx);
        checked(&call, bodies::check_update(update, "body", &author.now))?;
        let scope = Scope {
            path_id: Some(id),
            ..Scope::default()
        };
        let selection = checked(&call, request::selection(filter, scope))?;
        let projection = Projection::All.restrict(ctx.acl.read_columns.as_deref());
        let update = update.clone();
        let updated = self
            .run(call, move |conn, table| {
                ops::patch_one(conn, table, &selection, &update, &author)
            })
            .await?;
        Ok(updated.map(|doc| projection.apply(doc)))
    }

    async fn patch_many(&self, ctx: &CallContext, filter: &Filter, update: &Value) -> StoreResult<u64> {
        let call = self.call("PATCH", "/");
        let author = self.author(ctx);
        checked(&call, bodies::check_update(update, "body", &author.now))?;
        let scope = Scope {
            id_param: true,
            ..Scope::default()
        };
        let selection = checked(&call, request::selection(filter, scope))?;
        let update = update.clone();
        self.run(call, move |conn, table| {
            ops::patch_many(conn, table, &selection, &update, &author)
        })
        .await
    }

    async fn patch_bulk(&self, ctx: &CallContext, items: &[BulkPatch]) -> StoreResult<u64> {
        if items.is_empty() {
            return Ok(0);
        }
        let call = self.call("PATCH", "/bulk");
        let author = self.author(ctx);
        let mut checked_items = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = format!("body/{i}/update");
            checked(&call, bodies::check_update(&item.update, &at, &author.now))?;
            let scope = Scope {
                path_id: item.filter.id.as_deref(),
                ..Scope::default()
            };
            let selection = checked(&call, request::selection(&item.filter, scope))?;
            checked_items.push((selection, item.update.clone()));
        }
        self.run(call, move |conn, table| {
            ops::patch_bulk(conn, table, &checked_items, &author)
        })
        .await
    }

    async fn delete(&self, _ctx: &CallContext, id: &str, filter: &Filter) -> StoreResult<bool> {
        let call = self.call("DELETE", "/:id");
        let scope = Scope {
            path_id: Some(id),
            ..Scope::default()
        };
        let selection = checked(&call, request::selection(filter, scope))?;
        let deleted = self
            .run(call, move |conn, table| {
                ops::delete(conn, table, &selection, Some(1))
            })
            .await?;
        Ok(deleted > 0)
    }

    async fn delete_many(&self, _ctx: &CallContext, filter: &Filter) -> StoreResult<u64> {
        let call = self.call("DELETE", "/");
        let scope = Scope {
            id_param: true,
            ..Scope::default()
        };
        let selection = checked(&call, request::selection(filter, scope))?;
        self.run(call, move |conn, table| {
            ops::delete(conn, table, &selection, None)
        })
        .await
    }

    /// `filter.state` is ignored, as the CRUD route ignores the current state.
    async fn set_state(
        &self,
        ctx: &CallContext,
        id: &str,
        filter: &Filter,
        state_to: DocState,
    ) -> StoreResult<bool> {
        let call = self.call("POST", "/:id/state");
        let author = self.author(ctx);
        let scope = Scope {
            path_id: Some(id),
            any_state: true,
            ..Scope::default()
        };
        let selection = checked(&call, request::selection(filter, scope))?;
        let to = request::state(state_to);
        self.run(call, move |conn, table| {
            states::set_state(conn, table, &selection, to, &author)
        })
        .await
    }

    async fn set_state_many(&self, ctx: &CallContext, items: &[StateChange]) -> StoreResult<u64> {
        if items.is_empty() {
            return Ok(0);
        }
        let call = self.call("POST", "/state");
        let author = self.author(ctx);
        let mut checked_items = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let selection = checked(&call, request::state_change(item, &format!("body/{i}")))?;
            checked_items.push((selection, request::state(item.state_to)));
        }
        self.run(call, move |conn, table| {
            states::set_state_many(conn, table, &checked_items, &author)
        })
        .await
    }

    async fn export(&self, ctx: &CallContext, query: &FindQuery) -> StoreResult<ExportStream> {
        let call = self.call("GET", "/export");
        let acl = &ctx.acl;
        let page = checked(
            &call,
            request::page(query, acl.rows.as_deref(), acl.read_columns.as_deref(), false),
        )?;
        Ok(export::stream(self.conn.clone(), self.table.clone(), page, call))
    }

    async fn audit_depth(&self, max_depth: usize) -> StoreResult<u64> {
        let (mut after, mut found) = (i64::MIN, 0);
        // A page per lock of the connection, so that requests interleave with the scan.
        loop {
            let call = self.call("GET", "/ (depth audit)");
            let page = self
                .run(call, move |conn, table| {
                    audit::depth_page(conn, table, after, max_depth)
                })
                .await?;
            found += page.found;
            match page.last {
                Some(last) => after = last,
                None => return Ok(found),
            }
        }
    }

    fn damaged(&self) -> Vec<String> {
        self.table.damaged.report(&self.table.path)
    }

    async fn index_fields(&self, fields: &[String]) -> StoreResult<()> {
        let call = self.call("POST", "/ (index fields)");
        let (conn, table, one) = (self.conn.clone(), self.table.clone(), self.indexing.clone());
        super::indexes::run(conn, table, one, fields.to_vec(), call).await
    }

    async fn check(&self, _ctx: &CallContext) -> StoreResult<()> {
        let call = CallName::new(SERVICE, "GET", "/-/healthz");
        self.run(call, |conn, _| {
            conn.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }
}

impl EmbeddedCollection {
    async fn insert_docs(
        &self,
        ctx: &CallContext,
        method: &'static str,
        route: &str,
        bodies: &[Value],
    ) -> StoreResult<Vec<String>> {
        let call = self.call(method, route);
        let author = self.author(ctx);
        let single = bodies.len() == 1 && route == "/";
        let mut docs = Vec::with_capacity(bodies.len());
        for (i, body) in bodies.iter().enumerate() {
            let at = if single {
                "body".to_owned()
            } else {
                format!("body/{i}")
            };
            let doc = bodies::new_document(body, &at, self.default_state, &author.user, &author.now);
            docs.push(checked(&call, doc)?);
        }
        let ids = self.ids.clone();
        self.run(call, move |conn, table| ops::insert(conn, table, &ids, docs))
            .await
    }
}
