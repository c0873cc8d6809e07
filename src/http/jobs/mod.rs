//! Bulk-job routes: start a job (202 with its id) and read its status, per job kind.

mod activation;
mod change_password;
mod reconcile;

use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use crate::http::error::ApiError;
use crate::jobs::{Job, Jobs};
use crate::state::AppState;

/// Every `/jobs` route.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(change_password::router())
        .merge(activation::router())
        .merge(reconcile::router())
}

/// The jobs, or 501 when no jobs collection is configured.
fn jobs(state: &AppState) -> Result<&Jobs, ApiError> {
    state.jobs.as_ref().ok_or_else(|| {
        ApiError::NotImplemented("bulk jobs need a jobs collection: set JOBS_CRUD_ENDPOINT".into())
    })
}

/// The jobs, when bulk activations can run: a jobs collection and an auth provider with a bulk
/// import; 501 naming what is missing otherwise.
pub(crate) fn activation_jobs(state: &AppState) -> Result<&Jobs, ApiError> {
    let jobs = jobs(state)?;
    if !state.users.capabilities().bulk_import {
        return Err(ApiError::NotImplemented(
            "the configured auth provider does not support bulk import".into(),
        ));
    }
    Ok(jobs)
}

/// A job just created (`202`), whatever its kind.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct JobCreated {
    /// The id to read the job with.
    job_id: String,
    /// Always `pending`.
    status: String,
    /// When the job was created (ISO-8601).
    job_created_at: String,
}

impl From<Job> for JobCreated {
    fn from(job: Job) -> Self {
        Self {
            job_id: job.id,
            status: job.status.as_str().to_owned(),
            job_created_at: job.job_created_at,
        }
    }
}
