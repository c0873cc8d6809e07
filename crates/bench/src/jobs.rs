//! Following a bulk job of the service until it ends.

use std::time::{Duration, Instant};

use serde_json::Value;

/// How a followed job ended.
pub struct Finished {
    /// The last report (`GET /jobs/.../{id}`).
    pub report: Value,
    /// From the creation request to the first report with a final status.
    pub elapsed: Duration,
    /// False when `timeout` ran out first.
    pub done: bool,
}

/// Polls `url` every `every` until `status` is `completed` or `failed`, or `timeout` has passed
/// since `started`. Prints the progress every few seconds to stderr.
pub async fn follow(
    client: &reqwest::Client,
    url: &str,
    started: Instant,
    every: Duration,
    timeout: Duration,
) -> Finished {
    let mut report = Value::Null;
    let mut last_print = Instant::now();
    loop {
        if let Ok(response) = client.get(url).send().await {
            if response.status().is_success() {
                report = response.json().await.unwrap_or(Value::Null);
            }
        }
        let status = report["status"].as_str().unwrap_or_default();
        if matches!(status, "completed" | "failed") {
            return Finished {
                report,
                elapsed: started.elapsed(),
                done: true,
            };
        }
        if started.elapsed() > timeout {
            return Finished {
                report,
                elapsed: started.elapsed(),
                done: false,
            };
        }
        if last_print.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "  {:.0} s: {status}, progress {}",
                started.elapsed().as_secs_f64(),
                report["progress"]
            );
            last_print = Instant::now();
        }
        tokio::time::sleep(every).await;
    }
}
