//! `ums-bench`: the service and its fakes as separate processes on loopback, measured in one
//! run. Build first: `cargo build --release --workspace --bins`, then
//! `target/release/ums-bench [--scenario NAME] [options]`.
//!
//! Scenarios (`--scenario`, default `all`, several may be given comma-separated):
//! - `list`: `GET /users/` through the service vs direct, and `POST /users/`
//!   (`--seconds N --concurrency C --rounds R`);
//! - `import`: `PATCH /users/import` of generated CSV files (`--import-rows 10000,100000`);
//! - `activation`: `POST /jobs/bulk-activation` of store users (`--activation-users 10000`);
//! - `change-password`: `POST /jobs/change-password/bulk` against an Auth0 fake limited to
//!   `--rps N` requests a second (`--change-password-users 1000`);
//! - `embedded`: the service alone in embedded mode (SQLite, local auth): startup, import of
//!   `--embedded-rows 100000`, then `GET /users/` and `POST /users/` at `--concurrency` and at 1
//!   and 2 connections (`--seconds N` a run; `--embedded-starts 3` empty-store startups);
//! - `export` (only when named): `GET /users/export` of `--embedded-rows` users in each format,
//!   each on a fresh embedded service, with its peak RSS;
//! - `scale` (only when named): `--embedded-rows` users (1000000 for issue #14) imported in
//!   embedded mode, then the latency of the Composer's queries and the export throughput;
//! - `proxy` (only when named): `GET /users/?_l=25` direct, through nginx and through the service,
//!   server side pinned to core 0 and `wrk` to core 1 (`--seconds`, `--rounds`, `--concurrency`);
//! - `chaos` (only when named, not part of `all`): random faults in both fakes
//!   (`--fault-rate 0.1`) and `--chaos-kills 3` SIGKILLs of the service during `--chaos-ops 2000`
//!   mixed user ops at `--concurrency` (default 8 here), seeded by `--chaos-seed 42`; then both
//!   systems audited before and after one reconcile pass. Exits 1 when an inconsistency remains.
//!
//! Each prints a Markdown section for BENCHMARKS.md.

mod jobs;
mod load;
mod procs;
mod scenarios;
mod stack;

/// Command-line options of every scenario.
pub struct Options {
    /// Scenarios to run, in order.
    pub scenarios: Vec<String>,
    /// `list`: seconds per measured run.
    pub seconds: u64,
    /// `list`: concurrent connections.
    pub concurrency: usize,
    /// `list`: rounds of direct and through runs.
    pub rounds: usize,
    /// `import`: rows of each generated file.
    pub import_rows: Vec<usize>,
    /// `activation`: store users to activate.
    pub activation_users: usize,
    /// `change-password`: auth users.
    pub change_password_users: usize,
    /// `change-password`: the Auth0 fake's limit and the service's ceiling (requests/s).
    pub rps: u32,
    /// `activation`, `change-password`: interval of the bench's `GET` of the job (ms).
    pub poll_ms: u64,
    /// `embedded`: rows of the imported file.
    pub embedded_rows: usize,
    /// `embedded`: startups measured on an empty `DATA_DIR`.
    pub embedded_starts: usize,
    /// `chaos`: mixed ops through the service.
    pub chaos_ops: u64,
    /// `chaos`: SIGKILLs of the service during the ops.
    pub chaos_kills: u64,
    /// `chaos`: share of the fakes' data requests faulted.
    pub fault_rate: f64,
    /// `chaos`: concurrent ops (`--concurrency`, default 8).
    pub chaos_concurrency: usize,
    /// `chaos`: seed of the op mix and of the fakes' fault pickers.
    pub chaos_seed: u64,
}

const USAGE: &str =
    "usage: ums-bench [--scenario all|list|import|activation|change-password|embedded|export|scale|proxy|chaos[,...]] \
[--seconds N] [--concurrency C] [--rounds R] [--import-rows 10000,100000] [--activation-users N] \
[--change-password-users N] [--rps N] [--poll-ms 100] [--embedded-rows 100000] [--embedded-starts 3] \
[--chaos-ops 2000] [--chaos-kills 3] [--fault-rate 0.1] [--chaos-seed 42]
(`all` runs every scenario but chaos, which runs only when named)";

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        std::process::exit(0);
    }
    let text = |name: &str| -> Option<String> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let value =
        |name: &str, default: u64| -> u64 { text(name).and_then(|v| v.parse().ok()).unwrap_or(default) };
    let list = |name: &str, default: &str| -> Vec<String> {
        text(name)
            .unwrap_or_else(|| default.to_owned())
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let mut scenarios = list("--scenario", "all");
    if scenarios.iter().any(|s| s == "all") {
        scenarios = scenarios::NAMES.iter().map(|s| (*s).to_owned()).collect();
    }
    let known = |s: &String| scenarios::NAMES.contains(&s.as_str()) || scenarios::EXTRA.contains(&s.as_str());
    if let Some(unknown) = scenarios.iter().find(|s| !known(s)) {
        eprintln!("unknown scenario {unknown}\n{USAGE}");
        std::process::exit(2);
    }
    Options {
        scenarios,
        seconds: value("--seconds", 5),
        concurrency: value("--concurrency", 16) as usize,
        rounds: value("--rounds", 3) as usize,
        import_rows: list("--import-rows", "10000,100000")
            .iter()
            .filter_map(|v| v.parse().ok())
            .collect(),
        activation_users: value("--activation-users", 10_000) as usize,
        change_password_users: value("--change-password-users", 1_000) as usize,
        rps: u32::try_from(value("--rps", 10)).unwrap_or(10).max(1),
        poll_ms: value("--poll-ms", 100).max(1),
        embedded_rows: value("--embedded-rows", 100_000) as usize,
        embedded_starts: value("--embedded-starts", 3).max(1) as usize,
        chaos_ops: value("--chaos-ops", 2000),
        chaos_kills: value("--chaos-kills", 3),
        fault_rate: text("--fault-rate")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|r| (0.0..=1.0).contains(r))
            .unwrap_or(0.1),
        chaos_concurrency: value("--concurrency", 8).max(1) as usize,
        chaos_seed: value("--chaos-seed", 42),
    }
}

#[tokio::main]
async fn main() {
    let opts = options();
    let mut passed = true;
    for name in &opts.scenarios {
        println!("## scenario `{name}`");
        println!();
        passed &= scenarios::run(name, &opts).await;
        println!();
    }
    if !passed {
        std::process::exit(1);
    }
}
