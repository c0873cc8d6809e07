//! `POST /users/{id}/soft-delete` (allowed transitions to DELETED, auth effect before each) and
//! `POST /users/{id}/expire` (the Timer Service's callback: block in auth provider and store).

use serde_json::json;

use super::*;
use crate::helpers::TestApp;

/// The user `ID` in `state`, and every later call succeeding.
async fn mount_user(downstream: &Downstream<'_>, state: &str) {
    let route = format!("/users/{ID}");
    downstream.crud("GET", &route, ok_json(user_doc(state))).await;
    downstream
        .crud("POST", &format!("{route}/state"), status(204))
        .await;
    downstream.crud("PATCH", &route, ok_json(user_doc(state))).await;
    downstream.auth("PATCH", AUTH_PATH, ok_json(json!({}))).await;
    downstream.auth("DELETE", AUTH_PATH, status(204)).await;
    downstream.rond_revoke(revoked()).await;
}

async fn post_action(app: &TestApp, id: &str, action: &str) -> reqwest::Response {
    let url = app.url(&format!("/users/{id}/{action}"));
    app.client.post(url).send().await.expect("request failed")
}

/// The `stateTo` of every store state change, in order.
async fn state_changes(app: &TestApp) -> Vec<Value> {
    let requests = requests_to(app.crud(), "POST", &format!("/users/{ID}/state")).await;
    requests.iter().map(|r| json_body(r)["stateTo"].clone()).collect()
}

#[tokio::test]
async fn soft_deleting_a_public_user_trashes_then_deletes_it_with_the_auth_effect_before_each_step() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    mount_user(&downstream, "PUBLIC").await;

    let response = post_action(&app, ID, "soft-delete").await;

    assert_eq!(response.status(), 204);
    let state_route = format!("crud POST /users/{ID}/state");
    let expected = [
        format!("crud GET /users/{ID}"),
        format!("auth PATCH {AUTH_PATH}"),
        state_route.clone(),
        format!("auth DELETE {AUTH_PATH}"),
        state_route,
        "rond POST /revoke/bindings".to_owned(),
        format!("crud PATCH /users/{ID}"),
    ];
    assert_eq!(downstream.calls(), expected);
    assert_eq!(state_changes(&app).await, vec![json!("TRASH"), json!("DELETED")]);
    let unlink = only_request_to(app.crud(), "PATCH", &format!("/users/{ID}")).await;
    assert_eq!(
        json_body(&unlink),
        json!({"$unset": {"authUserId": true}}),
        "the deleted auth user is unlinked"
    );
    let block = only_request_to(app.auth(), "PATCH", AUTH_PATH).await;
    assert_eq!(json_body(&block), json!({"blocked": true}));
    let read = only_request_to(app.crud(), "GET", &format!("/users/{ID}")).await;
    assert_eq!(query_param(&read, "_st").as_deref(), Some(ANY_STATE));
}

#[tokio::test]
async fn soft_deleting_a_trashed_user_only_deletes_it() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    mount_user(&downstream, "TRASH").await;

    let response = post_action(&app, ID, "soft-delete").await;

    assert_eq!(response.status(), 204);
    assert_eq!(state_changes(&app).await, vec![json!("DELETED")]);
    assert!(requests_to(app.auth(), "PATCH", AUTH_PATH).await.is_empty());
    assert_eq!(requests_to(app.auth(), "DELETE", AUTH_PATH).await.len(), 1);
}

#[tokio::test]
async fn soft_deleting_a_deleted_user_changes_nothing() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    // What a completed soft delete leaves with hard delete: DELETED, no auth user, no link.
    let mut deleted = user_doc("DELETED");
    deleted.as_object_mut().unwrap().remove("authUserId");
    downstream
        .crud("GET", &format!("/users/{ID}"), ok_json(deleted))
        .await;

    let response = post_action(&app, ID, "soft-delete").await;

    assert_eq!(response.status(), 204);
    assert_eq!(downstream.calls(), calls(&[&format!("crud GET /users/{ID}")]));
}

