//! Entry point: logs, configuration, build, serve until SIGTERM or Ctrl-C.

use std::process::ExitCode;

use user_manager_service::config::Config;
use user_manager_service::startup::Application;
use user_manager_service::telemetry;

/// mimalloc: glibc's allocator showed arena-lock contention under load (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("invalid configuration: {e}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(config.log_level, std::io::stdout);
    let mode = if config.is_embedded() { "embedded" } else { "crud" };
    tracing::info!(
        mode,
        port = config.http_port,
        "starting user-manager-service in {mode} mode"
    );
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error.message = %e, "startup failed");
            eprintln!("startup failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let token = app.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown signal received: finishing in-flight requests");
        token.cancel();
    });
    tracing::info!(port = app.port(), "listening");
    match app.run_until_stopped().await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error.message = %e, "server error");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
