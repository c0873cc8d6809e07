//! The saga journal and its recovery: intents left open by a crash (written here directly) or by
//! a failed compensation are finished or rolled back by the recovery worker; a retried PATCH
//! finishes what the first attempt owed; an insert whose answer was lost is verified.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::body;
use super::fakes::failure;
use super::harness::Harness;
use crate::failure::Cause;
use crate::journal::recovery::Recovery;
use crate::journal::{Intent, Journal, LoginKey, Operation, Plan};
use crate::store::{DocState, Filter, StoreError};
use crate::users::create::{create_user, CreateOptions};
use crate::users::update::update_user;

async fn harness() -> Harness {
    Harness::builder().with_sagas().build().await
}

fn journal(h: &Harness) -> &Journal {
    h.svc.journal.as_ref().unwrap()
}

async fn begin(h: &Harness, operation: Operation, ids: &[&str], email: Option<&str>, auth: Option<&str>) {
    let key = LoginKey {
        email: email.map(str::to_owned),
        username: None,
    };
    begin_plan(h, Plan::new(operation, ids).auth_user(auth).key(key)).await;
}

/// Begins `plan` as a request that then "crashed": its intent stays open.
async fn begin_plan(h: &Harness, plan: Plan) {
    let operation = plan.operation.unwrap();
    let open = journal(h).begin(&h.ctx, operation, plan).await.unwrap();
    drop(open);
}

async fn open_intents(h: &Harness) -> Vec<Intent> {
    journal(h).all_open(&h.ctx, 100).await.unwrap()
}

/// Runs the recovery worker once with no grace; returns how many intents it closed.
async fn recover(h: &Harness) -> usize {
    tokio::time::sleep(Duration::from_millis(5)).await;
    let worker = Recovery::new(journal(h).clone(), Arc::new(h.svc.clone()), Duration::ZERO);
    worker.run_once(&h.ctx).await.unwrap()
}

/// Moves the store user `id` to `states`, one after the other, directly (not journaled).
async fn move_to(h: &Harness, id: &str, states: &[DocState]) {
    let inner = h.store.inner();
    for &state in states {
        inner
            .set_state(&h.ctx, id, &Filter::any_state(), state)
            .await
            .unwrap();
    }
}

fn customer(email: &str) -> Value {
    json!({"userGroup": "customer", "name": "Ada", "email": email, "__STATE__": "PUBLIC"})
}

#[tokio::test]
async fn a_create_that_crashed_after_its_insert_is_rolled_back() {
    let h = harness().await;
    begin(&h, Operation::Create, &[], Some("ada@example.com"), None).await;
    h.seed_user(customer("ada@example.com")).await;
    assert_eq!(recover(&h).await, 1);
    assert_eq!(h.stored_users().await, Vec::<Value>::new());
    assert!(open_intents(&h).await.is_empty());
}

#[tokio::test]
async fn a_user_created_before_the_intent_is_never_claimed_by_its_key() {
    let h = harness().await;
    let id = h.seed_user(customer("ada@example.com")).await;
    // Beyond the second of clock skew the key lookup allows.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    begin(&h, Operation::Create, &[], Some("ada@example.com"), None).await;
    assert_eq!(recover(&h).await, 1);
    assert!(h.stored(&id).await.is_some(), "a pre-existing user is left alone");
}

#[tokio::test]
async fn a_create_whose_auth_user_was_not_linked_is_finished() {
    let h = harness().await;
    let id = h.seed_user(customer("ada@example.com")).await;
    let auth_id = h.auth.add_for("ada@example.com", &id);
    begin(&h, Operation::Create, &[&id], Some("ada@example.com"), None).await;
    assert_eq!(recover(&h).await, 1);
    assert_eq!(h.stored(&id).await.unwrap()["authUserId"], auth_id);
    assert!(open_intents(&h).await.is_empty());
}

#[tokio::test]
async fn an_auth_user_made_for_a_user_deleted_meanwhile_is_deleted_not_linked() {
    let h = harness().await;
    let id = h.seed_user(customer("ada@example.com")).await;
    h.auth.add_for("ada@example.com", &id);
    move_to(&h, &id, &[DocState::Trash, DocState::Deleted]).await;
    begin(&h, Operation::Create, &[&id], Some("ada@example.com"), None).await;
    assert_eq!(recover(&h).await, 1);
    let doc = h.stored(&id).await.unwrap();
    assert!(doc.get("authUserId").is_none(), "{doc}");
    assert_eq!(h.auth.ids(), Vec::<String>::new());
}

