//! `register` (`POST /users/register`: a new auth user for a store-only user) and `create_with_id`
//! (`POST /users/with-id`: a new store user for an existing auth user), their checks and the
//! compensations of each failing step.

use serde_json::{json, Value};

use super::fakes::failure;
use super::harness::Harness;
use super::{body, journal};
use crate::auth::AuthError;
use crate::failure::Cause;
use crate::store::{Filter, StoreError};
use crate::users::create::{create_with_id, register, Registration};
use crate::users::UserError;

/// A store-only customer with roles; returns its `_id`.
async fn store_only(h: &Harness) -> String {
    h.seed_user(
        json!({"userGroup": "customer", "name": "Ada", "email": "ada@example.com",
                       "roles": ["viewer"], "__STATE__": "PUBLIC"}),
    )
    .await
}

async fn register_user(h: &Harness, id: &str) -> Result<(), UserError> {
    let registration = Registration {
        id: id.to_owned(),
        password: None,
    };
    register(&h.svc, &h.ctx, registration, false).await
}

/// The store user is back to store-only and nothing else exists.
async fn assert_unregistered(h: &Harness, id: &str) {
    let user = h.stored(id).await.unwrap();
    assert!(user.get("authUserId").is_none(), "{user}");
    assert!(h.auth.ids().is_empty(), "{:?}", h.auth.ids());
    assert!(h.rond.subjects().is_empty(), "{:?}", h.rond.subjects());
}

#[tokio::test]
async fn register_creates_the_auth_user_links_it_and_grants_the_roles() {
    let h = Harness::new().await;
    let id = store_only(&h).await;
    register_user(&h, &id).await.unwrap();
    let expected = ["store get", "auth create", "store patch", "rond grant"];
    assert_eq!(h.journal(), journal(&expected));
    assert_eq!(h.stored(&id).await.unwrap()["authUserId"], "auth0|1");
    let auth = h.auth.user("auth0|1").unwrap();
    assert_eq!(auth.email.as_deref(), Some("ada@example.com"));
    assert_eq!(h.rond.grants("auth0|1"), vec![vec!["viewer".to_owned()]]);
}

#[tokio::test]
async fn register_failing_at_the_auth_create_changes_nothing() {
    let h = Harness::new().await;
    let id = store_only(&h).await;
    h.auth
        .faults
        .fail("create", 1, AuthError::Conflict("email taken".into()));
    let error = register_user(&h, &id).await.unwrap_err();
    assert!(
        matches!(error, UserError::Auth(AuthError::Conflict(_))),
        "{error:?}"
    );
    assert_eq!(h.journal(), journal(&["store get", "auth create (failed)"]));
    assert_unregistered(&h, &id).await;
}

#[tokio::test]
async fn register_failing_at_the_link_deletes_the_auth_user() {
    let h = Harness::new().await;
    let id = store_only(&h).await;
    h.store
        .faults
        .fail("patch", 1, StoreError::Failed(failure("CRUD", Cause::Dropped)));
    let error = register_user(&h, &id).await.unwrap_err();
    assert!(matches!(error, UserError::Store(_)), "{error:?}");
    let expected = ["store get", "auth create", "store patch (failed)", "auth delete"];
    assert_eq!(h.journal(), journal(&expected));
    assert_unregistered(&h, &id).await;
}

#[tokio::test]
async fn register_failing_at_the_grant_unlinks_then_deletes_the_auth_user() {
    let h = Harness::new().await;
    let id = store_only(&h).await;
    let refused = failure("Rönd", Cause::Failed { status: Some(500) });
    h.rond.faults.fail("grant", 1, refused.clone());
    let error = register_user(&h, &id).await.unwrap_err();
    assert!(
        matches!(&error, UserError::Failed(f) if *f == refused),
        "{error:?}"
    );
    let expected = [
        "store get",
        "auth create",
        "store patch",
        "rond grant (failed)",
        "store patch",
        "auth delete",
    ];
    assert_eq!(h.journal(), journal(&expected));
    assert_unregistered(&h, &id).await;
}

#[tokio::test]
async fn register_losing_the_link_race_is_a_conflict_and_deletes_its_auth_user() {
    let h = Harness::new().await;
    let id = store_only(&h).await;
    let (inner, ctx, target) = (h.store.inner(), h.ctx.clone(), id.clone());
    h.store.faults.before("patch", 1, async move {
        let link = json!({"$set": {"authUserId": "auth0|other"}});
        inner
            .patch(&ctx, &target, &Filter::any_state(), &link)
            .await
            .unwrap();
    });
    let error = register_user(&h, &id).await.unwrap_err();
    assert!(matches!(error, UserError::Conflict(_)), "{error:?}");
    let expected = ["store get", "auth create", "store patch", "auth delete"];
    assert_eq!(h.journal(), journal(&expected));
    assert_eq!(h.stored(&id).await.unwrap()["authUserId"], "auth0|other");
    assert!(h.auth.ids().is_empty());
}

