//! `POST /users/`: the exact downstream sequence and bodies of a create, the options, and the
//! input refused before anything is written.

use serde_json::{json, Value};

use super::*;
use crate::helpers::captured_log_text;

#[tokio::test]
async fn a_full_create_calls_every_downstream_in_order_with_the_exact_bodies() {
    let s = Scenario::happy().await;

    let (status, created) = s.answer("/users/", &full_body()).await;

    assert_eq!((status, created), (200, json!({"_id": USER_ID})));
    let expected = [INSERT, AUTH_CREATE, PATCH_USER, GRANT, SCHEDULE, PATCH_USER];
    assert_eq!(s.journal.lines(), expected);
    let crud = received(s.app.crud()).await;
    assert_eq!(
        json_body(&crud[0]),
        json!({
            "userGroup": "customer", "name": "Ada", "email": "ada@example.com", "username": "ada",
            "roles": ["admin", "editor"], "expirationDate": "2030-01-31T10:00:00Z", "__STATE__": "PUBLIC",
        })
    );
    assert_eq!(json_body(&crud[1]), json!({"$set": {"authUserId": AUTH_ID}}));
    assert_eq!(query_param(&crud[1], "_st").as_deref(), Some(ALL_STATES));
    assert_eq!(json_body(&crud[2]), json!({"$set": {"expirationId": "t1"}}));
    assert_eq!(query_param(&crud[2], "_st").as_deref(), Some(ALL_STATES));
    let auth = received(s.app.auth()).await;
    assert_eq!(
        json_body(&auth[0]),
        json!({
            "email": "ada@example.com", "username": "ada", "nickname": "ada", "name": "ada",
            "password": PASSWORD, "blocked": false, "verify_email": true,
            "app_metadata": {"umsUserId": USER_ID},
        })
    );
    let rond = received(s.app.rond()).await;
    assert_eq!(
        json_body(&rond[0]),
        json!({"subjects": [AUTH_ID], "roles": ["admin", "editor"]})
    );
    let schedule = json_body(&received(s.app.timer()).await[0]);
    assert_eq!(
        schedule["payload"],
        json!({"userId": USER_ID, "expirationDate": "2030-01-31T10:00:00Z"})
    );
    assert_eq!(schedule["startDate"], "2030-01-31T10:00:00.000Z");
    assert_eq!(schedule["outputMode"]["path"], format!("/users/{USER_ID}/expire"));
}

#[tokio::test]
async fn the_password_never_reaches_the_user_store_or_the_logs() {
    let s = Scenario::happy().await;

    let response = s.post("/users/", &full_body()).await;

    assert_eq!(response.status(), 200);
    for request in received(s.app.crud()).await {
        let text = String::from_utf8_lossy(&request.body).into_owned();
        assert!(!text.contains("password") && !text.contains(PASSWORD), "{text}");
    }
    assert!(!captured_log_text().contains(PASSWORD));
}

#[tokio::test]
async fn a_random_password_of_random_pwd_length_is_generated_when_none_is_given() {
    let s = Scenario::happy().await;
    let user = json!({"userGroup": "customer", "name": "Ada", "email": "ada@example.com"});

    let response = s.post("/users/", &user).await;

    assert_eq!(response.status(), 200);
    let auth = json_body(&received(s.app.auth()).await[0]);
    let password = auth["password"].as_str().expect("a generated password");
    assert_eq!(password.chars().count(), 8);
}

#[tokio::test]
async fn without_random_pwd_gen_a_password_is_required_before_anything_is_written() {
    let s = Scenario::with_env(&[("RANDOM_PWD_GEN", "false")]).await;
    let user = json!({"userGroup": "customer", "name": "Ada", "email": "ada@example.com"});

    let (status, error) = s.answer("/users/", &user).await;

    assert_eq!(status, 400);
    assert_eq!(
        error["message"],
        "password is required when RANDOM_PWD_GEN is false"
    );
    assert!(s.journal.lines().is_empty());
}

#[tokio::test]
async fn a_postponed_auth_user_creation_stores_the_user_without_auth_user_or_roles() {
    let s = Scenario::happy().await;

    let response = s
        .post("/users/?postponeAuthUserCreation=true", &full_body())
        .await;

    assert_eq!(response.status(), 200);
    assert_eq!(s.journal.lines(), [INSERT, SCHEDULE, PATCH_USER]);
}

#[tokio::test]
async fn a_group_with_auth_user_creation_disabled_gets_no_auth_user() {
    let groups = vec![group_doc("kiosk", json!({"type": "object"}), true)];
    let s = Scenario::start(&[], groups, None).await;
    let user = json!({"userGroup": "kiosk", "email": "k@example.com", "roles": ["viewer"]});

    let response = s.post("/users/", &user).await;

    assert_eq!(response.status(), 200);
    assert_eq!(s.journal.lines(), [INSERT]);
}

