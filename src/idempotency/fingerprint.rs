//! What makes two requests "the same" for an idempotency key: a SHA-256 of the method, the path,
//! the query pairs (sorted) and the canonical JSON body (object keys sorted at every level). Only
//! the hash is stored, never the body (it may hold a password).

use ring::digest::{Context, SHA256};
use serde_json::Value;

/// The SHA-256 (hex) of one request, as [`Fingerprint::of`] computes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of a request: `method`, `path`, the decoded `query` pairs in sorted order
    /// (the raw text when it does not decode) and the body as canonical JSON (the raw bytes when
    /// it is not JSON). Each part is length-prefixed, so no two requests share a hashed text.
    pub fn of(method: &str, path: &str, query: Option<&str>, body: &[u8]) -> Self {
        let mut hash = Context::new(&SHA256);
        let mut part = |tag: &str, bytes: &[u8]| {
            hash.update(tag.as_bytes());
            hash.update(bytes.len().to_string().as_bytes());
            hash.update(b":");
            hash.update(bytes);
        };
        part("method", method.as_bytes());
        part("path", path.as_bytes());
        let raw_query = query.unwrap_or_default();
        match serde_urlencoded::from_str::<Vec<(String, String)>>(raw_query) {
            Ok(mut pairs) => {
                pairs.sort();
                for (name, value) in pairs {
                    part("name", name.as_bytes());
                    part("value", value.as_bytes());
                }
            }
            Err(_) => part("raw-query", raw_query.as_bytes()),
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(json) => part("json", canonical(&json).as_bytes()),
            Err(_) => part("raw-body", body),
        }
        let digest = hash.finish();
        Self(digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect())
    }

    /// The hex text stored in a record (`requestHash`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `value` as compact JSON with object keys sorted at every level. The depth is bounded by the
/// JSON reader's recursion limit (128), so the recursion here is too.
fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (name, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(name.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(query: Option<&str>, body: &str) -> Fingerprint {
        Fingerprint::of("POST", "/users/", query, body.as_bytes())
    }

    #[test]
    fn key_order_whitespace_and_query_order_do_not_matter() {
        let a = of(
            Some("a=1&b=2"),
            r#"{"name": "Ada", "tags": [1, {"y": 1, "x": 2}]}"#,
        );
        let b = of(Some("b=2&a=1"), r#"{"tags":[1,{"x":2,"y":1}],"name":"Ada"}"#);
        assert_eq!(a, b);
        assert_eq!(a.as_str().len(), 64);
    }

    #[test]
    fn any_other_body_query_method_or_path_is_another_request() {
        let base = of(None, r#"{"name":"Ada"}"#);
        assert_ne!(base, of(None, r#"{"name":"Bob"}"#));
        assert_ne!(base, of(Some("sendResetPwdEmail=false"), r#"{"name":"Ada"}"#));
        assert_ne!(base, of(None, r#"["name","Ada"]"#));
        assert_ne!(
            base,
            Fingerprint::of("POST", "/users/with-id", None, br#"{"name":"Ada"}"#)
        );
        assert_ne!(
            base,
            Fingerprint::of("PUT", "/users/", None, br#"{"name":"Ada"}"#)
        );
        // Not JSON: the raw bytes count.
        assert_ne!(of(None, "{"), of(None, "{ "));
        assert_eq!(of(None, "{"), of(None, "{"));
    }

    #[test]
    fn the_parts_cannot_run_into_each_other() {
        let a = Fingerprint::of("POST", "/a", Some("b=c"), b"");
        let b = Fingerprint::of("POST", "/ab", Some("=c"), b"");
        assert_ne!(a, b);
    }
}
