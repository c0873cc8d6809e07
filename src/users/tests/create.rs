//! `create_user` (`POST /users/`): insert, auth user, link, roles, expiry, expiration id; a failing
//! step undoes the completed ones last first and leaves no store user, auth user, binding or timer.

use serde_json::{json, Map, Value};

use super::fakes::failure;
use super::harness::{with_logs, Harness};
use super::{body, journal};
use crate::auth::AuthError;
use crate::failure::Cause;
use crate::store::StoreError;
use crate::users::create::{create_user, CreateOptions};
use crate::users::UserError;

/// A customer with roles and an expiry date: every step of the saga runs.
fn ada() -> Map<String, Value> {
    body(
        json!({"userGroup": "customer", "name": "Ada", "email": "ada@example.com",
                "password": "s3cret-Pa55", "roles": ["viewer"],
                "expirationDate": "2030-01-31T10:00:00Z"}),
    )
}

async fn create(h: &Harness, body: Map<String, Value>) -> Result<String, UserError> {
    create_user(&h.svc, &h.ctx, body, CreateOptions::default()).await
}

#[tokio::test]
async fn a_user_is_inserted_linked_granted_and_scheduled_in_that_order() {
    let h = Harness::new().await;
    let id = create(&h, ada()).await.unwrap();
    let expected = [
        "store insert",
        "auth create",
        "store patch",
        "rond grant",
        "timer schedule",
        "store patch",
    ];
    assert_eq!(h.journal(), journal(&expected));
    let user = h.stored(&id).await.unwrap();
    assert_eq!(user["authUserId"], "auth0|1");
    assert_eq!(user["expirationId"], "timer-1");
    assert_eq!(user["__STATE__"], "PUBLIC");
    assert!(user.get("password").is_none(), "the password is never stored");
    let auth = h.auth.user("auth0|1").unwrap();
    assert_eq!(
        (auth.email.as_deref(), auth.blocked),
        (Some("ada@example.com"), false)
    );
    assert_eq!(h.rond.grants("auth0|1"), vec![vec!["viewer".to_owned()]]);
    assert_eq!(
        h.timer.pending(),
        vec![("timer-1".to_owned(), format!("/users/{id}/expire"))]
    );
}

#[tokio::test]
async fn a_failed_auth_create_deletes_the_inserted_user() {
    let h = Harness::new().await;
    // Certainly not applied (no connection): nothing to verify. A timeout is verified first (below).
    let down = AuthError::Failed(failure("Auth0 Client", Cause::Unreachable));
    h.auth.faults.fail("create", 1, down.clone());
    let error = create(&h, ada()).await.unwrap_err();
    assert!(matches!(&error, UserError::Auth(e) if *e == down), "{error:?}");
    let expected = ["store insert", "auth create (failed)", "store delete"];
    assert_eq!(h.journal(), journal(&expected));
    h.assert_nothing_left().await;
}

#[tokio::test]
async fn a_taken_email_in_the_provider_is_a_conflict_that_leaves_no_store_user() {
    let h = Harness::new().await;
    h.auth
        .faults
        .fail("create", 1, AuthError::Conflict("email taken".into()));
    let error = create(&h, ada()).await.unwrap_err();
    assert!(
        matches!(error, UserError::Auth(AuthError::Conflict(_))),
        "{error:?}"
    );
    let expected = ["store insert", "auth create (failed)", "store delete"];
    assert_eq!(h.journal(), journal(&expected));
    h.assert_nothing_left().await;
}

#[tokio::test]
async fn a_failed_link_deletes_the_auth_user_then_the_store_user() {
    let h = Harness::new().await;
    let timeout = StoreError::Failed(failure("CRUD", Cause::Failed { status: Some(500) }));
    h.store.faults.fail("patch", 1, timeout);
    let error = create(&h, ada()).await.unwrap_err();
    assert!(
        matches!(error, UserError::Store(StoreError::Failed(_))),
        "{error:?}"
    );
    let expected = [
        "store insert",
        "auth create",
        "store patch (failed)",
        "auth delete",
        "store delete",
    ];
    assert_eq!(h.journal(), journal(&expected));
    h.assert_nothing_left().await;
}

