//! Tests: how a bulk activation deals with its provider — busy or failing, refusing every file,
//! a job resumed with a provider job already started, and the shapes of the errors body
//! (an array naming users by id or email, an object when nothing failed).

use serde_json::{json, Value};

use wiremock::MockServer;

use super::{activate, app, app_with, failure_codes, finished, id, linked, store_user};
use crate::helpers::{mount, ok_json};

fn email(i: usize) -> String {
    format!("p{i}@example.com")
}

fn users(n: usize) -> Vec<Value> {
    (0..n).map(|i| store_user(i, &email(i))).collect()
}

fn imports(app: &crate::helpers::TestApp) -> usize {
    let requests = app.auth_fake().requests();
    requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/users/import")
        .count()
}

#[tokio::test]
async fn a_busy_or_failing_provider_is_retried_until_the_file_is_started() {
    for status in [429, 503] {
        let app = app(users(3)).await;
        app.auth_fake().fail_next("POST", "/users/import", status, 2);
        let ids: Vec<String> = (0..3).map(id).collect();

        let report = activate(&app, "", &ids).await;

        assert_eq!(report["status"], "completed", "{status}: {report}");
        assert_eq!(report["summary"]["inserted"], 3, "{status}");
        assert_eq!(imports(&app), 3, "{status}: two refused, one started");
        assert!(ids.iter().all(|i| linked(&app, i).is_some()));
    }
}

#[tokio::test]
async fn a_provider_refusing_every_file_fails_the_job_and_every_user() {
    let app = app(users(3)).await;
    app.auth_fake().fail_next("POST", "/users/import", 400, 10);
    let ids = vec![id(0), id(1), id(2), id(7)];

    let report = activate(&app, "", &ids).await;

    assert_eq!(report["status"], "failed");
    let mut expected: Vec<(String, String)> = (0..3).map(|i| (id(i), "IMPORT_REJECTED".to_owned())).collect();
    expected.push((id(7), "USER_NOT_FOUND".to_owned()));
    assert_eq!(failure_codes(&report), expected);
    assert_eq!(
        report["summary"],
        json!({"inserted": 0, "updated": 0, "failed": 4, "total": 4})
    );
    assert!(ids.iter().all(|i| linked(&app, i).is_none()));
}

#[tokio::test]
async fn a_resumed_job_polls_the_provider_job_it_had_started_instead_of_starting_another() {
    let app = app(users(2)).await;
    let ids = vec![id(0), id(1)];
    let started = import_directly(&app, &[0, 1], true).await;
    let file = json!({"userIds": ids, "bytes": 100, "state": "started", "providerJobId": started["id"]});
    let job = crashed_job(&app, &ids, true, file);

    let report = finished(&app, &job).await;

    assert_eq!(report["status"], "completed");
    assert_eq!(
        report["summary"],
        json!({"inserted": 2, "updated": 0, "failed": 0, "total": 2})
    );
    assert_eq!(imports(&app), 1, "only the import started before the crash");
    assert!(ids.iter().all(|i| linked(&app, i).is_some()));
}

