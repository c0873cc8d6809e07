//! Group schemas that could hurt the service: `/groups` refuses them with a 400 saying what to
//! fix, and one already stored (written before the check existed, or straight into the store)
//! makes only its group unusable: a `/-/check-up` warning, a quick 400 on user writes, and the
//! service keeps answering, in CRUD and in embedded mode.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{customer_schema, group_doc, temp_data_dir, TestApp, TextField};

/// A schema whose references loop without descending into the document (jsonschema 0.33
/// overflows its stack on the first user validated against it).
fn cyclic_schema() -> Value {
    json!({
        "type": "object",
        "allOf": [{"$ref": "#/$defs/a"}],
        "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}}
    })
}

/// Answers of one request, with a deadline: a hang fails the test instead of blocking it.
async fn within_seconds(request: reqwest::RequestBuilder) -> reqwest::Response {
    tokio::time::timeout(Duration::from_secs(10), request.send())
        .await
        .expect("the service answered within 10 s")
        .expect("the service answered")
}

async fn message(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["message"].as_str().unwrap_or_default().to_owned()
}

/// The `/-/check-up` warnings once the registry has loaded (it loads right after startup).
async fn warnings(client: &reqwest::Client, url: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    for _ in 0..40 {
        let body: Value = within_seconds(client.get(url)).await.json().await.unwrap();
        assert_eq!(body["status"], "OK", "{body}");
        warnings = body["warnings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|w| w.as_str().map(str::to_owned))
            .collect();
        if !warnings.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    warnings
}

#[tokio::test]
async fn a_cyclic_schema_is_refused_by_post_and_patch_groups_naming_the_cycle() {
    let app = TestApp::on_fakes().start().await;
    let group = json!({"userGroup": "loop", "crudSchema": cyclic_schema()});
    let response = within_seconds(app.client.post(app.url("/groups/")).json(&group)).await;
    assert_eq!(response.status(), 400);
    let text = message(response).await;
    assert!(
        text.starts_with(
            "crudSchema of group \"loop\" does not compile: the references form a cycle that never \
             descends into the document: #/$defs/a → #/$defs/b → #/$defs/b/anyOf/0 → #/$defs/a"
        ),
        "{text}"
    );
    assert!(app.crud_fake().documents("/ums-config").is_empty());

    // The same schema cannot come in through a PATCH either.
    let valid = json!({"userGroup": "loop", "crudSchema": {"type": "object"}});
    let response = within_seconds(app.client.post(app.url("/groups/")).json(&valid)).await;
    assert_eq!(response.status(), 200);
    let id = response.text_field("_id").await;
    let update = json!({"$set": {"crudSchema.allOf": [{"$ref": "#"}]}});
    let response = within_seconds(app.client.patch(app.url(&format!("/groups/{id}"))).json(&update)).await;
    assert_eq!(response.status(), 400);
    assert!(message(response).await.contains("cycle"));
    assert_eq!(
        app.crud_fake().document("/ums-config", &id).unwrap()["crudSchema"],
        json!({"type": "object"})
    );

    // External references are refused with what to do instead; the service is still up.
    let external = json!({"userGroup": "ext", "crudSchema": {"$ref": "https://example.com/user.json"}});
    let response = within_seconds(app.client.post(app.url("/groups/")).json(&external)).await;
    assert_eq!(response.status(), 400);
    let text = message(response).await;
    assert!(
        text.contains("is not a local reference: only references inside the crudSchema are allowed"),
        "{text}"
    );
    assert_eq!(app.get("/-/healthz").await.status(), 200);
}

#[tokio::test]
async fn the_schema_size_limit_comes_from_limit_group_schema_bytes() {
    let app = TestApp::on_fakes()
        .with_env(&[("LIMIT_GROUP_SCHEMA_BYTES", "64")])
        .start()
        .await;
    let small = json!({"userGroup": "small", "crudSchema": {"type": "object"}});
    let response = within_seconds(app.client.post(app.url("/groups/")).json(&small)).await;
    assert_eq!(response.status(), 200);
    let big = json!({"userGroup": "big", "crudSchema": customer_schema()});
    let response = within_seconds(app.client.post(app.url("/groups/")).json(&big)).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        message(response).await,
        "crudSchema of group \"big\" does not compile: the schema is larger than 64 bytes \
         (LIMIT_GROUP_SCHEMA_BYTES): make it smaller"
    );
}

#[tokio::test]
async fn a_cyclic_schema_already_in_the_crud_config_collection_only_disables_its_group() {
    let app = TestApp::on_fakes()
        .with_groups(vec![
            group_doc("loop", cyclic_schema(), true),
            group_doc("customer", customer_schema(), true),
        ])
        .start()
        .await;
    let warnings = warnings(&app.client, &app.url("/-/check-up")).await;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("userGroup \"loop\" is unusable: the references form a cycle"),
        "{warnings:?}"
    );

    for _ in 0..2 {
        let user = json!({"userGroup": "loop", "name": "Lou", "email": "lou@example.com"});
        let response = within_seconds(app.client.post(app.url("/users/")).json(&user)).await;
        assert_eq!(response.status(), 400);
        let text = message(response).await;
        assert!(
            text.starts_with("userGroup \"loop\" has an invalid crudSchema: the references form a cycle"),
            "{text}"
        );
    }
    let user = json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com"});
    let response = within_seconds(app.client.post(app.url("/users/")).json(&user)).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(app.get("/-/healthz").await.status(), 200);
}

#[tokio::test]
async fn a_cyclic_schema_already_in_the_embedded_store_only_disables_its_group() {
    use user_manager_service::context::CallContext;
    use user_manager_service::store::embedded::EmbeddedDb;
    use user_manager_service::store::DocState;

    let dir = temp_data_dir();
    {
        // Written straight into the store, as an earlier version could have done.
        let db = EmbeddedDb::open(&dir.join("user-manager.sqlite3")).unwrap();
        let groups = db
            .collection("/ums-config", &["userGroup"], &[], DocState::Draft, "miauserid")
            .unwrap();
        let mut doc = group_doc("loop", cyclic_schema(), false);
        doc.as_object_mut().unwrap().remove("_id");
        groups
            .insert(&CallContext::background("seed"), &doc)
            .await
            .unwrap();
    }
    let app = TestApp::embedded(&dir).start().await;
    let warnings = warnings(&app.client, &app.url("/-/check-up")).await;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("userGroup \"loop\" is unusable: the references form a cycle"),
        "{warnings:?}"
    );

    let user = json!({"userGroup": "loop", "name": "Lou", "email": "lou@example.com", "password": "Kettle-Lamp-42!"});
    let response = within_seconds(app.client.post(app.url("/users/")).json(&user)).await;
    assert_eq!(response.status(), 400);
    assert!(message(response).await.contains("has an invalid crudSchema"));

    // The shipped groups still work.
    let user = json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com", "password": "Kettle-Lamp-42!"});
    let response = within_seconds(app.client.post(app.url("/users/")).json(&user)).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    app.shutdown.cancel();
    let _ = std::fs::remove_dir_all(dir);
}
