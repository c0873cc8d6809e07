//! `DELETE /users/{id}`: auth user deleted (or blocked) → Rönd bindings revoked → store document
//! deleted → expiry timer aborted, in that order; idempotent after a partial failure.

use serde_json::json;

use super::*;
use crate::helpers::{captured_log_text, TestApp};

/// Mounts the GET of the user and a successful answer on every later step.
async fn mount_happy_path(downstream: &Downstream<'_>, user: Value) {
    let route = format!("/users/{ID}");
    downstream.crud("GET", &route, ok_json(user)).await;
    downstream.auth("DELETE", AUTH_PATH, status(204)).await;
    downstream.auth("PATCH", AUTH_PATH, ok_json(json!({}))).await;
    downstream.rond_revoke(revoked()).await;
    downstream.crud("DELETE", &route, status(204)).await;
    downstream.timer_abort(status(204)).await;
}

/// `DELETE /users/{id}` in any state (the CRUD default is PUBLIC only; the Composer's definitive
/// delete from the trash sends `_st=TRASH`).
async fn delete_user(app: &TestApp, id: &str) -> reqwest::Response {
    app.delete(&format!("/users/{id}?_st={ANY_STATE}")).await
}

#[tokio::test]
async fn deleting_a_user_deletes_the_auth_user_revokes_its_roles_deletes_the_document_then_aborts_its_timer()
{
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    mount_happy_path(&downstream, user_doc("TRASH")).await;

    let response = delete_user(&app, ID).await;

    assert_eq!(response.status(), 204);
    let route = format!("/users/{ID}");
    let expected = [
        format!("crud GET {route}"),
        format!("auth DELETE {AUTH_PATH}"),
        "rond POST /revoke/bindings".to_owned(),
        format!("crud DELETE {route}"),
        "timer POST /abort".to_owned(),
    ];
    assert_eq!(downstream.calls(), expected);
    let read = only_request_to(app.crud(), "GET", &route).await;
    assert_eq!(query_param(&read, "_st").as_deref(), Some(ANY_STATE));
    let delete = only_request_to(app.crud(), "DELETE", &route).await;
    assert_eq!(query_param(&delete, "_st").as_deref(), Some(ANY_STATE));
    let revoke = only_request_to(app.rond(), "POST", "/revoke/bindings").await;
    assert_eq!(json_body(&revoke), json!({"subjects": [AUTH_ID]}));
    let abort = only_request_to(app.timer(), "POST", "/abort").await;
    assert_eq!(json_body(&abort), json!({"expirationId": "exp-1"}));
}

#[tokio::test]
async fn without_hard_delete_the_auth_user_is_blocked_instead_of_deleted() {
    let app = TestApp::on_wiremock()
        .with_env(&[("AUTH_HARD_DELETE", "false")])
        .start()
        .await;
    let downstream = Downstream::new(&app);
    mount_happy_path(&downstream, user_doc("PUBLIC")).await;

    let response = delete_user(&app, ID).await;

    assert_eq!(response.status(), 204);
    assert_eq!(downstream.calls()[1], format!("auth PATCH {AUTH_PATH}"));
    let patch = only_request_to(app.auth(), "PATCH", AUTH_PATH).await;
    assert_eq!(json_body(&patch), json!({"blocked": true}));
    assert!(requests_to(app.auth(), "DELETE", AUTH_PATH).await.is_empty());
    assert_eq!(store_deletes(&app).await.len(), 1);
}

#[tokio::test]
async fn an_auth_user_already_gone_counts_as_deleted_and_the_delete_completes() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    downstream.auth("DELETE", AUTH_PATH, status(404)).await;
    mount_happy_path(&downstream, user_doc("PUBLIC")).await;

    let response = delete_user(&app, ID).await;

    assert_eq!(response.status(), 204);
    assert_eq!(store_deletes(&app).await.len(), 1);
    assert_eq!(requests_to(app.timer(), "POST", "/abort").await.len(), 1);
}

#[tokio::test]
async fn an_auth_provider_failure_answers_502_and_leaves_the_document_for_a_retry() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    downstream.auth("DELETE", AUTH_PATH, status(500)).await;
    mount_happy_path(&downstream, user_doc("PUBLIC")).await;

    let response = delete_user(&app, ID).await;

    assert_error(response, 502, "Auth0 Client DELETE /users/:id responded 500").await;
    let expected = calls(&[
        &format!("crud GET /users/{ID}"),
        &format!("auth DELETE {AUTH_PATH}"),
    ]);
    assert_eq!(downstream.calls(), expected);
}

#[tokio::test]
async fn a_rond_failure_answers_502_before_the_document_is_deleted() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    downstream.rond_revoke(status(500)).await;
    mount_happy_path(&downstream, user_doc("PUBLIC")).await;

    let response = delete_user(&app, ID).await;

    assert_error(response, 502, "POST /revoke/bindings responded 500").await;
    assert!(store_deletes(&app).await.is_empty());
}

#[tokio::test]
async fn a_timer_abort_failure_is_logged_and_the_delete_still_succeeds() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    downstream.timer_abort(status(500)).await;
    let mut user = user_doc("PUBLIC");
    user["expirationId"] = json!("exp-abort-fails");
    mount_happy_path(&downstream, user).await;

    let response = delete_user(&app, ID).await;

    assert_eq!(response.status(), 204);
    assert_eq!(store_deletes(&app).await.len(), 1);
    let logged = captured_log_text()
        .lines()
        .any(|l| l.contains("exp-abort-fails") && l.contains("expiry timer was not aborted"));
    assert!(logged, "the abort failure is logged with the expiration id");
}

#[tokio::test]
async fn an_unlinked_user_without_timer_is_only_deleted_from_the_store() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    let user = json!({"_id": ID, "userGroup": "customer", "__STATE__": "DRAFT"});
    mount_happy_path(&downstream, user).await;

    let response = delete_user(&app, ID).await;

    assert_eq!(response.status(), 204);
    let expected = calls(&[
        &format!("crud GET /users/{ID}"),
        &format!("crud DELETE /users/{ID}"),
    ]);
    assert_eq!(downstream.calls(), expected);
}

#[tokio::test]
async fn deleting_an_unknown_user_answers_404_and_changes_nothing() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    downstream.store_lacks("missing").await;

    let response = delete_user(&app, "missing").await;

    assert_unknown_user(response, &downstream, "missing").await;
}

#[tokio::test]
async fn a_delete_with_a_parameter_it_does_not_take_is_refused_without_downstream_calls() {
    let app = TestApp::on_wiremock().start().await;

    let response = app.delete(&format!("/users/{ID}?_p=name")).await;

    assert_error(response, 400, "_p").await;
    assert_no_downstream_call(&app).await;
}

#[tokio::test]
async fn a_delete_matches_the_user_under_its_filters_and_state_public_by_default() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    mount_happy_path(&downstream, user_doc("PUBLIC")).await;

    let response = app.delete(&format!("/users/{ID}?_q={{\"name\":\"Ada\"}}")).await;

    assert_eq!(response.status(), 204);
    let read = only_request_to(app.crud(), "GET", &format!("/users/{ID}")).await;
    assert_eq!(query_param(&read, "_st"), None, "the CRUD default: PUBLIC");
    assert_eq!(query_param(&read, "_q").as_deref(), Some(r#"{"name":"Ada"}"#));
}
