//! Rows that carry their own `_id`: `POST` inserts them under that `_id` (a taken `_id` is
//! reported as a taken email is), `PATCH` updates the user with that `_id` or creates it under
//! it; an `_id` a new user cannot have is reported and writes nothing. Like every imported row,
//! they create no auth user: bulk activation links them as any store-only user. On the CRUD
//! Service and Auth0 fakes, plus the calls after a race against wiremock.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use super::formats::part;
use super::wiremock_calls::{app_with, line, store_calls};
use crate::helpers::{given, mount, ok_json, status_and_body, TestApp};

const OLD_ID: &str = "665f00000000000000000001";
const ANN_ID: &str = "665f000000000000000000a1";
const BOB_ID: &str = "665f000000000000000000b2";
const CID_ID: &str = "665f000000000000000000c3";

async fn app() -> TestApp {
    let old = json!({
        "_id": OLD_ID, "userGroup": "customer", "name": "Old", "email": "old@example.com",
        "age": 70, "__STATE__": "PUBLIC"
    });
    TestApp::on_fakes()
        .with_env(&[
            ("AUTH0_JOB_POLLING_INTERVAL", "100ms"),
            ("JOBS_POLL_INTERVAL_MS", "100"),
        ])
        .with_customer_group()
        .with_users(vec![old])
        .start()
        .await
}

/// `POST` (when `post`) or `PATCH /users/import` of an NDJSON or CSV file named `name`.
async fn import(app: &TestApp, post: bool, name: &str, file: &str) -> (u16, Value) {
    status_and_body(app.import_part(post, part(file, name, None), &[], &[]).await).await
}

/// The stored user `id`, without the store's metadata.
fn user(app: &TestApp, id: &str) -> Option<Value> {
    let mut doc = app.crud_fake().state().document("/users", id)?;
    for field in ["createdAt", "updatedAt", "creatorId", "updaterId"] {
        doc.as_object_mut()?.remove(field);
    }
    Some(doc)
}

fn user_count(app: &TestApp) -> usize {
    app.crud_fake().state().documents("/users").len()
}

