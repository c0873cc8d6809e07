//! The repair path (issue 9): a document stored beyond today's limits by an earlier version (130
//! levels deep, more than the JSON reader reads) is reported by `/-/check-up`, skipped by lists
//! and exports with a warning instead of breaking the page, refused by PATCH, and can be deleted.

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::helpers::{temp_data_dir, TestApp, TextField};

/// `{"x": {"x": ... "deep"}}` with `levels` objects, built without recursion.
fn nested(levels: usize) -> Value {
    let mut v = json!("deep");
    for _ in 0..levels {
        let mut map = Map::new();
        map.insert("x".to_owned(), v);
        v = Value::Object(map);
    }
    v
}

fn text_of_deep_user(user: &Value) -> String {
    let mut top = user.as_object().unwrap().clone();
    top.remove("address");
    let head = serde_json::to_string(&top).unwrap();
    let deep = format!("{}\"deep\"{}", "{\"x\":".repeat(130), "}".repeat(130));
    format!("{},\"address\":{deep}}}", &head[..head.len() - 1])
}

/// User `id` as the running `app` stores it; then `app` is stopped (so the test can edit its file).
async fn read_then_stop(app: TestApp, id: &str) -> Value {
    let user: Value = app.get(&format!("/users/{id}")).await.json().await.unwrap();
    let _ = app.stop().await;
    user
}

