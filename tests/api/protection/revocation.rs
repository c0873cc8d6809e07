//! One answer for an unknown user, a wrong password and a blocked user; access tokens issued
//! before a block or a password reset refused by `/userinfo`, new ones accepted.

use serde_json::{json, Value};

use super::{access_token, answer, create, embedded, login, with_reset_hook, PASSWORD};
use crate::helpers::TestApp;

async fn userinfo(app: &TestApp, token: &str) -> u16 {
    let response = app
        .client
        .get(app.url("/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

async fn set_state(app: &TestApp, id: &str, state: &str) {
    let body = json!([{"filter": {"_id": id}, "stateTo": state}]);
    let response = app.post_json("/users/state", &body).await;
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!(1),
        "POST /users/state {state}"
    );
}

#[tokio::test]
async fn an_unknown_user_a_wrong_password_and_a_blocked_user_get_exactly_the_same_401() {
    let app = embedded(&[]).await;
    create(&app, "ann").await;
    let bob = create(&app, "bob").await;
    set_state(&app, &bob, "TRASH").await;

    let unknown = answer(login(&app, "nobody@example.com", PASSWORD).await).await;
    let wrong = answer(login(&app, "ann@example.com", "not-the-password").await).await;
    let blocked = answer(login(&app, "bob@example.com", PASSWORD).await).await;
    assert_eq!(unknown.0, 401);
    assert_eq!(
        unknown.1,
        json!({"statusCode": 401, "error": "Unauthorized",
               "message": "the auth provider refused the login (wrong username or password)"})
    );
    assert_eq!(wrong, unknown);
    assert_eq!(blocked, unknown);
}

#[tokio::test]
async fn blocking_a_user_revokes_its_access_tokens_and_unblocking_does_not_revive_them() {
    let app = embedded(&[]).await;
    let id = create(&app, "ann").await;
    let before = access_token(&app, "ann").await;
    assert_eq!(userinfo(&app, &before).await, 200);

    set_state(&app, &id, "TRASH").await;
    assert_eq!(userinfo(&app, &before).await, 401);
    set_state(&app, &id, "DRAFT").await;
    set_state(&app, &id, "PUBLIC").await;
    assert_eq!(userinfo(&app, &before).await, 401, "revoked for good");
    let after = access_token(&app, "ann").await;
    assert_eq!(userinfo(&app, &after).await, 200);
}

#[tokio::test]
async fn a_password_reset_revokes_the_access_tokens_issued_before_it_and_a_new_login_works() {
    let (hook, app) = with_reset_hook().await;
    let id = create(&app, "ann").await;
    let before = access_token(&app, "ann").await;
    assert_eq!(
        app.post_json("/users/change-password", &json!({"authUserId": id}))
            .await
            .status(),
        204
    );
    assert_eq!(
        userinfo(&app, &before).await,
        200,
        "asking for a reset changes nothing yet"
    );
    let requests = hook.received_requests().await.unwrap();
    let token = serde_json::from_slice::<Value>(&requests[0].body).unwrap()["token"].clone();
    let body = json!({"token": token, "newPassword": "Amber-Violin-73"});
    assert_eq!(app.post_json("/users/reset-password", &body).await.status(), 204);

    let (status, refused) = answer(
        app.client
            .get(app.url("/userinfo"))
            .bearer_auth(&before)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("revoked"),
        "{refused}"
    );
    let response = login(&app, "ann@example.com", "Amber-Violin-73").await;
    let after = response.json::<Value>().await.unwrap()["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(userinfo(&app, &after).await, 200);
}

#[tokio::test]
async fn deleting_a_user_revokes_its_access_tokens() {
    let app = embedded(&[]).await;
    let id = create(&app, "ann").await;
    let before = access_token(&app, "ann").await;
    assert_eq!(app.delete(&format!("/users/{id}")).await.status(), 204);
    assert_eq!(userinfo(&app, &before).await, 401);
}

#[tokio::test]
async fn locking_an_account_ends_its_sessions() {
    let app = embedded(&[("LOGIN_MAX_FAILURES", "3")]).await;
    create(&app, "ann").await;
    let before = access_token(&app, "ann").await;
    assert_eq!(userinfo(&app, &before).await, 200);
    for _ in 0..3 {
        assert_eq!(
            login(&app, "ann@example.com", "not-her-password").await.status(),
            401
        );
    }
    assert_eq!(
        login(&app, "ann@example.com", PASSWORD).await.status(),
        429,
        "locked"
    );
    assert_eq!(
        userinfo(&app, &before).await,
        401,
        "the token issued before the lock"
    );
}
