//! `activate=true` on an import (issue #15 item 10): the bulk activation of the users the import
//! inserted (not those it updated) starts once the file is written, the answer names its job,
//! and the job links each inserted user to a login without a password, which a password reset
//! then sets — in embedded mode (local provider) and on the CRUD and Auth0 fakes; refused
//! before any row without bulk jobs (501) or without the scope `jobs` (403).

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use ums_fakes::crud::Method;

use crate::access_control::{admin_token, client_token};
use crate::helpers::{reset_hook, status_and_body, temp_data_dir, TestApp};

/// The example file of the README's walk-through: Bea, Carl and Dora are imported.
const USERS_CSV: &str = include_str!("../../../config/examples/users.csv");

fn csv_part(csv: &str) -> Part {
    Part::bytes(csv.as_bytes().to_vec())
        .file_name("users.csv")
        .mime_str("text/csv")
        .unwrap()
}

/// `PATCH /users/import` of `csv` after the options `fields`, as `bearer` when given.
async fn import(app: &TestApp, csv: &str, fields: &[(&str, &str)], bearer: Option<&str>) -> (u16, Value) {
    let form = fields
        .iter()
        .fold(Form::new(), |form, (k, v)| {
            form.text((*k).to_owned(), (*v).to_owned())
        })
        .part("file", csv_part(csv));
    let mut request = app.client.patch(app.url("/users/import")).multipart(form);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    status_and_body(request.send().await.unwrap()).await
}

