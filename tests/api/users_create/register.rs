//! `POST /users/register`: the auth user of a store-only user (postponed creation).

use serde_json::{json, Value};

use super::*;

const GET_USER: &str = "CRUD GET /users/665f00000000000000000001";

/// The happy scenario with the store user `stored` (404 when `None`) and an extra group `staff`
/// that disables auth users.
async fn scenario(stored: Option<Value>) -> Scenario {
    let mut groups = customer_group();
    groups.push(group_doc("staff", json!({"type": "object"}), true));
    let s = Scenario::start(&[], groups, None).await;
    s.mount_stored_user(stored).await;
    s
}

impl Scenario {
    async fn mount_stored_user(&self, stored: Option<Value>) {
        let answer = match stored {
            Some(user) => ok_json(user),
            None => ResponseTemplate::new(404).set_body_json(json!({"error": "not found"})),
        };
        self.crud("GET", &format!("/users/{USER_ID}"), answer).await;
    }
}

fn stored_user() -> Value {
    json!({
        "_id": USER_ID, "userGroup": "customer", "name": "Ada", "email": "ada@example.com",
        "roles": ["admin"], "__STATE__": "PUBLIC",
    })
}

#[tokio::test]
async fn registering_a_store_only_user_creates_links_and_grants_its_auth_user() {
    let s = scenario(Some(stored_user())).await;

    let registration = json!({"_id": USER_ID, "password": PASSWORD});
    let response = s.post("/users/register", &registration).await;

    assert_eq!(response.status(), 204);
    assert_eq!(s.journal.lines(), [GET_USER, AUTH_CREATE, PATCH_USER, GRANT]);
    let crud = received(s.app.crud()).await;
    assert_eq!(query_param(&crud[0], "_st").as_deref(), Some(ALL_STATES));
    assert_eq!(json_body(&crud[1]), json!({"$set": {"authUserId": AUTH_ID}}));
    assert_eq!(
        query_param(&crud[1], "_q").as_deref(),
        Some(r#"{"authUserId":{"$exists":false}}"#)
    );
    let auth = json_body(&received(s.app.auth()).await[0]);
    let expected = json!({"email": "ada@example.com", "password": PASSWORD, "blocked": false, "verify_email": true,
               "app_metadata": {"umsUserId": USER_ID}});
    assert_eq!(auth, expected);
    let grant = json_body(&received(s.app.rond()).await[0]);
    assert_eq!(grant, json!({"subjects": [AUTH_ID], "roles": ["admin"]}));
}

#[tokio::test]
async fn a_trashed_user_is_registered_blocked_and_without_email_when_asked() {
    let mut stored = stored_user();
    stored["__STATE__"] = json!("TRASH");
    let s = scenario(Some(stored)).await;

    let response = s
        .post(
            "/users/register?sendResetPwdEmail=false",
            &json!({"_id": USER_ID}),
        )
        .await;

    assert_eq!(response.status(), 204);
    let auth = json_body(&received(s.app.auth()).await[0]);
    assert_eq!(
        (&auth["blocked"], &auth["verify_email"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(auth["password"].as_str().map(str::len), Some(8));
}

#[tokio::test]
async fn an_already_linked_user_is_a_409() {
    let mut stored = stored_user();
    stored["authUserId"] = json!(AUTH_ID);
    let s = scenario(Some(stored)).await;

    let (status, error) = s.answer("/users/register", &json!({"_id": USER_ID})).await;

    assert_eq!(status, 409);
    let message = format!("user \"{USER_ID}\" is already linked to auth user \"{AUTH_ID}\"");
    assert_eq!(error["message"], message);
    assert_eq!(s.journal.lines(), [GET_USER]);
}

#[tokio::test]
async fn an_unknown_user_is_a_404() {
    let s = scenario(None).await;

    let (status, error) = s.answer("/users/register", &json!({"_id": USER_ID})).await;

    assert_eq!(
        (status, &error["message"]),
        (404, &json!(format!("user \"{USER_ID}\" not found")))
    );
    assert_eq!(s.journal.lines(), [GET_USER]);
}

#[tokio::test]
async fn a_group_that_disables_auth_users_is_a_400() {
    let mut stored = stored_user();
    stored["userGroup"] = json!("staff");
    let s = scenario(Some(stored)).await;

    let (status, error) = s.answer("/users/register", &json!({"_id": USER_ID})).await;

    assert_eq!(status, 400);
    assert_eq!(error["message"], "userGroup \"staff\" does not allow auth users");
    assert_eq!(s.journal.lines(), [GET_USER]);
}

#[tokio::test]
async fn a_failed_grant_unlinks_the_user_and_deletes_the_auth_user() {
    let s = Scenario::failing(Step::Grant, ResponseTemplate::new(500)).await;
    s.mount_stored_user(Some(stored_user())).await;
    s.mount_patch(json!({"$unset": {"authUserId": true}}), ok_json(stored_user()))
        .await;

    let response = s.post("/users/register", &json!({"_id": USER_ID})).await;

    assert_eq!(response.status(), 502);
    let expected = [GET_USER, AUTH_CREATE, PATCH_USER, GRANT, PATCH_USER, AUTH_DELETE];
    assert_eq!(s.journal.lines(), expected);
    let unlink = received(s.app.crud()).await.pop().unwrap();
    assert_eq!(
        query_param(&unlink, "_q"),
        Some(format!(r#"{{"authUserId":"{AUTH_ID}"}}"#))
    );
}

#[tokio::test]
async fn unknown_fields_in_the_body_are_refused() {
    let s = scenario(Some(stored_user())).await;

    let response = s
        .post("/users/register", &json!({"_id": USER_ID, "email": "x@y.z"}))
        .await;

    assert_eq!(response.status(), 400);
    assert!(s.journal.lines().is_empty());
}