#[tokio::test]
async fn a_job_resumed_while_sending_a_file_links_what_the_provider_took_and_sends_the_rest() {
    // The replica died after the provider accepted a file with user 0 but before the job id was
    // saved: the job says `sending`. The provider has user 0 under the id the job gives it.
    let app = app(users(2)).await;
    let ids = vec![id(0), id(1)];
    import_directly(&app, &[0], false).await;
    let imported = format!("{}/users/auth0%7C{}", app.auth_fake().uri(), id(0));
    for _ in 0..100 {
        if app.client.get(&imported).send().await.unwrap().status() == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let job = crashed_job(
        &app,
        &ids,
        false,
        json!({"userIds": ids, "bytes": 100, "state": "sending"}),
    );

    let report = finished(&app, &job).await;

    assert_eq!(report["status"], "completed", "{report}");
    assert_eq!(
        failure_codes(&report),
        [],
        "no DUPLICATED_USER for the user the provider took"
    );
    assert_eq!(
        imports(&app),
        2,
        "the crashed import, then one file with user 1 only"
    );
    assert!(ids.iter().all(|i| linked(&app, i).is_some()));
}

/// Imports the users `indexes` straight into the Auth0 fake (as a crashed run had); its answer.
async fn import_directly(app: &crate::helpers::TestApp, indexes: &[usize], upsert: bool) -> Value {
    let records: Vec<Value> = indexes
        .iter()
        .map(|&i| json!({"user_id": id(i), "email": email(i), "blocked": false, "email_verified": false}))
        .collect();
    let file = reqwest::multipart::Part::bytes(serde_json::to_vec(&records).unwrap()).file_name("users.json");
    let form = reqwest::multipart::Form::new()
        .part("users", file)
        .text("upsert", upsert.to_string());
    let response = app
        .client
        .post(format!("{}/users/import", app.auth_fake().uri()))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    response.json().await.unwrap()
}

/// A running bulk-activation job of `ids` whose replica died with its one `file` as given.
fn crashed_job(app: &crate::helpers::TestApp, ids: &[String], upsert: bool, file: Value) -> String {
    let total = ids.len();
    app.crud_fake()
        .state()
        .insert_raw(
            "/jobs",
            json!({"kind": "bulk-activation", "status": "running", "jobCreatedAt": "2024-01-01T00:00:00.000Z",
                   "input": {"userIds": ids, "upsert": upsert},
                   "result": {"planned": total, "files": [file]},
                   "progress": {"processed": 0, "total": total}, "leaseOwner": "crashed", "leaseUntil": 0,
                   "__STATE__": "PUBLIC"}),
        )
        .unwrap()
}

/// The service on the CRUD fake with a wiremock Auth0 Client whose one import job completes
/// with `summary` and answers `errors` on its errors route; `GET /users` answers `auth_users`.
async fn app_on_mock_provider(
    summary: Value,
    errors: Value,
    auth_users: Value,
) -> (crate::helpers::TestApp, MockServer) {
    let provider = MockServer::start().await;
    let job = json!({"id": "job_1", "status": "pending", "type": "users_import"});
    let routes = [
        ("POST", "/users/import", job),
        (
            "GET",
            "/users/import/status/job_1",
            json!({"id": "job_1", "status": "completed", "summary": summary}),
        ),
        ("GET", "/users/import/status/job_1/errors", errors),
        ("GET", "/users", auth_users),
    ];
    for (verb, route, answer) in routes {
        mount(&provider, verb, route, ok_json(answer)).await;
    }
    let uri = provider.uri();
    (
        app_with(users(3), &[("AUTH_SERVICE", uri.as_str())]).await,
        provider,
    )
}

fn ids() -> Vec<String> {
    (0..3).map(id).collect()
}

#[tokio::test]
async fn an_errors_array_is_mapped_to_users_by_prefixed_user_id_or_by_email() {
    let errors = json!([
        {"user": {"user_id": format!("auth0|{}", id(0))}, "errors": [{"code": "PATTERN", "message": "bad", "path": "x"}]},
        {"user": {"email": email(1).to_uppercase()}, "errors": [{"code": "CONFLICT_EMAIL", "message": "taken"}]},
    ]);
    let summary = json!({"inserted": 1, "updated": 0, "failed": 2, "total": 3});
    let (app, _provider) = app_on_mock_provider(summary, errors, json!([])).await;

    let report = activate(&app, "", &ids()).await;

    let expected = [(id(0), "PATTERN"), (id(1), "CONFLICT_EMAIL")].map(|(i, c)| (i, c.to_owned()));
    assert_eq!(failure_codes(&report), expected);
    assert_eq!(
        report["failures"][1]["errors"],
        json!([{"code": "CONFLICT_EMAIL", "message": "taken"}])
    );
    assert_eq!(
        report["summary"],
        json!({"inserted": 1, "updated": 0, "failed": 2, "total": 3})
    );
    assert_eq!(linked(&app, &id(2)), Some(format!("auth0|{}", id(2))));
    assert_eq!(linked(&app, &id(0)), None);
}

#[tokio::test]
async fn an_errors_object_means_no_failure_and_every_user_is_linked() {
    let summary = json!({"inserted": 3, "updated": 0, "failed": 0, "total": 3});
    let (app, _provider) = app_on_mock_provider(summary, json!({"status": "completed"}), json!([])).await;

    let report = activate(&app, "", &ids()).await;

    assert_eq!(report["status"], "completed");
    assert_eq!(report["failures"], json!([]));
    assert!(ids().iter().all(|i| linked(&app, i).is_some()));
}

#[tokio::test]
async fn a_failure_naming_no_user_links_only_the_users_the_provider_has() {
    let errors = json!([{"user": {}, "errors": [{"code": "FORMAT", "message": "bad"}]}]);
    let summary = json!({"inserted": 2, "updated": 0, "failed": 1, "total": 3});
    let present: Value = [0, 2]
        .iter()
        .map(|&i| json!({"user_id": format!("auth0|{}", id(i)), "email": email(i)}))
        .collect();
    let (app, _provider) = app_on_mock_provider(summary, errors, present).await;

    let report = activate(&app, "", &ids()).await;

    assert_eq!(failure_codes(&report), [(id(1), "IMPORT_FAILED".to_owned())]);
    assert_eq!(linked(&app, &id(1)), None);
    assert!(linked(&app, &id(0)).is_some() && linked(&app, &id(2)).is_some());
}
