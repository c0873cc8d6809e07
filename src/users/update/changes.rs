//! The pure part of a user update: which update bodies are accepted, the compare-and-set filter of
//! the store write, and what changed between the document before and after the update (the store
//! revert, the auth-provider patch and its undo, the roles, the expiry date).

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::auth::AuthUserPatch;
use crate::store::Filter;
use crate::users::UserError;
use crate::users::SERVICE_ONLY_FIELDS;

/// Checks the shape of an update body before any downstream call: an object of known CRUD update
/// operators, none touching a service field (`authUserId`, `expirationId`) or a standard field of
/// the store (`_id`, `__STATE__`, `createdAt`, ...). Path-level errors are left to
/// `docquery::apply_update`.
pub(super) fn check_update(update: &Value) -> Result<(), UserError> {
    let Value::Object(ops) = update else {
        return Err(bad(format!(
            "the body must be an object of update operators ({})",
            docquery::UPDATE_OPERATORS.join(", ")
        )));
    };
    for (op, fields) in ops {
        if !docquery::UPDATE_OPERATORS.contains(&op.as_str()) {
            return Err(bad(format!(
                "unknown update operator \"{op}\": use {}",
                docquery::UPDATE_OPERATORS.join(", ")
            )));
        }
        let Value::Object(fields) = fields else {
            return Err(bad(format!("{op} must be an object of fields")));
        };
        for path in fields.keys() {
            check_field(op, top_field(path))?;
        }
    }
    Ok(())
}

/// Refuses an update touching a field outside the caller's `acl_write_columns` (comma-separated
/// field names; a dotted or positional path counts as its top field), as the CRUD Service does.
pub(super) fn check_write_columns(update: &Value, write_columns: Option<&str>) -> Result<(), UserError> {
    let Some(columns) = write_columns else {
        return Ok(());
    };
    let allowed: BTreeSet<&str> = columns.split(',').map(str::trim).collect();
    let paths = update
        .as_object()
        .into_iter()
        .flat_map(|ops| ops.values())
        .filter_map(Value::as_object)
        .flat_map(|fields| fields.keys());
    for path in paths {
        let field = top_field(path);
        if !allowed.contains(field) {
            return Err(bad(format!(
                "you cannot edit \"{field}\" field: the acl_write_columns header allows {}",
                columns.trim()
            )));
        }
    }
    Ok(())
}

fn check_field(op: &str, field: &str) -> Result<(), UserError> {
    if SERVICE_ONLY_FIELDS.contains(&field) {
        return Err(bad(format!(
            "{field} cannot be changed with {op}: the service manages it"
        )));
    }
    if docquery::RESERVED_FIELDS.contains(&field) {
        let hint = if field == "__STATE__" {
            " (change the state with POST /users/state)"
        } else {
            ""
        };
        return Err(bad(format!(
            "{field} cannot be changed with {op}: the store manages it{hint}"
        )));
    }
    Ok(())
}

/// The first segment of a dotted update path (`address.city` → `address`).
fn top_field(path: &str) -> &str {
    path.split('.').next().unwrap_or(path)
}

/// The caller's filter plus the compare-and-set condition: `updatedAt` still equals the value
/// read (or is still absent), ANDed with the caller's `_q` when there is one.
pub(crate) fn cas_filter(filter: &Filter, before: &Value) -> Filter {
    let condition = match before.get("updatedAt") {
        Some(updated_at) if !updated_at.is_null() => json!({ "updatedAt": updated_at }),
        _ => json!({ "updatedAt": { "$exists": false } }),
    };
    let q = match &filter.q {
        Some(q) => json!({ "$and": [q, condition] }),
        None => condition,
    };
    Filter {
        q: Some(q),
        ..filter.clone()
    }
}

/// The update that puts back the top-level fields the update changed: `$set` of their previous
/// values, `$unset` of those that were absent. `None` when nothing changed. Standard and service
/// fields are never touched.
pub(super) fn revert_update(before: &Value, after: &Value) -> Option<Value> {
    let empty = Map::new();
    let old = before.as_object().unwrap_or(&empty);
    let new = after.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut set = Map::new();
    let mut unset = Map::new();
    for key in keys {
        let field = key.as_str();
        if docquery::RESERVED_FIELDS.contains(&field) || SERVICE_ONLY_FIELDS.contains(&field) {
            continue;
        }
        match (old.get(field), new.get(field)) {
            (old_value, new_value) if old_value == new_value => {}
            (Some(old_value), _) => {
                set.insert(key.clone(), old_value.clone());
            }
            (None, _) => {
                unset.insert(key.clone(), Value::Bool(true));
            }
        }
    }
    let mut ops = Map::new();
    if !set.is_empty() {
        ops.insert("$set".into(), Value::Object(set));
    }
    if !unset.is_empty() {
        ops.insert("$unset".into(), Value::Object(unset));
    }
    (!ops.is_empty()).then_some(Value::Object(ops))
}

