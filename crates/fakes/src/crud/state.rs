//! The shared state of a CRUD fake and its inspection and fault-injection API.

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use docquery::State;
use serde_json::Value;

use crate::chaos::{Chaos, RandomFaults};

use super::faults::Faults;
use super::store::{CollectionCell, InsertError};
use super::{normalize_path, read, write, CollectionConfig};

/// Why a direct manipulation of the fake's data failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CrudFakeError {
    /// No collection is served under this path.
    #[error("no collection at {0}")]
    UnknownCollection(String),
    /// The document is not an object, or its `_id` is not a string.
    #[error("invalid document: {0}")]
    InvalidDocument(String),
    /// A unique index (or `_id`) is already taken; the E11000 message.
    #[error("{0}")]
    Duplicate(String),
}

#[derive(Debug)]
pub(crate) struct Inner {
    /// Collections, longest path first (so `/a/b` wins over `/a`).
    pub collections: Vec<CollectionCell>,
    /// Lower-cased name of the user id header.
    pub user_id_header: String,
    pub faults: Faults,
    pub ids: docquery::IdGen,
    /// Random faults (`/-/faults`).
    pub chaos: Arc<Chaos>,
}

/// The shared, cheaply clonable state of a CRUD fake: its collections, pending faults and
/// request counters. Usable while the fake serves requests.
#[derive(Clone, Debug)]
pub struct CrudFakeState {
    pub(crate) inner: Arc<Inner>,
}

impl CrudFakeState {
    pub(crate) fn new(
        configs: Vec<CollectionConfig>,
        default_state: State,
        user_id_header: String,
        random_faults: &RandomFaults,
    ) -> Self {
        let mut collections: Vec<CollectionCell> = configs
            .into_iter()
            .map(|c| {
                let state = c.default_state.unwrap_or(default_state);
                CollectionCell::new(c.path, &c.unique, &c.indexed, state)
            })
            .collect();
        collections.sort_by_key(|c| std::cmp::Reverse(c.path.len()));
        Self {
            inner: Arc::new(Inner {
                collections,
                user_id_header,
                faults: Faults::default(),
                ids: docquery::IdGen::new(),
                chaos: Arc::new(Chaos::new("crud-fake", random_faults)),
            }),
        }
    }

    /// The collection serving `path` and the rest of the path after the collection prefix.
    pub(crate) fn find<'a>(&self, path: &'a str) -> Option<(&CollectionCell, &'a str)> {
        self.inner.collections.iter().find_map(|cell| {
            let rest = path.strip_prefix(cell.path.as_str())?;
            (rest.is_empty() || rest.starts_with('/')).then_some((cell, rest))
        })
    }

    fn cell(&self, path: &str) -> Option<&CollectionCell> {
        let path = normalize_path(path);
        self.inner.collections.iter().find(|c| c.path == path)
    }

    /// The paths of the served collections.
    pub fn collection_paths(&self) -> Vec<String> {
        self.inner.collections.iter().map(|c| c.path.clone()).collect()
    }

    /// Every document of the collection at `path`, all states, in insertion order (empty for an
    /// unknown collection).
    pub fn documents(&self, path: &str) -> Vec<Value> {
        self.cell(path)
            .map(|cell| read(&cell.data).iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The document `id` of the collection at `path`, whatever its state.
    pub fn document(&self, path: &str, id: &str) -> Option<Value> {
        self.cell(path).and_then(|cell| read(&cell.data).get(id).cloned())
    }

    /// Inserts `doc` as is (its `_id`, `__STATE__` and metadata are kept; a missing `_id` is
    /// generated) and returns its `_id`. Unique indexes still apply.
    pub fn insert_raw(&self, path: &str, doc: Value) -> Result<String, CrudFakeError> {
        let cell = self
            .cell(path)
            .ok_or_else(|| CrudFakeError::UnknownCollection(path.to_owned()))?;
        let Value::Object(mut obj) = doc else {
            return Err(CrudFakeError::InvalidDocument("not an object".into()));
        };
        let mut coll = write(&cell.data);
        if !obj.contains_key("_id") {
            let mut id = self.inner.ids.next();
            while coll.contains(&id) {
                id = self.inner.ids.next();
            }
            // `_id` first, as MongoDB stores it.
            obj.shift_insert(0, "_id".into(), Value::String(id));
        }
        coll.insert(Value::Object(obj)).map_err(|err| match err {
            InsertError::MissingId => CrudFakeError::InvalidDocument("_id must be a string".into()),
            InsertError::Duplicate(dup) => CrudFakeError::Duplicate(dup.message(&cell.path)),
        })
    }

    /// Removes every document of the collection at `path`.
    pub fn clear(&self, path: &str) {
        if let Some(cell) = self.cell(path) {
            write(&cell.data).clear();
        }
    }

    /// The next `count` requests with `method` whose path starts with `path_prefix` answer
    /// `status` with a CRUD error body (`{"error":"not found"}` for 404), without being served.
    pub fn fail_next(&self, method: Method, path_prefix: &str, status: u16, count: usize) {
        self.inner.faults.fail_next(method, path_prefix, status, count);
    }

    /// The next `count` requests with `method` whose path starts with `path_prefix` wait `delay`
    /// before being served (or failed by [`Self::fail_next`]).
    pub fn delay_next(&self, method: Method, path_prefix: &str, delay: Duration, count: usize) {
        self.inner.faults.delay_next(method, path_prefix, delay, count);
    }

    /// Drops every pending failure and delay.
    pub fn clear_faults(&self) {
        self.inner.faults.clear();
    }

    /// How many requests with `method` and a path starting with `path_prefix` arrived (faulted
    /// ones included).
    pub fn request_count(&self, method: Method, path_prefix: &str) -> usize {
        self.inner.faults.request_count(&method, path_prefix)
    }

    /// Resets the request counters.
    pub fn reset_request_counts(&self) {
        self.inner.faults.reset_counts();
    }

    /// The random fault controller (settings, counters), also reachable at `/-/faults`.
    pub fn random_faults(&self) -> &Chaos {
        &self.inner.chaos
    }
}
