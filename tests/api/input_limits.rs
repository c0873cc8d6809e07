//! Input limits (issue 9, SPEC §10): the single requests that used to crash, exhaust or corrupt
//! the service, each answered with a 4xx naming the limit, after which the service is still up
//! and the data still readable; documents stored beyond the limits by an earlier version.

use serde_json::{json, Value};

use crate::helpers::{temp_data_dir, TestApp, TextField};

/// The service under test in one of its two modes, with a `customer` user.
struct Subject {
    base: String,
    client: reqwest::Client,
    user: String,
    _keep: Box<dyn std::any::Any + Send>,
}

impl Subject {
    async fn embedded() -> Self {
        let dir = temp_data_dir();
        let app = TestApp::embedded(&dir).start().await;
        let base = app.address.clone();
        let client = app.client.clone();
        Self::with_user(base, client, Box::new(app), json!({"email": "ann@example.com"})).await
    }

    async fn on_fakes() -> Self {
        let app = TestApp::on_fakes().with_customer_group().start().await;
        let (base, client) = (app.address.clone(), app.client.clone());
        Self::with_user(base, client, Box::new(app), json!({"email": "ann@example.com"})).await
    }

    async fn with_user(
        base: String,
        client: reqwest::Client,
        keep: Box<dyn std::any::Any + Send>,
        extra: Value,
    ) -> Self {
        let mut body = json!({"userGroup": "customer", "name": "Ann", "roles": ["a"]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let response = client
            .post(format!("{base}/users/"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        let user = response.text_field("_id").await;
        Self {
            base,
            client,
            user,
            _keep: keep,
        }
    }

    async fn patch(&self, update: &Value) -> (u16, String) {
        let url = format!("{}/users/{}", self.base, self.user);
        let response = self.client.patch(url).json(update).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// The service answers, the user list and the user are readable.
    async fn assert_still_healthy(&self) -> Value {
        assert_eq!(self.get("/-/healthz").await.0, 200);
        let (status, list) = self.get("/users/").await;
        assert_eq!(status, 200, "{list}");
        let (status, export) = self.get("/users/export").await;
        assert_eq!(status, 200, "{export}");
        assert_eq!(export.lines().count(), 1, "{export}");
        let (status, user) = self.get(&format!("/users/{}", self.user)).await;
        assert_eq!(status, 200, "{user}");
        serde_json::from_str(&user).unwrap()
    }
}

async fn both_modes() -> [Subject; 2] {
    [Subject::embedded().await, Subject::on_fakes().await]
}

#[tokio::test]
async fn a_path_of_32879_segments_is_refused_with_every_operator() {
    let path = vec!["a"; 32_879].join(".");
    for subject in both_modes().await {
        for (op, arg) in [
            ("$set", json!(1)),
            ("$inc", json!(1)),
            ("$push", json!(1)),
            ("$unset", json!(true)),
        ] {
            let (status, body) = subject.patch(&json!({op: {(path.clone()): arg}})).await;
            assert_eq!(status, 400, "{op}: {body}");
            assert!(
                body.contains("LIMIT_FIELD_PATH_BYTES") || body.contains("LIMIT_DOCUMENT_DEPTH"),
                "{body}"
            );
        }
        let user = subject.assert_still_healthy().await;
        assert_eq!(user["name"], "Ann");
    }
}

#[tokio::test]
async fn a_path_of_33_short_segments_is_refused_naming_the_depth_limit() {
    for subject in both_modes().await {
        let path = format!("address.{}", vec!["x"; 32].join("."));
        let (status, body) = subject.patch(&json!({"$set": {path: 1}})).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("33 segments: the limit is 32"), "{body}");
        assert!(body.contains("LIMIT_DOCUMENT_DEPTH"), "{body}");
        subject.assert_still_healthy().await;
    }
}

#[tokio::test]
async fn an_open_object_nested_130_levels_deep_is_refused_and_nothing_breaks() {
    // Embedded mode, the stock customer group: `address` is an open object.
    let subject = Subject::embedded().await;
    let path = format!("address.{}", vec!["x"; 129].join("."));
    let (status, body) = subject.patch(&json!({"$set": {path: 1}})).await;
    assert_eq!(status, 400, "{body}");
    let user = subject.assert_still_healthy().await;
    assert_eq!(user.get("address"), None);
    // The same depth sent whole (a body serde reads) is refused too.
    let mut deep = json!(1);
    for _ in 0..100 {
        deep = json!({ "x": deep });
    }
    let (status, body) = subject.patch(&json!({"$set": {"address": deep}})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("more than 32 levels deep"), "{body}");
    subject.assert_still_healthy().await;
}

#[tokio::test]
async fn the_deepest_and_largest_documents_the_limits_allow_round_trip() {
    let subject = Subject::embedded().await;
    // `address` is depth 2 of the user; 30 more levels make the deepest allowed document (32).
    let path = format!("address.{}", vec!["x"; 30].join("."));
    let (status, body) = subject.patch(&json!({"$set": {(path.clone()): "deep"}})).await;
    assert_eq!(status, 200, "{body}");
    let roles: Vec<String> = (0..10_000).map(|i| format!("r{i}")).collect();
    let (status, body) = subject.patch(&json!({"$set": {"roles": roles}})).await;
    assert_eq!(status, 200, "{body}");
    let user = subject.assert_still_healthy().await;
    let mut leaf = &user["address"];
    for _ in 0..30 {
        leaf = &leaf["x"];
    }
    assert_eq!(leaf, "deep");
    assert_eq!(user["roles"].as_array().unwrap().len(), 10_000);
    // One more item or one more level is refused.
    let (status, body) = subject.patch(&json!({"$push": {"roles": "one-more"}})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("has 10001 items: the limit is 10000"), "{body}");
    let (status, body) = subject.patch(&json!({"$set": {(format!("{path}.x")): 1}})).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn an_array_index_far_past_the_end_is_refused_with_a_short_answer() {
    for subject in both_modes().await {
        for index in ["10000000", "99999999", "1000000"] {
            let (status, body) = subject
                .patch(&json!({"$set": {(format!("roles.{index}")): "x"}}))
                .await;
            assert_eq!(status, 400, "{body}");
            assert!(body.len() < 1_000, "a {} byte answer", body.len());
            assert!(body.contains("past the end of an array of 1 items"), "{body}");
        }
        let user = subject.assert_still_healthy().await;
        assert_eq!(user["roles"], json!(["a"]));
    }
}

#[tokio::test]
async fn schema_violations_are_reported_up_to_the_limit_then_counted() {
    for subject in both_modes().await {
        let roles: Vec<u32> = (0..100).collect();
        let (status, body) = subject.patch(&json!({"$set": {"roles": roles}})).await;
        assert_eq!(status, 400, "{body}");
        let message = serde_json::from_str::<Value>(&body).unwrap()["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(message.matches("is not of type").count(), 20, "{message}");
        assert!(message.ends_with("; and 80 more"), "{message}");
    }
}

#[tokio::test]
async fn a_long_query_string_and_an_out_of_range_skip_are_refused() {
    for subject in both_modes().await {
        let long = "x".repeat(16_385);
        let (status, body) = subject.get(&format!("/users/?name={}", &long[5..])).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("LIMIT_QUERY_STRING_BYTES"), "{body}");
        let (status, body) = subject.get("/users/?_sk=9223372036854775808").await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body.contains("_sk must be an integer between 0 and 9223372036854775807"),
            "{body}"
        );
        let (status, body) = subject.get("/users/?_sk=9223372036854775807").await;
        assert_eq!((status, body.as_str()), (200, "[]"));
        subject.assert_still_healthy().await;
    }
}
