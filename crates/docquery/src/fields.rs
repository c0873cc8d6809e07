//! Query-string helpers shared by the CRUD fake and the embedded store: plain field filters
//! (`field=value`) with their value coercion, comma-separated lists (`_p`, `acl_read_columns`),
//! the `_rawp` projection object and the canonical key of a value in an index.

use serde_json::{json, Map, Value};

use crate::QueryError;

#[cfg(test)]
mod tests;

/// `field=value` as a filter part: the value coerced as Ajv would for a boolean or number field,
/// the raw string matching too (there is no schema to tell the field's type).
pub fn field_filter(field: &str, value: &str) -> Value {
    let coerced = match value {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => value.parse::<i64>().ok().map(Value::from).or_else(|| {
            value
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && !value.contains(|c: char| c.is_alphabetic()))
                .map(Value::from)
        }),
    };
    let condition = match coerced {
        Some(c) => json!({ "$in": [c, value] }),
        None => Value::String(value.to_owned()),
    };
    let mut obj = Map::new();
    obj.insert(field.to_owned(), condition);
    Value::Object(obj)
}

/// The trimmed, non-empty items of a comma-separated list.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A `_rawp` object split into its included and excluded fields (at most one list is non-empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawProjection {
    /// Fields with a true flag (`{"a": 1}`).
    pub include: Vec<String>,
    /// Fields with a false flag (`{"a": 0}`).
    pub exclude: Vec<String>,
}

/// Parses `_rawp`: an inclusion or exclusion projection (`{"a":1}` / `{"a":0}`); `who` names the
/// implementation in the message refusing any other projection operator.
pub fn parse_raw_projection(raw: &str, who: &str) -> Result<RawProjection, QueryError> {
    let value: Value =
        serde_json::from_str(raw).map_err(|e| QueryError(format!("_rawp is not valid JSON: {e}")))?;
    let obj = value
        .as_object()
        .ok_or_else(|| QueryError("_rawp must be an object".to_owned()))?;
    let mut out = RawProjection::default();
    for (key, flag) in obj {
        let flag = match flag {
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            _ => {
                return Err(QueryError(format!(
                    "_rawp: {who} supports only inclusion/exclusion, not {key}"
                )))
            }
        };
        if flag {
            out.include.push(key.clone());
        } else {
            out.exclude.push(key.clone());
        }
    }
    if !out.include.is_empty() && !out.exclude.is_empty() {
        return Err(QueryError("_rawp cannot mix inclusion and exclusion".to_owned()));
    }
    Ok(out)
}

/// The canonical key of a value in an index: `None` for null (never indexed, so never a
/// duplicate). Numbers compare by value (`1` and `1.0` share a key); arrays and objects get keys
/// starting with `j` ([`COMPOSITE_KEY_PREFIX`]).
///
/// Keys of scalars sort (byte-wise, as SQLite's `BINARY` collation and Rust's `str` do) in the
/// order of [`crate::compare_values`]: numbers (`c` + 16 hex digits of the double, sign-flipped so
/// that the order is numeric), then strings (`d` + the string), then booleans (`x0`, `x1`); null
/// and missing come first as no key. Integers beyond 2^53 sort as their nearest double.
pub fn index_key(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Number(n) => Some(format!("c{:016x}", ordered_bits(n.as_f64().unwrap_or(0.0)))),
        Value::String(s) => Some(format!("d{s}")),
        Value::Bool(b) => Some(if *b { "x1" } else { "x0" }.to_owned()),
        other => Some(format!("{COMPOSITE_KEY_PREFIX}{other}")),
    }
}

/// The first character of the key of an array or an object.
pub const COMPOSITE_KEY_PREFIX: char = 'j';

/// The bits of `x` as an unsigned integer in the numeric order of `x` (`-0.0` as `0.0`).
fn ordered_bits(x: f64) -> u64 {
    let x = if x == 0.0 { 0.0 } else { x };
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}
