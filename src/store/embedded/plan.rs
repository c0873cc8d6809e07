//! The indexable part of a query: key ranges of comparison operators and anchored `$regex`
//! prefixes on an indexed field (candidates read through its index), and sorts on indexed
//! fields (matches read in index order). `docquery` still decides every match: the index only
//! narrows or orders the rows it is asked about, so results stay exactly those of a scan.

use std::collections::BTreeSet;

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection};
use serde_json::{Map, Value};

use super::cursor::composite_sql;
use super::schema::{Table, COMPOSITE_RANGE};
use super::OpError;

/// A range of index keys; each bound is `(key, inclusive)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct KeyRange {
    pub low: (String, bool),
    pub high: (String, bool),
}

/// The key ranges the filter parts imply, by field: `$gt`, `$gte`, `$lt`, `$lte` on a number, a
/// string or a boolean (bounded to keys of that type, as MongoDB compares only within a type),
/// and `$regex` with a literal `^prefix` and no options. Only top-level fields and `$and` are
/// looked at; several operators on one field narrow one range.
pub(super) fn key_ranges(parts: &Value) -> Vec<(String, KeyRange)> {
    let mut out = Vec::new();
    collect(parts, &mut out);
    out
}

fn collect(part: &Value, out: &mut Vec<(String, KeyRange)>) {
    match part {
        Value::Array(items) => items.iter().for_each(|item| collect(item, out)),
        Value::Object(fields) => {
            for (key, value) in fields {
                if key == "$and" {
                    collect(value, out);
                } else if !key.starts_with('$') {
                    if let Some(range) = value.as_object().and_then(field_range) {
                        out.push((key.clone(), range));
                    }
                }
            }
        }
        _ => {}
    }
}

/// The key range of one field's operator object, when every bound it sets is indexable.
fn field_range(ops: &Map<String, Value>) -> Option<KeyRange> {
    let mut range: Option<KeyRange> = None;
    for (op, value) in ops {
        let next = match op.as_str() {
            "$gt" | "$gte" => {
                let key = docquery::index_key(value).filter(|_| is_scalar(value))?;
                let end = type_end(&key);
                KeyRange {
                    low: (key, op == "$gte"),
                    high: (end, false),
                }
            }
            "$lt" | "$lte" => {
                let key = docquery::index_key(value).filter(|_| is_scalar(value))?;
                let start = key[..1].to_owned();
                KeyRange {
                    low: (start, true),
                    high: (key, op == "$lte"),
                }
            }
            "$regex" => prefix_range(value.as_str()?, ops.get("$options"))?,
            "$options" => continue,
            _ => return None,
        };
        range = Some(match range {
            None => next,
            Some(current) => intersect(current, next),
        });
    }
    range
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::Number(_) | Value::String(_) | Value::Bool(_))
}

/// The first key after every key of `key`'s type (its one-character type prefix, incremented).
fn type_end(key: &str) -> String {
    let prefix = key.chars().next().unwrap_or('a');
    char::from_u32(prefix as u32 + 1).unwrap_or(prefix).to_string()
}

/// The strings starting with the literal prefix of an anchored pattern without options.
fn prefix_range(pattern: &str, options: Option<&Value>) -> Option<KeyRange> {
    if options.and_then(Value::as_str).is_some_and(|o| !o.is_empty()) {
        return None;
    }
    // An alternation may match without the prefix.
    let rest = pattern.strip_prefix('^').filter(|_| !pattern.contains('|'))?;
    let literal: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '@' | ',' | ':' | '/'))
        .collect();
    // A quantifier right after the literal makes its last character optional.
    let next = rest[literal.len()..].chars().next();
    let literal = match next {
        Some('*' | '?' | '{') => {
            let mut chars = literal.chars();
            chars.next_back();
            chars.as_str().to_owned()
        }
        _ => literal,
    };
    if literal.is_empty() {
        return None;
    }
    let low = format!("d{literal}");
    let high = format!("d{}", successor(&literal)?);
    Some(KeyRange {
        low: (low, true),
        high: (high, false),
    })
}

/// The first string after every string starting with `prefix`: its last character incremented
/// (dropped and the previous one incremented when it is the last character there is).
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut code = last as u32 + 1;
        if (0xD800..0xE000).contains(&code) {
            code = 0xE000;
        }
        if let Some(next) = char::from_u32(code) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn intersect(a: KeyRange, b: KeyRange) -> KeyRange {
    let low = if a.low.0 > b.low.0 || (a.low.0 == b.low.0 && !a.low.1) {
        a.low
    } else {
        b.low
    };
    let high = if a.high.0 < b.high.0 || (a.high.0 == b.high.0 && !a.high.1) {
        a.high
    } else {
        b.high
    };
    KeyRange { low, high }
}

