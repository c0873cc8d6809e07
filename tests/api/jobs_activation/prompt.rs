//! Jobs finish as soon as their provider does: the local provider's imports are complete when
//! they return, so an embedded-mode activation never waits `AUTH0_JOB_POLLING_INTERVAL`; a
//! provider that takes a moment is polled again within seconds of the start, not an interval.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{activate, app_with, id, store_user};
use crate::helpers::{temp_data_dir, TestApp};

#[tokio::test]
async fn an_embedded_activation_finishes_without_waiting_a_polling_interval() {
    let app = TestApp::embedded(&temp_data_dir())
        .with_env(&[("AUTH0_JOB_POLLING_INTERVAL", "2 minutes")])
        .start()
        .await;
    let imported = app
        .import_csv("userGroup,name,email\ncustomer,Ann,ann@example.com\n", &[])
        .await;
    assert_eq!(imported.status(), 200);
    let listed: Value = app
        .get("/users/?email=ann@example.com")
        .await
        .json()
        .await
        .unwrap();
    let user_id = listed[0]["_id"].as_str().expect("imported").to_owned();
    assert!(listed[0].get("authUserId").is_none(), "imported without a login");

    let started = Instant::now();
    let report = activate(&app, "", std::slice::from_ref(&user_id)).await;

    assert_eq!(report["status"], "completed", "{report}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let stored: Value = app.get(&format!("/users/{user_id}")).await.json().await.unwrap();
    assert!(stored["authUserId"].is_string(), "linked: {stored}");
}

#[tokio::test]
async fn a_provider_job_is_polled_again_seconds_after_it_starts_not_an_interval_later() {
    let app = app_with(
        vec![store_user(1, "a@example.com")],
        &[("AUTH0_JOB_POLLING_INTERVAL", "2 minutes")],
    )
    .await;

    let started = Instant::now();
    let report = activate(&app, "", &[id(1)]).await;

    assert_eq!(report["status"], "completed", "{report}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}
