//! `_q` and `acl_rows` are checked by the service in CRUD mode as in embedded mode: what the store
//! would refuse is a 400 before any call reaches the CRUD Service; what it accepts (a `$regex`,
//! an `acl_rows` array, UTF-8 text) is forwarded unchanged.

use serde_json::{json, Value};
use wiremock::matchers::{method, path_regex};
use wiremock::Mock;

use super::{received, ACL_READ_COLUMNS};
use crate::helpers::{ok_json, TestApp};

/// The four read routes.
const ROUTES: [&str; 4] = [
    "/users/",
    "/users/count",
    "/users/export",
    "/users/665f00000000000000000001",
];

/// Mounts a CRUD `/users` route that must never be called.
async fn forbid_user_calls(app: &TestApp) {
    Mock::given(path_regex("^/users"))
        .respond_with(ok_json(json!([])))
        .expect(0)
        .named("no CRUD /users call")
        .mount(app.crud())
        .await;
}

/// The status and message of `GET route` with `query` and the `acl_rows` header when given.
async fn refusal(app: &TestApp, route: &str, q: Option<&str>, acl_rows: Option<&str>) -> (u16, String) {
    let mut request = app.client.get(app.url(route));
    if let Some(q) = q {
        request = request.query(&[("_q", q)]);
    }
    if let Some(rows) = acl_rows {
        request = request.header("acl_rows", rows);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["message"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_malformed_acl_rows_is_a_400_naming_the_header_before_any_crud_call() {
    let app = TestApp::on_wiremock().start().await;
    forbid_user_calls(&app).await;
    let malformed = [
        "{",
        "[1]",
        r#""tenant""#,
        r#"{"$nor":[{"a":1}]}"#,
        r#"{"name":{"$regex":"("}}"#,
        r#"[{"tenantId":"t1"},{"age":{"$in":3}}]"#,
    ];
    for route in ROUTES {
        for rows in malformed {
            let (status, message) = refusal(&app, route, None, Some(rows)).await;
            assert_eq!(status, 400, "{route} acl_rows={rows}: {message}");
            assert!(
                message.contains("acl_rows header"),
                "{route} acl_rows={rows}: {message}"
            );
        }
    }
    app.crud().verify().await;
}

#[tokio::test]
async fn an_invalid_q_is_a_400_before_any_crud_call() {
    let app = TestApp::on_wiremock().start().await;
    forbid_user_calls(&app).await;
    let invalid = [
        r#"{"name":{"$regex":"("}}"#,
        r#"{"name":{"$regex":"a","$options":"z"}}"#,
        r#"{"$nor":[{"a":1}]}"#,
        r#"{"age":{"$gt":1,"name":2}}"#,
    ];
    for route in ROUTES {
        for q in invalid {
            let (status, message) = refusal(&app, route, Some(q), None).await;
            assert_eq!(status, 400, "{route} _q={q}: {message}");
            assert!(message.starts_with("invalid _q: "), "{route} _q={q}: {message}");
        }
    }
    app.crud().verify().await;
}

#[tokio::test]
async fn a_valid_regex_and_valid_acl_rows_reach_the_crud_unchanged() {
    let app = TestApp::on_wiremock().start().await;
    let answers = [
        ("^/users/$", json!([])),
        ("^/users/count$", json!(0)),
        (
            "^/users/(export|665f00000000000000000001)$",
            json!({"_id": "665f00000000000000000001"}),
        ),
    ];
    for (route, answer) in answers {
        Mock::given(method("GET"))
            .and(path_regex(route))
            .respond_with(ok_json(answer))
            .mount(app.crud())
            .await;
    }
    let q = json!({"$or": [{"name": {"$regex": "^a\\.b(c|d)\\-e", "$options": "i"}}, {"age": {"$gte": 3}}]});
    let rows = r#"[{"tenantId":"t1"}, {"city": {"$regex": "^Zürich$"}}]"#;

    for route in ROUTES {
        let response = app
            .client
            .get(app.url(route))
            .query(&[("_q", q.to_string())])
            .header(
                "acl_rows",
                reqwest::header::HeaderValue::from_bytes(rows.as_bytes()).unwrap(),
            )
            .header("acl_read_columns", ACL_READ_COLUMNS)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "{route}: {}",
            response.text().await.unwrap()
        );
    }
    let requests = received(app.crud()).await;
    assert_eq!(requests.len(), ROUTES.len());
    for request in requests {
        let sent: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let forwarded_q = sent.iter().find(|(k, _)| k == "_q").map(|(_, v)| v.as_str());
        let forwarded_q: Value = serde_json::from_str(forwarded_q.unwrap()).unwrap();
        assert_eq!(forwarded_q, q, "{}", request.url);
        let forwarded_rows = request.headers.get("acl_rows").map(|v| v.as_bytes());
        assert_eq!(forwarded_rows, Some(rows.as_bytes()), "{}", request.url);
    }
}

#[tokio::test]
async fn the_embedded_mode_answers_the_same_400s() {
    let crud_app = TestApp::on_wiremock().start().await;
    forbid_user_calls(&crud_app).await;
    let dir = crate::helpers::temp_data_dir();
    let embedded = TestApp::embedded(&dir).start().await;
    let embedded_get = |q: Option<&str>, rows: Option<&str>| {
        let mut request = embedded.client.get(embedded.url("/users/"));
        if let Some(q) = q {
            request = request.query(&[("_q", q)]);
        }
        if let Some(rows) = rows {
            request = request.header("acl_rows", rows);
        }
        request.send()
    };
    let cases = [
        (Some(r#"{"name":{"$regex":"("}}"#), None),
        (None, Some("{")),
        (None, Some(r#"{"$nor":[{"a":1}]}"#)),
    ];
    for (q, rows) in cases {
        let expected = refusal(&crud_app, "/users/", q, rows).await;
        let response = embedded_get(q, rows).await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!((status, body["message"].as_str().unwrap().to_owned()), expected);
    }
    crud_app.crud().verify().await;
    embedded.shutdown.cancel();
    let _ = std::fs::remove_dir_all(dir);
}
