//! `Harness`: a `UserService` wired to the fakes (the user store a real embedded collection in
//! memory behind the recording decorator, two groups), with and without Rönd and the Timer
//! Service, plus seeding and inspection helpers and a log capture.

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tracing::instrument::WithSubscriber;
use tracing_subscriber::fmt::MakeWriter;

use super::fakes::{FakeAuth, FakePolicy, FakeTimer, Journal, RecordingStore};
use crate::config::{InputLimits, SubjectKey, UserPolicy};
use crate::context::CallContext;
use crate::groups::GroupRegistry;
use crate::store::embedded::EmbeddedDb;
use crate::store::{DocState, Filter, FindQuery};
use crate::users::{Expiry, Roles, UserService};

/// The `UserService` under test, the fakes behind it and their shared journal.
pub(super) struct Harness {
    pub(super) svc: UserService,
    pub(super) ctx: CallContext,
    pub(super) journal: Journal,
    pub(super) store: Arc<RecordingStore>,
    pub(super) auth: Arc<FakeAuth>,
    pub(super) rond: Arc<FakePolicy>,
    pub(super) timer: Arc<FakeTimer>,
}

/// How the service is configured; by default Rönd (subject `authUserId`) and the Timer Service
/// are on, `AUTH_HARD_DELETE` and `RANDOM_PWD_GEN` are true.
pub(super) struct Builder {
    rond: bool,
    timer: bool,
    hard_delete: bool,
    sagas: bool,
}

impl Builder {
    /// No `ROND_ENABLED`: `svc.roles` is `None`.
    pub(super) fn without_rond(mut self) -> Self {
        self.rond = false;
        self
    }

    /// No `TIMER_SERVICE`: `svc.expiry` is `None`.
    pub(super) fn without_timer(mut self) -> Self {
        self.timer = false;
        self
    }

    /// A saga journal on an in-memory collection (not recorded in the call journal).
    pub(super) fn with_sagas(mut self) -> Self {
        self.sagas = true;
        self
    }

    /// `AUTH_HARD_DELETE=false`: deleting a user blocks its auth user.
    pub(super) fn soft_auth_delete(mut self) -> Self {
        self.hard_delete = false;
        self
    }

    pub(super) async fn build(self) -> Harness {
        let journal = Journal::default();
        let db = EmbeddedDb::in_memory().unwrap();
        let users = db
            .collection(
                "/users",
                &["email", "username"],
                &["authUserId"],
                DocState::Draft,
                "miauserid",
            )
            .unwrap();
        let groups = db
            .collection("/ums-config", &["userGroup"], &[], DocState::Draft, "miauserid")
            .unwrap();
        let sagas = db
            .collection("/sagas", &[], &["kind"], DocState::Draft, "miauserid")
            .unwrap();
        let ctx = CallContext::default();
        for group in [group("customer", false), group("guest", true)] {
            groups.insert(&ctx, &group).await.unwrap();
        }
        let registry = GroupRegistry::new(groups, Duration::from_secs(60), InputLimits::default());
        let store = Arc::new(RecordingStore::new(users, journal.clone()));
        let auth = Arc::new(FakeAuth::new(journal.clone()));
        let rond = Arc::new(FakePolicy::new(journal.clone()));
        let timer = Arc::new(FakeTimer::new(journal.clone()));
        let svc = UserService {
            store: store.clone(),
            auth: auth.clone(),
            groups: Arc::new(registry),
            roles: self.rond.then(|| Roles {
                policy: rond.clone(),
                subject_key: SubjectKey::AuthUserId,
            }),
            expiry: self.timer.then(|| Expiry {
                callback_signer: None,
                timer: timer.clone(),
                callback_base_url: "http://user-manager-service".to_owned(),
            }),
            role_permissions: None,
            policy: UserPolicy {
                hard_delete: self.hard_delete,
                random_password: true,
                random_password_length: 16,
                custom_user_id_key: "sub".to_owned(),
                userinfo_properties: None,
                enrichment: None,
            },
            limits: InputLimits::default(),
            journal: self.sagas.then(|| crate::journal::Journal::new(sagas)),
        };
        Harness {
            svc,
            ctx,
            journal,
            store,
            auth,
            rond,
            timer,
        }
    }
}

/// A group document as the group-config collection holds it; `guest` users get no auth user.
fn group(name: &str, auth_user_creation_disabled: bool) -> Value {
    json!({
        "userGroup": name,
        "authUserCreationDisabled": auth_user_creation_disabled,
        "crudSchema": {
            "type": "object",
            "properties": {"name": {"type": "string", "minLength": 1}},
            "required": ["name"],
            "additionalProperties": false
        },
        "__STATE__": "PUBLIC"
    })
}

impl Harness {
    pub(super) fn builder() -> Builder {
        Builder {
            rond: true,
            timer: true,
            hard_delete: true,
            sagas: false,
        }
    }

    /// Rönd, the Timer Service and hard delete on.
    pub(super) async fn new() -> Self {
        Self::builder().build().await
    }

    /// The journal so far.
    pub(super) fn journal(&self) -> Vec<String> {
        self.journal.entries()
    }

    /// Inserts a store user directly (neither journaled nor scripted); returns its `_id`.
    pub(super) async fn seed_user(&self, doc: Value) -> String {
        self.store.inner().insert(&self.ctx, &doc).await.unwrap()
    }

    /// A PUBLIC customer with an auth user of the same email, granted `roles` in Rönd; returns
    /// (`_id`, `authUserId`).
    pub(super) async fn seed_linked_user(&self, email: &str, roles: &[&str]) -> (String, String) {
        let auth_id = self.auth.add(email);
        let doc = json!({"userGroup": "customer", "name": "Ada", "email": email, "roles": roles,
                         "authUserId": auth_id, "__STATE__": "PUBLIC"});
        let id = self.seed_user(doc).await;
        self.rond.seed(&auth_id, roles);
        (id, auth_id)
    }

    /// The store user `id` in any state, read directly.
    pub(super) async fn stored(&self, id: &str) -> Option<Value> {
        let inner = self.store.inner();
        inner.get(&self.ctx, id, &Filter::any_state()).await.unwrap()
    }

    /// Every store user in any state, read directly.
    pub(super) async fn stored_users(&self) -> Vec<Value> {
        let query = FindQuery {
            filter: Filter::any_state(),
            limit: Some(200),
            ..FindQuery::default()
        };
        self.store.inner().find(&self.ctx, &query).await.unwrap()
    }

    /// Asserts that no store user, auth user, Rönd binding or timer is left.
    pub(super) async fn assert_nothing_left(&self) {
        assert_eq!(self.stored_users().await, Vec::<Value>::new(), "store users");
        assert_eq!(self.auth.ids(), Vec::<String>::new(), "auth users");
        assert_eq!(self.rond.subjects(), Vec::<String>::new(), "Rönd subjects");
        assert_eq!(self.timer.pending(), Vec::new(), "timers");
    }
}

/// The `__STATE__` of a stored user.
pub(super) fn state(doc: &Value) -> &str {
    doc["__STATE__"].as_str().unwrap_or_default()
}

/// Captured log text (all levels, no colours).
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Runs `future` with a subscriber of its own and returns its output and what it logged.
pub(super) async fn with_logs<T>(future: impl Future<Output = T>) -> (T, String) {
    let buffer = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(buffer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let output = future.with_subscriber(subscriber).await;
    let logs = String::from_utf8_lossy(&buffer.0.lock().unwrap()).into_owned();
    (output, logs)
}
