//! The read routes of `/users` (list, count, export, one user) through the running service,
//! against a wiremock CRUD Service and Auth0 Client: exact downstream calls, ACL headers,
//! query and `acl_rows` validation before any call, failure statuses and `CONFIGURATION_PATH`
//! enrichment.

mod count_export;
mod empty_parameters;
mod enrichment;
mod get;
mod list;
mod validation;

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::TestApp;

const ACL_ROWS: &str = r#"{"tenantId":"t1"}"#;
const ACL_READ_COLUMNS: &str = "_id,name,authUserId";

/// `GET {path}` on the service with `pairs` as the (encoded) query string.
async fn get_query(app: &TestApp, route: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .get(app.url(route))
        .query(pairs)
        .send()
        .await
        .expect("request failed")
}

/// `GET {path}` with both ACL headers set.
async fn get_with_acl(app: &TestApp, route: &str) -> reqwest::Response {
    app.client
        .get(app.url(route))
        .header("acl_rows", ACL_ROWS)
        .header("acl_read_columns", ACL_READ_COLUMNS)
        .send()
        .await
        .expect("request failed")
}

/// Answers `GET {route}` on `server` with `response`.
async fn mount_get(server: &MockServer, route: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(response)
        .mount(server)
        .await;
}

/// The requests `server` received, less the group-config reads the service makes on its own
/// (startup load of the group schemas).
async fn received(server: &MockServer) -> Vec<Request> {
    let requests = server.received_requests().await.expect("request recording is on");
    requests
        .into_iter()
        .filter(|r| !r.url.path().starts_with("/ums-config"))
        .collect()
}

/// The one request `server` received.
async fn only_request(server: &MockServer) -> Request {
    let mut requests = received(server).await;
    assert_eq!(requests.len(), 1, "exactly one downstream call");
    requests.remove(0)
}

/// The decoded query pairs of a request, sorted (the adapter uses its own stable order).
fn query_pairs(request: &Request) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
    pairs.sort();
    pairs
}

/// Sorted owned pairs, to compare with [`query_pairs`].
fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    pairs.sort();
    pairs
}

/// A header of a received request, as text.
fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .headers
        .get(name)
        .map(|v| v.to_str().expect("text header"))
}

/// Asserts both ACL headers reached the CRUD Service.
fn assert_acl_forwarded(request: &Request) {
    assert_eq!(header(request, "acl_rows"), Some(ACL_ROWS));
    assert_eq!(header(request, "acl_read_columns"), Some(ACL_READ_COLUMNS));
}

/// Asserts a Mia error body with `status` whose message contains `message`.
async fn assert_error(response: reqwest::Response, status: u16, message: &str) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("JSON error body");
    assert_eq!(body["statusCode"], status);
    let text = body["message"].as_str().expect("a message");
    assert!(text.contains(message), "{text:?} should contain {message:?}");
}
