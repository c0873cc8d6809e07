//! Update operators of PATCH bodies (`$set $unset $inc $mul $currentDate $push $addToSet $pull`)
//! applied in place to a document, with dotted paths and the CRUD's reserved fields.

use serde_json::{Map, Value};

use crate::limits::{Limits, MAX_ARRAY_PADDING};
use crate::validate::validate_filter;
use crate::value::Num;
use crate::QueryError;

mod array;
mod positional;
#[cfg(test)]
mod tests;

/// The update operators accepted on PATCH routes.
pub const UPDATE_OPERATORS: &[&str] = &[
    "$set",
    "$unset",
    "$inc",
    "$mul",
    "$currentDate",
    "$push",
    "$addToSet",
    "$pull",
];

/// Fields the server owns: no update operator may touch them.
pub const RESERVED_FIELDS: &[&str] = &[
    "_id",
    "creatorId",
    "createdAt",
    "updaterId",
    "updatedAt",
    "__STATE__",
];

/// Applies CRUD update operators (`$set $unset $inc $mul $currentDate $push $addToSet $pull`,
/// dotted paths) to `doc` in place. `now` is the ISO timestamp used by `$currentDate`.
///
/// The update is all-or-nothing: on error `doc` is left untouched. `{}` is a valid no-op.
/// Rejected: unknown operators, paths beyond [`Limits::STORE`], a numeric segment more than
/// [`MAX_ARRAY_PADDING`] past an array's end, (also `$setOnInsert` and `$rename`), operators touching a reserved
/// field ([`RESERVED_FIELDS`]), two operators on conflicting paths, and positional
/// (`arr.$.replace`, `arr.$.merge`) paths, which need the filter that selected the element: use
/// [`apply_update_with_filter`] for those.
pub fn apply_update(doc: &mut Value, update: &Value, now: &str) -> Result<(), QueryError> {
    apply(doc, update, now, None)
}

/// [`apply_update`] plus the CRUD's positional `$set` forms, resolved against the `filter` that
/// selected the document (the PATCH `_q` and field filters, ANDed):
/// `"<arrayField>.$.replace": item` replaces, and `"<arrayField>.$.merge": {k: v}` merges into,
/// the first element of `arrayField` matched by the filter's conditions on that field.
/// No such element gives `The positional operator did not find the match needed from the query.`
pub fn apply_update_with_filter(
    doc: &mut Value,
    update: &Value,
    now: &str,
    filter: &Value,
) -> Result<(), QueryError> {
    validate_filter(filter)?;
    apply(doc, update, now, Some(filter))
}

fn apply(doc: &mut Value, update: &Value, now: &str, filter: Option<&Value>) -> Result<(), QueryError> {
    let Value::Object(ops) = update else {
        return Err(QueryError("The update must be a JSON object of operators".into()));
    };
    if !doc.is_object() {
        return Err(QueryError("The document must be a JSON object".into()));
    }
    let mut paths: Vec<&str> = Vec::new();
    for (op, fields) in ops {
        if !UPDATE_OPERATORS.contains(&op.as_str()) {
            return Err(QueryError(format!("Unknown update operator: {op}")));
        }
        let Value::Object(fields) = fields else {
            return Err(QueryError(format!("{op} needs an object of fields")));
        };
        for path in fields.keys() {
            check_path(op, path, filter.is_some())?;
            paths.push(path);
        }
    }
    check_conflicts(&paths)?;

    let mut work = doc.clone();
    for (op, fields) in ops {
        for (path, arg) in fields.as_object().into_iter().flatten() {
            match (op.as_str(), positional::parse(path), filter) {
                ("$set", Some((field, mode)), Some(filter)) => {
                    positional::apply(&mut work, field, mode, arg, filter)?
                }
                _ => apply_one(&mut work, op, path, arg, now)?,
            }
        }
    }
    *doc = work;
    Ok(())
}

fn check_path(op: &str, path: &str, positional_allowed: bool) -> Result<(), QueryError> {
    Limits::STORE.check_path(path)?;
    if path.split('.').any(str::is_empty) {
        return Err(QueryError(format!(
            "The update path '{path}' contains an empty field name"
        )));
    }
    let positional = if op == "$set" {
        positional::parse(path)
    } else {
        None
    };
    match positional {
        Some(_) if !positional_allowed => {
            return Err(QueryError(format!(
                "Positional update '{path}' is not supported: it needs the filter that selected \
                 the array element"
            )))
        }
        Some(_) => {}
        None if path.split('.').any(|seg| seg.starts_with('$')) => {
            return Err(QueryError(format!(
                "The update path '{path}' is not valid: field names cannot start with '$'"
            )))
        }
        None => {}
    }
    let field = path.split('.').next().unwrap_or(path);
    if RESERVED_FIELDS.contains(&field) {
        return Err(QueryError(format!(
            "{op} cannot modify the reserved field {field}"
        )));
    }
    Ok(())
}

fn check_conflicts(paths: &[&str]) -> Result<(), QueryError> {
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[i + 1..] {
            let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
            let prefix = long
                .strip_prefix(*short)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'));
            if prefix {
                return Err(QueryError(format!(
                    "Updating the path '{long}' would create a conflict at '{short}'"
                )));
            }
        }
    }
    Ok(())
}