/// Polls `GET /jobs/bulk-activation/{job}` until it is completed or failed (20 s at most).
async fn finished(app: &TestApp, job: &str, bearer: Option<&str>) -> Value {
    for _ in 0..400 {
        let mut request = app.client.get(app.url(&format!("/jobs/bulk-activation/{job}")));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let report: Value = request.send().await.unwrap().json().await.unwrap();
        if report["status"] == "completed" || report["status"] == "failed" {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {job} did not finish");
}

async fn post(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    app.client.post(app.url(path)).json(body).send().await.unwrap()
}

async fn login(app: &TestApp, email: &str, password: &str) -> u16 {
    let body = json!({"username": email, "password": password});
    post(app, "/oauth/token", &body).await.status().as_u16()
}

/// The single job id of an answer with `activationJobIds`.
fn job_of(report: &Value) -> String {
    let ids = report["activationJobIds"].as_array().expect("activationJobIds");
    assert_eq!(ids.len(), 1, "{report}");
    ids[0].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn embedded_activate_links_the_inserted_users_only_and_a_reset_then_lets_them_log_in() {
    let (hook, url) = reset_hook().await;
    let dir = temp_data_dir();
    let app = TestApp::embedded(&dir)
        .with_env(&[("PASSWORD_RESET_WEBHOOK_URL", url.as_str())])
        .start()
        .await;

    // Without the option, as the walk-through first did: Bea is imported and cannot log in.
    let (status, first) = import(&app, USERS_CSV, &[], None).await;
    assert_eq!(status, 200, "{first}");
    assert!(first.get("activationJobIds").is_none(), "{first}");
    assert!(first.get("activationError").is_none(), "{first}");
    let bea = first["inserted"][0].as_str().unwrap().to_owned();
    assert_eq!(login(&app, "bea@example.com", "Copper-Violin-77!").await, 401);

    // Bea's row updated (her _id), Eve and Finn inserted, with activate.
    let csv = format!(
        "_id,userGroup,name,email\n{bea},customer,Beatrice,bea@example.com\n\
         ,customer,Eve,eve@example.com\n,customer,Finn,finn@example.com\n"
    );
    let (status, report) = import(&app, &csv, &[("activate", "true")], None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["updated"], json!([bea]));
    let inserted: Vec<String> = serde_json::from_value(report["inserted"].clone()).unwrap();
    assert_eq!(inserted.len(), 2, "{report}");
    let job = finished(&app, &job_of(&report), None).await;

    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["summary"]["total"], 2, "exactly the inserted users: {job}");
    assert_eq!(job["summary"]["failed"], 0, "{job}");
    let user = |id: String| {
        let app = &app;
        async move {
            app.get(&format!("/users/{id}"))
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert!(
        user(bea.clone()).await.get("authUserId").is_none(),
        "an updated user is not activated"
    );
    let eve = user(inserted[0].clone()).await;
    let auth_id = eve["authUserId"].as_str().expect("Eve is linked").to_owned();
    assert!(user(inserted[1].clone()).await["authUserId"].is_string());

    // Activated, Eve has a login without a password: a reset sets one.
    assert_eq!(login(&app, "eve@example.com", "Copper-Violin-77!").await, 401);
    let requested = post(&app, "/users/change-password", &json!({"authUserId": auth_id})).await;
    assert_eq!(requested.status(), 204);
    let requests = hook.received_requests().await.unwrap();
    let delivered: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let body = json!({"token": delivered["token"], "newPassword": "Copper-Violin-77!"});
    assert_eq!(post(&app, "/users/reset-password", &body).await.status(), 204);
    assert_eq!(login(&app, "eve@example.com", "Copper-Violin-77!").await, 200);

    // Nothing inserted: no job.
    let only_update = format!("_id,userGroup,name\n{bea},customer,Bea\n");
    let (status, report) = import(&app, &only_update, &[("activate", "true")], None).await;
    assert_eq!(status, 200, "{report}");
    assert!(report.get("activationJobIds").is_none(), "{report}");
    app.shutdown.cancel();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn on_the_fakes_activate_creates_the_auth0_users_of_the_inserted_rows_and_links_them() {
    let app = TestApp::on_fakes()
        .with_env(&[
            ("AUTH0_JOB_POLLING_INTERVAL", "100ms"),
            ("JOBS_POLL_INTERVAL_MS", "100"),
        ])
        .with_customer_group()
        .start()
        .await;
    let csv = "userGroup,name,email\ncustomer,Bea,bea@example.com\ncustomer,Carl,carl@example.com\n";

    let response = app
        .client
        .post(app.url("/users/import"))
        .multipart(Form::new().text("activate", "true").part("file", csv_part(csv)))
        .send()
        .await
        .unwrap();
    let (status, report) = status_and_body(response).await;

    assert_eq!(status, 201, "{report}");
    let job = finished(&app, &job_of(&report), None).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(
        job["summary"],
        json!({"inserted": 2, "updated": 0, "failed": 0, "total": 2})
    );
    for id in report["inserted"].as_array().unwrap() {
        let id = id.as_str().unwrap();
        let doc = app.crud_fake().state().document("/users", id).unwrap();
        let auth_id = doc["authUserId"].as_str().expect("linked").to_owned();
        assert!(
            app.auth_fake().user(&auth_id).is_some(),
            "{auth_id} in the provider"
        );
    }
}

#[tokio::test]
async fn a_job_that_cannot_be_created_leaves_the_import_written_and_says_why() {
    let app = TestApp::on_fakes().with_customer_group().start().await;
    app.crud_fake().state().fail_next(Method::POST, "/jobs", 500, 1);
    let csv = "userGroup,name,email\ncustomer,Bea,bea@example.com\n";

    let (status, report) = import(&app, csv, &[("activate", "true")], None).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(report["inserted"].as_array().map(Vec::len), Some(1), "{report}");
    assert!(report.get("activationJobIds").is_none(), "{report}");
    let error = report["activationError"].as_str().expect("activationError");
    assert!(
        error.starts_with("the users were imported, but their bulk activation could not be started")
            && error.ends_with("start it with POST /jobs/bulk-activation"),
        "{error}"
    );
    assert_eq!(app.crud_fake().state().documents("/users").len(), 1);
}

#[tokio::test]
async fn without_bulk_jobs_activate_is_a_501_before_any_row_is_written() {
    let app = TestApp::on_fakes()
        .with_customer_group()
        .without_jobs()
        .start()
        .await;
    let csv = "userGroup,name,email\ncustomer,Bea,bea@example.com\n";

    let (status, error) = import(&app, csv, &[("activate", "true")], None).await;

    assert_eq!(status, 501, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("JOBS_CRUD_ENDPOINT"),
        "{error}"
    );
    assert!(app.crud_fake().state().documents("/users").is_empty());
    // Without the option, the same import works.
    let (status, _) = import(&app, csv, &[], None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn with_access_control_activate_also_needs_the_jobs_scope() {
    let dir = temp_data_dir();
    let app = TestApp::embedded(&dir)
        .with_env(&[("AUTHZ_MODE", "scopes")])
        .start()
        .await;
    let admin = admin_token(&app, &dir).await;
    let register = client_token(&app, &admin, &["register"]).await;
    let both = client_token(&app, &admin, &["register", "jobs"]).await;
    let csv = "userGroup,name,email\ncustomer,Bea,bea@example.com\n";

    let (status, error) = import(&app, csv, &[("activate", "true")], Some(&register)).await;
    assert_eq!(status, 403, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("activate starts a bulk-activation job") && message.contains("jobs"),
        "{message}"
    );
    let count: Value = app
        .client
        .get(app.url("/users/count"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(count, json!(0), "nothing written");

    let (status, report) = import(&app, csv, &[("activate", "true")], Some(&both)).await;
    assert_eq!(status, 200, "{report}");
    let job = finished(&app, &job_of(&report), Some(&admin)).await;
    assert_eq!(job["status"], "completed", "{job}");
    app.shutdown.cancel();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_document_declares_activate_the_answer_fields_and_that_imported_users_cannot_log_in() {
    let app = TestApp::on_fakes().with_customer_group().start().await;
    let doc: Value = app.get("/documentation/json").await.json().await.unwrap();

    let form = &doc["components"]["schemas"]["ImportForm"]["properties"];
    assert_eq!(form["activate"]["type"], "boolean", "{form}");
    let report = &doc["components"]["schemas"]["ImportReport"]["properties"];
    assert_eq!(report["activationJobIds"]["type"], "array", "{report}");
    assert_eq!(report["activationError"]["type"], "string", "{report}");
    for method in ["patch", "post"] {
        let operation = &doc["paths"]["/users/import"][method];
        let description = operation["description"].as_str().unwrap();
        assert!(description.contains("Imported users cannot log in"), "{method}");
        assert!(description.contains("POST /users/change-password"), "{method}");
        assert!(operation["responses"]["501"].is_object(), "{method}");
    }
}
