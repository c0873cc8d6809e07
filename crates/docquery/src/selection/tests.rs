//! Tests of the selection: hints, state/id/filter matching, `acl_rows` parsing.

use serde_json::json;

use crate::{check_filter, parse_acl_rows, Selection, State};

#[test]
fn parts_are_anded_and_hints_collected() {
    let sel = Selection::new(
        Some(vec![State::Public]),
        None,
        vec![
            json!({"name": "Ada"}),
            json!({"$and": [{"age": {"$eq": 3}}, {"role": {"$in": ["a", "b"]}}]}),
        ],
    );
    assert_eq!(
        sel.filter(),
        Some(
            &json!({"$and": [{"name": "Ada"}, {"$and": [{"age": {"$eq": 3}}, {"role": {"$in": ["a", "b"]}}]}]})
        )
    );
    assert_eq!(
        sel.equalities(),
        &[("name".to_owned(), json!("Ada")), ("age".to_owned(), json!(3))]
    );
    let hints: Vec<_> = sel.hints().map(|(f, vs)| (f.to_owned(), vs.to_vec())).collect();
    assert_eq!(
        hints,
        vec![
            ("name".to_owned(), vec![json!("Ada")]),
            ("age".to_owned(), vec![json!(3)]),
            ("role".to_owned(), vec![json!("a"), json!("b")]),
        ]
    );
    assert_eq!(sel.only_states(), None);
}

#[test]
fn no_parts_no_filter() {
    let sel = Selection::new(Some(vec![State::Draft]), None, vec![]);
    assert_eq!(sel.filter(), None);
    assert_eq!(sel.only_states(), Some(Some(&[State::Draft][..])));
    let one = Selection::new(None, None, vec![json!({"a": {"$gt": 1}})]);
    assert_eq!(one.filter(), Some(&json!({"a": {"$gt": 1}})));
    assert_eq!(one.hints().count(), 0);
}

#[test]
fn states_id_and_filter() {
    let sel = Selection::new(Some(vec![State::Public]), Some("1".into()), vec![json!({"n": 1})]);
    assert!(sel.accepts_state(Some(State::Public)));
    assert!(!sel.accepts_state(Some(State::Trash)));
    assert!(!sel.accepts_state(None));
    assert!(Selection::default().accepts_state(None));
    let mut any = sel.clone();
    any.set_states(None);
    assert!(any.accepts_state(Some(State::Trash)));
    assert_eq!(any.states(), None);
    assert_eq!(sel.id(), Some("1"));
    assert_eq!(sel.matches(&json!({"_id": "1", "n": 1}), false), Ok(true));
    assert_eq!(sel.matches(&json!({"_id": "2", "n": 1}), true), Ok(false));
    assert_eq!(sel.matches(&json!({"_id": "1", "n": 2}), true), Ok(false));
    assert_eq!(sel.matches(&json!({"_id": "1", "n": [1, 2]}), true), Ok(true));
}

#[test]
fn quick_rejection_skips_the_full_filter() {
    let sel = Selection::new(None, None, vec![json!({"n": 1, "m": {"$bogus": 1}})]);
    assert_eq!(sel.matches(&json!({"n": 2}), true), Ok(false));
    assert!(sel.matches(&json!({"n": 2}), false).is_err());
}

#[test]
fn acl_rows_one_or_many() {
    assert_eq!(parse_acl_rows(r#"{"a": 1}"#), Ok(vec![json!({"a": 1})]));
    assert_eq!(
        parse_acl_rows(r#"[{"a": 1}, {"b": 2}]"#),
        Ok(vec![json!({"a": 1}), json!({"b": 2})])
    );
    assert!(parse_acl_rows("{").is_err_and(|e| e.0.starts_with("acl_rows is not valid JSON")));
    assert_eq!(
        parse_acl_rows("[1]").map_err(|e| e.0),
        Err("querystring/_q must be an object".to_owned())
    );
    assert!(check_filter(&json!({"a": {"$gt": 1}})).is_ok());
}
