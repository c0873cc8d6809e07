//! Projection (`_p`): keeping `_id` and the listed fields of a document.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

#[cfg(test)]
mod tests;

/// The requested paths as a tree: a leaf keeps the whole value, a branch only some sub-fields.
#[derive(Default)]
struct Tree(BTreeMap<String, Node>);

enum Node {
    Whole,
    Some(Tree),
}

impl Tree {
    fn add(&mut self, path: &str) {
        let (head, rest) = match path.split_once('.') {
            Some((head, rest)) => (head, Some(rest)),
            None => (path, None),
        };
        if head.is_empty() {
            return;
        }
        let node = self
            .0
            .entry(head.to_string())
            .or_insert_with(|| Node::Some(Tree::default()));
        match (rest, node) {
            (None, node) => *node = Node::Whole,
            (Some(_), Node::Whole) => {}
            (Some(rest), Node::Some(sub)) => sub.add(rest),
        }
    }

    fn apply(&self, obj: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in obj {
            match self.0.get(key) {
                Some(Node::Whole) => {
                    out.insert(key.clone(), value.clone());
                }
                Some(Node::Some(sub)) => {
                    if let Some(v) = sub.apply_value(value) {
                        out.insert(key.clone(), v);
                    }
                }
                None => {}
            }
        }
        out
    }

    /// Projects the sub-fields of a nested value: objects keep the requested keys, arrays keep
    /// their object elements projected (as MongoDB does), scalars are dropped.
    fn apply_value(&self, value: &Value) -> Option<Value> {
        match value {
            Value::Object(m) => Some(Value::Object(self.apply(m))),
            Value::Array(items) => Some(Value::Array(
                items
                    .iter()
                    .filter_map(|e| match e {
                        Value::Array(_) | Value::Object(_) => self.apply_value(e),
                        _ => None,
                    })
                    .collect(),
            )),
            _ => None,
        }
    }
}

/// Keeps only `fields` (plus `_id`) of `doc`, in the document's field order.
///
/// A dotted name (`address.city`) keeps the nested value at that path (`{"address":{"city":..}}`);
/// unknown names are ignored. An empty `fields` list returns the whole document, like an empty
/// MongoDB projection; a non-object `doc` is returned as is.
pub fn project(doc: &Value, fields: &[String]) -> Value {
    let Value::Object(obj) = doc else {
        return doc.clone();
    };
    if fields.iter().all(|f| f.is_empty()) {
        return doc.clone();
    }
    let mut tree = Tree::default();
    tree.add("_id");
    for field in fields {
        tree.add(field);
    }
    Value::Object(tree.apply(obj))
}
