//! Tests: what the bulk-activation routes refuse (bodies, query, unknown jobs, missing jobs
//! collection) and their OpenAPI entries.

use serde_json::{json, Value};

use super::{app, app_with, body, post};
use crate::helpers::TestApp;

async fn message(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("json");
    body["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn bodies_that_are_not_a_non_empty_list_of_user_ids_are_refused_with_400() {
    let app = app(Vec::new()).await;
    let cases = [
        json!([]),
        json!({}),
        json!([{}]),
        json!([{"filter": {}}]),
        json!([{"filter": {"userId": ""}}]),
        json!([{"filter": {"userId": "  "}}]),
        json!([{"filter": {"userId": 5}}]),
        json!([{"filter": {"userId": "a", "email": "a@b.c"}}]),
        json!([{"filter": {"userId": "a"}, "other": true}]),
        json!(["a"]),
    ];
    for case in cases {
        let response = post(&app, "", &case).await;
        assert_eq!(response.status(), 400, "{case}");
        assert!(!message(response).await.is_empty());
    }
    let not_json = app
        .client
        .post(app.url("/jobs/bulk-activation"))
        .header("content-type", "application/json")
        .body("[{")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let jobs = app.crud_fake().state().documents("/jobs");
    assert!(jobs.is_empty(), "no job was created: {jobs:?}");
}

#[tokio::test]
async fn an_upsert_other_than_true_or_false_and_unknown_parameters_are_refused_with_400() {
    let app = app(Vec::new()).await;
    let ids = body(&["a".to_owned()]);
    for query in ["?upsert=yes", "?upsert=", "?upsert=true&upsert=false", "?limit=3"] {
        let response = post(&app, query, &ids).await;
        assert_eq!(response.status(), 400, "{query}");
    }
    let response = post(&app, "?upsert=yes", &ids).await;
    assert!(message(response).await.contains("upsert must be true or false"));
}

#[tokio::test]
async fn more_than_100000_users_are_refused_with_400() {
    let app = app_with(Vec::new(), &[("REQUEST_BODY_LIMIT_BYTES", "8000000")]).await;
    let ids: Vec<String> = (0..100_001).map(|i| i.to_string()).collect();
    let response = post(&app, "", &body(&ids)).await;
    assert_eq!(response.status(), 400);
    assert!(message(response).await.contains("at most 100000"));
}

#[tokio::test]
async fn duplicated_user_ids_are_counted_once() {
    let app = app(Vec::new()).await;
    let ids = ["a", "b", "a", "a"].map(str::to_owned);
    let response = post(&app, "", &body(&ids)).await;
    assert_eq!(response.status(), 202);
    let job: Value = response.json().await.unwrap();
    let report: Value = app
        .get(&format!(
            "/jobs/bulk-activation/{}",
            job["jobId"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["summary"]["total"], 2);
    assert_eq!(report["progress"]["total"], 2);
}

#[tokio::test]
async fn an_unknown_job_id_and_a_job_of_another_kind_are_404() {
    let app = app(Vec::new()).await;
    let other = app
        .crud_fake()
        .state()
        .insert_raw(
            "/jobs",
            json!({"kind": "change-password", "status": "completed", "jobCreatedAt": "2024-01-01T00:00:00.000Z",
                   "input": {}, "result": {}, "progress": {"processed": 0, "total": 0},
                   "leaseOwner": null, "leaseUntil": 0, "__STATE__": "PUBLIC"}),
        )
        .unwrap();
    for id in ["665f00000000000000000001", other.as_str()] {
        let response = app.get(&format!("/jobs/bulk-activation/{id}")).await;
        assert_eq!(response.status(), 404);
        assert_eq!(message(response).await, format!("job \"{id}\" not found"));
    }
}

#[tokio::test]
async fn without_a_jobs_collection_bulk_activation_is_not_implemented() {
    let app = TestApp::on_fakes().without_jobs().start().await;
    let response = post(&app, "", &body(&["a".to_owned()])).await;
    assert_eq!(response.status(), 501);
    assert_eq!(app.get("/jobs/bulk-activation/x").await.status(), 501);
}

#[tokio::test]
async fn the_openapi_document_describes_both_routes() {
    let app = app(Vec::new()).await;
    let doc: Value = app.get("/documentation/json").await.json().await.unwrap();
    let post = &doc["paths"]["/jobs/bulk-activation"]["post"];
    assert!(post["responses"]["202"].is_object(), "{post}");
    assert!(post["requestBody"].is_object());
    let get = &doc["paths"]["/jobs/bulk-activation/{id}"]["get"];
    assert!(get["responses"]["200"].is_object());
    assert!(get["responses"]["404"].is_object());
}
