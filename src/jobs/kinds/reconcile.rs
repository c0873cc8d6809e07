//! The `reconcile` job kind: one pass over the auth provider's users, then over the user store,
//! counting every inconsistency by kind and (repair mode) repairing what is safe, with the
//! provider calls paced at `RECONCILE_RATE_PER_SECOND`; resumable page by page after a restart.
//! Started on demand (`POST /jobs/reconcile`) and every `RECONCILE_INTERVAL`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::config::ReconcileMode;
use crate::context::CallContext;
use crate::failure::Outcome as CallOutcome;
use crate::jobs::pacer::Pacer;
use crate::jobs::runner::Outcome;
use crate::jobs::{Job, JobError, JobHandler, JobStatus, Jobs, Lease, Progress};
use crate::store::{Filter, FindQuery};
use crate::users::reconcile::{Findings, Pass};
use crate::users::{UserError, UserService};

/// The `kind` of these jobs.
pub const KIND: &str = "reconcile";

/// Store users read a page.
const STORE_PAGE: u32 = 200;

/// Auth users read a page (Auth0's largest `per_page`).
const AUTH_PAGE: u32 = 100;

/// The job's `input`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// Report only, or repair too.
    pub mode: ReconcileMode,
}

/// Where a pass is: the auth users first (linking the unlinked ones, deleting orphans), then
/// the store users (which then see those repairs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Paging the auth users.
    #[default]
    Auth,
    /// Paging the store users.
    Store,
    /// Done.
    Done,
}

/// The job's `result`: where the pass is and what it found so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    phase: Phase,
    store_checked: u64,
    auth_page: u32,
    auth_checked: u64,
    findings: Findings,
    skipped: u64,
    auth_list_truncated: bool,
    error: Option<String>,
}

/// `GET /jobs/reconcile/{id}`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileReport {
    /// The job id.
    pub job_id: String,
    /// `pending`, `running`, `completed` or `failed`.
    pub status: String,
    /// When the job was created (ISO-8601).
    pub job_created_at: String,
    /// `report` or `repair`.
    pub mode: ReconcileMode,
    /// `auth`, `store` or `done`.
    pub phase: Phase,
    /// Users checked (auth users, then store users) / known so far.
    pub progress: Progress,
    /// What was found (and repaired) by kind; kinds with nothing found are absent.
    #[schema(value_type = Object)]
    pub findings: Findings,
    /// Users left alone: mid-saga, or changed within `SAGA_RECOVERY_GRACE_MS`.
    pub skipped: u64,
    /// The provider refused to page further (Auth0 reaches 1,000 users by paging): auth users
    /// beyond were not checked.
    pub auth_list_truncated: bool,
    /// Why a failed pass stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ReconcileReport {
    /// The report of `job`.
    pub fn of(job: Job) -> Self {
        let state: State = serde_json::from_value(job.result).unwrap_or_default();
        let mode = mode_of(&job.input);
        Self {
            job_id: job.id,
            status: job.status.as_str().to_owned(),
            job_created_at: job.job_created_at,
            mode,
            phase: state.phase,
            progress: job.progress,
            findings: state.findings,
            skipped: state.skipped,
            auth_list_truncated: state.auth_list_truncated,
            error: state.error,
        }
    }
}

/// The handler: passes over `users`, provider calls at most `per_second` a second, users
/// changed within `grace` skipped.
pub fn handler(users: Arc<UserService>, per_second: u32, grace: Duration) -> Arc<dyn JobHandler> {
    Arc::new(ReconcileJobs {
        users,
        per_second,
        grace,
        pacer: OnceLock::new(),
    })
}

/// Works `reconcile` jobs.
pub struct ReconcileJobs {
    users: Arc<UserService>,
    per_second: u32,
    grace: Duration,
    pacer: OnceLock<Pacer>,
}

