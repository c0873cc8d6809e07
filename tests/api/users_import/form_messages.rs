//! What the import form says to a newcomer (issue #15 item 11): a file in a part not named
//! `file`, a part the import does not know next to a file it cannot read (`userGroup` sent as a
//! form field), an option after the file, an empty `delimiter` (what `curl -F 'delimiter=;'`
//! sends).

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::helpers::{group_doc, status_and_body, TestApp};

async fn app() -> TestApp {
    let schema = json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "email": {"type": "string"}},
        "required": ["name"]
    });
    TestApp::on_fakes()
        .with_groups(vec![group_doc("customer", schema, true)])
        .start()
        .await
}

fn csv_part(csv: &str) -> Part {
    Part::bytes(csv.as_bytes().to_vec())
        .file_name("users.csv")
        .mime_str("text/csv")
        .unwrap()
}

/// `PATCH /users/import` with `form`: the status and the error message (or the whole body).
async fn send(app: &TestApp, form: Form) -> (u16, String, Value) {
    let (status, body) = status_and_body(app.patch_form("/users/import", form).await).await;
    let message = body["message"].as_str().unwrap_or_default().to_owned();
    (status, message, body)
}

fn stored(app: &TestApp) -> usize {
    app.crud_fake().state().documents("/users").len()
}

#[tokio::test]
async fn a_file_in_a_part_not_named_file_is_refused_naming_the_part_and_the_expected_names() {
    let app = app().await;
    let csv = "userGroup,name\ncustomer,Ann\n";

    // curl -F upload=@users.csv
    let (status, message, body) = send(&app, Form::new().part("upload", csv_part(csv))).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        message,
        "unknown form field \"upload\": send the file in a part named \"file\" (and the options \
         activate, delimiter, encoding, escape before it)"
    );

    // curl -F 'upload=<users.csv': the file as a text part, longer than an option.
    let long = format!("userGroup,name\n{}", "customer,Ann\n".repeat(40));
    let (status, message, _) = send(&app, Form::new().text("upload", long)).await;
    assert_eq!(status, 400);
    assert!(
        message.starts_with("unknown form field \"upload\": send the file in a part named \"file\""),
        "{message}"
    );

    // A short one: no file part, and the answer names the part it ignored.
    let (status, message, _) = send(&app, Form::new().text("upload", csv)).await;
    assert_eq!(status, 400);
    assert!(message.starts_with("the form has no file part"), "{message}");
    assert!(
        message.contains("the form field \"upload\" is not an option and was ignored"),
        "{message}"
    );
    assert_eq!(stored(&app), 0);
}

#[tokio::test]
async fn a_user_group_field_after_a_file_without_the_column_is_named_in_the_refusal() {
    let app = app().await;
    let csv = "name,email\nAnn,ann@example.com\n";

    let form = Form::new()
        .part("file", csv_part(csv))
        .text("userGroup", "customer");
    let (status, message, body) = send(&app, form).await;

    assert_eq!(status, 400, "{body}");
    assert!(
        message.starts_with("the header has no userGroup column"),
        "{message}"
    );
    assert!(
        message.contains(
            "the form field \"userGroup\" is not an option and was ignored (the options are \
             activate, delimiter, encoding, escape, sent before the \"file\" part; a user's group \
             is a column of the file, userGroup, not a form field)"
        ),
        "{message}"
    );
    // Before the file, the same.
    let form = Form::new()
        .text("userGroup", "customer")
        .part("file", csv_part(csv));
    let (status, message, _) = send(&app, form).await;
    assert_eq!(status, 400);
    assert!(
        message.contains("\"userGroup\" is not an option and was ignored"),
        "{message}"
    );
    assert_eq!(stored(&app), 0);
}

#[tokio::test]
async fn an_option_after_the_file_is_refused_saying_to_send_it_before_even_when_empty() {
    let app = app().await;
    let csv = "userGroup;name\ncustomer;Ann\n";

    for delimiter in [";", ""] {
        let form = Form::new()
            .part("file", csv_part(csv))
            .text("delimiter", delimiter);
        let (status, message, _) = send(&app, form).await;
        assert_eq!(status, 400, "{delimiter:?}");
        assert!(
            message.starts_with("the option delimiter comes after the file part")
                && message.contains("send the options before the file"),
            "{message}"
        );
    }
    // activate after the file: too late to start the activation the import should check first.
    let form = Form::new()
        .part("file", csv_part("userGroup,name\ncustomer,Ann\n"))
        .text("activate", "true");
    let (status, message, _) = send(&app, form).await;
    assert_eq!(status, 400);
    assert!(
        message.starts_with("the option activate comes after the file part, too late to apply"),
        "{message}"
    );
    assert_eq!(stored(&app), 0);
}

#[tokio::test]
async fn an_empty_delimiter_says_so_and_suggests_curl_form_string() {
    let app = app().await;
    let csv = "userGroup;name\ncustomer;Ann\n";

    // What `curl -F 'delimiter=;' -F file=@users.csv` sends.
    let form = Form::new().text("delimiter", "").part("file", csv_part(csv));
    let (status, message, _) = send(&app, form).await;

    assert_eq!(status, 400);
    assert!(message.starts_with("delimiter is empty"), "{message}");
    assert!(message.contains("use --form-string 'delimiter=;'"), "{message}");
    assert_eq!(stored(&app), 0);

    // As the README shows it (`--form-string 'delimiter=;'`): the semicolon arrives.
    let form = Form::new().text("delimiter", ";").part("file", csv_part(csv));
    let (status, _, body) = send(&app, form).await;
    assert_eq!((status, &body["invalid"]), (200, &json!([])), "{body}");
    assert_eq!(stored(&app), 1);
}
