//! The read routes of `/users` (list, count, export, one user) through the running service,
//! against a wiremock CRUD Service and Auth0 Client: exact downstream calls, ACL headers,
//! query and `acl_rows` validation before any call, failure statuses and `CONFIGURATION_PATH`
//! enrichment.

mod count_export;
mod empty_parameters;
mod enrichment;
mod get;
mod list;
mod projection_schema;
mod validation;

use wiremock::Request;

use crate::helpers::{assert_error, header_of, mount, only_request, pairs, query_pairs, received, TestApp};

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

/// The decoded query pairs of a request, sorted (the adapter uses its own stable order).
fn sorted_query(request: &Request) -> Vec<(String, String)> {
    let mut pairs = query_pairs(request);
    pairs.sort();
    pairs
}

/// Sorted owned pairs, to compare with [`sorted_query`].
fn sorted_pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut sorted = pairs(items);
    sorted.sort();
    sorted
}

/// Asserts the CRUD Service received one request, whose query is `query` (in any order);
/// returns it.
async fn assert_crud_query(app: &TestApp, query: &[(&str, &str)]) -> Request {
    let request = only_request(app.crud()).await;
    assert_eq!(sorted_query(&request), sorted_pairs(query));
    request
}

/// Asserts `GET {route}` with `query` is a 400 whose message contains `message`, and that the
/// CRUD Service was not called.
async fn assert_refused_before_the_crud(app: &TestApp, route: &str, query: &[(&str, &str)], message: &str) {
    let response = get_query(app, route, query).await;
    assert_error(response, 400, message).await;
    assert!(received(app.crud()).await.is_empty());
}

/// Asserts both ACL headers reached the CRUD Service.
fn assert_acl_forwarded(request: &Request) {
    assert_eq!(header_of(request, "acl_rows"), Some(ACL_ROWS));
    assert_eq!(header_of(request, "acl_read_columns"), Some(ACL_READ_COLUMNS));
}
