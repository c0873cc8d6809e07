//! `Idempotency-Key` on the routes that create, through the running service: a replay gets the
//! first answer and nothing runs twice, another request with the key is a 422, a concurrent one
//! a 409, a 5xx is not recorded, a bad key is a 400, no header writes no record; on the CRUD
//! and Auth0 fakes (records in the jobs collection, the saga collection's fallback) and embedded.

use std::time::Duration;

use serde_json::{json, Value};
use ums_fakes::crud::Method;

use crate::helpers::{assert_error, status_and_body, temp_data_dir, TestApp, TextField};

const KEY: &str = "idempotency-key";
const REPLAYED: &str = "idempotent-replayed";

async fn app() -> TestApp {
    TestApp::on_fakes().with_customer_group().start().await
}

fn user(name: &str, email: &str) -> Value {
    json!({"userGroup": "customer", "name": name, "email": email, "password": "Pa55-word!"})
}

/// `POST {path}` with `body` and the key.
async fn post_keyed(app: &TestApp, path: &str, body: &Value, key: &str) -> reqwest::Response {
    app.post_with(path, body, &[(KEY, key)]).await
}

/// The idempotency records of the CRUD fake (kept in `/jobs`).
fn records(app: &TestApp) -> Vec<Value> {
    let mut docs = app.crud_fake().state().documents("/jobs");
    docs.retain(|doc| doc["kind"] == "idempotency");
    docs
}

fn replayed(response: &reqwest::Response) -> Option<&str> {
    response.headers().get(REPLAYED).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn a_replay_gets_the_first_answer_and_the_user_is_created_once() {
    let app = app().await;
    let ada = user("ada", "ada@example.com");

    let first = post_keyed(&app, "/users/", &ada, "create-ada-1").await;
    assert_eq!(replayed(&first), None);
    let (status, body) = status_and_body(first).await;
    assert_eq!(status, 200, "{body}");

    let again = post_keyed(&app, "/users/", &ada, "create-ada-1").await;
    assert_eq!(replayed(&again), Some("true"));
    assert_eq!(again.headers()["content-type"], "application/json");
    assert_eq!(status_and_body(again).await, (200, body.clone()));

    assert_eq!(app.crud_fake().state().documents("/users").len(), 1);
    assert_eq!(app.auth_fake().users().len(), 1, "one auth user");
    let stored = records(&app);
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (
            &stored[0]["key"],
            &stored[0]["state"],
            &stored[0]["responseStatus"]
        ),
        (&json!("create-ada-1"), &json!("done"), &json!(200))
    );
    let text = stored[0].to_string();
    assert!(
        !text.contains("Pa55-word!") && !text.contains("ada@example.com"),
        "{text}"
    );
}

#[tokio::test]
async fn a_final_4xx_is_replayed_too() {
    let app = app().await;
    assert_eq!(
        app.post_json("/users/", &user("ada", "ada@example.com"))
            .await
            .status(),
        200
    );
    let taken = user("ada2", "ada@example.com");
    let first = post_keyed(&app, "/users/", &taken, "k-409").await;
    let (status, body) = status_and_body(first).await;
    assert_eq!(status, 409, "{body}");
    let again = post_keyed(&app, "/users/", &taken, "k-409").await;
    assert_eq!(replayed(&again), Some("true"));
    assert_eq!(status_and_body(again).await, (409, body));
}

#[tokio::test]
async fn the_same_key_with_another_body_query_or_route_is_a_422() {
    let app = app().await;
    let ada = user("ada", "ada@example.com");
    assert_eq!(post_keyed(&app, "/users/", &ada, "k").await.status(), 200);

    let bob = user("bob", "bob@example.com");
    let message = "already used for another request";
    assert_error(post_keyed(&app, "/users/", &bob, "k").await, 422, message).await;
    let postponed = post_keyed(&app, "/users/?postponeAuthUserCreation=true", &ada, "k").await;
    assert_error(postponed, 422, message).await;
    let linked = json!({"userGroup": "customer", "name": "ada", "authUserId": "auth0|x"});
    assert_error(
        post_keyed(&app, "/users/with-id", &linked, "k").await,
        422,
        message,
    )
    .await;

    assert_eq!(app.crud_fake().state().documents("/users").len(), 1);
    assert_eq!(records(&app).len(), 1, "the refused requests leave no record");
}

