//! The array update operators `$push` (with `$each $position $slice $sort`), `$addToSet` and
//! `$pull`.

use serde_json::{Map, Value};

use super::{get_mut, set_path};
use crate::filter::element_matches;
use crate::sort::{compare, SortKey};
use crate::validate::validate_condition;
use crate::value::{compare_values, values_equal};
use crate::QueryError;

/// The array at `path`; a missing field becomes `[]` when `create`, otherwise `None`.
fn array_at<'a>(
    work: &'a mut Value,
    op: &str,
    path: &str,
    create: bool,
) -> Result<Option<&'a mut Vec<Value>>, QueryError> {
    if create && get_mut(work, path).is_none() {
        set_path(work, path, Value::Array(Vec::new()))?;
    }
    match get_mut(work, path) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(other) => Err(QueryError(format!(
            "{op} needs an array but the field {path} is of type {}",
            type_name(other)
        ))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An integer argument (an integral float is accepted).
fn int_arg(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < i64::MAX as f64)
            .map(|f| f as i64)
    })
}

/// How `$push` orders the array after inserting (`$sort`).
enum PushSort {
    Values { descending: bool },
    Fields(Vec<SortKey>),
}

fn sort_direction(v: &Value, path: &str) -> Result<bool, QueryError> {
    match int_arg(v) {
        Some(1) => Ok(false),
        Some(-1) => Ok(true),
        _ => Err(QueryError(format!(
            "$sort in $push on {path} needs 1 or -1 (or an object of fields with 1 or -1)"
        ))),
    }
}

fn push_sort(v: &Value, path: &str) -> Result<PushSort, QueryError> {
    match v {
        Value::Object(m) if !m.is_empty() => m
            .iter()
            .map(|(field, dir)| {
                Ok(SortKey {
                    path: field.clone(),
                    descending: sort_direction(dir, path)?,
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(PushSort::Fields),
        other => Ok(PushSort::Values {
            descending: sort_direction(other, path)?,
        }),
    }
}

/// `$push`: a plain item, or `{"$each": [...], "$position": n, "$slice": n, "$sort": s}`.
pub(super) fn push(work: &mut Value, path: &str, arg: &Value) -> Result<(), QueryError> {
    let (items, position, slice, sort) = match arg {
        Value::Object(m) if m.contains_key("$each") => parse_push_modifiers(m, path)?,
        Value::Object(m) if m.keys().any(|k| k.starts_with('$')) => {
            return Err(QueryError(format!("$push modifiers on {path} need $each")))
        }
        item => (vec![item.clone()], None, None, None),
    };
    let Some(arr) = array_at(work, "$push", path, true)? else {
        return Ok(());
    };
    let at = match position {
        None => arr.len(),
        Some(p) if p >= 0 => usize::try_from(p).unwrap_or(usize::MAX).min(arr.len()),
        Some(p) => arr
            .len()
            .saturating_sub(usize::try_from(p.unsigned_abs()).unwrap_or(usize::MAX)),
    };
    arr.splice(at..at, items);
    match sort {
        Some(PushSort::Values { descending }) => arr.sort_by(|a, b| {
            let o = compare_values(Some(a), Some(b));
            if descending {
                o.reverse()
            } else {
                o
            }
        }),
        Some(PushSort::Fields(keys)) => arr.sort_by(|a, b| compare(a, b, &keys)),
        None => {}
    }
    if let Some(n) = slice {
        let keep = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
        if n >= 0 {
            arr.truncate(keep);
        } else if arr.len() > keep {
            arr.drain(..arr.len() - keep);
        }
    }
    Ok(())
}

type PushModifiers = (Vec<Value>, Option<i64>, Option<i64>, Option<PushSort>);

fn parse_push_modifiers(m: &Map<String, Value>, path: &str) -> Result<PushModifiers, QueryError> {
    let (mut items, mut position, mut slice, mut sort) = (Vec::new(), None, None, None);
    for (key, v) in m {
        match key.as_str() {
            "$each" => {
                let Value::Array(each) = v else {
                    return Err(QueryError(format!("$each in $push on {path} needs an array")));
                };
                items = each.clone();
            }
            "$position" => {
                position =
                    Some(int_arg(v).ok_or_else(|| {
                        QueryError(format!("$position in $push on {path} needs an integer"))
                    })?);
            }
            "$slice" => {
                slice = Some(
                    int_arg(v)
                        .ok_or_else(|| QueryError(format!("$slice in $push on {path} needs an integer")))?,
                );
            }
            "$sort" => sort = Some(push_sort(v, path)?),
            other => {
                return Err(QueryError(format!(
                    "Unrecognized modifier {other} in $push on {path}"
                )))
            }
        }
    }
    Ok((items, position, slice, sort))
}

/// `$addToSet`: a plain item or `{"$each": [...]}`, skipping values already present.
pub(super) fn add_to_set(work: &mut Value, path: &str, arg: &Value) -> Result<(), QueryError> {
    let items = match arg {
        Value::Object(m) if m.keys().any(|k| k.starts_with('$')) => match (m.len(), m.get("$each")) {
            (1, Some(Value::Array(each))) => each.clone(),
            (1, Some(_)) => return Err(QueryError(format!("$each in $addToSet on {path} needs an array"))),
            _ => {
                return Err(QueryError(format!(
                    "$addToSet on {path} only supports the $each modifier"
                )))
            }
        },
        item => vec![item.clone()],
    };
    let Some(arr) = array_at(work, "$addToSet", path, true)? else {
        return Ok(());
    };
    for item in items {
        if !arr.iter().any(|e| values_equal(e, &item)) {
            arr.push(item);
        }
    }
    Ok(())
}

/// `$pull`: removes the elements equal to the value, matching an operator condition
/// (`{"$in": [...]}`, `{"$gte": 5}`), or, for objects, matching a query (`{"role": "admin"}`).
pub(super) fn pull(work: &mut Value, path: &str, arg: &Value) -> Result<(), QueryError> {
    if let Value::Object(cond) = arg {
        validate_condition(path, cond)?;
    }
    let Some(arr) = array_at(work, "$pull", path, false)? else {
        return Ok(());
    };
    match arg {
        Value::Object(cond) => arr.retain(|e| !element_matches(e, cond)),
        value => arr.retain(|e| !values_equal(e, value)),
    }
    Ok(())
}
