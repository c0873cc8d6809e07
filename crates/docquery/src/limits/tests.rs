use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::apply_update;

const NOW: &str = "2024-01-01T00:00:00.000Z";

/// `{"a": {"a": ... 1}}` with `levels` objects, built without recursion.
fn nested(levels: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..levels {
        let mut map = serde_json::Map::new();
        map.insert("a".to_owned(), v);
        v = Value::Object(map);
    }
    v
}

#[test]
fn depth_counts_containers() {
    assert_eq!(depth(&json!(1)), 0);
    assert_eq!(depth(&json!({})), 1);
    assert_eq!(depth(&json!({"a": [1, {"b": 2}]})), 3);
    let deep = nested(10_000);
    assert_eq!(depth(&deep), 10_000);
    drop_iteratively(deep);
}

#[test]
fn documents_at_the_limit_pass_and_one_more_level_fails() {
    let limits = Limits::default();
    assert_eq!(limits.check_document(&nested(32)), Ok(()));
    let err = limits.check_document(&nested(33)).unwrap_err();
    assert!(err.message.contains("more than 32 levels"), "{err}");
    assert!(err.message.contains("/a/a"), "{err}");
}

#[test]
fn long_arrays_and_field_names_are_refused() {
    let limits = Limits {
        max_depth: 8,
        max_path_bytes: 10,
        max_array_len: 3,
    };
    let err = limits
        .check_document(&json!({"x": {"roles": [1, 2, 3, 4]}}))
        .unwrap_err();
    assert_eq!(err.message, "The array at /x/roles has 4 items: the limit is 3");
    let err = limits.check_document(&json!({"abcdefghijk": 1})).unwrap_err();
    assert!(
        err.message.contains("11 bytes long: the limit is 10 bytes"),
        "{err}"
    );
    assert_eq!(limits.check_document(&json!({"abcdefghij": [1, 2, 3]})), Ok(()));
}

#[test]
fn paths_are_bounded_in_segments_and_bytes() {
    let limits = Limits::default();
    let path = vec!["a"; 32].join(".");
    assert_eq!(limits.check_path(&path), Ok(()));
    let err = limits.check_path(&vec!["a"; 33].join(".")).unwrap_err();
    assert!(err.message.contains("33 segments: the limit is 32"), "{err}");
    let err = limits.check_path(&"x".repeat(257)).unwrap_err();
    assert!(err.message.contains("257 bytes long"), "{err}");
    let err = limits
        .check_update(&json!({"$inc": {"ok": 1}, "$set": {(vec!["a"; 40].join(".")): 1}}))
        .unwrap_err();
    assert!(err.message.contains("40 segments"), "{err}");
}

#[test]
fn update_bodies_are_bounded_in_their_arrays() {
    let limits = Limits {
        max_array_len: 3,
        ..Limits::default()
    };
    assert_eq!(
        limits.check_update(&json!({"$addToSet": {"r": {"$each": [1, 2, 3]}}})),
        Ok(())
    );
    let err = limits
        .check_update(&json!({"$addToSet": {"r": {"$each": [1, 2, 3, 4]}}}))
        .unwrap_err();
    assert_eq!(
        err.message,
        "In the value of $addToSet 'r': The array at /$each has 4 items: the limit is 3"
    );
    let err = limits
        .check_update(&json!({"$pull": {"r": {"$in": [1, 2, 3, 4]}}}))
        .unwrap_err();
    assert!(err.message.contains("/$in has 4 items"), "{err}");
}

#[test]
fn update_values_may_nest_the_document_up_to_the_depth_limit() {
    let limits = Limits {
        max_depth: 4,
        ..Limits::default()
    };
    // `a.b` puts its value at depth 2: a value of depth 2 makes 4.
    assert_eq!(
        limits.check_update(&json!({"$set": {"a.b": {"c": {"d": 1}}}})),
        Ok(())
    );
    let err = limits
        .check_update(&json!({"$set": {"a.b": {"c": {"d": {"e": 1}}}}}))
        .unwrap_err();
    assert_eq!(
        err.message,
        "The value of $set 'a.b' would nest the document more than 4 levels deep: flatten it"
    );
    assert_eq!(
        limits.check_update(&json!({"$push": {"a.b": {"$each": [{"c": 1}]}}})),
        Ok(())
    );
    assert!(limits
        .check_update(&json!({"$push": {"a.b": {"$each": [{"c": [1]}]}}}))
        .is_err());
    assert_eq!(limits.check_update(&json!({"$set": {"a.b.c.d": 1}})), Ok(()));
    assert!(limits.check_update(&json!({"$set": {"a.b.c.d": []}})).is_err());
}

