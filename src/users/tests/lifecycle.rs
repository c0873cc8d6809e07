//! `delete` (`DELETE /users/:id`) and `soft_delete` (`POST /users/:id/soft-delete`): the auth user
//! is deleted (or blocked) before the store write, an auth user already gone counts as deleted,
//! and a failed step leaves the store user so that a retry completes the job.

use serde_json::json;

use super::fakes::failure;
use super::harness::{state, with_logs, Harness};
use super::journal;
use crate::auth::AuthError;
use crate::failure::Cause;
use crate::store::Filter;
use crate::users::lifecycle::{delete, soft_delete};
use crate::users::UserError;

/// A linked PUBLIC user with roles and a pending expiry timer; returns (`_id`, `authUserId`).
async fn full_user(h: &Harness) -> (String, String) {
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &["viewer"]).await;
    let expiry = json!({"$set": {"expirationDate": "2030-01-01T00:00:00Z", "expirationId": "timer-9"}});
    let inner = h.store.inner();
    inner
        .patch(&h.ctx, &id, &Filter::any_state(), &expiry)
        .await
        .unwrap();
    h.timer.seed("timer-9", &format!("/users/{id}/expire"));
    (id, auth_id)
}

const DELETE: [&str; 5] = [
    "store get",
    "auth delete",
    "rond revoke",
    "store delete",
    "timer abort",
];

#[tokio::test]
async fn delete_removes_the_auth_user_and_bindings_before_the_store_user_then_the_timer() {
    let h = Harness::new().await;
    let (id, _) = full_user(&h).await;
    delete(&h.svc, &h.ctx, &id).await.unwrap();
    assert_eq!(h.journal(), journal(&DELETE));
    h.assert_nothing_left().await;
}

#[tokio::test]
async fn delete_of_a_user_whose_auth_user_is_already_gone_completes() {
    let h = Harness::new().await;
    let (id, auth_id) = full_user(&h).await;
    h.auth.forget(&auth_id);
    delete(&h.svc, &h.ctx, &id).await.unwrap();
    let expected = [
        "store get",
        "auth delete (not found)",
        "rond revoke",
        "store delete",
        "timer abort",
    ];
    assert_eq!(h.journal(), journal(&expected));
    h.assert_nothing_left().await;
}

#[tokio::test]
async fn a_failed_auth_delete_keeps_everything_and_a_retry_completes() {
    let h = Harness::new().await;
    let (id, auth_id) = full_user(&h).await;
    let timeout = AuthError::Failed(failure("Auth0 Client", Cause::Timeout));
    h.auth.faults.fail("delete", 1, timeout.clone());
    let error = delete(&h.svc, &h.ctx, &id).await.unwrap_err();
    assert!(matches!(&error, UserError::Auth(e) if *e == timeout), "{error:?}");
    assert_eq!(h.journal.take(), journal(&["store get", "auth delete (failed)"]));
    assert!(h.stored(&id).await.is_some() && h.auth.user(&auth_id).is_some());
    assert_eq!(h.rond.subjects(), vec![auth_id]);
    delete(&h.svc, &h.ctx, &id).await.unwrap();
    assert_eq!(h.journal(), journal(&DELETE));
    h.assert_nothing_left().await;
}

#[tokio::test]
async fn a_failed_revoke_keeps_the_store_user_and_a_retry_completes() {
    let h = Harness::new().await;
    let (id, _) = full_user(&h).await;
    h.rond
        .faults
        .fail("revoke", 1, failure("Rönd", Cause::Unreachable));
    let error = delete(&h.svc, &h.ctx, &id).await.unwrap_err();
    assert!(matches!(error, UserError::Failed(_)), "{error:?}");
    let failed = ["store get", "auth delete", "rond revoke (failed)"];
    assert_eq!(h.journal.take(), journal(&failed));
    assert!(
        h.stored(&id).await.is_some(),
        "the store user stays for the retry"
    );
    delete(&h.svc, &h.ctx, &id).await.unwrap();
    let retry = [
        "store get",
        "auth delete (not found)",
        "rond revoke",
        "store delete",
        "timer abort",
    ];
    assert_eq!(h.journal(), journal(&retry));
    h.assert_nothing_left().await;
}

#[tokio::test]
async fn a_failed_timer_abort_is_only_logged() {
    let h = Harness::new().await;
    let (id, _) = full_user(&h).await;
    h.timer
        .faults
        .fail("abort", 1, failure("Timer Service", Cause::Timeout));
    let (result, logs) = with_logs(delete(&h.svc, &h.ctx, &id)).await;
    result.unwrap();
    let expected = [
        "store get",
        "auth delete",
        "rond revoke",
        "store delete",
        "timer abort (failed)",
    ];
    assert_eq!(h.journal(), journal(&expected));
    assert!(h.stored(&id).await.is_none());
    assert!(logs.contains("expiry timer was not aborted"), "{logs}");
}

#[tokio::test]
async fn without_hard_delete_the_auth_user_is_blocked_not_deleted() {
    let h = Harness::builder().soft_auth_delete().build().await;
    let (id, auth_id) = full_user(&h).await;
    delete(&h.svc, &h.ctx, &id).await.unwrap();
    let expected = [
        "store get",
        "auth update",
        "rond revoke",
        "store delete",
        "timer abort",
    ];
    assert_eq!(h.journal(), journal(&expected));
    assert!(h.stored(&id).await.is_none());
    assert!(h.auth.user(&auth_id).unwrap().blocked);
}

