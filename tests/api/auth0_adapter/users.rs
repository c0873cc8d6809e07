//! Tests: the user-management calls (`/users`, `/users/{id}`, change password).

use serde_json::json;
use user_manager_service::auth::AuthError;
use user_manager_service::auth::{AuthProvider, AuthUserPatch, NewAuthUser};
use user_manager_service::downstream::Cause;
use user_manager_service::secret::Secret;
use wiremock::matchers::{body_json, header, query_param};
use wiremock::ResponseTemplate;

use super::support::{assert_forwarded, ctx, failure_cases, AsFailure};
use super::{adapter, block, default_setup, new_user, setup};
use crate::helpers::query_param as query_param_of;
use crate::helpers::{given, mount, mount_once, ok_json, only_request, query_pairs, received};

/// The error of the calls `failure_cases!` checks.
type CallError = AuthError;

fn auth0_user(id: &str) -> serde_json::Value {
    json!({ "user_id": id, "email": "ada@example.com", "username": "ada", "blocked": true, "logins_count": 3 })
}

#[tokio::test]
async fn create_user_posts_username_as_nickname_and_name_with_the_connection() {
    let (server, auth) = setup(|c| c.connection = Some("Username-Password-Authentication".into())).await;
    let expected = json!({
        "email": "ada@example.com", "username": "ada", "nickname": "ada", "name": "ada",
        "password": "S3cret!pass", "blocked": false,
        "connection": "Username-Password-Authentication", "verify_email": true,
        // The marker of an auth user this service created: the store `_id`.
        "app_metadata": {"umsUserId": "000000000000000000000001"}
    });
    given("POST", "/users")
        .and(body_json(&expected))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(201).set_body_json(auth0_user("auth0|1")))
        .expect(1)
        .mount(&server)
        .await;
    let user = auth.create_user(&ctx(), &new_user()).await.expect("created");
    assert_eq!(user.id, "auth0|1");
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    assert_eq!(user.username.as_deref(), Some("ada"));
    assert!(user.blocked);
    assert_eq!(user.raw["logins_count"], 3);
    assert_forwarded(&only_request(&server).await);
}

#[tokio::test]
async fn create_user_omits_absent_fields() {
    let (server, auth) = default_setup().await;
    let user = NewAuthUser {
        user_id: None,
        email: None,
        username: Some("bob".into()),
        password: Secret::new("pw"),
        blocked: true,
        send_email: false,
    };
    let expected = json!({
        "username": "bob", "nickname": "bob", "name": "bob",
        "password": "pw", "blocked": true, "verify_email": false
    });
    given("POST", "/users")
        .and(body_json(&expected))
        .respond_with(ok_json(json!({ "user_id": "auth0|2" })))
        .expect(1)
        .mount(&server)
        .await;
    let created = auth.create_user(&ctx(), &user).await.expect("created");
    assert_eq!(
        (created.id.as_str(), created.email, created.blocked),
        ("auth0|2", None, false)
    );
}

#[tokio::test]
async fn create_user_answered_without_a_user_id_is_an_unreadable_answer() {
    let (server, auth) = default_setup().await;
    mount(
        &server,
        "POST",
        "/users",
        ResponseTemplate::new(201).set_body_json(json!({ "email": "ada@example.com" })),
    )
    .await;
    let error = auth.create_user(&ctx(), &new_user()).await.expect_err("no id");
    assert_eq!(
        error.failure().map(|f| &f.cause),
        Some(&Cause::Failed { status: None })
    );
    assert!(!error.to_string().contains("S3cret"), "{error}");
}

#[tokio::test]
async fn get_user_percent_encodes_the_id() {
    let (server, auth) = default_setup().await;
    mount_once(
        &server,
        "GET",
        "/users/auth0%7Cabc",
        ok_json(auth0_user("auth0|abc")),
    )
    .await;
    let user = auth.get_user(&ctx(), "auth0|abc").await.expect("answered");
    assert_eq!(user.map(|u| u.id).as_deref(), Some("auth0|abc"));
    assert_forwarded(&only_request(&server).await);
}

