//! The document semantics of the Mia-Platform CRUD Service over `serde_json::Value` documents:
//! `_q` filters, update operators, sorting, projection and the `__STATE__` machine.
//!
//! Shared by the service (to compute a document after a PATCH and validate it), the CRUD Service
//! fake and the embedded store, so the three agree on one reading of the contract.
//! Contract: `shared/contracts/crud-service.md` §2–§4.

use serde_json::Value;

/// A filter or update the CRUD Service would reject with 400; the message is the CRUD one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

/// Checks that `filter` only uses operators the CRUD Service accepts (`Unknown operator: $nor`,
/// `Unsupported operator: $not`).
pub fn validate_filter(filter: &Value) -> Result<(), QueryError> {
    let _ = filter;
    Err(QueryError("not implemented yet".into()))
}

/// Whether `doc` matches the MongoDB-style `filter` (the `_q` subset of the contract).
pub fn matches(doc: &Value, filter: &Value) -> Result<bool, QueryError> {
    let _ = (doc, filter);
    Err(QueryError("not implemented yet".into()))
}

/// Applies CRUD update operators (`$set $unset $inc $mul $currentDate $push $addToSet $pull`,
/// dotted paths) to `doc` in place. `now` is the ISO timestamp used by `$currentDate`.
pub fn apply_update(doc: &mut Value, update: &Value, now: &str) -> Result<(), QueryError> {
    let _ = (doc, update, now);
    Err(QueryError("not implemented yet".into()))
}

/// One sort key of `_s`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortKey {
    /// Dotted field path.
    pub path: String,
    /// Descending (`-field`).
    pub descending: bool,
}

/// Parses `_s` (`name,-createdAt`).
pub fn parse_sort(spec: &str) -> Result<Vec<SortKey>, QueryError> {
    let _ = spec;
    Err(QueryError("not implemented yet".into()))
}

/// Orders two documents by `keys` with MongoDB's cross-type ordering.
pub fn compare(a: &Value, b: &Value, keys: &[SortKey]) -> std::cmp::Ordering {
    let _ = (a, b, keys);
    std::cmp::Ordering::Equal
}

/// Keeps only `fields` (plus `_id`) of `doc`.
pub fn project(doc: &Value, fields: &[String]) -> Value {
    let _ = fields;
    doc.clone()
}

/// Reads a dotted path (`address.city`) of `doc`.
pub fn get_path<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(doc, |v, k| v.get(k))
}

/// The four document states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// PUBLIC
    Public,
    /// DRAFT
    Draft,
    /// TRASH
    Trash,
    /// DELETED
    Deleted,
}

impl State {
    /// Parses `PUBLIC`/`DRAFT`/`TRASH`/`DELETED`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PUBLIC" => Some(Self::Public),
            "DRAFT" => Some(Self::Draft),
            "TRASH" => Some(Self::Trash),
            "DELETED" => Some(Self::Deleted),
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "PUBLIC",
            Self::Draft => "DRAFT",
            Self::Trash => "TRASH",
            Self::Deleted => "DELETED",
        }
    }
}

/// `POST /:id/state`: whether `from → to` is allowed (same state allowed; a document without a
/// state, `None`, may go anywhere).
pub fn transition_allowed(from: Option<State>, to: State) -> bool {
    let _ = (from, to);
    false
}

/// `POST /state`: the source states that may move to `to` (PUBLIC←{DRAFT}, DRAFT←{PUBLIC,TRASH},
/// TRASH←{PUBLIC,DRAFT,DELETED}, DELETED←{TRASH}).
pub fn bulk_sources(to: State) -> &'static [State] {
    let _ = to;
    &[]
}
