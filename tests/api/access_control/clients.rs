//! Clients: the client-credentials grant in its three shapes, narrowing, refusals, management,
//! and the bootstrap client (the admin file of an embedded service, the environment's).

use serde_json::{json, Value};

use super::{admin_client, admin_token, call_as, get_as, new_client, scoped_app, token_for};
use crate::helpers::{customer_group, temp_data_dir, TestApp};

async fn grant(app: &TestApp, request: reqwest::RequestBuilder) -> (u16, Value) {
    let _ = app;
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_client_gets_a_token_by_form_json_or_basic_and_not_with_a_wrong_secret() {
    let dir = temp_data_dir();
    let app = scoped_app(&dir).await;
    let admin = admin_token(&app, &dir).await;
    let (id, secret) = new_client(&app, &admin, &["users_search", "users_read"]).await;
    let url = app.url("/oauth/token");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", &id),
        ("client_secret", &secret),
    ];
    let (status, answer) = grant(&app, app.client.post(&url).form(&form)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["scope"], "users_search users_read");
    assert_eq!(answer["expires_in"], 900);
    let body = json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret});
    let (status, _) = grant(&app, app.client.post(&url).json(&body)).await;
    assert_eq!(status, 200, "JSON");
    let basic = app
        .client
        .post(&url)
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")]);
    let (status, answer) = grant(&app, basic).await;
    assert_eq!(status, 200, "Basic");
    let token = answer["access_token"].as_str().unwrap();
    let listed = get_as(&app, token, "/users/").await;
    assert_eq!(listed.status(), 200);

    let wrong = json!({"grant_type": "client_credentials", "client_id": id, "client_secret": "nope"});
    let (status, answer) = grant(&app, app.client.post(&url).json(&wrong)).await;
    assert_eq!(status, 401);
    assert!(!answer.to_string().contains(&secret));
    let unknown = json!({"grant_type": "client_credentials", "client_id": "nobody", "client_secret": secret});
    assert_eq!(grant(&app, app.client.post(&url).json(&unknown)).await.0, 401);
    let missing = json!({"grant_type": "client_credentials", "client_id": id});
    assert_eq!(grant(&app, app.client.post(&url).json(&missing)).await.0, 400);
}

#[tokio::test]
async fn a_token_can_be_narrowed_to_some_of_the_client_scopes_only() {
    let dir = temp_data_dir();
    let app = scoped_app(&dir).await;
    let admin = admin_token(&app, &dir).await;
    let (id, secret) = new_client(&app, &admin, &["users_search", "users_read"]).await;
    let mut body = json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret,
                          "scope": "users_read"});
    let narrowed = app
        .post_json("/oauth/token", &body)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(narrowed["scope"], "users_read");
    let token = narrowed["access_token"].as_str().unwrap();
    let listed = get_as(&app, token, "/users/").await;
    assert_eq!(listed.status(), 403);
    body["scope"] = json!("users_read users_delete");
    let refused = app.post_json("/oauth/token", &body).await;
    assert_eq!(refused.status(), 400);
    let message = refused.json::<Value>().await.unwrap()["message"].clone();
    assert!(message.as_str().unwrap().contains("users_delete"), "{message}");
}

#[tokio::test]
async fn clients_are_listed_without_secrets_and_a_deleted_one_gets_no_token() {
    let dir = temp_data_dir();
    let app = scoped_app(&dir).await;
    let admin = admin_token(&app, &dir).await;
    let (id, secret) = new_client(&app, &admin, &["jobs"]).await;
    let listed = get_as(&app, &admin, "/clients").await;
    let text = listed.text().await.unwrap();
    assert!(
        text.contains(&id) && !text.contains(&secret) && !text.contains("secretHash"),
        "{text}"
    );
    let one: Value = get_as(&app, &admin, &format!("/clients/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["scopes"], json!(["jobs"]));
    let unknown_scope = json!({"name": "x", "scopes": ["users_everything"]});
    let bad = call_as(
        &app,
        &admin,
        reqwest::Method::POST,
        "/clients",
        Some(&unknown_scope),
    )
    .await;
    assert_eq!(bad.status(), 400);
    let deleted = call_as(
        &app,
        &admin,
        reqwest::Method::DELETE,
        &format!("/clients/{id}"),
        None,
    )
    .await;
    assert_eq!(deleted.status(), 204);
    let body = json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret});
    assert_eq!(app.post_json("/oauth/token", &body).await.status(), 401);
}

#[tokio::test]
async fn the_admin_file_is_written_once_private_and_reused_across_restarts() {
    let dir = temp_data_dir();
    let app = scoped_app(&dir).await;
    let first = admin_client(&dir);
    assert_eq!(first["grant_type"], "client_credentials");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("admin-client.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    token_for(&app, &first).await;
    let _stopped = app.stop().await;
    let again = scoped_app(&dir).await;
    assert_eq!(admin_client(&dir), first, "not rewritten on restart");
    token_for(&again, &first).await;
}

#[tokio::test]
async fn the_bootstrap_client_of_the_environment_works_with_and_without_a_clients_collection() {
    let secret = "0123456789abcdef0123456789abcdef";
    let env = [
        ("AUTHZ_MODE", "scopes"),
        ("BOOTSTRAP_CLIENT_ID", "ops"),
        ("BOOTSTRAP_CLIENT_SECRET", secret),
    ];
    let body = json!({"grant_type": "client_credentials", "client_id": "ops", "client_secret": secret});
    let stored = TestApp::on_fakes()
        .with_groups(customer_group())
        .with_env(&env)
        .with_env(&[("CLIENTS_CRUD_ENDPOINT", "/clients")])
        .start()
        .await;
    let token = token_for(&stored, &body).await;
    let listed = get_as(&stored, &token, "/clients").await;
    assert_eq!(listed.status(), 200);
    assert!(listed.text().await.unwrap().contains("\"ops\""));

    let env_only = TestApp::on_fakes()
        .with_groups(customer_group())
        .with_env(&env)
        .start()
        .await;
    let token = token_for(&env_only, &body).await;
    let users = get_as(&env_only, &token, "/users/").await;
    assert_eq!(users.status(), 200);
    let clients = get_as(&env_only, &token, "/clients").await;
    assert_eq!(clients.status(), 501);
}

#[tokio::test]
async fn in_gateway_mode_nothing_is_checked_and_clients_do_not_exist() {
    let app = TestApp::on_fakes().with_groups(customer_group()).start().await;
    assert_eq!(app.get("/users/").await.status(), 200);
    assert_eq!(app.get("/clients").await.status(), 501);
    let body = json!({"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"});
    assert_eq!(app.post_json("/oauth/token", &body).await.status(), 400);
    let doc: Value = app.get("/documentation/json").await.json().await.unwrap();
    assert!(doc["paths"].get("/clients").is_none());
    assert!(doc["paths"]["/users/"]["get"].get("security").is_none());
}
