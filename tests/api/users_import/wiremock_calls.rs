//! The exact store calls of an import against wiremock: batches of `USER_IMPORT_BATCH_SIZE`,
//! typed bulk bodies, the lookups, 413 over `IMPORT_MAX_FILE_BYTES`, and a store outage or
//! timeout mid-import.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{json, Value};

use wiremock::{Request, Respond, ResponseTemplate};

use super::{import_report, ALL_STATES};
use crate::helpers::{given, json_body, mount, ok_json, query_param, received, TestApp};

/// The service with the `customer` group loaded, and `vars`.
pub(super) async fn app_with(vars: &[(&str, &str)]) -> TestApp {
    let app = TestApp::on_wiremock()
        .with_env(vars)
        .with_customer_group()
        .start()
        .await;
    for _ in 0..40 {
        // A row of an unknown group: 200 once the groups are readable, never a store write.
        let probe = app.import_csv("userGroup\n__probe__\n", &[]).await;
        if probe.status() == 200 {
            return app;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the service never loaded the group config");
}

/// Answers a `POST /users/bulk` with one new id per document: `id-1`, `id-2`, ...
pub(super) struct NewIds(pub AtomicUsize);

impl Respond for NewIds {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let docs: Vec<Value> = serde_json::from_slice(&request.body).unwrap();
        let ids: Vec<Value> = docs
            .iter()
            .map(|_| json!({"_id": format!("id-{}", self.0.fetch_add(1, Ordering::SeqCst) + 1)}))
            .collect();
        ok_json(ids)
    }
}

/// The requests to the users collection (group-config reads and job polls left out).
pub(super) async fn store_calls(app: &TestApp) -> Vec<Request> {
    let requests = received(app.crud()).await;
    requests
        .into_iter()
        .filter(|r| r.url.path().starts_with("/users"))
        .collect()
}

pub(super) fn line(request: &Request) -> String {
    format!("{} {}", request.method, request.url.path())
}

const FIVE_ROWS: &str = "userGroup,name,email,age,roles\n\
customer,Ann,ann@example.com,31,\"[admin, editor]\"\n\
customer,Bob,bob@example.com,42,viewer\n\
customer,Cid,cid@example.com,,[]\n\
customer,Dee,dee@example.com,7,\n\
customer,Eve,eve@example.com,55,[ops]\n";

#[tokio::test]
async fn five_new_rows_are_inserted_in_three_bulk_calls_with_typed_values_and_public_state() {
    let app = app_with(&[("USER_IMPORT_BATCH_SIZE", "2")]).await;
    mount(app.crud(), "GET", "/users/", ok_json(json!([]))).await;
    mount(app.crud(), "POST", "/users/bulk", NewIds(AtomicUsize::new(0))).await;

    let (status, report) = import_report(&app, FIVE_ROWS, &[]).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report,
        json!({"inserted": ["id-1", "id-2", "id-3", "id-4", "id-5"], "updated": [], "invalid": []})
    );
    let calls = store_calls(&app).await;
    let lines: Vec<String> = calls.iter().map(line).collect();
    assert_eq!(lines, ["GET /users/", "POST /users/bulk"].repeat(3));
    let user = |name: &str, extra: Value| {
        let mut doc = json!({
            "userGroup": "customer", "name": name,
            "email": format!("{}@example.com", name.to_lowercase()), "__STATE__": "PUBLIC"
        });
        doc.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        doc
    };
    assert_eq!(
        json_body(&calls[1]),
        json!([
            user("Ann", json!({"age": 31, "roles": ["admin", "editor"]})),
            user("Bob", json!({"age": 42, "roles": ["viewer"]}))
        ])
    );
    assert_eq!(
        json_body(&calls[3]),
        json!([user("Cid", json!({"roles": []})), user("Dee", json!({"age": 7}))])
    );
    assert_eq!(
        json_body(&calls[5]),
        json!([user("Eve", json!({"age": 55, "roles": ["ops"]}))])
    );
    // One lookup of the batch's emails before each insert, in every state.
    let q: Value = serde_json::from_str(&query_param(&calls[0], "_q").unwrap()).unwrap();
    assert_eq!(
        q,
        json!({"email": {"$in": ["ann@example.com", "bob@example.com"]}})
    );
    assert_eq!(query_param(&calls[0], "_st").as_deref(), Some(ALL_STATES));
    assert_eq!(query_param(&calls[0], "_p").as_deref(), Some("email,username"));
    assert_eq!(query_param(&calls[0], "_l").as_deref(), Some("200"));
}

