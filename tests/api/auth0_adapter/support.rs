//! Shared support of the adapter tests: HTTP clients, call contexts, the forwarded-header check and the
//! `failure_cases!` macro (4xx, 500 and timeout of one call). Also used by `rond_timer_adapters`.

use std::time::Duration;

use user_manager_service::auth::AuthError;
use user_manager_service::failure::Failure;

use axum::http::{HeaderMap, HeaderValue};
use user_manager_service::context::{Acl, CallContext, SessionHeaders};
use user_manager_service::downstream::build_http_client;
use user_manager_service::secret::Secret;
use wiremock::Request;

use crate::helpers::header_of;

/// Timeout of the clients of the success tests (generous: 2 cores run every test at once).
pub const RELAXED: Duration = Duration::from_secs(10);
/// Timeout of the clients of the timeout tests.
pub const SHORT: Duration = Duration::from_millis(200);
/// Delay of the answers of the timeout tests.
pub const SLOW: Duration = Duration::from_secs(3);

/// The process HTTP client, with `timeout`.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    build_http_client(timeout).expect("the HTTP client builds")
}

/// A context with forwarded headers only (`x-request-id`, `client-type`, `x-custom`).
pub fn ctx() -> CallContext {
    let mut forward = HeaderMap::new();
    forward.insert("x-request-id", HeaderValue::from_static("req-42"));
    forward.insert("client-type", HeaderValue::from_static("backoffice"));
    forward.insert("x-custom", HeaderValue::from_static("custom-value"));
    CallContext {
        forward,
        request_id: "req-42".into(),
        ..CallContext::default()
    }
}

/// [`ctx`] plus session credentials and ACL headers.
pub fn session_ctx() -> CallContext {
    CallContext {
        session: SessionHeaders {
            authorization: Some(Secret::new("Bearer expired-token")),
            cookie: Some(Secret::new("sid=session-1")),
            client_key: Some(Secret::new("key-1")),
        },
        acl: Acl {
            rows: Some(r#"{"tenant":"a"}"#.into()),
            read_columns: Some("name".into()),
            ..Acl::default()
        },
        ..ctx()
    }
}

/// Asserts the forwarded headers of [`ctx`] arrived on `request`.
pub fn assert_forwarded(request: &Request) {
    for (name, value) in [
        ("x-request-id", "req-42"),
        ("client-type", "backoffice"),
        ("x-custom", "custom-value"),
    ] {
        assert_eq!(header_of(request, name), Some(value), "{name} on {}", request.url);
    }
}

/// Three tests of one call in a module `$name`: a 4xx answer classified as `$kind` (a pattern of
/// the invoking module's `CallError`, the port's error type), a 500 named `$display responded 500`
/// whose outcome is unknown, and an answer slower than the client timeout. `$adapter` builds the
/// adapter from a client and the mock server URI; `$call` uses `$a` (the adapter) and `$c` (the
/// context) and returns the call's future.
macro_rules! failure_cases {
    ($name:ident, $adapter:path, $method:literal $path:literal, $display:literal,
     $status:literal => $kind:pat, |$a:ident, $c:ident| $call:expr) => {
        mod $name {
            use super::*;
            use std::time::Duration;
            use user_manager_service::failure::{Cause, Outcome};
            use $crate::auth0_adapter::support::AsFailure;
            use wiremock::{MockServer, ResponseTemplate};
            use $crate::auth0_adapter::support::{ctx, http_client, RELAXED, SHORT, SLOW};

            async fn fail_with(answer: ResponseTemplate, timeout: Duration) -> CallError {
                let server = MockServer::start().await;
                $crate::helpers::mount_once(&server, $method, $path, answer).await;
                let $a = $adapter(http_client(timeout), server.uri());
                let $c = ctx();
                ($call).await.map(drop).expect_err("the call fails")
            }

            #[tokio::test]
            async fn a_4xx_answer_is_classified() {
                let body = serde_json::json!({ "statusCode": $status, "message": "refused" });
                let error = fail_with(ResponseTemplate::new($status).set_body_json(body), RELAXED).await;
                assert!(matches!(error, $kind), "{error:?}");
            }

            #[tokio::test]
            async fn a_500_is_a_failure_that_names_the_call() {
                let error = fail_with(ResponseTemplate::new(500), RELAXED).await;
                let failure = error.failure().expect("a 500 is a failure of the call");
                assert_eq!(failure.cause, Cause::Failed { status: Some(500) });
                assert_eq!(failure.outcome(), Outcome::Unknown);
                assert_eq!(error.to_string(), concat!($display, " responded 500"));
            }

            #[tokio::test]
            async fn an_answer_slower_than_the_timeout_is_a_timeout() {
                let error = fail_with(ResponseTemplate::new(200).set_delay(SLOW), SHORT).await;
                assert_eq!(error.failure().map(|f| &f.cause), Some(&Cause::Timeout));
            }
        }
    };
}
pub(crate) use failure_cases;

/// The failure of a port error that is one (5xx, timeout, unreachable).
pub trait AsFailure {
    fn failure(&self) -> Option<&Failure>;
}

impl AsFailure for Failure {
    fn failure(&self) -> Option<&Failure> {
        Some(self)
    }
}

impl AsFailure for AuthError {
    fn failure(&self) -> Option<&Failure> {
        match self {
            AuthError::Failed(failure) => Some(failure),
            _ => None,
        }
    }
}
