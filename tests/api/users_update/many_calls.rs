//! The exact downstream calls of `PATCH /users/` and `PATCH /users/bulk` on wiremock: the store
//! query that finds the matches, then per user the calls of `PATCH /users/{id}`; a 4xx, a 5xx
//! and a timeout of the query answer with nothing written.

use std::time::Duration;

use serde_json::json;
use wiremock::ResponseTemplate;

use super::*;
use crate::helpers::{header_of, only_request_to};

const NEW_EMAIL: &str = "ada.lovelace@example.com";
const FIND_LINE: &str = "CRUD GET /users/";

/// The store query finds `matches` (documents holding only `_id`).
async fn find_answers(setup: &Setup, answer: ResponseTemplate) {
    setup.crud(given("GET", "/users/"), answer).await;
}

async fn patch_many(setup: &Setup, query: &[(&str, &str)], body: Value) -> reqwest::Response {
    let request = setup
        .app
        .client
        .patch(setup.app.url("/users/"))
        .query(query)
        .json(&body);
    request.send().await.expect("request failed")
}

#[tokio::test]
async fn patch_many_finds_the_matches_by_id_then_updates_each_as_patch_by_id() {
    let setup = Setup::with_user(user()).await;
    find_answers(&setup, ok_json(json!([{"_id": ID}]))).await;
    let updated = user_with(json!({"email": NEW_EMAIL, "updatedAt": "2024-05-02T10:00:00.000Z"}));
    setup.store_patch_answers(updated).await;
    setup.auth(given("PATCH", AUTH_PATH), ok_json(json!({}))).await;

    let query = [("_q", r#"{"name":"Ada"}"#), ("_st", "PUBLIC,DRAFT")];
    let response = patch_many(&setup, &query, json!({"$set": {"email": NEW_EMAIL}})).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!(1));
    let expected = [
        FIND_LINE.to_owned(),
        crud_line("GET"),
        crud_line("PATCH"),
        format!("Auth0 PATCH {AUTH_PATH}"),
    ];
    assert_eq!(setup.journal.lines(), expected);
    let calls = setup.journal.calls();
    let find = &calls[0];
    assert_eq!(find.q(), json!({"name": "Ada"}));
    assert_eq!(find.query("_st").as_deref(), Some("PUBLIC,DRAFT"));
    assert_eq!(find.query("_p").as_deref(), Some("_id"));
    assert_eq!(find.query("_s").as_deref(), Some("_id"));
    assert_eq!(
        calls[1].query("_st").as_deref(),
        Some("PUBLIC,DRAFT"),
        "the read keeps the state"
    );
    let cas = json!({"$and": [{"name": "Ada"}, {"updatedAt": UPDATED_AT}]});
    assert_eq!(
        calls[2].q(),
        cas,
        "the write is a compare-and-set under the caller's filter"
    );
    assert_eq!(calls[3].body(), json!({"email": NEW_EMAIL}));
}

#[tokio::test]
async fn patch_bulk_finds_the_first_match_of_each_item() {
    let setup = Setup::with_user(user()).await;
    find_answers(&setup, ok_json(json!([{"_id": ID}]))).await;
    setup.store_patch_answers(user_with(json!({"age": 37}))).await;

    let body = json!([{"filter": {"_id": ID, "_st": "PUBLIC"}, "update": {"$inc": {"age": 1}}}]);
    let response = setup.app.patch_json("/users/bulk", &body).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!(1));
    assert_eq!(
        setup.journal.lines(),
        [FIND_LINE.to_owned(), crud_line("GET"), crud_line("PATCH")]
    );
    let find = &setup.journal.calls()[0];
    assert_eq!(find.query("_id").as_deref(), Some(ID));
    assert_eq!(find.query("_l").as_deref(), Some("1"));
}

