//! Tests of ids, timestamps, standard fields and update-body checks.

use serde_json::json;

use crate::{
    check_update, imported_document, is_noop, new_document, now_iso, split_update, touch, writer_id, IdGen,
    State,
};

const NOW: &str = "2024-01-01T00:00:00.000Z";

#[test]
fn ids_are_24_hex_and_distinct() {
    let ids = IdGen::new();
    let (a, b) = (ids.next(), ids.next());
    assert_eq!(a.len(), 24);
    assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, b);
}

#[test]
fn now_is_iso_with_millis() {
    let now = now_iso();
    assert_eq!(now.len(), NOW.len());
    assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T' && now.as_bytes()[19] == b'.');
}

#[test]
fn writer_defaults_to_public() {
    for header in [None, Some(""), Some("null"), Some("undefined")] {
        assert_eq!(writer_id(header), "public");
    }
    assert_eq!(writer_id(Some("u1")), "u1");
}

#[test]
fn new_documents_get_the_standard_fields() {
    let doc = new_document(&json!({"name": "Ada"}), "body", State::Draft, "u1", NOW);
    let expected = json!({"_id": null, "name": "Ada", "__STATE__": "DRAFT", "creatorId": "u1",
        "createdAt": NOW, "updaterId": "u1", "updatedAt": NOW});
    assert_eq!(doc, Ok(expected));
    let doc = new_document(&json!({"__STATE__": "PUBLIC"}), "body", State::Draft, "u1", NOW);
    assert_eq!(doc.map(|d| d["__STATE__"].clone()), Ok(json!("PUBLIC")));
}

#[test]
fn imported_documents_keep_their_own_id_and_get_the_standard_fields() {
    let doc = imported_document(
        &json!({"_id": "a1", "name": "Ada"}),
        "file/0",
        State::Draft,
        "u1",
        NOW,
    );
    let expected = json!({"_id": "a1", "name": "Ada", "__STATE__": "DRAFT", "creatorId": "u1",
        "createdAt": NOW, "updaterId": "u1", "updatedAt": NOW});
    assert_eq!(doc, Ok(expected));
    let err = |body| imported_document(&body, "file/1", State::Draft, "u", NOW).map_err(|e| e.0);
    assert_eq!(
        err(json!({"name": "x"})),
        Err("file/1 must have required property '_id'".to_owned())
    );
    assert_eq!(
        err(json!({"_id": ""})),
        Err("file/1/_id must be a non-empty string".to_owned())
    );
    assert_eq!(
        err(json!({"_id": 7})),
        Err("file/1/_id must be a non-empty string".to_owned())
    );
    assert!(err(json!({"_id": "a", "createdAt": "x"})).is_err_and(|e| e.contains("createdAt")));
}

#[test]
fn new_documents_refused() {
    let err = |body| new_document(&body, "body/1", State::Draft, "u", NOW).map_err(|e| e.0);
    assert_eq!(err(json!([])), Err("body/1 must be object".to_owned()));
    assert_eq!(
        err(json!({"creatorId": "x"})),
        Err("body/1 must NOT have additional properties. Property \"creatorId\" is not allowed".to_owned())
    );
    assert_eq!(
        err(json!({"__STATE__": "GONE"})),
        Err("body/1/__STATE__ must be equal to one of the allowed values".to_owned())
    );
}

#[test]
fn touch_sets_the_writer() {
    let mut doc = json!({"a": 1});
    touch(&mut doc, "u", NOW);
    assert_eq!(doc, json!({"a": 1, "updaterId": "u", "updatedAt": NOW}));
}

#[test]
fn update_bodies_checked() {
    let check = |u, upsert| check_update(&u, "body", upsert, NOW).map_err(|e| e.0);
    assert_eq!(check(json!({"$set": {"a": 1}}), false), Ok(()));
    assert_eq!(check(json!({"$set": {"arr.$.replace": 1}}), false), Ok(()));
    assert_eq!(check(json!({"$setOnInsert": {"a": 1}}), true), Ok(()));
    assert_eq!(
        check(json!({"$setOnInsert": {"a": 1}}), false),
        Err("body must NOT have additional properties. Property \"$setOnInsert\" is not allowed".to_owned())
    );
    assert_eq!(check(json!(1), false), Err("body must be object".to_owned()));
    assert_eq!(
        check(json!({"$set": 1}), false),
        Err("body/$set must be object".to_owned())
    );
    assert_eq!(
        check(json!({"$set": {"updatedAt.x": 1}}), false),
        Err(
            "body/$set must NOT have additional properties. Property \"updatedAt.x\" is not allowed"
                .to_owned()
        )
    );
    assert_eq!(
        check(json!({"$unset": {"a": 1}}), false),
        Err("body/$unset/a must be equal to constant".to_owned())
    );
    assert_eq!(
        check(json!({"$inc": {"a": "1"}}), false),
        Err("body/$inc/a must be number".to_owned())
    );
    assert!(check(json!({"$set": {"a": 1}, "$unset": {"a": true}}), false).is_err());
}

#[test]
fn noop_and_split() {
    assert!(is_noop(&json!({})));
    assert!(is_noop(&json!({"$set": {}})));
    assert!(!is_noop(&json!({"$set": {"a": 1}})));
    let (main, on_insert) = split_update(&json!({"$set": {"a": 1}, "$setOnInsert": {"b": 2}}));
    assert_eq!(main, json!({"$set": {"a": 1}}));
    assert_eq!(on_insert, json!({"$set": {"b": 2}}));
    assert_eq!(split_update(&json!({"$inc": {"n": 1}})).1, json!({}));
}
