//! Unknown outcomes and crashes, end to end on the fakes: an answer lost after the downstream
//! applied the call (500 after apply, dropped connection, timeout) is verified, never assumed;
//! what a request leaves open is finished or rolled back by the recovery worker.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use ums_fakes::chaos::{FaultKind, RandomFaults};

use crate::helpers::{customer_group, TestApp};

/// A 250 ms downstream timeout and a 3 s recovery grace (the worker looks every 1.5 s).
const SHORT_GRACE: &[(&str, &str)] = &[
    ("DOWNSTREAM_TIMEOUT_MS", "250"),
    ("SAGA_RECOVERY_GRACE_MS", "3000"),
    ("AUTH_HARD_DELETE", "true"),
];

async fn app() -> TestApp {
    TestApp::on_fakes()
        .with_groups(customer_group())
        .with_env(SHORT_GRACE)
        .start()
        .await
}

/// Creates `ada@example.com` (no fault yet); returns its `_id`.
async fn create_ada(app: &TestApp) -> String {
    let created = app.post_json("/users/", &customer("ada@example.com")).await;
    assert_eq!(created.status(), 200);
    let body: Value = created.json().await.unwrap();
    body["_id"].as_str().unwrap().to_owned()
}

fn customer(email: &str) -> Value {
    json!({"userGroup": "customer", "name": "Ada", "email": email, "password": "Secret-123!"})
}

/// The store users with `email`, in any state.
fn store_users(app: &TestApp, email: &str) -> Vec<Value> {
    let state = app.crud_fake().state();
    state
        .documents("/users")
        .into_iter()
        .filter(|doc| doc["email"] == email)
        .collect()
}

/// The auth users with `email`.
fn auth_users(app: &TestApp, email: &str) -> Vec<Value> {
    app.auth_fake()
        .users()
        .into_iter()
        .filter(|u| u["email"] == email)
        .collect()
}

/// The one store user with `email`, linked to the one auth user with it.
fn assert_linked_once(app: &TestApp, email: &str) {
    let store = store_users(app, email);
    let auth = auth_users(app, email);
    assert_eq!(
        (store.len(), auth.len()),
        (1, 1),
        "store {store:?}, auth {auth:?}"
    );
    assert_eq!(store[0]["authUserId"], auth[0]["user_id"]);
}

/// Waits until `done` holds, at most 10 s (the recovery worker's grace is 3 s).
async fn eventually(what: &str, done: impl Fn() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within 10 s");
}

fn open_sagas(app: &TestApp) -> usize {
    let state = app.crud_fake().state();
    state
        .documents("/jobs")
        .into_iter()
        .filter(|d| d["kind"] == "saga")
        .count()
}

#[tokio::test]
async fn an_auth_create_whose_answer_was_lost_is_verified_and_linked() {
    for kind in [FaultKind::DropAfter, FaultKind::FailAfter] {
        let app = app().await;
        app.auth_fake()
            .random_faults()
            .force_next("POST", "/users", kind, 1);
        let response = app.post_json("/users/", &customer("ada@example.com")).await;
        assert_eq!(
            response.status(),
            200,
            "{kind:?}: {}",
            response.text().await.unwrap()
        );
        assert_linked_once(&app, "ada@example.com");
        assert_eq!(open_sagas(&app), 0);
    }
}

#[tokio::test]
async fn a_store_insert_whose_answer_was_lost_is_verified_and_the_create_completes() {
    for kind in [FaultKind::DropAfter, FaultKind::FailAfter] {
        let app = app().await;
        let crud = app.crud_fake().state().random_faults();
        crud.force_next("POST", "/users", kind, 1);
        let response = app.post_json("/users/", &customer("ada@example.com")).await;
        assert_eq!(
            response.status(),
            200,
            "{kind:?}: {}",
            response.text().await.unwrap()
        );
        assert_linked_once(&app, "ada@example.com");
    }
}

#[tokio::test]
async fn an_auth_create_applied_after_its_timeout_is_rolled_back_by_the_recovery_worker() {
    let app = app().await;
    let auth = app.auth_fake().random_faults();
    auth.set(&RandomFaults::rate(0.0).with_delay(Duration::from_millis(600)));
    auth.force_next("POST", "/users", FaultKind::Delay, 1);
    let response = app.post_json("/users/", &customer("ada@example.com")).await;
    assert_eq!(response.status(), 504, "the create timed out");
    assert!(
        store_users(&app, "ada@example.com").is_empty(),
        "the insert was undone"
    );
    eventually("the late auth user applied", || {
        auth_users(&app, "ada@example.com").len() == 1
    })
    .await;
    eventually("the orphan deleted by the recovery worker", || {
        auth_users(&app, "ada@example.com").is_empty() && open_sagas(&app) == 0
    })
    .await;
    let again = app.post_json("/users/", &customer("ada@example.com")).await;
    assert_eq!(again.status(), 200, "the email is free again");
    assert_linked_once(&app, "ada@example.com");
}

#[tokio::test]
async fn a_patch_whose_store_answer_was_lost_still_reaches_the_provider() {
    for kind in [FaultKind::DropAfter, FaultKind::FailAfter] {
        let app = app().await;
        let id = create_ada(&app).await;
        let crud = app.crud_fake().state().random_faults();
        crud.force_next("PATCH", "/users/", kind, 1);
        let update = json!({"$set": {"email": "ada@new.example.com"}});
        let response = app.patch_json(&format!("/users/{id}"), &update).await;
        assert_eq!(
            response.status(),
            200,
            "{kind:?}: {}",
            response.text().await.unwrap()
        );
        assert_linked_once(&app, "ada@new.example.com");
    }
}

