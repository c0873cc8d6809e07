//! `POST /users/` when a step fails: the completed steps are undone in reverse order and the
//! error names the failing call.

use std::time::Duration;

use serde_json::json;

use super::*;

fn failure(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"statusCode": status, "message": "boom"}))
}

#[tokio::test]
async fn when_the_auth_user_creation_fails_the_store_user_is_deleted() {
    let s = Scenario::failing(Step::AuthCreate, failure(500)).await;

    let (status, error) = s.answer("/users/", &full_body()).await;

    assert_eq!(status, 502);
    assert_eq!(error["message"], "Auth0 Client POST /users responded 500");
    assert_eq!(s.journal.lines(), [INSERT, AUTH_CREATE, DELETE_USER]);
    let delete = received(s.app.crud()).await.pop().unwrap();
    assert_eq!(query_param(&delete, "_st").as_deref(), Some(ALL_STATES));
}

#[tokio::test]
async fn when_the_auth_provider_answers_409_the_store_user_is_deleted_and_the_status_is_409() {
    let s = Scenario::failing(Step::AuthCreate, failure(409)).await;

    let (status, error) = s.answer("/users/", &full_body()).await;

    assert_eq!(status, 409);
    assert!(error["message"]
        .as_str()
        .unwrap()
        .starts_with("Auth0 Client POST /users responded 409"));
    assert_eq!(s.journal.lines(), [INSERT, AUTH_CREATE, DELETE_USER]);
}

#[tokio::test]
async fn a_timeout_of_the_auth_user_creation_is_a_504_and_the_store_user_is_deleted() {
    let slow = ResponseTemplate::new(201)
        .set_body_json(json!({"user_id": AUTH_ID}))
        .set_delay(Duration::from_secs(2));
    let s = Scenario::failing(Step::AuthCreate, slow).await;

    let (status, error) = s.answer("/users/", &full_body()).await;

    assert_eq!(status, 504);
    assert_eq!(error["message"], "Auth0 Client POST /users timed out");
    assert_eq!(s.journal.lines(), [INSERT, AUTH_CREATE, DELETE_USER]);
}

#[tokio::test]
async fn when_linking_the_auth_user_fails_the_auth_user_and_the_store_user_are_deleted() {
    let s = Scenario::failing(Step::LinkPatch, failure(500)).await;

    let (status, error) = s.answer("/users/", &full_body()).await;

    assert_eq!(status, 502);
    assert_eq!(error["message"], "CRUD PATCH /users/:id responded 500");
    let expected = [INSERT, AUTH_CREATE, PATCH_USER, AUTH_DELETE, DELETE_USER];
    assert_eq!(s.journal.lines(), expected);
}

#[tokio::test]
async fn when_the_store_user_vanishes_before_the_link_everything_is_undone_with_a_500() {
    let not_found = ResponseTemplate::new(404).set_body_json(json!({"error": "not found"}));
    let s = Scenario::failing(Step::LinkPatch, not_found).await;

    let (status, error) = s.answer("/users/", &full_body()).await;

    assert_eq!((status, &error["message"]), (500, &json!("Something went wrong")));
    let expected = [INSERT, AUTH_CREATE, PATCH_USER, AUTH_DELETE, DELETE_USER];
    assert_eq!(s.journal.lines(), expected);
}

#[tokio::test]
async fn when_the_role_grant_fails_the_auth_user_and_the_store_user_are_deleted() {
    let s = Scenario::failing(Step::Grant, failure(500)).await;

    let (status, error) = s.answer("/users/", &full_body()).await;

    assert_eq!(status, 502);
    assert_eq!(error["message"], "Rönd POST /grant/bindings responded 500");
    let expected = [INSERT, AUTH_CREATE, PATCH_USER, GRANT, AUTH_DELETE, DELETE_USER];
    assert_eq!(s.journal.lines(), expected);
}

#[tokio::test]
async fn when_the_expiry_schedule_fails_roles_auth_user_and_store_user_are_undone() {
    let s = Scenario::failing(Step::Schedule, failure(500)).await;

    let (status, error) = s.answer("/users/", &full_body()).await;

    assert_eq!(status, 502);
    assert_eq!(error["message"], "Timer Service POST /schedule responded 500");
    let expected = [
        INSERT,
        AUTH_CREATE,
        PATCH_USER,
        GRANT,
        SCHEDULE,
        REVOKE,
        AUTH_DELETE,
        DELETE_USER,
    ];
    assert_eq!(s.journal.lines(), expected);
    let revoke = received(s.app.rond()).await.pop().unwrap();
    assert_eq!(json_body(&revoke), json!({"subjects": [AUTH_ID]}));
}

#[tokio::test]
async fn when_storing_the_expiration_id_fails_the_timer_is_aborted_too() {
    let s = Scenario::failing(Step::ExpiryPatch, failure(500)).await;

    let (status, _) = s.answer("/users/", &full_body()).await;

    assert_eq!(status, 502);
    let expected = [
        INSERT,
        AUTH_CREATE,
        PATCH_USER,
        GRANT,
        SCHEDULE,
        PATCH_USER,
        ABORT,
        REVOKE,
        AUTH_DELETE,
        DELETE_USER,
    ];
    assert_eq!(s.journal.lines(), expected);
    let abort = received(s.app.timer()).await.pop().unwrap();
    assert_eq!(json_body(&abort), json!({"expirationId": "t1"}));
}
