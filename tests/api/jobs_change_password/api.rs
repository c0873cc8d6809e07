//! The routes' answers: 404 for an unknown job, 400 for bad bodies, duplicates sent once, 501
//! without a jobs collection, and the OpenAPI entries.

use serde_json::json;

use super::*;
use crate::helpers::TestApp;

async fn post_body(address: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{address}/jobs/change-password/bulk"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn an_unknown_job_or_a_job_of_another_kind_is_404() {
    let app = TestApp::on_fakes().start().await;
    let (status, body) = get_job(&app.address, "000000000000000000000042").await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "job \"000000000000000000000042\" not found");
    assert_eq!(get_job(&app.address, "not-an-id").await.0, 404);

    let other = json!({"kind": "bulk-activation", "status": "completed", "jobCreatedAt": "2024-01-01T00:00:00.000Z",
        "input": {}, "result": {}, "progress": {"processed": 0, "total": 0}, "leaseUntil": 0, "__STATE__": "PUBLIC"});
    let id = app.crud_fake().state().insert_raw("/jobs", other).unwrap();
    assert_eq!(get_job(&app.address, &id).await.0, 404);
}

#[tokio::test]
async fn malformed_bodies_are_400_with_a_message() {
    let app = TestApp::on_fakes()
        .with_env(&[("REQUEST_BODY_LIMIT_BYTES", "4000000")])
        .start()
        .await;
    let bodies = [
        json!({"authUsersIds": []}),
        json!({"authUsersIds": [1, 2]}),
        json!({"authUsersIds": ["auth0|a", null]}),
        json!({"authUsersIds": ["auth0|a", ""]}),
        json!({"authUsersIds": "auth0|a"}),
        json!({}),
        json!({"authUserIds": ["auth0|a"]}),
        json!(["auth0|a"]),
    ];
    for body in bodies {
        let (status, answer) = post_body(&app.address, &body).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
    }
    let too_many: Vec<String> = (0..100_001).map(|i| format!("u{i}")).collect();
    let (status, answer) = post_body(&app.address, &json!({ "authUsersIds": too_many })).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["message"], "authUsersIds has 100001 ids: at most 100000");
    assert_eq!(app.crud_fake().state().documents("/jobs"), Vec::<Value>::new());
}

#[tokio::test]
async fn duplicate_ids_are_sent_once_in_first_seen_order() {
    let app = app_at("50", None).await;
    let ids = auth_users(app.auth_fake(), 3);
    let with_duplicates = [&ids[1], &ids[0], &ids[1], &ids[2], &ids[0]].map(|s| s.to_owned());
    let job = start_job(&app.address, &with_duplicates).await;
    let report = wait_completed(&app.address, &job).await.report;
    let expected = vec![ids[1].clone(), ids[0].clone(), ids[2].clone()];
    assert_eq!(completed_ids(&report), expected);
    assert_eq!(report["summary"]["total"], 3);
    assert_eq!(delivered(app.auth_fake()), expected);
}

#[tokio::test]
async fn without_a_jobs_collection_both_routes_answer_501() {
    let app = TestApp::on_fakes().without_jobs().start().await;
    let (status, body) = post_body(&app.address, &json!({"authUsersIds": ["auth0|a"]})).await;
    assert_eq!(status, 501, "{body}");
    assert!(body["message"].as_str().unwrap().contains("JOBS_CRUD_ENDPOINT"));
    assert_eq!(get_job(&app.address, "000000000000000000000042").await.0, 501);
}

#[tokio::test]
async fn the_openapi_document_lists_both_routes() {
    let app = TestApp::on_fakes().start().await;
    let doc: Value = app.get("/documentation/json").await.json().await.unwrap();
    let start = &doc["paths"]["/jobs/change-password/bulk"]["post"];
    assert!(start["responses"]["202"].is_object(), "{start}");
    assert!(start["responses"]["400"].is_object());
    let read = &doc["paths"]["/jobs/change-password/bulk/{id}"]["get"];
    for status in ["200", "404", "501"] {
        assert!(read["responses"][status].is_object(), "{status}: {read}");
    }
}
