//! Tests: which headers reach the Auth0 Client on every call, the health check, capabilities
//! and base URLs.

use axum::http::HeaderValue;
use bytes::Bytes;
use serde_json::json;
use user_manager_service::auth::auth0_client::{Auth0Client, Auth0ClientConfig};
use user_manager_service::auth::AuthError;
use user_manager_service::auth::{AuthProvider, Capabilities};
use user_manager_service::downstream::Cause;
use user_manager_service::secret::Secret;

use wiremock::{MockServer, ResponseTemplate};

use super::support::{assert_forwarded, ctx, failure_cases, http_client, session_ctx, AsFailure, RELAXED};
use super::{adapter, block, default_setup, new_user};
use crate::helpers::{header_of, mount_once, ok_json, received};

/// The error of the calls `failure_cases!` checks.
type CallError = AuthError;

/// Answers every route of the Auth0 Client with a valid body.
async fn mount_every_route(server: &MockServer) {
    let user = json!({ "user_id": "auth0|1" });
    let job = json!({ "id": "job_1", "status": "pending" });
    let tokens = json!({ "accessToken": "at" });
    let routes = [
        ("POST", "/users", user.clone()),
        ("GET", "/users/auth0%7C1", user),
        ("GET", "/users", json!([])),
        ("PATCH", "/users/auth0%7C1", json!({})),
        ("DELETE", "/users/auth0%7C1", json!({})),
        ("POST", "/change-password", json!({})),
        ("POST", "/oauth/token", tokens.clone()),
        ("POST", "/refreshtoken", tokens),
        ("GET", "/userinfo", json!({ "sub": "auth0|1" })),
        ("POST", "/users/import", job.clone()),
        ("GET", "/users/import/status/job_1", job),
        ("GET", "/users/import/status/job_1/errors", json!([])),
        ("GET", "/-/healthz", json!({ "status": "OK" })),
    ];
    for (verb, route, body) in routes {
        mount_once(server, verb, route, ok_json(body)).await;
    }
}

/// Makes every call of the adapter once with `ctx`.
async fn call_everything(auth: &Auth0Client, ctx: &user_manager_service::context::CallContext) {
    let id = "auth0|1";
    auth.create_user(ctx, &new_user()).await.expect("create_user");
    auth.get_user(ctx, id).await.expect("get_user");
    auth.get_users(ctx, &[id.to_owned()]).await.expect("get_users");
    auth.update_user(ctx, id, &block()).await.expect("update_user");
    auth.delete_user(ctx, id).await.expect("delete_user");
    auth.change_password(ctx, id).await.expect("change_password");
    auth.login(ctx, "ada", &Secret::new("pw")).await.expect("login");
    auth.refresh(ctx, &Secret::new("rt")).await.expect("refresh");
    auth.userinfo(ctx).await.expect("userinfo");
    auth.start_import(ctx, Bytes::from_static(b"[]"), true)
        .await
        .expect("start_import");
    auth.import_status(ctx, "job_1").await.expect("import_status");
    auth.import_errors(ctx, "job_1").await.expect("import_errors");
    auth.check(ctx).await.expect("check");
}

#[tokio::test]
async fn every_call_forwards_the_headers_and_only_session_routes_send_the_session() {
    let (server, auth) = default_setup().await;
    mount_every_route(&server).await;
    call_everything(&auth, &session_ctx()).await;
    let requests = received(&server).await;
    assert_eq!(requests.len(), 13);
    for request in &requests {
        assert_forwarded(request);
        let route = request.url.path();
        let expected: &[(&str, &str)] = match route {
            "/userinfo" => &[
                ("authorization", "Bearer expired-token"),
                ("cookie", "sid=session-1"),
                ("client-key", "key-1"),
            ],
            "/refreshtoken" => &[
                ("authorization", "Bearer expired-token"),
                ("cookie", "sid=session-1"),
            ],
            _ => &[],
        };
        for name in ["authorization", "cookie", "client-key"] {
            let wanted = expected.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
            assert_eq!(header_of(request, name), wanted, "{name} on {route}");
        }
        for name in ["acl_rows", "acl_read_columns"] {
            assert_eq!(header_of(request, name), None, "{name} on {route}");
        }
    }
}

#[tokio::test]
async fn acl_and_session_headers_listed_in_additional_headers_are_not_forwarded_to_the_provider() {
    let (server, auth) = default_setup().await;
    mount_every_route(&server).await;
    let mut ctx = session_ctx();
    ctx.session.authorization = Some(Secret::new("Bearer from-session"));
    for (name, value) in [
        ("acl_rows", r#"{"tenant":"a"}"#),
        ("acl_read_columns", "name"),
        ("authorization", "Bearer forwarded"),
        ("cookie", "sid=forwarded"),
        ("client-key", "forwarded-key"),
    ] {
        ctx.forward.insert(name, HeaderValue::from_static(value));
    }
    call_everything(&auth, &ctx).await;
    for request in received(&server).await {
        let route = request.url.path();
        assert_eq!(header_of(&request, "acl_rows"), None, "acl_rows on {route}");
        assert_eq!(
            header_of(&request, "acl_read_columns"),
            None,
            "acl_read_columns on {route}"
        );
        let authorizations: Vec<_> = request.headers.get_all("authorization").iter().collect();
        match route {
            "/userinfo" | "/refreshtoken" => assert_eq!(authorizations, ["Bearer from-session"], "{route}"),
            _ => assert!(authorizations.is_empty(), "authorization on {route}"),
        }
        if route != "/userinfo" {
            assert_eq!(header_of(&request, "client-key"), None, "client-key on {route}");
        }
    }
}

#[tokio::test]
async fn check_asks_the_liveness_route() {
    let (server, auth) = default_setup().await;
    mount_once(&server, "GET", "/-/healthz", ok_json(json!({ "status": "OK" }))).await;
    auth.check(&ctx()).await.expect("healthy");
    assert_forwarded(&received(&server).await[0]);
}

#[tokio::test]
async fn the_auth0_client_can_do_everything() {
    let auth = adapter(http_client(RELAXED), "http://auth0-client".into());
    let all = Capabilities {
        sessions: true,
        change_password: true,
        bulk_import: true,
    };
    assert_eq!(auth.capabilities(), all);
}

#[tokio::test]
async fn a_base_url_without_a_trailing_slash_works_too() {
    let server = MockServer::start().await;
    mount_once(&server, "DELETE", "/users/auth0%7C1", ResponseTemplate::new(204)).await;
    let auth = Auth0Client::new(http_client(RELAXED), Auth0ClientConfig::new(server.uri()));
    auth.delete_user(&ctx(), "auth0|1").await.expect("deleted");
}

#[tokio::test]
async fn an_auth0_client_that_does_not_listen_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("an address").port();
    drop(listener);
    let auth = adapter(http_client(RELAXED), format!("http://127.0.0.1:{port}"));
    let error = auth.check(&ctx()).await.expect_err("nobody listens");
    assert_eq!(error.failure().map(|f| &f.cause), Some(&Cause::Unreachable));
    assert_eq!(error.to_string(), "Auth0 Client GET /-/healthz is unreachable");
}

failure_cases!(check, adapter, "GET" "/-/healthz", "Auth0 Client GET /-/healthz",
    404 => AuthError::NotFound(_), |a, c| a.check(&c));
