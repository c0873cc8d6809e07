//! The CRUD Service adapter of the `Collection` port: one collection path on one CRUD Service.
//! Tests: store_crud_adapter

mod import;

use async_trait::async_trait;
use futures::TryStreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT};
use reqwest::{Method, RequestBuilder, Response};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::unreadable::{self, DamagedDocs};
use super::{duplicate, DocState, Filter, FindQuery};
use super::{BulkPatch, Collection, ExportStream, StateChange, StoreError, StoreResult};
use crate::context::CallContext;
use crate::downstream::{
    body_error, encode_segment, forward_headers, read_bytes, read_json, send, CallName, Cause, Failure,
};

const SERVICE: &str = "CRUD";
const NDJSON: &str = "application/x-ndjson";
/// Upper bound of one export stream (the client's `DOWNSTREAM_TIMEOUT_MS` would cut it short).
const EXPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);
const ACL_ROWS: HeaderName = HeaderName::from_static("acl_rows");
const ACL_READ_COLUMNS: HeaderName = HeaderName::from_static("acl_read_columns");

/// One collection of a Mia-Platform CRUD Service, called over HTTP (contracts/crud-service.md).
#[derive(Clone, Debug)]
pub struct CrudCollection {
    client: reqwest::Client,
    /// Base URL without a trailing slash: `http://crud-service`.
    base_url: String,
    /// Collection path with a leading and no trailing slash: `/users`.
    path: String,
    /// How long an export may wait for the CRUD's answer to start (`DOWNSTREAM_TIMEOUT_MS`).
    response_timeout: std::time::Duration,
    /// Documents met that cannot be read whole (reported by `/-/check-up`).
    damaged: std::sync::Arc<DamagedDocs>,
    /// What one document is called in conflict messages (`user`).
    item: String,
}

/// Which ACL headers a call carries: reads send both, `PATCH /:id` only `acl_read_columns`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AclHeaders {
    None,
    Read,
    ReadColumns,
}

/// `{"_id": ...}`, as `POST /` and `POST /bulk` answer.
#[derive(Deserialize)]
struct Inserted {
    #[serde(rename = "_id")]
    id: String,
}

impl CrudCollection {
    /// A collection at `base_url` (`http://crud-service`) + `path` (`/users`); slashes are
    /// normalised, so `http://crud-service/` and `users/` work too.
    pub fn new(client: reqwest::Client, base_url: &str, path: &str) -> Self {
        let path = path.trim_matches('/');
        Self {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            path: if path.is_empty() {
                String::new()
            } else {
                format!("/{path}")
            },
            response_timeout: std::time::Duration::from_secs(10),
            damaged: Default::default(),
            item: duplicate::item_name(path),
        }
    }

    /// Names one document of the collection in conflict messages (`a user with this email
    /// already exists`); by default it comes from the path (`/users` → `user`, else `document`).
    pub fn with_item_name(mut self, item: &str) -> Self {
        self.item = item.to_owned();
        self
    }

    /// Sets how long an export waits for the answer to start (the client's own timeout, which
    /// covers whole bodies, is lifted for exports). Use `DOWNSTREAM_TIMEOUT_MS`.
    pub fn with_response_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Names a call on a route template under the collection path (`/:id` → `/users/:id`).
    fn call(&self, method: &'static str, template: &str) -> CallName {
        CallName::new(SERVICE, method, format!("{}{template}", self.path))
    }

    /// `{base}{path}{suffix}`, where `suffix` is already encoded (`/`, `/count`, `/<id>`).
    fn url(&self, suffix: &str) -> String {
        format!("{}{}{suffix}", self.base_url, self.path)
    }

    /// `{base}{path}/<encoded id>{rest}`.
    fn id_url(&self, id: &str, rest: &str) -> String {
        self.url(&format!("/{}{rest}", encode_segment(id)))
    }