/// Activates `ids` with a bulk-activation job and waits for its end.
async fn activate(app: &TestApp, ids: &[&str]) -> Value {
    let body: Value = ids.iter().map(|id| json!({"filter": {"userId": id}})).collect();
    let created: Value = app
        .post_json("/jobs/bulk-activation", &body)
        .await
        .json()
        .await
        .unwrap();
    let job = created["jobId"].as_str().expect("a job id");
    for _ in 0..200 {
        let report: Value = app
            .get(&format!("/jobs/bulk-activation/{job}"))
            .await
            .json()
            .await
            .unwrap();
        if report["status"] == "completed" || report["status"] == "failed" {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {job} did not finish");
}

#[tokio::test]
async fn post_inserts_rows_with_an_id_under_that_id_as_any_new_user_and_activation_links_them() {
    let app = app().await;
    let ndjson = format!(
        "{{\"_id\": \"{ANN_ID}\", \"userGroup\": \"customer\", \"name\": \"Ann\", \"email\": \"ann@example.com\", \"age\": 31}}\n\
         {{\"userGroup\": \"customer\", \"name\": \"Dee\", \"email\": \"dee@example.com\"}}\n"
    );

    let (status, report) = import(&app, true, "u.ndjson", &ndjson).await;
    let csv = format!("_id,userGroup,name,email\n{BOB_ID},customer,Bob,bob@example.com\n");
    let (csv_status, csv_report) = import(&app, true, "u.csv", &csv).await;

    assert_eq!(status, 201, "{report}");
    let dee_id = report["inserted"][0].as_str().unwrap().to_owned();
    assert_eq!(report["inserted"], json!([dee_id, ANN_ID]));
    assert_eq!((&report["updated"], &report["invalid"]), (&json!([]), &json!([])));
    assert_eq!(csv_status, 201, "{csv_report}");
    assert_eq!(
        csv_report,
        json!({"inserted": [BOB_ID], "updated": [], "invalid": []})
    );
    assert_eq!(
        user(&app, ANN_ID).unwrap(),
        json!({"_id": ANN_ID, "userGroup": "customer", "name": "Ann", "email": "ann@example.com",
               "age": 31, "__STATE__": "PUBLIC"})
    );
    assert_eq!(
        user(&app, BOB_ID).unwrap(),
        json!({"_id": BOB_ID, "userGroup": "customer", "name": "Bob", "email": "bob@example.com",
               "__STATE__": "PUBLIC"})
    );
    // The same side effects as Dee's row without _id: the store only, no auth user yet.
    let dee = user(&app, &dee_id).unwrap();
    assert_eq!(dee.get("authUserId"), None);
    assert!(app.auth_fake().users().is_empty());
    let stored = ["__STATE__", "_id", "email", "name", "userGroup"];
    let keys = |doc: &Value| {
        let mut keys: Vec<String> = doc.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&dee), stored);
    assert_eq!(keys(&user(&app, BOB_ID).unwrap()), stored);

    let report = activate(&app, &[ANN_ID, BOB_ID]).await;

    assert_eq!(report["status"], "completed", "{report}");
    for id in [ANN_ID, BOB_ID] {
        let auth_id = format!("auth0|{id}");
        assert_eq!(user(&app, id).unwrap()["authUserId"], auth_id.as_str());
        assert!(app.auth_fake().user(&auth_id).is_some(), "{auth_id}");
    }
}

#[tokio::test]
async fn post_reports_a_row_whose_id_a_user_or_an_earlier_row_has_and_imports_the_rest() {
    let app = app().await;
    let ndjson = format!(
        "{{\"_id\": \"{OLD_ID}\", \"userGroup\": \"customer\", \"name\": \"Renamed\"}}\n\
         {{\"_id\": \"{BOB_ID}\", \"userGroup\": \"customer\", \"name\": \"Bob\"}}\n\
         {{\"_id\": \"{BOB_ID}\", \"userGroup\": \"customer\", \"name\": \"Bob Two\"}}\n"
    );

    let (status, report) = import(&app, true, "u.ndjson", &ndjson).await;

    assert_eq!(status, 201, "{report}");
    assert_eq!(
        report,
        json!({
            "inserted": [BOB_ID], "updated": [],
            "invalid": [
                {"row": 1, "error": format!("_id \"{OLD_ID}\" is already used")},
                {"row": 3, "error": format!("_id \"{BOB_ID}\" is already used by row 2")}
            ]
        })
    );
    assert_eq!(user(&app, OLD_ID).unwrap()["name"], "Old");
    assert_eq!(user(&app, BOB_ID).unwrap()["name"], "Bob");
    assert_eq!(user_count(&app), 2);
}

#[tokio::test]
async fn patch_updates_the_user_with_a_known_id_and_creates_a_user_under_an_unknown_one() {
    let app = app().await;
    let csv = format!(
        "_id,userGroup,name,age\n\
         {OLD_ID},customer,,71\n\
         {BOB_ID},customer,Bob,40\n\
         {CID_ID},customer,,5\n"
    );

    let (status, report) = import(&app, false, "u.csv", &csv).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (&report["inserted"], &report["updated"]),
        (&json!([BOB_ID]), &json!([OLD_ID]))
    );
    // Cid has no name: as an update it would be fine, as a new user it is not.
    assert_eq!(report["invalid"][0]["row"], 3, "{report}");
    let error = report["invalid"][0]["error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!(
            "no user with _id \"{CID_ID}\", and the row cannot create one: "
        )),
        "{error}"
    );
    assert!(error.contains("\"name\" is a required property"), "{error}");
    assert_eq!(
        user(&app, OLD_ID).unwrap(),
        json!({"_id": OLD_ID, "userGroup": "customer", "name": "Old", "email": "old@example.com",
               "age": 71, "__STATE__": "PUBLIC"})
    );
    assert_eq!(
        user(&app, BOB_ID).unwrap(),
        json!({"_id": BOB_ID, "userGroup": "customer", "name": "Bob", "age": 40, "__STATE__": "PUBLIC"})
    );
    assert_eq!(user(&app, CID_ID), None);
    assert!(app.auth_fake().users().is_empty());
}

