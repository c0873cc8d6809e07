//! `/groups` on the fakes: groups created, changed and deleted through the service apply to the
//! next user request; a `crudSchema` that does not compile is refused; a group that still has
//! users (in any state) is not deleted, on the fakes and embedded.

use serde_json::{json, Value};

use crate::helpers::{TestApp, TextField};

fn operator_group() -> Value {
    json!({
        "userGroup": "operator", "label": "Operator",
        "crudSchema": {"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string"}, "desk": {"type": "integer"}}, "required": ["name", "desk"]}
    })
}

#[tokio::test]
async fn a_group_created_through_the_service_validates_the_next_user_at_once() {
    let app = TestApp::on_fakes().start().await;
    let response = app.post_json("/groups/", &operator_group()).await;
    assert_eq!(response.status(), 200);
    let id = response.text_field("_id").await;
    let stored = app.crud_fake().document("/ums-config", &id).unwrap();
    assert_eq!(stored["__STATE__"], "PUBLIC");

    let user = json!({"userGroup": "operator", "name": "Olga", "email": "olga@x.io", "desk": "three", "password": "Kettle-Lamp-42!"});
    let response = app.post_json("/users/", &user).await;
    assert_eq!(response.status(), 400);
    let message = response.text_field("message").await;
    assert!(message.contains("/desk"), "{message}");

    let user = json!({"userGroup": "operator", "name": "Olga", "email": "olga@x.io", "desk": 3, "password": "Kettle-Lamp-42!"});
    assert_eq!(app.post_json("/users/", &user).await.status(), 200);
}

#[tokio::test]
async fn a_schema_that_does_not_compile_is_refused_on_create_and_on_update() {
    let app = TestApp::on_fakes().start().await;
    let mut bad = operator_group();
    bad["crudSchema"]["properties"]["desk"]["type"] = json!("integr");
    let response = app.post_json("/groups/", &bad).await;
    assert_eq!(response.status(), 400);
    let message = response.text_field("message").await;
    assert!(
        message.starts_with("crudSchema of group \"operator\" does not compile"),
        "{message}"
    );
    assert!(app.crud_fake().documents("/ums-config").is_empty());

    let id = app
        .post_json("/groups/", &operator_group())
        .await
        .text_field("_id")
        .await;
    let update = json!({"$set": {"crudSchema": {"type": 42}}});
    let response = app.patch_json(&format!("/groups/{id}"), &update).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        app.crud_fake().document("/ums-config", &id).unwrap()["crudSchema"],
        operator_group()["crudSchema"]
    );
}

#[tokio::test]
async fn a_duplicate_user_group_is_a_409_and_missing_fields_are_400() {
    let app = TestApp::on_fakes().start().await;
    assert_eq!(app.post_json("/groups/", &operator_group()).await.status(), 200);
    assert_eq!(app.post_json("/groups/", &operator_group()).await.status(), 409);
    assert_eq!(
        app.post_json("/groups/", &json!({"userGroup": "x"}))
            .await
            .status(),
        400
    );
    assert_eq!(
        app.post_json("/groups/", &json!({"crudSchema": {"type": "object"}}))
            .await
            .status(),
        400
    );
    let unknown = json!({"userGroup": "y", "crudSchema": {"type": "object"}, "colour": "red"});
    assert_eq!(app.post_json("/groups/", &unknown).await.status(), 400);
}

#[tokio::test]
async fn updated_and_deleted_groups_apply_to_the_next_user_request() {
    let app = TestApp::on_fakes().start().await;
    let id = app
        .post_json("/groups/", &operator_group())
        .await
        .text_field("_id")
        .await;
    let update = json!({"$set": {"crudSchema.required": ["name"]}});
    let response = app.patch_json(&format!("/groups/{id}"), &update).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let user =
        json!({"userGroup": "operator", "name": "Olga", "email": "olga@x.io", "password": "Kettle-Lamp-42!"});
    let response = app.post_json("/users/", &user).await;
    assert_eq!(response.status(), 200, "desk is no longer required");
    let olga = response.text_field("_id").await;

    let listed: Vec<Value> = app.get("/groups/").await.json().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(app.get(&format!("/groups/{id}")).await.status(), 200);

    // A group with users is not deleted (see the test below); without them, it is.
    assert_eq!(app.delete(&format!("/groups/{id}")).await.status(), 409);
    assert_eq!(app.delete(&format!("/users/{olga}")).await.status(), 204);
    let response = app.delete(&format!("/groups/{id}")).await;
    assert_eq!(response.status(), 204);
    let user =
        json!({"userGroup": "operator", "name": "Otto", "email": "otto@x.io", "password": "Kettle-Lamp-42!"});
    let response = app.post_json("/users/", &user).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["message"],
        "userGroup \"operator\" does not exist"
    );
    assert_eq!(app.delete(&format!("/groups/{id}")).await.status(), 404);
}

