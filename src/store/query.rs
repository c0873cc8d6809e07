//! Query types of the `Collection` port (`_q`, `_st`, `_p`, `_s`, `_l`, `_sk`, field filters)
//! and their encoding to / parsing from CRUD Service query strings.

use serde_json::Value;

/// The `__STATE__` of a document (contracts/crud-service.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DocState {
    /// Visible to default reads.
    Public,
    /// The CRUD default on insert; invisible to default reads.
    Draft,
    /// Soft-deleted, recoverable.
    Trash,
    /// Deleted (still a row).
    Deleted,
}

impl DocState {
    /// Wire name: `PUBLIC`, `DRAFT`, `TRASH`, `DELETED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "PUBLIC",
            Self::Draft => "DRAFT",
            Self::Trash => "TRASH",
            Self::Deleted => "DELETED",
        }
    }
}

/// `_st`: the states a filter accepts. `None` in [`Filter::state`] means the store default (PUBLIC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateFilter(pub Vec<DocState>);

/// The filter inputs every filtering route accepts, ANDed together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// `_q`: a MongoDB-style filter.
    pub q: Option<Value>,
    /// `_st`: accepted states; `None` = default (PUBLIC).
    pub state: Option<StateFilter>,
    /// `field=value` equality filters, values as they travel on the wire.
    pub fields: Vec<(String, String)>,
    /// `_id` equality (list, count, patch many, delete many, bulk patch items).
    pub id: Option<String>,
}

/// A list or export query: a filter plus projection, sort and paging.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindQuery {
    /// What to match.
    pub filter: Filter,
    /// `_p`: the fields to return (`_id` always comes back).
    pub projection: Option<Vec<String>>,
    /// `_rawp`: a raw projection, passed through as JSON text.
    pub raw_projection: Option<String>,
    /// `_s`: sort keys, `-` prefix for descending, as on the wire (`name,-createdAt`).
    pub sort: Option<String>,
    /// `_l`: page size (CRUD default 25, max 200 on lists; no limit on export).
    pub limit: Option<u32>,
    /// `_sk`: documents to skip.
    pub skip: Option<u64>,
}