#[tokio::test]
async fn an_id_a_new_user_cannot_have_is_reported_and_nothing_is_written() {
    let app = app().await;
    let long = "a".repeat(129);
    let ndjson = format!(
        "{{\"_id\": 5, \"userGroup\": \"customer\", \"name\": \"Num\"}}\n\
         {{\"_id\": \"has space\", \"userGroup\": \"customer\", \"name\": \"Spa\"}}\n\
         {{\"_id\": \"{long}\", \"userGroup\": \"customer\", \"name\": \"Lon\"}}\n\
         {{\"_id\": \"tab\\there\", \"userGroup\": \"customer\", \"name\": \"Tab\"}}\n"
    );

    let (status, report) = import(&app, true, "u.ndjson", &ndjson).await;
    let csv = "_id,userGroup,name\nbad id,customer,Bad\n";
    let (patch_status, patch_report) = import(&app, false, "u.csv", csv).await;

    assert_eq!(status, 201, "{report}");
    let spaces = "_id of a new user cannot hold whitespace or control characters";
    assert_eq!(
        report,
        json!({
            "inserted": [], "updated": [],
            "invalid": [
                {"row": 1, "error": "_id must be a non-empty string"},
                {"row": 2, "error": spaces},
                {"row": 3, "error": "_id of a new user must be 1 to 128 characters, not 129"},
                {"row": 4, "error": spaces}
            ]
        })
    );
    assert_eq!(patch_status, 200, "{patch_report}");
    assert_eq!(
        patch_report["invalid"],
        json!([{"row": 1, "error": format!("no user with _id \"bad id\", and the row cannot create one: {spaces}")}])
    );
    assert_eq!(user_count(&app), 1);
    assert!(app.auth_fake().users().is_empty());
}

#[tokio::test]
async fn an_import_of_rows_with_an_id_refused_by_a_race_is_retried_after_a_second_lookup() {
    let app = app_with(&[]).await;
    // The first lookup finds no user with the ids; after the 409 the racing one shows up.
    given("GET", "/users/")
        .respond_with(ok_json(json!([])))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(app.crud())
        .await;
    mount(app.crud(), "GET", "/users/", ok_json(json!([{"_id": "u2"}]))).await;
    let conflict = json!({"statusCode": 409, "error": "Conflict", "message": "E11000 duplicate key error collection: db.users index: _id_ dup key: { _id: \"u2\" }"});
    given("POST", "/users/import")
        .respond_with(ResponseTemplate::new(409).set_body_json(conflict))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(app.crud())
        .await;
    let uploaded = json!({"message": "File uploaded successfully"});
    mount(
        app.crud(),
        "POST",
        "/users/import",
        ResponseTemplate::new(201).set_body_json(uploaded),
    )
    .await;
    let ndjson = "{\"_id\": \"u1\", \"userGroup\": \"customer\", \"name\": \"Ann\"}\n\
                  {\"_id\": \"u2\", \"userGroup\": \"customer\", \"name\": \"Bob\"}\n";

    let (status, report) = import(&app, true, "u.ndjson", ndjson).await;

    assert_eq!(status, 201, "{report}");
    assert_eq!(
        report,
        json!({
            "inserted": ["u1"], "updated": [],
            "invalid": [{"row": 2, "error": "_id \"u2\" is already used"}]
        })
    );
    let calls = store_calls(&app).await;
    let lines: Vec<String> = calls.iter().map(line).collect();
    assert_eq!(
        lines,
        [
            "GET /users/",
            "POST /users/import",
            "GET /users/",
            "POST /users/import"
        ]
    );
    let retried = String::from_utf8_lossy(&calls[3].body).into_owned();
    assert!(retried.contains("\"_id\":\"u1\""), "{retried}");
    assert!(!retried.contains("\"_id\":\"u2\""), "{retried}");
}
