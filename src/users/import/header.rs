//! The header row: which column holds what. Column names are trimmed; a dotted name
//! (`address.city`) is a path into nested objects. `userGroup` is required; `_id` marks updates.
//! The header is bounded before any row is read (SPEC §10): `LIMIT_CSV_COLUMNS` columns, names of
//! `LIMIT_FIELD_PATH_BYTES` bytes and `LIMIT_DOCUMENT_DEPTH` dotted segments at most.

use std::collections::HashSet;

use super::{CsvLimits, ImportError};

/// Columns an import never writes: credentials and fields the service or the store manages.
pub const FORBIDDEN: [&str; 8] = [
    "password",
    "authUserId",
    "expirationId",
    "__STATE__",
    "createdAt",
    "updatedAt",
    "creatorId",
    "updaterId",
];

/// What a column holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// A user field, at `path` (one segment, or several for a dotted name).
    Field(Vec<String>),
    /// `_id`: a non-empty cell makes the row an update of that user.
    Id,
    /// A column imports never write (see [`FORBIDDEN`]): a non-empty cell makes the row invalid.
    Forbidden,
}

/// One column of the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The name as written in the header (trimmed).
    pub name: String,
    /// What the column holds.
    pub kind: ColumnKind,
}

/// The parsed header row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The columns, in file order.
    pub columns: Vec<Column>,
    /// Index of the `userGroup` column.
    pub user_group: usize,
}

impl Header {
    /// [`Header::parse_within`] the service's default limits.
    #[cfg(test)]
    pub fn parse<'a>(cells: impl IntoIterator<Item = &'a str>) -> Result<Self, ImportError> {
        Self::parse_within(cells, &CsvLimits::default())
    }

    /// Parses the header cells; `Err` (400) for more than `LIMIT_CSV_COLUMNS` columns, a name
    /// longer than `LIMIT_FIELD_PATH_BYTES` or with more dotted segments than
    /// `LIMIT_DOCUMENT_DEPTH`, an empty or repeated name, a malformed dotted name, overlapping
    /// names (`address` and `address.city`), or no `userGroup` column.
    pub fn parse_within<'a>(
        cells: impl IntoIterator<Item = &'a str>,
        limits: &CsvLimits,
    ) -> Result<Self, ImportError> {
        let bad = |message: String| Err(ImportError::BadRequest(message));
        let mut columns = Vec::new();
        let mut seen = HashSet::new();
        for (index, raw) in cells.into_iter().enumerate() {
            if index >= limits.columns {
                return bad(format!(
                    "the header has more than {} columns: the limit is LIMIT_CSV_COLUMNS ({})",
                    limits.columns, limits.columns
                ));
            }
            let name = raw.trim();
            if name.is_empty() {
                return bad(format!(
                    "the header names no column {}: every column needs a name",
                    index + 1
                ));
            }
            check_name(name, &limits.document)?;
            if !seen.insert(name.to_owned()) {
                return bad(format!("the header names the column {name} twice"));
            }
            columns.push(Column {
                name: name.to_owned(),
                kind: kind_of(name)?,
            });
        }
        let Some(user_group) = columns.iter().position(|c| c.name == "userGroup") else {
            return bad("the header has no userGroup column: every row needs its userGroup".to_owned());
        };
        check_overlaps(&columns)?;
        Ok(Self { columns, user_group })
    }
}

/// Refuses a column name over the path limits: its bytes first (cheap, and it bounds the
/// segment count), then its dotted segments. Nothing is split or allocated before.
fn check_name(name: &str, limits: &docquery::Limits) -> Result<(), ImportError> {
    if name.len() > limits.max_path_bytes {
        return Err(ImportError::BadRequest(format!(
            "column {}: the name is {} bytes long: the limit is LIMIT_FIELD_PATH_BYTES ({} bytes)",
            shorten(name),
            name.len(),
            limits.max_path_bytes
        )));
    }
    let segments = name.bytes().filter(|b| *b == b'.').count() + 1;
    if segments > limits.max_depth {
        return Err(ImportError::BadRequest(format!(
            "column {}: the dotted name has {segments} segments: the limit is LIMIT_DOCUMENT_DEPTH ({})",
            shorten(name),
            limits.max_depth
        )));
    }
    Ok(())
}

/// A name in a message: its first 40 characters.
fn shorten(name: &str) -> String {
    let mut short: String = name.chars().take(40).collect();
    if short.len() < name.len() {
        short.push('…');
    }
    short
}

fn kind_of(name: &str) -> Result<ColumnKind, ImportError> {
    if name == "_id" {
        return Ok(ColumnKind::Id);
    }
    let path: Vec<String> = name.split('.').map(str::to_owned).collect();
    if path.iter().any(String::is_empty) {
        return Err(ImportError::BadRequest(format!(
            "column {name}: a dotted name needs a name on each side of every dot"
        )));
    }
    if path
        .first()
        .is_some_and(|first| FORBIDDEN.contains(&first.as_str()))
    {
        return Ok(ColumnKind::Forbidden);
    }
    Ok(ColumnKind::Field(path))
}

/// Refuses a field that is also the parent of another (`address` and `address.city`).
fn check_overlaps(columns: &[Column]) -> Result<(), ImportError> {
    let names: HashSet<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    for column in columns {
        let mut end = 0;
        while let Some(dot) = column.name[end..].find('.') {
            end += dot;
            let parent = &column.name[..end];
            if names.contains(parent) {
                return Err(ImportError::BadRequest(format!(
                    "columns {parent} and {} overlap: use one or the other",
                    column.name
                )));
            }
            end += 1;
        }
    }
    Ok(())
}
