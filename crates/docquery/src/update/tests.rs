//! Tests of the update operators.

use serde_json::{json, Value};

use crate::{apply_update, QueryError};

const NOW: &str = "2024-05-06T07:08:09.123Z";

fn base() -> Value {
    json!({
        "_id": "u1",
        "name": "Alice",
        "count": 2,
        "ratio": 1.5,
        "tags": ["a", "b"],
        "address": {"city": "Rome"},
        "items": [{"id": 1, "qty": 5}, {"id": 2, "qty": 0}],
        "updatedAt": "2020-01-01T00:00:00.000Z"
    })
}

fn upd(update: Value) -> Value {
    let mut doc = base();
    if let Err(e) = apply_update(&mut doc, &update, NOW) {
        panic!("update {update} rejected: {e}");
    }
    doc
}

fn err(update: Value) -> String {
    let mut doc = base();
    match apply_update(&mut doc, &update, NOW) {
        Ok(()) => panic!("update {update} accepted: {doc}"),
        Err(QueryError(msg)) => {
            assert_eq!(doc, base(), "a failed update leaves the document untouched");
            msg
        }
    }
}

#[test]
fn empty_update_is_a_no_op() {
    assert_eq!(upd(json!({})), base());
    assert_eq!(upd(json!({"$set": {}})), base());
}

#[test]
fn set() {
    let d = upd(json!({"$set": {"name": "Bob", "new": [1]}}));
    assert_eq!(d["name"], "Bob");
    assert_eq!(d["new"], json!([1]));
    let keys: Vec<&String> = d.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    assert_eq!(
        keys.first().map(|k| k.as_str()),
        Some("_id"),
        "existing keys keep their place"
    );
    assert_eq!(
        keys.last().map(|k| k.as_str()),
        Some("new"),
        "new keys are appended"
    );
}

#[test]
fn set_dotted_paths() {
    let d = upd(json!({"$set": {"address.zip": "00100", "meta.a.b": true, "items.1.qty": 3}}));
    assert_eq!(d["address"], json!({"city": "Rome", "zip": "00100"}));
    assert_eq!(
        d["meta"],
        json!({"a": {"b": true}}),
        "intermediate objects are created"
    );
    assert_eq!(d["items"][1], json!({"id": 2, "qty": 3}));
    let d = upd(json!({"$set": {"tags.3": "d"}}));
    assert_eq!(
        d["tags"],
        json!(["a", "b", null, "d"]),
        "arrays are padded with null"
    );
    assert_eq!(
        err(json!({"$set": {"name.first": "A"}})),
        "Cannot update 'name.first': the element holding 'first' is not an object"
    );
    assert_eq!(
        err(json!({"$set": {"tags.x": 1}})),
        "Cannot update 'tags.x': the element holding 'x' is not an object"
    );
}

#[test]
fn unset() {
    let d = upd(json!({"$unset": {"name": true, "address.city": true, "missing.deep": true}}));
    assert_eq!(d.get("name"), None);
    assert_eq!(d["address"], json!({}));
    assert_eq!(d.get("missing"), None, "unsetting a missing path creates nothing");
    let d = upd(json!({"$unset": {"tags.0": true}}));
    assert_eq!(d["tags"], json!([null, "b"]));
    let d = upd(json!({"$unset": {"count": true}}));
    let keys: Vec<&String> = d.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    assert_eq!(
        keys,
        ["_id", "name", "ratio", "tags", "address", "items", "updatedAt"]
    );
    assert_eq!(
        err(json!({"$unset": {"name": 1}})),
        "$unset needs true as the value of name"
    );
    assert_eq!(
        err(json!({"$unset": {"name": ""}})),
        "$unset needs true as the value of name"
    );
}

#[test]
fn inc() {
    let d = upd(json!({"$inc": {"count": 3, "ratio": 1, "missing": 4, "address.n": -1}}));
    assert_eq!(d["count"], json!(5));
    assert!(d["count"].is_i64(), "integers stay integers");
    assert_eq!(d["ratio"], json!(2.5));
    assert_eq!(d["missing"], json!(4));
    assert_eq!(d["address"]["n"], json!(-1));
    let d = upd(json!({"$inc": {"count": 0.5}}));
    assert_eq!(d["count"], json!(2.5));
    let d = upd(json!({"$inc": {"items.0.qty": 1}}));
    assert_eq!(d["items"][0]["qty"], json!(6));
    assert_eq!(
        err(json!({"$inc": {"count": "1"}})),
        "$inc needs a number as the value of count"
    );
    assert_eq!(
        err(json!({"$inc": {"name": 1}})),
        "Cannot apply $inc to the non-numeric field name"
    );
    let mut big = json!({"n": i64::MAX});
    let e = apply_update(&mut big, &json!({"$inc": {"n": 1}}), NOW);
    assert_eq!(e, Err(QueryError("$inc on n overflows".into())));
}

