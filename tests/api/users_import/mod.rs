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

/// Every state, as the import looks users up and patches them whatever their state.
const ALL_STATES: &str = "PUBLIC,DRAFT,TRASH,DELETED";

/// Sends `csv` as the `file` part of a multipart form, after the option `fields`.
async fn upload(
    client: &reqwest::Client,
    url: &str,
    csv: impl Into<Vec<u8>>,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = Form::new();
    for (name, value) in fields {
        form = form.text((*name).to_owned(), (*value).to_owned());
    }
    let file = Part::bytes(csv.into())
        .file_name("users.csv")
        .mime_str("text/csv")
        .unwrap();
    client
        .patch(url)
        .multipart(form.part("file", file))
        .send()
        .await
        .expect("request sent")
}

/// Status and parsed body of a response.
async fn status_and_body(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, body)
}
