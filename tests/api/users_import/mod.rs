//! `PATCH /users/import` through the running service: the exact bulk calls against wiremock
//! (batches, typed bodies, lookups, 413, a store outage mid-import), and end-to-end imports on
//! the CRUD Service fake (mixed rows, duplicates, a thousand rows), and hostile or broken
//! uploads (headers over the limits, quotes left open, two file parts).

mod hostile;
mod on_fakes;
mod refusals;
mod wiremock_calls;

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{status_and_body, TestApp};

/// Every state, as the import looks users up and patches them whatever their state.
const ALL_STATES: &str = "PUBLIC,DRAFT,TRASH,DELETED";

/// `PATCH /users/import` on `app` with the multipart `form`.
async fn send_import(app: &TestApp, form: Form) -> reqwest::Response {
    app.client
        .patch(app.url("/users/import"))
        .multipart(form)
        .send()
        .await
        .expect("request sent")
}

/// Sends `csv` as the `file` part of a multipart form, after the option `fields`.
async fn upload(app: &TestApp, csv: impl Into<Vec<u8>>, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form = Form::new();
    for (name, value) in fields {
        form = form.text((*name).to_owned(), (*value).to_owned());
    }
    let file = Part::bytes(csv.into())
        .file_name("users.csv")
        .mime_str("text/csv")
        .unwrap();
    send_import(app, form.part("file", file)).await
}

/// [`upload`]: the status and the JSON body of the answer.
async fn import_csv(app: &TestApp, csv: impl Into<Vec<u8>>, fields: &[(&str, &str)]) -> (u16, Value) {
    status_and_body(upload(app, csv, fields).await).await
}