#[tokio::test]
async fn register_refuses_linked_unknown_and_auth_less_users_before_any_write() {
    let h = Harness::new().await;
    let (linked, _) = h.seed_linked_user("linked@example.com", &[]).await;
    let error = register_user(&h, &linked).await.unwrap_err();
    assert!(matches!(error, UserError::Conflict(_)), "{error:?}");
    let error = register_user(&h, "000000000000000000000000").await.unwrap_err();
    assert!(matches!(error, UserError::NotFound(_)), "{error:?}");
    let guest = h.seed_user(json!({"userGroup": "guest", "name": "G"})).await;
    let error = register_user(&h, &guest).await.unwrap_err();
    assert!(matches!(error, UserError::Invalid(_)), "{error:?}");
    assert_eq!(h.journal(), journal(&["store get", "store get", "store get"]));
}

/// A customer body linked to `auth_id`, with roles and an expiry date.
fn linked_body(auth_id: &str) -> serde_json::Map<String, Value> {
    body(
        json!({"userGroup": "customer", "name": "Ada", "email": "ada@example.com",
                "authUserId": auth_id, "roles": ["viewer"],
                "expirationDate": "2030-01-31T10:00:00Z"}),
    )
}

const WITH_ID_CHECKS: [&str; 3] = ["store find", "auth get", "store insert"];

#[tokio::test]
async fn create_with_id_links_grants_and_schedules_without_touching_the_auth_user() {
    let h = Harness::new().await;
    let auth_id = h.auth.add("ada@example.com");
    let id = create_with_id(&h.svc, &h.ctx, linked_body(&auth_id))
        .await
        .unwrap();
    let steps = ["rond grant", "timer schedule", "store patch"];
    assert_eq!(h.journal(), journal(&[&WITH_ID_CHECKS[..], &steps].concat()));
    let user = h.stored(&id).await.unwrap();
    assert_eq!(
        (&user["authUserId"], &user["expirationId"]),
        (&json!(auth_id), &json!("timer-1"))
    );
    assert_eq!(h.rond.grants(&auth_id), vec![vec!["viewer".to_owned()]]);
}

#[tokio::test]
async fn create_with_id_refuses_an_unknown_or_already_linked_auth_user() {
    let h = Harness::new().await;
    let error = create_with_id(&h.svc, &h.ctx, linked_body("auth0|missing"))
        .await
        .unwrap_err();
    assert!(matches!(error, UserError::NotFound(_)), "{error:?}");
    assert_eq!(h.journal(), journal(&["store find", "auth get"]));
    let (_, auth_id) = h.seed_linked_user("linked@example.com", &[]).await;
    h.journal.take();
    let error = create_with_id(&h.svc, &h.ctx, linked_body(&auth_id))
        .await
        .unwrap_err();
    assert!(matches!(error, UserError::Conflict(_)), "{error:?}");
    assert_eq!(h.journal(), journal(&["store find"]));
    assert_eq!(h.stored_users().await.len(), 1);
}

/// Runs `create_with_id` with the scripted faults and checks that only the existing auth user
/// is left, untouched, and that `after_checks` followed the checks and the insert.
async fn create_with_id_fails(h: &Harness, after_checks: &[&str]) {
    let auth_id = h.auth.add("ada@example.com");
    let error = create_with_id(&h.svc, &h.ctx, linked_body(&auth_id))
        .await
        .unwrap_err();
    assert!(
        matches!(error, UserError::Failed(_) | UserError::Store(_)),
        "{error:?}"
    );
    assert_eq!(
        h.journal(),
        journal(&[&WITH_ID_CHECKS[..], after_checks].concat())
    );
    assert!(h.stored_users().await.is_empty());
    assert_eq!(
        h.auth.ids(),
        vec![auth_id.clone()],
        "the existing auth user is never deleted"
    );
    assert!(!h.auth.user(&auth_id).unwrap().blocked);
    assert!(h.rond.subjects().is_empty() && h.timer.pending().is_empty());
}

#[tokio::test]
async fn create_with_id_failing_at_the_grant_deletes_the_store_user_only() {
    let h = Harness::new().await;
    h.rond.faults.fail("grant", 1, failure("Rönd", Cause::Timeout));
    create_with_id_fails(&h, &["rond grant (failed)", "store delete"]).await;
}

#[tokio::test]
async fn create_with_id_failing_at_the_schedule_revokes_then_deletes_the_store_user() {
    let h = Harness::new().await;
    h.timer
        .faults
        .fail("schedule", 1, failure("Timer Service", Cause::Timeout));
    let after = [
        "rond grant",
        "timer schedule (failed)",
        "rond revoke",
        "store delete",
    ];
    create_with_id_fails(&h, &after).await;
}

#[tokio::test]
async fn create_with_id_failing_at_the_expiration_id_write_aborts_the_timer_first() {
    let h = Harness::new().await;
    h.store
        .faults
        .fail("patch", 1, StoreError::Failed(failure("CRUD", Cause::Timeout)));
    let after = [
        "rond grant",
        "timer schedule",
        "store patch (failed)",
        "timer abort",
        "rond revoke",
        "store delete",
    ];
    create_with_id_fails(&h, &after).await;
}
