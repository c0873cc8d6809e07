//! The embedded store: the `Collection` port on SQLite, in one file under `DATA_DIR`, with the
//! semantics of the CRUD Service contract (contracts/crud-service.md) that the service uses.
//!
//! Each collection is one table: `seq` (insertion order), `id` (`_id`, unique), `state`
//! (`__STATE__`), `doc` (the JSON document) and one column per unique or indexed field, holding
//! the field's index key. Filters are evaluated with `docquery`; the `id` and field indexes narrow
//! the candidates when a filter has an equality or `$in` on them, otherwise the table is scanned
//! page by page. The connection sits behind a mutex and is only used from `spawn_blocking`.
//! Tests: unit tests in `tests.rs` (durability, index use, concurrency), `store_contract` (the
//! same suite against the CRUD fake and this store).

mod audit;
mod bodies;
mod collection;
mod cursor;
mod export;
#[cfg(test)]
mod index_tests;
mod indexes;
mod ops;
mod plan;
mod request;
mod schema;
mod select;
mod states;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::Connection;

use collection::EmbeddedCollection;

use crate::failure::{CallName, Cause, Failure};
use crate::private_fs;
use crate::store::StoreError;
use crate::store::{Collection, DocState};

/// The service name of embedded-store calls in errors and logs.
const SERVICE: &str = "embedded store";
/// How long a write waits for another process holding the database file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the embedded database or one of its collections could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The directory of the database file could not be created.
    #[error("cannot create the directory of the embedded store {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database file could not be created.
    #[error("cannot create the embedded store file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// SQLite refused (unreadable file, or stored documents breaking a new unique index).
    #[error("embedded store (SQLite): {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A collection path without a name.
    #[error("embedded store: invalid collection path {0:?}")]
    InvalidPath(String),
}

/// One SQLite database holding every embedded collection.
#[derive(Clone, Debug)]
pub struct EmbeddedDb {
    conn: Arc<Mutex<Connection>>,
}

impl EmbeddedDb {
    /// Opens (creating) the SQLite file at `path` (WAL, synchronous=NORMAL, busy timeout); the
    /// parent directory is created when missing. It holds password and token hashes: a missing
    /// directory is created 0700 and a missing file 0600 before SQLite opens it (SQLite gives its
    /// `-wal` and `-shm` files the mode of the database file).
    pub fn open(path: &Path) -> Result<Self, EmbeddedError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_fs::create_dir(dir).map_err(|source| EmbeddedError::Directory {
                path: dir.to_owned(),
                source,
            })?;
        }
        private_fs::create_file(path).map_err(|source| EmbeddedError::File {
            path: path.to_owned(),
            source,
        })?;
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, path = %path.display(), "embedded store: WAL journal not available");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(Self::with(conn))
    }

    /// An in-memory database (tests).
    pub fn in_memory() -> Result<Self, EmbeddedError> {
        Ok(Self::with(Connection::open_in_memory()?))
    }

    fn with(conn: Connection) -> Self {
        conn.set_prepared_statement_cache_capacity(128);
        Self {
            conn: Arc::new(Mutex::new(conn)),
        }
    }

    /// The collection `path` (e.g. "/users"), created on first use; `unique` fields get unique
    /// indexes, `indexed` fields plain indexes (`_id` is always indexed); `default_state` for
    /// inserts without `__STATE__` (the CRUD default is DRAFT); `user_id_header` names the
    /// forwarded header whose value becomes `creatorId`/`updaterId` (`"public"` without it).
    ///
    /// Opening a collection again with other fields adds or drops their columns and indexes.
    pub fn collection(
        &self,
        path: &str,
        unique: &[&str],
        indexed: &[&str],
        default_state: DocState,
        user_id_header: &str,
    ) -> Result<Arc<dyn Collection>, EmbeddedError> {
        self.open_collection(path, unique, indexed, default_state, user_id_header)
            .map(|c| Arc::new(c) as Arc<dyn Collection>)
    }

    /// [`EmbeddedDb::collection`] as its concrete type.
    fn open_collection(
        &self,
        path: &str,
        unique: &[&str],
        indexed: &[&str],
        default_state: DocState,
        user_id_header: &str,
    ) -> Result<EmbeddedCollection, EmbeddedError> {
        if path.trim_matches('/').is_empty() {
            return Err(EmbeddedError::InvalidPath(path.to_owned()));
        }
        let table = schema::prepare(&mut lock(&self.conn), path, unique, indexed)?;
        Ok(EmbeddedCollection::new(
            self.conn.clone(),
            table,
            default_state,
            user_id_header.to_ascii_lowercase(),
        ))
    }
}

/// Locks the connection, recovering from poisoning (an interrupted transaction rolls back).
fn lock(conn: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How one store operation failed, before it is named as a call.
#[derive(Debug)]
pub(super) enum OpError {
    /// What the CRUD Service answers with 400 (`message` is its text).
    Rejected(String),
    /// A unique index violation: the field taken, and that in words.
    Conflict {
        /// The field.
        field: String,
        /// `a user with this email already exists`.
        message: String,
    },
    /// SQLite failed.
    Sqlite(rusqlite::Error),
    /// Something else failed on our side (corrupt row, update failing on a document).
    Internal(String),
}

impl From<rusqlite::Error> for OpError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(error)
    }
}

impl OpError {
    /// The port error of `call`; causes not shown to callers are logged.
    fn into_error(self, call: CallName) -> StoreError {
        match self {
            Self::Rejected(message) => StoreError::Invalid(message),
            Self::Conflict { field, message } => StoreError::Conflict {
                field: Some(field),
                message,
            },
            Self::Sqlite(error) => {
                tracing::error!(call = %call, %error, "embedded store: SQLite failed");
                Failure::new(call, Cause::Failed { status: None }).into()
            }
            Self::Internal(message) => {
                tracing::error!(call = %call, %message, "embedded store: operation failed");
                Failure::new(call, Cause::Failed { status: None }).into()
            }
        }
    }
}
