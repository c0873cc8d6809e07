//! The lifecycle routes of `/users` (delete, bulk state change, soft delete, expiry callback)
//! through the running service: the exact downstream calls and their order against wiremock
//! CRUD / Auth0 Client / Rönd / Timer servers, and whole flows on the stateful fakes.

mod delete;
mod delete_many;
mod delete_many_calls;
mod on_fakes;
mod soft_delete_expire;
mod state;
mod state_one;

use serde_json::{json, Value};

use wiremock::{MockServer, Request, ResponseTemplate};

use crate::helpers::{
    assert_error, given, json_body, ok_json, only_request_to, query_param, received, requests_to, Journal,
    TestApp,
};

/// The store user of the wiremock tests.
const ID: &str = "665f00000000000000000001";
/// Its auth user.
const AUTH_ID: &str = "auth0|1";
/// Its auth user's path on the Auth0 Client (the id is percent-encoded).
const AUTH_PATH: &str = "/users/auth0%7C1";
/// Every state, as the lifecycle routes read and delete users.
const ANY_STATE: &str = "PUBLIC,DRAFT,TRASH,DELETED";

/// The four wiremock servers of a test app, each mount journaling into one [`Journal`].
struct Downstream<'a> {
    app: &'a TestApp,
    journal: Journal,
}

impl<'a> Downstream<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            journal: Journal::default(),
        }
    }

    async fn crud(&self, verb: &str, route: &str, answer: ResponseTemplate) {
        self.mount(self.app.crud(), "crud", verb, route, answer).await;
    }

    async fn auth(&self, verb: &str, route: &str, answer: ResponseTemplate) {
        self.mount(self.app.auth(), "auth", verb, route, answer).await;
    }

    async fn rond_revoke(&self, answer: ResponseTemplate) {
        self.mount(self.app.rond(), "rond", "POST", "/revoke/bindings", answer)
            .await;
    }

    async fn timer_abort(&self, answer: ResponseTemplate) {
        self.mount(self.app.timer(), "timer", "POST", "/abort", answer)
            .await;
    }

    async fn mount(
        &self,
        server: &MockServer,
        name: &'static str,
        verb: &str,
        route: &str,
        answer: ResponseTemplate,
    ) {
        self.journal.mount(server, name, given(verb, route), answer).await;
    }

    /// The store knows no user `id`.
    async fn store_lacks(&self, id: &str) {
        self.crud("GET", &format!("/users/{id}"), crud_not_found()).await;
    }

    /// Each call as `<server> <METHOD> <path>`, in the order they arrived.
    fn calls(&self) -> Vec<String> {
        self.journal.lines()
    }
}

/// The store user `ID` in `state`, linked to `AUTH_ID`, with roles and an expiry timer.
fn user_doc(state: &str) -> Value {
    json!({
        "_id": ID,
        "userGroup": "customer",
        "name": "Ada",
        "authUserId": AUTH_ID,
        "roles": ["editor"],
        "expirationId": "exp-1",
        "__STATE__": state,
    })
}

fn status(code: u16) -> ResponseTemplate {
    ResponseTemplate::new(code)
}

/// The CRUD's 404 body.
fn crud_not_found() -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({"error": "not found"}))
}

/// Rönd's revoke answer.
fn revoked() -> ResponseTemplate {
    ok_json(json!({"deletedBindings": 1, "modifiedBindings": 0}))
}

/// The `DELETE /users/<ID>` requests the CRUD Service received.
async fn store_deletes(app: &TestApp) -> Vec<Request> {
    requests_to(app.crud(), "DELETE", &format!("/users/{ID}")).await
}

/// Asserts `response` is the 404 of the unknown user `id`, after the store read alone.
async fn assert_unknown_user(response: reqwest::Response, downstream: &Downstream<'_>, id: &str) {
    assert_error(response, 404, &format!("user \"{id}\" not found")).await;
    assert_eq!(downstream.calls(), calls(&[&format!("crud GET /users/{id}")]));
}

/// Asserts no downstream service was called (group-config reads aside).
async fn assert_no_downstream_call(app: &TestApp) {
    for server in app.mock_servers() {
        assert_eq!(received(server).await.len(), 0, "no downstream call expected");
    }
}

/// Owned strings, to compare with [`Downstream::calls`].
fn calls(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn every_lifecycle_route_is_in_the_openapi_document() {
    let app = TestApp::on_wiremock().start().await;

    let doc: Value = app.get("/documentation/json").await.json().await.unwrap();

    let paths = &doc["paths"];
    for (route, verb) in [
        ("/users/{id}", "delete"),
        ("/users/state", "post"),
        ("/users/{id}/soft-delete", "post"),
        ("/users/{id}/expire", "post"),
    ] {
        let operation = &paths[route][verb];
        assert!(
            operation["responses"]["404"].is_object() || route == "/users/state",
            "{verb} {route}"
        );
        assert!(
            operation["responses"]["502"].is_object(),
            "{verb} {route} documents 502"
        );
    }
    let body = &paths["/users/state"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["type"], "array", "{body}");
    assert!(doc["components"]["schemas"]["StateItem"].is_object());
}
