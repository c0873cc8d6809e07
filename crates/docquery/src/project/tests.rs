//! Tests of projection.

use serde_json::json;

use crate::project;

fn fields(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn keeps_id_and_listed_fields_in_document_order() {
    let doc = json!({"_id": "1", "name": "A", "email": "a@x", "age": 3});
    assert_eq!(
        project(&doc, &fields(&["age", "name"])),
        json!({"_id": "1", "name": "A", "age": 3})
    );
    let out = project(&doc, &fields(&["age", "name"]));
    let keys: Vec<&String> = out.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    assert_eq!(keys, ["_id", "name", "age"]);
}

#[test]
fn unknown_names_are_ignored() {
    let doc = json!({"_id": "1", "name": "A"});
    assert_eq!(
        project(&doc, &fields(&["nope", "name"])),
        json!({"_id": "1", "name": "A"})
    );
    assert_eq!(project(&doc, &fields(&["nope"])), json!({"_id": "1"}));
}

#[test]
fn dotted_names_keep_the_nested_value() {
    let doc = json!({"_id": "1", "address": {"city": "Rome", "zip": "1"}, "groups": [{"n": 1, "m": 2}, 5]});
    assert_eq!(
        project(&doc, &fields(&["address.city"])),
        json!({"_id": "1", "address": {"city": "Rome"}})
    );
    assert_eq!(
        project(&doc, &fields(&["address.city", "address"])),
        json!({"_id": "1", "address": {"city": "Rome", "zip": "1"}})
    );
    assert_eq!(
        project(&doc, &fields(&["groups.n"])),
        json!({"_id": "1", "groups": [{"n": 1}]})
    );
    assert_eq!(
        project(&doc, &fields(&["address.city.x"])),
        json!({"_id": "1", "address": {}})
    );
}

#[test]
fn empty_list_keeps_everything_and_missing_id_is_fine() {
    let doc = json!({"_id": "1", "name": "A"});
    assert_eq!(project(&doc, &[]), doc);
    assert_eq!(
        project(&json!({"name": "A", "x": 1}), &fields(&["x"])),
        json!({"x": 1})
    );
    assert_eq!(project(&json!(5), &fields(&["x"])), json!(5));
}