#[tokio::test]
async fn a_block_applied_by_the_provider_but_not_answered_is_undone_by_the_recovery_worker() {
    let app = app().await;
    let id = create_ada(&app).await;
    app.auth_fake()
        .random_faults()
        .force_next("PATCH", "/users/", FaultKind::FailAfter, 1);
    let body = json!([{"filter": {"_id": id}, "stateTo": "TRASH"}]);
    let response = app.post_json("/users/state", &body).await;
    assert_eq!(response.status(), 502);
    let auth_id = store_users(&app, "ada@example.com")[0]["authUserId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.auth_fake().user(&auth_id).unwrap()["blocked"],
        true,
        "applied before the 500"
    );
    eventually("the provider back in line with the PUBLIC store user", || {
        app.auth_fake().user(&auth_id).unwrap()["blocked"] == false && open_sagas(&app) == 0
    })
    .await;
    assert_eq!(store_users(&app, "ada@example.com")[0]["__STATE__"], "PUBLIC");
}

#[tokio::test]
async fn a_soft_delete_whose_unlink_failed_is_finished_by_a_retry() {
    let app = app().await;
    let id = create_ada(&app).await;
    let crud = app.crud_fake().state();
    crud.fail_next(axum::http::Method::PATCH, &format!("/users/{id}"), 500, 1);
    let first = app
        .client
        .post(app.url(&format!("/users/{id}/soft-delete")))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 502);
    let retry = app
        .client
        .post(app.url(&format!("/users/{id}/soft-delete")))
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 204);
    let doc = &store_users(&app, "ada@example.com")[0];
    assert_eq!(doc["__STATE__"], "DELETED");
    assert!(doc.get("authUserId").is_none(), "unlinked: {doc}");
    assert!(auth_users(&app, "ada@example.com").is_empty());
    let register = app
        .post_json("/users/register", &json!({"_id": id, "password": "Secret-123!"}))
        .await;
    assert_eq!(register.status(), 204, "a new auth user can be registered");
}

#[tokio::test]
async fn an_intent_left_by_a_crashed_replica_is_finished_by_another() {
    let app = app().await;
    let id = "000000000000000000000042";
    let doc = json!({"_id": id, "userGroup": "customer", "name": "Ada", "email": "ada@example.com",
                     "__STATE__": "PUBLIC"});
    app.crud_fake().state().insert_raw("/users", doc).unwrap();
    let url = format!("{}/users", app.auth_fake().uri());
    let body = json!({"email": "ada@example.com", "password": "Secret-123!",
                      "connection": "Username-Password-Authentication", "app_metadata": {"umsUserId": id}});
    app.client.post(url).json(&body).send().await.unwrap();
    let long_ago = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64 - 60_000;
    let saga = json!({"kind": "saga", "operation": "create", "userIds": [id], "key": {"email": "ada@example.com"},
                      "steps": ["inserted"], "startedAt": long_ago, "leaseOwner": "ums-crashed", "leaseUntil": 0,
                      "__STATE__": "PUBLIC"});
    app.crud_fake().state().insert_raw("/jobs", saga).unwrap();
    let replica = TestApp::replica_of(&app).with_env(SHORT_GRACE).start().await;
    eventually("the create finished", || open_sagas(&app) == 0).await;
    assert_linked_once(&app, "ada@example.com");
    drop(replica);
}

#[tokio::test]
async fn a_state_transition_that_arrives_late_does_not_take_a_deleted_user_back() {
    let app = app().await;
    let id = create_ada(&app).await;
    let crud = app.crud_fake().state().random_faults();
    crud.set(&RandomFaults::rate(0.0).with_delay(Duration::from_millis(600)));
    crud.force_next("POST", &format!("/users/{id}/state"), FaultKind::Delay, 1);
    let soft_delete = || {
        app.client
            .post(app.url(&format!("/users/{id}/soft-delete")))
            .send()
    };
    assert_eq!(
        soft_delete().await.unwrap().status(),
        504,
        "PUBLIC -> TRASH timed out"
    );
    assert_eq!(
        soft_delete().await.unwrap().status(),
        204,
        "the retry walks to DELETED first"
    );
    tokio::time::sleep(Duration::from_millis(800)).await; // the first TRASH has landed by now
    let doc = &store_users(&app, "ada@example.com")[0];
    assert_eq!(doc["__STATE__"], "DELETED", "{doc}");
    assert!(auth_users(&app, "ada@example.com").is_empty());
}

#[tokio::test]
async fn a_bulk_state_change_racing_a_soft_delete_does_not_take_the_deleted_user_back() {
    let app = app().await;
    let id = create_ada(&app).await;
    let auth = app.auth_fake().random_faults();
    auth.set(&RandomFaults::rate(0.0).with_delay(Duration::from_millis(150)));
    auth.force_next("PATCH", "/users/", FaultKind::Delay, 1);
    let to_trash = json!([{"filter": {"_id": id}, "stateTo": "TRASH"}]);
    let bulk = app.post_json("/users/state", &to_trash);
    let soft_delete = async {
        tokio::time::sleep(Duration::from_millis(50)).await; // the bulk block is in flight
        let url = app.url(&format!("/users/{id}/soft-delete"));
        app.client.post(url).send().await.unwrap()
    };
    let (bulk, soft_delete) = tokio::join!(bulk, soft_delete);
    assert_eq!(soft_delete.status(), 204);
    assert_eq!(
        bulk.status(),
        200,
        "the user read PUBLIC was written meanwhile: {}",
        bulk.text().await.unwrap()
    );
    let doc = &store_users(&app, "ada@example.com")[0];
    assert_eq!(doc["__STATE__"], "DELETED", "{doc}");
    assert!(doc.get("authUserId").is_none(), "{doc}");
    assert!(auth_users(&app, "ada@example.com").is_empty());
}