#[test]
fn mul() {
    let d = upd(json!({"$mul": {"count": 4, "ratio": 2, "missing": 7, "missingf": 1.5}}));
    assert_eq!(d["count"], json!(8));
    assert!(d["count"].is_i64());
    assert_eq!(d["ratio"], json!(3.0));
    assert_eq!(d["missing"], json!(0), "missing field becomes 0");
    assert!(d["missing"].is_i64());
    assert_eq!(d["missingf"], json!(0.0));
    assert_eq!(
        err(json!({"$mul": {"count": null}})),
        "$mul needs a number as the value of count"
    );
    assert_eq!(
        err(json!({"$mul": {"tags": 2}})),
        "Cannot apply $mul to the non-numeric field tags"
    );
}

#[test]
fn current_date() {
    let d = upd(json!({"$currentDate": {"lastLogin": true, "meta.seen": {"$type": "date"}}}));
    assert_eq!(d["lastLogin"], NOW);
    assert_eq!(d["meta"]["seen"], NOW);
    assert_eq!(
        err(json!({"$currentDate": {"lastLogin": "now"}})),
        "$currentDate needs true as the value of lastLogin"
    );
}

#[test]
fn push() {
    let d = upd(json!({"$push": {"tags": "c", "newList": 1, "address.list": {"k": 1}}}));
    assert_eq!(d["tags"], json!(["a", "b", "c"]));
    assert_eq!(d["newList"], json!([1]), "a missing array is created");
    assert_eq!(d["address"]["list"], json!([{"k": 1}]));
    let d = upd(json!({"$push": {"tags": ["x", "y"]}}));
    assert_eq!(
        d["tags"],
        json!(["a", "b", ["x", "y"]]),
        "a plain array is one item"
    );
    let d = upd(json!({"$push": {"tags": {"$each": ["c", "a"]}}}));
    assert_eq!(d["tags"], json!(["a", "b", "c", "a"]));
}

#[test]
fn push_modifiers() {
    let d = upd(json!({"$push": {"tags": {"$each": ["x", "y"], "$position": 1}}}));
    assert_eq!(d["tags"], json!(["a", "x", "y", "b"]));
    let d = upd(json!({"$push": {"tags": {"$each": ["x"], "$position": -1}}}));
    assert_eq!(d["tags"], json!(["a", "x", "b"]));
    let d = upd(json!({"$push": {"tags": {"$each": ["x"], "$position": 10}}}));
    assert_eq!(d["tags"], json!(["a", "b", "x"]));
    let d = upd(json!({"$push": {"tags": {"$each": ["c", "d"], "$slice": 3}}}));
    assert_eq!(d["tags"], json!(["a", "b", "c"]));
    let d = upd(json!({"$push": {"tags": {"$each": ["c", "d"], "$slice": -2}}}));
    assert_eq!(d["tags"], json!(["c", "d"]));
    let d = upd(json!({"$push": {"tags": {"$each": [], "$slice": 0}}}));
    assert_eq!(d["tags"], json!([]));
    let d = upd(json!({"$push": {"tags": {"$each": ["0", "z"], "$sort": -1, "$slice": 2}}}));
    assert_eq!(d["tags"], json!(["z", "b"]));
    let d = upd(json!({"$push": {"items": {"$each": [{"id": 3, "qty": 2}], "$sort": {"qty": 1}}}}));
    assert_eq!(
        d["items"],
        json!([{"id": 2, "qty": 0}, {"id": 3, "qty": 2}, {"id": 1, "qty": 5}])
    );
}

#[test]
fn push_errors() {
    assert_eq!(
        err(json!({"$push": {"name": "x"}})),
        "$push needs an array but the field name is of type string"
    );
    assert_eq!(
        err(json!({"$push": {"tags": {"$each": "x"}}})),
        "$each in $push on tags needs an array"
    );
    assert_eq!(
        err(json!({"$push": {"tags": {"$each": [], "$position": "1"}}})),
        "$position in $push on tags needs an integer"
    );
    assert_eq!(
        err(json!({"$push": {"tags": {"$each": [], "$slice": 1.5}}})),
        "$slice in $push on tags needs an integer"
    );
    assert_eq!(
        err(json!({"$push": {"tags": {"$each": [], "$sort": 2}}})),
        "$sort in $push on tags needs 1 or -1 (or an object of fields with 1 or -1)"
    );
    assert_eq!(
        err(json!({"$push": {"tags": {"$each": [], "$foo": 1}}})),
        "Unrecognized modifier $foo in $push on tags"
    );
    assert_eq!(
        err(json!({"$push": {"tags": {"$slice": 1}}})),
        "$push modifiers on tags need $each"
    );
}