    /// A request carrying the forwarded headers, and the ACL headers `acl` asks for.
    fn request(&self, ctx: &CallContext, method: Method, url: String, acl: AclHeaders) -> RequestBuilder {
        let mut builder = forward_headers(self.client.request(method, url), ctx);
        if acl == AclHeaders::Read {
            if let Some(rows) = &ctx.acl.rows {
                builder = set_header(builder, ACL_ROWS, rows);
            }
        }
        if acl != AclHeaders::None {
            if let Some(columns) = &ctx.acl.read_columns {
                builder = set_header(builder, ACL_READ_COLUMNS, columns);
            }
        }
        builder
    }

    /// Sends; a conflict (a unique index violation, 409 or a PATCH's 500) says which field is
    /// taken, in words (`a user with this email already exists`), never with MongoDB's text
    /// (which quotes the collection and the value);
    /// a 400 is `Invalid` with the CRUD Service's message.
    async fn dispatch(&self, call: &CallName, builder: RequestBuilder) -> StoreResult<Response> {
        send(call, builder).await.map_err(|failure| match failure.cause {
            Cause::Conflict { message } => {
                let fields = duplicate::fields_of(&message);
                StoreError::Conflict {
                    field: fields.first().cloned(),
                    message: duplicate::in_words(&self.item, &fields),
                }
            }
            Cause::Rejected { status: 400, message } => {
                StoreError::Invalid(format!("{} responded 400: {message}", failure.call))
            }
            _ => failure.into(),
        })
    }

    /// Sends and reads a JSON body.
    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        call: &CallName,
        builder: RequestBuilder,
    ) -> StoreResult<T> {
        let response = self.dispatch(call, builder).await?;
        Ok(read_json(call, response).await?)
    }
}

/// Sets `name` (replacing a forwarded value of the same name, never adding a second one), with
/// the bytes the caller sent (UTF-8 included). A value that cannot be sent fails the call when
/// sent: an ACL header is never dropped.
fn set_header(builder: RequestBuilder, name: HeaderName, value: &str) -> RequestBuilder {
    match HeaderValue::from_bytes(value.as_bytes()) {
        Ok(value) => builder.headers(HeaderMap::from_iter([(name, value)])),
        Err(_) => builder.header(name, value),
    }
}

/// A 2xx answer whose body is not what the route returns: the outcome is unknown.
fn unreadable(call: &CallName) -> StoreError {
    Failure::new(call.clone(), Cause::Failed { status: None }).into()
}

/// Maps a 404 to `fallback`, keeping every other error.
fn or_not_found<T>(result: StoreResult<T>, fallback: T) -> StoreResult<T> {
    match result {
        Err(e) if e.is_not_found() => Ok(fallback),
        other => other,
    }
}

/// Filter pairs for a `/:id` route: the id is in the path, so `_id` is never sent; `_st` only
/// when `with_state` (`POST /:id/state` refuses it).
fn id_route_pairs(filter: &Filter, with_state: bool) -> Vec<(String, String)> {
    filter
        .to_query_pairs()
        .into_iter()
        .filter(|(k, _)| k != "_id" && (with_state || k != "_st"))
        .collect()
}

impl CrudCollection {
    /// One document of an answer: parsed, or (nested deeper than the reader allows) recorded as
    /// damaged and read as a stub of its top-level fields; `None` if it is not a JSON object.
    fn readable(&self, text: &str) -> Option<Value> {
        match serde_json::from_str::<Value>(text) {
            Ok(doc) => Some(doc),
            Err(_) => {
                let depth = unreadable::json_depth(text.as_bytes());
                let reason = format!("nested {depth} levels deep, more than the service can read");
                let stub = unreadable::shallow_stub(text, &reason)?;
                let id = stub.get("_id").and_then(Value::as_str).unwrap_or_default();
                self.damaged.record(&self.path, id, &reason);
                Some(stub)
            }
        }
    }
}

#[async_trait]
impl Collection for CrudCollection {
    fn damaged(&self) -> Vec<String> {
        self.damaged.report(&self.path)
    }

    fn path(&self) -> &str {
        &self.path
    }