#[tokio::test]
async fn soft_deleting_a_deleted_user_still_linked_finishes_the_delete() {
    // An earlier soft delete reached DELETED but failed before the unlink: the retry owes it.
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    mount_user(&downstream, "DELETED").await;

    let response = post_action(&app, ID, "soft-delete").await;

    assert_eq!(response.status(), 204);
    assert!(
        state_changes(&app).await.is_empty(),
        "no store transition is owed"
    );
    assert_eq!(requests_to(app.auth(), "DELETE", AUTH_PATH).await.len(), 1);
    assert_eq!(requests_to(app.rond(), "POST", "/revoke/bindings").await.len(), 1);
    let unlink = only_request_to(app.crud(), "PATCH", &format!("/users/{ID}")).await;
    assert_eq!(json_body(&unlink), json!({"$unset": {"authUserId": true}}));
}

#[tokio::test]
async fn a_failed_auth_block_stops_the_soft_delete_before_any_store_transition() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    downstream.auth("PATCH", AUTH_PATH, status(503)).await;
    mount_user(&downstream, "DRAFT").await;

    let response = post_action(&app, ID, "soft-delete").await;

    assert_error(response, 502, "Auth0 Client PATCH /users/:id responded 503").await;
    assert!(state_changes(&app).await.is_empty());
}

#[tokio::test]
async fn soft_deleting_an_unknown_user_answers_404() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    downstream.store_lacks("missing").await;

    let response = post_action(&app, "missing", "soft-delete").await;

    assert_unknown_user(response, &downstream, "missing").await;
}

#[tokio::test]
async fn expiring_a_user_blocks_its_auth_user_and_sets_blocked_in_the_store() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    mount_user(&downstream, "DRAFT").await;

    let response = app
        .post_json(&format!("/users/{ID}/expire"), &json!({"userId": ID}))
        .await;

    assert_eq!(response.status(), 204);
    let route = format!("/users/{ID}");
    let expected = [
        format!("crud GET {route}"),
        format!("auth PATCH {AUTH_PATH}"),
        format!("crud PATCH {route}"),
    ];
    assert_eq!(downstream.calls(), expected);
    let block = only_request_to(app.auth(), "PATCH", AUTH_PATH).await;
    assert_eq!(json_body(&block), json!({"blocked": true}));
    let patch = only_request_to(app.crud(), "PATCH", &route).await;
    assert_eq!(json_body(&patch), json!({"$set": {"blocked": true}}));
    assert_eq!(query_param(&patch, "_st").as_deref(), Some(ANY_STATE));
}

#[tokio::test]
async fn a_stale_expiry_callback_is_ignored() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    // The user's expirationDate moved after this timer was scheduled.
    let mut user = user_doc("PUBLIC");
    user["expirationDate"] = json!("2031-06-30T10:00:00Z");
    downstream
        .crud("GET", &format!("/users/{ID}"), ok_json(user))
        .await;

    let payload = json!({"userId": ID, "expirationDate": "2030-01-31T10:00:00Z"});
    let response = app.post_json(&format!("/users/{ID}/expire"), &payload).await;

    assert_eq!(response.status(), 204);
    assert_eq!(downstream.calls(), calls(&[&format!("crud GET /users/{ID}")]));
}

#[tokio::test]
async fn expiring_a_user_whose_auth_user_is_gone_still_blocks_it_in_the_store() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    downstream.auth("PATCH", AUTH_PATH, status(404)).await;
    mount_user(&downstream, "PUBLIC").await;

    let response = post_action(&app, ID, "expire").await;

    assert_eq!(response.status(), 204);
    assert_eq!(
        requests_to(app.crud(), "PATCH", &format!("/users/{ID}"))
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn expiring_an_unknown_user_answers_404() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    downstream.store_lacks("missing").await;

    let response = post_action(&app, "missing", "expire").await;

    assert_unknown_user(response, &downstream, "missing").await;
}
