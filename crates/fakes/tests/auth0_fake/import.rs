//! Bulk-import jobs: lifecycle, summary, errors (array and object shapes), size and concurrency limits.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use ums_fakes::auth0::{Auth0Fake, RunningAuth0Fake};

use crate::{json_of, spawn};

fn import_form(users: &Value, upsert: bool) -> Form {
    let file = Part::bytes(serde_json::to_vec(users).unwrap()).file_name("users.json");
    Form::new()
        .part("users", file.mime_str("application/json").unwrap())
        .text("upsert", upsert.to_string())
        .text("send_completion_email", "false")
}

async fn start_import(client: &Client, fake: &RunningAuth0Fake, form: Form) -> reqwest::Response {
    client
        .post(format!("{}/users/import", fake.uri()))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Polls the job until completed; returns every distinct status seen, in order, and the last body.
async fn wait_job(client: &Client, fake: &RunningAuth0Fake, job_id: &str) -> (Vec<String>, Value) {
    let mut seen: Vec<String> = Vec::new();
    for _ in 0..500 {
        let url = format!("{}/users/import/status/{job_id}", fake.uri());
        let job = json_of(client.get(url).send().await.unwrap()).await;
        let status = job["status"].as_str().unwrap().to_string();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "completed" {
            return (seen, job);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("job {job_id} never completed: {seen:?}");
}

#[tokio::test]
async fn import_job_goes_pending_processing_completed_with_summary_and_errors() {
    let fake = Auth0Fake::builder()
        .import_delay(Duration::from_millis(400))
        .build()
        .spawn()
        .await;
    let client = Client::new();
    let existing = fake.insert_user("old@x.io", None, "pw");
    let existing_part = existing.trim_start_matches("auth0|");
    let records = json!([
        {"email": "new@x.io", "user_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "username": "new", "email_verified": true},
        {"email": "old@x.io", "user_id": existing_part},
        {"email": "OLD@x.io", "user_id": "bbbbbbbbbbbbbbbbbbbbbbbb"},
    ]);
    let created = start_import(&client, &fake, import_form(&records, false)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let job = json_of(created).await;
    let job_id = job["id"].as_str().unwrap().to_string();
    assert!(
        job_id.starts_with("job_")
            && job_id.len() == 20
            && job_id[4..].chars().all(|c| c.is_ascii_alphanumeric())
    );
    assert_eq!(
        (&job["status"], &job["type"]),
        (&json!("pending"), &json!("users_import"))
    );
    assert_eq!(
        (&job["upsert"], &job["send_completion_email"]),
        (&json!(false), &json!(false))
    );
    assert!(job["created_at"].is_string());

    let (seen, done) = wait_job(&client, &fake, &job_id).await;
    assert_eq!(seen, vec!["pending", "processing", "completed"]);
    assert_eq!(
        done["summary"],
        json!({"failed": 2, "updated": 0, "inserted": 1, "total": 3})
    );
    let imported = fake.user("auth0|aaaaaaaaaaaaaaaaaaaaaaaa").unwrap();
    assert_eq!(
        (&imported["email"], &imported["username"]),
        (&json!("new@x.io"), &json!("new"))
    );

    let errors_url = format!("{}/users/import/status/{job_id}/errors", fake.uri());
    let errors = json_of(client.get(&errors_url).send().await.unwrap()).await;
    let codes: Vec<&str> = errors
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["errors"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["DUPLICATED_USER", "CONFLICT_EMAIL"]);
    assert_eq!(
        errors[0]["user"],
        json!({"email": "old@x.io", "user_id": existing_part})
    );
    assert_eq!(errors[1]["errors"][0]["path"], "");

    // Upsert updates the existing user; no failures gives the object quirk.
    let upsert_records = json!([{"email": "old@x.io", "user_id": existing_part, "blocked": true}]);
    let second = json_of(start_import(&client, &fake, import_form(&upsert_records, true)).await).await;
    let second_id = second["id"].as_str().unwrap();
    assert_eq!(second["upsert"], true);
    let (_, done) = wait_job(&client, &fake, second_id).await;
    assert_eq!(
        done["summary"],
        json!({"failed": 0, "updated": 1, "inserted": 0, "total": 1})
    );
    assert_eq!(fake.user(&existing).unwrap()["blocked"], true);
    let no_errors_url = format!("{}/users/import/status/{second_id}/errors", fake.uri());
    assert_eq!(
        json_of(client.get(no_errors_url).send().await.unwrap()).await,
        json!({"status": "completed"})
    );

    let unknown = client
        .get(format!("{}/users/import/status/job_nope", fake.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let unknown_errors = client
        .get(format!("{}/users/import/status/job_nope/errors", fake.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_errors.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn import_file_over_500_kb_is_413() {
    let fake = spawn().await;
    let client = Client::new();
    let filler = "x".repeat(1000);
    let records: Vec<Value> = (0..520)
        .map(|i| json!({"email": format!("u{i}@x.io"), "name": filler}))
        .collect();
    let records = Value::Array(records);
    assert!(serde_json::to_vec(&records).unwrap().len() > 512_000);
    let response = start_import(&client, &fake, import_form(&records, false)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = json_of(response).await;
    assert_eq!(
        (&body["statusCode"], &body["error"]),
        (&json!(413), &json!("Payload Too Large"))
    );
}

#[tokio::test]
async fn a_third_concurrent_import_job_is_429() {
    let fake = Auth0Fake::builder()
        .import_delay(Duration::from_millis(300))
        .build()
        .spawn()
        .await;
    let client = Client::new();
    let records = json!([{"email": "a@x.io"}]);
    let first = json_of(start_import(&client, &fake, import_form(&records, true)).await).await;
    let second = start_import(&client, &fake, import_form(&json!([]), true)).await;
    assert_eq!(second.status(), StatusCode::CREATED);
    let third = start_import(&client, &fake, import_form(&records, true)).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = json_of(third).await;
    assert_eq!(body["statusCode"], 429);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("There are 2 active import users jobs"));

    wait_job(&client, &fake, first["id"].as_str().unwrap()).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fourth = start_import(&client, &fake, import_form(&records, true)).await;
    assert_eq!(fourth.status(), StatusCode::CREATED);
}
