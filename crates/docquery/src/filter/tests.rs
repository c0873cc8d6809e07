//! Tests of `_q` validation and matching.

use serde_json::{json, Value};

use crate::{matches, validate_filter, QueryError};

fn doc() -> Value {
    json!({
        "_id": "u1",
        "name": "Alice",
        "age": 30,
        "score": 7.5,
        "active": true,
        "nothing": null,
        "roles": ["admin", "editor"],
        "scores": [1, 5, 9],
        "address": {"city": "Rome", "zip": "00100", "geo": {"lat": 41.9}},
        "groups": [{"name": "g1", "size": 3}, {"name": "g2", "size": 10, "tags": ["x"]}],
        "createdAt": "2024-03-01T10:00:00.000Z"
    })
}

fn m(filter: Value) -> bool {
    match matches(&doc(), &filter) {
        Ok(b) => b,
        Err(e) => panic!("filter {filter} rejected: {e}"),
    }
}

fn err(filter: Value) -> String {
    match matches(&doc(), &filter) {
        Ok(b) => panic!("filter {filter} accepted ({b})"),
        Err(QueryError(msg)) => msg,
    }
}

#[test]
fn validation_accepts_the_supported_subset() {
    let filter = json!({"$and": [{"a": 1}, {"$or": [{"b": {"$in": [1]}}, {"c": {"$exists": true}}]}],
        "d": {"$regex": "^x", "$options": "imsx"}, "e": {"$elemMatch": {"f": {"$gt": 1}}},
        "g": {"$size": 2, "$all": [1], "$nin": [], "$ne": 1, "$eq": 2, "$gte": 1, "$lte": 3, "$lt": 4}});
    assert_eq!(validate_filter(&filter), Ok(()));
    assert_eq!(validate_filter(&json!({})), Ok(()));
}

#[test]
fn validation_errors() {
    assert_eq!(err(json!({"$nor": [{"a": 1}]})), "Unknown operator: $nor");
    assert_eq!(err(json!({"$where": "1"})), "Unknown operator: $where");
    assert_eq!(
        err(json!({"$text": {"$search": "x"}})),
        "Unsupported operator: $text"
    );
    assert_eq!(
        err(json!({"a": {"$not": {"$eq": 1}}})),
        "Unsupported operator: $not"
    );
    assert_eq!(
        err(json!({"a": {"$type": "string"}})),
        "Unsupported operator: $type"
    );
    assert_eq!(
        err(json!({"a": {"$and": [{"b": 1}]}})),
        "Unsupported operator: $and"
    );
    assert_eq!(err(json!({"$and": {"a": 1}})), "$and must be an array");
    assert_eq!(err(json!({"$or": []})), "$or must be a non-empty array");
    assert_eq!(err(json!({"$or": [1]})), "$or entries must be objects");
    assert_eq!(err(json!({"$and": [{"$nor": []}]})), "Unknown operator: $nor");
    assert_eq!(err(json!({"a": {"$in": 1}})), "$in needs an array");
    assert_eq!(err(json!({"a": {"$nin": "x"}})), "$nin needs an array");
    assert_eq!(err(json!({"a": {"$all": {}}})), "$all needs an array");
    assert_eq!(
        err(json!({"a": {"$size": -1}})),
        "$size needs a non-negative integer"
    );
    assert_eq!(
        err(json!({"a": {"$size": 1.5}})),
        "$size needs a non-negative integer"
    );
    assert_eq!(
        err(json!({"a": {"$size": "2"}})),
        "$size needs a non-negative integer"
    );
    assert_eq!(err(json!({"a": {"$regex": 5}})), "$regex has to be a string");
    assert_eq!(err(json!({"a": {"$options": "i"}})), "$options needs a $regex");
    assert_eq!(
        err(json!({"a": {"$regex": "x", "$options": "g"}})),
        "invalid flag in regex options: g"
    );
    assert_eq!(
        err(json!({"a": {"$regex": "x", "$options": 1}})),
        "$options has to be a string"
    );
    assert!(err(json!({"a": {"$regex": "(unclosed"}})).starts_with("Invalid $regex '(unclosed': "));
    assert_eq!(err(json!({"a": {"$elemMatch": 3}})), "$elemMatch needs an object");
    assert_eq!(
        err(json!({"a": {"$elemMatch": {"$not": 3}}})),
        "Unsupported operator: $not"
    );
    assert_eq!(
        err(json!({"a": {"$elemMatch": {"b": {"$mod": 3}}}})),
        "Unsupported operator: $mod"
    );
    assert_eq!(err(json!({"a": {"$exists": "yes"}})), "$exists needs a boolean");
    assert_eq!(
        err(json!({"a": {"$gt": 1, "b": 2}})),
        "Cannot mix operators and plain fields in the condition on 'a'"
    );
    assert_eq!(err(json!({"a..b": 1})), "Invalid field name: 'a..b'");
    assert_eq!(err(json!([{"a": 1}])), "The filter must be a JSON object");
    assert_eq!(
        err(json!({"a": {"$nearSphere": {}}})),
        "Unsupported operator: $nearSphere"
    );
}

