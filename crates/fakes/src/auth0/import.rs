//! Bulk-import jobs: `POST /users/import` (multipart), `GET /users/import/status/{id}` and
//! `.../errors`. Jobs go pending → processing → completed in the background.

use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::state::{NewUser, Shared, State as FakeState, UserPatch, DEFAULT_CONNECTION};
use super::users::{opt_bool, opt_object, opt_string};
use super::util::{now_iso, random_alnum, ApiError};

/// Largest accepted `users` file (500 KB).
pub const MAX_FILE_BYTES: usize = 512_000;
/// Jobs that may be pending or processing at once.
const MAX_ACTIVE_JOBS: usize = 2;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobStatus {
    Pending,
    Processing,
    Completed,
}

impl JobStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Completed => "completed",
        }
    }
}

/// Counters of a completed job.
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    failed: u64,
    updated: u64,
    inserted: u64,
    total: u64,
}

/// One import job.
#[derive(Debug, Clone)]
pub(crate) struct ImportJob {
    id: String,
    pub status: JobStatus,
    created_at: String,
    upsert: bool,
    send_completion_email: bool,
    connection: String,
    records: Vec<Value>,
    summary: Option<Summary>,
    failures: Vec<Value>,
}

impl ImportJob {
    fn to_json(&self) -> Value {
        let mut body = json!({
            "id": self.id,
            "status": self.status.as_str(),
            "type": "users_import",
            "created_at": self.created_at,
            "connection": self.connection,
            "upsert": self.upsert,
            "send_completion_email": self.send_completion_email,
        });
        if let (Some(summary), Some(object)) = (self.summary, body.as_object_mut()) {
            let summary = json!({
                "failed": summary.failed,
                "updated": summary.updated,
                "inserted": summary.inserted,
                "total": summary.total,
            });
            object.insert("summary".to_string(), summary);
        }
        body
    }
}

fn parse_flag(name: &str, value: &str) -> Result<bool, ApiError> {
    match value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(ApiError::bad_request(format!(
            "{name} must be 'true' or 'false', got '{other}'"
        ))),
    }
}

fn multipart_error(err: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("Invalid multipart body: {err}"))
}

