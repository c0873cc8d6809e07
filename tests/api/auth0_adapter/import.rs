//! Tests: the bulk-import calls (`/users/import`, its status and its errors).

use bytes::Bytes;
use serde_json::json;
use user_manager_service::auth::AuthError;
use user_manager_service::auth::{
    AuthProvider, ImportErrorDetail, ImportFailure, ImportJobState, ImportSummary,
};
use user_manager_service::downstream::Cause;

use wiremock::{Request, ResponseTemplate};

use super::support::{assert_forwarded, ctx, failure_cases, AsFailure};
use super::{adapter, default_setup, setup};
use crate::helpers::{header_of, mount, mount_once, ok_json, only_request};

/// The error of the calls `failure_cases!` checks.
type CallError = AuthError;

const USERS: &str = r#"[{"email":"ada@example.com","user_id":"abc"}]"#;

/// The parts of a multipart request: (part headers, part content).
fn parts(request: &Request) -> Vec<(String, String)> {
    let content_type = header_of(request, "content-type").expect("a content-type");
    let boundary = content_type.split("boundary=").nth(1).expect("a boundary");
    let body = String::from_utf8(request.body.clone()).expect("text body");
    body.split(&format!("--{boundary}"))
        .filter_map(|part| part.strip_prefix("\r\n"))
        .filter_map(|part| part.split_once("\r\n\r\n"))
        .map(|(head, content)| (head.to_lowercase(), content.trim_end_matches("\r\n").to_owned()))
        .collect()
}

/// The content of part `name`, with its headers.
fn part<'a>(parts: &'a [(String, String)], name: &str) -> Option<&'a (String, String)> {
    let needle = format!("name=\"{name}\"");
    parts.iter().find(|(head, _)| head.contains(&needle))
}

#[tokio::test]
async fn start_import_posts_the_users_file_and_options_as_multipart() {
    let (server, auth) = setup(|c| c.connection = Some("db".into())).await;
    let job = json!({ "id": "job_1", "status": "pending", "type": "users_import", "connection": "db" });
    mount_once(&server, "POST", "/users/import", ok_json(job)).await;
    let started = auth
        .start_import(&ctx(), Bytes::from_static(USERS.as_bytes()), true)
        .await
        .expect("started");
    assert_eq!(
        (started.id.as_str(), started.state, started.summary),
        ("job_1", ImportJobState::Pending, None)
    );
    let request = only_request(&server).await;
    assert!(header_of(&request, "content-type").is_some_and(|v| v.starts_with("multipart/form-data")));
    assert_forwarded(&request);
    let parts = parts(&request);
    assert_eq!(parts.len(), 4);
    let users = part(&parts, "users").expect("a users part");
    assert!(users.0.contains("filename=\"users.json\""), "{}", users.0);
    assert!(users.0.contains("content-type: application/json"), "{}", users.0);
    assert_eq!(users.1, USERS);
    assert_eq!(part(&parts, "upsert").map(|p| p.1.as_str()), Some("true"));
    assert_eq!(
        part(&parts, "send_completion_email").map(|p| p.1.as_str()),
        Some("false")
    );
    assert_eq!(part(&parts, "connection").map(|p| p.1.as_str()), Some("db"));
}

#[tokio::test]
async fn start_import_without_a_connection_sends_no_connection_part() {
    let (server, auth) = default_setup().await;
    mount_once(
        &server,
        "POST",
        "/users/import",
        ok_json(json!({ "id": "job_2", "status": "pending" })),
    )
    .await;
    auth.start_import(&ctx(), Bytes::from_static(b"[]"), false)
        .await
        .expect("started");
    let parts = parts(&only_request(&server).await);
    assert_eq!(part(&parts, "upsert").map(|p| p.1.as_str()), Some("false"));
    assert!(part(&parts, "connection").is_none());
    assert_eq!(parts.len(), 3);
}

#[tokio::test]
async fn import_status_reads_the_summary_of_a_completed_job() {
    let (server, auth) = default_setup().await;
    let job = json!({
        "id": "job_1", "status": "completed", "type": "users_import",
        "summary": { "failed": 1, "updated": 2, "inserted": 3, "total": 6 }
    });
    mount_once(&server, "GET", "/users/import/status/job_1", ok_json(job)).await;
    let status = auth.import_status(&ctx(), "job_1").await.expect("answered");
    assert_eq!(status.state, ImportJobState::Completed);
    let summary = ImportSummary {
        failed: 1,
        updated: 2,
        inserted: 3,
        total: 6,
    };
    assert_eq!(status.summary, Some(summary));
    assert_forwarded(&only_request(&server).await);
}

