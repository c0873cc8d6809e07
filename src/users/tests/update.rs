//! `update_user` (`PATCH /users/:id`): the compare-and-set store write, then the provider, Rönd and
//! the Timer Service; a failure after the store write reverts every completed step, the store last.

use serde_json::{json, Value};

use super::fakes::failure;
use super::harness::{with_logs, Harness};
use super::journal;
use crate::auth::AuthError;
use crate::failure::Cause;
use crate::store::{Filter, StoreError};
use crate::users::update::update_user;
use crate::users::UserError;

async fn update(h: &Harness, id: &str, update: Value) -> Result<Value, UserError> {
    update_user(&h.svc, &h.ctx, id, Filter::default(), update).await
}

fn roles(granted: &[&[&str]]) -> Vec<Vec<String>> {
    granted
        .iter()
        .map(|set| set.iter().map(|r| (*r).to_owned()).collect())
        .collect()
}

/// The stored user's fields that an update may change.
async fn fields(h: &Harness, id: &str) -> Value {
    let user = h.stored(id).await.unwrap();
    json!({"email": user["email"], "roles": user["roles"], "expirationDate": user.get("expirationDate"),
           "expirationId": user.get("expirationId")})
}

#[tokio::test]
async fn an_email_change_reaches_the_provider_after_the_store() {
    let h = Harness::new().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &["viewer"]).await;
    let user = update(&h, &id, json!({"$set": {"email": "ada@new.example"}}))
        .await
        .unwrap();
    assert_eq!(user["email"], "ada@new.example");
    assert_eq!(h.journal(), journal(&["store get", "store patch", "auth update"]));
    let auth = h.auth.user(&auth_id).unwrap();
    assert_eq!(auth.email.as_deref(), Some("ada@new.example"));
    assert_eq!(h.rond.grants(&auth_id), roles(&[&["viewer"]]), "roles untouched");
}

#[tokio::test]
async fn a_provider_refusal_reverts_the_store_write() {
    let h = Harness::new().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &["viewer"]).await;
    let before = fields(&h, &id).await;
    h.auth
        .faults
        .fail("update", 1, AuthError::Conflict("email taken".into()));
    let error = update(&h, &id, json!({"$set": {"email": "taken@example.com"}}))
        .await
        .unwrap_err();
    assert!(
        matches!(error, UserError::Auth(AuthError::Conflict(_))),
        "{error:?}"
    );
    let expected = ["store get", "store patch", "auth update (failed)", "store patch"];
    assert_eq!(h.journal(), journal(&expected));
    assert_eq!(fields(&h, &id).await, before);
    let auth = h.auth.user(&auth_id).unwrap();
    assert_eq!(auth.email.as_deref(), Some("ada@example.com"));
}

#[tokio::test]
async fn new_roles_replace_the_old_ones() {
    let h = Harness::new().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &["viewer"]).await;
    update(&h, &id, json!({"$set": {"roles": ["admin"]}}))
        .await
        .unwrap();
    let expected = ["store get", "store patch", "rond revoke", "rond grant"];
    assert_eq!(h.journal(), journal(&expected));
    assert_eq!(h.rond.grants(&auth_id), roles(&[&["admin"]]));
}

#[tokio::test]
async fn a_failed_grant_restores_the_old_roles_and_reverts_the_store() {
    let h = Harness::new().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &["viewer"]).await;
    let before = fields(&h, &id).await;
    let refused = failure("Rönd", Cause::Failed { status: Some(500) });
    h.rond.faults.fail("grant", 1, refused.clone());
    let error = update(&h, &id, json!({"$set": {"roles": ["admin"]}}))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, UserError::Failed(f) if *f == refused),
        "{error:?}"
    );
    let expected = [
        "store get",
        "store patch",
        "rond revoke",
        "rond grant (failed)",
        "rond grant",
        "store patch",
    ];
    assert_eq!(h.journal(), journal(&expected));
    assert_eq!(h.rond.grants(&auth_id), roles(&[&["viewer"]]));
    assert_eq!(fields(&h, &id).await, before);
}

