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

use crate::helpers::{error_of, header_of, mount, only_request, pairs, query_pairs, received};

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
