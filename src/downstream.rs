//! Outbound HTTP shared by every adapter: the one `reqwest::Client`, the `DownstreamError`
//! classification of upstream answers, header forwarding and per-call metrics.

use std::time::{Duration, Instant};

use reqwest::{RequestBuilder, Response, StatusCode};

use crate::context::CallContext;

/// Builds the single HTTP client of the process: every outbound call times out.
pub fn build_http_client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("user-manager-service/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Names one downstream call in errors, logs and metrics: `CRUD PATCH /users/:id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallName {
    /// The downstream service: `CRUD`, `Auth0 Client`, `Rönd`, `Timer Service`, `embedded store`.
    pub service: &'static str,
    /// HTTP method (or operation name for in-process adapters).
    pub method: &'static str,
    /// Route template, never with ids or query values: `/users/:id`.
    pub route: String,
}

impl CallName {
    /// Names a call.
    pub fn new(service: &'static str, method: &'static str, route: impl Into<String>) -> Self {
        Self {
            service,
            method,
            route: route.into(),
        }
    }
}

impl std::fmt::Display for CallName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.service, self.method, self.route)
    }
}

/// How a downstream call failed, sorted by what the caller of our service should see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The upstream answered 404: the resource (or a compare-and-set precondition) did not match.
    NotFound,
    /// The upstream answered 409 (unique index, already existing user).
    Conflict {
        /// The upstream's message.
        message: String,
    },
    /// The upstream answered 429; `retry_after` from `Retry-After` or `X-RateLimit-Reset`.
    RateLimited {
        /// How long the upstream asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// The upstream refused the request with another 4xx; `message` is its own text.
    Rejected {
        /// Upstream status.
        status: u16,
        /// Upstream message (from `message` of a JSON body, else the text, truncated).
        message: String,
    },
    /// The upstream answered 5xx (or something unreadable when we expected JSON).
    Failed {
        /// Upstream status, when there was one.
        status: Option<u16>,
    },
    /// The upstream could not be reached (connection refused, DNS, reset).
    Unreachable,
    /// The call exceeded `DOWNSTREAM_TIMEOUT_MS`.
    Timeout,
}

/// A failed downstream call: which call, and how it failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{call} {}", describe(.kind))]
pub struct DownstreamError {
    /// The call that failed.
    pub call: CallName,
    /// How it failed.
    pub kind: ErrorKind,
}

fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::NotFound => "responded 404".to_owned(),
        ErrorKind::Conflict { .. } => "responded 409".to_owned(),
        ErrorKind::RateLimited { .. } => "responded 429".to_owned(),
        ErrorKind::Rejected { status, message } => format!("responded {status}: {message}"),
        ErrorKind::Failed { status: Some(s) } => format!("responded {s}"),
        ErrorKind::Failed { status: None } => "answered with an unreadable body".to_owned(),
        ErrorKind::Unreachable => "is unreachable".to_owned(),
        ErrorKind::Timeout => "timed out".to_owned(),
    }
}

impl DownstreamError {
    /// Builds an error for `call`.
    pub fn new(call: CallName, kind: ErrorKind) -> Self {
        Self { call, kind }
    }

    /// True for a 404 answer.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
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

/// Sends `builder` and classifies the answer: `Ok` for 2xx, a [`DownstreamError`] otherwise.
/// Records `ums_downstream_requests_total` and `ums_downstream_request_duration_seconds`.
pub async fn send(call: &CallName, builder: RequestBuilder) -> Result<Response, DownstreamError> {
    let started = Instant::now();
    let result = builder.send().await;
    let status_label = match &result {
        Ok(r) => r.status().as_u16().to_string(),
        Err(e) if e.is_timeout() => "timeout".to_owned(),
        Err(_) => "unreachable".to_owned(),
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

    let response = result.map_err(|e| DownstreamError::new(call.clone(), transport_kind(&e)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let kind = classify(status, response).await;
    Err(DownstreamError::new(call.clone(), kind))
}

/// Reads a 2xx JSON body into `T`; an unreadable body is a [`ErrorKind::Failed`].
pub async fn read_json<T: serde::de::DeserializeOwned>(
    call: &CallName,
    response: Response,
) -> Result<T, DownstreamError> {
    let bytes = read_bytes(call, response).await?;
    serde_json::from_slice(&bytes)
        .map_err(|_| DownstreamError::new(call.clone(), ErrorKind::Failed { status: None }))
}

/// Reads the raw body of a 2xx answer (possibly empty).
pub async fn read_bytes(call: &CallName, response: Response) -> Result<bytes::Bytes, DownstreamError> {
    response.bytes().await.map_err(|e| body_error(call, &e))
}

/// The error of a body that broke off while being read: `Timeout`, else `Failed`.
pub fn body_error(call: &CallName, error: &reqwest::Error) -> DownstreamError {
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Failed { status: None }
    };
    DownstreamError::new(call.clone(), kind)
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

fn transport_kind(error: &reqwest::Error) -> ErrorKind {
    if error.is_timeout() {
        ErrorKind::Timeout
    } else if error.is_decode() || error.is_body() {
        ErrorKind::Failed { status: None }
    } else {
        ErrorKind::Unreachable
    }
}

async fn classify(status: StatusCode, response: Response) -> ErrorKind {
    if status == StatusCode::NOT_FOUND {
        return ErrorKind::NotFound;
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return ErrorKind::RateLimited {
            retry_after: retry_after(response.headers()),
        };
    }
    let message = upstream_message(response).await;
    if status.is_server_error() {
        // The CRUD Service answers a unique index violation of a PATCH with a 500 carrying
        // MongoDB's E11000 text (contracts/crud-service.md §1, PATCH /:id): a conflict, nothing written.
        if crate::store::duplicate::is_duplicate_key(&message) {
            return ErrorKind::Conflict { message };
        }
        return ErrorKind::Failed {
            status: Some(status.as_u16()),
        };
    }
    if status == StatusCode::CONFLICT {
        ErrorKind::Conflict { message }
    } else {
        ErrorKind::Rejected {
            status: status.as_u16(),
            message,
        }
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
