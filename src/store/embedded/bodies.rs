//! Insert and update bodies checked as the CRUD Service's schema does, with its 400 messages:
//! the stored form of an inserted document, and the update operators a PATCH may use.

use docquery::State;
use serde_json::{json, Map, Value};

use super::Failure;
use crate::store::DocState;

/// Fields the server owns: a client may never write them.
const PROTECTED: [&str; 5] = ["_id", "creatorId", "createdAt", "updaterId", "updatedAt"];

/// The document `POST /` stores for `body` (its `_id` still `null`), or the CRUD's 400.
pub(super) fn new_document(
    body: &Value,
    at: &str,
    default_state: DocState,
    user: &str,
    now: &str,
) -> Result<Value, Failure> {
    let Value::Object(fields) = body else {
        return Err(Failure::Rejected(format!("{at} must be object")));
    };
    if let Some(field) = fields.keys().find(|k| PROTECTED.contains(&k.as_str())) {
        return Err(Failure::Rejected(format!(
            "{at} must NOT have additional properties. Property \"{field}\" is not allowed"
        )));
    }
    let state = match fields.get("__STATE__") {
        None => default_state.as_str(),
        Some(v) => v
            .as_str()
            .and_then(State::parse)
            .map(State::as_str)
            .ok_or_else(|| {
                Failure::Rejected(format!(
                    "{at}/__STATE__ must be equal to one of the allowed values"
                ))
            })?,
    };
    let mut doc = Map::with_capacity(fields.len() + 6);
    doc.insert("_id".into(), Value::Null);
    doc.extend(fields.clone());
    doc.insert("__STATE__".into(), Value::String(state.to_owned()));
    doc.insert("creatorId".into(), Value::String(user.to_owned()));
    doc.insert("createdAt".into(), Value::String(now.to_owned()));
    doc.insert("updaterId".into(), Value::String(user.to_owned()));
    doc.insert("updatedAt".into(), Value::String(now.to_owned()));
    Ok(Value::Object(doc))
}

/// Checks an update body as the CRUD schema does (operators, protected fields, argument types),
/// then dry-runs it on an empty document so docquery's structural errors are 400 too.
pub(super) fn check_update(update: &Value, at: &str, now: &str) -> Result<(), Failure> {
    let Some(ops) = update.as_object() else {
        return Err(Failure::Rejected(format!("{at} must be object")));
    };
    let mut positional = false;
    for (op, fields) in ops {
        if !docquery::UPDATE_OPERATORS.contains(&op.as_str()) {
            return Err(Failure::Rejected(format!(
                "{at} must NOT have additional properties. Property \"{op}\" is not allowed"
            )));
        }
        let Some(fields) = fields.as_object() else {
            return Err(Failure::Rejected(format!("{at}/{op} must be object")));
        };
        for (path, value) in fields {
            let head = path.split('.').next().unwrap_or(path);
            if PROTECTED.contains(&head) || head == "__STATE__" {
                return Err(Failure::Rejected(format!(
                    "{at}/{op} must NOT have additional properties. Property \"{path}\" is not allowed"
                )));
            }
            positional |= path.contains(".$");
            let bad = match op.as_str() {
                "$unset" | "$currentDate" => (*value != Value::Bool(true)).then_some("be equal to constant"),
                "$inc" | "$mul" => (!value.is_number()).then_some("be number"),
                _ => None,
            };
            if let Some(bad) = bad {
                return Err(Failure::Rejected(format!("{at}/{op}/{path} must {bad}")));
            }
        }
    }
    if !positional && !is_noop(update) {
        docquery::apply_update(&mut json!({}), update, now).map_err(|e| Failure::Rejected(e.0))?;
    }
    Ok(())
}

/// Whether `update` changes nothing (no operator, or only empty ones).
pub(super) fn is_noop(update: &Value) -> bool {
    update
        .as_object()
        .is_none_or(|ops| ops.values().all(|v| v.as_object().is_some_and(Map::is_empty)))
}
