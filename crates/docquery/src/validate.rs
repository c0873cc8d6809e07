//! Validation of `_q` filters: which operators the CRUD Service accepts and the shape of their
//! arguments (`Unknown operator: $nor`, `Unsupported operator: $not`, ...).

use regex::{Regex, RegexBuilder};
use serde_json::{Map, Value};

use crate::QueryError;

/// Operators that only make sense at the top level of a query (MongoDB's list); an `$elemMatch`
/// or `$pull` condition starting with one of these is a query on the elements' fields.
const TOP_LEVEL_ONLY: &[&str] = &[
    "$and",
    "$or",
    "$nor",
    "$text",
    "$where",
    "$expr",
    "$comment",
    "$jsonSchema",
];

/// Checks that `filter` only uses operators the CRUD Service accepts (`Unknown operator: $nor`,
/// `Unsupported operator: $not`) and that their arguments have the right shape.
///
/// Top-level `$` keys may be `$and` and `$or` (`$text` is rejected as unsupported); field
/// operators are `$eq $ne $gt $gte $lt $lte $in $nin $all $exists $regex $options $elemMatch $size`.
pub fn validate_filter(filter: &Value) -> Result<(), QueryError> {
    match filter {
        Value::Object(query) => validate_query(query),
        _ => Err(QueryError("The filter must be a JSON object".into())),
    }
}

/// Validates a query object (the top level, an `$and`/`$or` entry or an `$elemMatch` query).
pub(crate) fn validate_query(query: &Map<String, Value>) -> Result<(), QueryError> {
    for (key, cond) in query {
        match key.as_str() {
            "$and" | "$or" => validate_logical(key, cond)?,
            "$text" => return Err(QueryError("Unsupported operator: $text".into())),
            k if k.starts_with('$') => return Err(QueryError(format!("Unknown operator: {k}"))),
            field => validate_field(field, cond)?,
        }
    }
    Ok(())
}

fn validate_logical(op: &str, arg: &Value) -> Result<(), QueryError> {
    let Value::Array(items) = arg else {
        return Err(QueryError(format!("{op} must be an array")));
    };
    if items.is_empty() {
        return Err(QueryError(format!("{op} must be a non-empty array")));
    }
    for item in items {
        let Value::Object(query) = item else {
            return Err(QueryError(format!("{op} entries must be objects")));
        };
        validate_query(query)?;
    }
    Ok(())
}

fn validate_field(field: &str, cond: &Value) -> Result<(), QueryError> {
    crate::Limits::STORE.check_path(field)?;
    if field.split('.').any(str::is_empty) {
        return Err(QueryError(format!("Invalid field name: '{field}'")));
    }
    match operator_object(field, cond)? {
        Some(ops) => validate_ops(field, ops),
        None => Ok(()),
    }
}

/// `Some(ops)` when `cond` is an object of operators (`{"$gt": 1}`), `None` for a literal value;
/// an object mixing operators and plain fields is an error.
pub(crate) fn operator_object<'a>(
    field: &str,
    cond: &'a Value,
) -> Result<Option<&'a Map<String, Value>>, QueryError> {
    let Value::Object(m) = cond else {
        return Ok(None);
    };
    let operators = m.keys().filter(|k| k.starts_with('$')).count();
    if operators == 0 {
        Ok(None)
    } else if operators == m.len() {
        Ok(Some(m))
    } else {
        Err(QueryError(format!(
            "Cannot mix operators and plain fields in the condition on '{field}'"
        )))
    }
}

/// Whether an object holds operators rather than plain fields (for an already validated filter).
pub(crate) fn is_operator_object(m: &Map<String, Value>) -> bool {
    m.keys().any(|k| k.starts_with('$'))
}

/// MongoDB's rule for `$elemMatch` and `$pull` conditions: an object whose first key is a field
/// operator (`{"$gte": 80}`) applies to each element as a value; otherwise (plain fields, or
/// `$and`/`$or`) it is a query on each element's fields.
pub(crate) fn is_value_condition(m: &Map<String, Value>) -> bool {
    m.keys()
        .next()
        .is_some_and(|k| k.starts_with('$') && !TOP_LEVEL_ONLY.contains(&k.as_str()))
}

