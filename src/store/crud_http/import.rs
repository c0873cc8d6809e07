//! `POST /import` of the CRUD adapter: documents that carry their own `_id`, sent as an NDJSON
//! file (the only CRUD route that takes a client's `_id`, contracts/crud-service.md §1).

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::Value;

use super::{AclHeaders, CrudCollection, NDJSON};
use crate::context::CallContext;
use crate::store::StoreResult;

impl CrudCollection {
    /// `POST {path}/import` with one `file` part of `docs`, one a line; an empty `docs` makes no
    /// call. The CRUD Service answers 201 (`{"message": "File uploaded successfully"}`), 409 on
    /// a duplicate `_id` or unique value, 400 on a row its schema refuses.
    pub(super) async fn import(&self, ctx: &CallContext, docs: &[Value]) -> StoreResult<()> {
        if docs.is_empty() {
            return Ok(());
        }
        let call = self.call("POST", "/import");
        let mut file = String::new();
        for doc in docs {
            // A `Value` always serializes: its `Display` is its JSON text.
            file.push_str(&doc.to_string());
            file.push('\n');
        }
        let part = Part::bytes(file.into_bytes())
            .file_name("users.ndjson")
            .headers(HeaderMap::from_iter([(
                CONTENT_TYPE,
                HeaderValue::from_static(NDJSON),
            )]));
        let builder = self.request(ctx, Method::POST, self.url("/import"), AclHeaders::None);
        self.dispatch(&call, builder.multipart(Form::new().part("file", part)))
            .await?;
        Ok(())
    }
}
