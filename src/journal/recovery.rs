//! The recovery worker: in every replica, takes the intents left open longer than
//! `SAGA_RECOVERY_GRACE_MS` (a request that crashed, lost its lease or failed a compensation),
//! one at a time under a lease, converges their users (finish, or roll back a create that cannot
//! be finished) and closes them.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{started_before, Intent, Journal};
use crate::context::CallContext;
use crate::users::converge::{converge_intent, Mode};
use crate::users::{UserError, UserService};

/// Most batches one wake of the worker recovers (the rest waits for the next wake).
const MAX_BATCHES: usize = 50;

/// The recovery worker of one replica.
#[derive(Clone)]
pub struct Recovery {
    journal: Journal,
    users: Arc<UserService>,
    grace: Duration,
    owner: String,
}

impl Recovery {
    /// A worker recovering the intents of `journal` older than `grace`.
    pub fn new(journal: Journal, users: Arc<UserService>, grace: Duration) -> Self {
        Self {
            journal,
            users,
            grace,
            owner: format!("ums-recovery-{}", uuid::Uuid::new_v4()),
        }
    }

    /// Recovers the due intents this replica can claim, batch after batch until none is left
    /// (each one claimed is closed or, failing, leased for the grace); returns how many it closed.
    pub async fn run_once(&self, ctx: &CallContext) -> Result<usize, UserError> {
        let mut closed = 0;
        for _ in 0..MAX_BATCHES {
            let due = self.journal.due(ctx, started_before(self.grace)).await?;
            if due.is_empty() {
                break;
            }
            let mut claimed = 0;
            for intent in due {
                if !self.journal.claim(ctx, &intent, &self.owner, self.grace).await? {
                    continue;
                }
                claimed += 1;
                match self.recover(ctx, &intent).await {
                    Ok(()) => closed += 1,
                    Err(e) => {
                        metrics::counter!("ums_saga_recovery_failures_total").increment(1);
                        tracing::warn!(saga.id = %intent.id, operation = ?intent.operation, error.message = %e,
                            "saga recovery failed: retried when its lease expires");
                    }
                }
            }
            if claimed == 0 {
                break;
            }
        }
        Ok(closed)
    }

    async fn recover(&self, ctx: &CallContext, intent: &Intent) -> Result<(), UserError> {
        converge_intent(&self.users, ctx, intent, Mode::FinishOrRollBack).await?;
        self.journal.close(ctx, &intent.id).await?;
        metrics::counter!("ums_saga_recovered_total").increment(1);
        tracing::info!(saga.id = %intent.id, operation = ?intent.operation, users = ?intent.user_ids,
            steps = ?intent.steps, "open saga recovered");
        Ok(())
    }

    /// Recovers every `grace / 2` (at most every 5 s) until `shutdown` is cancelled.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) {
        let interval = (self.grace / 2).clamp(Duration::from_millis(100), Duration::from_secs(5));
        let ctx = CallContext::background("saga-recovery");
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
            if let Err(e) = self.run_once(&ctx).await {
                tracing::warn!(error.message = %e, "saga journal unreadable: recovery retried later");
            }
        }
    }
}
