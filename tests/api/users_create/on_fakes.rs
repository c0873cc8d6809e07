//! Create flows end to end on the stateful CRUD Service and Auth0 Client fakes.

use serde_json::{json, Value};

use crate::helpers::{TestApp, TextField};

async fn app() -> TestApp {
    TestApp::on_fakes().with_customer_group().start().await
}

fn user(name: &str, email: &str) -> Value {
    json!({"userGroup": "customer", "name": name, "email": email, "username": name, "password": "Pa55-word!"})
}

#[tokio::test]
async fn a_created_user_is_public_linked_and_password_free_in_the_store_and_known_to_the_auth_provider() {
    let app = app().await;

    let response = app.post_json("/users/", &user("ada", "ada@example.com")).await;

    assert_eq!(response.status(), 200);
    let id = response.text_field("_id").await;
    let stored = app.crud_fake().state().documents("/users");
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0]["_id"].as_str(), &stored[0]["__STATE__"]),
        (Some(id.as_str()), &json!("PUBLIC"))
    );
    assert!(stored[0].get("password").is_none());
    let auth_id = stored[0]["authUserId"].as_str().expect("linked");
    let auth_user = app.auth_fake().user(auth_id).expect("the auth user exists");
    assert_eq!(auth_user["email"], "ada@example.com");
    assert_eq!(app.auth_fake().users().len(), 1);
}

#[tokio::test]
async fn a_duplicate_email_is_a_409_that_leaves_nothing_behind() {
    let app = app().await;
    assert_eq!(
        app.post_json("/users/", &user("ada", "ada@example.com"))
            .await
            .status(),
        200
    );

    // Taken in the store: refused at the insert.
    let response = app.post_json("/users/", &user("ada2", "ada@example.com")).await;
    assert_eq!(response.status(), 409);
    // Taken only in the auth provider: the store user is deleted again.
    app.auth_fake().insert_user("bob@example.com", None, "Xx-12345");
    let response = app.post_json("/users/", &user("bob", "bob@example.com")).await;
    assert_eq!(response.status(), 409);

    assert_eq!(app.crud_fake().state().documents("/users").len(), 1);
    assert_eq!(app.auth_fake().users().len(), 2);
}

#[tokio::test]
async fn a_postponed_user_is_linked_by_register() {
    let app = app().await;

    let response = app
        .post_json(
            "/users/?postponeAuthUserCreation=true",
            &user("ada", "ada@example.com"),
        )
        .await;
    assert_eq!(response.status(), 200);
    let id = response.text_field("_id").await;
    assert!(app.auth_fake().users().is_empty());
    assert!(app
        .crud_fake()
        .state()
        .document("/users", &id)
        .unwrap()
        .get("authUserId")
        .is_none());

    let response = app
        .post_json("/users/register", &json!({"_id": id, "password": "An0ther-pw!"}))
        .await;

    assert_eq!(response.status(), 204);
    let auth_users = app.auth_fake().users();
    assert_eq!(auth_users.len(), 1);
    let stored = app.crud_fake().state().document("/users", &id).unwrap();
    assert_eq!(stored["authUserId"], auth_users[0]["user_id"]);
    assert_eq!(auth_users[0]["email"], "ada@example.com");
    let again = app.post_json("/users/register", &json!({"_id": id})).await;
    assert_eq!(again.status(), 409);
}
