//! Unit tests of the job loop on a scripted port: resume from `next`, no re-send, retries,
//! failures, checkpoints and stop.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::*;
use crate::failure::{CallName, Failure};

/// How the Auth0 Client adapter reports each failure: 404 and 429 are the port's own errors.
fn answer(failure: Failure) -> AuthError {
    match failure.cause {
        Cause::NotFound => AuthError::NotFound(failure.to_string()),
        Cause::RateLimited { retry_after } => AuthError::RateLimited {
            retry_after,
            message: failure.to_string(),
        },
        _ => AuthError::Failed(failure),
    }
}

/// Records sends and saves; answers each id from a script of errors (then success).
#[derive(Default)]
struct Scripted {
    sent: Mutex<Vec<(String, Instant)>>,
    saves: Mutex<Vec<(Ledger, Progress)>>,
    script: Mutex<HashMap<String, Vec<Cause>>>,
    stop_after: Option<(usize, CancellationToken)>,
}

impl Scripted {
    fn answering(id: &str, kinds: Vec<Cause>) -> Self {
        let port = Self::default();
        port.script.lock().unwrap().insert(id.to_owned(), kinds);
        port
    }

    fn sent(&self) -> Vec<String> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .map(|(id, _)| id.clone())
            .collect()
    }
}

#[async_trait]
impl Port for Scripted {
    async fn send(&self, id: &str) -> AuthResult<()> {
        let count = {
            let mut sent = self.sent.lock().unwrap();
            sent.push((id.to_owned(), Instant::now()));
            sent.len()
        };
        if let Some((after, token)) = &self.stop_after {
            if count == *after {
                token.cancel();
            }
        }
        let mut script = self.script.lock().unwrap();
        match script.get_mut(id).filter(|kinds| !kinds.is_empty()) {
            Some(kinds) => {
                let call = CallName::new("Auth0 Client", "POST", "/change-password");
                Err(answer(Failure::new(call, kinds.remove(0))))
            }
            None => Ok(()),
        }
    }

    async fn save(&self, ledger: &Ledger, progress: Progress) -> Result<(), JobError> {
        self.saves.lock().unwrap().push((ledger.clone(), progress));
        Ok(())
    }
}

