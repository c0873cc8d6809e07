//! `change-password`: auth users created straight in the Auth0 fake, the fake limited to
//! `--rps N` change-password requests a second (429 above), the service's ceiling set to the same
//! N, then `POST /jobs/change-password/bulk` of all of them, followed until the job ends.
//! Target (SPEC §8): 100% delivered in at most 1.15 × users / N seconds.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;

use crate::jobs::follow;
use crate::stack::{check, mib, start_fakes, start_service};
use crate::Options;

/// Runs the scenario and prints its section.
pub async fn run(opts: &Options) {
    let (n, rps) = (opts.change_password_users, opts.rps);
    let fakes = start_fakes(&["--rps".to_owned(), rps.to_string()]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap_or_default();
    let ids = create_auth_users(&client, &fakes.auth.url, n).await;
    let env = [
        (
            "AUTH0_BULK_CHANGE_PASSWORD_RATE_LIMIT_PER_SECOND",
            rps.to_string(),
        ),
        ("REQUEST_BODY_LIMIT_BYTES", (64 << 20).to_string()),
    ];
    let (ums, _) = start_service(&fakes, &env).await;
    let cpu_before = (ums.cpu_seconds(), fakes.auth.cpu_seconds());

    let started = Instant::now();
    let created = check(
        client
            .post(format!("{}/jobs/change-password/bulk", ums.url))
            .json(&json!({ "authUsersIds": ids }))
            .send()
            .await,
        "POST /jobs/change-password/bulk",
    )
    .await;
    let job_id = created["jobId"].as_str().unwrap_or_default().to_owned();
    let url = format!("{}/jobs/change-password/bulk/{job_id}", ums.url);
    let target = 1.15 * n as f64 / f64::from(rps);
    let timeout = Duration::from_secs_f64(target * 3.0 + 60.0);
    let finished = follow(
        &client,
        &url,
        started,
        Duration::from_millis(opts.poll_ms),
        timeout,
    )
    .await;

    let report = &finished.report;
    let delivered = report["summary"]["completed"].as_u64().unwrap_or_default();
    let failed = report["summary"]["failed"].as_u64().unwrap_or_default();
    let secs = finished.elapsed.as_secs_f64();
    let all = delivered as usize == n;
    println!("| measure | value |");
    println!("|---|---|");
    println!("| Auth0 fake limit (`auth0-fake --rps`) and service ceiling | {rps} requests/s |");
    println!(
        "| job status | {}{} |",
        report["status"].as_str().unwrap_or("?"),
        if finished.done { "" } else { " (timed out)" }
    );
    println!(
        "| delivered (`summary.completed`) | {delivered} of {n} ({:.1}%), failed {failed} |",
        delivered as f64 * 100.0 / n.max(1) as f64
    );
    println!(
        "| total time (POST to `completed` seen, polled every {} ms) | {secs:.2} s |",
        opts.poll_ms
    );
    println!(
        "| floor at exactly {rps}/s ((users − 1) / N) | {:.2} s |",
        (n.saturating_sub(1)) as f64 / f64::from(rps)
    );
    println!(
        "| effective rate | {:.2} requests/s |",
        delivered as f64 / secs.max(1e-9)
    );
    println!(
        "| target: 100% in ≤ 1.15 × {n} / {rps} = {target:.1} s | {} |",
        if all && secs <= target {
            "met"
        } else {
            "**not met**"
        }
    );
    println!(
        "| CPU during the job | service {:.2} s, Auth0 fake {:.2} s |",
        ums.cpu_seconds() - cpu_before.0,
        fakes.auth.cpu_seconds() - cpu_before.1
    );
    println!(
        "| service peak RSS | {:.1} MiB |",
        mib(ums.peak_rss_kib().unwrap_or_default())
    );
    if let Some(first) = report["failures"].get(0) {
        println!();
        println!("First failure: {first}");
    }
}

/// Creates `n` users in the Auth0 fake (`POST /users`, not rate-limited); returns their ids.
async fn create_auth_users(client: &reqwest::Client, auth: &str, n: usize) -> Vec<String> {
    let run = std::process::id();
    let url = format!("{auth}/users");
    let ids: Vec<String> = futures::stream::iter(0..n)
        .map(|i| {
            let request = client.post(&url).json(&json!({
                "email": format!("password-{run}-{i:06}@bench.example.com"),
                "password": "Kettle-Lamp-42!x",
                "connection": "Username-Password-Authentication",
            }));
            async move {
                let user = check(request.send().await, "create an Auth0 fake user").await;
                user["user_id"].as_str().map(str::to_owned)
            }
        })
        .buffered(16)
        .filter_map(|id: Option<String>| async move { id })
        .collect()
        .await;
    assert_eq!(ids.len(), n, "not every Auth0 fake user was created");
    ids
}