#[test]
fn implicit_equality() {
    assert!(m(json!({"name": "Alice"})));
    assert!(!m(json!({"name": "alice"})));
    assert!(m(json!({"age": 30.0})), "numbers compare across int/float");
    assert!(!m(json!({"age": "30"})), "no cross-type equality");
    assert!(m(json!({"name": "Alice", "age": 30})));
    assert!(!m(json!({"name": "Alice", "age": 31})));
    assert!(m(json!({})));
}

#[test]
fn equality_against_arrays() {
    assert!(m(json!({"roles": "admin"})), "array contains");
    assert!(!m(json!({"roles": "viewer"})));
    assert!(m(json!({"roles": ["admin", "editor"]})), "whole-array equality");
    assert!(!m(json!({"roles": ["editor", "admin"]})), "order matters");
    assert!(!m(json!({"roles": ["admin"]})));
}

#[test]
fn equality_against_objects_is_exact() {
    assert!(m(json!({"address.geo": {"lat": 41.9}})));
    assert!(
        !m(json!({"address": {"city": "Rome"}})),
        "sub-document must match entirely"
    );
}

#[test]
fn null_matches_missing_and_null() {
    assert!(m(json!({"missing": null})));
    assert!(m(json!({"nothing": null})));
    assert!(!m(json!({"name": null})));
    assert!(m(json!({"nothing": {"$eq": null}})));
    assert!(m(json!({"missing": {"$in": [null, 1]}})));
}

#[test]
fn dotted_paths() {
    assert!(m(json!({"address.city": "Rome"})));
    assert!(!m(json!({"address.city": "Milan"})));
    assert!(m(json!({"address.geo.lat": {"$gt": 41}})));
    assert!(m(json!({"groups.name": "g2"})), "through arrays of objects");
    assert!(!m(json!({"groups.name": "g3"})));
    assert!(m(json!({"groups.tags": "x"})));
    assert!(m(json!({"roles.0": "admin"})), "numeric index");
    assert!(!m(json!({"roles.1": "admin"})));
    assert!(m(json!({"groups.1.size": 10})));
    assert!(
        m(json!({"address.city.x": null})),
        "path through a scalar is missing"
    );
}

#[test]
fn eq_and_ne() {
    assert!(m(json!({"age": {"$eq": 30}})));
    assert!(!m(json!({"age": {"$eq": 31}})));
    assert!(m(json!({"age": {"$ne": 31}})));
    assert!(!m(json!({"age": {"$ne": 30}})));
    assert!(m(json!({"missing": {"$ne": 1}})), "$ne matches a missing field");
    assert!(!m(json!({"missing": {"$ne": null}})));
    assert!(
        !m(json!({"roles": {"$ne": "admin"}})),
        "$ne on arrays means not contains"
    );
    assert!(m(json!({"roles": {"$ne": "viewer"}})));
}

#[test]
fn comparisons() {
    assert!(m(json!({"age": {"$gt": 29}})));
    assert!(!m(json!({"age": {"$gt": 30}})));
    assert!(m(json!({"age": {"$gte": 30}})));
    assert!(!m(json!({"age": {"$gte": 30.5}})));
    assert!(m(json!({"score": {"$lt": 8}})));
    assert!(!m(json!({"score": {"$lt": 7.5}})));
    assert!(m(json!({"score": {"$lte": 7.5}})));
    assert!(!m(json!({"score": {"$lte": 7}})));
    assert!(m(json!({"age": {"$gt": 18, "$lt": 65}})));
    assert!(!m(json!({"age": {"$gt": 18, "$lt": 20}})));
}

#[test]
fn comparisons_need_the_same_type() {
    assert!(!m(json!({"age": {"$gt": "10"}})));
    assert!(!m(json!({"name": {"$gt": 1}})));
    assert!(!m(json!({"missing": {"$lt": 5}})));
    assert!(
        m(json!({"name": {"$gt": "Aa", "$lt": "B"}})),
        "strings lexicographic"
    );
    assert!(
        !m(json!({"name": {"$gt": "a"}})),
        "byte order: uppercase before lowercase"
    );
    assert!(m(json!({"createdAt": {"$gte": "2024-01-01T00:00:00.000Z"}})));
    assert!(!m(json!({"createdAt": {"$lt": "2024-03-01T00:00:00.000Z"}})));
    assert!(m(json!({"missing": {"$gte": null}})), "missing compares as null");
    assert!(!m(json!({"missing": {"$gt": null}})));
    assert!(m(json!({"active": {"$gt": false}})));
}

#[test]
fn comparisons_on_array_elements() {
    assert!(m(json!({"scores": {"$gt": 8}})));
    assert!(!m(json!({"scores": {"$gt": 9}})));
    assert!(
        m(json!({"scores": {"$gt": 6, "$lt": 2}})),
        "each operator on any element"
    );
    assert!(m(json!({"groups.size": {"$gte": 10}})));
}

