//! Starting bulk activations for a list of store ids: the job input, one job per
//! [`MAX_USERS`] users (an import with `activate` may insert more than one job takes).

use super::{ActivationInput, KIND, MAX_USERS};
use crate::context::CallContext;
use crate::jobs::{Job, JobError, Jobs};

/// Starts the bulk activation of `user_ids` (distinct store ids, in order): one job per
/// [`MAX_USERS`] of them, each as `POST /jobs/bulk-activation` starts it. Nothing is started
/// for an empty list. The jobs started, and why the next one could not be (the jobs started
/// before it run).
pub async fn start_for(
    jobs: &Jobs,
    ctx: &CallContext,
    user_ids: &[String],
    upsert: bool,
) -> (Vec<Job>, Option<JobError>) {
    let mut started = Vec::new();
    for chunk in user_ids.chunks(MAX_USERS) {
        match start(jobs, ctx, chunk.to_vec(), upsert).await {
            Ok(job) => started.push(job),
            Err(error) => return (started, Some(error)),
        }
    }
    (started, None)
}

/// Starts one bulk activation of `user_ids` (distinct store ids, at most [`MAX_USERS`]).
pub async fn start(
    jobs: &Jobs,
    ctx: &CallContext,
    user_ids: Vec<String>,
    upsert: bool,
) -> Result<Job, JobError> {
    let total = user_ids.len() as u64;
    let input = serde_json::to_value(ActivationInput { user_ids, upsert })
        .map_err(|e| JobError::Invalid(format!("the job input cannot be written: {e}")))?;
    jobs.start(ctx, KIND, input, total).await
}
