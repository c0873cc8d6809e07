//! Resumption: a job stopped on one replica (lease released) or left by a crashed one (lease
//! expired) is finished by another, and no user is sent to twice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use user_manager_service::context::CallContext;
use user_manager_service::downstream::build_http_client;
use user_manager_service::jobs::{JobStore, Progress};
use user_manager_service::store::crud_http::CrudCollection;

use super::*;
use crate::helpers::TestApp;

/// Waits until no replica holds the lease of job `id` (at most 5 s).
async fn wait_released(crud: &ums_fakes::crud::RunningCrudFake, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let doc = crud.state().document("/jobs", id).unwrap();
        if doc["leaseOwner"].is_null() {
            return;
        }
        assert!(Instant::now() < deadline, "lease never released: {doc}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_job_stopped_on_one_replica_is_finished_by_another_without_sending_twice() {
    let lease = [
        (RATE, "5"),
        ("JOBS_LEASE_SECONDS", "1"),
        ("JOBS_POLL_INTERVAL_MS", "200"),
    ];
    let a = TestApp::on_fakes().with_env(&lease).start().await;
    let ids = auth_users(a.auth_fake(), 20);
    let job = start_job(&a.address, &ids).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    a.shutdown.cancel();
    wait_released(a.crud_fake(), &job).await;
    let sent_by_a = delivered(a.auth_fake()).len();
    assert!((1..20).contains(&sent_by_a), "replica A sent {sent_by_a}");
    let saved = a.crud_fake().state().document("/jobs", &job).unwrap();
    assert_eq!(saved["result"]["next"], sent_by_a, "{saved}");

    let b = TestApp::replica_of(&a).with_env(&lease).start().await;
    let report = wait_completed(&b.address, &job).await.report;
    b.shutdown.cancel();
    eprintln!("replica A sent {sent_by_a} of 20 before stopping; B sent the rest");

    assert_eq!(completed_ids(&report), ids);
    assert_eq!(delivered(a.auth_fake()), ids, "every user exactly once, in order");
}

#[tokio::test]
async fn a_job_left_by_a_crashed_replica_resumes_from_its_last_checkpoint() {
    let app = app_at("50", None).await;
    app.shutdown.cancel();
    let ids = auth_users(app.auth_fake(), 10);
    let client = build_http_client(Duration::from_secs(5)).unwrap();
    let store = JobStore::new(Arc::new(CrudCollection::new(
        client,
        &app.crud_fake().uri(),
        "/jobs",
    )));
    let ctx = CallContext::background("crash-test");
    let input = json!({ "authUsersIds": ids });
    let job = store.create(&ctx, "change-password", input, 10).await.unwrap();
    let kinds = ["change-password"];
    let claimed = store
        .claim(&ctx, "crashed", Duration::from_millis(300), &kinds)
        .await;
    let (_, lease) = claimed.unwrap().unwrap();
    let checkpoint = json!({"completed": ids[..4], "failures": [], "next": 4});
    let progress = Progress {
        processed: 4,
        total: 10,
    };
    lease.checkpoint(&ctx, &checkpoint, progress).await.unwrap();
    drop(lease); // the replica dies holding the lease: it expires in 300 ms

    let b = TestApp::replica_of(&app)
        .with_env(&[(RATE, "50"), ("JOBS_POLL_INTERVAL_MS", "100")])
        .start()
        .await;
    let report = wait_completed(&b.address, &job.id).await.report;
    b.shutdown.cancel();

    assert_eq!(completed_ids(&report), ids);
    assert_eq!(report["progress"], json!({"processed": 10, "total": 10}));
    assert_eq!(
        delivered(app.auth_fake()),
        ids[4..].to_vec(),
        "the checkpointed users are not sent again"
    );
}
