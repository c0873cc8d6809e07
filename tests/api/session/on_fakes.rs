//! End to end on the CRUD Service and Auth0 Client fakes: a user created through `POST /users/`
//! logs in, reads its merged userinfo (default, filtered, with permissions), refreshes its tokens,
//! and asks for a password change.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::helpers::{TestApp, TextField};

const EMAIL: &str = "ann@example.com";
const PASSWORD: &str = "Passw0rd!-e2e";

/// The service on the fakes with `env`, the `customer` group and the `roles` documents.
async fn app(env: &[(&str, &str)], roles: Vec<Value>) -> TestApp {
    TestApp::on_fakes()
        .with_env(env)
        .with_customer_group()
        .seeded(|crud| {
            for role in roles {
                crud.insert_raw("/roles", role).expect("role seeded");
            }
        })
        .start()
        .await
}

/// Creates Ann with a password and `roles`; returns her store document.
async fn create_ann(app: &TestApp, roles: &[&str]) -> Value {
    let body =
        json!({"userGroup": "customer", "name": "Ann", "email": EMAIL, "password": PASSWORD, "roles": roles});
    let response = app.post_with("/users/", &body, &[]).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let id = response.text_field("_id").await;
    app.crud_fake().document("/users", &id).expect("stored")
}

/// Logs Ann in; returns the token body.
async fn login(app: &TestApp) -> Value {
    let response = app
        .post_with(
            "/oauth/token",
            &json!({"username": EMAIL, "password": PASSWORD}),
            &[],
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn userinfo(app: &TestApp, access_token: &str) -> reqwest::Response {
    let bearer = format!("Bearer {access_token}");
    let request = app
        .client
        .get(app.url("/userinfo"))
        .header("authorization", bearer);
    request.send().await.unwrap()
}

async fn userinfo_json(app: &TestApp, access_token: &str) -> Value {
    let response = userinfo(app, access_token).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

fn keys(doc: &Value) -> BTreeSet<&str> {
    doc.as_object().unwrap().keys().map(String::as_str).collect()
}

fn token<'a>(tokens: &'a Value, name: &str) -> &'a str {
    tokens[name].as_str().expect("a token")
}

#[tokio::test]
async fn a_created_user_logs_in_reads_its_userinfo_refreshes_and_asks_for_a_new_password() {
    let app = app(&[], Vec::new()).await;
    let user = create_ann(&app, &["editor"]).await;
    let auth_id = user["authUserId"].as_str().expect("linked");
    let tokens = login(&app).await;
    assert!(tokens["expireAt"].is_string(), "{tokens}");

    let info = userinfo_json(&app, token(&tokens, "accessToken")).await;
    assert_eq!(info["sub"], auth_id);
    assert_eq!(info["email"], EMAIL);
    assert_eq!(info["name"], "Ann");
    assert_eq!(info["_id"], user["_id"]);
    assert_eq!(info["userGroup"], "customer");
    assert_eq!(info["roles"], json!(["editor"]));
    assert_eq!(info["permissions"], json!([]), "no role document: no permission");
    for hidden in [
        "__STATE__",
        "createdAt",
        "updatedAt",
        "creatorId",
        "updaterId",
        "password",
    ] {
        assert!(info.get(hidden).is_none(), "{hidden} in {info}");
    }

    let bearer = format!("Bearer {}", token(&tokens, "accessToken"));
    let body = json!({"refreshToken": token(&tokens, "refreshToken")});
    let response = app
        .post_with("/refreshtoken", &body, &[("authorization", &bearer)])
        .await;
    assert_eq!(response.status(), 200);
    let renewed: Value = response.json().await.unwrap();
    assert_ne!(renewed["accessToken"], tokens["accessToken"]);
    assert_eq!(
        userinfo_json(&app, token(&renewed, "accessToken")).await["sub"],
        auth_id
    );
    let again = app
        .post_with("/refreshtoken", &body, &[("authorization", &bearer)])
        .await;
    assert_eq!(again.status(), 401, "a used refresh token stops working");

    let response = app
        .post_with("/users/change-password", &json!({"authUserId": auth_id}), &[])
        .await;
    assert_eq!(response.status(), 204);
    let asked: Vec<String> = app
        .auth_fake()
        .change_password_requests()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(asked, [auth_id]);
}

#[tokio::test]
async fn with_only_name_listed_the_store_adds_only_the_name() {
    let app = app(&[("USERINFO_ADDITIONAL_PROPERTIES", "name")], Vec::new()).await;
    let user = create_ann(&app, &["editor"]).await;
    let tokens = login(&app).await;
    let info = userinfo_json(&app, token(&tokens, "accessToken")).await;
    let provider_keys = ["sub", "email", "name", "nickname", "username", "groups"];
    assert_eq!(keys(&info), BTreeSet::from(provider_keys), "{info}");
    assert_eq!(info["name"], "Ann");
    assert_eq!(info["sub"], user["authUserId"]);
}

#[tokio::test]
async fn with_permissions_listed_the_permissions_of_the_public_roles_are_united() {
    let roles = vec![
        json!({"roleId": "editor", "permissions": ["a", "b"], "__STATE__": "PUBLIC"}),
        json!({"roleId": "viewer", "permissions": ["c", "b"], "__STATE__": "PUBLIC"}),
        json!({"roleId": "admin", "permissions": ["root"], "__STATE__": "DRAFT"}),
        json!({"roleId": "other", "permissions": ["z"], "__STATE__": "PUBLIC"}),
    ];
    let app = app(&[("USERINFO_ADDITIONAL_PROPERTIES", "name,permissions")], roles).await;
    create_ann(&app, &["editor", "viewer", "admin"]).await;
    let tokens = login(&app).await;
    let info = userinfo_json(&app, token(&tokens, "accessToken")).await;
    assert_eq!(info["permissions"], json!(["a", "b", "c"]));
    assert_eq!(info["name"], "Ann");
    assert!(info.get("roles").is_none(), "roles are not listed: {info}");
}

#[tokio::test]
async fn a_website_login_gets_a_sid_cookie_that_opens_the_userinfo() {
    let app = app(&[], Vec::new()).await;
    let user = create_ann(&app, &[]).await;
    let credentials = json!({"username": EMAIL, "password": PASSWORD});
    let response = app
        .post_with("/oauth/token", &credentials, &[("client-type", "website")])
        .await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(response.bytes().await.unwrap().is_empty());
    let sid = cookie.split(';').next().expect("sid=<value>").to_owned();
    assert!(sid.starts_with("sid="), "{cookie}");

    let request = app.client.get(app.url("/userinfo")).header("cookie", sid);
    let info: Value = request.send().await.unwrap().json().await.unwrap();
    assert_eq!(info["sub"], user["authUserId"]);
    assert_eq!(info["name"], "Ann");
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_a_403_and_an_unknown_token_with_a_401() {
    let app = app(&[], Vec::new()).await;
    create_ann(&app, &[]).await;
    let wrong = json!({"username": EMAIL, "password": "nope"});
    let response = app.post_with("/oauth/token", &wrong, &[]).await;
    assert_eq!(response.status(), 403);
    assert_eq!(userinfo(&app, "not-a-token").await.status(), 401);
}

#[tokio::test]
async fn a_logged_user_without_a_store_user_gets_a_404() {
    let app = app(&[], Vec::new()).await;
    let auth_id = app.auth_fake().insert_user("solo@example.com", None, PASSWORD);
    let credentials = json!({"username": "solo@example.com", "password": PASSWORD});
    let response = app.post_with("/oauth/token", &credentials, &[]).await;
    let tokens: Value = response.json().await.unwrap();
    let response = userinfo(&app, token(&tokens, "accessToken")).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["message"],
        format!("no user is linked to auth user \"{auth_id}\"")
    );
}
