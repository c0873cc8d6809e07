//! The `activate` option of an import at the HTTP boundary: whether the caller may start a bulk
//! activation (checked before a row is written) and the jobs started for the inserted users,
//! put in the answer.

use crate::authz::{Principal, Scope};
use crate::context::CallContext;
use crate::http::authz::with_group_scopes;
use crate::http::error::ApiError;
use crate::http::jobs::activation_jobs;
use crate::jobs::kinds::activation;
use crate::state::AppState;
use crate::users::import::ImportReport;

/// Whether an import with `activate` may start: a jobs collection, an auth provider with a bulk
/// import, and, with access control, the scope `jobs` besides `register` (the import starts the
/// job `POST /jobs/bulk-activation` starts, which needs it): 501 or 403 otherwise, before any row
/// is written.
pub(super) async fn allowed(
    state: &AppState,
    ctx: &CallContext,
    principal: Option<&Principal>,
) -> Result<(), ApiError> {
    activation_jobs(state).map_err(|error| match error {
        ApiError::NotImplemented(why) => {
            ApiError::NotImplemented(format!("activate starts a bulk-activation job: {why}"))
        }
        other => other,
    })?;
    let Some(authz) = state.authz.as_ref() else {
        return Ok(());
    };
    let Some(principal) = principal else {
        return Err(ApiError::Forbidden(
            "activate starts a bulk-activation job, which needs the scope \"jobs\": no verified caller"
                .into(),
        ));
    };
    let mut principal = principal.clone();
    with_group_scopes(state, ctx, &mut principal, Scope::Jobs).await?;
    authz
        .require(&principal, Scope::Jobs)
        .map_err(|e| ApiError::Forbidden(format!("activate starts a bulk-activation job: {e}")))
}

/// Starts the bulk activation of the users `report` says were inserted (none: nothing started)
/// and puts the job ids, or why they could not be started, in the report. The import is written
/// either way, so a failure here never fails the answer.
pub(super) async fn start(state: &AppState, ctx: &CallContext, report: &mut ImportReport) {
    let Some(jobs) = state.jobs.as_ref() else {
        return;
    };
    if report.inserted.is_empty() {
        return;
    }
    let (started, failed) = activation::start_for(jobs, ctx, &report.inserted, true).await;
    let ids: Vec<String> = started.into_iter().map(|job| job.id).collect();
    tracing::info!(
        jobs = ?ids,
        users = report.inserted.len(),
        "bulk activation of the imported users started"
    );
    if !ids.is_empty() {
        report.activation_job_ids = Some(ids);
    }
    if let Some(error) = failed {
        tracing::warn!(error.message = %error, "the bulk activation of the imported users could not be started");
        let error = ApiError::from(error);
        report.activation_error = Some(format!(
            "the users were imported, but their bulk activation could not be started ({}): start \
             it with POST /jobs/bulk-activation",
            error.public_message()
        ));
    }
}
