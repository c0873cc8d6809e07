//! `change_states` (`POST /users/state`) and `expire` (`POST /users/:id/expire`): the auth effect of
//! the target state comes before the store write, only the users whose effect succeeded change
//! state, and an auth user already gone counts as blocked or deleted.

use serde_json::{json, Value};

use super::fakes::failure;
use super::harness::{state, Harness};
use super::{body, journal};
use crate::auth::AuthError;
use crate::failure::Cause;
use crate::store::DocState;
use crate::users::lifecycle::{change_states, expire, state_requests};
use crate::users::UserError;

/// Moves the users `ids` to `to`, one request item each.
async fn move_users(h: &Harness, ids: &[&str], to: DocState) -> Result<u64, UserError> {
    let items = ids.iter().map(|id| (body(json!({"_id": id})), to));
    let requests = state_requests(items).unwrap();
    change_states(&h.svc, &h.ctx, &requests).await
}

async fn stored_state(h: &Harness, id: &str) -> String {
    state(&h.stored(id).await.unwrap()).to_owned()
}

#[tokio::test]
async fn a_state_change_blocks_the_auth_user_before_the_store_write() {
    let h = Harness::new().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &["viewer"]).await;
    assert_eq!(move_users(&h, &[&id], DocState::Trash).await.unwrap(), 1);
    let expected = ["store find", "auth update", "store set_state_many"];
    assert_eq!(h.journal(), journal(&expected));
    assert_eq!(stored_state(&h, &id).await, "TRASH");
    assert!(h.auth.user(&auth_id).unwrap().blocked);
    assert_eq!(h.rond.subjects(), vec![auth_id], "blocking keeps the bindings");
}

#[tokio::test]
async fn users_whose_auth_effect_failed_keep_their_state_and_the_others_change() {
    let h = Harness::new().await;
    let (first, first_auth) = h.seed_linked_user("ada@example.com", &[]).await;
    let (second, second_auth) = h.seed_linked_user("bob@example.com", &[]).await;
    let refused = AuthError::Failed(failure("Auth0 Client", Cause::Failed { status: Some(500) }));
    h.auth.faults.fail("update", 1, refused.clone());
    let error = move_users(&h, &[&first, &second], DocState::Trash)
        .await
        .unwrap_err();
    assert!(matches!(&error, UserError::Auth(e) if *e == refused), "{error:?}");
    let expected = [
        "store find",
        "auth update (failed)",
        "store find",
        "auth update",
        "store set_state_many",
    ];
    assert_eq!(h.journal.take(), journal(&expected));
    assert_eq!(stored_state(&h, &first).await, "PUBLIC");
    assert!(!h.auth.user(&first_auth).unwrap().blocked);
    assert_eq!(stored_state(&h, &second).await, "TRASH");
    assert!(h.auth.user(&second_auth).unwrap().blocked);
    // The retry matches only the user left behind.
    assert_eq!(
        move_users(&h, &[&first, &second], DocState::Trash).await.unwrap(),
        1
    );
    let retry = ["store find", "auth update", "store set_state_many", "store find"];
    assert_eq!(h.journal(), journal(&retry));
    assert_eq!(stored_state(&h, &first).await, "TRASH");
}

#[tokio::test]
async fn after_a_provider_timeout_the_remaining_linked_users_are_skipped() {
    let h = Harness::new().await;
    let (first, _) = h.seed_linked_user("ada@example.com", &[]).await;
    let (second, _) = h.seed_linked_user("bob@example.com", &[]).await;
    let store_only = h
        .seed_user(json!({"userGroup": "customer", "name": "Cy", "__STATE__": "PUBLIC"}))
        .await;
    h.auth.faults.fail(
        "update",
        1,
        AuthError::Failed(failure("Auth0 Client", Cause::Timeout)),
    );
    let items = vec![(body(json!({"userGroup": "customer"})), DocState::Draft)];
    let requests = state_requests(items).unwrap();
    let error = change_states(&h.svc, &h.ctx, &requests).await.unwrap_err();
    assert!(matches!(error, UserError::Auth(_)), "{error:?}");
    let expected = ["store find", "auth update (failed)", "store set_state_many"];
    assert_eq!(h.journal(), journal(&expected));
    assert_eq!(stored_state(&h, &first).await, "PUBLIC");
    assert_eq!(stored_state(&h, &second).await, "PUBLIC");
    assert_eq!(stored_state(&h, &store_only).await, "DRAFT");
}

/// A linked user in TRASH with roles; returns (`_id`, `authUserId`).
async fn trashed_user(h: &Harness) -> (String, String) {
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &["viewer"]).await;
    let inner = h.store.inner();
    inner
        .set_state(&h.ctx, &id, &Default::default(), DocState::Trash)
        .await
        .unwrap();
    (id, auth_id)
}

fn assert_deleted_and_unlinked(user: &Value) {
    assert_eq!(state(user), "DELETED");
    assert!(user.get("authUserId").is_none(), "{user}");
}

