//! `POST /jobs/reconcile` and `GET /jobs/reconcile/{id}`: every inconsistency kind seeded in the
//! fakes is reported, and repaired in repair mode; store-only groups and users mid-saga are left
//! alone.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{customer_schema, group_doc, TestApp};

/// The service on the fakes with `customer` and the store-only `guest` group, hard auth delete.
/// (The seeded users have no `updatedAt`: the reconciler never takes them for mid-saga.)
async fn app() -> TestApp {
    app_with(&[]).await
}

async fn app_with(env: &[(&str, &str)]) -> TestApp {
    TestApp::on_fakes()
        .with_groups(vec![
            group_doc("customer", customer_schema(), false),
            group_doc("guest", customer_schema(), true),
        ])
        .with_env(&[("AUTH_HARD_DELETE", "true")])
        .with_env(env)
        .start()
        .await
}

/// A 250 ms downstream timeout allows a 3 s recovery grace.
const SHORT_GRACE: &[(&str, &str)] = &[
    ("DOWNSTREAM_TIMEOUT_MS", "250"),
    ("SAGA_RECOVERY_GRACE_MS", "3000"),
];

/// Longer than the grace of [`SHORT_GRACE`].
const GRACE: Duration = Duration::from_millis(3_100);

fn id(n: u32) -> String {
    format!("{n:0>24}")
}

/// A store user `n` of `group` in `state`, linked to `auth` when given.
fn store_user(app: &TestApp, n: u32, group: &str, state: &str, auth: Option<&str>) {
    let mut doc = json!({"_id": id(n), "userGroup": group, "name": format!("User {n}"),
                         "email": format!("user{n}@example.com"), "__STATE__": state});
    if let Some(auth) = auth {
        doc["authUserId"] = json!(auth);
    }
    app.crud_fake()
        .state()
        .insert_raw("/users", doc)
        .expect("user seeded");
}

/// An auth user with `email`, marked as created for the store user `n` when given.
async fn auth_user(app: &TestApp, email: &str, for_user: Option<u32>) -> String {
    let mut body =
        json!({"email": email, "password": "Secret-123!", "connection": "Username-Password-Authentication"});
    if let Some(n) = for_user {
        body["app_metadata"] = json!({"umsUserId": id(n)});
    }
    let url = format!("{}/users", app.auth_fake().uri());
    let created: Value = app
        .client
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["user_id"].as_str().expect("auth user created").to_owned()
}

/// Seeds one case of every kind; returns the auth ids by name.
async fn seed_every_kind(app: &TestApp) -> std::collections::HashMap<&'static str, String> {
    let mut ids = std::collections::HashMap::new();
    ids.insert("orphan", auth_user(app, "orphan@example.com", Some(900)).await);
    store_user(app, 1, "customer", "PUBLIC", None);
    ids.insert("unlinked", auth_user(app, "user1@example.com", Some(1)).await);
    let b1 = auth_user(app, "user2@example.com", Some(2)).await;
    store_user(app, 2, "customer", "PUBLIC", Some(&b1));
    ids.insert(
        "duplicate",
        auth_user(app, "user2-copy@example.com", Some(2)).await,
    );
    store_user(app, 3, "customer", "DELETED", Some("auth0|gone-3"));
    store_user(app, 4, "customer", "PUBLIC", Some("auth0|gone-4"));
    let e = auth_user(app, "user5@example.com", Some(5)).await;
    store_user(app, 5, "customer", "DELETED", Some(&e));
    ids.insert("deleted", e);
    store_user(app, 6, "customer", "PUBLIC", None);
    let g = auth_user(app, "old7@example.com", Some(7)).await;
    store_user(app, 7, "customer", "PUBLIC", Some(&g));
    ids.insert("email", g);
    let h = auth_user(app, "user8@example.com", Some(8)).await;
    store_user(app, 8, "customer", "TRASH", Some(&h));
    ids.insert("blocked", h);
    store_user(app, 9, "guest", "PUBLIC", None);
    ids
}