#[tokio::test]
async fn a_refused_failed_or_slow_query_answers_with_nothing_written() {
    let slow = ok_json(json!([{"_id": ID}])).set_delay(Duration::from_millis(1500));
    let cases = [
        (
            ResponseTemplate::new(400).set_body_json(json!({"message": "bad"})),
            400,
        ),
        (ResponseTemplate::new(500), 502),
        (slow, 504),
    ];
    for (answer, status) in cases {
        let setup = Setup::with_user(user()).await;
        find_answers(&setup, answer).await;

        let response = patch_many(&setup, &[], json!({"$set": {"name": "x"}})).await;
        let bulk = json!([{"filter": {"_id": ID}, "update": {"$set": {"name": "x"}}}]);
        let bulk_response = setup.app.patch_json("/users/bulk", &bulk).await;

        error_of(response, status).await;
        error_of(bulk_response, status).await;
        assert_eq!(
            setup.journal.lines(),
            [FIND_LINE, FIND_LINE],
            "{status}: nothing else"
        );
    }
}

#[tokio::test]
async fn a_failed_auth_sync_reverts_that_user_and_the_answer_says_none_were_updated() {
    let setup = Setup::with_user(user()).await;
    find_answers(&setup, ok_json(json!([{"_id": ID}]))).await;
    let updated = user_with(json!({"email": NEW_EMAIL, "updatedAt": "2024-05-02T10:00:00.000Z"}));
    setup.store_patch_answers(updated).await;
    setup
        .auth(given("PATCH", AUTH_PATH), ResponseTemplate::new(503))
        .await;

    let response = patch_many(&setup, &[], json!({"$set": {"email": NEW_EMAIL}})).await;

    let message = error_of(response, 502).await["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.starts_with(&format!("0 users updated before user \"{ID}\" failed")),
        "{message}"
    );
    let expected = [
        FIND_LINE.to_owned(),
        crud_line("GET"),
        crud_line("PATCH"),
        format!("Auth0 PATCH {AUTH_PATH}"),
        crud_line("PATCH"),
    ];
    assert_eq!(setup.journal.lines(), expected);
    let revert = &setup.journal.calls()[4];
    assert_eq!(
        revert.body(),
        json!({"$set": {"email": "ada@example.com"}}),
        "the store is reverted"
    );
}

#[tokio::test]
async fn acl_write_columns_limits_the_fields_every_patch_route_may_change() {
    let setup = Setup::with_user(user()).await;
    find_answers(&setup, ok_json(json!([{"_id": ID}]))).await;
    setup
        .store_patch_answers(user_with(json!({"name": "Ada L."})))
        .await;
    let send = |path: &str, body: Value| {
        let request = setup.app.client.patch(setup.app.url(path));
        request.header("acl_write_columns", "name,age").json(&body).send()
    };

    let refused = [
        send(&user_path(), json!({"$set": {"email": NEW_EMAIL}}))
            .await
            .unwrap(),
        send(
            "/users/",
            json!({"$set": {"name": "x"}, "$unset": {"roles": true}}),
        )
        .await
        .unwrap(),
        send(
            "/users/bulk",
            json!([{"filter": {"_id": ID}, "update": {"$push": {"roles.0": "x"}}}]),
        )
        .await
        .unwrap(),
    ];
    for (response, field) in refused.into_iter().zip(["email", "roles", "roles"]) {
        let message = error_of(response, 400).await["message"]
            .as_str()
            .unwrap()
            .to_owned();
        let expected =
            format!("you cannot edit \"{field}\" field: the acl_write_columns header allows name,age");
        assert!(message.contains(&expected), "{message}");
    }
    assert!(setup.journal.lines().is_empty(), "refused before any call");

    let allowed = send(
        &user_path(),
        json!({"$set": {"name": "Ada L."}, "$inc": {"age": 1}}),
    )
    .await
    .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(setup.journal.lines(), [crud_line("GET"), crud_line("PATCH")]);
    let write = only_request_to(setup.app.crud(), "PATCH", &user_path()).await;
    assert_eq!(
        header_of(&write, "acl_write_columns"),
        None,
        "the service's own check, never forwarded"
    );
}
