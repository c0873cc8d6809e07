//! The random fault middleware of both fakes: answers `GET`/`PUT /-/faults`, lets the other
//! `/-/` routes through untouched, and applies the picked fault to every data request.

use std::sync::Arc;
use std::time::Duration;

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::picker::{Chaos, FaultKind};
use super::serve::ConnectionKiller;

/// The admin route; never faulted.
const ADMIN_PATH: &str = "/-/faults";
/// Largest `PUT /-/faults` body.
const ADMIN_BODY_LIMIT: usize = 64 * 1024;

/// `PUT /-/faults` body: every field optional, absent ones unchanged.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultsUpdate {
    rate: Option<f64>,
    delay_ms: Option<u64>,
    kinds: Option<Vec<FaultKind>>,
    seed: Option<u64>,
}

/// The error body both fakes use: `{"statusCode","error","message"}`.
fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "statusCode": status.as_u16(),
        "error": status.canonical_reason().unwrap_or("Error"),
        "message": message,
    });
    (status, Json(body)).into_response()
}

fn injected_error(chaos: &Chaos, kind: FaultKind) -> Response {
    let message = format!("random fault injected by {} ({})", chaos.name(), kind.name());
    error(StatusCode::INTERNAL_SERVER_ERROR, &message)
}

/// Applies the random faults of `chaos` to data requests; serves `/-/faults`.
pub(crate) async fn layer(State(chaos): State<Arc<Chaos>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == ADMIN_PATH || path == "/-/faults/" {
        return admin(&chaos, request).await;
    }
    if path.starts_with("/-/") {
        return next.run(request).await;
    }
    let Some((kind, delay)) = chaos.pick(request.method().as_str(), path) else {
        return next.run(request).await;
    };
    let killer = request.extensions().get::<ConnectionKiller>().cloned();
    tracing::debug!(fake = chaos.name(), kind = kind.name(), path, "random fault");
    match kind {
        FaultKind::FailBefore => injected_error(&chaos, kind),
        FaultKind::FailAfter => {
            drop(apply_detached(next, request, Duration::ZERO).await);
            injected_error(&chaos, kind)
        }
        FaultKind::Delay => apply_detached(next, request, delay).await,
        FaultKind::DropBefore => drop_connection(killer, &chaos, kind).await,
        FaultKind::DropAfter => {
            drop(apply_detached(next, request, Duration::ZERO).await);
            drop_connection(killer, &chaos, kind).await
        }
    }
}

/// Waits `delay`, then runs the real handler in its own task: the request is applied even when
/// the client gives up meanwhile (hyper drops the handler of a closed connection), as a real
/// service applies a write whose caller timed out.
async fn apply_detached(next: Next, request: Request, delay: Duration) -> Response {
    let task = tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        next.run(request).await
    });
    match task.await {
        Ok(response) => response,
        Err(err) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("handler failed: {err}"),
        ),
    }
}

/// Has the connection closed without a response; never returns when it can. Served by another
/// server than [`super::serve`] (no [`ConnectionKiller`]), the request gets a 500 instead.
async fn drop_connection(killer: Option<ConnectionKiller>, chaos: &Chaos, kind: FaultKind) -> Response {
    match killer {
        Some(killer) => {
            killer.kill();
            std::future::pending::<()>().await;
            injected_error(chaos, kind)
        }
        None => {
            tracing::warn!(
                fake = chaos.name(),
                kind = kind.name(),
                "cannot drop a connection this server owns: answering 500"
            );
            injected_error(chaos, kind)
        }
    }
}

async fn admin(chaos: &Chaos, request: Request) -> Response {
    match *request.method() {
        Method::GET => Json(chaos.stats()).into_response(),
        Method::PUT => {
            let body = match to_bytes(request.into_body(), ADMIN_BODY_LIMIT).await {
                Ok(body) => body,
                Err(err) => return error(StatusCode::BAD_REQUEST, &format!("unreadable body: {err}")),
            };
            let update: FaultsUpdate = match serde_json::from_slice(&body) {
                Ok(update) => update,
                Err(err) => {
                    let message = format!(
                        "expected {{\"rate\": 0..1, \"delayMs\", \"kinds\": [failBefore|failAfter|delay|dropBefore|dropAfter], \"seed\"}}: {err}"
                    );
                    return error(StatusCode::BAD_REQUEST, &message);
                }
            };
            if update.rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
                return error(StatusCode::BAD_REQUEST, "rate must be between 0 and 1");
            }
            chaos.update(
                update.rate,
                update.delay_ms.map(Duration::from_millis),
                update.kinds.as_deref(),
                update.seed,
            );
            tracing::info!(fake = chaos.name(), settings = ?chaos.stats(), "random faults changed");
            Json(chaos.stats()).into_response()
        }
        _ => error(StatusCode::METHOD_NOT_ALLOWED, "GET or PUT /-/faults"),
    }
}