fn apply_one(work: &mut Value, op: &str, path: &str, arg: &Value, now: &str) -> Result<(), QueryError> {
    match op {
        "$set" => set_path(work, path, arg.clone()),
        "$unset" => {
            if arg != &Value::Bool(true) {
                return Err(QueryError(format!("$unset needs true as the value of {path}")));
            }
            unset_path(work, path);
            Ok(())
        }
        "$inc" | "$mul" => arithmetic(work, op, path, arg),
        "$currentDate" => {
            let is_date_type = arg
                .as_object()
                .is_some_and(|m| m.len() == 1 && m.get("$type") == Some(&Value::from("date")));
            if arg != &Value::Bool(true) && !is_date_type {
                return Err(QueryError(format!(
                    "$currentDate needs true as the value of {path}"
                )));
            }
            set_path(work, path, Value::from(now))
        }
        "$push" => array::push(work, path, arg),
        "$addToSet" => array::add_to_set(work, path, arg),
        "$pull" => array::pull(work, path, arg),
        other => Err(QueryError(format!("Unknown update operator: {other}"))),
    }
}

fn arithmetic(work: &mut Value, op: &str, path: &str, arg: &Value) -> Result<(), QueryError> {
    let by = Num::of(arg).ok_or_else(|| QueryError(format!("{op} needs a number as the value of {path}")))?;
    let result = match get_mut(work, path) {
        None if op == "$inc" => by,
        None => match by {
            Num::Int(_) => Num::Int(0),
            Num::Float(_) => Num::Float(0.0),
        },
        Some(current) => {
            let current = Num::of(current)
                .ok_or_else(|| QueryError(format!("Cannot apply {op} to the non-numeric field {path}")))?;
            let result = if op == "$inc" {
                current.add(by)
            } else {
                current.mul(by)
            };
            result.ok_or_else(|| QueryError(format!("{op} on {path} overflows")))?
        }
    };
    let value = result
        .to_value()
        .ok_or_else(|| QueryError(format!("{op} on {path} gives a non-finite number")))?;
    set_path(work, path, value)
}

/// Splits `a.b.c` into the parent segments `[a, b]` and the last one `c`.
fn split_last(path: &str) -> (Vec<&str>, &str) {
    let mut segs: Vec<&str> = path.split('.').collect();
    let last = segs.pop().unwrap_or(path);
    (segs, last)
}

/// The container of the last segment of `path`; with `create`, missing intermediate objects are
/// created (and arrays padded with `null` up to a numeric index), otherwise `None` if absent.
fn container<'a>(
    root: &'a mut Value,
    path: &str,
    parents: &[&str],
    create: bool,
) -> Result<Option<&'a mut Value>, QueryError> {
    let mut cur = root;
    for seg in parents {
        cur = match cur {
            Value::Object(m) => {
                if create {
                    m.entry(*seg).or_insert_with(|| Value::Object(Map::new()))
                } else {
                    match m.get_mut(*seg) {
                        Some(v) => v,
                        None => return Ok(None),
                    }
                }
            }
            Value::Array(items) => match seg.parse::<usize>() {
                Ok(i) if i < items.len() => match items.get_mut(i) {
                    Some(v) => v,
                    None => return Ok(None),
                },
                Ok(i) if create => {
                    check_padding(path, items.len(), i)?;
                    items.resize(i, Value::Null);
                    items.push(Value::Object(Map::new()));
                    match items.last_mut() {
                        Some(v) => v,
                        None => return Ok(None),
                    }
                }
                _ if create => return Err(cannot_create(path, seg)),
                _ => return Ok(None),
            },
            _ if create => return Err(cannot_create(path, seg)),
            _ => return Ok(None),
        };
    }
    Ok(Some(cur))
}

/// Writing index `i` of an array of `len` items pads it with `i - len` nulls: bounded.
fn check_padding(path: &str, len: usize, i: usize) -> Result<(), QueryError> {
    if i > len.saturating_add(MAX_ARRAY_PADDING) {
        return Err(QueryError(format!(
            "Cannot update '{path}': index {i} is more than {MAX_ARRAY_PADDING} past the end of an \
             array of {len} items"
        )));
    }
    Ok(())
}

fn cannot_create(path: &str, seg: &str) -> QueryError {
    QueryError(format!(
        "Cannot update '{path}': the element holding '{seg}' is not an object"
    ))
}

/// The value at `path`, if any (no creation).
pub(crate) fn get_mut<'a>(root: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let (parents, last) = split_last(path);
    match container(root, path, &parents, false).ok().flatten()? {
        Value::Object(m) => m.get_mut(last),
        Value::Array(items) => items.get_mut(last.parse::<usize>().ok()?),
        _ => None,
    }
}

/// Sets `path` to `value`, creating intermediate objects.
pub(crate) fn set_path(root: &mut Value, path: &str, value: Value) -> Result<(), QueryError> {
    let (parents, last) = split_last(path);
    match container(root, path, &parents, true)? {
        Some(Value::Object(m)) => {
            m.insert(last.to_string(), value);
            Ok(())
        }
        Some(Value::Array(items)) => {
            let i = last.parse::<usize>().map_err(|_| cannot_create(path, last))?;
            if i >= items.len() {
                check_padding(path, items.len(), i)?;
                items.resize(i + 1, Value::Null);
            }
            if let Some(slot) = items.get_mut(i) {
                *slot = value;
            }
            Ok(())
        }
        _ => Err(cannot_create(path, last)),
    }
}

/// Removes `path` (an array element becomes `null`, as in MongoDB); absent paths are a no-op.
fn unset_path(root: &mut Value, path: &str) {
    let (parents, last) = split_last(path);
    match container(root, path, &parents, false) {
        Ok(Some(Value::Object(m))) => {
            m.shift_remove(last);
        }
        Ok(Some(Value::Array(items))) => {
            if let Some(slot) = last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *slot = Value::Null;
            }
        }
        _ => {}
    }
}
