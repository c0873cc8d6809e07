//! Embedded mode: the `/audit` table of the SQLite store holds one record per administrative
//! write and refused login, with its actor, target, request id, outcome and field names.

use serde_json::{json, Value};

use super::{of_action, records, the_record};
use crate::helpers::{temp_data_dir, TestApp, TextField};

const PASSWORD: &str = "Audit-Secret-Pw-7431!";
const NEW_PASSWORD: &str = "Audit-Other-Pw-9120!";
const ADMIN: [(&str, &str); 1] = [("miauserid", "admin-1")];

async fn send(app: &TestApp, method: reqwest::Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("miauserid", "admin-1");
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn each_administrative_write_and_refused_login_is_recorded_in_embedded_mode() {
    // Arrange
    let dir = temp_data_dir();
    let app = TestApp::embedded(&dir).start().await;
    let ann =
        json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com", "password": PASSWORD});

    // Act: every kind of administrative write, as admin-1.
    let created = app
        .post_with(
            "/users/",
            &ann,
            &[("miauserid", "admin-1"), ("x-request-id", "req-create-ann")],
        )
        .await;
    assert_eq!(created.status(), 200);
    let id = created.text_field("_id").await;
    let postponed = app
        .post_with(
            "/users/?postponeAuthUserCreation=true",
            &json!({"userGroup": "customer", "name": "Bo", "email": "bo@example.com"}),
            &ADMIN,
        )
        .await;
    let bo = postponed.text_field("_id").await;
    let registered = app
        .post_with(
            "/users/register",
            &json!({"_id": bo, "password": NEW_PASSWORD}),
            &ADMIN,
        )
        .await;
    assert_eq!(registered.status(), 204);
    let linked = app
        .post_with(
            "/users/with-id",
            &json!({"authUserId": "nobody", "userGroup": "customer", "name": "X", "email": "x@example.com"}),
            &ADMIN,
        )
        .await;
    assert!(linked.status().is_client_error());
    let patch = json!({"$set": {"name": "Annie"}, "$unset": {"phone": true}});
    let patched = send(&app, reqwest::Method::PATCH, &format!("/users/{id}"), Some(patch)).await;
    assert_eq!(patched.status(), 200);
    let user: Value = app.get(&format!("/users/{id}")).await.json().await.unwrap();
    let auth_id = user["authUserId"].as_str().unwrap().to_owned();
    let change = app
        .post_with("/users/change-password", &json!({"authUserId": auth_id}), &ADMIN)
        .await;
    assert_eq!(change.status(), 204);
    let states = json!([{"filter": {"_id": bo}, "stateTo": "TRASH"}]);
    assert_eq!(app.post_with("/users/state", &states, &ADMIN).await.status(), 200);
    // Whatever their answers, the expiry callback, soft delete and delete are recorded.
    send(&app, reqwest::Method::POST, &format!("/users/{id}/expire"), None).await;
    send(
        &app,
        reqwest::Method::POST,
        &format!("/users/{id}/soft-delete"),
        None,
    )
    .await;
    send(&app, reqwest::Method::DELETE, &format!("/users/{id}"), None).await;
    let dee = json!({"userGroup": "customer", "name": "Dee", "email": "dee@example.com"});
    let dee = app
        .post_with("/users", &dee, &ADMIN)
        .await
        .text_field("_id")
        .await;
    let csv = "userGroup,name,email\ncustomer,Cy,cy@example.com\n";
    assert_eq!(app.import_csv(csv, &[]).await.status(), 200);
    let reconcile = app.post_with("/jobs/reconcile", &json!({}), &ADMIN).await;
    assert_eq!(reconcile.status(), 202);
    let job = reconcile.text_field("jobId").await;
    let bulk = app
        .post_with(
            "/jobs/change-password/bulk",
            &json!({"authUsersIds": [auth_id]}),
            &ADMIN,
        )
        .await;
    assert_eq!(bulk.status(), 202);
    let bulk_job = bulk.text_field("jobId").await;
    let activation = app
        .post_with(
            "/jobs/bulk-activation",
            &json!([{"filter": {"userId": bo}}]),
            &ADMIN,
        )
        .await;
    assert_eq!(activation.status(), 202);
    let activation_job = activation.text_field("jobId").await;
    let group = json!({"userGroup": "partner", "crudSchema": {"type": "object"}});
    let group_id = app
        .post_with("/groups/", &group, &ADMIN)
        .await
        .text_field("_id")
        .await;
    let relabel = json!({"$set": {"label": "Partner"}});
    let relabelled = send(
        &app,
        reqwest::Method::PATCH,
        &format!("/groups/{group_id}"),
        Some(relabel),
    )
    .await;
    assert_eq!(relabelled.status(), 200);
    let dropped = send(
        &app,
        reqwest::Method::DELETE,
        &format!("/groups/{group_id}"),
        None,
    )
    .await;
    assert_eq!(dropped.status(), 204);
    let wrong = json!({"username": "ann@example.com", "password": "not-the-password"});
    assert_eq!(app.post_json("/oauth/token", &wrong).await.status(), 401);
    let unknown = json!({"username": "nobody@example.com", "password": PASSWORD});
    assert_eq!(app.post_json("/oauth/token", &unknown).await.status(), 401);

    // Assert: one record each, newest first, with its target.
    let all = records(&app, "_l=200").await;
    let create = the_record(&all, "user.create", &id);
    assert_eq!(create["actor"], "admin-1");
    assert_eq!(create["requestId"], "req-create-ann");
    assert_eq!(
        (&create["outcome"], &create["status"]),
        (&json!("success"), &json!(200))
    );
    assert_eq!(
        create["fields"],
        json!(["userGroup", "name", "email", "password"])
    );
    assert_eq!(
        the_record(&all, "user.register", &bo)["fields"],
        json!(["_id", "password"])
    );
    let with_id = of_action(&all, "user.create_with_id");
    assert_eq!(with_id.len(), 1);
    assert_eq!(with_id[0]["outcome"], "failure");
    let update = the_record(&all, "user.update", &id);
    assert_eq!(update["fields"], json!(["$set.name", "$unset.phone"]));
    the_record(&all, "user.change_password", &auth_id);
    assert_eq!(
        of_action(&all, "user.state")[0]["fields"],
        json!(["filter", "stateTo"])
    );
    assert_eq!(the_record(&all, "user.soft_delete", &id)["fields"], json!([]));
    the_record(&all, "user.delete", &id);
    the_record(&all, "user.expire", &id);
    the_record(&all, "user.create", &dee);
    let import = of_action(&all, "user.import");
    assert_eq!(
        (import.len(), &import[0]["fields"]),
        (1, &json!([])),
        "a CSV is never read"
    );
    the_record(&all, "job.reconcile.start", &job);
    the_record(&all, "job.change_password.start", &bulk_job);
    let started = the_record(&all, "job.bulk_activation.start", &activation_job);
    assert_eq!(
        (&started["status"], &started["fields"]),
        (&json!(202), &json!(["filter"]))
    );
    the_record(&all, "group.create", "partner");
    the_record(&all, "group.update", "partner");
    the_record(&all, "group.delete", &group_id);
    let failure = the_record(&all, "login.failure", "ann@example.com");
    assert_eq!(
        (&failure["outcome"], &failure["status"]),
        (&json!("failure"), &json!(401))
    );
    assert_eq!(failure["actor"], Value::Null, "an anonymous call");
    the_record(&all, "login.failure", "nobody@example.com");
    assert_eq!(all[0]["action"], "login.failure", "newest first");
    assert_eq!(all.last().unwrap()["action"], "user.create");

    // No secret value anywhere: not in the records, not in the store's files.
    let text = serde_json::to_string(&all).unwrap();
    for secret in [PASSWORD, NEW_PASSWORD, "not-the-password"] {
        assert!(!text.contains(secret), "a password in the audit records");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap_or_default();
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "a password stored in plain text under DATA_DIR");
        }
    }
}