/// The fields of an update, for messages that must not carry values: `[age, name]`.
pub(super) fn field_names(update: &Value) -> String {
    let names: BTreeSet<&str> = update
        .as_object()
        .into_iter()
        .flat_map(|ops| ops.values())
        .filter_map(Value::as_object)
        .flat_map(|fields| fields.keys().map(String::as_str))
        .collect();
    format!("[{}]", names.into_iter().collect::<Vec<_>>().join(", "))
}

/// The auth-provider change an update implies, and its undo: only the `email`, `username` and
/// `blocked` that changed. An email or username removed from the store is left alone in the
/// provider (a login identity cannot be removed); an absent `blocked` means not blocked.
pub(super) fn auth_patches(before: &Value, after: &Value) -> (AuthUserPatch, AuthUserPatch) {
    let mut patch = AuthUserPatch::default();
    let mut undo = AuthUserPatch::default();
    if let Some((new, old)) = text_change(before, after, "email") {
        (patch.email, undo.email) = (Some(new), old);
    }
    if let Some((new, old)) = text_change(before, after, "username") {
        (patch.username, undo.username) = (Some(new), old);
    }
    let blocked = |doc: &Value| doc.get("blocked").and_then(Value::as_bool).unwrap_or(false);
    if blocked(before) != blocked(after) {
        (patch.blocked, undo.blocked) = (Some(blocked(after)), Some(blocked(before)));
    }
    (patch, undo)
}

/// `(new, old)` of a string field that changed to another string.
fn text_change(before: &Value, after: &Value, field: &str) -> Option<(String, Option<String>)> {
    let text = |doc: &Value| doc.get(field).and_then(Value::as_str).map(str::to_owned);
    let (old, new) = (text(before), text(after));
    match new {
        Some(new) if old.as_deref() != Some(new.as_str()) => Some((new, old)),
        _ => None,
    }
}

/// Whether the set of roles changed (order and repeats do not count).
pub(super) fn roles_changed(old: &[String], new: &[String]) -> bool {
    let set = |roles: &[String]| roles.iter().cloned().collect::<BTreeSet<String>>();
    set(old) != set(new)
}

/// What happens to the expiry timer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ExpiryChange {
    /// `expirationDate` did not change.
    Unchanged,
    /// A new (or first) date: schedule a timer for it.
    Schedule(String),
    /// The date was removed: abort the timer.
    Remove,
}

/// How `expirationDate` changed; a new date must be an RFC 3339 date-time (400 otherwise, before
/// anything is written). `null` counts as absent.
pub(super) fn expiry_change(before: &Value, after: &Value) -> Result<ExpiryChange, UserError> {
    let date = |doc: &Value| doc.get("expirationDate").filter(|v| !v.is_null()).cloned();
    let (old, new) = (date(before), date(after));
    if old == new {
        return Ok(ExpiryChange::Unchanged);
    }
    match new {
        None => Ok(ExpiryChange::Remove),
        Some(Value::String(date)) => {
            crate::users::effects::parse_expiration(&date)?;
            Ok(ExpiryChange::Schedule(date))
        }
        Some(_) => Err(bad(
            "expirationDate must be an RFC 3339 date-time string".to_owned()
        )),
    }
}

