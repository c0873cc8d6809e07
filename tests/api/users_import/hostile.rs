//! Hostile or broken uploads (SPEC §10, issue 9): a header too deep or too wide is a 400 and
//! the service stays up; a quote left open costs its own line only; the form takes exactly one
//! file part; a row over a document limit is reported while the others are imported.

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use super::import_report;
use crate::helpers::{group_doc, status_and_body, temp_data_dir, TestApp};

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "tags": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["name"],
        "additionalProperties": false
    })
}

async fn app() -> TestApp {
    TestApp::on_fakes()
        .with_groups(vec![group_doc("customer", schema(), true)])
        .start()
        .await
}

/// The stored users' names, sorted.
fn stored_names(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = app
        .crud_fake()
        .state()
        .documents("/users")
        .iter()
        .map(|u| u["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

fn csv_part(csv: &str) -> Part {
    Part::bytes(csv.as_bytes().to_vec())
        .file_name("users.csv")
        .mime_str("text/csv")
        .unwrap()
}

async fn send_form(app: &TestApp, form: Form) -> (u16, Value) {
    status_and_body(app.patch_form("/users/import", form).await).await
}

#[tokio::test]
async fn a_hundred_thousand_level_dotted_header_is_a_400_and_the_embedded_service_stays_up() {
    let dir = temp_data_dir();
    let app = TestApp::embedded(&dir).start().await;
    let deep = vec!["address"; 100_000].join(".");
    let csv = format!("userGroup,name,email,{deep}\ncustomer,Ann,ann@example.com,x\n");

    let (status, error) = import_report(&app, csv, &[]).await;

    assert_eq!(status, 400, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("LIMIT_FIELD_PATH_BYTES (256 bytes)"),
        "{message}"
    );
    // Still up, and still importing.
    let count = app.get("/users/count").await;
    assert_eq!(count.status(), 200);
    let csv = "userGroup,name,email,address.city\ncustomer,Ann,ann@example.com,Rome\n";
    let (status, report) = import_report(&app, csv, &[]).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["inserted"].as_array().unwrap().len(), 1, "{report}");

    app.shutdown.cancel();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_dotted_header_deeper_than_the_depth_limit_is_a_400_naming_it() {
    let app = app().await;
    let deep = vec!["a"; 40].join(".");
    let csv = format!("userGroup,name,{deep}\ncustomer,Ann,x\n");

    let (status, error) = import_report(&app, csv, &[]).await;

    assert_eq!(status, 400, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("LIMIT_DOCUMENT_DEPTH (32)"),
        "{error}"
    );
    assert!(stored_names(&app).is_empty());
}

#[tokio::test]
async fn a_header_with_more_columns_than_limit_csv_columns_is_a_400() {
    let app = app().await;
    let extra: Vec<String> = (0..500).map(|i| format!("c{i}")).collect();
    let csv = format!("userGroup,{}\ncustomer{}\n", extra.join(","), ",".repeat(500));

    let (status, error) = import_report(&app, csv, &[]).await;

    assert_eq!(status, 400, "{error}");
    assert_eq!(
        error["message"],
        "the header has 501 columns: the limit is 500 (LIMIT_CSV_COLUMNS)"
    );
}

#[tokio::test]
async fn an_unterminated_quote_costs_its_own_row_only_and_the_next_row_is_imported() {
    let app = app().await;
    let csv = "userGroup,name,email\n\
               customer,\"Ann,ann@example.com\n\
               customer,Bob,bob@example.com\n\
               customer,\"Cid\nSmith\",cid@example.com\n\
               customer,Dee,dee@example.com\n\
               customer,\"Eve,eve@example.com\n";

    let (status, report) = import_report(&app, csv, &[]).await;

    assert_eq!(status, 200, "{report}");
    let invalid = report["invalid"].as_array().unwrap();
    let rows: Vec<&Value> = invalid.iter().map(|i| &i["row"]).collect();
    assert_eq!(rows, [1, 5], "{report}");
    // Ann's quote would run into Cid's line: her line alone is skipped.
    let error = invalid[0]["error"].as_str().unwrap();
    assert!(error.contains("reading resumes at the next one"), "{error}");
    // Eve's quote is never closed.
    let error = invalid[1]["error"].as_str().unwrap();
    assert!(error.contains("never closed"), "{error}");
    // Bob is row 2; Cid's quoted name spans two lines and is row 3; Dee is row 4.
    assert_eq!(report["inserted"].as_array().unwrap().len(), 3, "{report}");
    assert_eq!(stored_names(&app), ["Bob", "Cid\nSmith", "Dee"]);
}

#[tokio::test]
async fn two_file_parts_are_refused_with_400_and_nothing_is_written() {
    let app = app().await;
    let form = Form::new()
        .part("file", csv_part("userGroup,name\ncustomer,Ann\n"))
        .part("file", csv_part("userGroup,name\ncustomer,Bob\n"));

    let (status, error) = send_form(&app, form).await;

    assert_eq!(status, 400, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("send exactly one file part"), "{message}");
    assert!(message.ends_with("0 rows were written"), "{message}");
    assert!(stored_names(&app).is_empty());
}

#[tokio::test]
async fn an_option_after_the_file_is_refused_when_it_would_have_read_the_file_otherwise() {
    let app = app().await;
    let csv = "userGroup,name\ncustomer,Ann\n";

    let late = Form::new().part("file", csv_part(csv)).text("delimiter", ";");
    let (status, error) = send_form(&app, late).await;
    assert_eq!(status, 400, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("the option delimiter comes after the file part"),
        "{error}"
    );
    assert!(stored_names(&app).is_empty());

    // The same value as the one applied, and parts the import does not know, change nothing.
    let harmless = Form::new()
        .part("file", csv_part(csv))
        .text("delimiter", ",")
        .text("note", "from the back-office");
    let (status, report) = send_form(&app, harmless).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(stored_names(&app), ["Ann"]);
}

#[tokio::test]
async fn a_row_with_an_array_over_limit_array_length_is_reported_and_the_others_imported() {
    let app = app().await;
    let tags = vec!["t"; 10_001].join(", ");
    let csv = format!("userGroup,name,tags\ncustomer,Ann,\"[{tags}]\"\ncustomer,Bob,\"[a, b]\"\n");

    let (status, report) = import_report(&app, csv, &[]).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(report["invalid"][0]["row"], 1, "{report}");
    let error = report["invalid"][0]["error"].as_str().unwrap();
    assert!(error.contains("LIMIT_ARRAY_LENGTH (10000)"), "{error}");
    assert_eq!(stored_names(&app), ["Bob"]);
}

#[tokio::test]
async fn a_row_with_many_violations_lists_the_first_twenty_then_counts_the_rest() {
    let columns: Vec<String> = (0..30).map(|i| format!("c{i}")).collect();
    let properties: serde_json::Map<String, Value> = columns
        .iter()
        .map(|c| (c.clone(), json!({"type": "string", "minLength": 5})))
        .collect();
    let schema = json!({"type": "object", "properties": properties});
    let app = TestApp::on_fakes()
        .with_groups(vec![group_doc("wide", schema, true)])
        .start()
        .await;
    let csv = format!(
        "userGroup,{}\nwide,{}\nwide,{}\n",
        columns.join(","),
        vec!["a"; 30].join(","),
        vec!["abcde"; 30].join(",")
    );

    let (status, report) = import_report(&app, csv, &[]).await;

    assert_eq!(status, 200, "{report}");
    assert_eq!(report["inserted"].as_array().unwrap().len(), 1, "{report}");
    let error = report["invalid"][0]["error"].as_str().unwrap();
    assert_eq!(error.matches("shorter than 5 characters").count(), 20, "{error}");
    assert!(error.ends_with("; and 10 more"), "{error}");
}
