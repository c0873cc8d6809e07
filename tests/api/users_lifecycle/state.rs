//! `POST /users/state`: matched users (in the source states of `stateTo`) get the auth side effect
//! first, then one store state change each, for exactly the users whose auth call succeeded.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::helpers::{given, mount, TestApp};

/// Three matched users: two linked to auth users, one not.
fn matches() -> Value {
    json!([
        {"_id": "u1", "authUserId": "auth0|a1"},
        {"_id": "u2", "authUserId": "auth0|a2"},
        {"_id": "u3"},
    ])
}

/// The store change of user `id` for the `customer` filter.
fn change(id: &str, state_to: &str) -> Value {
    json!({"filter": {"userGroup": "customer", "_id": id}, "stateTo": state_to})
}

fn customers_to(state_to: &str) -> Value {
    json!([{"filter": {"userGroup": "customer"}, "stateTo": state_to}])
}

/// Mounts the find (`matches()`), the state change (answers 3) and both auth users answering
/// `verb` with `answer`.
async fn mount_users(downstream: &Downstream<'_>, verb: &str, answer: ResponseTemplate) {
    // No DELETED user is left linked by an earlier call (what a move to DELETED looks for first).
    given("GET", "/users/")
        .and(wiremock::matchers::query_param("_st", "DELETED"))
        .respond_with(ok_json(json!([])))
        .with_priority(1)
        .mount(downstream.app.crud())
        .await;
    downstream.crud("GET", "/users/", ok_json(matches())).await;
    downstream.crud("POST", "/users/state", ok_json(json!(3))).await;
    for auth_path in ["/users/auth0%7Ca1", "/users/auth0%7Ca2"] {
        downstream.auth(verb, auth_path, answer.clone()).await;
    }
    // Users whose auth user is deleted lose their bindings and their link.
    downstream.rond_revoke(revoked()).await;
    for id in ["u1", "u2", "u3"] {
        downstream
            .crud("PATCH", &format!("/users/{id}"), ok_json(json!({})))
            .await;
    }
}

async fn post_state(app: &TestApp, body: &Value) -> reqwest::Response {
    app.post_json("/users/state", body).await
}

/// The body of the one store `POST /users/state`.
async fn state_body(app: &TestApp) -> Value {
    json_body(&only_request_to(app.crud(), "POST", "/users/state").await)
}

#[tokio::test]
async fn trashing_users_blocks_their_auth_users_then_changes_their_state() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    mount_users(&downstream, "PATCH", ok_json(json!({}))).await;

    let response = post_state(&app, &customers_to("TRASH")).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!(3));
    let expected = calls(&[
        "crud GET /users/",
        "auth PATCH /users/auth0%7Ca1",
        "auth PATCH /users/auth0%7Ca2",
        "crud POST /users/state",
    ]);
    assert_eq!(downstream.calls(), expected);
    let find = only_request_to(app.crud(), "GET", "/users/").await;
    assert_eq!(
        query_param(&find, "_q").as_deref(),
        Some(r#"{"userGroup":"customer"}"#)
    );
    assert_eq!(query_param(&find, "_st").as_deref(), Some("PUBLIC,DRAFT,DELETED"));
    assert_eq!(query_param(&find, "_l").as_deref(), Some("200"));
    assert_eq!(query_param(&find, "_sk").as_deref(), Some("0"));
    for patch in requests_to(app.auth(), "PATCH", "/users/auth0%7Ca1").await {
        assert_eq!(json_body(&patch), json!({"blocked": true}));
    }
    let expected = json!([
        change("u1", "TRASH"),
        change("u2", "TRASH"),
        change("u3", "TRASH")
    ]);
    assert_eq!(state_body(&app).await, expected);
}

#[tokio::test]
async fn publishing_users_unblocks_their_auth_users() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    mount_users(&downstream, "PATCH", ok_json(json!({}))).await;

    let response = post_state(&app, &customers_to("PUBLIC")).await;

    assert_eq!(response.status(), 200);
    let find = only_request_to(app.crud(), "GET", "/users/").await;
    assert_eq!(query_param(&find, "_st").as_deref(), Some("DRAFT"));
    let patch = only_request_to(app.auth(), "PATCH", "/users/auth0%7Ca2").await;
    assert_eq!(json_body(&patch), json!({"blocked": false}));
    assert_eq!(state_body(&app).await[0], change("u1", "PUBLIC"));
}

