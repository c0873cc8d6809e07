//! Tests of field filters, lists, `_rawp` parsing and index keys.

use serde_json::{json, Value};

use proptest::prelude::*;

use crate::{field_filter, index_key, parse_raw_projection, split_list, RawProjection};

#[test]
fn field_filter_coerces_booleans_and_numbers() {
    assert_eq!(field_filter("a", "true"), json!({"a": {"$in": [true, "true"]}}));
    assert_eq!(
        field_filter("a", "false"),
        json!({"a": {"$in": [false, "false"]}})
    );
    assert_eq!(field_filter("a", "12"), json!({"a": {"$in": [12, "12"]}}));
    assert_eq!(field_filter("a", "1.5"), json!({"a": {"$in": [1.5, "1.5"]}}));
    assert_eq!(field_filter("a", "inf"), json!({"a": "inf"}));
    assert_eq!(field_filter("a", "1e3"), json!({"a": "1e3"}));
    assert_eq!(field_filter("a.b", "Ada"), json!({"a.b": "Ada"}));
}

#[test]
fn lists_are_trimmed() {
    assert_eq!(split_list(" a, b ,,c "), vec!["a", "b", "c"]);
    assert!(split_list("").is_empty());
}

#[test]
fn raw_projection() {
    let parse = |raw| parse_raw_projection(raw, "the fake").map_err(|e| e.0);
    assert_eq!(
        parse(r#"{"a": 1, "b": true}"#),
        Ok(RawProjection {
            include: vec!["a".into(), "b".into()],
            exclude: vec![]
        })
    );
    assert_eq!(
        parse(r#"{"a": 0, "b": false}"#),
        Ok(RawProjection {
            include: vec![],
            exclude: vec!["a".into(), "b".into()]
        })
    );
    assert_eq!(parse("{}"), Ok(RawProjection::default()));
    assert_eq!(
        parse(r#"{"a": 1, "b": 0}"#),
        Err("_rawp cannot mix inclusion and exclusion".to_owned())
    );
    assert_eq!(
        parse(r#"{"a": {"$slice": 1}}"#),
        Err("_rawp: the fake supports only inclusion/exclusion, not a".to_owned())
    );
    assert_eq!(parse("[]"), Err("_rawp must be an object".to_owned()));
    assert!(parse("{").is_err_and(|e| e.starts_with("_rawp is not valid JSON")));
}

#[test]
fn index_keys() {
    assert_eq!(index_key(&json!(null)), None);
    assert_eq!(index_key(&json!("x")), Some("dx".to_owned()));
    assert_eq!(index_key(&json!(true)), Some("x1".to_owned()));
    assert_eq!(index_key(&json!(1)), index_key(&json!(1.0)));
    assert_eq!(index_key(&json!(0)), index_key(&json!(-0.0)));
    assert_eq!(index_key(&json!([1])), Some("j[1]".to_owned()));
    assert_eq!(index_key(&json!({"a": 1})), Some("j{\"a\":1}".to_owned()));
}

/// A scalar JSON value: null, a boolean, an integer, a float or a string.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-(1i64 << 53)..(1i64 << 53)).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,6}".prop_map(Value::from),
    ]
}

proptest! {
    /// The keys of scalars sort as `compare_values` orders the values, and share a key exactly
    /// when they compare equal.
    #[test]
    fn scalar_keys_sort_as_the_values_compare(a in scalar(), b in scalar()) {
        let expected = crate::compare_values(Some(&a), Some(&b));
        prop_assert_eq!(index_key(&a).cmp(&index_key(&b)), expected, "{} vs {}", a, b);
    }
}
