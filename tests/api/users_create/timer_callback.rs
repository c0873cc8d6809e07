//! `AUTHZ_MODE=scopes` and the Timer Service: each expiry timer carries a credential for its
//! user's callback, which lets the callback in without an access token — and nothing else.

use serde_json::{json, Value};

use super::*;
use crate::helpers::temp_data_dir;

const SECRET: &str = "0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn the_expiry_callback_gets_in_with_the_credential_of_its_timer_and_only_for_its_user() {
    let dir = temp_data_dir();
    let data_dir = dir.display().to_string();
    let s = Scenario::with_env(&[
        ("AUTHZ_MODE", "scopes"),
        ("DATA_DIR", &data_dir),
        ("BOOTSTRAP_CLIENT_ID", "ops"),
        ("BOOTSTRAP_CLIENT_SECRET", SECRET),
    ])
    .await;
    let grant = json!({"grant_type": "client_credentials", "client_id": "ops", "client_secret": SECRET});
    let token: Value = s
        .app
        .post_json("/oauth/token", &grant)
        .await
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let created = s
        .app
        .post_with("/users/", &full_body(), &[("authorization", &bearer)])
        .await;
    assert_eq!(created.status(), 200);

    let schedule = json_body(&received(s.app.timer()).await[0]);
    let headers = &schedule["outputMode"]["headers"];
    let credential = headers["x-ums-callback-token"]
        .as_str()
        .unwrap_or_else(|| panic!("no callback credential in {schedule}"))
        .to_owned();
    let payload = json!({"userId": USER_ID, "expirationDate": "2030-01-31T10:00:00Z"});
    let expire = |id: &str, credential: Option<&str>| {
        let request = s
            .app
            .client
            .post(s.app.url(&format!("/users/{id}/expire")))
            .json(&payload);
        match credential {
            Some(credential) => request.header("x-ums-callback-token", credential),
            None => request,
        }
        .send()
    };
    let status = expire(USER_ID, Some(&credential)).await.unwrap().status();
    assert!(
        status != 401 && status != 403,
        "the timer's own callback: {status}"
    );
    let other = "0123456789abcdef01234567";
    assert_eq!(
        expire(other, Some(&credential)).await.unwrap().status(),
        401,
        "another user's"
    );
    assert_eq!(
        expire(USER_ID, None).await.unwrap().status(),
        401,
        "no credential, no token"
    );
    let tampered = format!("{credential}x");
    assert_eq!(expire(USER_ID, Some(&tampered)).await.unwrap().status(), 401);
    let as_token = s
        .app
        .get_with("/users/", &[("authorization", &format!("Bearer {credential}"))])
        .await;
    assert_eq!(as_token.status(), 401, "the credential is no access token");
}
