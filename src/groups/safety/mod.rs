//! Schema safety: what a group `crudSchema` must satisfy before it reaches the JSON Schema
//! compiler, so that no schema can exhaust the service: a bounded size and nesting, only local
//! references, no reference cycle that validation cannot leave, and a bounded number of
//! subschemas applied to one value. Every traversal is iterative (the schema is user input).
//!
//! The checks work on the graph of subschemas ([`graph`]): the edges applied to the same value
//! (*in place*: `$ref`, `$dynamicRef`, `$recursiveRef`, `allOf`, `anyOf`, `oneOf`, `not`,
//! `if`/`then`/`else`, `dependentSchemas`, `dependencies`) and those applied to the values below
//! it (`properties`, `patternProperties`, `additionalProperties`, `items`, `prefixItems`,
//! `contains`, `propertyNames`, `unevaluated*`, ...). A cycle of in-place edges applies a schema
//! to the same value again and again (jsonschema 0.33 then overflows the stack or allocates
//! until the process dies); a recursion through a descending keyword ends with the document,
//! and is accepted unless it multiplies the work at every level ([`cost`]).

mod cost;
mod graph;

use serde_json::Value;

use crate::config::InputLimits;

/// Most subschemas one value may be checked against, with references and in-place applicators
/// unfolded, at any depth of a document the service accepts.
pub const MAX_APPLIED_SUBSCHEMAS: u64 = 10_000;

/// Longest location or reference quoted in a message, in characters.
const QUOTED_CHARS: usize = 120;

/// The deepest nesting a crudSchema may have: 2 × `LIMIT_DOCUMENT_DEPTH` + 8 (72 by default).
/// Describing a document N levels deep takes two schema levels per document level
/// (`properties` → field, `items` → item) plus a few for the root, `$defs` and keyword values.
pub fn max_depth(limits: &InputLimits) -> usize {
    limits.document.max_depth.saturating_mul(2).saturating_add(8)
}

/// Checks a group's `crudSchema`; `Err` says what is wrong and what to change.
pub fn check(schema: &Value, limits: &InputLimits) -> Result<(), String> {
    // Depth first: serialising (for the size) recurses over the value.
    let depth = docquery::depth(schema);
    let max = max_depth(limits);
    if depth > max {
        return Err(format!(
            "the schema is nested {depth} levels deep: the limit is {max} (2 × LIMIT_DOCUMENT_DEPTH + 8); \
             flatten it or move repeated parts into \"$defs\""
        ));
    }
    let mut budget = Budget(limits.group_schema_bytes);
    if serde_json::to_writer(&mut budget, schema).is_err() {
        return Err(format!(
            "the schema is larger than {} bytes (LIMIT_GROUP_SCHEMA_BYTES): make it smaller",
            limits.group_schema_bytes
        ));
    }
    let graph = graph::Graph::build(schema)?;
    cost::check(&graph, limits.document.max_depth)
}

/// A writer that fails once more than its budget of bytes is written.
struct Budget(usize);

impl std::io::Write for Budget {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self
            .0
            .checked_sub(buf.len())
            .ok_or_else(|| std::io::Error::other("over budget"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `text` cut to [`QUOTED_CHARS`] for a message.
fn cut(text: &str) -> String {
    if text.chars().count() <= QUOTED_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(QUOTED_CHARS).collect();
    cut.push('…');
    cut
}

/// `%XX` decoded; None when the result is not UTF-8 (the reference cannot resolve).
fn percent_decode(text: &str) -> Option<String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

/// `key` as a JSON pointer token (`~` → `~0`, `/` → `~1`).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
