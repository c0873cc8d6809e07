//! The HTTP side of a session: one call to the service with its query string encoded as the
//! Composer's client encodes it, answered as status and JSON body; exports; logins.

use reqwest::Method;
use serde_json::{json, Value};

use super::systems::Session;

/// The password of every user the session creates.
pub const PASSWORD: &str = "Kettle-Lamp-42!";

/// A `_q` selecting the users whose `_id` is one of `ids`.
pub fn ids_in(ids: &[&str]) -> String {
    json!({"_id": {"$in": ids}}).to_string()
}

impl Session {
    /// `{method} {path}?{query}` (URL-encoded) with an optional JSON body: the status and the
    /// JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self.app.client.request(method, self.app.url(path)).query(query);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("the request is sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        if text.is_empty() {
            return (status, Value::Null);
        }
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}, not JSON: {text}"));
        (status, body)
    }

    /// `GET /users/export?{query}` with `accept`: status, content type and body.
    pub async fn export(&self, accept: &str, query: &[(&str, &str)]) -> (u16, String, Vec<u8>) {
        let response = self
            .app
            .client
            .get(self.app.url("/users/export"))
            .query(query)
            .header("accept", accept)
            .send()
            .await
            .expect("the request is sent");
        let status = response.status().as_u16();
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        (status, content_type, response.bytes().await.unwrap().to_vec())
    }

    /// The status of `POST /oauth/token` with `login` and [`PASSWORD`].
    pub async fn login(&self, login: &str) -> u16 {
        let credentials = json!({"username": login, "password": PASSWORD});
        let response = self.app.post_json("/oauth/token", &credentials).await;
        response.status().as_u16()
    }
}