#[tokio::test]
async fn delete_of_an_unknown_user_is_not_found_and_calls_nothing_else() {
    let h = Harness::new().await;
    let error = delete(&h.svc, &h.ctx, "000000000000000000000000")
        .await
        .unwrap_err();
    assert!(matches!(error, UserError::NotFound(_)), "{error:?}");
    assert_eq!(h.journal(), journal(&["store get"]));
}

/// The steps of a soft delete of a linked PUBLIC user with hard delete.
const SOFT_DELETE: [&str; 7] = [
    "store get",
    "auth update",
    "store set_state",
    "auth delete",
    "store set_state",
    "rond revoke",
    "store patch",
];

/// The user is DELETED, unlinked, its auth user and bindings gone.
async fn assert_soft_deleted(h: &Harness, id: &str) {
    let user = h.stored(id).await.unwrap();
    assert_eq!(state(&user), "DELETED");
    assert!(user.get("authUserId").is_none(), "{user}");
    assert!(h.auth.ids().is_empty() && h.rond.subjects().is_empty());
}

#[tokio::test]
async fn soft_delete_blocks_trashes_deletes_then_unlinks() {
    let h = Harness::new().await;
    let (id, _) = h.seed_linked_user("ada@example.com", &["viewer"]).await;
    soft_delete(&h.svc, &h.ctx, &id).await.unwrap();
    assert_eq!(h.journal(), journal(&SOFT_DELETE));
    assert_soft_deleted(&h, &id).await;
}

#[tokio::test]
async fn soft_delete_of_a_user_whose_auth_user_is_already_gone_completes() {
    let h = Harness::new().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &["viewer"]).await;
    h.auth.forget(&auth_id);
    soft_delete(&h.svc, &h.ctx, &id).await.unwrap();
    let expected = [
        "store get",
        "auth update (not found)",
        "store set_state",
        "auth delete (not found)",
        "store set_state",
        "rond revoke",
        "store patch",
    ];
    assert_eq!(h.journal(), journal(&expected));
    assert_soft_deleted(&h, &id).await;
}

#[tokio::test]
async fn a_soft_delete_failing_at_the_auth_delete_resumes_from_trash() {
    let h = Harness::new().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &["viewer"]).await;
    h.auth.faults.fail(
        "delete",
        1,
        AuthError::Failed(failure("Auth0 Client", Cause::Dropped)),
    );
    let error = soft_delete(&h.svc, &h.ctx, &id).await.unwrap_err();
    assert!(matches!(error, UserError::Auth(_)), "{error:?}");
    let failed = [
        "store get",
        "auth update",
        "store set_state",
        "auth delete (failed)",
    ];
    assert_eq!(h.journal.take(), journal(&failed));
    assert_eq!(state(&h.stored(&id).await.unwrap()), "TRASH");
    assert!(h.auth.user(&auth_id).unwrap().blocked);
    soft_delete(&h.svc, &h.ctx, &id).await.unwrap();
    let retry = [
        "store get",
        "auth delete",
        "store set_state",
        "rond revoke",
        "store patch",
    ];
    assert_eq!(h.journal(), journal(&retry));
    assert_soft_deleted(&h, &id).await;
}

#[tokio::test]
async fn a_soft_delete_failing_at_the_unlink_is_completed_by_a_retry() {
    let h = Harness::new().await;
    let (id, _) = h.seed_linked_user("ada@example.com", &["viewer"]).await;
    h.rond
        .faults
        .fail("revoke", 1, failure("Rönd", Cause::Unreachable));
    assert!(soft_delete(&h.svc, &h.ctx, &id).await.is_err());
    assert_eq!(state(&h.stored(&id).await.unwrap()), "DELETED");
    soft_delete(&h.svc, &h.ctx, &id).await.unwrap();
    assert_soft_deleted(&h, &id).await;
}

#[tokio::test]
async fn soft_delete_without_hard_delete_blocks_and_keeps_the_link() {
    let h = Harness::builder().soft_auth_delete().build().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &["viewer"]).await;
    soft_delete(&h.svc, &h.ctx, &id).await.unwrap();
    let expected = [
        "store get",
        "auth update",
        "store set_state",
        "auth update",
        "store set_state",
    ];
    assert_eq!(h.journal(), journal(&expected));
    let user = h.stored(&id).await.unwrap();
    assert_eq!((state(&user), &user["authUserId"]), ("DELETED", &json!(auth_id)));
    assert!(h.auth.user(&auth_id).unwrap().blocked);
    assert_eq!(h.rond.subjects(), vec![auth_id], "bindings kept");
}

#[tokio::test]
async fn soft_delete_of_a_deleted_user_does_nothing() {
    let h = Harness::new().await;
    let id = h
        .seed_user(json!({"userGroup": "customer", "name": "Gone", "__STATE__": "DELETED"}))
        .await;
    soft_delete(&h.svc, &h.ctx, &id).await.unwrap();
    assert_eq!(h.journal(), journal(&["store get"]));
}
