//! `proxy`: the cost of the proxy hop. `GET /users/?_l=25` on the CRUD fake (1,000 users) three
//! ways in one run — direct, through nginx (`nginx-light`, one worker, upstream keepalive), and
//! through the service — with the server side (fake, nginx, service) pinned to core 0 and `wrk`
//! pinned to core 1 (`taskset`). Prints throughput, latency and server CPU per request. Without
//! nginx or wrk on the PATH it says so and skips.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::procs::{self, free_port};
use crate::stack::{seed_group, seed_users, start_fakes, start_service};
use crate::Options;

/// Runs the scenario and prints its section.
pub async fn run(opts: &Options) {
    for tool in ["nginx", "wrk", "taskset"] {
        if which(tool).is_none() {
            println!(
                "Skipped: `{tool}` is not installed (Debian: `apt-get install nginx-light wrk util-linux`)."
            );
            println!();
            return;
        }
    }
    let fakes = start_fakes(&[]).await;
    let client = reqwest::Client::new();
    seed_group(&client, &fakes.crud).await;
    let users: Vec<_> = (0..1000)
        .map(|i| json!({"userGroup": "customer", "name": format!("user {i}"), "email": format!("p{i}@example.com"), "__STATE__": "PUBLIC"}))
        .collect();
    seed_users(&client, &fakes.crud, &users, 1000).await;
    let (ums, _) = start_service(&fakes, &[]).await;
    let root = std::env::temp_dir().join(format!("ums-bench-proxy-{}", std::process::id()));
    let nginx_port = free_port();
    let mut nginx = start_nginx(&root, nginx_port, fakes.crud.port());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server_side: Vec<u32> = [fakes.crud.child.id(), ums.child.id(), nginx.id()]
        .into_iter()
        .chain(children(nginx.id()))
        .collect();
    for pid in &server_side {
        pin(*pid, "0");
    }

    let path = "/users/?_l=25";
    let targets = [
        (
            "direct (CRUD fake)",
            fakes.crud.url.clone(),
            vec![fakes.crud.child.id()],
        ),
        (
            "nginx → CRUD fake",
            format!("http://127.0.0.1:{nginx_port}"),
            [fakes.crud.child.id(), nginx.id()]
                .into_iter()
                .chain(children(nginx.id()))
                .collect(),
        ),
        (
            "service → CRUD fake",
            ums.url.clone(),
            vec![fakes.crud.child.id(), ums.child.id()],
        ),
    ];
    println!(
        "`GET {path}`, 1,000 users in the CRUD fake; server side pinned to core 0, `wrk -t1 -c{}` pinned to core 1, {} s a run, {} rounds (best round shown).",
        opts.concurrency, opts.seconds, opts.rounds
    );
    println!();
    println!(
        "| path | throughput (req/s) | vs direct | vs nginx | p50 latency | server CPU per request (µs) |"
    );
    println!("|---|---|---|---|---|---|");
    let mut best: Vec<(f64, String, f64)> = vec![(0.0, String::new(), 0.0); targets.len()];
    for _ in 0..opts.rounds.max(1) {
        for (i, (_, url, pids)) in targets.iter().enumerate() {
            let before: f64 = pids.iter().map(|p| procs::cpu_seconds(*p)).sum();
            let (rps, p50, requests) = wrk(&format!("{url}{path}"), opts.concurrency, opts.seconds);
            let cpu: f64 = pids.iter().map(|p| procs::cpu_seconds(*p)).sum::<f64>() - before;
            if rps > best[i].0 {
                best[i] = (rps, p50, cpu * 1e6 / requests.max(1.0));
            }
        }
    }
    let (direct, via_nginx) = (best[0].0.max(1e-9), best[1].0.max(1e-9));
    for ((name, _, _), (rps, p50, cpu)) in targets.iter().zip(&best) {
        println!(
            "| {name} | {rps:.0} | {:.2} × | {:.2} × | {p50} | {cpu:.0} |",
            rps / direct,
            rps / via_nginx
        );
    }
    println!();
    let _ = nginx.kill();
    let _ = nginx.wait();
    let _ = Command::new("nginx")
        .args([
            "-p",
            &root.display().to_string(),
            "-c",
            "nginx.conf",
            "-s",
            "stop",
        ])
        .stderr(Stdio::null())
        .status();
    drop(ums);
    let _ = std::fs::remove_dir_all(&root);
}

/// `wrk` pinned to core 1: (requests/s, p50 latency as printed, requests).
fn wrk(url: &str, connections: usize, seconds: u64) -> (f64, String, f64) {
    let output = Command::new("taskset")
        .args([
            "-c",
            "1",
            "wrk",
            "-t1",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            url,
        ])
        .output();
    let text = output
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let field = |prefix: &str| -> Option<String> {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
    };
    let rps = field("Requests/sec:").and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let p50 = field("50%").unwrap_or_default();
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    (rps, p50, requests)
}

/// nginx in the foreground with one worker, proxying to the CRUD fake with keepalive.
fn start_nginx(root: &Path, port: u16, upstream: u16) -> Child {
    std::fs::create_dir_all(root.join("logs"))
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", root.display()));
    let conf = format!(
        "worker_processes 1;\ndaemon off;\nerror_log {root}/logs/error.log;\npid {root}/nginx.pid;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n\
           fastcgi_temp_path {root}/fastcgi;\n  uwsgi_temp_path {root}/uwsgi;\n  scgi_temp_path {root}/scgi;\n\
           upstream crud {{ server 127.0.0.1:{upstream}; keepalive 64; }}\n\
           server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://crud; proxy_http_version 1.1; proxy_set_header Connection \"\"; }} }}\n}}\n",
        root = root.display()
    );
    std::fs::write(root.join("nginx.conf"), conf).unwrap_or_else(|e| panic!("cannot write nginx.conf: {e}"));
    Command::new("nginx")
        .args(["-p", &root.display().to_string(), "-c", "nginx.conf"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start nginx: {e}"))
}

/// Pins every thread of `pid` to `cores`.
fn pin(pid: u32, cores: &str) {
    let _ = Command::new("taskset")
        .args(["-a", "-p", "-c", cores, &pid.to_string()])
        .stdout(Stdio::null())
        .status();
}

/// The child processes of `pid` (nginx's worker).
fn children(pid: u32) -> Vec<u32> {
    let path = format!("/proc/{pid}/task/{pid}/children");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|p| p.is_file())
    })
}