#[tokio::test]
async fn of_two_concurrent_requests_with_one_key_one_runs_and_the_other_is_a_409() {
    let app = app().await;
    // The auth provider takes a second: the first request is still running when the second
    // one begins, whichever of the two begins first.
    app.auth_fake()
        .delay_next("POST", "/users", Duration::from_secs(1), 1);
    let ada = user("ada", "ada@example.com");

    let (a, b) = tokio::join!(
        post_keyed(&app, "/users/", &ada, "k-race"),
        post_keyed(&app, "/users/", &ada, "k-race")
    );
    let mut answers = [status_and_body(a).await, status_and_body(b).await];
    answers.sort_by_key(|(status, _)| *status);
    assert_eq!(answers[0].0, 200, "{answers:?}");
    assert_eq!(answers[1].0, 409, "{answers:?}");
    assert_eq!(
        answers[1].1["message"],
        "a request with this Idempotency-Key is in progress; retry later"
    );

    // Once the first is done, a retry gets its answer.
    let retry = post_keyed(&app, "/users/", &ada, "k-race").await;
    assert_eq!(replayed(&retry), Some("true"));
    assert_eq!(status_and_body(retry).await, answers[0].clone());
    assert_eq!(app.auth_fake().users().len(), 1);
    assert_eq!(records(&app).len(), 1);
}

#[tokio::test]
async fn a_5xx_is_not_recorded_and_a_retry_with_the_key_runs_again() {
    let app = app().await;
    app.auth_fake().fail_next("POST", "/users", 503, 1);
    let ada = user("ada", "ada@example.com");

    let failed = post_keyed(&app, "/users/", &ada, "k-5xx").await;
    assert!(failed.status().is_server_error(), "{}", failed.status());
    assert!(records(&app).is_empty(), "the key is released");
    assert!(app.auth_fake().users().is_empty());

    let retry = post_keyed(&app, "/users/", &ada, "k-5xx").await;
    assert_eq!(replayed(&retry), None);
    assert_eq!(retry.status(), 200);
    assert_eq!(app.auth_fake().users().len(), 1);
    assert_eq!(app.crud_fake().state().documents("/users").len(), 1);
}

#[tokio::test]
async fn a_failure_to_record_the_key_is_a_502_and_nothing_runs() {
    let app = app().await;
    app.crud_fake().state().fail_next(Method::POST, "/jobs", 500, 1);

    let response = post_keyed(&app, "/users/", &user("ada", "ada@example.com"), "k").await;
    assert_error(response, 502, "/jobs").await;
    assert!(app.crud_fake().state().documents("/users").is_empty());
    assert!(app.auth_fake().users().is_empty());
}

#[tokio::test]
async fn an_invalid_key_is_a_400_naming_the_header_and_nothing_runs() {
    let app = app().await;
    let ada = user("ada", "ada@example.com");
    let long = "k".repeat(256);
    let values: [&[u8]; 5] = [b"", b"a key", long.as_bytes(), "clé".as_bytes(), b"tab\there"];
    for value in values {
        let response = app
            .client
            .post(app.url("/users/"))
            .json(&ada)
            .header(KEY, reqwest::header::HeaderValue::from_bytes(value).unwrap())
            .send()
            .await
            .unwrap();
        assert_error(response, 400, "the Idempotency-Key header").await;
    }
    let twice = app
        .client
        .post(app.url("/users/"))
        .json(&ada)
        .header(KEY, "a")
        .header(KEY, "b")
        .send()
        .await
        .unwrap();
    assert_error(twice, 400, "the Idempotency-Key header must appear once").await;
    assert!(app.crud_fake().state().documents("/users").is_empty());
    assert!(records(&app).is_empty());
}

#[tokio::test]
async fn without_the_header_no_record_is_written() {
    let app = app().await;
    let state = app.crud_fake().state();
    assert_eq!(
        app.post_json("/users/", &user("ada", "ada@example.com"))
            .await
            .status(),
        200
    );
    let body = json!({"authUsersIds": ["auth0|a"]});
    assert_eq!(
        app.post_json("/jobs/change-password/bulk", &body).await.status(),
        202
    );
    assert!(records(&app).is_empty());
    // The two inserts are the create's saga record (closed: the one delete) and the job itself
    // (its runner then works it with PATCHes); no idempotency record.
    assert_eq!(state.request_count(Method::POST, "/jobs"), 2);
    assert_eq!(state.request_count(Method::DELETE, "/jobs"), 1);
}

