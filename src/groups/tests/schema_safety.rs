//! The schema safety checks, through `Group::compile` (the single gate of `/groups` and of the
//! registry): every refused shape, and the recursive schemas that must still work.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::*;
use crate::config::InputLimits;
use crate::groups::safety;

pub(super) fn compile(schema: &Value) -> Result<Group, String> {
    Group::compile("g", None, false, schema, &InputLimits::default())
}

/// The reason `schema` is refused; panics when it compiles.
pub(super) fn refused(schema: Value) -> String {
    match compile(&schema) {
        Ok(_) => panic!("accepted: {schema}"),
        Err(reason) => reason,
    }
}

pub(super) fn tree() -> Value {
    json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "root": {"$ref": "#/$defs/node"}},
        "$defs": {"node": {"type": "object", "properties": {
            "label": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}
        }}}
    })
}

/// `{"label": "n<depth>", "children": [ ... ]}` nested `levels` times, built iteratively.
pub(super) fn chain(levels: usize, leaf_label: Value) -> Value {
    let mut node = json!({"label": leaf_label, "children": []});
    for level in (0..levels).rev() {
        node = json!({"label": format!("n{level}"), "children": [node]});
    }
    node
}

#[test]
fn cycles_of_in_place_references_are_refused_fast_and_named() {
    let shapes = [
        json!({"$ref": "#"}),
        json!({"allOf": [{"$ref": "#"}]}),
        json!({"not": {"$ref": "#"}}),
        json!({"anyOf": [{"type": "string"}, {"oneOf": [{"$ref": "#"}]}]}),
        json!({"if": {"type": "object"}, "then": {"$ref": "#"}}),
        json!({"if": {"$ref": "#"}}),
        json!({"else": {"$ref": "#"}}),
        json!({"dependentSchemas": {"a": {"$ref": "#"}}}),
        json!({"$schema": "http://json-schema.org/draft-07/schema#", "dependencies": {"a": {"$ref": "#"}}}),
        json!({"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}}),
        json!({"$defs": {"a": {"$ref": "#/$defs/a"}}}),
        json!({"properties": {"x": {"$ref": "#/properties/y"}, "y": {"$ref": "#/properties/x"}}}),
        json!({"properties": {"x": {"$ref": "#/properties/x"}}}),
        // Pointers are decoded (~1, ~0, percent) before they are compared.
        json!({"$defs": {"a/b": {"allOf": [{"$ref": "#/%24defs/c~0d"}]}, "c~d": {"$ref": "#/$defs/a~1b"}}}),
        // Anchors and dynamic anchors resolve like pointers.
        json!({"$defs": {"a": {"$anchor": "A", "$ref": "#B"}, "b": {"$anchor": "B", "$ref": "#A"}}}),
        json!({"$dynamicAnchor": "meta", "allOf": [{"$dynamicRef": "#meta"}]}),
        json!({"$schema": "http://json-schema.org/draft-07/schema#",
               "definitions": {"a": {"$id": "#a", "allOf": [{"$ref": "#a"}]}}}),
        json!({"$schema": "https://json-schema.org/draft/2019-09/schema", "$recursiveAnchor": true,
               "anyOf": [{"$recursiveRef": "#"}]}),
        // A reference into a place that is no subschema: it is compiled as one all the same.
        json!({"$ref": "#/$defs", "$defs": {"not": {"$ref": "#/$defs"}}}),
        json!({"default": {"not": {"$ref": "#/default"}}, "$ref": "#/default"}),
    ];
    let started = Instant::now();
    for shape in shapes {
        let reason = refused(shape.clone());
        assert!(
            reason.starts_with("the references form a cycle that never descends into the document: #"),
            "{shape}: {reason}"
        );
        assert!(reason.contains("A recursive reference must go through a keyword that descends"));
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_cycle_message_lists_the_subschemas_in_order() {
    let schema = json!({"$ref": "#/$defs/a", "$defs": {
        "a": {"$ref": "#/$defs/b"},
        "b": {"allOf": [{"type": "object"}, {"$ref": "#/$defs/a"}]}
    }});
    let reason = refused(schema);
    assert!(
        reason.contains(": #/$defs/a → #/$defs/b → #/$defs/b/allOf/1 → #/$defs/a;"),
        "{reason}"
    );
}

/// Recursive schemas whose every cycle goes through a keyword that descends into the document.
pub(super) fn descending_recursions() -> Vec<Value> {
    vec![
        tree(),
        json!({"$ref": "#/$defs/node", "$defs": {"node": {"type": "object",
               "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}}),
        json!({"properties": {"next": {"$ref": "#"}}, "additionalProperties": {"$ref": "#"}}),
        json!({"patternProperties": {"^x": {"allOf": [{"$ref": "#"}]}}}),
        json!({"prefixItems": [{"$ref": "#"}], "unevaluatedItems": {"$ref": "#"},
               "propertyNames": {"$ref": "#/$defs/name"}, "$defs": {"name": {"type": "string"}}}),
        json!({"contains": {"$ref": "#"}}),
        json!({"$dynamicAnchor": "node", "type": "object",
               "properties": {"kids": {"type": "array", "items": {"$dynamicRef": "#node"}}}}),
        json!({"$schema": "http://json-schema.org/draft-07/schema#",
               "definitions": {"node": {"properties": {"kids": {"items": {"$ref": "#/definitions/node"}}}}},
               "allOf": [{"$ref": "#/definitions/node"}]}),
        // In-place references that do not loop: a shared definition applied twice.
        json!({"allOf": [{"$ref": "#/$defs/base"}, {"$ref": "#/$defs/base"}],
               "$defs": {"base": {"required": ["name"]}}}),
        // `$id` at the root: local references resolve against it.
        json!({"$id": "https://example.com/user.json", "properties": {"a": {"$ref": "#/$defs/a"}},
               "$defs": {"a": {"type": "string"}}}),
        // unevaluatedProperties follows the in-place references of its schema when compiled.
        json!({"$ref": "#/$defs/node", "unevaluatedProperties": false, "$defs": {"node": {
               "allOf": [{"$ref": "#/$defs/base"}],
               "properties": {"kids": {"items": {"$ref": "#/$defs/node"}}},
               "unevaluatedProperties": false}, "base": {"properties": {"id": {"type": "string"}}}}}),
    ]
}

#[test]
fn recursion_through_a_keyword_that_descends_is_accepted() {
    for shape in descending_recursions() {
        if let Err(reason) = compile(&shape) {
            panic!("{shape} refused: {reason}");
        }
    }
}

#[test]
fn only_references_inside_the_schema_are_allowed() {
    for (shape, quoted) in [
        (
            json!({"$ref": "https://example.com/schema.json"}),
            "\"$ref\": \"https://example.com/schema.json\" at #",
        ),
        (
            json!({"properties": {"a": {"$ref": "other.json#/$defs/a"}}}),
            "\"$ref\": \"other.json#/$defs/a\" at #/properties/a",
        ),
        (json!({"$ref": ""}), "\"$ref\": \"\" at #"),
        (
            json!({"items": {"$dynamicRef": "https://example.com/meta#meta"}}),
            "\"$dynamicRef\": \"https://example.com/meta#meta\" at #/items",
        ),
    ] {
        let reason = refused(shape);
        assert!(reason.starts_with(quoted), "{reason}");
        assert!(
            reason.contains("is not a local reference: only references inside the crudSchema are allowed"),
            "{reason}"
        );
    }
}

#[test]
fn embedded_resources_and_duplicate_anchors_are_refused() {
    let reason = refused(json!({"$defs": {"a": {"$id": "https://example.com/a.json", "$ref": "#/x"}}}));
    assert!(
        reason
            .starts_with("\"$id\": \"https://example.com/a.json\" at #/$defs/a declares an embedded schema"),
        "{reason}"
    );
    let reason = refused(json!({"$defs": {"a": {"$anchor": "x"}, "b": {"$anchor": "x"}}}));
    assert!(
        reason.starts_with("the anchor \"x\" is declared twice (at #/$defs/"),
        "{reason}"
    );
}

#[test]
fn a_reference_bomb_is_refused() {
    // d0 refers twice to d1, d1 twice to d2, ...: 2^20 applications to every value.
    let mut defs = serde_json::Map::new();
    for level in 0..20 {
        let next = format!("#/$defs/d{}", level + 1);
        defs.insert(
            format!("d{level}"),
            json!({"allOf": [{"$ref": next}, {"$ref": next}]}),
        );
    }
    defs.insert("d20".into(), json!({"type": "object"}));
    let reason = refused(json!({"$ref": "#/$defs/d0", "$defs": defs}));
    assert!(
        reason.contains(&format!(
            "applies more than {} subschemas to one value",
            safety::MAX_APPLIED_SUBSCHEMAS
        )),
        "{reason}"
    );
}

/// `{"properties": {"a": ...}}` nested until the schema is `depth` levels deep.
pub(super) fn nested_schema(depth: usize) -> Value {
    let mut schema = json!({"type": "string"});
    for _ in 0..depth.saturating_sub(1) / 2 {
        schema = json!({"properties": {"a": schema}});
    }
    schema
}

#[test]
fn the_depth_is_bounded_by_twice_the_document_depth() {
    let limits = InputLimits::default();
    let max = safety::max_depth(&limits);
    assert_eq!(max, 2 * limits.document.max_depth + 8);
    let deepest = nested_schema(max);
    assert_eq!(docquery::depth(&deepest), max - 1);
    assert!(compile(&deepest).is_ok());
    let too_deep = nested_schema(max + 1);
    assert_eq!(docquery::depth(&too_deep), max + 1);
    assert_eq!(
        refused(too_deep),
        format!(
            "the schema is nested {} levels deep: the limit is {max} (2 × LIMIT_DOCUMENT_DEPTH + 8); \
             flatten it or move repeated parts into \"$defs\"",
            max + 1
        )
    );
    let reason = refused(nested_schema(300));
    assert!(
        reason.starts_with("the schema is nested 299 levels deep: the limit is 72"),
        "{reason}"
    );
}

#[test]
fn the_size_is_bounded_by_limit_group_schema_bytes() {
    let reason = refused(json!({"description": "x".repeat(300_000)}));
    assert_eq!(
        reason,
        "the schema is larger than 262144 bytes (LIMIT_GROUP_SCHEMA_BYTES): make it smaller"
    );
    let schema = json!({"type": "object"});
    let bytes = serde_json::to_string(&schema).unwrap().len();
    let limits = |group_schema_bytes| InputLimits {
        group_schema_bytes,
        ..InputLimits::default()
    };
    assert!(Group::compile("g", None, false, &schema, &limits(bytes)).is_ok());
    let reason = Group::compile("g", None, false, &schema, &limits(bytes - 1)).unwrap_err();
    assert!(
        reason.contains(&format!("larger than {} bytes", bytes - 1)),
        "{reason}"
    );
}

#[test]
fn the_shipped_group_files_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/groups");
    for file in ["customer.json", "backoffice_operator.json"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        if let Err(reason) = compile(&doc["crudSchema"]) {
            panic!("{file}: {reason}");
        }
    }
}
