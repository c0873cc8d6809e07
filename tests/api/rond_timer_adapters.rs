//! Tests: the Rönd (`PolicyClient`) and Timer Service (`TimerClient`) adapters against wiremock
//! servers: exact method, path, body and headers of every call, and how failures are classified.

use std::time::Duration;

use serde_json::json;
use user_manager_service::downstream::Cause;
use user_manager_service::policy::{PolicyClient, RevokeOutcome, RondClient};
use user_manager_service::timer::{Callback, Schedule, TimerClient, TimerServiceClient};
use wiremock::matchers::{body_json, header};
use wiremock::{MockServer, ResponseTemplate};

use crate::auth0_adapter::support::{assert_forwarded, ctx, failure_cases, http_client, RELAXED};
use crate::helpers::{given, mount_once, ok_json, only_request};

/// The error of the calls `failure_cases!` checks.
type CallError = user_manager_service::failure::Failure;

/// The Rönd adapter, for `failure_cases!`.
fn rond(client: reqwest::Client, base_url: String) -> RondClient {
    RondClient::new(client, base_url)
}

/// The Timer Service adapter, for `failure_cases!`.
fn timer(client: reqwest::Client, base_url: String) -> TimerServiceClient {
    TimerServiceClient::new(client, base_url)
}

/// A mock server answering `verb route` with `answer` once.
async fn server_answering(verb: &str, route: &str, answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    mount_once(&server, verb, route, answer).await;
    server
}

fn roles() -> Vec<String> {
    vec!["editor".into(), "viewer".into()]
}

/// A timer firing on 2024-01-01 at 11:00:00.250 in UTC+1.
fn schedule() -> Schedule {
    Schedule {
        payload: json!({ "userId": "u1" }),
        fire_at: time::macros::datetime!(2024-01-01 11:00:00.250 +01:00),
        callback: Callback {
            protocol: "http".into(),
            hostname: "user-manager-service".into(),
            port: 80,
            path: "/users/u1/expire".into(),
            headers: vec![
                ("x-api-key".into(), "k".into()),
                ("client-type".into(), "cms".into()),
            ],
        },
    }
}

#[tokio::test]
async fn grant_posts_one_binding_of_the_roles_to_the_subject() {
    let server = MockServer::start().await;
    given("POST", "/grant/bindings")
        .and(body_json(
            json!({ "subjects": ["auth0|1"], "roles": ["editor", "viewer"] }),
        ))
        .and(header("content-type", "application/json"))
        .respond_with(ok_json(json!({ "bindingId": "b-1" })))
        .expect(1)
        .mount(&server)
        .await;
    let client = RondClient::new(http_client(RELAXED), format!("{}/", server.uri()));
    assert_eq!(
        client.grant(&ctx(), "auth0|1", &roles()).await.expect("granted"),
        "b-1"
    );
    assert_forwarded(&only_request(&server).await);
}

#[tokio::test]
async fn revoke_removes_the_subject_from_its_bindings() {
    let server = MockServer::start().await;
    given("POST", "/revoke/bindings")
        .and(body_json(json!({ "subjects": ["auth0|1"] })))
        .respond_with(ok_json(json!({ "deletedBindings": 2, "modifiedBindings": 1 })))
        .expect(1)
        .mount(&server)
        .await;
    let outcome = rond(http_client(RELAXED), server.uri())
        .revoke(&ctx(), "auth0|1")
        .await
        .expect("revoked");
    assert_eq!(
        outcome,
        RevokeOutcome {
            deleted_bindings: 2,
            modified_bindings: 1
        }
    );
    assert_forwarded(&only_request(&server).await);
}

#[tokio::test]
async fn rond_check_asks_the_rbac_liveness_route() {
    let answer = ok_json(json!({ "status": "OK", "name": "rönd" }));
    let server = server_answering("GET", "/-/rbac-healthz", answer).await;
    rond(http_client(RELAXED), server.uri())
        .check(&ctx())
        .await
        .expect("healthy");
    assert_forwarded(&only_request(&server).await);
}