#[test]
fn add_to_set() {
    let d = upd(json!({"$addToSet": {"tags": "a"}}));
    assert_eq!(d["tags"], json!(["a", "b"]), "no duplicates");
    let d = upd(json!({"$addToSet": {"tags": "c", "fresh": 1}}));
    assert_eq!(d["tags"], json!(["a", "b", "c"]));
    assert_eq!(d["fresh"], json!([1]));
    let d = upd(json!({"$addToSet": {"tags": {"$each": ["b", "c", "c", "d"]}}}));
    assert_eq!(d["tags"], json!(["a", "b", "c", "d"]));
    let d = upd(json!({"$addToSet": {"items": {"id": 1, "qty": 5.0}}}));
    assert_eq!(d["items"].as_array().map(Vec::len), Some(2), "1.0 equals 1");
    assert_eq!(
        err(json!({"$addToSet": {"count": 1}})),
        "$addToSet needs an array but the field count is of type number"
    );
    assert_eq!(
        err(json!({"$addToSet": {"tags": {"$each": "x"}}})),
        "$each in $addToSet on tags needs an array"
    );
    assert_eq!(
        err(json!({"$addToSet": {"tags": {"$each": [], "$slice": 1}}})),
        "$addToSet on tags only supports the $each modifier"
    );
}

#[test]
fn pull() {
    let d = upd(json!({"$pull": {"tags": "a", "missing": 1}}));
    assert_eq!(d["tags"], json!(["b"]));
    assert_eq!(d.get("missing"), None, "pulling from a missing field is a no-op");
    let d = upd(json!({"$pull": {"tags": "zzz"}}));
    assert_eq!(d["tags"], json!(["a", "b"]));
    let d = upd(json!({"$pull": {"tags": {"$in": ["b", "c"]}}}));
    assert_eq!(d["tags"], json!(["a"]));
    let d = upd(json!({"$pull": {"items": {"qty": {"$gt": 1}}}}));
    assert_eq!(
        d["items"],
        json!([{"id": 2, "qty": 0}]),
        "filter on object elements"
    );
    let d = upd(json!({"$pull": {"items": {"id": 2}}}));
    assert_eq!(
        d["items"],
        json!([{"id": 1, "qty": 5}]),
        "partial object matches as a query"
    );
    let d = upd(json!({"$pull": {"items": {"$or": [{"id": 1}, {"id": 2}]}}}));
    assert_eq!(d["items"], json!([]));
    assert_eq!(
        err(json!({"$pull": {"name": "A"}})),
        "$pull needs an array but the field name is of type string"
    );
    assert_eq!(
        err(json!({"$pull": {"tags": {"$not": "a"}}})),
        "Unsupported operator: $not"
    );
}

#[test]
fn unknown_operators() {
    assert_eq!(
        err(json!({"$setOnInsert": {"a": 1}})),
        "Unknown update operator: $setOnInsert"
    );
    assert_eq!(
        err(json!({"$rename": {"a": "b"}})),
        "Unknown update operator: $rename"
    );
    assert_eq!(err(json!({"$pop": {"tags": 1}})), "Unknown update operator: $pop");
    assert_eq!(err(json!({"name": "Bob"})), "Unknown update operator: name");
}

#[test]
fn reserved_fields() {
    for field in [
        "_id",
        "creatorId",
        "createdAt",
        "updaterId",
        "updatedAt",
        "__STATE__",
    ] {
        assert_eq!(
            err(json!({"$set": {field: "x"}})),
            format!("$set cannot modify the reserved field {field}")
        );
    }
    assert_eq!(
        err(json!({"$unset": {"updatedAt": true}})),
        "$unset cannot modify the reserved field updatedAt"
    );
    assert_eq!(
        err(json!({"$currentDate": {"updatedAt": true}})),
        "$currentDate cannot modify the reserved field updatedAt"
    );
    assert_eq!(
        err(json!({"$set": {"_id.x": 1}})),
        "$set cannot modify the reserved field _id"
    );
}

#[test]
fn shape_errors() {
    assert_eq!(err(json!([])), "The update must be a JSON object of operators");
    assert_eq!(err(json!({"$set": 1})), "$set needs an object of fields");
    assert_eq!(
        err(json!({"$set": {"a..b": 1}})),
        "The update path 'a..b' contains an empty field name"
    );
    assert_eq!(
        err(json!({"$set": {"name": 1}, "$unset": {"name": true}})),
        "Updating the path 'name' would create a conflict at 'name'"
    );
    assert_eq!(
        err(json!({"$set": {"address.city": 1}, "$unset": {"address": true}})),
        "Updating the path 'address.city' would create a conflict at 'address'"
    );
    assert_eq!(
        upd(json!({"$set": {"ab": 1}, "$unset": {"a": true}}))["ab"],
        json!(1)
    );
    assert_eq!(
        err(json!({"$set": {"tags.$": 1}})),
        "The update path 'tags.$' is not valid: field names cannot start with '$'"
    );
    assert_eq!(
        err(json!({"$set": {"items.$.replace": {"id": 9}}})),
        "Positional update 'items.$.replace' is not supported: it needs the filter that selected the array element"
    );
    let mut not_object = json!([1]);
    assert_eq!(
        apply_update(&mut not_object, &json!({}), NOW),
        Err(QueryError("The document must be a JSON object".into()))
    );
}

#[test]
fn failure_midway_leaves_the_document_untouched() {
    let msg = err(json!({"$set": {"name": "Bob"}, "$inc": {"tags": 1}}));
    assert_eq!(msg, "Cannot apply $inc to the non-numeric field tags");
}
