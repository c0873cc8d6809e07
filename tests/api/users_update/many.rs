//! `PATCH /users/` and `PATCH /users/bulk` on the stateful fakes: every match updated in the
//! store and synced to its auth user; an invalid result for any user writes nothing; a failure
//! mid-way reverts that user and says how many were updated.

use std::time::Duration;

use serde_json::{json, Value};
use ums_fakes::chaos::{FaultKind, RandomFaults};

use super::groups;
use crate::helpers::{error_of, TestApp};

async fn app() -> TestApp {
    TestApp::on_fakes().with_groups(groups()).start().await
}

/// A linked `customer` user `n` in `state`; its `_id` and auth user id.
fn seed(app: &TestApp, n: u32, state: &str) -> (String, String) {
    let email = format!("user{n}@example.com");
    let auth_id = app.auth_fake().insert_user(&email, None, "Secret-123!");
    let id = format!("{n:0>24}");
    let doc = json!({"_id": id, "userGroup": "customer", "name": format!("User {n}"), "email": email,
                     "authUserId": auth_id, "__STATE__": state,
                     "updatedAt": "2024-05-01T10:00:00.000Z"});
    app.crud_fake().state().insert_raw("/users", doc).unwrap();
    (id, auth_id)
}

fn stored(app: &TestApp, id: &str) -> Value {
    app.crud_fake().state().document("/users", id).expect("stored")
}

fn auth_user(app: &TestApp, auth_id: &str) -> Value {
    app.auth_fake().user(auth_id).expect("the auth user exists")
}

fn q_ids(ids: &[&str]) -> String {
    let q = json!({"_id": {"$in": ids}}).to_string();
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

async fn count(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn patch_many_updates_every_match_in_both_systems_and_counts_them() {
    let app = app().await;
    let (a, a_auth) = seed(&app, 1, "PUBLIC");
    let (b, b_auth) = seed(&app, 2, "PUBLIC");
    let (c, c_auth) = seed(&app, 3, "PUBLIC");
    let (trashed, t_auth) = seed(&app, 4, "TRASH");

    let path = format!("/users/?_q={}", q_ids(&[&a, &b, &trashed]));
    let updated = app.patch_json(&path, &json!({"$set": {"blocked": true}})).await;

    assert_eq!(
        count(updated).await,
        json!(2),
        "PUBLIC by default: the trashed user is not matched"
    );
    for (id, auth_id) in [(&a, &a_auth), (&b, &b_auth)] {
        assert_eq!(stored(&app, id)["blocked"], true);
        assert_eq!(
            auth_user(&app, auth_id)["blocked"],
            true,
            "blocked follows the store"
        );
    }
    assert_eq!(stored(&app, &c).get("blocked"), None);
    assert_eq!(auth_user(&app, &c_auth)["blocked"], false);
    assert_eq!(auth_user(&app, &t_auth)["blocked"], false);

    let trash = format!("/users/?_q={}&_st=TRASH", q_ids(&[&trashed]));
    let renamed = app.patch_json(&trash, &json!({"$set": {"name": "Gone"}})).await;
    assert_eq!(count(renamed).await, json!(1));
    assert_eq!(stored(&app, &trashed)["name"], "Gone");
    let none = app
        .patch_json("/users/?name=nobody", &json!({"$set": {"age": 1}}))
        .await;
    assert_eq!(count(none).await, json!(0));
}

#[tokio::test]
async fn patch_bulk_updates_the_user_of_each_item_and_syncs_the_email() {
    let app = app().await;
    let (a, a_auth) = seed(&app, 1, "PUBLIC");
    let (b, b_auth) = seed(&app, 2, "PUBLIC");
    let body = json!([
        {"filter": {"_id": a, "_st": "PUBLIC"}, "update": {"$set": {"blocked": true}}},
        {"filter": {"_id": b, "_q": "{\"name\":\"User 2\"}"}, "update": {"$set": {"email": "bea@example.com"}}},
        {"filter": {"_id": "000000000000000000000099"}, "update": {"$set": {"blocked": true}}}
    ]);

    let updated = app.patch_json("/users/bulk", &body).await;

    assert_eq!(count(updated).await, json!(2), "an item matching nobody counts 0");
    assert_eq!(stored(&app, &a)["blocked"], true);
    assert_eq!(auth_user(&app, &a_auth)["blocked"], true);
    assert_eq!(stored(&app, &b)["email"], "bea@example.com");
    assert_eq!(auth_user(&app, &b_auth)["email"], "bea@example.com");
}

#[tokio::test]
async fn patch_bulk_moves_users_to_another_group_when_the_result_is_valid() {
    let app = app().await;
    let (a, _) = seed(&app, 1, "PUBLIC");
    let update = json!({"$set": {"userGroup": "vip", "level": 2}, "$unset": {"email": true}});
    let body = json!([{"filter": {"_id": a}, "update": update}]);

    assert_eq!(count(app.patch_json("/users/bulk", &body).await).await, json!(1));
    let user = stored(&app, &a);
    assert_eq!((&user["userGroup"], &user["level"]), (&json!("vip"), &json!(2)));
}

#[tokio::test]
async fn an_invalid_result_for_any_user_writes_nothing_and_names_every_violation() {
    let app = app().await;
    let (a, a_auth) = seed(&app, 1, "PUBLIC");
    let (b, _) = seed(&app, 2, "PUBLIC");
    let (c, _) = seed(&app, 3, "PUBLIC");
    let before: Vec<Value> = [&a, &b, &c].iter().map(|id| stored(&app, id)).collect();
    let body = json!([
        {"filter": {"_id": a}, "update": {"$set": {"blocked": true}}},
        {"filter": {"_id": b}, "update": {"$set": {"userGroup": "vip"}}},
        {"filter": {"_id": c}, "update": {"$set": {"age": -1}}}
    ]);

    let error = error_of(app.patch_json("/users/bulk", &body).await, 400).await;

    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("nothing was updated: 2 of the matched users"),
        "{message}"
    );
    assert!(message.contains(&format!("item 1, user \"{b}\"")), "{message}");
    assert!(message.contains(&format!("item 2, user \"{c}\"")), "{message}");
    assert!(!message.contains(&format!("user \"{a}\"")), "{message}");
    let after: Vec<Value> = [&a, &b, &c].iter().map(|id| stored(&app, id)).collect();
    assert_eq!(before, after, "no user was written");
    assert_eq!(auth_user(&app, &a_auth)["blocked"], false, "nor its auth user");

    let many = app
        .patch_json(
            &format!("/users/?_q={}", q_ids(&[&a, &b])),
            &json!({"$unset": {"name": true}}),
        )
        .await;
    let message = error_of(many, 400).await["message"].as_str().unwrap().to_owned();
    assert!(message.contains("2 of the matched users"), "{message}");
    assert!(message.contains(&format!("user \"{a}\"")) && message.contains(&format!("user \"{b}\"")));
    assert_eq!(stored(&app, &a)["name"], "User 1");
}

#[tokio::test]
async fn malformed_bodies_and_queries_are_refused_saying_what_to_fix() {
    let app = app().await;
    let (a, _) = seed(&app, 1, "PUBLIC");
    let cases = [
        (json!([]), "non-empty array"),
        (json!([{"filter": {"_id": a}}]), "update"),
        (json!([{"filter": {"_id": a}, "update": {}, "other": 1}]), "other"),
        (
            json!([{"filter": {"_id": a}, "update": {"$set": {"_id": "x"}}}]),
            "item 0: _id cannot be changed",
        ),
        (
            json!([{"filter": {"_id": a}, "update": {"$rename": {"a": "b"}}}]),
            "item 0: unknown update operator",
        ),
        (
            json!([{"filter": {"_id": [1]}, "update": {}}]),
            "item 0: filter._id must be a string",
        ),
        (
            json!([{"filter": {"_st": "GONE"}, "update": {}}]),
            "item 0: filter",
        ),
        (
            json!([{"filter": {"_id": a}, "update": {}}, {"filter": {"name": "User 1"}, "update": {}}]),
            "items 0 and 1 both update user",
        ),
    ];
    for (body, expected) in cases {
        let error = error_of(app.patch_json("/users/bulk", &body).await, 400).await;
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(expected), "{body}: {message}");
    }
    let bad_query = app
        .patch_json("/users/?_p=name", &json!({"$set": {"age": 1}}))
        .await;
    error_of(bad_query, 400).await;
    let bad_update = app
        .patch_json("/users/", &json!({"$set": {"authUserId": "x"}}))
        .await;
    error_of(bad_update, 400).await;
    assert_eq!(stored(&app, &a)["name"], "User 1");
}

