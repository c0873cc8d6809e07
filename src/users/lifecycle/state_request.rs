//! One item of `POST /users/state` (`{filter, stateTo}`), validated: which users it matches
//! (the store queries that page through them) and the store state change of each.

use serde_json::{json, Map, Value};

use crate::store::query::MAX_LIMIT;
use crate::store::{DocState, Filter, FindQuery, StateChange, StateFilter};
use crate::users::{UserError, UserResult};

/// One validated item of `POST /users/state`: users matching `filter` (equality on `_id` and
/// fields) move to `state_to`, if their current state is an allowed source of it.
#[derive(Clone, Debug, PartialEq)]
pub struct StateRequest {
    filter: Map<String, Value>,
    state_to: DocState,
}

impl StateRequest {
    /// Checks a CRUD `POST /state` item: `filter` is non-empty, `_id` is a string, every other
    /// key is a field name (no `_q`, `_st`, `__STATE__`, operators) with a string, number or
    /// boolean value. The error says what to fix.
    pub fn new(filter: Map<String, Value>, state_to: DocState) -> Result<Self, String> {
        if filter.is_empty() {
            return Err(r#"filter must name at least one field, e.g. {"_id": "<user id>"}"#.to_owned());
        }
        for (key, value) in &filter {
            check_entry(key, value).map_err(|problem| format!("filter.{key} {problem}"))?;
        }
        Ok(Self { filter, state_to })
    }

    /// The target state.
    pub fn state_to(&self) -> DocState {
        self.state_to
    }

    /// One page of the users this item changes: the filter as `_id` + `_q` equality, `_st` = the
    /// allowed source states of `state_to`, sorted by `_id` so that `_sk` pages are stable.
    pub(super) fn find_query(&self, skip: u64) -> FindQuery {
        let sources = docquery::bulk_sources(self.state_to).to_vec();
        self.query(sources, None, skip)
    }

    /// The matched users already in `stateTo` that are still linked: left so by an earlier call
    /// that failed after their store write (DELETED with hard delete owes an unlink).
    pub(super) fn still_linked_query(&self, skip: u64) -> FindQuery {
        let linked = json!({"authUserId": {"$exists": true}});
        self.query(vec![self.state_to], Some(linked), skip)
    }

    /// The item's filter in `states`, and `extra` when given, read page by page.
    fn query(&self, states: Vec<DocState>, extra: Option<Value>, skip: u64) -> FindQuery {
        let mut fields = self.filter.clone();
        let id = fields.remove("_id").and_then(|v| v.as_str().map(str::to_owned));
        let fields = (!fields.is_empty()).then_some(Value::Object(fields));
        let q = match (fields, extra) {
            (Some(fields), Some(extra)) => Some(json!({"$and": [fields, extra]})),
            (fields, extra) => fields.or(extra),
        };
        FindQuery {
            filter: Filter {
                q,
                state: Some(StateFilter(states)),
                fields: Vec::new(),
                id,
            },
            projection: Some(["_id", "authUserId", "updatedAt"].map(str::to_owned).to_vec()),
            raw_projection: None,
            sort: Some("_id".to_owned()),
            limit: Some(MAX_LIMIT),
            skip: Some(skip),
        }
    }

    /// The store state change of one matched user: the item's filter narrowed to its `_id` and,
    /// when the user was read with one, to its `updatedAt` — a compare-and-set: a user written
    /// since it was read (moved to DELETED by a soft delete, its email patched) is not changed,
    /// so the auth effect applied for the state it was read in never meets a state it has left.
    pub(super) fn change_for(&self, id: &str, updated_at: Option<&Value>) -> StateChange {
        let mut filter = self.filter.clone();
        filter.insert("_id".to_owned(), Value::String(id.to_owned()));
        if let Some(updated_at) = updated_at {
            filter.insert("updatedAt".to_owned(), updated_at.clone());
        }
        StateChange {
            filter,
            state_to: self.state_to,
        }
    }
}

/// Why one filter entry is refused (the key is prefixed by the caller).
fn check_entry(key: &str, value: &Value) -> Result<(), &'static str> {
    if key == "_id" {
        return match value {
            Value::String(id) if !id.is_empty() => Ok(()),
            _ => Err("must be a non-empty string"),
        };
    }
    if key.is_empty() || key.starts_with('_') || key.contains('$') {
        return Err("is not accepted: filter takes _id and field equality entries only");
    }
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(()),
        _ => Err("must be a string, a number or a boolean"),
    }
}