#[tokio::test]
async fn an_auth_user_left_for_a_vanished_store_user_is_deleted() {
    let h = harness().await;
    h.auth.add_for("ada@example.com", "gone-id");
    begin(&h, Operation::Create, &["gone-id"], Some("ada@example.com"), None).await;
    assert_eq!(recover(&h).await, 1);
    assert_eq!(h.auth.ids(), Vec::<String>::new());
}

#[tokio::test]
async fn an_email_the_provider_missed_is_sent() {
    let h = harness().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &[]).await;
    let moved = json!({"$set": {"email": "ada@new.example.com"}});
    h.store
        .inner()
        .patch(&h.ctx, &id, &Filter::any_state(), &moved)
        .await
        .unwrap();
    begin(&h, Operation::Update, &[&id], None, Some(&auth_id)).await;
    assert_eq!(recover(&h).await, 1);
    let auth = h.auth.user(&auth_id).unwrap();
    assert_eq!(auth.email.as_deref(), Some("ada@new.example.com"));
    assert!(!auth.blocked);
}

#[tokio::test]
async fn a_hard_delete_that_removed_the_auth_user_is_finished() {
    let h = harness().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &[]).await;
    h.auth.forget(&auth_id);
    begin(&h, Operation::Delete, &[&id], None, Some(&auth_id)).await;
    assert_eq!(recover(&h).await, 1);
    assert!(h.stored(&id).await.is_none());
}

#[tokio::test]
async fn a_deleted_user_still_linked_loses_its_auth_user_and_its_link() {
    let h = harness().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &[]).await;
    move_to(&h, &id, &[DocState::Trash, DocState::Deleted]).await;
    begin(&h, Operation::State, &[&id], None, Some(&auth_id)).await;
    assert_eq!(recover(&h).await, 1);
    assert!(h.auth.user(&auth_id).is_none());
    assert!(h.stored(&id).await.unwrap().get("authUserId").is_none());
}

#[tokio::test]
async fn a_trashed_user_whose_block_was_lost_gets_blocked() {
    let h = harness().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &[]).await;
    move_to(&h, &id, &[DocState::Trash]).await;
    begin(&h, Operation::State, &[&id], None, Some(&auth_id)).await;
    assert_eq!(recover(&h).await, 1);
    assert!(h.auth.user(&auth_id).unwrap().blocked);
}

#[tokio::test]
async fn a_create_whose_compensation_failed_stays_open_and_is_rolled_back() {
    let h = harness().await;
    let down = StoreError::Failed(failure("CRUD", Cause::Unreachable));
    h.store.faults.fail("patch", 1, down.clone()); // the link
    h.store.faults.fail("delete", 1, down); // the compensation of the insert
    let created = create_user(
        &h.svc,
        &h.ctx,
        body(customer("ada@example.com")),
        CreateOptions::default(),
    )
    .await;
    assert!(created.is_err());
    assert_eq!(h.stored_users().await.len(), 1, "the compensation failed");
    assert_eq!(open_intents(&h).await.len(), 1, "the saga stays open");
    assert_eq!(recover(&h).await, 1);
    assert_eq!(h.stored_users().await, Vec::<Value>::new());
    assert_eq!(h.auth.ids(), Vec::<String>::new());
}

#[tokio::test]
async fn a_completed_create_leaves_no_intent() {
    let h = harness().await;
    let id = create_user(
        &h.svc,
        &h.ctx,
        body(customer("ada@example.com")),
        CreateOptions::default(),
    )
    .await
    .unwrap();
    assert!(h.stored(&id).await.unwrap()["authUserId"].is_string());
    assert!(open_intents(&h).await.is_empty());
}

#[tokio::test]
async fn an_insert_whose_answer_was_lost_is_verified_and_the_create_completes() {
    let h = harness().await;
    let timeout = StoreError::Failed(failure("CRUD", Cause::Timeout));
    h.store.faults.fail_after_applying("insert", 1, timeout);
    let id = create_user(
        &h.svc,
        &h.ctx,
        body(customer("ada@example.com")),
        CreateOptions::default(),
    )
    .await
    .unwrap();
    let stored = h.stored_users().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["_id"], id.as_str());
    assert_eq!(
        h.auth.ids(),
        vec![stored[0]["authUserId"].as_str().unwrap().to_owned()]
    );
}

