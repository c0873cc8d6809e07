//! The `change-password` job kind: asks the auth provider to send the change-password email to
//! many users, one call at a time under `AUTH0_BULK_CHANGE_PASSWORD_RATE_LIMIT_PER_SECOND`,
//! backing off on 429 and resuming after a restart from the saved `Ledger`.

mod work;

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

pub use work::{FailedUser, Ledger, NOT_FOUND};

use crate::auth::{AuthProvider, AuthResult};
use crate::context::CallContext;
use crate::jobs::pacer::Pacer;
use crate::jobs::runner::Outcome;
use crate::jobs::{Job, JobError, JobHandler, JobStatus, Lease, Progress};
use work::{work, Port};

/// The `kind` of these jobs.
pub const KIND: &str = "change-password";

/// Most ids one job takes.
pub const MAX_IDS: usize = 100_000;

/// The job's `input`: the ids, without duplicates, in request order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// Auth-provider ids.
    pub auth_users_ids: Vec<String>,
}

/// The handler of this kind: emails through `auth`, at most `per_second` calls a second
/// (`AUTH0_BULK_CHANGE_PASSWORD_RATE_LIMIT_PER_SECOND`) over all its jobs.
pub fn handler(auth: Arc<dyn AuthProvider>, per_second: u32) -> Arc<dyn JobHandler> {
    Arc::new(ChangePasswordJobs {
        auth,
        per_second,
        pacer: OnceLock::new(),
    })
}

/// Works `change-password` jobs, all under one pacer (made at the first run).
pub struct ChangePasswordJobs {
    auth: Arc<dyn AuthProvider>,
    per_second: u32,
    pacer: OnceLock<Pacer>,
}

#[async_trait]
impl JobHandler for ChangePasswordJobs {
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
        let Ok(input) = serde_json::from_value::<Input>(job.input) else {
            let error = json!({"error": "the job input has no authUsersIds list"});
            return Ok((JobStatus::Failed, error, job.progress));
        };
        let ledger = serde_json::from_value::<Ledger>(job.result).unwrap_or_default();
        let ids = input.auth_users_ids;
        let port = Live {
            auth: self.auth.as_ref(),
            ctx,
            lease,
        };
        let pacer = self.pacer.get_or_init(|| Pacer::new(self.per_second));
        let ledger = work(&port, &ids, ledger, pacer, stop).await?;
        let progress = ledger.progress(ids.len());
        Ok((JobStatus::Completed, to_value(&ledger), progress))
    }
}

fn to_value(ledger: &Ledger) -> Value {
    serde_json::to_value(ledger).unwrap_or_default()
}

/// The real port: the auth provider and the job's lease.
struct Live<'a> {
    auth: &'a dyn AuthProvider,
    ctx: &'a CallContext,
    lease: &'a Lease,
}

#[async_trait]
impl Port for Live<'_> {
    async fn send(&self, id: &str) -> AuthResult<()> {
        self.auth.change_password(self.ctx, id).await
    }

    async fn save(&self, ledger: &Ledger, progress: Progress) -> Result<(), JobError> {
        self.lease.checkpoint(self.ctx, &to_value(ledger), progress).await
    }
}
