//! Values typed by the group schema: each cell becomes the JSON value its property declares
//! (`integer`/`number`, `boolean`, `array` written `[a, b]`, `object` as JSON); strings stay
//! strings (a `date-time` is validated by the schema's `format`, not parsed here). Dotted
//! columns build nested objects, typed by the nested `properties`. An empty cell is omitted.

use csv::StringRecord;
use serde_json::{Map, Number, Value};

use super::header::{ColumnKind, Header, FORBIDDEN};

/// A row typed by its schema: the `_id` of an update (None for an insert) and the user fields
/// (`userGroup` included).
#[derive(Clone, Debug, PartialEq)]
pub struct TypedRow {
    /// The `_id` cell, when not empty: the row updates that user.
    pub id: Option<String>,
    /// The typed fields, nested by dotted column names.
    pub fields: Map<String, Value>,
}

/// Types `record` by `schema` (the group's JSON schema; its `properties` decide the types; a
/// column it does not declare stays a string and the schema decides). `Err` names the column:
/// `column age: "x" is not a number`.
///
/// An array written `[a, b]` longer than `limits.max_array_len` is refused before it is built;
/// the other limits are checked on the whole row by the caller (`Limits::check_document`).
pub fn type_row(
    header: &Header,
    record: &StringRecord,
    schema: &Value,
    limits: &docquery::Limits,
) -> Result<TypedRow, String> {
    let mut row = TypedRow {
        id: None,
        fields: Map::new(),
    };
    for (column, cell) in header.columns.iter().zip(record.iter()) {
        if cell.trim().is_empty() {
            continue;
        }
        match &column.kind {
            ColumnKind::Id => row.id = Some(cell.trim().to_owned()),
            ColumnKind::Forbidden => {
                return Err(format!(
                    "column {}: an import never writes {} (credentials and service fields: {})",
                    column.name,
                    column.name,
                    FORBIDDEN.join(", ")
                ))
            }
            ColumnKind::Field(path) => {
                let declared = property(schema, path);
                let value = type_value(cell, declared, limits.max_array_len)
                    .map_err(|e| format!("column {}: {e}", column.name))?;
                insert_at(&mut row.fields, path, value);
            }
        }
    }
    Ok(row)
}

/// The declaration of the property at `path`, following nested `properties`.
fn property<'a>(schema: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(schema, |node, segment| node.get("properties")?.get(segment))
}

/// The `type` of a declaration: its string, or the first non-`null` entry of a list.
fn declared_type(declaration: Option<&Value>) -> Option<&str> {
    match declaration?.get("type")? {
        Value::String(name) => Some(name),
        Value::Array(names) => names.iter().filter_map(Value::as_str).find(|n| *n != "null"),
        _ => None,
    }
}

/// Types one non-empty cell by its declaration (`None`: not declared, kept as a string); an
/// array has at most `max_items` items.
pub fn type_value(cell: &str, declaration: Option<&Value>, max_items: usize) -> Result<Value, String> {
    match declared_type(declaration) {
        Some("array") => type_array(cell, declaration.and_then(|d| d.get("items")), max_items),
        Some("object") => match serde_json::from_str::<Value>(cell.trim()) {
            Ok(object @ Value::Object(_)) => Ok(object),
            _ => Err(format!("\"{}\" is not a JSON object", shorten(cell))),
        },
        other => type_scalar(cell, other),
    }
}

fn type_scalar(cell: &str, declared: Option<&str>) -> Result<Value, String> {
    match declared {
        Some("integer" | "number") => parse_number(cell.trim())
            .map(Value::Number)
            .ok_or_else(|| format!("\"{}\" is not a number", shorten(cell))),
        Some("boolean") => match cell.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("\"{}\" is not a boolean (true or false)", shorten(cell))),
        },
        _ => Ok(Value::String(cell.to_owned())),
    }
}

fn parse_number(text: &str) -> Option<Number> {
    if let Ok(integer) = text.parse::<i64>() {
        return Some(Number::from(integer));
    }
    text.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .and_then(Number::from_f64)
}

/// `[a, b]` (items trimmed, split on commas; `[]` is empty), a JSON array as is, or a single
/// plain value as a one-item array. Items are typed by `items.type`. A JSON array is bounded by
/// the caller's check of the whole row; `[a, b]` is counted before it is built.
fn type_array(cell: &str, items: Option<&Value>, max_items: usize) -> Result<Value, String> {
    let text = cell.trim();
    if let Ok(array @ Value::Array(_)) = serde_json::from_str::<Value>(text) {
        return Ok(array);
    }
    let item_type = declared_type(items);
    let inner = match text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        Some(inner) if inner.trim().is_empty() => return Ok(Value::Array(Vec::new())),
        Some(inner) => inner,
        None => return Ok(Value::Array(vec![type_scalar(text, item_type)?])),
    };
    let count = inner.bytes().filter(|b| *b == b',').count() + 1;
    if count > max_items {
        return Err(format!(
            "the array has {count} items: the limit is LIMIT_ARRAY_LENGTH ({max_items})"
        ));
    }
    inner
        .split(',')
        .map(|item| type_scalar(item.trim(), item_type))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// Inserts `value` at `path`, creating the intermediate objects.
fn insert_at(fields: &mut Map<String, Value>, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = fields;
    for segment in parents {
        let entry = node
            .entry(segment.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else {
            return;
        };
        node = next;
    }
    node.insert(last.clone(), value);
}

/// A cell quoted in a message: at most 50 characters.
fn shorten(cell: &str) -> String {
    let mut short: String = cell.chars().take(50).collect();
    if short.len() < cell.len() {
        short.push('…');
    }
    short
}
