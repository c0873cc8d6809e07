//! The password policy on every path that sets a password in embedded mode: create, register and
//! reset (the change-password route and its bulk job only send reset tokens; imports never carry
//! passwords). A refused password leaves nothing behind.

use serde_json::{json, Value};

use super::{answer, create, embedded, login, with_reset_hook, PASSWORD};

fn bad_request(message: &str) -> Value {
    json!({"statusCode": 400, "error": "Bad Request", "message": message})
}

const COMMON: &str = "password is too easy to guess (strength 0 of 4, at least 2 required): This is a very \
                      common password. Add another word or two. Uncommon words are better.";

#[tokio::test]
async fn creating_a_user_with_a_weak_password_is_a_400_saying_what_to_fix_and_stores_nothing() {
    let app = embedded(&[]).await;
    let cases = [
        ("password1", COMMON.to_owned()),
        ("Xq7#", "password must be at least 8 characters long".to_owned()),
        (
            &*"Xq7#vLp2".repeat(17),
            "password must be at most 128 characters long".to_owned(),
        ),
    ];
    for (password, message) in cases {
        let ann =
            json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com", "password": password});
        let response = app.post_json("/users/", &ann).await;
        assert_eq!(answer(response).await, (400, bad_request(&message)));
    }
    let own_email = json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com", "password": "ann@example.com"});
    let (status, body) = answer(app.post_json("/users/", &own_email).await).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("password is too easy to guess"),
        "{body}"
    );

    let count: Value = app.get("/users/count").await.json().await.unwrap();
    assert_eq!(count, json!(0), "the refused creations were undone");
    create(&app, "ann").await;
}

#[tokio::test]
async fn registering_a_store_only_user_with_a_weak_password_is_a_400_and_a_strong_one_works() {
    let app = embedded(&[]).await;
    let ann = json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com"});
    let response = app.post_json("/users/?postponeAuthUserCreation=true", &ann).await;
    assert_eq!(response.status(), 200);
    let id = response.json::<Value>().await.unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let weak = app
        .post_json("/users/register", &json!({"_id": id, "password": "password1"}))
        .await;
    assert_eq!(answer(weak).await, (400, bad_request(COMMON)));
    let strong = app
        .post_json("/users/register", &json!({"_id": id, "password": PASSWORD}))
        .await;
    assert_eq!(strong.status(), 204, "{}", strong.text().await.unwrap());
    assert_eq!(login(&app, "ann@example.com", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn a_reset_with_a_weak_password_is_a_400_and_leaves_the_token_usable() {
    let (hook, app) = with_reset_hook().await;
    let id = create(&app, "ann").await;
    let requested = app
        .post_json("/users/change-password", &json!({"authUserId": id}))
        .await;
    assert_eq!(requested.status(), 204);
    let requests = hook.received_requests().await.unwrap();
    let token = serde_json::from_slice::<Value>(&requests[0].body).unwrap()["token"].clone();

    let weak = app
        .post_json(
            "/users/reset-password",
            &json!({"token": token, "newPassword": "password1"}),
        )
        .await;
    assert_eq!(answer(weak).await, (400, bad_request(COMMON)));
    let body = json!({"token": token, "newPassword": "Amber-Violin-73"});
    assert_eq!(app.post_json("/users/reset-password", &body).await.status(), 204);
    assert_eq!(
        login(&app, "ann@example.com", "Amber-Violin-73").await.status(),
        200
    );
}

#[tokio::test]
async fn an_import_row_carrying_a_password_is_refused() {
    let app = embedded(&[]).await;
    let csv = "userGroup,name,email,password\ncustomer,Eve,eve@example.com,password1\n";
    let response = app.import_csv(csv, &[]).await;
    let (status, report) = answer(response).await;
    assert_eq!(status, 200, "{report}");
    let error = report["invalid"][0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("column password: an import never writes password"),
        "{report}"
    );
    assert_eq!(report["inserted"], json!([]));
}
