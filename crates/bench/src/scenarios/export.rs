//! `export`: `GET /users/export` of `--embedded-rows` users in each format (NDJSON, JSON, CSV,
//! Excel), each on a freshly started embedded service over the same store, so that the peak RSS
//! (`VmHWM`) of each row is that export's alone. The body is read and counted, never kept.

use std::io::Write;
use std::time::{Duration, Instant};

use futures::StreamExt;

use super::import::{upload, write_csv};
use crate::stack::{mib, start_embedded_service};
use crate::Options;

const FORMATS: [&str; 4] = [
    "application/x-ndjson",
    "application/json",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];

/// Runs the scenario and prints its section.
pub async fn run(opts: &Options) {
    let root = std::env::temp_dir().join(format!("ums-bench-export-{}", std::process::id()));
    let dir = root.join("store");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let rows = opts.embedded_rows;
    let csv = root.join(format!("customers-{rows}.csv"));
    let file_bytes = write_csv(
        &csv,
        "userGroup,name,surname,email",
        rows,
        |out: &mut dyn Write, i| {
            writeln!(
                out,
                "customer,Export Customer {i:07},Benchmark,export-{i:07}@bench.example.com"
            )
        },
    )
    .unwrap_or_else(|e| panic!("cannot write {}: {e}", csv.display()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(1800))
        .build()
        .unwrap_or_default();
    {
        let (ums, _) = start_embedded_service(&dir).await;
        let (status, elapsed, _) = upload(&client, &ums.url, &csv, file_bytes).await;
        eprintln!(
            "export: imported {rows} rows ({status}) in {:.1} s",
            elapsed.as_secs_f64()
        );
    }
    let _ = std::fs::remove_file(&csv);

    println!("`GET /users/export` of {rows} users, embedded mode, one fresh service per format.");
    println!();
    println!("| Accept | status | seconds | body bytes | RSS before | peak RSS (VmHWM) |");
    println!("|---|---|---|---|---|---|");
    for accept in FORMATS {
        let (ums, _) = start_embedded_service(&dir).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = ums.rss_kib().unwrap_or_default();
        let started = Instant::now();
        let response = client
            .get(format!("{}/users/export", ums.url))
            .header("accept", accept)
            .send()
            .await;
        let (status, bytes) = match response {
            Ok(response) => {
                let status = response.status().as_u16();
                let mut body = response.bytes_stream();
                let mut bytes = 0u64;
                while let Some(Ok(chunk)) = body.next().await {
                    bytes += chunk.len() as u64;
                }
                (status, bytes)
            }
            Err(e) => {
                eprintln!("export: {accept}: {e}");
                (0, 0)
            }
        };
        let secs = started.elapsed().as_secs_f64();
        let peak = ums.peak_rss_kib().unwrap_or_default();
        println!(
            "| `{accept}` | {status} | {secs:.2} | {bytes} | {:.1} MiB | {:.1} MiB |",
            mib(before),
            mib(peak)
        );
    }
    let _ = std::fs::remove_dir_all(&root);
    println!();
}
