//! Tests: users activated end to end on the fakes — linked in the store, present in the
//! provider — across several import files, with the failures each user can meet.

use serde_json::{json, Value};

use super::{activate, app, app_with, failure_codes, id, linked, store_user};

fn email(i: usize) -> String {
    format!("user{i}@example.com")
}

#[tokio::test]
async fn every_user_is_created_in_the_provider_and_linked_to_auth0_and_its_store_id() {
    let mut users: Vec<Value> = (0..20).map(|i| store_user(i, &email(i))).collect();
    users[1]["__STATE__"] = json!("DRAFT");
    users[2]["username"] = json!("second");
    users[3]["blocked"] = json!(true);
    let app = app(users).await;
    let ids: Vec<String> = (0..20).map(id).collect();

    let report = activate(&app, "", &ids).await;

    assert_eq!(report["status"], "completed", "{report}");
    assert_eq!(
        report["summary"],
        json!({"inserted": 20, "updated": 0, "failed": 0, "total": 20})
    );
    assert_eq!(report["failures"], json!([]));
    assert_eq!(report["progress"], json!({"processed": 20, "total": 20}));
    for (i, user_id) in ids.iter().enumerate() {
        let auth_id = format!("auth0|{user_id}");
        assert_eq!(linked(&app, user_id).as_deref(), Some(auth_id.as_str()));
        let auth_user = app.auth_fake().user(&auth_id).expect("in the provider");
        assert_eq!(auth_user["email"], email(i));
        assert_eq!(auth_user["blocked"], i == 1 || i == 3, "user {i}");
    }
    assert_eq!(
        app.auth_fake().user(&format!("auth0|{}", ids[2])).unwrap()["username"],
        "second"
    );
}

#[tokio::test]
async fn with_a_cron_polling_schedule_the_job_polls_at_its_occurrences_and_links_every_user() {
    // Every second (6 fields, seconds first): the provider's import (200 ms) is done by the first
    // occurrence, at most a second after the start.
    let users: Vec<Value> = (0..3).map(|i| store_user(i, &email(i))).collect();
    let app = app_with(users, &[("AUTH0_JOB_POLLING_INTERVAL", "* * * * * *")]).await;
    let ids: Vec<String> = (0..3).map(id).collect();

    let started = std::time::Instant::now();
    let report = activate(&app, "", &ids).await;

    assert_eq!(report["status"], "completed", "{report}");
    assert_eq!(report["summary"]["inserted"], 3);
    for user_id in &ids {
        assert_eq!(linked(&app, user_id), Some(format!("auth0|{user_id}")));
    }
    let polls = app
        .auth_fake()
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/users/import/status/"))
        .filter(|r| !r.path.ends_with("/errors"))
        .count();
    // The prompt poll, then the next occurrence; when that comes less than the fake's 200 ms
    // after the start (a start late in its second), one more occurrence.
    assert!((1..=3).contains(&polls), "{polls} status polls");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn thousands_of_users_with_long_emails_are_imported_in_several_files_under_500_kb() {
    const USERS: usize = 4_500;
    let long = |i: usize| format!("{}{i:06}@example.com", "a".repeat(138));
    let users: Vec<Value> = (0..USERS).map(|i| store_user(i, &long(i))).collect();
    let app = app(users).await;
    let ids: Vec<String> = (0..USERS).map(id).collect();

    let report = activate(&app, "", &ids).await;

    assert_eq!(report["status"], "completed");
    let total = USERS as u64;
    let summary = json!({"inserted": total, "updated": 0, "failed": 0, "total": total});
    assert_eq!(report["summary"], summary);
    let imports: Vec<_> = app
        .auth_fake()
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/users/import")
        .collect();
    assert!(imports.len() >= 3, "{} import files", imports.len());
    for import in &imports {
        let length: usize = import
            .header("content-length")
            .expect("a sized body")
            .parse()
            .unwrap();
        assert!(length < 500_000 + 1_000, "a multipart body of {length} bytes");
    }
    let linked_users = app
        .crud_fake()
        .state()
        .documents("/users")
        .iter()
        .filter(|u| u["authUserId"] == format!("auth0|{}", u["_id"].as_str().unwrap()))
        .count();
    assert_eq!(linked_users, USERS);
    assert_eq!(app.auth_fake().users().len(), USERS);
}

#[tokio::test]
async fn a_user_whose_email_the_provider_already_has_fails_with_its_code_and_the_others_are_activated() {
    let users: Vec<Value> = (0..5).map(|i| store_user(i, &email(i))).collect();
    let app = app(users).await;
    let other = app.auth_fake().insert_user(&email(2), None, "Secret-1234");
    let ids: Vec<String> = (0..5).map(id).collect();

    let report = activate(&app, "", &ids).await;

    assert_eq!(report["status"], "completed");
    assert_eq!(
        report["summary"],
        json!({"inserted": 4, "updated": 0, "failed": 1, "total": 5})
    );
    assert_eq!(failure_codes(&report), [(id(2), "CONFLICT_EMAIL".to_owned())]);
    assert!(report["failures"][0]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("email"));
    assert_eq!(linked(&app, &id(2)), None);
    assert!(app.auth_fake().user(&other).is_some());
    for i in [0, 1, 3, 4] {
        assert_eq!(linked(&app, &id(i)), Some(format!("auth0|{}", id(i))));
    }
}

#[tokio::test]
async fn unknown_already_linked_and_emailless_users_fail_and_the_others_are_activated() {
    let mut users: Vec<Value> = (0..4).map(|i| store_user(i, &email(i))).collect();
    users[1]["authUserId"] = json!("auth0|someone");
    users[2].as_object_mut().unwrap().remove("email");
    let app = app(users).await;
    let ids = vec![id(0), id(1), id(2), id(3), id(99), id(0)];

    let report = activate(&app, "", &ids).await;

    assert_eq!(report["status"], "completed");
    assert_eq!(
        report["summary"],
        json!({"inserted": 2, "updated": 0, "failed": 3, "total": 4 + 1})
    );
    let expected = [
        (id(1), "ALREADY_ACTIVE"),
        (id(2), "EMAIL_REQUIRED"),
        (id(99), "USER_NOT_FOUND"),
    ]
    .map(|(i, c)| (i, c.to_owned()));
    assert_eq!(failure_codes(&report), expected);
    assert_eq!(report["progress"], json!({"processed": 5, "total": 5}));
    assert_eq!(linked(&app, &id(1)).as_deref(), Some("auth0|someone"));
    assert_eq!(linked(&app, &id(3)), Some(format!("auth0|{}", id(3))));
}

#[tokio::test]
async fn an_unlinked_user_imported_again_is_refused_without_upsert_and_updated_with_it() {
    let app = app(vec![store_user(0, &email(0))]).await;
    let ids = vec![id(0)];
    activate(&app, "", &ids).await;
    let unlink = app
        .client
        .patch(format!("{}/users/{}", app.crud_fake().uri(), id(0)))
        .json(&json!({"$unset": {"authUserId": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(unlink.status(), 200);

    let refused = activate(&app, "?upsert=false", &ids).await;
    assert_eq!(failure_codes(&refused), [(id(0), "DUPLICATED_USER".to_owned())]);
    assert_eq!(linked(&app, &id(0)), None);

    let updated = activate(&app, "?upsert=true", &ids).await;
    assert_eq!(
        updated["summary"],
        json!({"inserted": 0, "updated": 1, "failed": 0, "total": 1})
    );
    assert_eq!(linked(&app, &id(0)), Some(format!("auth0|{}", id(0))));
}
