//! The operations of the `chaos` scenario: a weighted mix of user routes sent through the
//! service by concurrent workers (half of the failed ones retried once, as a client would), and
//! the SIGKILL + restart of the service at evenly spread points of the run.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::RwLock;

use crate::procs::Proc;
use crate::stack::{start_service_on, Fakes};

/// The operations and their weights in the mix.
pub const MIX: [(&str, u32); 6] = [
    ("create", 20),
    ("patchEmail", 20),
    ("patchAge", 15),
    ("state", 25),
    ("softDelete", 10),
    ("delete", 10),
];

/// Status classes, in report order (`skipped`: the op's user was deleted before it was sent).
pub const CLASSES: [&str; 5] = ["2xx", "4xx", "5xx", "no answer", "skipped"];

/// The service as the workers see it: a constant URL (restarts keep the port) and a gate the
/// killer holds while the service restarts, so no op starts meanwhile.
pub struct Service {
    /// Base URL.
    pub url: String,
    gate: RwLock<()>,
}

impl Service {
    /// The service at `url`, open.
    pub fn new(url: String) -> Self {
        Self {
            url,
            gate: RwLock::new(()),
        }
    }
}

/// The users the ops target: store `_id`s created through the service, plus unique emails.
pub struct Pool {
    ids: Mutex<Vec<String>>,
    emails: AtomicU64,
    run: u32,
}

impl Pool {
    /// An empty pool; emails are unique to this process.
    pub fn new() -> Self {
        Self {
            ids: Mutex::new(Vec::new()),
            emails: AtomicU64::new(0),
            run: std::process::id(),
        }
    }

    fn email(&self) -> String {
        let n = self.emails.fetch_add(1, Ordering::Relaxed);
        format!("chaos-{}-{n:06}@bench.example.com", self.run)
    }

    fn ids(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes `id` out of the pool: a (soft) delete is about to be sent for it. A user that reaches
    /// DELETED with `AUTH_HARD_DELETE=true` loses its auth user; moved back by a later state
    /// change it is, by design, a store-only user until `POST /users/register` — not an
    /// inconsistency, but the audit could not tell it from one. A failed (soft) delete may still
    /// reach DELETED (its retry or the recovery worker finishes it), so the user leaves the pool
    /// when the request is sent, whatever its answer.
    fn retire(&self, id: &str) {
        self.ids().retain(|known| known != id);
    }

    /// Whether `id` is still in the pool (no (soft) delete sent for it).
    fn holds(&self, id: &str) -> bool {
        self.ids().iter().any(|known| known == id)
    }

    fn pick(&self, rng: &mut StdRng) -> Option<String> {
        let ids = self.ids();
        (!ids.is_empty()).then(|| ids[rng.gen_range(0..ids.len())].clone())
    }

    /// Users in the pool.
    pub fn len(&self) -> usize {
        self.ids().len()
    }
}

/// Counts by (op, status class) of first attempts and of retries.
#[derive(Default)]
pub struct Tally {
    /// First attempts.
    pub first: BTreeMap<(String, String), u64>,
    /// Retries (one at most per op).
    pub retries: BTreeMap<(String, String), u64>,
}

/// One request of an op.
struct Call {
    op: &'static str,
    method: Method,
    path: String,
    body: Option<Value>,
    /// The user a PATCH or state change acts on: not sent (nor retried) once a (soft) delete
    /// has been sent for it — a client does not restore the user it is deleting.
    user: Option<String>,
}

fn pick_op(rng: &mut StdRng) -> &'static str {
    let total: u32 = MIX.iter().map(|(_, w)| w).sum();
    let mut at = rng.gen_range(0..total);
    for (op, weight) in MIX {
        if at < weight {
            return op;
        }
        at -= weight;
    }
    "create"
}

/// A create of a new `customer` user.
fn create(pool: &Pool, i: u64) -> Call {
    Call {
        op: "create",
        method: Method::POST,
        path: "/users/".to_owned(),
        body: Some(json!({
            "userGroup": "customer", "name": format!("Chaos user {i}"),
            "email": pool.email(), "password": "Kettle-Lamp-42!x"
        })),
        user: None,
    }
}

fn call(op: &'static str, pool: &Pool, rng: &mut StdRng, i: u64) -> Call {
    let Some(id) = pool.pick(rng).filter(|_| op != "create") else {
        return create(pool, i);
    };
    let (method, path, body) = match op {
        "patchEmail" => (
            Method::PATCH,
            format!("/users/{id}"),
            Some(json!({"$set": {"email": pool.email()}})),
        ),
        "patchAge" => (
            Method::PATCH,
            format!("/users/{id}"),
            Some(json!({"$set": {"age": rng.gen_range(18..99)}})),
        ),
        "state" => {
            let to = ["PUBLIC", "DRAFT", "TRASH"][rng.gen_range(0..3)];
            let body = json!([{"filter": {"_id": id}, "stateTo": to}]);
            (Method::POST, "/users/state".to_owned(), Some(body))
        }
        "softDelete" => {
            pool.retire(&id);
            (Method::POST, format!("/users/{id}/soft-delete"), None)
        }
        _ => {
            pool.retire(&id);
            (Method::DELETE, format!("/users/{id}"), None)
        }
    };
    let user = matches!(op, "patchEmail" | "patchAge" | "state").then_some(id);
    Call {
        op,
        method,
        path,
        body,
        user,
    }
}

