//! Which documents a request addresses: the accepted states, the path id and the ANDed filter
//! parts (`_q`, field filters, `acl_rows`), with the plain equalities and `$in` lists of the filter
//! as hints for index lookups. Shared by the CRUD fake and the embedded store.

use serde_json::{json, Value};

use crate::{QueryError, State};

#[cfg(test)]
mod tests;

/// The documents one request addresses: states, id and ANDed filter parts.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Accepted `__STATE__` values; `None` accepts any document.
    states: Option<Vec<State>>,
    /// The path id (or `_id` parameter).
    id: Option<String>,
    /// The ANDed filter parts; `None` when there are none.
    filter: Option<Value>,
    /// `field = scalar` conditions (plain or `$eq`): a quick rejection before the full filter, a
    /// lookup through an index, and the seed of an upserted document.
    eq_hints: Vec<(String, Value)>,
    /// `field ∈ [scalars]` conditions (`$in`), usable through an index.
    in_hints: Vec<(String, Vec<Value>)>,
}

impl Selection {
    /// The documents in `states` (any if `None`) with `_id = id` (if set) matching every part.
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

    /// The accepted states (`None`: any).
    pub fn states(&self) -> Option<&[State]> {
        self.states.as_deref()
    }

    /// Replaces the accepted states (`None`: any).
    pub fn set_states(&mut self, states: Option<Vec<State>>) {
        self.states = states;
    }

    /// The path id, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The ANDed filter parts (no state, no path id); positional updates resolve against it.
    pub fn filter(&self) -> Option<&Value> {
        self.filter.as_ref()
    }

    /// The plain `field = scalar` conditions (seed of an upserted document).
    pub fn equalities(&self) -> &[(String, Value)] {
        &self.eq_hints
    }

    /// The index hints: every equality (as a one-value list), then every `$in` list, in order.
    pub fn hints(&self) -> impl Iterator<Item = (&str, &[Value])> {
        let eq = self
            .eq_hints
            .iter()
            .map(|(f, v)| (f.as_str(), std::slice::from_ref(v)));
        let within = self.in_hints.iter().map(|(f, vs)| (f.as_str(), vs.as_slice()));
        eq.chain(within)
    }

    /// The accepted states when nothing else filters (a count can then use a state index).
    pub fn only_states(&self) -> Option<Option<&[State]>> {
        (self.id.is_none() && self.filter.is_none()).then_some(self.states.as_deref())
    }

    /// Whether a document in `state` (`None`: without a valid `__STATE__`) is in an accepted state.
    pub fn accepts_state(&self, state: Option<State>) -> bool {
        match &self.states {
            None => true,
            Some(states) => state.is_some_and(|s| states.contains(&s)),
        }
    }

    /// Whether `doc` passes the id and the filter (its state is not looked at). With
    /// `quick_reject`, a plain equality on a scalar that differs rejects `doc` before the full
    /// filter runs (so a filter that would fail on `doc` is not evaluated).
    pub fn matches(&self, doc: &Value, quick_reject: bool) -> Result<bool, QueryError> {
        if let Some(id) = &self.id {
            if doc.get("_id").and_then(Value::as_str) != Some(id.as_str()) {
                return Ok(false);
            }
        }
        if quick_reject
            && self
                .eq_hints
                .iter()
                .any(|(field, value)| differs(doc, field, value))
        {
            return Ok(false);
        }
        match &self.filter {
            None => Ok(true),
            Some(filter) => crate::matches(doc, filter),
        }
    }
}

/// Validates a filter object (`_q`, one `acl_rows` filter) with the CRUD `_q` rules.
pub fn check_filter(value: &Value) -> Result<(), QueryError> {
    if !value.is_object() {
        return Err(QueryError("querystring/_q must be an object".to_owned()));
    }
    crate::validate_filter(value)
}

/// The `acl_rows` header: one filter or an array of filters (to be ANDed), each checked.
pub fn parse_acl_rows(text: &str) -> Result<Vec<Value>, QueryError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| QueryError(format!("acl_rows is not valid JSON: {e}")))?;
    let filters = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    for filter in &filters {
        check_filter(filter)?;
    }
    Ok(filters)
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// Whether the plain equality `field = value` certainly fails on `doc` (a scalar that differs);
/// arrays, objects and missing paths are left to the full filter.
fn differs(doc: &Value, field: &str, value: &Value) -> bool {
    match crate::get_path(doc, field) {
        Some(found) if is_scalar(found) || found.is_null() => !crate::values_equal(found, value),
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
