//! `POST /users/{id}/state` (the CRUD's single-user state change): the auth effect of the target
//! state first, then the store change from the state read; the CRUD's 204, 404 and 400.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::helpers::TestApp;

async fn to_state(app: &TestApp, id: &str, query: &str, state_to: &str) -> reqwest::Response {
    app.post_json(
        &format!("/users/{id}/state{query}"),
        &json!({"stateTo": state_to}),
    )
    .await
}

/// The store read, the auth user and the store state route, on wiremock.
async fn mount(downstream: &Downstream<'_>, state: &str, auth: ResponseTemplate) {
    downstream
        .crud("GET", &format!("/users/{ID}"), ok_json(user_doc(state)))
        .await;
    downstream.auth("PATCH", AUTH_PATH, auth).await;
    downstream
        .crud("POST", &format!("/users/{ID}/state"), status(204))
        .await;
}

#[tokio::test]
async fn trashing_one_user_blocks_its_auth_user_then_moves_it_from_the_state_read() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    mount(&downstream, "PUBLIC", ok_json(json!({}))).await;

    let response = to_state(&app, ID, "?_q={\"name\":\"Ada\"}", "TRASH").await;

    assert_eq!(response.status(), 204);
    let route = format!("/users/{ID}");
    let expected = calls(&[
        &format!("crud GET {route}"),
        &format!("auth PATCH {AUTH_PATH}"),
        &format!("crud POST {route}/state"),
    ]);
    assert_eq!(downstream.calls(), expected);
    let read = only_request_to(app.crud(), "GET", &route).await;
    assert_eq!(query_param(&read, "_st").as_deref(), Some(ANY_STATE));
    assert_eq!(query_param(&read, "_q").as_deref(), Some(r#"{"name":"Ada"}"#));
    let patch = only_request_to(app.auth(), "PATCH", AUTH_PATH).await;
    assert_eq!(json_body(&patch), json!({"blocked": true}));
    let moved = only_request_to(app.crud(), "POST", &format!("{route}/state")).await;
    assert_eq!(json_body(&moved), json!({"stateTo": "TRASH"}));
    assert_eq!(
        query_param(&moved, "_q").as_deref(),
        Some(r#"{"__STATE__":"PUBLIC"}"#)
    );
}

#[tokio::test]
async fn a_failed_or_slow_auth_call_leaves_the_store_state_alone() {
    for (answer, code) in [
        (status(500), 502),
        (status(400), 400),
        (ok_json(json!({})).set_delay(Duration::from_millis(1500)), 504),
    ] {
        let app = TestApp::on_wiremock().start().await;
        let downstream = Downstream::new(&app);
        mount(&downstream, "PUBLIC", answer).await;

        let response = to_state(&app, ID, "", "DRAFT").await;

        assert_eq!(response.status(), code);
        let moves = requests_to(app.crud(), "POST", &format!("/users/{ID}/state")).await;
        assert!(moves.is_empty(), "{code}: the store state did not change");
    }
}

#[tokio::test]
async fn an_unknown_user_a_forbidden_transition_and_st_are_refused() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    downstream
        .crud("GET", &format!("/users/{ID}"), crud_not_found())
        .await;
    assert_unknown_user(to_state(&app, ID, "", "TRASH").await, &downstream, ID).await;

    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    mount(&downstream, "PUBLIC", ok_json(json!({}))).await;
    let forbidden = to_state(&app, ID, "", "DELETED").await;
    assert_error(forbidden, 400, "transition from PUBLIC to DELETED not allowed.").await;
    let with_st = to_state(&app, ID, "?_st=TRASH", "DELETED").await;
    assert_error(with_st, 400, "_st is not accepted here").await;
    assert!(received(app.auth()).await.is_empty());
}

#[tokio::test]
async fn on_the_fakes_a_user_walks_to_deleted_one_call_at_a_time_and_loses_its_auth_user() {
    let app = TestApp::on_fakes().with_customer_group().start().await;
    let auth_id = app
        .auth_fake()
        .insert_user("ada@example.com", None, "Secret-123!");
    let id = "0123456789abcdef01234567";
    let doc = json!({"_id": id, "userGroup": "customer", "name": "Ada", "email": "ada@example.com",
                     "authUserId": auth_id, "__STATE__": "PUBLIC"});
    app.crud_fake().state().insert_raw("/users", doc).unwrap();

    assert_eq!(to_state(&app, id, "", "TRASH").await.status(), 204);
    assert_eq!(app.auth_fake().user(&auth_id).unwrap()["blocked"], true);
    assert_eq!(to_state(&app, id, "", "DELETED").await.status(), 204);
    let stored = app.crud_fake().state().document("/users", id).unwrap();
    assert_eq!(stored["__STATE__"], "DELETED");
    assert!(stored.get("authUserId").is_none(), "unlinked: {stored}");
    assert!(
        app.auth_fake().user(&auth_id).is_none(),
        "the auth user is deleted"
    );
}