#[test]
fn updates_refuse_paths_beyond_the_store_ceiling_before_any_work() {
    // 32,879 segments used to build a 32,879-deep document and overflow the stack.
    let path = vec!["a"; 32_879].join(".");
    let mut doc = json!({"_id": "1"});
    let err = apply_update(&mut doc, &json!({"$set": {(path.clone()): 1}}), NOW).unwrap_err();
    assert!(
        err.0.contains("bytes long") || err.0.contains("segments"),
        "{err}"
    );
    for op in ["$inc", "$push", "$unset", "$addToSet", "$mul"] {
        let arg = if op == "$unset" { json!(true) } else { json!(1) };
        assert!(
            apply_update(&mut doc, &json!({op: {(path.clone()): arg}}), NOW).is_err(),
            "{op}"
        );
    }
    assert_eq!(doc, json!({"_id": "1"}));
}

#[test]
fn array_padding_is_bounded() {
    let mut doc = json!({"roles": ["a"]});
    let err = apply_update(&mut doc, &json!({"$set": {"roles.10000000": "x"}}), NOW).unwrap_err();
    assert!(
        err.0.contains("more than 16 past the end of an array of 1 items"),
        "{err}"
    );
    let err = apply_update(&mut doc, &json!({"$set": {"roles.99999999.name": "x"}}), NOW).unwrap_err();
    assert!(err.0.contains("past the end"), "{err}");
    assert_eq!(doc, json!({"roles": ["a"]}));
    apply_update(&mut doc, &json!({"$set": {"roles.17": "x"}}), NOW).unwrap();
    assert_eq!(doc["roles"].as_array().map(Vec::len), Some(18));
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,3}".prop_map(String::from),
        (0usize..40).prop_map(|i| i.to_string()),
        (0usize..usize::MAX).prop_map(|i| i.to_string()),
    ]
}

fn operator() -> impl Strategy<Value = (&'static str, Value)> {
    prop_oneof![
        Just(("$set", json!({"k": [1, 2]}))),
        Just(("$inc", json!(1))),
        Just(("$mul", json!(2))),
        Just(("$unset", json!(true))),
        Just(("$push", json!("x"))),
        Just(("$addToSet", json!({"$each": [1, 2]}))),
        Just(("$pull", json!(1))),
        Just(("$currentDate", json!(true))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Any path, however long, with any operator, on a document with arrays: the update either
    /// fails cleanly (document untouched) or grows the document by no more than its path and
    /// value, and never pads an array by more than MAX_ARRAY_PADDING.
    #[test]
    fn updates_stay_within_the_store_ceiling(
        segments in prop::collection::vec(segment(), 1..200),
        (op, arg) in operator(),
    ) {
        let path = segments.join(".");
        let mut doc = json!({"roles": ["a", "b"], "a": {"0": [{"x": 1}]}, "n": 1});
        let before = doc.clone();
        match apply_update(&mut doc, &json!({op: {(path.clone()): arg}}), NOW) {
            Ok(()) => {
                prop_assert!(segments.len() <= Limits::STORE.max_depth);
                prop_assert!(depth(&doc) <= segments.len() + 3);
                let longest = longest_array(&doc);
                prop_assert!(longest <= 2 + MAX_ARRAY_PADDING + 1, "array of {longest}");
            }
            Err(_) => prop_assert_eq!(&doc, &before),
        }
    }

    /// Filter paths of any length and shape: `matches` and `get_path` never panic, and paths
    /// beyond the store ceiling are refused.
    #[test]
    fn filter_paths_are_read_safely(segments in prop::collection::vec(segment(), 1..300)) {
        let path = segments.join(".");
        let doc = json!({"roles": ["a", "b"], "a": {"0": [{"x": 1}]}, "n": 1});
        let _ = crate::get_path(&doc, &path);
        let result = crate::matches(&doc, &json!({(path.clone()): {"$exists": true}}));
        if Limits::STORE.check_path(&path).is_err() {
            prop_assert!(result.is_err());
        } else {
            prop_assert!(result.is_ok());
        }
    }

    /// The document check agrees with the depth function at every size.
    #[test]
    fn check_document_agrees_with_depth(levels in 0usize..300, max_depth in 1usize..100) {
        let doc = nested(levels);
        let limits = Limits { max_depth, ..Limits::default() };
        prop_assert_eq!(limits.check_document(&doc).is_ok(), levels <= max_depth);
        drop_iteratively(doc);
    }
}

fn longest_array(doc: &Value) -> usize {
    match doc {
        Value::Array(items) => items
            .len()
            .max(items.iter().map(longest_array).max().unwrap_or(0)),
        Value::Object(map) => map.values().map(longest_array).max().unwrap_or(0),
        _ => 0,
    }
}
