//! Rate limit (429 + Auth0 headers, never more than N per second) and fault injection.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::json;
use ums_fakes::auth0::Auth0Fake;

use crate::{create, json_of, spawn};

#[tokio::test]
async fn change_password_over_the_rate_limit_is_429_with_auth0_headers() {
    let fake = Auth0Fake::builder().requests_per_second(2).build().spawn().await;
    let client = Client::new();
    let id = fake.insert_user("ada@x.io", None, "pw");
    let url = format!("{}/change-password", fake.uri());
    let calls = (0..5).map(|_| client.post(&url).json(&json!({ "userId": id })).send());
    let responses: Vec<reqwest::Response> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 204).count(), 2, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 3, "{statuses:?}");

    let limited = responses
        .into_iter()
        .find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .unwrap();
    let header = |name: &str| limited.headers()[name].to_str().unwrap().to_string();
    let retry_after: u64 = header("retry-after").parse().unwrap();
    assert_eq!(retry_after, 1);
    assert_eq!(header("x-ratelimit-limit"), "2");
    assert_eq!(header("x-ratelimit-remaining"), "0");
    let reset: u64 = header("x-ratelimit-reset").parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(reset >= now && reset <= now + 2, "reset {reset} now {now}");
    let message = "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.";
    let expected = json!({"statusCode": 429, "error": "Too Many Requests", "message": message});
    assert_eq!(json_of(limited).await, expected);
    assert_eq!(
        (fake.rate_limited_count(), fake.rate_limit_accepted_count()),
        (3, 2)
    );
    assert_eq!(fake.change_password_requests().len(), 2);
    // Other routes are not limited by default.
    for _ in 0..5 {
        assert_eq!(
            client
                .get(format!("{}/users", fake.uri()))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn rate_limit_never_lets_more_than_n_through_in_any_second() {
    let fake = Auth0Fake::builder().requests_per_second(3).build().spawn().await;
    let client = Client::new();
    let id = fake.insert_user("ada@x.io", None, "pw");
    let url = format!("{}/change-password", fake.uri());
    let started = Instant::now();
    let workers = (0..4).map(|_| {
        let (client, url, id) = (client.clone(), url.clone(), id.clone());
        tokio::spawn(async move {
            while started.elapsed() < Duration::from_millis(2300) {
                let response = client
                    .post(&url)
                    .json(&json!({ "userId": id }))
                    .send()
                    .await
                    .unwrap();
                if response.status() == StatusCode::TOO_MANY_REQUESTS {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        })
    });
    futures::future::join_all(workers).await;
    let delivered: Vec<Instant> = fake
        .change_password_requests()
        .into_iter()
        .map(|(_, at)| at)
        .collect();
    assert!(
        (6..=9).contains(&delivered.len()),
        "delivered {}",
        delivered.len()
    );
    for window in delivered.windows(4) {
        let span = window[3].duration_since(window[0]);
        assert!(span >= Duration::from_millis(950), "4 deliveries within {span:?}");
    }
    assert!(fake.rate_limited_count() > 0);
}

#[tokio::test]
async fn rate_limit_all_routes_covers_users_but_not_probes() {
    let fake = Auth0Fake::builder()
        .requests_per_second(1)
        .rate_limit_all_routes(true)
        .build()
        .spawn()
        .await;
    let client = Client::new();
    let users = format!("{}/users", fake.uri());
    assert_eq!(client.get(&users).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        client.get(&users).send().await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    for probe in ["/-/healthz", "/-/ready", "/-/check-up"] {
        let response = client.get(format!("{}{probe}", fake.uri())).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            json_of(response).await,
            json!({"status": "OK", "name": "auth0-fake", "version": "0.1.0"})
        );
    }
    assert_eq!(fake.rate_limited_count(), 1);
}

#[tokio::test]
async fn injected_failures_and_delays_hit_only_matching_requests() {
    let fake = spawn().await;
    let client = Client::new();
    fake.fail_next("POST", "/users", 503, 1);
    fake.delay_next("GET", "/users", Duration::from_millis(300), 1);

    let failed = create(&client, &fake, json!({"email": "a@x.io", "password": "pw"})).await;
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json_of(failed).await;
    assert_eq!(
        (&body["statusCode"], &body["error"]),
        (&json!(503), &json!("Service Unavailable"))
    );
    assert!(fake.users().is_empty());
    let created = create(&client, &fake, json!({"email": "a@x.io", "password": "pw"})).await;
    assert_eq!(created.status(), StatusCode::CREATED);

    let started = Instant::now();
    assert_eq!(
        client
            .get(format!("{}/users", fake.uri()))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(
        client
            .get(format!("{}/users", fake.uri()))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert!(started.elapsed() < Duration::from_millis(300));
}
