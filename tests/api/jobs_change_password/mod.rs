//! Bulk change-password jobs end to end on the fakes: delivery under the provider's rate limit,
//! failures, progress, the routes' errors, and resumption on another replica.

mod api;
mod delivery;
mod resume;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use ums_fakes::auth0::{Auth0Fake, RunningAuth0Fake};

use crate::helpers::TestApp;

/// The env var of the service's ceiling.
const RATE: &str = "AUTH0_BULK_CHANGE_PASSWORD_RATE_LIMIT_PER_SECOND";

/// The service on the fakes with its ceiling at `rate` requests a second, the Auth0 fake
/// accepting `provider_rate` a second (no limit with `None`).
async fn app_at(rate: &str, provider_rate: Option<u32>) -> TestApp {
    TestApp::on_fakes()
        .with_auth0_fake(Auth0Fake::builder().rate_limit(provider_rate).build())
        .with_env(&[(RATE, rate)])
        .start()
        .await
}

/// Creates `n` users in the Auth0 fake; returns their ids in creation order.
fn auth_users(auth: &RunningAuth0Fake, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| auth.insert_user(&format!("user{i}@example.com"), None, "Secret-pass-1"))
        .collect()
}

/// `POST /jobs/change-password/bulk` with `ids`; returns the job id (asserting the 202 body).
async fn start_job(address: &str, ids: &[String]) -> String {
    let response = reqwest::Client::new()
        .post(format!("{address}/jobs/change-password/bulk"))
        .json(&json!({ "authUsersIds": ids }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "pending");
    assert!(
        body["jobCreatedAt"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{body}"
    );
    body["jobId"].as_str().unwrap().to_owned()
}

/// `GET /jobs/change-password/bulk/{id}`: status and body.
async fn get_job(address: &str, id: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{address}/jobs/change-password/bulk/{id}"))
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// What polling a job until it completed saw.
struct Finished {
    /// The last report (status `completed`).
    report: Value,
    /// Whether a report showed the job running with `0 < processed < total`.
    saw_partial_progress: bool,
}

/// Polls the job every 100 ms until it is `completed` (at most 20 s).
async fn wait_completed(address: &str, id: &str) -> Finished {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut saw_partial_progress = false;
    loop {
        let (status, report) = get_job(address, id).await;
        assert_eq!(status, 200, "{report}");
        let (processed, total) = (&report["progress"]["processed"], &report["progress"]["total"]);
        let (processed, total) = (processed.as_u64().unwrap(), total.as_u64().unwrap());
        saw_partial_progress |= report["status"] == "running" && processed > 0 && processed < total;
        if report["status"] == "completed" {
            return Finished {
                report,
                saw_partial_progress,
            };
        }
        assert!(Instant::now() < deadline, "job not completed in 20 s: {report}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `authUserId`s of the report's `completed` list.
fn completed_ids(report: &Value) -> Vec<String> {
    report["completed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["authUserId"].as_str().unwrap().to_owned())
        .collect()
}

/// The user ids the fake received change-password requests for, in arrival order.
fn delivered(auth: &RunningAuth0Fake) -> Vec<String> {
    auth.change_password_requests()
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// The most requests the fake accepted in any 1-second window.
fn max_in_one_second(auth: &RunningAuth0Fake) -> usize {
    let instants: Vec<Instant> = auth
        .change_password_requests()
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    (0..instants.len())
        .map(|i| {
            instants[i..]
                .iter()
                .take_while(|t| t.duration_since(instants[i]) < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// Time from the first to the last delivered request.
fn delivery_span(auth: &RunningAuth0Fake) -> Duration {
    let requests = auth.change_password_requests();
    match (requests.first(), requests.last()) {
        (Some((_, first)), Some((_, last))) => last.duration_since(*first),
        _ => Duration::ZERO,
    }
}