async fn get(client: &reqwest::Client, url: String) -> (u16, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn embedded_a_document_too_deep_to_read_is_reported_skipped_and_deletable() {
    let dir = temp_data_dir();
    let app = TestApp::embedded(&dir).start().await;
    let client = app.client.clone();
    let mut ids = Vec::new();
    for (name, email) in [("Ann", "ann@example.com"), ("Bob", "bob@example.com")] {
        let body =
            json!({"userGroup": "customer", "name": name, "email": email, "password": "Kettle-Lamp-42!"});
        let response = client.post(app.url("/users/")).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 200);
        ids.push(response.text_field("_id").await);
    }
    let ann = read_then_stop(app, &ids[0]).await;

    // What an earlier version could write: Ann nested 130 levels deep.
    let db = rusqlite::Connection::open(dir.join("user-manager.sqlite3")).unwrap();
    let changed = db
        .execute(
            "UPDATE docs_users SET doc = ?1 WHERE id = ?2",
            rusqlite::params![text_of_deep_user(&ann), ids[0]],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(db);

    let app = TestApp::embedded(&dir).start().await;
    let (status, list) = get(&client, app.url("/users/")).await;
    assert_eq!(status, 200, "{list}");
    let list: Vec<Value> = serde_json::from_str(&list).unwrap();
    assert_eq!(list.len(), 1, "Ann is skipped, Bob listed");
    assert_eq!(list[0]["name"], "Bob");
    let (status, export) = get(&client, app.url("/users/export")).await;
    assert_eq!(status, 200);
    assert_eq!(export.lines().count(), 1, "{export}");

    let (_, checkup) = get(&client, app.url("/-/check-up")).await;
    let checkup: Value = serde_json::from_str(&checkup).unwrap();
    let warnings = checkup["warnings"].to_string();
    assert!(
        warnings.contains(&ids[0]) && warnings.contains("131 levels deep"),
        "{checkup}"
    );

    // Read by id: the top-level fields, and why the rest is missing.
    let (status, stub) = get(&client, app.url(&format!("/users/{}", ids[0]))).await;
    assert_eq!(status, 200, "{stub}");
    let stub: Value = serde_json::from_str(&stub).unwrap();
    assert_eq!(stub["name"], "Ann");
    assert!(stub["__UNREADABLE__"]
        .as_str()
        .unwrap()
        .contains("131 levels deep"));

    let patch = client
        .patch(app.url(&format!("/users/{}", ids[0])))
        .json(&json!({"$set": {"name": "Anna"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 400);
    assert!(patch.text().await.unwrap().contains("it can only be deleted"));

    let delete = client
        .delete(app.url(&format!("/users/{}", ids[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 204);
    let (status, _) = get(&client, app.url(&format!("/users/{}", ids[0]))).await;
    assert_eq!(status, 404);
    let login = client
        .post(app.url("/oauth/token"))
        .json(&json!({"username": "ann@example.com", "password": "Kettle-Lamp-42!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 401, "the auth user went with the document");
    let (_, checkup) = get(&client, app.url("/-/check-up")).await;
    assert!(!checkup.contains(&ids[0]), "{checkup}");
    app.shutdown.cancel();
}

#[tokio::test]
async fn crud_mode_a_document_too_deep_to_read_is_skipped_reported_and_deletable() {
    let mut ann =
        json!({"userGroup": "customer", "name": "Ann", "__STATE__": "PUBLIC", "address": nested(130)});
    let mut deep_id = String::new();
    let app = TestApp::on_fakes()
        .with_customer_group()
        .seeded(|crud| {
            deep_id = crud.insert_raw("/users", ann.take()).unwrap();
            crud.insert_raw(
                "/users",
                json!({"userGroup": "customer", "name": "Bob", "__STATE__": "PUBLIC"}),
            )
            .unwrap();
        })
        .start()
        .await;
    // The list is the store's bytes passed through (no parse); reads that parse skip or stub it.
    let (status, checkup) = get(&app.client, app.url("/-/check-up")).await;
    assert_eq!(status, 200, "{checkup}");
    let (status, stub) = get(&app.client, app.url(&format!("/users/{deep_id}"))).await;
    assert_eq!(status, 200, "{stub}");
    assert!(stub.contains("__UNREADABLE__"), "{stub}");
    let (_, checkup) = get(&app.client, app.url("/-/check-up")).await;
    assert!(checkup.contains(&deep_id), "{checkup}");
    let delete = app.delete(&format!("/users/{deep_id}")).await;
    assert_eq!(delete.status(), 204);
    let (status, _) = get(&app.client, app.url(&format!("/users/{deep_id}"))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn embedded_a_readable_document_beyond_the_depth_limit_is_reported_until_repaired() {
    let dir = temp_data_dir();
    let app = TestApp::embedded(&dir).start().await;
    let client = app.client.clone();
    let body = json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com"});
    let response = client.post(app.url("/users/")).json(&body).send().await.unwrap();
    let id = response.text_field("_id").await;
    let mut ann = read_then_stop(app, &id).await;

    // 40 levels (the root and 39 objects): readable, but beyond LIMIT_DOCUMENT_DEPTH (32), as an earlier version allowed.
    ann["address"] = nested(39);
    let db = rusqlite::Connection::open(dir.join("user-manager.sqlite3")).unwrap();
    db.execute(
        "UPDATE docs_users SET doc = ?1 WHERE id = ?2",
        rusqlite::params![ann.to_string(), id],
    )
    .unwrap();
    drop(db);

    let app = TestApp::embedded(&dir).start().await;
    let mut warnings = String::new();
    for _ in 0..50 {
        let (_, checkup) = get(&client, app.url("/-/check-up")).await;
        warnings = checkup;
        if warnings.contains(&id) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        warnings.contains("nested 40 levels deep, beyond LIMIT_DOCUMENT_DEPTH (32)"),
        "{warnings}"
    );
    let (status, list) = get(&client, app.url("/users/")).await;
    assert_eq!(
        (status, list.contains("Ann")),
        (200, true),
        "readable documents are still listed"
    );

    let url = app.url(&format!("/users/{id}"));
    let patch = client
        .patch(&url)
        .json(&json!({"$set": {"name": "Anna"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 400);
    let patch = client
        .patch(&url)
        .json(&json!({"$unset": {"address": true}, "$set": {"name": "Anna"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 200, "{}", patch.text().await.unwrap());
    let (_, checkup) = get(&client, app.url("/-/check-up")).await;
    assert!(!checkup.contains(&id), "repaired: {checkup}");
    app.shutdown.cancel();
}
