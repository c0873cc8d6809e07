//! `/users/me`: a person reads, changes (within its group's `selfEditable`) and deletes its own
//! user, and changes its own password.

use serde_json::{json, Value};

use super::{admin_token, call_as, client_token, get_as, person, post_as, scoped_app};
use crate::helpers::{customer_group, temp_data_dir, TestApp};

const PATCH: reqwest::Method = reqwest::Method::PATCH;

#[tokio::test]
async fn a_person_reads_and_changes_its_own_editable_fields_only() {
    let dir = temp_data_dir();
    let app = scoped_app(&dir).await;
    let admin = admin_token(&app, &dir).await;
    let (id, login) = person(&app, &admin, "ann@example.com").await;
    let token = login["accessToken"].as_str().unwrap().to_owned();

    let me: Value = get_as(&app, &token, "/users/me").await.json().await.unwrap();
    assert_eq!(
        (me["_id"].as_str(), me["email"].as_str()),
        (Some(id.as_str()), Some("ann@example.com"))
    );

    let phone = json!({"$set": {"phone": "+39 06 1234", "address.city": "Rome"}});
    let changed = call_as(&app, &token, PATCH, "/users/me", Some(&phone)).await;
    assert_eq!(changed.status(), 200);
    assert_eq!(changed.json::<Value>().await.unwrap()["address"]["city"], "Rome");
    for (field, update) in [
        ("userGroup", json!({"$set": {"userGroup": "backoffice_operator"}})),
        ("roles", json!({"$set": {"roles": ["admin"]}})),
        ("blocked", json!({"$set": {"blocked": false}})),
    ] {
        let refused = call_as(&app, &token, PATCH, "/users/me", Some(&update)).await;
        assert_eq!(refused.status(), 400, "{field}");
        let message = refused.json::<Value>().await.unwrap()["message"].clone();
        assert!(message.as_str().unwrap().contains(field), "{message}");
    }
    let invalid = json!({"$set": {"birthDate": "yesterday"}});
    let refused = call_as(&app, &token, PATCH, "/users/me", Some(&invalid)).await;
    assert_eq!(refused.status(), 400, "the group schema still applies");

    let email = json!({"$set": {"email": "ann@new.example.com"}});
    assert_eq!(
        call_as(&app, &token, PATCH, "/users/me", Some(&email))
            .await
            .status(),
        200
    );
    let login = json!({"username": "ann@new.example.com", "password": "Passw0rd!long"});
    assert_eq!(
        app.post_json("/oauth/token", &login).await.status(),
        200,
        "the provider has the new email"
    );

    let client = client_token(&app, &admin, &["userinfo"]).await;
    assert_eq!(
        get_as(&app, &client, "/users/me").await.status(),
        403,
        "a client has no user"
    );
}

#[tokio::test]
async fn a_person_changes_its_own_password_and_its_old_tokens_stop_working() {
    let dir = temp_data_dir();
    let app = scoped_app(&dir).await;
    let admin = admin_token(&app, &dir).await;
    let (_, login) = person(&app, &admin, "ann@example.com").await;
    let token = login["accessToken"].as_str().unwrap().to_owned();
    let change = |current: &str, new: &str| json!({"currentPassword": current, "newPassword": new});

    let wrong = post_as(
        &app,
        &token,
        "/users/me/password",
        &change("nope-nope-nope", "Kettle-Lamp-42!"),
    )
    .await;
    assert_eq!(wrong.status(), 403);
    let weak = post_as(
        &app,
        &token,
        "/users/me/password",
        &change("Passw0rd!long", "password"),
    )
    .await;
    assert_eq!(weak.status(), 400);
    let changed = post_as(
        &app,
        &token,
        "/users/me/password",
        &change("Passw0rd!long", "Kettle-Lamp-42!"),
    )
    .await;
    assert_eq!(changed.status(), 204);

    assert_eq!(
        get_as(&app, &token, "/users/me").await.status(),
        401,
        "the old token is revoked"
    );
    let old = json!({"username": "ann@example.com", "password": "Passw0rd!long"});
    assert_eq!(app.post_json("/oauth/token", &old).await.status(), 401);
    let new = json!({"username": "ann@example.com", "password": "Kettle-Lamp-42!"});
    assert_eq!(app.post_json("/oauth/token", &new).await.status(), 200);
}

#[tokio::test]
async fn a_person_deletes_its_own_account_into_trash_and_its_sessions_end() {
    let dir = temp_data_dir();
    let app = scoped_app(&dir).await;
    let admin = admin_token(&app, &dir).await;
    let (id, login) = person(&app, &admin, "ann@example.com").await;
    let token = login["accessToken"].as_str().unwrap().to_owned();

    let deleted = call_as(&app, &token, reqwest::Method::DELETE, "/users/me", None).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(get_as(&app, &token, "/users/me").await.status(), 401);
    let trashed: Value = get_as(&app, &admin, &format!("/users/{id}?_st=TRASH"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(trashed["__STATE__"], "TRASH", "{trashed}");
    let login = json!({"username": "ann@example.com", "password": "Passw0rd!long"});
    assert_eq!(app.post_json("/oauth/token", &login).await.status(), 401);
}

#[tokio::test]
async fn in_gateway_mode_me_is_the_auth_user_the_user_id_header_names() {
    let app = TestApp::on_fakes().with_groups(customer_group()).start().await;
    let user = json!({"userGroup": "customer", "name": "Ada", "email": "ada@example.com", "password": "Kettle-Lamp-42!"});
    let id = app
        .post_json("/users/", &user)
        .await
        .json::<Value>()
        .await
        .unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stored: Value = app.get(&format!("/users/{id}")).await.json().await.unwrap();
    let auth_id = stored["authUserId"].as_str().unwrap();
    let me: Value = app
        .get_with("/users/me", &[("miauserid", auth_id)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["_id"], id.as_str());
    assert_eq!(app.get("/users/me").await.status(), 401, "no user id header");

    // The Auth0 Client keeps no password here: its change-password email is sent instead.
    let change = json!({"currentPassword": "Kettle-Lamp-42!", "newPassword": "Other-Lamp-43!"});
    let sent = app
        .post_with("/users/me/password", &change, &[("miauserid", auth_id)])
        .await;
    assert_eq!(sent.status(), 202);
    let requests = app.auth_fake().change_password_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].0, auth_id);
}
