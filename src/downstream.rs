//! Outbound HTTP shared by the HTTP adapters: the one `reqwest::Client`, the classification of
//! an upstream's answer into a [`Failure`] (the only place that reads a downstream status), header
//! forwarding and per-call metrics.

use std::time::{Duration, Instant};

use reqwest::{RequestBuilder, Response};

use crate::context::CallContext;
pub use crate::failure::{CallName, Cause, Failure};

/// Builds the single HTTP client of the process: every outbound call times out.
pub fn build_http_client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("user-manager-service/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// One downstream service: the shared client, its name and its base URL.
#[derive(Clone, Debug)]
pub struct Endpoint {
    client: reqwest::Client,
    service: &'static str,
    base: String,
}

impl Endpoint {
    /// `service` (for errors and metrics) at `base_url` (a trailing slash is ignored).
    pub fn new(client: reqwest::Client, service: &'static str, base_url: impl Into<String>) -> Self {
        let base = base_url.into().trim_end_matches('/').to_owned();
        Self {
            client,
            service,
            base,
        }
    }

    /// Names a call on `route` and starts its request to `path` with the forwarded headers.
    pub fn start(
        &self,
        ctx: &CallContext,
        method: reqwest::Method,
        route: &str,
        path: &str,
    ) -> (CallName, RequestBuilder) {
        let name = method_name(&method);
        let builder = self.client.request(method, format!("{}{}", self.base, path));
        (
            CallName::new(self.service, name, route),
            forward_headers(builder, ctx),
        )
    }
}

fn method_name(method: &reqwest::Method) -> &'static str {
    match *method {
        reqwest::Method::GET => "GET",
        reqwest::Method::POST => "POST",
        reqwest::Method::PATCH => "PATCH",
        reqwest::Method::PUT => "PUT",
        reqwest::Method::DELETE => "DELETE",
        _ => "HTTP",
    }
}

/// Adds the forwarded headers of `ctx` (and nothing else) to an outbound request.
pub fn forward_headers(builder: RequestBuilder, ctx: &CallContext) -> RequestBuilder {
    builder.headers(ctx.forward.clone())
}

/// Sends `builder` and classifies the answer: `Ok` for 2xx, a [`Failure`] otherwise.
/// Records `ums_downstream_requests_total` and `ums_downstream_request_duration_seconds`.
pub async fn send(call: &CallName, builder: RequestBuilder) -> Result<Response, Failure> {
    let started = Instant::now();
    let result = builder.send().await;
    let status_label = match &result {
        Ok(r) => r.status().as_u16().to_string(),
        Err(e) if e.is_timeout() => "timeout".to_owned(),
        Err(e) if e.is_connect() => "unreachable".to_owned(),
        Err(_) => "dropped".to_owned(),
    };
    let labels = [
        ("service", call.service.to_owned()),
        ("method", call.method.to_owned()),
        ("route", call.route.clone()),
        ("status", status_label),
    ];
    metrics::counter!("ums_downstream_requests_total", &labels).increment(1);
    metrics::histogram!("ums_downstream_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());

    let response = result.map_err(|e| Failure::new(call.clone(), transport_kind(&e)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let kind = classify(status.as_u16(), response).await;
    Err(Failure::new(call.clone(), kind))
}

/// Reads a 2xx JSON body into `T`; an unreadable body is a [`Cause::Failed`].
pub async fn read_json<T: serde::de::DeserializeOwned>(
    call: &CallName,
    response: Response,
) -> Result<T, Failure> {
    let bytes = read_bytes(call, response).await?;
    serde_json::from_slice(&bytes).map_err(|_| Failure::new(call.clone(), Cause::Failed { status: None }))
}

/// Reads the raw body of a 2xx answer (possibly empty).
pub async fn read_bytes(call: &CallName, response: Response) -> Result<bytes::Bytes, Failure> {
    response.bytes().await.map_err(|e| body_error(call, &e))
}

/// The error of a body that broke off while being read: `Timeout`, else `Failed`.
pub fn body_error(call: &CallName, error: &reqwest::Error) -> Failure {
    let kind = if error.is_timeout() {
        Cause::Timeout
    } else {
        Cause::Failed { status: None }
    };
    Failure::new(call.clone(), kind)
}

/// Percent-encodes one path segment: everything but RFC 3986 unreserved characters.
pub fn encode_segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn transport_kind(error: &reqwest::Error) -> Cause {
    if error.is_timeout() {
        Cause::Timeout
    } else if error.is_connect() {
        Cause::Unreachable
    } else if error.is_decode() || error.is_body() {
        Cause::Failed { status: None }
    } else {
        // The request may have reached the callee before the connection broke.
        Cause::Dropped
    }
}

/// What a non-2xx answer means for the call: 404 not found, 429 rate limited, 409 (or a 5xx with
/// MongoDB's duplicate-key text) a conflict, another 4xx a refusal, a 5xx a failure.
async fn classify(status: u16, response: Response) -> Cause {
    match status {
        404 => return Cause::NotFound,
        429 => {
            return Cause::RateLimited {
                retry_after: retry_after(response.headers()),
            }
        }
        _ => {}
    }
    let message = upstream_message(response).await;
    if status >= 500 {
        // The CRUD Service answers a unique index violation of a PATCH with a 500 carrying
        // MongoDB's E11000 text (contracts/crud-service.md §1, PATCH /:id): a conflict, nothing written.
        if crate::store::duplicate::is_duplicate_key(&message) {
            return Cause::Conflict { message };
        }
        return Cause::Failed { status: Some(status) };
    }
    if status == 409 {
        Cause::Conflict { message }
    } else {
        Cause::Rejected { status, message }
    }
}

/// How long a 429 asks us to wait: `Retry-After` (seconds), else `X-RateLimit-Reset` (epoch seconds).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let read = |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok() };
    if let Some(seconds) = read("retry-after") {
        return Some(Duration::from_secs(seconds));
    }
    let reset = read("x-ratelimit-reset")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now)))
}

const MAX_MESSAGE_CHARS: usize = 300;

/// The upstream's own message for a 4xx: `message` of a JSON body, else its text, truncated.
async fn upstream_message(response: Response) -> String {
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or(text);
    message.chars().take(MAX_MESSAGE_CHARS).collect()
}
