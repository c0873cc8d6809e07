//! `chaos` (not part of `all`): the service in CRUD mode with random faults in both fakes and
//! SIGKILLs, then the two systems audited for inconsistencies before and after one reconcile
//! pass. Steps: fakes without faults, the `customer` group, the service (short downstream
//! timeout, fast saga recovery and job polling, reconcile on demand in repair mode, hard auth
//! delete), 200 users created through it; faults on (`--fault-rate`, 1500 ms delays) and
//! `--chaos-ops` mixed user ops at `--concurrency` (default 8), the service killed `--chaos-kills`
//! times and restarted on its port; faults off, the recovery worker waited for (saga records of
//! the jobs collection gone), audit, `POST /jobs/reconcile` (`repair`) followed to its end,
//! audit again. Exits nonzero when an inconsistency remains at the end.

mod audit;
mod ops;

use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::jobs::follow;
use crate::stack::{seed_group, start_fakes, start_service, Fakes};
use crate::Options;
use audit::{Audit, KINDS};
use ops::{Pool, Service, Tally, CLASSES, MIX};

/// Users created through the service before the faults.
const SEED_USERS: usize = 200;
/// Delay of the `delay` fault, above `DOWNSTREAM_TIMEOUT_MS`.
const FAULT_DELAY_MS: u64 = 1500;
/// `SAGA_RECOVERY_GRACE_MS` of the run: the shortest the service accepts with a 500 ms timeout
/// (12 calls of it, the longest create).
const RECOVERY_GRACE_MS: u64 = 6000;

/// The service's variables for this scenario (on top of `stack::start_service`'s).
fn service_env() -> Vec<(&'static str, String)> {
    vec![
        ("DOWNSTREAM_TIMEOUT_MS", "500".to_owned()),
        ("SAGA_RECOVERY_GRACE_MS", RECOVERY_GRACE_MS.to_string()),
        ("JOBS_POLL_INTERVAL_MS", "200".to_owned()),
        ("JOBS_LEASE_SECONDS", "3".to_owned()),
        ("RECONCILE_MODE", "repair".to_owned()),
        ("RECONCILE_INTERVAL", "off".to_owned()),
        ("AUTH_HARD_DELETE", "true".to_owned()),
        ("JOBS_CRUD_ENDPOINT", "/jobs".to_owned()),
        // Faults make every request a warning; errors (compensation failures) stay visible.
        (
            "LOG_LEVEL",
            std::env::var("LOG_LEVEL").unwrap_or_else(|_| "error".to_owned()),
        ),
    ]
}

/// `PUT /-/faults` on both fakes (the auth fake seeded with `seed + 1`); panics on refusal.
async fn set_faults(client: &reqwest::Client, fakes: &Fakes, rate: f64, seed: u64) {
    for (url, seed) in [(&fakes.crud.url, seed), (&fakes.auth.url, seed.wrapping_add(1))] {
        let body = json!({"rate": rate, "delayMs": FAULT_DELAY_MS, "seed": seed});
        let response = client.put(format!("{url}/-/faults")).json(&body).send().await;
        crate::stack::check(response, "PUT /-/faults").await;
    }
}

