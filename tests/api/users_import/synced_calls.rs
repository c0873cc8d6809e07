//! The exact calls of `PATCH /users/import` update rows against wiremock: a row that changes no
//! field another system holds stays in the bulk patch, even for a linked user (one lookup by
//! `_id` when it sets such a field, to see that its values are the same); a row that changes a
//! linked user's email is written as `PATCH /users/{id}` writes it, then sent to the auth user.

use serde_json::{json, Value};

use super::wiremock_calls::{app_with, line, store_calls};
use super::{import_report, ALL_STATES};
use crate::helpers::{given, json_body, mount, ok_json, query_param, received, Journal, TestApp};

const ID: &str = "665f00000000000000000001";
const AUTH_ID: &str = "auth0|u1";
const UPDATED_AT: &str = "2024-05-01T10:00:00.000Z";

/// What the `_id` lookup reads of each user.
const READ: &str = "_id,authUserId,email,username,blocked,roles,expirationDate,updatedAt";

/// Ada's auth user on the Auth0 Client.
const AUTH_PATH: &str = "/users/auth0%7Cu1";

/// What writing Ada alone calls: her read (`read`), her compare-and-set write (answering
/// `updated`), her auth user's update.
async fn mount_write_alone(app: &TestApp, journal: &Journal, read: &Value, updated: Value) {
    let by_id = format!("/users/{ID}");
    let crud = app.crud();
    journal
        .mount(crud, "CRUD", given("GET", by_id.as_str()), ok_json(read))
        .await;
    journal
        .mount(crud, "CRUD", given("PATCH", by_id.as_str()), ok_json(updated))
        .await;
    journal
        .mount(app.auth(), "Auth0", given("PATCH", AUTH_PATH), ok_json(json!({})))
        .await;
}

/// Imports the row that gives Ada her new email; she is reported updated.
async fn import_adas_new_email(app: &TestApp) {
    let csv = format!("_id,userGroup,name,email\n{ID},customer,Ada,ada.l@example.com\n");
    let (status, report) = import_report(app, csv, &[]).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report, json!({"inserted": [], "updated": [ID], "invalid": []}));
}

fn q(request: &wiremock::Request) -> Value {
    serde_json::from_str(&query_param(request, "_q").expect("a _q")).expect("_q is JSON")
}

#[tokio::test]
async fn rows_that_change_no_field_another_system_holds_go_in_the_bulk_patch_even_for_a_linked_user() {
    let app = app_with(&[]).await;
    // Every store query finds u1, linked, as the rows leave its email and roles.
    let u1 = json!([{"_id": "u1", "authUserId": AUTH_ID, "email": "ann@example.com", "roles": ["reader"], "updatedAt": UPDATED_AT}]);
    mount(app.crud(), "GET", "/users/", ok_json(u1)).await;
    mount(app.crud(), "PATCH", "/users/bulk", ok_json(json!(2))).await;
    let csv = "_id,userGroup,name,email,roles,age\n\
               u1,customer,Ann B,ann@example.com,reader,\n\
               u2,customer,Bob,,,43\n";

    let (status, report) = import_report(&app, csv, &[]).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report,
        json!({"inserted": [], "updated": ["u1", "u2"], "invalid": []})
    );
    let calls = store_calls(&app).await;
    let lines: Vec<String> = calls.iter().map(line).collect();
    // The email's owner, the users whose watched fields the rows set (u1 only), the bulk patch
    // of u2, and u1's, conditional on the `updatedAt` the lookup read.
    assert_eq!(
        lines,
        [
            "GET /users/",
            "GET /users/",
            "PATCH /users/bulk",
            "PATCH /users/bulk"
        ]
    );
    assert_eq!(q(&calls[0]), json!({"email": {"$in": ["ann@example.com"]}}));
    assert_eq!(q(&calls[1]), json!({"_id": {"$in": ["u1"]}}));
    assert_eq!(query_param(&calls[1], "_st").as_deref(), Some(ALL_STATES));
    assert_eq!(query_param(&calls[1], "_p").as_deref(), Some(READ));
    assert_eq!(
        json_body(&calls[2]),
        json!([
            {"filter": {"_id": "u2", "_st": ALL_STATES}, "update": {"$set": {"userGroup": "customer", "name": "Bob", "age": 43}}}
        ])
    );
    let guarded = json_body(&calls[3]);
    assert_eq!(
        guarded[0]["update"],
        json!({"$set": {"userGroup": "customer", "name": "Ann B", "email": "ann@example.com", "roles": ["reader"]}})
    );
    let filter = &guarded[0]["filter"];
    assert_eq!(
        (&filter["_id"], &filter["_st"]),
        (&json!("u1"), &json!(ALL_STATES))
    );
    let cas: Value = serde_json::from_str(filter["_q"].as_str().expect("a _q")).unwrap();
    assert_eq!(cas, json!({"updatedAt": UPDATED_AT}), "compare-and-set");
    assert_eq!(guarded.as_array().map(Vec::len), Some(1));
    assert!(received(app.auth()).await.is_empty(), "no auth call");
    assert!(received(app.rond()).await.is_empty(), "no Rönd call");
}

