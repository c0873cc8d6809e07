//! End-to-end flows on the stateful fakes: a user's whole life, and the calls the Microfrontend
//! Composer makes on `/users` as if it were a CRUD collection (contracts/crud-service.md §8).

use serde_json::{json, Value};

use crate::helpers::{TestApp, TextField};

async fn app() -> TestApp {
    TestApp::on_fakes().with_customer_group().start().await
}

async fn create(app: &TestApp, name: &str, email: &str) -> String {
    let body = json!({"userGroup": "customer", "name": name, "email": email, "password": "Kettle-Lamp-42!"});
    let response = app.post_json("/users/", &body).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.text_field("_id").await
}

fn auth_user(app: &TestApp, store_user: &Value) -> Value {
    let auth_id = store_user["authUserId"].as_str().expect("linked");
    app.auth_fake().user(auth_id).expect("the auth user exists")
}

#[tokio::test]
async fn a_user_lives_its_whole_life_consistently_in_both_systems() {
    let app = app().await;
    let id = create(&app, "Ann", "ann@example.com").await;

    // Read.
    let user: Value = app.get(&format!("/users/{id}")).await.json().await.unwrap();
    assert_eq!(user["name"], "Ann");
    assert!(user.get("password").is_none());
    assert_eq!(auth_user(&app, &user)["email"], "ann@example.com");

    // Patch: the email change reaches the auth provider.
    let patch = json!({"$set": {"email": "ann.new@example.com"}});
    let response = app.patch_json(&format!("/users/{id}"), &patch).await;
    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["email"], "ann.new@example.com");
    assert_eq!(auth_user(&app, &user)["email"], "ann.new@example.com");

    // State changes: the blocked flag follows.
    let to = |state: &str| json!([{"filter": {"_id": id}, "stateTo": state}]);
    let response = app.post_json("/users/state", &to("DRAFT")).await;
    assert_eq!(response.json::<Value>().await.unwrap(), json!(1));
    assert_eq!(auth_user(&app, &user)["blocked"], true);
    let response = app.post_json("/users/state", &to("PUBLIC")).await;
    assert_eq!(response.json::<Value>().await.unwrap(), json!(1));
    assert_eq!(auth_user(&app, &user)["blocked"], false);

    // Soft-delete walks to DELETED and deletes the auth user (AUTH_HARD_DELETE=true).
    let response = app
        .client
        .post(app.url(&format!("/users/{id}/soft-delete")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let stored = app.crud_fake().document("/users", &id).unwrap();
    assert_eq!(stored["__STATE__"], "DELETED");
    assert!(app.auth_fake().users().is_empty());

    // The definitive delete from the trash removes the document (`_st`: the CRUD default is PUBLIC).
    assert_eq!(app.delete(&format!("/users/{id}")).await.status(), 404);
    let response = app.delete(&format!("/users/{id}?_st=DELETED")).await;
    assert_eq!(response.status(), 204);
    assert!(app.crud_fake().documents("/users").is_empty());
    assert!(app.auth_fake().users().is_empty());
}

#[tokio::test]
async fn the_composer_reads_users_as_a_crud_collection() {
    let app = app().await;
    for (name, email) in [
        ("Alex", "alex@x.io"),
        ("Bea", "bea@x.io"),
        ("Carl", "carl@x.io"),
        ("Alex", "alex2@x.io"),
    ] {
        create(&app, name, email).await;
    }
    let count: Value = app
        .get("/users/count?_q=%7B%22name%22%3A%7B%22%24eq%22%3A%22Alex%22%7D%7D")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count, json!(2));

    let page: Vec<Value> = app
        .get("/users/?_p=_id,name&_s=-name&_l=2&_sk=1&_st=PUBLIC,DRAFT")
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = page.iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Bea", "Alex"]);
    assert!(
        page.iter().all(|u| u.get("email").is_none()),
        "projection keeps only _id and name"
    );

    let filtered: Vec<Value> = app
        .get("/users/?_q=%7B%22email%22%3A%7B%22%24regex%22%3A%22%5Ecarl%22%7D%7D")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0]["name"], "Carl");
}

#[tokio::test]
async fn the_composer_updates_with_the_items_state_and_set_unset() {
    let app = app().await;
    let id = create(&app, "Dora", "dora@x.io").await;
    let to_draft = json!([{"filter": {"_id": id}, "stateTo": "DRAFT"}]);
    app.post_json("/users/state", &to_draft).await;

    let update = json!({"$set": {"name": "Dora D."}, "$unset": {"age": true}});
    let response = app.patch_json(&format!("/users/{id}?_st=DRAFT"), &update).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["name"], "Dora D.");

    // Without `_st`, a DRAFT user is invisible, as on a CRUD collection.
    let response = app.patch_json(&format!("/users/{id}"), &update).await;
    assert_eq!(response.status(), 404);
    assert_eq!(app.get(&format!("/users/{id}")).await.status(), 404);
    assert_eq!(app.get(&format!("/users/{id}?_st=DRAFT")).await.status(), 200);
}