#[test]
fn in_and_nin() {
    assert!(m(json!({"name": {"$in": ["Bob", "Alice"]}})));
    assert!(!m(json!({"name": {"$in": ["Bob"]}})));
    assert!(!m(json!({"name": {"$in": []}})));
    assert!(m(json!({"roles": {"$in": ["viewer", "editor"]}})));
    assert!(m(json!({"name": {"$nin": ["Bob"]}})));
    assert!(!m(json!({"name": {"$nin": ["Alice"]}})));
    assert!(!m(json!({"roles": {"$nin": ["editor"]}})));
    assert!(m(json!({"missing": {"$nin": [1]}})));
}

#[test]
fn all() {
    assert!(m(json!({"roles": {"$all": ["editor", "admin"]}})));
    assert!(!m(json!({"roles": {"$all": ["admin", "viewer"]}})));
    assert!(!m(json!({"roles": {"$all": []}})), "empty $all matches nothing");
    assert!(m(json!({"name": {"$all": ["Alice"]}})), "scalar field");
    assert!(m(
        json!({"groups": {"$all": [{"$elemMatch": {"size": {"$gt": 5}}}]}})
    ));
    assert!(!m(
        json!({"groups": {"$all": [{"$elemMatch": {"size": {"$gt": 50}}}]}})
    ));
}

#[test]
fn exists() {
    assert!(m(json!({"name": {"$exists": true}})));
    assert!(!m(json!({"missing": {"$exists": true}})));
    assert!(m(json!({"missing": {"$exists": false}})));
    assert!(!m(json!({"name": {"$exists": false}})));
    assert!(m(json!({"nothing": {"$exists": true}})), "null is present");
    assert!(m(json!({"address.zip": {"$exists": 1}})));
    assert!(m(json!({"groups.tags": {"$exists": true}})));
    assert!(!m(json!({"groups.color": {"$exists": true}})));
}

#[test]
fn regex() {
    assert!(m(json!({"name": {"$regex": "^Al"}})));
    assert!(!m(json!({"name": {"$regex": "^al"}})));
    assert!(m(json!({"name": {"$regex": "^al", "$options": "i"}})));
    assert!(
        m(json!({"name": {"$options": "i", "$regex": "ICE$"}})),
        "options first"
    );
    assert!(m(json!({"roles": {"$regex": "^edi"}})), "any array element");
    assert!(!m(json!({"age": {"$regex": "3"}})), "only strings match");
    let ml = json!({"t": "one\ntwo"});
    assert_eq!(matches(&ml, &json!({"t": {"$regex": "^two"}})), Ok(false));
    assert_eq!(
        matches(&ml, &json!({"t": {"$regex": "^two", "$options": "m"}})),
        Ok(true)
    );
    assert_eq!(matches(&ml, &json!({"t": {"$regex": "one.two"}})), Ok(false));
    assert_eq!(
        matches(&ml, &json!({"t": {"$regex": "one.two", "$options": "s"}})),
        Ok(true)
    );
    assert_eq!(
        matches(&ml, &json!({"t": {"$regex": "o n e", "$options": "x"}})),
        Ok(true)
    );
}

#[test]
fn elem_match() {
    assert!(m(
        json!({"groups": {"$elemMatch": {"name": "g2", "size": {"$gt": 5}}}})
    ));
    assert!(!m(
        json!({"groups": {"$elemMatch": {"name": "g1", "size": {"$gt": 5}}}})
    ));
    assert!(m(json!({"scores": {"$elemMatch": {"$gt": 4, "$lt": 6}}})));
    assert!(!m(json!({"scores": {"$elemMatch": {"$gt": 6, "$lt": 8}}})));
    assert!(m(
        json!({"groups": {"$elemMatch": {"$or": [{"size": 3}, {"size": 4}]}}})
    ));
    assert!(
        !m(json!({"name": {"$elemMatch": {"$eq": "Alice"}}})),
        "only arrays"
    );
}

#[test]
fn size() {
    assert!(m(json!({"roles": {"$size": 2}})));
    assert!(!m(json!({"roles": {"$size": 3}})));
    assert!(m(json!({"groups.tags": {"$size": 1}})));
    assert!(!m(json!({"name": {"$size": 5}})), "only arrays");
}

#[test]
fn and_or() {
    assert!(m(json!({"$and": [{"name": "Alice"}, {"age": 30}]})));
    assert!(!m(json!({"$and": [{"name": "Alice"}, {"age": 31}]})));
    assert!(m(json!({"$or": [{"name": "Bob"}, {"age": 30}]})));
    assert!(!m(json!({"$or": [{"name": "Bob"}, {"age": 31}]})));
    assert!(m(
        json!({"$or": [{"$and": [{"age": {"$gte": 30}}, {"roles": "admin"}]}], "active": true})
    ));
    assert!(!m(json!({"$or": [{"name": "Alice"}], "active": false})));
}
