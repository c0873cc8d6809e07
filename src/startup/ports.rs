//! Builds every port from the configuration: CRUD Service collections or the embedded SQLite
//! store, the Auth0 Client or the local provider, Rönd, the Timer Service, the job runner.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::StartupError;
use crate::audit::{AuditLog, LogLines, StoredAuditLog};
use crate::auth::auth0_client::{Auth0Client, Auth0ClientConfig};
use crate::auth::local::{LocalAuth, LocalAuthConfig, SigningKey};
use crate::auth::AuthProvider;
use crate::authz::external::ExternalTokens;
use crate::authz::{Authz, Clients, ScopeNames, Tokens};
use crate::config::{AuthConfig, AuthzMode, Config, CrudConfig, StoreConfig};
use crate::downstream::build_http_client;
use crate::groups::admin::GroupAdmin;
use crate::groups::{FieldIndexer, GroupRegistry};
use crate::idempotency::Idempotency;
use crate::jobs::{JobRunner, JobStore, Jobs};
use crate::journal::Journal;
use crate::policy::{PolicyClient, RondClient};
use crate::state::{AppState, Services};
use crate::store::crud_http::CrudCollection;
use crate::store::embedded::EmbeddedDb;
use crate::store::{Collection, DocState};
use crate::telemetry;
use crate::timer::{TimerClient, TimerServiceClient};
use crate::users::{CallbackSigner, Expiry, Roles, UserService};

/// How often the group schemas are re-read (a group added in the back-office works within this).
pub(super) const GROUPS_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

/// The signing key of the service's access tokens under `DATA_DIR`.
const SIGNING_KEY_FILE: &str = "signing-key.pem";

/// How long an access token of this service is valid.
const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// The file of the embedded store under `DATA_DIR`.
const EMBEDDED_FILE: &str = "user-manager.sqlite3";

/// The four collections of the service.
struct Stores {
    users: Arc<dyn Collection>,
    groups: Arc<dyn Collection>,
    roles: Option<Arc<dyn Collection>>,
    jobs: Option<Arc<dyn Collection>>,
    /// The saga journal and idempotency records: `SAGA_CRUD_ENDPOINT`, else the jobs collection.
    sagas: Option<Arc<dyn Collection>>,
    /// The OAuth2 clients: `CLIENTS_CRUD_ENDPOINT` in CRUD mode.
    clients: Option<Arc<dyn Collection>>,
    /// The audit trail: `AUDIT_CRUD_ENDPOINT`, the embedded `/audit` table; none: log lines.
    audit: Option<Arc<dyn Collection>>,
}

