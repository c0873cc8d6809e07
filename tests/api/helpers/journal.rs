//! `Journal`: the downstream calls of one test across its wiremock servers, in the order they
//! arrived, each written down (as `<service> <METHOD> <path>`, with its request) by the mock
//! that answered it.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use wiremock::{MockBuilder, MockServer, Request, Respond, ResponseTemplate};

use super::mocks::query_param;

/// One downstream call, as a journaled mock received it.
#[derive(Clone, Debug)]
pub struct Call {
    pub service: &'static str,
    pub request: Request,
}

impl Call {
    /// `<service> <METHOD> <path>`, e.g. `CRUD PATCH /users/<id>`.
    pub fn line(&self) -> String {
        format!(
            "{} {} {}",
            self.service,
            self.request.method,
            self.request.url.path()
        )
    }

    /// The JSON body (`Null` without one).
    pub fn body(&self) -> Value {
        serde_json::from_slice(&self.request.body).unwrap_or(Value::Null)
    }

    /// The decoded value of query parameter `name`, if any.
    pub fn query(&self, name: &str) -> Option<String> {
        query_param(&self.request, name)
    }
}

/// Every journaled call of one test, in arrival order.
#[derive(Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<Call>>>);

impl Journal {
    pub fn calls(&self) -> Vec<Call> {
        self.0.lock().unwrap().clone()
    }

    /// Each call as `<service> <METHOD> <path>`.
    pub fn lines(&self) -> Vec<String> {
        self.calls().iter().map(Call::line).collect()
    }

    /// The calls whose line is `line`.
    pub fn find(&self, line: &str) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.line() == line).collect()
    }

    /// Mounts `mock` on `server` answering `answer`, journaling each call as one to `service`.
    pub async fn mount(
        &self,
        server: &MockServer,
        service: &'static str,
        mock: MockBuilder,
        answer: ResponseTemplate,
    ) {
        let responder = Journaled {
            journal: self.clone(),
            service,
            answer,
        };
        mock.respond_with(responder).mount(server).await;
    }
}

/// A responder that journals the request before answering.
struct Journaled {
    journal: Journal,
    service: &'static str,
    answer: ResponseTemplate,
}

impl Respond for Journaled {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let call = Call {
            service: self.service,
            request: request.clone(),
        };
        self.journal.0.lock().unwrap().push(call);
        self.answer.clone()
    }
}
