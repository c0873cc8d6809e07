//! `POST /users/with-id`: a store user for an existing auth user.

use serde_json::{json, Value};

use super::*;

const FIND: &str = "CRUD GET /users/";
const AUTH_GET: &str = "Auth0 GET /users/auth0%7C665f000000000000000000aa";

/// The happy scenario, with the store answering the linked-user lookup with `linked` and the auth
/// provider answering the auth-user lookup with `auth_user` (`None`: 404).
async fn scenario(linked: Vec<Value>, auth_user: Option<Value>) -> Scenario {
    let s = Scenario::happy().await;
    s.crud("GET", "/users/", ok_json(json!(linked))).await;
    let auth = match auth_user {
        Some(user) => ok_json(user),
        None => ResponseTemplate::new(404).set_body_json(json!({"message": "user not found"})),
    };
    s.auth("GET", &auth_path(), auth).await;
    s
}

fn linked_body() -> Value {
    json!({"authUserId": AUTH_ID, "userGroup": "customer", "name": "Ada", "roles": ["admin"]})
}

#[tokio::test]
async fn linking_an_existing_auth_user_inserts_the_user_with_its_auth_user_id_and_grants_its_roles() {
    let s = scenario(vec![], Some(json!({"user_id": AUTH_ID}))).await;

    let (status, created) = s.answer("/users/with-id", &linked_body()).await;

    assert_eq!((status, created), (200, json!({"_id": USER_ID})));
    assert_eq!(s.journal.lines(), [FIND, AUTH_GET, INSERT, GRANT]);
    let crud = received(s.app.crud()).await;
    assert_eq!(
        query_param(&crud[0], "_q").as_deref(),
        Some(r#"{"authUserId":"auth0|665f000000000000000000aa"}"#)
    );
    assert_eq!(query_param(&crud[0], "_st").as_deref(), Some(ALL_STATES));
    assert_eq!(query_param(&crud[0], "_l").as_deref(), Some("1"));
    let mut expected = linked_body();
    expected["__STATE__"] = json!("PUBLIC");
    assert_eq!(json_body(&crud[1]), expected);
    let grant = json_body(&received(s.app.rond()).await[0]);
    assert_eq!(grant, json!({"subjects": [AUTH_ID], "roles": ["admin"]}));
}

#[tokio::test]
async fn an_auth_user_already_linked_is_a_409_naming_the_linked_user() {
    let other = json!({"_id": "665f00000000000000000002", "authUserId": AUTH_ID});
    let s = scenario(vec![other], Some(json!({"user_id": AUTH_ID}))).await;

    let (status, error) = s.answer("/users/with-id", &linked_body()).await;

    assert_eq!(status, 409);
    let message = format!("authUserId \"{AUTH_ID}\" is already linked to user \"665f00000000000000000002\"");
    assert_eq!(error["message"], message);
    assert_eq!(s.journal.lines(), [FIND]);
}

#[tokio::test]
async fn an_unknown_auth_user_is_a_404() {
    let s = scenario(vec![], None).await;

    let (status, error) = s.answer("/users/with-id", &linked_body()).await;

    assert_eq!(status, 404);
    assert_eq!(
        error["message"],
        format!("auth user \"{AUTH_ID}\" does not exist")
    );
    assert_eq!(s.journal.lines(), [FIND, AUTH_GET]);
}

#[tokio::test]
async fn a_failed_grant_deletes_the_store_user_but_never_the_existing_auth_user() {
    let s = Scenario::failing(Step::Grant, ResponseTemplate::new(500)).await;
    s.crud("GET", "/users/", ok_json(json!([]))).await;
    s.auth("GET", &auth_path(), ok_json(json!({"user_id": AUTH_ID})))
        .await;

    let (status, _) = s.answer("/users/with-id", &linked_body()).await;

    assert_eq!(status, 502);
    assert_eq!(s.journal.lines(), [FIND, AUTH_GET, INSERT, GRANT, DELETE_USER]);
}

#[tokio::test]
async fn a_missing_auth_user_id_or_a_password_is_refused_before_any_call() {
    let s = scenario(vec![], Some(json!({"user_id": AUTH_ID}))).await;
    let mut with_password = linked_body();
    with_password["password"] = json!(PASSWORD);
    let cases = [
        (
            json!({"userGroup": "customer", "name": "Ada"}),
            "authUserId must be a non-empty string",
        ),
        (
            with_password,
            "password cannot be set when linking an existing auth user",
        ),
    ];
    for (user, message) in cases {
        let (status, error) = s.answer("/users/with-id", &user).await;
        assert_eq!((status, &error["message"]), (400, &json!(message)));
    }
    assert!(s.journal.lines().is_empty());
}