fn ids(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn fast() -> Pacer {
    Pacer::new(1000)
}

#[tokio::test]
async fn a_resumed_job_starts_at_next_and_never_resends_to_settled_users() {
    let port = Scripted::default();
    let saved = Ledger {
        completed: ids(&["a", "b"]),
        failures: vec![FailedUser {
            auth_user_id: "c".into(),
            error: NOT_FOUND.into(),
        }],
        next: 3,
    };
    let all = ids(&["a", "b", "c", "d", "e"]);
    let stop = CancellationToken::new();
    let ledger = work(&port, &all, saved, &fast(), &stop).await.unwrap();
    assert_eq!(port.sent(), ids(&["d", "e"]));
    assert_eq!(ledger.completed, ids(&["a", "b", "d", "e"]));
    assert_eq!(ledger.failures.len(), 1);
    assert_eq!(ledger.next, 5);
    assert_eq!(
        ledger.progress(all.len()),
        Progress {
            processed: 5,
            total: 5
        }
    );
}

#[tokio::test]
async fn an_id_already_settled_past_next_is_skipped() {
    let port = Scripted::default();
    let saved = Ledger {
        completed: ids(&["a", "c"]),
        failures: Vec::new(),
        next: 1,
    };
    let stop = CancellationToken::new();
    let ledger = work(&port, &ids(&["a", "b", "c"]), saved, &fast(), &stop)
        .await
        .unwrap();
    assert_eq!(port.sent(), ids(&["b"]));
    assert_eq!(ledger.completed, ids(&["a", "c", "b"]));
}

#[tokio::test]
async fn a_rate_limited_user_is_retried_after_the_wait_it_was_told() {
    let wait = Duration::from_millis(150);
    let limited = Cause::RateLimited {
        retry_after: Some(wait),
    };
    let port = Scripted::answering("b", vec![limited.clone(), limited]);
    let stop = CancellationToken::new();
    let ledger = work(&port, &ids(&["a", "b", "c"]), Ledger::default(), &fast(), &stop)
        .await
        .unwrap();
    assert_eq!(port.sent(), ids(&["a", "b", "b", "b", "c"]));
    assert_eq!(ledger.completed, ids(&["a", "b", "c"]));
    let sent = port.sent.lock().unwrap();
    assert!(sent[2].1 - sent[1].1 >= wait);
    assert!(sent[3].1 - sent[2].1 >= wait);
}

#[tokio::test]
async fn unknown_and_refused_users_fail_and_timeouts_are_retried_three_times() {
    let port = Scripted::answering("gone", vec![Cause::NotFound]);
    let refused = Cause::Rejected {
        status: 400,
        message: "bad connection".into(),
    };
    port.script
        .lock()
        .unwrap()
        .insert("refused".into(), vec![refused]);
    port.script
        .lock()
        .unwrap()
        .insert("slow".into(), vec![Cause::Timeout; 2]);
    port.script
        .lock()
        .unwrap()
        .insert("dead".into(), vec![Cause::Timeout; 4]);
    let all = ids(&["gone", "refused", "slow", "dead", "ok"]);
    let stop = CancellationToken::new();
    let ledger = work(&port, &all, Ledger::default(), &fast(), &stop)
        .await
        .unwrap();
    assert_eq!(ledger.completed, ids(&["slow", "ok"]));
    let errors: Vec<(&str, &str)> = ledger
        .failures
        .iter()
        .map(|f| (f.auth_user_id.as_str(), f.error.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            ("gone", NOT_FOUND),
            (
                "refused",
                "Auth0 Client POST /change-password responded 400: bad connection"
            ),
            ("dead", "Auth0 Client POST /change-password timed out"),
        ]
    );
    let sends = |id: &str| port.sent().iter().filter(|s| *s == id).count();
    assert_eq!((sends("slow"), sends("dead"), sends("gone")), (3, 4, 1));
}

#[tokio::test]
async fn checkpoints_come_every_fifty_users_when_faster_than_a_second() {
    let port = Scripted::default();
    let all: Vec<String> = (0..120).map(|i| format!("u{i}")).collect();
    let stop = CancellationToken::new();
    let pacer = Pacer::new(100_000);
    work(&port, &all, Ledger::default(), &pacer, &stop).await.unwrap();
    let saves = port.saves.lock().unwrap();
    let processed: Vec<u64> = saves.iter().map(|(_, p)| p.processed).collect();
    assert_eq!(processed, [50, 100]);
    assert_eq!(saves[1].0.next, 100);
}

#[tokio::test]
async fn a_stopped_job_saves_what_it_did_and_the_resumed_one_sends_each_user_once() {
    let stop = CancellationToken::new();
    let first = Scripted {
        stop_after: Some((4, stop.clone())),
        ..Scripted::default()
    };
    let all: Vec<String> = (0..10).map(|i| format!("u{i}")).collect();
    let stopped = work(&first, &all, Ledger::default(), &fast(), &stop).await;
    assert!(matches!(stopped, Err(JobError::ShuttingDown)), "{stopped:?}");
    let (saved, progress) = first.saves.lock().unwrap().last().cloned().unwrap();
    assert_eq!((saved.next, progress.processed), (4, 4));

    let second = Scripted::default();
    let ledger = work(&second, &all, saved, &fast(), &CancellationToken::new())
        .await
        .unwrap();
    let mut everyone = first.sent();
    everyone.extend(second.sent());
    assert_eq!(everyone, all);
    assert_eq!(ledger.completed, all);
}

#[tokio::test]
async fn a_stop_during_a_rate_limit_wait_ends_the_job_at_once() {
    let limited = Cause::RateLimited {
        retry_after: Some(Duration::from_secs(30)),
    };
    let port = Scripted::answering("b", vec![limited]);
    let stop = CancellationToken::new();
    let cancel = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        cancel.cancel();
    });
    let started = Instant::now();
    let stopped = work(&port, &ids(&["a", "b"]), Ledger::default(), &fast(), &stop).await;
    assert!(matches!(stopped, Err(JobError::ShuttingDown)));
    assert!(started.elapsed() < Duration::from_secs(2));
    let (saved, _) = port.saves.lock().unwrap().last().cloned().unwrap();
    assert_eq!((saved.completed, saved.next), (ids(&["a"]), 1));
}
