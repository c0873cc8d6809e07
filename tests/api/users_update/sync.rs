//! What a successful store write is followed by: the auth user, the Rönd roles and the expiry
//! timer, each only when its fields changed, and the reverts when one of them fails.

use serde_json::json;
use wiremock::matchers::{body_json, body_partial_json, method, path};
use wiremock::{Mock, ResponseTemplate};

use super::*;
use crate::helpers::given;

const NEW_EMAIL: &str = "ada.lovelace@example.com";
const EXPIRES: &str = "2031-01-31T10:00:00.000Z";

#[tokio::test]
async fn an_email_change_is_read_written_with_compare_and_set_then_sent_to_the_auth_user() {
    let setup = Setup::with_user(user()).await;
    let updated = user_with(json!({"email": NEW_EMAIL, "updatedAt": "2024-05-02T10:00:00.000Z"}));
    setup.store_patch_answers(updated.clone()).await;
    setup.auth(given("PATCH", AUTH_PATH), ok_json(json!({}))).await;

    let update = json!({"$set": {"email": NEW_EMAIL}});
    let response = setup.patch(&[], update.clone()).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), updated);
    let expected = [
        crud_line("GET"),
        crud_line("PATCH"),
        format!("Auth0 PATCH {AUTH_PATH}"),
    ];
    assert_eq!(setup.journal.lines(), expected);
    let calls = setup.journal.calls();
    assert_eq!(
        calls[0].query("_st"),
        None,
        "the store default state (PUBLIC) applies"
    );
    assert_eq!(calls[1].q(), json!({"updatedAt": UPDATED_AT}));
    assert_eq!(calls[1].body(), update);
    assert_eq!(calls[2].body(), json!({"email": NEW_EMAIL}));
}

#[tokio::test]
async fn a_change_of_fields_the_auth_user_does_not_hold_calls_only_the_store() {
    let setup = Setup::with_user(user()).await;
    setup
        .store_patch_answers(user_with(json!({"name": "Ada L."})))
        .await;

    let response = setup
        .patch(&[], json!({"$set": {"name": "Ada L."}, "$inc": {"age": 1}}))
        .await;

    assert_eq!(response.status(), 200);
    assert_eq!(setup.journal.lines(), [crud_line("GET"), crud_line("PATCH")]);
}

#[tokio::test]
async fn a_roles_change_revokes_the_subject_then_grants_the_new_roles() {
    let setup = Setup::with_user(user()).await;
    setup
        .store_patch_answers(user_with(json!({"roles": ["writer", "admin"]})))
        .await;
    setup.rond_answers_role_changes().await;

    let response = setup
        .patch(&[], json!({"$set": {"roles": ["writer", "admin"]}}))
        .await;

    assert_eq!(response.status(), 200);
    let expected = [
        crud_line("GET"),
        crud_line("PATCH"),
        "Rönd POST /revoke/bindings".to_owned(),
        "Rönd POST /grant/bindings".to_owned(),
    ];
    assert_eq!(setup.journal.lines(), expected);
    let calls = setup.journal.calls();
    assert_eq!(calls[2].body()["subjects"], json!([AUTH_ID]));
    assert_eq!(calls[3].body()["subjects"], json!([AUTH_ID]));
    assert_eq!(calls[3].body()["roles"], json!(["writer", "admin"]));
}

#[tokio::test]
async fn a_failed_grant_of_the_new_roles_regrants_the_old_ones_and_reverts_the_store() {
    let setup = Setup::with_user(user()).await;
    setup
        .store_patch_answers(user_with(json!({"roles": ["writer"]})))
        .await;
    setup.rond_answers_revoke().await;
    let grant = |roles: Value| {
        let body = json!({"subjects": [AUTH_ID], "roles": roles});
        given("POST", "/grant/bindings").and(body_partial_json(body))
    };
    setup
        .rond(grant(json!(["writer"])), ResponseTemplate::new(500))
        .await;
    setup
        .rond(grant(json!(["reader"])), ok_json(json!({"bindingId": "b-old"})))
        .await;

    let response = setup.patch(&[], json!({"$set": {"roles": ["writer"]}})).await;

    assert_error(response, 502, "Rönd POST /grant/bindings responded 500").await;
    let expected = [
        crud_line("GET"),
        crud_line("PATCH"),
        "Rönd POST /revoke/bindings".to_owned(),
        "Rönd POST /grant/bindings".to_owned(),
        "Rönd POST /grant/bindings".to_owned(),
        crud_line("PATCH"),
    ];
    assert_eq!(setup.journal.lines(), expected);
    let calls = setup.journal.calls();
    assert_eq!(
        calls[4].body()["roles"],
        json!(["reader"]),
        "the old roles are granted back"
    );
    assert_eq!(calls[5].body(), json!({"$set": {"roles": ["reader"]}}));
    assert_eq!(calls[5].query("_st").as_deref(), Some(ANY_STATE));
}

