//! What is refused before anything is written (400, 404), the Composer's call shape, and the
//! store failures: a compare-and-set miss (409) and timeouts (504).

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::query_param;
use wiremock::ResponseTemplate;

use super::*;
use crate::helpers::given;

/// The CRUD requests the service made, less its own group-config reads.
async fn crud_requests(setup: &Setup) -> Vec<Request> {
    let requests = setup
        .app
        .crud()
        .received_requests()
        .await
        .expect("recording is on");
    requests
        .into_iter()
        .filter(|r| !r.url.path().starts_with("/ums-config"))
        .collect()
}

/// Asserts the store was read at most, never written.
async fn assert_nothing_written(setup: &Setup) {
    let writes = crud_requests(setup)
        .await
        .into_iter()
        .filter(|r| r.method.as_str() != "GET")
        .count();
    assert_eq!(writes, 0, "no store write");
}

#[tokio::test]
async fn updates_of_fields_the_service_or_the_store_manage_are_400_naming_the_field() {
    let setup = Setup::with_user(user()).await;
    let cases = [
        (json!({"$set": {"authUserId": "auth0|other"}}), "authUserId"),
        (json!({"$unset": {"expirationId": true}}), "expirationId"),
        (json!({"$set": {"expirationId.x": "1"}}), "expirationId"),
        (json!({"$set": {"__STATE__": "DRAFT"}}), "__STATE__"),
        (
            json!({"$set": {"updatedAt": "2020-01-01T00:00:00Z"}}),
            "updatedAt",
        ),
    ];
    for (update, field) in cases {
        assert_error(setup.patch(&[], update).await, 400, field).await;
    }
    assert!(
        crud_requests(&setup).await.is_empty(),
        "refused before reading the user"
    );
}

#[tokio::test]
async fn a_body_that_is_not_an_object_of_operators_is_400() {
    let setup = Setup::with_user(user()).await;
    assert_error(
        setup.patch(&[], json!(["x"])).await,
        400,
        "object of update operators",
    )
    .await;
    let plain = json!({"name": "x"});
    assert_error(
        setup.patch(&[], plain).await,
        400,
        "unknown update operator \"name\"",
    )
    .await;
    assert!(crud_requests(&setup).await.is_empty());
}

#[tokio::test]
async fn an_update_the_store_would_refuse_is_400_with_its_message() {
    let setup = Setup::with_user(user()).await;
    let response = setup.patch(&[], json!({"$inc": {"name": 1}})).await;
    assert_error(response, 400, "Cannot apply $inc to the non-numeric field name").await;
    assert_nothing_written(&setup).await;
}

#[tokio::test]
async fn a_document_that_breaks_its_group_schema_after_the_update_is_400() {
    let setup = Setup::with_user(user()).await;
    let cases = [
        (json!({"$unset": {"name": true}}), "name"),
        (json!({"$set": {"age": -1}}), "/age"),
        (json!({"$set": {"nickname": "ada"}}), "nickname"),
    ];
    for (update, field) in cases {
        let body = error_of(setup.patch(&[], update).await, 400).await;
        let text = body["message"].as_str().expect("a message");
        assert!(
            text.starts_with("user does not match the schema of group \"customer\""),
            "{text}"
        );
        assert!(text.contains(field), "{text:?} names {field}");
    }
    assert_nothing_written(&setup).await;
}

#[tokio::test]
async fn a_move_to_a_group_whose_schema_the_user_breaks_is_400_naming_that_group() {
    let setup = Setup::with_user(user()).await;
    let response = setup.patch(&[], json!({"$set": {"userGroup": "vip"}})).await;
    assert_error(response, 400, "user does not match the schema of group \"vip\"").await;
    assert_nothing_written(&setup).await;
}

#[tokio::test]
async fn a_move_to_an_unknown_group_is_400() {
    let setup = Setup::with_user(user()).await;
    let response = setup.patch(&[], json!({"$set": {"userGroup": "ghosts"}})).await;
    assert_error(response, 400, "userGroup \"ghosts\" does not exist").await;
    assert_nothing_written(&setup).await;
}

#[tokio::test]
async fn an_unknown_user_is_404_naming_the_id() {
    let setup = Setup::new().await;
    let missing = ResponseTemplate::new(404).set_body_json(json!({"error": "not found"}));
    setup.crud(given("GET", user_path()), missing).await;
    let response = setup.patch(&[], json!({"$set": {"name": "x"}})).await;
    assert_error(response, 404, &format!("user \"{ID}\" not found")).await;
    assert_nothing_written(&setup).await;
}

#[tokio::test]
async fn query_parameters_other_than_filters_are_400_before_any_call() {
    let setup = Setup::with_user(user()).await;
    let body = json!({"$set": {"name": "x"}});
    assert_error(setup.patch(&[("_id", ID)], body.clone()).await, 400, "_id").await;
    assert_error(setup.patch(&[("_l", "5")], body.clone()).await, 400, "_l").await;
    assert_error(
        setup.patch(&[("_q", "{not json")], body).await,
        400,
        "_q must be a JSON object",
    )
    .await;
    assert!(crud_requests(&setup).await.is_empty());
}

