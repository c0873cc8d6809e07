//! End to end on the stateful CRUD and Auth0 fakes: the store user and its auth user stay
//! consistent after an update, after an update the auth provider refuses, and across groups.

use serde_json::json;

use super::*;
use crate::helpers::TestApp;

/// The service on the fakes with the `customer` and `vip` groups, one auth user and its store
/// user (PUBLIC, linked); returns the store `_id` and the auth user id.
async fn app_with_linked_user() -> (TestApp, String, String) {
    let app = TestApp::on_fakes().with_groups(groups()).start().await;
    let auth_id = app
        .auth_fake()
        .insert_user("ada@example.com", None, "Secret-1234");
    let stored = json!({
        "userGroup": "customer",
        "name": "Ada",
        "email": "ada@example.com",
        "authUserId": auth_id,
        "__STATE__": "PUBLIC",
        "createdAt": "2024-01-01T10:00:00.000Z",
        "updatedAt": UPDATED_AT,
        "creatorId": "public",
        "updaterId": "public"
    });
    let id = app
        .crud_fake()
        .state()
        .insert_raw("/users", stored)
        .expect("user seeded");
    (app, id, auth_id)
}

async fn patch(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    let request = app.client.patch(app.url(&format!("/users/{id}"))).json(&body);
    request.send().await.expect("request failed")
}

fn stored_user(app: &TestApp, id: &str) -> Value {
    app.crud_fake()
        .state()
        .document("/users", id)
        .expect("the store user exists")
}

fn auth_email(app: &TestApp, auth_id: &str) -> Value {
    app.auth_fake().user(auth_id).expect("the auth user exists")["email"].clone()
}

#[tokio::test]
async fn an_email_change_reaches_both_the_store_and_the_auth_user() {
    let (app, id, auth_id) = app_with_linked_user().await;

    let response = patch(&app, &id, json!({"$set": {"email": "lovelace@example.com"}})).await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], "lovelace@example.com");
    assert_ne!(body["updatedAt"], UPDATED_AT, "the store stamped the write");
    assert_eq!(stored_user(&app, &id)["email"], "lovelace@example.com");
    assert_eq!(auth_email(&app, &auth_id), "lovelace@example.com");
}

#[tokio::test]
async fn an_email_taken_in_the_auth_provider_is_409_and_the_store_keeps_the_old_email() {
    let (app, id, auth_id) = app_with_linked_user().await;
    app.auth_fake()
        .insert_user("taken@example.com", None, "Secret-1234");

    let update = json!({"$set": {"email": "taken@example.com", "age": 40}});
    let response = patch(&app, &id, update).await;

    assert_error(response, 409, "Auth0 Client PATCH /users/:id responded 409").await;
    let stored = stored_user(&app, &id);
    assert_eq!(stored["email"], "ada@example.com");
    assert!(
        stored.get("age").is_none(),
        "a field the update added is removed again"
    );
    assert_eq!(auth_email(&app, &auth_id), "ada@example.com");
}

#[tokio::test]
async fn a_group_change_is_validated_against_the_new_groups_schema() {
    let (app, id, _) = app_with_linked_user().await;

    let refused = patch(&app, &id, json!({"$set": {"userGroup": "vip"}})).await;
    assert_error(refused, 400, "group \"vip\"").await;
    assert_eq!(stored_user(&app, &id)["userGroup"], "customer");

    let accepted = patch(&app, &id, json!({"$set": {"userGroup": "vip", "level": 3}})).await;
    assert_eq!(accepted.status(), 200);
    let stored = stored_user(&app, &id);
    assert_eq!(
        (&stored["userGroup"], &stored["level"]),
        (&json!("vip"), &json!(3))
    );
}

#[tokio::test]
async fn a_caller_filter_that_no_longer_matches_is_404_and_nothing_changes() {
    let (app, id, _) = app_with_linked_user().await;
    let first = patch(&app, &id, json!({"$set": {"name": "Ada L."}})).await;
    assert_eq!(first.status(), 200);

    let request = app.client.patch(app.url(&format!("/users/{id}")));
    let stale = request
        .query(&[("_q", r#"{"name":"Ada"}"#)])
        .json(&json!({"$set": {"name": "Ada B."}}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 404);
    assert_eq!(stored_user(&app, &id)["name"], "Ada L.");
}
