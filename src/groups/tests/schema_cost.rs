//! What validating with a group schema costs: recursive schemas validate quickly, a recursion
//! that multiplies the work at every level is refused, documents deeper than the limit are
//! never handed to the validator, and the check itself stays quick on a large schema.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::schema_safety::{chain, compile, nested_schema, refused, tree};
use super::*;
use crate::config::InputLimits;
use crate::groups::safety;

/// Runs `work` on a thread with the stack of a tokio worker (2 MiB); fails after `limit`.
fn on_a_worker_stack<T: Send + 'static>(limit: Duration, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let _ = done.send(work());
        })
        .unwrap();
    result.recv_timeout(limit).expect("the work finished in time")
}

#[test]
fn validating_against_a_recursive_group_terminates_quickly() {
    let (deep, too_deep, wide, elapsed) = on_a_worker_stack(Duration::from_secs(20), || {
        let group = compile(&tree()).unwrap();
        // As deep as LIMIT_DOCUMENT_DEPTH lets a document be (32: two levels per node).
        let deep = json!({"name": "Ada", "root": chain(14, json!(7))});
        assert_eq!(docquery::depth(&deep), 31);
        let too_deep = json!({"name": "Ada", "root": chain(62, json!(7))});
        let wide = json!({"name": "Ada", "root": {"children": vec![chain(3, json!("x")); 2000]}});
        let started = Instant::now();
        let found = (
            group.violations(&deep),
            group.violations(&too_deep),
            group.violations(&wide),
        );
        (found.0, found.1, found.2, started.elapsed())
    });
    assert_eq!(deep.len(), 1, "{deep:?}");
    assert!(
        deep[0].starts_with("/root/children/0/children/0/children/0"),
        "{deep:?}"
    );
    assert_eq!(
        too_deep,
        ["/: the document is nested 127 levels deep: the limit is 32 (LIMIT_DOCUMENT_DEPTH)"]
    );
    assert_eq!(wide, Vec::<String>::new());
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    let group = compile(&tree()).unwrap();
    let shallow = json!({"name": "Ada", "root": chain(2, json!(7))});
    assert_eq!(
        group.violations(&shallow),
        ["/root/children/0/children/0/label: 7 is not of type \"string\""]
    );
}

/// The schema whose recursion doubles the work at every level of the document.
fn doubling() -> Value {
    json!({"type": ["array", "object"], "allOf": [{"items": {"$ref": "#"}}, {"items": {"$ref": "#"}}]})
}

