//! Child processes of a benchmark run: the service and the fakes, on free loopback ports,
//! killed when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed on drop.
pub struct Proc {
    /// The OS process.
    pub child: Child,
    /// Its base URL.
    pub url: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// SIGKILL (no graceful shutdown: in-flight work is cut wherever it is), then reaps it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The port of its base URL.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// Resident set size in KiB, from /proc.
    pub fn rss_kib(&self) -> Option<u64> {
        read_status_kib(self.child.id(), "VmRSS:")
    }

    /// CPU time (user + system) used so far, in seconds, from /proc.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(self.child.id())
    }

    /// Peak resident set size in KiB, from /proc.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        read_status_kib(self.child.id(), "VmHWM:")
    }
}

fn read_status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// The directory of the release binaries (`target/release` next to the workspace).
pub fn bin_dir() -> PathBuf {
    let here = std::env::current_exe().unwrap_or_default();
    here.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The variables whose presence selects the service's CRUD mode (all absent: embedded mode).
const MODE_VARS: [&str; 3] = ["USERS_CRUD_ENDPOINT", "UMS_CONFIG_CRUD_ENDPOINT", "AUTH_SERVICE"];

/// Where a process's stdout goes: appended to `$UMS_BENCH_LOGS/<name>.log` when that variable
/// names a directory (to read the service's logs after a run), else nowhere.
fn log_file(name: &str) -> Stdio {
    let Some(dir) = std::env::var_os("UMS_BENCH_LOGS") else {
        return Stdio::null();
    };
    let path = Path::new(&dir).join(format!("{name}.log"));
    match std::fs::OpenOptions::new().create(true).append(true).open(&path) {
        Ok(file) => Stdio::from(file),
        Err(e) => {
            eprintln!("cannot write {}: {e}", path.display());
            Stdio::null()
        }
    }
}

/// Starts `name` from `bin_dir()` with `args` and `envs` (on top of the bench's environment,
/// less [`MODE_VARS`]), waits until `ready_path` answers 200.
pub async fn start(
    name: &str,
    args: &[String],
    envs: &[(String, String)],
    port: u16,
    ready_path: &str,
) -> (Proc, Duration) {
    let started = Instant::now();
    let mut command = Command::new(bin_dir().join(name));
    // The service's mode comes from `envs` only, never from the bench's own environment.
    for var in MODE_VARS {
        command.env_remove(var);
    }
    let child = command
        .args(args)
        .envs(envs.iter().cloned())
        .stdout(log_file(name))
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {name} (build it first: cargo build --release --workspace --bins): {e}")
        });
    let url = format!("http://127.0.0.1:{port}");
    let proc = Proc { child, url };
    let client = reqwest::Client::new();
    for _ in 0..500 {
        if let Ok(r) = client.get(format!("{}{ready_path}", proc.url)).send().await {
            if r.status().is_success() {
                return (proc, started.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{name} did not become ready");
}

/// CPU time (user + system) of process `pid` in seconds (clock ticks of 1/100 s).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
