//! Tests: bulk activation (`POST /jobs/bulk-activation`, `GET /jobs/bulk-activation/{id}`) end to
//! end on the CRUD and Auth0 fakes, with a wiremock Auth0 Client for the provider's error bodies.

mod documents;
mod flows;
mod prompt;
mod provider;
mod requests;

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::TestApp;

/// `AUTH0_JOB_POLLING_INTERVAL` of these tests (the fake's imports take 200 ms).
const POLLING: &str = "100ms";

/// The store `_id` of test user `i`.
fn id(i: usize) -> String {
    format!("{i:024x}")
}

/// A PUBLIC `customer` user with id `id(i)` and email `email`.
fn store_user(i: usize, email: &str) -> Value {
    json!({
        "_id": id(i),
        "userGroup": "customer",
        "name": format!("user {i}"),
        "email": email,
        "__STATE__": "PUBLIC",
    })
}

/// The service on the fakes with `users` seeded, polling provider jobs every 100 ms; `extra`
/// environment variables added or overridden.
async fn app_with(users: Vec<Value>, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("AUTH0_JOB_POLLING_INTERVAL", POLLING),
        ("JOBS_POLL_INTERVAL_MS", "100"),
    ];
    vars.extend_from_slice(extra);
    TestApp::on_fakes()
        .with_env(&vars)
        .with_customer_group()
        .with_users(users)
        .start()
        .await
}

/// [`app_with`] without extra variables.
async fn app(users: Vec<Value>) -> TestApp {
    app_with(users, &[]).await
}

/// The body activating `ids`.
fn body(ids: &[String]) -> Value {
    ids.iter().map(|id| json!({"filter": {"userId": id}})).collect()
}

/// `POST /jobs/bulk-activation{query}` with `body`.
async fn post(app: &TestApp, query: &str, body: &Value) -> reqwest::Response {
    app.post_json(&format!("/jobs/bulk-activation{query}"), body)
        .await
}

/// Starts a job for `ids` (202 expected) and returns its id.
async fn start(app: &TestApp, query: &str, ids: &[String]) -> String {
    let response = post(app, query, &body(ids)).await;
    assert_eq!(response.status(), 202);
    let created: Value = response.json().await.expect("json");
    assert_eq!(created["status"], "pending");
    assert!(created["jobCreatedAt"].is_string());
    created["jobId"].as_str().expect("jobId").to_owned()
}

/// Polls `GET /jobs/bulk-activation/{job}` until the job is completed or failed (20 s at most).
async fn finished(app: &TestApp, job: &str) -> Value {
    for _ in 0..400 {
        let response = app.get(&format!("/jobs/bulk-activation/{job}")).await;
        assert_eq!(response.status(), 200);
        let report: Value = response.json().await.expect("json");
        if report["status"] == "completed" || report["status"] == "failed" {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {job} did not finish");
}

/// Starts a job for `ids` and waits for its end.
async fn activate(app: &TestApp, query: &str, ids: &[String]) -> Value {
    let job = start(app, query, ids).await;
    finished(app, &job).await
}

/// The `authUserId` of store user `id` in the CRUD fake.
fn linked(app: &TestApp, id: &str) -> Option<String> {
    let doc = app.crud_fake().state().document("/users", id)?;
    doc.get("authUserId")?.as_str().map(str::to_owned)
}

/// `(userId, first error code)` of each failure of `report`, sorted.
fn failure_codes(report: &Value) -> Vec<(String, String)> {
    let mut codes: Vec<(String, String)> = report["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|f| {
            let user = f["userId"].as_str().unwrap_or_default().to_owned();
            (
                user,
                f["errors"][0]["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    codes.sort();
    codes
}