#[tokio::test]
async fn a_failed_grant_deletes_the_auth_user_then_the_store_user() {
    let h = Harness::new().await;
    let refused = failure("Rönd", Cause::Failed { status: Some(503) });
    h.rond.faults.fail("grant", 1, refused.clone());
    let error = create(&h, ada()).await.unwrap_err();
    assert!(
        matches!(&error, UserError::Failed(f) if *f == refused),
        "{error:?}"
    );
    let expected = [
        "store insert",
        "auth create",
        "store patch",
        "rond grant (failed)",
        "auth delete",
        "store delete",
    ];
    assert_eq!(h.journal(), journal(&expected));
    h.assert_nothing_left().await;
}

#[tokio::test]
async fn a_failed_schedule_revokes_the_roles_then_deletes_both_users() {
    let h = Harness::new().await;
    let down = failure("Timer Service", Cause::Unreachable);
    h.timer.faults.fail("schedule", 1, down.clone());
    let error = create(&h, ada()).await.unwrap_err();
    assert!(matches!(&error, UserError::Failed(f) if *f == down), "{error:?}");
    let expected = [
        "store insert",
        "auth create",
        "store patch",
        "rond grant",
        "timer schedule (failed)",
        "rond revoke",
        "auth delete",
        "store delete",
    ];
    assert_eq!(h.journal(), journal(&expected));
    h.assert_nothing_left().await;
}

#[tokio::test]
async fn a_failed_expiration_id_write_aborts_the_timer_first() {
    let h = Harness::new().await;
    let timeout = StoreError::Failed(failure("CRUD", Cause::Timeout));
    h.store.faults.fail("patch", 2, timeout);
    let error = create(&h, ada()).await.unwrap_err();
    assert!(matches!(error, UserError::Store(_)), "{error:?}");
    let expected = [
        "store insert",
        "auth create",
        "store patch",
        "rond grant",
        "timer schedule",
        "store patch (failed)",
        "timer abort",
        "rond revoke",
        "auth delete",
        "store delete",
    ];
    assert_eq!(h.journal(), journal(&expected));
    h.assert_nothing_left().await;
}

#[tokio::test]
async fn a_refused_insert_writes_nothing_else_and_runs_no_compensation() {
    let h = Harness::new().await;
    h.seed_user(json!({"userGroup": "customer", "name": "Old", "email": "ada@example.com"}))
        .await;
    let error = create(&h, ada()).await.unwrap_err();
    assert!(
        matches!(error, UserError::Store(StoreError::Conflict { .. })),
        "{error:?}"
    );
    assert_eq!(h.journal(), journal(&["store insert (failed)"]));
    assert_eq!(h.stored_users().await.len(), 1);
    assert!(h.auth.ids().is_empty());
}

