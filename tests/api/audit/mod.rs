//! The audit trail, black-box: each action kind leaves its record (embedded mode and CRUD mode
//! on the fakes), no secret value ever lands in one, `GET /audit` filters and pages, a failing
//! audit store fails no request, and every write operation of the OpenAPI document is audited or
//! listed as not audited.

mod crud_mode;
mod embedded;
mod filters;

use serde_json::Value;

use crate::helpers::{temp_data_dir, TestApp};

/// `GET /audit?{query}`, answered 200: the records.
pub async fn records(app: &TestApp, query: &str) -> Vec<Value> {
    let response = app.get(&format!("/audit?{query}")).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

/// The records of `action`, whatever else.
pub fn of_action<'a>(records: &'a [Value], action: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["action"] == action).collect()
}

/// The one record of `action` on `target`.
pub fn the_record<'a>(records: &'a [Value], action: &str, target: &str) -> &'a Value {
    let found: Vec<&Value> = records
        .iter()
        .filter(|r| r["action"] == action && r["target"] == target)
        .collect();
    assert_eq!(found.len(), 1, "one {action} on {target} in {records:#?}");
    found[0]
}

#[tokio::test]
async fn every_write_operation_of_the_openapi_document_is_audited_or_listed_as_not_audited() {
    // Arrange: embedded mode serves every route (local provider, jobs, groups).
    let app = TestApp::embedded(&temp_data_dir()).start().await;
    let (audited, left_out) = user_manager_service::http::audit_coverage();

    // Act
    let doc: Value = app.get("/documentation/json").await.json().await.unwrap();

    // Assert
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            if method == "GET" {
                continue;
            }
            let op = (method.as_str(), path.as_str());
            if !audited.contains(&op) && !left_out.contains(&op) {
                missing.push(format!("{method} {path}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "neither audited nor listed as not audited: {missing:?}"
    );
    assert!(
        doc["paths"]["/audit"]["get"].is_object(),
        "GET /audit is documented"
    );
}
