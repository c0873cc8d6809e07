//! Bounds on user-controlled documents and dotted paths: nesting depth, path segments and
//! length, array length and how far a numeric path segment may pad an array. Every check is
//! iterative, so a hostile input can neither overflow the stack nor allocate without bound.

use serde_json::Value;

use crate::QueryError;

/// How far past an array's end a numeric path segment may write (`roles.3` on a 1-element array
/// pads with 2 `null`s). MongoDB pads without limit; `roles.10000000` would allocate gigabytes.
pub const MAX_ARRAY_PADDING: usize = 16;

/// Which bound an input went over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// [`Limits::max_depth`]: nesting depth, or segments of a dotted path.
    Depth,
    /// [`Limits::max_path_bytes`]: bytes of a dotted path or field name.
    PathBytes,
    /// [`Limits::max_array_len`]: items of an array.
    ArrayLength,
}

/// An input over a [`Limit`]; `message` says where and by how much.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LimitError {
    /// The bound.
    pub limit: Limit,
    /// What went over it, for a person.
    pub message: String,
}

impl From<LimitError> for QueryError {
    fn from(error: LimitError) -> Self {
        QueryError(error.message)
    }
}

fn over(limit: Limit, message: String) -> LimitError {
    LimitError { limit, message }
}

/// Bounds on documents and the dotted paths that address them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of objects and arrays; `{"a": 1}` has depth 1, `{"a": {"b": 1}}` depth 2.
    /// Also the most segments a dotted path may have (a path of N segments makes depth N).
    pub max_depth: usize,
    /// Longest dotted path (field name) in bytes.
    pub max_path_bytes: usize,
    /// Longest array anywhere in a document.
    pub max_array_len: usize,
}

impl Limits {
    /// What the stores themselves accept and can read back (MongoDB refuses documents nested
    /// deeper than 100; `serde_json` reads at most 128 levels). The service's own limits are
    /// stricter and configurable; these are the ceiling that protects every caller of docquery.
    pub const STORE: Limits = Limits {
        max_depth: 100,
        max_path_bytes: 4096,
        max_array_len: 1_000_000,
    };

    /// Checks a dotted path before any work: segment count and byte length.
    pub fn check_path(&self, path: &str) -> Result<(), LimitError> {
        if path.len() > self.max_path_bytes {
            return Err(over(
                Limit::PathBytes,
                format!(
                    "The field path '{}…' is {} bytes long: the limit is {} bytes",
                    prefix(path, 40),
                    path.len(),
                    self.max_path_bytes
                ),
            ));
        }
        let segments = path.split('.').count();
        if segments > self.max_depth {
            return Err(over(
                Limit::Depth,
                format!(
                    "The field path '{}…' has {segments} segments: the limit is {} (the maximum nesting depth)",
                    prefix(path, 40),
                    self.max_depth
                ),
            ));
        }
        Ok(())
    }

    /// Checks an update body (`{"$set": {"a.b": 1}}`) before it is applied: every path with
    /// [`Limits::check_path`]; every value so that, placed at its path, it nests the document no
    /// deeper than `max_depth`; and every array in it (`$each`, `$in` of `$pull`) within
    /// `max_array_len`, so that `$addToSet`/`$pull`, quadratic in their arguments, stay bounded.
    /// The shape of the body itself is left to the update (non-objects are skipped here).
    pub fn check_update(&self, update: &Value) -> Result<(), LimitError> {
        let Value::Object(ops) = update else {
            return Ok(());
        };
        for (op, fields) in ops {
            let Value::Object(fields) = fields else {
                continue;
            };
            for (path, value) in fields {
                self.check_path(path)?;
                let room = self.max_depth.saturating_sub(path.split('.').count());
                // `$each`/`$in` wrap the items in one more level that the document does not get.
                let wrapped = usize::from(
                    value
                        .as_object()
                        .is_some_and(|m| m.keys().any(|k| k.starts_with('$'))),
                );
                let value_limits = Limits {
                    max_depth: room + wrapped,
                    ..*self
                };
                value_limits.check_document(value).map_err(|e| {
                    let message = match e.limit {
                        Limit::Depth => format!(
                            "The value of {op} '{}' would nest the document more than {} levels deep: flatten it",
                            prefix(path, 40),
                            self.max_depth
                        ),
                        _ => format!("In the value of {op} '{}': {}", prefix(path, 40), e.message),
                    };
                    over(e.limit, message)
                })?;
            }
        }
        Ok(())
    }

    /// Checks a whole document, iteratively: nesting depth, array lengths and the length of every
    /// field name. The message names the first offending place as a JSON pointer.
    pub fn check_document(&self, doc: &Value) -> Result<(), LimitError> {
        // (value, depth of the value's container level, pointer of the value)
        let mut stack: Vec<(&Value, usize, String)> = vec![(doc, 1, String::new())];
        while let Some((value, depth, pointer)) = stack.pop() {
            let children: Box<dyn Iterator<Item = (String, &Value)>> = match value {
                Value::Object(map) => {
                    if let Some(key) = map.keys().find(|k| k.len() > self.max_path_bytes) {
                        return Err(over(
                            Limit::PathBytes,
                            format!(
                                "The field name '{}…' at {} is {} bytes long: the limit is {} bytes",
                                prefix(key, 40),
                                root(&pointer),
                                key.len(),
                                self.max_path_bytes
                            ),
                        ));
                    }
                    Box::new(map.iter().map(|(k, v)| (escape(k), v)))
                }
                Value::Array(items) => {
                    if items.len() > self.max_array_len {
                        return Err(over(
                            Limit::ArrayLength,
                            format!(
                                "The array at {} has {} items: the limit is {}",
                                root(&pointer),
                                items.len(),
                                self.max_array_len
                            ),
                        ));
                    }
                    Box::new(items.iter().enumerate().map(|(i, v)| (i.to_string(), v)))
                }
                _ => continue,
            };
            if depth > self.max_depth {
                return Err(over(
                    Limit::Depth,
                    format!(
                        "The document is nested more than {} levels deep (at {}): flatten it",
                        self.max_depth,
                        root(&pointer)
                    ),
                ));
            }
            for (key, child) in children {
                if child.is_object() || child.is_array() {
                    stack.push((child, depth + 1, format!("{pointer}/{key}")));
                }
            }
        }
        Ok(())
    }
}

impl Default for Limits {
    /// The service defaults: depth 32, paths of 256 bytes, arrays of 10,000 items.
    fn default() -> Self {
        Self {
            max_depth: 32,
            max_path_bytes: 256,
            max_array_len: 10_000,
        }
    }
}

/// Nesting depth of `value`, computed iteratively (a scalar has depth 0, `{}` and `[]` depth 1).
pub fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((v, d)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Object(map) => Box::new(map.values()),
            Value::Array(items) => Box::new(items.iter()),
            _ => continue,
        };
        deepest = deepest.max(d);
        stack.extend(
            children
                .filter(|c| c.is_object() || c.is_array())
                .map(|c| (c, d + 1)),
        );
    }
    deepest
}

/// Drops a `Value` without recursion, so that a deeply nested value built by a bug or an attack
/// cannot overflow the stack when it goes out of scope.
pub fn drop_iteratively(value: Value) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
}

fn root(pointer: &str) -> &str {
    if pointer.is_empty() {
        "/"
    } else {
        pointer
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn prefix(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

#[cfg(test)]
mod tests;
