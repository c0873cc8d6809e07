//! `POST|PATCH /users/import` through the running service: the exact bulk calls against
//! wiremock (batches, typed bodies, lookups, 413, a store outage mid-import, JSON and NDJSON
//! files), end-to-end imports on the CRUD Service fake and in embedded mode (mixed rows,
//! duplicates, a thousand rows, POST vs PATCH, rows with their own `_id`, file types, encodings,
//! late options, 415), hostile or broken uploads (headers over the limits, quotes left open,
//! two file parts), what the form says to a newcomer (a file under another part name, an ignored
//! `userGroup` field, an empty delimiter), `activate` (the bulk activation of the inserted users,
//! in embedded mode and on the fakes), and update rows that change what a linked auth user holds (synced as
//! `PATCH /users/{id}` does, on the fakes, in embedded mode and call by call on wiremock).

mod activation;
mod client_ids;
mod embedded;
mod form_messages;
mod formats;
mod hostile;
mod on_fakes;
mod refusals;
mod synced;
mod synced_calls;
mod wiremock_calls;
mod wiremock_formats;

use serde_json::Value;

use crate::helpers::{status_and_body, TestApp};

/// Every state, as the import looks users up and patches them whatever their state.
const ALL_STATES: &str = "PUBLIC,DRAFT,TRASH,DELETED";

/// `PATCH /users/import` of `csv` after the option `fields`: the status and the JSON body.
async fn import_report(app: &TestApp, csv: impl Into<Vec<u8>>, fields: &[(&str, &str)]) -> (u16, Value) {
    status_and_body(app.import_csv(csv, fields).await).await
}
