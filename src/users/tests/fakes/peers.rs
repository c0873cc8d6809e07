//! `FakePolicy` (Rönd) and `FakeTimer` (the Timer Service) in memory, journaled as
//! `rond <op>` and `timer <op>` and scriptable.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{failure, Faults, Journal};
use crate::context::CallContext;
use crate::failure::{Cause, Failure};
use crate::policy::{PolicyClient, RevokeOutcome};
use crate::timer::{Schedule, TimerClient};

/// Rönd in memory: the role sets granted to each subject, one per grant; a revoke removes the
/// subject from all of them. Calls are journaled as `rond <op>`.
#[derive(Default)]
pub(in crate::users::tests) struct FakePolicy {
    journal: Journal,
    bindings: Mutex<BTreeMap<String, Vec<Vec<String>>>>,
    pub(in crate::users::tests) faults: Faults<Failure>,
}

impl FakePolicy {
    pub(in crate::users::tests) fn new(journal: Journal) -> Self {
        Self {
            journal,
            ..Self::default()
        }
    }

    /// Grants `roles` to `subject` directly (not journaled).
    pub(in crate::users::tests) fn seed(&self, subject: &str, roles: &[&str]) {
        let roles = roles.iter().map(|r| (*r).to_owned()).collect();
        self.bindings
            .lock()
            .unwrap()
            .entry(subject.to_owned())
            .or_default()
            .push(roles);
    }

    /// The role sets granted to `subject`, in grant order.
    pub(in crate::users::tests) fn grants(&self, subject: &str) -> Vec<Vec<String>> {
        self.bindings
            .lock()
            .unwrap()
            .get(subject)
            .cloned()
            .unwrap_or_default()
    }

    /// Every subject with at least one binding.
    pub(in crate::users::tests) fn subjects(&self) -> Vec<String> {
        self.bindings.lock().unwrap().keys().cloned().collect()
    }
}

#[async_trait]
impl PolicyClient for FakePolicy {
    async fn grant(&self, _ctx: &CallContext, subject: &str, roles: &[String]) -> Result<String, Failure> {
        let grant = async {
            let mut bindings = self.bindings.lock().unwrap();
            let granted = bindings.entry(subject.to_owned()).or_default();
            granted.push(roles.to_vec());
            Ok(format!("binding-{subject}-{}", granted.len()))
        };
        self.faults
            .run(&self.journal, "rond", "grant", grant, Failure::is_not_found)
            .await
    }
    async fn revoke(&self, _ctx: &CallContext, subject: &str) -> Result<RevokeOutcome, Failure> {
        let revoke = async {
            let removed = self.bindings.lock().unwrap().remove(subject).unwrap_or_default();
            Ok(RevokeOutcome {
                deleted_bindings: removed.len() as u64,
                modified_bindings: 0,
            })
        };
        self.faults
            .run(&self.journal, "rond", "revoke", revoke, Failure::is_not_found)
            .await
    }
    async fn check(&self, _ctx: &CallContext) -> Result<(), Failure> {
        Ok(())
    }
}

/// The Timer Service in memory: timer id → callback path; ids are `timer-1`, `timer-2`, ...;
/// aborting an unknown timer is a 404. Calls are journaled as `timer <op>`.
#[derive(Default)]
pub(in crate::users::tests) struct FakeTimer {
    journal: Journal,
    timers: Mutex<BTreeMap<String, String>>,
    next_id: AtomicU64,
    pub(in crate::users::tests) faults: Faults<Failure>,
}

impl FakeTimer {
    pub(in crate::users::tests) fn new(journal: Journal) -> Self {
        Self {
            journal,
            ..Self::default()
        }
    }

    /// Adds a timer directly (not journaled).
    pub(in crate::users::tests) fn seed(&self, id: &str, path: &str) {
        self.timers.lock().unwrap().insert(id.to_owned(), path.to_owned());
    }

    /// The pending timers: (id, callback path).
    pub(in crate::users::tests) fn pending(&self) -> Vec<(String, String)> {
        let timers = self.timers.lock().unwrap();
        timers
            .iter()
            .map(|(id, path)| (id.clone(), path.clone()))
            .collect()
    }
}

#[async_trait]
impl TimerClient for FakeTimer {
    async fn schedule(&self, _ctx: &CallContext, schedule: &Schedule) -> Result<String, Failure> {
        let add = async {
            let id = format!("timer-{}", self.next_id.fetch_add(1, Ordering::SeqCst) + 1);
            let path = schedule.callback.path.clone();
            self.timers.lock().unwrap().insert(id.clone(), path);
            Ok(id)
        };
        self.faults
            .run(&self.journal, "timer", "schedule", add, Failure::is_not_found)
            .await
    }
    async fn abort(&self, _ctx: &CallContext, expiration_id: &str) -> Result<(), Failure> {
        let remove = async {
            let removed = self.timers.lock().unwrap().remove(expiration_id);
            removed
                .map(drop)
                .ok_or_else(|| failure("Timer Service", Cause::NotFound))
        };
        self.faults
            .run(&self.journal, "timer", "abort", remove, Failure::is_not_found)
            .await
    }
    async fn check(&self, _ctx: &CallContext) -> Result<(), Failure> {
        Ok(())
    }
}
