//! The subschema graph of a crudSchema: every subschema reachable through the applicator
//! keywords, `$defs`/`definitions` and local references, with the subschemas each one applies
//! to the same value (in place) and to the values below it (by property, item or name).

use std::collections::HashMap;

use serde_json::Value;

use super::{cut, escape, percent_decode};

/// What a keyword does with the subschemas it holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Applies them to the same value.
    InPlace,
    /// Applies one of them to the same value (`then` or `else`).
    Alternative,
    /// Holds them for references only (`$defs`; `contentSchema`, which jsonschema 0.33 ignores).
    Container,
    Properties,
    Patterns,
    Additional,
    UnevaluatedProperties,
    Names,
    /// `items`: one schema for every item, or (before 2020-12) an array of per-index schemas.
    Items,
    PrefixItems,
    /// `additionalItems`, `unevaluatedItems`: the items no per-index schema covers.
    OtherItems,
    Contains,
}

/// The keywords holding subschemas: role, and whether the value is one schema (else an array
/// or object of schemas).
const KEYWORDS: [(&str, Role, bool); 22] = [
    ("allOf", Role::InPlace, false),
    ("anyOf", Role::InPlace, false),
    ("oneOf", Role::InPlace, false),
    ("not", Role::InPlace, true),
    ("if", Role::InPlace, true),
    ("then", Role::Alternative, true),
    ("else", Role::Alternative, true),
    ("dependentSchemas", Role::InPlace, false),
    ("dependencies", Role::InPlace, false),
    ("$defs", Role::Container, false),
    ("definitions", Role::Container, false),
    ("contentSchema", Role::Container, true),
    ("properties", Role::Properties, false),
    ("patternProperties", Role::Patterns, false),
    ("additionalProperties", Role::Additional, true),
    ("unevaluatedProperties", Role::UnevaluatedProperties, true),
    ("propertyNames", Role::Names, true),
    ("items", Role::Items, true),
    ("prefixItems", Role::PrefixItems, false),
    ("additionalItems", Role::OtherItems, true),
    ("unevaluatedItems", Role::OtherItems, true),
    ("contains", Role::Contains, true),
];
const REFERENCES: [&str; 3] = ["$ref", "$dynamicRef", "$recursiveRef"];

/// How a subschema was reached, to name it in a message as a JSON pointer.
enum Origin<'a> {
    Root,
    /// `keyword` of `parent`, with the key or index inside the keyword's value when it holds
    /// several subschemas.
    Child {
        parent: usize,
        keyword: &'a str,
        key: Option<Key<'a>>,
    },
    /// Reached only as the target of this reference (e.g. `#/properties`, not a subschema).
    Reference(&'a str),
}

enum Key<'a> {
    Name(&'a str),
    Index(usize),
}

/// The subschemas a node applies to the values below the one it validates.
#[derive(Default)]
pub(super) struct Descents<'a> {
    pub properties: Vec<(&'a str, usize)>,
    pub patterns: Vec<usize>,
    pub additional: Vec<usize>,
    pub unevaluated_properties: Vec<usize>,
    pub names: Vec<usize>,
    /// Per-index item schemas: (index, node).
    pub prefix: Vec<(usize, usize)>,
    /// Schemas of the items past the per-index ones.
    pub other_items: Vec<usize>,
    pub contains: Vec<usize>,
}

impl Descents<'_> {
    pub fn is_empty(&self) -> bool {
        self.properties.is_empty()
            && self.patterns.is_empty()
            && self.additional.is_empty()
            && self.unevaluated_properties.is_empty()
            && self.names.is_empty()
            && self.prefix.is_empty()
            && self.other_items.is_empty()
            && self.contains.is_empty()
    }
}

pub(super) struct Node<'a> {
    value: &'a Value,
    origin: Origin<'a>,
    /// Subschemas applied to the same value: (node, is one of `then`/`else`).
    pub in_place: Vec<(usize, bool)>,
    pub descents: Descents<'a>,
}

