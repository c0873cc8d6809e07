//! Unit tests of query encoding and parsing.

use super::*;
use serde_json::json;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn full_query() -> FindQuery {
    FindQuery {
        filter: Filter {
            q: Some(json!({"name": {"$eq": "Alex"}, "age": {"$gt": 3}})),
            state: Some(StateFilter(vec![DocState::Public, DocState::Draft])),
            fields: vec![
                ("blocked".into(), "true".into()),
                ("roles".into(), "admin".into()),
            ],
            id: Some("665f00000000000000000001".into()),
        },
        projection: Some(vec!["_id".into(), "name".into()]),
        raw_projection: None,
        sort: Some("-createdAt,name".into()),
        limit: Some(25),
        skip: Some(50),
    }
}

#[test]
fn a_find_query_encodes_every_parameter_in_a_stable_order() {
    let expected = pairs(&[
        ("_q", r#"{"name":{"$eq":"Alex"},"age":{"$gt":3}}"#),
        ("_st", "PUBLIC,DRAFT"),
        ("_id", "665f00000000000000000001"),
        ("blocked", "true"),
        ("roles", "admin"),
        ("_p", "_id,name"),
        ("_s", "-createdAt,name"),
        ("_l", "25"),
        ("_sk", "50"),
    ]);
    assert_eq!(full_query().to_query_pairs(), expected);
}

#[test]
fn an_empty_query_encodes_to_nothing_and_parses_back() {
    assert!(FindQuery::default().to_query_pairs().is_empty());
    assert_eq!(FindQuery::from_query_pairs(&[]), Ok(FindQuery::default()));
}

#[test]
fn a_find_query_survives_an_encode_parse_round_trip() {
    let query = full_query();
    assert_eq!(FindQuery::from_query_pairs(&query.to_query_pairs()), Ok(query));
    let raw = FindQuery {
        raw_projection: Some(r#"{"name":1}"#.into()),
        ..FindQuery::default()
    };
    assert_eq!(FindQuery::from_query_pairs(&raw.to_query_pairs()), Ok(raw));
}

#[test]
fn a_filter_survives_an_encode_parse_round_trip() {
    let filter = full_query().filter;
    assert_eq!(Filter::from_query_pairs(&filter.to_query_pairs()), Ok(filter));
}

#[test]
fn a_body_filter_carries_q_as_a_json_string() {
    let filter = full_query().filter.to_body_filter();
    assert_eq!(
        Value::Object(filter),
        json!({"_q": r#"{"name":{"$eq":"Alex"},"age":{"$gt":3}}"#, "_st": "PUBLIC,DRAFT",
               "_id": "665f00000000000000000001", "blocked": "true", "roles": "admin"})
    );
}

#[test]
fn repeated_sort_parameters_are_joined() {
    let query = FindQuery::from_query_pairs(&pairs(&[("_s", "a"), ("_s", "-b")]));
    assert_eq!(query.map(|q| q.sort), Ok(Some("a,-b".into())));
}

#[test]
fn a_count_query_reads_use_estimate() {
    let query = CountQuery::from_query_pairs(&pairs(&[("_useEstimate", "true"), ("a", "1")]));
    let expected = CountQuery {
        filter: Filter {
            fields: vec![("a".into(), "1".into())],
            ..Filter::default()
        },
        estimate: true,
    };
    assert_eq!(query, Ok(expected));
    let bad = CountQuery::from_query_pairs(&pairs(&[("_useEstimate", "yes")]));
    assert_eq!(bad, Err(QueryParseError::InvalidEstimate));
    let list_only = CountQuery::from_query_pairs(&pairs(&[("_l", "3")]));
    assert!(matches!(list_only, Err(QueryParseError::UnknownParameter { .. })));
}

#[test]
fn doc_states_parse_exactly_their_wire_names() {
    for state in [
        DocState::Public,
        DocState::Draft,
        DocState::Trash,
        DocState::Deleted,
    ] {
        assert_eq!(parse_state(state.as_str()), Ok(state));
        assert_eq!(parse_state(&state.to_string()), Ok(state));
        assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
    }
    assert_eq!(
        parse_state("public"),
        Err(QueryParseError::UnknownState("public".into()))
    );
}

fn find_error(list: &[(&str, &str)]) -> String {
    match FindQuery::from_query_pairs(&pairs(list)) {
        Ok(query) => panic!("{list:?} parsed as {query:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn q_that_is_not_json_is_refused_with_the_parser_message() {
    let message = find_error(&[("_q", "{name:")]);
    assert!(
        message.starts_with("_q must be a JSON object: key must be a string"),
        "{message}"
    );
    assert_eq!(
        find_error(&[("_q", "[1]")]),
        "_q must be a JSON object: found an array"
    );
}

#[test]
fn st_with_an_unknown_state_is_refused() {
    assert_eq!(
        find_error(&[("_st", "PUBLIC,GONE")]),
        "_st must be a comma-separated list of PUBLIC, DRAFT, TRASH, DELETED: \"GONE\" is not a state"
    );
    assert!(find_error(&[("_st", "")]).contains("\"\" is not a state"));
}

#[test]
fn limits_outside_one_to_two_hundred_are_refused() {
    for bad in ["0", "201", "-1", "ten", ""] {
        assert_eq!(
            find_error(&[("_l", bad)]),
            "_l must be an integer between 1 and 200"
        );
    }
    let ok = FindQuery::from_query_pairs(&pairs(&[("_l", "200"), ("_sk", "0")]));
    assert_eq!(ok.map(|q| (q.limit, q.skip)), Ok((Some(200), Some(0))));
}

#[test]
fn a_negative_textual_or_out_of_range_skip_is_refused() {
    for bad in ["-1", "x", "9223372036854775808", "18446744073709551616"] {
        assert_eq!(
            find_error(&[("_sk", bad)]),
            "_sk must be an integer between 0 and 9223372036854775807"
        );
    }
    let ok = FindQuery::from_query_pairs(&pairs(&[("_sk", "9223372036854775807")]));
    assert_eq!(ok.map(|q| q.skip), Ok(Some(i64::MAX as u64)));
}

#[test]
fn p_and_rawp_together_are_refused() {
    let message = find_error(&[("_p", "a"), ("_rawp", "{}")]);
    assert_eq!(
        message,
        "_p and _rawp cannot be used together: send only one of them"
    );
}

#[test]
fn unknown_reserved_parameters_are_named_in_the_error() {
    assert_eq!(
        find_error(&[("_exportOpts", "{}")]),
        "unknown query parameter _exportOpts: this route accepts _q, _st, _id, _p, _rawp, _s, _l, _sk and field filters"
    );
    let filter = Filter::from_query_pairs(&pairs(&[("_l", "3")]));
    assert!(matches!(filter, Err(QueryParseError::UnknownParameter { name, .. }) if name == "_l"));
}

#[test]
fn repeated_single_parameters_and_empty_names_are_refused() {
    assert_eq!(
        find_error(&[("_l", "1"), ("_l", "2")]),
        "query parameter _l must appear only once"
    );
    assert_eq!(find_error(&[("", "x")]), "query parameters must have a name");
}

#[test]
fn a_q_the_store_would_refuse_is_refused_when_parsed() {
    let parse = |q: &str| Filter::from_query_pairs(&pairs(&[("_q", q)]));
    for bad in [
        r#"{"name":{"$regex":"("}}"#,
        r#"{"$nor":[{"a":1}]}"#,
        r#"{"a":{"$in":3}}"#,
    ] {
        assert!(
            matches!(parse(bad), Err(QueryParseError::InvalidFilter(_))),
            "{bad}: {:?}",
            parse(bad)
        );
    }
    let message = parse(r#"{"name":{"$regex":"("}}"#).unwrap_err().to_string();
    assert!(message.starts_with("invalid _q: "), "{message}");
    // What the Composer sends for a search (escaped text, case-insensitive) stays valid.
    let search = r#"{"$or":[{"name":{"$regex":"a\\.b\\(c\\)\\-d\\/e","$options":"i"}}]}"#;
    let filter = parse(search).unwrap();
    assert_eq!(filter.q, Some(serde_json::from_str::<Value>(search).unwrap()));
}
