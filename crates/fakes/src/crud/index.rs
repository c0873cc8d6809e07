//! Hash indexes on one field of a collection, unique (409 on a duplicate) or plain (lookups only).

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

/// Canonical key of a value in an index; `None` for missing or null (never indexed, so never a
/// duplicate).
fn index_key(value: Option<&Value>) -> Option<String> {
    value.and_then(docquery::index_key)
}

/// An index on `field`: canonical value → insertion sequence numbers of the documents holding it.
#[derive(Debug)]
pub(crate) struct FieldIndex {
    /// Dotted field path.
    pub field: String,
    /// Whether two documents may not share a value.
    pub unique: bool,
    by_value: HashMap<String, BTreeSet<u64>>,
    /// Documents whose value is an array or object: a plain equality may match them without the
    /// index being able to tell, so lookups are disabled while any exists.
    composite_values: usize,
}

impl FieldIndex {
    /// An empty index.
    pub fn new(field: String, unique: bool) -> Self {
        Self {
            field,
            unique,
            by_value: HashMap::new(),
            composite_values: 0,
        }
    }

    /// Forgets every document.
    pub fn clear(&mut self) {
        self.by_value.clear();
        self.composite_values = 0;
    }

    /// For a unique index: the value of `doc` if another document than `except` already holds it.
    pub fn conflict(&self, doc: &Value, except: Option<u64>) -> Option<Value> {
        if !self.unique {
            return None;
        }
        let value = docquery::get_path(doc, &self.field);
        let holders = self.by_value.get(&index_key(value)?)?;
        holders
            .iter()
            .any(|seq| Some(*seq) != except)
            .then(|| value.cloned().unwrap_or(Value::Null))
    }

    /// Indexes `doc` stored at `seq`.
    pub fn add(&mut self, doc: &Value, seq: u64) {
        let value = docquery::get_path(doc, &self.field);
        if matches!(value, Some(Value::Array(_) | Value::Object(_))) {
            self.composite_values += 1;
        }
        if let Some(key) = index_key(value) {
            self.by_value.entry(key).or_default().insert(seq);
        }
    }

    /// Un-indexes `doc` stored at `seq`.
    pub fn remove(&mut self, doc: &Value, seq: u64) {
        let value = docquery::get_path(doc, &self.field);
        if matches!(value, Some(Value::Array(_) | Value::Object(_))) {
            self.composite_values = self.composite_values.saturating_sub(1);
        }
        if let Some(key) = index_key(value) {
            if let Some(holders) = self.by_value.get_mut(&key) {
                holders.remove(&seq);
                if holders.is_empty() {
                    self.by_value.remove(&key);
                }
            }
        }
    }

    /// The documents whose value equals one of the scalar `values`; `None` if the index cannot
    /// tell (a composite value is stored or queried).
    pub fn lookup(&self, values: &[Value], out: &mut Vec<u64>) -> Option<()> {
        if self.composite_values > 0 {
            return None;
        }
        for value in values {
            if matches!(value, Value::Array(_) | Value::Object(_)) {
                return None;
            }
            if let Some(holders) = index_key(Some(value)).and_then(|k| self.by_value.get(&k)) {
                out.extend(holders.iter().copied());
            }
        }
        Some(())
    }
}