#[test]
fn a_recursion_that_multiplies_the_work_at_every_level_is_refused() {
    let shapes = [
        doubling(),
        json!({"items": {"$ref": "#"}, "contains": {"$ref": "#"}}),
        json!({"anyOf": [{"items": {"$ref": "#/$defs/n"}}, {"items": {"$ref": "#/$defs/n"}, "minItems": 1}],
               "$defs": {"n": {"$ref": "#"}}}),
        json!({"properties": {"a": {"$ref": "#"}}, "patternProperties": {"^a": {"$ref": "#"}}}),
        json!({"allOf": [{"properties": {"a": {"$ref": "#"}}}, {"additionalProperties": {"$ref": "#"}}]}),
        json!({"prefixItems": [{"$ref": "#"}], "contains": {"$ref": "#"}}),
    ];
    let started = Instant::now();
    for shape in shapes {
        let reason = refused(shape.clone());
        assert!(
            reason.starts_with(&format!(
                "validating a document could apply more than {} subschemas to one value",
                safety::MAX_APPLIED_SUBSCHEMAS
            )),
            "{shape}: {reason}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// Recursive schemas that reach each value once per path, though the unfolded schema does not.
fn single_path_recursions() -> Vec<Value> {
    vec![
        // A binary tree written as two mixins: each child name has one path.
        json!({"allOf": [{"properties": {"left": {"$ref": "#"}}}, {"properties": {"right": {"$ref": "#"}}}]}),
        // Any JSON value: arrays and objects recurse through different keywords.
        json!({"anyOf": [{"type": ["string", "number", "boolean", "null"]},
                         {"type": "array", "items": {"$ref": "#"}},
                         {"type": "object", "additionalProperties": {"$ref": "#"}}]}),
        // Only one of then/else applies.
        json!({"if": {"required": ["kind"]}, "then": {"properties": {"next": {"$ref": "#"}}},
               "else": {"properties": {"next": {"$ref": "#"}}}}),
        json!({"prefixItems": [{"$ref": "#"}, {"type": "string"}], "items": {"$ref": "#"}}),
        json!({"properties": {"a": {"$ref": "#"}}, "additionalProperties": {"$ref": "#"},
               "propertyNames": {"maxLength": 10}}),
    ]
}

#[test]
fn recursions_that_reach_each_value_once_are_accepted() {
    for shape in single_path_recursions() {
        if let Err(reason) = compile(&shape) {
            panic!("{shape} refused: {reason}");
        }
    }
}

/// A document 5 levels of `{kids, children, next, left, right, a: ...}` deep (3125 leaves).
fn bushy(levels: usize) -> Value {
    let mut node = json!({"kids": [], "children": [], "id": "leaf"});
    for _ in 0..levels {
        node = json!({"kids": [node], "children": [node], "next": node, "left": node,
                      "right": node, "a": node, "id": "n", "kind": "k"});
    }
    node
}

#[test]
fn every_accepted_recursive_schema_validates_a_bushy_document_quickly() {
    let elapsed = on_a_worker_stack(Duration::from_secs(30), || {
        let doc = bushy(5);
        assert!(docquery::depth(&doc) <= InputLimits::default().document.max_depth);
        let started = Instant::now();
        for shape in super::schema_safety::descending_recursions()
            .into_iter()
            .chain(single_path_recursions())
        {
            let group = compile(&shape).unwrap();
            let _ = group.violations(&doc);
        }
        started.elapsed()
    });
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

#[test]
fn the_growth_is_checked_for_documents_as_deep_as_the_limit_and_no_deeper_one_is_validated() {
    let mut limits = InputLimits::default();
    limits.document.max_depth = 8;
    // 2^8 applications at the deepest value: within the bound for documents 8 levels deep.
    let group = Group::compile("g", None, false, &doubling(), &limits).unwrap();
    let mut doc = json!(["x"]);
    for _ in 0..39 {
        doc = json!([doc]);
    }
    // Validated, a 40-level document would cost 2^40; it is refused before the validator runs.
    let started = Instant::now();
    assert_eq!(
        group.violations(&doc),
        ["/: the document is nested 40 levels deep: the limit is 8 (LIMIT_DOCUMENT_DEPTH)"]
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    let mut doc = json!([]);
    for _ in 0..7 {
        doc = json!([doc]);
    }
    assert!(group.violations(&doc).is_empty());
}

#[test]
fn a_schema_at_the_depth_limit_compiles_and_validates_on_a_worker_stack() {
    let violations = on_a_worker_stack(Duration::from_secs(20), || {
        let limits = InputLimits::default();
        let schema = nested_schema(safety::max_depth(&limits));
        let group = Group::compile("g", None, false, &schema, &limits).unwrap();
        let mut doc = json!(1);
        for _ in 0..docquery::depth(&schema) / 2 {
            doc = json!({"a": doc});
        }
        group.violations(&doc)
    });
    assert_eq!(violations.len(), 1, "{violations:?}");
}

#[test]
fn the_check_itself_is_quick_on_a_large_schema() {
    // 780 definitions of 10 properties each referring to the next: about 256 kB, 10^780 paths.
    let mut defs = serde_json::Map::new();
    for i in 0..780 {
        let next = json!({"$ref": format!("#/$defs/d{}", i + 1)});
        let properties: serde_json::Map<String, Value> =
            (0..10).map(|p| (format!("p{p}"), next.clone())).collect();
        defs.insert(
            format!("d{i}"),
            json!({"type": "object", "properties": properties}),
        );
    }
    defs.insert("d780".into(), json!({"type": "string"}));
    let schema = json!({"$ref": "#/$defs/d0", "$defs": defs});
    let bytes = serde_json::to_string(&schema).unwrap().len();
    assert!(bytes < InputLimits::default().group_schema_bytes, "{bytes}");
    let started = Instant::now();
    safety::check(&schema, &InputLimits::default()).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