#[tokio::test]
async fn a_replayed_job_creation_returns_the_same_job() {
    let app = app().await;
    let body = json!({"authUsersIds": ["auth0|a", "auth0|b"]});
    let first = post_keyed(&app, "/jobs/change-password/bulk", &body, "job-1").await;
    let (status, created) = status_and_body(first).await;
    assert_eq!(status, 202, "{created}");
    let again = post_keyed(&app, "/jobs/change-password/bulk", &body, "job-1").await;
    assert_eq!(replayed(&again), Some("true"));
    let (status, replay) = status_and_body(again).await;
    assert_eq!((status, &replay["jobId"]), (202, &created["jobId"]));
    let jobs = app.crud_fake().state().documents("/jobs");
    let jobs = jobs.iter().filter(|doc| doc["kind"] == "change-password").count();
    assert_eq!(jobs, 1);
}

#[tokio::test]
async fn without_a_saga_collection_the_header_is_a_501_and_is_not_documented() {
    let app = TestApp::on_fakes()
        .with_customer_group()
        .without_jobs()
        .start()
        .await;
    let response = post_keyed(&app, "/users/", &user("ada", "ada@example.com"), "k").await;
    assert_error(response, 501, "SAGA_CRUD_ENDPOINT").await;
    assert_eq!(
        app.post_json("/users/", &user("ada", "ada@example.com"))
            .await
            .status(),
        200
    );
    let doc: Value = app.get("/documentation/json").await.json().await.unwrap();
    let operation = &doc["paths"]["/users/"]["post"];
    assert!(!operation["parameters"].to_string().contains("Idempotency-Key"));
    assert!(operation["responses"].get("422").is_none());
}

#[tokio::test]
async fn the_document_lists_the_header_and_its_answers_on_every_route_that_creates() {
    let app = app().await;
    let doc: Value = app.get("/documentation/json").await.json().await.unwrap();
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
            let Some(key) = parameters.iter().find(|p| p["name"] == "Idempotency-Key") else {
                continue;
            };
            assert_eq!(
                (method.as_str(), &key["in"]),
                ("post", &json!("header")),
                "{path}"
            );
            assert_eq!(key["required"], json!(false), "{path}");
            assert_eq!(
                (&key["schema"]["minLength"], &key["schema"]["maxLength"]),
                (&json!(1), &json!(255))
            );
            for status in ["400", "409", "422"] {
                assert!(operation["responses"].get(status).is_some(), "{path} {status}");
            }
            documented.push(path.clone());
        }
    }
    documented.sort();
    assert_eq!(
        documented,
        [
            "/jobs/bulk-activation",
            "/jobs/change-password/bulk",
            "/jobs/reconcile",
            "/users/",
            "/users/register",
            "/users/with-id"
        ]
    );
}

#[tokio::test]
async fn the_embedded_mode_replays_creates_and_registrations() {
    let app = TestApp::embedded(&temp_data_dir()).start().await;
    let ann = json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com"});

    let first = post_keyed(&app, "/users/?postponeAuthUserCreation=true", &ann, "e-1").await;
    assert_eq!(first.status(), 200);
    let id = first.text_field("_id").await;
    let again = post_keyed(&app, "/users/?postponeAuthUserCreation=true", &ann, "e-1").await;
    assert_eq!(replayed(&again), Some("true"));
    assert_eq!(again.text_field("_id").await, id);
    let other = post_keyed(&app, "/users/", &ann, "e-1").await;
    assert_error(other, 422, "already used for another request").await;
    assert_eq!(
        app.get("/users/count").await.json::<Value>().await.unwrap(),
        json!(1)
    );

    // A 204 without a body is replayed as it was.
    let register = json!({"_id": id, "password": "Kettle-Lamp-42!"});
    let first = post_keyed(&app, "/users/register", &register, "e-2").await;
    assert_eq!(first.status(), 204);
    let again = post_keyed(&app, "/users/register", &register, "e-2").await;
    assert_eq!((again.status().as_u16(), replayed(&again)), (204, Some("true")));
    assert!(again.bytes().await.unwrap().is_empty());
    // Without the key, the second registration runs and finds the user linked.
    assert_eq!(app.post_json("/users/register", &register).await.status(), 409);
}
