//! The filter of a request (states, id, ANDed `_q`/field/`acl_rows` parts) run over a
//! collection, and the projection of the returned documents.

use docquery::State;
use serde_json::Value;

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
                    docquery::remove_path(&mut out, field);
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

/// The filter of a request: states, id and ANDed filter parts (a [`docquery::Selection`]) run
/// over a collection, its equalities and `$in` lists read through the unique indexes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Matcher(docquery::Selection);

impl Matcher {
    /// A matcher over `states` and the ANDed `parts`.
    pub fn new(states: Option<Vec<State>>, id: Option<String>, parts: Vec<Value>) -> Self {
        Self(docquery::Selection::new(states, id, parts))
    }

    /// Replaces the accepted `__STATE__` values (`None` accepts any document).
    pub fn set_states(&mut self, states: Option<Vec<State>>) {
        self.0.set_states(states);
    }

    /// Whether `doc`, whose `__STATE__` is `state`, passes the state, id and filter; a plain
    /// equality on a differing scalar rejects it before the full filter.
    pub fn matches(&self, state: Option<State>, doc: &Value) -> Result<bool, ApiError> {
        if !self.0.accepts_state(state) {
            return Ok(false);
        }
        self.0.matches(doc, true).map_err(|e| ApiError::bad_request(e.0))
    }

    /// Up to `max` matching documents, in insertion order.
    pub fn select<'a>(&self, coll: &'a Collection, max: Option<usize>) -> Result<Vec<&'a Value>, ApiError> {
        let max = max.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        if max == 0 {
            return Ok(out);
        }
        let candidates = self
            .0
            .id()
            .map(|id| coll.seq_of(id).into_iter().collect())
            .or_else(|| {
                self.0
                    .hints()
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
        match self.0.only_states() {
            Some(Some(states)) => return Ok(coll.count_states(states)),
            Some(None) => return Ok(coll.len()),
            None => {}
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
        self.0.filter()
    }

    /// The plain `field = scalar` conditions (seed of an upserted document).
    pub fn equalities(&self) -> &[(String, Value)] {
        self.0.equalities()
    }
}