/// Runs the scenario, prints its section; false when inconsistencies remain.
pub async fn run(opts: &Options) -> bool {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    let fakes = start_fakes(&[]).await;
    seed_group(&client, &fakes.crud).await;
    let env = service_env();
    let (proc, _) = start_service(&fakes, &env).await;
    let service = Service::new(proc.url.clone());
    let pool = Pool::new();
    let seeding_failed = ops::seed(&client, &service, &pool, SEED_USERS, opts.chaos_concurrency).await;
    eprintln!(
        "chaos: seeded {} users through the service ({seeding_failed} failed)",
        pool.len()
    );

    set_faults(&client, &fakes, opts.fault_rate, opts.chaos_seed).await;
    let next = AtomicU64::new(0);
    let started = Instant::now();
    let plan = (opts.chaos_ops, opts.chaos_concurrency, opts.chaos_seed);
    let (tally, (_proc, kills)) = tokio::join!(
        ops::run_ops(&client, &service, &pool, &next, plan),
        ops::kill_and_restart(
            &fakes,
            &env,
            &service,
            proc,
            &next,
            (opts.chaos_ops, opts.chaos_kills)
        ),
    );
    let ops_time = started.elapsed();
    let faults = [
        ("crud-fake", fault_stats(&client, &fakes.crud.url).await),
        ("auth0-fake", fault_stats(&client, &fakes.auth.url).await),
    ];
    set_faults(&client, &fakes, 0.0, opts.chaos_seed).await;

    let recovery = wait_for_recovery(&client, &fakes.crud.url).await;
    let before = audit::audit(&client, &fakes.crud.url, &fakes.auth.url).await;
    let reconcile = reconcile(&client, &service.url, opts.poll_ms).await;
    let after = audit::audit(&client, &fakes.crud.url, &fakes.auth.url).await;

    print_report(opts, &tally, &faults, &kills, ops_time);
    println!();
    println!("Recovery wait (faults off): {recovery}.");
    println!();
    println!("Reconcile pass: {reconcile}");
    println!();
    print_audits(&before, &after, reconcile.starts_with("skipped"));
    let remaining = match (&after, &before) {
        (Ok(after), _) => after.total(),
        (Err(_), Ok(before)) => before.total(),
        (Err(_), Err(_)) => usize::MAX,
    };
    println!();
    println!(
        "Result: {}",
        if remaining == 0 {
            "consistent after the reconcile pass".to_owned()
        } else if remaining == usize::MAX {
            "**audit failed**".to_owned()
        } else {
            format!("**{remaining} inconsistencies remain**")
        }
    );
    remaining == 0
}

async fn fault_stats(client: &reqwest::Client, url: &str) -> Value {
    let response = client.get(format!("{url}/-/faults")).send().await;
    crate::stack::check(response, "GET /-/faults").await
}

