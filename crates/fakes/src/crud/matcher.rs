//! The filter of a request (states, id, ANDed `_q`/field/`acl_rows` parts) run over a
//! collection, and the projection of the returned documents.

use docquery::State;
use serde_json::{json, Value};

use super::respond::ApiError;
use super::store::Collection;

/// Which fields a response keeps.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Projection {
    /// The whole document.
    All,
    /// Only these fields (plus `_id`).
    Include(Vec<String>),
    /// Everything but these fields.
    Exclude(Vec<String>),
}

impl Projection {
    /// Applies the projection to `doc`.
    pub fn apply(&self, doc: &Value) -> Value {
        match self {
            Self::All => doc.clone(),
            Self::Include(fields) => docquery::project(doc, fields),
            Self::Exclude(fields) => {
                let mut out = doc.clone();
                for field in fields {
                    remove_path(&mut out, field);
                }
                out
            }
        }
    }

    /// Narrows the projection to the `acl_read_columns` list.
    pub(crate) fn restrict(self, readable: Option<Vec<String>>) -> Self {
        let Some(readable) = readable else {
            return self;
        };
        match self {
            Self::All => Self::Include(readable),
            Self::Include(fields) => {
                Self::Include(fields.into_iter().filter(|f| readable.contains(f)).collect())
            }
            Self::Exclude(fields) => {
                Self::Include(readable.into_iter().filter(|f| !fields.contains(f)).collect())
            }
        }
    }
}

fn remove_path(doc: &mut Value, path: &str) {
    match path.split_once('.') {
        None => {
            if let Some(obj) = doc.as_object_mut() {
                obj.shift_remove(path);
            }
        }
        Some((head, rest)) => {
            if let Some(child) = doc.get_mut(head) {
                remove_path(child, rest);
            }
        }
    }
}

/// The filter of a request: states, id and ANDed filter parts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Matcher {
    /// Accepted `__STATE__` values; `None` accepts any document.
    pub states: Option<Vec<State>>,
    /// The path id or `_id` parameter.
    pub id: Option<String>,
    /// The `_q`, field filters and `acl_rows`, ANDed; `None` when there are none.
    filter: Option<Value>,
    /// Plain `field = scalar` conditions: a quick rejection before the full filter, a lookup
    /// through the unique indexes, and the seed of an upserted document.
    eq_hints: Vec<(String, Value)>,
    /// `field ∈ [scalars]` conditions (`$in`), usable through the unique indexes.
    in_hints: Vec<(String, Vec<Value>)>,
}

impl Matcher {
    /// A matcher over `states` and the ANDed `parts`.
    pub fn new(states: Option<Vec<State>>, id: Option<String>, parts: Vec<Value>) -> Self {
        let (mut eq_hints, mut in_hints) = (Vec::new(), Vec::new());
        for part in &parts {
            collect_hints(part, &mut eq_hints, &mut in_hints);
        }
        let filter = match parts.len() {
            0 => None,
            1 => parts.into_iter().next(),
            _ => Some(json!({ "$and": parts })),
        };
        Self {
            states,
            id,
            filter,
            eq_hints,
            in_hints,
        }
    }

    /// Whether `doc`, whose `__STATE__` is `state`, passes the state, id and filter.
    pub fn matches(&self, state: Option<State>, doc: &Value) -> Result<bool, ApiError> {
        if let Some(states) = &self.states {
            if !state.is_some_and(|s| states.contains(&s)) {
                return Ok(false);
            }
        }
        if let Some(id) = &self.id {
            if doc.get("_id").and_then(Value::as_str) != Some(id.as_str()) {
                return Ok(false);
            }
        }
        if self
            .eq_hints
            .iter()
            .any(|(field, value)| differs(doc, field, value))
        {
            return Ok(false);
        }
        match &self.filter {
            None => Ok(true),
            Some(filter) => docquery::matches(doc, filter).map_err(|e| ApiError::bad_request(e.0)),
        }
    }

