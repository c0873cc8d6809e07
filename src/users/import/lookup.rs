//! Store lookups of a batch: who already uses its emails and usernames, which of its `_id`s
//! exist, and what the users its update rows name hold now. One `GET /users/` per field
//! (`{"email": {"$in": [...]}}`, then `username`), in every state, 200 documents a page. One
//! query per field rather than one `$or`: an `$in` on one indexed field is an index lookup on
//! every store (the CRUD fake scans for an `$or`: 115 s instead of 2.5 s for 100,000 rows).
//! Values that would make the query string too long for the store (Node's 16 KiB header limit)
//! are split into several queries.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use crate::context::CallContext;
use crate::store::query::MAX_LIMIT;
use crate::store::{Collection, DocState, Filter, FindQuery, StateFilter, StoreResult};

/// The fields the user store keeps unique.
pub const UNIQUE_FIELDS: [&str; 2] = ["email", "username"];

/// The most URL-encoded characters of values in one `_q`.
const MAX_ENCODED_VALUES: usize = 6000;

/// Every state: a duplicate in TRASH still holds its email.
pub(super) fn all_states() -> StateFilter {
    StateFilter(vec![
        DocState::Public,
        DocState::Draft,
        DocState::Trash,
        DocState::Deleted,
    ])
}

/// The `_id` of the users holding each `(field, value)` of `values` (fields of [`UNIQUE_FIELDS`]).
pub async fn unique_owners(
    users: &dyn Collection,
    ctx: &CallContext,
    values: &[(&'static str, String)],
) -> StoreResult<HashMap<(&'static str, String), String>> {
    let mut owners = HashMap::new();
    for field in UNIQUE_FIELDS {
        let wanted: Vec<&str> = values
            .iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, value)| value.as_str())
            .collect();
        for doc in find_in(users, ctx, field, &wanted, &UNIQUE_FIELDS).await? {
            let Some(id) = id_of(&doc) else { continue };
            for field in UNIQUE_FIELDS {
                if let Some(value) = doc.get(field).and_then(Value::as_str) {
                    owners.insert((field, value.to_owned()), id.clone());
                }
            }
        }
    }
    Ok(owners)
}

/// Which of `ids` name a user (in any state).
pub async fn existing_ids(
    users: &dyn Collection,
    ctx: &CallContext,
    ids: &[String],
) -> StoreResult<HashSet<String>> {
    let wanted: Vec<&str> = ids.iter().map(String::as_str).collect();
    let docs = find_in(users, ctx, "_id", &wanted, &["_id"]).await?;
    Ok(docs.iter().filter_map(id_of).collect())
}

/// The users `ids` name (in any state), projected on `projection` (`_id` is added), by `_id`.
pub async fn current_users(
    users: &dyn Collection,
    ctx: &CallContext,
    ids: &[String],
    projection: &[&str],
) -> StoreResult<HashMap<String, Value>> {
    let wanted: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut fields = vec!["_id"];
    fields.extend(projection.iter().filter(|field| **field != "_id"));
    let docs = find_in(users, ctx, "_id", &wanted, &fields).await?;
    Ok(docs
        .into_iter()
        .filter_map(|doc| Some((id_of(&doc)?, doc)))
        .collect())
}

fn id_of(doc: &Value) -> Option<String> {
    match doc.get("_id")? {
        Value::String(id) => Some(id.clone()),
        // A store may answer an ObjectId as {"$oid": "..."}.
        other => other.get("$oid").and_then(Value::as_str).map(str::to_owned),
    }
}

/// The documents whose `field` is one of `values` (`{"<field>": {"$in": [...]}}`), projected
/// on `projection`, every page of them.
async fn find_in(
    users: &dyn Collection,
    ctx: &CallContext,
    field: &str,
    values: &[&str],
    projection: &[&str],
) -> StoreResult<Vec<Value>> {
    let mut found = Vec::new();
    for chunk in chunks(values) {
        let mut query = FindQuery {
            filter: Filter {
                q: Some(json!({ field: { "$in": chunk } })),
                state: Some(all_states()),
                ..Filter::default()
            },
            projection: Some(projection.iter().map(|f| (*f).to_owned()).collect()),
            sort: Some("_id".to_owned()),
            limit: Some(MAX_LIMIT),
            ..FindQuery::default()
        };
        loop {
            let page = users.find(ctx, &query).await?;
            let full = page.len() >= MAX_LIMIT as usize;
            found.extend(page);
            if !full {
                break;
            }
            query.skip = Some(query.skip.unwrap_or(0) + u64::from(MAX_LIMIT));
        }
    }
    Ok(found)
}

/// Consecutive slices of `values` whose URL-encoded length stays under the limit.
fn chunks<'a>(values: &'a [&'a str]) -> Vec<&'a [&'a str]> {
    let mut out = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (index, value) in values.iter().enumerate() {
        let cost = encoded_len(value) + 9;
        if index > start && size + cost > MAX_ENCODED_VALUES {
            out.push(&values[start..index]);
            (start, size) = (index, 0);
        }
        size += cost;
    }
    if start < values.len() {
        out.push(&values[start..]);
    }
    out
}

/// Length of the JSON string literal of `value`, percent-encoded.
fn encoded_len(value: &str) -> usize {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                1
            } else {
                3
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_value_lists_are_split_into_queries_that_fit_a_url() {
        let emails: Vec<String> = (0..500).map(|i| format!("user-number-{i}@example.com")).collect();
        let values: Vec<&str> = emails.iter().map(String::as_str).collect();
        let parts = chunks(&values);
        assert!(parts.len() > 1);
        assert_eq!(parts.iter().map(|p| p.len()).sum::<usize>(), 500);
        assert!(parts
            .iter()
            .all(|p| p.iter().map(|v| encoded_len(v) + 9).sum::<usize>() <= MAX_ENCODED_VALUES));
        assert_eq!(chunks(&values[..3]).len(), 1);
        assert!(chunks(&[]).is_empty());
    }
}
