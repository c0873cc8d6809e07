//! The formats of `GET /users/export` (NDJSON, JSON array, CSV, Excel), made from the store's
//! NDJSON stream: NDJSON, JSON and CSV stream line by line; Excel is written row by row to an
//! unlinked temporary file (constant-memory mode) and then streamed from it.

mod accept;
mod excel;
mod lines;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::store::{ExportStream, StoreError};

pub use accept::{ExportFormat, ACCEPTED, XLSX};
pub use excel::MAX_ROWS as EXCEL_MAX_ROWS;

/// Why an export could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The request asks for something the format cannot do; the message says what to do.
    #[error("{0}")]
    Invalid(String),
    /// The user store failed while the export was read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the workbook failed (disk, temporary file).
    #[error("cannot write the Excel export: {0}")]
    Internal(String),
}

/// `_exportOpts` of a CSV export (the CRUD Service passes it to its CSV writer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// The field separator (`,` unless `{"delimiter": ";"}`).
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self { delimiter: b',' }
    }
}

impl CsvOptions {
    /// Reads `_exportOpts` (a JSON object). `delimiter` must be one ASCII character; the other
    /// options of the CRUD's CSV writer are accepted and ignored.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        let Some(raw) = raw else {
            return Ok(Self::default());
        };
        let options: Map<String, Value> = serde_json::from_str(raw).map_err(|_| {
            format!("_exportOpts must be a JSON object, such as {{\"delimiter\":\";\"}}; got {raw}")
        })?;
        match options.get("delimiter") {
            None => Ok(Self::default()),
            Some(Value::String(d)) if d.len() == 1 && d.is_ascii() && !matches!(d.as_str(), "\"" | "\n" | "\r") => {
                Ok(Self { delimiter: d.as_bytes()[0] })
            }
            Some(other) => Err(format!(
                "_exportOpts.delimiter must be one ASCII character other than a quote or a line end; got {other}"
            )),
        }
    }
}

/// The columns of a CSV or Excel export, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns(Vec<String>);

impl Columns {
    /// The columns of a projection (`_p`): `_id` first (the store always returns it) unless
    /// listed, then the fields in the order given.
    pub fn of_projection(fields: &[String]) -> Self {
        let mut names: Vec<String> = Vec::with_capacity(fields.len() + 1);
        if !fields.iter().any(|f| f == "_id") {
            names.push("_id".to_owned());
        }
        for field in fields {
            if !names.contains(field) {
                names.push(field.clone());
            }
        }
        Self(names)
    }

    /// The keys of the first user, in their order: a field only later users have is not a
    /// column (send `_p` to choose the columns).
    pub fn of(user: &Map<String, Value>) -> Self {
        Self(user.keys().cloned().collect())
    }

    /// The column names.
    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// The value of column `name` in `user`: the key itself, else a dotted path (`a.b`).
    pub fn value<'a>(user: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
        user.get(name).or_else(|| {
            let mut parts = name.split('.');
            let first = user.get(parts.next()?)?;
            parts.try_fold(first, |value, key| value.get(key))
        })
    }
}

/// The text of a cell, as the CRUD writes it: missing and `null` are empty, strings as they are,
/// numbers and booleans in JSON, objects and arrays as JSON text.
pub fn cell_text(value: Option<&Value>) -> Cow<'_, str> {
    match value {
        None | Some(Value::Null) => Cow::Borrowed(""),
        Some(Value::String(text)) => Cow::Borrowed(text),
        Some(other) => Cow::Owned(other.to_string()),
    }
}

/// `source` as `format`. NDJSON, JSON and CSV stream; Excel reads the whole source into a
/// temporary file first (so errors of the store come back before any byte is sent).
pub async fn transform(
    format: ExportFormat,
    source: ExportStream,
    columns: Option<Columns>,
    options: CsvOptions,
) -> Result<ExportStream, ExportError> {
    Ok(match format {
        ExportFormat::Ndjson => source,
        ExportFormat::Json => lines::json_array(source),
        ExportFormat::Csv => lines::csv(source, columns, options),
        ExportFormat::Excel => excel::workbook(source, columns).await?,
    })
}