#[tokio::test]
async fn the_shipped_group_files_are_inserted_into_the_config_collection_once() {
    use std::sync::Arc;
    use user_manager_service::context::CallContext;
    use user_manager_service::groups::seed::seed_from_dir;
    use user_manager_service::store::crud_http::CrudCollection;

    let crud = ums_fakes::crud::CrudFake::standard().spawn().await;
    let client =
        user_manager_service::downstream::build_http_client(std::time::Duration::from_secs(5)).unwrap();
    let groups = Arc::new(CrudCollection::new(client, &crud.uri(), "/ums-config"));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups");
    let ctx = CallContext::background("seed-test");
    let limits = user_manager_service::config::InputLimits::default();

    let first = seed_from_dir(groups.as_ref(), &ctx, &dir, &limits).await.unwrap();
    assert_eq!(first.inserted, ["backoffice_operator", "customer"]);
    assert!(first.skipped.is_empty(), "{:?}", first.skipped);
    let docs = crud.documents("/ums-config");
    assert_eq!(docs.len(), 2);
    assert!(docs.iter().all(|d| d["__STATE__"] == "PUBLIC"));

    let second = seed_from_dir(groups.as_ref(), &ctx, &dir, &limits).await.unwrap();
    assert_eq!(second.unchanged, ["backoffice_operator", "customer"]);
    assert!(second.inserted.is_empty() && second.kept.is_empty(), "{second:?}");
    assert_eq!(
        crud.documents("/ums-config").len(),
        2,
        "a restart never duplicates a group"
    );

    let missing = seed_from_dir(groups.as_ref(), &ctx, &dir.join("nope"), &limits)
        .await
        .unwrap();
    assert_eq!(missing.skipped.len(), 1);
}

/// Deletes group `id` while it has one PUBLIC and one TRASH user: 409 naming the count, the
/// group and its users unchanged.
async fn a_group_with_users_is_not_deleted(app: &TestApp, id: &str, group: &str, user: Value) {
    let mut users = Vec::new();
    for n in 0..2 {
        let mut user = user.clone();
        user["email"] = json!(format!("member{n}@x.io"));
        let response = app.post_json("/users/", &user).await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        users.push(response.text_field("_id").await);
    }
    let trash = json!({"stateTo": "TRASH"});
    let moved = app.post_json(&format!("/users/{}/state", users[1]), &trash).await;
    assert_eq!(moved.status(), 204, "{}", moved.text().await.unwrap());

    // `acl_rows` that hides every user (and no group) from the caller does not hide them from
    // the check.
    let hidden = [("acl_rows", r#"{"crudSchema":{"$exists":true}}"#)];
    let response = app.delete_with(&format!("/groups/{id}"), &hidden).await;
    assert_eq!(response.status(), 409);
    let message = response.text_field("message").await;
    assert!(message.contains("still has 2 users"), "{message}");

    let response = app.delete(&format!("/groups/{id}")).await;
    assert_eq!(response.status(), 409);
    let message = response.text_field("message").await;
    assert!(
        message.starts_with(&format!("group \"{group}\" still has 2 users (in any state)")),
        "{message}"
    );
    assert_eq!(app.get(&format!("/groups/{id}")).await.status(), 200);
    assert_eq!(app.get(&format!("/users/{}", users[0])).await.status(), 200);
    let trashed = app.get(&format!("/users/{}?_st=TRASH", users[1])).await;
    assert_eq!(trashed.status(), 200);
    let patch = json!({"$set": {"name": "Still valid"}});
    let patched = app.patch_json(&format!("/users/{}", users[0]), &patch).await;
    assert_eq!(patched.status(), 200, "its users can still be patched");
}

#[tokio::test]
async fn a_group_that_still_has_users_is_a_409_with_their_count_on_the_fakes() {
    let app = TestApp::on_fakes().start().await;
    let id = app
        .post_json("/groups/", &operator_group())
        .await
        .text_field("_id")
        .await;
    let user = json!({"userGroup": "operator", "name": "Olga", "desk": 3, "password": "Kettle-Lamp-42!"});
    a_group_with_users_is_not_deleted(&app, &id, "operator", user).await;
}

#[tokio::test]
async fn a_group_that_still_has_users_is_a_409_with_their_count_embedded() {
    let app = TestApp::embedded(&crate::helpers::temp_data_dir()).start().await;
    let groups: Vec<Value> = app.get("/groups/").await.json().await.unwrap();
    let customer = groups.iter().find(|g| g["userGroup"] == "customer").unwrap();
    let id = customer["_id"].as_str().unwrap().to_owned();
    let user = json!({"userGroup": "customer", "name": "Cleo", "password": "Kettle-Lamp-42!"});
    a_group_with_users_is_not_deleted(&app, &id, "customer", user).await;
}