#[tokio::test]
async fn rows_with_an_id_are_patched_in_bulk_calls_with_a_set_of_their_fields() {
    let app = app_with(&[("USER_IMPORT_BATCH_SIZE", "2")]).await;
    let owner = json!([{"_id": "u1", "email": "ann@example.com", "updatedAt": "2024-05-01T10:00:00.000Z"}]);
    mount(app.crud(), "GET", "/users/", ok_json(owner)).await;
    mount(app.crud(), "PATCH", "/users/bulk", ok_json(json!(2))).await;
    let csv = "_id,userGroup,age,email,username\nu1,customer,32,ann@example.com,ann\nu2,customer,43,,\n";

    let (status, report) = import_report(&app, csv, &[]).await;

    assert_eq!(status, 200, "{report}");
    // u1 keeps its own email: not a duplicate.
    assert_eq!(
        report,
        json!({"inserted": [], "updated": ["u1", "u2"], "invalid": []})
    );
    let calls = store_calls(&app).await;
    let lines: Vec<String> = calls.iter().map(line).collect();
    // One lookup per unique field; one of the users whose login fields the rows set, found
    // unlinked (nothing to sync); the bulk patch of the row that sets none of them, then the
    // bulk patch of u1's, conditional on the `updatedAt` the lookup read.
    assert_eq!(
        lines,
        [
            "GET /users/",
            "GET /users/",
            "GET /users/",
            "PATCH /users/bulk",
            "PATCH /users/bulk"
        ]
    );
    let q = |i: usize| serde_json::from_str::<Value>(&query_param(&calls[i], "_q").unwrap()).unwrap();
    assert_eq!(q(0), json!({"email": {"$in": ["ann@example.com"]}}));
    assert_eq!(q(1), json!({"username": {"$in": ["ann"]}}));
    assert_eq!(q(2), json!({"_id": {"$in": ["u1"]}}));
    assert_eq!(
        json_body(&calls[3]),
        json!([
            {"filter": {"_id": "u2", "_st": ALL_STATES}, "update": {"$set": {"userGroup": "customer", "age": 43}}}
        ])
    );
    let cas = serde_json::to_string(&json!({"updatedAt": "2024-05-01T10:00:00.000Z"})).unwrap();
    assert_eq!(
        json_body(&calls[4]),
        json!([
            {
                "filter": {"_id": "u1", "_st": ALL_STATES, "_q": cas},
                "update": {"$set": {"userGroup": "customer", "age": 32, "email": "ann@example.com", "username": "ann"}}
            }
        ])
    );
}