#[tokio::test]
async fn a_row_that_changes_a_linked_users_email_is_written_as_patch_by_id_and_sent_to_its_auth_user() {
    let app = app_with(&[]).await;
    let journal = Journal::default();
    let user = json!({
        "_id": ID, "userGroup": "customer", "name": "Ada", "email": "ada@example.com",
        "authUserId": AUTH_ID, "__STATE__": "PUBLIC", "updatedAt": UPDATED_AT
    });
    let updated = json!({
        "_id": ID, "userGroup": "customer", "name": "Ada", "email": "ada.l@example.com",
        "authUserId": AUTH_ID, "__STATE__": "PUBLIC", "updatedAt": "2024-05-02T10:00:00.000Z"
    });
    let by_id = format!("/users/{ID}");
    let crud = app.crud();
    journal
        .mount(crud, "CRUD", given("GET", "/users/"), ok_json(json!([user])))
        .await;
    mount_write_alone(&app, &journal, &user, updated).await;

    import_adas_new_email(&app).await;
    let expected = [
        "CRUD GET /users/".to_owned(),
        "CRUD GET /users/".to_owned(),
        format!("CRUD GET {by_id}"),
        format!("CRUD PATCH {by_id}"),
        format!("Auth0 PATCH {AUTH_PATH}"),
    ];
    assert_eq!(journal.lines(), expected, "no bulk patch");
    let calls = journal.calls();
    assert_eq!(
        q(&calls[1].request),
        json!({"_id": {"$in": [ID]}}),
        "the lookup by _id"
    );
    assert_eq!(calls[2].query("_st").as_deref(), Some(ALL_STATES));
    assert_eq!(
        q(&calls[3].request),
        json!({"updatedAt": UPDATED_AT}),
        "compare-and-set"
    );
    assert_eq!(
        calls[3].body(),
        json!({"$set": {"userGroup": "customer", "name": "Ada", "email": "ada.l@example.com"}})
    );
    assert_eq!(calls[4].body(), json!({"email": "ada.l@example.com"}));
}

/// The lookup reads Ada unlinked, so her email change needs no sync; before the bulk patch she is
/// linked (the conditional patch updates nobody): her row is then written as `PATCH /users/{id}`,
/// which reads her again and sends the new email to her auth user.
#[tokio::test]
async fn a_user_linked_between_the_lookup_and_the_bulk_patch_gets_the_row_written_alone_and_synced() {
    let app = app_with(&[]).await;
    let journal = Journal::default();
    let unlinked = json!({
        "_id": ID, "userGroup": "customer", "name": "Ada", "email": "ada@example.com",
        "__STATE__": "PUBLIC", "updatedAt": UPDATED_AT
    });
    let mut linked = unlinked.clone();
    linked["authUserId"] = json!(AUTH_ID);
    linked["updatedAt"] = json!("2024-05-01T10:00:01.000Z");
    let mut updated = linked.clone();
    updated["email"] = json!("ada.l@example.com");
    let by_id = format!("/users/{ID}");
    let crud = app.crud();
    journal
        .mount(crud, "CRUD", given("GET", "/users/"), ok_json(json!([unlinked])))
        .await;
    journal
        .mount(crud, "CRUD", given("PATCH", "/users/bulk"), ok_json(json!(0)))
        .await;
    mount_write_alone(&app, &journal, &linked, updated).await;

    import_adas_new_email(&app).await;
    let expected = [
        "CRUD GET /users/".to_owned(),
        "CRUD GET /users/".to_owned(),
        "CRUD PATCH /users/bulk".to_owned(),
        format!("CRUD GET {by_id}"),
        format!("CRUD PATCH {by_id}"),
        format!("Auth0 PATCH {AUTH_PATH}"),
    ];
    assert_eq!(journal.lines(), expected);
    let calls = journal.calls();
    let bulk = calls[2].body();
    let cas: Value = serde_json::from_str(bulk[0]["filter"]["_q"].as_str().expect("a _q")).unwrap();
    assert_eq!(
        cas,
        json!({"updatedAt": UPDATED_AT}),
        "conditional on the lookup's read"
    );
    assert_eq!(
        q(&calls[4].request),
        json!({"updatedAt": "2024-05-01T10:00:01.000Z"}),
        "the write alone is conditional on its own read"
    );
    assert_eq!(calls[5].body(), json!({"email": "ada.l@example.com"}));
}