#[tokio::test]
async fn a_retried_patch_sends_the_email_whose_store_write_answer_was_lost() {
    let h = harness().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &[]).await;
    let timeout = StoreError::Failed(failure("CRUD", Cause::Timeout));
    h.store.faults.fail_after_applying("patch", 1, timeout.clone());
    h.store.faults.fail("get", 2, timeout); // the verification read fails too
    let update = json!({"$set": {"email": "ada@new.example.com"}});
    let first = update_user(&h.svc, &h.ctx, &id, Filter::default(), update.clone()).await;
    assert!(first.is_err());
    assert_eq!(h.stored(&id).await.unwrap()["email"], "ada@new.example.com");
    assert_eq!(
        h.auth.user(&auth_id).unwrap().email.as_deref(),
        Some("ada@example.com")
    );
    update_user(&h.svc, &h.ctx, &id, Filter::default(), update)
        .await
        .unwrap();
    assert_eq!(
        h.auth.user(&auth_id).unwrap().email.as_deref(),
        Some("ada@new.example.com")
    );
    assert_eq!(
        recover(&h).await,
        1,
        "the worker closes the first attempt's intent"
    );
    assert!(open_intents(&h).await.is_empty());
}

#[tokio::test]
async fn a_move_to_deleted_whose_auth_user_is_gone_is_finished() {
    let h = harness().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &[]).await;
    move_to(&h, &id, &[DocState::Trash]).await;
    h.auth.forget(&auth_id);
    let plan = Plan::new(Operation::State, &[&id])
        .auth_user(Some(&auth_id))
        .state_to(DocState::Deleted);
    begin_plan(&h, plan).await;
    assert_eq!(recover(&h).await, 1);
    let doc = h.stored(&id).await.unwrap();
    assert_eq!(doc["__STATE__"], "DELETED");
    assert!(doc.get("authUserId").is_none(), "unlinked: {doc}");
}

#[tokio::test]
async fn a_linked_user_whose_auth_user_vanished_outside_a_delete_is_left_for_a_person() {
    let h = harness().await;
    let (id, auth_id) = h.seed_linked_user("ada@example.com", &[]).await;
    h.auth.forget(&auth_id);
    begin(&h, Operation::Update, &[&id], None, Some(&auth_id)).await;
    assert_eq!(recover(&h).await, 1);
    let doc = h.stored(&id).await.unwrap();
    assert_eq!(
        (doc["__STATE__"].as_str(), doc["authUserId"].as_str()),
        (Some("PUBLIC"), Some(auth_id.as_str()))
    );
}

#[tokio::test]
async fn a_create_whose_link_applied_but_whose_store_compensation_failed_is_rolled_back() {
    let h = harness().await;
    let dropped = StoreError::Failed(failure("CRUD", Cause::Dropped));
    h.store.faults.fail_after_applying("patch", 1, dropped.clone()); // the link, applied
    h.store.faults.fail("delete", 1, dropped); // the compensation of the insert
    let created = create_user(
        &h.svc,
        &h.ctx,
        body(customer("ada@example.com")),
        CreateOptions::default(),
    )
    .await;
    assert!(created.is_err());
    assert_eq!(
        h.auth.ids(),
        Vec::<String>::new(),
        "the auth user was compensated"
    );
    assert!(
        h.stored_users().await[0]["authUserId"].is_string(),
        "linked to the deleted auth user"
    );
    assert_eq!(recover(&h).await, 1);
    assert_eq!(h.stored_users().await, Vec::<Value>::new());
}

#[tokio::test]
async fn without_hard_delete_the_auth_user_of_a_vanished_store_user_is_blocked_not_deleted() {
    let h = Harness::builder().with_sagas().soft_auth_delete().build().await;
    let auth_id = h.auth.add_for("ada@example.com", "gone-id");
    begin(&h, Operation::Update, &["gone-id"], None, Some(&auth_id)).await;
    assert_eq!(recover(&h).await, 1);
    assert!(
        h.auth.user(&auth_id).unwrap().blocked,
        "kept, blocked, as a DELETE leaves it"
    );
    // A create that never linked it, though, never handed it out: deleted whatever the policy.
    let orphan = h.auth.add_for("bob@example.com", "gone-too");
    begin(
        &h,
        Operation::Create,
        &["gone-too"],
        Some("bob@example.com"),
        None,
    )
    .await;
    assert_eq!(recover(&h).await, 1);
    assert!(h.auth.user(&orphan).is_none());
}