fn bad(message: String) -> UserError {
    UserError::Invalid(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{DocState, StateFilter};

    fn message(result: Result<(), UserError>) -> String {
        match result {
            Err(UserError::Invalid(message)) => message,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn service_and_standard_fields_are_refused_naming_the_field() {
        let cases = [
            (json!({"$set": {"authUserId": "x"}}), "authUserId"),
            (json!({"$unset": {"expirationId": true}}), "expirationId"),
            (json!({"$set": {"authUserId.nested": 1}}), "authUserId"),
            (json!({"$set": {"__STATE__": "DRAFT"}}), "__STATE__"),
            (json!({"$currentDate": {"updatedAt": true}}), "updatedAt"),
            (json!({"$set": {"_id": "1"}}), "_id"),
            (json!({"$unset": {"creatorId": true}}), "creatorId"),
        ];
        for (update, field) in cases {
            let text = message(check_update(&update));
            assert!(text.starts_with(field), "{text:?} names {field}");
        }
    }

    #[test]
    fn a_body_that_is_not_an_object_of_known_operators_is_refused() {
        assert!(message(check_update(&json!([1]))).contains("object of update operators"));
        assert!(message(check_update(&json!({"name": "x"}))).contains("unknown update operator \"name\""));
        assert!(message(check_update(&json!({"$set": 1}))).contains("$set must be an object"));
        assert!(check_update(&json!({"$set": {"name": "x"}, "$unset": {"age": true}})).is_ok());
        assert!(check_update(&json!({})).is_ok());
    }

    #[test]
    fn the_cas_condition_is_anded_with_the_callers_q() {
        let before = json!({"updatedAt": "2024-01-01T00:00:00.000Z"});
        let plain = cas_filter(&Filter::default(), &before);
        assert_eq!(plain.q, Some(json!({"updatedAt": "2024-01-01T00:00:00.000Z"})));
        let caller = Filter {
            q: Some(json!({"name": "Ada"})),
            state: Some(StateFilter(vec![DocState::Draft])),
            ..Filter::default()
        };
        let both = cas_filter(&caller, &before);
        let expected = json!({"$and": [{"name": "Ada"}, {"updatedAt": "2024-01-01T00:00:00.000Z"}]});
        assert_eq!(both.q, Some(expected));
        assert_eq!(both.state, caller.state);
        let missing = cas_filter(&Filter::default(), &json!({}));
        assert_eq!(missing.q, Some(json!({"updatedAt": {"$exists": false}})));
    }

    #[test]
    fn the_revert_sets_changed_fields_back_and_unsets_new_ones() {
        let before = json!({"_id": "1", "name": "Ada", "age": 3, "tags": ["a"], "updatedAt": "t1"});
        let after = json!({"_id": "1", "name": "Bo", "tags": ["a"], "city": "Rome", "updatedAt": "t2"});
        let revert = revert_update(&before, &after);
        assert_eq!(
            revert,
            Some(json!({"$set": {"age": 3, "name": "Ada"}, "$unset": {"city": true}}))
        );
        assert_eq!(field_names(&revert.unwrap()), "[age, city, name]");
        assert_eq!(revert_update(&before, &before), None);
    }

    #[test]
    fn only_changed_login_fields_reach_the_auth_provider() {
        let before = json!({"email": "a@x.io", "username": "ada", "blocked": true});
        let after = json!({"email": "b@x.io", "username": "ada"});
        let (patch, undo) = auth_patches(&before, &after);
        assert_eq!(
            patch,
            AuthUserPatch {
                email: Some("b@x.io".into()),
                username: None,
                blocked: Some(false)
            }
        );
        assert_eq!(
            undo,
            AuthUserPatch {
                email: Some("a@x.io".into()),
                username: None,
                blocked: Some(true)
            }
        );
        let removed = json!({"username": "ada", "blocked": true});
        assert_eq!(auth_patches(&before, &removed).0, AuthUserPatch::default());
    }

    #[test]
    fn roles_compare_as_sets() {
        let roles = |items: &[&str]| items.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>();
        assert!(!roles_changed(&roles(&["a", "b"]), &roles(&["b", "a"])));
        assert!(roles_changed(&roles(&["a"]), &roles(&["a", "c"])));
        assert!(roles_changed(&roles(&["a"]), &[]));
    }

    #[test]
    fn expiry_changes_are_classified_and_bad_dates_refused_early() {
        let at = |date: &str| json!({"expirationDate": date});
        let none = json!({});
        let date = "2030-01-01T00:00:00Z";
        assert_eq!(
            expiry_change(&at(date), &at(date)).unwrap(),
            ExpiryChange::Unchanged
        );
        assert_eq!(
            expiry_change(&none, &json!({"expirationDate": null})).unwrap(),
            ExpiryChange::Unchanged
        );
        assert_eq!(
            expiry_change(&none, &at(date)).unwrap(),
            ExpiryChange::Schedule(date.into())
        );
        assert_eq!(expiry_change(&at(date), &none).unwrap(), ExpiryChange::Remove);
        assert!(expiry_change(&none, &at("tomorrow")).is_err());
    }
}
