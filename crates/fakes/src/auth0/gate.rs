//! The middleware in front of every route: records the request, applies the Auth0-style rate
//! limit, then the injected delays and failures, in that order.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::state::{Config, RateScope, RecordedRequest, Shared};
use super::util::error_body;

/// Auth0's message for a rate-limited request.
const RATE_LIMIT_MESSAGE: &str =
    "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.";

/// Which requests an injected fault applies to, and how many more times.
#[derive(Debug, Clone)]
struct Matcher {
    method: String,
    path_prefix: String,
    remaining: usize,
}

impl Matcher {
    fn matches(&self, method: &str, path: &str) -> bool {
        self.remaining > 0
            && (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && path.starts_with(&self.path_prefix)
    }
}

/// Injected failures and delays, consumed by matching requests.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    failures: Vec<(Matcher, StatusCode)>,
    delays: Vec<(Matcher, Duration)>,
}

impl Faults {
    /// The next `count` requests matching `method` (`*` = any) and `path_prefix` answer `status`.
    pub fn add_failure(&mut self, method: &str, path_prefix: &str, status: StatusCode, count: usize) {
        self.failures.push((matcher(method, path_prefix, count), status));
    }

    /// The next `count` matching requests are held for `delay` before being served.
    pub fn add_delay(&mut self, method: &str, path_prefix: &str, delay: Duration, count: usize) {
        self.delays.push((matcher(method, path_prefix, count), delay));
    }

    fn take_failure(&mut self, method: &str, path: &str) -> Option<StatusCode> {
        let (matcher, status) = self.failures.iter_mut().find(|(m, _)| m.matches(method, path))?;
        matcher.remaining -= 1;
        Some(*status)
    }

    fn take_delay(&mut self, method: &str, path: &str) -> Option<Duration> {
        let (matcher, delay) = self.delays.iter_mut().find(|(m, _)| m.matches(method, path))?;
        matcher.remaining -= 1;
        Some(*delay)
    }
}

fn matcher(method: &str, path_prefix: &str, count: usize) -> Matcher {
    Matcher {
        method: method.to_string(),
        path_prefix: path_prefix.to_string(),
        remaining: count,
    }
}

/// Sliding-window log: never more than `limit` accepted requests in any 1-second window.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    window: VecDeque<Instant>,
    /// Requests let through on limited routes.
    pub accepted: u64,
    /// Requests answered 429.
    pub rejected: u64,
}

/// Outcome of a rate-limit check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Accept { remaining: u32, reset_in: Duration },
    Reject { retry_in: Duration },
}

const WINDOW: Duration = Duration::from_secs(1);

impl Limiter {
    fn check(&mut self, limit: u32, now: Instant) -> Verdict {
        while self
            .window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.window.pop_front();
        }
        let used = u32::try_from(self.window.len()).unwrap_or(u32::MAX);
        if used >= limit {
            self.rejected += 1;
            let retry_in = self.window.front().map_or(WINDOW, |oldest| {
                WINDOW.saturating_sub(now.duration_since(*oldest))
            });
            return Verdict::Reject { retry_in };
        }
        self.window.push_back(now);
        self.accepted += 1;
        let oldest = self.window.front().copied().unwrap_or(now);
        Verdict::Accept {
            remaining: limit - used - 1,
            reset_in: WINDOW.saturating_sub(now.duration_since(oldest)),
        }
    }
}

/// Whether the rate limit applies to this request.
fn is_limited(config: &Config, method: &str, path: &str) -> bool {
    if config.requests_per_second.is_none() {
        return false;
    }
    match &config.rate_scope {
        RateScope::All => !path.starts_with("/-/"),
        RateScope::Routes(routes) => routes
            .iter()
            .any(|(m, p)| m.eq_ignore_ascii_case(method) && p == path),
    }
}

/// Decodes `%XX` escapes; returns the input when the result is not UTF-8.
pub(crate) fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| raw.to_string())
}

/// Epoch seconds (rounded up) `after` from now.
fn epoch_after(after: Duration) -> u64 {
    let at = SystemTime::now() + after;
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    since.as_secs() + u64::from(since.subsec_nanos() > 0)
}

fn set_header(headers: &mut HeaderMap, name: &'static str, value: impl ToString) {
    if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
        headers.insert(name, value);
    }
}

fn rate_headers(headers: &mut HeaderMap, limit: u32, remaining: u32, reset_in: Duration) {
    set_header(headers, "x-ratelimit-limit", limit);
    set_header(headers, "x-ratelimit-remaining", remaining);
    set_header(headers, "x-ratelimit-reset", epoch_after(reset_in));
}

fn too_many_requests(limit: u32, retry_in: Duration) -> Response {
    let status = StatusCode::TOO_MANY_REQUESTS;
    let mut response = (status, Json(error_body(status, RATE_LIMIT_MESSAGE))).into_response();
    let retry_secs = retry_in.as_secs() + u64::from(retry_in.subsec_nanos() > 0);
    let headers = response.headers_mut();
    set_header(headers, "retry-after", retry_secs.max(1));
    rate_headers(headers, limit, 0, retry_in);
    response
}

/// Records, rate-limits, delays or fails the request, then runs the route.
pub(crate) async fn gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_string();
    let path = percent_decode(request.uri().path());
    let recorded = RecordedRequest {
        method: method.clone(),
        path: path.clone(),
        query: request.uri().query().map(str::to_string),
        headers: request
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    let limit = shared.config.requests_per_second.unwrap_or(u32::MAX);
    let (verdict, failure, delay) = {
        let mut state = shared.lock();
        state.requests.push(recorded);
        let verdict =
            is_limited(&shared.config, &method, &path).then(|| state.limiter.check(limit, Instant::now()));
        if let Some(Verdict::Reject { retry_in }) = verdict {
            return too_many_requests(limit, retry_in);
        }
        let delay = state.faults.take_delay(&method, &path);
        (verdict, state.faults.take_failure(&method, &path), delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let mut response = match failure {
        Some(status) => {
            let mut injected = (status, Json(error_body(status, "Injected failure"))).into_response();
            if status == StatusCode::TOO_MANY_REQUESTS {
                set_header(injected.headers_mut(), "retry-after", 1);
            }
            injected
        }
        None => next.run(request).await,
    };
    if let Some(Verdict::Accept { remaining, reset_in }) = verdict {
        rate_headers(response.headers_mut(), limit, remaining, reset_in);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_never_accepts_more_than_the_limit_in_one_second() {
        let mut limiter = Limiter::default();
        let start = Instant::now();
        let verdicts: Vec<Verdict> = (0..3).map(|_| limiter.check(2, start)).collect();
        assert!(matches!(verdicts[0], Verdict::Accept { remaining: 1, .. }));
        assert!(matches!(verdicts[1], Verdict::Accept { remaining: 0, .. }));
        assert!(matches!(verdicts[2], Verdict::Reject { .. }));
        let later = start + Duration::from_millis(999);
        assert!(matches!(limiter.check(2, later), Verdict::Reject { .. }));
        let next_window = start + Duration::from_secs(1);
        assert!(matches!(limiter.check(2, next_window), Verdict::Accept { .. }));
        assert_eq!((limiter.accepted, limiter.rejected), (3, 2));
    }

    #[test]
    fn percent_decode_handles_pipes_and_garbage() {
        assert_eq!(percent_decode("/users/auth0%7Cabc"), "/users/auth0|abc");
        assert_eq!(percent_decode("/a%zz%"), "/a%zz%");
    }
}