#[tokio::test]
async fn deleting_with_hard_delete_deletes_the_auth_user_then_unlinks_the_store_user() {
    let h = Harness::new().await;
    let (id, _) = trashed_user(&h).await;
    assert_eq!(move_users(&h, &[&id], DocState::Deleted).await.unwrap(), 1);
    // First the DELETED users still linked by an earlier call (none), then the TRASH ones.
    let expected = [
        "store find",
        "store find",
        "auth delete",
        "store set_state_many",
        "rond revoke",
        "store patch",
    ];
    assert_eq!(h.journal(), journal(&expected));
    assert_deleted_and_unlinked(&h.stored(&id).await.unwrap());
    assert!(h.auth.ids().is_empty() && h.rond.subjects().is_empty());
}

#[tokio::test]
async fn deleting_a_user_whose_auth_user_is_already_gone_completes() {
    let h = Harness::new().await;
    let (id, auth_id) = trashed_user(&h).await;
    h.auth.forget(&auth_id);
    assert_eq!(move_users(&h, &[&id], DocState::Deleted).await.unwrap(), 1);
    // First the DELETED users still linked by an earlier call (none), then the TRASH ones.
    let expected = [
        "store find",
        "store find",
        "auth delete (not found)",
        "store set_state_many",
        "rond revoke",
        "store patch",
    ];
    assert_eq!(h.journal(), journal(&expected));
    assert_deleted_and_unlinked(&h.stored(&id).await.unwrap());
    assert!(h.rond.subjects().is_empty());
}

#[tokio::test]
async fn a_state_change_failing_at_the_unlink_is_completed_by_a_retry() {
    let h = Harness::new().await;
    let (id, _) = trashed_user(&h).await;
    h.rond
        .faults
        .fail("revoke", 1, failure("Rönd", Cause::Unreachable));
    assert!(move_users(&h, &[&id], DocState::Deleted).await.is_err());
    assert_eq!(stored_state(&h, &id).await, "DELETED");
    move_users(&h, &[&id], DocState::Deleted).await.unwrap();
    assert_deleted_and_unlinked(&h.stored(&id).await.unwrap());
    assert!(h.rond.subjects().is_empty());
}

#[tokio::test]
async fn expire_blocks_the_auth_user_then_the_store_user() {
    let h = Harness::new().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &[]).await;
    expire(&h.svc, &h.ctx, &id, None).await.unwrap();
    assert_eq!(
        h.journal.take(),
        journal(&["store get", "auth update", "store patch"])
    );
    assert_eq!(h.stored(&id).await.unwrap()["blocked"], true);
    assert!(h.auth.user(&auth_id).unwrap().blocked);
    h.auth.forget(&auth_id);
    expire(&h.svc, &h.ctx, &id, None).await.unwrap();
    let again = ["store get", "auth update (not found)", "store patch"];
    assert_eq!(h.journal(), journal(&again));
}

#[tokio::test]
async fn a_failed_block_leaves_the_store_user_unblocked() {
    let h = Harness::new().await;
    let (id, _) = h.seed_linked_user("ada@example.com", &[]).await;
    h.auth.faults.fail(
        "update",
        1,
        AuthError::Failed(failure("Auth0 Client", Cause::Timeout)),
    );
    assert!(matches!(
        expire(&h.svc, &h.ctx, &id, None).await,
        Err(UserError::Auth(_))
    ));
    assert_eq!(h.journal(), journal(&["store get", "auth update (failed)"]));
    assert!(h.stored(&id).await.unwrap().get("blocked").is_none());
}

/// A linked user whose `expirationDate` is `date`.
async fn expiring_user(h: &Harness, date: &str) -> (String, String) {
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &[]).await;
    let set = json!({"$set": {"expirationDate": date}});
    let inner = h.store.inner();
    inner
        .patch(&h.ctx, &id, &crate::store::Filter::any_state(), &set)
        .await
        .unwrap();
    h.journal.take();
    (id, auth_id)
}

#[tokio::test]
async fn an_expiry_callback_for_the_current_date_blocks_the_user() {
    let h = Harness::new().await;
    let (id, auth_id) = expiring_user(&h, "2030-01-31T10:00:00Z").await;
    expire(&h.svc, &h.ctx, &id, Some("2030-01-31T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(h.journal(), journal(&["store get", "auth update", "store patch"]));
    assert!(h.auth.user(&auth_id).unwrap().blocked);
}

#[tokio::test]
async fn a_stale_expiry_callback_changes_nothing() {
    let h = Harness::new().await;
    // The timer was scheduled for an earlier date; the user's expirationDate moved since.
    let (id, auth_id) = expiring_user(&h, "2031-06-30T10:00:00Z").await;
    expire(&h.svc, &h.ctx, &id, Some("2030-01-31T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(h.journal(), journal(&["store get"]));
    assert!(!h.auth.user(&auth_id).unwrap().blocked);
    assert!(h.stored(&id).await.unwrap().get("blocked").is_none());
}
