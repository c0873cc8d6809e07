//! Tests of `_s` parsing and document ordering.

use std::cmp::Ordering;

use serde_json::{json, Value};

use crate::{compare, compare_values, parse_sort, QueryError, SortKey};

fn key(path: &str, descending: bool) -> SortKey {
    SortKey {
        path: path.into(),
        descending,
    }
}

#[test]
fn parse_sort_keys() {
    assert_eq!(parse_sort("name"), Ok(vec![key("name", false)]));
    assert_eq!(
        parse_sort("a,-b,address.city"),
        Ok(vec![key("a", false), key("b", true), key("address.city", false)])
    );
    assert_eq!(parse_sort("-createdAt"), Ok(vec![key("createdAt", true)]));
}

#[test]
fn parse_sort_errors() {
    let empty = |spec: &str| Err(QueryError(format!("Invalid sort '{spec}': empty field name")));
    assert_eq!(parse_sort(""), empty(""));
    assert_eq!(parse_sort("a,,b"), empty("a,,b"));
    assert_eq!(parse_sort("a,"), empty("a,"));
    assert_eq!(parse_sort("-"), empty("-"));
    let invalid = |seg: &str| Err(QueryError(format!("Invalid sort field: '{seg}'")));
    assert_eq!(parse_sort("a..b"), invalid("a..b"));
    assert_eq!(parse_sort("$where"), invalid("$where"));
    assert_eq!(parse_sort("a, b"), invalid(" b"));
    assert_eq!(parse_sort("--a"), invalid("--a"));
    assert_eq!(parse_sort(".a"), invalid(".a"));
}

fn sorted(mut docs: Vec<Value>, spec: &str) -> Vec<Value> {
    let keys = match parse_sort(spec) {
        Ok(k) => k,
        Err(e) => panic!("{e}"),
    };
    docs.sort_by(|a, b| compare(a, b, &keys));
    docs
}

#[test]
fn cross_type_order_ascending() {
    let docs = vec![
        json!({"v": true}),
        json!({"v": [1]}),
        json!({"v": {"a": 1}}),
        json!({"v": "b"}),
        json!({"v": 2.5}),
        json!({"v": null}),
        json!({"v": "a"}),
        json!({"v": 1}),
        json!({"v": false}),
    ];
    let out: Vec<Value> = sorted(docs, "v").into_iter().map(|d| d["v"].clone()).collect();
    assert_eq!(
        out,
        vec![
            json!(null),
            json!(1),
            json!(2.5),
            json!("a"),
            json!("b"),
            json!({"a": 1}),
            json!([1]),
            json!(false),
            json!(true)
        ]
    );
}

#[test]
fn missing_sorts_with_null_and_first() {
    let out = sorted(
        vec![
            json!({"_id": 1, "v": 0}),
            json!({"_id": 2}),
            json!({"_id": 3, "v": null}),
        ],
        "v",
    );
    assert_eq!(out[0]["_id"], 2, "stable: missing ties with null");
    assert_eq!(out[1]["_id"], 3);
    assert_eq!(out[2]["_id"], 1);
    let desc = sorted(vec![json!({"_id": 2}), json!({"_id": 1, "v": 0})], "-v");
    assert_eq!(desc[0]["_id"], 1);
}

#[test]
fn multiple_keys_and_descending() {
    let docs = vec![
        json!({"n": "x", "a": 1}),
        json!({"n": "y", "a": 2}),
        json!({"n": "x", "a": 3}),
    ];
    let out: Vec<Value> = sorted(docs, "n,-a").into_iter().map(|d| d["a"].clone()).collect();
    assert_eq!(out, vec![json!(3), json!(1), json!(2)]);
}

#[test]
fn nested_keys_and_numbers_across_types() {
    let docs = vec![
        json!({"p": {"x": 2.5}}),
        json!({"p": {"x": 2}}),
        json!({"p": {"x": 10}}),
    ];
    let out: Vec<Value> = sorted(docs, "-p.x")
        .into_iter()
        .map(|d| d["p"]["x"].clone())
        .collect();
    assert_eq!(out, vec![json!(10), json!(2.5), json!(2)]);
}

#[test]
fn ties_are_equal() {
    let keys = vec![key("a", false)];
    assert_eq!(
        compare(&json!({"a": 1, "b": 1}), &json!({"a": 1.0, "b": 2}), &keys),
        Ordering::Equal
    );
    assert_eq!(compare(&json!({}), &json!({"a": null}), &keys), Ordering::Equal);
    assert_eq!(compare(&json!({"a": 1}), &json!({"a": 2}), &[]), Ordering::Equal);
}

#[test]
fn value_order_within_types() {
    assert_eq!(
        compare_values(Some(&json!("B")), Some(&json!("a"))),
        Ordering::Less
    );
    assert_eq!(
        compare_values(Some(&json!([1, 2])), Some(&json!([1, 3]))),
        Ordering::Less
    );
    assert_eq!(
        compare_values(Some(&json!([1, 2])), Some(&json!([1]))),
        Ordering::Greater
    );
    assert_eq!(
        compare_values(Some(&json!({"a": 1})), Some(&json!({"b": 0}))),
        Ordering::Less
    );
    assert_eq!(
        compare_values(Some(&json!({"a": 2})), Some(&json!({"a": "x"}))),
        Ordering::Less
    );
    assert_eq!(
        compare_values(Some(&json!(-1)), Some(&json!(u64::MAX))),
        Ordering::Less
    );
    assert_eq!(
        compare_values(Some(&json!(1.5)), Some(&json!(1))),
        Ordering::Greater
    );
    assert_eq!(compare_values(None, Some(&Value::Null)), Ordering::Equal);
}