#[tokio::test]
async fn a_failed_schedule_undoes_the_roles_then_the_provider_then_the_store() {
    let h = Harness::new().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &["viewer"]).await;
    let before = fields(&h, &id).await;
    let down = failure("Timer Service", Cause::Unreachable);
    h.timer.faults.fail("schedule", 1, down.clone());
    let change = json!({"$set": {"email": "ada@new.example", "roles": ["admin"],
                                 "expirationDate": "2030-01-31T10:00:00Z"}});
    let error = update(&h, &id, change).await.unwrap_err();
    assert!(matches!(&error, UserError::Failed(f) if *f == down), "{error:?}");
    let expected = [
        "store get",
        "store patch",
        "auth update",
        "rond revoke",
        "rond grant",
        "timer schedule (failed)",
        "rond revoke",
        "rond grant",
        "auth update",
        "store patch",
    ];
    assert_eq!(h.journal(), journal(&expected));
    assert_eq!(fields(&h, &id).await, before);
    let auth = h.auth.user(&auth_id).unwrap();
    assert_eq!(auth.email.as_deref(), Some("ada@example.com"));
    assert_eq!(h.rond.grants(&auth_id), roles(&[&["viewer"]]));
    assert!(h.timer.pending().is_empty());
}

/// A linked user whose expiry timer `timer-old` is pending; returns its `_id`.
async fn expiring_user(h: &Harness) -> String {
    let (id, _) = h.seed_linked_user("ada@example.com", &[]).await;
    let expiry = json!({"$set": {"expirationDate": "2030-01-01T00:00:00Z", "expirationId": "timer-old"}});
    let inner = h.store.inner();
    inner
        .patch(&h.ctx, &id, &Filter::any_state(), &expiry)
        .await
        .unwrap();
    h.timer.seed("timer-old", &format!("/users/{id}/expire"));
    id
}

#[tokio::test]
async fn a_new_expiry_is_recorded_before_the_previous_timer_is_aborted() {
    let h = Harness::new().await;
    let id = expiring_user(&h).await;
    let user = update(
        &h,
        &id,
        json!({"$set": {"expirationDate": "2031-01-01T00:00:00Z"}}),
    )
    .await
    .unwrap();
    assert_eq!(
        user["expirationId"], "timer-1",
        "the answer is the last store write"
    );
    let expected = [
        "store get",
        "store patch",
        "timer schedule",
        "store patch",
        "timer abort",
    ];
    assert_eq!(h.journal(), journal(&expected));
    let pending: Vec<String> = h.timer.pending().into_iter().map(|(id, _)| id).collect();
    assert_eq!(pending, vec!["timer-1".to_owned()]);
}

#[tokio::test]
async fn a_failed_expiration_id_write_aborts_the_new_timer_and_keeps_the_old_one() {
    let h = Harness::new().await;
    let id = expiring_user(&h).await;
    let before = fields(&h, &id).await;
    h.store
        .faults
        .fail("patch", 2, StoreError::Failed(failure("CRUD", Cause::Timeout)));
    let error = update(
        &h,
        &id,
        json!({"$set": {"expirationDate": "2031-01-01T00:00:00Z"}}),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, UserError::Store(_)), "{error:?}");
    let expected = [
        "store get",
        "store patch",
        "timer schedule",
        "store patch (failed)",
        "timer abort",
        "store patch",
    ];
    assert_eq!(h.journal(), journal(&expected));
    assert_eq!(fields(&h, &id).await, before);
    let pending: Vec<String> = h.timer.pending().into_iter().map(|(id, _)| id).collect();
    assert_eq!(pending, vec!["timer-old".to_owned()]);
}

#[tokio::test]
async fn a_store_write_that_timed_out_after_applying_is_verified_and_the_update_completes() {
    let h = Harness::new().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &[]).await;
    let timeout = StoreError::Failed(failure("CRUD", Cause::Timeout));
    h.store.faults.fail_after_applying("patch", 1, timeout);
    let updated = update(&h, &id, json!({"$set": {"email": "ada@new.example"}}))
        .await
        .unwrap();
    assert_eq!(updated["email"], "ada@new.example");
    let expected = ["store get", "store patch (failed)", "store get", "auth update"];
    assert_eq!(h.journal(), journal(&expected));
    let auth = h.auth.user(&auth_id).unwrap();
    assert_eq!(
        auth.email.as_deref(),
        Some("ada@new.example"),
        "the email reaches the provider"
    );
}

#[tokio::test]
async fn a_store_write_that_timed_out_before_applying_is_verified_and_not_undone() {
    let h = Harness::new().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &[]).await;
    let before = fields(&h, &id).await;
    let timeout = StoreError::Failed(failure("CRUD", Cause::Timeout));
    h.store.faults.fail("patch", 1, timeout.clone());
    let error = update(&h, &id, json!({"$set": {"email": "ada@new.example"}}))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, UserError::Store(e) if *e == timeout),
        "{error:?}"
    );
    let expected = ["store get", "store patch (failed)", "store get"];
    assert_eq!(h.journal(), journal(&expected));
    assert_eq!(fields(&h, &id).await, before);
    let auth = h.auth.user(&auth_id).unwrap();
    assert_eq!(
        auth.email.as_deref(),
        Some("ada@example.com"),
        "the provider is not called"
    );
}