    async fn find(&self, ctx: &CallContext, query: &FindQuery) -> StoreResult<Vec<Value>> {
        let call = self.call("GET", "/");
        let builder = self.request(ctx, Method::GET, self.url("/"), AclHeaders::Read);
        let response = self
            .dispatch(&call, builder.query(&query.to_query_pairs()))
            .await?;
        let body = read_bytes(&call, response).await?;
        // Element by element: one document too deep to read is skipped, not the whole page.
        let items: Vec<Box<RawValue>> = serde_json::from_slice(&body).map_err(|_| unreadable(&call))?;
        Ok(items
            .iter()
            .filter_map(|raw| self.readable(raw.get()))
            .filter(|doc| !unreadable::is_stub(doc))
            .collect())
    }

    async fn find_raw(&self, ctx: &CallContext, query: &FindQuery) -> StoreResult<bytes::Bytes> {
        let call = self.call("GET", "/");
        let builder = self.request(ctx, Method::GET, self.url("/"), AclHeaders::Read);
        let response = self
            .dispatch(&call, builder.query(&query.to_query_pairs()))
            .await?;
        let body = read_bytes(&call, response).await?;
        if !body.trim_ascii_start().starts_with(b"[") {
            return Err(unreadable(&call));
        }
        Ok(body)
    }

    async fn count(&self, ctx: &CallContext, filter: &Filter, estimate: bool) -> StoreResult<u64> {
        let call = self.call("GET", "/count");
        let mut pairs = filter.to_query_pairs();
        if estimate {
            pairs.push(("_useEstimate".to_owned(), "true".to_owned()));
        }
        let builder = self.request(ctx, Method::GET, self.url("/count"), AclHeaders::Read);
        self.json(&call, builder.query(&pairs)).await
    }

    async fn get(&self, ctx: &CallContext, id: &str, filter: &Filter) -> StoreResult<Option<Value>> {
        let call = self.call("GET", "/:id");
        let builder = self.request(ctx, Method::GET, self.id_url(id, ""), AclHeaders::Read);
        let builder = builder.query(&id_route_pairs(filter, true));
        let read = async {
            let body = read_bytes(&call, self.dispatch(&call, builder).await?).await?;
            std::str::from_utf8(&body)
                .ok()
                .and_then(|text| self.readable(text))
                .map(Some)
                .ok_or_else(|| unreadable(&call))
        };
        or_not_found(read.await, None)
    }

    async fn insert(&self, ctx: &CallContext, doc: &Value) -> StoreResult<String> {
        let call = self.call("POST", "/");
        let builder = self.request(ctx, Method::POST, self.url("/"), AclHeaders::None);
        let inserted: Inserted = self.json(&call, builder.json(doc)).await?;
        Ok(inserted.id)
    }

    /// An empty `docs` returns `[]` without a call (the CRUD Service refuses an empty array).
    async fn insert_many(&self, ctx: &CallContext, docs: &[Value]) -> StoreResult<Vec<String>> {
        if docs.is_empty() {
            return Ok(Vec::new());
        }
        let call = self.call("POST", "/bulk");
        let builder = self.request(ctx, Method::POST, self.url("/bulk"), AclHeaders::None);
        let inserted: Vec<Inserted> = self.json(&call, builder.json(docs)).await?;
        Ok(inserted.into_iter().map(|i| i.id).collect())
    }

    async fn insert_with_ids(&self, ctx: &CallContext, docs: &[Value]) -> StoreResult<()> {
        self.import(ctx, docs).await
    }

    async fn patch(
        &self,
        ctx: &CallContext,
        id: &str,
        filter: &Filter,
        update: &Value,
    ) -> StoreResult<Option<Value>> {
        let call = self.call("PATCH", "/:id");
        let url = self.id_url(id, "");
        let builder = self.request(ctx, Method::PATCH, url, AclHeaders::ReadColumns);
        let builder = builder.query(&id_route_pairs(filter, true)).json(update);
        or_not_found(self.json(&call, builder).await.map(Some), None)
    }

    async fn patch_many(&self, ctx: &CallContext, filter: &Filter, update: &Value) -> StoreResult<u64> {
        let call = self.call("PATCH", "/");
        let builder = self.request(ctx, Method::PATCH, self.url("/"), AclHeaders::None);
        self.json(&call, builder.query(&filter.to_query_pairs()).json(update))
            .await
    }

