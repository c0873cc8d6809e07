//! Support of the `api` test binary: [`TestApp`] (one builder for every mode the service runs
//! in), the captured logs, group-config documents, and the wiremock and response helpers the
//! test modules share.

mod app;
mod builder;
mod groups;
mod journal;
mod logs;
mod mocks;
mod responses;

pub use app::TestApp;
pub use groups::{customer_group, customer_schema, group_doc};
pub use journal::{Call, Journal};
pub use logs::{captured_log_text, captured_logs};
pub use mocks::{
    given, header_of, json_body, mount, mount_any, mount_once, ok_json, only_request, only_request_to, pairs,
    query_pairs, query_param, received, requests_to, reset_hook,
};
pub use responses::{assert_error, error_of, status_and_body, TextField};

/// A fresh, empty data directory for an embedded-mode test.
pub fn temp_data_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ums-embedded-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
