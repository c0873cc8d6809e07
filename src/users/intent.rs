//! The journal side of a user operation: the intent begun before its first side effect, its
//! steps, and how it ends — closed when the operation completed or was fully undone, left open
//! for the recovery worker when a compensation failed or an outcome stayed unknown.

use serde_json::Value;

use super::saga::Undone;
use super::{UserError, UserResult, UserService};
use crate::context::CallContext;
use crate::failure::Outcome;
use crate::journal::{OpenIntent, Plan};

/// The intent of one operation, or nothing when the service has no journal.
pub struct Tracked(Option<OpenIntent>);

/// Begins the intent `plan` describes. A journal that cannot record it stops the operation
/// before any side effect. No journal, or a plan without an operation: nothing is recorded.
pub async fn begin(svc: &UserService, ctx: &CallContext, plan: Plan) -> UserResult<Tracked> {
    let (Some(journal), Some(operation)) = (&svc.journal, plan.operation) else {
        return Ok(Tracked(None));
    };
    let intent = journal.begin(ctx, operation, plan).await?;
    Ok(Tracked(Some(intent)))
}

/// Runs `work` (an operation without compensations, whose steps are each idempotent) under the
/// intent `plan` when it names an auth user: closed when it completes, left open for the
/// recovery worker on any error (a step may have applied).
pub async fn run<T>(
    svc: &UserService,
    ctx: &CallContext,
    plan: Plan,
    work: impl std::future::Future<Output = UserResult<T>>,
) -> UserResult<T> {
    if plan.auth_user_id.is_none() {
        return work.await;
    }
    let tracked = begin(svc, ctx, plan).await?;
    match work.await {
        Ok(done) => {
            tracked.close(ctx).await;
            Ok(done)
        }
        Err(error) => {
            tracked.leave_open("a step failed");
            Err(error)
        }
    }
}

impl Tracked {
    /// No journal: nothing is recorded.
    pub fn none() -> Self {
        Self(None)
    }

    /// Records a completed step and what it learnt.
    pub async fn step(&self, ctx: &CallContext, step: &str, learnt: &[(&str, Value)]) {
        if let Some(intent) = &self.0 {
            intent.step(ctx, step, learnt).await;
        }
    }

    /// The operation completed.
    pub async fn close(self, ctx: &CallContext) {
        if let Some(intent) = self.0 {
            intent.close(ctx).await;
        }
    }

    /// The operation stopped with work owed: the recovery worker finishes it after the grace.
    pub fn leave_open(self, reason: &str) {
        if let Some(intent) = self.0 {
            intent.leave_open(reason);
        }
    }

    /// The operation failed: closes the intent when its compensations all ran and its error
    /// certainly applied nothing, leaves it open for the recovery worker otherwise. Returns the
    /// error.
    pub async fn settle(self, ctx: &CallContext, undone: Undone<UserError>) -> UserError {
        let Undone { error, complete } = undone;
        if let Some(intent) = self.0 {
            if complete && error.outcome() == Outcome::NotApplied {
                intent.close(ctx).await;
            } else if complete {
                intent.leave_open("a call's outcome is unknown");
            } else {
                intent.leave_open("a compensation failed");
            }
        }
        error
    }

    /// The operation failed before any compensable step: like [`Tracked::settle`] with nothing
    /// to undo.
    pub async fn fail(self, ctx: &CallContext, error: UserError) -> UserError {
        self.settle(
            ctx,
            Undone {
                error,
                complete: true,
            },
        )
        .await
    }
}

impl UserError {
    /// Whether the call behind this error may have been applied.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Store(e) => e.outcome(),
            Self::Auth(e) => e.outcome(),
            Self::Failed(e) => e.outcome(),
            _ => Outcome::NotApplied,
        }
    }
}
