//! `TestApp`: one running service under test, whatever its mode, with its downstream services
//! (wiremock servers or fakes, behind accessors that say so when the mode has none), the HTTP
//! conveniences the tests share, and how it stops (dropping it cancels its shutdown token).

use std::time::Duration;

use reqwest::multipart::{Form, Part};

use tokio::task::{JoinError, JoinHandle};
use tokio::time::error::Elapsed;
use tokio_util::sync::CancellationToken;
use ums_fakes::auth0::RunningAuth0Fake;
use ums_fakes::crud::RunningCrudFake;
use wiremock::MockServer;

/// The wiremock servers of [`TestApp::on_wiremock`], one per downstream service.
pub(super) struct Mocks {
    pub crud: MockServer,
    pub auth: MockServer,
    pub rond: MockServer,
    pub timer: MockServer,
}

impl Mocks {
    pub async fn start() -> Self {
        let (crud, auth, rond, timer) = tokio::join!(
            MockServer::start(),
            MockServer::start(),
            MockServer::start(),
            MockServer::start()
        );
        Self {
            crud,
            auth,
            rond,
            timer,
        }
    }
}

/// The downstream services a [`TestApp`] owns.
pub(super) enum Downstream {
    Wiremock(Box<Mocks>),
    Fakes {
        crud: RunningCrudFake,
        auth: RunningAuth0Fake,
    },
    /// Embedded mode, or a replica on another app's fakes.
    None,
}

/// What awaiting the server task of a stopped app gave: `Ok(Ok(Ok(())))` when it stopped cleanly.
pub type Stopped = Result<Result<std::io::Result<()>, JoinError>, Elapsed>;

/// A running service and the downstream services of its mode. Built by
/// [`TestApp::on_wiremock`], [`TestApp::on_fakes`], [`TestApp::embedded`] or
/// [`TestApp::replica_of`].
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub shutdown: CancellationToken,
    server: Option<JoinHandle<std::io::Result<()>>>,
    downstream: Downstream,
}

impl TestApp {
    pub(super) fn new(
        address: String,
        shutdown: CancellationToken,
        server: JoinHandle<std::io::Result<()>>,
        downstream: Downstream,
    ) -> Self {
        Self {
            address,
            client: reqwest::Client::new(),
            shutdown,
            server: Some(server),
            downstream,
        }
    }

    fn mocks(&self, which: &str) -> &Mocks {
        match &self.downstream {
            Downstream::Wiremock(mocks) => mocks,
            Downstream::Fakes { .. } => panic!(
                "TestApp::{which}() is a wiremock server, and this app runs on the fakes \
                 (TestApp::on_fakes()): use crud_fake() / auth_fake()"
            ),
            Downstream::None => panic!(
                "TestApp::{which}() is a wiremock server, and this app has no downstream of \
                 its own (embedded, or a replica): start it with TestApp::on_wiremock()"
            ),
        }
    }

    fn fakes(&self, which: &str) -> (&RunningCrudFake, &RunningAuth0Fake) {
        match &self.downstream {
            Downstream::Fakes { crud, auth } => (crud, auth),
            _ => panic!("TestApp::{which}() needs an app started with TestApp::on_fakes()"),
        }
    }

    /// The wiremock CRUD Service ([`TestApp::on_wiremock`] only).
    pub fn crud(&self) -> &MockServer {
        &self.mocks("crud").crud
    }

    /// The wiremock Auth0 Client ([`TestApp::on_wiremock`] only).
    pub fn auth(&self) -> &MockServer {
        &self.mocks("auth").auth
    }

    /// The wiremock Rönd ([`TestApp::on_wiremock`] only).
    pub fn rond(&self) -> &MockServer {
        &self.mocks("rond").rond
    }

    /// The wiremock Timer Service ([`TestApp::on_wiremock`] only).
    pub fn timer(&self) -> &MockServer {
        &self.mocks("timer").timer
    }

    /// The four wiremock servers: CRUD, Auth0 Client, Rönd, Timer.
    pub fn mock_servers(&self) -> [&MockServer; 4] {
        let mocks = self.mocks("mock_servers");
        [&mocks.crud, &mocks.auth, &mocks.rond, &mocks.timer]
    }

    /// The CRUD Service fake ([`TestApp::on_fakes`] only).
    pub fn crud_fake(&self) -> &RunningCrudFake {
        self.fakes("crud_fake").0
    }

    /// The Auth0 Client fake ([`TestApp::on_fakes`] only).
    pub fn auth_fake(&self) -> &RunningAuth0Fake {
        self.fakes("auth_fake").1
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_with(path, &[]).await
    }

    /// `GET {path}` with extra headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        send(self.client.get(self.url(path)), headers).await
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.post_with(path, body, &[]).await
    }

    /// `POST {path}` with a JSON body and extra headers.
    pub async fn post_with(
        &self,
        path: &str,
        body: &serde_json::Value,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        send(self.client.post(self.url(path)).json(body), headers).await
    }

    pub async fn patch_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        send(self.client.patch(self.url(path)).json(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.delete_with(path, &[]).await
    }

    /// `DELETE {path}` with extra headers.
    pub async fn delete_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        send(self.client.delete(self.url(path)), headers).await
    }

    /// `PATCH {path}` with a multipart `form`.
    pub async fn patch_form(&self, path: &str, form: Form) -> reqwest::Response {
        send(self.client.patch(self.url(path)).multipart(form), &[]).await
    }

    /// `PATCH /users/import` with `csv` as the `file` part of a form, after the option `fields`.
    pub async fn import_csv(&self, csv: impl Into<Vec<u8>>, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = Form::new();
        for (name, value) in fields {
            form = form.text((*name).to_owned(), (*value).to_owned());
        }
        let file = Part::bytes(csv.into())
            .file_name("users.csv")
            .mime_str("text/csv")
            .expect("a valid MIME type");
        self.patch_form("/users/import", form.part("file", file)).await
    }

    /// `POST` (when `post`) or `PATCH /users/import` with `file` as the `file` part, between the
    /// option fields `before` and `after`.
    pub async fn import_part(
        &self,
        post: bool,
        file: Part,
        before: &[(&str, &str)],
        after: &[(&str, &str)],
    ) -> reqwest::Response {
        let text = |form: Form, fields: &[(&str, &str)]| {
            fields.iter().fold(form, |form, (name, value)| {
                form.text((*name).to_owned(), (*value).to_owned())
            })
        };
        let form = text(text(Form::new(), before).part("file", file), after);
        let url = self.url("/users/import");
        let request = if post {
            self.client.post(url)
        } else {
            self.client.patch(url)
        };
        send(request.multipart(form), &[]).await
    }

    /// Waits (at most 5 s) for the server task to end, e.g. after `shutdown.cancel()`.
    pub async fn stopped(&mut self) -> Stopped {
        let server = self.server.take().expect("the server task is awaited once");
        tokio::time::timeout(Duration::from_secs(5), server).await
    }

    /// Cancels the shutdown token and waits (at most 5 s) for the server to stop.
    pub async fn stop(mut self) -> Stopped {
        self.shutdown.cancel();
        self.stopped().await
    }
}

/// Sends `request` with extra `headers`.
async fn send(mut request: reqwest::RequestBuilder, headers: &[(&str, &str)]) -> reqwest::Response {
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request failed")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
