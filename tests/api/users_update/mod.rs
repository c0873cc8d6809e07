//! `PATCH /users/{id}` through the running service: the exact downstream calls against wiremock
//! (store compare-and-set write, Auth0 Client, Rönd, Timer Service, and the reverts), input
//! validation, and end-to-end flows on the stateful CRUD and Auth0 fakes.

mod many;
mod many_calls;
mod on_fakes;
mod sync;
mod validation;

use serde_json::{json, Value};

use wiremock::{MockServer, Request, ResponseTemplate};

use crate::helpers::{
    assert_error, customer_schema, error_of, given, group_doc, ok_json, Call, Journal, TestApp,
};

const ID: &str = "665f00000000000000000001";
const AUTH_ID: &str = "auth0|u1";
const AUTH_PATH: &str = "/users/auth0%7Cu1";
const UPDATED_AT: &str = "2024-05-01T10:00:00.000Z";
/// The `_st` of the writes that follow the compare-and-set write (and of the reverts).
const ANY_STATE: &str = "PUBLIC,DRAFT,TRASH,DELETED";

/// The stored user every wiremock test starts from.
fn user() -> Value {
    json!({
        "_id": ID,
        "userGroup": "customer",
        "name": "Ada",
        "email": "ada@example.com",
        "age": 36,
        "authUserId": AUTH_ID,
        "roles": ["reader"],
        "__STATE__": "PUBLIC",
        "createdAt": "2024-01-01T10:00:00.000Z",
        "updatedAt": UPDATED_AT,
        "creatorId": "public",
        "updaterId": "public"
    })
}

/// `user()` with `changes` merged in (a `null` removes the field).
fn user_with(changes: Value) -> Value {
    let mut doc = user();
    for (key, value) in changes.as_object().expect("an object of changes") {
        match value {
            Value::Null => doc.as_object_mut().map(|d| d.remove(key)),
            _ => doc.as_object_mut().map(|d| d.insert(key.clone(), value.clone())),
        };
    }
    doc
}

/// A group whose users must have an integer `level`.
fn vip_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "level": {"type": "integer"}
        },
        "required": ["name", "level"],
        "additionalProperties": false
    })
}

/// The two groups of the tests: `customer` and `vip`.
fn groups() -> Vec<Value> {
    vec![
        group_doc("customer", customer_schema(), false),
        group_doc("vip", vip_schema(), false),
    ]
}

impl Call {
    /// `_q`, parsed.
    fn q(&self) -> Value {
        self.query("_q")
            .map_or(Value::Null, |q| serde_json::from_str(&q).expect("_q is JSON"))
    }
}

/// The service on wiremock downstreams, the two test groups mounted, and the call journal.
struct Setup {
    app: TestApp,
    journal: Journal,
}

impl Setup {
    async fn new() -> Self {
        let app = TestApp::on_wiremock().with_groups(groups()).start().await;
        Self {
            app,
            journal: Journal::default(),
        }
    }

    /// The service with `GET /users/<ID>` answering `stored`.
    async fn with_user(stored: Value) -> Self {
        let setup = Self::new().await;
        setup.crud(given("GET", user_path()), ok_json(stored)).await;
        setup
    }

    /// Mounts a journaled mock on the CRUD Service.
    async fn crud(&self, mock: wiremock::MockBuilder, response: ResponseTemplate) {
        self.mount(self.app.crud(), "CRUD", mock, response).await;
    }

    async fn auth(&self, mock: wiremock::MockBuilder, response: ResponseTemplate) {
        self.mount(self.app.auth(), "Auth0", mock, response).await;
    }

    async fn rond(&self, mock: wiremock::MockBuilder, response: ResponseTemplate) {
        self.mount(self.app.rond(), "Rönd", mock, response).await;
    }

    async fn timer(&self, mock: wiremock::MockBuilder, response: ResponseTemplate) {
        self.mount(self.app.timer(), "Timer", mock, response).await;
    }

    async fn mount(
        &self,
        server: &MockServer,
        service: &'static str,
        mock: wiremock::MockBuilder,
        response: ResponseTemplate,
    ) {
        self.journal.mount(server, service, mock, response).await;
    }

    /// Rönd revokes the subject's bindings.
    async fn rond_answers_revoke(&self) {
        let revoked = json!({"deletedBindings": 1, "modifiedBindings": 0});
        self.rond(given("POST", "/revoke/bindings"), ok_json(revoked))
            .await;
    }

    /// Rönd revokes the subject's bindings and grants new ones.
    async fn rond_answers_role_changes(&self) {
        self.rond_answers_revoke().await;
        let granted = json!({"bindingId": "b-1"});
        self.rond(given("POST", "/grant/bindings"), ok_json(granted))
            .await;
    }

    /// Answers every store `PATCH /users/<ID>` with `updated`.
    async fn store_patch_answers(&self, updated: Value) {
        self.crud(given("PATCH", user_path()), ok_json(updated)).await;
    }

    /// `PATCH /users/<ID>` on the service with `query` and `body`.
    async fn patch(&self, query: &[(&str, &str)], body: Value) -> reqwest::Response {
        let url = self.app.url(&user_path());
        let request = self.app.client.patch(url).query(query).json(&body);
        request.send().await.expect("request failed")
    }
}

fn user_path() -> String {
    format!("/users/{ID}")
}

/// `CRUD <METHOD> /users/<ID>`.
fn crud_line(method: &str) -> String {
    format!("CRUD {method} {}", user_path())
}