/// Rows whose `column` key is in `range`, or composite (an array may hold a matching element),
/// in insertion order (through the column's index).
pub(super) fn lookup_range(
    conn: &Connection,
    table: &Table,
    column: &str,
    range: &KeyRange,
) -> Result<Vec<i64>, OpError> {
    let mut seqs = BTreeSet::new();
    for (sql, low, high) in [
        (range_sql(table, column, range), &range.low.0, &range.high.0),
        (
            composite_sql(table, column),
            &COMPOSITE_RANGE.0.to_owned(),
            &COMPOSITE_RANGE.1.to_owned(),
        ),
    ] {
        let mut stmt = conn.prepare_cached(&sql)?;
        let params = [SqlValue::Text(low.clone()), SqlValue::Text(high.clone())];
        for seq in stmt.query_map(params_from_iter(params), |row| row.get::<_, i64>(0))? {
            seqs.insert(seq?);
        }
    }
    Ok(seqs.into_iter().collect())
}

/// The rows whose `column` key is between `?1` and `?2`, bounds included as `range` says.
pub(super) fn range_sql(table: &Table, column: &str, range: &KeyRange) -> String {
    let (low_op, high_op) = (
        if range.low.1 { ">=" } else { ">" },
        if range.high.1 { "<=" } else { "<" },
    );
    format!(
        "SELECT seq FROM \"{}\" WHERE \"{column}\" {low_op} ?1 AND \"{column}\" {high_op} ?2",
        table.name
    )
}

/// The SQL sort of `keys` through indexes (`id` for `_id`, a ready column otherwise), with `seq`
/// breaking ties as the in-memory sort does; `None` when a key has no ready column or a column
/// holds a composite value (arrays and objects do not sort by their key).
pub(super) fn index_order(
    conn: &Connection,
    table: &Table,
    keys: &[docquery::SortKey],
) -> Result<Option<String>, OpError> {
    let mut terms = Vec::with_capacity(keys.len() + 1);
    for key in keys {
        let expr = if key.path == "_id" {
            "id".to_owned()
        } else {
            let Some(column) = table.column(&key.path) else {
                return Ok(None);
            };
            if has_composite(conn, table, &column.name)? {
                return Ok(None);
            }
            format!("\"{}\"", column.name)
        };
        terms.push(format!("{expr} {}", if key.descending { "DESC" } else { "ASC" }));
    }
    terms.push("seq ASC".to_owned());
    Ok(Some(terms.join(", ")))
}

fn has_composite(conn: &Connection, table: &Table, column: &str) -> Result<bool, OpError> {
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM \"{}\" WHERE \"{column}\" >= ?1 AND \"{column}\" < ?2)",
        table.name
    );
    let found: bool = conn
        .prepare_cached(&sql)?
        .query_row([COMPOSITE_RANGE.0, COMPOSITE_RANGE.1], |row| row.get(0))?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn range(low: &Value, low_inclusive: bool, high: &str, high_inclusive: bool) -> KeyRange {
        KeyRange {
            low: (docquery::index_key(low).unwrap(), low_inclusive),
            high: (high.to_owned(), high_inclusive),
        }
    }

    #[test]
    fn comparisons_become_ranges_bounded_to_their_type() {
        let ranges = key_ranges(&json!([{"age": {"$gt": 5}}, {"$and": [{"name": {"$lte": "m"}}]}]));
        assert_eq!(ranges[0], ("age".to_owned(), range(&json!(5), false, "d", false)));
        let name = &ranges[1].1;
        assert_eq!(name.low, ("d".to_owned(), true));
        assert_eq!(name.high, (docquery::index_key(&json!("m")).unwrap(), true));
        let both = key_ranges(&json!({"age": {"$gte": 1, "$lt": 9}}));
        assert_eq!(both[0].1.low, (docquery::index_key(&json!(1)).unwrap(), true));
        assert_eq!(both[0].1.high, (docquery::index_key(&json!(9)).unwrap(), false));
    }

    #[test]
    fn anchored_literal_prefixes_become_ranges_and_nothing_else_does() {
        let prefix = |q: Value| {
            key_ranges(&q)
                .first()
                .map(|(_, r)| (r.low.0.clone(), r.high.0.clone()))
        };
        assert_eq!(
            prefix(json!({"n": {"$regex": "^n12"}})),
            Some(("dn12".into(), "dn13".into()))
        );
        assert_eq!(
            prefix(json!({"n": {"$regex": "^ab*"}})),
            Some(("da".into(), "db".into()))
        );
        assert_eq!(prefix(json!({"n": {"$regex": "n12"}})), None);
        assert_eq!(prefix(json!({"n": {"$regex": "^n", "$options": "i"}})), None);
        assert_eq!(prefix(json!({"n": {"$regex": "^.x"}})), None);
        assert_eq!(prefix(json!({"n": {"$regex": "^ab|cd"}})), None);
        assert_eq!(prefix(json!({"n": {"$gt": [1]}})), None);
        assert_eq!(prefix(json!({"n": {"$gt": 1, "$ne": 3}})), None);
        assert_eq!(prefix(json!({"$or": [{"n": {"$gt": 1}}]})), None);
    }

    #[test]
    fn successors_skip_surrogates_and_carry() {
        assert_eq!(successor("az").as_deref(), Some("a{"));
        assert_eq!(successor("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(successor("\u{10FFFF}"), None);
    }
}
