//! Sorting: parsing `_s` (`name,-createdAt`) and ordering documents with MongoDB's cross-type
//! order.

use std::cmp::Ordering;

use serde_json::Value;

use crate::path::get_path;
use crate::value::compare_values;
use crate::QueryError;

#[cfg(test)]
mod tests;

/// One sort key of `_s`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortKey {
    /// Dotted field path.
    pub path: String,
    /// Descending (`-field`).
    pub descending: bool,
}

/// Parses `_s` (`name,-createdAt`, nested keys such as `address.city` allowed).
///
/// Empty segments (`a,,b`, a trailing comma, an empty spec) and invalid names (empty dotted
/// segments, a leading `$` or a second `-`, whitespace or control characters) are rejected.
pub fn parse_sort(spec: &str) -> Result<Vec<SortKey>, QueryError> {
    spec.split(',')
        .map(|segment| {
            let (descending, name) = match segment.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, segment),
            };
            if name.is_empty() {
                return Err(QueryError(format!("Invalid sort '{spec}': empty field name")));
            }
            if !valid_field_path(name) {
                return Err(QueryError(format!("Invalid sort field: '{segment}'")));
            }
            Ok(SortKey {
                path: name.to_string(),
                descending,
            })
        })
        .collect()
}

fn valid_field_path(name: &str) -> bool {
    !name.starts_with('-')
        && name.split('.').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('$')
                && !seg.chars().any(|c| c.is_whitespace() || c.is_control())
        })
}

/// Orders two documents by `keys` with MongoDB's cross-type ordering (missing/null < numbers <
/// strings < objects < arrays < booleans); a full tie is `Equal`.
///
/// Arrays compare as whole values (element by element), not by their smallest/largest element.
pub fn compare(a: &Value, b: &Value, keys: &[SortKey]) -> Ordering {
    for key in keys {
        let o = compare_values(get_path(a, &key.path), get_path(b, &key.path));
        let o = if key.descending { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}