#[tokio::test]
async fn a_failed_auth_update_reverts_the_store_and_names_the_failing_call() {
    let setup = Setup::with_user(user_with(json!({"age": null}))).await;
    setup
        .store_patch_answers(user_with(json!({"email": NEW_EMAIL, "age": 40})))
        .await;
    setup
        .auth(given("PATCH", AUTH_PATH), ResponseTemplate::new(500))
        .await;

    let response = setup
        .patch(&[], json!({"$set": {"email": NEW_EMAIL, "age": 40}}))
        .await;

    assert_error(response, 502, "Auth0 Client PATCH /users/:id responded 500").await;
    let expected = [
        crud_line("GET"),
        crud_line("PATCH"),
        format!("Auth0 PATCH {AUTH_PATH}"),
        crud_line("PATCH"),
    ];
    assert_eq!(setup.journal.lines(), expected);
    let revert = &setup.journal.calls()[3];
    let restore = json!({"$set": {"email": "ada@example.com"}, "$unset": {"age": true}});
    assert_eq!(revert.body(), restore);
    // Compare-and-set on the written `updatedAt`: a later write by someone else is never undone.
    let unchanged_since: Value = serde_json::from_str(&revert.query("_q").unwrap()).unwrap();
    assert_eq!(unchanged_since, json!({"updatedAt": UPDATED_AT}));
    assert_eq!(revert.query("_st").as_deref(), Some(ANY_STATE));
}

#[tokio::test]
async fn an_expiration_date_schedules_a_timer_and_records_its_id_in_the_store() {
    let setup = Setup::with_user(user()).await;
    let recorded = user_with(json!({"expirationDate": EXPIRES, "expirationId": "timer-1"}));
    let record = json!({"$set": {"expirationId": "timer-1"}});
    let record_mock = Mock::given(method("PATCH")).and(body_json(record.clone()));
    setup
        .crud(record_mock.and(path(user_path())), ok_json(recorded.clone()))
        .await;
    setup
        .store_patch_answers(user_with(json!({"expirationDate": EXPIRES})))
        .await;
    let scheduled = json!({"expirationId": "timer-1"});
    setup.timer(given("POST", "/schedule"), ok_json(scheduled)).await;

    let response = setup
        .patch(&[], json!({"$set": {"expirationDate": EXPIRES}}))
        .await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        recorded,
        "the last store answer"
    );
    let expected = [
        crud_line("GET"),
        crud_line("PATCH"),
        "Timer POST /schedule".to_owned(),
        crud_line("PATCH"),
    ];
    assert_eq!(setup.journal.lines(), expected);
    let calls = setup.journal.calls();
    assert_eq!(calls[2].body()["startDate"], EXPIRES);
    assert_eq!(
        calls[2].body()["outputMode"]["path"],
        format!("/users/{ID}/expire")
    );
    assert_eq!(calls[3].body(), record);
}

#[tokio::test]
async fn a_new_expiration_date_schedules_records_and_then_aborts_the_previous_timer() {
    let stored = user_with(json!({"expirationDate": "2030-01-01T00:00:00.000Z", "expirationId": "timer-0"}));
    let setup = Setup::with_user(stored).await;
    setup
        .store_patch_answers(user_with(
            json!({"expirationDate": EXPIRES, "expirationId": "timer-1"}),
        ))
        .await;
    setup
        .timer(
            given("POST", "/schedule"),
            ok_json(json!({"expirationId": "timer-1"})),
        )
        .await;
    setup
        .timer(given("POST", "/abort"), ResponseTemplate::new(204))
        .await;

    let response = setup
        .patch(&[], json!({"$set": {"expirationDate": EXPIRES}}))
        .await;

    assert_eq!(response.status(), 200);
    let expected = [
        crud_line("GET"),
        crud_line("PATCH"),
        "Timer POST /schedule".to_owned(),
        crud_line("PATCH"),
        "Timer POST /abort".to_owned(),
    ];
    assert_eq!(setup.journal.lines(), expected);
    let calls = setup.journal.calls();
    assert_eq!(calls[3].body(), json!({"$set": {"expirationId": "timer-1"}}));
    assert_eq!(calls[4].body(), json!({"expirationId": "timer-0"}));
}