#[tokio::test]
async fn a_failure_on_the_third_of_five_reverts_that_user_and_says_how_many_were_updated() {
    for (kind, code, cause) in [
        (FaultKind::FailBefore, 502, "responded 500"),
        (FaultKind::Delay, 504, "timed out"),
    ] {
        let app = app().await;
        let users: Vec<(String, String)> = (1..=5).map(|n| seed(&app, n, "PUBLIC")).collect();
        let auth = app.auth_fake().random_faults();
        auth.set(&RandomFaults::rate(0.0).with_delay(Duration::from_millis(2500)));
        let third = &users[2];
        let encoded: String = url::form_urlencoded::byte_serialize(third.1.as_bytes()).collect();
        auth.force_next("PATCH", &format!("/users/{encoded}"), kind, 1);
        let body: Vec<Value> = users
            .iter()
            .map(|(id, _)| json!({"filter": {"_id": id}, "update": {"$set": {"blocked": true}}}))
            .collect();

        let response = app.patch_json("/users/bulk", &json!(body)).await;

        let error = error_of(response, code).await;
        let message = error["message"].as_str().unwrap();
        assert!(
            message.starts_with("3 users updated before user \""),
            "{kind:?}: {message}"
        );
        assert!(message.contains(&third.0) && message.contains(cause), "{message}");
        let blocked = |(id, auth_id): &(String, String)| {
            (
                stored(&app, id).get("blocked").cloned(),
                auth_user(&app, auth_id)["blocked"].clone(),
            )
        };
        // Written four at a time in `_id` order: users 1, 2 and 4 were in flight with the 3rd.
        for done in [&users[0], &users[1], &users[3]] {
            assert_eq!(blocked(done), (Some(json!(true)), json!(true)), "{kind:?}");
        }
        if kind == FaultKind::FailBefore {
            // (A delayed call may still land later: the recovery worker converges it then.)
            assert_eq!(
                blocked(third).1,
                json!(false),
                "the failed user's auth user unchanged"
            );
        }
        assert_ne!(
            blocked(third).0,
            Some(json!(true)),
            "{kind:?}: the failed user reverted"
        );
        assert_eq!(
            blocked(&users[4]),
            (None, json!(false)),
            "{kind:?}: the 5th never touched"
        );
    }
}