#[tokio::test]
async fn a_refused_store_write_is_not_reverted() {
    let h = Harness::new().await;
    let (id, _) = h.seed_linked_user("ada@example.com", &[]).await;
    h.seed_user(json!({"userGroup": "customer", "name": "Bob", "email": "bob@example.com"}))
        .await;
    let error = update(&h, &id, json!({"$set": {"email": "bob@example.com"}}))
        .await
        .unwrap_err();
    assert!(
        matches!(error, UserError::Store(StoreError::Conflict { .. })),
        "{error:?}"
    );
    assert_eq!(h.journal(), journal(&["store get", "store patch (failed)"]));
}

#[tokio::test]
async fn a_user_changed_between_the_read_and_the_write_is_a_conflict() {
    let h = Harness::new().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &[]).await;
    let (inner, ctx, target) = (h.store.inner(), h.ctx.clone(), id.clone());
    h.store.faults.before("patch", 1, async move {
        // `updatedAt` has millisecond precision: let the concurrent write get a later one.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let rename = json!({"$set": {"name": "Concurrent"}});
        inner
            .patch(&ctx, &target, &Filter::any_state(), &rename)
            .await
            .unwrap();
    });
    let error = update(&h, &id, json!({"$set": {"email": "ada@new.example"}}))
        .await
        .unwrap_err();
    assert!(matches!(error, UserError::Conflict(_)), "{error:?}");
    assert_eq!(h.journal(), journal(&["store get", "store patch"]));
    let user = h.stored(&id).await.unwrap();
    assert_eq!(
        (&user["name"], &user["email"]),
        (&json!("Concurrent"), &json!("ada@example.com"))
    );
    assert_eq!(
        h.auth.user(&auth_id).unwrap().email.as_deref(),
        Some("ada@example.com")
    );
}

#[tokio::test]
async fn a_failed_store_revert_is_logged_and_the_provider_error_returned() {
    let h = Harness::new().await;
    let (id, _) = h.seed_linked_user("ada@example.com", &[]).await;
    let refused = AuthError::Failed(failure("Auth0 Client", Cause::Failed { status: Some(500) }));
    h.auth.faults.fail("update", 1, refused.clone());
    h.store.faults.fail(
        "patch",
        2,
        StoreError::Failed(failure("CRUD", Cause::Unreachable)),
    );
    let change = json!({"$set": {"email": "ada@new.example"}});
    let (result, logs) = with_logs(update(&h, &id, change)).await;
    let error = result.unwrap_err();
    assert!(matches!(&error, UserError::Auth(e) if *e == refused), "{error:?}");
    let expected = [
        "store get",
        "store patch",
        "auth update (failed)",
        "store patch (failed)",
    ];
    assert_eq!(h.journal(), journal(&expected));
    assert_eq!(
        h.stored(&id).await.unwrap()["email"],
        "ada@new.example",
        "left for a human"
    );
    let line = logs
        .lines()
        .find(|l| l.contains("compensation failed: repair by hand"))
        .unwrap_or_else(|| panic!("no compensation error in {logs}"));
    assert!(
        line.contains("update store user") && line.contains("[email]"),
        "{line}"
    );
}

#[tokio::test]
async fn old_roles_that_cannot_be_granted_back_are_logged_and_the_grant_error_returned() {
    let h = Harness::new().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &["viewer"]).await;
    let refused = failure("Rönd", Cause::Failed { status: Some(500) });
    h.rond.faults.fail("grant", 1, refused.clone());
    h.rond.faults.fail("grant", 2, failure("Rönd", Cause::Timeout));
    let change = json!({"$set": {"roles": ["admin"]}});
    let (result, logs) = with_logs(update(&h, &id, change)).await;
    let error = result.unwrap_err();
    assert!(
        matches!(&error, UserError::Failed(f) if *f == refused),
        "{error:?}"
    );
    let expected = [
        "store get",
        "store patch",
        "rond revoke",
        "rond grant (failed)",
        "rond grant (failed)",
        "store patch",
    ];
    assert_eq!(h.journal(), journal(&expected));
    assert!(
        h.rond.grants(&auth_id).is_empty(),
        "left with no roles for a human to fix"
    );
    assert_eq!(h.stored(&id).await.unwrap()["roles"], json!(["viewer"]));
    assert!(
        logs.contains("re-granting the previous roles failed: grant them by hand"),
        "{logs}"
    );
}
