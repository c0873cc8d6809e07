//! Tests: the Auth0 Client adapter of the `AuthProvider` port against a wiremock Auth0 Client:
//! exact method, path, query, body and headers of every call, and how failures are classified.

mod headers;
mod import;
mod sessions;
pub mod support;
mod users;

use user_manager_service::auth::auth0_client::{Auth0Client, Auth0ClientConfig};
use user_manager_service::auth::{AuthUserPatch, NewAuthUser};
use user_manager_service::secret::Secret;
use wiremock::MockServer;

use support::{http_client, RELAXED};

/// The adapter with the default configuration, for `failure_cases!`.
pub fn adapter(client: reqwest::Client, base_url: String) -> Auth0Client {
    Auth0Client::new(client, Auth0ClientConfig::new(base_url))
}

/// A mock Auth0 Client and an adapter whose base URL ends with a slash; `configure` changes
/// the default configuration.
pub async fn setup(configure: impl FnOnce(&mut Auth0ClientConfig)) -> (MockServer, Auth0Client) {
    let server = MockServer::start().await;
    let mut config = Auth0ClientConfig::new(format!("{}/", server.uri()));
    configure(&mut config);
    let auth = Auth0Client::new(http_client(RELAXED), config);
    (server, auth)
}

/// A mock Auth0 Client and an adapter with the default configuration.
pub async fn default_setup() -> (MockServer, Auth0Client) {
    setup(|_| ()).await
}

/// A full new user.
pub fn new_user() -> NewAuthUser {
    NewAuthUser {
        user_id: Some("000000000000000000000001".into()),
        email: Some("ada@example.com".into()),
        username: Some("ada".into()),
        password: Secret::new("S3cret!pass"),
        blocked: false,
        send_email: true,
    }
}

/// A patch blocking the user.
pub fn block() -> AuthUserPatch {
    AuthUserPatch {
        blocked: Some(true),
        ..AuthUserPatch::default()
    }
}
