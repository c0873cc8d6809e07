//! Delivery: every user gets exactly one change-password request, never above the provider's
//! rate, 429s are honoured, unknown users end in `failures`.

use std::time::{Duration, Instant};

use super::*;

#[tokio::test]
async fn every_user_of_a_job_gets_exactly_one_change_password_request() {
    let app = app_at("50", None).await;
    let ids = auth_users(app.auth_fake(), 30);
    let started = Instant::now();
    let job = start_job(&app.address, &ids).await;
    let finished = wait_completed(&app.address, &job).await;
    eprintln!(
        "30 users at 50 req/s (no provider limit): {:?}",
        started.elapsed()
    );

    let report = finished.report;
    assert_eq!(completed_ids(&report), ids);
    assert_eq!(report["failures"], json!([]));
    assert_eq!(
        report["summary"],
        json!({"completed": 30, "failed": 0, "total": 30})
    );
    assert_eq!(report["progress"], json!({"processed": 30, "total": 30}));
    assert_eq!(report["jobId"], job.as_str());
    assert_eq!(delivered(app.auth_fake()), ids);
}

#[tokio::test]
async fn at_the_providers_own_rate_every_user_is_delivered_without_429s_and_progress_shows() {
    let app = app_at("10", Some(10)).await;
    let ids = auth_users(app.auth_fake(), 30);
    let job = start_job(&app.address, &ids).await;
    let finished = wait_completed(&app.address, &job).await;
    let span = delivery_span(app.auth_fake());
    eprintln!(
        "30 users at 10 req/s (provider 10 req/s): delivered in {span:?}, {} rate-limited",
        app.auth_fake().rate_limited_count()
    );

    assert_eq!(completed_ids(&finished.report), ids);
    assert_eq!(delivered(app.auth_fake()), ids);
    assert!(max_in_one_second(app.auth_fake()) <= 10);
    let rate_limited = app.auth_fake().rate_limited_count();
    assert!(rate_limited <= 1, "{rate_limited}");
    // The one 429 tolerated above (the pacer's second and the fake's window may not line up)
    // costs its `Retry-After` (1 s): it is part of the bound.
    let waited = rate_limited as f64;
    assert!(
        span <= Duration::from_secs_f64(1.15 * 30.0 / 10.0 + waited),
        "{span:?}"
    );
    assert!(finished.saw_partial_progress, "never saw 0 < processed < total");
}

#[tokio::test]
async fn above_the_providers_rate_the_job_waits_out_the_429s_and_still_delivers_everyone() {
    let app = app_at("20", Some(5)).await;
    let ids = auth_users(app.auth_fake(), 15);
    let job = start_job(&app.address, &ids).await;
    let finished = wait_completed(&app.address, &job).await;
    eprintln!(
        "15 users at 20 req/s (provider 5 req/s): delivered in {:?}, {} rate-limited",
        delivery_span(app.auth_fake()),
        app.auth_fake().rate_limited_count()
    );

    assert!(
        app.auth_fake().rate_limited_count() > 0,
        "the provider never answered 429"
    );
    assert_eq!(completed_ids(&finished.report), ids);
    assert_eq!(finished.report["failures"], json!([]));
    assert_eq!(delivered(app.auth_fake()), ids);
    assert!(max_in_one_second(app.auth_fake()) <= 5);
}

#[tokio::test]
async fn unknown_users_end_in_failures_and_the_others_complete() {
    let app = app_at("50", None).await;
    let known = auth_users(app.auth_fake(), 4);
    let unknown = ["auth0|000000000000000000000001", "auth0|nobody"];
    let ids = vec![
        known[0].clone(),
        unknown[0].to_owned(),
        known[1].clone(),
        known[2].clone(),
        unknown[1].to_owned(),
        known[3].clone(),
    ];
    let job = start_job(&app.address, &ids).await;
    let report = wait_completed(&app.address, &job).await.report;

    assert_eq!(completed_ids(&report), known);
    assert_eq!(
        report["failures"],
        json!([
            {"authUserId": unknown[0], "error": "auth user not found"},
            {"authUserId": unknown[1], "error": "auth user not found"},
        ])
    );
    assert_eq!(
        report["summary"],
        json!({"completed": 4, "failed": 2, "total": 6})
    );
    assert_eq!(report["status"], "completed");
    assert_eq!(delivered(app.auth_fake()), known);
}

#[tokio::test]
async fn two_jobs_running_at_once_share_the_ceiling() {
    let app = app_at("10", Some(10)).await;
    let ids = auth_users(app.auth_fake(), 20);
    let (first, second) = tokio::join!(
        start_job(&app.address, &ids[..10]),
        start_job(&app.address, &ids[10..])
    );
    let (first, second) = tokio::join!(
        wait_completed(&app.address, &first),
        wait_completed(&app.address, &second)
    );
    eprintln!(
        "2 jobs of 10 users at 10 req/s (provider 10 req/s): delivered in {:?}, {} rate-limited",
        delivery_span(app.auth_fake()),
        app.auth_fake().rate_limited_count()
    );

    assert_eq!(completed_ids(&first.report), ids[..10]);
    assert_eq!(completed_ids(&second.report), ids[10..]);
    let mut sent = delivered(app.auth_fake());
    sent.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(sent, expected);
    assert!(
        app.auth_fake().rate_limited_count() <= 1,
        "{}",
        app.auth_fake().rate_limited_count()
    );
}
