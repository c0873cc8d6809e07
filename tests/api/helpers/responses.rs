//! Reading the service's answers the way many tests do: status and JSON body together, one text
//! field of a JSON body, and the Mia error body (`statusCode`, `message`) of a refusal.

use serde_json::Value;

/// Status and parsed body of a response (which must be JSON).
pub async fn status_and_body(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, body)
}

/// The body of an error answer, after checking its status (also in `statusCode`).
pub async fn error_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("a JSON error body");
    assert_eq!(body["statusCode"], status, "{body}");
    body
}

/// Asserts a Mia error body with `status` whose message contains `message`.
pub async fn assert_error(response: reqwest::Response, status: u16, message: &str) {
    let body = error_of(response, status).await;
    let text = body["message"].as_str().expect("a message");
    assert!(text.contains(message), "{text:?} should contain {message:?}");
}

/// One text field of a JSON answer, read in one call.
pub trait TextField {
    /// The text field `name` of the JSON body (e.g. the `_id` of a created document).
    async fn text_field(self, name: &str) -> String;
}

impl TextField for reqwest::Response {
    async fn text_field(self, name: &str) -> String {
        let body: Value = self.json().await.expect("a JSON body");
        body[name]
            .as_str()
            .unwrap_or_else(|| panic!("no text {name} in {body}"))
            .to_owned()
    }
}