#[tokio::test]
async fn a_draft_user_starts_blocked_and_send_reset_pwd_email_false_sends_no_email() {
    let s = Scenario::happy().await;
    let mut user = json!({"userGroup": "customer", "name": "Ada", "email": "ada@example.com"});
    user["__STATE__"] = json!("DRAFT");

    let response = s.post("/users/?sendResetPwdEmail=false", &user).await;

    assert_eq!(response.status(), 200);
    assert_eq!(json_body(&received(s.app.crud()).await[0])["__STATE__"], "DRAFT");
    let auth = json_body(&received(s.app.auth()).await[0]);
    assert_eq!(
        (&auth["blocked"], &auth["verify_email"]),
        (&json!(true), &json!(false))
    );
}

#[tokio::test]
async fn the_route_also_answers_without_the_trailing_slash() {
    let s = Scenario::happy().await;

    let response = s
        .post("/users", &json!({"userGroup": "customer", "name": "Ada"}))
        .await;

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn schema_violations_are_listed_together_and_nothing_is_written() {
    let s = Scenario::happy().await;
    let user = json!({"userGroup": "customer", "name": "Ada", "email": "not-an-email", "age": -1});

    let (status, error) = s.answer("/users/", &user).await;

    assert_eq!(status, 400);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("user does not match the schema of group \"customer\""),
        "{message}"
    );
    assert!(
        message.contains("/age: ") && message.contains("/email: "),
        "{message}"
    );
    assert!(s.journal.lines().is_empty());
}

#[tokio::test]
async fn an_unknown_group_is_a_400() {
    let s = Scenario::happy().await;

    let (status, error) = s.answer("/users/", &json!({"userGroup": "nope"})).await;

    assert_eq!(
        (status, &error["message"]),
        (400, &json!("userGroup \"nope\" does not exist"))
    );
    assert!(s.journal.lines().is_empty());
}

#[tokio::test]
async fn fields_the_service_or_the_store_own_are_refused_by_name() {
    let s = Scenario::happy().await;
    for (field, owner) in [
        ("authUserId", "service"),
        ("expirationId", "service"),
        ("_id", "user store"),
    ] {
        let mut user = json!({"userGroup": "customer", "name": "Ada"});
        user[field] = json!("x");

        let (status, error) = s.answer("/users/", &user).await;

        assert_eq!(status, 400);
        assert_eq!(
            error["message"],
            format!("{field} cannot be set: the {owner} manages it")
        );
    }
    assert!(s.journal.lines().is_empty());
}

#[tokio::test]
async fn unknown_or_malformed_query_parameters_are_refused() {
    let s = Scenario::happy().await;
    let user = json!({"userGroup": "customer", "name": "Ada"});

    for (query, message) in [
        (
            "foo=1",
            "unknown query parameter \"foo\": this route accepts postponeAuthUserCreation, sendResetPwdEmail",
        ),
        (
            "postponeAuthUserCreation=yes",
            "postponeAuthUserCreation must be true or false",
        ),
    ] {
        let (status, error) = s.answer(&format!("/users/?{query}"), &user).await;
        assert_eq!((status, &error["message"]), (400, &Value::from(message)));
    }
    assert!(s.journal.lines().is_empty());
}

#[tokio::test]
async fn a_duplicate_in_the_user_store_is_a_409_with_nothing_to_undo() {
    let conflict = json!({"statusCode": 409, "error": "Conflict", "message": "E11000 duplicate key"});
    let s = Scenario::failing(Step::Insert, ResponseTemplate::new(409).set_body_json(conflict)).await;

    let (status, error) = s.answer("/users/", &full_body()).await;

    assert_eq!(status, 409);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("a user with the same unique value already exists"),
        "{error}"
    );
    assert!(!message.contains("E11000"), "{error}");
    assert_eq!(s.journal.lines(), [INSERT]);
}

#[tokio::test]
async fn the_openapi_document_describes_the_create_routes_beside_the_list() {
    let app = TestApp::on_wiremock().start().await;

    let doc: Value = app.get("/documentation/json").await.json().await.unwrap();

    let paths = &doc["paths"];
    assert!(paths["/users/"]["get"].is_object() && paths["/users/"]["post"].is_object());
    let create = &paths["/users/"]["post"];
    let params: Vec<&str> = create["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(params, ["postponeAuthUserCreation", "sendResetPwdEmail"]);
    for status in ["200", "400", "409", "502", "504"] {
        assert!(
            create["responses"][status].is_object(),
            "POST /users/ documents {status}"
        );
    }
    assert!(paths["/users/with-id"]["post"]["responses"]["404"].is_object());
    assert!(paths["/users/register"]["post"]["responses"]["204"].is_object());
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["NewUserBody"]["required"], json!(["userGroup"]));
    assert_eq!(schemas["NewUserBody"]["properties"]["blocked"]["type"], "boolean");
    assert!(schemas["RegisterBody"]["properties"]["_id"].is_object());
}