    /// An empty `items` returns 0 without a call (the CRUD Service refuses an empty array).
    async fn patch_bulk(&self, ctx: &CallContext, items: &[BulkPatch]) -> StoreResult<u64> {
        if items.is_empty() {
            return Ok(0);
        }
        let call = self.call("PATCH", "/bulk");
        let body: Vec<Value> = items
            .iter()
            .map(|item| json!({"filter": item.filter.to_body_filter(), "update": item.update}))
            .collect();
        let builder = self.request(ctx, Method::PATCH, self.url("/bulk"), AclHeaders::None);
        self.json(&call, builder.json(&body)).await
    }

    async fn delete(&self, ctx: &CallContext, id: &str, filter: &Filter) -> StoreResult<bool> {
        let call = self.call("DELETE", "/:id");
        let builder = self.request(ctx, Method::DELETE, self.id_url(id, ""), AclHeaders::None);
        let builder = builder.query(&id_route_pairs(filter, true));
        or_not_found(self.dispatch(&call, builder).await.map(|_| true), false)
    }

    async fn delete_many(&self, ctx: &CallContext, filter: &Filter) -> StoreResult<u64> {
        let call = self.call("DELETE", "/");
        let builder = self.request(ctx, Method::DELETE, self.url("/"), AclHeaders::None);
        self.json(&call, builder.query(&filter.to_query_pairs())).await
    }

    /// `filter.state` is never sent: the route refuses `_st` and ignores the current state.
    async fn set_state(
        &self,
        ctx: &CallContext,
        id: &str,
        filter: &Filter,
        state_to: DocState,
    ) -> StoreResult<bool> {
        let call = self.call("POST", "/:id/state");
        let url = self.id_url(id, "/state");
        let builder = self.request(ctx, Method::POST, url, AclHeaders::None);
        let builder = builder
            .query(&id_route_pairs(filter, false))
            .json(&json!({"stateTo": state_to}));
        or_not_found(self.dispatch(&call, builder).await.map(|_| true), false)
    }

    /// An empty `items` returns 0 without a call (the CRUD Service refuses an empty array).
    async fn set_state_many(&self, ctx: &CallContext, items: &[StateChange]) -> StoreResult<u64> {
        if items.is_empty() {
            return Ok(0);
        }
        let call = self.call("POST", "/state");
        let body: Vec<Value> = items
            .iter()
            .map(|item| json!({"filter": item.filter, "stateTo": item.state_to}))
            .collect();
        let builder = self.request(ctx, Method::POST, self.url("/state"), AclHeaders::None);
        self.json(&call, builder.json(&body)).await
    }

    async fn export(&self, ctx: &CallContext, query: &FindQuery) -> StoreResult<ExportStream> {
        let call = self.call("GET", "/export");
        let builder = self.request(ctx, Method::GET, self.url("/export"), AclHeaders::Read);
        // The client's timeout covers the whole body; an export of a large collection streams
        // for longer, so it gets its own (still bounded) timeout.
        let builder = builder
            .query(&query.to_query_pairs())
            .headers(HeaderMap::from_iter([(ACCEPT, HeaderValue::from_static(NDJSON))]))
            .timeout(EXPORT_TIMEOUT);
        let response: Response = tokio::time::timeout(self.response_timeout, self.dispatch(&call, builder))
            .await
            .map_err(|_| StoreError::from(Failure::new(call.clone(), Cause::Timeout)))??;
        let stream = response
            .bytes_stream()
            .map_err(move |e| StoreError::from(body_error(&call, &e)));
        Ok(Box::pin(stream))
    }

    async fn check(&self, ctx: &CallContext) -> StoreResult<()> {
        let call = CallName::new(SERVICE, "GET", "/-/healthz");
        let url = format!("{}/-/healthz", self.base_url);
        self.dispatch(&call, self.request(ctx, Method::GET, url, AclHeaders::None))
            .await?;
        Ok(())
    }
}