#[tokio::test]
async fn removing_the_expiration_date_unsets_the_timer_id_and_aborts_the_timer() {
    let stored = user_with(json!({"expirationDate": EXPIRES, "expirationId": "timer-1"}));
    let setup = Setup::with_user(stored).await;
    setup.store_patch_answers(user_with(json!({}))).await;
    setup
        .timer(given("POST", "/abort"), ResponseTemplate::new(204))
        .await;

    let response = setup
        .patch(&[], json!({"$unset": {"expirationDate": true}}))
        .await;

    assert_eq!(response.status(), 200);
    let expected = [
        crud_line("GET"),
        crud_line("PATCH"),
        crud_line("PATCH"),
        "Timer POST /abort".to_owned(),
    ];
    assert_eq!(setup.journal.lines(), expected);
    let calls = setup.journal.calls();
    assert_eq!(calls[2].body(), json!({"$unset": {"expirationId": true}}));
    assert_eq!(calls[3].body(), json!({"expirationId": "timer-1"}));
}

#[tokio::test]
async fn a_failed_abort_of_the_previous_timer_is_logged_not_returned() {
    let stored = user_with(json!({"expirationDate": EXPIRES, "expirationId": "timer-1"}));
    let setup = Setup::with_user(stored).await;
    setup.store_patch_answers(user_with(json!({}))).await;
    setup
        .timer(given("POST", "/abort"), ResponseTemplate::new(500))
        .await;

    let response = setup
        .patch(&[], json!({"$unset": {"expirationDate": true}}))
        .await;

    assert_eq!(response.status(), 200);
    assert_eq!(setup.journal.find("Timer POST /abort").len(), 1);
}

#[tokio::test]
async fn a_failed_schedule_reverts_the_store_and_the_earlier_syncs() {
    let setup = Setup::with_user(user()).await;
    setup
        .store_patch_answers(user_with(json!({"email": NEW_EMAIL, "expirationDate": EXPIRES})))
        .await;
    setup.auth(given("PATCH", AUTH_PATH), ok_json(json!({}))).await;
    setup
        .timer(given("POST", "/schedule"), ResponseTemplate::new(503))
        .await;

    let update = json!({"$set": {"email": NEW_EMAIL, "expirationDate": EXPIRES}});
    let response = setup.patch(&[], update).await;

    assert_error(response, 502, "Timer Service POST /schedule responded 503").await;
    let auth_calls = setup.journal.find(&format!("Auth0 PATCH {AUTH_PATH}"));
    let bodies: Vec<Value> = auth_calls.iter().map(Call::body).collect();
    assert_eq!(
        bodies,
        [json!({"email": NEW_EMAIL}), json!({"email": "ada@example.com"})]
    );
    let revert = setup.journal.find(&crud_line("PATCH")).pop().expect("a revert");
    let restore = json!({"$set": {"email": "ada@example.com"}, "$unset": {"expirationDate": true}});
    assert_eq!(revert.body(), restore);
    assert_eq!(
        setup.journal.lines().last(),
        Some(&crud_line("PATCH")),
        "the store is reverted last"
    );
}

#[tokio::test]
async fn the_callers_filter_is_anded_with_the_compare_and_set_condition() {
    let setup = Setup::with_user(user()).await;
    setup
        .store_patch_answers(user_with(json!({"name": "Ada L."})))
        .await;
    let q = r#"{"name":"Ada"}"#;

    let response = setup
        .patch(
            &[("_q", q), ("blocked", "false")],
            json!({"$set": {"name": "Ada L."}}),
        )
        .await;

    assert_eq!(response.status(), 200);
    let calls = setup.journal.calls();
    assert_eq!(calls[0].q(), json!({"name": "Ada"}));
    let cas = json!({"$and": [{"name": "Ada"}, {"updatedAt": UPDATED_AT}]});
    assert_eq!(calls[1].q(), cas);
    assert_eq!(calls[1].query("blocked").as_deref(), Some("false"));
}
