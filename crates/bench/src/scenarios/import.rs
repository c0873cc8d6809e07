//! `import`: `PATCH /users/import` of generated CSV files (`userGroup,name,email,age`, unique
//! emails, about 100 bytes a row), each streamed from disk in a multipart `file` part to a fresh
//! service (and fresh fakes), so the service's peak RSS (`VmHWM`) belongs to that import.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::AsyncReadExt;

use crate::stack::{check, mib, seed_group, start_fakes, start_service};
use crate::Options;

/// What one import measured.
struct Measured {
    rows: usize,
    file_bytes: u64,
    elapsed: Duration,
    status: u16,
    inserted: usize,
    updated: usize,
    invalid: usize,
    first_invalid: Option<String>,
    stored: u64,
    idle_rss_kib: u64,
    peak_rss_kib: u64,
    service_cpu: f64,
    crud_cpu: f64,
    crud_peak_rss_kib: u64,
}

/// Runs the scenario and prints its section.
pub async fn run(opts: &Options) {
    let dir = std::env::temp_dir().join(format!("ums-bench-import-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    let mut results = Vec::new();
    for &rows in &opts.import_rows {
        let path = dir.join(format!("customers-{rows}.csv"));
        let file_bytes =
            write_customers(&path, rows).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        eprintln!("import: {rows} rows, {file_bytes} bytes");
        results.push(measure(&path, rows, file_bytes).await);
        let _ = std::fs::remove_file(&path);
    }
    let _ = std::fs::remove_dir_all(&dir);
    report(&results);
}

/// Writes `rows` users of the `customer` group; returns the file size.
fn write_customers(path: &Path, rows: usize) -> std::io::Result<u64> {
    let run = std::process::id();
    write_csv(path, "userGroup,name,email,age", rows, |out, i| {
        writeln!(
            out,
            "customer,Benchmark Customer {i:07} of the CSV import,import-{run}-{i:07}@bench.example.com,{}",
            18 + i % 70
        )
    })
}

/// Writes `header` then `rows` lines, line `i` written by `row`; returns the file size.
pub(crate) fn write_csv(
    path: &Path,
    header: &str,
    rows: usize,
    mut row: impl FnMut(&mut dyn Write, usize) -> std::io::Result<()>,
) -> std::io::Result<u64> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(out, "{header}")?;
    for i in 0..rows {
        row(&mut out, i)?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// The file as a multipart part streamed in 64 KiB chunks (never read whole into memory).
async fn file_part(path: &Path, len: u64) -> reqwest::multipart::Part {
    let file = tokio::fs::File::open(path)
        .await
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let chunks = futures::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(chunks), len)
        .file_name(name)
        .mime_str("text/csv")
        .unwrap_or_else(|e| panic!("text/csv: {e}"))
}

async fn measure(path: &Path, rows: usize, file_bytes: u64) -> Measured {
    let fakes = start_fakes(&[]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap_or_default();
    seed_group(&client, &fakes.crud).await;
    let (ums, _) = start_service(&fakes, &[]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_rss_kib = ums.rss_kib().unwrap_or_default();
    let cpu_before = (ums.cpu_seconds(), fakes.crud.cpu_seconds());
    let (status, elapsed, body) = upload(&client, &ums.url, path, file_bytes).await;
    let count = |key: &str| count(&body, key);
    let stored = check(
        client
            .get(format!("{}/users/count", fakes.crud.url))
            .query(&[("_st", "PUBLIC")])
            .send()
            .await,
        "count the stored users",
    )
    .await;
    Measured {
        rows,
        file_bytes,
        elapsed,
        status,
        inserted: count("inserted"),
        updated: count("updated"),
        invalid: count("invalid"),
        first_invalid: body["invalid"].get(0).map(Value::to_string),
        stored: stored.as_u64().unwrap_or_default(),
        idle_rss_kib,
        peak_rss_kib: ums.peak_rss_kib().unwrap_or_default(),
        service_cpu: ums.cpu_seconds() - cpu_before.0,
        crud_cpu: fakes.crud.cpu_seconds() - cpu_before.1,
        crud_peak_rss_kib: fakes.crud.peak_rss_kib().unwrap_or_default(),
    }
}

/// Sends the file at `path` (`len` bytes) to `PATCH {base}/users/import`; returns the status,
/// the time from sending to the end of the answer, and the answer's JSON.
pub(crate) async fn upload(
    client: &reqwest::Client,
    base: &str,
    path: &Path,
    len: u64,
) -> (u16, Duration, Value) {
    let form = reqwest::multipart::Form::new().part("file", file_part(path, len).await);
    let started = Instant::now();
    let response = client
        .patch(format!("{base}/users/import"))
        .multipart(form)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PATCH /users/import: {e}"));
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let elapsed = started.elapsed();
    if status != 200 {
        eprintln!(
            "import answered {status}: {}",
            text.chars().take(500).collect::<String>()
        );
    }
    (
        status,
        elapsed,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// How many entries the import answer lists under `key` (`inserted`, `updated`, `invalid`).
pub(crate) fn count(body: &Value, key: &str) -> usize {
    body[key].as_array().map_or(0, Vec::len)
}

/// The target of a size: 3 s for 10,000 rows, 30 s for 100,000 (SPEC §8); none otherwise.
fn target(rows: usize) -> Option<f64> {
    match rows {
        10_000 => Some(3.0),
        100_000 => Some(30.0),
        _ => None,
    }
}

fn report(results: &[Measured]) {
    println!("| rows | file | status | time (s) | rows/s | inserted | invalid | stored in the fake | service peak RSS | time target |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for m in results {
        let secs = m.elapsed.as_secs_f64();
        let verdict = target(m.rows).map_or_else(
            || "—".to_owned(),
            |t| format!("< {t:.0} s: {}", if secs < t { "met" } else { "**not met**" }),
        );
        println!(
            "| {} | {:.1} MB | {} | {secs:.2} | {:.0} | {} ({:.1}%) | {} | {} | {:.1} MiB | {verdict} |",
            m.rows,
            m.file_bytes as f64 / 1e6,
            m.status,
            m.rows as f64 / secs.max(1e-9),
            m.inserted,
            m.inserted as f64 * 100.0 / m.rows.max(1) as f64,
            m.invalid,
            m.stored,
            mib(m.peak_rss_kib),
        );
    }
    println!();
    for m in results {
        println!(
            "{} rows: service idle RSS before the import {:.1} MiB, peak {:.1} MiB (target < 100 MB: {}); CPU during the import: service {:.2} s, CRUD fake {:.2} s (CRUD fake peak RSS {:.1} MiB); updated {}{}",
            m.rows,
            mib(m.idle_rss_kib),
            mib(m.peak_rss_kib),
            if (m.peak_rss_kib as f64) * 1024.0 < 100e6 { "met" } else { "**not met**" },
            m.service_cpu,
            m.crud_cpu,
            mib(m.crud_peak_rss_kib),
            m.updated,
            m.first_invalid
                .as_ref()
                .map(|e| format!("; first invalid row: {e}"))
                .unwrap_or_default(),
        );
    }
}
