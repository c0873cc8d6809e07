//! `auth0-fake`: runs the Auth0 Client fake as a standalone server (demos, benchmarks).
//!
//! Usage: `auth0-fake [--port N] [--host IP] [--rps N] [--rate-limit-all] [--import-delay-ms N]
//! [--website-client-type NAME] [--fault-rate 0.1] [--fault-delay-ms 1500] [--fault-seed 42]
//! [--fault-kinds dropAfter,...]` (random faults: see `ums_fakes::chaos`). Prints `auth0-fake listening on http://HOST:PORT` and serves
//! until SIGTERM or ctrl-c.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ums_fakes::auth0::Auth0Fake;
use ums_fakes::chaos::{RandomFaults, FAULT_FLAGS_USAGE};

const USAGE: &str = "usage: auth0-fake [--port N] [--host IP] [--rps N] [--rate-limit-all] \
                     [--import-delay-ms N] [--website-client-type NAME] ";

/// Parsed command line.
struct Args {
    host: IpAddr,
    port: u16,
    rps: Option<u32>,
    rate_limit_all: bool,
    import_delay_ms: Option<u64>,
    website_client_type: Option<String>,
    faults: RandomFaults,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        host: IpAddr::from([127, 0, 0, 1]),
        port: 0,
        rps: None,
        rate_limit_all: false,
        import_delay_ms: None,
        website_client_type: None,
        faults: RandomFaults::default(),
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => parsed.port = value("--port")?.parse().map_err(|e| format!("--port: {e}"))?,
            "--host" => parsed.host = value("--host")?.parse().map_err(|e| format!("--host: {e}"))?,
            "--rps" => parsed.rps = Some(value("--rps")?.parse().map_err(|e| format!("--rps: {e}"))?),
            "--rate-limit-all" => parsed.rate_limit_all = true,
            "--import-delay-ms" => {
                let ms = value("--import-delay-ms")?
                    .parse()
                    .map_err(|e| format!("--import-delay-ms: {e}"))?;
                parsed.import_delay_ms = Some(ms);
            }
            "--website-client-type" => parsed.website_client_type = Some(value("--website-client-type")?),
            "-h" | "--help" => return Err(format!("{USAGE}{FAULT_FLAGS_USAGE}")),
            flag if flag.starts_with("--fault-") => {
                let value = value(flag)?;
                if !parsed.faults.apply_flag(flag, &value)? {
                    return Err(format!("unknown argument '{flag}'\n{USAGE}{FAULT_FLAGS_USAGE}"));
                }
            }
            other => return Err(format!("unknown argument '{other}'\n{USAGE}{FAULT_FLAGS_USAGE}")),
        }
    }
    Ok(parsed)
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("cannot install the SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
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
    let mut builder = Auth0Fake::builder()
        .rate_limit(args.rps)
        .rate_limit_all_routes(args.rate_limit_all)
        .random_faults(args.faults);
    if let Some(ms) = args.import_delay_ms {
        builder = builder.import_delay(Duration::from_millis(ms));
    }
    if let Some(client_type) = args.website_client_type {
        builder = builder.website_client_type(client_type);
    }
    let fake = builder
        .build()
        .try_spawn_on(SocketAddr::new(args.host, args.port))
        .await
        .expect("cannot bind the listening address");
    println!("auth0-fake listening on {}", fake.uri());
    stop_signal().await;
    fake.shutdown().await;
}