/// Sends `call` once the service is up; its status class and body.
async fn send(client: &reqwest::Client, service: &Service, call: &Call) -> (&'static str, Value) {
    drop(service.gate.read().await);
    let mut request = client.request(call.method.clone(), format!("{}{}", service.url, call.path));
    if let Some(body) = &call.body {
        request = request.json(body);
    }
    let Ok(response) = request.send().await else {
        return ("no answer", Value::Null);
    };
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    let class = match status {
        200..=299 => "2xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    (class, body)
}

/// Keeps the pool in step with a successful call.
fn follow_up(pool: &Pool, call: &Call, body: &Value) {
    match call.op {
        "create" => {
            if let Some(id) = body["_id"].as_str() {
                pool.ids().push(id.to_owned());
            }
        }
        "delete" => {
            let id = call.path.trim_start_matches("/users/");
            pool.ids().retain(|known| known != id);
        }
        _ => {}
    }
}

/// Creates `n` users through the service, `concurrency` at a time (no faults yet); returns how
/// many failed.
pub async fn seed(
    client: &reqwest::Client,
    service: &Service,
    pool: &Pool,
    n: usize,
    concurrency: usize,
) -> usize {
    use futures::StreamExt;
    let failed = futures::stream::iter(0..n as u64)
        .map(|i| async move {
            let call = create(pool, i);
            let (class, body) = send(client, service, &call).await;
            follow_up(pool, &call, &body);
            class != "2xx"
        })
        .buffer_unordered(concurrency.max(1))
        .filter(|failed| std::future::ready(*failed))
        .count()
        .await;
    failed
}

/// Runs `total` ops at `concurrency`, seeded by `seed`.
pub async fn run_ops(
    client: &reqwest::Client,
    service: &Service,
    pool: &Pool,
    next: &AtomicU64,
    (total, concurrency, seed): (u64, usize, u64),
) -> Tally {
    let tally = Mutex::new(Tally::default());
    let worker = |w: u64| {
        let tally = &tally;
        async move {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_add(w));
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let call = call(pick_op(&mut rng), pool, &mut rng, i);
                let live = || call.user.as_deref().is_none_or(|id| pool.holds(id));
                let (class, body) = match live() {
                    true => send(client, service, &call).await,
                    false => ("skipped", Value::Null),
                };
                let mut retry = None;
                if matches!(class, "5xx" | "no answer") && rng.gen_bool(0.5) {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if live() {
                        retry = Some(send(client, service, &call).await);
                    }
                }
                let mut t = tally.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                *t.first.entry((call.op.to_owned(), class.to_owned())).or_default() += 1;
                if let Some((class, _)) = &retry {
                    *t.retries
                        .entry((call.op.to_owned(), (*class).to_owned()))
                        .or_default() += 1;
                }
                drop(t);
                let last = retry.unwrap_or((class, body));
                if last.0 == "2xx" {
                    follow_up(pool, &call, &last.1);
                }
            }
        }
    };
    futures::future::join_all((0..concurrency.max(1) as u64).map(worker)).await;
    tally
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One SIGKILL of the service.
pub struct Kill {
    /// Ops started when it was killed.
    pub at_op: u64,
    /// From the kill to the restarted service answering `/-/ready`.
    pub restart: Duration,
}

/// Kills the service `kills` times at evenly spread points of `total` ops (as counted by
/// `next`) and restarts it with `env` on the same port; returns the last process and the kills.
pub async fn kill_and_restart(
    fakes: &Fakes,
    env: &[(&str, String)],
    service: &Service,
    mut proc: Proc,
    next: &AtomicU64,
    (total, kills): (u64, u64),
) -> (Proc, Vec<Kill>) {
    let mut done = Vec::new();
    for k in 1..=kills {
        let at = total * k / (kills + 1);
        while next.load(Ordering::Relaxed) < at {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let closed = service.gate.write().await;
        let at_op = next.load(Ordering::Relaxed).min(total);
        proc.kill9();
        let started = Instant::now();
        let port = proc.port();
        let (restarted, _) = start_service_on(fakes, env, port).await;
        proc = restarted;
        drop(closed);
        eprintln!(
            "chaos: killed the service at op {at_op}, restarted in {:.0} ms",
            started.elapsed().as_secs_f64() * 1e3
        );
        done.push(Kill {
            at_op,
            restart: started.elapsed(),
        });
    }
    (proc, done)
}