#[tokio::test]
async fn a_failed_compensation_is_logged_and_the_original_error_returned() {
    let h = Harness::new().await;
    let refused = failure("Rönd", Cause::Failed { status: Some(500) });
    h.rond.faults.fail("grant", 1, refused.clone());
    let auth_down = AuthError::Failed(failure("Auth0 Client", Cause::Timeout));
    h.auth.faults.fail("delete", 1, auth_down);
    let (result, logs) = with_logs(create(&h, ada())).await;
    let error = result.unwrap_err();
    assert!(
        matches!(&error, UserError::Failed(f) if *f == refused),
        "{error:?}"
    );
    let expected = [
        "store insert",
        "auth create",
        "store patch",
        "rond grant (failed)",
        "auth delete (failed)",
        "store delete",
    ];
    assert_eq!(h.journal(), journal(&expected));
    assert!(
        h.stored_users().await.is_empty(),
        "the later compensations still ran"
    );
    assert_eq!(h.auth.ids(), vec!["auth0|1".to_owned()], "left for a human");
    let line = logs
        .lines()
        .find(|l| l.contains("compensation failed: repair by hand"))
        .unwrap_or_else(|| panic!("no compensation error in {logs}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("delete auth user auth0|1"), "{line}");
    assert!(line.contains("create auth user"), "{line}");
}

#[tokio::test]
async fn an_auth_user_already_gone_counts_as_compensated() {
    let h = Harness::new().await;
    h.rond.faults.fail("grant", 1, failure("Rönd", Cause::Timeout));
    let auth = h.auth.clone();
    h.auth
        .faults
        .before("delete", 1, async move { auth.forget("auth0|1") });
    let (result, logs) = with_logs(create(&h, ada())).await;
    assert!(result.is_err());
    let expected = [
        "store insert",
        "auth create",
        "store patch",
        "rond grant (failed)",
        "auth delete (not found)",
        "store delete",
    ];
    assert_eq!(h.journal(), journal(&expected));
    assert!(!logs.contains("compensation failed"), "{logs}");
    h.assert_nothing_left().await;
}

#[tokio::test]
async fn without_rond_and_timer_only_the_store_and_the_provider_are_written() {
    let h = Harness::builder().without_rond().without_timer().build().await;
    let id = create(&h, ada()).await.unwrap();
    let expected = ["store insert", "auth create", "store patch"];
    assert_eq!(h.journal(), journal(&expected));
    let user = h.stored(&id).await.unwrap();
    assert_eq!(user["expirationDate"], "2030-01-31T10:00:00Z");
    assert!(user.get("expirationId").is_none());
}

#[tokio::test]
async fn store_only_users_get_their_expiry_but_no_roles() {
    let h = Harness::new().await;
    let postponed = CreateOptions {
        postpone_auth_user_creation: true,
        ..CreateOptions::default()
    };
    let id = create_user(&h.svc, &h.ctx, ada(), postponed).await.unwrap();
    let mut guest = ada();
    guest.insert("userGroup".into(), "guest".into());
    guest.insert("email".into(), "guest@example.com".into());
    let guest_id = create(&h, guest).await.unwrap();
    let once = ["store insert", "timer schedule", "store patch"];
    assert_eq!(h.journal(), journal(&[once, once].concat()));
    for id in [id, guest_id] {
        let user = h.stored(&id).await.unwrap();
        assert!(user.get("authUserId").is_none(), "{user}");
        assert!(user["expirationId"].is_string(), "{user}");
    }
    assert!(h.auth.ids().is_empty() && h.rond.subjects().is_empty());
}

#[tokio::test]
async fn a_draft_user_gets_a_blocked_auth_user() {
    let h = Harness::new().await;
    let mut draft = ada();
    draft.insert("__STATE__".into(), "DRAFT".into());
    create(&h, draft).await.unwrap();
    assert!(h.auth.user("auth0|1").unwrap().blocked);
}

/// An auth create that timed out after the provider created the user: the outcome is unknown,
/// so the auth user is looked up by its marker (the store id) and the create goes on with it.
#[tokio::test]
async fn a_timed_out_auth_create_that_was_applied_is_verified_and_the_create_completes() {
    let h = Harness::new().await;
    let timeout = AuthError::Failed(failure("Auth0 Client", Cause::Timeout));
    h.auth.faults.fail_after_applying("create", 1, timeout);
    let id = create(&h, ada()).await.unwrap();
    let expected = [
        "store insert",
        "auth create (failed)",
        "auth find_created_for",
        "store patch",
    ];
    assert!(h.journal().starts_with(&journal(&expected)), "{:?}", h.journal());
    let stored = h.stored(&id).await.unwrap();
    assert_eq!(
        stored["authUserId"], "auth0|1",
        "linked to the auth user the create made"
    );
    assert_eq!(h.auth.ids(), ["auth0|1"]);
}

/// The same timeout before the provider created anything: the lookup finds no auth user, so the
/// create fails and the store insert is undone; nothing is left.
#[tokio::test]
async fn a_timed_out_auth_create_that_did_not_apply_is_verified_and_undone() {
    let h = Harness::new().await;
    let timeout = AuthError::Failed(failure("Auth0 Client", Cause::Timeout));
    h.auth.faults.fail("create", 1, timeout);
    assert!(create(&h, ada()).await.is_err());
    let expected = [
        "store insert",
        "auth create (failed)",
        "auth find_created_for",
        "store delete",
    ];
    assert_eq!(h.journal(), journal(&expected));
    h.assert_nothing_left().await;
}
