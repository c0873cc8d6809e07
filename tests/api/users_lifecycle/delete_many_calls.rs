//! The exact downstream calls of `DELETE /users/` on wiremock: the store page of matches (by
//! `_id`, under the caller's filter), then each user deleted as `DELETE /users/{id}` does; a
//! 4xx, a 5xx and a timeout of the page and of a user's delete.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::helpers::error_of;

/// The store page of matches answers `answer` (mounted first: it wins over the later ones).
async fn page_answers(downstream: &Downstream<'_>, answer: ResponseTemplate) {
    downstream.crud("GET", "/users/", answer).await;
}

/// The service deletes the one matched user: auth user, roles, document, timer.
async fn mount_user_delete(downstream: &Downstream<'_>, auth: ResponseTemplate) {
    let route = format!("/users/{ID}");
    downstream.auth("DELETE", AUTH_PATH, auth).await;
    downstream.rond_revoke(revoked()).await;
    downstream.crud("DELETE", &route, status(204)).await;
    downstream.timer_abort(status(204)).await;
}

#[tokio::test]
async fn the_matches_are_read_by_id_under_the_filter_then_deleted_one_by_one() {
    let app = TestApp::on_wiremock().start().await;
    let downstream = Downstream::new(&app);
    // The first page holds the user; the page read after its delete is empty.
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/users/"))
        .respond_with(ok_json(json!([user_doc("PUBLIC")])))
        .up_to_n_times(1)
        .mount(app.crud())
        .await;
    page_answers(&downstream, ok_json(json!([]))).await;
    mount_user_delete(&downstream, status(204)).await;

    let response = app
        .delete("/users/?_q=%7B%22name%22%3A%22Ada%22%7D&_st=PUBLIC,TRASH")
        .await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!(1));
    // The user as the page read it is deleted (no second read); the page is read again.
    let expected = [
        format!("auth DELETE {AUTH_PATH}"),
        "rond POST /revoke/bindings".to_owned(),
        format!("crud DELETE /users/{ID}"),
        "timer POST /abort".to_owned(),
        "crud GET /users/".to_owned(),
    ];
    assert_eq!(downstream.calls(), expected);
    let page = &requests_to(app.crud(), "GET", "/users/").await[0];
    assert_eq!(query_param(page, "_q").as_deref(), Some(r#"{"name":"Ada"}"#));
    assert_eq!(query_param(page, "_st").as_deref(), Some("PUBLIC,TRASH"));
    assert_eq!(query_param(page, "_s").as_deref(), Some("_id"));
}

#[tokio::test]
async fn a_refused_failed_or_slow_page_answers_with_nothing_deleted() {
    let slow = ok_json(json!([user_doc("PUBLIC")])).set_delay(Duration::from_millis(1500));
    let cases = [
        (status(400).set_body_json(json!({"message": "bad"})), 400),
        (status(500), 502),
        (slow, 504),
    ];
    for (answer, code) in cases {
        let app = TestApp::on_wiremock().start().await;
        let downstream = Downstream::new(&app);
        page_answers(&downstream, answer).await;

        error_of(app.delete("/users/").await, code).await;

        assert_eq!(downstream.calls(), ["crud GET /users/"], "{code}: nothing else");
    }
}

#[tokio::test]
async fn a_users_refused_failed_or_slow_auth_delete_stops_it_and_keeps_the_document() {
    let slow = status(204).set_delay(Duration::from_millis(1500));
    let cases = [(status(403), 403), (status(500), 502), (slow, 504)];
    for (answer, code) in cases {
        let app = TestApp::on_wiremock().start().await;
        let downstream = Downstream::new(&app);
        page_answers(&downstream, ok_json(json!([user_doc("PUBLIC")]))).await;
        mount_user_delete(&downstream, answer).await;

        let error = error_of(app.delete("/users/").await, code).await;

        let message = error["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("0 users deleted before user \"{ID}\" failed")),
            "{code}: {message}"
        );
        assert!(
            store_deletes(&app).await.is_empty(),
            "{code}: the document is kept for a retry"
        );
    }
}
