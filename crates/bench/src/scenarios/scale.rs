//! `scale`: the embedded store at `--embedded-rows` users (1,000,000 for issue #14): import time
//! and peak RSS, then the latency of the Composer's queries at one connection (sorted page,
//! filtered page, filtered count, equality on a non-unique field, an anchored `$regex`, an `_id`
//! lookup) and the NDJSON export throughput.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;

use super::import::{count, upload, write_csv};
use crate::load;
use crate::stack::{mib, start_embedded_service};
use crate::Options;

/// Distinct cities and surnames among the users (a filter on one matches rows / this many).
const CITIES: usize = 10_000;
const SURNAMES: usize = 1_000;
/// Rows per imported file.
const CHUNK: usize = 250_000;

/// Runs the scenario and prints its section.
pub async fn run(opts: &Options) {
    let root = std::env::temp_dir().join(format!("ums-bench-scale-{}", std::process::id()));
    let dir = root.join("store");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let rows = opts.embedded_rows;
    let header = "userGroup,name,surname,email,address.city";
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3600))
        .build()
        .unwrap_or_default();
    let (ums, _) = start_embedded_service(&dir).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cpu_before = ums.cpu_seconds();
    // Files of at most CHUNK rows (IMPORT_MAX_FILE_BYTES is 50 MB by default).
    let (mut elapsed, mut inserted, mut invalid, mut file_bytes) = (Duration::ZERO, 0, 0, 0);
    let mut statuses = Vec::new();
    for first in (0..rows).step_by(CHUNK) {
        let n = CHUNK.min(rows - first);
        let csv = root.join(format!("scale-{first}.csv"));
        let bytes = write_csv(&csv, header, n, |out: &mut dyn Write, j| {
            let i = first + j;
            // Names are not in insertion order, so a sorted page is not the first rows read.
            let name = (i * 7_919) % rows.max(1);
            writeln!(
                out,
                "customer,n{name:07},s{},scale-{i:07}@bench.example.com,c{}",
                i % SURNAMES,
                i % CITIES
            )
        })
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", csv.display()));
        let (status, took, body) = upload(&client, &ums.url, &csv, bytes).await;
        let _ = std::fs::remove_file(&csv);
        statuses.push(status);
        elapsed += took;
        inserted += count(&body, "inserted");
        invalid += count(&body, "invalid");
        file_bytes += bytes;
        eprintln!("scale: {} rows imported", first + n);
    }
    statuses.dedup();
    println!(
        "Embedded mode, {rows} `customer` users imported from CSV files of {CHUNK} rows ({:.1} MB in all).",
        file_bytes as f64 / 1e6
    );
    println!();
    println!("| import statuses | time (s) | rows/s | inserted | invalid | service CPU | service peak RSS |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {statuses:?} | {:.1} | {:.0} | {inserted} | {invalid} | {:.1} s | {:.1} MiB |",
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64().max(1e-9),
        ums.cpu_seconds() - cpu_before,
        mib(ums.peak_rss_kib().unwrap_or_default()),
    );
    println!();
    // The group's declared fields are indexed in the background after startup: wait for them.
    let url = ums.url.clone();
    let probe = format!("{url}/users/?_s=address.city&_l=1");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(600) {
        let t = Instant::now();
        let ok = client
            .get(&probe)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok && t.elapsed() < Duration::from_millis(50) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let some_id = client
        .get(format!("{url}/users/?_l=1&_sk={}", rows / 2))
        .send()
        .await
        .ok();
    let some_id = match some_id {
        Some(r) => r.json::<serde_json::Value>().await.ok(),
        None => None,
    };
    let some_id = some_id
        .and_then(|v| v[0]["_id"].as_str().map(str::to_owned))
        .unwrap_or_default();

    let duration = Duration::from_secs(opts.seconds);
    println!("One connection, {} s a query; latency in ms.", opts.seconds);
    println!();
    println!("| query | answers (first call) | throughput (req/s) | p50 (ms) | p99 (ms) | errors |");
    println!("|---|---|---|---|---|---|");
    let enc = |q: &str| -> String { q.bytes().map(|b| format!("%{b:02X}")).collect() };
    let queries = [
        ("sorted page `_s=name&_l=25`", "/users/?_s=name&_l=25".to_owned()),
        (
            "sorted page, descending, deep `_s=-name&_sk=5000&_l=25`",
            "/users/?_s=-name&_sk=5000&_l=25".to_owned(),
        ),
        (
            "filtered page `_q={\"address.city\":\"c7\"}&_l=25`",
            format!("/users/?_q={}&_l=25", enc(r#"{"address.city":"c7"}"#)),
        ),
        (
            "filtered count `count?_q={\"address.city\":\"c7\"}`",
            format!("/users/count?_q={}", enc(r#"{"address.city":"c7"}"#)),
        ),
        (
            "equality, non-unique `_q={\"surname\":\"s12\"}&_l=25`",
            format!("/users/?_q={}&_l=25", enc(r#"{"surname":"s12"}"#)),
        ),
        (
            "anchored regex `_q={\"name\":{\"$regex\":\"^n00123\"}}&_l=25`",
            format!("/users/?_q={}&_l=25", enc(r#"{"name":{"$regex":"^n00123"}}"#)),
        ),
        (
            "filtered and sorted `_q={\"surname\":\"s12\"}&_s=-name&_l=25`",
            format!("/users/?_q={}&_s=-name&_l=25", enc(r#"{"surname":"s12"}"#)),
        ),
        ("`_id` lookup `GET /users/{id}`", format!("/users/{some_id}")),
    ];
    for (what, path) in queries {
        let target = format!("{url}{path}");
        let first = client.get(&target).send().await;
        let answered = match first {
            Ok(r) => {
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                let n = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .map(|v| {
                        v.as_array().map_or_else(
                            || v.to_string().chars().take(12).collect(),
                            |a| format!("{} docs", a.len()),
                        )
                    })
                    .unwrap_or_default();
                format!("{status}, {n}")
            }
            Err(e) => format!("error {e}"),
        };
        let make: load::MakeRequest = Arc::new(move |c: &reqwest::Client, _| c.get(&target));
        let result = load::run(1, duration, make).await;
        println!(
            "| {what} | {answered} | {:.0} | {:.2} | {:.2} | {} |",
            result.throughput, result.p50_ms, result.p99_ms, result.errors
        );
    }
    println!();

    let started = Instant::now();
    let mut bytes = 0usize;
    let mut lines = 0usize;
    match client.get(format!("{url}/users/export")).send().await {
        Ok(response) => {
            let mut body = response.bytes_stream();
            while let Some(Ok(chunk)) = body.next().await {
                bytes += chunk.len();
                lines += chunk.iter().filter(|b| **b == b'\n').count();
            }
        }
        Err(e) => eprintln!("export failed: {e}"),
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "NDJSON export: {lines} users, {:.1} MB in {secs:.1} s ({:.0} users/s). Service peak RSS over the run: {:.1} MiB.",
        bytes as f64 / 1e6,
        lines as f64 / secs.max(1e-9),
        mib(ums.peak_rss_kib().unwrap_or_default()),
    );
    drop(ums);
    let _ = std::fs::remove_dir_all(&root);
}
