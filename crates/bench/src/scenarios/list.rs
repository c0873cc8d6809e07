//! `list`: `GET /users/?_l=25` straight to the CRUD fake and through the service, alternating in
//! one run, with the CPU each process spends per request; then `POST /users/` through the
//! service with the Auth0 fake.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::load::{self, run as load_run, LoadResult};
use crate::procs::{self, Proc};
use crate::stack::{mib, seed_group, seed_users, start_fakes, start_service};
use crate::Options;

/// Runs the scenario and prints its section.
pub async fn run(opts: &Options) {
    let fakes = start_fakes(&[]).await;
    let crud = &fakes.crud;
    let client = reqwest::Client::new();
    seed_group(&client, crud).await;
    let users: Vec<_> = (0..1000)
        .map(|i| json!({"userGroup": "customer", "name": format!("user {i}"), "email": format!("seed{i}@example.com"), "__STATE__": "PUBLIC"}))
        .collect();
    seed_users(&client, crud, &users, 1000).await;
    let (ums, ready_in) = start_service(&fakes, &[]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = ums.rss_kib().unwrap_or_default();

    let duration = Duration::from_secs(opts.seconds);
    let (mut direct, mut through) = (Vec::new(), Vec::new());
    let mut cpu = CpuPerRequest::default();
    for _ in 0..opts.rounds {
        let before = (crud.cpu_seconds(), procs::cpu_seconds(std::process::id()));
        let result = load_run(opts.concurrency, duration, get_list(&crud.url)).await;
        cpu.add_direct(
            &result,
            crud.cpu_seconds() - before.0,
            procs::cpu_seconds(std::process::id()) - before.1,
        );
        direct.push(result);
        let before = (
            crud.cpu_seconds(),
            ums.cpu_seconds(),
            procs::cpu_seconds(std::process::id()),
        );
        let result = load_run(opts.concurrency, duration, get_list(&ums.url)).await;
        cpu.add_through(
            &result,
            crud.cpu_seconds() - before.0,
            ums.cpu_seconds() - before.1,
            procs::cpu_seconds(std::process::id()) - before.2,
        );
        through.push(result);
    }
    cpu.report();
    let before = (ums.cpu_seconds(), fakes.auth.cpu_seconds(), crud.cpu_seconds());
    let create = load_run(opts.concurrency, duration, post_user(&ums.url, "bench")).await;
    let per_user = |s: f64| s * 1e6 / create.ok.max(1) as f64;
    println!(
        "CPU per `POST /users/` (µs): service {:.0}, Auth0 fake {:.0}, CRUD fake {:.0}",
        per_user(ums.cpu_seconds() - before.0),
        per_user(fakes.auth.cpu_seconds() - before.1),
        per_user(crud.cpu_seconds() - before.2)
    );
    println!();
    report(opts, ready_in, idle_rss, &direct, &through, &create, &ums);
}

/// CPU microseconds spent per request by each process, summed over the rounds.
#[derive(Default)]
struct CpuPerRequest {
    direct_requests: u64,
    direct_fake: f64,
    direct_loadgen: f64,
    through_requests: u64,
    through_fake: f64,
    through_service: f64,
    through_loadgen: f64,
}

impl CpuPerRequest {
    fn add_direct(&mut self, r: &LoadResult, fake: f64, loadgen: f64) {
        self.direct_requests += r.ok;
        self.direct_fake += fake;
        self.direct_loadgen += loadgen;
    }

    fn add_through(&mut self, r: &LoadResult, fake: f64, service: f64, loadgen: f64) {
        self.through_requests += r.ok;
        self.through_fake += fake;
        self.through_service += service;
        self.through_loadgen += loadgen;
    }

    fn report(&self) {
        let us = |seconds: f64, n: u64| seconds * 1e6 / n.max(1) as f64;
        println!("CPU per request (µs): direct = load generator {:.0} + CRUD fake {:.0}; through = load generator {:.0} + service {:.0} + CRUD fake {:.0}",
            us(self.direct_loadgen, self.direct_requests), us(self.direct_fake, self.direct_requests),
            us(self.through_loadgen, self.through_requests), us(self.through_service, self.through_requests),
            us(self.through_fake, self.through_requests));
        println!();
    }
}

/// `GET {base}/users/?_l=25`.
pub(crate) fn get_list(base: &str) -> load::MakeRequest {
    let url = format!("{base}/users/?_l=25");
    Arc::new(move |c: &reqwest::Client, _| c.get(&url))
}

/// `POST {base}/users/` of a new `customer` with a password; call `i` of a run has the email
/// `{tag}{pid}-{i}@example.com`, so runs with different tags never collide.
pub(crate) fn post_user(base: &str, tag: &'static str) -> load::MakeRequest {
    let url = format!("{base}/users/");
    let nonce = std::process::id();
    Arc::new(move |c: &reqwest::Client, i| {
        c.post(&url).json(&json!({
            "userGroup": "customer", "name": format!("bench {i}"),
            "email": format!("{tag}{nonce}-{i}@example.com"), "password": "Kettle-Lamp-42!"
        }))
    })
}

fn summary(results: &[LoadResult]) -> (f64, f64, f64, u64) {
    let n = results.len().max(1) as f64;
    let tput = results.iter().map(|r| r.throughput).sum::<f64>() / n;
    let p50 = results.iter().map(|r| r.p50_ms).sum::<f64>() / n;
    let p99 = results.iter().map(|r| r.p99_ms).sum::<f64>() / n;
    let errors = results.iter().map(|r| r.errors).sum();
    (tput, p50, p99, errors)
}

fn report(
    opts: &Options,
    ready_in: Duration,
    idle_rss: u64,
    direct: &[LoadResult],
    through: &[LoadResult],
    create: &LoadResult,
    ums: &Proc,
) {
    let (dt, dp50, dp99, de) = summary(direct);
    let (st, sp50, sp99, se) = summary(through);
    println!("| measure | direct to CRUD fake | through the service | ratio / added |");
    println!("|---|---|---|---|");
    println!(
        "| `GET /users/?_l=25` throughput (req/s) | {dt:.0} | {st:.0} | {:.1}% |",
        st / dt * 100.0
    );
    println!(
        "| p50 latency (ms) | {dp50:.3} | {sp50:.3} | +{:.3} ms |",
        sp50 - dp50
    );
    println!(
        "| p99 latency (ms) | {dp99:.3} | {sp99:.3} | +{:.3} ms |",
        sp99 - dp99
    );
    println!("| errors | {de} | {se} | |");
    println!();
    println!(
        "`POST /users/` through the service with the Auth0 fake: {:.0} users/s, p50 {:.2} ms, p99 {:.2} ms, {} ok, {} errors",
        create.throughput, create.p50_ms, create.p99_ms, create.ok, create.errors
    );
    println!();
    println!(
        "Service: ready in {} ms, idle RSS {:.1} MiB, peak RSS {:.1} MiB; {} rounds of {} s each side, {} connections",
        ready_in.as_millis(),
        mib(idle_rss),
        mib(ums.peak_rss_kib().unwrap_or_default()),
        opts.rounds,
        opts.seconds,
        opts.concurrency
    );
}
