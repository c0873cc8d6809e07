//! A closed-loop load generator: N concurrent workers repeat one request for a fixed time and
//! record each latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one load run measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// Requests completed with a 2xx.
    pub ok: u64,
    /// Requests that failed or answered non-2xx.
    pub errors: u64,
    /// Completed requests per second.
    pub throughput: f64,
    /// Latency percentiles in milliseconds: p50, p99.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
}

/// Builds the request of call number `i`.
pub type MakeRequest = Arc<dyn Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync>;

/// Runs `concurrency` workers for `duration`, each sending `make(i)` in a loop.
pub async fn run(concurrency: usize, duration: Duration, make: MakeRequest) -> LoadResult {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap_or_default();
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, make, counter) = (client.clone(), make.clone(), counter.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                while Instant::now() < deadline {
                    let i = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let t = Instant::now();
                    match make(&client, i).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            latencies.push(t.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        if let Ok((l, e)) = w.await {
            all.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let idx = ((all.len() as f64 * p) as usize).min(all.len() - 1);
        all[idx].as_secs_f64() * 1000.0
    };
    LoadResult {
        ok: all.len() as u64,
        errors,
        throughput: all.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}
