//! The document semantics of the Mia-Platform CRUD Service over `serde_json::Value` documents:
//! `_q` filters, update operators, sorting, projection and the `__STATE__` machine; plus what the
//! CRUD fake and the embedded store both build on them: the selection of a request (states, id,
//! ANDed filter parts, index hints), query-string field filters, `acl_rows` and `_rawp` parsing,
//! index keys, ObjectId-like ids, timestamps, the standard fields of writes and update-body checks.
//!
//! Shared by the service (to compute a document after a PATCH and validate it), the CRUD Service
//! fake and the embedded store, so the three agree on one reading of the contract.
//! Contract: `shared/contracts/crud-service.md` §2–§4.
//!
//! ```
//! use serde_json::json;
//!
//! let mut user = json!({"_id": "1", "name": "Ada", "roles": ["admin"], "logins": 1});
//! assert_eq!(docquery::matches(&user, &json!({"roles": "admin", "logins": {"$gte": 1}})), Ok(true));
//! docquery::apply_update(&mut user, &json!({"$inc": {"logins": 1}}), "2024-01-01T00:00:00.000Z")?;
//! assert_eq!(user["logins"], 2);
//! let keys = docquery::parse_sort("-logins,name")?;
//! assert_eq!(docquery::compare(&user, &json!({"logins": 1}), &keys), std::cmp::Ordering::Less);
//! assert_eq!(docquery::project(&user, &["name".to_string()]), json!({"_id": "1", "name": "Ada"}));
//! # Ok::<(), docquery::QueryError>(())
//! ```

mod fields;
mod filter;
mod limits;
mod path;
mod project;
mod selection;
mod sort;
mod state;
mod update;
mod validate;
mod value;
mod writes;

pub use fields::{
    field_filter, index_key, parse_raw_projection, split_list, RawProjection, COMPOSITE_KEY_PREFIX,
};
pub use filter::matches;
pub use limits::{depth, drop_iteratively, Limit, LimitError, Limits, MAX_ARRAY_PADDING};
pub use path::{get_path, remove_path};
pub use project::project;
pub use selection::{check_filter, parse_acl_rows, Selection};
pub use sort::{compare, parse_sort, SortKey};
pub use state::{bulk_sources, transition_allowed, State};
pub use update::{apply_update, apply_update_with_filter, RESERVED_FIELDS, UPDATE_OPERATORS};
pub use validate::validate_filter;
pub use value::{compare_values, values_equal};
pub use writes::{
    check_update, imported_document, is_noop, new_document, now_iso, split_update, touch, writer_id, IdGen,
    PROTECTED_FIELDS,
};

/// A filter or update the CRUD Service would reject with 400; the message is the CRUD one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);
