//! `GET /users/{id}` with `_p` / `_rawp`, and `GET /users/schema` (never read as a user id).

use serde_json::{json, Value};

use crate::helpers::{customer_group, temp_data_dir, TestApp};

fn seed(app: &TestApp) -> String {
    let id = "0123456789abcdef01234567";
    let doc = json!({"_id": id, "userGroup": "customer", "name": "Ada", "email": "ada@example.com",
                     "__STATE__": "PUBLIC"});
    app.crud_fake().state().insert_raw("/users", doc).unwrap();
    id.to_owned()
}

#[tokio::test]
async fn one_user_comes_back_with_only_the_fields_of_its_projection() {
    let app = TestApp::on_fakes().with_groups(customer_group()).start().await;
    let id = seed(&app);

    let projected: Value = app
        .get(&format!("/users/{id}?_p=name"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(projected, json!({"_id": id, "name": "Ada"}));
    let raw: Value = app
        .get(&format!("/users/{id}?_rawp={{\"email\":1}}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(raw, json!({"_id": id, "email": "ada@example.com"}));
    let trashed = app.get(&format!("/users/{id}?_p=name&_st=TRASH")).await;
    assert_eq!(trashed.status(), 404, "the filters still apply");
    for refused in ["_l=1", "_s=name", "_sk=1", "_id=x"] {
        let response = app.get(&format!("/users/{id}?{refused}")).await;
        assert_eq!(response.status(), 400, "{refused}");
    }
}

#[tokio::test]
async fn the_collection_schema_lists_the_service_fields_and_every_group_property() {
    let app = TestApp::on_fakes().with_groups(customer_group()).start().await;
    let response = app.get("/users/schema").await;
    assert_eq!(response.status(), 200);
    let schema: Value = response.json().await.unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], json!(["userGroup"]));
    assert_eq!(schema["properties"]["userGroup"]["enum"], json!(["customer"]));
    for field in ["_id", "email", "authUserId", "__STATE__", "name"] {
        assert!(schema["properties"].get(field).is_some(), "{field} in {schema}");
    }
    assert_eq!(app.get("/users/schema?_p=x").await.status(), 400);

    let dir = temp_data_dir();
    let embedded = TestApp::embedded(&dir).start().await;
    let schema: Value = embedded.get("/users/schema").await.json().await.unwrap();
    assert_eq!(
        schema["properties"]["userGroup"]["enum"],
        json!(["backoffice_operator", "customer"])
    );
    for field in ["department", "phone", "address"] {
        assert!(schema["properties"].get(field).is_some(), "{field} in {schema}");
    }
}
