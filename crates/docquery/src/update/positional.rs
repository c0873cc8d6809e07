//! The CRUD's positional `$set` forms (`arr.$.replace`, `arr.$.merge`): the element they change is
//! the first one of the array matched by the filter's conditions on that array.

use serde_json::{Map, Value};

use super::{get_mut, set_path};
use crate::filter::{element_matches, eval_ops, eval_query};
use crate::path::get_path;
use crate::value::values_equal;
use crate::QueryError;

#[cfg(test)]
mod tests;

/// What a positional `$set` does to the matched element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// `arr.$.replace`: the element becomes the value.
    Replace,
    /// `arr.$.merge`: the value's keys are set on the (object) element.
    Merge,
}

/// Splits `arr.$.replace` / `arr.$.merge` into the array path and the mode.
pub(super) fn parse(path: &str) -> Option<(&str, Mode)> {
    let (field, mode) = match path.strip_suffix(".$.replace") {
        Some(field) => (field, Mode::Replace),
        None => (path.strip_suffix(".$.merge")?, Mode::Merge),
    };
    let plain = !field.is_empty()
        && field
            .split('.')
            .all(|seg| !seg.is_empty() && !seg.starts_with('$'));
    plain.then_some((field, mode))
}

fn no_match() -> QueryError {
    QueryError("The positional operator did not find the match needed from the query.".into())
}

/// Applies one positional `$set` on `field` of `doc`.
pub(super) fn apply(
    doc: &mut Value,
    field: &str,
    mode: Mode,
    value: &Value,
    filter: &Value,
) -> Result<(), QueryError> {
    let index = matched_index(doc, field, filter)?;
    let element_path = format!("{field}.{index}");
    match mode {
        Mode::Replace => set_path(doc, &element_path, value.clone()),
        Mode::Merge => {
            let Value::Object(changes) = value else {
                return Err(QueryError(format!("{field}.$.merge needs an object")));
            };
            if let Some(key) = changes
                .keys()
                .find(|k| k.is_empty() || k.contains('.') || k.starts_with('$'))
            {
                return Err(QueryError(format!(
                    "{field}.$.merge does not accept the key '{key}': dot-notation and operators \
                     are not allowed inside the value"
                )));
            }
            let Some(Value::Object(element)) = get_mut(doc, &element_path) else {
                return Err(QueryError(format!("{field}.$.merge needs an array of objects")));
            };
            for (k, v) in changes {
                element.insert(k.clone(), v.clone());
            }
            Ok(())
        }
    }
}

/// The index of the first element of the array at `field` satisfying every condition the filter
/// puts on `field` (top level or inside `$and`).
fn matched_index(doc: &Value, field: &str, filter: &Value) -> Result<usize, QueryError> {
    let Some(Value::Array(items)) = get_path(doc, field) else {
        return Err(no_match());
    };
    let mut conds = Vec::new();
    if let Value::Object(query) = filter {
        collect_conditions(query, field, &mut conds);
    }
    if conds.is_empty() {
        return Err(no_match());
    }
    items
        .iter()
        .position(|e| conds.iter().all(|(sub, cond)| satisfies(e, sub, cond)))
        .ok_or_else(no_match)
}

/// The conditions on `field` (`sub` empty) or on a sub-path of its elements (`field.sub`).
fn collect_conditions<'a>(query: &'a Map<String, Value>, field: &str, out: &mut Vec<(&'a str, &'a Value)>) {
    for (key, cond) in query {
        if key == "$and" {
            for sub in cond.as_array().into_iter().flatten() {
                if let Value::Object(sub) = sub {
                    collect_conditions(sub, field, out);
                }
            }
        } else if key == field {
            out.push(("", cond));
        } else if let Some(rest) = key.strip_prefix(field).and_then(|rest| rest.strip_prefix('.')) {
            out.push((rest, cond));
        }
    }
}

/// Whether one element satisfies a condition. Array-level operators (`$size`, `$all`,
/// `$exists`) do not select an element and are ignored here.
fn satisfies(element: &Value, sub: &str, cond: &Value) -> bool {
    if !sub.is_empty() {
        let mut query = Map::new();
        query.insert(sub.to_string(), cond.clone());
        return element.is_object() && eval_query(element, &query);
    }
    match cond {
        Value::Object(ops) if ops.keys().any(|k| k.starts_with('$')) => {
            let mut value_ops = Map::new();
            for (op, arg) in ops {
                match (op.as_str(), arg) {
                    ("$elemMatch", Value::Object(inner)) => {
                        if !element_matches(element, inner) {
                            return false;
                        }
                    }
                    ("$size" | "$all" | "$exists" | "$elemMatch", _) => {}
                    _ => {
                        value_ops.insert(op.clone(), arg.clone());
                    }
                }
            }
            eval_ops(&[Some(element)], &value_ops)
        }
        literal => values_equal(element, literal),
    }
}