/// Validates an object of field operators applied to `field`.
pub(crate) fn validate_ops(field: &str, ops: &Map<String, Value>) -> Result<(), QueryError> {
    for (op, arg) in ops {
        match op.as_str() {
            "$eq" | "$ne" | "$gt" | "$gte" | "$lt" | "$lte" => {}
            "$in" | "$nin" => {
                if !arg.is_array() {
                    return Err(QueryError(format!("{op} needs an array")));
                }
            }
            "$all" => {
                let Value::Array(items) = arg else {
                    return Err(QueryError("$all needs an array".into()));
                };
                for item in items {
                    if let Some(inner) = all_elem_match(item) {
                        validate_elem_match(field, inner)?;
                    }
                }
            }
            "$exists" => {
                if !(arg.is_boolean() || arg.is_number()) {
                    return Err(QueryError("$exists needs a boolean".into()));
                }
            }
            "$regex" => {
                build_regex(arg, ops.get("$options"))?;
            }
            "$options" => {
                if !ops.contains_key("$regex") {
                    return Err(QueryError("$options needs a $regex".into()));
                }
            }
            "$elemMatch" => validate_elem_match(field, arg)?,
            "$size" => {
                if size_arg(arg).is_none() {
                    return Err(QueryError("$size needs a non-negative integer".into()));
                }
            }
            other => return Err(QueryError(format!("Unsupported operator: {other}"))),
        }
    }
    Ok(())
}

/// The inner condition of an `$all` item written as `{"$elemMatch": {...}}`.
pub(crate) fn all_elem_match(item: &Value) -> Option<&Value> {
    match item {
        Value::Object(m) if m.len() == 1 => m.get("$elemMatch"),
        _ => None,
    }
}

fn validate_elem_match(field: &str, arg: &Value) -> Result<(), QueryError> {
    let Value::Object(m) = arg else {
        return Err(QueryError("$elemMatch needs an object".into()));
    };
    validate_condition(field, m)
}

/// Validates an `$elemMatch`/`$pull` condition object (see [`is_value_condition`]).
pub(crate) fn validate_condition(field: &str, m: &Map<String, Value>) -> Result<(), QueryError> {
    if is_value_condition(m) {
        if !m.keys().all(|k| k.starts_with('$')) {
            return Err(QueryError(format!(
                "Cannot mix operators and plain fields in the condition on '{field}'"
            )));
        }
        validate_ops(field, m)
    } else {
        validate_query(m)
    }
}

/// The argument of `$size` as a length: a non-negative integer (an integral float is accepted).
pub(crate) fn size_arg(arg: &Value) -> Option<usize> {
    if let Some(n) = arg.as_u64() {
        return usize::try_from(n).ok();
    }
    match arg.as_f64() {
        Some(f) if f >= 0.0 && f.fract() == 0.0 && f <= u32::MAX as f64 => Some(f as usize),
        _ => None,
    }
}

/// Compiles a `$regex` pattern with its `$options` (flags `i`, `m`, `s`, `x`).
pub(crate) fn build_regex(pattern: &Value, options: Option<&Value>) -> Result<Regex, QueryError> {
    let Value::String(pattern) = pattern else {
        return Err(QueryError("$regex has to be a string".into()));
    };
    let flags = match options {
        None => "",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(QueryError("$options has to be a string".into())),
    };
    let mut builder = RegexBuilder::new(pattern);
    for flag in flags.chars() {
        match flag {
            'i' => builder.case_insensitive(true),
            'm' => builder.multi_line(true),
            's' => builder.dot_matches_new_line(true),
            'x' => builder.ignore_whitespace(true),
            other => return Err(QueryError(format!("invalid flag in regex options: {other}"))),
        };
    }
    builder.build().map_err(|e| {
        let text = e.to_string();
        let reason = text
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("invalid pattern");
        let reason = reason.strip_prefix("error: ").unwrap_or(reason);
        QueryError(format!("Invalid $regex '{pattern}': {reason}"))
    })
}
