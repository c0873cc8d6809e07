//! Lifecycle flows end to end on the stateful CRUD Service and Auth0 Client fakes: the store
//! state follows the CRUD state machine and the auth user follows the store user.

use serde_json::json;

use super::*;
use crate::helpers::TestApp;

/// A running service on the fakes with the `customer` group.
async fn app() -> TestApp {
    TestApp::on_fakes().with_customer_group().start().await
}

/// A PUBLIC `customer` linked to a new auth user; returns (store `_id`, `authUserId`).
fn seed_user(app: &TestApp, n: u32) -> (String, String) {
    let email = format!("user{n}@example.com");
    let auth_id = app
        .auth_fake()
        .insert_user(&email, Some(&format!("user{n}")), "Secret-123!");
    let id = format!("{n:0>24}");
    let doc = json!({
        "_id": id,
        "userGroup": "customer",
        "name": format!("User {n}"),
        "email": email,
        "authUserId": auth_id,
        "__STATE__": "PUBLIC",
    });
    app.crud_fake()
        .state()
        .insert_raw("/users", doc)
        .expect("user seeded");
    (id, auth_id)
}

/// The `__STATE__` of the store user `id` (`None`: no such document).
fn store_state(app: &TestApp, id: &str) -> Option<String> {
    let doc = app.crud_fake().state().document("/users", id)?;
    doc["__STATE__"].as_str().map(str::to_owned)
}

/// Whether the auth user is blocked (`None`: no such auth user).
fn auth_blocked(app: &TestApp, auth_id: &str) -> Option<bool> {
    app.auth_fake()
        .user(auth_id)
        .map(|u| u["blocked"].as_bool().unwrap_or(false))
}

/// `POST /users/state` with one item for user `id`; returns the count.
async fn set_state(app: &TestApp, id: &str, state_to: &str) -> Value {
    let body = json!([{"filter": {"_id": id}, "stateTo": state_to}]);
    let response = app.post_json("/users/state", &body).await;
    assert_eq!(response.status(), 200, "POST /users/state {state_to}");
    response.json().await.unwrap()
}

async fn post(app: &TestApp, route: &str) -> reqwest::Response {
    app.client.post(app.url(route)).send().await.unwrap()
}

/// `DELETE /users/{id}` in any state (the CRUD default is PUBLIC only).
async fn delete(app: &TestApp, id: &str) -> reqwest::Response {
    app.delete(&format!("/users/{id}?_st=PUBLIC,DRAFT,TRASH,DELETED"))
        .await
}

#[tokio::test]
async fn bulk_state_changes_follow_the_state_machine_and_keep_the_auth_user_in_step() {
    let app = app().await;
    let (id, auth_id) = seed_user(&app, 1);

    assert_eq!(set_state(&app, &id, "TRASH").await, json!(1));
    assert_eq!(store_state(&app, &id).as_deref(), Some("TRASH"));
    assert_eq!(auth_blocked(&app, &auth_id), Some(true));

    // TRASH → PUBLIC is not a transition of the state machine: nothing changes.
    assert_eq!(set_state(&app, &id, "PUBLIC").await, json!(0));
    assert_eq!(store_state(&app, &id).as_deref(), Some("TRASH"));
    assert_eq!(auth_blocked(&app, &auth_id), Some(true));

    assert_eq!(set_state(&app, &id, "DRAFT").await, json!(1));
    assert_eq!(store_state(&app, &id).as_deref(), Some("DRAFT"));
    assert_eq!(auth_blocked(&app, &auth_id), Some(true));

    assert_eq!(set_state(&app, &id, "PUBLIC").await, json!(1));
    assert_eq!(store_state(&app, &id).as_deref(), Some("PUBLIC"));
    assert_eq!(auth_blocked(&app, &auth_id), Some(false));
}

#[tokio::test]
async fn bulk_state_changes_only_the_users_matching_the_filter() {
    let app = app().await;
    let (first, first_auth) = seed_user(&app, 1);
    let (second, second_auth) = seed_user(&app, 2);

    let body = json!([{"filter": {"email": "user2@example.com"}, "stateTo": "TRASH"}]);
    let response = app.post_json("/users/state", &body).await;

    assert_eq!(response.json::<Value>().await.unwrap(), json!(1));
    assert_eq!(store_state(&app, &first).as_deref(), Some("PUBLIC"));
    assert_eq!(auth_blocked(&app, &first_auth), Some(false));
    assert_eq!(store_state(&app, &second).as_deref(), Some("TRASH"));
    assert_eq!(auth_blocked(&app, &second_auth), Some(true));
}

#[tokio::test]
async fn soft_delete_walks_to_deleted_and_deletes_the_auth_user_and_a_second_call_is_a_no_op() {
    let app = app().await;
    let (id, auth_id) = seed_user(&app, 1);
    let route = format!("/users/{id}/soft-delete");

    assert_eq!(post(&app, &route).await.status(), 204);
    assert_eq!(store_state(&app, &id).as_deref(), Some("DELETED"));
    assert_eq!(auth_blocked(&app, &auth_id), None, "the auth user is deleted");

    assert_eq!(post(&app, &route).await.status(), 204);
    assert_eq!(store_state(&app, &id).as_deref(), Some("DELETED"));
}

#[tokio::test]
async fn delete_removes_the_store_and_auth_users_and_a_second_delete_is_404() {
    let app = app().await;
    let (id, auth_id) = seed_user(&app, 1);
    let (other, other_auth) = seed_user(&app, 2);

    assert_eq!(delete(&app, &id).await.status(), 204);
    assert_eq!(store_state(&app, &id), None);
    assert_eq!(auth_blocked(&app, &auth_id), None);
    assert_eq!(store_state(&app, &other).as_deref(), Some("PUBLIC"));
    assert_eq!(auth_blocked(&app, &other_auth), Some(false));

    assert_error(delete(&app, &id).await, 404, &format!("user \"{id}\" not found")).await;
}

#[tokio::test]
async fn a_user_deleted_in_bulk_is_deleted_for_good_even_though_its_auth_user_is_gone() {
    let app = app().await;
    let (id, auth_id) = seed_user(&app, 1);
    assert_eq!(set_state(&app, &id, "TRASH").await, json!(1));
    assert_eq!(set_state(&app, &id, "DELETED").await, json!(1));
    assert_eq!(auth_blocked(&app, &auth_id), None);

    assert_eq!(delete(&app, &id).await.status(), 204);
    assert_eq!(store_state(&app, &id), None);
}

#[tokio::test]
async fn expire_blocks_the_user_in_the_auth_provider_and_the_store() {
    let app = app().await;
    let (id, auth_id) = seed_user(&app, 1);

    let response = app
        .post_json(&format!("/users/{id}/expire"), &json!({"userId": id}))
        .await;

    assert_eq!(response.status(), 204);
    assert_eq!(auth_blocked(&app, &auth_id), Some(true));
    let doc = app.crud_fake().state().document("/users", &id).unwrap();
    assert_eq!(doc["blocked"], json!(true));
    assert_eq!(doc["__STATE__"], json!("PUBLIC"));
    assert_eq!(
        post(&app, &format!("/users/{id}/expire")).await.status(),
        204,
        "idempotent"
    );
}