#[tokio::test]
async fn the_composers_update_of_a_draft_user_passes_its_state_through() {
    let draft = user_with(json!({"__STATE__": "DRAFT"}));
    let setup = Setup::with_user(draft).await;
    let updated = user_with(json!({"__STATE__": "DRAFT", "name": "x", "age": null}));
    setup.store_patch_answers(updated.clone()).await;

    let update = json!({"$set": {"name": "x"}, "$unset": {"age": true}});
    let response = setup.patch(&[("_st", "DRAFT")], update.clone()).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), updated);
    let calls = setup.journal.calls();
    assert_eq!(setup.journal.lines(), [crud_line("GET"), crud_line("PATCH")]);
    assert_eq!(calls[0].query("_st").as_deref(), Some("DRAFT"));
    assert_eq!(calls[1].query("_st").as_deref(), Some("DRAFT"));
    assert_eq!(calls[1].body(), update);
}

#[tokio::test]
async fn a_positional_update_resolves_against_the_callers_filter() {
    let setup = Setup::with_user(user_with(json!({"roles": ["reader", "auditor"]}))).await;
    setup
        .store_patch_answers(user_with(json!({"roles": ["writer", "auditor"]})))
        .await;
    setup.rond_answers_role_changes().await;

    let update = json!({"$set": {"roles.$.replace": "writer"}});
    let response = setup.patch(&[("_q", r#"{"roles":"reader"}"#)], update).await;

    assert_eq!(response.status(), 200);
    let grant = setup
        .journal
        .find("Rönd POST /grant/bindings")
        .pop()
        .expect("a grant");
    assert_eq!(grant.body()["roles"], json!(["writer", "auditor"]));
}

#[tokio::test]
async fn a_compare_and_set_miss_is_409_and_nothing_is_synced() {
    let setup = Setup::with_user(user()).await;
    let changed = ResponseTemplate::new(404).set_body_json(json!({"error": "not found"}));
    setup.crud(given("PATCH", user_path()), changed).await;

    let response = setup
        .patch(&[], json!({"$set": {"email": "new@example.com"}}))
        .await;

    assert_error(
        response,
        409,
        &format!("user \"{ID}\" was modified concurrently, retry"),
    )
    .await;
    assert_eq!(setup.journal.lines(), [crud_line("GET"), crud_line("PATCH")]);
}

#[tokio::test]
async fn a_store_read_timeout_is_504_naming_the_call() {
    let setup = Setup::new().await;
    let slow = ok_json(user()).set_delay(Duration::from_millis(1500));
    setup.crud(given("GET", user_path()), slow).await;

    let response = setup.patch(&[], json!({"$set": {"name": "x"}})).await;

    assert_error(response, 504, "CRUD GET /users/:id timed out").await;
    assert_nothing_written(&setup).await;
}

#[tokio::test]
async fn a_store_write_that_timed_out_is_verified_and_not_undone_when_it_did_not_apply() {
    let setup = Setup::with_user(user()).await;
    let slow = ok_json(user()).set_delay(Duration::from_millis(1500));
    setup.crud(given("PATCH", user_path()), slow).await;

    let response = setup.patch(&[], json!({"$set": {"name": "x"}})).await;

    // The outcome is unknown: the user is read again; unchanged, nothing is undone.
    assert_error(response, 504, "CRUD PATCH /users/:id timed out").await;
    assert_eq!(
        setup.journal.lines(),
        [crud_line("GET"), crud_line("PATCH"), crud_line("GET")]
    );
}

#[tokio::test]
async fn a_store_write_that_timed_out_after_applying_is_verified_and_the_update_completes() {
    let setup = Setup::new().await;
    let written = user_with(json!({"name": "x", "updatedAt": "2024-06-01T10:00:00.000Z"}));
    // The verification read (any state) sees the user as the write left it; mounted first, it
    // wins over the read of the request's filter, which sees the user as it was.
    let verification = given("GET", user_path()).and(query_param("_st", ANY_STATE));
    setup.crud(verification, ok_json(written.clone())).await;
    setup.crud(given("GET", user_path()), ok_json(user())).await;
    let slow = ok_json(written.clone()).set_delay(Duration::from_millis(1500));
    setup.crud(given("PATCH", user_path()), slow).await;

    let response = setup.patch(&[], json!({"$set": {"name": "x"}})).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), written);
    assert_eq!(
        setup.journal.lines(),
        [crud_line("GET"), crud_line("PATCH"), crud_line("GET")]
    );
}

#[tokio::test]
async fn a_store_write_error_is_502_naming_the_call() {
    let setup = Setup::with_user(user()).await;
    setup
        .crud(given("PATCH", user_path()), ResponseTemplate::new(500))
        .await;

    let response = setup.patch(&[], json!({"$set": {"name": "x"}})).await;

    // A 500 after sending: the outcome is unknown, so the user is read again (unchanged here).
    assert_error(response, 502, "CRUD PATCH /users/:id responded 500").await;
    assert_eq!(
        setup.journal.lines(),
        [crud_line("GET"), crud_line("PATCH"), crud_line("GET")]
    );
}

#[tokio::test]
async fn the_route_is_documented_with_its_error_statuses() {
    let setup = Setup::new().await;
    let doc: Value = setup.app.get("/documentation/json").await.json().await.unwrap();
    let operation = &doc["paths"]["/users/{id}"]["patch"];
    for status in ["200", "400", "404", "409", "502", "504"] {
        assert!(
            operation["responses"].get(status).is_some(),
            "{status} is documented"
        );
    }
    assert!(
        doc["paths"]["/users/{id}"].get("get").is_some(),
        "GET /users/{{id}} is kept"
    );
}
