//! Bulk activation in local mode: import records become credentials at once, conflicts are
//! reported per record with Auth0's codes, and the job answers `completed`.

use bytes::Bytes;
use serde_json::json;
use user_manager_service::auth::{AuthProvider, AuthUserPatch, ImportJobState, ImportSummary};
use user_manager_service::secret::Secret;

use super::{create, ctx, local, refusal};

fn file(records: serde_json::Value) -> Bytes {
    Bytes::from(serde_json::to_vec(&records).unwrap())
}

#[tokio::test]
async fn an_import_creates_credentials_without_a_usable_password() {
    let local = local(None).await;
    let records = json!([
        {"user_id": "u1", "email": "One@Example.com", "username": "one", "blocked": false, "email_verified": false},
        {"user_id": "u2", "email": "two@example.com", "blocked": true, "email_verified": false}
    ]);
    let job = local
        .auth
        .start_import(&ctx(), file(records), true)
        .await
        .unwrap();
    assert_eq!(job.state, ImportJobState::Completed);
    let summary = ImportSummary {
        failed: 0,
        updated: 0,
        inserted: 2,
        total: 2,
    };
    assert_eq!(job.summary, Some(summary));

    let status = local.auth.import_status(&ctx(), &job.id).await.unwrap();
    assert_eq!(
        (status.id.as_str(), status.state, status.summary),
        (job.id.as_str(), ImportJobState::Completed, Some(summary))
    );
    assert!(local
        .auth
        .import_errors(&ctx(), &job.id)
        .await
        .unwrap()
        .is_empty());

    let one = local.auth.get_user(&ctx(), "u1").await.unwrap().unwrap();
    assert_eq!(
        (one.email.as_deref(), one.username.as_deref(), one.blocked),
        (Some("one@example.com"), Some("one"), false)
    );
    assert!(local.auth.get_user(&ctx(), "u2").await.unwrap().unwrap().blocked);
    let refused = refusal(local.auth.login(&ctx(), "one", &Secret::new("")).await);
    assert_eq!(refused.0, 401, "an imported user must reset its password first");
}

#[tokio::test]
async fn conflicts_and_malformed_records_are_reported_per_user() {
    let local = local(None).await;
    create(&local, "taken", false).await;
    let records = json!([
        {"user_id": "a", "email": "TAKEN@example.com"},
        {"user_id": "b", "email": "b@example.com", "username": "taken"},
        {"user_id": "taken", "email": "taken@example.com"},
        {"email": "noid@example.com"},
        {"user_id": "ok", "email": "ok@example.com"}
    ]);
    let job = local
        .auth
        .start_import(&ctx(), file(records), false)
        .await
        .unwrap();
    let summary = job.summary.unwrap();
    assert_eq!(
        (summary.inserted, summary.updated, summary.failed, summary.total),
        (1, 0, 4, 5)
    );
    let failures = local.auth.import_errors(&ctx(), &job.id).await.unwrap();
    let codes: Vec<(Option<&str>, &str)> = failures
        .iter()
        .map(|f| (f.user_id.as_deref(), f.errors[0].code.as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            (Some("a"), "CONFLICT_EMAIL"),
            (Some("b"), "CONFLICT_USERNAME"),
            (Some("taken"), "DUPLICATED_USER"),
            (None, "FORMAT"),
        ]
    );
    assert_eq!(failures[0].email.as_deref(), Some("TAKEN@example.com"));
    assert!(local.auth.get_user(&ctx(), "ok").await.unwrap().is_some());
    assert!(local.auth.get_user(&ctx(), "a").await.unwrap().is_none());
}

#[tokio::test]
async fn an_upsert_updates_existing_users_and_keeps_their_password() {
    let local = local(None).await;
    create(&local, "ann", false).await;
    let records =
        json!([{"user_id": "ann", "email": "ann@new.example.com", "username": "ann2", "blocked": true}]);
    let job = local
        .auth
        .start_import(&ctx(), file(records), true)
        .await
        .unwrap();
    assert_eq!(job.summary.map(|s| (s.updated, s.inserted)), Some((1, 0)));
    let ann = local.auth.get_user(&ctx(), "ann").await.unwrap().unwrap();
    assert_eq!(
        (ann.email.as_deref(), ann.username.as_deref(), ann.blocked),
        (Some("ann@new.example.com"), Some("ann2"), true)
    );
    let blocked = refusal(
        local
            .auth
            .login(&ctx(), "ann2", &Secret::new(super::PASSWORD))
            .await,
    );
    assert_eq!(
        blocked,
        (401, "wrong username or password".to_owned()),
        "the block applies"
    );
    let unblock = AuthUserPatch {
        blocked: Some(false),
        ..AuthUserPatch::default()
    };
    local.auth.update_user(&ctx(), "ann", &unblock).await.unwrap();
    let body = super::login(&local, "ann2", super::PASSWORD).await;
    assert!(body["accessToken"].is_string(), "the password is kept");
}

#[tokio::test]
async fn a_file_that_is_not_an_array_is_refused_and_unknown_jobs_are_not_found() {
    let local = local(None).await;
    let refused = refusal(
        local
            .auth
            .start_import(&ctx(), Bytes::from_static(b"{}"), true)
            .await,
    );
    assert_eq!(refused.0, 400);
    assert!(local
        .auth
        .import_status(&ctx(), "nope")
        .await
        .unwrap_err()
        .is_not_found());
    assert!(local
        .auth
        .import_errors(&ctx(), "nope")
        .await
        .unwrap_err()
        .is_not_found());
}