#[tokio::test]
async fn an_update_of_a_missing_user_that_is_no_whole_user_is_found_with_one_lookup_of_the_ids_and_reported()
{
    let app = app_with(&[("USER_IMPORT_BATCH_SIZE", "2")]).await;
    mount(app.crud(), "PATCH", "/users/bulk", ok_json(json!(1))).await;
    let found = json!([{"_id": "u1"}]);
    mount(app.crud(), "GET", "/users/", ok_json(found)).await;
    // u2 has no name, which the customer schema requires of a new user: it cannot be upserted.
    let csv = "_id,userGroup,age\nu1,customer,32\nu2,customer,43\n";

    let (status, report) = import_report(&app, csv, &[]).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (&report["inserted"], &report["updated"]),
        (&json!([]), &json!(["u1"]))
    );
    assert_eq!(report["invalid"].as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(report["invalid"][0]["row"], 2);
    let error = report["invalid"][0]["error"].as_str().unwrap();
    assert!(
        error.starts_with(
            "no user with _id \"u2\", and the row cannot create one: \
             does not match the schema of group \"customer\": "
        ),
        "{error}"
    );
    assert!(error.contains("\"name\" is a required property"), "{error}");
    let calls = store_calls(&app).await;
    let lines: Vec<String> = calls.iter().map(line).collect();
    assert_eq!(lines, ["PATCH /users/bulk", "GET /users/"]);
    let q: Value = serde_json::from_str(&query_param(&calls[1], "_q").unwrap()).unwrap();
    assert_eq!(q, json!({"_id": {"$in": ["u1", "u2"]}}));
    assert_eq!(query_param(&calls[1], "_st").as_deref(), Some(ALL_STATES));
    assert_eq!(query_param(&calls[1], "_p").as_deref(), Some("_id"));
}

#[tokio::test]
async fn a_file_over_import_max_file_bytes_is_refused_with_413_and_nothing_is_written() {
    let app = app_with(&[("IMPORT_MAX_FILE_BYTES", "100")]).await;

    let (status, error) = import_report(&app, FIVE_ROWS, &[]).await;

    assert_eq!(status, 413);
    assert_eq!(
        error,
        json!({
            "statusCode": 413, "error": "Payload Too Large",
            "message": "the file is larger than IMPORT_MAX_FILE_BYTES (100 bytes): import stopped; 0 rows were written"
        })
    );
    assert!(store_calls(&app).await.is_empty());
}

#[tokio::test]
async fn a_file_just_under_import_max_file_bytes_is_imported() {
    let app = app_with(&[("IMPORT_MAX_FILE_BYTES", "100")]).await;
    mount(app.crud(), "GET", "/users/", ok_json(json!([]))).await;
    mount(app.crud(), "POST", "/users/bulk", NewIds(AtomicUsize::new(0))).await;
    let csv = "userGroup,name\ncustomer,Ann\n";

    let (status, report) = import_report(&app, csv, &[]).await;

    assert_eq!((status, report["inserted"].clone()), (200, json!(["id-1"])));
}

#[tokio::test]
async fn a_store_outage_mid_import_stops_it_with_502_saying_how_many_rows_were_written() {
    let app = app_with(&[("USER_IMPORT_BATCH_SIZE", "2")]).await;
    mount(app.crud(), "GET", "/users/", ok_json(json!([]))).await;
    given("POST", "/users/bulk")
        .respond_with(NewIds(AtomicUsize::new(0)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(app.crud())
        .await;
    mount(app.crud(), "POST", "/users/bulk", ResponseTemplate::new(500)).await;

    let (status, error) = import_report(&app, FIVE_ROWS, &[]).await;

    assert_eq!(status, 502);
    assert_eq!(
        error["message"],
        "import stopped at row 3: CRUD POST /users/bulk responded 500; 2 rows were written"
    );
    assert_eq!(error["error"], "Bad Gateway");
    // Nothing after the failure: the third batch is never sent.
    let posts = store_calls(&app)
        .await
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 2);
}

#[tokio::test]
async fn a_store_timeout_mid_import_stops_it_with_504() {
    let app = app_with(&[]).await;
    mount(app.crud(), "GET", "/users/", ok_json(json!([]))).await;
    let slow = ResponseTemplate::new(200)
        .set_body_json(json!([]))
        .set_delay(Duration::from_secs(2));
    mount(app.crud(), "POST", "/users/bulk", slow).await;

    let (status, error) = import_report(&app, FIVE_ROWS, &[]).await;

    assert_eq!(status, 504);
    assert_eq!(
        error["message"],
        "import stopped at row 1: CRUD POST /users/bulk timed out; 0 rows were written"
    );
}
