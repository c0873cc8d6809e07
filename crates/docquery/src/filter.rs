//! Evaluation of `_q` filters against a document with MongoDB semantics (implicit equality,
//! "array contains", dotted paths through arrays, comparison operators, `$elemMatch`, ...).

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::path::resolve;
use crate::validate::{
    all_elem_match, build_regex, is_operator_object, is_value_condition, size_arg, validate_filter,
};
use crate::value::{compare_values, type_rank, values_equal};
use crate::QueryError;

#[cfg(test)]
mod tests;

/// Whether `doc` matches the MongoDB-style `filter` (the `_q` subset of the contract).
///
/// The filter is validated first with [`validate_filter`] and its error is returned.
pub fn matches(doc: &Value, filter: &Value) -> Result<bool, QueryError> {
    validate_filter(filter)?;
    Ok(match filter {
        Value::Object(query) => eval_query(doc, query),
        _ => false,
    })
}

/// Evaluates an already validated query object against `doc`.
pub(crate) fn eval_query(doc: &Value, query: &Map<String, Value>) -> bool {
    query.iter().all(|(key, cond)| match key.as_str() {
        "$and" => sub_queries(cond).all(|q| eval_query(doc, q)),
        "$or" => sub_queries(cond).any(|q| eval_query(doc, q)),
        path => {
            let cands = resolve(doc, path);
            match cond {
                Value::Object(ops) if is_operator_object(ops) => eval_ops(&cands, ops),
                literal => eq_any(&cands, literal),
            }
        }
    })
}

fn sub_queries(arg: &Value) -> impl Iterator<Item = &Map<String, Value>> {
    arg.as_array().into_iter().flatten().filter_map(Value::as_object)
}

/// Evaluates an object of field operators against the values a path reached (`None` = missing).
/// Each operator is checked independently, as MongoDB does.
pub(crate) fn eval_ops(cands: &[Option<&Value>], ops: &Map<String, Value>) -> bool {
    ops.iter().all(|(op, arg)| eval_op(cands, op, arg, ops))
}

fn eval_op(cands: &[Option<&Value>], op: &str, arg: &Value, ops: &Map<String, Value>) -> bool {
    match op {
        "$eq" => eq_any(cands, arg),
        "$ne" => !eq_any(cands, arg),
        "$gt" => cmp_any(cands, arg, |o| o == Ordering::Greater),
        "$gte" => cmp_any(cands, arg, |o| o != Ordering::Less),
        "$lt" => cmp_any(cands, arg, |o| o == Ordering::Less),
        "$lte" => cmp_any(cands, arg, |o| o != Ordering::Greater),
        "$in" => in_any(cands, arg),
        "$nin" => !in_any(cands, arg),
        "$all" => match arg {
            Value::Array(items) if !items.is_empty() => items.iter().all(|item| match all_elem_match(item) {
                Some(cond) => elem_match_any(cands, cond),
                None => eq_any(cands, item),
            }),
            _ => false,
        },
        "$exists" => {
            let wanted = match arg {
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
                _ => true,
            };
            cands.iter().any(Option::is_some) == wanted
        }
        "$regex" => match build_regex(arg, ops.get("$options")) {
            Ok(re) => expanded(cands).any(|c| matches!(c, Some(Value::String(s)) if re.is_match(s))),
            Err(_) => false,
        },
        "$options" => true,
        "$elemMatch" => elem_match_any(cands, arg),
        "$size" => size_arg(arg).is_some_and(|n| {
            cands
                .iter()
                .any(|c| matches!(c, Some(Value::Array(items)) if items.len() == n))
        }),
        _ => false,
    }
}

/// The candidates plus, for each array candidate, its elements (one level), as MongoDB does for
/// equality, comparison, `$in` and `$regex`.
fn expanded<'a, 'b>(cands: &'b [Option<&'a Value>]) -> impl Iterator<Item = Option<&'a Value>> + 'b {
    cands.iter().flat_map(|c| {
        let elements = match c {
            Some(Value::Array(items)) => items.as_slice(),
            _ => &[],
        };
        std::iter::once(*c).chain(elements.iter().map(Some))
    })
}

/// Equality with "array contains" and whole-array equality; `null` also matches a missing field.
fn eq_any(cands: &[Option<&Value>], target: &Value) -> bool {
    expanded(cands).any(|c| match c {
        None => target.is_null(),
        Some(v) => values_equal(v, target),
    })
}

fn in_any(cands: &[Option<&Value>], list: &Value) -> bool {
    list.as_array()
        .is_some_and(|items| items.iter().any(|t| eq_any(cands, t)))
}

/// Comparison operators only compare values of the same type (a missing field counts as null).
fn cmp_any(cands: &[Option<&Value>], target: &Value, pred: fn(Ordering) -> bool) -> bool {
    let null = Value::Null;
    expanded(cands).any(|c| {
        let c = c.unwrap_or(&null);
        type_rank(Some(c)) == type_rank(Some(target)) && pred(compare_values(Some(c), Some(target)))
    })
}

fn elem_match_any(cands: &[Option<&Value>], cond: &Value) -> bool {
    let Value::Object(cond) = cond else {
        return false;
    };
    cands.iter().any(|c| match c {
        Some(Value::Array(items)) => items.iter().any(|e| element_matches(e, cond)),
        _ => false,
    })
}

/// Whether one array element satisfies an `$elemMatch`-style condition: an object of operators
/// applied to the element as a value, or a query on the element's fields.
pub(crate) fn element_matches(element: &Value, cond: &Map<String, Value>) -> bool {
    if is_value_condition(cond) {
        eval_ops(&[Some(element)], cond)
    } else {
        element.is_object() && eval_query(element, cond)
    }
}
