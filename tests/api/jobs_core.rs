//! The job store on the CRUD fake: leases are exclusive, expire, and are lost by a replica whose
//! lease another one took over.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use user_manager_service::context::CallContext;
use user_manager_service::downstream::build_http_client;
use user_manager_service::jobs::{JobError, JobStatus, JobStore, Progress};
use user_manager_service::store::crud_http::CrudCollection;

async fn store() -> (ums_fakes::crud::RunningCrudFake, JobStore) {
    let crud = ums_fakes::crud::CrudFake::standard().spawn().await;
    let client = build_http_client(Duration::from_secs(5)).unwrap();
    let jobs = CrudCollection::new(client, &crud.uri(), "/jobs");
    (crud, JobStore::new(Arc::new(jobs)))
}

fn ctx() -> CallContext {
    CallContext::background("jobs-core-test")
}

const KINDS: &[&str] = &["test"];

#[tokio::test]
async fn a_pending_job_is_claimed_by_exactly_one_replica() {
    let (_crud, store) = store().await;
    let job = store.create(&ctx(), "test", json!({"n": 3}), 3).await.unwrap();
    assert_eq!(job.status, JobStatus::Pending);

    let (claimed, _lease) = store
        .claim(&ctx(), "a", Duration::from_secs(30), KINDS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, job.id);
    assert_eq!(claimed.status, JobStatus::Running);
    assert_eq!(claimed.lease_owner.as_deref(), Some("a"));
    assert!(store
        .claim(&ctx(), "b", Duration::from_secs(30), KINDS)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .claim(&ctx(), "b", Duration::from_secs(30), &["other"])
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn concurrent_claims_give_the_job_to_one_replica_only() {
    let (_crud, store) = store().await;
    store.create(&ctx(), "test", json!({}), 1).await.unwrap();
    let attempts = (0..8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let owner = format!("r{i}");
            store
                .claim(&ctx(), &owner, Duration::from_secs(30), KINDS)
                .await
                .unwrap()
                .is_some()
        })
    });
    let mut winners = 0;
    for attempt in attempts {
        winners += usize::from(attempt.await.unwrap());
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_old_holder_loses_it() {
    let (_crud, store) = store().await;
    store.create(&ctx(), "test", json!({}), 10).await.unwrap();
    let (_, old) = store
        .claim(&ctx(), "crashed", Duration::from_millis(50), KINDS)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;

    let (job, new) = store
        .claim(&ctx(), "b", Duration::from_secs(30), KINDS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.lease_owner.as_deref(), Some("b"));

    let progress = Progress {
        processed: 5,
        total: 10,
    };
    let lost = old.checkpoint(&ctx(), &json!({"done": 5}), progress).await;
    assert!(matches!(lost, Err(JobError::LeaseLost(_))), "{lost:?}");
    new.checkpoint(
        &ctx(),
        &json!({"done": 6}),
        Progress {
            processed: 6,
            total: 10,
        },
    )
    .await
    .unwrap();
    let saved = store.get(&ctx(), "test", &job.id).await.unwrap().unwrap();
    assert_eq!(saved.result, json!({"done": 6}));
    assert_eq!(saved.progress.processed, 6);
}

#[tokio::test]
async fn a_finished_job_is_never_claimed_again_and_a_released_one_is_claimed_at_once() {
    let (_crud, store) = store().await;
    let done = store.create(&ctx(), "test", json!({}), 1).await.unwrap();
    let (_, lease) = store
        .claim(&ctx(), "a", Duration::from_secs(30), KINDS)
        .await
        .unwrap()
        .unwrap();
    let progress = Progress {
        processed: 1,
        total: 1,
    };
    lease
        .finish(&ctx(), JobStatus::Completed, &json!({"ok": true}), progress)
        .await
        .unwrap();
    let finished = store.get(&ctx(), "test", &done.id).await.unwrap().unwrap();
    assert_eq!(finished.status, JobStatus::Completed);
    assert_eq!(finished.lease_owner, None);
    assert!(store
        .claim(&ctx(), "b", Duration::from_secs(30), KINDS)
        .await
        .unwrap()
        .is_none());

    let other = store.create(&ctx(), "test", json!({}), 1).await.unwrap();
    let (_, lease) = store
        .claim(&ctx(), "a", Duration::from_secs(30), KINDS)
        .await
        .unwrap()
        .unwrap();
    lease.release(&ctx()).await.unwrap();
    let (job, _) = store
        .claim(&ctx(), "b", Duration::from_secs(30), KINDS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.id, other.id);
}

#[tokio::test]
async fn a_job_of_another_kind_is_not_found_by_get() {
    let (_crud, store) = store().await;
    let job = store.create(&ctx(), "test", json!({}), 1).await.unwrap();
    assert!(store.get(&ctx(), "other", &job.id).await.unwrap().is_none());
    assert!(store.get(&ctx(), "test", &job.id).await.unwrap().is_some());
    assert!(store
        .get(&ctx(), "test", "000000000000000000000000")
        .await
        .unwrap()
        .is_none());
}