pub(super) struct Graph<'a> {
    root: &'a Value,
    /// Node 0 is the root (when the root is an object).
    pub nodes: Vec<Node<'a>>,
    /// Node of each subschema, by address (a value has one place in the schema).
    index: HashMap<*const Value, usize>,
    anchors: HashMap<&'a str, usize>,
    /// (node, keyword, reference) in discovery order.
    references: Vec<(usize, &'a str, &'a str)>,
    /// `id` in draft 4, `$id` after.
    id_keyword: &'static str,
}

impl<'a> Graph<'a> {
    /// Every subschema reachable from the root through the keywords, then through references.
    /// `Err` for a reference outside the schema, an embedded resource or a duplicate anchor.
    pub fn build(root: &'a Value) -> Result<Self, String> {
        let draft4 = root
            .get("$schema")
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("draft-04"));
        let mut graph = Graph {
            root,
            nodes: Vec::new(),
            index: HashMap::new(),
            anchors: HashMap::new(),
            references: Vec::new(),
            id_keyword: if draft4 { "id" } else { "$id" },
        };
        let Some((root_id, _)) = graph.node(root, Origin::Root) else {
            return Ok(graph);
        };
        // The keywords first, so every anchor is known when references are resolved.
        graph.visit_from(root_id, true)?;
        let mut next = 0;
        while let Some(&(from, keyword, reference)) = graph.references.get(next) {
            next += 1;
            let Some(target) = graph.resolve(from, keyword, reference)? else {
                continue; // unresolvable: jsonschema says why
            };
            if let Some((to, new)) = graph.node(target, Origin::Reference(reference)) {
                graph.nodes[from].in_place.push((to, false));
                if new {
                    graph.visit_from(to, false)?;
                }
            }
        }
        Ok(graph)
    }

    /// The node of `value` and whether it is new; None when `value` is not an object (a
    /// boolean schema applies nothing further; anything else jsonschema refuses).
    fn node(&mut self, value: &'a Value, origin: Origin<'a>) -> Option<(usize, bool)> {
        if !value.is_object() {
            return None;
        }
        let address: *const Value = value;
        if let Some(&id) = self.index.get(&address) {
            return Some((id, false));
        }
        let id = self.nodes.len();
        self.nodes.push(Node {
            value,
            origin,
            in_place: Vec::new(),
            descents: Descents::default(),
        });
        self.index.insert(address, id);
        Some((id, true))
    }

    /// Visits `start` and every new subschema below it; records references and, when
    /// `anchors`, the anchors declared.
    fn visit_from(&mut self, start: usize, anchors: bool) -> Result<(), String> {
        let mut pending = vec![start];
        while let Some(id) = pending.pop() {
            let Value::Object(schema) = self.nodes[id].value else {
                continue;
            };
            for (keyword, value) in schema {
                let keyword = keyword.as_str();
                if REFERENCES.contains(&keyword) {
                    if let Some(reference) = value.as_str() {
                        self.references.push((id, keyword, reference));
                    }
                } else if anchors && (keyword == "$anchor" || keyword == "$dynamicAnchor") {
                    if let Some(name) = value.as_str() {
                        self.anchor(name, id)?;
                    }
                } else if keyword == self.id_keyword && id != 0 {
                    self.nested_id(id, value, anchors)?;
                } else if let Some(&(_, role, single)) = KEYWORDS.iter().find(|(k, _, _)| *k == keyword) {
                    let role = match role {
                        Role::Items if value.is_array() => Role::PrefixItems,
                        role => role,
                    };
                    let single = single && role != Role::PrefixItems;
                    for (key, child) in subschemas(value, single) {
                        let name = match key {
                            Some(Key::Name(name)) => Some(name),
                            _ => None,
                        };
                        let index = match key {
                            Some(Key::Index(i)) => i,
                            _ => 0,
                        };
                        let origin = Origin::Child {
                            parent: id,
                            keyword,
                            key,
                        };
                        let Some((child, new)) = self.node(child, origin) else {
                            continue;
                        };
                        if new {
                            pending.push(child);
                        }
                        let node = &mut self.nodes[id];
                        let descents = &mut node.descents;
                        match role {
                            Role::InPlace => node.in_place.push((child, false)),
                            Role::Alternative => node.in_place.push((child, true)),
                            Role::Container => {}
                            Role::Properties => {
                                descents.properties.push((name.unwrap_or_default(), child));
                            }
                            Role::Patterns => descents.patterns.push(child),
                            Role::Additional => descents.additional.push(child),
                            Role::UnevaluatedProperties => descents.unevaluated_properties.push(child),
                            Role::Names => descents.names.push(child),
                            Role::PrefixItems => descents.prefix.push((index, child)),
                            Role::Items | Role::OtherItems => descents.other_items.push(child),
                            Role::Contains => descents.contains.push(child),
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn anchor(&mut self, name: &'a str, id: usize) -> Result<(), String> {
        match self.anchors.insert(name, id) {
            Some(other) if other != id => Err(format!(
                "the anchor \"{name}\" is declared twice (at {} and {}): anchors must be unique",
                self.location(other),
                self.location(id)
            )),
            _ => Ok(()),
        }
    }

    /// `$id` below the root: a plain-name fragment (`#name`, drafts 4 to 7) is an anchor;
    /// anything else starts an embedded resource, whose references would resolve against it.
    fn nested_id(&mut self, id: usize, value: &'a Value, anchors: bool) -> Result<(), String> {
        let Some(text) = value.as_str().filter(|t| !t.is_empty() && *t != "#") else {
            return Ok(());
        };
        if let Some(name) = text.strip_prefix('#') {
            return if anchors { self.anchor(name, id) } else { Ok(()) };
        }
        Err(format!(
            "\"{}\": \"{}\" at {} declares an embedded schema: only the root may have one \
             (remove it and refer to the subschema as \"#/$defs/...\")",
            self.id_keyword,
            cut(text),
            self.location(id)
        ))
    }

    /// The value `reference` (found under `keyword` of node `from`) points at; None when it
    /// does not resolve; `Err` when it is not a reference inside the schema.
    fn resolve(&self, from: usize, keyword: &str, reference: &'a str) -> Result<Option<&'a Value>, String> {
        if keyword == "$recursiveRef" {
            // A single resource: the recursive reference is the root (or fails to resolve).
            return Ok(Some(self.root));
        }
        let Some(fragment) = reference.strip_prefix('#') else {
            return Err(format!(
                "\"{keyword}\": \"{}\" at {} is not a local reference: only references inside the \
                 crudSchema are allowed (\"#/$defs/name\", \"#/properties/...\" or \"#anchor\")",
                cut(reference),
                self.location(from)
            ));
        };
        let Some(fragment) = percent_decode(fragment) else {
            return Ok(None);
        };
        if fragment.is_empty() {
            return Ok(Some(self.root));
        }
        let Some(pointer) = fragment.strip_prefix('/') else {
            return Ok(self
                .anchors
                .get(fragment.as_str())
                .map(|&id| self.nodes[id].value));
        };
        let mut current = self.root;
        for token in pointer.split('/') {
            let token = token.replace("~1", "/").replace("~0", "~");
            let next = match current {
                Value::Object(map) => map.get(&token),
                Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(value) => current = value,
                None => return Ok(None),
            }
        }
        Ok(Some(current))
    }

    /// Where node `id` is, as a URI fragment (`#/$defs/a`), cut for a message.
    pub fn location(&self, mut id: usize) -> String {
        let mut segments: Vec<String> = Vec::new();
        let start = loop {
            match &self.nodes[id].origin {
                Origin::Root => break "#".to_owned(),
                Origin::Reference(reference) => break (*reference).to_owned(),
                Origin::Child { parent, keyword, key } => {
                    match key {
                        Some(Key::Name(name)) => segments.push(escape(name)),
                        Some(Key::Index(i)) => segments.push(i.to_string()),
                        None => {}
                    }
                    segments.push(escape(keyword));
                    id = *parent;
                }
            }
        };
        let mut location = start;
        for segment in segments.iter().rev() {
            location.push('/');
            location.push_str(segment);
        }
        cut(&location)
    }
}

/// The subschemas held by a keyword's value, with their key or index.
fn subschemas(value: &Value, single: bool) -> Vec<(Option<Key<'_>>, &Value)> {
    if single {
        return vec![(None, value)];
    }
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Some(Key::Index(i)), v))
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (Some(Key::Name(k.as_str())), v))
            .collect(),
        _ => Vec::new(),
    }
}