/// Builds every port from the configuration.
pub fn build_state(config: Config) -> Result<AppState, StartupError> {
    let http = build_http_client(config.downstream_timeout)?;
    let mut embedded: Option<EmbeddedDb> = None;
    let stores = match &config.store {
        StoreConfig::Crud(crud) => crud_stores(&http, crud, &config),
        StoreConfig::Embedded { .. } => embedded_stores(open_embedded(&config, &mut embedded)?, &config)?,
    };
    let (auth, local_auth): (Arc<dyn AuthProvider>, Option<Arc<LocalAuth>>) = match &config.auth {
        AuthConfig::Auth0Client(settings) => {
            let mut adapter = Auth0ClientConfig::new(settings.base_url.clone());
            adapter.connection = settings.connection.clone();
            adapter.change_password_path = settings.change_password_path.clone();
            adapter.user_path_template = settings.user_path_template.clone();
            (Arc::new(Auth0Client::new(http.clone(), adapter)), None)
        }
        AuthConfig::Local { reset_webhook_url } => {
            let db = open_embedded(&config, &mut embedded)?;
            let local = Arc::new(local_auth(db, &config, reset_webhook_url.clone(), http.clone())?);
            (local.clone(), Some(local))
        }
    };
    let policy = config
        .rond
        .as_ref()
        .map(|rond| -> Arc<dyn PolicyClient> { Arc::new(RondClient::new(http.clone(), &rond.base_url)) });
    let timer = config.timer.as_ref().map(|timer| -> Arc<dyn TimerClient> {
        Arc::new(TimerServiceClient::new(http.clone(), &timer.base_url))
    });
    let idempotency = stores
        .sagas
        .clone()
        .map(|sagas| Arc::new(Idempotency::new(sagas, Arc::new(crate::clock::SystemClock))));
    let registry = GroupRegistry::new(stores.groups.clone(), GROUPS_REFRESH_INTERVAL, config.limits);
    // Embedded mode indexes the fields the group schemas declare; a CRUD collection's indexes
    // are the platform's to define.
    let registry = Arc::new(match &config.store {
        StoreConfig::Embedded { .. } => {
            registry.with_indexer(Arc::new(FieldIndexer::new(stores.users.clone())))
        }
        StoreConfig::Crud(_) => registry,
    });
    let authz = match config.authz.mode {
        AuthzMode::Gateway => None,
        AuthzMode::Scopes => Some(Arc::new(authz(&config, stores.clients.clone(), &http)?)),
    };
    let users = Arc::new(UserService {
        store: stores.users.clone(),
        auth,
        groups: registry.clone(),
        roles: policy
            .clone()
            .zip(config.rond.as_ref())
            .map(|(policy, rond)| Roles {
                policy,
                subject_key: rond.subject_key,
            }),
        expiry: timer
            .clone()
            .zip(config.timer.as_ref())
            .map(|(timer, settings)| Expiry {
                timer,
                callback_base_url: settings.callback_base_url.clone(),
                callback_signer: authz
                    .as_ref()
                    .map(|authz| -> Arc<dyn CallbackSigner> { Arc::new(authz.tokens().clone()) }),
            }),
        role_permissions: stores.roles,
        policy: config.users.clone(),
        limits: config.limits,
        journal: stores.sagas.clone().map(Journal::new),
    });
    let jobs = stores.jobs.as_ref().map(|jobs| {
        let store = JobStore::new(jobs.clone());
        let handlers = crate::jobs::kinds::all(users.clone(), &config.bulk, &config.consistency);
        let runner = JobRunner::new(
            store.clone(),
            handlers,
            config.bulk.job_lease,
            config.bulk.job_poll_interval,
        );
        Jobs { store, runner }
    });
    let audit: Arc<dyn AuditLog> = match stores.audit {
        Some(collection) => Arc::new(StoredAuditLog::new(collection)),
        None => Arc::new(LogLines),
    };
    let groups = GroupAdmin {
        groups: stores.groups,
        users: stores.users,
        registry,
        limits: config.limits,
    };
    Ok(AppState::new(Services {
        authz,
        users,
        groups: Arc::new(groups),
        jobs,
        idempotency,
        audit,
        local_auth,
        policy,
        timer,
        metrics: telemetry::metrics_handle(),
        shutdown: CancellationToken::new(),
        config: Arc::new(config),
    }))
}

fn crud_stores(http: &reqwest::Client, crud: &CrudConfig, config: &Config) -> Stores {
    let timeout = config.downstream_timeout;
    // `item` names one document in conflict messages, whatever the configured path.
    let collection = |path: &str, item: &str| -> Arc<dyn Collection> {
        Arc::new(
            CrudCollection::new(http.clone(), &crud.base_url, path)
                .with_response_timeout(timeout)
                .with_item_name(item),
        )
    };
    Stores {
        users: collection(&crud.users_path, "user"),
        groups: collection(&crud.groups_path, "group"),
        roles: crud.roles_path.as_deref().map(|path| collection(path, "role")),
        jobs: crud.jobs_path.as_deref().map(|path| collection(path, "job")),
        sagas: crud
            .saga_path
            .as_deref()
            .or(crud.jobs_path.as_deref())
            .map(|path| collection(path, "saga record")),
        clients: config
            .authz
            .clients_endpoint
            .as_deref()
            .map(|path| collection(path, "client")),
        audit: crud
            .audit_path
            .as_deref()
            .map(|path| collection(path, "audit record")),
    }
}

/// The embedded store under `DATA_DIR`, opened once and shared by the store and the local provider.
fn open_embedded<'a>(
    config: &Config,
    slot: &'a mut Option<EmbeddedDb>,
) -> Result<&'a EmbeddedDb, StartupError> {
    if slot.is_none() {
        let path = config.data_dir.join(EMBEDDED_FILE);
        let failed = |message: String| StartupError::Embedded {
            path: path.display().to_string(),
            message,
        };
        crate::private_fs::create_dir(&config.data_dir).map_err(|e| failed(e.to_string()))?;
        *slot = Some(EmbeddedDb::open(&path).map_err(|e| failed(e.to_string()))?);
    }
    slot.as_ref()
        .ok_or_else(|| StartupError::LocalAuth("embedded store unavailable".into()))
}

