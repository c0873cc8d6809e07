//! `Failure`: a call to another system (a downstream service, or an in-process adapter) that did
//! not give an answer its port can name, with what is known of its outcome: whether it
//! **certainly did not apply** or its **outcome is unknown** (SPEC §12).

use std::time::Duration;

/// Names one call in errors, logs and metrics: `CRUD PATCH /users/:id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallName {
    /// The system called: `CRUD`, `Auth0 Client`, `Rönd`, `Timer Service`, `embedded store`.
    pub service: &'static str,
    /// HTTP method (or operation name for in-process adapters).
    pub method: &'static str,
    /// Route template, never with ids or query values: `/users/:id`.
    pub route: String,
}

impl CallName {
    /// Names a call.
    pub fn new(service: &'static str, method: &'static str, route: impl Into<String>) -> Self {
        Self {
            service,
            method,
            route: route.into(),
        }
    }
}

impl std::fmt::Display for CallName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.service, self.method, self.route)
    }
}

/// How a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The called route does not exist, or (compare-and-set) nothing matched: not applied.
    NotFound,
    /// The callee refused the request as conflicting with its state: not applied.
    Conflict {
        /// The callee's message.
        message: String,
    },
    /// The callee asked us to slow down: not applied.
    RateLimited {
        /// How long it asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// The callee refused the request (a 4xx of an HTTP service): not applied.
    Rejected {
        /// The callee's status, passed on to our caller.
        status: u16,
        /// The callee's message (from `message` of a JSON body, else the text, truncated).
        message: String,
    },
    /// The callee failed while handling the request (a 5xx), or answered something unreadable:
    /// the outcome is unknown.
    Failed {
        /// The callee's status, when there was one.
        status: Option<u16>,
    },
    /// The callee could not be reached (no connection was made): not applied.
    Unreachable,
    /// The connection broke after the request may have been sent: the outcome is unknown.
    Dropped,
    /// No answer within `DOWNSTREAM_TIMEOUT_MS`: the outcome is unknown.
    Timeout,
}

/// What is known of the effect of a failed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The call certainly changed nothing: retrying it is safe and compensating it is not needed.
    NotApplied,
    /// The call may have been applied: verify before assuming either way.
    Unknown,
}

/// A failed call: which call, and how it failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{call} {}", describe(.cause))]
pub struct Failure {
    /// The call that failed.
    pub call: CallName,
    /// How it failed.
    pub cause: Cause,
}

fn describe(cause: &Cause) -> String {
    match cause {
        Cause::NotFound => "responded 404".to_owned(),
        Cause::Conflict { .. } => "responded 409".to_owned(),
        Cause::RateLimited { .. } => "responded 429".to_owned(),
        Cause::Rejected { status, message } => format!("responded {status}: {message}"),
        Cause::Failed { status: Some(s) } => format!("responded {s}"),
        Cause::Failed { status: None } => "answered with an unreadable body".to_owned(),
        Cause::Unreachable => "is unreachable".to_owned(),
        Cause::Dropped => "dropped the connection".to_owned(),
        Cause::Timeout => "timed out".to_owned(),
    }
}

impl Failure {
    /// A failure of `call`.
    pub fn new(call: CallName, cause: Cause) -> Self {
        Self { call, cause }
    }

    /// True when the callee answered "not found".
    pub fn is_not_found(&self) -> bool {
        self.cause == Cause::NotFound
    }

    /// Whether the call may have been applied.
    pub fn outcome(&self) -> Outcome {
        match self.cause {
            Cause::NotFound
            | Cause::Conflict { .. }
            | Cause::RateLimited { .. }
            | Cause::Rejected { .. }
            | Cause::Unreachable => Outcome::NotApplied,
            Cause::Failed { .. } | Cause::Dropped | Cause::Timeout => Outcome::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(cause: Cause) -> Failure {
        Failure::new(CallName::new("CRUD", "PATCH", "/users/:id"), cause)
    }

    #[test]
    fn refusals_did_not_apply_and_broken_calls_are_unknown() {
        for cause in [
            Cause::NotFound,
            Cause::Unreachable,
            Cause::RateLimited { retry_after: None },
            Cause::Rejected {
                status: 400,
                message: "no".into(),
            },
        ] {
            assert_eq!(failure(cause).outcome(), Outcome::NotApplied);
        }
        for cause in [
            Cause::Timeout,
            Cause::Dropped,
            Cause::Failed { status: Some(500) },
        ] {
            assert_eq!(failure(cause).outcome(), Outcome::Unknown);
        }
    }

    #[test]
    fn the_message_names_the_call() {
        assert_eq!(
            failure(Cause::Failed { status: Some(503) }).to_string(),
            "CRUD PATCH /users/:id responded 503"
        );
        assert_eq!(
            failure(Cause::Dropped).to_string(),
            "CRUD PATCH /users/:id dropped the connection"
        );
    }
}
