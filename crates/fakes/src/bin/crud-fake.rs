//! `crud-fake`: the in-memory Mia-Platform CRUD Service fake as a separate process, for
//! benchmarks and demos.
//!
//! ```text
//! crud-fake [--port N] [--collection /users:email,username]... [--index /users:authUserId]...
//!           [--default-state PUBLIC|DRAFT] [--user-id-header miauserid]
//!           [--fault-rate 0.1] [--fault-delay-ms 1500] [--fault-seed 42] [--fault-kinds dropAfter,...]
//! ```
//! `--collection` takes a path and its unique fields; `--index` adds plain (lookup-only) indexes
//! to a collection. Without `--collection`: `/users:email,username` (index `authUserId`),
//! `/ums-config:userGroup`, `/roles:roleId`, `/jobs`. The `--fault-*` flags start it with random
//! faults (see `ums_fakes::chaos`; changeable at runtime with `PUT /-/faults`).
//! Prints `crud-fake listening on http://127.0.0.1:PORT` and serves until SIGTERM or ctrl-c.

use std::io::Write;
use std::net::SocketAddr;

use ums_fakes::chaos::{RandomFaults, FAULT_FLAGS_USAGE};
use ums_fakes::crud::{CollectionConfig, CrudFake, State};

const USAGE: &str = "usage: crud-fake [--port N] [--collection /path[:unique1,unique2]]... \
[--index /path:field1,field2]... [--default-state PUBLIC|DRAFT|TRASH|DELETED] [--user-id-header NAME] ";

struct Args {
    port: u16,
    fake: CrudFake,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut port = 0;
    let mut builder = CrudFake::builder();
    let mut any_collection = false;
    let mut indexes = Vec::new();
    let mut faults = RandomFaults::default();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        if flag == "--help" || flag == "-h" {
            return Err(format!("{USAGE}{FAULT_FLAGS_USAGE}"));
        }
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}{FAULT_FLAGS_USAGE}"))?;
        if faults.apply_flag(&flag, &value)? {
            continue;
        }
        match flag.as_str() {
            "--port" => port = value.parse().map_err(|_| format!("invalid port: {value}"))?,
            "--collection" => {
                let (path, unique) = value.split_once(':').unwrap_or((value.as_str(), ""));
                let fields: Vec<&str> = unique.split(',').filter(|f| !f.is_empty()).collect();
                builder = builder.collection_config(CollectionConfig::new(path).unique(&fields));
                any_collection = true;
            }
            "--index" => {
                let (path, fields) = value
                    .split_once(':')
                    .ok_or_else(|| format!("--index needs /path:field[,field]: {value}"))?;
                indexes.push((path.to_owned(), fields.to_owned()));
            }
            "--default-state" => {
                let state = State::parse(&value).ok_or_else(|| format!("invalid state: {value}"))?;
                builder = builder.default_state(state);
            }
            "--user-id-header" => builder = builder.user_id_header(&value),
            other => return Err(format!("unknown argument: {other}\n{USAGE}{FAULT_FLAGS_USAGE}")),
        }
    }
    if !any_collection {
        builder = builder
            .collection("/users", &["email", "username"])
            .index("/users", &["authUserId"])
            .collection("/ums-config", &["userGroup"])
            .collection("/roles", &["roleId"])
            .collection("/jobs", &[]);
    }
    for (path, fields) in &indexes {
        let fields: Vec<&str> = fields.split(',').filter(|f| !f.is_empty()).collect();
        builder = builder.index(path, &fields);
    }
    Ok(Args {
        port,
        fake: builder.random_faults(faults).build(),
    })
}

async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                tokio::select! {
                    _ = sigterm.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let running = args
        .fake
        .spawn_on(addr)
        .await
        .unwrap_or_else(|err| panic!("crud-fake: cannot bind {addr}: {err}"));
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "crud-fake listening on {}", running.uri());
    let _ = stdout.flush();
    terminated().await;
    running.shutdown().await;
}
