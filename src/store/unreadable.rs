//! Stored documents the service cannot read whole (nested deeper than its JSON reader allows,
//! written by an earlier version) or that exceed today's input limits: detected without
//! recursion, kept in a bounded register that `/-/check-up` reports, and read as a shallow stub
//! (their top-level scalar fields) so that they can still be found by id and deleted.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The field a stub carries: why the stored document could not be read whole. A store refuses to
/// write a document holding it, so a stub is never written back over the real document.
pub const UNREADABLE_FIELD: &str = "__UNREADABLE__";

/// Whether `doc` is a stub of a document that cannot be read whole.
pub fn is_stub(doc: &Value) -> bool {
    doc.get(UNREADABLE_FIELD).is_some()
}

/// Why `doc`, named `what` in the message, cannot be written: it is a stub (see
/// [`UNREADABLE_FIELD`]) and can only be deleted. `None` for any other document.
pub fn stub_refusal(doc: &Value, what: &str) -> Option<String> {
    let reason = doc.get(UNREADABLE_FIELD)?;
    Some(format!(
        "{what} cannot be read whole ({}): it can only be deleted",
        reason.as_str().unwrap_or("damaged")
    ))
}

/// How many damaged documents a register remembers (the check-up says how many more).
const MAX_ENTRIES: usize = 100;

/// Damaged documents of one collection, by `_id`.
#[derive(Debug, Default)]
pub struct DamagedDocs {
    inner: Mutex<Register>,
}

#[derive(Debug, Default)]
struct Register {
    entries: BTreeMap<String, String>,
    /// Damaged documents seen beyond [`MAX_ENTRIES`].
    more: u64,
}

impl DamagedDocs {
    /// Remembers document `id` as damaged, for `reason`; logs a warning the first time.
    pub fn record(&self, collection: &str, id: &str, reason: &str) {
        let mut register = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if register.entries.contains_key(id) {
            return;
        }
        tracing::warn!(
            collection,
            id,
            reason,
            "stored document skipped: it cannot be read whole; delete it (DELETE by id still works) \
             or repair it in the store"
        );
        if register.entries.len() >= MAX_ENTRIES {
            register.more += 1;
        } else {
            register.entries.insert(id.to_owned(), reason.to_owned());
        }
    }

    /// Forgets `id` (deleted or rewritten).
    pub fn forget(&self, id: &str) {
        let mut register = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        register.entries.remove(id);
    }

    /// One line per damaged document, plus "and N more" beyond the register's size.
    pub fn report(&self, collection: &str) -> Vec<String> {
        let register = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let mut lines: Vec<String> = register
            .entries
            .iter()
            .map(|(id, reason)| format!("{collection} document {id}: {reason}"))
            .collect();
        if register.more > 0 {
            lines.push(format!(
                "{collection}: and {} more damaged documents",
                register.more
            ));
        }
        lines
    }
}

/// Nesting depth of a JSON text, by scanning its bytes once (strings and escapes skipped): no
/// parse, no recursion. Not a validator: meant for text a JSON writer produced.
pub fn json_depth(text: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The top-level scalar fields of the JSON object `text` (nested objects and arrays skipped
/// without recursion), plus [`UNREADABLE_FIELD`] set to `reason`; `None` if `text` is not a JSON
/// object at all.
pub fn shallow_stub(text: &str, reason: &str) -> Option<Value> {
    let Shallow(mut map) = serde_json::from_str::<Shallow>(text).ok()?;
    map.insert(UNREADABLE_FIELD.to_owned(), Value::String(reason.to_owned()));
    Some(Value::Object(map))
}

/// A JSON object read one level deep.
struct Shallow(Map<String, Value>);

impl<'de> de::Deserialize<'de> for Shallow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ShallowVisitor)
    }
}

struct ShallowVisitor;

impl<'de> Visitor<'de> for ShallowVisitor {
    type Value = Shallow;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Shallow, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if let Scalar(Some(value)) = access.next_value::<Scalar>()? {
                map.insert(key, value);
            }
        }
        Ok(Shallow(map))
    }
}

/// A scalar value, or `None` for an object or array (skipped with `IgnoredAny`, which
/// `serde_json` reads iteratively whatever its depth).
struct Scalar(Option<Value>);

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar(Some(Value::Bool(v))))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar(Some(Value::from(v))))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar(Some(Value::from(v))))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar(Some(Value::from(v))))
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar(Some(Value::String(v.to_owned()))))
    }
    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar(Some(Value::Null)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deep(levels: usize) -> String {
        format!("{}1{}", "{\"x\":".repeat(levels), "}".repeat(levels))
    }

    #[test]
    fn depth_is_counted_outside_strings() {
        assert_eq!(json_depth(b"1"), 0);
        assert_eq!(json_depth(br#"{"a":"{[{[\"{"}"#), 1);
        assert_eq!(json_depth(br#"{"a":[{"b":{}}]}"#), 4);
        assert_eq!(json_depth(deep(100_000).as_bytes()), 100_000);
    }

    #[test]
    fn a_stub_keeps_the_top_level_scalars_of_any_depth() {
        let text = format!(
            r#"{{"_id":"u1","authUserId":"a1","blocked":false,"n":1.5,"z":null,"address":{},"roles":[[[1]]]}}"#,
            deep(100_000)
        );
        assert!(serde_json::from_str::<Value>(&text).is_err());
        let stub = shallow_stub(&text, "too deep").unwrap();
        assert_eq!(
            stub,
            serde_json::json!({"_id": "u1", "authUserId": "a1", "blocked": false, "n": 1.5, "z": null,
                               UNREADABLE_FIELD: "too deep"})
        );
        assert_eq!(shallow_stub("[1]", "x"), None);
    }

    #[test]
    fn the_register_is_bounded_and_forgets() {
        let docs = DamagedDocs::default();
        for i in 0..(MAX_ENTRIES + 5) {
            docs.record("/users", &format!("id{i:03}"), "too deep");
        }
        docs.record("/users", "id000", "again");
        let report = docs.report("/users");
        assert_eq!(report.len(), MAX_ENTRIES + 1);
        assert_eq!(report[0], "/users document id000: too deep");
        assert_eq!(report[MAX_ENTRIES], "/users: and 5 more damaged documents");
        docs.forget("id000");
        assert_eq!(docs.report("/users")[0], "/users document id001: too deep");
    }
}
