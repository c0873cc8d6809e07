//! CRUD mode: records go to the CRUD collection of `AUDIT_CRUD_ENDPOINT`; without it they are
//! log lines (target `audit`) and `GET /audit` is a 501; a failing audit store fails no request.

use serde_json::{json, Value};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, ResponseTemplate};

use super::{of_action, records, the_record};
use crate::helpers::{assert_error, captured_logs, given, TestApp, TextField};

const PASSWORD: &str = "Crud-Audit-Secret-5521!";

#[tokio::test]
async fn records_go_to_the_audit_crud_endpoint_in_crud_mode() {
    // Arrange
    let app = TestApp::on_fakes()
        .with_customer_group()
        .with_env(&[("AUDIT_CRUD_ENDPOINT", "/audit")])
        .start()
        .await;
    let admin = [("miauserid", "ops-7")];

    // Act
    let ann =
        json!({"userGroup": "customer", "name": "Ann", "email": "ann@example.com", "password": PASSWORD});
    let created = app.post_with("/users/", &ann, &admin).await;
    assert_eq!(created.status(), 200);
    let id = created.text_field("_id").await;
    let user: Value = app.get(&format!("/users/{id}")).await.json().await.unwrap();
    let auth_id = user["authUserId"].as_str().unwrap().to_owned();
    let patched = app
        .patch_json(&format!("/users/{id}"), &json!({"$set": {"age": 3}}))
        .await;
    assert_eq!(patched.status(), 200);
    let bulk = app
        .post_with(
            "/jobs/change-password/bulk",
            &json!({"authUsersIds": [auth_id]}),
            &admin,
        )
        .await;
    assert_eq!(bulk.status(), 202);
    let job = bulk.text_field("jobId").await;
    let wrong = json!({"username": "ann@example.com", "password": "Wrong-Password-1"});
    let refused = app.post_json("/oauth/token", &wrong).await;
    assert!([401, 403].contains(&refused.status().as_u16()));
    assert_eq!(app.delete(&format!("/users/{id}")).await.status(), 204);

    // Assert: in the collection, and through GET /audit.
    let stored = app.crud_fake().state().documents("/audit");
    assert_eq!(stored.len(), 5, "{stored:#?}");
    let text = serde_json::to_string(&stored).unwrap();
    assert!(!text.contains(PASSWORD) && !text.contains("Wrong-Password-1"));
    let all = records(&app, "").await;
    let create = the_record(&all, "user.create", &id);
    assert_eq!(create["actor"], "ops-7");
    assert!(create["fields"].as_array().unwrap().contains(&json!("password")));
    assert_eq!(
        the_record(&all, "user.update", &id)["fields"],
        json!(["$set.age"])
    );
    assert_eq!(
        the_record(&all, "job.change_password.start", &job)["actor"],
        "ops-7"
    );
    let failure = the_record(&all, "login.failure", "ann@example.com");
    assert_eq!(failure["outcome"], "failure");
    assert_eq!(failure["fields"], json!(["username", "password"]));
    let delete = the_record(&all, "user.delete", &id);
    assert_eq!(
        (&delete["outcome"], &delete["status"]),
        (&json!("success"), &json!(204))
    );
    assert_eq!(of_action(&all, "user.delete").len(), 1);
}

#[tokio::test]
async fn without_audit_crud_endpoint_records_are_log_lines_and_get_audit_is_501() {
    // Arrange
    let app = TestApp::on_fakes().start().await;
    let group = json!({"userGroup": "logged-audit-group", "crudSchema": {"type": "object"}});

    // Act
    let created = app.post_with("/groups/", &group, &[("miauserid", "ops-8")]).await;
    assert_eq!(created.status(), 200);
    let read = app.get("/audit").await;

    // Assert
    let line = captured_logs()
        .into_iter()
        .find(|line| line["msg"] == "audit record" && line["target"] == "logged-audit-group")
        .expect("an audit log line");
    assert_eq!(line["action"], "group.create");
    assert_eq!(line["actor"], "ops-8");
    assert_eq!(line["fields"], "userGroup,crudSchema");
    assert_eq!(line["outcome"], "success");
    assert_error(read, 501, "AUDIT_CRUD_ENDPOINT").await;
    let doc: Value = app.get("/documentation/json").await.json().await.unwrap();
    assert!(
        doc["paths"].get("/audit").is_none(),
        "a 501 route is not documented"
    );
}

#[tokio::test]
async fn a_failing_audit_store_does_not_fail_the_request() {
    // Arrange: the audit collection answers 500 to every insert.
    let app = TestApp::on_wiremock()
        .with_env(&[("AUDIT_CRUD_ENDPOINT", "/audit")])
        .start()
        .await;
    Mock::given(method("POST"))
        .and(path_regex("^/audit"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(app.crud())
        .await;
    given("POST", "/change-password")
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(app.auth())
        .await;

    // Act
    let response = app
        .post_json("/users/change-password", &json!({"authUserId": "auth0|1"}))
        .await;

    // Assert
    assert_eq!(response.status(), 204);
    let metrics = app.get("/-/metrics").await.text().await.unwrap();
    assert!(metrics.contains("ums_audit_append_failures_total"), "{metrics}");
    let logged = captured_logs().into_iter().any(|line| {
        line["msg"] == "audit record not appended" && line["audit"]["action"] == "user.change_password"
    });
    assert!(logged, "the failed append is logged");
}

#[tokio::test]
async fn a_refused_login_is_a_failure_a_throttled_one_is_locked_and_a_successful_one_is_not_recorded() {
    // Arrange: the audit collection takes every insert; the provider refuses, throttles, accepts.
    let app = TestApp::on_wiremock()
        .with_env(&[("AUDIT_CRUD_ENDPOINT", "/audit")])
        .start()
        .await;
    Mock::given(method("POST"))
        .and(path_regex("^/audit"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"_id": "a1"})))
        .mount(app.crud())
        .await;
    let answers = [
        ResponseTemplate::new(403).set_body_json(json!({"message": "Wrong email or password."})),
        ResponseTemplate::new(429).insert_header("retry-after", "30"),
        ResponseTemplate::new(200)
            .set_body_json(json!({"accessToken": "a", "refreshToken": "r", "expireAt": 1})),
    ];
    let mut statuses = Vec::new();
    for (i, answer) in answers.into_iter().enumerate() {
        let mock = given("POST", "/oauth/token").respond_with(answer).expect(1);
        let _scoped = mock.mount_as_scoped(app.auth()).await;
        let login = json!({"username": format!("user-{i}@example.com"), "password": PASSWORD});
        statuses.push(app.post_json("/oauth/token", &login).await.status().as_u16());
    }

    // Assert
    assert_eq!(statuses, [403, 429, 200]);
    let inserts: Vec<Value> = app
        .crud()
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().starts_with("/audit"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let seen: Vec<(&str, &str)> = inserts
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["target"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("login.failure", "user-0@example.com"),
            ("login.locked", "user-1@example.com")
        ]
    );
    assert_eq!(inserts[1]["status"], 429);
    assert!(!serde_json::to_string(&inserts).unwrap().contains(PASSWORD));
}
