//! Optimistic concurrency on `/users/{id}` (issue 11, item 5), in both modes: `GET` answers the
//! user's version as `ETag`; `PATCH` and `DELETE` with `If-Match` change the user only at that
//! version (412 otherwise, nothing written), and `PATCH` answers the new version.

use serde_json::{json, Value};

use crate::helpers::{temp_data_dir, TestApp};

async fn create_ann(app: &TestApp) -> String {
    let ann = json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com", "password": "Kettle-Lamp-42!"});
    let response = app.post_json("/users/", &ann).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.json::<Value>().await.unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn etag_of(app: &TestApp, id: &str) -> String {
    let response = app.get(&format!("/users/{id}")).await;
    assert_eq!(response.status(), 200);
    let tag = response.headers()["etag"].to_str().unwrap().to_owned();
    let user: Value = response.json().await.unwrap();
    assert_eq!(
        tag,
        format!("\"{}\"", user["updatedAt"].as_str().unwrap()),
        "the version is updatedAt"
    );
    tag
}

async fn patch_if(app: &TestApp, id: &str, if_match: &str, body: Value) -> reqwest::Response {
    let url = app.url(&format!("/users/{id}"));
    app.client
        .patch(url)
        .header("if-match", if_match)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn delete_if(app: &TestApp, id: &str, if_match: &str) -> reqwest::Response {
    let url = app.url(&format!("/users/{id}"));
    app.client
        .delete(url)
        .header("if-match", if_match)
        .send()
        .await
        .unwrap()
}

async fn versions_guard_changes(app: TestApp) {
    let id = create_ann(&app).await;
    let first = etag_of(&app, &id).await;

    let updated = patch_if(&app, &id, &first, json!({"$set": {"name": "Annie"}})).await;
    assert_eq!(updated.status(), 200);
    let second = updated.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(second, first, "a write moves the version");
    assert_eq!(second, etag_of(&app, &id).await);

    // A caller still holding the first version is refused, and nothing is written.
    let stale = patch_if(&app, &id, &first, json!({"$set": {"name": "Stale"}})).await;
    assert_eq!(stale.status(), 412);
    let body: Value = stale.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("read it again"),
        "{body}"
    );
    let user: Value = app.get(&format!("/users/{id}")).await.json().await.unwrap();
    assert_eq!(user["name"], "Annie");

    assert_eq!(delete_if(&app, &id, &first).await.status(), 412);
    assert_eq!(
        app.get(&format!("/users/{id}")).await.status(),
        200,
        "not deleted"
    );
    assert_eq!(delete_if(&app, &id, &second).await.status(), 204);
    assert_eq!(app.get(&format!("/users/{id}")).await.status(), 404);
}

#[tokio::test]
async fn embedded_mode_if_match_guards_patch_and_delete() {
    versions_guard_changes(TestApp::embedded(&temp_data_dir()).start().await).await;
}

#[tokio::test]
async fn crud_mode_if_match_guards_patch_and_delete() {
    versions_guard_changes(TestApp::on_fakes().with_customer_group().start().await).await;
}

#[tokio::test]
async fn a_star_matches_any_version_and_no_header_is_unconditional() {
    let app = TestApp::embedded(&temp_data_dir()).start().await;
    let id = create_ann(&app).await;
    assert_eq!(
        patch_if(&app, &id, "*", json!({"$set": {"name": "A"}}))
            .await
            .status(),
        200
    );
    let plain = app
        .patch_json(&format!("/users/{id}"), &json!({"$set": {"name": "B"}}))
        .await;
    assert_eq!(plain.status(), 200);
}