#[tokio::test]
async fn deleting_users_in_bulk_deletes_their_auth_users() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    mount_users(&downstream, "DELETE", status(204)).await;

    let response = post_state(&app, &customers_to("DELETED")).await;

    assert_eq!(response.status(), 200);
    let finds = requests_to(app.crud(), "GET", "/users/").await;
    let states: Vec<Option<String>> = finds.iter().map(|f| query_param(f, "_st")).collect();
    assert_eq!(states, [Some("DELETED".to_owned()), Some("TRASH".to_owned())]);
    let still_linked: Value = serde_json::from_str(&query_param(&finds[0], "_q").unwrap()).unwrap();
    assert_eq!(
        still_linked,
        json!({"$and": [{"userGroup": "customer"}, {"authUserId": {"$exists": true}}]})
    );
    assert_eq!(
        requests_to(app.auth(), "DELETE", "/users/auth0%7Ca1").await.len(),
        1
    );
    assert_eq!(
        requests_to(app.auth(), "DELETE", "/users/auth0%7Ca2").await.len(),
        1
    );
    assert_eq!(state_body(&app).await.as_array().map(Vec::len), Some(3));
    for (id, unlinked) in [("u1", 1), ("u2", 1), ("u3", 0)] {
        let patches = requests_to(app.crud(), "PATCH", &format!("/users/{id}")).await;
        assert_eq!(patches.len(), unlinked, "{id}");
        if let Some(patch) = patches.first() {
            assert_eq!(json_body(patch), json!({"$unset": {"authUserId": true}}));
        }
    }
    assert_eq!(requests_to(app.rond(), "POST", "/revoke/bindings").await.len(), 2);
}

#[tokio::test]
async fn without_hard_delete_users_deleted_in_bulk_are_blocked() {
    let app = TestApp::on_wiremock()
        .with_env(&[("AUTH_HARD_DELETE", "false")])
        .start()
        .await;
    let downstream = Downstream::new(&app);
    mount_users(&downstream, "PATCH", ok_json(json!({}))).await;

    let response = post_state(&app, &customers_to("DELETED")).await;

    assert_eq!(response.status(), 200);
    let patch = only_request_to(app.auth(), "PATCH", "/users/auth0%7Ca1").await;
    assert_eq!(json_body(&patch), json!({"blocked": true}));
}

#[tokio::test]
async fn a_failed_auth_call_keeps_that_user_state_and_answers_502_after_changing_the_others() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    downstream.auth("PATCH", "/users/auth0%7Ca1", status(500)).await;
    mount_users(&downstream, "PATCH", ok_json(json!({}))).await;

    let response = post_state(&app, &customers_to("TRASH")).await;

    assert_error(response, 502, "Auth0 Client PATCH /users/:id responded 500").await;
    let expected = json!([change("u2", "TRASH"), change("u3", "TRASH")]);
    assert_eq!(state_body(&app).await, expected);
}

#[tokio::test]
async fn an_auth_timeout_stops_the_auth_calls_and_only_unlinked_users_change() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    let slow = ok_json(json!({})).set_delay(Duration::from_millis(1500));
    downstream.auth("PATCH", "/users/auth0%7Ca1", slow).await;
    mount_users(&downstream, "PATCH", ok_json(json!({}))).await;

    let response = post_state(&app, &customers_to("TRASH")).await;

    assert_error(response, 504, "Auth0 Client PATCH /users/:id timed out").await;
    assert!(requests_to(app.auth(), "PATCH", "/users/auth0%7Ca2")
        .await
        .is_empty());
    assert_eq!(state_body(&app).await, json!([change("u3", "TRASH")]));
}

#[tokio::test]
async fn matches_are_read_in_pages_of_200_and_changed_in_batches_of_200() {
    let app = TestApp::on_wiremock().start().await;
    let page: Vec<Value> = (0..200).map(|i| json!({"_id": format!("p{i:03}")})).collect();
    given("GET", "/users/")
        .and(wiremock::matchers::query_param("_sk", "0"))
        .respond_with(ok_json(json!(page)))
        .mount(app.crud())
        .await;
    mount(app.crud(), "GET", "/users/", ok_json(json!([{"_id": "last"}]))).await;
    let count_items = |r: &Request| ok_json(json!(json_body(r).as_array().map_or(0, Vec::len)));
    mount(app.crud(), "POST", "/users/state", count_items).await;

    let body = json!([{"filter": {"_id": "ignored-by-the-mock"}, "stateTo": "TRASH"}]);
    let response = post_state(&app, &body).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!(201));
    let finds = requests_to(app.crud(), "GET", "/users/").await;
    let skips: Vec<Option<String>> = finds.iter().map(|r| query_param(r, "_sk")).collect();
    assert_eq!(skips, vec![Some("0".to_owned()), Some("200".to_owned())]);
    assert_eq!(
        query_param(&finds[0], "_id").as_deref(),
        Some("ignored-by-the-mock")
    );
    let batches = requests_to(app.crud(), "POST", "/users/state").await;
    let sizes: Vec<usize> = batches
        .iter()
        .map(|r| json_body(r).as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes, vec![200, 1]);
}