#[async_trait]
impl JobHandler for ReconcileJobs {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(
        &self,
        ctx: &CallContext,
        job: Job,
        lease: &Lease,
        stop: &CancellationToken,
    ) -> Result<Outcome, JobError> {
        let mode = mode_of(&job.input);
        let mut state: State = serde_json::from_value(job.result.clone()).unwrap_or_default();
        let svc = self.users.as_ref();
        let store_total = svc
            .store
            .count(&ctx.internal(), &Filter::any_state(), true)
            .await?;
        let pacer = self.pacer.get_or_init(|| Pacer::new(self.per_second));
        let repair = mode == ReconcileMode::Repair;
        let mut pass = Pass::new(
            svc,
            ctx,
            repair,
            pacer,
            self.grace,
            std::mem::take(&mut state.findings),
        );
        pass.skipped = state.skipped;
        while state.phase != Phase::Done {
            if stop.is_cancelled() {
                return Err(JobError::ShuttingDown);
            }
            if let Err(error) = step(svc, ctx, &mut pass, &mut state).await {
                state.error = Some(error.to_string());
                save(&mut state, &mut pass);
                tracing::warn!(job.id = %job.id, error.message = %error, "reconcile pass failed");
                return Ok((JobStatus::Failed, to_value(&state), progress(&state, store_total)));
            }
            save(&mut state, &mut pass);
            lease
                .checkpoint(ctx, &to_value(&state), progress(&state, store_total))
                .await?;
        }
        tracing::info!(job.id = %job.id, findings = ?state.findings, skipped = state.skipped, "reconcile pass done");
        Ok((
            JobStatus::Completed,
            to_value(&state),
            progress(&state, store_total),
        ))
    }
}

/// Copies what `pass` found so far into `state`, to be saved.
fn save(state: &mut State, pass: &mut Pass<'_>) {
    state.findings = pass.findings.clone();
    state.skipped = pass.skipped;
}

/// One page of the current phase.
async fn step(
    svc: &UserService,
    ctx: &CallContext,
    pass: &mut Pass<'_>,
    state: &mut State,
) -> Result<(), UserError> {
    match state.phase {
        Phase::Store => {
            let query = FindQuery {
                filter: Filter::any_state(),
                sort: Some("_id".to_owned()),
                limit: Some(STORE_PAGE),
                skip: Some(state.store_checked),
                ..FindQuery::default()
            };
            let docs = svc.store.find(&ctx.internal(), &query).await?;
            pass.check_store_page(&docs).await?;
            state.store_checked += docs.len() as u64;
            if docs.len() < STORE_PAGE as usize {
                state.phase = Phase::Done;
            }
        }
        Phase::Auth => {
            let users = match svc.auth.list_users(ctx, state.auth_page, AUTH_PAGE).await {
                Ok(users) => users,
                Err(error) if state.auth_page > 0 && error.outcome() == CallOutcome::NotApplied => {
                    tracing::warn!(page = state.auth_page, error.message = %error,
                        "the auth provider refused to page further: the auth users beyond were not checked");
                    state.auth_list_truncated = true;
                    state.phase = Phase::Store;
                    return Ok(());
                }
                Err(error) => return Err(error.into()),
            };
            pass.check_auth_page(&users).await?;
            state.auth_page += 1;
            state.auth_checked += users.len() as u64;
            if users.len() < AUTH_PAGE as usize {
                state.phase = Phase::Store;
            }
        }
        Phase::Done => {}
    }
    Ok(())
}

/// The mode a job's `input` asks for (report when unreadable: it changes nothing).
fn mode_of(input: &Value) -> ReconcileMode {
    Input::deserialize(input).map_or(ReconcileMode::Report, |i| i.mode)
}

fn progress(state: &State, store_total: u64) -> Progress {
    let processed = state.store_checked + state.auth_checked;
    Progress {
        processed,
        total: (store_total + state.auth_checked).max(processed),
    }
}

fn to_value(state: &State) -> Value {
    serde_json::to_value(state).unwrap_or_default()
}

/// Starts a reconcile job in `mode`.
pub async fn start(jobs: &Jobs, ctx: &CallContext, mode: ReconcileMode) -> Result<Job, JobError> {
    let input = serde_json::to_value(Input { mode }).unwrap_or_default();
    jobs.start(ctx, KIND, input, 0).await
}

/// Every `every`, starts a pass in `mode` unless one was created within the interval (by this
/// replica or another), until `shutdown`.
pub async fn schedule(jobs: Jobs, every: Duration, mode: ReconcileMode, shutdown: CancellationToken) {
    let ctx = CallContext::background("reconcile-schedule");
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let since = crate::jobs::now_millis() - every.as_millis() as i64;
        match jobs.store.created_since(&ctx, KIND, since).await {
            Ok(true) => {}
            Ok(false) => match start(&jobs, &ctx, mode).await {
                Ok(job) => {
                    tracing::info!(job.id = %job.id, mode = mode.as_str(), "scheduled reconcile pass started")
                }
                Err(e) => tracing::warn!(error.message = %e, "scheduled reconcile pass not started"),
            },
            Err(e) => tracing::warn!(error.message = %e, "scheduled reconcile pass not started"),
        }
    }
}