#[tokio::test]
async fn get_user_of_an_unknown_id_is_none() {
    let (server, auth) = default_setup().await;
    mount_once(
        &server,
        "GET",
        "/users/auth0%7Cnope",
        ResponseTemplate::new(404).set_body_json(json!({ "message": "The user does not exist." })),
    )
    .await;
    assert_eq!(auth.get_user(&ctx(), "auth0|nope").await.expect("answered"), None);
}

#[tokio::test]
async fn get_users_asks_every_id_in_one_call_with_an_in_filter() {
    let (server, auth) = default_setup().await;
    given("GET", "/users")
        .and(query_param("user_id", r#"{"$in":["auth0|1","auth0|2"]}"#))
        .and(query_param("_l", "2"))
        .respond_with(ok_json(json!([auth0_user("auth0|1"), { "email": "x" }])))
        .expect(1)
        .mount(&server)
        .await;
    let ids = ["auth0|1".to_owned(), "auth0|2".to_owned()];
    let users = auth.get_users(&ctx(), &ids).await.expect("answered");
    assert_eq!(
        users.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["auth0|1"]
    );
    let request = only_request(&server).await;
    assert_eq!(query_pairs(&request).len(), 2, "only user_id and _l");
    assert_forwarded(&request);
}

#[tokio::test]
async fn find_created_for_looks_the_marker_up_in_app_metadata() {
    let (server, auth) = default_setup().await;
    given("GET", "/users")
        .and(query_param("app_metadata.umsUserId", "000000000000000000000001"))
        .respond_with(ok_json(json!([auth0_user("auth0|1")])))
        .expect(1)
        .mount(&server)
        .await;
    let found = auth
        .find_created_for(&ctx(), "000000000000000000000001")
        .await
        .expect("answered");
    assert_eq!(found.map(|u| u.id).as_deref(), Some("auth0|1"));
    let request = only_request(&server).await;
    assert_eq!(query_param_of(&request, "_l").as_deref(), Some("2"));
    assert_forwarded(&request);
}

#[tokio::test]
async fn find_created_for_answers_none_when_no_auth_user_carries_the_marker() {
    let (server, auth) = default_setup().await;
    given("GET", "/users")
        .respond_with(ok_json(json!([])))
        .mount(&server)
        .await;
    assert_eq!(auth.find_created_for(&ctx(), "u1").await, Ok(None));
}

#[tokio::test]
async fn get_users_without_ids_makes_no_call() {
    let (server, auth) = default_setup().await;
    assert!(auth.get_users(&ctx(), &[]).await.expect("answered").is_empty());
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn get_users_splits_250_ids_into_calls_of_at_most_100() {
    let (server, auth) = default_setup().await;
    given("GET", "/users")
        .respond_with(ok_json(json!([auth0_user("auth0|x")])))
        .expect(3)
        .mount(&server)
        .await;
    let ids: Vec<String> = (0..250).map(|i| format!("auth0|{i}")).collect();
    assert_eq!(auth.get_users(&ctx(), &ids).await.expect("answered").len(), 3);
    let mut asked = Vec::new();
    for request in received(&server).await {
        let pairs = query_pairs(&request);
        let filter: serde_json::Value = serde_json::from_str(&pairs[0].1).expect("JSON filter");
        let chunk: Vec<String> = serde_json::from_value(filter["$in"].clone()).expect("ids");
        assert_eq!(pairs[1], ("_l".to_owned(), chunk.len().to_string()));
        asked.push(chunk);
    }
    assert_eq!(asked.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
    assert_eq!(asked.concat(), ids);
}

#[tokio::test]
async fn update_user_patches_only_the_set_fields() {
    let (server, auth) = default_setup().await;
    let expected = json!({ "email": "new@example.com", "username": "neo", "nickname": "neo", "name": "neo" });
    given("PATCH", "/users/auth0%7C1")
        .and(body_json(&expected))
        .respond_with(ok_json(auth0_user("auth0|1")))
        .expect(1)
        .mount(&server)
        .await;
    let patch = AuthUserPatch {
        email: Some("new@example.com".into()),
        username: Some("neo".into()),
        blocked: None,
    };
    auth.update_user(&ctx(), "auth0|1", &patch)
        .await
        .expect("patched");
    assert_forwarded(&only_request(&server).await);
}

#[tokio::test]
async fn update_user_with_an_empty_patch_makes_no_call() {
    let (server, auth) = default_setup().await;
    auth.update_user(&ctx(), "auth0|1", &AuthUserPatch::default())
        .await
        .expect("nothing to do");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn a_custom_user_path_template_is_used_and_named_in_errors() {
    let (server, auth) = setup(|c| c.user_path_template = "/api/v2/users/{id}".into()).await;
    given("PATCH", "/api/v2/users/auth0%7C1")
        .and(body_json(json!({ "blocked": true })))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let error = auth
        .update_user(&ctx(), "auth0|1", &block())
        .await
        .expect_err("503");
    assert_eq!(
        error.to_string(),
        "Auth0 Client PATCH /api/v2/users/:id responded 503"
    );
}

#[tokio::test]
async fn delete_user_deletes_by_encoded_id() {
    let (server, auth) = default_setup().await;
    mount_once(&server, "DELETE", "/users/auth0%7C1", ResponseTemplate::new(204)).await;
    auth.delete_user(&ctx(), "auth0|1").await.expect("deleted");
    assert_forwarded(&only_request(&server).await);
}

#[tokio::test]
async fn change_password_posts_the_user_id_and_connection_to_the_configured_path() {
    let (server, auth) = setup(|c| {
        c.connection = Some("db".into());
        c.change_password_path = "/users/change-password".into();
    })
    .await;
    given("POST", "/users/change-password")
        .and(body_json(json!({ "userId": "auth0|1", "connection": "db" })))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    auth.change_password(&ctx(), "auth0|1").await.expect("sent");
    assert_forwarded(&only_request(&server).await);
}

#[tokio::test]
async fn change_password_without_a_connection_sends_only_the_user_id() {
    let (server, auth) = default_setup().await;
    given("POST", "/change-password")
        .and(body_json(json!({ "userId": "auth0|1" })))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    auth.change_password(&ctx(), "auth0|1").await.expect("sent");
}

failure_cases!(create_user, adapter, "POST" "/users", "Auth0 Client POST /users",
    409 => AuthError::Conflict(_), |a, c| a.create_user(&c, &new_user()));
failure_cases!(get_user, adapter, "GET" "/users/auth0%7C1", "Auth0 Client GET /users/:id",
    403 => AuthError::Denied(_), |a, c| a.get_user(&c, "auth0|1"));
failure_cases!(find_created_for, adapter, "GET" "/users", "Auth0 Client GET /users",
    400 => AuthError::Invalid(_), |a, c| a.find_created_for(&c, "000000000000000000000001"));
failure_cases!(get_users, adapter, "GET" "/users", "Auth0 Client GET /users",
    400 => AuthError::Invalid(_), |a, c| a.get_users(&c, &["auth0|1".to_owned()]));
failure_cases!(update_user, adapter, "PATCH" "/users/auth0%7C1", "Auth0 Client PATCH /users/:id",
    404 => AuthError::NotFound(_), |a, c| a.update_user(&c, "auth0|1", &block()));
failure_cases!(delete_user, adapter, "DELETE" "/users/auth0%7C1", "Auth0 Client DELETE /users/:id",
    404 => AuthError::NotFound(_), |a, c| a.delete_user(&c, "auth0|1"));
failure_cases!(change_password, adapter, "POST" "/change-password", "Auth0 Client POST /change-password",
    400 => AuthError::Invalid(_), |a, c| a.change_password(&c, "auth0|1"));
