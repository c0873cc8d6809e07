//! Black-box tests of the CRUD Service fake: spawn it, call it with reqwest, assert the contract's
//! status codes and bodies (`shared/contracts/crud-service.md`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "crud_fake/lifecycle.rs"]
mod lifecycle;
#[path = "crud_fake/reads.rs"]
mod reads;
#[path = "crud_fake/states.rs"]
mod states;
#[path = "crud_fake/writes.rs"]
mod writes;

use reqwest::{Client, Method};
use serde_json::{json, Value};
use ums_fakes::crud::{CrudFake, RunningCrudFake};

/// A spawned fake with the standard collections and an HTTP client.
pub(crate) struct Ctx {
    pub fake: RunningCrudFake,
    pub http: Client,
}

/// A response: status and body (JSON, or a string when not JSON, `Null` when empty).
#[derive(Debug)]
pub(crate) struct Resp {
    pub status: u16,
    pub body: Value,
    pub content_type: String,
}

impl Ctx {
    pub async fn new() -> Self {
        Self::with(CrudFake::standard()).await
    }

    pub async fn with(fake: CrudFake) -> Self {
        Self {
            fake: fake.spawn().await,
            http: Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.fake.uri(), path)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut request = self.http.request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Resp {
            status,
            body,
            content_type,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body), &[("miauserid", "alice")])
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PATCH, path, Some(body), &[("miauserid", "bob")])
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// Inserts documents directly, `__STATE__` PUBLIC unless given; returns their ids.
    pub fn seed(&self, path: &str, docs: Vec<Value>) -> Vec<String> {
        docs.into_iter()
            .map(|mut doc| {
                if doc.get("__STATE__").is_none() {
                    doc["__STATE__"] = json!("PUBLIC");
                }
                self.fake.insert_raw(path, doc).unwrap()
            })
            .collect()
    }
}

/// `/users/?_q=<json>` with the JSON URL-encoded.
pub(crate) fn q(base: &str, filter: &Value) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    let encoded: String = serde_urlencoded::to_string([("_q", filter.to_string())]).unwrap();
    format!("{base}{sep}{encoded}")
}

/// The values of `key` in a JSON array of documents.
pub(crate) fn field(values: &Value, key: &str) -> Vec<Value> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].clone())
        .collect()
}

pub(crate) fn is_hex24(s: &str) -> bool {
    s.len() == 24 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// The CRUD 400 body.
pub(crate) fn bad_request(message: &str) -> Value {
    json!({"statusCode": 400, "error": "Bad Request", "message": message})
}
