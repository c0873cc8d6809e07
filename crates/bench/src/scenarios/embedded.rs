//! `embedded`: the service alone in embedded mode (SQLite under a fresh temp `DATA_DIR`, the local
//! auth provider, the repository's `config/groups/`), without fakes:
//! 1. startup on an empty `DATA_DIR` (`--embedded-starts` times): time to ready, RSS;
//! 2. `PATCH /users/import` of `--embedded-rows` `customer` rows (`userGroup,name,surname,email`);
//! 3. with those users in the store, `GET /users/?_l=25` at `--concurrency` and at 1 connection;
//! 4. `POST /users/` (local provider: one argon2id hash each) at `--concurrency` and at 2.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::import::{count, upload, write_csv};
use super::list::{get_list, post_user};
use crate::load::{self, LoadResult};
use crate::procs::{self, Proc};
use crate::stack::{check, groups_dir, mib, start_embedded_service};
use crate::Options;

/// Runs the scenario and prints its section.
pub async fn run(opts: &Options) {
    let root = std::env::temp_dir().join(format!("ums-bench-embedded-{}", std::process::id()));
    let data_dir = |name: &str| -> PathBuf {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        dir
    };
    println!("Groups from `{}`.", groups_dir().display());
    println!();

    // 1. Startup on an empty DATA_DIR.
    println!("| start | ready in (ms) | RSS at ready | RSS 500 ms later |");
    println!("|---|---|---|---|");
    for n in 1..=opts.embedded_starts {
        let dir = data_dir(&format!("empty-{n}"));
        let (ums, ready_in) = start_embedded_service(&dir).await;
        let at_ready = ums.rss_kib().unwrap_or_default();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let settled = ums.rss_kib().unwrap_or_default();
        drop(ums);
        let _ = std::fs::remove_dir_all(&dir);
        println!(
            "| {n} | {} | {:.1} MiB | {:.1} MiB |",
            ready_in.as_millis(),
            mib(at_ready),
            mib(settled)
        );
    }
    println!();

    // 2. The import, on a fresh DATA_DIR.
    let rows = opts.embedded_rows;
    let dir = data_dir("store");
    let csv = root.join(format!("customers-{rows}.csv"));
    let run = std::process::id();
    let file_bytes = write_csv(&csv, "userGroup,name,surname,email", rows, |out, i| {
        writeln!(
            out,
            "customer,Embedded Customer {i:07},Benchmark,embedded-{run}-{i:07}@bench.example.com"
        )
    })
    .unwrap_or_else(|e| panic!("cannot write {}: {e}", csv.display()));
    eprintln!("embedded: import of {rows} rows, {file_bytes} bytes");
    let (ums, _) = start_embedded_service(&dir).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap_or_default();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = ums.rss_kib().unwrap_or_default();
    let cpu_before = ums.cpu_seconds();
    let (status, elapsed, body) = upload(&client, &ums.url, &csv, file_bytes).await;
    let import_cpu = ums.cpu_seconds() - cpu_before;
    let import_peak = ums.peak_rss_kib().unwrap_or_default();
    let _ = std::fs::remove_file(&csv);
    let imported = stored(&client, &ums).await;
    let secs = elapsed.as_secs_f64();
    println!("| rows | file | status | time (s) | rows/s | inserted | invalid | stored (`GET /users/count`) | service CPU | idle RSS before | service peak RSS | store on disk |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {rows} | {:.1} MB | {status} | {secs:.2} | {:.0} | {} | {} | {imported} | {import_cpu:.2} s | {:.1} MiB | {:.1} MiB | {:.1} MiB |",
        file_bytes as f64 / 1e6,
        rows as f64 / secs.max(1e-9),
        count(&body, "inserted"),
        count(&body, "invalid"),
        mib(idle),
        mib(import_peak),
        dir_bytes(&dir) as f64 / (1024.0 * 1024.0),
    );
    if let Some(first) = body["invalid"].get(0) {
        println!();
        println!("First invalid row: {first}");
    }
    println!();

    // 3 and 4. Load on the store that holds the imported users.
    let duration = Duration::from_secs(opts.seconds);
    println!(
        "Closed-loop load, {} s a run, on the store holding the {imported} imported users; CPU per request from /proc (µs).",
        opts.seconds
    );
    println!();
    println!("| request | connections | throughput (req/s) | p50 (ms) | p99 (ms) | ok | errors | CPU service | CPU load generator |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let c = opts.concurrency;
    measure(&ums, "`GET /users/?_l=25`", c, duration, get_list(&ums.url)).await;
    measure(&ums, "`GET /users/?_l=25`", 1, duration, get_list(&ums.url)).await;
    let post = "`POST /users/` (password)";
    measure(&ums, post, c, duration, post_user(&ums.url, "embedded-c")).await;
    measure(&ums, post, 2, duration, post_user(&ums.url, "embedded-2")).await;
    println!();
    println!(
        "Service peak RSS over the whole run (import, lists, creations): {:.1} MiB; users stored at the end: {}; store on disk: {:.1} MiB.",
        mib(ums.peak_rss_kib().unwrap_or_default()),
        stored(&client, &ums).await,
        dir_bytes(&dir) as f64 / (1024.0 * 1024.0),
    );
    drop(ums);
    let _ = std::fs::remove_dir_all(&root);
}

/// One load run of `make` at `connections`, printed as a table row.
async fn measure(ums: &Proc, what: &str, connections: usize, duration: Duration, make: load::MakeRequest) {
    let bench = std::process::id();
    let before = (ums.cpu_seconds(), procs::cpu_seconds(bench));
    let r: LoadResult = load::run(connections, duration, make).await;
    let per = |s: f64| s * 1e6 / r.ok.max(1) as f64;
    println!(
        "| {what} | {connections} | {:.0} | {:.3} | {:.3} | {} | {} | {:.0} | {:.0} |",
        r.throughput,
        r.p50_ms,
        r.p99_ms,
        r.ok,
        r.errors,
        per(ums.cpu_seconds() - before.0),
        per(procs::cpu_seconds(bench) - before.1),
    );
}

/// PUBLIC users in the service's store (`GET /users/count`).
async fn stored(client: &reqwest::Client, ums: &Proc) -> u64 {
    let response = client.get(format!("{}/users/count", ums.url)).send().await;
    check(response, "count the stored users")
        .await
        .as_u64()
        .unwrap_or_default()
}

/// Bytes of the files directly under `dir` (the SQLite database, its WAL, the provider's key).
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(std::fs::Metadata::is_file)
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or_default()
}
