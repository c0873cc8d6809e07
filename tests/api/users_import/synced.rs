//! `PATCH /users/import` rows that change what a linked auth user holds (email, username,
//! blocked): written as `PATCH /users/{id}` writes a user, so the store and the auth provider end
//! up agreeing, on the CRUD Service and Auth0 fakes and in embedded mode (the new email logs
//! in); an update the provider refuses is reported for its row with the user reverted; a provider
//! failure stops the import at that row, the user reverted, and importing again finishes it.

use serde_json::{json, Value};
use ums_fakes::chaos::FaultKind;

use super::formats::part;
use super::import_report;
use crate::helpers::{status_and_body, temp_data_dir, TestApp, TextField};

async fn app() -> TestApp {
    TestApp::on_fakes().with_customer_group().start().await
}

/// A `customer` user `n` linked to an auth user: its `_id` and auth user id.
fn seed(app: &TestApp, n: u32) -> (String, String) {
    let email = format!("user{n}@example.com");
    let auth_id = app.auth_fake().insert_user(&email, None, "Secret-123!");
    let id = format!("{n:0>24}");
    let doc = json!({"_id": id, "userGroup": "customer", "name": format!("User {n}"), "email": email,
                     "authUserId": auth_id, "__STATE__": "PUBLIC",
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

/// `(store email, auth email, store blocked, auth blocked)` of a seeded user.
fn both(app: &TestApp, (id, auth_id): &(String, String)) -> (Value, Value, Value, Value) {
    let (user, auth) = (stored(app, id), auth_user(app, auth_id));
    let blocked = |doc: &Value| doc.get("blocked").cloned().unwrap_or(json!(false));
    (
        user["email"].clone(),
        auth["email"].clone(),
        blocked(&user),
        blocked(&auth),
    )
}

/// An export edited in a spreadsheet: user 1 gets a new email, user 2 is blocked, user 3 renamed.
fn edited(users: &[(String, String)]) -> String {
    format!(
        "_id,userGroup,name,email,blocked\n\
         {},customer,User 1,new1@example.com,\n\
         {},customer,User 2,user2@example.com,true\n\
         {},customer,Renamed,user3@example.com,\n",
        users[0].0, users[1].0, users[2].0
    )
}

#[tokio::test]
async fn an_import_that_changes_an_email_and_blocks_a_user_changes_the_store_and_the_auth_users() {
    let app = app().await;
    let users: Vec<(String, String)> = (1..=3).map(|n| seed(&app, n)).collect();

    let (status, report) = import_report(&app, edited(&users), &[]).await;

    assert_eq!(status, 200, "{report}");
    let ids: Vec<&str> = users.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        report,
        json!({"inserted": [], "updated": ids, "invalid": []}),
        "updated in row order"
    );
    let new1 = json!("new1@example.com");
    assert_eq!(
        both(&app, &users[0]),
        (new1.clone(), new1, json!(false), json!(false))
    );
    let old2 = json!("user2@example.com");
    assert_eq!(
        both(&app, &users[1]),
        (old2.clone(), old2, json!(true), json!(true))
    );
    assert_eq!(stored(&app, &users[2].0)["name"], "Renamed");
    let old3 = json!("user3@example.com");
    assert_eq!(
        both(&app, &users[2]),
        (old3.clone(), old3, json!(false), json!(false))
    );
}

#[tokio::test]
async fn an_email_the_auth_provider_refuses_is_reported_for_its_row_and_that_user_left_as_it_was() {
    let app = app().await;
    let users: Vec<(String, String)> = (1..=2).map(|n| seed(&app, n)).collect();
    // An auth user no store user links to holds the email row 1 asks for.
    app.auth_fake()
        .insert_user("taken@example.com", None, "Secret-123!");
    let ndjson = format!(
        "{{\"_id\": \"{}\", \"userGroup\": \"customer\", \"email\": \"taken@example.com\"}}\n\
         {{\"_id\": \"{}\", \"userGroup\": \"customer\", \"email\": \"new2@example.com\"}}\n",
        users[0].0, users[1].0
    );

    let file = part(ndjson, "users.ndjson", Some("application/x-ndjson"));
    let (status, report) = status_and_body(app.import_part(false, file, &[], &[]).await).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(report["updated"], json!([users[1].0]), "{report}");
    assert_eq!(report["invalid"].as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(report["invalid"][0]["row"], 1);
    let error = report["invalid"][0]["error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!("user \"{}\" was not updated: ", users[0].0)),
        "{error}"
    );
    assert!(error.contains("already exists"), "the provider's reason: {error}");
    let old1 = json!("user1@example.com");
    assert_eq!(
        both(&app, &users[0]),
        (old1.clone(), old1, json!(false), json!(false)),
        "reverted in the store"
    );
    let new2 = json!("new2@example.com");
    assert_eq!(
        both(&app, &users[1]),
        (new2.clone(), new2, json!(false), json!(false))
    );
}

#[tokio::test]
async fn an_auth_provider_failure_reverts_that_user_and_stops_the_import_at_its_row() {
    let app = app().await;
    let users: Vec<(String, String)> = (1..=3).map(|n| seed(&app, n)).collect();
    let encoded: String = url::form_urlencoded::byte_serialize(users[1].1.as_bytes()).collect();
    let faults = app.auth_fake().random_faults();
    faults.force_next("PATCH", &format!("/users/{encoded}"), FaultKind::FailBefore, 1);

    let (status, error) = import_report(&app, edited(&users), &[]).await;

    assert_eq!(status, 502, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.starts_with("import stopped at row 2: "), "{message}");
    assert!(message.contains("responded 500"), "{message}");
    // User 3 (bulk patch) and user 1 (written with user 2) were written.
    assert!(message.ends_with("; 2 rows were written"), "{message}");
    let old2 = json!("user2@example.com");
    assert_eq!(
        both(&app, &users[1]),
        (old2.clone(), old2.clone(), json!(false), json!(false)),
        "user 2 reverted: unblocked in the store, never blocked in the provider"
    );
    let new1 = json!("new1@example.com");
    assert_eq!(
        both(&app, &users[0]),
        (new1.clone(), new1.clone(), json!(false), json!(false))
    );

    // Importing the same file again finishes it.
    let (status, report) = import_report(&app, edited(&users), &[]).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(report["invalid"], json!([]), "{report}");
    assert_eq!(
        both(&app, &users[1]),
        (old2.clone(), old2, json!(true), json!(true))
    );
    assert_eq!(
        both(&app, &users[0]),
        (new1.clone(), new1, json!(false), json!(false))
    );
}

#[tokio::test]
async fn embedded_mode_an_imported_email_change_is_the_new_login_and_an_imported_block_refuses_one() {
    let dir = temp_data_dir();
    let app = TestApp::embedded(&dir).start().await;
    let password = "Kettle-Lamp-42!";
    let mut ids = Vec::new();
    for name in ["ann", "bob"] {
        let body = json!({"userGroup": "customer", "name": name, "email": format!("{name}@example.com"),
                          "password": password});
        let created = app.post_json("/users/", &body).await;
        assert_eq!(created.status(), 200);
        ids.push(created.text_field("_id").await);
    }
    let login = |email: &str| json!({"username": email, "password": password});
    assert_eq!(
        app.post_json("/oauth/token", &login("bob@example.com"))
            .await
            .status(),
        200
    );
    let ndjson = format!(
        "{{\"_id\": \"{}\", \"userGroup\": \"customer\", \"name\": \"ann\", \"email\": \"ann.new@example.com\"}}\n\
         {{\"_id\": \"{}\", \"userGroup\": \"customer\", \"name\": \"bob\", \"blocked\": true}}\n",
        ids[0], ids[1]
    );

    let file = part(ndjson, "users.ndjson", Some("application/x-ndjson"));
    let (status, report) = status_and_body(app.import_part(false, file, &[], &[]).await).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(report, json!({"inserted": [], "updated": ids, "invalid": []}));
    let status_of = |email: &'static str| {
        let app = &app;
        async move {
            app.post_json("/oauth/token", &login(email))
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        status_of("ann.new@example.com").await,
        200,
        "the new email logs in"
    );
    assert_eq!(status_of("ann@example.com").await, 401, "the old one no more");
    assert_eq!(status_of("bob@example.com").await, 401, "blocked");
    let ann: Value = app.get(&format!("/users/{}", ids[0])).await.json().await.unwrap();
    assert_eq!(ann["email"], "ann.new@example.com");
    app.shutdown.cancel();
    let _ = std::fs::remove_dir_all(dir);
}
