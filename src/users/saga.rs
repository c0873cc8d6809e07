//! `Saga`: the compensations of the completed steps of a multi-step operation, run in reverse
//! order when a later step fails. A compensation that fails is logged at error level with what a
//! human needs to repair by hand, and counted; the original error is returned.

use futures::future::BoxFuture;

/// One compensation: the step it undoes, what to repair by hand, the undo itself (its error
/// already in words, for the log).
struct Undo<'a> {
    step: &'static str,
    repair: String,
    run: BoxFuture<'a, Result<(), String>>,
}

/// The compensations registered so far for one operation.
pub struct Saga<'a> {
    operation: &'static str,
    undo: Vec<Undo<'a>>,
}

impl<'a> Saga<'a> {
    /// A saga for `operation` (`create user`, `update user`, ...), for logs and metrics.
    pub fn new(operation: &'static str) -> Self {
        Self {
            operation,
            undo: Vec::new(),
        }
    }

    /// Registers the compensation of a step that has just completed. `repair` says what to do by
    /// hand if the compensation itself fails (e.g. `delete auth user auth0|123`). The future is
    /// not polled unless the saga fails.
    pub fn compensate_with<E: std::fmt::Display>(
        &mut self,
        step: &'static str,
        repair: impl Into<String>,
        run: impl std::future::Future<Output = Result<(), E>> + Send + 'a,
    ) {
        self.undo.push(Undo {
            step,
            repair: repair.into(),
            run: Box::pin(async move { run.await.map_err(|e| e.to_string()) }),
        });
    }

    /// Runs every compensation, last first, and returns `error` (the step that failed).
    pub async fn fail<E: std::fmt::Display>(self, error: impl Into<E>) -> E {
        self.undo(error).await.error
    }

    /// Runs every compensation, last first; returns `error` and whether every one succeeded.
    pub async fn undo<E: std::fmt::Display>(self, error: impl Into<E>) -> Undone<E> {
        let error = error.into();
        let mut complete = true;
        for undo in self.undo.into_iter().rev() {
            let labels = [("operation", self.operation), ("step", undo.step)];
            metrics::counter!("ums_saga_compensations_total", &labels).increment(1);
            if let Err(e) = undo.run.await {
                complete = false;
                metrics::counter!("ums_saga_compensation_failures_total", &labels).increment(1);
                tracing::error!(
                    operation = self.operation,
                    step = undo.step,
                    repair = %undo.repair,
                    error.message = %e,
                    cause = %error,
                    "compensation failed: repair by hand (with a saga journal, the recovery worker retries it)"
                );
            }
        }
        Undone { error, complete }
    }
}

/// What a failed saga leaves: the error of the step that failed, and whether every compensation
/// succeeded.
pub struct Undone<E> {
    /// The failing step's error.
    pub error: E,
    /// True when every compensation ran without error.
    pub complete: bool,
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::failure::{CallName, Cause, Failure};
    use crate::users::UserError;

    #[tokio::test]
    async fn compensations_run_last_first_and_the_original_error_is_returned() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut saga = Saga::new("test");
        for step in ["insert", "create auth user", "grant roles"] {
            let order = order.clone();
            saga.compensate_with(step, step, async move {
                order.lock().unwrap().push(step);
                if step == "create auth user" {
                    Err(Failure::new(CallName::new("X", "DELETE", "/u"), Cause::Timeout))
                } else {
                    Ok(())
                }
            });
        }
        let error: UserError = saga.fail(UserError::Invalid("original".into())).await;
        assert_eq!(error.to_string(), "original");
        assert_eq!(
            *order.lock().unwrap(),
            vec!["grant roles", "create auth user", "insert"]
        );
    }
}
