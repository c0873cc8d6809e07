//! `DELETE /users/` (the CRUD's delete-many): every matching user deleted in both systems, the
//! count answered; a failure stops it and says how many were deleted and which user failed.

use std::time::Duration;

use serde_json::{json, Value};
use ums_fakes::chaos::{FaultKind, RandomFaults};

use crate::helpers::{customer_group, TestApp};

async fn app() -> TestApp {
    TestApp::on_fakes().with_groups(customer_group()).start().await
}

/// A `customer` in `state`, linked to a new auth user; its `_id`.
fn seed(app: &TestApp, n: u32, state: &str) -> String {
    let email = format!("user{n}@example.com");
    let auth_id = app.auth_fake().insert_user(&email, None, "Secret-123!");
    let id = format!("{n:0>24}");
    let doc = json!({"_id": id, "userGroup": "customer", "name": format!("User {n}"), "email": email,
                     "authUserId": auth_id, "__STATE__": state});
    app.crud_fake().state().insert_raw("/users", doc).unwrap();
    id
}

fn ids_in(ids: &[&str]) -> String {
    let q = json!({"_id": {"$in": ids}}).to_string();
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

fn stored(app: &TestApp) -> Vec<String> {
    let mut ids: Vec<String> = app
        .crud_fake()
        .state()
        .documents("/users")
        .iter()
        .filter_map(|d| d["_id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn every_match_is_deleted_in_both_systems_and_counted() {
    let app = app().await;
    let (a, b, c) = (
        seed(&app, 1, "PUBLIC"),
        seed(&app, 2, "PUBLIC"),
        seed(&app, 3, "PUBLIC"),
    );
    let trashed = seed(&app, 4, "TRASH");

    let response = app
        .delete(&format!("/users/?_q={}", ids_in(&[&a, &b, &trashed])))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!(2),
        "PUBLIC by default"
    );
    assert_eq!(stored(&app), vec![c.clone(), trashed.clone()]);
    assert_eq!(app.auth_fake().users().len(), 2, "their auth users are gone too");

    let purge = app
        .delete(&format!("/users/?_q={}&_st=TRASH", ids_in(&[&trashed])))
        .await;
    assert_eq!(purge.json::<Value>().await.unwrap(), json!(1));
    assert_eq!(stored(&app), vec![c]);
    let none = app.delete("/users/?name=nobody").await;
    assert_eq!(none.json::<Value>().await.unwrap(), json!(0));
    assert_eq!(app.delete("/users/?_p=name").await.status(), 400);
}

#[tokio::test]
async fn a_failure_stops_it_and_says_how_many_were_deleted_and_which_user_failed() {
    for (kind, code, cause) in [
        (FaultKind::FailBefore, 502, "responded 500"),
        (FaultKind::Delay, 504, "timed out"),
    ] {
        let app = app().await;
        let ids: Vec<String> = (1..=5).map(|n| seed(&app, n, "PUBLIC")).collect();
        let auth = app.auth_fake().random_faults();
        auth.set(&RandomFaults::rate(0.0).with_delay(Duration::from_millis(2500)));
        auth.force_next("DELETE", "/users/", kind, 1);

        let response = app.delete("/users/").await;

        assert_eq!(response.status(), code, "{kind:?}");
        let message = response.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("users deleted before user \""), "{message}");
        assert!(message.contains(cause), "{message}");
        let left = stored(&app);
        let failed = ids
            .iter()
            .find(|id| message.contains(id.as_str()))
            .expect("the failed user is named");
        assert!(left.contains(failed), "the failed user is still there: {left:?}");
        let done: usize = message.split(' ').next().unwrap().parse().unwrap();
        assert_eq!(left.len(), 5 - done, "{message}: {left:?}");
    }
}
