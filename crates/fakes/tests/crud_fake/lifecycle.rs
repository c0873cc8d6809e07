//! Health routes, configuration, inspection helpers, fault injection, request counting, shutdown,
//! the bare router and the `crud-fake` binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use ums_fakes::crud::{router, CollectionConfig, CrudFake, CrudFakeError, State};

use crate::{field, Ctx};

#[tokio::test]
async fn health_routes_answer_ok() {
    let ctx = Ctx::new().await;
    for path in ["/-/healthz", "/-/ready", "/-/check-up"] {
        let health = ctx.get(path).await;
        assert_eq!(health.status, 200);
        assert_eq!(
            health.body,
            json!({"status": "OK", "name": "crud-fake", "version": "0.1.0"})
        );
    }
}

#[tokio::test]
async fn configuration_default_state_and_user_header() {
    let fake = CrudFake::builder()
        .collection_config(
            CollectionConfig::new("roles/")
                .unique(&["roleId"])
                .default_state(State::Public),
        )
        .collection("/v2/users", &[])
        .user_id_header("X-User")
        .build();
    let ctx = Ctx::with(fake).await;
    let created = ctx
        .send(
            Method::POST,
            "/roles/",
            Some(json!({"roleId": "r"})),
            &[("x-user", "carol")],
        )
        .await;
    let doc = ctx
        .get(&format!("/roles/{}", created.body["_id"].as_str().unwrap()))
        .await
        .body;
    assert_eq!(doc["__STATE__"], json!("PUBLIC"));
    assert_eq!(doc["creatorId"], json!("carol"));
    assert_eq!(ctx.post("/roles/", json!({"roleId": "r"})).await.status, 409);
    assert_eq!(ctx.post("/v2/users/", json!({"a": 1})).await.status, 200);
    assert_eq!(ctx.fake.documents("/v2/users")[0]["__STATE__"], json!("DRAFT"));
    assert_eq!(ctx.get("/users/").await.status, 404);
}

#[tokio::test]
async fn inspection_helpers() {
    let ctx = Ctx::new().await;
    let id = ctx
        .fake
        .insert_raw(
            "/users",
            json!({"_id": "u1", "email": "a@x.io", "__STATE__": "TRASH"}),
        )
        .unwrap();
    assert_eq!(id, "u1");
    let generated = ctx.fake.insert_raw("/users", json!({"email": "b@x.io"})).unwrap();
    assert_eq!(generated.len(), 24);
    assert!(matches!(
        ctx.fake.insert_raw("/users", json!({"email": "a@x.io"})),
        Err(CrudFakeError::Duplicate(_))
    ));
    assert!(matches!(
        ctx.fake.insert_raw("/nope", json!({})),
        Err(CrudFakeError::UnknownCollection(_))
    ));
    let docs = ctx.fake.documents("/users");
    assert_eq!(
        docs[0],
        json!({"_id": "u1", "email": "a@x.io", "__STATE__": "TRASH"})
    );
    assert_eq!(
        ctx.get("/users/u1?_st=TRASH").await.body["email"],
        json!("a@x.io")
    );
    ctx.fake
        .insert_raw("/users", json!({"_id": "a|b c", "__STATE__": "PUBLIC"}))
        .unwrap();
    assert_eq!(ctx.get("/users/a%7Cb%20c").await.body["_id"], json!("a|b c"));
    ctx.fake.clear("/users");
    assert!(ctx.fake.documents("/users").is_empty());
    // Clearing also frees the unique values.
    ctx.fake.insert_raw("/users", json!({"email": "a@x.io"})).unwrap();
}

#[tokio::test]
async fn fault_injection_and_request_counts() {
    let ctx = Ctx::new().await;
    ctx.fake.fail_next(Method::GET, "/users", 503, 2);
    let first = ctx.get("/users/").await;
    assert_eq!(first.status, 503);
    assert_eq!(first.body["statusCode"], json!(503));
    assert_eq!(first.body["error"], json!("Service Unavailable"));
    assert_eq!(
        ctx.post("/users/", json!({})).await.status,
        200,
        "other methods are not affected"
    );
    assert_eq!(ctx.get("/users/count").await.status, 503);
    assert_eq!(ctx.get("/users/").await.status, 200);

    ctx.fake.fail_next(Method::PATCH, "/users/", 404, 1);
    let not_found = ctx.patch("/users/x", json!({})).await;
    assert_eq!(not_found.body, json!({"error": "not found"}));

    ctx.fake
        .delay_next(Method::GET, "/-/healthz", Duration::from_millis(200), 1);
    let start = Instant::now();
    assert_eq!(ctx.get("/-/healthz").await.status, 200);
    assert!(start.elapsed() >= Duration::from_millis(200));

    assert_eq!(ctx.fake.request_count(Method::GET, "/users"), 3);
    assert_eq!(ctx.fake.request_count(Method::GET, "/users/count"), 1);
    assert_eq!(ctx.fake.request_count(Method::POST, "/users/"), 1);
    assert_eq!(ctx.fake.request_count(Method::GET, "/"), 4);
    ctx.fake.reset_request_counts();
    assert_eq!(ctx.fake.request_count(Method::GET, "/"), 0);
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let ctx = Ctx::new().await;
    assert_eq!(ctx.get("/-/ready").await.status, 200);
    ctx.fake.shutdown().await;
    let fresh = reqwest::Client::new();
    let err = fresh.get(ctx.url("/-/ready")).send().await.unwrap_err();
    assert!(err.is_connect(), "{err}");
    ctx.fake.shutdown().await;
}

#[tokio::test]
async fn router_serves_without_spawn() {
    let state = CrudFake::standard().into_state();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state.clone())).await });
    let client = reqwest::Client::new();
    let response = client
        .post(format!("http://{addr}/jobs/"))
        .json(&json!({"__STATE__": "PUBLIC", "k": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let list: serde_json::Value = client
        .get(format!("http://{addr}/jobs/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(field(&list, "k"), vec![json!(1)]);
}

#[tokio::test]
async fn binary_serves_the_default_collections() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crud-fake"))
        .args(["--port", "0", "--default-state", "PUBLIC"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let uri = line
        .trim()
        .strip_prefix("crud-fake listening on ")
        .unwrap()
        .to_owned();
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{uri}/ums-config/"))
        .json(&json!({"userGroup": "g"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 200);
    let dup = client
        .post(format!("{uri}/ums-config/"))
        .json(&json!({"userGroup": "g"}))
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status().as_u16(), 409);
    let count: serde_json::Value = client
        .get(format!("{uri}/ums-config/count"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(count, json!(1));
    child.kill().unwrap();
    child.wait().unwrap();
}