/// Starts a pass with `body` and waits for its end; returns the report.
async fn reconcile(app: &TestApp, body: Option<Value>) -> Value {
    let request = app.client.post(app.url("/jobs/reconcile"));
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let created = request.send().await.unwrap();
    assert_eq!(created.status(), 202);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["status"], "pending");
    let job_id = created["jobId"].as_str().unwrap().to_owned();
    for _ in 0..200 {
        let report: Value = app
            .get(&format!("/jobs/reconcile/{job_id}"))
            .await
            .json()
            .await
            .unwrap();
        if report["status"] == "completed" || report["status"] == "failed" {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the reconcile pass did not end");
}

fn counts(report: &Value) -> Vec<(String, u64, u64)> {
    let findings = report["findings"].as_object().expect("findings");
    findings
        .iter()
        .map(|(kind, f)| {
            (
                kind.clone(),
                f["found"].as_u64().unwrap(),
                f["repaired"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn row(kind: &str, found: u64, repaired: u64) -> (String, u64, u64) {
    (kind.to_owned(), found, repaired)
}

#[tokio::test]
async fn a_report_pass_finds_every_kind_and_changes_nothing() {
    let app = app().await;
    let auth = seed_every_kind(&app).await;
    let report = reconcile(&app, Some(json!({"mode": "report"}))).await;
    assert_eq!(report["status"], "completed", "{report}");
    assert_eq!(report["mode"], "report");
    assert_eq!(report["phase"], "done");
    assert_eq!(
        counts(&report),
        vec![
            row("orphanAuthUsers", 1, 0),
            row("unlinkedAuthUsers", 1, 0),
            row("duplicateAuthUsers", 1, 0),
            row("danglingLinks", 2, 0),
            row("deletedStillLinked", 1, 0),
            // Store user 1 is also the store side of the unlinked auth user.
            row("usersWithoutAuthUser", 2, 0),
            row("emailMismatches", 1, 0),
            row("blockedMismatches", 1, 0),
        ]
    );
    assert_eq!(
        report["findings"]["orphanAuthUsers"]["examples"],
        json!([auth["orphan"]])
    );
    assert!(
        app.auth_fake().user(&auth["orphan"]).is_some(),
        "report mode deletes nothing"
    );
    assert_eq!(
        app.auth_fake().user(&auth["email"]).unwrap()["email"],
        "old7@example.com"
    );
}

#[tokio::test]
async fn a_repair_pass_repairs_what_is_safe_and_a_second_pass_finds_only_the_rest() {
    let app = app_with(SHORT_GRACE).await;
    let auth = seed_every_kind(&app).await;
    let report = reconcile(&app, Some(json!({"mode": "repair"}))).await;
    assert_eq!(report["status"], "completed", "{report}");
    assert_eq!(
        counts(&report),
        vec![
            row("orphanAuthUsers", 1, 1),
            row("unlinkedAuthUsers", 1, 1),
            row("duplicateAuthUsers", 1, 1),
            row("danglingLinks", 2, 1),
            row("deletedStillLinked", 1, 1),
            row("usersWithoutAuthUser", 1, 0),
            row("emailMismatches", 1, 1),
            row("blockedMismatches", 1, 1),
        ]
    );
    let fake = app.auth_fake();
    assert!(fake.user(&auth["orphan"]).is_none());
    assert!(fake.user(&auth["duplicate"]).is_none());
    assert!(fake.user(&auth["deleted"]).is_none());
    assert_eq!(fake.user(&auth["email"]).unwrap()["email"], "user7@example.com");
    assert_eq!(fake.user(&auth["blocked"]).unwrap()["blocked"], true);
    let store = app.crud_fake().state();
    assert_eq!(
        store.document("/users", &id(1)).unwrap()["authUserId"],
        auth["unlinked"].as_str()
    );
    assert!(store
        .document("/users", &id(3))
        .unwrap()
        .get("authUserId")
        .is_none());
    assert!(store
        .document("/users", &id(5))
        .unwrap()
        .get("authUserId")
        .is_none());

    tokio::time::sleep(GRACE).await;
    let again = reconcile(&app, Some(json!({"mode": "report"}))).await;
    assert_eq!(
        counts(&again),
        vec![row("danglingLinks", 1, 0), row("usersWithoutAuthUser", 1, 0)],
        "only what needs a person is left: {again}"
    );
}

#[tokio::test]
async fn a_user_with_an_open_saga_is_left_alone() {
    let app = app().await;
    let g = auth_user(&app, "old7@example.com", Some(7)).await;
    store_user(&app, 7, "customer", "PUBLIC", Some(&g));
    let saga = json!({"kind": "saga", "operation": "update", "userIds": [id(7)], "key": {},
                      "steps": [], "startedAt": 4_102_444_800_000_i64, "leaseUntil": 4_102_444_800_000_i64,
                      "__STATE__": "PUBLIC"});
    app.crud_fake().state().insert_raw("/jobs", saga).unwrap();
    let report = reconcile(&app, Some(json!({"mode": "repair"}))).await;
    assert_eq!(counts(&report), vec![]);
    assert_eq!(report["skipped"], 2, "the store user and its auth user");
    assert_eq!(app.auth_fake().user(&g).unwrap()["email"], "old7@example.com");
}

#[tokio::test]
async fn without_a_body_the_pass_takes_reconcile_mode() {
    let app = app().await;
    store_user(&app, 4, "customer", "PUBLIC", Some("auth0|gone-4"));
    let report = reconcile(&app, None).await;
    assert_eq!(
        report["mode"], "report",
        "RECONCILE_MODE defaults to report in CRUD mode"
    );
    assert_eq!(report["progress"], json!({"processed": 1, "total": 1}));
}

#[tokio::test]
async fn bad_requests_are_refused_and_unknown_jobs_are_404() {
    let app = app().await;
    let bad = app.post_json("/jobs/reconcile", &json!({"mode": "fix"})).await;
    assert_eq!(bad.status(), 400);
    let message = bad.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("report") && message.contains("repair"),
        "{message}"
    );
    let unknown = app
        .post_json("/jobs/reconcile", &json!({"modes": "report"}))
        .await;
    assert_eq!(unknown.status(), 400);
    assert_eq!(
        app.get("/jobs/reconcile/000000000000000000000999").await.status(),
        404
    );
}

#[tokio::test]
async fn a_job_of_another_kind_is_not_a_reconcile_job() {
    let app = app().await;
    let created = app
        .post_json(
            "/jobs/change-password/bulk",
            &json!({"authUsersIds": ["auth0|1"]}),
        )
        .await;
    let status = created.status();
    let created: Value = created.json().await.unwrap();
    assert_eq!(status, 202, "{created}");
    let id = created["jobId"].as_str().unwrap();
    assert_eq!(app.get(&format!("/jobs/reconcile/{id}")).await.status(), 404);
}

#[tokio::test]
async fn without_a_jobs_collection_the_routes_answer_501() {
    let app = TestApp::on_fakes()
        .with_customer_group()
        .without_jobs()
        .start()
        .await;
    let response = app.post_json("/jobs/reconcile", &json!({})).await;
    assert_eq!(response.status(), 501);
}

#[tokio::test]
async fn in_embedded_mode_a_pass_over_consistent_users_finds_nothing() {
    let dir = crate::helpers::temp_data_dir();
    let app = TestApp::embedded(&dir).with_env(SHORT_GRACE).start().await;
    for n in 0..3 {
        let body = json!({"userGroup": "customer", "name": "Ada", "email": format!("ada{n}@example.com"),
                          "password": "Secret-123!"});
        let created = app.post_json("/users/", &body).await;
        assert_eq!(created.status(), 200);
    }
    tokio::time::sleep(GRACE).await;
    let report = reconcile(&app, None).await;
    assert_eq!(
        report["mode"], "repair",
        "RECONCILE_MODE defaults to repair in embedded mode"
    );
    assert_eq!(report["status"], "completed", "{report}");
    assert_eq!(counts(&report), vec![]);
    assert_eq!(
        report["progress"]["processed"], 6,
        "3 store users, then their 3 auth users"
    );
}

#[tokio::test]
async fn without_hard_delete_a_blocked_auth_user_of_a_deleted_user_is_the_policy_not_an_orphan() {
    let app = TestApp::on_fakes()
        .with_customer_group()
        .with_env(&[("AUTH_HARD_DELETE", "false")])
        .start()
        .await;
    let kept = auth_user(&app, "kept@example.com", Some(901)).await;
    app.auth_fake().set_blocked(&kept, true);
    let unblocked = auth_user(&app, "unblocked@example.com", Some(902)).await;
    let report = reconcile(&app, Some(json!({"mode": "repair"}))).await;
    assert_eq!(counts(&report), vec![row("orphanAuthUsers", 1, 1)]);
    assert_eq!(
        report["findings"]["orphanAuthUsers"]["examples"],
        json!([unblocked])
    );
    assert_eq!(
        app.auth_fake().user(&unblocked).unwrap()["blocked"],
        true,
        "blocked, not deleted"
    );
    assert!(app.auth_fake().user(&kept).is_some());
}
