//! Login lockout of the local provider, on its injected clock: per account (persisted on the
//! credential), per unknown login name and per client address (in memory).

use std::net::IpAddr;
use std::time::Duration;

use serde_json::json;
use user_manager_service::auth::{AuthError, AuthProvider, AuthResult, SessionGrant};
use user_manager_service::config::LoginLockout;
use user_manager_service::context::CallContext;
use user_manager_service::secret::Secret;
use user_manager_service::store::FindQuery;

use super::{create, ctx, local_with, refusal, Local, PASSWORD, SECOND};

const LOCKOUT: Duration = Duration::from_secs(900);
const WRONG: (u16, &str) = (401, "wrong username or password");

fn policy(max_failures: u32, max_failures_per_address: u32) -> LoginLockout {
    LoginLockout {
        max_failures,
        max_failures_per_address,
        lockout: LOCKOUT,
    }
}

/// A context from client address `ip`.
fn from(ip: &str) -> CallContext {
    CallContext {
        client_address: Some(ip.parse::<IpAddr>().unwrap()),
        ..ctx()
    }
}

async fn try_login(
    local: &Local,
    ctx: &CallContext,
    login: &str,
    password: &str,
) -> AuthResult<SessionGrant> {
    local.auth.login(ctx, login, &Secret::new(password)).await
}

/// The wait of a 429, panicking on anything else.
fn locked_for(result: AuthResult<SessionGrant>) -> Duration {
    match result.map(|_| ()).unwrap_err() {
        AuthError::RateLimited {
            retry_after: Some(wait),
            message,
        } => {
            assert_eq!(message, "too many failed logins: try again later");
            wait
        }
        other => panic!("expected a 429, got {other:?}"),
    }
}

fn wrong(result: AuthResult<SessionGrant>) {
    let (status, message) = refusal(result);
    assert_eq!((status, message.as_str()), WRONG);
}

#[tokio::test]
async fn an_account_is_locked_after_max_failures_even_for_the_right_password_until_the_lockout_ends() {
    let local = local_with(None, policy(3, 1000)).await;
    create(&local, "ann", false).await;
    for _ in 0..3 {
        wrong(try_login(&local, &ctx(), "ann", "not-the-password").await);
    }
    assert_eq!(
        locked_for(try_login(&local, &ctx(), "ann", PASSWORD).await),
        LOCKOUT
    );
    assert_eq!(
        locked_for(try_login(&local, &ctx(), "ANN@example.com", PASSWORD).await),
        LOCKOUT,
        "by email too"
    );

    local.clock.advance(LOCKOUT - SECOND);
    assert_eq!(
        locked_for(try_login(&local, &ctx(), "ann", PASSWORD).await),
        SECOND
    );
    local.clock.advance(SECOND);
    assert!(
        try_login(&local, &ctx(), "ann", PASSWORD).await.is_ok(),
        "the lock has ended"
    );
}

#[tokio::test]
async fn the_lockout_is_kept_on_the_credential_for_every_replica_and_a_success_clears_it() {
    let local = local_with(None, policy(3, 1000)).await;
    create(&local, "ann", false).await;
    for _ in 0..2 {
        wrong(try_login(&local, &ctx(), "ann", "not-the-password").await);
    }
    let stored = local
        .credentials
        .find(&ctx(), &FindQuery::default())
        .await
        .unwrap();
    assert_eq!(stored[0]["failedLogins"], json!(2));
    assert!(try_login(&local, &ctx(), "ann", PASSWORD).await.is_ok());
    let stored = local
        .credentials
        .find(&ctx(), &FindQuery::default())
        .await
        .unwrap();
    assert_eq!(stored[0]["failedLogins"], json!(0), "a success resets the count");

    for _ in 0..2 {
        wrong(try_login(&local, &ctx(), "ann", "not-the-password").await);
    }
    assert!(
        try_login(&local, &ctx(), "ann", PASSWORD).await.is_ok(),
        "failures must be consecutive"
    );
    for _ in 0..3 {
        wrong(try_login(&local, &ctx(), "ann", "not-the-password").await);
    }
    let stored = local
        .credentials
        .find(&ctx(), &FindQuery::default())
        .await
        .unwrap();
    assert!(stored[0]["lockedUntil"].is_string(), "{}", stored[0]);
}

#[tokio::test]
async fn unknown_login_names_and_blocked_users_lock_like_accounts_with_wrong_passwords() {
    let local = local_with(None, policy(2, 1000)).await;
    create(&local, "bob", true).await;
    for _ in 0..2 {
        wrong(try_login(&local, &ctx(), "nobody", PASSWORD).await);
        wrong(try_login(&local, &ctx(), "bob", PASSWORD).await);
    }
    assert_eq!(
        locked_for(try_login(&local, &ctx(), "nobody", PASSWORD).await),
        LOCKOUT
    );
    assert_eq!(
        locked_for(try_login(&local, &ctx(), "bob", PASSWORD).await),
        LOCKOUT
    );
}

#[tokio::test]
async fn a_client_address_is_locked_after_its_own_higher_threshold_across_accounts() {
    let local = local_with(None, policy(100, 3)).await;
    create(&local, "ann", false).await;
    create(&local, "cy", false).await;
    let attacker = from("198.51.100.7");
    for name in ["ann", "cy", "nobody"] {
        wrong(try_login(&local, &attacker, name, "guess-guess-guess").await);
    }
    assert_eq!(
        locked_for(try_login(&local, &attacker, "ann", PASSWORD).await),
        LOCKOUT,
        "the address is locked, whatever the account"
    );
    let neighbour = from("198.51.100.8");
    assert!(
        try_login(&local, &neighbour, "ann", PASSWORD).await.is_ok(),
        "another address is not"
    );
    assert!(
        try_login(&local, &ctx(), "cy", PASSWORD).await.is_ok(),
        "nor a call without one"
    );

    local.clock.advance(LOCKOUT);
    assert!(
        try_login(&local, &attacker, "ann", PASSWORD).await.is_ok(),
        "the lock has ended"
    );
}

#[tokio::test]
async fn ipv6_clients_are_counted_by_their_64_block() {
    let local = local_with(None, policy(100, 2)).await;
    create(&local, "ann", false).await;
    wrong(try_login(&local, &from("2001:db8:1:2::1"), "ann", "guess-guess-guess").await);
    wrong(try_login(&local, &from("2001:db8:1:2::2"), "ann", "guess-guess-guess").await);
    let same_block = from("2001:db8:1:2:ffff::9");
    assert_eq!(
        locked_for(try_login(&local, &same_block, "ann", PASSWORD).await),
        LOCKOUT
    );
    assert!(try_login(&local, &from("2001:db8:1:3::1"), "ann", PASSWORD)
        .await
        .is_ok());
}