    /// Up to `max` matching documents, in insertion order.
    pub fn select<'a>(&self, coll: &'a Collection, max: Option<usize>) -> Result<Vec<&'a Value>, ApiError> {
        let max = max.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        if max == 0 {
            return Ok(out);
        }
        let candidates = self
            .id
            .as_ref()
            .map(|id| coll.seq_of(id).into_iter().collect())
            .or_else(|| {
                self.eq_hints
                    .iter()
                    .find_map(|(field, value)| coll.lookup_any(field, std::slice::from_ref(value)))
            })
            .or_else(|| {
                self.in_hints
                    .iter()
                    .find_map(|(field, values)| coll.lookup_any(field, values))
            });
        let mut push = |(state, doc): (Option<State>, &'a Value)| -> Result<bool, ApiError> {
            if self.matches(state, doc)? {
                out.push(doc);
            }
            Ok(out.len() < max)
        };
        match candidates {
            Some(ids) => {
                for entry in ids.into_iter().filter_map(|seq| coll.entry_at(seq)) {
                    if !push(entry)? {
                        break;
                    }
                }
            }
            None => {
                for entry in coll.entries() {
                    if !push(entry)? {
                        break;
                    }
                }
            }
        }
        Ok(out)
    }

    /// The number of matching documents; O(1) when only the state filters.
    pub fn count(&self, coll: &Collection) -> Result<usize, ApiError> {
        if self.filter.is_none() && self.id.is_none() {
            if let Some(states) = &self.states {
                return Ok(coll.count_states(states));
            }
            return Ok(coll.len());
        }
        Ok(self.select(coll, None)?.len())
    }

    /// The ids of every matching document, in insertion order.
    pub fn select_ids(&self, coll: &Collection, max: Option<usize>) -> Result<Vec<String>, ApiError> {
        Ok(self
            .select(coll, max)?
            .into_iter()
            .filter_map(|doc| doc.get("_id").and_then(Value::as_str).map(str::to_owned))
            .collect())
    }

    /// The ANDed `_q`, field filters and `acl_rows` (no state, no path id).
    pub fn filter(&self) -> Option<&Value> {
        self.filter.as_ref()
    }

    /// The plain `field = scalar` conditions (seed of an upserted document).
    pub fn equalities(&self) -> &[(String, Value)] {
        &self.eq_hints
    }
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// Whether the plain equality `field = value` certainly fails on `doc` (a scalar that differs);
/// arrays, objects and missing paths are left to the full filter.
fn differs(doc: &Value, field: &str, value: &Value) -> bool {
    match docquery::get_path(doc, field) {
        Some(found) if is_scalar(found) || found.is_null() => !docquery::values_equal(found, value),
        _ => false,
    }
}

/// Collects the `field = scalar` (plain or `$eq`) and `field ∈ [scalars]` conditions of a filter
/// part, recursing into `$and`.
fn collect_hints(part: &Value, eq: &mut Vec<(String, Value)>, within: &mut Vec<(String, Vec<Value>)>) {
    let Some(obj) = part.as_object() else { return };
    for (key, value) in obj {
        if key == "$and" {
            for sub in value.as_array().into_iter().flatten() {
                collect_hints(sub, eq, within);
            }
        } else if key.starts_with('$') {
            continue;
        } else if is_scalar(value) {
            eq.push((key.clone(), value.clone()));
        } else if let Some(ops) = value.as_object().filter(|o| o.keys().all(|k| k.starts_with('$'))) {
            if let Some(v) = ops.get("$eq").filter(|v| is_scalar(v)) {
                eq.push((key.clone(), v.clone()));
            }
            if let Some(values) = ops.get("$in").and_then(Value::as_array) {
                if values.iter().all(is_scalar) {
                    within.push((key.clone(), values.clone()));
                }
            }
        }
    }
}
