//! The wiremock helpers the test modules share: mounting an answer on a server, the requests a
//! server received (less the service's own group-config reads), and reading one request (JSON
//! body, query, headers).

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, Respond, ResponseTemplate};

/// A mock of `{verb} {route}`, to add matchers to before answering.
pub fn given(verb: &str, route: impl Into<String>) -> MockBuilder {
    Mock::given(method(verb)).and(path(route))
}

/// Answers `{verb} {route}` on `server` with `answer` (a `ResponseTemplate` or any responder).
pub async fn mount(
    server: &MockServer,
    verb: &str,
    route: impl Into<String>,
    answer: impl Respond + 'static,
) {
    given(verb, route).respond_with(answer).mount(server).await;
}

/// Like [`mount`], expecting exactly one such call (checked when `server` is dropped).
pub async fn mount_once(
    server: &MockServer,
    verb: &str,
    route: impl Into<String>,
    answer: impl Respond + 'static,
) {
    given(verb, route)
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

/// Answers every `verb` request on `server`, whatever its path, with `answer`.
pub async fn mount_any(server: &MockServer, verb: &str, answer: impl Respond + 'static) {
    Mock::given(method(verb)).respond_with(answer).mount(server).await;
}

/// A 200 answer with a JSON body.
pub fn ok_json(body: impl serde::Serialize) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// The requests `server` received, less the group-config reads (`/ums-config`) the service
/// makes on its own.
pub async fn received(server: &MockServer) -> Vec<Request> {
    let requests = server.received_requests().await.expect("request recording is on");
    requests
        .into_iter()
        .filter(|r| !r.url.path().starts_with("/ums-config"))
        .collect()
}

/// The one request `server` received (group-config reads aside).
pub async fn only_request(server: &MockServer) -> Request {
    let mut requests = received(server).await;
    let calls: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.url))
        .collect();
    assert_eq!(requests.len(), 1, "exactly one downstream call: {calls:?}");
    requests.remove(0)
}

/// The requests `server` received with `verb` on `route`.
pub async fn requests_to(server: &MockServer, verb: &str, route: &str) -> Vec<Request> {
    let requests = received(server).await;
    requests
        .into_iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == route)
        .collect()
}

/// The one request `server` received with `verb` on `route`.
pub async fn only_request_to(server: &MockServer, verb: &str, route: &str) -> Request {
    let mut requests = requests_to(server, verb, route).await;
    assert_eq!(requests.len(), 1, "exactly one {verb} {route}");
    requests.remove(0)
}

/// The JSON body of a request.
pub fn json_body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).expect("a JSON body")
}

/// The decoded value of query parameter `name` of a request, if any.
pub fn query_param(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The decoded query pairs of a request, in order.
pub fn query_pairs(request: &Request) -> Vec<(String, String)> {
    request.url.query_pairs().into_owned().collect()
}

/// Owned pairs, to compare with [`query_pairs`].
pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Value of header `name` of a request, if any (and text).
pub fn header_of<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

/// A webhook that accepts every reset token the local provider delivers (`204`), and the URL to
/// set as `PASSWORD_RESET_WEBHOOK_URL`; keep the server alive as long as the app.
pub async fn reset_hook() -> (MockServer, String) {
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&hook)
        .await;
    let url = format!("{}/hook", hook.uri());
    (hook, url)
}
