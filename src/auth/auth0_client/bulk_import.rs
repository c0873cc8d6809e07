//! The bulk-import job routes of the Auth0 Client: `POST /users/import` (multipart, like Auth0's
//! `POST /api/v2/jobs/users-imports`), `GET /users/import/status/{jobId}` and its `/errors`.

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::{read_json, send};
use super::{wire, Auth0Client};
use crate::auth::{AuthResult, ImportErrorDetail, ImportFailure, ImportJob, ImportJobState, ImportSummary};
use crate::context::CallContext;

/// An Auth0 job object (only what we read of it).
#[derive(Deserialize)]
struct JobWire {
    id: String,
    status: ImportJobState,
    #[serde(default)]
    summary: Option<SummaryWire>,
}

/// A job summary; missing counters are 0.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SummaryWire {
    failed: u64,
    updated: u64,
    inserted: u64,
    total: u64,
}

impl From<JobWire> for ImportJob {
    fn from(job: JobWire) -> Self {
        Self {
            id: job.id,
            state: job.status,
            summary: job.summary.map(|s| ImportSummary {
                failed: s.failed,
                updated: s.updated,
                inserted: s.inserted,
                total: s.total,
            }),
        }
    }
}

impl Auth0Client {
    /// `POST /users/import` with parts `users` (file `users.json`), `upsert`,
    /// `send_completion_email=false` and `connection` when configured.
    pub(super) async fn start_import_call(
        &self,
        ctx: &CallContext,
        users_json: Bytes,
        upsert: bool,
    ) -> AuthResult<ImportJob> {
        let call = self.call("POST", "/users/import");
        let mut part_headers = HeaderMap::new();
        part_headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let users = Part::bytes(users_json.to_vec())
            .file_name("users.json")
            .headers(part_headers);
        let mut form = Form::new()
            .part("users", users)
            .text("upsert", upsert.to_string())
            .text("send_completion_email", "false");
        if let Some(connection) = &self.config.connection {
            form = form.text("connection", connection.clone());
        }
        let builder = self.request(ctx, Method::POST, "/users/import").multipart(form);
        let response = send(&call, builder).await?;
        read_json::<JobWire>(&call, response).await.map(ImportJob::from)
    }

    /// `GET /users/import/status/{jobId}`.
    pub(super) async fn import_status_call(&self, ctx: &CallContext, job_id: &str) -> AuthResult<ImportJob> {
        let call = self.call("GET", "/users/import/status/:id");
        let path = format!("/users/import/status/{}", wire::encode_segment(job_id));
        let response = send(&call, self.request(ctx, Method::GET, &path)).await?;
        read_json::<JobWire>(&call, response).await.map(ImportJob::from)
    }

    /// `GET /users/import/status/{jobId}/errors`: an array of failed users; any other body
    /// (Auth0 answers the job object when nothing failed) means no failure.
    pub(super) async fn import_errors_call(
        &self,
        ctx: &CallContext,
        job_id: &str,
    ) -> AuthResult<Vec<ImportFailure>> {
        let call = self.call("GET", "/users/import/status/:id/errors");
        let path = format!("/users/import/status/{}/errors", wire::encode_segment(job_id));
        let response = send(&call, self.request(ctx, Method::GET, &path)).await?;
        let bytes = wire::read_bytes(&call, response).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Vec::new());
        }
        let body: Value = serde_json::from_slice(&bytes).map_err(|_| wire::unreadable(&call))?;
        Ok(failures(&body))
    }
}

/// The failures of an errors body; missing fields are tolerated, non-objects skipped.
fn failures(body: &Value) -> Vec<ImportFailure> {
    let Some(items) = body.as_array() else {
        return Vec::new();
    };
    let text = |value: Option<&Value>, key: &str| {
        value
            .and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    items
        .iter()
        .filter(|item| item.is_object())
        .map(|item| {
            let user = item.get("user");
            let errors = item
                .get("errors")
                .and_then(Value::as_array)
                .map(|errors| {
                    errors
                        .iter()
                        .map(|e| ImportErrorDetail {
                            code: text(Some(e), "code").unwrap_or_default(),
                            message: text(Some(e), "message").unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            ImportFailure {
                user_id: text(user, "user_id"),
                email: text(user, "email"),
                errors,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_tolerate_missing_fields_and_skip_non_objects() {
        let body = serde_json::json!([
            { "user": { "email": "a@b.c" }, "errors": [{ "code": "FORMAT" }] },
            { "errors": "nope" },
            42
        ]);
        let found = failures(&body);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].email.as_deref(), Some("a@b.c"));
        assert_eq!(found[0].errors[0].code, "FORMAT");
        assert_eq!(found[0].errors[0].message, "");
        assert!(found[1].errors.is_empty() && found[1].user_id.is_none());
    }
}
