//! Duplicates answer 409 naming the taken field in words (`a user with this email already
//! exists`), never MongoDB's text (collection, index, value), on every route that writes users
//! and in both modes: the CRUD Service (its exact E11000 bodies, 409 on insert and 500 on PATCH)
//! and the embedded store.

use serde_json::{json, Value};

use wiremock::ResponseTemplate;

use crate::helpers::{mount_once, temp_data_dir, TestApp};

const EMAIL_TAKEN: &str = "a user with this email already exists";
/// The CRUD Service's answer to an insert with a taken email, as it sends it.
const CRUD_E11000: &str =
    r#"E11000 duplicate key error collection: db.users index: email_1 dup key: { email: "a@b.c" }"#;

/// The message of a Mia error body, checked for MongoDB's text.
async fn conflict_message(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["statusCode"], 409);
    let message = body["message"].as_str().unwrap().to_owned();
    for leak in ["E11000", "collection", "index", "db.users", "dup key", "a@b.c"] {
        assert!(!message.contains(leak), "{message:?} shows {leak:?}");
    }
    message
}

#[tokio::test]
async fn crud_mode_the_crud_services_e11000_on_insert_is_a_409_in_words() {
    let app = TestApp::on_wiremock().with_customer_group().start().await;
    let body = json!({"statusCode": 409, "error": "Conflict", "message": CRUD_E11000});
    mount_once(
        app.crud(),
        "POST",
        "/users/",
        ResponseTemplate::new(409).set_body_json(body),
    )
    .await;

    let user = json!({"userGroup": "customer", "name": "Ann", "email": "a@b.c"});
    let message = conflict_message(app.post_json("/users/", &user).await).await;
    assert!(message.ends_with(EMAIL_TAKEN), "{message:?}");
}

#[tokio::test]
async fn crud_mode_an_email_change_to_a_taken_one_is_a_409_in_words() {
    // The CRUD Service answers a unique violation of a PATCH with a 500 and the E11000 text.
    let app = TestApp::on_fakes()
        .with_customer_group()
        .with_users(
            [("Ann", "a@b.c"), ("Bob", "bob@example.com")]
                .map(|(name, email)| {
                    json!({"userGroup": "customer", "name": name, "email": email, "__STATE__": "PUBLIC"})
                })
                .into(),
        )
        .start()
        .await;
    let users = app.crud_fake().state().documents("/users");
    let bob = users.iter().find(|u| u["name"] == "Bob").unwrap();
    let bob_id = bob["_id"].as_str().unwrap().to_owned();

    let update = json!({"$set": {"email": "a@b.c"}});
    let response = app.patch_json(&format!("/users/{bob_id}"), &update).await;
    let message = conflict_message(response).await;
    assert!(message.ends_with(EMAIL_TAKEN), "{message:?}");
    let stored = app.crud_fake().state().document("/users", &bob_id).unwrap();
    assert_eq!(stored["email"], "bob@example.com");
}

#[tokio::test]
async fn embedded_mode_a_taken_email_is_the_same_409_on_create_and_on_update() {
    let dir = temp_data_dir();
    let app = TestApp::embedded(&dir).start().await;
    let ann =
        json!({"userGroup": "customer", "name": "Ann", "email": "a@b.c", "password": "Kettle-Lamp-42!"});
    assert_eq!(app.post_json("/users/", &ann).await.status(), 200);

    let message = conflict_message(app.post_json("/users/", &ann).await).await;
    assert!(message.ends_with(EMAIL_TAKEN), "{message:?}");

    let bob = json!({"userGroup": "customer", "name": "Bob", "email": "bob@example.com", "password": "Kettle-Lamp-42!"});
    let created: Value = app.post_json("/users/", &bob).await.json().await.unwrap();
    let bob_id = created["_id"].as_str().unwrap();
    let update = json!({"$set": {"email": "a@b.c"}});
    let response = app.patch_json(&format!("/users/{bob_id}"), &update).await;
    let message = conflict_message(response).await;
    assert!(message.ends_with(EMAIL_TAKEN), "{message:?}");

    let csv = "userGroup,name,email\ncustomer,Cy,a@b.c\n";
    let import = app.import_csv(csv, &[]).await;
    assert_eq!(import.status(), 200);
    let report: Value = import.json().await.unwrap();
    let error = report["invalid"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("email") && !error.contains("E11000"), "{report}");
    app.shutdown.cancel();
    let _ = std::fs::remove_dir_all(dir);
}