/// `POST /users/import`: 201 with the pending job; 400 bad form, 413 file over 500 KB,
/// 429 when 2 jobs are still active.
pub(crate) async fn start(
    State(shared): State<Arc<Shared>>,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let (mut users, mut upsert, mut send_email) = (None, false, true);
    let mut connection = DEFAULT_CONNECTION.to_string();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        let data = field.bytes().await.map_err(multipart_error)?;
        let text = || String::from_utf8_lossy(&data).into_owned();
        match name.as_str() {
            "users" => users = Some(data.clone()),
            "upsert" => upsert = parse_flag("upsert", &text())?,
            "send_completion_email" => send_email = parse_flag("send_completion_email", &text())?,
            "connection" => connection = text(),
            "connection_id" => {
                return Err(ApiError::bad_request(
                    "connection_id is not allowed, use connection",
                ))
            }
            _ => {}
        }
    }
    let users = users.ok_or_else(|| ApiError::bad_request("Missing required file: users"))?;
    if users.len() > MAX_FILE_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The users file is {} bytes; the limit is 500 KB ({MAX_FILE_BYTES} bytes)",
                users.len()
            ),
        ));
    }
    let records = match serde_json::from_slice::<Value>(&users) {
        Ok(Value::Array(records)) => records,
        _ => return Err(ApiError::bad_request("The users file must be a JSON array")),
    };
    let job = {
        let mut state = shared.lock();
        let active = state
            .jobs
            .values()
            .filter(|j| j.status != JobStatus::Completed)
            .count();
        if active >= MAX_ACTIVE_JOBS {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "There are 2 active import users jobs, please wait until some of them are finished and try again",
            ));
        }
        let job = ImportJob {
            id: format!("job_{}", random_alnum(16)),
            status: JobStatus::Pending,
            created_at: now_iso(),
            upsert,
            send_completion_email: send_email,
            connection,
            records,
            summary: None,
            failures: Vec::new(),
        };
        state.jobs.insert(job.id.clone(), job.clone());
        job
    };
    tokio::spawn(run_job(Arc::clone(&shared), job.id.clone()));
    let mut body = job.to_json();
    if let Some(object) = body.as_object_mut() {
        object.remove("connection");
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Moves the job to processing after half the delay, completes it after the whole delay.
async fn run_job(shared: Arc<Shared>, id: String) {
    let delay = shared.config.import_delay;
    tokio::time::sleep(delay / 2).await;
    if let Some(job) = shared.lock().jobs.get_mut(&id) {
        job.status = JobStatus::Processing;
    }
    tokio::time::sleep(delay - delay / 2).await;
    let mut state = shared.lock();
    let Some(job) = state.jobs.get_mut(&id) else {
        return;
    };
    let records = std::mem::take(&mut job.records);
    let (upsert, connection) = (job.upsert, job.connection.clone());
    let mut summary = Summary {
        total: records.len() as u64,
        ..Summary::default()
    };
    let mut failures = Vec::new();
    for record in &records {
        match import_record(&mut state, record, upsert, &connection) {
            Ok(Outcome::Inserted) => summary.inserted += 1,
            Ok(Outcome::Updated) => summary.updated += 1,
            Err((code, message)) => {
                summary.failed += 1;
                failures.push(failure(record, code, message));
            }
        }
    }
    if let Some(job) = state.jobs.get_mut(&id) {
        job.status = JobStatus::Completed;
        job.summary = Some(summary);
        job.failures = failures;
    }
}

enum Outcome {
    Inserted,
    Updated,
}

type RecordError = (&'static str, &'static str);

fn invalid(_: ApiError) -> RecordError {
    ("INVALID_TYPE", "Invalid type of a property")
}

/// Inserts or (with upsert) updates the user of one import record.
fn import_record(
    state: &mut FakeState,
    record: &Value,
    upsert: bool,
    connection: &str,
) -> Result<Outcome, RecordError> {
    let Some(record) = record.as_object() else {
        return Err(("INVALID_TYPE", "Expected type object"));
    };
    let email = opt_string(record, "email").map_err(invalid)?;
    let email = email.ok_or(("OBJECT_REQUIRED", "Missing required property: email"))?;
    let id_part = opt_string(record, "user_id").map_err(invalid)?;
    let username = opt_string(record, "username").map_err(invalid)?;
    let by_id = id_part
        .as_ref()
        .map(|p| format!("auth0|{p}"))
        .filter(|id| state.users.contains_key(id));
    let by_email = state.id_by_email(&email).cloned();
    let existing = match (&by_id, by_email) {
        (Some(id), Some(owner)) if *id != owner => return Err(conflict_email()),
        (Some(id), _) => Some(id.clone()),
        (None, Some(_)) if id_part.is_some() => return Err(conflict_email()),
        (None, owner) => owner,
    };
    let target = existing.as_deref().unwrap_or("");
    if username
        .as_deref()
        .and_then(|u| state.id_by_username(u))
        .is_some_and(|owner| owner != target)
    {
        return Err((
            "CONFLICT_USERNAME",
            "The username is already used by another user",
        ));
    }
    let (app_metadata, user_metadata) = (
        opt_object(record, "app_metadata").map_err(invalid)?,
        opt_object(record, "user_metadata").map_err(invalid)?,
    );
    let email_verified = opt_bool(record, "email_verified").map_err(invalid)?;
    let blocked = opt_bool(record, "blocked").map_err(invalid)?;
    let (name, nickname) = (
        opt_string(record, "name").map_err(invalid)?,
        opt_string(record, "nickname").map_err(invalid)?,
    );
    if let Some(id) = existing {
        if !upsert {
            return Err((
                "DUPLICATED_USER",
                "The user already exist and upsert parameter is false",
            ));
        }
        let patch = UserPatch {
            email: Some(email),
            username,
            nickname,
            name,
            blocked,
            email_verified: Some(email_verified.unwrap_or(false)),
            password: None,
            app_metadata,
            user_metadata,
        };
        state
            .patch_user(&id, patch)
            .map_err(|_| ("CONFLICT", "The user could not be updated"))?;
        return Ok(Outcome::Updated);
    }
    let new = NewUser {
        id_part,
        email,
        username,
        nickname,
        name,
        password: None,
        blocked: blocked.unwrap_or(false),
        email_verified: email_verified.unwrap_or(false),
        connection: Some(connection.to_string()),
        app_metadata: app_metadata.unwrap_or_default(),
        user_metadata: user_metadata.unwrap_or_default(),
    };
    state
        .create_user(new)
        .map_err(|_| ("DUPLICATED_USER", "The user already exists"))?;
    Ok(Outcome::Inserted)
}

fn conflict_email() -> RecordError {
    ("CONFLICT_EMAIL", "The email is already used by another user")
}

/// One entry of the errors array: the redacted user and its errors.
fn failure(record: &Value, code: &str, message: &str) -> Value {
    let mut user = Map::new();
    for key in ["email", "user_id"] {
        if let Some(value) = record.get(key) {
            user.insert(key.to_string(), value.clone());
        }
    }
    json!({ "user": user, "errors": [{ "code": code, "message": message, "path": "" }] })
}

fn job_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "The job does not exist.")
}

/// `GET /users/import/status/{id}`: the job (with `summary` once completed) or 404.
pub(crate) async fn status(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let state = shared.lock();
    let job = state.jobs.get(&id).ok_or_else(job_not_found)?;
    Ok(Json(job.to_json()))
}

/// `GET /users/import/status/{id}/errors`: the failures array, or (Auth0 quirk) the object
/// `{"status": "<job status>"}` when there are none; 404 for an unknown job.
pub(crate) async fn errors(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let state = shared.lock();
    let job = state.jobs.get(&id).ok_or_else(job_not_found)?;
    if job.failures.is_empty() {
        return Ok(Json(json!({ "status": job.status.as_str() })));
    }
    Ok(Json(Value::Array(job.failures.clone())))
}
