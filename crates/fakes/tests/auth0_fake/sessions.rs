//! Login, website cookie, userinfo, refresh rotation and change-password.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use ums_fakes::auth0::{Auth0Fake, RunningAuth0Fake};

use crate::{json_of, login, spawn};

#[tokio::test]
async fn login_by_username_or_email_wrong_password_and_blocked() {
    let fake = spawn().await;
    let client = Client::new();
    let id = fake.insert_user("ada@x.io", Some("ada"), "s3cret");

    let ok = login(&client, &fake, "ada", "s3cret").await;
    assert_eq!(ok.status(), StatusCode::OK);
    let tokens = json_of(ok).await;
    for key in ["accessToken", "refreshToken", "idToken"] {
        assert!(
            tokens[key].as_str().is_some_and(|t| t.len() >= 40),
            "{key}: {tokens}"
        );
    }
    let expire_at = tokens["expireAt"].as_str().unwrap();
    assert!(expire_at.len() == 24 && expire_at.ends_with('Z'), "{expire_at}");
    assert_eq!(
        login(&client, &fake, "ADA@x.io", "s3cret").await.status(),
        StatusCode::OK
    );

    let wrong = login(&client, &fake, "ada", "nope").await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let forbidden = json!({"statusCode": 403, "error": "Forbidden", "message": "Wrong email or password."});
    assert_eq!(json_of(wrong).await, forbidden);
    assert_eq!(
        login(&client, &fake, "nobody", "s3cret").await.status(),
        StatusCode::FORBIDDEN
    );

    assert!(fake.set_blocked(&id, true));
    let blocked = login(&client, &fake, "ada", "s3cret").await;
    assert_eq!(blocked.status(), StatusCode::FORBIDDEN);
    assert_eq!(json_of(blocked).await["message"], "user is blocked");

    let body = json!({"grant_type": "password", "username": "ada", "password": "s3cret"});
    let json_body = client
        .post(format!("{}/oauth/token", fake.uri()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn website_client_type_gets_a_sid_cookie_that_opens_userinfo() {
    let fake = Auth0Fake::builder()
        .website_client_type("site")
        .build()
        .spawn()
        .await;
    let client = Client::new();
    let id = fake.insert_user("ada@x.io", Some("ada"), "pw");
    let response = client
        .post(format!("{}/oauth/token", fake.uri()))
        .header("client-type", "site")
        .form(&[
            ("grant_type", "password"),
            ("username", "ada"),
            ("password", "pw"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(response.bytes().await.unwrap().is_empty());
    let sid = cookie
        .strip_prefix("sid=")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        cookie,
        format!("sid={sid}; HttpOnly; Secure; Path=/; Max-Age=86400; SameSite=Lax")
    );

    let cookie_header = format!("other=1; sid={sid}");
    let info = client
        .get(format!("{}/userinfo", fake.uri()))
        .header("cookie", cookie_header)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::OK);
    let expected = json!({"sub": id, "email": "ada@x.io", "name": "ada@x.io", "nickname": "ada", "username": "ada", "groups": []});
    assert_eq!(json_of(info).await, expected);

    let recorded = fake.requests();
    let login_request = recorded.iter().find(|r| r.path == "/oauth/token").unwrap();
    assert_eq!(login_request.method, "POST");
    assert_eq!(login_request.header("client-type"), Some("site"));
    assert!(!login_request.has_header("acl_rows"));
}

#[tokio::test]
async fn userinfo_by_bearer_and_401_without_a_valid_session() {
    let fake = spawn().await;
    let client = Client::new();
    let id = fake.insert_user("ada@x.io", None, "pw");
    let tokens = json_of(login(&client, &fake, "ada@x.io", "pw").await).await;
    let access = tokens["accessToken"].as_str().unwrap();
    let info = client
        .get(format!("{}/userinfo", fake.uri()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::OK);
    let info = json_of(info).await;
    assert_eq!(
        (info["sub"].as_str(), &info["nickname"], &info["username"]),
        (Some(id.as_str()), &json!("ada"), &Value::Null)
    );

    let anonymous = client
        .get(format!("{}/userinfo", fake.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body = json_of(anonymous).await;
    assert_eq!(
        (&body["statusCode"], &body["error"]),
        (&json!(401), &json!("Unauthorized"))
    );
    let forged = client
        .get(format!("{}/userinfo", fake.uri()))
        .bearer_auth("forged")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

async fn refresh(
    client: &Client,
    fake: &RunningAuth0Fake,
    access: &str,
    refresh_token: &str,
) -> reqwest::Response {
    let url = format!("{}/refreshtoken", fake.uri());
    let body = json!({ "refresh_token": refresh_token });
    client
        .post(url)
        .bearer_auth(access)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    let fake = spawn().await;
    let client = Client::new();
    fake.insert_user("ada@x.io", Some("ada"), "pw");
    let first = json_of(login(&client, &fake, "ada", "pw").await).await;
    let (access, old_refresh) = (
        first["accessToken"].as_str().unwrap(),
        first["refreshToken"].as_str().unwrap(),
    );

    let second = refresh(&client, &fake, access, old_refresh).await;
    assert_eq!(second.status(), StatusCode::OK);
    let second = json_of(second).await;
    assert_ne!(second["refreshToken"], first["refreshToken"]);
    assert_ne!(second["accessToken"], first["accessToken"]);
    assert!(second["expireAt"].is_string() && second["idToken"].is_string());

    let reused = refresh(&client, &fake, access, old_refresh).await;
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(reused).await["statusCode"], 401);
    assert_eq!(
        refresh(&client, &fake, access, "unknown").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (new_access, new_refresh) = (
        second["accessToken"].as_str().unwrap(),
        second["refreshToken"].as_str().unwrap(),
    );
    assert_eq!(
        refresh(&client, &fake, "forged", new_refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&client, &fake, new_access, new_refresh).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn change_password_is_recorded_and_unknown_users_are_404() {
    let fake = spawn().await;
    let client = Client::new();
    let id = fake.insert_user("ada@x.io", None, "pw");
    let url = format!("{}/change-password", fake.uri());
    let ok = client
        .post(&url)
        .json(&json!({"userId": id, "connection": "db"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let unknown = client
        .post(&url)
        .json(&json!({"userId": "auth0|nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let delivered = fake.change_password_requests();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].0, id);
    assert_eq!(fake.rate_limited_count(), 0);
}