/// Validates the items of a `POST /users/state` body (a non-empty array); 400 naming the item.
pub fn state_requests(
    items: impl IntoIterator<Item = (Map<String, Value>, DocState)>,
) -> UserResult<Vec<StateRequest>> {
    let requests = items
        .into_iter()
        .enumerate()
        .map(|(i, (filter, to))| {
            StateRequest::new(filter, to)
                .map_err(|problem| UserError::Invalid(format!("body[{i}].{problem}")))
        })
        .collect::<UserResult<Vec<_>>>()?;
    if requests.is_empty() {
        return Err(UserError::Invalid(
            "body must be a non-empty array of {\"filter\": {...}, \"stateTo\": \"...\"}".to_owned(),
        ));
    }
    Ok(requests)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn an_item_is_found_by_id_and_equality_in_the_source_states_of_its_target() {
        let request =
            StateRequest::new(map(json!({"_id": "u1", "email": "a@b.c"})), DocState::Trash).unwrap();
        let query = request.find_query(400);
        let pairs = query.to_query_pairs();
        let expected = [
            ("_q", r#"{"email":"a@b.c"}"#),
            ("_st", "PUBLIC,DRAFT,DELETED"),
            ("_id", "u1"),
            ("_p", "_id,authUserId,updatedAt"),
            ("_s", "_id"),
            ("_l", "200"),
            ("_sk", "400"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(pairs, expected);
    }

    #[test]
    fn an_item_with_only_an_id_sends_no_q() {
        let request = StateRequest::new(map(json!({"_id": "u1"})), DocState::Public).unwrap();
        let query = request.find_query(0);
        assert_eq!(query.filter.q, None);
        assert_eq!(query.filter.state, Some(StateFilter(vec![DocState::Draft])));
    }

    #[test]
    fn each_change_keeps_the_item_filter_and_names_the_user() {
        let request = StateRequest::new(map(json!({"email": "a@b.c"})), DocState::Deleted).unwrap();
        let change = request.change_for("u7", None);
        assert_eq!(
            Value::Object(change.filter),
            json!({"email": "a@b.c", "_id": "u7"})
        );
        assert_eq!(change.state_to, DocState::Deleted);
    }

    #[test]
    fn a_change_applies_only_to_the_user_as_it_was_read() {
        let request = StateRequest::new(map(json!({"_id": "u7"})), DocState::Trash).unwrap();
        let read = json!("2026-11-30T07:00:00.123Z");
        let change = request.change_for("u7", Some(&read));
        assert_eq!(
            Value::Object(change.filter),
            json!({"_id": "u7", "updatedAt": "2026-11-30T07:00:00.123Z"})
        );
    }

    #[test]
    fn filters_take_only_ids_and_scalar_field_equality() {
        let refused = [
            json!({}),
            json!({"_id": 3}),
            json!({"_id": ""}),
            json!({"_q": "{}"}),
            json!({"_st": "PUBLIC"}),
            json!({"__STATE__": "PUBLIC"}),
            json!({"$or": []}),
            json!({"email": {"$ne": "x"}}),
            json!({"roles": ["a"]}),
            json!({"email": null}),
        ];
        for filter in refused {
            assert!(
                StateRequest::new(map(filter.clone()), DocState::Trash).is_err(),
                "{filter}"
            );
        }
        let accepted = json!({"_id": "u1", "age": 3, "blocked": false, "address.city": "Rome"});
        assert!(StateRequest::new(map(accepted), DocState::Trash).is_ok());
    }

    #[test]
    fn a_body_needs_at_least_one_item_and_errors_name_the_item() {
        let empty = state_requests(Vec::new()).unwrap_err();
        assert!(empty.to_string().contains("non-empty array"), "{empty}");
        let items = vec![
            (map(json!({"_id": "u1"})), DocState::Trash),
            (map(json!({"_q": "{}"})), DocState::Trash),
        ];
        let error = state_requests(items).unwrap_err();
        assert!(matches!(error, UserError::Invalid(_)));
        assert!(error.to_string().starts_with("body[1].filter._q "), "{error}");
    }
}
