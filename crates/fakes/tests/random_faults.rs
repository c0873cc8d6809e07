//! Random faults of both fakes (`ums_fakes::chaos`): each kind forced at rate 1 on a create,
//! then what the client saw and whether the user was stored; the `/-/faults` admin route; the
//! binaries' `--fault-*` flags.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{json, Value};
use ums_fakes::auth0::{Auth0Fake, RunningAuth0Fake};
use ums_fakes::chaos::{FaultKind, RandomFaults};
use ums_fakes::crud::{CrudFake, RunningCrudFake};

/// Delay of the `delay` kind in these tests.
const DELAY_MS: u64 = 300;

/// Either fake, with the create request and the stored-user count of each.
enum Fake {
    Crud(RunningCrudFake),
    Auth(RunningAuth0Fake),
}

impl Fake {
    async fn crud() -> Self {
        Self::Crud(CrudFake::standard().spawn().await)
    }

    async fn auth() -> Self {
        Self::Auth(Auth0Fake::default().spawn().await)
    }

    fn uri(&self) -> String {
        match self {
            Self::Crud(f) => f.uri(),
            Self::Auth(f) => f.uri(),
        }
    }

    fn stored(&self) -> usize {
        match self {
            Self::Crud(f) => f.documents("/users").len(),
            Self::Auth(f) => f.users().len(),
        }
    }

    fn create(&self, client: &Client, i: usize) -> reqwest::RequestBuilder {
        let email = format!("user{i}@example.com");
        match self {
            Self::Crud(f) => client
                .post(format!("{}/users/", f.uri()))
                .json(&json!({"name": "n", "email": email})),
            Self::Auth(f) => client
                .post(format!("{}/users", f.uri()))
                .json(&json!({"email": email, "password": "Passw0rd!"})),
        }
    }

    async fn put_faults(&self, client: &Client, body: Value) -> reqwest::Response {
        client
            .put(format!("{}/-/faults", self.uri()))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn faults(&self, client: &Client) -> Value {
        let url = format!("{}/-/faults", self.uri());
        client.get(url).send().await.unwrap().json().await.unwrap()
    }

    /// Forces `kind` on every data request.
    async fn force(&self, client: &Client, kind: &str) {
        let body = json!({"rate": 1.0, "delayMs": DELAY_MS, "kinds": [kind]});
        assert_eq!(self.put_faults(client, body).await.status(), 200);
    }
}

/// Asserts that `err` is a connection closed before any response head (no timeout, no status).
fn assert_closed_without_response(err: &reqwest::Error) {
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    let mut chain = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        chain.push(e.to_string());
        source = e.source();
    }
    let text = chain.join(" / ");
    assert!(
        text.contains("connection closed before message completed")
            || text.contains("Connection reset by peer"),
        "{text}"
    );
}

async fn drop_case(fake: Fake, kind: &str, stored_after: usize) {
    let client = Client::new();
    fake.force(&client, kind).await;
    let err = fake.create(&client, 1).send().await.unwrap_err();
    assert_closed_without_response(&err);
    assert_eq!(fake.stored(), stored_after);
    // Once off, the same client works again (a fresh connection).
    fake.put_faults(&client, json!({"rate": 0})).await;
    assert!(fake
        .create(&client, 2)
        .send()
        .await
        .unwrap()
        .status()
        .is_success());
    assert_eq!(fake.stored(), stored_after + 1);
    let stats = fake.faults(&client).await;
    assert_eq!(stats["injected"][kind], 1, "{stats}");
    assert_eq!(stats["requests"], 2, "{stats}");
}

async fn fail_case(fake: Fake, kind: &str, stored_after: usize) {
    let client = Client::new();
    fake.force(&client, kind).await;
    let response = fake.create(&client, 1).send().await.unwrap();
    assert_eq!(response.status(), 500);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["statusCode"], 500, "{body}");
    assert_eq!(body["error"], "Internal Server Error", "{body}");
    assert_eq!(fake.stored(), stored_after);
}

async fn delay_case(fake: Fake) {
    let client = Client::new();
    fake.force(&client, "delay").await;
    let impatient = Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = fake.create(&impatient, 1).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(fake.stored(), 0, "not yet applied while delayed");
    tokio::time::sleep(Duration::from_millis(DELAY_MS + 200)).await;
    assert_eq!(
        fake.stored(),
        1,
        "applied after the delay although the client left"
    );
    let started = Instant::now();
    let response = fake.create(&client, 2).send().await.unwrap();
    assert!(response.status().is_success());
    assert!(started.elapsed() >= Duration::from_millis(DELAY_MS));
    assert_eq!(fake.stored(), 2);
}

#[tokio::test]
async fn crud_drop_before_closes_without_response_and_stores_nothing() {
    drop_case(Fake::crud().await, "dropBefore", 0).await;
}

#[tokio::test]
async fn crud_drop_after_closes_without_response_but_stores() {
    drop_case(Fake::crud().await, "dropAfter", 1).await;
}