/// Waits `SAGA_RECOVERY_GRACE_MS` plus a second, then up to 30 s for the saga records of the
/// jobs collection to be gone (5 s when they cannot be counted); says what happened.
async fn wait_for_recovery(client: &reqwest::Client, crud: &str) -> String {
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(RECOVERY_GRACE_MS + 1000)).await;
    let url = format!("{crud}/jobs/count");
    let mut left = None;
    while started.elapsed() < Duration::from_secs(30) {
        let response = client
            .get(&url)
            .query(&[("_q", r#"{"kind":"saga"}"#)])
            .send()
            .await;
        let count = match response {
            Ok(r) if r.status().is_success() => r.json::<Value>().await.ok().and_then(|v| v.as_u64()),
            _ => None,
        };
        let Some(count) = count else {
            tokio::time::sleep(Duration::from_secs(5)).await;
            return format!(
                "saga records cannot be counted (`GET {url}?_q={{\"kind\":\"saga\"}}`): waited {:.1} s",
                started.elapsed().as_secs_f64()
            );
        };
        left = Some(count);
        if count == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    format!(
        "{:.1} s, saga records of `/jobs` left: {}",
        started.elapsed().as_secs_f64(),
        left.map_or_else(|| "?".to_owned(), |n| n.to_string())
    )
}

/// `POST /jobs/reconcile` `{"mode":"repair"}` followed to its end; the line to print (starting
/// with `skipped` when the service has no such route).
async fn reconcile(client: &reqwest::Client, service: &str, poll_ms: u64) -> String {
    let started = Instant::now();
    let response = client
        .post(format!("{service}/jobs/reconcile"))
        .json(&json!({"mode": "repair"}))
        .send()
        .await;
    let response = match response {
        Ok(r) => r,
        Err(e) => return format!("skipped: `POST /jobs/reconcile` failed: {e}"),
    };
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.as_u16() == 404 {
        return "skipped: reconcile unavailable (`POST /jobs/reconcile` answered 404)".to_owned();
    }
    let Some(job_id) = body["jobId"].as_str().filter(|_| status.is_success()) else {
        return format!("skipped: `POST /jobs/reconcile` answered {status} {body}");
    };
    let url = format!("{service}/jobs/reconcile/{job_id}");
    let every = Duration::from_millis(poll_ms);
    let finished = follow(client, &url, started, every, Duration::from_secs(300)).await;
    let report = &finished.report;
    format!(
        "job `{job_id}` {}{} in {:.1} s; findings:\n\n```json\n{}\n```",
        report["status"].as_str().unwrap_or("?"),
        if finished.done { "" } else { " (timed out)" },
        finished.elapsed.as_secs_f64(),
        serde_json::to_string_pretty(&report["findings"]).unwrap_or_default()
    )
}

fn print_report(
    opts: &Options,
    tally: &Tally,
    faults: &[(&str, Value)],
    kills: &[ops::Kill],
    took: Duration,
) {
    let command: Vec<String> = std::env::args().collect();
    println!("Command: `{}`", command.join(" "));
    println!();
    println!("Date: {}", today());
    println!();
    println!(
        "{} ops at concurrency {}, fault rate {} in both fakes ({FAULT_DELAY_MS} ms delays, \
         `DOWNSTREAM_TIMEOUT_MS=500`), seed {}, {SEED_USERS} users created first; ops took {:.1} s.",
        opts.chaos_ops,
        opts.chaos_concurrency,
        opts.fault_rate,
        opts.chaos_seed,
        took.as_secs_f64()
    );
    println!();
    println!(
        "| op | {} | total | retried once: {} |",
        CLASSES.join(" | "),
        CLASSES.join(" / ")
    );
    println!("|---|{}---|---|", "---|".repeat(CLASSES.len()));
    for (op, _) in MIX {
        let get = |map: &std::collections::BTreeMap<(String, String), u64>, class: &str| {
            map.get(&(op.to_owned(), class.to_owned()))
                .copied()
                .unwrap_or_default()
        };
        let firsts: Vec<u64> = CLASSES.iter().map(|c| get(&tally.first, c)).collect();
        let retries: Vec<String> = CLASSES
            .iter()
            .map(|c| get(&tally.retries, c).to_string())
            .collect();
        let cells: Vec<String> = firsts.iter().map(u64::to_string).collect();
        println!(
            "| {op} | {} | {} | {} |",
            cells.join(" | "),
            firsts.iter().sum::<u64>(),
            retries.join(" / ")
        );
    }
    println!();
    let names = ["failBefore", "failAfter", "delay", "dropBefore", "dropAfter"];
    println!("| fake | data requests | {} |", names.join(" | "));
    println!("|---|---|{}", "---|".repeat(names.len()));
    for (fake, stats) in faults {
        let cells: Vec<String> = names.iter().map(|k| stats["injected"][k].to_string()).collect();
        println!("| {fake} | {} | {} |", stats["requests"], cells.join(" | "));
    }
    println!();
    let list: Vec<String> = kills
        .iter()
        .map(|k| {
            format!(
                "at op {} (restarted in {:.0} ms)",
                k.at_op,
                k.restart.as_secs_f64() * 1e3
            )
        })
        .collect();
    println!("Service SIGKILLs: {} — {}.", kills.len(), list.join(", "));
}

fn print_audits(before: &Result<Audit, String>, after: &Result<Audit, String>, skipped: bool) {
    let cell = |audit: &Result<Audit, String>, kind: &str| {
        audit
            .as_ref()
            .map_or_else(|_| "?".to_owned(), |a| a.count(kind).to_string())
    };
    let after_title = if skipped {
        "after (pass skipped)"
    } else {
        "after the reconcile pass"
    };
    println!("| inconsistency | before the reconcile pass | {after_title} |");
    println!("|---|---|---|");
    for (kind, meaning) in KINDS {
        println!(
            "| `{kind}`: {meaning} | {} | {} |",
            cell(before, kind),
            cell(after, kind)
        );
    }
    for (when, audit) in [("before", before), ("after", after)] {
        match audit {
            Ok(a) => {
                println!();
                print!(
                    "Audit {when}: {} store users, {} auth users",
                    a.store_users, a.auth_users
                );
                for (kind, ids) in &a.examples {
                    print!("; {kind} e.g. {}", ids.join(", "));
                }
                println!(".");
            }
            Err(e) => println!("\nAudit {when} failed: {e}"),
        }
    }
}

/// Today's UTC date, `YYYY-MM-DD`.
fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute()
    )
}