#[tokio::test]
async fn a_grant_answered_without_a_binding_id_is_unreadable() {
    let server = server_answering("POST", "/grant/bindings", ok_json(json!({}))).await;
    let error = rond(http_client(RELAXED), server.uri())
        .grant(&ctx(), "s", &roles())
        .await
        .expect_err("no id");
    assert_eq!(error.cause, Cause::Failed { status: None });
}

#[tokio::test]
async fn schedule_posts_a_rest_callback_firing_at_the_utc_date_with_milliseconds() {
    let server = MockServer::start().await;
    let expected = json!({
        "payload": { "userId": "u1" },
        "startDate": "2024-01-01T10:00:00.250Z",
        "expirationIntervalMs": 0,
        "applicantService": "user-manager-service",
        "outputMode": {
            "type": "rest", "method": "post", "protocol": "http",
            "hostname": "user-manager-service", "port": 80, "path": "/users/u1/expire",
            "headers": { "x-api-key": "k", "client-type": "cms" }
        }
    });
    given("POST", "/schedule")
        .and(body_json(&expected))
        .respond_with(ok_json(json!({ "expirationId": "65a0c0ffee" })))
        .expect(1)
        .mount(&server)
        .await;
    let client = TimerServiceClient::new(http_client(RELAXED), format!("{}/", server.uri()));
    assert_eq!(
        client.schedule(&ctx(), &schedule()).await.expect("scheduled"),
        "65a0c0ffee"
    );
    assert_forwarded(&only_request(&server).await);
}

#[tokio::test]
async fn abort_posts_the_expiration_id() {
    let server = MockServer::start().await;
    given("POST", "/abort")
        .and(body_json(json!({ "expirationId": "65a0c0ffee" })))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    timer(http_client(RELAXED), server.uri())
        .abort(&ctx(), "65a0c0ffee")
        .await
        .expect("aborted");
    assert_forwarded(&only_request(&server).await);
}

#[tokio::test]
async fn timer_check_asks_the_liveness_route() {
    let server = server_answering("GET", "/-/healthz", ResponseTemplate::new(200)).await;
    timer(http_client(RELAXED), server.uri())
        .check(&ctx())
        .await
        .expect("healthy");
    assert_forwarded(&only_request(&server).await);
}

#[tokio::test]
async fn a_rate_limited_schedule_says_when_to_retry() {
    let server = server_answering(
        "POST",
        "/schedule",
        ResponseTemplate::new(429).insert_header("Retry-After", "3"),
    )
    .await;
    let error = timer(http_client(RELAXED), server.uri())
        .schedule(&ctx(), &schedule())
        .await
        .expect_err("limited");
    assert_eq!(
        error.cause,
        Cause::RateLimited {
            retry_after: Some(Duration::from_secs(3))
        }
    );
    assert_eq!(error.to_string(), "Timer Service POST /schedule responded 429");
}

failure_cases!(grant, rond, "POST" "/grant/bindings", "Rönd POST /grant/bindings",
    400 => CallError { cause: Cause::Rejected { status: 400, .. }, .. }, |a, c| a.grant(&c, "auth0|1", &roles()));
failure_cases!(revoke, rond, "POST" "/revoke/bindings", "Rönd POST /revoke/bindings",
    400 => CallError { cause: Cause::Rejected { status: 400, .. }, .. }, |a, c| a.revoke(&c, "auth0|1"));
failure_cases!(rond_check, rond, "GET" "/-/rbac-healthz", "Rönd GET /-/rbac-healthz",
    404 => CallError { cause: Cause::NotFound, .. }, |a, c| a.check(&c));
failure_cases!(schedule, timer, "POST" "/schedule", "Timer Service POST /schedule",
    400 => CallError { cause: Cause::Rejected { status: 400, .. }, .. }, |a, c| a.schedule(&c, &super::schedule()));
failure_cases!(abort, timer, "POST" "/abort", "Timer Service POST /abort",
    404 => CallError { cause: Cause::NotFound, .. }, |a, c| a.abort(&c, "65a0c0ffee"));
failure_cases!(timer_check, timer, "GET" "/-/healthz", "Timer Service GET /-/healthz",
    404 => CallError { cause: Cause::NotFound, .. }, |a, c| a.check(&c));
