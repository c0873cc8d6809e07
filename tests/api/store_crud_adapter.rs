//! The CRUD Service adapter (`CrudCollection`) against a wiremock CRUD Service: exact method,
//! path, query, body and headers of every `Collection` call, and how each failure is classified.

mod failures;
mod reads;
mod writes;

use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::{json, Value};
use user_manager_service::context::{Acl, CallContext, SessionHeaders};
use user_manager_service::downstream::build_http_client;
use user_manager_service::secret::Secret;
use user_manager_service::store::crud_http::CrudCollection;
use user_manager_service::store::{DocState, Filter, FindQuery, StateFilter};

use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{mount_once, ok_json, only_request, query_pairs};

/// The client timeout of every test; `SLOW` answers later than that.
const TIMEOUT: Duration = Duration::from_millis(200);
const SLOW: Duration = Duration::from_millis(1_000);

/// A wiremock CRUD Service, an adapter on its `/users` collection, and a request context.
async fn setup() -> (MockServer, CrudCollection, CallContext) {
    let server = MockServer::start().await;
    let client = build_http_client(TIMEOUT).expect("http client");
    let crud = CrudCollection::new(client, &server.uri(), "/users").with_response_timeout(TIMEOUT);
    (server, crud, context())
}

/// A context with forwarded headers, both ACL headers and session credentials.
fn context() -> CallContext {
    let mut forward = HeaderMap::new();
    forward.insert("miauserid", "user-1".parse().expect("header"));
    forward.insert("x-request-id", "req-1".parse().expect("header"));
    CallContext {
        forward,
        acl: Acl {
            rows: Some(r#"[{"tenantId":"t1"}]"#.to_owned()),
            read_columns: Some("name,email".to_owned()),
            ..Acl::default()
        },
        session: SessionHeaders {
            authorization: Some(Secret::new("Bearer secret-token")),
            cookie: Some(Secret::new("sid=secret-cookie")),
            client_key: Some(Secret::new("secret-key")),
        },
        request_id: "req-1".to_owned(),
        actor: Some("user-1".to_owned()),
        timer_headers: Vec::new(),
        ..CallContext::default()
    }
}

/// A filter with every input set.
fn filter() -> Filter {
    Filter {
        q: Some(json!({"version": 3})),
        state: Some(StateFilter(vec![DocState::Public, DocState::Draft])),
        fields: vec![("blocked".to_owned(), "false".to_owned())],
        id: Some("665f00000000000000000001".to_owned()),
    }
}

/// A list query with a filter, projection, sort and paging.
fn find_query() -> FindQuery {
    FindQuery {
        filter: filter(),
        projection: Some(vec!["name".to_owned(), "email".to_owned()]),
        raw_projection: None,
        sort: Some("-createdAt".to_owned()),
        limit: Some(10),
        skip: Some(20),
    }
}

/// `filter()` on the wire, with or without `_st` and `_id`.
fn filter_pairs(with_state: bool, with_id: bool) -> Vec<(String, String)> {
    let mut pairs = vec![pair("_q", r#"{"version":3}"#)];
    if with_state {
        pairs.push(pair("_st", "PUBLIC,DRAFT"));
    }
    if with_id {
        pairs.push(pair("_id", "665f00000000000000000001"));
    }
    pairs.push(pair("blocked", "false"));
    pairs
}

/// `find_query()` on the wire.
fn find_query_pairs() -> Vec<(String, String)> {
    let mut pairs = filter_pairs(true, true);
    pairs.extend([
        pair("_p", "name,email"),
        pair("_s", "-createdAt"),
        pair("_l", "10"),
        pair("_sk", "20"),
    ]);
    pairs
}

fn pair(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

/// Answers every request with `response`.
async fn answer_any(server: &MockServer, response: ResponseTemplate) {
    Mock::given(wiremock::matchers::any())
        .respond_with(response)
        .mount(server)
        .await;
}

/// The JSON body of a request, which must say it is JSON.
fn body(request: &Request) -> Value {
    let content_type = request.headers.get("content-type").expect("a content-type");
    assert_eq!(content_type, "application/json");
    request.body_json().expect("a JSON body")
}

/// Which ACL headers a request must carry.
#[derive(Clone, Copy, PartialEq)]
enum AclSent {
    Both,
    ReadColumnsOnly,
    Neither,
}

/// Forwarded headers arrive, session credentials never do, ACL headers only as `acl` says.
fn assert_headers(request: &Request, acl: AclSent) {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .map(|v| v.to_str().expect("ascii").to_owned())
    };
    assert_eq!(header("miauserid").as_deref(), Some("user-1"));
    assert_eq!(header("x-request-id").as_deref(), Some("req-1"));
    for secret in ["authorization", "cookie", "client-key"] {
        assert_eq!(header(secret), None, "{secret} must never reach the CRUD Service");
    }
    let rows = (acl == AclSent::Both).then(|| r#"[{"tenantId":"t1"}]"#.to_owned());
    let columns = (acl != AclSent::Neither).then(|| "name,email".to_owned());
    assert_eq!(header("acl_rows"), rows);
    assert_eq!(header("acl_read_columns"), columns);
}
