//! Bulk-job routes: start a job (202 with its id) and read its status, per job kind.

mod activation;
mod change_password;

use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::jobs::JobRunner;
use crate::state::AppState;

/// Every `/jobs` route.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(change_password::router())
        .merge(activation::router())
}

/// The runner, or 501 when no jobs collection is configured.
fn runner(state: &AppState) -> Result<&JobRunner, ApiError> {
    state.job_runner.as_ref().ok_or_else(|| {
        ApiError::NotImplemented("bulk jobs need a jobs collection: set JOBS_CRUD_ENDPOINT".into())
    })
}
