//! `activation`: store users seeded straight into the CRUD fake, then `POST /jobs/bulk-activation`
//! of all of them, followed until the job ends. The activated users are those with an
//! `authUserId` in the fake; the file sizes come from the job's file documents in the fake's
//! `/jobs`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::jobs::follow;
use crate::stack::{check, mib, seed_group, seed_users, start_fakes, start_service};
use crate::Options;

/// `AUTH0_JOB_POLLING_INTERVAL` of the run.
const PROVIDER_POLL: &str = "200ms";
/// The Auth0 fake's largest import file (413 above).
const FAKE_FILE_LIMIT: u64 = 512_000;

/// Runs the scenario and prints its section.
pub async fn run(opts: &Options) {
    let n = opts.activation_users;
    let fakes = start_fakes(&[]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap_or_default();
    seed_group(&client, &fakes.crud).await;
    let run = std::process::id();
    let users: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "userGroup": "customer", "name": format!("Activation user {i}"),
                "email": format!("activate-{run}-{i:06}@bench.example.com"), "__STATE__": "PUBLIC"
            })
        })
        .collect();
    let seeding = Instant::now();
    let ids = seed_users(&client, &fakes.crud, &users, 1000).await;
    eprintln!(
        "activation: seeded {} store users in {:.2} s",
        ids.len(),
        seeding.elapsed().as_secs_f64()
    );
    let env = [
        ("AUTH0_JOB_POLLING_INTERVAL", PROVIDER_POLL.to_owned()),
        ("REQUEST_BODY_LIMIT_BYTES", (64 << 20).to_string()),
    ];
    let (ums, _) = start_service(&fakes, &env).await;
    let cpu_before = (
        ums.cpu_seconds(),
        fakes.crud.cpu_seconds(),
        fakes.auth.cpu_seconds(),
    );

    let body: Vec<Value> = ids.iter().map(|id| json!({"filter": {"userId": id}})).collect();
    let started = Instant::now();
    let created = check(
        client
            .post(format!("{}/jobs/bulk-activation", ums.url))
            .json(&body)
            .send()
            .await,
        "POST /jobs/bulk-activation",
    )
    .await;
    let accepted_in = started.elapsed();
    let job_id = created["jobId"].as_str().unwrap_or_default().to_owned();
    let url = format!("{}/jobs/bulk-activation/{job_id}", ums.url);
    let finished = follow(
        &client,
        &url,
        started,
        Duration::from_millis(opts.poll_ms),
        Duration::from_secs(600),
    )
    .await;

    let activated = check(
        client
            .get(format!("{}/users/count", fakes.crud.url))
            .query(&[("_q", r#"{"authUserId":{"$exists":true}}"#), ("_st", "PUBLIC")])
            .send()
            .await,
        "count the activated users",
    )
    .await
    .as_u64()
    .unwrap_or_default();
    // The file documents the service stored beside the job in the fake's `/jobs`: `bytes` is
    // the size of each provider import file (of its last part, for a file sent in parts).
    let sizes = file_sizes(&client, &fakes.crud.url, &job_id).await;

    let report = &finished.report;
    let secs = finished.elapsed.as_secs_f64();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| users requested | {n} (seeded {}) |", ids.len());
    println!(
        "| job status | {}{} |",
        report["status"].as_str().unwrap_or("?"),
        if finished.done { "" } else { " (timed out)" }
    );
    println!(
        "| `POST` answered 202 in | {:.0} ms |",
        accepted_in.as_secs_f64() * 1e3
    );
    println!(
        "| total time (POST to `completed` seen, polled every {} ms) | {secs:.2} s |",
        opts.poll_ms
    );
    println!(
        "| activated (`authUserId` set in the CRUD fake) | {activated} of {n} ({:.1}%) |",
        activated as f64 * 100.0 / n.max(1) as f64
    );
    println!(
        "| job summary | inserted {}, updated {}, failed {}, total {} |",
        report["summary"]["inserted"],
        report["summary"]["updated"],
        report["summary"]["failed"],
        report["summary"]["total"]
    );
    println!(
        "| provider import files | {} files: {} bytes |",
        sizes.len(),
        sizes.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    );
    let largest = sizes.iter().copied().max().unwrap_or_default();
    println!(
        "| largest file | {largest} bytes ({}: limit 500,000 of the service, 512,000 of the fake) |",
        if largest > 0 && largest < 500_000 {
            "under"
        } else {
            "**check**"
        }
    );
    println!(
        "| CPU during the job | service {:.2} s, CRUD fake {:.2} s, Auth0 fake {:.2} s |",
        ums.cpu_seconds() - cpu_before.0,
        fakes.crud.cpu_seconds() - cpu_before.1,
        fakes.auth.cpu_seconds() - cpu_before.2
    );
    println!(
        "| service peak RSS | {:.1} MiB |",
        mib(ums.peak_rss_kib().unwrap_or_default())
    );
    println!();
    if let Some(first) = report["failures"].get(0) {
        println!("First failure: {first}");
        println!();
    }
    let files = if activated as usize == n {
        format!("100% activated: every file was accepted, and the fake answers 413 to a file over {FAKE_FILE_LIMIT} bytes")
    } else {
        "not every user was activated: see the failures".to_owned()
    };
    println!(
        "`AUTH0_JOB_POLLING_INTERVAL={PROVIDER_POLL}` (the Auth0 fake completes an import job 200 ms after it starts); {files}."
    );
}

/// `bytes` of every file document of job `job_id` (`kind: "bulk-activation-file"`), by index.
async fn file_sizes(client: &reqwest::Client, crud: &str, job_id: &str) -> Vec<u64> {
    let q = json!({"kind": "bulk-activation-file", "jobId": job_id}).to_string();
    let mut sizes = Vec::new();
    loop {
        let skip = sizes.len().to_string();
        let query = [
            ("_q", q.as_str()),
            ("_p", "bytes"),
            ("_s", "index"),
            ("_l", "200"),
            ("_sk", &skip),
        ];
        let page = check(
            client.get(format!("{crud}/jobs/")).query(&query).send().await,
            "read the file documents",
        )
        .await;
        let page = page.as_array().cloned().unwrap_or_default();
        sizes.extend(page.iter().filter_map(|f| f["bytes"].as_u64()));
        if page.len() < 200 {
            return sizes;
        }
    }
}