#[tokio::test]
async fn malformed_state_bodies_are_refused_without_downstream_calls() {
    let app = TestApp::on_wiremock().start().await;
    let bodies = [
        (
            json!({"filter": {"_id": "u1"}, "stateTo": "TRASH"}),
            "invalid body",
        ),
        (json!([]), "non-empty array"),
        (json!([{"filter": {"_id": "u1"}}]), "stateTo"),
        (
            json!([{"filter": {"_id": "u1"}, "stateTo": "GONE"}]),
            "unknown variant",
        ),
        (
            json!([{"filter": {"_id": "u1"}, "stateTo": "TRASH", "x": 1}]),
            "unknown field",
        ),
        (
            json!([{"filter": {}, "stateTo": "TRASH"}]),
            "body[0].filter must name",
        ),
        (
            json!([{"filter": {"_st": "PUBLIC"}, "stateTo": "TRASH"}]),
            "body[0].filter._st",
        ),
        (
            json!([{"filter": {"email": {"$ne": "x"}}, "stateTo": "TRASH"}]),
            "body[0].filter.email",
        ),
    ];
    for (body, message) in bodies {
        assert_error(post_state(&app, &body).await, 400, message).await;
    }
    let not_json = app
        .client
        .post(app.url("/users/state"))
        .header("content-type", "application/json");
    let response = not_json.body("[{").send().await.unwrap();
    assert_error(response, 400, "not valid JSON").await;
    let with_query = app.client.post(app.url("/users/state?_st=PUBLIC"));
    let response = with_query.json(&customers_to("TRASH")).send().await.unwrap();
    assert_error(response, 400, "no query parameters").await;
    assert_no_downstream_call(&app).await;
}

#[tokio::test]
async fn a_user_written_between_its_read_and_its_state_change_is_not_moved_and_its_auth_user_follows_its_state(
) {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    let read_at = "2026-11-30T07:00:00.000Z";
    let found = json!([{"_id": "u1", "authUserId": "auth0|a1", "updatedAt": read_at}]);
    downstream.crud("GET", "/users/", ok_json(found)).await;
    downstream.crud("POST", "/users/state", ok_json(json!(0))).await;
    let now = json!({"_id": "u1", "userGroup": "customer", "authUserId": "auth0|a1",
                     "email": "ada@example.com", "__STATE__": "PUBLIC",
                     "updatedAt": "2026-11-30T07:00:00.040Z"});
    downstream.crud("GET", "/users/u1", ok_json(now)).await;
    let blocked = json!({"user_id": "auth0|a1", "email": "ada@example.com", "blocked": true});
    downstream
        .auth("GET", "/users/auth0%7Ca1", ok_json(blocked))
        .await;
    downstream
        .auth("PATCH", "/users/auth0%7Ca1", ok_json(json!({})))
        .await;

    let response = post_state(&app, &customers_to("TRASH")).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!(0));
    let expected = calls(&[
        "crud GET /users/",
        "auth PATCH /users/auth0%7Ca1",
        "crud POST /users/state",
        "crud GET /users/u1",
        "auth GET /users/auth0%7Ca1",
        "auth PATCH /users/auth0%7Ca1",
    ]);
    assert_eq!(downstream.calls(), expected);
    let guarded = json!([{"filter": {"userGroup": "customer", "_id": "u1", "updatedAt": read_at},
                          "stateTo": "TRASH"}]);
    assert_eq!(state_body(&app).await, guarded);
    let find = only_request_to(app.crud(), "GET", "/users/").await;
    assert_eq!(
        query_param(&find, "_p").as_deref(),
        Some("_id,authUserId,updatedAt")
    );
    let patches = requests_to(app.auth(), "PATCH", "/users/auth0%7Ca1").await;
    let bodies: Vec<Value> = patches.iter().map(json_body).collect();
    assert_eq!(
        bodies,
        [json!({"blocked": true}), json!({"blocked": false})],
        "blocked for TRASH, then unblocked: the user is PUBLIC still"
    );
}
