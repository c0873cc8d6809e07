//! `LIMIT_*` variables (new, SPEC §10): the bounds on every dimension of user input.

use super::parse;
use super::{ConfigError, RawConfig};

/// Input limits, each checked before work is done and answered with a 400 (or 413) naming it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputLimits {
    /// Documents and dotted paths: `LIMIT_DOCUMENT_DEPTH` (also the most segments of a dotted
    /// path), `LIMIT_FIELD_PATH_BYTES`, `LIMIT_ARRAY_LENGTH`.
    pub document: docquery::Limits,
    /// `LIMIT_QUERY_STRING_BYTES`: the longest query string.
    pub query_string_bytes: usize,
    /// `LIMIT_CSV_COLUMNS`: the most columns of a CSV import.
    pub csv_columns: usize,
    /// `LIMIT_GROUP_SCHEMA_BYTES`: the largest `crudSchema` (serialised JSON).
    pub group_schema_bytes: usize,
    /// `LIMIT_VIOLATIONS_REPORTED`: schema violations listed in a 400 before "and N more".
    pub violations_reported: usize,
}

impl Default for InputLimits {
    fn default() -> Self {
        Self {
            document: docquery::Limits::default(),
            query_string_bytes: 16_384,
            csv_columns: 500,
            group_schema_bytes: 262_144,
            violations_reported: 20,
        }
    }
}

/// The variable that sets `limit`, and `error`'s message naming it:
/// `The array at /roles has 10001 items: the limit is 10000 (LIMIT_ARRAY_LENGTH)`.
pub fn describe(error: &docquery::LimitError) -> String {
    let variable = match error.limit {
        docquery::Limit::Depth => "LIMIT_DOCUMENT_DEPTH",
        docquery::Limit::PathBytes => "LIMIT_FIELD_PATH_BYTES",
        docquery::Limit::ArrayLength => "LIMIT_ARRAY_LENGTH",
    };
    format!("{} ({variable})", error.message)
}

/// Reads the `LIMIT_*` variables; the depth may not exceed what the stores can read back.
pub(super) fn limits_config(raw: &RawConfig) -> Result<InputLimits, ConfigError> {
    let d = InputLimits::default();
    let ceiling = docquery::Limits::STORE;
    let document = docquery::Limits {
        max_depth: bounded(
            &raw.limit_document_depth,
            "LIMIT_DOCUMENT_DEPTH",
            d.document.max_depth,
            ceiling.max_depth,
        )?,
        max_path_bytes: bounded(
            &raw.limit_field_path_bytes,
            "LIMIT_FIELD_PATH_BYTES",
            d.document.max_path_bytes,
            ceiling.max_path_bytes,
        )?,
        max_array_len: bounded(
            &raw.limit_array_length,
            "LIMIT_ARRAY_LENGTH",
            d.document.max_array_len,
            ceiling.max_array_len,
        )?,
    };
    Ok(InputLimits {
        document,
        query_string_bytes: parse::positive(
            &raw.limit_query_string_bytes,
            "LIMIT_QUERY_STRING_BYTES",
            d.query_string_bytes,
        )?,
        csv_columns: parse::positive(&raw.limit_csv_columns, "LIMIT_CSV_COLUMNS", d.csv_columns)?,
        group_schema_bytes: parse::positive(
            &raw.limit_group_schema_bytes,
            "LIMIT_GROUP_SCHEMA_BYTES",
            d.group_schema_bytes,
        )?,
        violations_reported: parse::positive(
            &raw.limit_violations_reported,
            "LIMIT_VIOLATIONS_REPORTED",
            d.violations_reported,
        )?,
    })
}

fn bounded(
    value: &Option<String>,
    var: &'static str,
    default: usize,
    max: usize,
) -> Result<usize, ConfigError> {
    let n = parse::positive(value, var, default)?;
    if n > max {
        return Err(ConfigError::Invalid {
            var,
            problem: format!("{n} is too large: expected 1 to {max} (what the stores can read back)"),
        });
    }
    Ok(n)
}
