//! Tests of the positional `$set` forms.

use serde_json::{json, Value};

use crate::{apply_update_with_filter, QueryError};

const NOW: &str = "2024-05-06T07:08:09.123Z";

fn base() -> Value {
    json!({
        "_id": "u1",
        "roles": ["old", "keep", "old"],
        "items": [{"id": 1, "qty": 5}, {"id": 2, "qty": 0}, {"id": 3, "qty": 9}]
    })
}

fn upd(update: Value, filter: Value) -> Result<Value, QueryError> {
    let mut doc = base();
    apply_update_with_filter(&mut doc, &update, NOW, &filter).map(|()| doc)
}

fn ok(update: Value, filter: Value) -> Value {
    match upd(update.clone(), filter) {
        Ok(d) => d,
        Err(e) => panic!("{update} rejected: {e}"),
    }
}

fn no_match() -> Result<Value, QueryError> {
    Err(QueryError(
        "The positional operator did not find the match needed from the query.".into(),
    ))
}

#[test]
fn replace_first_matching_scalar() {
    let d = ok(
        json!({"$set": {"roles.$.replace": "new"}}),
        json!({"roles": "old"}),
    );
    assert_eq!(d["roles"], json!(["new", "keep", "old"]), "only the first match");
    let d = ok(
        json!({"$set": {"roles.$.replace": "x"}}),
        json!({"roles": {"$in": ["keep"]}}),
    );
    assert_eq!(d["roles"], json!(["old", "x", "old"]));
}

#[test]
fn replace_object_by_sub_field_condition() {
    let d = ok(
        json!({"$set": {"items.$.replace": {"id": 2, "qty": 7}}}),
        json!({"$and": [{"items.id": 2}], "_id": "u1"}),
    );
    assert_eq!(d["items"][1], json!({"id": 2, "qty": 7}));
    assert_eq!(d["items"][0], json!({"id": 1, "qty": 5}));
}

#[test]
fn merge_into_the_element_matched_by_elem_match() {
    let d = ok(
        json!({"$set": {"items.$.merge": {"qty": 1, "note": "n"}}, "$inc": {"count": 1}}),
        json!({"items": {"$elemMatch": {"qty": {"$gt": 6}}}}),
    );
    assert_eq!(d["items"][2], json!({"id": 3, "qty": 1, "note": "n"}));
    assert_eq!(d["count"], json!(1), "other operators still apply");
}

#[test]
fn all_conditions_must_hold_on_the_same_element() {
    let d = ok(
        json!({"$set": {"items.$.merge": {"hit": true}}}),
        json!({"items.qty": {"$lt": 6}, "items.id": {"$gt": 1}}),
    );
    assert_eq!(d["items"][1]["hit"], json!(true));
    assert_eq!(d["items"][0].get("hit"), None);
}

#[test]
fn positional_errors() {
    assert_eq!(
        upd(
            json!({"$set": {"roles.$.replace": "x"}}),
            json!({"roles": "none"})
        ),
        no_match()
    );
    assert_eq!(
        upd(json!({"$set": {"roles.$.replace": "x"}}), json!({"_id": "u1"})),
        no_match()
    );
    assert_eq!(
        upd(json!({"$set": {"nope.$.replace": "x"}}), json!({"nope": 1})),
        no_match()
    );
    assert_eq!(
        upd(
            json!({"$set": {"roles.$.merge": {"a": 1}}}),
            json!({"roles": "old"})
        ),
        Err(QueryError("roles.$.merge needs an array of objects".into()))
    );
    assert_eq!(
        upd(json!({"$set": {"items.$.merge": 3}}), json!({"items.id": 1})),
        Err(QueryError("items.$.merge needs an object".into()))
    );
    assert_eq!(
        upd(json!({"$set": {"items.$.merge": {"a.b": 3}}}), json!({"items.id": 1})),
        Err(QueryError(
            "items.$.merge does not accept the key 'a.b': dot-notation and operators are not allowed inside the value"
                .into()
        ))
    );
    assert_eq!(
        upd(
            json!({"$unset": {"roles.$.replace": true}}),
            json!({"roles": "old"})
        ),
        Err(QueryError(
            "The update path 'roles.$.replace' is not valid: field names cannot start with '$'".into()
        ))
    );
    assert_eq!(
        upd(json!({"$set": {"roles.$.replace": "x"}}), json!({"$nor": []})),
        Err(QueryError("Unknown operator: $nor".into()))
    );
    let mut doc = base();
    let before = doc.clone();
    let r = apply_update_with_filter(
        &mut doc,
        &json!({"$set": {"x": 1, "roles.$.replace": "y"}}),
        NOW,
        &json!({"roles": "zzz"}),
    );
    assert_eq!(r.map(|()| Value::Null), no_match());
    assert_eq!(doc, before, "untouched on error");
}