fn embedded_stores(db: &EmbeddedDb, config: &Config) -> Result<Stores, StartupError> {
    let header = config.headers.user_id.as_str();
    let open = |path: &str, unique: &[&str], indexed: &[&str], state: DocState| {
        db.collection(path, unique, indexed, state, header)
            .map_err(|e| StartupError::Embedded {
                path: format!("{} ({path})", config.data_dir.join(EMBEDDED_FILE).display()),
                message: e.to_string(),
            })
    };
    Ok(Stores {
        users: open(
            "/users",
            &["email", "username"],
            &["authUserId", "userGroup", "createdAt", "updatedAt"],
            DocState::Draft,
        )?,
        groups: open("/ums-config", &["userGroup"], &[], DocState::Draft)?,
        roles: Some(open("/roles", &["roleId"], &[], DocState::Draft)?),
        jobs: Some(open("/jobs", &[], &["kind", "status", "jobId"], DocState::Draft)?),
        sagas: Some(open("/sagas", &[], &["kind", "userId"], DocState::Draft)?),
        clients: Some(open("/clients", &["clientId"], &[], DocState::Public)?),
        audit: Some(open(
            "/audit",
            &[],
            &["at", "actor", "target", "action"],
            DocState::Public,
        )?),
    })
}

fn local_auth(
    db: &EmbeddedDb,
    config: &Config,
    reset_webhook_url: Option<String>,
    http: reqwest::Client,
) -> Result<LocalAuth, StartupError> {
    let header = config.headers.user_id.as_str();
    let open = |path: &str, unique: &[&str], indexed: &[&str]| {
        db.collection(path, unique, indexed, DocState::Public, header)
            .map_err(|e| StartupError::LocalAuth(format!("cannot open {path}: {e}")))
    };
    let settings = LocalAuthConfig {
        credentials: open("/credentials", &["authId", "email", "username"], &[])?,
        tokens: open("/auth-tokens", &["tokenHash"], &["kind", "userId"])?,
        key_path: Path::new(&config.data_dir).join(SIGNING_KEY_FILE),
        issuer: env!("CARGO_PKG_NAME").to_owned(),
        access_ttl: ACCESS_TOKEN_TTL,
        refresh_ttl: Duration::from_secs(30 * 24 * 3600),
        reset_ttl: Duration::from_secs(3600),
        reset_webhook_url,
        http,
        clock: Arc::new(crate::clock::SystemClock),
        lockout: config.protection.lockout.clone(),
        password_policy: config.protection.password.clone(),
    };
    LocalAuth::new(settings).map_err(|e| StartupError::LocalAuth(e.to_string()))
}

/// Access control of `AUTHZ_MODE=scopes`: tokens signed with the key under `DATA_DIR` (the local
/// provider's, when it runs), the clients in `clients` (or only the bootstrap client).
fn authz(
    config: &Config,
    clients: Option<Arc<dyn Collection>>,
    http: &reqwest::Client,
) -> Result<Authz, StartupError> {
    let key_path = Path::new(&config.data_dir).join(SIGNING_KEY_FILE);
    if !config.is_embedded() {
        crate::private_fs::create_dir(&config.data_dir)
            .map_err(|e| StartupError::LocalAuth(format!("{}: {e}", config.data_dir.display())))?;
    }
    let key = SigningKey::load_or_generate(&key_path).map_err(|e| StartupError::LocalAuth(e.to_string()))?;
    let names = names_of(config);
    let tokens = Tokens::new(
        Arc::new(key),
        env!("CARGO_PKG_NAME").to_owned(),
        ACCESS_TOKEN_TTL,
        Arc::new(crate::clock::SystemClock),
        names,
    );
    let env_client = config
        .authz
        .bootstrap
        .as_ref()
        .map(|(id, secret)| (id.clone(), secret));
    let authz = Authz::new(config.authz.mode, tokens, Clients::new(clients, env_client));
    Ok(match &config.authz.external {
        Some(issuer) => authz.with_external(ExternalTokens::new(
            issuer.clone(),
            http.clone(),
            names_of(config),
        )),
        None => authz,
    })
}

/// How scopes are spelt (`AUTHZ_SCOPE_PREFIX`).
fn names_of(config: &Config) -> ScopeNames {
    ScopeNames::new(config.authz.scope_prefix.clone())
}
