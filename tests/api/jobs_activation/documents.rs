//! Tests: where a bulk activation keeps its state. The job document stays the same size whatever
//! the number of users (its files, with their users and failures, are documents of their own);
//! a replica that dies after saving them leaves a job another one finishes from them; a file
//! that grew past the limit since the plan is sent in parts; a job saved by an earlier version
//! (its whole plan in the job document) is still reported.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use ums_fakes::auth0::Auth0Fake;
use ums_fakes::crud::Method;

use super::{activate, app, failure_codes, finished, id, linked, start, store_user, POLLING};
use crate::helpers::TestApp;

const FILE_KIND: &str = "bulk-activation-file";

fn email(i: usize) -> String {
    format!("d{i}@example.com")
}

/// An email of about 160 characters: 4,500 such users make three import files.
fn long_email(i: usize) -> String {
    format!("{}{i:06}@example.com", "a".repeat(138))
}

fn documents(app: &TestApp, kind: &str) -> Vec<Value> {
    let docs = app.crud_fake().state().documents("/jobs");
    docs.into_iter().filter(|d| d["kind"] == kind).collect()
}

/// The provider import files received so far.
fn imports(app: &TestApp) -> Vec<usize> {
    let requests = app.auth_fake().requests();
    let imports = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/users/import");
    imports
        .map(|r| {
            r.header("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(usize::MAX)
        })
        .collect()
}

/// Waits (at most 10 s) until `ready` holds for the file documents.
async fn wait_files(app: &TestApp, what: &str, ready: impl Fn(&[Value]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready(&documents(app, FILE_KIND)) {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The service on the fakes with `users`, an Auth0 fake whose imports take `import`, and a
/// one-second job lease.
async fn app_with_slow_imports(users: Vec<Value>, import: Duration) -> TestApp {
    TestApp::on_fakes()
        .with_env(&[
            ("AUTH0_JOB_POLLING_INTERVAL", POLLING),
            ("JOBS_POLL_INTERVAL_MS", "100"),
            ("JOBS_LEASE_SECONDS", "1"),
        ])
        .with_auth0_fake(Auth0Fake::builder().import_delay(import).build())
        .with_customer_group()
        .with_users(users)
        .start()
        .await
}

#[tokio::test]
async fn the_job_document_does_not_grow_with_the_users_and_the_file_documents_hold_them() {
    let mut sizes = Vec::new();
    for n in [50, 500] {
        let mut users: Vec<Value> = (0..n).map(|i| store_user(i, &email(i))).collect();
        users[1].as_object_mut().unwrap().remove("email");
        let app = app(users).await;
        let ids: Vec<String> = (0..n).map(id).collect();

        let report = activate(&app, "", &ids).await;

        let summary = json!({"inserted": n - 1, "updated": 0, "failed": 1, "total": n});
        assert_eq!(report["summary"], summary);
        assert_eq!(failure_codes(&report), [(id(1), "EMAIL_REQUIRED".to_owned())]);
        let jobs = documents(&app, "bulk-activation");
        let mut job = jobs[0].clone();
        let input = job.as_object_mut().unwrap().remove("input").unwrap();
        assert_eq!(
            input["userIds"].as_array().unwrap().len(),
            n,
            "the input stays in the job document"
        );
        let text = job.to_string();
        assert!(
            !ids.iter().any(|user| text.contains(user.as_str())),
            "no user id in the job document but its input: {text}"
        );
        let files = documents(&app, FILE_KIND);
        let in_files: usize = files.iter().map(|f| f["userIds"].as_array().unwrap().len()).sum();
        assert_eq!(in_files, n - 1, "every importable user in a file document");
        assert!(files.iter().all(|f| f["jobId"] == jobs[0]["_id"]));
        sizes.push(text.len());
    }
    assert!(
        sizes[1] <= sizes[0] + 16,
        "the job document (but its input) grew from {} to {} bytes",
        sizes[0],
        sizes[1]
    );
}

#[tokio::test]
async fn a_replica_that_dies_after_saving_its_files_leaves_a_job_another_finishes_without_sending_a_file_twice(
) {
    const USERS: usize = 4_500;
    let users: Vec<Value> = (0..USERS).map(|i| store_user(i, &long_email(i))).collect();
    let mut a = app_with_slow_imports(users, Duration::from_millis(1500)).await;
    let ids: Vec<String> = (0..USERS).map(id).collect();
    let job = start(&a, "", &ids).await;
    let started = |files: &[Value]| files.iter().filter(|f| f["state"] == "started").count();
    wait_files(&a, "two files started", |files| {
        files.len() >= 3 && started(files) == 2
    })
    .await;

    // Replica A dies: from now on none of its writes reaches the jobs collection, so it cannot
    // release its lease either.
    let crud = a.crud_fake().state().clone();
    crud.fail_next(Method::PATCH, "/jobs", 503, 1_000);
    let writes = crud.request_count(Method::PATCH, "/jobs");
    a.shutdown.cancel();
    let _ = a.stopped().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while crud.request_count(Method::PATCH, "/jobs") == writes {
        assert!(
            Instant::now() < deadline,
            "replica A never tried to release its lease"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    crud.clear_faults();
    let saved = crud.document("/jobs", &job).unwrap();
    assert_eq!(saved["status"], "running");
    assert!(
        saved["leaseOwner"].is_string(),
        "A died holding the lease: {saved}"
    );
    assert_eq!(imports(&a).len(), 2);

    let b = TestApp::replica_of(&a)
        .with_env(&[
            ("AUTH0_JOB_POLLING_INTERVAL", POLLING),
            ("JOBS_POLL_INTERVAL_MS", "100"),
            ("JOBS_LEASE_SECONDS", "1"),
        ])
        .start()
        .await;
    let report = finished(&b, &job).await;

    assert_eq!(report["status"], "completed", "{report}");
    let total = USERS as u64;
    let summary = json!({"inserted": total, "updated": 0, "failed": 0, "total": total});
    assert_eq!(report["summary"], summary);
    assert_eq!(report["progress"], json!({"processed": total, "total": total}));
    assert_eq!(
        imports(&a).len(),
        3,
        "the files A started are polled by B, not sent again; B sends the third"
    );
    assert!(ids.iter().all(|user| linked(&a, user).is_some()));
    assert_eq!(a.auth_fake().users().len(), USERS);
}

#[tokio::test]
async fn a_file_whose_users_grew_past_the_limit_since_the_plan_is_sent_in_parts_each_under_it() {
    const USERS: usize = 4_500;
    let users: Vec<Value> = (0..USERS).map(|i| store_user(i, &long_email(i))).collect();
    let app = app_with_slow_imports(users, Duration::from_millis(1000)).await;
    let ids: Vec<String> = (0..USERS).map(id).collect();
    let job = start(&app, "", &ids).await;
    wait_files(&app, "the plan saved", |files| files.len() == 3).await;

    // The users of the last file (not started: two at a time) get emails twice as long.
    let grown = |i: usize| format!("{}{i:06}@example.com", "b".repeat(438));
    let patches: Vec<Value> = (3_500..USERS)
        .map(|i| json!({"filter": {"_id": id(i)}, "update": {"$set": {"email": grown(i)}}}))
        .collect();
    let url = format!("{}/users/bulk", app.crud_fake().uri());
    let patched = app.client.patch(url).json(&patches).send().await.unwrap();
    assert_eq!(patched.status(), 200);
    assert!(imports(&app).len() < 3, "the last file is not started yet");
    let report = finished(&app, &job).await;

    assert_eq!(report["status"], "completed", "{report}");
    assert_eq!(report["summary"]["inserted"], USERS);
    let sizes = imports(&app);
    assert_eq!(sizes.len(), 4, "the last file sent in two parts: {sizes:?}");
    assert!(sizes.iter().all(|&bytes| bytes < 500_000 + 1_000), "{sizes:?}");
    assert!(ids.iter().all(|user| linked(&app, user).is_some()));
    let user = app.auth_fake().user(&format!("auth0|{}", id(4_000))).unwrap();
    assert_eq!(user["email"], grown(4_000));
}

#[tokio::test]
async fn a_job_saved_by_an_earlier_version_is_reported_from_its_result() {
    let app = app(Vec::new()).await;
    let failure = json!({"userId": id(7), "errors": [{"code": "USER_NOT_FOUND", "message": "gone"}]});
    let job = app
        .crud_fake()
        .state()
        .insert_raw(
            "/jobs",
            json!({"kind": "bulk-activation", "status": "completed", "jobCreatedAt": "2024-01-01T00:00:00.000Z",
                   "input": {"userIds": [id(1), id(7)], "upsert": true},
                   "result": {"planned": 2, "files": [{"userIds": [id(1)], "bytes": 100, "state": "completed"}],
                              "failures": [failure], "activated": 1, "inserted": 1, "updated": 0},
                   "progress": {"processed": 2, "total": 2}, "leaseOwner": null, "leaseUntil": 0,
                   "__STATE__": "PUBLIC"}),
        )
        .unwrap();

    let report: Value = app
        .get(&format!("/jobs/bulk-activation/{job}"))
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(
        report["summary"],
        json!({"inserted": 1, "updated": 0, "failed": 1, "total": 2})
    );
    assert_eq!(report["failures"], json!([failure]));
    assert_eq!(report["status"], "completed");
}