#[tokio::test]
async fn import_status_reads_every_job_state() {
    let (server, auth) = default_setup().await;
    let states = [
        ("pending", ImportJobState::Pending),
        ("processing", ImportJobState::Processing),
        ("completed", ImportJobState::Completed),
        ("failed", ImportJobState::Failed),
        ("expired", ImportJobState::Expired),
    ];
    for (name, state) in states {
        let route = format!("/users/import/status/job_{name}");
        mount_once(
            &server,
            "GET",
            &route,
            ok_json(json!({ "id": "j", "status": name })),
        )
        .await;
        let status = auth
            .import_status(&ctx(), &format!("job_{name}"))
            .await
            .expect("answered");
        assert_eq!(status.state, state);
    }
}

#[tokio::test]
async fn import_status_with_an_unknown_state_is_unreadable() {
    let (server, auth) = default_setup().await;
    mount_once(
        &server,
        "GET",
        "/users/import/status/job_1",
        ok_json(json!({ "id": "job_1", "status": "weird" })),
    )
    .await;
    let error = auth.import_status(&ctx(), "job_1").await.expect_err("unreadable");
    assert_eq!(
        error.failure().map(|f| &f.cause),
        Some(&Cause::Failed { status: None })
    );
}

#[tokio::test]
async fn import_errors_reads_each_failed_user_and_its_errors() {
    let (server, auth) = default_setup().await;
    let errors = json!([
        {
            "user": { "email": "ada@example.com", "user_id": "abc", "name": "Ada" },
            "errors": [{ "code": "CONFLICT_EMAIL", "message": "The user already exists.", "path": "email" }]
        },
        { "user": {}, "errors": [] }
    ]);
    mount_once(
        &server,
        "GET",
        "/users/import/status/job_1/errors",
        ok_json(errors),
    )
    .await;
    let failures = auth.import_errors(&ctx(), "job_1").await.expect("answered");
    let first = ImportFailure {
        user_id: Some("abc".into()),
        email: Some("ada@example.com".into()),
        errors: vec![ImportErrorDetail {
            code: "CONFLICT_EMAIL".into(),
            message: "The user already exists.".into(),
        }],
    };
    let second = ImportFailure {
        user_id: None,
        email: None,
        errors: vec![],
    };
    assert_eq!(failures, [first, second]);
    assert_forwarded(&only_request(&server).await);
}

#[tokio::test]
async fn import_errors_answered_with_an_object_means_no_failure() {
    let (server, auth) = default_setup().await;
    let job = json!({ "id": "job_1", "status": "completed", "summary": { "failed": 0, "total": 1 } });
    mount_once(&server, "GET", "/users/import/status/job_1/errors", ok_json(job)).await;
    assert!(auth
        .import_errors(&ctx(), "job_1")
        .await
        .expect("answered")
        .is_empty());
}

#[tokio::test]
async fn import_errors_answered_with_an_empty_body_means_no_failure() {
    let (server, auth) = default_setup().await;
    mount(
        &server,
        "GET",
        "/users/import/status/job_1/errors",
        ResponseTemplate::new(204),
    )
    .await;
    assert!(auth
        .import_errors(&ctx(), "job_1")
        .await
        .expect("answered")
        .is_empty());
}

failure_cases!(start_import, adapter, "POST" "/users/import", "Auth0 Client POST /users/import",
    400 => AuthError::Invalid(_), |a, c| a.start_import(&c, Bytes::from_static(b"[]"), true));
failure_cases!(import_status, adapter, "GET" "/users/import/status/job_1",
    "Auth0 Client GET /users/import/status/:id",
    404 => AuthError::NotFound(_), |a, c| a.import_status(&c, "job_1"));
failure_cases!(import_errors, adapter, "GET" "/users/import/status/job_1/errors",
    "Auth0 Client GET /users/import/status/:id/errors",
    404 => AuthError::NotFound(_), |a, c| a.import_errors(&c, "job_1"));