#[tokio::test]
async fn crud_fail_before_answers_500_and_stores_nothing() {
    fail_case(Fake::crud().await, "failBefore", 0).await;
}

#[tokio::test]
async fn crud_fail_after_answers_500_but_stores() {
    fail_case(Fake::crud().await, "failAfter", 1).await;
}

#[tokio::test]
async fn crud_delay_stores_after_the_delay() {
    delay_case(Fake::crud().await).await;
}

#[tokio::test]
async fn auth_drop_before_closes_without_response_and_stores_nothing() {
    drop_case(Fake::auth().await, "dropBefore", 0).await;
}

#[tokio::test]
async fn auth_drop_after_closes_without_response_but_stores() {
    drop_case(Fake::auth().await, "dropAfter", 1).await;
}

#[tokio::test]
async fn auth_fail_before_answers_500_and_stores_nothing() {
    fail_case(Fake::auth().await, "failBefore", 0).await;
}

#[tokio::test]
async fn auth_fail_after_answers_500_but_stores() {
    fail_case(Fake::auth().await, "failAfter", 1).await;
}

#[tokio::test]
async fn auth_delay_stores_after_the_delay() {
    delay_case(Fake::auth().await).await;
}

#[tokio::test]
async fn admin_and_health_routes_are_never_faulted() {
    for fake in [Fake::crud().await, Fake::auth().await] {
        let client = Client::new();
        fake.force(&client, "failBefore").await;
        for path in ["/-/healthz", "/-/ready", "/-/faults"] {
            let response = client.get(format!("{}{path}", fake.uri())).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
        }
        let stats = fake.faults(&client).await;
        assert_eq!(stats["requests"], 0, "{stats}");
        assert_eq!(stats["rate"], 1.0);
        assert_eq!(stats["delayMs"], DELAY_MS);
        assert_eq!(stats["kinds"], json!(["failBefore"]));
        let bad_rate = fake.put_faults(&client, json!({"rate": 2})).await;
        assert_eq!(bad_rate.status(), 400);
        let bad_kind = fake.put_faults(&client, json!({"kinds": ["explode"]})).await;
        assert_eq!(bad_kind.status(), 400);
        // Every kind back, seeded: a mix of outcomes, counted.
        let all = fake
            .put_faults(
                &client,
                json!({"rate": 0.5, "kinds": [], "seed": 7, "delayMs": 10}),
            )
            .await;
        assert_eq!(all.status(), 200);
        for i in 0..40 {
            let _ = fake.create(&client, 100 + i).send().await;
        }
        let stats = fake.faults(&client).await;
        assert_eq!(stats["requests"], 40, "{stats}");
        assert_eq!(stats["kinds"].as_array().unwrap().len(), 5, "{stats}");
        let injected: u64 = stats["injected"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert!((5..=35).contains(&injected), "{stats}");
    }
}

#[tokio::test]
async fn builder_settings_and_shutdown_with_a_dropped_request_pending() {
    let settings = RandomFaults::rate(1.0)
        .with_kinds(&[FaultKind::DropAfter])
        .with_seed(1);
    let crud = CrudFake::builder()
        .collection("/users", &["email"])
        .random_faults(settings.clone())
        .build()
        .spawn()
        .await;
    let client = Client::new();
    let err = client
        .get(format!("{}/users/", crud.uri()))
        .send()
        .await
        .unwrap_err();
    assert_closed_without_response(&err);
    assert_eq!(crud.random_faults().stats().injected_of(FaultKind::DropAfter), 1);
    crud.random_faults().off();
    let ok = client.get(format!("{}/users/", crud.uri())).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    crud.shutdown().await;

    let auth = Auth0Fake::builder().random_faults(settings).build().spawn().await;
    let err = client
        .get(format!("{}/users", auth.uri()))
        .send()
        .await
        .unwrap_err();
    assert_closed_without_response(&err);
    assert_eq!(auth.random_faults().stats().requests, 1);
    auth.shutdown().await;
}

/// Starts a fake binary with `args`; returns the child and its base URL.
fn start_binary(bin: &str, args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let uri = line.trim().rsplit(' ').next().unwrap().to_owned();
    (child, uri)
}

#[tokio::test]
async fn binaries_take_the_fault_flags() {
    let flags = [
        "--port",
        "0",
        "--fault-rate",
        "1",
        "--fault-delay-ms",
        "1500",
        "--fault-seed",
        "42",
        "--fault-kinds",
        "failBefore",
    ];
    let client = Client::new();
    for (bin, path) in [
        (env!("CARGO_BIN_EXE_crud-fake"), "/users/"),
        (env!("CARGO_BIN_EXE_auth0-fake"), "/users"),
    ] {
        let (mut child, uri) = start_binary(bin, &flags);
        let stats: Value = client
            .get(format!("{uri}/-/faults"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(stats["rate"], 1.0, "{bin}: {stats}");
        assert_eq!(stats["delayMs"], 1500, "{bin}: {stats}");
        let response = client.get(format!("{uri}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 500, "{bin}");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
