//! Lockout over HTTP: 429 with `retry-after`, per account and per client address, the address
//! being the TCP peer unless the peer is a trusted proxy.

use serde_json::json;

use super::{answer, create, embedded, login, login_with, PASSWORD};

const WRONG: &str = "not-the-password";

fn locked() -> serde_json::Value {
    json!({"statusCode": 429, "error": "Too Many Requests", "message": "too many failed logins: try again later"})
}

#[tokio::test]
async fn after_max_failures_even_the_right_password_gets_a_429_with_retry_after() {
    let app = embedded(&[("LOGIN_MAX_FAILURES", "3"), ("LOGIN_LOCKOUT_SECONDS", "600")]).await;
    create(&app, "ann").await;
    for _ in 0..3 {
        assert_eq!(login(&app, "ann@example.com", WRONG).await.status(), 401);
    }
    let response = login(&app, "ann@example.com", PASSWORD).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((590..=600).contains(&retry_after), "{retry_after}");
    assert_eq!(answer(response).await, (429, locked()));
    create(&app, "bob").await;
    assert_eq!(
        login(&app, "bob@example.com", PASSWORD).await.status(),
        200,
        "other accounts are not locked"
    );
}

#[tokio::test]
async fn without_trusted_proxies_failures_count_on_the_tcp_peer_whatever_x_forwarded_for_says() {
    let app = embedded(&[
        ("LOGIN_MAX_FAILURES", "100"),
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "3"),
    ])
    .await;
    create(&app, "ann").await;
    for (i, name) in ["ann@example.com", "nobody@example.com", "ann"]
        .iter()
        .enumerate()
    {
        let spoofed = format!("198.51.100.{i}");
        let response = login_with(&app, name, WRONG, &[("x-forwarded-for", &spoofed)]).await;
        assert_eq!(response.status(), 401);
    }
    let fresh = [("x-forwarded-for", "203.0.113.50")];
    let response = login_with(&app, "ann@example.com", PASSWORD, &fresh).await;
    assert_eq!(answer(response).await, (429, locked()), "127.0.0.1 is locked");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_counted_and_a_neighbour_is_not_locked() {
    let app = embedded(&[
        ("LOGIN_MAX_FAILURES", "100"),
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "3"),
        ("TRUSTED_PROXIES", "127.0.0.0/8, 10.0.0.0/8"),
    ])
    .await;
    create(&app, "ann").await;
    // The client prepends a spoofed address; the proxies append the real ones.
    let attacker = [("x-forwarded-for", "192.0.2.1, 198.51.100.7, 10.0.0.5")];
    for _ in 0..3 {
        assert_eq!(
            login_with(&app, "ann@example.com", WRONG, &attacker)
                .await
                .status(),
            401
        );
    }
    let again = login_with(&app, "ann@example.com", PASSWORD, &attacker).await;
    assert_eq!(answer(again).await, (429, locked()));
    let neighbour = [("x-forwarded-for", "198.51.100.8")];
    let response = login_with(&app, "ann@example.com", PASSWORD, &neighbour).await;
    assert_eq!(response.status(), 200, "another client behind the same proxy");
    assert_eq!(
        login(&app, "ann@example.com", PASSWORD).await.status(),
        200,
        "the proxy itself is not locked"
    );
}
