//! The session routes (`POST /oauth/token`, `POST /refreshtoken`, `GET /userinfo`,
//! `POST /users/change-password`) through the running service: the exact Auth0 Client and CRUD
//! calls against wiremock, the headers forwarded and withheld, the error mapping, the userinfo
//! merge, and end-to-end flows on the CRUD Service and Auth0 Client fakes.

mod login;
mod on_fakes;
mod refresh;
mod userinfo;
mod userinfo_headers;

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::TestApp;

/// `ADDITIONAL_HEADERS_TO_PROXY` of the Mia catalog UMS (without `host`): it names the session
/// headers and `acl_rows`, which the service must still withhold where the contract says so.
const CATALOG_PROXY: &str =
    "acl_rows,x-request-id,request-id,cookie,authorization,client-type,x-forwarded-host";

/// Longer than the `DOWNSTREAM_TIMEOUT_MS` (500 ms) of `TestApp::on_wiremock()`.
const SLOW: Duration = Duration::from_secs(2);

/// A token body as the Auth0 Client answers it, with a property the service does not know.
fn tokens() -> Value {
    json!({
        "accessToken": "at-1",
        "refreshToken": "rt-1",
        "idToken": "it-1",
        "expireAt": "2021-07-16T08:28:24.568Z",
        "extra": {"kept": true}
    })
}

/// Answers `{verb} {route}` on `server` with `answer`.
async fn mount(server: &MockServer, verb: &str, route: &str, answer: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(answer)
        .mount(server)
        .await;
}

/// The requests `server` received, less the group-config reads of the service's startup.
async fn received(server: &MockServer) -> Vec<Request> {
    let requests = server.received_requests().await.expect("request recording is on");
    requests
        .into_iter()
        .filter(|r| !r.url.path().starts_with("/ums-config"))
        .collect()
}

/// The one request `server` received (group-config reads aside).
async fn only_request(server: &MockServer) -> Request {
    let mut requests = received(server).await;
    assert_eq!(requests.len(), 1, "exactly one downstream call");
    requests.remove(0)
}

/// Value of header `name` of `request`, if any.
fn header_of<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The decoded query pairs of `request`, in order.
fn query_of(request: &Request) -> Vec<(String, String)> {
    request.url.query_pairs().into_owned().collect()
}

/// Owned pairs, to compare with [`query_of`].
fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The body of an error answer, after checking its status.
async fn error_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("a JSON error body");
    assert_eq!(body["statusCode"], status, "{body}");
    body
}

/// `POST {route}` with a JSON body and extra headers.
async fn post_with(app: &TestApp, route: &str, body: &Value, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.post(app.url(route)).json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request failed")
}

/// `GET {route}` with extra headers.
async fn get_with(app: &TestApp, route: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.get(app.url(route));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request failed")
}
