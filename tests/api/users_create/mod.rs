//! The create routes of `/users` (`POST /users/`, `/users/with-id`, `/users/register`) through
//! the running service: the exact downstream sequence and bodies against wiremock, the
//! compensation sequence when each step fails, input validation, and end-to-end flows on the
//! CRUD Service and Auth0 Client fakes.

mod compensation;
mod create;
mod on_fakes;
mod register;
mod timer_callback;
mod with_id;

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::body_partial_json;
use wiremock::{MockServer, ResponseTemplate};

use crate::helpers::{
    customer_group, given, group_doc, json_body, ok_json, query_param, received, status_and_body, Journal,
    TestApp,
};

const USER_ID: &str = "665f00000000000000000001";
const AUTH_ID: &str = "auth0|665f000000000000000000aa";
const PASSWORD: &str = "Sup3r-s3cret!pw";

// The downstream calls, as the journal writes them.
const INSERT: &str = "CRUD POST /users/";
const PATCH_USER: &str = "CRUD PATCH /users/665f00000000000000000001";
const DELETE_USER: &str = "CRUD DELETE /users/665f00000000000000000001";
const AUTH_CREATE: &str = "Auth0 POST /users";
const AUTH_DELETE: &str = "Auth0 DELETE /users/auth0%7C665f000000000000000000aa";
const GRANT: &str = "Rönd POST /grant/bindings";
const REVOKE: &str = "Rönd POST /revoke/bindings";
const SCHEDULE: &str = "Timer POST /schedule";
const ABORT: &str = "Timer POST /abort";

/// Every query state, as the service sends `_st` to act on a user whatever its state.
const ALL_STATES: &str = "PUBLIC,DRAFT,TRASH,DELETED";

/// A step of a full create that a test can make fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Insert,
    AuthCreate,
    LinkPatch,
    Grant,
    Schedule,
    ExpiryPatch,
}

/// A running service with the `customer` group, every downstream answering the steps of a
/// create, and the journal of the calls.
struct Scenario {
    app: TestApp,
    journal: Journal,
}

impl Scenario {
    /// Every step succeeds.
    async fn happy() -> Self {
        Self::start(&[], customer_group(), None).await
    }

    /// Every step succeeds, with extra environment variables.
    async fn with_env(vars: &[(&str, &str)]) -> Self {
        Self::start(vars, customer_group(), None).await
    }

    /// Every step succeeds but `step`, which answers `failure`.
    async fn failing(step: Step, failure: ResponseTemplate) -> Self {
        Self::start(&[], customer_group(), Some((step, failure))).await
    }

    async fn start(
        vars: &[(&str, &str)],
        groups: Vec<Value>,
        failing: Option<(Step, ResponseTemplate)>,
    ) -> Self {
        let app = TestApp::on_wiremock()
            .with_env(vars)
            .with_groups(groups)
            .start()
            .await;
        wait_for_groups(&app).await;
        let scenario = Self {
            app,
            journal: Journal::default(),
        };
        scenario.mount_steps(failing).await;
        scenario
    }

    async fn mount_steps(&self, failing: Option<(Step, ResponseTemplate)>) {
        let answer = |step: Step, success: ResponseTemplate| match &failing {
            Some((failed, failure)) if *failed == step => failure.clone(),
            _ => success,
        };
        let user = json!({"_id": USER_ID, "userGroup": "customer"});
        let inserted = answer(Step::Insert, ok_json(json!({"_id": USER_ID})));
        self.crud("POST", "/users/", inserted).await;
        let link = json!({"$set": {"authUserId": AUTH_ID}});
        self.mount_patch(link, answer(Step::LinkPatch, ok_json(user.clone())))
            .await;
        let expiry = json!({"$set": {"expirationId": "t1"}});
        self.mount_patch(expiry, answer(Step::ExpiryPatch, ok_json(user)))
            .await;
        let deleted = ResponseTemplate::new(204);
        self.crud("DELETE", &format!("/users/{USER_ID}"), deleted.clone())
            .await;
        let created = ResponseTemplate::new(201).set_body_json(json!({"user_id": AUTH_ID}));
        self.auth("POST", "/users", answer(Step::AuthCreate, created))
            .await;
        self.auth("DELETE", &auth_path(), deleted.clone()).await;
        let granted = ok_json(json!({"bindingId": "b1"}));
        self.rond("POST", "/grant/bindings", answer(Step::Grant, granted))
            .await;
        let revoked = ok_json(json!({"deletedBindings": 1, "modifiedBindings": 0}));
        self.rond("POST", "/revoke/bindings", revoked).await;
        let scheduled = ok_json(json!({"expirationId": "t1"}));
        self.timer("POST", "/schedule", answer(Step::Schedule, scheduled))
            .await;
        self.timer("POST", "/abort", deleted).await;
    }

    /// Answers `METHOD route` on the CRUD Service with `template`, writing the call in the journal.
    async fn crud(&self, verb: &str, route: &str, template: ResponseTemplate) {
        self.mount(self.app.crud(), "CRUD", verb, route, template).await;
    }

    /// The same on the Auth0 Client.
    async fn auth(&self, verb: &str, route: &str, template: ResponseTemplate) {
        self.mount(self.app.auth(), "Auth0", verb, route, template).await;
    }

    /// The same on Rönd.
    async fn rond(&self, verb: &str, route: &str, template: ResponseTemplate) {
        self.mount(self.app.rond(), "Rönd", verb, route, template).await;
    }

    /// The same on the Timer Service.
    async fn timer(&self, verb: &str, route: &str, template: ResponseTemplate) {
        self.mount(self.app.timer(), "Timer", verb, route, template).await;
    }

    async fn mount(
        &self,
        server: &MockServer,
        service: &'static str,
        verb: &str,
        route: &str,
        template: ResponseTemplate,
    ) {
        let mock = given(verb, route);
        self.journal.mount(server, service, mock, template).await;
    }

    /// Answers the `PATCH /users/<USER_ID>` whose body contains `update`.
    async fn mount_patch(&self, update: Value, template: ResponseTemplate) {
        let mock = given("PATCH", format!("/users/{USER_ID}")).and(body_partial_json(update));
        self.journal.mount(self.app.crud(), "CRUD", mock, template).await;
    }

    /// `POST {route}` with a JSON body.
    async fn post(&self, route: &str, body: &Value) -> reqwest::Response {
        self.app.post_json(route, body).await
    }

    /// The status and the JSON body of the answer to `POST {route}` with `body`.
    async fn answer(&self, route: &str, body: &Value) -> (u16, Value) {
        status_and_body(self.post(route, body).await).await
    }
}

/// The Auth0 Client path of the test auth user (`|` is percent-encoded).
fn auth_path() -> String {
    format!("/users/{}", AUTH_ID.replace('|', "%7C"))
}

/// A body every step of a full create applies to: auth user, roles, expiry.
fn full_body() -> Value {
    json!({
        "userGroup": "customer",
        "name": "Ada",
        "email": "ada@example.com",
        "username": "ada",
        "roles": ["admin", "editor"],
        "expirationDate": "2030-01-31T10:00:00Z",
        "password": PASSWORD,
    })
}

/// Waits until the service has loaded the group config: the startup load may have run before
/// the groups were mounted, and a failed load is retried at most once a second. The probe (an
/// unknown group) writes nothing: 400 once loaded, 502 while the load fails.
async fn wait_for_groups(app: &TestApp) {
    for _ in 0..40 {
        let probe = app.post_json("/users/", &json!({"userGroup": "__probe__"})).await;
        if probe.status() != 502 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the service never loaded the group config");
}
