//! What every write of the CRUD Service does besides the operators: ObjectId-like ids, ISO
//! timestamps, the writer's user id, the standard fields of an inserted or updated document
//! (`creatorId`/`createdAt`/`updaterId`/`updatedAt`, never written by clients) and the schema
//! check of an update body. Shared by the CRUD fake and the embedded store.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::{QueryError, State, UPDATE_OPERATORS};

#[cfg(test)]
mod tests;

/// Fields the server owns: a client may never write them.
pub const PROTECTED_FIELDS: [&str; 5] = ["_id", "creatorId", "createdAt", "updaterId", "updatedAt"];

/// Generator of ObjectId-like ids: 4 bytes of seconds, 5 random bytes, a 3-byte counter.
#[derive(Debug)]
pub struct IdGen {
    process: [u8; 5],
    counter: AtomicU32,
}

impl Default for IdGen {
    fn default() -> Self {
        Self::new()
    }
}

impl IdGen {
    /// A generator with fresh random process bytes and counter start.
    pub fn new() -> Self {
        Self {
            process: rand::random(),
            counter: AtomicU32::new(rand::random::<u32>() & 0x00ff_ffff),
        }
    }

    /// A fresh 24-hex id.
    pub fn next(&self) -> String {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        // The ObjectId timestamp is 4 bytes: truncation is the format.
        let secs = (secs & 0xffff_ffff) as u32;
        let count = self.counter.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
        let [a, b, c, d, e] = self.process;
        format!("{secs:08x}{a:02x}{b:02x}{c:02x}{d:02x}{e:02x}{count:06x}")
    }
}

/// Now as the CRUD Service serialises dates: `2020-04-05T17:16:14.175Z`.
pub fn now_iso() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// The writer's user id from the user id header's value: `"public"` when it is missing, empty,
/// `null` or `undefined`.
pub fn writer_id(header: Option<&str>) -> &str {
    match header.unwrap_or("") {
        "" | "null" | "undefined" => "public",
        other => other,
    }
}

/// The document `POST /` stores for `body` (its `_id` still `null`, `__STATE__` defaulting to
/// `default_state`, the standard fields set), or the CRUD's 400 message; `at` locates `body` in
/// the request (`body`, `body/3`).
pub fn new_document(
    body: &Value,
    at: &str,
    default_state: State,
    user: &str,
    now: &str,
) -> Result<Value, QueryError> {
    let Value::Object(fields) = body else {
        return Err(QueryError(format!("{at} must be object")));
    };
    if let Some(field) = fields.keys().find(|k| PROTECTED_FIELDS.contains(&k.as_str())) {
        return Err(QueryError(format!(
            "{at} must NOT have additional properties. Property \"{field}\" is not allowed"
        )));
    }
    let state = match fields.get("__STATE__") {
        None => default_state,
        Some(v) => v.as_str().and_then(State::parse).ok_or_else(|| {
            QueryError(format!(
                "{at}/__STATE__ must be equal to one of the allowed values"
            ))
        })?,
    };
    let mut doc = Map::with_capacity(fields.len() + 6);
    doc.insert("_id".into(), Value::Null);
    doc.extend(fields.clone());
    doc.insert("__STATE__".into(), Value::String(state.as_str().to_owned()));
    doc.insert("creatorId".into(), Value::String(user.to_owned()));
    doc.insert("createdAt".into(), Value::String(now.to_owned()));
    let mut doc = Value::Object(doc);
    touch(&mut doc, user, now);
    Ok(doc)
}

/// The document `POST /import` stores for one row `body`: as [`new_document`], except that the
/// row must carry its own `_id` (a non-empty string), which the document keeps; `at` locates the
/// row (`file/3`).
pub fn imported_document(
    body: &Value,
    at: &str,
    default_state: State,
    user: &str,
    now: &str,
) -> Result<Value, QueryError> {
    let Value::Object(row) = body else {
        return Err(QueryError(format!("{at} must be object")));
    };
    let id = match row.get("_id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        Some(_) => return Err(QueryError(format!("{at}/_id must be a non-empty string"))),
        None => return Err(QueryError(format!("{at} must have required property '_id'"))),
    };
    let mut fields = row.clone();
    fields.shift_remove("_id");
    let mut doc = new_document(&Value::Object(fields), at, default_state, user, now)?;
    doc["_id"] = Value::String(id);
    Ok(doc)
}

/// Sets the metadata of a write: `updaterId`, `updatedAt`.
pub fn touch(doc: &mut Value, user: &str, now: &str) {
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("updaterId".into(), Value::String(user.to_owned()));
        obj.insert("updatedAt".into(), Value::String(now.to_owned()));
    }
}

/// Checks an update body the way the CRUD schema does (operators, protected fields, argument
/// types; `$setOnInsert` only with `upsert`), then dry-runs it on an empty document so
/// docquery's structural errors are 400 too. Bodies with positional paths are not dry-run.
pub fn check_update(update: &Value, at: &str, upsert: bool, now: &str) -> Result<(), QueryError> {
    let Some(ops) = update.as_object() else {
        return Err(QueryError(format!("{at} must be object")));
    };
    let mut positional = false;
    for (op, fields) in ops {
        let allowed = UPDATE_OPERATORS.contains(&op.as_str()) || (upsert && op == "$setOnInsert");
        if !allowed {
            return Err(QueryError(format!(
                "{at} must NOT have additional properties. Property \"{op}\" is not allowed"
            )));
        }
        let Some(fields) = fields.as_object() else {
            return Err(QueryError(format!("{at}/{op} must be object")));
        };
        for (path, value) in fields {
            let head = path.split('.').next().unwrap_or(path);
            if PROTECTED_FIELDS.contains(&head) || head == "__STATE__" {
                return Err(QueryError(format!(
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
                return Err(QueryError(format!("{at}/{op}/{path} must {bad}")));
            }
        }
    }
    if !positional {
        let (main, on_insert) = split_update(update);
        for part in [main, on_insert].iter().filter(|p| !is_noop(p)) {
            crate::apply_update(&mut json!({}), part, now)?;
        }
    }
    Ok(())
}

/// Whether `update` changes nothing (no operator, or only empty ones).
pub fn is_noop(update: &Value) -> bool {
    update
        .as_object()
        .is_none_or(|ops| ops.values().all(|v| v.as_object().is_some_and(Map::is_empty)))
}

/// Splits `$setOnInsert` out of an upsert body: `(other operators, {"$set": setOnInsert})`.
pub fn split_update(update: &Value) -> (Value, Value) {
    let mut main = update.as_object().cloned().unwrap_or_default();
    let on_insert = main
        .shift_remove("$setOnInsert")
        .map(|v| json!({ "$set": v }))
        .unwrap_or_else(|| json!({}));
    (Value::Object(main), on_insert)
}
